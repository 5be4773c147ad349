"""natgrad.variational against independent references.

References: a two-dimensional trapezoid grid over the Gaussian (not the one-dimensional
Gauss-Hermite rule the module uses), central finite differences (Bonnet's and Price's theorems),
scikit-learn's penalised logistic regression, autograd Hessians, scipy's BFGS on the grid
objective, univariate KL divergences and Monte Carlo, and explicit loops for the stochastic rules.
"""

from __future__ import annotations

import math

import autograd
import numpy as np
import pytest
from scipy.optimize import minimize

import natgrad as ng
from natgrad import adam, variational


def logistic_problem(n_rows=20, shift=2.0, seed=3, n_features=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_rows, n_features)) + shift
    logits = 2.0 * (x - shift).sum(axis=1) - 1.0
    y = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logits))).astype(float)
    return np.column_stack([x, np.ones(n_rows)]), y, 1.0 / n_rows


def loss_on_rows(thetas, X, y, penalty):
    """L_tau at each row of an (M, P) array, written from the definition."""
    logits = thetas @ X.T
    return (np.log1p(np.exp(-np.abs(logits))) + np.maximum(logits, 0.0) - y * logits).mean(axis=1) \
        + 0.5 * penalty * (thetas**2).sum(axis=1)


def grid_rule(mean, cov, half_width=9.0, n=121):
    """Points and weights of a trapezoid rule for E over N(mean, cov) in two dimensions."""
    u = np.linspace(-half_width, half_width, n)
    U1, U2 = np.meshgrid(u, u, indexing="ij")
    units = np.column_stack([U1.ravel(), U2.ravel()])
    weights = np.exp(-0.5 * (units**2).sum(axis=1)) * (u[1] - u[0]) ** 2 / (2 * math.pi)
    return mean + units @ np.linalg.cholesky(cov).T, weights


def grid_expected_loss(mean, cov, X, y, penalty):
    points, weights = grid_rule(mean, cov)
    return weights @ loss_on_rows(points, X, y, penalty)


MEAN = np.array([0.4, -1.2])
COV = np.array([[0.30, -0.45], [-0.45, 0.95]])


def test_expected_loss_matches_a_two_dimensional_grid():
    X, y, penalty = logistic_problem()
    expected = variational.gaussian_expectations(MEAN, COV, X, y, penalty)
    assert expected.value == pytest.approx(grid_expected_loss(MEAN, COV, X, y, penalty), rel=1e-12)


def test_expected_gradient_and_hessian_are_derivatives_of_the_expected_loss():
    """Bonnet: grad_mu E_q[L] = E_q[grad L]; Price: grad_Sigma E_q[L] = E_q[Hessian L] / 2 (central differences)."""
    X, y, penalty = logistic_problem()
    expected = variational.gaussian_expectations(MEAN, COV, X, y, penalty)

    def value(mean, cov):
        return variational.gaussian_expectations(mean, cov, X, y, penalty).value

    h = 1e-5
    fd_grad = [(value(MEAN + h * e, COV) - value(MEAN - h * e, COV)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(expected.grad, fd_grad, rtol=1e-7, atol=1e-10)
    fd_hessian = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            E = np.zeros((2, 2))
            E[i, j] = E[j, i] = 1.0  # a symmetric perturbation moves both entries
            derivative = (value(MEAN, COV + h * E) - value(MEAN, COV - h * E)) / (2 * h)
            fd_hessian[i, j] = 2 * derivative / (1.0 if i == j else 2.0)
    np.testing.assert_allclose(expected.hessian, fd_hessian, rtol=1e-6, atol=1e-9)


def test_expectations_at_a_point_mass_are_the_loss_its_gradient_and_hessian():
    """A nearly degenerate q: the averages are the values at the mean (autograd)."""
    X, y, penalty = logistic_problem(n_features=2, seed=1)
    mean = np.array([0.3, -0.2, 0.5])
    expected = variational.gaussian_expectations(mean, 1e-14 * np.eye(3), X, y, penalty)
    loss = lambda t: variational.logistic_posterior_loss(t, X, y, penalty)  # noqa: E731
    assert expected.value == pytest.approx(loss(mean), rel=1e-12)
    np.testing.assert_allclose(expected.grad, autograd.grad(loss)(mean), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(expected.hessian, autograd.hessian(loss)(mean), rtol=1e-10, atol=1e-12)


def test_posterior_loss_is_the_penalised_mean_negative_log_likelihood():
    X, y, penalty = logistic_problem()
    theta = np.array([0.7, -1.1])
    p = 1 / (1 + np.exp(-X @ theta))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * penalty * theta @ theta
    assert variational.logistic_posterior_loss(theta, X, y, penalty) == pytest.approx(expected, rel=1e-13)


def test_vi_objective_differences_are_kl_differences_on_a_grid():
    """KL(q || posterior) / N = E_q[L_tau] + E_q[log q] / N + const; E_q[log q] by the grid too."""
    X, y, penalty = logistic_problem()
    n_rows = X.shape[0]

    def grid_kl_over_n(mean, cov):
        points, weights = grid_rule(mean, cov)
        centred = np.linalg.solve(np.linalg.cholesky(cov), (points - mean).T)
        log_q = -0.5 * (centred**2).sum(axis=0) - 0.5 * np.linalg.slogdet(2 * math.pi * cov)[1]
        return weights @ loss_on_rows(points, X, y, penalty) + weights @ log_q / n_rows

    other_mean, other_cov = np.array([0.1, 0.3]), np.array([[0.5, 0.1], [0.1, 0.2]])
    difference = variational.vi_objective(MEAN, COV, X, y, penalty) - variational.vi_objective(other_mean, other_cov, X, y, penalty)
    assert difference == pytest.approx(grid_kl_over_n(MEAN, COV) - grid_kl_over_n(other_mean, other_cov), rel=1e-10)


def grid_objective_and_gradient(v, X, y, penalty, diagonal=False):
    """The grid objective at v = (mean, Cholesky factor with log diagonal) and its gradient.

    The gradient is the reparametrisation one, E[grad L(mu + C u)] and E[grad L(mu + C u) u^T],
    on the same grid, so BFGS converges tightly in few steps.
    """
    n_rows, n_params = X.shape
    lower = (np.arange(n_params), np.arange(n_params)) if diagonal else np.tril_indices(n_params)
    factor = np.zeros((n_params, n_params))
    factor[lower] = v[n_params:]
    log_diagonal = np.diag(factor).copy()
    factor[np.diag_indices(n_params)] = np.exp(log_diagonal)
    mean = v[:n_params]
    u = np.linspace(-9.0, 9.0, 121)
    U1, U2 = np.meshgrid(u, u, indexing="ij")
    units = np.column_stack([U1.ravel(), U2.ravel()])
    weights = np.exp(-0.5 * (units**2).sum(axis=1)) * (u[1] - u[0]) ** 2 / (2 * math.pi)
    points = mean + units @ factor.T
    logits = points @ X.T
    grads = (1 / (1 + np.exp(-logits)) - y) @ X / n_rows + penalty * points
    value = weights @ loss_on_rows(points, X, y, penalty) - log_diagonal.sum() / n_rows
    grad_factor = (grads * weights[:, None]).T @ units
    grad_factor[np.diag_indices(n_params)] = grad_factor[np.diag_indices(n_params)] * np.exp(log_diagonal) - 1.0 / n_rows
    return value, np.concatenate([weights @ grads, grad_factor[lower]])


def fitted_by_bfgs(X, y, penalty, start_mean, start_cov, diagonal=False):
    """Minimise the grid objective over the mean and a Cholesky factor (diagonal or lower triangular)."""
    n_params = start_mean.size
    lower = (np.arange(n_params), np.arange(n_params)) if diagonal else np.tril_indices(n_params)
    factor = np.linalg.cholesky(start_cov)
    factor[np.diag_indices(n_params)] = np.log(np.diag(factor))
    start = np.concatenate([start_mean, factor[lower]])
    result = minimize(grid_objective_and_gradient, start, args=(X, y, penalty, diagonal), jac=True, method="BFGS",
                      options={"gtol": 1e-12, "maxiter": 500})
    factor = np.zeros((n_params, n_params))
    factor[lower] = result.x[n_params:]
    factor[np.diag_indices(n_params)] = np.exp(np.diag(factor))
    return result.x[:n_params], factor @ factor.T


def test_variational_online_newton_converges_to_the_minimiser_of_the_grid_objective():
    X, y, penalty = logistic_problem()
    path = variational.variational_online_newton(X, y, penalty, np.zeros(2), np.eye(2), learning_rate=1.0, n_steps=40)
    mode, cov = variational.laplace_approximation(X, y, penalty)  # an independent start
    mean_ref, cov_ref = fitted_by_bfgs(X, y, penalty, mode, cov)
    np.testing.assert_allclose(path.means[-1], mean_ref, atol=1e-9)
    np.testing.assert_allclose(path.covs[-1], cov_ref, atol=1e-9)


def test_the_fixed_point_satisfies_the_optimality_conditions_for_every_learning_rate():
    """E_q[grad L_tau] = 0 and Sigma^-1 = N E_q[Hessian L_tau], reached with eta = 1 and eta = 0.5."""
    X, y, penalty = logistic_problem(n_features=2, seed=4)
    n_rows = X.shape[0]
    ends = []
    for learning_rate, n_steps in [(1.0, 60), (0.5, 120)]:
        path = variational.variational_online_newton(X, y, penalty, np.zeros(3), np.eye(3), learning_rate, n_steps)
        mean, cov = path.means[-1], path.covs[-1]
        expected = variational.gaussian_expectations(mean, cov, X, y, penalty)
        assert np.abs(expected.grad).max() < 1e-11
        np.testing.assert_allclose(np.linalg.inv(cov), n_rows * expected.hessian, rtol=1e-9)
        ends.append((mean, cov))
    np.testing.assert_allclose(ends[0][0], ends[1][0], atol=1e-10)
    np.testing.assert_allclose(ends[0][1], ends[1][1], atol=1e-10)


def test_the_first_step_from_a_point_mass_is_a_newton_step():
    """With q_0 nearly a point mass, eta = 1 gives theta - H^-1 g and cov = (N H)^-1 (autograd)."""
    X, y, penalty = logistic_problem()
    start = np.array([0.2, -0.4])
    path = variational.variational_online_newton(X, y, penalty, start, 1e-14 * np.eye(2), 1.0, 1)
    loss = lambda t: variational.logistic_posterior_loss(t, X, y, penalty)  # noqa: E731
    H = autograd.hessian(loss)(start)
    np.testing.assert_allclose(path.means[1], start - np.linalg.solve(H, autograd.grad(loss)(start)), rtol=1e-9)
    np.testing.assert_allclose(path.covs[1], np.linalg.inv(X.shape[0] * H), rtol=1e-9)


def test_laplace_approximation_matches_sklearn_and_the_autograd_hessian():
    """scikit-learn minimises C sum_n l_n + |w|^2 / 2, that is L_tau with tau = 1 / (C N)."""
    from sklearn.linear_model import LogisticRegression

    X, y, penalty = logistic_problem(n_features=2, seed=6)
    n_rows = X.shape[0]
    mode, cov = variational.laplace_approximation(X, y, penalty)
    fit = LogisticRegression(C=1.0 / (penalty * n_rows), fit_intercept=False, solver="newton-cholesky", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(mode, fit.coef_[0], atol=1e-7)
    H = autograd.hessian(lambda t: variational.logistic_posterior_loss(t, X, y, penalty))(mode)
    np.testing.assert_allclose(cov, np.linalg.inv(n_rows * H), rtol=1e-10)


def test_kl_gaussians_is_the_sum_of_univariate_kls_for_diagonal_covariances():
    mean_p, mean_q = np.array([0.3, -1.0, 2.0]), np.array([0.0, 0.5, 1.0])
    sd_p, sd_q = np.array([1.0, 0.5, 2.0]), np.array([0.7, 1.5, 1.0])
    expected = np.sum(ng.kl_gaussian(mean_p, sd_p, mean_q, sd_q))
    assert variational.kl_gaussians(mean_p, np.diag(sd_p**2), mean_q, np.diag(sd_q**2)) == pytest.approx(expected, rel=1e-12)


def test_kl_gaussians_matches_monte_carlo_and_vanishes_at_equality():
    mean_p, mean_q = np.array([0.4, -1.2]), np.array([0.0, -0.5])
    cov_q = np.array([[0.5, 0.2], [0.2, 0.4]])
    assert variational.kl_gaussians(mean_p, COV, mean_p, COV) == pytest.approx(0.0, abs=1e-14)
    rng = np.random.default_rng(0)
    draws = rng.multivariate_normal(mean_p, COV, size=400_000)

    def log_density(points, mean, cov):
        centred = np.linalg.solve(np.linalg.cholesky(cov), (points - mean).T)
        return -0.5 * (centred**2).sum(axis=0) - 0.5 * np.linalg.slogdet(2 * math.pi * cov)[1]

    monte_carlo = np.mean(log_density(draws, mean_p, COV) - log_density(draws, mean_q, cov_q))
    assert variational.kl_gaussians(mean_p, COV, mean_q, cov_q) == pytest.approx(monte_carlo, rel=1e-2)


def test_diagonal_rule_with_expected_curvature_reaches_the_best_diagonal_gaussian():
    """Reference: BFGS on the grid objective over diagonal covariances (log standard deviations)."""
    X, y, penalty = logistic_problem()
    path = variational.diagonal_bayesian_learning_rule(X, y, penalty, np.zeros(2), np.ones(2), learning_rate=1.0,
                                                       n_steps=80, curvature="expected")
    mode, cov = variational.laplace_approximation(X, y, penalty)  # an independent start
    mean_ref, cov_ref = fitted_by_bfgs(X, y, penalty, mode, np.diag(np.diag(cov)), diagonal=True)
    np.testing.assert_allclose(path.means[-1], mean_ref, atol=1e-7)
    np.testing.assert_allclose(path.variances[-1], np.diag(cov_ref), rtol=1e-7)


@pytest.mark.parametrize("curvature", ["empirical", "batch"])
def test_stochastic_diagonal_rules_follow_their_formula(curvature):
    """An explicit loop with the same generator: sample theta ~ q, then the batch, as documented."""
    X, y, penalty = logistic_problem(n_rows=30, n_features=2, seed=2)
    n_rows, n_params = X.shape
    learning_rate, batch_size = 0.1, 8
    path = variational.diagonal_bayesian_learning_rule(X, y, penalty, np.zeros(3), np.full(3, 1 / (n_rows * penalty)),
                                                       learning_rate, 25, curvature=curvature, batch_size=batch_size, rng=7)
    rng = np.random.default_rng(7)
    mean, share, estimates = np.zeros(3), np.zeros(3), []
    for t in range(25):
        rows = rng.choice(n_rows, size=batch_size, replace=False)
        theta = mean + np.sqrt(1 / (n_rows * (share + penalty))) * rng.standard_normal(n_params)
        per_example = (1 / (1 + np.exp(-X[rows] @ theta)) - y[rows])[:, None] * X[rows]
        gradient = per_example.mean(axis=0)
        estimate = (per_example**2).mean(axis=0) if curvature == "empirical" else gradient**2
        estimates.append(estimate)
        share = (1 - learning_rate) * share + learning_rate * estimate
        mean = mean - learning_rate * (gradient + penalty * mean) / (share + penalty)
        np.testing.assert_allclose(path.means[t + 1], mean, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(path.variances[t + 1], 1 / (n_rows * (share + penalty)), rtol=1e-12)
    # From the prior's variance (share 0), the data's share is Adam's running average without its bias correction.
    beta2 = 1 - learning_rate
    running = adam.running_second_moment(np.sqrt(estimates), beta2) * (1 - beta2**25)
    np.testing.assert_allclose(1 / (n_rows * path.variances[-1]) - penalty, running, rtol=1e-10)


def test_precision_stays_positive_definite_from_a_wide_start():
    X, y, penalty = logistic_problem(n_features=2, seed=8)
    path = variational.variational_online_newton(X, y, penalty, np.array([3.0, -3.0, 1.0]), 50.0 * np.eye(3), 0.3, 30)
    assert all(np.linalg.eigvalsh(cov).min() > 0 for cov in path.covs)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: variational.gaussian_expectations(np.zeros(2), np.eye(2), np.ones(4), np.zeros(4), 0.1), "X"),
        (lambda: variational.gaussian_expectations(np.zeros(2), np.eye(2), np.ones((4, 2)), np.full(4, 2.0), 0.1), "y"),
        (lambda: variational.gaussian_expectations(np.zeros(3), np.eye(2), np.ones((4, 2)), np.zeros(4), 0.1), "mean"),
        (lambda: variational.gaussian_expectations(np.zeros(2), -np.eye(2), np.ones((4, 2)), np.zeros(4), 0.1), "cov"),
        (lambda: variational.gaussian_expectations(np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), np.ones((4, 2)), np.zeros(4), 0.1), "cov"),
        (lambda: variational.gaussian_expectations(np.zeros(2), np.eye(2), np.ones((4, 2)), np.zeros(4), 0.0), "penalty"),
        (lambda: variational.gaussian_expectations(np.zeros(2), np.eye(2), np.ones((4, 2)), np.zeros(4), 0.1, n_nodes=0), "n_nodes"),
        (lambda: variational.vi_objective(np.zeros(2), np.eye(3), np.ones((4, 2)), np.zeros(4), 0.1), "cov"),
        (lambda: variational.logistic_posterior_loss(np.zeros(3), np.ones((4, 2)), np.zeros(4), 0.1), "params"),
        (lambda: variational.kl_gaussians(np.zeros(2), np.eye(2), np.zeros(3), np.eye(2)), "mean_q"),
        (lambda: variational.kl_gaussians(np.zeros((2, 2)), np.eye(2), np.zeros(2), np.eye(2)), "mean_p"),
        (lambda: variational.kl_gaussians(np.zeros(2), np.eye(2), np.zeros(2), np.zeros((2, 2))), "cov_q"),
        (lambda: variational.variational_online_newton(np.ones((4, 2)), np.zeros(4), 0.1, np.zeros(2), np.eye(2), 1.5), "learning_rate"),
        (lambda: variational.variational_online_newton(np.ones((4, 2)), np.zeros(4), 0.1, np.zeros(2), np.eye(2), 1.0, -1), "n_steps"),
        (lambda: variational.variational_online_newton(np.ones((4, 2)), np.zeros(4), 0.1, np.zeros(2), np.ones((2, 3))), "cov0"),
        (lambda: variational.variational_online_newton(np.ones((4, 2)), np.zeros(4), 0.1, np.zeros(1), np.eye(2)), "mean0"),
        (lambda: variational.laplace_approximation(np.ones((4, 2)), np.zeros(4), 0.1, tol=0.0), "tol"),
        (lambda: variational.laplace_approximation(np.ones((4, 2)), np.zeros(4), 0.1, max_steps=0), "max_steps"),
        (lambda: variational.diagonal_bayesian_learning_rule(np.ones((4, 2)), np.zeros(4), 0.1, np.zeros(2), -np.ones(2), 0.5, 3), "variance0"),
        (lambda: variational.diagonal_bayesian_learning_rule(np.ones((4, 2)), np.zeros(4), 0.1, np.zeros(2), np.ones(2), 0.5, 3, curvature="hessian"), "curvature"),
        (lambda: variational.diagonal_bayesian_learning_rule(np.ones((4, 2)), np.zeros(4), 0.1, np.zeros(2), np.ones(2), 0.5, 3, batch_size=5, rng=0), "batch_size"),
        (lambda: variational.diagonal_bayesian_learning_rule(np.ones((4, 2)), np.zeros(4), 0.1, np.zeros(2), np.ones(2), 0.5, 3, curvature="batch"), "rng"),
        (lambda: variational.diagonal_bayesian_learning_rule(np.ones((4, 2)), np.zeros(4), 0.1, np.zeros(2), np.ones(2), 0.0, 3), "learning_rate"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
