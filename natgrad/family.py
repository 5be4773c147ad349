"""The first edition's home of its chapter 9's methods (now chapters 10 and 11), kept so that old code keeps working.

Each method now lives in the module named after its concept: Fisher scoring and IRLS in
:mod:`natgrad.glm`, the Gauss-Newton matrix in :mod:`natgrad.gauss_newton`, Adam's direction in
:mod:`natgrad.adam`, the natural policy gradient in :mod:`natgrad.policy` and mirror descent in
:mod:`natgrad.mirror`. ``natgrad.family.<name>`` is the same function as in its new module.
"""

from __future__ import annotations

from natgrad.adam import adam_direction, running_second_moment
from natgrad.gauss_newton import gauss_newton
from natgrad.glm import fisher_scoring, irls_step, l2_weight_mask, penalized_cross_entropy, penalized_fisher
from natgrad.mirror import (
    categorical_log_partition,
    categorical_mean,
    categorical_natural,
    categorical_negative_entropy,
    mirror_descent,
)
from natgrad.policy import expected_reward, natural_policy_gradient, policy_fisher, policy_gradient, step_kls, vanilla_policy_gradient

__all__ = [
    "adam_direction",
    "categorical_log_partition",
    "categorical_mean",
    "categorical_natural",
    "categorical_negative_entropy",
    "expected_reward",
    "fisher_scoring",
    "gauss_newton",
    "irls_step",
    "l2_weight_mask",
    "mirror_descent",
    "natural_policy_gradient",
    "penalized_cross_entropy",
    "penalized_fisher",
    "policy_fisher",
    "policy_gradient",
    "running_second_moment",
    "step_kls",
    "vanilla_policy_gradient",
]
