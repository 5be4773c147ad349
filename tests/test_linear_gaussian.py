"""The linear-Gaussian model's closed forms against autograd and explicit sums."""

from __future__ import annotations

import numpy as np
import pytest
from autograd import grad, hessian

from natgrad.linear_gaussian import (
    linear_gaussian_empirical_fisher,
    linear_gaussian_fisher,
    linear_gaussian_kl,
    linear_gaussian_loss,
)


@pytest.fixture
def problem():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(30, 3)) * np.array([1.0, 3.0, 0.2])
    y = X @ np.array([0.5, -1.0, 2.0]) + 0.3 * rng.normal(size=30)
    return X, y, rng.normal(size=3), 0.7


def test_fisher_is_the_hessian_of_the_kl_and_of_the_loss(problem):
    X, y, theta, noise = problem
    kl_hessian = hessian(lambda q: linear_gaussian_kl(theta, q, X, noise))(theta)
    np.testing.assert_allclose(linear_gaussian_fisher(X, noise), kl_hessian, rtol=1e-12, atol=1e-14)
    loss_hessian = hessian(lambda q: linear_gaussian_loss(q, X, y, noise))(theta)
    np.testing.assert_allclose(linear_gaussian_fisher(X, noise), loss_hessian, rtol=1e-12, atol=1e-14)


def test_empirical_fisher_is_the_mean_outer_product_of_per_example_gradients(problem):
    X, y, theta, noise = problem
    per_example = [grad(lambda q: linear_gaussian_loss(q, X[n : n + 1], y[n : n + 1], noise))(theta) for n in range(len(y))]
    reference = np.mean([np.outer(g, g) for g in per_example], axis=0)
    np.testing.assert_allclose(linear_gaussian_empirical_fisher(theta, X, y, noise), reference, rtol=1e-12)


def test_empirical_fisher_matches_the_fisher_only_in_expectation_at_the_truth():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200_000, 2))
    truth = np.array([1.0, -2.0])
    y = X @ truth + rng.normal(size=200_000)
    fisher = linear_gaussian_fisher(X)
    np.testing.assert_allclose(linear_gaussian_empirical_fisher(truth, X, y), fisher, atol=2e-2)
    far = truth + np.array([3.0, 3.0])
    assert np.linalg.norm(linear_gaussian_empirical_fisher(far, X, y) - fisher) > 10 * np.linalg.norm(fisher)


def test_kl_is_zero_at_coincidence_and_symmetric(problem):
    X, _, theta, noise = problem
    other = theta + 0.1
    assert linear_gaussian_kl(theta, theta, X, noise) == 0.0
    assert linear_gaussian_kl(theta, other, X, noise) == pytest.approx(linear_gaussian_kl(other, theta, X, noise), rel=1e-14)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda X, y, t: linear_gaussian_loss(t[:2], X, y), "params"),
        (lambda X, y, t: linear_gaussian_loss(t, X, y[:-1]), "y"),
        (lambda X, y, t: linear_gaussian_fisher(X[0]), "X"),
        (lambda X, y, t: linear_gaussian_fisher(X, noise_std=0.0), "noise_std"),
        (lambda X, y, t: linear_gaussian_kl(t, np.full(3, np.nan), X), "params_q"),
        (lambda X, y, t: linear_gaussian_empirical_fisher(t, X, y, noise_std=-1.0), "noise_std"),
    ],
)
def test_bad_input_names_the_argument(problem, call, argument):
    X, y, theta, _ = problem
    with pytest.raises(ValueError, match=argument):
        call(X, y, theta)


@pytest.mark.parametrize("noise_std", [None, 0.7, 2.5])
def test_loss_is_the_mean_gaussian_negative_log_likelihood(problem, noise_std):
    """Reference: scipy.stats.norm.logpdf; the default noise_std is 1."""
    from scipy.stats import norm

    X, y, params, _ = problem
    sigma = 1.0 if noise_std is None else noise_std
    settings = {} if noise_std is None else {"noise_std": noise_std}
    expected = -np.mean(norm.logpdf(y, loc=X @ params, scale=sigma))
    assert linear_gaussian_loss(params, X, y, **settings) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("noise_std", [None, 0.7])
def test_kl_fisher_and_empirical_fisher_have_their_closed_forms(problem, noise_std):
    """Reference: the closed forms written with explicit loops over rows; the default noise_std is 1."""
    X, y, params, _ = problem
    sigma = 1.0 if noise_std is None else noise_std
    settings = {} if noise_std is None else {"noise_std": noise_std}
    other = params + np.array([0.3, -0.2, 0.5])
    kl = np.mean([(x @ params - x @ other) ** 2 / (2 * sigma**2) for x in X])
    assert linear_gaussian_kl(params, other, X, **settings) == pytest.approx(kl, rel=1e-13)
    fisher = sum(np.outer(x, x) for x in X) / (len(X) * sigma**2)
    np.testing.assert_allclose(linear_gaussian_fisher(X, **settings), fisher, rtol=1e-13)
    empirical = sum((t - x @ params) ** 2 / sigma**4 * np.outer(x, x) for x, t in zip(X, y)) / len(X)
    np.testing.assert_allclose(linear_gaussian_empirical_fisher(params, X, y, **settings), empirical, rtol=1e-12)
