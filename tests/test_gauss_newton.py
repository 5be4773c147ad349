"""The generalised Gauss-Newton matrix of chapter 10, natgrad.gauss_newton.

References are written here, independently of the code under test: per-input Jacobian
sandwiches J_n^T Lambda_n J_n with Lambda_n in closed form, the Hessian of the mean Gaussian KL
(ng.kl_gaussian) at coincidence, ng.fisher, and numpy solves. tests/test_family.py checks the
first-edition cases (G = F for cross-entropy, G = H for a linear model, G = F for a Gaussian).
"""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import natgrad as ng
from natgrad import gauss_newton
from tests.helpers import make_data, random_params, reference_logits


def regression_problem(seed=0, n_rows=9):
    """A 2-3-2 tanh network with random parameters, inputs and real-valued targets."""
    model = ng.mlp([2, 3, 2])
    X, _ = make_data(n_rows, 2, 2, seed=seed)
    targets = np.random.default_rng(seed + 1).normal(size=(n_rows, 2))
    return model, random_params(model, seed=seed + 2), X, targets


def test_gauss_newton_is_the_mean_of_jacobian_sandwiches_for_a_label_dependent_curvature():
    """Reference: (1/N) sum_n J_n^T Lambda_n J_n, J_n from autograd on the hand-written forward pass,
    Lambda_n in closed form for a sigmoid output with squared error, l_n = (y_n - s)^2 / 2 with
    s = sigm(z_n): d2l/dz2 = s'^2 - (y_n - s) s'', s' = s (1 - s), s'' = s' (1 - 2 s). This Lambda_n
    depends on the label (not a matching loss), and is negative for some inputs. The network has two
    outputs (natgrad's MLPs end in at least two) and the loss reads only the first."""
    model = ng.mlp([2, 3, 2])
    X, _ = make_data(12, 2, 2, seed=4)
    y = (np.random.default_rng(5).random(12) < 0.5).astype(float)
    params = random_params(model, seed=6, scale=1.5)

    def loss_of_outputs(z):
        s = 1.0 / (1.0 + anp.exp(-z[:, 0]))
        return anp.mean((y - s) ** 2) / 2

    z = reference_logits(model, params, X)[:, 0]
    s = 1.0 / (1.0 + np.exp(-z))
    d1 = s * (1 - s)
    curvature = d1**2 - (y - s) * d1 * (1 - 2 * s)
    assert curvature.min() < 0 < curvature.max()
    expected = np.zeros((model.n_params, model.n_params))
    for n in range(len(y)):
        J_n = autograd.jacobian(lambda p, n=n: reference_logits(model, p, X[n : n + 1])[0, 0])(params)
        expected += curvature[n] * np.outer(J_n, J_n)
    expected /= len(y)
    G = gauss_newton.gauss_newton(lambda p: model.logits(p, X), loss_of_outputs, params)
    np.testing.assert_allclose(G, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("zeta", [0.25, 1.0, 4.0, 16.0])
def test_scaled_squared_error_has_the_fisher_of_the_gaussian_with_variance_one_over_zeta(zeta):
    """Reference: the Hessian of the mean KL between N(z(theta), I / zeta) and N(z(theta'), I / zeta)
    at theta' = theta, computed with ng.kl_gaussian: zeta * ||y - z||^2 / 2 is that Gaussian's
    negative log-likelihood up to a constant, so its Gauss-Newton matrix is that Gaussian's Fisher."""
    model, params, X, targets = regression_problem(seed=3)
    sigma = zeta**-0.5

    def scaled_squared_error(z):
        return zeta * anp.mean(anp.sum((targets - z) ** 2, axis=1)) / 2

    def mean_kl(q):
        return anp.mean(anp.sum(ng.kl_gaussian(model.logits(params, X), sigma, model.logits(q, X), sigma), axis=1))

    G = gauss_newton.gauss_newton(lambda p: model.logits(p, X), scaled_squared_error, params)
    np.testing.assert_allclose(G, autograd.hessian(mean_kl)(params), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("zeta", [0.5, 2.0, 7.0])
def test_scaled_cross_entropy_has_zeta_times_the_fisher(tanh_problem, zeta):
    """Reference: zeta * ng.fisher, built from the categorical Fisher and not from any loss. The
    tempered likelihood zeta * cross-entropy scales G; the Fisher of the model stays the same."""
    model, params, X, y = tanh_problem

    def tempered(z):
        return -zeta * anp.mean(ng.log_softmax(z)[np.arange(len(y)), y])

    G = gauss_newton.gauss_newton(lambda p: model.logits(p, X), tempered, params)
    np.testing.assert_allclose(G, zeta * ng.fisher(model, params, X), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("zeta", [0.1, 3.0, 50.0])
def test_gauss_newton_direction_ignores_the_scale_of_the_loss(zeta):
    """Reference: numpy.linalg.solve with the closed forms G = X^T X / N and g = X^T (X theta - y) / N
    of unscaled least squares on a linear model. (zeta G)^{-1} (zeta g) = G^{-1} g for every zeta,
    while the natural direction F^{-1} (zeta g) with the model's fixed F grows in proportion to zeta."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(30, 4))
    y = rng.normal(size=30)
    theta = rng.normal(size=4)

    def scaled_loss(z):
        return zeta * anp.mean((y - z) ** 2) / 2

    G = gauss_newton.gauss_newton(lambda t: anp.dot(X, t), scaled_loss, theta)
    g = autograd.grad(lambda t: scaled_loss(anp.dot(X, t)))(theta)
    G_unscaled = X.T @ X / len(y)
    g_unscaled = X.T @ (X @ theta - y) / len(y)
    np.testing.assert_allclose(G, zeta * G_unscaled, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.solve(G, g), np.linalg.solve(G_unscaled, g_unscaled), rtol=1e-9)
    np.testing.assert_allclose(np.linalg.solve(G_unscaled, g), zeta * np.linalg.solve(G_unscaled, g_unscaled), rtol=1e-9)


def test_learned_variance_gauss_newton_is_indefinite_but_its_expectation_is_the_fisher():
    """Reference: chapter 10's exercise in closed form. For outputs (mu, log sigma) of one input and
    the Gaussian NLL, Lambda = [[1, 2r], [2r, 2r^2]] / sigma^2 with r = y - mu, so with J = I (the
    outputs are the parameters) G = Lambda: indefinite for r != 0, and its average over
    y ~ N(mu, sigma^2) (Gauss-Hermite quadrature) is ng.gaussian_fisher in (mu, log sigma)."""
    mu, log_sigma = 0.3, np.log(0.7)

    def G_at(y):
        def nll(z):
            return z[1] + 0.5 * (y - z[0]) ** 2 * anp.exp(-2 * z[1])

        return gauss_newton.gauss_newton(lambda p: p, nll, np.array([mu, log_sigma]))

    r, variance = 1.1, np.exp(2 * log_sigma)
    np.testing.assert_allclose(G_at(mu + r), np.array([[1, 2 * r], [2 * r, 2 * r**2]]) / variance, rtol=1e-12)
    assert np.linalg.eigvalsh(G_at(mu + r))[0] < -0.1
    nodes, weights = np.polynomial.hermite_e.hermegauss(8)
    average = sum(w * G_at(mu + np.exp(log_sigma) * u) for u, w in zip(nodes, weights)) / weights.sum()
    np.testing.assert_allclose(average, ng.gaussian_fisher(mu, np.exp(log_sigma), parametrization="log_sigma"), atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), zeta=st.floats(0.01, 100.0))
def test_gauss_newton_of_a_convex_loss_is_symmetric_positive_semidefinite(seed, zeta):
    """Property: for a loss convex in the outputs (here zeta * mean softplus of every output), every
    Lambda_n is positive semi-definite, so G is symmetric with no eigenvalue below round-off."""
    model, params, X, _ = regression_problem(seed=seed % 97, n_rows=5)

    def convex_loss(z):
        return zeta * anp.mean(anp.sum(anp.logaddexp(0.0, z), axis=1))

    G = gauss_newton.gauss_newton(lambda p: model.logits(p, X), convex_loss, params)
    np.testing.assert_allclose(G, G.T, rtol=0, atol=1e-13 * max(1.0, np.abs(G).max()))
    assert np.linalg.eigvalsh(G)[0] >= -1e-12 * max(1.0, np.abs(G).max())


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("not a function", lambda z: anp.sum(z**2), np.zeros(3)), "output_fn"),
        ((lambda p: p, 3.0, np.zeros(3)), "loss_of_outputs"),
        ((lambda p: p, lambda z: anp.sum(z**2), np.zeros((2, 2))), "params"),
        ((lambda p: p, lambda z: anp.sum(z**2), np.array([0.0, np.nan])), "params"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(args, name):
    with pytest.raises(ValueError, match=name):
        gauss_newton.gauss_newton(*args)
