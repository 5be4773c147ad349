"""Chapter 9: Fisher scoring, Gauss-Newton, Adam's second moment, the natural policy gradient, mirror descent.

References are independent of the code under test: autograd Hessians and gradients of
hand-written losses, scikit-learn's LogisticRegression, explicit loops, closed forms
(diag(p) - p p^T, the centred reward vector) and the KL Hessian at coincidence.
"""

from __future__ import annotations

import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import natgrad as ng
from natgrad import family
from tests.helpers import make_data, probabilities, random_params


def binary_problem(n_rows=40, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(n_rows, 2)), np.ones(n_rows)])
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-X @ np.array([1.0, -2.0, 0.5])))).astype(float)
    return X, y


def binary_nll(theta, X, y):
    """Mean negative log-likelihood of logistic regression, written with autograd.numpy."""
    z = anp.dot(X, theta)
    return anp.mean(anp.logaddexp(0.0, z) - y * z)


# ---------------------------------------------------------------- IRLS and Fisher scoring


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_irls_step_is_the_newton_step(seed):
    """Reference: theta - H^{-1} g with H and g from autograd on the hand-written NLL."""
    X, y = binary_problem(seed=seed)
    theta = np.random.default_rng(seed + 10).normal(size=3)
    g = autograd.grad(binary_nll)(theta, X, y)
    H = autograd.hessian(binary_nll)(theta, X, y)
    np.testing.assert_allclose(family.irls_step(theta, X, y), theta - np.linalg.solve(H, g), rtol=1e-10, atol=1e-12)


def test_irls_step_is_weighted_least_squares_of_the_working_response():
    """Reference: lstsq of sqrt(w) z on sqrt(w) X, with z = X theta + (y - p) / w."""
    X, y = binary_problem(seed=3)
    theta = np.array([0.2, -0.4, 0.1])
    p = 1 / (1 + np.exp(-X @ theta))
    w = p * (1 - p)
    z = X @ theta + (y - p) / w
    expected = np.linalg.lstsq(np.sqrt(w)[:, None] * X, np.sqrt(w) * z, rcond=None)[0]
    np.testing.assert_allclose(family.irls_step(theta, X, y), expected, rtol=1e-10, atol=1e-12)


def test_irls_step_with_a_duplicated_column_is_the_minimum_norm_newton_step():
    """Reference: the IRLS step of the design without the copy, solved with numpy.linalg.solve;
    with column 2 duplicated, X^T D X is singular, the steps that fit are those whose two copies
    sum to the reduced step, and the minimum-norm one splits it equally."""
    X, y = binary_problem(seed=5)
    X_dup = np.column_stack([X[:, 0], X[:, 1], X[:, 1], X[:, 2]])
    theta = np.array([0.3, -0.2, -0.4, 0.1])
    reduced = np.array([theta[0], theta[1] + theta[2], theta[3]])
    p = 1 / (1 + np.exp(-X @ reduced))
    step = np.linalg.solve(X.T @ ((p * (1 - p))[:, None] * X), X.T @ (y - p))
    expected = theta + np.array([step[0], step[1] / 2, step[1] / 2, step[2]])
    np.testing.assert_allclose(family.irls_step(theta, X_dup, y), expected, rtol=1e-9, atol=1e-12)


def test_irls_iterations_reach_the_maximum_likelihood_estimate():
    """Reference: scikit-learn's unpenalised fit (C = inf) with the intercept column dropped."""
    from sklearn.linear_model import LogisticRegression

    X, y = binary_problem(n_rows=80, seed=4)
    theta = np.zeros(3)
    for _ in range(12):
        theta = family.irls_step(theta, X, y)
    fit = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-12, max_iter=1000).fit(X[:, :2], y)
    np.testing.assert_allclose(theta, np.append(fit.coef_[0], fit.intercept_[0]), atol=1e-7)


def test_l2_weight_mask_marks_weights_not_biases():
    model = ng.mlp([3, 4, 2])
    expected = np.concatenate([np.ones(12), np.zeros(4), np.ones(8), np.zeros(2)])
    np.testing.assert_array_equal(family.l2_weight_mask(model), expected)


def test_penalized_cross_entropy_is_sklearn_objective_over_cn(softmax_problem):
    """Reference: (C sum_n loss_n + 1/2 ||W||^2) / (C N), written out with numpy."""
    model, params, X, y = softmax_problem
    C = 0.7
    W = params[: 3 * 4].reshape(3, 4)
    logits = X @ W + params[12:]
    losses = -np.log(probabilities(logits)[np.arange(len(y)), y])
    expected = (C * losses.sum() + 0.5 * np.sum(W**2)) / (C * len(y))
    assert np.isclose(family.penalized_cross_entropy(model, params, X, y, 1 / (C * len(y))), expected, rtol=1e-12)


def test_penalized_fisher_is_hessian_for_softmax_regression(softmax_problem):
    """Reference: autograd Hessian of the penalised loss (canonical link: F = H)."""
    model, params, X, y = softmax_problem
    penalty = 0.05
    H = autograd.hessian(lambda p: family.penalized_cross_entropy(model, p, X, y, penalty))(params)
    np.testing.assert_allclose(family.penalized_fisher(model, params, X, penalty), H, atol=1e-12)


def test_fisher_scoring_matches_sklearn_multinomial():
    """Reference: LogisticRegression(C) fitted by newton-cg with a tight tolerance."""
    from sklearn.linear_model import LogisticRegression

    X, y = make_data(60, 3, 4, seed=7)
    model = ng.softmax_regression(3, 4)
    C = 0.5
    path = family.fisher_scoring(model, np.zeros(model.n_params), X, y, 1 / (C * len(y)), n_steps=12)
    [(W, b)] = model.unflatten(path[-1])
    fit = LogisticRegression(C=C, solver="newton-cg", tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(W.T, fit.coef_, atol=1e-7)
    np.testing.assert_allclose(b - b.mean(), fit.intercept_ - fit.intercept_.mean(), atol=1e-7)
    assert path.shape == (13, model.n_params)


def test_fisher_scoring_keeps_the_mean_of_the_biases(softmax_problem):
    """The minimum-norm solve never moves along the null direction 'all output biases + c'."""
    model, params, X, y = softmax_problem
    path = family.fisher_scoring(model, params, X, y, 0.1, n_steps=3)
    biases = path[:, -model.n_classes :]
    np.testing.assert_allclose(biases.mean(axis=1), params[-model.n_classes :].mean(), atol=1e-12)


# ---------------------------------------------------------------- Gauss-Newton


def test_gauss_newton_of_cross_entropy_is_the_fisher(tanh_problem):
    """Reference: ng.fisher (built from the categorical Fisher, not from the loss Hessian)."""
    model, params, X, y = tanh_problem

    def loss_of_logits(z):
        return -anp.mean(ng.log_softmax(z)[np.arange(len(y)), y])

    G = family.gauss_newton(lambda p: model.logits(p, X), loss_of_logits, params)
    np.testing.assert_allclose(G, ng.fisher(model, params, X), atol=1e-12)


def test_gauss_newton_of_linear_model_is_the_hessian(softmax_problem):
    """Reference: the autograd Hessian of the loss; logits linear in params, so the residual term is zero."""
    model, params, X, y = softmax_problem

    def loss_of_logits(z):
        return -anp.mean(ng.log_softmax(z)[np.arange(len(y)), y])

    G = family.gauss_newton(lambda p: model.logits(p, X), loss_of_logits, params)
    H = autograd.hessian(lambda p: ng.cross_entropy(model, p, X, y))(params)
    np.testing.assert_allclose(G, H, atol=1e-12)


def test_gauss_newton_of_squared_error_is_the_gaussian_fisher():
    """Reference: the Hessian of the mean KL between Gaussians N(z(theta), s^2) at coincidence."""
    model = ng.mlp([2, 3, 2])
    X, _ = make_data(7, 2, 2, seed=5)
    params = random_params(model, seed=6)
    targets = np.random.default_rng(8).normal(size=(7, 2))
    sigma = 0.7

    def squared_error(z):
        return anp.mean(anp.sum((targets - z) ** 2, axis=1)) / (2 * sigma**2)

    def kl(q):
        mean_p, mean_q = model.logits(params, X), model.logits(q, X)
        return anp.mean(anp.sum((mean_p - mean_q) ** 2, axis=1)) / (2 * sigma**2)

    G = family.gauss_newton(lambda p: model.logits(p, X), squared_error, params)
    np.testing.assert_allclose(G, autograd.hessian(kl)(params), atol=1e-12)


# ---------------------------------------------------------------- Adam and RMSprop


def test_running_second_moment_matches_the_explicit_sum():
    """Reference: sum_t (1 - b) b^(T - t) g_t^2 / (1 - b^T)."""
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(30, 4))
    beta2 = 0.9
    weights = (1 - beta2) * beta2 ** np.arange(29, -1, -1)
    expected = (weights[:, None] * grads**2).sum(axis=0) / (1 - beta2**30)
    np.testing.assert_allclose(family.running_second_moment(grads, beta2), expected, rtol=1e-12)


def test_running_second_moment_of_constant_gradients_is_their_square():
    """Bias correction makes a constant sequence average to itself exactly."""
    g = np.array([0.5, -2.0, 3.0])
    np.testing.assert_allclose(family.running_second_moment(np.tile(g, (5, 1)), 0.999), g**2, rtol=1e-9)


def test_running_second_moment_converges_to_the_empirical_fisher_diagonal():
    """Batches of one example drawn uniformly: the average tends to diag(F_emp) (law of large numbers)."""
    rng = np.random.default_rng(1)
    per_example = rng.normal(size=(10, 3)) * np.array([1.0, 3.0, 0.2])
    draws = per_example[rng.integers(0, 10, size=200_000)]
    v = family.running_second_moment(draws, beta2=0.99999)
    np.testing.assert_allclose(v, (per_example**2).mean(axis=0), rtol=0.03)


def test_running_second_moment_default_beta2_single_batch_and_no_memory():
    """Reference: v_T / (1 - beta2^T) by hand, with the documented default beta2 = 0.999; T = 1 gives g^2 and beta2 = 0 the last g^2."""
    grads = np.array([[1.0, -2.0], [3.0, 0.5]])
    v = 0.999 * (0.001 * grads[0] ** 2) + 0.001 * grads[1] ** 2
    np.testing.assert_allclose(family.running_second_moment(grads), v / (1 - 0.999**2), rtol=1e-13)
    np.testing.assert_allclose(family.running_second_moment(grads[:1], beta2=0.5), grads[0] ** 2, rtol=1e-15)
    np.testing.assert_allclose(family.running_second_moment(grads, beta2=0.0), grads[1] ** 2, rtol=1e-15)


def test_adam_direction_default_eps_and_zero_second_moment():
    """Reference: g / (sqrt(v) + 1e-8); an entry with v = 0 is allowed and gives g / eps."""
    g, v = np.array([2.0, -1.0]), np.array([4.0, 0.0])
    np.testing.assert_allclose(family.adam_direction(g, v), [2.0 / (2.0 + 1e-8), -1e8], rtol=1e-15)

@given(
    arrays(np.float64, 5, elements=st.floats(-10, 10)).filter(lambda g: np.all(np.abs(g) > 1e-3)),
    st.floats(1e-2, 1e2),
)
def test_adam_direction_ignores_the_scale_of_the_loss(g, c):
    """g -> c g and v -> c^2 v leave g / sqrt(v) unchanged (eps = 0)."""
    v = g**2 + 1.0
    np.testing.assert_allclose(family.adam_direction(c * g, c**2 * v, eps=0.0), family.adam_direction(g, v, eps=0.0), rtol=1e-12)


def test_adam_direction_formula():
    g, v = np.array([1.0, -4.0]), np.array([4.0, 1.0])
    np.testing.assert_allclose(family.adam_direction(g, v, eps=0.5), [1 / 2.5, -4 / 1.5])


# ---------------------------------------------------------------- bandit


REWARDS = np.array([0.7, 0.5, 0.3, 0.2, 1.0])
LOGITS = np.array([2.0, 1.0, 0.0, 0.0, -2.0])


def test_policy_gradient_matches_autograd():
    reference = autograd.grad(lambda t: anp.dot(REWARDS, anp.exp(t) / anp.sum(anp.exp(t))))(LOGITS)
    np.testing.assert_allclose(family.policy_gradient(LOGITS, REWARDS), reference, rtol=1e-12)
    assert np.isclose(family.expected_reward(LOGITS, REWARDS), REWARDS @ probabilities(LOGITS))


def test_policy_fisher_is_the_kl_hessian_and_singular():
    """Reference: Hessian of KL(p || softmax(t)) at t = logits, hand-written KL."""

    def kl(t):
        p = probabilities(LOGITS)
        log_q = t - anp.log(anp.sum(anp.exp(t)))
        return anp.sum(p * (anp.log(p) - log_q))

    F = family.policy_fisher(LOGITS)
    np.testing.assert_allclose(F, autograd.hessian(kl)(LOGITS), atol=1e-12)
    np.testing.assert_allclose(F @ np.ones(5), 0.0, atol=1e-15)


def test_natural_policy_gradient_steps_along_centred_rewards_with_budgeted_kl():
    """Every step is alpha (r - mean r) with 1/2 alpha^2 Var_p(r) = budget (the quadratic KL model)."""
    budget = 0.02
    path = family.natural_policy_gradient(LOGITS, REWARDS, budget, n_steps=6)
    centred = REWARDS - REWARDS.mean()
    for before, after in zip(path[:-1], path[1:]):
        step = after - before
        alpha = step @ centred / (centred @ centred)
        np.testing.assert_allclose(step, alpha * centred, atol=1e-12)
        p = probabilities(before)
        variance = p @ REWARDS**2 - (p @ REWARDS) ** 2
        assert alpha > 0 and np.isclose(0.5 * alpha**2 * variance, budget, rtol=1e-9)


def test_natural_policy_gradient_true_kl_close_to_budget_for_small_budgets():
    """The true KL matches the budget to second order: the relative error shrinks with the budget."""
    errors = []
    for budget in [1e-2, 1e-4]:
        path = family.natural_policy_gradient(np.zeros(5), REWARDS, budget, n_steps=1)
        errors.append(abs(family.step_kls(path)[0] / budget - 1))
    assert errors[1] < 0.2 * errors[0]


def saturated_policies(n_policies=1500, seed=42):
    """Logits anywhere in [-40, 40], and a few corners: policies from uniform to deterministic within 1e-35."""
    rng = np.random.default_rng(seed)
    policies = [rng.uniform(-40.0, 40.0, size=5) for _ in range(n_policies)]
    return policies + [np.array(c, dtype=float) for c in ([40, -40, 0, 0, -40], [-40, 40, 40, 0, 40], [40, 39, -40, -40, -40])]


def test_policy_fisher_and_gradient_keep_full_relative_accuracy_on_saturated_policies():
    """Reference: the same formulas summed exactly (math.fsum) from the same probabilities:
    F_kk = p_k * sum_{j != k} p_j and g_k = p_k * sum_j p_j (r_k - r_j). Written as p_k - p_k^2 and
    p_k (r_k - p^T r), the entries of the likely arm cancel and lose all their digits once
    1 - p_max < 1e-16, which puts the round-off eigenvalue of the null vector 1 at up to 0.6
    omega_max; here it stays at round-off, below 1e-15 omega_max."""
    for logits in saturated_policies():
        p = ng.softmax(logits)  # the same probabilities: this checks the formulas built on them
        F, g = family.policy_fisher(logits), family.policy_gradient(logits, REWARDS)
        diagonal = np.array([p[k] * math.fsum(np.delete(p, k)) for k in range(5)])
        gradient = p * np.array([math.fsum(p * (reward - REWARDS)) for reward in REWARDS])
        np.testing.assert_allclose(np.diag(F), diagonal, rtol=1e-13, atol=0)
        np.testing.assert_allclose(F - np.diag(np.diag(F)), -np.outer(p, p) + np.diag(p * p), rtol=1e-15, atol=0)
        np.testing.assert_allclose(g, gradient, rtol=1e-13, atol=0)
        omega = np.linalg.eigvalsh(F)
        null_eigenvalue = (np.ones(5) @ F @ np.ones(5)) / 5
        assert abs(null_eigenvalue) <= 1e-15 * omega.max(), logits


def test_bandit_natural_direction_is_the_centred_reward_vector_at_logits_up_to_40():
    """Reference: the closed form F^+ g = r - mean(r) 1 of chapter 9 (for every policy), through
    family.policy_gradient, family.policy_fisher and ng.natural_direction, at 2000 policies whose
    logits reach magnitude 40: a common shift of up to 31 plus a spread of up to 18 nats between
    arms (beyond about 20 nats the smallest genuine eigenvalue, about e^-spread omega_max, falls
    below what float64 resolves; the next test covers those policies). The old code (p - p^2
    and lstsq) missed by up to 45 times the length of the answer."""
    rng = np.random.default_rng(43)
    centred = REWARDS - REWARDS.mean()
    worst = 0.0
    for _ in range(2000):
        logits = rng.uniform(-9.0, 9.0, size=5) + rng.uniform(-31.0, 31.0)
        d = ng.natural_direction(family.policy_gradient(logits, REWARDS), family.policy_fisher(logits))
        worst = max(worst, np.linalg.norm(d - centred) / np.linalg.norm(centred))
    assert worst < 1e-8, worst


def test_bandit_natural_step_is_exact_at_saturated_policies():
    """Reference: Var_p(r) by exact summation. At logits anywhere in [-40, 40] the quadratic KL
    model and the gain of the natural direction, which set the natural step, equal those of
    the closed form r - mean(r) 1 (both are Var_p(r)) to 1e-10, and the direction is no longer
    than the closed form."""
    centred = REWARDS - REWARDS.mean()
    for logits in saturated_policies(seed=44):
        F, g = family.policy_fisher(logits), family.policy_gradient(logits, REWARDS)
        p = probabilities(logits)
        variance = math.fsum(p * (REWARDS - math.fsum(p * REWARDS)) ** 2)
        d = ng.natural_direction(g, F)
        assert np.linalg.norm(d) <= 1.01 * np.linalg.norm(centred), logits
        assert g @ d == pytest.approx(variance, rel=1e-10), logits
        assert d @ F @ d == pytest.approx(variance, rel=1e-10), logits


def test_natural_policy_gradient_is_the_closed_form_up_to_a_deterministic_policy():
    """Reference: step t is sqrt(2 epsilon / Var_{p_t}(r)) (r - mean(r) 1), with Var by exact
    summation: chapter 9's run (26 steps, budget 0.01) until 1 - p(best arm) is 3e-5. Its last
    step has length 8.20; the old code printed 25.65, most of it along the null vector."""
    budget = 0.01
    path = family.natural_policy_gradient(LOGITS, REWARDS, budget, n_steps=26)
    centred = REWARDS - REWARDS.mean()
    for before, after in zip(path[:-1], path[1:]):
        p = probabilities(before)
        variance = math.fsum(p * (REWARDS - math.fsum(p * REWARDS)) ** 2)
        np.testing.assert_allclose(after - before, np.sqrt(2 * budget / variance) * centred, rtol=1e-7)
    assert np.linalg.norm(path[-1] - path[-2]) == pytest.approx(8.20, abs=0.005)
    assert 1 - probabilities(path[-1])[-1] == pytest.approx(3.0e-5, rel=0.02)


def test_vanilla_policy_gradient_matches_a_loop_and_step_kls_match_the_definition():
    path = family.vanilla_policy_gradient(LOGITS, REWARDS, 0.5, n_steps=4)
    theta = LOGITS.copy()
    for t in range(4):
        p = probabilities(theta)
        theta = theta + 0.5 * p * (REWARDS - p @ REWARDS)
        np.testing.assert_allclose(path[t + 1], theta, rtol=1e-12)
    p, q = probabilities(path[:-1]), probabilities(path[1:])
    np.testing.assert_allclose(family.step_kls(path), np.sum(p * np.log(p / q), axis=1), rtol=1e-8, atol=1e-15)


# ---------------------------------------------------------------- mirror descent


THETA = np.array([0.3, -1.2, 0.8])


def test_categorical_maps_are_gradients_and_inverse():
    """mean = grad A, natural = grad A*, each the inverse of the other; Fenchel equality A + A* = theta . mu."""
    mu = family.categorical_mean(THETA)
    np.testing.assert_allclose(mu, autograd.grad(family.categorical_log_partition)(THETA), rtol=1e-12)
    np.testing.assert_allclose(family.categorical_natural(mu), THETA, rtol=1e-12)
    np.testing.assert_allclose(autograd.grad(family.categorical_negative_entropy)(mu), THETA, rtol=1e-10)
    assert np.isclose(family.categorical_log_partition(THETA) + family.categorical_negative_entropy(mu), THETA @ mu)


def test_categorical_log_partition_hessian_is_the_fisher():
    """Reference: diag(mu) - mu mu^T for the minimal parametrisation, and positive definite."""
    mu = probabilities(np.append(THETA, 0.0))[:-1]
    H = autograd.hessian(family.categorical_log_partition)(THETA)
    np.testing.assert_allclose(H, np.diag(mu) - np.outer(mu, mu), atol=1e-14)
    assert np.linalg.eigvalsh(H).min() > 0


def test_categorical_log_partition_is_stable_for_large_parameters():
    assert np.isclose(family.categorical_log_partition(np.array([800.0, 0.0])), 800.0)


def test_the_smallest_families_are_accepted():
    """Reference: closed forms for K = 2. A two-armed bandit has J = r^T softmax(theta); the categorical
    family with one natural parameter is the Bernoulli, mean sigm(theta), log-partition log(1 + e^theta)."""
    logits, rewards = np.array([0.4, -0.3]), np.array([1.0, 3.0])
    p = probabilities(logits)
    assert family.expected_reward(logits, rewards) == pytest.approx(p @ rewards, rel=1e-14)
    np.testing.assert_allclose(family.policy_fisher(logits), np.diag(p) - np.outer(p, p), rtol=1e-14)
    theta = np.array([0.7])
    np.testing.assert_allclose(family.categorical_mean(theta), [1 / (1 + np.exp(-0.7))], rtol=1e-14)
    assert family.categorical_log_partition(theta) == pytest.approx(np.log1p(np.exp(0.7)), rel=1e-14)
    mu = np.array([0.25])
    assert family.categorical_negative_entropy(mu) == pytest.approx(0.25 * np.log(0.25) + 0.75 * np.log(0.75), rel=1e-14)
    np.testing.assert_allclose(family.categorical_natural(mu), [np.log(1 / 3)], rtol=1e-14)


@pytest.mark.parametrize("n_steps", [0, 3])
def test_paths_have_one_row_per_step_plus_the_start(n_steps):
    """Reference: the documented shape (n_steps + 1, P), row 0 the start."""
    for path in (
        family.natural_policy_gradient(LOGITS, REWARDS, 0.01, n_steps),
        family.vanilla_policy_gradient(LOGITS, REWARDS, 0.1, n_steps),
        family.mirror_descent(lambda x: x, LOGITS, lambda x: x, lambda x: x, 0.1, n_steps),
    ):
        assert path.shape == (n_steps + 1, LOGITS.size)
        np.testing.assert_array_equal(path[0], LOGITS)


def test_mirror_descent_with_euclidean_map_is_gradient_descent():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(3, 3))
    A = A @ A.T + np.eye(3)

    def grad_fn(x):
        return A @ x - 1.0

    path = family.mirror_descent(grad_fn, np.zeros(3), lambda x: x, lambda x: x, 0.1, 5)
    x = np.zeros(3)
    for t in range(5):
        x = x - 0.1 * grad_fn(x)
        np.testing.assert_allclose(path[t + 1], x, rtol=1e-12)


@pytest.mark.parametrize("learning_rate", [0.1, 0.5, 1.0])
def test_mirror_descent_on_mean_parameters_is_natural_gradient_descent(learning_rate):
    """Reference: theta_{t+1} = theta_t - eta (diag(mu) - mu mu^T)^{-1} grad_theta L, written out."""
    q = np.array([0.1, 0.2, 0.3, 0.4])

    def loss_natural(theta):
        return family.categorical_log_partition(theta) - anp.dot(q[:-1], theta)

    md = family.mirror_descent(
        autograd.grad(lambda mu: loss_natural(family.categorical_natural(mu))),
        family.categorical_mean(THETA),
        family.categorical_natural,
        family.categorical_mean,
        learning_rate,
        8,
    )
    theta = THETA.copy()
    for t in range(8):
        mu = probabilities(np.append(theta, 0.0))[:-1]
        theta = theta - learning_rate * np.linalg.solve(np.diag(mu) - np.outer(mu, mu), mu - q[:-1])
        np.testing.assert_allclose(family.categorical_natural(md[t + 1]), theta, atol=1e-12)


# ---------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: family.irls_step(np.zeros(3), np.ones(5), np.zeros(5)), "X"),
        (lambda: family.irls_step(np.zeros(2), np.ones((4, 3)), np.zeros(4)), "params"),
        (lambda: family.irls_step(np.zeros(3), np.ones((4, 3)), np.array([0, 1, 2, 0])), "y"),
        (lambda: family.penalized_fisher(ng.softmax_regression(2, 3), np.zeros(9), np.zeros((4, 2)), -1.0), "penalty"),
        (lambda: family.l2_weight_mask("model"), "model"),
        (lambda: family.running_second_moment(np.ones(3)), "batch_grads"),
        (lambda: family.running_second_moment(np.ones((2, 3)), beta2=1.0), "beta2"),
        (lambda: family.adam_direction(np.ones(3), -np.ones(3)), "second_moment"),
        (lambda: family.adam_direction(np.ones(3), np.ones(2)), "second_moment"),
        (lambda: family.policy_gradient(np.zeros(3), np.zeros(4)), "rewards"),
        (lambda: family.policy_fisher(np.zeros(1)), "logits"),
        (lambda: family.natural_policy_gradient(np.zeros(3), np.ones(3), 0.0, 2), "kl_budget"),
        (lambda: family.vanilla_policy_gradient(np.zeros(3), np.ones(3), 1.0, -1), "n_steps"),
        (lambda: family.step_kls(np.zeros((1, 3))), "path"),
        (lambda: family.categorical_natural(np.array([0.6, 0.5])), "mean"),
        (lambda: family.categorical_log_partition(np.array([np.nan])), "natural"),
        (lambda: family.mirror_descent(None, np.zeros(2), abs, abs, 0.1, 1), "grad_fn"),
        (lambda: family.mirror_descent(abs, np.zeros(2), abs, abs, 0.0, 1), "learning_rate"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
