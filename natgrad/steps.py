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
from natgrad.solvers import conjugate_gradient


def _curvature_operator(fisher, n_params: int):
    """``v -> F v`` for a dense (P, P) array or a callable; also the dense array or None."""
    if callable(fisher):
        return fisher, None
    dense = finite_array(fisher, "fisher")
    if array_value(dense, "fisher").shape != (n_params, n_params):
        raise ValueError(f"fisher: expected a ({n_params}, {n_params}) matrix or a callable v -> F v, got shape {np.shape(dense)}")
    return (lambda v: dense @ v), dense


def natural_direction(grad, fisher, damping: float = 0.0):
    r"""Solve :math:`(F + \lambda I)\,d = g` for the natural-gradient direction d.

    ``fisher`` is a dense (P, P) array or a callable :math:`v \mapsto F v` (then solved by
    :func:`natgrad.conjugate_gradient`, which warns if it does not converge). With
    ``damping = 0`` a dense singular F gets the minimum-norm solution (least squares with
    small singular values cut off): a softmax model's Fisher is singular because adding
    the same constant to every logit leaves the probabilities unchanged, and the
    minimum-norm d moves no parameter along those null directions. Chapters 4 and 5.
    """
    grad = finite_array(grad, "grad")
    if array_value(grad, "grad").ndim != 1:
        raise ValueError(f"grad: expected a flat vector, got shape {np.shape(grad)}")
    nonnegative_finite(damping, "damping")
    matvec, dense = _curvature_operator(fisher, grad.size)
    if dense is not None:
        if damping > 0:
            return np.linalg.solve(dense + damping * np.eye(grad.size), grad)
        return np.linalg.lstsq(dense, grad, rcond=None)[0]
    result = conjugate_gradient(matvec, grad, damping=damping)
    if not result.converged:
        warnings.warn(
            f"natural_direction: conjugate gradient stopped after {result.n_iter} iterations at relative "
            f"residual {result.residual_norms[-1]:.1e}; consider damping > 0",
            RuntimeWarning,
            stacklevel=2,
        )
    return result.x


def natural_step(params, grad, fisher, kl_budget: float, damping: float = 0.0):
    r"""One natural-gradient step whose quadratic KL model equals ``kl_budget``.

    Returns :math:`\theta - \alpha d` with :math:`d` from :func:`natural_direction` and

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
    direction = natural_direction(grad, fisher, damping)
    matvec, _ = _curvature_operator(fisher, grad.size)
    curvature = direction @ matvec(direction) + damping * (direction @ direction)
    if not curvature > 0:
        return np.array(params, dtype=float)
    alpha = np.sqrt(2.0 * kl_budget / curvature)
    return params - alpha * direction
