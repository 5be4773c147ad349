r"""Adam and RMSprop: a square-rooted running average of squared mini-batch gradients, a diagonal
*empirical* Fisher, set beside the natural gradient. Chapter 9."""

from __future__ import annotations

import numpy as onp

from natgrad._checks import finite_array, flat_vector, nonnegative_finite


def running_second_moment(batch_grads, beta2: float = 0.999) -> onp.ndarray:
    r"""Adam's bias-corrected running average of squared mini-batch gradients.

    For gradients :math:`g_1, \dots, g_T` (rows of ``batch_grads``),
    :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t \odot g_t` from :math:`v_0 = 0`, and the
    result is :math:`v_T / (1 - \beta_2^T)`. With batches of one example drawn uniformly, its
    expectation is the diagonal of the empirical Fisher. Chapter 9.
    """
    grads = onp.asarray(finite_array(batch_grads, "batch_grads"), dtype=float)
    if grads.ndim != 2 or grads.shape[0] < 1:
        raise ValueError(f"batch_grads: expected a 2-D array (T, P) with T >= 1, got shape {grads.shape}")
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"beta2: expected a number in [0, 1), got {beta2!r}")
    second_moment = onp.zeros(grads.shape[1])
    for g in grads:
        second_moment = beta2 * second_moment + (1.0 - beta2) * g**2
    return second_moment / (1.0 - beta2 ** grads.shape[0])


def adam_direction(grad, second_moment, eps: float = 1e-8) -> onp.ndarray:
    r"""The direction :math:`g / (\sqrt{v} + \varepsilon)` of Adam and RMSprop (without momentum). Chapter 9.

    ``second_moment`` is :math:`v`, a running average of squared gradients
    (:func:`running_second_moment`) or the diagonal of the empirical Fisher. The square root
    makes the direction unchanged when the loss is multiplied by a constant (up to
    :math:`\varepsilon`): it is not :math:`\mathrm{diag}(F)^{-1} g`.
    """
    grad = onp.asarray(finite_array(grad, "grad"), dtype=float)
    if grad.ndim != 1:
        raise ValueError(f"grad: expected a flat vector, got shape {grad.shape}")
    second_moment = onp.asarray(flat_vector(second_moment, "second_moment", grad.size), dtype=float)
    if onp.any(second_moment < 0):
        raise ValueError("second_moment: expected non-negative entries (averages of squares)")
    nonnegative_finite(eps, "eps")
    return grad / (onp.sqrt(second_moment) + eps)
