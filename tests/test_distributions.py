"""Distributions: softmax, KL divergences and the Gaussian Fisher.

References: hand-written float64 formulas, math.fsum-based sums, and autograd Hessians.
"""

from __future__ import annotations

import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import natgrad as ng


def naive_softmax(z):
    """Textbook softmax, only valid for moderate logits."""
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------- softmax / log_softmax


def test_softmax_matches_naive_formula_for_moderate_logits(rng):
    """Reference: exp(z) / sum exp(z) (safe for |z| < 5)."""
    z = rng.normal(size=(6, 5)) * 2
    np.testing.assert_allclose(ng.softmax(z), naive_softmax(z), rtol=1e-14, atol=0)
    np.testing.assert_allclose(ng.log_softmax(z), np.log(naive_softmax(z)), rtol=1e-13, atol=1e-15)


def test_softmax_acts_on_last_axis_of_3d_array(rng):
    """Reference: naive softmax applied slice by slice."""
    z = rng.normal(size=(2, 3, 4))
    out = ng.softmax(z)
    assert out.shape == z.shape
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(out[i, j], naive_softmax(z[i, j]), rtol=1e-14)


def test_softmax_and_log_softmax_stable_for_logits_of_magnitude_1e3():
    """Reference: shift invariance, softmax(z) = softmax(z - c), computed at small logits."""
    small = np.array([[0.5, -1.0, 2.0, 0.0], [3.0, 3.0, -2.0, 1.0]])
    for shift in (1e3, -1e3, 1.5e3):
        big = small + shift
        p = ng.softmax(big)
        lp = ng.log_softmax(big)
        assert np.all(np.isfinite(p)) and np.all(np.isfinite(lp))
        np.testing.assert_allclose(p, naive_softmax(small), rtol=1e-12)
        np.testing.assert_allclose(lp, np.log(naive_softmax(small)), rtol=1e-10, atol=1e-12)


def test_log_softmax_with_huge_logit_gaps():
    """Reference: by hand, log p = [-log(1 + e^-2000 + e^-1000), -2000, -1000] = [0, -2000, -1000] in float64."""
    lp = ng.log_softmax(np.array([1000.0, -1000.0, 0.0]))
    np.testing.assert_allclose(lp, [0.0, -2000.0, -1000.0], rtol=1e-15, atol=0)
    p = ng.softmax(np.array([1000.0, -1000.0, 0.0]))
    np.testing.assert_array_equal(p, [1.0, 0.0, 0.0])


def test_softmax_rows_sum_to_one(rng):
    """Reference: math.fsum of each row."""
    p = ng.softmax(rng.normal(size=(5, 7)) * 30)
    for row in p:
        assert math.isclose(math.fsum(row), 1.0, rel_tol=1e-14)


# ---------------------------------------------------------------- kl_categorical


def naive_kl(zp, zq):
    """sum_c p_c (log p_c - log q_c) with log-probabilities from a stable shift (moderate logits)."""
    lp = zp - np.log(np.exp(zp).sum(-1, keepdims=True))
    lq = zq - np.log(np.exp(zq).sum(-1, keepdims=True))
    return (np.exp(lp) * (lp - lq)).sum(-1)


def test_kl_categorical_matches_naive_sum(rng):
    """Reference: sum_c p_c log(p_c/q_c) with plain numpy."""
    zp, zq = rng.normal(size=(2, 8, 5)) * 1.5
    kl = ng.kl_categorical(zp, zq)
    assert kl.shape == (8,)
    np.testing.assert_allclose(kl, naive_kl(zp, zq), rtol=1e-12, atol=1e-15)


def test_kl_categorical_shape_is_leading_axes(rng):
    """Reference: shape logits.shape[:-1] and slice-wise naive KL."""
    zp, zq = rng.normal(size=(2, 3, 2, 4))
    kl = ng.kl_categorical(zp, zq)
    assert kl.shape == (3, 2)
    np.testing.assert_allclose(kl, naive_kl(zp, zq), rtol=1e-12)


def test_kl_categorical_single_distribution_is_scalar():
    """Reference: by hand, p = (1/2, 1/2), q = (3/4, 1/4), KL = 1/2 log(2/3) + 1/2 log 2."""
    kl = ng.kl_categorical(np.array([0.0, 0.0]), np.array([np.log(3.0), 0.0]))
    # p = (1/2, 1/2), q = (3/4, 1/4): KL = 1/2 log(2/3) + 1/2 log(2)
    expected = 0.5 * np.log(2.0 / 3.0) + 0.5 * np.log(2.0)
    assert np.shape(kl) == ()
    assert kl == pytest.approx(expected, rel=1e-14, abs=0)


def test_kl_categorical_extreme_logits_exact():
    """Reference: by hand, p = e_0, q = e_1, KL = log p_0 - log q_0 = 0 - (-2000) = 2000."""
    kl = ng.kl_categorical(np.array([1000.0, -1000.0, 0.0]), np.array([-1000.0, 1000.0, 0.0]))
    assert np.isfinite(kl)
    assert kl == pytest.approx(2000.0, rel=1e-12, abs=0)


def test_kl_categorical_extreme_logits_reverse_and_batch():
    """Reference: hand calculation; KL(e_0 || softmax([0, 0, -1000])) = log 2."""
    zp = np.array([[1000.0, -1000.0, 0.0], [1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]])
    zq = np.array([[-1000.0, 1000.0, 0.0], [0.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]])
    kl = ng.kl_categorical(zp, zq)
    assert np.all(np.isfinite(kl))
    np.testing.assert_allclose(kl, [2000.0, np.log(2.0), 0.0], rtol=1e-12, atol=0)


def test_kl_categorical_tiny_perturbation_keeps_relative_accuracy(rng):
    """Reference: second-order expansion 1/2 dz^T (diag p - p p^T) dz, exact to O(|dz|^3)."""
    z = rng.normal(size=4)
    dz = 1e-6 * rng.normal(size=4)
    p = naive_softmax(z)
    quad = 0.5 * dz @ (np.diag(p) - np.outer(p, p)) @ dz
    kl = ng.kl_categorical(z, z + dz)
    assert kl > 0
    assert kl == pytest.approx(quad, rel=1e-5, abs=0)


def test_kl_categorical_zero_on_equal_logits_and_shift_invariant(rng):
    """Reference: KL(p||p) = 0 exactly; softmax is invariant to adding a constant."""
    z = rng.normal(size=(4, 6)) * 10
    np.testing.assert_array_equal(ng.kl_categorical(z, z), np.zeros(4))
    np.testing.assert_allclose(ng.kl_categorical(z, z + 123.0), np.zeros(4), atol=1e-12)


# ---------------------------------------------------------------- kl_gaussian


def test_kl_gaussian_matches_closed_form(rng):
    """Reference: log(sq/sp) + (sp^2 + (mp-mq)^2) / (2 sq^2) - 1/2."""
    mp, mq = rng.normal(size=(2, 10))
    sp, sq = np.exp(rng.normal(size=(2, 10)) * 0.5)
    kl = ng.kl_gaussian(mp, sp, mq, sq)
    ref = np.log(sq / sp) + (sp**2 + (mp - mq) ** 2) / (2 * sq**2) - 0.5
    np.testing.assert_allclose(kl, ref, rtol=1e-12, atol=1e-15)


def kl_unit_gaussian_series(delta, n_terms=40):
    """KL(N(0,1) || N(0,(1+delta)^2)) = log(1+delta) + 1/(2(1+delta)^2) - 1/2 as its Taylor series
    sum_k c_k delta^k, c_k = (-1)^(k+1)/k + (-1)^k (k+1)/2 (no cancellation for small delta)."""
    return math.fsum(((-1) ** (k + 1) / k + (-1) ** k * (k + 1) / 2) * delta**k for k in range(2, n_terms))


@pytest.mark.parametrize("s", [1.0 + 1e-7, 1.0 + 1e-5, 1.0004, 1.00049, 1.00051, 1.001, 1.01, 0.9995, 0.99])
def test_kl_gaussian_near_equal_sigmas_relative_accuracy(s):
    """Reference: Taylor series of log s + 1/(2 s^2) - 1/2 around s = 1 (both sides of the
    switch between series and expm1 inside natgrad), relative accuracy 1e-11."""
    delta = s - 1.0  # exact in float64 (Sterbenz)
    kl = ng.kl_gaussian(0.0, 1.0, 0.0, s)
    assert kl > 0
    assert kl == pytest.approx(kl_unit_gaussian_series(delta), rel=1e-11, abs=0)


def test_kl_gaussian_broadcasts_elementwise():
    """Reference: scalar closed form applied per element."""
    mu_q = np.array([0.0, 1.0, -2.0])
    kl = ng.kl_gaussian(0.0, 1.0, mu_q, 2.0)
    ref = np.log(2.0) + (1.0 + mu_q**2) / 8.0 - 0.5
    np.testing.assert_allclose(kl, ref, rtol=1e-13)


# ---------------------------------------------------------------- gaussian_fisher


@pytest.mark.parametrize("mu,sigma", [(0.0, 1.0), (1.3, 0.4), (-2.0, 3.7)])
def test_gaussian_fisher_sigma_equals_hessian_of_kl(mu, sigma):
    """Reference: autograd.hessian of kl_gaussian(mu, sigma, m, s) in (m, s) at (mu, sigma)."""

    def kl_of(theta):
        return ng.kl_gaussian(mu, sigma, theta[0], theta[1])

    hess = autograd.hessian(kl_of)(np.array([mu, sigma]))
    F = ng.gaussian_fisher(mu, sigma, parametrization="sigma")
    assert F.shape == (2, 2)
    np.testing.assert_allclose(F, hess, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F, np.diag([1 / sigma**2, 2 / sigma**2]), rtol=1e-14)


@pytest.mark.parametrize("mu,sigma", [(0.0, 1.0), (1.3, 0.4), (-2.0, 3.7)])
def test_gaussian_fisher_log_sigma_equals_hessian_of_kl(mu, sigma):
    """Reference: autograd.hessian of kl_gaussian in (m, t) with sigma_q = exp(t), at t = log sigma."""

    def kl_of(theta):
        return ng.kl_gaussian(mu, sigma, theta[0], anp.exp(theta[1]))

    hess = autograd.hessian(kl_of)(np.array([mu, np.log(sigma)]))
    F = ng.gaussian_fisher(mu, sigma, parametrization="log_sigma")
    np.testing.assert_allclose(F, hess, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F, np.diag([1 / sigma**2, 2.0]), rtol=1e-14)


def test_gaussian_fisher_default_is_sigma():
    """Reference: explicit parametrization='sigma'."""
    np.testing.assert_array_equal(ng.gaussian_fisher(0.3, 0.8), ng.gaussian_fisher(0.3, 0.8, parametrization="sigma"))


def test_gaussian_fisher_parametrizations_related_by_jacobian():
    """Reference: change of variables F_log = J^T F_sigma J with J = diag(1, sigma)."""
    sigma = 0.6
    J = np.diag([1.0, sigma])
    np.testing.assert_allclose(
        ng.gaussian_fisher(0.0, sigma, "log_sigma"), J.T @ ng.gaussian_fisher(0.0, sigma, "sigma") @ J, rtol=1e-14
    )


# ---------------------------------------------------------------- derivatives of the KLs


def test_grad_kl_categorical_closed_forms(rng):
    """Reference: d KL / d z_q = q - p and d KL / d z_p = p * (log p - log q - KL), by hand."""
    zp, zq = rng.normal(size=(2, 5)) * 2
    p, q = naive_softmax(zp), naive_softmax(zq)
    kl = naive_kl(zp, zq)
    np.testing.assert_allclose(autograd.grad(lambda z: ng.kl_categorical(zp, z))(zq), q - p, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        autograd.grad(lambda z: ng.kl_categorical(z, zq))(zp), p * (np.log(p) - np.log(q) - kl), rtol=1e-10, atol=1e-15
    )


def test_grad_kl_categorical_finite_for_extreme_logits():
    """Reference: q - p = [-1, 1, 0] and p * (r - KL) = 0 for p = e_0, q = e_1 (hand calculation)."""
    zp = np.array([1000.0, -1000.0, 0.0])
    zq = np.array([-1000.0, 1000.0, 0.0])
    np.testing.assert_allclose(autograd.grad(lambda z: ng.kl_categorical(zp, z))(zq), [-1.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(autograd.grad(lambda z: ng.kl_categorical(z, zq))(zp), [0.0, 0.0, 0.0], atol=1e-12)


def test_hessian_kl_categorical_at_coincidence_is_softmax_fisher(rng):
    """Reference: diag(p) - p p^T, the Fisher of the categorical distribution in its logits."""
    z = rng.normal(size=4)
    p = naive_softmax(z)
    H = autograd.hessian(lambda q: ng.kl_categorical(z, q))(z)
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), rtol=1e-12, atol=1e-15)


def test_grad_kl_gaussian_matches_closed_form():
    """Reference: d/d sigma_q KL = 1/sigma_q - (sigma_p^2 + (mu_p - mu_q)^2) / sigma_q^3."""
    mp, sp, mq, sq = 0.3, 0.8, -0.4, 1.7
    g = autograd.grad(lambda s: ng.kl_gaussian(mp, sp, mq, s))(sq)
    assert g == pytest.approx(1 / sq - (sp**2 + (mp - mq) ** 2) / sq**3, rel=1e-12, abs=0)


# ---------------------------------------------------------------- log_sigmoid and kl_bernoulli


def test_log_sigmoid_matches_the_textbook_form_and_both_tails():
    """Reference: -log1p(e^-z) for moderate z; z itself far in the lower tail; -e^-z far in the upper."""
    z = np.linspace(-20, 20, 41)
    np.testing.assert_allclose(ng.log_sigmoid(z), -np.log1p(np.exp(-z)), rtol=1e-14, atol=0)
    assert ng.log_sigmoid(-1000.0) == -1000.0
    assert ng.log_sigmoid(40.0) == pytest.approx(-math.exp(-40.0), rel=1e-15)
    # Its gradient is sigm(-z), finite in both tails.
    np.testing.assert_allclose(autograd.elementwise_grad(ng.log_sigmoid)(np.array([-800.0, 0.0, 40.0])), [1.0, 0.5, math.exp(-40.0)], rtol=1e-14)


def naive_kl_bernoulli(zp, zq):
    p, q = 1 / (1 + np.exp(-zp)), 1 / (1 + np.exp(-zq))
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def test_kl_bernoulli_matches_the_naive_formula_and_the_two_class_categorical(rng):
    """Reference: p log(p/q) + (1-p) log((1-p)/(1-q)) with textbook sigmoids; kl_categorical of logits (z, 0)."""
    zp, zq = rng.normal(size=(2, 4, 3)) * 2
    kl = ng.kl_bernoulli(zp, zq)
    assert kl.shape == (4, 3)
    np.testing.assert_allclose(kl, naive_kl_bernoulli(zp, zq), rtol=1e-12, atol=1e-15)
    two_class = ng.kl_categorical(np.stack([zp, np.zeros_like(zp)], -1), np.stack([zq, np.zeros_like(zq)], -1))
    np.testing.assert_allclose(kl, two_class, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ng.kl_bernoulli(zp, zp), np.zeros_like(zp))


def test_kl_bernoulli_extreme_logits_exact():
    """Reference: by hand, KL(Bern(1) || Bern(sigm(-800))) = -log sigm(-800) = 800, and the reverse
    KL(Bern(sigm(-800)) || Bern(1)) = -log(1 - sigm(800)) = 800 as well."""
    kl = ng.kl_bernoulli(np.array([800.0, -800.0, 30.0]), np.array([-800.0, 800.0, 30.0]))
    np.testing.assert_allclose(kl, [800.0, 800.0, 0.0], rtol=1e-13, atol=0)


def test_kl_bernoulli_tiny_perturbation_keeps_relative_accuracy():
    """Reference: the quadratic model 1/2 p (1 - p) dz^2, exact to O(dz^3)."""
    z = np.array([-3.0, 0.4, 6.0])
    dz = np.array([1e-6, -2e-6, 1e-6])
    p = 1 / (1 + np.exp(-z))
    kl = ng.kl_bernoulli(z, z + dz)
    assert np.all(kl > 0)
    np.testing.assert_allclose(kl, 0.5 * p * (1 - p) * dz**2, rtol=1e-5)


def test_hessian_kl_bernoulli_at_coincidence_is_the_bernoulli_fisher():
    """Reference: p (1 - p), the Fisher of Bern(sigm(z)) in z."""
    z = np.array([-2.0, 0.3, 1.7])
    H = autograd.hessian(lambda q: anp.sum(ng.kl_bernoulli(z, q)))(z)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(H, np.diag(p * (1 - p)), rtol=1e-12, atol=1e-15)
