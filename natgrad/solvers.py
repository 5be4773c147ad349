r"""Linear solvers for the natural-gradient system :math:`(F + \lambda I) d = g`.

Chapter 4 computes natural directions with dense solves; chapter 5 explains the
minimum-norm solve of a singular Fisher and its relative eigenvalue cutoff
(:data:`DEFAULT_RTOL`), which every dense solve in natgrad shares; chapter 8 uses conjugate
gradient with Fisher-vector products, so F is never formed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from natgrad._checks import array_value, finite_array, nonnegative_finite, nonnegative_int, positive_finite

#: Relative eigenvalue cutoff of the minimum-norm solves, :math:`40\,\varepsilon_{\text{mach}} \approx 8.9\times10^{-15}`
#: (:math:`\varepsilon_{\text{mach}} = 2.2\times10^{-16}`, the float64 unit round-off): eigenvalues with
#: :math:`|\omega_i| \le \mathrm{rtol}\;\omega_{\max}` count as zero. Measured (chapter 5): the
#: round-off eigenvalues of the Fishers' null directions reach about :math:`4\varepsilon_{\text{mach}}\,\omega_{\max}`
#: (9.2e-16, digits softmax regression, P = 650), the smallest genuine eigenvalue the book
#: relies on is :math:`3.4\times10^{-13}\,\omega_{\max}` (chapter 6's sigmoid network).
DEFAULT_RTOL = 40 * float(np.finfo(float).eps)


def _check_rtol(rtol) -> float:
    """A relative eigenvalue cutoff: a finite number with 0 <= rtol < 1."""
    if isinstance(rtol, bool) or not isinstance(rtol, Real) or not math.isfinite(rtol) or not 0.0 <= rtol < 1.0:
        raise ValueError(f"rtol: expected a finite number with 0 <= rtol < 1, got {rtol!r}")
    return float(rtol)


def _resolved_eigenvalues(eigenvalues: np.ndarray, rtol: float) -> np.ndarray:
    r"""The cutoff rule shared by every minimum-norm solve: a mask of :math:`|\omega_i| > \mathrm{rtol}\;\omega_{\max}`.

    :math:`\omega_{\max} = \max_i |\omega_i|` (the largest eigenvalue of a positive
    semi-definite matrix). Eigenvalues at or below the cutoff, round-off included, are
    treated as zero; a zero matrix keeps none.
    """
    magnitudes = np.abs(eigenvalues)
    return magnitudes > rtol * (magnitudes.max() if magnitudes.size else 0.0)


def _minimum_norm_solve(matrix: np.ndarray, b: np.ndarray, rtol: float) -> np.ndarray:
    r""":math:`x = \sum_{i \text{ kept}} \frac{u_i^\top b}{\omega_i}\, u_i` over the eigenpairs of :math:`S = (A + A^\top)/2`.

    The pseudo-inverse solution of :math:`S x = b` with the cutoff of
    :func:`_resolved_eigenvalues`. The singular values of a symmetric matrix are the
    :math:`|\omega_i|`, with the :math:`u_i` as singular vectors up to sign, so LAPACK's
    SVD-based least-squares solver (``lstsq``) with ``rcond = rtol`` applies exactly this
    rule; on these matrices it is as accurate as an ``eigh`` and usually a little more. If
    no eigenvalue is cut, S is invertible at float64 resolution and x comes from an LU solve
    instead: the same vector, but accurate to round-off even when the rows of S have very
    different scales (a feature measured in other units), where the SVD is accurate only
    relative to :math:`\omega_{\max}`; should LU find S exactly singular all the same (only
    with ``rtol = 0``), the pseudo-inverse solution stands. Trusts its inputs (checked by the public callers).
    Chapter 5.
    """
    symmetric = 0.5 * (matrix + matrix.T)
    solution, _, _, singular_values = np.linalg.lstsq(symmetric, b, rcond=rtol)
    if _resolved_eigenvalues(singular_values, rtol).all():
        try:
            return np.linalg.solve(symmetric, b)
        except np.linalg.LinAlgError:
            # Every computed eigenvalue passed the cutoff (possible only with rtol = 0), yet LU
            # found S exactly singular: the pseudo-inverse solution is the answer.
            return solution
    return solution


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
