r"""Self-checks for chapter 11, the first-order and probabilistic relatives of the natural gradient.

* :func:`check_bandit_step_length`: a reader's length of one KL-budgeted natural step of the
  bandit's softmax policy,

  .. math:: \alpha\,\lVert d\rVert = \sqrt{\frac{2\epsilon}{\mathrm{Var}_p(R)}}\;\lVert R - \bar R\,\mathbf 1\rVert,

  against the step of :func:`natgrad.policy.natural_policy_gradient`;
* :func:`conjugate_problem`: a small Bayesian linear regression (unit-variance Gaussian labels,
  prior :math:`\mathcal N(0, (N\tau)^{-1} I)`) for the conjugate-inference exercise;
* :func:`check_conjugate_blr_step`: a reader's Bayesian-learning-rule step for that model,

  .. math:: \Sigma_{t+1}^{-1} = (1-\eta)\Sigma_t^{-1} + \eta\,(X^\top X + N\tau I), \qquad
            \mu_{t+1} = \mu_t - \eta\,\Sigma_{t+1}\bigl(X^\top(X\mu_t - y) + N\tau\mu_t\bigr).

Each checker names the usual mistakes.
"""

from __future__ import annotations

import numpy as np

from natgrad.exercises._verdict import Verdict, call_on_copies, forgiving, verdict
from natgrad.policy import natural_policy_gradient

_RTOL = 1e-6


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _bandit_cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(logits, rewards, kl_budget): the chapter's start, a nearly uniform policy, a confident one."""
    return [
        (np.array([2.0, 1.0, 0.0, 0.0, -2.0]), np.array([0.7, 0.5, 0.3, 0.2, 1.0]), 0.01),
        (np.array([0.1, -0.2, 0.0]), np.array([1.0, 0.0, 0.4]), 0.05),
        (np.array([4.0, 0.5, -1.0, 2.0]), np.array([0.2, 0.9, 0.1, 0.6]), 0.002),
    ]


def _bandit_mistakes(logits, rewards, kl_budget) -> list[tuple[float, str]]:
    p = _softmax(logits)
    mean_reward = rewards @ p
    variance = p @ (rewards - mean_reward) ** 2
    centred = rewards - rewards.mean()
    gradient = p * (rewards - mean_reward)
    return [
        (2 * kl_budget / variance * np.linalg.norm(centred),
         "Your length is missing a square root: the quadratic model 1/2 alpha^2 Var_p(R) = epsilon gives "
         "alpha = sqrt(2 epsilon / Var_p(R))."),
        (np.sqrt(kl_budget / variance) * np.linalg.norm(centred),
         "Your length is sqrt(2) too short: the KL budget is the quadratic model 1/2 delta^T F delta, with the 1/2."),
        (np.sqrt(2 * kl_budget / variance) * np.linalg.norm(rewards),
         "You used the length of R itself. The minimum-norm natural direction is the centred vector "
         "R - mean(R) 1: its component along 1 changes no probability."),
        (np.sqrt(2 * kl_budget / variance) * np.linalg.norm(rewards - mean_reward),
         "You centred R at its expected value R^T p. That direction solves F d = -g too, but it is not the "
         "minimum-norm solution: centre at the plain mean of the rewards, (1/K) sum_k R_k."),
        (np.sqrt(2 * kl_budget / np.var(rewards)) * np.linalg.norm(centred),
         "Your variance weights the arms equally. The quadratic form d^T F d is the variance of R under the "
         "policy p: sum_k p_k (R_k - R^T p)^2."),
        (np.sqrt(2 * kl_budget / (gradient @ (np.diag(p) - np.outer(p, p)) @ gradient)) * np.linalg.norm(gradient),
         "That is the length of a KL-budgeted step along the gradient. The natural step goes along "
         "F^+ g = -(R - mean(R) 1) instead."),
    ]


@forgiving
def check_bandit_step_length(length_fn) -> Verdict:
    r"""Check ``length_fn(logits, rewards, kl_budget)``, the length of one natural step of the bandit.

    The answer must be the Euclidean length (in logits) of the step that
    :func:`natgrad.policy.natural_policy_gradient` takes, on three policies, to a relative
    tolerance of 1e-6, and leave its inputs unchanged. Prints and returns a verdict; never
    raises. Chapter 11.
    """
    if not callable(length_fn):
        return verdict(False, "", "Pass your function itself, e.g. check_bandit_step_length(my_length), without calling it.")
    for logits, rewards, kl_budget in _bandit_cases():
        answer, hint = call_on_copies(length_fn, (logits, rewards), kl_budget)
        if hint is not None:
            return verdict(False, "", hint)
        answer = np.asarray(answer, dtype=float)
        if answer.shape != () and answer.size != 1:
            return verdict(False, "", f"Expected one number, the length of the step, got an array of shape {answer.shape}.")
        answer = float(answer.reshape(()))
        path = natural_policy_gradient(logits, rewards, kl_budget, 1)
        expected = float(np.linalg.norm(path[1] - path[0]))
        if np.isclose(answer, expected, rtol=_RTOL, atol=0.0):
            continue
        for candidate, hint in _bandit_mistakes(logits, rewards, kl_budget):
            if np.isclose(answer, candidate, rtol=_RTOL, atol=0.0):
                return verdict(False, "", hint)
        return verdict(
            False,
            "",
            "Your length does not match the natural step's. Its direction is R - mean(R) 1, and the budget "
            "sets alpha from 1/2 alpha^2 d^T F d = epsilon, with d^T F d = Var_p(R).",
        )
    return verdict(
        True,
        "The natural step has length sqrt(2 epsilon / Var_p(R)) |R - mean(R) 1|: the direction never changes, "
        "and the step grows as the policy's reward variance shrinks.",
        "",
    )


def conjugate_problem(n_rows: int = 30, seed: int = 11) -> tuple[np.ndarray, np.ndarray, float]:
    r"""``(X, y, penalty)``: a seeded linear regression with two features and an intercept column.

    The labels are :math:`y_n = a_n^\top\theta + \text{noise}` with unit noise variance, the model's
    own, and ``penalty`` :math:`\tau = 1/N` makes the prior :math:`\mathcal N(0, I)`. Fresh arrays on
    every call.
    """
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(n_rows, 2)) + np.array([1.0, -2.0]), np.ones(n_rows)])
    y = X @ np.array([0.8, -0.5, 1.5]) + rng.normal(size=n_rows)
    return X, y, 1.0 / n_rows


def _blr_reference(mean, cov, X, y, penalty, learning_rate):
    n_rows, n_params = X.shape
    data_precision = X.T @ X + n_rows * penalty * np.eye(n_params)
    precision = (1 - learning_rate) * np.linalg.inv(cov) + learning_rate * data_precision
    new_cov = np.linalg.inv(precision)
    gradient = X.T @ (X @ mean - y) + n_rows * penalty * mean
    return mean - learning_rate * new_cov @ gradient, new_cov


def _blr_mistakes(mean, cov, X, y, penalty, learning_rate):
    n_rows, n_params = X.shape
    eye = np.eye(n_params)
    gradient = X.T @ (X @ mean - y) + n_rows * penalty * mean
    data_precision = X.T @ X + n_rows * penalty * eye
    right_mean, right_cov = _blr_reference(mean, cov, X, y, penalty, learning_rate)
    per_input = np.linalg.inv((1 - learning_rate) * np.linalg.inv(cov) + learning_rate * data_precision / n_rows)
    no_prior_cov = np.linalg.inv((1 - learning_rate) * np.linalg.inv(cov) + learning_rate * X.T @ X)
    mixed_cov = (1 - learning_rate) * cov + learning_rate * np.linalg.inv(data_precision)
    return [
        ((mean - learning_rate * per_input @ gradient / n_rows, per_input),
         "Your curvature and gradient are those of the mean loss: the posterior's precision is N times "
         "E_q[Hessian of L_tau], X^T X + N tau I, not X^T X / N + tau I."),
        ((mean - learning_rate * no_prior_cov @ (X.T @ (X @ mean - y)), no_prior_cov),
         "Your step leaves out the prior: add N tau I to the precision and N tau mu to the gradient."),
        ((mean - learning_rate * mixed_cov @ gradient, mixed_cov),
         "You mixed the covariances. The rule is linear in the natural parameters: mix the precisions, "
         "(1 - eta) Sigma^-1 + eta (X^T X + N tau I), then invert."),
        ((mean - learning_rate * cov @ gradient, right_cov),
         "Your mean moves with the old covariance. Update the precision first and use the new covariance "
         "Sigma_{t+1} in the mean's step."),
        ((mean + learning_rate * right_cov @ gradient, right_cov),
         "Your mean moves uphill: subtract eta Sigma_{t+1} times the gradient."),
        ((right_mean, np.linalg.inv(right_cov)),
         "You returned the precision Sigma^-1 where the covariance Sigma is expected."),
    ]


def _blr_cases():
    X, y, penalty = conjugate_problem()
    rng = np.random.default_rng(5)
    factor = rng.normal(size=(3, 3))
    return [
        (np.zeros(3), np.eye(3), 1.0, X, y, penalty),
        (np.array([2.0, 1.0, -3.0]), factor @ factor.T + 0.1 * np.eye(3), 1.0, X, y, penalty),
        (np.array([0.5, -0.5, 0.5]), 0.3 * np.eye(3), 0.4, X, y, penalty),
    ]


def _pair(answer, shape_mean, shape_cov):
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return None, "Return a pair (new_mean, new_cov)."
    mean, cov = (np.asarray(part, dtype=float) for part in answer)
    if mean.shape != shape_mean or cov.shape != shape_cov:
        return None, f"Expected a mean of shape {shape_mean} and a covariance of shape {shape_cov}, got {mean.shape} and {cov.shape}."
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
        return None, "Your function returned NaN or inf values."
    return (mean, cov), None


def _same(answer, expected) -> bool:
    return all(np.allclose(a, e, rtol=_RTOL, atol=_RTOL * max(np.abs(e).max(), 1.0)) for a, e in zip(answer, expected))


@forgiving
def check_conjugate_blr_step(step_fn) -> Verdict:
    r"""Check ``step_fn(mean, cov, X, y, penalty, learning_rate)``, one Bayesian-learning-rule step of Bayesian linear regression.

    The answer must return ``(new_mean, new_cov)`` equal, to a relative tolerance of 1e-6, to the
    rule in this module's docstring on three starts of :func:`conjugate_problem` (two with
    :math:`\eta = 1`, one with :math:`\eta = 0.4`), and leave its inputs unchanged. Prints and
    returns a verdict; never raises. Chapter 11.
    """
    if not callable(step_fn):
        return verdict(False, "", "Pass your function itself, e.g. check_conjugate_blr_step(my_step), without calling it.")
    for mean, cov, learning_rate, X, y, penalty in _blr_cases():
        answer, hint = call_on_copies(step_fn, (mean, cov, X, y), penalty, learning_rate)
        if hint is None:
            answer, hint = _pair(answer, mean.shape, cov.shape)
        if hint is not None:
            return verdict(False, "", hint)
        if _same(answer, _blr_reference(mean, cov, X, y, penalty, learning_rate)):
            continue
        for candidate, hint in _blr_mistakes(mean, cov, X, y, penalty, learning_rate):
            if _same(answer, candidate):
                return verdict(False, "", hint)
        return verdict(
            False,
            "",
            "Your step does not match the rule: precision (1 - eta) Sigma^-1 + eta (X^T X + N tau I), then "
            "mu - eta Sigma_new (X^T (X mu - y) + N tau mu).",
        )
    return verdict(
        True,
        "Your step mixes the precisions and moves the mean by a Newton step: with eta = 1 it lands on the exact "
        "posterior from any start.",
        "",
    )
