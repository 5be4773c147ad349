"""The sigmoid-to-tanh reparametrisation: same logits, a constant linear map, its inverse.

References: the hand-written forward pass of tests.helpers (textbook logistic 1 / (1 + exp(-z))
and numpy tanh), autograd's jacobian of the map, hand-written formulas for one hidden layer,
numpy.linalg.inv, and natgrad's Fisher and autograd gradients of the two networks.
"""

from __future__ import annotations

import numpy as np
import pytest
from autograd import grad, jacobian
from hypothesis import given
from hypothesis import strategies as st

import natgrad as ng
from natgrad.curvature import diagonal_direction, diagonal_fisher, kfac_direction, kfac_factors
from natgrad.reparametrize import sigmoid_to_tanh_jacobian, sigmoid_to_tanh_params, tanh_to_sigmoid_params
from tests.helpers import make_data, random_params, reference_logits

SIZES = [(2, 3), (2, 6, 3), (3, 5, 4, 3), (2, 4, 4, 4, 4, 2), (1, 7, 1, 2)]


def pair(sizes):
    return ng.mlp(sizes, activation="sigmoid"), ng.mlp(sizes, activation="tanh")


@pytest.mark.parametrize("sizes", SIZES)
def test_the_tanh_network_has_the_same_logits(sizes):
    sigmoid, tanh = pair(sizes)
    rng = np.random.default_rng(len(sizes))
    X = 3.0 * rng.normal(size=(40, sizes[0]))
    params = random_params(sigmoid, seed=sum(sizes), scale=1.5)
    np.testing.assert_allclose(
        reference_logits(tanh, sigmoid_to_tanh_params(sigmoid, params), X),
        reference_logits(sigmoid, params, X),
        rtol=0,
        atol=1e-12,
    )


@given(
    hidden=st.lists(st.integers(1, 5), min_size=0, max_size=3),
    n_features=st.integers(1, 4),
    n_classes=st.integers(2, 4),
    seed=st.integers(0, 2**16),
)
def test_same_logits_for_any_layer_sizes(hidden, n_features, n_classes, seed):
    sizes = (n_features, *hidden, n_classes)
    sigmoid, tanh = pair(sizes)
    X, _ = make_data(15, n_features, n_classes, seed=seed)
    params = random_params(sigmoid, seed=seed + 1, scale=2.0)
    np.testing.assert_allclose(
        reference_logits(tanh, sigmoid_to_tanh_params(sigmoid, params), X),
        reference_logits(sigmoid, params, X),
        rtol=0,
        atol=1e-11,
    )


def test_one_hidden_layer_matches_the_hand_written_formulas():
    """W1/2, b1/2 for the layer feeding tanh units; W2/2, b2 + 1/2 * column sums for the layer reading them."""
    sigmoid, tanh = pair((3, 4, 2))
    params = random_params(sigmoid, seed=11)
    (W1, b1), (W2, b2) = sigmoid.unflatten(params)
    expected = tanh.flatten([(W1 / 2, b1 / 2), (W2 / 2, b2 + 0.5 * W2.sum(axis=0))])
    np.testing.assert_allclose(sigmoid_to_tanh_params(sigmoid, params), expected, rtol=0, atol=1e-15)


def test_softmax_regression_is_left_unchanged():
    sigmoid = ng.mlp((3, 4), activation="sigmoid")
    params = random_params(sigmoid, seed=2)
    np.testing.assert_array_equal(sigmoid_to_tanh_params(sigmoid, params), params)
    np.testing.assert_array_equal(sigmoid_to_tanh_jacobian(sigmoid), np.eye(sigmoid.n_params))


@pytest.mark.parametrize("sizes", SIZES)
def test_jacobian_equals_autograd_and_the_map_is_linear(sizes):
    sigmoid, _ = pair(sizes)
    params = random_params(sigmoid, seed=3)
    M = sigmoid_to_tanh_jacobian(sigmoid)
    assert M.shape == (sigmoid.n_params, sigmoid.n_params)
    np.testing.assert_allclose(M, jacobian(lambda p: sigmoid_to_tanh_params(sigmoid, p))(params), rtol=0, atol=1e-15)
    np.testing.assert_allclose(M @ params, sigmoid_to_tanh_params(sigmoid, params), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(sigmoid_to_tanh_params(sigmoid, np.zeros(sigmoid.n_params)), 0.0)


@pytest.mark.parametrize("sizes", SIZES)
def test_inverse_map_round_trips_and_has_the_inverse_jacobian(sizes):
    sigmoid, tanh = pair(sizes)
    params = random_params(sigmoid, seed=4, scale=1.3)
    np.testing.assert_allclose(tanh_to_sigmoid_params(tanh, sigmoid_to_tanh_params(sigmoid, params)), params, rtol=0, atol=1e-13)
    np.testing.assert_allclose(sigmoid_to_tanh_params(sigmoid, tanh_to_sigmoid_params(tanh, params)), params, rtol=0, atol=1e-13)
    inverse_jacobian = jacobian(lambda p: tanh_to_sigmoid_params(tanh, p))(params)
    np.testing.assert_allclose(inverse_jacobian, np.linalg.inv(sigmoid_to_tanh_jacobian(sigmoid)), rtol=0, atol=1e-12)


def test_inverse_map_gives_a_sigmoid_network_with_the_tanh_logits():
    sigmoid, tanh = pair((2, 5, 4, 3))
    X, _ = make_data(20, 2, 3, seed=8)
    params = random_params(tanh, seed=9, scale=1.5)
    np.testing.assert_allclose(
        reference_logits(sigmoid, tanh_to_sigmoid_params(tanh, params), X), reference_logits(tanh, params, X), rtol=0, atol=1e-12
    )


def test_gradient_and_fisher_transform_with_the_jacobian(sigmoid_problem):
    """g_sig = M^T g_tanh and F_sig = M^T F_tanh M (chapter 6), with natgrad's Fisher and autograd's gradient."""
    sigmoid, params, X, y = sigmoid_problem
    tanh = ng.mlp(sigmoid.layer_sizes, activation="tanh")
    params_tanh = sigmoid_to_tanh_params(sigmoid, params)
    M = sigmoid_to_tanh_jacobian(sigmoid)
    g_sigmoid = grad(lambda p: ng.cross_entropy(sigmoid, p, X, y))(params)
    g_tanh = grad(lambda p: ng.cross_entropy(tanh, p, X, y))(params_tanh)
    np.testing.assert_allclose(g_sigmoid, M.T @ g_tanh, rtol=0, atol=1e-13)
    np.testing.assert_allclose(ng.fisher(sigmoid, params, X), M.T @ ng.fisher(tanh, params_tanh, X) @ M, rtol=0, atol=1e-13)


def test_minimum_norm_natural_directions_differ_only_in_the_null_space(sigmoid_problem):
    """Undamped, F_tanh (M d_sig - d_tanh) = 0: M d_sig solves the tanh system too."""
    sigmoid, params, X, y = sigmoid_problem
    tanh = ng.mlp(sigmoid.layer_sizes, activation="tanh")
    params_tanh = sigmoid_to_tanh_params(sigmoid, params)
    M = sigmoid_to_tanh_jacobian(sigmoid)
    F_tanh = ng.fisher(tanh, params_tanh, X)
    g_tanh = grad(lambda p: ng.cross_entropy(tanh, p, X, y))(params_tanh)
    d_sigmoid = ng.natural_direction(grad(lambda p: ng.cross_entropy(sigmoid, p, X, y))(params), ng.fisher(sigmoid, params, X))
    d_tanh = ng.natural_direction(g_tanh, F_tanh)
    scale = np.abs(g_tanh).max()
    np.testing.assert_allclose(F_tanh @ (M @ d_sigmoid), g_tanh, rtol=0, atol=1e-8 * scale)
    np.testing.assert_allclose(F_tanh @ (M @ d_sigmoid - d_tanh), 0.0, rtol=0, atol=1e-8 * scale)


def test_damping_carried_across_gives_exactly_the_mapped_direction(sigmoid_problem):
    """lambda I in sigmoid coordinates is lambda (M M^T)^{-1} in tanh coordinates: then M d_sig = d_tanh."""
    sigmoid, params, X, y = sigmoid_problem
    tanh = ng.mlp(sigmoid.layer_sizes, activation="tanh")
    params_tanh = sigmoid_to_tanh_params(sigmoid, params)
    M = sigmoid_to_tanh_jacobian(sigmoid)
    damping = 1e-2
    d_sigmoid = ng.natural_direction(grad(lambda p: ng.cross_entropy(sigmoid, p, X, y))(params), ng.fisher(sigmoid, params, X), damping=damping)
    carried = ng.fisher(tanh, params_tanh, X) + damping * np.linalg.inv(M @ M.T)
    d_tanh = np.linalg.solve(carried, grad(lambda p: ng.cross_entropy(tanh, p, X, y))(params_tanh))
    np.testing.assert_allclose(M @ d_sigmoid, d_tanh, rtol=1e-9, atol=1e-12)


def test_m_m_transpose_maps_logit_shifts_to_logit_shifts():
    """Chapter 6: M M^T keeps the span of the output layer's logit shifts, so minimum-norm directions correspond."""
    sigmoid = ng.mlp((3, 5, 4, 3), activation="sigmoid")
    M = sigmoid_to_tanh_jacobian(sigmoid)
    start = sigmoid.n_params - (4 + 1) * 3  # the output layer: W (4 x 3) then b (3)
    shifts = np.zeros((sigmoid.n_params, 5))
    for row in range(5):  # each row of [W; b] of the output layer, all classes alike
        shifts[start + 3 * row : start + 3 * row + 3, row] = 1.0
    moved = M @ M.T @ shifts
    coefficients = np.linalg.lstsq(shifts, moved, rcond=None)[0]
    np.testing.assert_allclose(shifts @ coefficients, moved, rtol=0, atol=1e-13)
    # A generic direction of the output layer is not kept: the check can fail.
    other = np.zeros(sigmoid.n_params)
    other[start] = 1.0
    assert np.linalg.norm(shifts @ np.linalg.lstsq(shifts, M @ M.T @ other, rcond=None)[0] - M @ M.T @ other) > 0.1


def test_kfac_direction_corresponds_under_the_map_and_the_diagonal_does_not():
    """Martens and Grosse (2015): K-FAC is invariant under affine maps of each layer's inputs and pre-activations."""
    sigmoid = ng.mlp((2, 4, 3, 3), activation="sigmoid")
    tanh = ng.mlp(sigmoid.layer_sizes, activation="tanh")
    X, y = make_data(40, 2, 3, seed=12)
    params = random_params(sigmoid, seed=13, scale=1.5)
    params_tanh = sigmoid_to_tanh_params(sigmoid, params)
    M = sigmoid_to_tanh_jacobian(sigmoid)
    g_sigmoid = grad(lambda p: ng.cross_entropy(sigmoid, p, X, y))(params)
    g_tanh = grad(lambda p: ng.cross_entropy(tanh, p, X, y))(params_tanh)
    k_sigmoid = kfac_direction(kfac_factors(sigmoid, params, X), g_sigmoid)
    k_tanh = kfac_direction(kfac_factors(tanh, params_tanh, X), g_tanh)
    np.testing.assert_allclose(M @ k_sigmoid, k_tanh, rtol=0, atol=1e-8 * np.abs(k_tanh).max())
    d_sigmoid = diagonal_direction(diagonal_fisher(sigmoid, params, X), g_sigmoid)
    d_tanh = diagonal_direction(diagonal_fisher(tanh, params_tanh, X), g_tanh)
    assert np.linalg.norm(M @ d_sigmoid - d_tanh) > 0.1 * np.linalg.norm(d_tanh)
    # With damping, natgrad's factored Tikhonov term is a ruler in parameter units: no longer invariant.
    k_damped = kfac_direction(kfac_factors(tanh, params_tanh, X), g_tanh, damping=1e-2)
    k_damped_sigmoid = kfac_direction(kfac_factors(sigmoid, params, X), g_sigmoid, damping=1e-2)
    assert np.linalg.norm(M @ k_damped_sigmoid - k_damped) > 1e-3 * np.linalg.norm(k_damped)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: sigmoid_to_tanh_params(ng.mlp((2, 3, 2), activation="tanh"), np.zeros(17)), "model"),
        (lambda: sigmoid_to_tanh_params("mlp", np.zeros(17)), "model"),
        (lambda: sigmoid_to_tanh_params(ng.mlp((2, 3, 2), activation="sigmoid"), np.zeros(16)), "params"),
        (lambda: sigmoid_to_tanh_params(ng.mlp((2, 3, 2), activation="sigmoid"), np.full(17, np.nan)), "params"),
        (lambda: tanh_to_sigmoid_params(ng.mlp((2, 3, 2), activation="sigmoid"), np.zeros(17)), "model"),
        (lambda: tanh_to_sigmoid_params(ng.mlp((2, 3, 2), activation="tanh"), np.zeros((17, 1))), "params"),
        (lambda: sigmoid_to_tanh_jacobian(ng.mlp((2, 3, 2), activation="tanh")), "model"),
        (lambda: sigmoid_to_tanh_jacobian(None), "model"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
