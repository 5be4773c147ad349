"""The Fisher information matrix: exact, empirical, Monte-Carlo and matrix-free.

References: autograd Hessians of model_kl at coincidence, explicit loops over rows and
classes of autograd Jacobians of an independently written log-softmax, a Kronecker
closed form for softmax regression, and central finite differences.
"""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import natgrad as ng
from natgrad.fisher import output_factors
from tests.helpers import (
    central_difference,
    make_data,
    probabilities,
    random_params,
    reference_log_softmax,
    reference_logits,
)


def rel_frobenius(A, B):
    """||A - B||_F / ||B||_F."""
    return np.linalg.norm(A - B) / np.linalg.norm(B)


def kl_hessian(model, params, X):
    """autograd.hessian of q -> model_kl(model, params, q, X) at q = params."""
    return autograd.hessian(lambda q: ng.model_kl(model, params, q, X))(params)


def score_covariance(model, params, X):
    """(1/N) sum_n sum_c p_nc s_nc s_nc^T with s_nc = grad_theta log p(c | x_n), one row at a time."""
    P = model.n_params
    F = np.zeros((P, P))
    for n in range(X.shape[0]):
        x = X[n : n + 1]
        jac = autograd.jacobian(lambda theta: reference_log_softmax(reference_logits(model, theta, x))[0])(params)
        p = probabilities(reference_logits(model, params, x))[0]
        for c in range(model.n_classes):
            F += p[c] * np.outer(jac[c], jac[c])
    return F / X.shape[0]


def per_example_grad_outer(model, params, X, y):
    """(1/N) sum_n g_n g_n^T with g_n = grad_theta log p(y_n | x_n), one row at a time."""
    P = model.n_params
    F = np.zeros((P, P))
    for n in range(X.shape[0]):
        x = X[n : n + 1]
        g = autograd.grad(lambda theta: reference_log_softmax(reference_logits(model, theta, x))[0, y[n]])(params)
        F += np.outer(g, g)
    return F / X.shape[0]


# ---------------------------------------------------------------- exact Fisher


def test_exact_fisher_equals_hessian_of_model_kl(any_problem):
    """Reference: autograd.hessian of model_kl in params_q at params_q = params_p
    (softmax regression, tanh MLP and sigmoid MLP with two hidden layers)."""
    model, params, X, _ = any_problem
    F = ng.fisher(model, params, X)
    H = kl_hessian(model, params, X)
    assert F.shape == (model.n_params, model.n_params)
    assert F.dtype == np.float64
    np.testing.assert_allclose(F, H, rtol=1e-9, atol=1e-12 * np.abs(H).max())


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_exact_fisher_equals_hessian_deep_mlp(activation):
    """Reference: autograd.hessian of model_kl for a 4-layer MLP 2-3-3-3-3 (P = 45)."""
    model = ng.mlp([2, 3, 3, 3, 3], activation=activation)
    X, _ = make_data(7, 2, 3, seed=11)
    params = random_params(model, seed=12, scale=1.3)
    H = kl_hessian(model, params, X)
    np.testing.assert_allclose(ng.fisher(model, params, X), H, rtol=1e-9, atol=1e-12 * np.abs(H).max())


def test_exact_fisher_is_covariance_of_score(any_problem):
    """Reference: explicit loop over rows and classes, sum_c p_c s_c s_c^T with s_c rows of
    autograd.jacobian of a hand-written log-softmax(logits)."""
    model, params, X, _ = any_problem
    np.testing.assert_allclose(ng.fisher(model, params, X), score_covariance(model, params, X), rtol=1e-9, atol=1e-13)


def test_softmax_regression_fisher_kronecker_closed_form(softmax_problem):
    """Reference: F = mean_n kron([x_n,1][x_n,1]^T, diag(p_n) - p_n p_n^T) for the
    layout W.ravel() (index i*C + c) followed by b (index n_features*C + c)."""
    model, params, X, _ = softmax_problem
    W = params[: 3 * 4].reshape(3, 4)
    b = params[3 * 4 :]
    probs = probabilities(X @ W + b)
    ref = np.zeros((model.n_params, model.n_params))
    for x, p in zip(X, probs):
        xt = np.append(x, 1.0)
        ref += np.kron(np.outer(xt, xt), np.diag(p) - np.outer(p, p))
    ref /= X.shape[0]
    np.testing.assert_allclose(ng.fisher(model, params, X), ref, rtol=1e-12, atol=1e-15)


def test_exact_fisher_single_row_has_rank_at_most_classes_minus_one(tanh_problem):
    """Reference: one row gives J^T H J with rank(H) = C - 1, checked via numpy matrix_rank."""
    model, params, X, _ = tanh_problem
    F = ng.fisher(model, params, X[:1])
    assert np.linalg.matrix_rank(F, tol=1e-10 * np.abs(F).max()) == model.n_classes - 1
    np.testing.assert_allclose(F, kl_hessian(model, params, X[:1]), rtol=1e-9, atol=1e-13)


def test_fisher_is_mean_over_rows(tanh_problem):
    """Reference: fisher on all rows equals the average of fisher on each half (sizes weighted)."""
    model, params, X, _ = tanh_problem
    F_all = ng.fisher(model, params, X)
    F_a, F_b = ng.fisher(model, params, X[:4]), ng.fisher(model, params, X[4:])
    np.testing.assert_allclose(F_all, (4 * F_a + 6 * F_b) / 10, rtol=1e-12, atol=1e-15)


def test_exact_fisher_symmetric_psd(any_problem):
    """Reference: F == F.T exactly and numpy eigvalsh >= -1e-12 * max|F|."""
    model, params, X, _ = any_problem
    F = ng.fisher(model, params, X)
    np.testing.assert_allclose(F, F.T, rtol=0, atol=1e-15 * np.abs(F).max())
    assert np.linalg.eigvalsh(F).min() >= -1e-12 * np.abs(F).max()


def test_softmax_fisher_null_space_is_logit_shift(softmax_problem):
    """Reference: the vector adding c_i to every class of row i (W and b) is in the null space."""
    model, params, X, _ = softmax_problem
    F = ng.fisher(model, params, X)
    rng = np.random.default_rng(0)
    shift = np.repeat(rng.normal(size=4), 4)  # rows of [W; b] each get one constant
    assert np.linalg.norm(F @ shift) < 1e-14 * np.linalg.norm(F) * np.linalg.norm(shift)


# ---------------------------------------------------------------- empirical Fisher


def test_empirical_fisher_is_mean_of_gradient_outer_products(any_problem):
    """Reference: explicit mean over rows of grad log p(y_n|x_n) grad log p(y_n|x_n)^T via autograd.grad."""
    model, params, X, y = any_problem
    F_emp = ng.fisher(model, params, X, kind="empirical", y=y)
    np.testing.assert_allclose(F_emp, per_example_grad_outer(model, params, X, y), rtol=1e-9, atol=1e-13)


def test_empirical_fisher_differs_from_exact_away_from_optimum(tanh_problem):
    """Reference: exact Fisher; at random params with random labels the relative Frobenius gap is large."""
    model, params, X, y = tanh_problem
    F = ng.fisher(model, params, X)
    F_emp = ng.fisher(model, params, X, kind="empirical", y=y)
    assert rel_frobenius(F_emp, F) > 0.5


# ---------------------------------------------------------------- Monte-Carlo Fisher


def test_monte_carlo_fisher_error_falls_like_inverse_sqrt_samples(softmax_problem):
    """Reference: exact Fisher; mean relative error over 12 seeds at n=16 vs n=1024 has ratio ~ sqrt(64) = 8."""
    model, params, X, _ = softmax_problem
    F = ng.fisher(model, params, X)

    def mean_error(n):
        return np.mean([rel_frobenius(ng.fisher(model, params, X, "monte_carlo", n_samples=n, rng=seed), F) for seed in range(12)])

    ratio = mean_error(16) / mean_error(1024)
    assert 4.0 < ratio < 16.0, ratio


def test_monte_carlo_fisher_mean_over_seeds_approaches_exact(sigmoid_problem):
    """Reference: exact Fisher; averaging more single-sample MC Fishers shrinks the error (~1/sqrt(S))."""
    model, params, X, _ = sigmoid_problem
    F = ng.fisher(model, params, X)
    draws = [ng.fisher(model, params, X, kind="monte_carlo", n_samples=1, rng=np.random.default_rng(s)) for s in range(256)]
    single = np.mean([rel_frobenius(D, F) for D in draws[:16]])
    err_16 = rel_frobenius(np.mean(draws[:16], axis=0), F)
    err_256 = rel_frobenius(np.mean(draws, axis=0), F)
    assert err_256 < err_16 < single
    assert err_256 < 0.25 * single  # expected ~ single / 16


def test_monte_carlo_fisher_is_psd_and_reproducible(tanh_problem):
    """Reference: same seed (int or Generator) -> identical matrix; eigvalsh >= -1e-12 scale."""
    model, params, X, _ = tanh_problem
    a = ng.fisher(model, params, X, kind="monte_carlo", n_samples=3, rng=5)
    b = ng.fisher(model, params, X, kind="monte_carlo", n_samples=3, rng=np.random.default_rng(5))
    c = ng.fisher(model, params, X, kind="monte_carlo", n_samples=3, rng=6)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    np.testing.assert_allclose(a, a.T, atol=1e-15 * np.abs(a).max())
    assert np.linalg.eigvalsh(a).min() >= -1e-12 * np.abs(a).max()


@pytest.mark.parametrize("problem", ["tanh_problem", "softmax_problem"])
def test_monte_carlo_fisher_default_rng_is_seed_zero(problem, request):
    """Reference: the documented default, a Generator seeded with 0, and the default n_samples = 1."""
    model, params, X, _ = request.getfixturevalue(problem)
    default = ng.fisher(model, params, X, kind="monte_carlo")
    np.testing.assert_array_equal(default, ng.fisher(model, params, X, kind="monte_carlo", n_samples=1, rng=np.random.default_rng(0)))
    assert not np.allclose(default, ng.fisher(model, params, X, kind="monte_carlo", rng=1))


def test_output_factors_monte_carlo_default_draws_one_label_per_row():
    """Reference: (e_y - p) / sqrt(S) with S = 1 by default, so each factor is e_y - p for a label y in range(K)."""
    probs = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    factors = output_factors(probs, "monte_carlo", rng=np.random.default_rng(0))
    assert factors.shape == (2, 1, 3)
    labels = np.argmax(factors[:, 0, :] + probs, axis=1)
    np.testing.assert_allclose(factors[:, 0, :], np.eye(3)[labels] - probs, rtol=0, atol=1e-15)


def test_output_factors_put_round_off_mass_beyond_the_cumulative_sum_on_the_last_class():
    """Reference: labels stay in range(K). Probabilities that sum to 1 - 1e-3 (a round-off deficit made large)
    leave about 1e-3 of the uniform draws above the last cumulative sum; they must count as the last class."""
    probs = np.array([[0.5, 0.499]])
    factors = output_factors(probs, "monte_carlo", n_samples=20_000, rng=np.random.default_rng(1))
    labels = np.argmax(factors[0] * np.sqrt(20_000) + probs, axis=1)
    assert set(labels.tolist()) == {0, 1}
    assert np.sum(labels == 1) > np.sum(labels == 0) * 0.9


def test_monte_carlo_fisher_certain_model_samples_its_argmax():
    """Reference: empirical Fisher at y = argmax. When the model is numerically certain of one
    class (p = 1 - 2e-26), every sampled label is that class; any other label would put O(1)
    entries into the matrix, whereas here all entries are ~1e-52."""
    model = ng.softmax_regression(2, 3)
    X, _ = make_data(6, 2, 3, seed=0)
    params = np.concatenate([np.zeros(6), [0.0, 60.0, 0.0]])
    y = np.ones(6, dtype=int)
    F_mc = ng.fisher(model, params, X, kind="monte_carlo", n_samples=4, rng=0)
    F_emp = ng.fisher(model, params, X, kind="empirical", y=y)
    assert np.abs(F_mc).max() < 1e-40
    np.testing.assert_allclose(F_mc, F_emp, rtol=1e-10, atol=0)


def test_monte_carlo_labels_follow_model_probabilities():
    """Reference: the model's own p. With x = 0 only the bias block survives and equals
    (1/S) sum_s (e_ys - p)(e_ys - p)^T, whose diagonal gives the label frequencies
    f_c = (D_cc - p_c^2) / (1 - 2 p_c); they must match p within 5 binomial standard errors."""
    model = ng.softmax_regression(1, 3)
    b = np.array([0.5, -0.7, 1.0])
    params = np.concatenate([[0.3, -0.2, 0.1], b])
    p = probabilities(b)
    S = 20000
    F_mc = ng.fisher(model, params, np.zeros((1, 1)), kind="monte_carlo", n_samples=S, rng=np.random.default_rng(123))
    D = np.diag(F_mc)[3:]
    freq = (D - p**2) / (1 - 2 * p)
    assert freq.sum() == pytest.approx(1.0, rel=1e-9, abs=0)
    np.testing.assert_array_less(np.abs(freq - p), 5 * np.sqrt(p * (1 - p) / S))
    # The weight block is zero because the input is zero.
    np.testing.assert_array_equal(F_mc[:3], 0.0)


# ---------------------------------------------------------------- matrix-free products


def test_fisher_vector_product_matches_dense(any_problem):
    """Reference: dense fisher(...) @ v for several random v."""
    model, params, X, _ = any_problem
    F = ng.fisher(model, params, X)
    fvp = ng.fisher_vector_product(model, params, X)
    rng = np.random.default_rng(3)
    for _ in range(3):
        v = rng.normal(size=model.n_params)
        np.testing.assert_allclose(fvp(v), F @ v, rtol=1e-10, atol=1e-13 * np.linalg.norm(F @ v))


def test_fisher_vector_product_recovers_dense_columns(sigmoid_problem):
    """Reference: dense Fisher; applying the product to each basis vector rebuilds it."""
    model, params, X, _ = sigmoid_problem
    fvp = ng.fisher_vector_product(model, params, X)
    cols = np.column_stack([fvp(e) for e in np.eye(model.n_params)])
    np.testing.assert_allclose(cols, ng.fisher(model, params, X), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- differentiability


def test_grad_through_exact_fisher_matches_finite_differences(tanh_problem):
    """Reference: central finite differences of sum(F**2) in params."""
    model, params, X, _ = tanh_problem
    f = lambda p: anp.sum(ng.fisher(model, p, X) ** 2)  # noqa: E731
    g = autograd.grad(f)(params)
    np.testing.assert_allclose(g, central_difference(f, params, h=1e-5), rtol=1e-6, atol=1e-9 * np.abs(g).max())


def test_grad_through_empirical_fisher_matches_finite_differences(sigmoid_problem):
    """Reference: central finite differences of sum(F_emp * M) for a fixed random M."""
    model, params, X, y = sigmoid_problem
    M = np.random.default_rng(0).normal(size=(model.n_params, model.n_params))
    f = lambda p: anp.sum(ng.fisher(model, p, X, kind="empirical", y=y) * M)  # noqa: E731
    g = autograd.grad(f)(params)
    np.testing.assert_allclose(g, central_difference(f, params, h=1e-5), rtol=1e-6, atol=1e-9 * np.abs(g).max())


def test_differentiable_fisher_equals_plain_fisher(softmax_problem):
    """Reference: the value computed inside autograd (boxed path) equals the plain-numpy value."""
    model, params, X, _ = softmax_problem
    seen = {}

    def f(p):
        F = ng.fisher(model, p, X)
        seen["F"] = F._value if hasattr(F, "_value") else F
        return anp.sum(F)

    autograd.grad(f)(params)
    np.testing.assert_allclose(seen["F"], ng.fisher(model, params, X), rtol=1e-14, atol=1e-16)
