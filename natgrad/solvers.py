r"""Linear solvers for the natural-gradient system :math:`(F + \lambda I) d = g`.

Chapter 4 computes natural directions with dense solves; chapter 8 uses conjugate
gradient with Fisher-vector products, so F is never formed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from natgrad._checks import array_value, finite_array, nonnegative_finite, nonnegative_int, positive_finite


@dataclass(frozen=True)
class CGResult:
    """What :func:`conjugate_gradient` found.

    ``x`` is the last iterate, ``n_iter`` the number of iterations run, ``converged``
    whether the relative residual reached ``tol``, and ``residual_norms`` the relative
    residual :math:`\\|b - (A + \\lambda I)x_k\\| / \\|b\\|` after each iteration (``[0]`` is x = 0).
    """

    x: np.ndarray
    n_iter: int
    converged: bool
    residual_norms: list[float] = field(repr=False)


def conjugate_gradient(matvec, b, damping: float = 0.0, tol: float = 1e-10, max_iter: int | None = None) -> CGResult:
    r"""Solve :math:`(A + \lambda I)x = b` for symmetric positive (semi-)definite A by conjugate gradient.

    ``matvec`` computes :math:`v \mapsto A v`; ``damping`` is :math:`\lambda \ge 0`. Starts from
    x = 0 and stops when :math:`\|r_k\| \le \mathrm{tol}\,\|b\|` or after ``max_iter``
    iterations (default ``10 * len(b)``). It never raises on non-convergence: check
    ``.converged``. Starting from 0 keeps the iterates in the Krylov space of b, so on a
    consistent singular system it converges to the minimum-norm solution. Chapter 8.
    """
    if not callable(matvec):
        raise ValueError(f"matvec: expected a callable v -> A v, got {type(matvec).__name__}")
    b = finite_array(b, "b")
    if array_value(b, "b").ndim != 1:
        raise ValueError(f"b: expected a 1-D vector, got shape {np.shape(b)}")
    nonnegative_finite(damping, "damping")
    positive_finite(tol, "tol")
    max_iter = 10 * b.size if max_iter is None else nonnegative_int(max_iter, "max_iter")

    x = np.zeros_like(b)
    b_norm = np.linalg.norm(b)
    if b_norm == 0.0:
        return CGResult(x, 0, True, [0.0])
    r = b.copy()
    p = r.copy()
    rs = r @ r
    history = [1.0]
    for iteration in range(1, max_iter + 1):
        Ap = np.asarray(matvec(p), dtype=float) + damping * p
        curvature = p @ Ap
        if not np.isfinite(curvature) or curvature <= 0.0:
            # Zero or negative curvature: A + damping I is singular along p (or indefinite).
            return CGResult(x, iteration - 1, False, history)
        alpha = rs / curvature
        x = x + alpha * p
        r = r - alpha * Ap
        rs_new = r @ r
        history.append(float(np.sqrt(rs_new) / b_norm))
        if history[-1] <= tol:
            return CGResult(x, iteration, True, history)
        p = r + (rs_new / rs) * p
        rs = rs_new
    return CGResult(x, max_iter, False, history)
