r"""The natural policy gradient and TRPO, on a multi-armed bandit with a softmax policy. Chapter 11.

A policy is a model like any other, :math:`p(y \mid x, \theta)`, with the state as its input and the
action as its output. A bandit has no state: the policy over its K arms is
:math:`p = \mathrm{softmax}(\theta)`, arm k pays the reward :math:`R_k`, and the loss is minus the
expected reward, :math:`L(\theta) = -R^\top p`. Its Fisher is the categorical Fisher
:math:`\mathrm{diag}(p) - pp^\top` (chapter 4), singular along the logit shift :math:`\mathbf 1`.
"""

from __future__ import annotations

import numpy as onp

from natgrad._checks import finite_array, flat_vector, nonnegative_int, positive_finite
from natgrad.distributions import kl_categorical, softmax
from natgrad.steps import natural_step


def _bandit(logits, rewards):
    logits = onp.asarray(finite_array(logits, "logits"), dtype=float)
    if logits.ndim != 1 or logits.size < 2:
        raise ValueError(f"logits: expected a flat vector with at least 2 arms, got shape {logits.shape}")
    return logits, onp.asarray(flat_vector(rewards, "rewards", logits.size), dtype=float)


def expected_reward(logits, rewards) -> float:
    r"""The expected reward :math:`R^\top p`, :math:`p = \mathrm{softmax}(\theta)`, of a softmax policy over arms (minus the loss). Chapter 11."""
    logits, rewards = _bandit(logits, rewards)
    return float(rewards @ softmax(logits))


def policy_gradient(logits, rewards) -> onp.ndarray:
    r"""The exact gradient of the expected reward, :math:`\nabla_\theta (R^\top p) = p \odot (R - (R^\top p)\mathbf 1)`, that is :math:`-g`.

    Computed as :math:`R_k - R^\top p = \sum_j p_j (R_k - R_j)`, which keeps full relative
    accuracy when the policy is nearly deterministic (the difference of two nearly equal
    numbers would keep only about :math:`10^{-16} / (1 - p_{\max})` of it). Chapter 11.
    """
    logits, rewards = _bandit(logits, rewards)
    p = softmax(logits)
    return p * ((rewards[:, None] - rewards[None, :]) @ p)


def policy_fisher(logits) -> onp.ndarray:
    r"""The Fisher of a softmax policy in its logits, :math:`\mathrm{diag}(p) - p p^\top`.

    Singular: adding the same constant to every logit changes no probability, so
    :math:`F \mathbf 1 = 0`. The diagonal is computed as :math:`p_k \sum_{j \ne k} p_j`, not
    :math:`p_k - p_k^2`: for a nearly deterministic policy the subtraction loses the
    diagonal entry of the likely arm to round-off, and with it the null space (the round-off
    eigenvalue along :math:`\mathbf 1` then reaches 0.6 of the largest one at logits of size
    40, against :math:`10^{-16}` this way). Chapter 11.
    """
    logits, _ = _bandit(logits, onp.zeros(onp.size(logits)))
    p = softmax(logits)
    others = (1.0 - onp.eye(p.size)) @ p  # 1 - p_k, summed from the other arms
    fisher_matrix = -onp.outer(p, p)
    fisher_matrix[onp.diag_indices(p.size)] = p * others
    return fisher_matrix


def natural_policy_gradient(logits0, rewards, kl_budget: float, n_steps: int) -> onp.ndarray:
    r"""Maximise the expected reward with KL-budgeted natural steps; returns the logits after each step, shape (n_steps + 1, K).

    Each step is :func:`natgrad.natural_step` on the loss :math:`L = -R^\top p` with
    :func:`policy_fisher` and a minimum-norm solve of the singular system. Since
    :math:`(\mathrm{diag}(p) - pp^\top)(R - c\mathbf 1) = p \odot (R - (R^\top p)\mathbf 1)` for every
    constant c, the minimum-norm direction is :math:`d = -(R - \bar R\,\mathbf 1)`, with
    :math:`\bar R = \frac1K\sum_k R_k`: the same at every step. Its quadratic form is
    :math:`d^\top F d = \mathrm{Var}_p(R)`, so the budget sets the step's length to
    :math:`\sqrt{2\epsilon / \mathrm{Var}_p(R)}\, \lVert R - \bar R\,\mathbf 1\rVert`, which grows as the
    policy becomes deterministic. The step's true KL matches ``kl_budget`` only to second
    order. Chapter 11.
    """
    logits0, rewards = _bandit(logits0, rewards)
    positive_finite(kl_budget, "kl_budget")
    n_steps = nonnegative_int(n_steps, "n_steps")
    path = onp.empty((n_steps + 1, logits0.size))
    path[0] = logits0
    for step in range(n_steps):
        theta = path[step]
        path[step + 1] = natural_step(theta, -policy_gradient(theta, rewards), policy_fisher(theta), kl_budget)
    return path


def vanilla_policy_gradient(logits0, rewards, learning_rate: float, n_steps: int) -> onp.ndarray:
    r"""Gradient descent on :math:`L = -R^\top p`, :math:`\theta_{t+1} = \theta_t - \eta\, g_t`; returns the path, shape (n_steps + 1, K). Chapter 11."""
    logits0, rewards = _bandit(logits0, rewards)
    positive_finite(learning_rate, "learning_rate")
    n_steps = nonnegative_int(n_steps, "n_steps")
    path = onp.empty((n_steps + 1, logits0.size))
    path[0] = logits0
    for step in range(n_steps):
        path[step + 1] = path[step] + learning_rate * policy_gradient(path[step], rewards)
    return path


def step_kls(path) -> onp.ndarray:
    r"""The KL divergence :math:`\mathrm{KL}(p_{\theta_t} \,\Vert\, p_{\theta_{t+1}})` of each step of a path of logits, shape (T,). Chapter 11."""
    path = onp.asarray(finite_array(path, "path"), dtype=float)
    if path.ndim != 2 or path.shape[0] < 2:
        raise ValueError(f"path: expected logits of shape (T + 1, K) with T >= 1, got shape {path.shape}")
    return onp.asarray(kl_categorical(path[:-1], path[1:]))
