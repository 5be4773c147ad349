"""The training loops: each update rule against a hand-written reference step, and the bookkeeping.

References: numpy formulas for SGD and Adam, dense damped solves for the natural-gradient
step, explicit Kronecker solves with hand-averaged factors for K-FAC, and counts of the
work done for the cost.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import pytest
from autograd import grad

import natgrad as ng
from natgrad import optimizers as opt
from natgrad.curvature import diagonal_fisher, kfac_factors, kfac_matrix
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


# --- Defaults, running averages and the training loop's bookkeeping ----------------------


def test_adam_defaults_are_kingma_and_ba(problem):
    """Reference: the textbook update with eta = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 (the paper's defaults)."""
    model, params, X, y, _, _ = problem
    adam = opt.adam()
    state, theta = adam.init(params), params.copy()
    m, v, reference = np.zeros_like(params), np.zeros_like(params), params.copy()
    for t in range(1, 3):
        g = batch_grad(model, theta, X, y)
        theta, state, cost = adam.update(model, theta, state, X, y, g, None)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        reference = reference - 1e-3 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(theta, reference, rtol=1e-13, atol=1e-16)
        assert state[0] == t and cost == 0.0
        assert theta.dtype == state[1].dtype == state[2].dtype == np.float64


def test_adam_epsilon_guards_a_zero_gradient(problem):
    """Reference: with g = 0 the moments stay 0 and m_hat / (sqrt(v_hat) + eps) = 0, so theta is unchanged."""
    model, params, X, y, _, _ = problem
    adam = opt.adam(0.1, epsilon=1e-3)
    new, (step, m, v), _ = adam.update(model, params, adam.init(params), X, y, np.zeros_like(params), None)
    np.testing.assert_array_equal(new, params)
    assert step == 1 and not m.any() and not v.any()


def reference_average(batches, decay):
    """Running average with weight min(1 - 1/t, decay) on the past, computed by hand for t = 1, 2, ..."""
    average = None
    for t, batch in enumerate(batches, start=1):
        weight = min(1.0 - 1.0 / t, decay)
        average = batch if average is None else weight * average + (1.0 - weight) * batch
    return average


@pytest.mark.parametrize("factor_decay", [None, 0.8])
def test_kfac_running_factors_use_weight_min_of_one_minus_one_over_t_and_the_decay(problem, factor_decay):
    """Reference: factors of each batch from the same generator, averaged by hand.

    0.8 is below 1 - 1/t from t = 6 on, and the default 0.95 from t = 21 on, so both the plain
    mean of the first steps and the capped weight of the later ones are checked.
    """
    model, params, X, y, _, _ = problem
    settings = {} if factor_decay is None else {"factor_decay": factor_decay}
    kfac = opt.kfac(kl_budget=1e-3, damping=0.1, **settings)
    state = kfac.init(params)
    rng, reference_rng = np.random.default_rng(11), np.random.default_rng(11)
    g = batch_grad(model, params, X[:6], y[:6])
    batches = []
    for _ in range(24):
        _, state, _ = kfac.update(model, params, state, X[:6], y[:6], g, rng)
        batches.append(kfac_factors(model, params, X[:6], kind="monte_carlo", rng=reference_rng))
    count, averages = state
    assert count == 24
    decay = 0.95 if factor_decay is None else factor_decay
    for layer, (A, G) in enumerate(averages):
        np.testing.assert_allclose(A, reference_average([b[layer][0] for b in batches], decay), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(G, reference_average([b[layer][1] for b in batches], decay), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("factor_decay", [None, 0.8])
def test_diagonal_running_average_uses_weight_min_of_one_minus_one_over_t_and_the_decay(problem, factor_decay):
    model, params, X, y, _, _ = problem
    settings = {} if factor_decay is None else {"factor_decay": factor_decay}
    method = opt.diagonal_natural_gradient(kl_budget=1e-3, damping=0.01, n_samples=2, **settings)
    state = method.init(params)
    rng, reference_rng = np.random.default_rng(12), np.random.default_rng(12)
    g = batch_grad(model, params, X[:6], y[:6])
    batches = []
    for _ in range(24):
        new, state, cost = method.update(model, params, state, X[:6], y[:6], g, rng)
        batches.append(diagonal_fisher(model, params, X[:6], kind="monte_carlo", n_samples=2, rng=reference_rng))
        assert cost == 2 * opt.COSTS["curvature_pass"]
    count, average = state
    assert count == 24
    expected = reference_average(batches, 0.95 if factor_decay is None else factor_decay)
    np.testing.assert_allclose(average, expected, rtol=1e-12, atol=1e-15)
    d = g / (expected + 0.01)
    np.testing.assert_allclose(new, params - min(1.0, np.sqrt(2e-3 / (g @ d))) * d, rtol=1e-10)


def test_kfac_with_pi_correction_and_several_samples_matches_the_dense_damped_solve(problem):
    """Reference: a dense solve with kfac_matrix (factored damping with pi) and samples from the same generator."""
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    kfac = opt.kfac(kl_budget=1e-4, damping=0.05, max_step=0.5, n_samples=3)
    new, (count, averages), cost = kfac.update(model, params, kfac.init(params), X, y, g, np.random.default_rng(5))
    factors = kfac_factors(model, params, X, kind="monte_carlo", n_samples=3, rng=np.random.default_rng(5))
    for (A, G), (A_ref, G_ref) in zip(averages, factors):
        np.testing.assert_array_equal(A, A_ref)
        np.testing.assert_array_equal(G, G_ref)
    d = np.linalg.solve(kfac_matrix(factors, 0.05), g)
    alpha = min(0.5, np.sqrt(2e-4 / (g @ d)))
    assert alpha < 0.5  # the budget, not max_step, sets this step
    np.testing.assert_allclose(new, params - alpha * d, rtol=1e-9, atol=1e-13)
    assert count == 1 and cost == 3 * opt.COSTS["curvature_pass"]


@pytest.mark.parametrize("method_name", ["natural", "kfac", "diagonal"])
def test_a_generous_budget_takes_exactly_max_step(problem, method_name):
    """Reference: alpha = max_step when the budget is far above the full step's quadratic model; d from dense solves."""
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    make = {
        "natural": lambda: opt.natural_gradient(10.0, 0.5, cg_iters=100, max_step=0.25),
        "kfac": lambda: opt.kfac(10.0, 0.5, max_step=0.25),
        "diagonal": lambda: opt.diagonal_natural_gradient(10.0, 0.5, max_step=0.25),
    }[method_name]
    method = make()
    new, _, _ = method.update(model, params, method.init(params), X, y, g, np.random.default_rng(3))
    if method_name == "natural":
        d = np.linalg.solve(ng.fisher(model, params, X) + 0.5 * np.eye(model.n_params), g)
    elif method_name == "kfac":
        d = np.linalg.solve(kfac_matrix(kfac_factors(model, params, X, kind="monte_carlo", rng=np.random.default_rng(3)), 0.5), g)
    else:
        d = g / (diagonal_fisher(model, params, X, kind="monte_carlo", rng=np.random.default_rng(3)) + 0.5)
    assert 0.5 * 0.25**2 * (g @ d) < 10.0 < 0.5 * (g @ d) * 1e6
    np.testing.assert_allclose(new, params - 0.25 * d, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("make", [lambda: opt.natural_gradient(1e-3, 0.1), lambda: opt.kfac(1e-3, 0.1), lambda: opt.diagonal_natural_gradient(1e-3, 0.1)])
def test_a_zero_gradient_leaves_the_parameters_unchanged(problem, make):
    """Reference: d = 0 for g = 0, so g^T d = 0 and no step is taken (no division by zero)."""
    model, params, X, y, _, _ = problem
    method = make()
    new, _, _ = method.update(model, params, method.init(params), X, y, np.zeros_like(params), np.random.default_rng(0))
    np.testing.assert_array_equal(new, params)


class Recorder:
    """Wraps an optimizer and records, per update, the batch rows it saw and a copy of the sampling generator."""

    def __init__(self, optimizer, X):
        self.optimizer, self.X = optimizer, X
        self.rows, self.generators = [], []

    def as_optimizer(self):
        def update(model, params, state, X, y, grad, rng):
            self.rows.append([int(np.flatnonzero((self.X == x).all(axis=1))[0]) for x in X])
            self.generators.append(copy.deepcopy(rng))
            return self.optimizer.update(model, params, state, X, y, grad, rng)

        return opt.Optimizer(self.optimizer.method, self.optimizer.init, update)


@pytest.mark.parametrize("batch_size", [6, 8, 10])
def test_train_visits_every_row_once_per_epoch(problem, batch_size):
    """Reference: within an epoch of n // batch_size batches no row repeats; with batch_size | n every row appears once."""
    model, params, X, y, X_test, y_test = problem
    recorder = Recorder(opt.sgd(0.1), X)
    batches_per_epoch = 24 // batch_size
    opt.train(model, recorder.as_optimizer(), params, X, y, X_test, y_test, n_iter=3 * batches_per_epoch, batch_size=batch_size, seed=5)
    epochs = [sum(recorder.rows[e * batches_per_epoch : (e + 1) * batches_per_epoch], []) for e in range(3)]
    for rows in epochs:
        assert len(rows) == batches_per_epoch * batch_size and len(set(rows)) == len(rows)
        if 24 % batch_size == 0:
            assert sorted(rows) == list(range(24))
    assert epochs[0] != epochs[1]  # a new permutation each epoch


@pytest.mark.parametrize(
    "make,extra_cost",
    [
        (lambda: opt.adam(0.05), 0.0),
        (lambda: opt.kfac(1e-2, 0.1, n_samples=2), 2 * opt.COSTS["curvature_pass"]),
        (lambda: opt.diagonal_natural_gradient(1e-2, 0.1), opt.COSTS["curvature_pass"]),
    ],
)
def test_train_drives_adam_kfac_and_diagonal_like_a_manual_loop(problem, make, extra_cost):
    """Reference: the same update applied by hand to the batches train drew, with the same sampling generator.

    Every method sees the same batches for the same seed, and the generator that samples
    labels is neither reset nor replaced between iterations.
    """
    model, params, X, y, X_test, y_test = problem
    recorder = Recorder(make(), X)
    history = opt.train(model, recorder.as_optimizer(), params, X, y, X_test, y_test, n_iter=5, batch_size=8, seed=7)
    sgd_recorder = Recorder(opt.sgd(0.1), X)
    opt.train(model, sgd_recorder.as_optimizer(), params, X, y, X_test, y_test, n_iter=5, batch_size=8, seed=7)
    assert recorder.rows == sgd_recorder.rows
    method = make()
    theta, state = params.copy(), method.init(params)
    if extra_cost:
        draws = [g.random() for g in copy.deepcopy(recorder.generators)]
        assert len(set(draws)) == len(draws)  # the sampling generator advances from one iteration to the next
    for rows, generator in zip(recorder.rows, recorder.generators):
        g = batch_grad(model, theta, X[rows], y[rows])
        theta, state, _ = method.update(model, theta, state, X[rows], y[rows], g, generator)
        assert history.method == method.method
    np.testing.assert_array_equal(history.params, theta)
    assert history.params.dtype == np.float64
    np.testing.assert_array_equal(history.cost, np.arange(6) * (1.0 + extra_cost))
    assert history.test_loss[-1] == pytest.approx(float(ng.cross_entropy(model, theta, X_test, y_test)), rel=1e-12)


def test_train_seeds_its_generators_from_seed(problem):
    """Reference: the same seed gives the same batches and samples; another seed gives other ones."""
    model, params, X, y, X_test, y_test = problem
    runs = {}
    for seed in (0, 0, 1):
        recorder = Recorder(opt.kfac(1e-2, 0.1), X)
        opt.train(model, recorder.as_optimizer(), params, X, y, X_test, y_test, n_iter=2, batch_size=8, seed=seed)
        runs.setdefault(seed, []).append((recorder.rows, [g.random() for g in recorder.generators]))
    assert runs[0][0] == runs[0][1]
    assert runs[0][0][0] != runs[1][0][0] and runs[0][0][1] != runs[1][0][1]
    default = Recorder(opt.kfac(1e-2, 0.1), X)
    opt.train(model, default.as_optimizer(), params, X, y, X_test, y_test, n_iter=2, batch_size=8)
    assert (default.rows, [g.random() for g in default.generators]) == runs[0][0]


def test_natural_gradient_runs_at_most_ten_cg_iterations_and_stops_at_relative_residual_1e_6(problem):
    """Reference: conjugate_gradient on the same damped batch system, with the documented defaults."""
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    fvp = ng.fisher_vector_product(model, params, X)
    for damping in (1e-4, 1.0):
        _, _, cost = opt.natural_gradient(1e-3, damping).update(model, params, None, X, y, g, None)
        expected = ng.conjugate_gradient(fvp, g, damping=damping, tol=1e-6, max_iter=10).n_iter
        assert cost == expected * opt.COSTS["fvp"]
    # With heavy damping the system is well conditioned: CG meets 1e-6 before 10 iterations.
    assert expected < 10
    _, _, cost = opt.natural_gradient(1e-3, 1e-4).update(model, params, None, X, y, g, None)
    assert cost == 10 * opt.COSTS["fvp"]


@pytest.mark.parametrize("method_name", ["natural", "kfac", "diagonal"])
def test_the_default_max_step_is_one(problem, method_name):
    """Reference: with a budget far above the full step's quadratic model, the step is params - 1.0 * d (compare max_step=1)."""
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    make = {"natural": opt.natural_gradient, "kfac": opt.kfac, "diagonal": opt.diagonal_natural_gradient}[method_name]
    default, explicit = make(1e6, 0.5), make(1e6, 0.5, max_step=1.0)
    half = make(1e6, 0.5, max_step=0.5)
    steps = [m.update(model, params, m.init(params), X, y, g, np.random.default_rng(1))[0] for m in (default, explicit, half)]
    np.testing.assert_array_equal(steps[0], steps[1])
    np.testing.assert_allclose(params - steps[2], 0.5 * (params - steps[0]), rtol=1e-12)


def test_train_passes_the_batch_labels_and_records_update_seconds_from_zero(problem):
    """Reference: params0 for the optimizer's init, the labels of the rows in each batch, and the wall-clock
    time of the whole call as an upper bound of the recorded update time."""
    model, params, X, y, X_test, y_test = problem
    seen = []

    def update(model, params, state, X_batch, y_batch, grad, rng):
        seen.append((X_batch.copy(), np.asarray(y_batch).copy()))
        return params, state, 0.0

    initial = []
    started = time.perf_counter()
    history = opt.train(model, opt.Optimizer("sgd", lambda p: initial.append(p.copy()), update), params, X, y, X_test, y_test, n_iter=4, batch_size=5)
    elapsed = time.perf_counter() - started
    for X_batch, y_batch in seen:
        rows = [int(np.flatnonzero((X == x).all(axis=1))[0]) for x in X_batch]
        np.testing.assert_array_equal(y_batch, y[rows])
    assert history.seconds[0] == 0.0
    assert np.all(np.diff(history.seconds) >= 0) and history.seconds[-1] <= elapsed
    assert len(initial) == 1
    np.testing.assert_array_equal(initial[0], params)  # the optimizer's state starts from params0


def test_train_accepts_a_single_test_row(problem):
    """Reference: accuracy on one row is 0 or 1, the loss that row's cross-entropy."""
    model, params, X, y, X_test, y_test = problem
    history = opt.train(model, opt.sgd(0.1), params, X, y, X_test[:1], y_test[:1], n_iter=1, batch_size=4)
    assert history.test_loss[0] == pytest.approx(float(ng.cross_entropy(model, params, X_test[:1], y_test[:1])), rel=1e-14)
    assert history.test_accuracy[0] in (0.0, 1.0)


def test_train_batches_come_from_the_first_of_two_generators_spawned_from_seed(problem):
    """Reference: the permutations of np.random.default_rng(SeedSequence(seed).spawn(2)[0]), one per epoch.

    The chapters' printed numbers depend on this exact stream, so it is part of the contract.
    """
    model, params, X, y, X_test, y_test = problem
    recorder = Recorder(opt.sgd(0.1), X)
    opt.train(model, recorder.as_optimizer(), params, X, y, X_test, y_test, n_iter=6, batch_size=8, seed=4)
    batch_rng = np.random.default_rng(np.random.SeedSequence(4).spawn(2)[0])
    expected = np.concatenate([batch_rng.permutation(24), batch_rng.permutation(24)]).reshape(6, 8)
    np.testing.assert_array_equal(np.array(recorder.rows), expected)


# --- chapter 9: momentum, Levenberg-Marquardt damping, K-FAC with stored inverses


def test_the_cost_model_charges_a_fisher_vector_product_as_one_gradient():
    """The book's one cost model (chapter 4): a product at a stored linearisation costs one gradient."""
    assert opt.COSTS == {"gradient": 1.0, "fvp": 1.0, "curvature_pass": 1.0, "forward": 0.5}


def test_heavy_ball_momentum_matches_a_hand_written_loop(problem):
    model, params, X, y, _, _ = problem
    method = opt.momentum(0.1, momentum=0.8)
    state, theta, velocity, reference = method.init(params), params.copy(), np.zeros_like(params), params.copy()
    for t in range(3):
        rows = slice(8 * t, 8 * t + 8)
        theta, state, cost = method.update(model, theta, state, X[rows], y[rows], batch_grad(model, theta, X[rows], y[rows]), None)
        velocity = 0.8 * velocity + batch_grad(model, reference, X[rows], y[rows])
        reference = reference - 0.1 * velocity
        np.testing.assert_allclose(theta, reference, rtol=1e-13, atol=1e-15)
        assert cost == 0.0


def test_nesterov_momentum_is_sutskevers_look_ahead_in_shifted_coordinates():
    """Reference: v <- mu v - eta grad(theta + mu v), theta <- theta + v (Sutskever et al., 2013) on a
    quadratic; natgrad's iterates are the look-ahead points theta + mu v."""
    rng = np.random.default_rng(3)
    root = rng.normal(size=(4, 4))
    A = root @ root.T + np.eye(4)
    gradient = lambda theta: A @ theta  # noqa: E731
    method = opt.momentum(0.05, momentum=0.9, nesterov=True)
    phi, state = rng.normal(size=4), np.zeros(4)
    theta, v = phi.copy(), np.zeros(4)
    for _ in range(6):
        phi, state, _ = method.update(None, phi, state, None, None, gradient(phi), None)
        v = 0.9 * v - 0.05 * gradient(theta + 0.9 * v)
        theta = theta + v
        np.testing.assert_allclose(phi, theta + 0.9 * v, rtol=1e-12, atol=1e-14)


def test_zero_momentum_is_plain_sgd(problem):
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    for nesterov in (False, True):
        method = opt.momentum(0.3, momentum=0.0, nesterov=nesterov)
        new, _, _ = method.update(model, params, method.init(params), X, y, g, None)
        np.testing.assert_allclose(new, params - 0.3 * g, rtol=1e-15)


def test_lm_natural_gradient_without_adaptation_is_the_fixed_damping_method(problem):
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    fixed, _, fixed_cost = opt.natural_gradient(1e-3, 0.2, cg_iters=4).update(model, params, None, X, y, g, None)
    lm = opt.lm_natural_gradient(1e-3, initial_damping=0.2, cg_iters=4, damping_every=0)
    new, state, cost = lm.update(model, params, lm.init(params), X, y, g, None)
    np.testing.assert_array_equal(new, fixed)
    assert cost == fixed_cost == 4 and state.damping == 0.2 and np.isnan(state.ratio)
    assert (state.count, state.at_cap, state.at_budget) == (1, 0, 1)


@pytest.mark.parametrize("kl_budget", [1e-3, 10.0])
def test_lm_natural_gradient_measures_the_reduction_ratio_against_the_dense_quadratic_model(problem, kl_budget):
    """Reference: M(delta) - M(0) with the dense batch Fisher, the loss change by autograd's loss."""
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    lm = opt.lm_natural_gradient(kl_budget, initial_damping=0.3, cg_iters=5)
    new, state, cost = lm.update(model, params, lm.init(params), X, y, g, None)
    delta = new - params
    F = ng.fisher(model, params, X)
    predicted = g @ delta + 0.5 * delta @ F @ delta
    actual = ng.cross_entropy(model, new, X, y) - ng.cross_entropy(model, params, X, y)
    assert state.ratio == pytest.approx(actual / predicted, rel=1e-8)
    expected = 0.3 * (2 / 3 if state.ratio > 0.75 else 1.5 if state.ratio < 0.25 else 1.0)
    assert state.damping == pytest.approx(expected, rel=1e-15)
    assert cost == 5 * opt.COSTS["fvp"] + opt.COSTS["forward"]
    assert (state.at_cap, state.at_budget) == ((1, 0) if kl_budget == 10.0 else (0, 1))


def test_on_an_exactly_quadratic_loss_the_ratio_is_one_and_the_damping_shrinks():
    """Linear regression with unit-variance Gaussian noise: the loss is quadratic with Hessian F, so rho = 1."""
    model = ng.linear_regression(3, 2)
    rng = np.random.default_rng(9)
    X, Y, params = rng.normal(size=(20, 3)), rng.normal(size=(20, 2)), rng.normal(size=model.n_params)
    g = grad(lambda p: ng.negative_log_likelihood(model, p, X, Y))(params)
    for method in (opt.lm_natural_gradient(1e-2, initial_damping=0.5, cg_iters=3), opt.lm_kfac(1e-2, initial_damping=0.5, damping_every=1)):
        _, state, _ = method.update(model, params, method.init(params), X, Y, g, np.random.default_rng(1))
        assert state.ratio == pytest.approx(1.0, abs=1e-9)
        assert state.damping == pytest.approx(0.5 * 2 / 3, rel=1e-15)


def test_lm_natural_gradient_adapts_only_every_damping_every_iterations(problem):
    model, params, X, y, _, _ = problem
    lm = opt.lm_natural_gradient(1e-3, initial_damping=0.3, cg_iters=2, damping_every=3)
    state, theta, dampings, costs = lm.init(params), params, [], []
    for _ in range(6):
        theta, state, cost = lm.update(model, theta, state, X, y, batch_grad(model, theta, X, y), None)
        dampings.append(state.damping)
        costs.append(cost)
    assert dampings[0] == dampings[1] == 0.3 and dampings[3] == dampings[2] and dampings[4] == dampings[2]
    assert dampings[2] != 0.3
    assert costs == [2, 2, 2.5, 2, 2, 2.5]


def test_lm_kfac_with_fresh_inverses_and_fixed_damping_is_kfac(problem):
    model, params, X, y, _, _ = problem
    kfac, lm = opt.kfac(1e-3, 0.05), opt.lm_kfac(1e-3, initial_damping=0.05, damping_every=0, inverse_every=1)
    state_kfac, state_lm, theta_kfac, theta_lm = kfac.init(params), lm.init(params), params, params
    rng_kfac, rng_lm = np.random.default_rng(2), np.random.default_rng(2)
    for _ in range(3):
        theta_kfac, state_kfac, cost_kfac = kfac.update(model, theta_kfac, state_kfac, X, y, batch_grad(model, theta_kfac, X, y), rng_kfac)
        theta_lm, state_lm, cost_lm = lm.update(model, theta_lm, state_lm, X, y, batch_grad(model, theta_lm, X, y), rng_lm)
        np.testing.assert_allclose(theta_lm, theta_kfac, rtol=1e-9, atol=1e-12)
        assert cost_lm == pytest.approx(cost_kfac + opt.kfac_inverse_cost(model, X.shape[0]), rel=1e-15)


def test_lm_kfac_reuses_the_eigendecomposition_until_the_next_refresh(problem):
    """Reference: a dense solve with the factors of the refresh iteration and the current damping."""
    model, params, X, y, _, _ = problem
    lm = opt.lm_kfac(1e-3, initial_damping=0.05, damping_every=0, inverse_every=3)
    state, theta, rng = lm.init(params), params, np.random.default_rng(6)
    refresh_cost = opt.kfac_inverse_cost(model, X.shape[0])
    for iteration in range(1, 6):
        g = batch_grad(model, theta, X, y)
        new, state, cost = lm.update(model, theta, state, X, y, g, rng)
        if iteration in (1, 4):
            stored = state.averages
            assert cost == pytest.approx(1.0 + refresh_cost, rel=1e-15)
        else:
            assert cost == 1.0
            assert not all(np.array_equal(A, B) for (A, _), (B, _) in zip(stored, state.averages))
        d = np.linalg.solve(kfac_matrix(stored, 0.05), g)
        np.testing.assert_allclose(new, theta - min(1.0, np.sqrt(2e-3 / (g @ d))) * d, rtol=1e-8, atol=1e-12)
        theta = new


def test_lm_kfac_measures_the_ratio_with_the_exact_batch_fisher(problem):
    model, params, X, y, _, _ = problem
    g = batch_grad(model, params, X, y)
    lm = opt.lm_kfac(1e-2, initial_damping=0.4, damping_every=1)
    new, state, cost = lm.update(model, params, lm.init(params), X, y, g, np.random.default_rng(0))
    delta = new - params
    predicted = g @ delta + 0.5 * delta @ ng.fisher(model, params, X) @ delta
    actual = ng.cross_entropy(model, new, X, y) - ng.cross_entropy(model, params, X, y)
    assert state.ratio == pytest.approx(actual / predicted, rel=1e-8)
    assert cost == pytest.approx(1.0 + opt.kfac_inverse_cost(model, X.shape[0]) + 2 * opt.COSTS["forward"], rel=1e-15)


def test_kfac_inverse_cost_counts_nine_n_cubed_per_factor_against_six_b_p_per_gradient():
    model = ng.mlp([3, 4, 3])  # factors of sizes 4 and 4, then 5 and 3; P = 31
    assert opt.kfac_inverse_cost(model, 10) == pytest.approx(9 * (4**3 + 4**3 + 5**3 + 3**3) / (6 * 10 * 31), rel=1e-15)


def test_a_step_with_no_descent_is_not_taken_and_counts_neither_at_cap_nor_at_budget(problem):
    model, params, X, y, _, _ = problem
    for method in (opt.lm_natural_gradient(1e-3), opt.lm_kfac(1e-3)):
        new, state, _ = method.update(model, params, method.init(params), X, y, np.zeros(model.n_params), np.random.default_rng(0))
        np.testing.assert_array_equal(new, params)
        assert (state.at_cap, state.at_budget, state.damping) == (0, 0, 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: opt.momentum(0.0), "learning_rate: expected a finite number > 0, got 0.0"),
        (lambda: opt.momentum(0.1, momentum=1.0), "momentum: expected a number in [0, 1), got 1.0"),
        (lambda: opt.momentum(0.1, momentum=-0.1), "momentum: expected a finite number >= 0, got -0.1"),
        (lambda: opt.momentum(0.1, nesterov=1), "nesterov: expected True or False, got 1"),
        (lambda: opt.lm_natural_gradient(0.0), "kl_budget: expected a finite number > 0, got 0.0"),
        (lambda: opt.lm_natural_gradient(0.1, initial_damping=0.0), "initial_damping: expected a finite number > 0, got 0.0"),
        (lambda: opt.lm_natural_gradient(0.1, cg_iters=0), "cg_iters: expected an integer >= 1, got 0"),
        (lambda: opt.lm_natural_gradient(0.1, max_step=-1.0), "max_step: expected a finite number > 0, got -1.0"),
        (lambda: opt.lm_natural_gradient(0.1, damping_every=-1), "damping_every: expected an integer >= 0 (0: never adapt), got -1"),
        (lambda: opt.lm_kfac(0.1, damping_every=1.5), "damping_every: expected an integer >= 0 (0: never adapt), got 1.5"),
        (lambda: opt.lm_kfac(0.1, inverse_every=0), "inverse_every: expected an integer >= 1, got 0"),
        (lambda: opt.lm_kfac(0.1, factor_decay=1.0), "factor_decay: expected a number in [0, 1), got 1.0"),
        (lambda: opt.lm_kfac(0.1, n_samples=0), "n_samples: expected an integer >= 1, got 0"),
        (lambda: opt.lm_kfac(0.1, pi_correction=None), "pi_correction: expected True or False, got None"),
        (lambda: opt.kfac_inverse_cost("net", 10), "model: expected a natgrad Model (from ng.mlp or a one-layer constructor such as ng.softmax_regression), got str"),
        (lambda: opt.kfac_inverse_cost(ng.mlp([3, 4, 3]), 0), "batch_size: expected an integer >= 1, got 0"),
    ],
)
def test_chapter_9_optimizers_reject_bad_settings_naming_the_argument(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == message
