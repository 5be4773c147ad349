"""The diagonal Fisher and K-FAC against explicit references.

References: the dense exact Fisher (itself checked against autograd Hessians of model_kl in
test_fisher.py), a per-row loop over autograd Jacobians of an independently written forward
pass, factors A and G built from that forward pass and autograd Jacobians with respect to
the pre-activations, and numpy solves on explicitly assembled Kronecker matrices.
"""

from __future__ import annotations

import autograd
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import natgrad as ng
from natgrad.curvature import diagonal_direction, diagonal_fisher, kfac_direction, kfac_factors, kfac_matrix
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
