"""natgrad.variational: the cases that mutation testing found unchecked (tests/MUTATION.md).

References: the univariate Gaussian KL written out, the variational objective assembled from
gaussian_expectations and numpy's slogdet, and the exact error messages of the API contract.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from natgrad import variational

X = np.array([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0], [1.0, 0.0]])
Y = np.array([1.0, 0.0, 1.0, 0.0])
MEAN = np.array([0.2, -0.3])
COV = np.array([[0.5, 0.1], [0.1, 0.3]])


def test_posterior_loss_of_one_row_and_of_one_column():
    """N = 1 and P = 1 are valid designs: log(1 + e^z) - y z + (tau/2) |theta|^2 with z = x theta."""
    theta = np.array([0.3, -0.2])
    z = 1.0 * 0.3 + 2.0 * -0.2
    assert variational.logistic_posterior_loss(theta, [[1.0, 2.0]], [1.0], 0.5) == pytest.approx(np.logaddexp(0, z) - z + 0.25 * 0.13, rel=1e-14)
    column = variational.logistic_posterior_loss([0.4], [[1.0], [-2.0]], [0.0, 1.0], 0.5)
    assert column == pytest.approx(0.5 * (np.logaddexp(0, 0.4) + np.logaddexp(0, -0.8) + 0.8) + 0.25 * 0.16, rel=1e-14)


def test_kl_gaussians_of_one_parameter_is_the_univariate_kl():
    """KL(N(0, 1) || N(1, 2)) = (1/2)(1/2 + 1/2 - 1 + log 2) = log(2) / 2."""
    assert variational.kl_gaussians([0.0], [[1.0]], [1.0], [[2.0]]) == pytest.approx(0.5 * math.log(2.0), rel=1e-14)


def test_vi_objective_uses_the_number_of_nodes_it_is_given():
    """With 3 quadrature nodes the expectation is cruder than with the default 401, and the objective follows it."""
    coarse = variational.gaussian_expectations(MEAN, COV, X, Y, 0.1, n_nodes=3).value
    fine = variational.gaussian_expectations(MEAN, COV, X, Y, 0.1).value
    assert abs(coarse - fine) > 1e-3
    log_det = np.linalg.slogdet(COV)[1]
    assert variational.vi_objective(MEAN, COV, X, Y, 0.1, n_nodes=3) == pytest.approx(coarse - 0.5 * log_det / 4, rel=1e-14)
    assert variational.vi_objective(MEAN, COV, X, Y, 0.1) == pytest.approx(fine - 0.5 * log_det / 4, rel=1e-14)


def test_one_step_of_the_diagonal_rule_with_expected_curvature_follows_its_formula():
    """Reference: gaussian_expectations with cov = diag(variance): h is the diagonal of the expected
    Hessian less the prior's tau, the mean moves by -eta (E[grad L] + tau mu) / (s + tau), with the
    data's share s started at 1/(N sigma_0^2) - tau and averaged with weight eta = 0.5."""
    penalty, rate, variance0 = 0.1, 0.5, np.array([0.3, 0.7])
    path = variational.diagonal_bayesian_learning_rule(X, Y, penalty, MEAN, variance0, rate, 1)
    expectations = variational.gaussian_expectations(MEAN, np.diag(variance0), X, Y, penalty)
    share = (1 - rate) * (1.0 / (4 * variance0) - penalty) + rate * (np.diag(expectations.hessian) - penalty)
    np.testing.assert_allclose(path.means[1], MEAN - rate * expectations.grad / (share + penalty), rtol=1e-12)
    np.testing.assert_allclose(path.variances[1], 1.0 / (4 * (share + penalty)), rtol=1e-12)


def test_a_mini_batch_of_every_row_is_the_full_batch():
    """batch_size = N is allowed; the rows come in another order, so the sums agree to rounding."""
    full = variational.diagonal_bayesian_learning_rule(X, Y, 0.1, MEAN, np.ones(2), 0.5, 3)
    batch = variational.diagonal_bayesian_learning_rule(X, Y, 0.1, MEAN, np.ones(2), 0.5, 3, batch_size=4, rng=0)
    np.testing.assert_allclose(batch.means, full.means, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(batch.variances, full.variances, rtol=1e-12)


def test_variational_online_newton_defaults_to_ten_newton_steps():
    """The defaults are learning_rate = 1 (variational online Newton) and n_steps = 10."""
    default = variational.variational_online_newton(X, Y, 0.1, MEAN, COV)
    explicit = variational.variational_online_newton(X, Y, 0.1, MEAN, COV, learning_rate=1.0, n_steps=10)
    assert default.means.shape == (11, 2)
    np.testing.assert_array_equal(default.means, explicit.means)
    np.testing.assert_array_equal(default.covs, explicit.covs)


def newton(**changes):
    arguments = dict(X=X, y=Y, penalty=0.1, mean0=MEAN, cov0=COV, n_steps=1)
    arguments.update(changes)
    return variational.variational_online_newton(**arguments)


def test_variational_online_newton_uses_the_number_of_nodes_it_is_given():
    """Reference: one step of the rule written out with gaussian_expectations at 3 nodes."""
    step = variational.variational_online_newton(X, Y, 0.1, MEAN, COV, learning_rate=0.5, n_steps=1, n_nodes=3)
    expected = variational.gaussian_expectations(MEAN, COV, X, Y, 0.1, n_nodes=3)
    precision = 0.5 * np.linalg.inv(COV) + 0.5 * 4 * expected.hessian
    cov = np.linalg.inv(precision)
    np.testing.assert_allclose(step.covs[1], cov, rtol=1e-12)
    np.testing.assert_allclose(step.means[1], MEAN - 0.5 * 4 * cov @ expected.grad, rtol=1e-12)


# Five rows on which Newton's method from zero must halve its step three times (steps 13 and 14).
X_HALVING = np.array([[1.0, 53.34, 45.75], [1.0, 4.03, 36.39], [1.0, 17.87, 8.18], [1.0, -48.15, -7.71], [1.0, 29.55, 30.34]])
Y_HALVING = np.array([0.0, 1.0, 1.0, 1.0, 1.0])
PENALTY_HALVING = 8.7e-08


def newton_with_halving(X, y, penalty, tol=1e-12):
    """The documented algorithm written out: Newton from zero, halving a step while the loss rises by
    more than 1e-13 max(|L|, 1) (down to a length of 1e-10), until max |grad| <= tol. Returns the
    mode, the number of steps, the number of halvings of each step and max |grad| after each step."""
    n_rows, n_params = X.shape

    def loss_grad_hessian(theta):
        logits = X @ theta
        probs = 0.5 * (np.tanh(0.5 * logits) + 1.0)
        loss = np.mean(np.logaddexp(0.0, logits) - y * logits) + 0.5 * penalty * theta @ theta
        return loss, X.T @ (probs - y) / n_rows + penalty * theta, (X.T * (probs * (1 - probs))) @ X / n_rows + penalty * np.eye(n_params)

    theta = np.zeros(n_params)
    loss, gradient, hessian = loss_grad_hessian(theta)
    halvings, sizes = [], []
    while np.abs(gradient).max() > tol:
        step, length, count = np.linalg.solve(hessian, gradient), 1.0, 0
        while True:
            candidate = theta - length * step
            new = loss_grad_hessian(candidate)
            if new[0] <= loss + 1e-13 * max(abs(loss), 1.0) or length < 1e-10:
                break
            length, count = length / 2.0, count + 1
        theta, (loss, gradient, hessian) = candidate, new
        halvings.append(count)
        sizes.append(np.abs(gradient).max())
    return theta, len(halvings), halvings, sizes


def test_laplace_mode_halves_the_newton_steps_that_raise_the_loss():
    """The same mode after the same number of steps as the reference, which halves three times;
    one step fewer is not enough."""
    mode_reference, n_steps, halvings, sizes = newton_with_halving(X_HALVING, Y_HALVING, PENALTY_HALVING)
    assert halvings[12:14] == [2, 1] and sum(halvings) == 3 and n_steps == 19
    mode, _ = variational.laplace_approximation(X_HALVING, Y_HALVING, PENALTY_HALVING, max_steps=n_steps)
    np.testing.assert_allclose(mode, mode_reference, rtol=1e-9)
    message = f"max_steps: Newton's method did not reach tol = 1e-12 in {n_steps - 1} steps"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        variational.laplace_approximation(X_HALVING, Y_HALVING, PENALTY_HALVING, max_steps=n_steps - 1)
    # Stopped right after step 13 (halved twice: length 1/4), the mode is the iterate it reached.
    tol = sizes[12] * (1 + 1e-9)
    mode_reference, n_steps, _, _ = newton_with_halving(X_HALVING, Y_HALVING, PENALTY_HALVING, tol=tol)
    assert n_steps == 13
    mode, _ = variational.laplace_approximation(X_HALVING, Y_HALVING, PENALTY_HALVING, tol=tol)
    np.testing.assert_allclose(mode, mode_reference, rtol=1e-10)


def rule(**changes):
    arguments = dict(X=X, y=Y, penalty=0.1, mean0=MEAN, variance0=np.ones(2), learning_rate=0.5, n_steps=2)
    arguments.update(changes)
    return variational.diagonal_bayesian_learning_rule(**arguments)


def test_a_small_asymmetry_of_a_large_covariance_is_accepted():
    cov = np.array([[100.0, 5e-13], [0.0, 100.0]])
    value = variational.gaussian_expectations(MEAN, cov, X, Y, 0.1).value
    assert value == pytest.approx(variational.gaussian_expectations(MEAN, np.diag([100.0, 100.0]), X, Y, 0.1).value, rel=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: variational.logistic_posterior_loss(MEAN, X, Y, 0.0), "penalty: expected a finite number > 0, got 0.0"),
        (lambda: variational.logistic_posterior_loss(np.ones(3), X, Y, 0.1), "params: expected a flat vector of length 2, got shape (3,)"),
        (lambda: variational.kl_gaussians([np.nan, 0.0], COV, MEAN, COV), "mean_p: expected finite values, found NaN or inf"),
        (lambda: variational.kl_gaussians(np.ones((2, 1)), COV, MEAN, COV), "mean_p: expected a flat vector, got shape (2, 1)"),
        (lambda: variational.kl_gaussians(np.ones(0), COV, MEAN, COV), "mean_p: expected a flat vector, got shape (0,)"),
        (lambda: variational.kl_gaussians(MEAN, COV, np.ones(3), COV), "mean_q: expected a flat vector of length 2, got shape (3,)"),
        (lambda: variational.kl_gaussians(MEAN, np.eye(3), MEAN, COV), "cov_p: expected a (2, 2) covariance matrix, got shape (3, 3)"),
        (lambda: variational.kl_gaussians(MEAN, COV, MEAN, np.eye(3)), "cov_q: expected a (2, 2) covariance matrix, got shape (3, 3)"),
        (lambda: variational.vi_objective(MEAN, COV, np.full((4, 2), np.nan), Y, 0.1), "X: expected finite values, found NaN or inf"),
        (lambda: variational.logistic_posterior_loss(MEAN, np.ones(4), Y, 0.1), "X: expected a 2-D design matrix (N, P) with N, P >= 1, got shape (4,)"),
        (lambda: variational.logistic_posterior_loss(MEAN, np.ones((0, 2)), Y[:0], 0.1), "X: expected a 2-D design matrix (N, P) with N, P >= 1, got shape (0, 2)"),
        (lambda: variational.logistic_posterior_loss(np.ones(0), np.ones((4, 0)), Y, 0.1), "X: expected a 2-D design matrix (N, P) with N, P >= 1, got shape (4, 0)"),
        (lambda: variational.logistic_posterior_loss(MEAN, X, Y[:3], 0.1), "y: expected a flat vector of length 4, got shape (3,)"),
        (lambda: variational.logistic_posterior_loss(MEAN, X, [0.0, 1.0, 2.0, 0.0], 0.1), "y: expected binary labels, each 0 or 1"),
        (lambda: newton(penalty=0.0), "penalty: expected a finite number > 0, got 0.0"),
        (lambda: newton(mean0=np.zeros(3)), "mean0: expected a flat vector of length 2, got shape (3,)"),
        (lambda: newton(cov0=np.eye(3)), "cov0: expected a (2, 2) covariance matrix, got shape (3, 3)"),
        (lambda: newton(n_steps=-1), "n_steps: expected an integer >= 0, got -1"),
        (lambda: newton(n_nodes=0), "n_nodes: expected an integer >= 1, got 0"),
        (lambda: newton(learning_rate=0), "learning_rate: expected a finite number > 0, got 0"),
        (lambda: variational.gaussian_expectations(MEAN, COV, X, Y, 0.1, n_nodes=0), "n_nodes: expected an integer >= 1, got 0"),
        (lambda: variational.gaussian_expectations(MEAN, COV, X, Y, 0.1, n_nodes=2), "n_nodes: expected at least 3 nodes, got 2"),
        (lambda: variational.gaussian_expectations(MEAN, COV, X, Y, -0.1), "penalty: expected a finite number > 0, got -0.1"),
        (lambda: variational.gaussian_expectations(np.ones(3), COV, X, Y, 0.1), "mean: expected a flat vector of length 2, got shape (3,)"),
        (lambda: variational.gaussian_expectations(MEAN, np.eye(3), X, Y, 0.1), "cov: expected a (2, 2) covariance matrix, got shape (3, 3)"),
        (lambda: variational.gaussian_expectations(MEAN, np.full((2, 2), np.nan), X, Y, 0.1), "cov: expected finite values, found NaN or inf"),
        # asymmetric by 1e-9: beyond rtol = 1e-12 (allclose's default rtol 1e-5 and atol 1e-8 would pass it)
        (lambda: variational.gaussian_expectations(MEAN, [[1.0, 0.5], [0.5 + 1e-9, 1.0]], X, Y, 0.1), "cov: expected a symmetric matrix"),
        # atol is 1e-14 times the largest entry: 1e-16 off a zero entry of 1e-4 I is too much, 5e-13 off one of 100 I is not
        (lambda: variational.gaussian_expectations(MEAN, [[1e-4, 1e-16], [0.0, 1e-4]], X, Y, 0.1), "cov: expected a symmetric matrix"),
        (lambda: variational.laplace_approximation(X, Y, 0.0), "penalty: expected a finite number > 0, got 0.0"),
        (lambda: variational.laplace_approximation(X, Y, 0.1, tol=-1.0), "tol: expected a finite number > 0, got -1.0"),
        (lambda: variational.laplace_approximation(X, Y, 0.1, max_steps=0), "max_steps: expected an integer >= 1, got 0"),
        # a tolerance no float64 gradient reaches: the default of 100 steps runs out
        (lambda: variational.laplace_approximation(X, Y, 0.1, tol=1e-300), "max_steps: Newton's method did not reach tol = 1e-300 in 100 steps"),
        (lambda: rule(penalty=-1.0), "penalty: expected a finite number > 0, got -1.0"),
        (lambda: rule(mean0=np.zeros(3)), "mean0: expected a flat vector of length 2, got shape (3,)"),
        (lambda: rule(variance0=np.ones(3)), "variance0: expected a flat vector of length 2, got shape (3,)"),
        (lambda: rule(variance0=np.array([1.0, 0.0])), "variance0: expected positive variances"),
        (lambda: rule(n_steps=-1), "n_steps: expected an integer >= 0, got -1"),
        (lambda: rule(curvature="hessian"), "curvature: expected one of 'expected', 'empirical', 'batch', got 'hessian'"),
        (lambda: rule(batch_size=0, rng=0), "batch_size: expected an integer >= 1, got 0"),
        (lambda: rule(batch_size=5, rng=0), "batch_size: expected at most N = 4 rows, got 5"),
        (lambda: rule(n_nodes=0), "n_nodes: expected an integer >= 1, got 0"),
    ],
)
def test_exact_messages(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()
