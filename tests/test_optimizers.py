"""The training loops: each update rule against a hand-written reference step, and the bookkeeping.

References: numpy formulas for SGD and Adam, dense damped solves for the natural-gradient
step, explicit Kronecker solves with hand-averaged factors for K-FAC, and counts of the
work done for the cost.
"""

from __future__ import annotations

import numpy as np
import pytest
from autograd import grad

import natgrad as ng
from natgrad import optimizers as opt
from natgrad.curvature import diagonal_fisher, kfac_factors
from tests.helpers import make_data, random_params


@pytest.fixture
def problem():
    """tanh MLP 3-4-3 (P = 31) with 24 training and 12 test rows."""
    model = ng.mlp([3, 4, 3])
    X, y = make_data(36, 3, 3, seed=31)
    params = random_params(model, seed=32, scale=0.6)
    return model, params, X[:24], y[:24], X[24:], y[24:]


def batch_grad(model, params, X, y):
    return grad(lambda p: ng.cross_entropy(model, p, X, y))(params)


def test_sgd_update_is_a_gradient_step(problem):
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    sgd = opt.sgd(0.3)
    new, _, cost = sgd.update(model, params, sgd.init(params), X, y, g, None)
    np.testing.assert_allclose(new, params - 0.3 * g)
    assert cost == 0.0


def test_adam_matches_the_textbook_update_for_three_steps(problem):
    model, params, X, y, _, _ = problem
    adam = opt.adam(0.01, beta1=0.8, beta2=0.9, epsilon=1e-6)
    state, theta = adam.init(params), params.copy()
    m, v, reference = np.zeros_like(params), np.zeros_like(params), params.copy()
    for t in range(1, 4):
        rows = slice(8 * (t - 1), 8 * t)
        theta, state, _ = adam.update(model, theta, state, X[rows], y[rows], batch_grad(model, theta, X[rows], y[rows]), None)
        g = batch_grad(model, reference, X[rows], y[rows])
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g * g
        reference = reference - 0.01 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.9**t)) + 1e-6)
        np.testing.assert_allclose(theta, reference, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kl_budget", [1e-4, 10.0])
def test_natural_update_is_the_budgeted_damped_natural_step(problem, kl_budget):
    """With enough CG iterations: alpha = min(1, sqrt(2 eps / g^T d)), d = (F + lambda I)^{-1} g (dense)."""
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    damping = 0.05
    d = np.linalg.solve(ng.fisher(model, params, X) + damping * np.eye(model.n_params), g)
    alpha = min(1.0, np.sqrt(2 * kl_budget / (g @ d)))
    natural = opt.natural_gradient(kl_budget, damping, cg_iters=200)
    new, _, cost = natural.update(model, params, None, X, y, g, None)
    # CG stops at relative residual 1e-6, so agreement is to about 1e-6 times the condition number.
    np.testing.assert_allclose(new, params - alpha * d, rtol=1e-4, atol=1e-5)
    step = new - params
    quadratic_kl = 0.5 * step @ (ng.fisher(model, params, X) @ step + damping * step)
    assert quadratic_kl <= kl_budget * (1 + 1e-6)
    if alpha < 1:
        assert quadratic_kl == pytest.approx(kl_budget, rel=1e-5)
    assert cost % opt.COSTS["fvp"] == 0 and 0 < cost <= 200 * opt.COSTS["fvp"]


def test_natural_update_with_few_cg_iterations_still_meets_the_quadratic_budget(problem):
    """g^T x_k = x_k^T (F + lambda I) x_k for CG iterates, so the budget holds for truncated solves too."""
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    new, _, cost = opt.natural_gradient(1e-3, 1e-3, cg_iters=3).update(model, params, None, X, y, g, None)
    step = new - params
    quadratic_kl = 0.5 * step @ (ng.fisher(model, params, X) @ step + 1e-3 * step)
    assert quadratic_kl == pytest.approx(1e-3, rel=1e-8)
    assert cost == 3 * opt.COSTS["fvp"]


def test_kfac_update_averages_factors_and_solves_the_kronecker_system(problem):
    model, params, X, y, _, _ = problem
    kfac = opt.kfac(kl_budget=10.0, damping=0.1, factor_decay=0.5, pi_correction=False)
    state = kfac.init(params)
    rng, reference_rng = np.random.default_rng(4), np.random.default_rng(4)
    theta = params
    averages = None
    for t in range(1, 4):
        g = batch_grad(model, theta, X, y)
        new, state, cost = kfac.update(model, theta, state, X, y, g, rng)
        batch = kfac_factors(model, theta, X, kind="monte_carlo", rng=reference_rng)
        weight = min(1 - 1 / t, 0.5)
        averages = batch if averages is None else [(weight * A0 + (1 - weight) * A1, weight * G0 + (1 - weight) * G1) for (A0, G0), (A1, G1) in zip(averages, batch)]
        blocks = [np.kron(A + np.sqrt(0.1) * np.eye(len(A)), G + np.sqrt(0.1) * np.eye(len(G))) for A, G in averages]
        M = np.zeros((model.n_params, model.n_params))
        start = 0
        for block in blocks:
            M[start : start + len(block), start : start + len(block)] = block
            start += len(block)
        d = np.linalg.solve(M, g)
        alpha = min(1.0, np.sqrt(2 * 10.0 / (g @ d)))
        np.testing.assert_allclose(new, theta - alpha * d, rtol=1e-8, atol=1e-12)
        assert cost == opt.COSTS["curvature_pass"]
        theta = new


def test_diagonal_update_divides_by_the_running_diagonal(problem):
    model, params, X, y, _, _ = problem
    method = opt.diagonal_natural_gradient(kl_budget=1e-3, damping=0.01)
    g = batch_grad(model, params, X, y)
    new, (count, average), _ = method.update(model, params, method.init(params), X, y, g, np.random.default_rng(8))
    diagonal = diagonal_fisher(model, params, X, kind="monte_carlo", rng=np.random.default_rng(8))
    np.testing.assert_allclose(average, diagonal)
    d = g / (diagonal + 0.01)
    np.testing.assert_allclose(new, params - min(1.0, np.sqrt(2e-3 / (g @ d))) * d)
    assert count == 1


def test_train_records_every_iteration_and_counts_cost(problem):
    model, params, X, y, X_test, y_test = problem
    history = opt.train(model, opt.natural_gradient(0.01, 0.01, cg_iters=4), params, X, y, X_test, y_test, n_iter=5, batch_size=8)
    assert history.method == "natural"
    for series in (history.iterations, history.cost, history.seconds, history.train_loss, history.test_loss, history.test_accuracy):
        assert series.shape == (6,)
    assert history.train_loss[0] == pytest.approx(float(ng.cross_entropy(model, params, X, y)))
    assert history.test_accuracy[0] == pytest.approx(np.mean(np.argmax(model.logits(params, X_test), axis=1) == y_test))
    increments = np.diff(history.cost)
    assert np.all(increments >= 1 + opt.COSTS["fvp"]) and np.all(increments <= 1 + 4 * opt.COSTS["fvp"])
    assert np.all(np.diff(history.seconds) >= 0)
    sgd_history = opt.train(model, opt.sgd(0.1), params, X, y, X_test, y_test, n_iter=5, batch_size=8)
    np.testing.assert_array_equal(sgd_history.cost, np.arange(6.0))


def test_train_is_deterministic_and_sgd_matches_a_manual_loop(problem):
    model, params, X, y, X_test, y_test = problem
    first = opt.train(model, opt.sgd(0.2), params, X, y, X_test, y_test, n_iter=7, batch_size=10, seed=3)
    second = opt.train(model, opt.sgd(0.2), params, X, y, X_test, y_test, n_iter=7, batch_size=10, seed=3)
    np.testing.assert_array_equal(first.params, second.params)
    np.testing.assert_array_equal(first.test_loss, second.test_loss)
    # Full-batch SGD visits the rows in a different order each epoch, but the mean gradient is the same.
    full = opt.train(model, opt.sgd(0.2), params, X, y, X_test, y_test, n_iter=3, batch_size=24)
    theta = params.copy()
    for _ in range(3):
        theta = theta - 0.2 * batch_grad(model, theta, X, y)
    np.testing.assert_allclose(full.params, theta, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(full.train_loss[-1], ng.cross_entropy(model, theta, X, y), rtol=1e-10)


def test_first_reaching_finds_the_first_record_at_or_above_the_target(problem):
    model, params, X, y, X_test, y_test = problem
    history = opt.train(model, opt.sgd(0.5), params, X, y, X_test, y_test, n_iter=10, batch_size=8)
    target = float(np.max(history.test_accuracy))
    index = history.first_reaching(target)
    assert history.test_accuracy[index] == target and np.all(history.test_accuracy[:index] < target)
    assert history.first_reaching(1.01) is None


def test_accuracy_counts_correct_argmax_predictions():
    model = ng.softmax_regression(2, 3)
    params = model.flatten([(np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), np.zeros(3))])
    X = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [2.0, 0.0]])
    assert opt.accuracy(model, params, X, np.array([0, 1, 2, 1])) == 0.75


def test_bad_inputs_raise_value_errors_naming_the_argument(problem):
    model, params, X, y, X_test, y_test = problem
    with pytest.raises(ValueError, match="learning_rate"):
        opt.sgd(0.0)
    with pytest.raises(ValueError, match="beta2"):
        opt.adam(beta2=1.0)
    with pytest.raises(ValueError, match="kl_budget"):
        opt.natural_gradient(-1.0, 0.1)
    with pytest.raises(ValueError, match="cg_iters"):
        opt.natural_gradient(0.1, 0.1, cg_iters=0)
    with pytest.raises(ValueError, match="factor_decay"):
        opt.kfac(0.1, 0.1, factor_decay=1.0)
    with pytest.raises(ValueError, match="damping"):
        opt.diagonal_natural_gradient(0.1, -0.1)
    with pytest.raises(ValueError, match="optimizer"):
        opt.train(model, "sgd", params, X, y, X_test, y_test, n_iter=1, batch_size=4)
    with pytest.raises(ValueError, match="batch_size"):
        opt.train(model, opt.sgd(0.1), params, X, y, X_test, y_test, n_iter=1, batch_size=25)
    with pytest.raises(ValueError, match="y_test"):
        opt.train(model, opt.sgd(0.1), params, X, y, X_test, y_test[:-1], n_iter=1, batch_size=4)
    with pytest.raises(ValueError, match="X_test"):
        opt.train(model, opt.sgd(0.1), params, X, y, X_test[:, :2], y_test, n_iter=1, batch_size=4)
    with pytest.raises(ValueError, match="n_iter"):
        opt.train(model, opt.sgd(0.1), params, X, y, X_test, y_test, n_iter=0, batch_size=4)
