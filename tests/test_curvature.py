"""The diagonal Fisher and K-FAC against explicit references.

References: the dense exact Fisher (itself checked against autograd Hessians of model_kl in
test_fisher.py), a per-row loop over autograd Jacobians of an independently written forward
pass, factors A and G built from that forward pass and autograd Jacobians with respect to
the pre-activations, and numpy solves on explicitly assembled Kronecker matrices.
"""

from __future__ import annotations

import warnings

import autograd
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import natgrad as ng
from natgrad.curvature import (
    block_diagonal_direction,
    block_diagonal_fisher,
    diagonal_direction,
    diagonal_fisher,
    kfac_direction,
    kfac_factors,
    kfac_matrix,
)
from tests.helpers import forward_with_shift, layer_blocks, make_data, planted_psd, probabilities, random_params, reference_logits


def reference_diagonal(model, params, X):
    """(1/N) sum_n sum_c p_nc (d log p_nc / d theta)^2, row by row with autograd Jacobians."""
    total = np.zeros(model.n_params)
    for n in range(X.shape[0]):
        x = X[n : n + 1]
        jac = autograd.jacobian(lambda theta: reference_logits(model, theta, x)[0])(params)
        p = probabilities(reference_logits(model, params, x))[0]
        for c in range(model.n_classes):
            score = (np.eye(model.n_classes)[c] - p) @ jac
            total += p[c] * score**2
    return total / X.shape[0]


def reference_factors(model, params, X):
    """A_l = mean [a, 1][a, 1]^T and G_l = mean J_s^T H J_s, J_s the logit Jacobian in the layer's pre-activation."""
    factors = []
    for layer, (n_in, n_out) in enumerate(model.shapes):
        A, G = np.zeros((n_in + 1, n_in + 1)), np.zeros((n_out, n_out))
        for n in range(X.shape[0]):
            x = X[n : n + 1]
            logits, inputs = forward_with_shift(model, params, x, layer, np.zeros(n_out))
            a = np.append(inputs[layer][0], 1.0)
            A += np.outer(a, a)
            jac = autograd.jacobian(lambda s: forward_with_shift(model, params, x, layer, s)[0][0])(np.zeros(n_out))
            p = probabilities(logits)[0]
            G += jac.T @ (np.diag(p) - np.outer(p, p)) @ jac
        factors.append((A / X.shape[0], G / X.shape[0]))
    return factors


def split_damping(A, G, damping, pi_correction=True):
    pi = np.sqrt((np.trace(A) / len(A)) / (np.trace(G) / len(G))) if pi_correction else 1.0
    return pi * np.sqrt(damping), np.sqrt(damping) / pi


def block_diagonal(blocks):
    size = sum(len(b) for b in blocks)
    out, start = np.zeros((size, size)), 0
    for b in blocks:
        out[start : start + len(b), start : start + len(b)] = b
        start += len(b)
    return out


def reference_kfac_matrix(factors, damping, pi_correction=True):
    blocks = []
    for A, G in factors:
        da, dg = split_damping(A, G, damping, pi_correction)
        blocks.append(np.kron(A + da * np.eye(len(A)), G + dg * np.eye(len(G))))
    return block_diagonal(blocks)


# ---------------------------------------------------------------- diagonal


def test_diagonal_equals_the_diagonal_of_the_dense_fisher(any_problem):
    model, params, X, _ = any_problem
    np.testing.assert_allclose(diagonal_fisher(model, params, X), np.diag(ng.fisher(model, params, X)), rtol=1e-12, atol=1e-15)


def test_diagonal_equals_a_per_row_autograd_reference(tanh_problem):
    model, params, X, _ = tanh_problem
    np.testing.assert_allclose(diagonal_fisher(model, params, X), reference_diagonal(model, params, X), rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("kind", ["empirical", "monte_carlo"])
def test_diagonal_of_other_kinds_matches_the_dense_fisher_of_that_kind(sigmoid_problem, kind):
    model, params, X, y = sigmoid_problem
    dense = ng.fisher(model, params, X, kind=kind, y=y, n_samples=3, rng=7)
    cheap = diagonal_fisher(model, params, X, kind=kind, y=y, n_samples=3, rng=7)
    np.testing.assert_allclose(cheap, np.diag(dense), rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- exact layer blocks


def reference_fisher_by_rows(model, params, X):
    """(1/N) sum_n J_n^T (diag(p_n) - p_n p_n^T) J_n, row by row with autograd Jacobians of an independent forward pass."""
    total = np.zeros((model.n_params, model.n_params))
    for n in range(X.shape[0]):
        x = X[n : n + 1]
        jac = autograd.jacobian(lambda theta: reference_logits(model, theta, x)[0])(params)
        p = probabilities(reference_logits(model, params, x))[0]
        total += jac.T @ (np.diag(p) - np.outer(p, p)) @ jac
    return total / X.shape[0]


def test_block_diagonal_equals_the_blocks_of_the_dense_fisher(any_problem):
    model, params, X, _ = any_problem
    F = ng.fisher(model, params, X)
    blocks = block_diagonal_fisher(model, params, X)
    assert [b.shape for b in blocks] == [(s.stop - s.start,) * 2 for s in layer_blocks(model)]
    for block, layer in zip(blocks, layer_blocks(model)):
        np.testing.assert_allclose(block, F[layer, layer], rtol=1e-12, atol=1e-15)


def test_block_diagonal_equals_a_per_row_autograd_reference(tanh_problem):
    model, params, X, _ = tanh_problem
    reference = reference_fisher_by_rows(model, params, X)
    for block, layer in zip(block_diagonal_fisher(model, params, X), layer_blocks(model)):
        np.testing.assert_allclose(block, reference[layer, layer], rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("kind", ["empirical", "monte_carlo"])
def test_block_diagonal_of_other_kinds_matches_the_dense_fisher_of_that_kind(sigmoid_problem, kind):
    model, params, X, y = sigmoid_problem
    dense = ng.fisher(model, params, X, kind=kind, y=y, n_samples=3, rng=7)
    for block, layer in zip(block_diagonal_fisher(model, params, X, kind=kind, y=y, n_samples=3, rng=7), layer_blocks(model)):
        np.testing.assert_allclose(block, dense[layer, layer], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("damping", [1e-3, 0.5])
def test_block_diagonal_direction_solves_the_damped_block_system(any_problem, damping):
    """Reference: numpy's solve of the explicitly assembled block-diagonal matrix plus lambda I."""
    model, params, X, _ = any_problem
    blocks = block_diagonal_fisher(model, params, X)
    g = np.random.default_rng(9).normal(size=model.n_params)
    expected = np.linalg.solve(block_diagonal(blocks) + damping * np.eye(model.n_params), g)
    np.testing.assert_allclose(block_diagonal_direction(blocks, g, damping), expected, rtol=1e-8, atol=1e-12)


def test_block_diagonal_direction_undamped_is_the_minimum_norm_solution():
    """Reference: the pseudo-inverse of each planted block, from its planted eigendecomposition."""
    rng = np.random.default_rng(12)
    first, _, first_pinv = planted_psd(5, 1, rng, null_noise=1e-16)
    second, _, second_pinv = planted_psd(3, 1, rng, null_noise=1e-16)
    g = rng.normal(size=8)
    expected = np.concatenate([first_pinv @ g[:5], second_pinv @ g[5:]])
    np.testing.assert_allclose(block_diagonal_direction([first, second], g), expected, rtol=1e-6, atol=1e-8)


def test_block_diagonal_keeps_more_than_the_diagonal_and_equals_the_natural_direction_for_one_layer(softmax_problem):
    """One layer: the block is the whole Fisher, so the block direction is the natural direction."""
    model, params, X, _ = softmax_problem
    g = np.random.default_rng(13).normal(size=model.n_params)
    d = block_diagonal_direction(block_diagonal_fisher(model, params, X), g, 0.01)
    np.testing.assert_allclose(d, ng.natural_direction(g, ng.fisher(model, params, X), damping=0.01), rtol=1e-10, atol=1e-12)


def test_block_diagonal_bad_inputs_raise_value_errors_naming_the_argument(softmax_problem):
    model, params, X, _ = softmax_problem
    with pytest.raises(ValueError, match="kind"):
        block_diagonal_fisher(model, params, X, kind="hessian")
    with pytest.raises(ValueError, match="params"):
        block_diagonal_fisher(model, params[:-1], X)
    blocks = block_diagonal_fisher(model, params, X)
    with pytest.raises(ValueError, match="blocks"):
        block_diagonal_direction([], np.ones(3))
    with pytest.raises(ValueError, match=r"blocks\[0\]"):
        block_diagonal_direction([np.ones((2, 3))], np.ones(2))
    with pytest.raises(ValueError, match=r"blocks\[0\]"):
        block_diagonal_direction([np.full((2, 2), np.nan)], np.ones(2))
    with pytest.raises(ValueError, match="grad"):
        block_diagonal_direction(blocks, np.ones(model.n_params + 1))
    with pytest.raises(ValueError, match="damping"):
        block_diagonal_direction(blocks, np.ones(model.n_params), damping=-1.0)
    with pytest.raises(ValueError, match="rtol"):
        block_diagonal_direction(blocks, np.ones(model.n_params), rtol=-1.0)


# ---------------------------------------------------------------- K-FAC factors


def test_kfac_factors_match_the_independent_reference(any_problem):
    model, params, X, _ = any_problem
    for (A, G), (A_ref, G_ref) in zip(kfac_factors(model, params, X), reference_factors(model, params, X)):
        np.testing.assert_allclose(A, A_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(G, G_ref, rtol=1e-9, atol=1e-14)


def test_kfac_is_exact_on_every_layer_block_for_one_row(any_problem):
    """For N = 1 the mean of Kronecker products is a Kronecker product: F_l = A_l kron G_l exactly."""
    model, params, X, _ = any_problem
    F = ng.fisher(model, params, X[:1])
    for block, (A, G) in zip(layer_blocks(model), kfac_factors(model, params, X[:1])):
        np.testing.assert_allclose(np.kron(A, G), F[block, block], rtol=1e-10, atol=1e-14)


def test_kfac_is_exact_for_softmax_regression_with_zero_weights():
    """W = 0: every row has the same probabilities, so H_n = H and F = mean(x x^T) kron H."""
    model = ng.softmax_regression(3, 4)
    X, _ = make_data(15, 3, 4, seed=21)
    params = np.concatenate([np.zeros(12), np.random.default_rng(22).normal(size=4)])
    (A, G), = kfac_factors(model, params, X)
    F = ng.fisher(model, params, X)
    np.testing.assert_allclose(np.kron(A, G), F, rtol=1e-10, atol=1e-14)
    # The Kronecker order matters: the other order is a different matrix.
    assert not np.allclose(np.kron(G, A), F, atol=1e-3)


def test_kfac_is_not_exact_in_general(tanh_problem):
    model, params, X, _ = tanh_problem
    F = ng.fisher(model, params, X)
    block = layer_blocks(model)[0]
    A, G = kfac_factors(model, params, X)[0]
    assert np.linalg.norm(np.kron(A, G) - F[block, block]) > 1e-3 * np.linalg.norm(F[block, block])


def test_kfac_monte_carlo_factors_match_the_exact_ones_on_average(softmax_problem):
    model, params, X, _ = softmax_problem
    exact = kfac_factors(model, params, X)
    sampled = kfac_factors(model, params, X, kind="monte_carlo", n_samples=4000, rng=3)
    for (A, G), (A_mc, G_mc) in zip(exact, sampled):
        np.testing.assert_array_equal(A, A_mc)
        np.testing.assert_allclose(G_mc, G, atol=0.03 * np.abs(G).max())


def flat_curvature(result):
    """The diagonal, or every K-FAC factor, as one flat vector."""
    if isinstance(result, np.ndarray):
        return result
    return np.concatenate([np.ravel(m) for pair in result for m in pair])


@pytest.mark.parametrize("function", [diagonal_fisher, kfac_factors])
def test_curvature_monte_carlo_default_rng_is_seed_zero(tanh_problem, function):
    """Reference: the documented default of natgrad.fisher, a Generator seeded with 0, one sample per row."""
    model, params, X, _ = tanh_problem
    default = flat_curvature(function(model, params, X, kind="monte_carlo"))
    seeded = flat_curvature(function(model, params, X, kind="monte_carlo", n_samples=1, rng=np.random.default_rng(0)))
    other = flat_curvature(function(model, params, X, kind="monte_carlo", rng=1))
    np.testing.assert_array_equal(default, seeded)
    assert not np.allclose(default, other)


def test_kfac_factors_empirical_kind_uses_the_data_labels(tanh_problem):
    """Reference: A is the same mean of augmented-input outer products; for the output layer
    G = mean_n r_n r_n^T with r_n = e_{y_n} - p_n, computed here with an independent forward pass."""
    model, params, X, y = tanh_problem
    empirical = kfac_factors(model, params, X, kind="empirical", y=y)
    exact = kfac_factors(model, params, X)
    for (A, _), (A_exact, _) in zip(empirical, exact):
        np.testing.assert_allclose(A, A_exact, rtol=1e-14, atol=1e-16)
    residual = np.eye(model.n_classes)[y] - probabilities(reference_logits(model, params, X))
    np.testing.assert_allclose(empirical[-1][1], residual.T @ residual / len(y), rtol=1e-10, atol=1e-15)
    with pytest.raises(ValueError, match=r"^y: kind='empirical' needs the data's targets y$"):
        kfac_factors(model, params, X, kind="empirical")


# ---------------------------------------------------------------- K-FAC solve


@pytest.mark.parametrize("damping", [1e-3, 0.1, 2.0])
@pytest.mark.parametrize("pi_correction", [True, False])
def test_kfac_direction_solves_the_block_kronecker_system(any_problem, damping, pi_correction):
    model, params, X, _ = any_problem
    factors = kfac_factors(model, params, X)
    g = np.random.default_rng(5).normal(size=model.n_params)
    M = reference_kfac_matrix(factors, damping, pi_correction)
    np.testing.assert_allclose(kfac_matrix(factors, damping, pi_correction), M, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(kfac_direction(factors, g, damping, pi_correction), np.linalg.solve(M, g), rtol=1e-7, atol=1e-10)


def test_kfac_direction_undamped_is_the_minimum_norm_solution():
    """The output factor G is singular (G 1 = 0); undamped, the direction is lstsq's minimum-norm solution."""
    model = ng.softmax_regression(3, 4)
    X, _ = make_data(12, 3, 4, seed=1)
    params = random_params(model, seed=2, scale=0.7)
    factors = kfac_factors(model, params, X)
    A, G = factors[0]
    assert np.abs(G @ np.ones(4)).max() < 1e-15
    g = np.random.default_rng(3).normal(size=model.n_params)
    expected = np.linalg.lstsq(np.kron(A, G), g, rcond=None)[0]
    np.testing.assert_allclose(kfac_direction(factors, g, 0.0), expected, rtol=1e-8, atol=1e-10)


def poison_allocator(shape):
    """Free a few NaN-filled arrays of ``shape``, so that memory numpy hands out next holds NaN, not zeros."""
    for _ in range(4):
        block = np.full(shape, np.nan)
        del block


def test_minimum_norm_solves_write_every_entry_of_their_result():
    """Reference: d_i = 0 where the curvature is zero (diagonal), and lstsq's minimum-norm K-FAC solve.

    Entries skipped by np.divide(..., where=...) must come from an initialised array: with
    freshly freed NaN memory under the result and every warning an error, nothing but the
    reference values may appear.
    """
    diagonal, grad = np.array([2.0, 0.0, 0.5, 0.0]), np.array([1.0, 3.0, -1.0, 2.0])
    model = ng.softmax_regression(3, 4)
    X, _ = make_data(12, 3, 4, seed=1)
    factors = kfac_factors(model, random_params(model, seed=2, scale=0.7), X)
    g = np.random.default_rng(3).normal(size=model.n_params)
    expected = np.linalg.lstsq(np.kron(*factors[0]), g, rcond=None)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            poison_allocator(grad.shape)
            np.testing.assert_array_equal(diagonal_direction(diagonal, grad), [0.5, 0.0, -2.0, 0.0])
            poison_allocator((4, 4))
            np.testing.assert_allclose(kfac_direction(factors, g), expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("scale", [1e-4, 1e4])
def test_kfac_direction_undamped_is_scale_equivariant_for_large_and_small_factors(scale):
    """Reference: the minimum-norm solve of (c A kron G) d = g is d(A, G) / c; a cutoff that is not relative
    to the largest eigenvalue would keep (or drop) round-off eigenvalues once the factors are far from size 1."""
    model = ng.softmax_regression(3, 4)
    X, _ = make_data(12, 3, 4, seed=1)
    factors = kfac_factors(model, random_params(model, seed=2, scale=0.7), X)
    g = np.random.default_rng(3).normal(size=model.n_params)
    (A, G), = factors
    scaled = kfac_direction([(scale * A, G)], g)
    np.testing.assert_allclose(scaled * scale, kfac_direction(factors, g), rtol=1e-8, atol=1e-10 * np.abs(kfac_direction(factors, g)).max())
    np.testing.assert_allclose(kfac_direction([(A, scale * G)], g) * scale, kfac_direction(factors, g), rtol=1e-8, atol=1e-10 * np.abs(kfac_direction(factors, g)).max())
    np.testing.assert_allclose(kfac_direction([(scale * A, scale * G)], g) * scale**2, kfac_direction(factors, g), rtol=1e-8, atol=1e-10 * np.abs(kfac_direction(factors, g)).max())


def test_kfac_direction_of_zero_factors_is_zero():
    """Reference: the minimum-norm solution of 0 d = g is d = 0 (every eigenvalue product is 0, none may be inverted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = kfac_direction([(np.zeros((2, 2)), np.zeros((3, 3)))], np.arange(6.0))
    np.testing.assert_array_equal(d, np.zeros(6))


@pytest.mark.parametrize("zero", ["A", "G"])
def test_pi_correction_falls_back_to_one_when_a_factor_has_zero_trace(zero):
    """Reference: pi = 1 (damping sqrt(lambda) on both factors) when tr A or tr G is 0, where pi^2 would be 0 or infinite."""
    A, G = np.diag([2.0, 1.0, 0.5]), np.diag([3.0, 1.0])
    if zero == "A":
        A = np.zeros((3, 3))
    else:
        G = np.zeros((2, 2))
    expected = np.kron(A + 0.2 * np.eye(3), G + 0.2 * np.eye(2))
    np.testing.assert_allclose(kfac_matrix([(A, G)], damping=0.04), expected, rtol=1e-15)


def test_kfac_defaults_are_no_damping_and_the_pi_correction(tanh_problem):
    """Reference: kfac_matrix(factors) is the block-diagonal of kron(A_l, G_l); damped, the defaults equal pi_correction=True."""
    model, params, X, _ = tanh_problem
    factors = kfac_factors(model, params, X)
    np.testing.assert_array_equal(kfac_matrix(factors), reference_kfac_matrix(factors, 0.0, True))
    g = np.random.default_rng(4).normal(size=model.n_params)
    np.testing.assert_array_equal(kfac_direction(factors, g, 0.1), kfac_direction(factors, g, 0.1, pi_correction=True))
    assert not np.allclose(kfac_direction(factors, g, 0.1), kfac_direction(factors, g, 0.1, pi_correction=False))
    np.testing.assert_array_equal(kfac_matrix(factors, 0.1), kfac_matrix(factors, 0.1, pi_correction=True))


def test_kfac_direction_equals_the_exact_natural_direction_where_kfac_is_exact():
    model = ng.softmax_regression(3, 4)
    X, _ = make_data(15, 3, 4, seed=21)
    params = np.concatenate([np.zeros(12), np.random.default_rng(22).normal(size=4)])
    g = np.random.default_rng(23).normal(size=model.n_params)
    d = kfac_direction(kfac_factors(model, params, X), g, 0.0)
    np.testing.assert_allclose(d, ng.natural_direction(g, ng.fisher(model, params, X)), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("scale_a, scale_g", [(1.0, 1.0), (1e-6, 1e4), (1e6, 1e-8)])
def test_kfac_direction_cuts_each_factor_at_its_own_round_off(scale_a, scale_g):
    """Reference: D = A^+ V G^+ with both pseudo-inverses from the planted eigendecompositions.
    A (4 x 4) has genuine eigenvalues down to 1e-8 of its largest and a null direction with
    round-off 1e-15; G (3 x 3) a null direction with round-off 1e-15 and eigenvalues down to 1e-8.
    Their smallest kept product is 1e-16 of the largest: a dense cutoff would drop it, but each
    factor resolves its own eigenvalue, so the product is kept and its component is exact to
    about 1e-8. The rule is relative per factor, so scaling A and G changes nothing but the
    overall factor."""
    rng = np.random.default_rng(11)
    A, _, A_pinv = planted_psd(4, 1, rng, scale=scale_a, null_noise=1e-15, genuine=[1e-8, 0.1, 1.0])
    G, _, G_pinv = planted_psd(3, 1, rng, scale=scale_g, null_noise=1e-15, genuine=[1e-8, 1.0])
    _, A_vectors = np.linalg.eigh(A)
    _, G_vectors = np.linalg.eigh(G)
    # A gradient with a large component along the product of the two small eigenvalues.
    V = np.outer(A_vectors[:, 1], G_vectors[:, 1]) + rng.normal(size=(4, 3))
    expected = A_pinv @ V @ G_pinv
    d = kfac_direction([(A, G)], V.ravel(), damping=0.0)
    np.testing.assert_allclose(d, expected.ravel(), rtol=0, atol=1e-6 * np.abs(expected).max())


@given(seed=st.integers(0, 10_000), damping=st.floats(1e-4, 10.0))
def test_kfac_matrix_is_symmetric_positive_definite_and_inverted_by_kfac_direction(seed, damping):
    model = ng.mlp([2, 3, 3], activation="tanh")
    X, _ = make_data(6, 2, 3, seed=seed)
    params = random_params(model, seed=seed + 1)
    factors = kfac_factors(model, params, X)
    M = kfac_matrix(factors, damping)
    np.testing.assert_allclose(M, M.T, atol=1e-14)
    assert np.linalg.eigvalsh(M).min() > 0
    v = np.random.default_rng(seed + 2).normal(size=model.n_params)
    np.testing.assert_allclose(kfac_direction(factors, M @ v, damping), v, rtol=1e-6, atol=1e-8 * np.abs(v).max())


# ---------------------------------------------------------------- diagonal solve


def test_diagonal_direction_divides_entrywise_and_zeroes_empty_entries():
    diagonal = np.array([2.0, 0.0, 0.5])
    g = np.array([1.0, 3.0, -1.0])
    np.testing.assert_allclose(diagonal_direction(diagonal, g), [0.5, 0.0, -2.0])
    np.testing.assert_allclose(diagonal_direction(diagonal, g, damping=0.5), [1.0 / 2.5, 3.0 / 0.5, -1.0 / 1.0])


# ---------------------------------------------------------------- validation


def test_bad_inputs_raise_value_errors_naming_the_argument(softmax_problem):
    model, params, X, _ = softmax_problem
    with pytest.raises(ValueError, match="kind"):
        diagonal_fisher(model, params, X, kind="hessian")
    with pytest.raises(ValueError, match="y"):
        kfac_factors(model, params, X, kind="empirical")
    with pytest.raises(ValueError, match="params"):
        kfac_factors(model, params[:-1], X)
    with pytest.raises(ValueError, match="model"):
        diagonal_fisher("model", params, X)
    factors = kfac_factors(model, params, X)
    with pytest.raises(ValueError, match="damping"):
        kfac_direction(factors, np.ones(model.n_params), damping=-1.0)
    with pytest.raises(ValueError, match="grad"):
        kfac_direction(factors, np.ones(model.n_params + 1))
    with pytest.raises(ValueError, match="factors"):
        kfac_direction([], np.ones(3))
    with pytest.raises(ValueError, match="factors"):
        kfac_matrix([(np.ones((2, 3)), np.eye(2))])
    with pytest.raises(ValueError, match="diagonal"):
        diagonal_direction(np.array([-1.0, 1.0]), np.ones(2))
