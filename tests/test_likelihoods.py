"""The output likelihoods, row by row: loss, KL, mean, output gradient and curvature, sampler, factors.

References: scipy.stats densities, textbook formulas written here with plain numpy or
autograd.numpy (valid for moderate outputs), autograd gradients and Hessians in the outputs,
hand-computed values at saturation, and seeded sampling checked within a few standard errors.
"""

from __future__ import annotations

import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from scipy import stats

import natgrad as ng
from natgrad.fisher import output_factors
from natgrad.likelihoods import LIKELIHOODS, get
from tests.helpers import probabilities

NAMES = ["categorical", "bernoulli", "gaussian"]
KINDS = ["exact", "empirical", "monte_carlo"]


def outputs_and_targets(name, n_rows=6, n_outputs=3, seed=0):
    """Moderate outputs z (N, K) and targets of the form the likelihood takes (Bernoulli: intensities and exact 0/1)."""
    rng = np.random.default_rng(seed)
    z = 1.5 * rng.normal(size=(n_rows, n_outputs))
    if name == "categorical":
        y = rng.integers(0, n_outputs, size=n_rows)
    elif name == "bernoulli":
        y = rng.random((n_rows, n_outputs))
        y[0] = [0.0, 1.0, 1.0][:n_outputs] + [0.0] * max(0, n_outputs - 3)
    else:
        y = 2.0 * rng.normal(size=(n_rows, n_outputs))
    return z, y


def textbook_sigmoid(z):
    return 1.0 / (1.0 + anp.exp(-z))


def reference_row_loss(name, z, y):
    """-log p(y | z) of one row, from the textbook density (autograd.numpy, moderate z)."""
    if name == "categorical":
        return -(z[y] - anp.log(anp.sum(anp.exp(z))))
    if name == "bernoulli":
        p = textbook_sigmoid(z)
        return -anp.sum(y * anp.log(p) + (1.0 - y) * anp.log(1.0 - p))
    return 0.5 * anp.sum((y - z) ** 2)


def reference_row_kl(name, zp, zq):
    """KL between two output rows, from the textbook formula (autograd.numpy, moderate z)."""
    if name == "categorical":
        lp = zp - anp.log(anp.sum(anp.exp(zp)))
        lq = zq - anp.log(anp.sum(anp.exp(zq)))
        return anp.sum(anp.exp(lp) * (lp - lq))
    if name == "bernoulli":
        p, q = textbook_sigmoid(zp), textbook_sigmoid(zq)
        return anp.sum(p * anp.log(p / q) + (1 - p) * anp.log((1 - p) / (1 - q)))
    return 0.5 * anp.sum((zp - zq) ** 2)


def reference_mean(name, z):
    if name == "categorical":
        return probabilities(z)
    if name == "bernoulli":
        return 1.0 / (1.0 + np.exp(-z))
    return z


# ---------------------------------------------------------------- loss


def test_bernoulli_loss_is_the_scipy_negative_log_pmf_for_binary_targets():
    """Reference: -sum_k scipy.stats.bernoulli.logpmf(y_k, sigm(z_k))."""
    rng = np.random.default_rng(1)
    z = 3.0 * rng.normal(size=(8, 4))
    y = rng.integers(0, 2, size=(8, 4)).astype(float)
    expected = -stats.bernoulli.logpmf(y, 1.0 / (1.0 + np.exp(-z))).sum(axis=1)
    np.testing.assert_allclose(get("bernoulli").loss(z, y), expected, rtol=1e-12, atol=1e-15)


def test_bernoulli_loss_for_intensities_is_the_binary_cross_entropy():
    """Reference: -sum_k y log p + (1 - y) log(1 - p) with textbook p; at y = p it is the entropy, its minimum in z."""
    z, y = outputs_and_targets("bernoulli")
    p = 1.0 / (1.0 + np.exp(-z))
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum(axis=1)
    np.testing.assert_allclose(get("bernoulli").loss(z, y), expected, rtol=1e-12)
    # With targets equal to the predictions the output gradient vanishes.
    np.testing.assert_allclose(get("bernoulli").output_gradient(z, p), 0.0, atol=1e-16)


def test_gaussian_loss_is_scipy_negative_log_density_less_its_constant():
    """Reference: -sum_k scipy.stats.norm.logpdf(y_k, z_k, 1) - (K/2) log(2 pi)."""
    z, y = outputs_and_targets("gaussian")
    expected = -stats.norm.logpdf(y, loc=z, scale=1.0).sum(axis=1) - 0.5 * z.shape[1] * np.log(2 * np.pi)
    np.testing.assert_allclose(get("gaussian").loss(z, y), expected, rtol=1e-12, atol=1e-14)


def test_categorical_loss_is_minus_the_log_probability_of_the_label():
    """Reference: -log softmax(z)_y by hand for each row."""
    z, y = outputs_and_targets("categorical")
    expected = [-np.log(probabilities(row)[label]) for row, label in zip(z, y)]
    np.testing.assert_allclose(get("categorical").loss(z, y), expected, rtol=1e-12)


def test_bernoulli_loss_is_exact_at_saturated_outputs():
    """Reference: by hand, softplus(800) = 800 and softplus(-800) = e^-800 (0 in float64); softplus(40) = 40 + 4.25e-18."""
    bern = get("bernoulli")
    z = np.array([[800.0, -800.0, 800.0, -800.0, 40.0]])
    y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
    loss = bern.loss(z, y)
    assert np.isfinite(loss).all()
    assert loss[0] == pytest.approx(1600.0 + math.log1p(math.exp(-40.0)), rel=1e-15)
    # The correct outputs alone: each term is tiny and positive, not 0 by cancellation.
    assert bern.loss(np.array([[40.0, -40.0]]), np.array([[1.0, 0.0]]))[0] == pytest.approx(2 * math.log1p(math.exp(-40.0)), rel=1e-14)


# ---------------------------------------------------------------- output gradient and curvature


@pytest.mark.parametrize("name", NAMES)
def test_output_gradient_is_the_autograd_gradient_of_the_loss(name):
    """Reference: autograd.grad of the textbook row loss in z."""
    lik = get(name)
    z, y = outputs_and_targets(name)
    expected = np.array([autograd.grad(lambda r: reference_row_loss(name, r, target))(row) for row, target in zip(z, y)])
    np.testing.assert_allclose(lik.output_gradient(z, y), expected, rtol=1e-10, atol=1e-14)
    # The canonical link: the output gradient is the mean prediction less the target.
    targets = np.eye(z.shape[1])[y] if name == "categorical" else y
    np.testing.assert_allclose(lik.output_gradient(z, y), reference_mean(name, z) - targets, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_curvature_product_is_the_autograd_hessian_of_the_loss_and_ignores_the_target(name):
    """Reference: autograd.hessian of the textbook row loss in z, times u, for two different targets."""
    lik = get(name)
    z, y = outputs_and_targets(name)
    _, other = outputs_and_targets(name, seed=7)
    u = np.random.default_rng(2).normal(size=z.shape)
    for targets in (y, other):
        expected = np.array([autograd.hessian(lambda r: reference_row_loss(name, r, t))(row) @ w for row, t, w in zip(z, targets, u)])
        np.testing.assert_allclose(lik.curvature_product(z, u), expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_exact_output_factors_sum_to_the_hessian_of_the_row_kl(name):
    """Reference: autograd.hessian of the textbook row KL in its second argument at coincidence
    (the Fisher of p(. | z) in z); also the curvature product applied to the identity."""
    lik = get(name)
    z, _ = outputs_and_targets(name)
    r = lik.output_factors(z, "exact")
    assert r.shape == (z.shape[0], z.shape[1], z.shape[1])
    for row, factors in zip(z, r):
        expected = autograd.hessian(lambda q: reference_row_kl(name, row, q))(row)
        np.testing.assert_allclose(factors.T @ factors, expected, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(factors.T @ factors, lik.curvature_product(np.tile(row, (len(row), 1)), np.eye(len(row))).T, rtol=1e-12, atol=1e-15)


def test_bernoulli_curvature_keeps_its_relative_accuracy_at_saturation():
    """Reference: p (1 - p) = e^-|z| / (1 + e^-|z|)^2 by hand in math (exact in both tails).
    Subtracting p^2 from p would give exactly 0 for z = 40, and rounding noise well before."""
    z = np.array([[40.0, -40.0, 300.0, -300.0, 20.0, 1e-3]])
    expected = np.array([math.exp(-abs(t)) / (1.0 + math.exp(-abs(t))) ** 2 for t in z[0]])
    bern = get("bernoulli")
    np.testing.assert_allclose(bern.curvature_product(z, np.ones_like(z))[0], expected, rtol=1e-14, atol=0)
    factors = bern.output_factors(z, "exact")[0]
    np.testing.assert_allclose(np.diag(factors.T @ factors), expected, rtol=1e-14, atol=0)
    assert np.count_nonzero(factors - np.diag(np.diag(factors))) == 0


def test_bernoulli_empirical_factor_is_exact_for_binary_targets_at_saturation():
    """Reference: y - sigm(z) = sigm(-z) for y = 1 and -sigm(z) for y = 0, by hand (4.25e-18 at |z| = 40),
    where y - p by subtraction would give 0."""
    z = np.array([[40.0, -40.0, 0.0]])
    y = np.array([[1.0, 0.0, 1.0]])
    tail = 1.0 / (1.0 + math.exp(40.0))
    r = get("bernoulli").output_factors(z, "empirical", y=y)
    assert r.shape == (1, 1, 3)
    np.testing.assert_allclose(r[0, 0], [tail, -tail, 0.5], rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_empirical_factor_is_the_score_of_the_data_in_the_outputs(name):
    """Reference: autograd.grad of the textbook log-likelihood of the data's target, minus the row loss."""
    lik = get(name)
    z, y = outputs_and_targets(name)
    r = lik.output_factors(z, "empirical", y=y)
    assert r.shape == (z.shape[0], 1, z.shape[1])
    expected = np.array([-autograd.grad(lambda row: reference_row_loss(name, row, t))(v) for v, t in zip(z, y)])
    np.testing.assert_allclose(r[:, 0, :], expected, rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- sampling


def test_bernoulli_samples_are_zeros_and_ones_with_the_model_frequencies():
    """Reference: sigm(z); each frequency within 5 binomial standard errors over 20 000 draws."""
    z = np.array([[-2.0, 0.0, 0.7], [3.0, -0.5, 1.5]])
    p = 1.0 / (1.0 + np.exp(-z))
    S = 20_000
    draws = get("bernoulli").sample(z, np.random.default_rng(3), S)
    assert draws.shape == (2, S, 3)
    assert set(np.unique(draws)) == {0.0, 1.0}
    np.testing.assert_array_less(np.abs(draws.mean(axis=1) - p), 5 * np.sqrt(p * (1 - p) / S))


def test_gaussian_samples_have_the_outputs_as_mean_and_unit_variance():
    """Reference: N(z, I); sample mean within 5 standard errors of z, variance within 5% of 1."""
    z = np.array([[-2.0, 0.0, 5.0]])
    S = 20_000
    draws = get("gaussian").sample(z, np.random.default_rng(4), S)
    assert draws.shape == (1, S, 3)
    np.testing.assert_array_less(np.abs(draws.mean(axis=1) - z), 5 / np.sqrt(S))
    np.testing.assert_allclose(draws.var(axis=1), 1.0, rtol=0.05)


def test_categorical_samples_follow_the_probabilities():
    """Reference: softmax(z); label frequencies within 5 standard errors."""
    z = np.array([[0.5, -0.7, 1.0]])
    p = probabilities(z)[0]
    S = 20_000
    labels = get("categorical").sample(z, np.random.default_rng(5), S)
    assert labels.shape == (1, S)
    freq = np.bincount(labels[0], minlength=3) / S
    np.testing.assert_array_less(np.abs(freq - p), 5 * np.sqrt(p * (1 - p) / S))


@pytest.mark.parametrize("name", NAMES)
def test_monte_carlo_factors_average_to_the_exact_output_fisher(name):
    """Reference: the exact Lambda_n (sum of exact factors); the sampled mean outer product over 4000
    draws is within 5 standard errors (estimated from the draws) entry by entry."""
    lik = get(name)
    z, _ = outputs_and_targets(name, n_rows=3)
    S = 4000
    r = lik.output_factors(z, "monte_carlo", n_samples=S, rng=np.random.default_rng(6))
    assert r.shape == (3, S, 3)
    exact = lik.output_factors(z, "exact")
    for factors, reference in zip(r, exact):
        outer = np.einsum("si,sj->sij", factors, factors) * S  # one draw's outer product each
        error = 5 * outer.std(axis=0) / np.sqrt(S) + 1e-15
        np.testing.assert_array_less(np.abs(outer.mean(axis=0) - reference.T @ reference), error)


@pytest.mark.parametrize("name", NAMES)
def test_monte_carlo_factors_are_the_scores_of_the_drawn_targets(name):
    """Reference: the empirical factor of the targets that the same seed draws, scaled by 1/sqrt(S)."""
    lik = get(name)
    z, _ = outputs_and_targets(name, n_rows=4)
    S = 3
    r = lik.output_factors(z, "monte_carlo", n_samples=S, rng=np.random.default_rng(8))
    drawn = lik.sample(z, np.random.default_rng(8), S)
    for s in range(S):
        targets = drawn[:, s] if name == "categorical" else drawn[:, s, :]
        np.testing.assert_allclose(r[:, s, :], lik.output_factors(z, "empirical", y=targets)[:, 0, :] / np.sqrt(S), rtol=1e-12, atol=1e-15)


def test_categorical_factors_are_the_first_edition_output_factors_of_the_probabilities():
    """Reference: natgrad.fisher.output_factors(softmax(z), ...) bit for bit (the first-edition API), every kind."""
    z, y = outputs_and_targets("categorical")
    lik = get("categorical")
    np.testing.assert_array_equal(lik.output_factors(z, "exact"), output_factors(ng.softmax(z), "exact"))
    np.testing.assert_array_equal(lik.output_factors(z, "empirical", y=y), output_factors(ng.softmax(z), "empirical", y=y))
    np.testing.assert_array_equal(
        lik.output_factors(z, "monte_carlo", n_samples=4, rng=np.random.default_rng(9)),
        output_factors(ng.softmax(z), "monte_carlo", n_samples=4, rng=np.random.default_rng(9)),
    )


# ---------------------------------------------------------------- KL and mean


@pytest.mark.parametrize("name", NAMES)
def test_row_kl_matches_the_textbook_formula_and_vanishes_on_equal_rows(name):
    """Reference: the textbook KL per row; exactly 0 for equal rows."""
    lik = get(name)
    zp, _ = outputs_and_targets(name)
    zq, _ = outputs_and_targets(name, seed=3)
    expected = [reference_row_kl(name, a, b) for a, b in zip(zp, zq)]
    np.testing.assert_allclose(lik.kl(zp, zq), expected, rtol=1e-11, atol=1e-15)
    np.testing.assert_array_equal(lik.kl(zp, zp), np.zeros(len(zp)))


def test_gaussian_row_kl_is_the_sum_of_unit_variance_kl_gaussian():
    """Reference: ng.kl_gaussian(mu_p, 1, mu_q, 1) summed over the outputs."""
    zp, _ = outputs_and_targets("gaussian")
    zq, _ = outputs_and_targets("gaussian", seed=5)
    np.testing.assert_allclose(get("gaussian").kl(zp, zq), ng.kl_gaussian(zp, 1.0, zq, 1.0).sum(axis=1), rtol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_mean_prediction(name):
    """Reference: softmax, textbook sigmoid, identity."""
    z, _ = outputs_and_targets(name)
    np.testing.assert_allclose(get(name).mean(z), reference_mean(name, z), rtol=1e-14)


def test_bernoulli_mean_keeps_relative_accuracy_in_the_lower_tail():
    """Reference: sigm(-40) = 1 / (1 + e^40) by hand; the tanh form 0.5 (tanh(-20) + 1) gives 0."""
    mean = get("bernoulli").mean(np.array([[-40.0, 40.0, -745.0]]))[0]
    assert mean[0] == pytest.approx(1.0 / (1.0 + math.exp(40.0)), rel=1e-15)
    assert mean[1] == 1.0 - 1.0 / (1.0 + math.exp(40.0))
    assert 0.0 < mean[2] < 1e-320
    assert ng.models.sigmoid(-40.0) == 0.0  # the activation's form, accurate in absolute terms only


# ---------------------------------------------------------------- targets and lookup


def test_get_returns_each_likelihood_by_name_and_rejects_others():
    """Reference: the three names; anything else is a ValueError naming likelihood."""
    assert sorted(LIKELIHOODS) == sorted(NAMES)
    for name in NAMES:
        assert get(name).name == name
        assert repr(get(name)) == f"natgrad.likelihoods.get({name!r})"
    assert get("categorical").min_outputs == 2 and get("bernoulli").min_outputs == get("gaussian").min_outputs == 1
    with pytest.raises(ValueError, match="likelihood"):
        get("poisson")


def test_check_targets_converts_and_accepts_one_output_as_a_vector():
    """Reference: the documented forms: (N,) for K = 1 becomes (N, 1); bool and int become float64."""
    bern, gauss = get("bernoulli"), get("gaussian")
    out = bern.check_targets(np.array([True, False, True]), 3, 1)
    assert out.dtype == np.float64 and out.shape == (3, 1)
    np.testing.assert_array_equal(out[:, 0], [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(bern.check_targets([[0, 1], [1, 1]], 2, 2), [[0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(gauss.check_targets([-1.5, 2.0], 2, 1), [[-1.5], [2.0]])
    np.testing.assert_array_equal(bern.check_targets(np.array([[0.0, 1.0]]), 1, 2), [[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"\(N,\) for one output"):
        gauss.check_targets(np.zeros(3), 2, 1)
    with pytest.raises(ValueError, match=r"shape \(N, K\) = \(3, 2\)"):
        gauss.check_targets(np.zeros(3), 3, 2)  # a vector is never spread over two outputs
    with pytest.raises(ValueError, match=r"from -0.5 to 1"):
        bern.check_targets(np.array([[-0.5], [1.0]]), 2, 1)
    with pytest.raises(ValueError, match=r"from 0 to 1.5"):
        bern.check_targets(np.array([[0.0], [1.5]]), 2, 1)
    for bad in (np.array([["a"]]), np.array([[None]], dtype=object)):
        with pytest.raises(ValueError, match="y"):
            gauss.check_targets(bad, 1, 1)


def test_categorical_exact_factors_keep_relative_accuracy_at_saturation():
    """Reference: by hand for z = (40, 0, 0): p_2 = p_3 = e^-40 / (1 + 2 e^-40), Lambda_11 = p_1 (p_2 + p_3),
    Lambda_22 = p_2 (1 - p_2), Lambda_12 = -p_1 p_2. diag(p) - p p^T by subtraction gives Lambda_11 = 0."""
    e = math.exp(-40.0)
    p2 = e / (1 + 2 * e)
    p1 = 1 / (1 + 2 * e)
    expected = np.array([[2 * p1 * p2, -p1 * p2, -p1 * p2], [-p1 * p2, p2 * (1 - p2), -p2 * p2], [-p1 * p2, -p2 * p2, p2 * (1 - p2)]])
    r = get("categorical").output_factors(np.array([[40.0, 0.0, 0.0]]), "exact")[0]
    np.testing.assert_allclose(r.T @ r, expected, rtol=1e-14, atol=0)
