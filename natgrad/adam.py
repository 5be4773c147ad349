r"""Adam and RMSprop set beside the natural gradient, and where their square root comes from. Chapter 11.

Adam without momentum steps along :math:`g_B / (\sqrt{\overline{g^2}_t} + \varepsilon_{\text{Adam}})`
(:func:`adam_direction`), with :math:`\overline{g^2}_t` the running average of squared
mini-batch gradients (:func:`running_second_moment`). For batches of one example its
expectation is the diagonal of the *empirical* Fisher; for larger batches it is smaller
(:func:`~natgrad.adam.expected_batch_second_moment`). The Bayesian learning rule with a diagonal Gaussian
(:func:`natgrad.variational.diagonal_bayesian_learning_rule`) gives the running average and
:math:`\varepsilon_{\text{Adam}}` (the prior's precision) but divides by
:math:`\overline{g^2}_t` itself; the square root appears when the weights are modelled as
drifting between steps (:func:`drift_steady_state_precision`).
"""

from __future__ import annotations

from numbers import Real

import numpy as onp

from natgrad._checks import finite_array, flat_vector, nonnegative_finite, positive_finite, positive_int


def running_second_moment(batch_grads, beta2: float = 0.999) -> onp.ndarray:
    r"""Adam's bias-corrected running average :math:`\overline{g^2}_T` of squared mini-batch gradients.

    For the mini-batch gradients :math:`g_{B_1}, \dots, g_{B_T}` (rows of ``batch_grads``),
    :math:`\overline{g^2}_t = \beta_2\, \overline{g^2}_{t-1} + (1-\beta_2)\, g_{B_t} \odot g_{B_t}` from
    :math:`\overline{g^2}_0 = 0`, and the result is :math:`\overline{g^2}_T / (1 - \beta_2^T)`. With
    batches of one example drawn uniformly its expectation is the diagonal of the empirical
    Fisher; with larger batches see :func:`~natgrad.adam.expected_batch_second_moment`. Chapter 11.
    """
    grads = onp.asarray(finite_array(batch_grads, "batch_grads"), dtype=float)
    if grads.ndim != 2 or grads.shape[0] < 1:
        raise ValueError(f"batch_grads: expected a 2-D array (T, P) with T >= 1, got shape {grads.shape}")
    if isinstance(beta2, bool) or not isinstance(beta2, Real) or not 0.0 <= beta2 < 1.0:
        raise ValueError(f"beta2: expected a number in [0, 1), got {beta2!r}")
    second_moment = onp.zeros(grads.shape[1])
    for g in grads:
        second_moment = beta2 * second_moment + (1.0 - beta2) * g**2
    return second_moment / (1.0 - beta2 ** grads.shape[0])


def expected_batch_second_moment(per_example_grads, batch_size: int) -> onp.ndarray:
    r"""The expectation of :math:`g_B \odot g_B` over mini-batches of ``batch_size`` rows drawn without replacement.

    For per-example gradients :math:`g_1, \dots, g_N` (rows of ``per_example_grads``) with mean
    :math:`g` and :math:`\operatorname{diag}(F_{\text{emp}}) = \frac1N\sum_n g_n \odot g_n`,

    .. math:: \mathbb E[g_B \odot g_B] = g \odot g + \frac{N - |B|}{|B|\,(N - 1)}
              \bigl(\operatorname{diag}(F_{\text{emp}}) - g \odot g\bigr),

    the mean's square plus the variance of a sample mean. It is
    :math:`\operatorname{diag}(F_{\text{emp}})` for :math:`|B| = 1` and :math:`g \odot g` for
    :math:`|B| = N`: what Adam's running average estimates depends on the batch size. Chapter 11.
    """
    grads = onp.asarray(finite_array(per_example_grads, "per_example_grads"), dtype=float)
    if grads.ndim != 2 or grads.shape[0] < 2:
        raise ValueError(f"per_example_grads: expected a 2-D array (N, P) with N >= 2, got shape {grads.shape}")
    n_rows = grads.shape[0]
    batch_size = positive_int(batch_size, "batch_size")
    if batch_size > n_rows:
        raise ValueError(f"batch_size: expected at most N = {n_rows} rows, got {batch_size}")
    mean = grads.mean(axis=0)
    empirical_diagonal = (grads**2).mean(axis=0)
    return mean**2 + (n_rows - batch_size) / (batch_size * (n_rows - 1)) * (empirical_diagonal - mean**2)


def drift_steady_state_precision(second_moment, drift_std: float) -> onp.ndarray:
    r"""The steady precision :math:`1/\sigma^2` of a coordinate whose value drifts, observed through squared gradients.

    Each step first widens the posterior of a coordinate by the drift,
    :math:`\sigma^2 \to \sigma^2 + \sigma_{\text{drift}}^2`, then adds the precision
    :math:`\overline{g^2}` that a mini-batch brings (an empirical-Fisher estimate of the
    curvature). The fixed point of :math:`1/\sigma^2 = 1/(\sigma^2 + \sigma_{\text{drift}}^2) + \overline{g^2}` is

    .. math:: \frac1{\sigma^2} = \frac{\overline{g^2}}2 + \sqrt{\frac{(\overline{g^2})^2}4 + \frac{\overline{g^2}}{\sigma_{\text{drift}}^2}},

    which is about :math:`\sqrt{\overline{g^2}} / \sigma_{\text{drift}}` (Adam's root) when
    :math:`\sigma_{\text{drift}}^2\, \overline{g^2} \ll 1`, and about :math:`\overline{g^2}` (the
    mean-square denominator of the Bayesian learning rule) when it is large (Aitchison, 2020).
    Elementwise. Chapter 11.
    """
    second_moment = onp.asarray(finite_array(second_moment, "second_moment"), dtype=float)
    if onp.any(second_moment < 0):
        raise ValueError("second_moment: expected non-negative entries (averages of squares)")
    positive_finite(drift_std, "drift_std")
    half = 0.5 * second_moment
    return half + onp.sqrt(half**2 + second_moment / drift_std**2)


def adam_direction(grad, second_moment, eps: float = 1e-8) -> onp.ndarray:
    r"""The direction :math:`g / (\sqrt{\overline{g^2}} + \varepsilon_{\text{Adam}})` of Adam and RMSprop without momentum. Chapter 11.

    ``second_moment`` is :math:`\overline{g^2}`: a running average of squared mini-batch
    gradients (:func:`running_second_moment`), or the diagonal of the empirical Fisher, which
    is its expectation for batches of one example. ``eps`` is :math:`\varepsilon_{\text{Adam}}`
    (not a KL budget). The square root makes the direction unchanged when the loss is
    multiplied by a constant (up to :math:`\varepsilon_{\text{Adam}}`): it is not
    :math:`\operatorname{diag}(F)^{-1} g`.
    """
    grad = onp.asarray(finite_array(grad, "grad"), dtype=float)
    if grad.ndim != 1:
        raise ValueError(f"grad: expected a flat vector, got shape {grad.shape}")
    second_moment = onp.asarray(flat_vector(second_moment, "second_moment", grad.size), dtype=float)
    if onp.any(second_moment < 0):
        raise ValueError("second_moment: expected non-negative entries (averages of squares)")
    nonnegative_finite(eps, "eps")
    return grad / (onp.sqrt(second_moment) + eps)
