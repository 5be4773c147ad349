"""Property-based tests (hypothesis): invariants that must hold for every input.

References: mathematical identities (KL >= 0, KL(p||p) = 0, Fisher symmetric PSD),
numpy.linalg.eigvalsh, the dense Fisher for the matrix-free product, and the quadratic
KL model computed by hand for the natural step. Examples are derandomized (see conftest).
"""

from __future__ import annotations

import autograd
import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import natgrad as ng
from tests.helpers import planted_psd

FAST = settings(max_examples=25, deadline=None)
SLOW = settings(max_examples=12, deadline=None)

logit_values = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False, allow_infinity=False)
extreme_logit_values = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def logit_pairs(draw, elements=logit_values):
    """Two logit arrays of the same shape (1 or 2 axes, 2..6 classes)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=2, max_side=6))
    zp = draw(hnp.arrays(np.float64, shape, elements=elements))
    zq = draw(hnp.arrays(np.float64, shape, elements=elements))
    return zp, zq


@st.composite
def small_problems(draw):
    """A random small model (softmax regression or tanh/sigmoid MLP, P < 100), data and params."""
    seed = draw(seeds)
    n_features = draw(st.integers(1, 4))
    n_classes = draw(st.integers(2, 4))
    hidden = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    activation = draw(st.sampled_from(["tanh", "sigmoid"]))
    n_rows = draw(st.integers(1, 8))
    scale = draw(st.floats(0.1, 3.0))
    model = ng.mlp([n_features, *hidden, n_classes], activation=activation)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    y = rng.integers(0, n_classes, size=n_rows)
    params = scale * rng.normal(size=model.n_params)
    return model, params, X, y


# ---------------------------------------------------------------- KL


@FAST
@given(logit_pairs())
def test_kl_categorical_nonnegative_and_zero_on_equal(pair):
    """Reference: Gibbs' inequality KL >= 0, with KL(p||p) = 0 exactly."""
    zp, zq = pair
    kl = ng.kl_categorical(zp, zq)
    assert kl.shape == zp.shape[:-1]
    assert np.all(np.isfinite(kl))
    assert np.all(kl >= 0.0)
    np.testing.assert_array_equal(ng.kl_categorical(zp, zp), np.zeros(zp.shape[:-1]))


@FAST
@given(logit_pairs(elements=extreme_logit_values))
def test_kl_categorical_finite_nonnegative_for_extreme_logits(pair):
    """Reference: KL >= 0 and finite, bounded by max|z_p - z_q| * 2 (log-ratio bound)."""
    zp, zq = pair
    kl = ng.kl_categorical(zp, zq)
    assert np.all(np.isfinite(kl)) and np.all(kl >= 0.0)
    # |log p_c - log q_c| <= 2 max_c |zp_c - zq_c|, so KL <= 2 max |zp - zq|.
    bound = 2.0 * np.max(np.abs(zp - zq), axis=-1)
    assert np.all(kl <= bound * (1 + 1e-12) + 1e-12)


@FAST
@given(logit_pairs(), st.floats(-100.0, 100.0))
def test_kl_categorical_invariant_to_logit_shift(pair, shift):
    """Reference: softmax(z + c) = softmax(z), so the KL is unchanged by a common shift."""
    zp, zq = pair
    kl = ng.kl_categorical(zp, zq)
    np.testing.assert_allclose(ng.kl_categorical(zp + shift, zq), kl, rtol=1e-6, atol=1e-10)


positive = st.floats(min_value=1e-2, max_value=1e2)
real = st.floats(min_value=-1e2, max_value=1e2)


@FAST
@given(
    hnp.arrays(np.float64, st.integers(1, 5), elements=real),
    hnp.arrays(np.float64, st.integers(1, 5), elements=positive),
    st.data(),
)
def test_kl_gaussian_nonnegative_and_zero_on_equal(mu_p, sigma_p, data):
    """Reference: KL >= 0 elementwise and KL(N||N) = 0 exactly."""
    n = min(mu_p.size, sigma_p.size)
    mu_p, sigma_p = mu_p[:n], sigma_p[:n]
    mu_q = data.draw(hnp.arrays(np.float64, n, elements=real))
    sigma_q = data.draw(hnp.arrays(np.float64, n, elements=positive))
    kl = ng.kl_gaussian(mu_p, sigma_p, mu_q, sigma_q)
    assert kl.shape == (n,)
    assert np.all(np.isfinite(kl)) and np.all(kl >= 0.0)
    np.testing.assert_array_equal(ng.kl_gaussian(mu_p, sigma_p, mu_p, sigma_p), np.zeros(n))


# ---------------------------------------------------------------- Fisher


@SLOW
@given(small_problems())
def test_fisher_symmetric_psd(problem):
    """Reference: F == F.T and numpy eigvalsh(F) >= -1e-12 * max|F| (exact and empirical)."""
    model, params, X, y = problem
    for F in (ng.fisher(model, params, X), ng.fisher(model, params, X, kind="empirical", y=y)):
        assert F.shape == (model.n_params, model.n_params)
        scale = max(np.abs(F).max(), 1e-300)
        np.testing.assert_allclose(F, F.T, rtol=0, atol=1e-14 * scale)
        assert np.linalg.eigvalsh(F).min() >= -1e-12 * scale


@SLOW
@given(small_problems(), seeds)
def test_fisher_vector_product_equals_dense(problem, seed):
    """Reference: dense fisher(...) @ v."""
    model, params, X, _ = problem
    v = np.random.default_rng(seed).normal(size=model.n_params)
    dense = ng.fisher(model, params, X) @ v
    np.testing.assert_allclose(
        ng.fisher_vector_product(model, params, X)(v), dense, rtol=1e-9, atol=1e-12 * max(np.linalg.norm(dense), 1e-300)
    )


@SLOW
@given(small_problems())
def test_fisher_equals_kl_hessian(problem):
    """Reference: autograd.hessian of model_kl in params_q at coincidence."""
    model, params, X, _ = problem
    H = autograd.hessian(lambda q: ng.model_kl(model, params, q, X))(params)
    F = ng.fisher(model, params, X)
    np.testing.assert_allclose(F, H, rtol=1e-8, atol=1e-11 * max(np.abs(H).max(), 1e-300))


# ---------------------------------------------------------------- natural step


@SLOW
@given(
    small_problems(),
    st.floats(min_value=1e-8, max_value=1.0),
    st.sampled_from([0.0, 1e-4, 1e-2, 1.0]),
    st.booleans(),
)
def test_natural_step_hits_quadratic_budget(problem, kl_budget, damping, matrix_free):
    """Reference: 1/2 delta^T (F + damping I) delta with the dense Fisher equals kl_budget (rel 1e-9).
    Matrix-free only with damping > 0 (CG on a singular undamped system need not converge)."""
    model, params, X, y = problem
    F = ng.fisher(model, params, X)
    g = autograd.grad(lambda p: ng.cross_entropy(model, p, X, y))(params)
    if np.linalg.norm(g) < 1e-8 or (damping == 0.0 and np.linalg.norm(F @ np.linalg.pinv(F) @ g) < 1e-8):
        return  # no descent direction to scale
    use_callable = matrix_free and damping > 0
    fisher_arg = ng.fisher_vector_product(model, params, X) if use_callable else F
    new = ng.natural_step(params, g, fisher_arg, kl_budget, damping=damping)
    delta = new - params
    quad = 0.5 * delta @ F @ delta + 0.5 * damping * delta @ delta
    np.testing.assert_allclose(quad, kl_budget, rtol=1e-9)


# ---------------------------------------------------------------- minimum-norm solve


@st.composite
def planted_systems(draw):
    """A PSD matrix with a planted null space (possibly none), its noise and a gradient."""
    seed = draw(seeds)
    n = draw(st.integers(2, 12))
    n_null = draw(st.integers(0, n - 1))
    smallest = draw(st.sampled_from([1.0, 1e-2, 1e-6]))
    scale = 2.0 ** draw(st.integers(-40, 40))
    rng = np.random.default_rng(seed)
    F, Z, pinv = planted_psd(n, n_null, rng, smallest=smallest, scale=scale, null_noise=1e-15, noise=1e-16)
    return F, Z, pinv, rng.normal(size=n)


@SLOW
@given(planted_systems())
def test_natural_direction_is_the_planted_pseudo_inverse_solution(system):
    """Reference: the pseudo-inverse of the noiseless matrix from its planted eigenvectors; the
    direction has no component along the planted null space (1e-8 relative)."""
    F, Z, pinv, g = system
    expected = pinv @ g
    d = ng.natural_direction(g, F)
    np.testing.assert_allclose(d, expected, rtol=0, atol=1e-7 * np.linalg.norm(expected))
    assert np.linalg.norm(Z.T @ d) <= 1e-8 * np.linalg.norm(expected)


@SLOW
@given(planted_systems(), st.integers(-20, 20), st.floats(-10.0, 10.0).filter(lambda c: abs(c) > 1e-3))
def test_natural_direction_scales_as_one_over_the_fisher_and_is_orthogonally_invariant(system, power, c):
    """Reference: identities of the pseudo-inverse, (zeta F)^+ (c g) = (c / zeta) F^+ g (the cutoff
    is relative, so a rescaled Fisher keeps the same eigenvalues; zeta a power of 2 so the scaling
    is exact in float64) and (R^T F R)^+ R^T g = R^T F^+ g for an orthogonal R."""
    F, _, _, g = system
    d = ng.natural_direction(g, F)
    zeta = 2.0**power
    np.testing.assert_allclose(ng.natural_direction(c * g, zeta * F), (c / zeta) * d, rtol=0, atol=1e-12 * abs(c / zeta) * np.linalg.norm(d))
    R, _ = np.linalg.qr(np.random.default_rng(power + 100).normal(size=F.shape))
    rotated = ng.natural_direction(R.T @ g, R.T @ F @ R)
    np.testing.assert_allclose(R @ rotated, d, rtol=0, atol=1e-7 * np.linalg.norm(d))


# ---------------------------------------------------------------- every output likelihood


@st.composite
def likelihood_problems(draw):
    """A random small model with a random likelihood (P < 100), data, params and targets of its form."""
    likelihood = draw(st.sampled_from(["categorical", "bernoulli", "gaussian"]))
    seed = draw(seeds)
    n_features = draw(st.integers(1, 4))
    n_outputs = draw(st.integers(2 if likelihood == "categorical" else 1, 4))
    hidden = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    activation = draw(st.sampled_from(["tanh", "sigmoid"]))
    n_rows = draw(st.integers(1, 8))
    scale = draw(st.floats(0.1, 3.0))
    model = ng.mlp([n_features, *hidden, n_outputs], activation=activation, likelihood=likelihood)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    if likelihood == "categorical":
        y = rng.integers(0, n_outputs, size=n_rows)
    elif likelihood == "bernoulli":
        y = np.where(rng.random((n_rows, n_outputs)) < 0.3, rng.integers(0, 2, size=(n_rows, n_outputs)), rng.random((n_rows, n_outputs)))
    else:
        y = 3.0 * rng.normal(size=(n_rows, n_outputs))
    params = scale * rng.normal(size=model.n_params)
    return model, params, X, y


@SLOW
@given(likelihood_problems(), seeds)
def test_every_kind_of_fisher_is_symmetric_psd_for_every_likelihood(problem, seed):
    """Reference: F == F.T and numpy eigvalsh(F) >= -1e-12 * max|F| (exact, empirical, Monte-Carlo)."""
    model, params, X, y = problem
    for kind in ("exact", "empirical", "monte_carlo"):
        F = ng.fisher(model, params, X, kind=kind, y=y, n_samples=2, rng=seed)
        scale = max(np.abs(F).max(), 1e-300)
        np.testing.assert_allclose(F, F.T, rtol=0, atol=1e-14 * scale)
        assert np.linalg.eigvalsh(F).min() >= -1e-12 * scale


@SLOW
@given(likelihood_problems(), seeds)
def test_matrix_free_equals_dense_for_every_likelihood(problem, seed):
    """Reference: dense fisher(...) @ v, v^T F v, and the diagonal of the dense Fisher."""
    model, params, X, _ = problem
    F = ng.fisher(model, params, X)
    v = np.random.default_rng(seed).normal(size=model.n_params)
    lin = ng.linearize(model, params, X)
    dense = F @ v
    np.testing.assert_allclose(lin.fisher_vector_product(v), dense, rtol=1e-9, atol=1e-12 * max(np.linalg.norm(dense), 1e-300))
    assert abs(lin.fisher_norm_squared(v) - v @ dense) <= 1e-9 * max(abs(v @ dense), 1e-300) + 1e-15
    np.testing.assert_allclose(ng.curvature.diagonal_fisher(model, params, X), np.diag(F), rtol=1e-12, atol=1e-15 * max(np.abs(F).max(), 1e-300))


@SLOW
@given(likelihood_problems())
def test_fisher_equals_kl_hessian_for_every_likelihood(problem):
    """Reference: autograd.hessian of model_kl in params_q at coincidence."""
    model, params, X, _ = problem
    H = autograd.hessian(lambda q: ng.model_kl(model, params, q, X))(params)
    np.testing.assert_allclose(ng.fisher(model, params, X), H, rtol=1e-8, atol=1e-11 * max(np.abs(H).max(), 1e-300))


@SLOW
@given(likelihood_problems())
def test_linearization_gradient_equals_autograd_for_every_likelihood(problem):
    """Reference: autograd.grad of ng.negative_log_likelihood."""
    model, params, X, y = problem
    g = autograd.grad(lambda p: ng.negative_log_likelihood(model, p, X, y))(params)
    np.testing.assert_allclose(ng.linearize(model, params, X).gradient(y), g, rtol=1e-9, atol=1e-13 * max(np.abs(g).max(), 1e-300))


@FAST
@given(likelihood_problems(), st.floats(0.0, 5.0))
def test_model_kl_nonnegative_and_zero_on_equal_for_every_likelihood(problem, size):
    """Reference: Gibbs' inequality, KL >= 0, and KL(theta, theta) = 0 exactly."""
    model, params, X, _ = problem
    other = params + size * np.random.default_rng(0).normal(size=params.size)
    assert ng.model_kl(model, params, other, X) >= 0.0
    assert ng.model_kl(model, params, params, X) == 0.0


@FAST
@given(logit_pairs(elements=extreme_logit_values))
def test_kl_bernoulli_finite_nonnegative_and_zero_on_equal_for_extreme_logits(pair):
    """Reference: KL >= 0, finite, 0 on equal logits, and at most |z_p - z_q| (each log-ratio is bounded by it)."""
    zp, zq = pair
    kl = ng.kl_bernoulli(zp, zq)
    assert kl.shape == zp.shape
    assert np.all(np.isfinite(kl)) and np.all(kl >= 0.0)
    assert np.all(kl <= np.abs(zp - zq) * (1 + 1e-12) + 1e-12)
    np.testing.assert_array_equal(ng.kl_bernoulli(zp, zp), np.zeros(zp.shape))


@FAST
@given(hnp.arrays(np.float64, st.integers(1, 4), elements=extreme_logit_values), st.data())
def test_bernoulli_loss_finite_nonnegative_and_bounded_for_extreme_outputs(z, data):
    """Reference: 0 <= l_n <= sum_k (|z_k| + log 2) (each term is a softplus, at most |z| + log 2), for targets in [0, 1].
    The outputs z are the biases of a logistic regression on the input 0."""
    y = data.draw(hnp.arrays(np.float64, (1, z.size), elements=st.floats(0.0, 1.0)))
    model = ng.logistic_regression(1, z.size)
    loss = ng.negative_log_likelihood(model, np.concatenate([np.zeros(z.size), z]), np.zeros((1, 1)), y)
    assert np.isfinite(loss) and 0.0 <= loss <= np.sum(np.abs(z) + np.log(2.0)) * (1 + 1e-12)
