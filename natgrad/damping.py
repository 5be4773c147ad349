r"""Levenberg-Marquardt adaptation of the damping :math:`\lambda` from the quadratic model's track record.

A natural step is chosen by a quadratic model of the loss on the mini-batch,

.. math:: \hat L(\delta) = L(\theta) + g^\top \delta + \tfrac12 \delta^\top F \delta ,

which is trustworthy only near :math:`\theta`. The damping :math:`\lambda` of
:math:`F_\lambda = F + \lambda I` decides how near. Levenberg-Marquardt adaptation (Martens,
2010, section 4.1; Martens and Grosse, 2015, section 6.5) measures after a step how well the
model predicted it, by the *reduction ratio*

.. math:: \varrho = \frac{L(\theta + \delta) - L(\theta)}{\hat L(\delta) - \hat L(0)} ,

the actual change of the loss over the predicted one (both on the same batch). Near 1 the
model is good and :math:`\lambda` can shrink (longer, more curvature-driven steps); small or
negative, the model overpromised and :math:`\lambda` grows. natgrad's rule, every
:math:`T_\lambda` iterations:

.. math:: \lambda \leftarrow \begin{cases} \tfrac23\lambda & \varrho > 3/4 \\
          \tfrac32\lambda & \varrho < 1/4 \\ \lambda & \text{otherwise,} \end{cases}

with the factors of Martens (2010), and
:math:`\lambda` kept in :math:`[10^{-8}, 10^{8}]`. Chapter 9.
"""

from __future__ import annotations

import math

from natgrad._checks import positive_finite

#: Shrink and growth factors of the damping (Martens, 2010, section 4.1).
DECREASE, INCREASE = 2.0 / 3.0, 1.5
#: The thresholds on the reduction ratio.
LOW, HIGH = 0.25, 0.75
#: The interval the damping is kept in.
MIN_DAMPING, MAX_DAMPING = 1e-8, 1e8


def predicted_change(grad_dot_step: float, curvature: float) -> float:
    r"""The quadratic model's change :math:`\hat L(\delta) - \hat L(0) = g^\top\delta + \tfrac12 \delta^\top F \delta`.

    ``grad_dot_step`` is :math:`g^\top \delta`, ``curvature`` is :math:`\delta^\top F \delta \ge 0`
    (the undamped Fisher: damping shapes the step, not the prediction). Chapter 9.
    """
    for value, name in ((grad_dot_step, "grad_dot_step"), (curvature, "curvature")):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"{name}: expected a finite number, got {value!r}")
    if curvature < 0:
        raise ValueError(f"curvature: expected delta^T F delta >= 0, got {curvature!r}")
    return float(grad_dot_step) + 0.5 * float(curvature)


def reduction_ratio(actual: float, predicted: float) -> float:
    r"""The reduction ratio :math:`\varrho = (L(\theta+\delta) - L(\theta)) / (\hat L(\delta) - \hat L(0))`.

    ``actual`` is the change of the loss, ``predicted`` the model's change (negative for a
    descent step). A non-finite ``actual`` (the step overflowed) gives :math:`-\infty`, which
    raises the damping; a model that predicts no decrease (``predicted >= 0``) gives 0 unless the
    loss fell. Chapter 9.
    """
    if not isinstance(predicted, (int, float)) or isinstance(predicted, bool) or not math.isfinite(predicted):
        raise ValueError(f"predicted: expected a finite number, got {predicted!r}")
    if not isinstance(actual, (int, float)) or isinstance(actual, bool) or math.isnan(actual):
        raise ValueError(f"actual: expected a number (inf allowed), got {actual!r}")
    if not math.isfinite(actual):
        return -math.inf if actual > 0 else math.inf
    if predicted >= 0:
        return 1.0 if actual < 0 else 0.0
    return float(actual) / float(predicted)


def adapt_damping(damping: float, ratio: float) -> float:
    r"""One Levenberg-Marquardt update: :math:`\tfrac23\lambda` if :math:`\varrho > 3/4`,
    :math:`\tfrac32\lambda` if :math:`\varrho < 1/4`, else :math:`\lambda`; clipped to
    [:data:`MIN_DAMPING`, :data:`MAX_DAMPING`]. Chapter 9."""
    positive_finite(damping, "damping")
    if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or math.isnan(ratio):
        raise ValueError(f"ratio: expected a number (inf allowed), got {ratio!r}")
    return _adapt(float(damping), float(ratio))


def _adapt(damping: float, ratio: float) -> float:
    """:func:`adapt_damping` without the checks (for the training loops)."""
    if ratio > HIGH:
        damping *= DECREASE
    elif ratio < LOW:
        damping *= INCREASE
    return min(MAX_DAMPING, max(MIN_DAMPING, damping))
