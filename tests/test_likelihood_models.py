"""Models with each output likelihood: loss, KL, every kind of Fisher, the product, the diagonal and K-FAC.

References, independent of natgrad's likelihood code: a hand-written forward pass
(tests.helpers.reference_logits) with textbook densities written here; autograd Hessians of
the model KL at theta' = theta; explicit J^T Lambda J from autograd Jacobians of the outputs and
autograd Hessians of the row loss in the outputs; score covariances by enumerating every
Bernoulli outcome; per-example autograd gradients; autograd's own forward- and reverse-mode
products; closed forms for the one-layer models; and seeded Monte-Carlo convergence.
"""

from __future__ import annotations

import itertools

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import make_jvp, make_vjp

import natgrad as ng
from natgrad.curvature import diagonal_fisher, kfac_direction, kfac_factors
from natgrad.likelihoods import get
from tests.helpers import central_difference, forward_with_shift, layer_blocks, reference_logits

NAMES = ["categorical", "bernoulli", "gaussian"]
ARCHITECTURES = ["one_layer", "tanh", "sigmoid"]


def make_problem(likelihood: str, architecture: str, n_rows: int = 9, seed: int = 0):
    """A small model (P < 60) with ``likelihood``, random params and targets of the likelihood's form."""
    sizes = {"one_layer": [3, 3], "tanh": [3, 5, 3], "sigmoid": [2, 4, 3, 3]}[architecture]
    activation = "sigmoid" if architecture == "sigmoid" else "tanh"
    model = ng.mlp(sizes, activation=activation, likelihood=likelihood)
    rng = np.random.default_rng(seed + 100 * ARCHITECTURES.index(architecture))
    X = rng.normal(size=(n_rows, sizes[0]))
    params = 0.9 * rng.normal(size=model.n_params)
    K = sizes[-1]
    if likelihood == "categorical":
        y = rng.integers(0, K, size=n_rows)
    elif likelihood == "bernoulli":
        y = rng.random((n_rows, K))
        y[:2] = rng.integers(0, 2, size=(2, K))  # some exact 0/1 targets next to intensities
    else:
        y = 1.5 * rng.normal(size=(n_rows, K))
    return model, params, X, y


@pytest.fixture(params=[(name, arch) for name in NAMES for arch in ARCHITECTURES], ids=lambda p: f"{p[0]}-{p[1]}")
def problem(request):
    return make_problem(*request.param)


@pytest.fixture(params=[(name, arch) for name in ("bernoulli", "gaussian") for arch in ARCHITECTURES], ids=lambda p: f"{p[0]}-{p[1]}")
def new_problem(request):
    """Only the likelihoods added to the first edition's categorical one."""
    return make_problem(*request.param)


def reference_log_likelihood(likelihood, z, y):
    """log p(y | z) for one row z (K,), from the textbook densities (autograd.numpy; moderate z)."""
    if likelihood == "categorical":
        return z[y] - anp.log(anp.sum(anp.exp(z)))
    if likelihood == "bernoulli":
        p = 1.0 / (1.0 + anp.exp(-z))
        return anp.sum(y * anp.log(p) + (1.0 - y) * anp.log(1.0 - p))
    return anp.sum(-0.5 * (y - z) ** 2) - 0.5 * z.shape[0] * anp.log(2 * anp.pi)


def reference_row_kl(likelihood, zp, zq):
    if likelihood == "categorical":
        lp, lq = zp - anp.log(anp.sum(anp.exp(zp))), zq - anp.log(anp.sum(anp.exp(zq)))
        return anp.sum(anp.exp(lp) * (lp - lq))
    if likelihood == "bernoulli":
        p, q = 1.0 / (1.0 + anp.exp(-zp)), 1.0 / (1.0 + anp.exp(-zq))
        return anp.sum(p * anp.log(p / q) + (1 - p) * anp.log((1 - p) / (1 - q)))
    return 0.5 * anp.sum((zp - zq) ** 2)


def reference_lambda(likelihood, z):
    """Lambda_n = autograd.hessian in z of -log p(y | z) for an arbitrary target (it does not depend on it)."""
    y = 0 if likelihood == "categorical" else np.full(z.shape, 0.3)
    return autograd.hessian(lambda r: -reference_log_likelihood(likelihood, r, y))(z)


def row_jacobian(model, params, x):
    return autograd.jacobian(lambda theta: reference_logits(model, theta, x[None])[0])(params)


def gauss_newton(model, params, X):
    """(1/N) sum_n J_n^T Lambda_n J_n, every piece from autograd and the textbook densities."""
    total = np.zeros((model.n_params, model.n_params))
    for x in X:
        J = row_jacobian(model, params, x)
        total += J.T @ reference_lambda(model.likelihood, reference_logits(model, params, x[None])[0]) @ J
    return total / len(X)


def kl_hessian(model, params, X):
    return autograd.hessian(lambda q: ng.model_kl(model, params, q, X))(params)


def scale(M):
    return max(np.abs(M).max(), 1e-300)


# ---------------------------------------------------------------- constructors and defaults


def test_categorical_is_the_default_everywhere():
    """Reference: the first edition's constructors and an explicit likelihood='categorical'."""
    assert ng.mlp([3, 4, 2]).likelihood == "categorical"
    assert ng.mlp([3, 4, 2]) == ng.mlp([3, 4, 2], likelihood="categorical") == ng.Model((3, 4, 2))
    assert ng.softmax_regression(3, 4) == ng.Model((3, 4), "tanh", "categorical")
    assert ng.Model((3, 4)).likelihood == "categorical"


def test_one_layer_constructors():
    """Reference: one affine layer with the named likelihood and (n_features + 1) * n_outputs parameters."""
    for build, name in ((ng.logistic_regression, "bernoulli"), (ng.linear_regression, "gaussian")):
        model = build(4, 2)
        assert (model.layer_sizes, model.likelihood, model.n_params, model.n_outputs) == ((4, 2), name, 10, 2)
        assert build(3).layer_sizes == (3, 1)
    assert ng.mlp([3, 1], likelihood="bernoulli").n_outputs == 1
    with pytest.raises(ValueError, match="layer_sizes"):
        ng.mlp([3, 1])  # one class is no classifier
    with pytest.raises(ValueError, match="likelihood"):
        ng.Model((3, 2), likelihood="poisson")


# ---------------------------------------------------------------- loss, prediction, KL


def test_negative_log_likelihood_equals_an_explicit_loop(problem):
    """Reference: -(1/N) sum_n log p(y_n | x_n) from the hand-written forward pass and textbook densities
    (the Gaussian's constant (K/2) log 2 pi removed, as documented)."""
    model, params, X, y = problem
    logits = reference_logits(model, params, X)
    total = -np.mean([reference_log_likelihood(model.likelihood, z, t) for z, t in zip(logits, y)])
    if model.likelihood == "gaussian":
        total -= 0.5 * model.n_outputs * np.log(2 * np.pi)
    assert ng.negative_log_likelihood(model, params, X, y) == pytest.approx(total, rel=1e-12)


def test_categorical_negative_log_likelihood_is_cross_entropy_bit_for_bit():
    """Reference: ng.cross_entropy, the first edition's loss."""
    model, params, X, y = make_problem("categorical", "tanh")
    assert ng.negative_log_likelihood(model, params, X, y) == ng.cross_entropy(model, params, X, y)


def test_cross_entropy_refuses_other_likelihoods():
    model, params, X, y = make_problem("bernoulli", "tanh")
    with pytest.raises(ValueError, match="negative_log_likelihood"):
        ng.cross_entropy(model, params, X, y)


def test_gradient_of_negative_log_likelihood_matches_finite_differences(new_problem):
    """Reference: central finite differences."""
    model, params, X, y = new_problem
    loss = lambda p: ng.negative_log_likelihood(model, p, X, y)  # noqa: E731
    np.testing.assert_allclose(autograd.grad(loss)(params), central_difference(loss, params), rtol=1e-6, atol=1e-8)


def test_predict_is_the_mean_of_the_likelihood(problem):
    """Reference: softmax, textbook sigmoid or identity of the hand-written outputs."""
    model, params, X, _ = problem
    z = reference_logits(model, params, X)
    expected = {
        "categorical": np.exp(z) / np.exp(z).sum(axis=1, keepdims=True),
        "bernoulli": 1.0 / (1.0 + np.exp(-z)),
        "gaussian": z,
    }[model.likelihood]
    np.testing.assert_allclose(ng.predict(model, params, X), expected, rtol=1e-12, atol=1e-15)


def test_model_kl_is_the_mean_of_row_kls(problem):
    """Reference: mean over rows of the textbook KL of the hand-written outputs; 0 at equality."""
    model, params, X, _ = problem
    other = params + 0.4 * np.random.default_rng(1).normal(size=params.size)
    zp, zq = reference_logits(model, params, X), reference_logits(model, other, X)
    expected = np.mean([reference_row_kl(model.likelihood, a, b) for a, b in zip(zp, zq)])
    assert ng.model_kl(model, params, other, X) == pytest.approx(expected, rel=1e-11)
    assert ng.model_kl(model, params, params, X) == 0.0


def test_model_kl_of_a_small_step_matches_its_quadratic_model(new_problem):
    """Reference: 1/2 delta^T F delta with the dense Fisher, to O(|delta|^3) (ratio within 1e-3 of 1)."""
    model, params, X, _ = new_problem
    delta = 1e-4 * np.random.default_rng(2).normal(size=params.size)
    ratio = ng.model_kl(model, params, params + delta, X) / (0.5 * delta @ ng.fisher(model, params, X) @ delta)
    assert abs(ratio - 1.0) < 1e-3


# ---------------------------------------------------------------- the exact Fisher


def test_exact_fisher_equals_the_hessian_of_the_model_kl(problem):
    """Reference: autograd.hessian of model_kl in params_q at params_q = params_p."""
    model, params, X, _ = problem
    H = kl_hessian(model, params, X)
    F = ng.fisher(model, params, X)
    assert F.shape == (model.n_params, model.n_params) and F.dtype == np.float64
    np.testing.assert_allclose(F, H, rtol=1e-9, atol=1e-12 * scale(H))


def test_exact_fisher_equals_the_gauss_newton_matrix(problem):
    """Reference: (1/N) sum_n J_n^T Lambda_n J_n with J_n = autograd.jacobian of the hand-written outputs
    and Lambda_n = autograd.hessian of the textbook loss in the outputs."""
    model, params, X, _ = problem
    G = gauss_newton(model, params, X)
    np.testing.assert_allclose(ng.fisher(model, params, X), G, rtol=1e-9, atol=1e-12 * scale(G))


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_bernoulli_fisher_is_the_score_covariance_over_every_outcome(architecture):
    """Reference: sum over all 2^K binary targets of p(y | x) s s^T, s = autograd.grad of the textbook log-likelihood."""
    model, params, X, _ = make_problem("bernoulli", architecture, n_rows=4)
    K = model.n_outputs
    F = np.zeros((model.n_params, model.n_params))
    for x in X:
        for outcome in itertools.product([0.0, 1.0], repeat=K):
            y = np.array(outcome)

            def log_p(theta):
                return reference_log_likelihood("bernoulli", reference_logits(model, theta, x[None])[0], y)

            s = autograd.grad(log_p)(params)
            F += np.exp(log_p(params)) * np.outer(s, s)
    F /= len(X)
    np.testing.assert_allclose(ng.fisher(model, params, X), F, rtol=1e-9, atol=1e-13 * scale(F))


def test_linear_regression_fisher_is_the_input_gram_matrix_at_every_point():
    """Reference: (1/N) sum_n (x~_n x~_n^T) kron I_K, the same for any parameters (Lambda_n = I)."""
    model = ng.linear_regression(3, 2)
    X = np.random.default_rng(3).normal(size=(10, 3))
    X_tilde = np.column_stack([X, np.ones(10)])
    expected = np.kron(X_tilde.T @ X_tilde / 10, np.eye(2))
    for seed in (4, 5):
        params = np.random.default_rng(seed).normal(size=model.n_params)
        np.testing.assert_allclose(ng.fisher(model, params, X), expected, rtol=1e-13, atol=1e-15)


def test_logistic_regression_fisher_kronecker_closed_form():
    """Reference: (1/N) sum_n (x~_n x~_n^T) kron diag(p_n (1 - p_n)) for W.ravel() then b."""
    model = ng.logistic_regression(3, 2)
    rng = np.random.default_rng(6)
    X, params = rng.normal(size=(8, 3)), rng.normal(size=model.n_params)
    W, b = params[:6].reshape(3, 2), params[6:]
    p = 1.0 / (1.0 + np.exp(-(X @ W + b)))
    expected = np.mean([np.kron(np.outer(np.append(x, 1), np.append(x, 1)), np.diag(q * (1 - q))) for x, q in zip(X, p)], axis=0)
    np.testing.assert_allclose(ng.fisher(model, params, X), expected, rtol=1e-12, atol=1e-15)


def test_bernoulli_fisher_of_saturated_outputs_is_tiny_and_not_zero():
    """Reference: p (1 - p) = e^-40 / (1 + e^-40)^2 by hand; with x = 0 only the bias block survives."""
    model = ng.logistic_regression(1, 1)
    F = ng.fisher(model, np.array([0.0, 40.0]), np.zeros((1, 1)))
    assert F[1, 1] == pytest.approx(np.exp(-40.0) / (1 + np.exp(-40.0)) ** 2, rel=1e-14)


def test_grad_through_the_bernoulli_fisher_matches_finite_differences():
    """Reference: central finite differences of sum(F * M) for a fixed random M."""
    model, params, X, _ = make_problem("bernoulli", "tanh", n_rows=5)
    M = np.random.default_rng(7).normal(size=(model.n_params, model.n_params))
    f = lambda p: anp.sum(ng.fisher(model, p, X) * M)  # noqa: E731
    g = autograd.grad(f)(params)
    np.testing.assert_allclose(g, central_difference(f, params, h=1e-5), rtol=1e-6, atol=1e-9 * np.abs(g).max())


# ---------------------------------------------------------------- empirical and Monte-Carlo Fisher


def test_empirical_fisher_is_the_mean_outer_product_of_per_example_gradients(problem):
    """Reference: (1/N) sum_n g_n g_n^T, g_n = autograd.grad of the textbook log p(y_n | x_n) (Bernoulli intensities too)."""
    model, params, X, y = problem
    expected = np.zeros((model.n_params, model.n_params))
    for x, target in zip(X, y):
        g = autograd.grad(lambda theta: reference_log_likelihood(model.likelihood, reference_logits(model, theta, x[None])[0], target))(params)
        expected += np.outer(g, g)
    expected /= len(X)
    F_emp = ng.fisher(model, params, X, kind="empirical", y=y)
    np.testing.assert_allclose(F_emp, expected, rtol=1e-9, atol=1e-13 * scale(expected))
    # Away from the optimum it is not the Fisher.
    F = ng.fisher(model, params, X)
    assert np.linalg.norm(F_emp - F) > 0.1 * np.linalg.norm(F)


def test_monte_carlo_fisher_error_falls_like_inverse_sqrt_samples(new_problem):
    """Reference: the exact Fisher; the mean relative error over 8 seeds at S = 16 against S = 1024
    has ratio about sqrt(64) = 8."""
    model, params, X, _ = new_problem
    F = ng.fisher(model, params, X)

    def mean_error(S):
        return np.mean([np.linalg.norm(ng.fisher(model, params, X, "monte_carlo", n_samples=S, rng=seed) - F) / np.linalg.norm(F) for seed in range(8)])

    ratio = mean_error(16) / mean_error(1024)
    assert 4.0 < ratio < 16.0, ratio


def test_monte_carlo_fisher_is_reproducible_and_seed_dependent(new_problem):
    """Reference: same seed (int or Generator) gives the same matrix, another seed another; PSD."""
    model, params, X, _ = new_problem
    a = ng.fisher(model, params, X, kind="monte_carlo", n_samples=2, rng=5)
    b = ng.fisher(model, params, X, kind="monte_carlo", n_samples=2, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, ng.fisher(model, params, X, kind="monte_carlo", n_samples=2, rng=6))
    assert np.linalg.eigvalsh(a).min() >= -1e-12 * scale(a)


def test_monte_carlo_fisher_default_seed_is_zero():
    model, params, X, _ = make_problem("gaussian", "tanh")
    np.testing.assert_array_equal(ng.fisher(model, params, X, kind="monte_carlo"), ng.fisher(model, params, X, kind="monte_carlo", rng=0))


def test_gaussian_monte_carlo_fisher_does_not_depend_on_the_outputs():
    """Reference: the same seed at two parameter vectors of a linear regression gives the same matrix
    (J_n and the drawn noise are both independent of the parameters)."""
    model = ng.linear_regression(3, 2)
    X = np.random.default_rng(8).normal(size=(6, 3))
    a = ng.fisher(model, np.zeros(model.n_params), X, kind="monte_carlo", n_samples=3, rng=1)
    b = ng.fisher(model, np.ones(model.n_params), X, kind="monte_carlo", n_samples=3, rng=1)
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- matrix-free: the stored linearisation


def autograd_product(model, params, X):
    """v -> F v from autograd's forward mode (recomputing the forward pass) and reverse mode."""

    def outputs(theta):
        return model.logits(theta, X)

    pullback, z = make_vjp(outputs)(params)
    push_forward = make_jvp(outputs)(params)
    lik = get(model.likelihood)
    return lambda v: pullback(lik.curvature_product(z, push_forward(v)[1])) / X.shape[0]


def test_fisher_vector_product_matches_the_dense_fisher(problem):
    """Reference: dense ng.fisher(...) @ v for three random v, and every column."""
    model, params, X, _ = problem
    F = ng.fisher(model, params, X)
    product = ng.fisher_vector_product(model, params, X)
    for v in np.random.default_rng(9).normal(size=(3, model.n_params)):
        np.testing.assert_allclose(product(v), F @ v, rtol=1e-10, atol=1e-13 * np.linalg.norm(F @ v))
    np.testing.assert_allclose(np.column_stack([product(e) for e in np.eye(model.n_params)]), F, rtol=1e-10, atol=1e-14 * scale(F))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("sizes", [[4, 3], [5, 6, 4], [3, 4, 4, 3, 2]])
def test_categorical_product_is_autograds_product_bit_for_bit(sizes, activation):
    """Reference: autograd.make_jvp then make_vjp (the first edition's product). The chapters print
    results of long conjugate-gradient runs that depend on the product's round-off, so it must not move."""
    model = ng.mlp(sizes, activation)
    rng = np.random.default_rng(10)
    params, X = model.init(rng) + 0.3 * rng.normal(size=model.n_params), rng.normal(size=(40, sizes[0]))
    v = rng.normal(size=model.n_params)
    np.testing.assert_array_equal(ng.fisher_vector_product(model, params, X)(v), autograd_product(model, params, X)(v))


def test_product_of_new_likelihoods_matches_autograds_product(new_problem):
    """Reference: autograd.make_jvp / make_vjp with the likelihood's curvature, to round-off."""
    model, params, X, _ = new_problem
    v = np.random.default_rng(11).normal(size=model.n_params)
    expected = autograd_product(model, params, X)(v)
    np.testing.assert_allclose(ng.fisher_vector_product(model, params, X)(v), expected, rtol=1e-13, atol=1e-15 * np.linalg.norm(expected))


def test_linearization_passes_match_autograd(problem):
    """Reference: outputs = model.logits bit for bit; J v and J^T u from autograd.jacobian of the
    hand-written forward pass; v^T F v from the dense Fisher."""
    model, params, X, _ = problem
    lin = ng.linearize(model, params, X)
    np.testing.assert_array_equal(lin.outputs, model.logits(params, X))
    J = autograd.jacobian(lambda theta: reference_logits(model, theta, X))(params)  # (N, K, P)
    rng = np.random.default_rng(12)
    v, u = rng.normal(size=model.n_params), rng.normal(size=lin.outputs.shape)
    np.testing.assert_allclose(lin.jvp(v), J @ v, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(lin.vjp(u), np.einsum("nkp,nk->p", J, u), rtol=1e-10, atol=1e-13)
    F = ng.fisher(model, params, X)
    assert lin.fisher_norm_squared(v) == pytest.approx(v @ F @ v, rel=1e-10)
    assert lin.n_rows == X.shape[0]


def test_linearization_loss_and_gradient_match_autograd(problem):
    """Reference: ng.negative_log_likelihood and its autograd gradient."""
    model, params, X, y = problem
    lin = ng.linearize(model, params, X)
    assert lin.loss(y) == pytest.approx(ng.negative_log_likelihood(model, params, X, y), rel=1e-14)
    expected = autograd.grad(lambda p: ng.negative_log_likelihood(model, p, X, y))(params)
    np.testing.assert_allclose(lin.gradient(y), expected, rtol=1e-10, atol=1e-14 * np.abs(expected).max())


def test_linearization_at_saturated_activations_has_zero_slope():
    """Reference: a tanh unit at pre-activation 1000 passes no change (its slope 1/cosh^2 underflows to 0,
    without a warning becoming an error), so the first layer's weights into it get zero curvature."""
    model = ng.mlp([1, 1, 1], likelihood="gaussian")
    params = np.array([1000.0, 0.0, 1.0, 0.0])  # W1, b1, W2, b2
    lin = ng.linearize(model, params, np.ones((1, 1)))
    np.testing.assert_array_equal(lin.jvp(np.array([1.0, 1.0, 0.0, 0.0])), [[0.0]])
    np.testing.assert_allclose(lin.fisher_vector_product(np.array([0.0, 0.0, 1.0, 1.0])), [0.0, 0.0, 2.0, 2.0], rtol=1e-15)


# ---------------------------------------------------------------- diagonal and K-FAC


@pytest.mark.parametrize("kind", ["exact", "empirical", "monte_carlo"])
def test_diagonal_is_the_diagonal_of_the_dense_fisher_of_each_kind(problem, kind):
    """Reference: np.diag(ng.fisher(...)) of the same kind (same seed for Monte-Carlo)."""
    model, params, X, y = problem
    dense = ng.fisher(model, params, X, kind=kind, y=y, n_samples=3, rng=13)
    np.testing.assert_allclose(diagonal_fisher(model, params, X, kind=kind, y=y, n_samples=3, rng=13), np.diag(dense), rtol=1e-12, atol=1e-15)


def reference_kfac_factors(model, params, X):
    """A_l = mean [a, 1][a, 1]^T; Gamma_l = mean J_s^T Lambda_n J_s with J_s the Jacobian of the outputs in the
    layer's pre-activation (autograd) and Lambda_n the autograd Hessian of the textbook loss."""
    factors = []
    for layer, (n_in, n_out) in enumerate(model.shapes):
        A, Gamma = np.zeros((n_in + 1, n_in + 1)), np.zeros((n_out, n_out))
        for x in X:
            z, inputs = forward_with_shift(model, params, x[None], layer, np.zeros(n_out))
            a = np.append(inputs[layer][0], 1.0)
            A += np.outer(a, a)
            J_s = autograd.jacobian(lambda s: forward_with_shift(model, params, x[None], layer, s)[0][0])(np.zeros(n_out))
            Gamma += J_s.T @ reference_lambda(model.likelihood, z[0]) @ J_s
        factors.append((A / len(X), Gamma / len(X)))
    return factors


def test_kfac_factors_match_the_independent_reference(problem):
    model, params, X, _ = problem
    for (A, Gamma), (A_ref, Gamma_ref) in zip(kfac_factors(model, params, X), reference_kfac_factors(model, params, X)):
        np.testing.assert_allclose(A, A_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(Gamma, Gamma_ref, rtol=1e-9, atol=1e-14)


def test_kfac_is_exact_on_every_layer_block_for_one_row(problem):
    """For N = 1 the mean of Kronecker products is one Kronecker product: F_l = A_l kron Gamma_l."""
    model, params, X, _ = problem
    F = ng.fisher(model, params, X[:1])
    for block, (A, Gamma) in zip(layer_blocks(model), kfac_factors(model, params, X[:1])):
        np.testing.assert_allclose(np.kron(A, Gamma), F[block, block], rtol=1e-10, atol=1e-14)


def test_kfac_is_exact_for_linear_regression_at_every_point():
    """Lambda_n = I on every row, so F = mean(x~ x~^T) kron I = A kron Gamma, whatever the parameters;
    the K-FAC direction is then the exact natural direction."""
    model = ng.linear_regression(3, 2)
    X = np.random.default_rng(14).normal(size=(11, 3))
    params = np.random.default_rng(15).normal(size=model.n_params)
    (A, Gamma), = kfac_factors(model, params, X)
    F = ng.fisher(model, params, X)
    np.testing.assert_allclose(np.kron(A, Gamma), F, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(Gamma, np.eye(2), rtol=0, atol=1e-15)
    g = np.random.default_rng(16).normal(size=model.n_params)
    np.testing.assert_allclose(kfac_direction(kfac_factors(model, params, X), g), np.linalg.solve(F, g), rtol=1e-9, atol=1e-12)


def test_kfac_is_exact_for_logistic_regression_with_zero_weights():
    """W = 0: every row has the same probabilities, so Lambda_n is the same and F = A kron Gamma;
    the other Kronecker order is a different matrix."""
    model = ng.logistic_regression(3, 2)
    X = np.random.default_rng(17).normal(size=(12, 3))
    params = np.concatenate([np.zeros(6), [0.4, -1.1]])
    (A, Gamma), = kfac_factors(model, params, X)
    F = ng.fisher(model, params, X)
    np.testing.assert_allclose(np.kron(A, Gamma), F, rtol=1e-12, atol=1e-15)
    assert not np.allclose(np.kron(Gamma, A), F, atol=1e-3)


def test_kfac_is_not_exact_for_logistic_regression_in_general():
    model = ng.logistic_regression(3, 2)
    rng = np.random.default_rng(18)
    X, params = rng.normal(size=(12, 3)), rng.normal(size=model.n_params)
    (A, Gamma), = kfac_factors(model, params, X)
    F = ng.fisher(model, params, X)
    assert np.linalg.norm(np.kron(A, Gamma) - F) > 1e-2 * np.linalg.norm(F)


@pytest.mark.parametrize("kind", ["empirical", "monte_carlo"])
def test_kfac_factors_of_other_kinds_are_exact_for_one_row(new_problem, kind):
    """Reference: the dense Fisher of the same kind and seed, one row."""
    model, params, X, y = new_problem
    F = ng.fisher(model, params, X[:1], kind=kind, y=y[:1], n_samples=2, rng=19)
    for block, (A, Gamma) in zip(layer_blocks(model), kfac_factors(model, params, X[:1], kind=kind, y=y[:1], n_samples=2, rng=19)):
        np.testing.assert_allclose(np.kron(A, Gamma), F[block, block], rtol=1e-10, atol=1e-14)
