"""The chapter 11 checkers accept correct answers, name the typical mistakes and never raise.

The reference answers are written here independently of natgrad: the bandit's step length by
numpy.linalg.pinv, and the conjugate posterior in closed form (the exact posterior of Bayesian
linear regression, which one step with learning rate 1 must reach from any start).
"""

from __future__ import annotations

import numpy as np
import pytest

from natgrad.exercises import Verdict, ch11


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def pinv_length(logits, rewards, kl_budget):
    p = softmax(logits)
    F = np.diag(p) - np.outer(p, p)
    d = np.linalg.pinv(F, rcond=1e-10) @ (p * (rewards - rewards @ p))
    return np.sqrt(2 * kl_budget / (d @ F @ d)) * np.linalg.norm(d)


def closed_form_length(logits, rewards, kl_budget):
    p = softmax(logits)
    variance = p @ (rewards - rewards @ p) ** 2
    return np.sqrt(2 * kl_budget / variance) * np.linalg.norm(rewards - rewards.mean())


def as_array(logits, rewards, kl_budget):
    return np.array([closed_form_length(logits, rewards, kl_budget)])


def no_square_root(logits, rewards, kl_budget):
    return closed_form_length(logits, rewards, kl_budget) ** 2 / np.linalg.norm(rewards - rewards.mean())


def uncentred(logits, rewards, kl_budget):
    return closed_form_length(logits, rewards, kl_budget) / np.linalg.norm(rewards - rewards.mean()) * np.linalg.norm(rewards)


def centred_at_expected_reward(logits, rewards, kl_budget):
    p = softmax(logits)
    scale = closed_form_length(logits, rewards, kl_budget) / np.linalg.norm(rewards - rewards.mean())
    return scale * np.linalg.norm(rewards - rewards @ p)


def uniform_variance(logits, rewards, kl_budget):
    return np.sqrt(2 * kl_budget / np.var(rewards)) * np.linalg.norm(rewards - rewards.mean())


def edits_rewards(logits, rewards, kl_budget):
    rewards -= rewards.mean()
    return np.sqrt(2 * kl_budget / (softmax(logits) @ (rewards - rewards @ softmax(logits)) ** 2)) * np.linalg.norm(rewards)


@pytest.mark.parametrize("answer", [pinv_length, closed_form_length, as_array])
def test_bandit_checker_accepts_correct_lengths(answer, capsys):
    verdict = ch11.check_bandit_step_length(answer)
    assert isinstance(verdict, Verdict) and verdict
    assert capsys.readouterr().out.startswith("Correct.")


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (no_square_root, "square root"),
        (uncentred, "length of R itself"),
        (centred_at_expected_reward, "minimum-norm"),
        (uniform_variance, "weights the arms equally"),
        (edits_rewards, "in place"),
        (lambda z, r, e: "long", "could not be checked"),
        (lambda z, r, e: np.ones(3), "one number"),
        (lambda z, r, e: 1.0, "does not match"),
        (closed_form_length(np.zeros(2), np.array([0.0, 1.0]), 0.1), "function itself"),
    ],
)
def test_bandit_checker_names_the_mistake(answer, phrase, capsys):
    verdict = ch11.check_bandit_step_length(answer)
    assert not verdict
    assert phrase in capsys.readouterr().out


def test_conjugate_problem_is_seeded_and_fresh():
    X1, y1, tau1 = ch11.conjugate_problem()
    X2, y2, tau2 = ch11.conjugate_problem()
    np.testing.assert_array_equal(X1, X2)
    X1[0, 0] = 99.0
    assert X2[0, 0] != 99.0 and tau1 == tau2 == 1 / len(y2)


def exact_posterior(X, y, penalty):
    precision = X.T @ X + len(y) * penalty * np.eye(X.shape[1])
    cov = np.linalg.inv(precision)
    return cov @ X.T @ y, cov


def reference_step(mean, cov, X, y, penalty, learning_rate):
    post_mean, post_cov = exact_posterior(X, y, penalty)
    # The rule is linear in the natural parameters (Sigma^-1 mu, Sigma^-1): mix them.
    precision = (1 - learning_rate) * np.linalg.inv(cov) + learning_rate * np.linalg.inv(post_cov)
    shift = (1 - learning_rate) * np.linalg.solve(cov, mean) + learning_rate * np.linalg.solve(post_cov, post_mean)
    new_cov = np.linalg.inv(precision)
    return new_cov @ shift, new_cov


def test_one_step_with_learning_rate_one_lands_on_the_exact_posterior():
    X, y, penalty = ch11.conjugate_problem()
    post_mean, post_cov = exact_posterior(X, y, penalty)
    for mean, cov in [(np.zeros(3), np.eye(3)), (np.array([5.0, -2.0, 1.0]), 0.01 * np.eye(3))]:
        new_mean, new_cov = ch11._blr_reference(mean, cov, X, y, penalty, 1.0)
        np.testing.assert_allclose(new_mean, post_mean, rtol=1e-10)
        np.testing.assert_allclose(new_cov, post_cov, rtol=1e-10)


def mean_form(mean, cov, X, y, penalty, learning_rate):
    n = len(y)
    precision = (1 - learning_rate) * np.linalg.inv(cov) + learning_rate * (X.T @ X + n * penalty * np.eye(3))
    new_cov = np.linalg.inv(precision)
    return mean - learning_rate * new_cov @ (X.T @ (X @ mean - y) / n + penalty * mean) * n, new_cov


@pytest.mark.parametrize("answer", [reference_step, mean_form])
def test_conjugate_checker_accepts_correct_steps(answer, capsys):
    assert ch11.check_conjugate_blr_step(answer)
    assert capsys.readouterr().out.startswith("Correct.")


def per_input(mean, cov, X, y, penalty, learning_rate):
    n = len(y)
    precision = (1 - learning_rate) * np.linalg.inv(cov) + learning_rate * (X.T @ X / n + penalty * np.eye(3))
    new_cov = np.linalg.inv(precision)
    return mean - learning_rate * new_cov @ (X.T @ (X @ mean - y) / n + penalty * mean), new_cov


def no_prior(mean, cov, X, y, penalty, learning_rate):
    new_cov = np.linalg.inv((1 - learning_rate) * np.linalg.inv(cov) + learning_rate * X.T @ X)
    return mean - learning_rate * new_cov @ X.T @ (X @ mean - y), new_cov


def mixed_covariances(mean, cov, X, y, penalty, learning_rate):
    n = len(y)
    new_cov = (1 - learning_rate) * cov + learning_rate * np.linalg.inv(X.T @ X + n * penalty * np.eye(3))
    return mean - learning_rate * new_cov @ (X.T @ (X @ mean - y) + n * penalty * mean), new_cov


def old_covariance(mean, cov, X, y, penalty, learning_rate):
    _, new_cov = reference_step(mean, cov, X, y, penalty, learning_rate)
    return mean - learning_rate * cov @ (X.T @ (X @ mean - y) + len(y) * penalty * mean), new_cov


def uphill(mean, cov, X, y, penalty, learning_rate):
    new_mean, new_cov = reference_step(mean, cov, X, y, penalty, learning_rate)
    return 2 * mean - new_mean, new_cov


def returns_precision(mean, cov, X, y, penalty, learning_rate):
    new_mean, new_cov = reference_step(mean, cov, X, y, penalty, learning_rate)
    return new_mean, np.linalg.inv(new_cov)


def jumps_to_the_posterior(mean, cov, X, y, penalty, learning_rate):
    return exact_posterior(X, y, penalty)


def edits_cov(mean, cov, X, y, penalty, learning_rate):
    cov *= 2.0
    return reference_step(mean, cov, X, y, penalty, learning_rate)


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (per_input, "N times"),
        (no_prior, "prior"),
        (mixed_covariances, "mixed the covariances"),
        (old_covariance, "old covariance"),
        (uphill, "uphill"),
        (returns_precision, "precision"),
        (jumps_to_the_posterior, "does not match"),
        (edits_cov, "in place"),
        (lambda *args: np.zeros(3), "pair"),
        (lambda *args: (np.zeros(2), np.eye(3)), "shape"),
        (lambda *args: (np.full(3, np.nan), np.eye(3)), "NaN"),
        (lambda mean: mean, "could not be checked"),
        ("step", "function itself"),
    ],
)
def test_conjugate_checker_names_the_mistake(answer, phrase, capsys):
    assert not ch11.check_conjugate_blr_step(answer)
    assert phrase in capsys.readouterr().out
