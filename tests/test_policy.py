"""natgrad.policy (chapter 11) against independent references: the identities behind the bandit's
closed form, checked on random policies, and the coordinate-free change of the policy, computed
in a reference-arm parametrisation whose Fisher is invertible."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import natgrad as ng
from natgrad import policy

logits_strategy = arrays(np.float64, 5, elements=st.floats(-6, 6))
rewards_strategy = arrays(np.float64, 5, elements=st.floats(-2, 2)).filter(lambda r: np.ptp(r) > 1e-2)


@settings(max_examples=60, deadline=None)
@given(logits_strategy, rewards_strategy, st.floats(-3, 3))
def test_every_shifted_reward_vector_solves_the_natural_system(logits, rewards, shift):
    """F (R - c 1) = p * (R - (R^T p) 1) = -g for every c, and its quadratic form is Var_p(R)."""
    p = ng.softmax(logits)
    F = policy.policy_fisher(logits)
    shifted = rewards - shift
    np.testing.assert_allclose(F @ shifted, policy.policy_gradient(logits, rewards), atol=1e-12)
    variance = np.sum(p * (rewards - p @ rewards) ** 2)
    assert shifted @ F @ shifted == pytest.approx(variance, rel=1e-9, abs=1e-14)


def test_natural_step_changes_the_policy_as_in_reference_arm_coordinates():
    """Reference: logits (xi, 0) with the last arm as reference; F_xi = M^T F M is invertible, and
    the natural step xi - alpha F_xi^-1 g_xi moves the probabilities exactly as natgrad's
    minimum-norm step does (to first order: same J d), and has the same quadratic KL model."""
    logits = np.array([2.0, 1.0, 0.0, 0.0, -2.0])
    rewards = np.array([0.7, 0.5, 0.3, 0.2, 1.0])
    budget = 0.01
    step = policy.natural_policy_gradient(logits, rewards, budget, 1)[1] - logits
    M = np.eye(5)[:, :4]  # xi -> theta = (xi, 0); theta - theta_5 1 gives the same policy
    xi = (logits - logits[-1])[:4]
    loss = lambda x: -anp.dot(rewards, ng.softmax(anp.concatenate([x, anp.zeros(1)])))  # noqa: E731
    g_xi = autograd.grad(loss)(xi)
    F_xi = M.T @ policy.policy_fisher(M @ xi) @ M
    direction = np.linalg.solve(F_xi, g_xi)
    step_xi = -np.sqrt(2 * budget / (g_xi @ direction)) * direction
    jacobian = autograd.jacobian(lambda t: ng.softmax(t))(logits)  # d p / d theta, the same at theta and (xi, 0)
    np.testing.assert_allclose(jacobian @ step, jacobian @ (M @ step_xi), rtol=1e-10, atol=1e-14)
    F = policy.policy_fisher(logits)
    assert 0.5 * step @ F @ step == pytest.approx(0.5 * step_xi @ F_xi @ step_xi, rel=1e-10)


def test_vanilla_steps_shrink_on_the_plateau_while_natural_steps_do_not():
    """The vanilla gradient is weighted by p: near the second-best arm's corner its steps' KL falls
    by orders of magnitude (Mei et al., 2020), the natural steps' KL stays near the budget."""
    logits = np.array([2.0, 1.0, 0.0, 0.0, -2.0])
    rewards = np.array([0.7, 0.5, 0.3, 0.2, 1.0])
    vanilla = policy.step_kls(policy.vanilla_policy_gradient(logits, rewards, 2.0, 3000))
    natural = policy.step_kls(policy.natural_policy_gradient(logits, rewards, 0.01, 15))
    assert vanilla[-1] < 1e-6 * vanilla[:10].max()
    assert natural.min() > 0.9 * 0.01 and natural.max() < 1.1 * 0.01


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: policy.expected_reward(np.zeros((2, 2)), np.zeros(2)), "logits"),
        (lambda: policy.expected_reward(np.zeros(3), np.array([0.0, np.inf, 1.0])), "rewards"),
        (lambda: policy.natural_policy_gradient(np.zeros(3), np.ones(3), 0.01, 1.5), "n_steps"),
        (lambda: policy.vanilla_policy_gradient(np.zeros(3), np.ones(3), -1.0, 1), "learning_rate"),
        (lambda: policy.step_kls(np.zeros(3)), "path"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
