r"""The natural-gradient direction and the KL-budgeted natural step.

Chapter 5 derives the step from "least loss at a fixed KL": minimise the linearised loss
:math:`g^\top \delta` subject to the quadratic KL model
:math:`\tfrac12 \delta^\top F \delta = \epsilon`, which gives
:math:`\delta = -\sqrt{2\epsilon / g^\top F^{-1} g}\; F^{-1} g`.
"""

from __future__ import annotations

import warnings

import numpy as np

from natgrad._checks import array_value, finite_array, flat_vector, nonnegative_finite, positive_finite
from natgrad.solvers import DEFAULT_RTOL, _check_rtol, _minimum_norm_solve, conjugate_gradient

# A Fisher is symmetric; round-off asymmetry (autograd Hessians, products such as M^T F M) is far below this.
_SYMMETRY_RTOL = 1e-8


def _curvature_operator(fisher, n_params: int):
    """``v -> F v`` for a dense symmetric (P, P) array or a callable; also the dense array or None."""
    if callable(fisher):
        return fisher, None
    dense = finite_array(fisher, "fisher")
    if array_value(dense, "fisher").shape != (n_params, n_params):
        raise ValueError(f"fisher: expected a ({n_params}, {n_params}) matrix or a callable v -> F v, got shape {np.shape(dense)}")
    if np.abs(dense - dense.T).max() > _SYMMETRY_RTOL * np.abs(dense).max():
        raise ValueError("fisher: expected a symmetric matrix (a Fisher is symmetric), got one with F != F^T")
    return (lambda v: dense @ v), dense


def natural_direction(grad, fisher, damping: float = 0.0, rtol: float = DEFAULT_RTOL):
    r"""Solve :math:`(F + \lambda I)\,d = g` for the natural-gradient direction d.

    ``fisher`` is a dense symmetric (P, P) array or a callable :math:`v \mapsto F v` (then
    solved by :func:`natgrad.conjugate_gradient`, which warns if it does not converge; from
    d = 0 it also finds the minimum-norm solution). With ``damping > 0`` a dense system is
    positive definite and solved directly.

    With ``damping = 0`` a dense F may be singular: a softmax model's Fisher is, because
    adding the same constant to every logit changes no probability. The direction is then
    the minimum-norm solution, from the eigenpairs :math:`(\omega_i, u_i)` of :math:`(F + F^\top)/2`,

    .. math:: d = \sum_{i:\ |\omega_i| > \mathrm{rtol}\,\omega_{\max}} \frac{u_i^\top g}{\omega_i}\, u_i ,

    which moves no parameter along the null directions. The cutoff is needed because a
    float64 F fixes each eigenvalue only to about :math:`10^{-16}\,\omega_{\max}`: a null
    direction's eigenvalue comes out as round-off of that size, of either sign, and
    inverting it would add a huge multiple of a null vector (``lstsq``'s cutoff,
    :math:`2.2\times10^{-16}\,P\,\omega_{\max}`, is too close to that round-off when P is
    small). It is relative, so rescaling F does not change which eigenvalues count as zero.

    The default ``rtol`` :math:`= 40\,\varepsilon_{\text{mach}} \approx 8.9\times10^{-15}`
    (:math:`\varepsilon_{\text{mach}} = 2.2\times10^{-16}`) is measured. The round-off eigenvalues of the null
    directions of every dense Fisher the book forms, saturated softmax models with logits of
    size 40 and models up to P = 4810 included, stay below about :math:`4\varepsilon_{\text{mach}}\,\omega_{\max}`
    (at most :math:`9.2\times10^{-16}\,\omega_{\max}`); the smallest genuine eigenvalue a chapter
    relies on is :math:`3.4\times10^{-13}\,\omega_{\max}` (chapter 6: cutting it, as
    ``rtol = 1e-10`` would, breaks that chapter's invariance check). The default stays ten
    times clear of the round-off and no higher, because a component along an eigenvalue
    :math:`\omega` is accurate to about :math:`\varepsilon_{\text{mach}}\,\omega_{\max}/\omega` (2.5% at the cutoff),
    while cutting it loses that component altogether. Raise ``rtol`` for much larger dense
    matrices, whose round-off grows with P, or to trade genuine directions for accuracy in the
    kept ones; ``rtol = 0`` keeps every nonzero eigenvalue. Chapters 4 and 5.
    """
    grad = finite_array(grad, "grad")
    if array_value(grad, "grad").ndim != 1:
        raise ValueError(f"grad: expected a flat vector, got shape {np.shape(grad)}")
    nonnegative_finite(damping, "damping")
    rtol = _check_rtol(rtol)
    matvec, dense = _curvature_operator(fisher, grad.size)
    if dense is not None:
        if damping > 0:
            return np.linalg.solve(dense + damping * np.eye(grad.size), grad)
        return _minimum_norm_solve(dense, grad, rtol)
    result = conjugate_gradient(matvec, grad, damping=damping)
    if not result.converged:
        warnings.warn(
            f"natural_direction: conjugate gradient stopped after {result.n_iter} iterations at relative "
            f"residual {result.residual_norms[-1]:.1e}; consider damping > 0",
            RuntimeWarning,
            stacklevel=2,
        )
    return result.x


def natural_step(params, grad, fisher, kl_budget: float, damping: float = 0.0, rtol: float = DEFAULT_RTOL):
    r"""One natural-gradient step whose quadratic KL model equals ``kl_budget``.

    Returns :math:`\theta - \alpha d` with :math:`d` from :func:`natural_direction` (with the
    same ``damping`` and ``rtol``) and

    .. math:: \alpha = \sqrt{\frac{2\epsilon}{d^\top (F + \lambda I) d}},

    so that :math:`\tfrac12 (\alpha d)^\top (F + \lambda I)(\alpha d) = \epsilon`. When the
    solve is exact, :math:`d^\top (F+\lambda I) d = g^\top d`. The true KL of the step
    matches :math:`\epsilon` only to second order: chapter 5 measures the gap, chapter 8
    repairs large ones with a line search. A zero gradient returns ``params`` unchanged.
    Chapter 5.
    """
    grad_value = array_value(grad, "grad")
    if grad_value.ndim != 1:
        raise ValueError(f"grad: expected a flat vector, got shape {grad_value.shape}")
    params = flat_vector(params, "params", grad_value.size)
    grad = flat_vector(grad, "grad", grad_value.size)
    positive_finite(kl_budget, "kl_budget")
    nonnegative_finite(damping, "damping")
    direction = natural_direction(grad, fisher, damping, rtol)
    matvec, _ = _curvature_operator(fisher, grad.size)
    curvature = direction @ matvec(direction) + damping * (direction @ direction)
    if not curvature > 0:
        return np.array(params, dtype=float)
    alpha = np.sqrt(2.0 * kl_budget / curvature)
    return params - alpha * direction
