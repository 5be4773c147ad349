"""Models: parameter layout, forward passes, cross-entropy and model KL.

References: hand-written numpy forward passes, explicit Python loops, and central
finite differences for the autograd gradients.
"""

from __future__ import annotations

import autograd
import numpy as np
import pytest

import natgrad as ng
from tests.helpers import central_difference, make_data, random_params


def logistic(z):
    """1 / (1 + exp(-z)), the textbook form (fine for moderate z)."""
    return 1.0 / (1.0 + np.exp(-z))


def reference_forward(model, params, X, activation):
    """Hand-written forward pass from the documented layout: per layer W.ravel() then b."""
    h, start = X, 0
    sizes = model.layer_sizes
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = params[start : start + n_in * n_out].reshape(n_in, n_out)
        start += n_in * n_out
        b = params[start : start + n_out]
        start += n_out
        z = h @ W + b
        h = z if index == len(sizes) - 2 else activation(z)
    assert start == params.size
    return h


@pytest.mark.parametrize("n_features,n_classes", [(1, 2), (3, 4), (7, 3)])
def test_softmax_regression_n_params(n_features, n_classes):
    """Reference: (n_features + 1) * n_classes."""
    model = ng.softmax_regression(n_features, n_classes)
    assert model.n_params == (n_features + 1) * n_classes
    assert model.init(np.random.default_rng(0)).shape == (model.n_params,)


@pytest.mark.parametrize("sizes", [(2, 3), (3, 5, 2), (4, 3, 6, 5), (1, 1, 1, 2)])
def test_mlp_n_params(sizes):
    """Reference: sum over layers of (n_in + 1) * n_out."""
    model = ng.mlp(sizes)
    expected = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    assert model.n_params == expected


def test_unflatten_shapes_and_flatten_round_trip():
    """Reference: shapes (n_in, n_out) / (n_out,); flatten(unflatten(p)) == p bit for bit."""
    model = ng.mlp([3, 5, 4, 2])
    params = random_params(model, seed=0)
    layers = model.unflatten(params)
    assert [(W.shape, b.shape) for W, b in layers] == [((3, 5), (5,)), ((5, 4), (4,)), ((4, 2), (2,))]
    back = model.flatten(layers)
    assert back.dtype == np.float64
    np.testing.assert_array_equal(back, params)


def test_flatten_then_unflatten_round_trip(rng):
    """Reference: the layers that went in come back out unchanged."""
    model = ng.mlp([2, 3, 4])
    layers = [(rng.normal(size=(2, 3)), rng.normal(size=3)), (rng.normal(size=(3, 4)), rng.normal(size=4))]
    for (W, b), (W2, b2) in zip(layers, model.unflatten(model.flatten(layers))):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)


def test_unflatten_layout_is_W_ravel_then_b():
    """Reference: params = arange(P) laid out as [W0.ravel(), b0, W1.ravel(), b1]."""
    model = ng.mlp([2, 3, 2])
    params = np.arange(model.n_params, dtype=float)
    (W0, b0), (W1, b1) = model.unflatten(params)
    np.testing.assert_array_equal(W0, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(b0, [6.0, 7.0, 8.0])
    np.testing.assert_array_equal(W1, np.arange(9.0, 15.0).reshape(3, 2))
    np.testing.assert_array_equal(b1, [15.0, 16.0])


def test_init_is_deterministic_for_same_seed_and_differs_across_seeds():
    """Reference: two Generators with the same seed give identical params."""
    model = ng.mlp([4, 6, 3])
    a = model.init(np.random.default_rng(7))
    b = model.init(np.random.default_rng(7))
    c = model.init(np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.dtype == np.float64 and np.all(np.isfinite(a))


def test_softmax_regression_logits_are_affine():
    """Reference: X @ W + b computed by hand."""
    model = ng.softmax_regression(3, 4)
    X, _ = make_data(6, 3, 4, seed=0)
    params = random_params(model, seed=1)
    W = params[:12].reshape(3, 4)
    b = params[12:]
    logits = model.logits(params, X)
    assert logits.shape == (6, 4)
    np.testing.assert_allclose(logits, X @ W + b, rtol=1e-14, atol=1e-14)


def test_tanh_mlp_logits_match_hand_written_forward():
    """Reference: numpy forward pass with np.tanh between layers."""
    model = ng.mlp([3, 5, 4, 3], activation="tanh")
    X, _ = make_data(7, 3, 3, seed=2)
    params = random_params(model, seed=3)
    np.testing.assert_allclose(model.logits(params, X), reference_forward(model, params, X, np.tanh), rtol=1e-13, atol=1e-13)


def test_sigmoid_mlp_uses_logistic_function():
    """Reference: numpy forward pass with 1 / (1 + exp(-z)) between layers."""
    model = ng.mlp([2, 4, 3, 3], activation="sigmoid")
    X, _ = make_data(7, 2, 3, seed=4)
    params = random_params(model, seed=5, scale=2.0)
    logits = model.logits(params, X)
    np.testing.assert_allclose(logits, reference_forward(model, params, X, logistic), rtol=1e-13, atol=1e-13)
    # And it is not tanh: the two activations give clearly different logits.
    assert np.max(np.abs(logits - reference_forward(model, params, X, np.tanh))) > 1e-2


def test_default_activation_is_tanh():
    """Reference: explicit activation='tanh'."""
    X, _ = make_data(4, 2, 2, seed=0)
    params = random_params(ng.mlp([2, 3, 2]), seed=1)
    np.testing.assert_array_equal(ng.mlp([2, 3, 2]).logits(params, X), ng.mlp([2, 3, 2], "tanh").logits(params, X))


def test_cross_entropy_equals_explicit_loop(any_problem):
    """Reference: -mean_n log( exp(z_{n,y_n}) / sum_c exp(z_{n,c}) ), one row at a time."""
    model, params, X, y = any_problem
    logits = reference_forward(model, params, X, np.tanh if model.activation == "tanh" else logistic)
    total = 0.0
    for n in range(X.shape[0]):
        z = logits[n]
        m = z.max()
        total += -(z[y[n]] - m - np.log(np.sum(np.exp(z - m))))
    assert ng.cross_entropy(model, params, X, y) == pytest.approx(total / X.shape[0], rel=1e-13, abs=0)


def test_cross_entropy_uniform_prediction_is_log_n_classes():
    """Reference: zero params give uniform p, so the loss is log C for any labels."""
    model = ng.softmax_regression(3, 5)
    X, y = make_data(8, 3, 5, seed=0)
    assert ng.cross_entropy(model, np.zeros(model.n_params), X, y) == pytest.approx(np.log(5.0), rel=1e-15, abs=0)


def test_model_kl_equals_explicit_mean_of_rowwise_kl(tanh_problem):
    """Reference: mean over rows of sum_c p_c log(p_c / q_c) from hand-written forward passes."""
    model, params, X, _ = tanh_problem
    other = params + 0.3 * np.random.default_rng(0).normal(size=params.size)
    zp = reference_forward(model, params, X, np.tanh)
    zq = reference_forward(model, other, X, np.tanh)
    lp = zp - np.log(np.exp(zp).sum(1, keepdims=True))
    lq = zq - np.log(np.exp(zq).sum(1, keepdims=True))
    ref = np.mean(np.sum(np.exp(lp) * (lp - lq), axis=1))
    assert ng.model_kl(model, params, other, X) == pytest.approx(ref, rel=1e-12, abs=0)
    assert ng.model_kl(model, params, params, X) == 0.0


def test_grad_of_cross_entropy_matches_finite_differences(any_problem):
    """Reference: central finite differences, h = 1e-6."""
    model, params, X, y = any_problem
    loss = lambda p: ng.cross_entropy(model, p, X, y)  # noqa: E731
    g = autograd.grad(loss)(params)
    np.testing.assert_allclose(g, central_difference(loss, params), rtol=1e-6, atol=1e-8)


def test_grad_of_model_kl_matches_finite_differences(any_problem):
    """Reference: central finite differences of model_kl in params_q and in params_p."""
    model, params, X, _ = any_problem
    other = params + 0.5 * np.random.default_rng(1).normal(size=params.size)
    f_q = lambda q: ng.model_kl(model, params, q, X)  # noqa: E731
    f_p = lambda p: ng.model_kl(model, p, other, X)  # noqa: E731
    np.testing.assert_allclose(autograd.grad(f_q)(other), central_difference(f_q, other), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(autograd.grad(f_p)(params), central_difference(f_p, params), rtol=1e-6, atol=1e-8)


def test_cross_entropy_gradient_orthogonal_to_logit_shift():
    """Reference: adding a constant to every logit leaves the loss unchanged, so the gradient
    sums to zero across classes in every row of W and in b."""
    model = ng.softmax_regression(3, 4)
    X, y = make_data(10, 3, 4, seed=9)
    params = random_params(model, seed=10)
    g = autograd.grad(lambda p: ng.cross_entropy(model, p, X, y))(params)
    (gW, gb), = model.unflatten(g)
    np.testing.assert_allclose(gW.sum(axis=1), 0.0, atol=1e-15)
    assert abs(gb.sum()) < 1e-15


def test_init_draws_weights_from_normal_zero_one_over_n_in_and_zero_biases():
    """Reference: the documented distribution W ~ N(0, 1/n_in) entrywise, b = 0.

    With 20,000 and 2,500 draws, the sample mean is within 5 standard errors of 0 and the
    sample standard deviation within 3 % of 1/sqrt(n_in) (its standard error is about 0.5-1.4 %).
    """
    model = ng.mlp([400, 50, 50, 3])
    layers = model.unflatten(model.init(np.random.default_rng(3)))
    for (W, b), (n_in, n_out) in zip(layers, model.shapes):
        assert W.shape == (n_in, n_out)
        np.testing.assert_array_equal(b, np.zeros(n_out))
        std = 1.0 / np.sqrt(n_in)
        if W.size >= 2500:
            assert abs(W.mean()) < 5 * std / np.sqrt(W.size)
            assert W.std() == pytest.approx(std, rel=0.03)
    assert layers[-1][0].std() < 0.5  # 150 draws with std 1/sqrt(50) = 0.14, far below N(0, 1)'s 1


def test_check_labels_accepts_no_labels_for_no_rows_and_rejects_one_float_label():
    """Reference: the contract 'integer class labels, one per row'; an empty array (float by default) is the labels of no rows."""
    from natgrad.models import check_labels

    assert check_labels(np.array([]), 0, 3).shape == (0,)
    np.testing.assert_array_equal(check_labels(np.array([2]), 1, 3), [2])
    with pytest.raises(ValueError, match=r"^y: expected 1 integer labels, got shape \(1,\) and dtype float64$"):
        check_labels(np.array([1.0]), 1, 3)
