"""natgrad.glm: the cases that mutation testing found unchecked (tests/MUTATION.md).

References: the softmax-regression Fisher written as an explicit loop over rows,
F V = (1/N) sum_n a_n (Lambda_n V^T a_n)^T with Lambda_n = diag(p_n) - p_n p_n^T and
a_n = (x_n, 1); the exact error messages of the API contract, written out by hand.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from natgrad import glm
from tests.helpers import probabilities


def loop_product(X, probs, V):
    """(1/N) sum_n a_n (Lambda_n u_n)^T with u_n = V^T a_n, one row at a time."""
    out = np.zeros_like(V)
    for x, p in zip(X, probs):
        a = np.append(x, 1.0)
        u = V.T @ a
        out += np.outer(a, (np.diag(p) - np.outer(p, p)) @ u)
    return out / len(X)


def rows(n_rows, n_classes, seed):
    return probabilities(np.random.default_rng(seed).normal(size=(n_rows, n_classes)))


def test_product_of_a_rectangular_table_and_of_its_flat_vector():
    """n_features + 1 = 4 rows against K = 2 columns, so the table is not square (and K = 2 is allowed)."""
    X = np.random.default_rng(0).normal(size=(7, 3))
    probs = rows(7, 2, 1)
    V = np.random.default_rng(2).normal(size=(4, 2))
    product = glm.softmax_fisher_vector_product(X, probs)
    np.testing.assert_allclose(product(V), loop_product(X, probs, V), rtol=1e-12, atol=1e-15)
    flat = product(V.ravel())
    assert flat.shape == (8,)
    np.testing.assert_allclose(flat, loop_product(X, probs, V).ravel(), rtol=1e-12, atol=1e-15)


def test_product_for_one_row_and_for_no_features():
    """N = 1 is a valid design; so is n_features = 0 (the biases alone: F = Lambda_1)."""
    x = np.array([[0.5, -1.0]])
    p = np.array([[0.2, 0.3, 0.5]])
    V = np.random.default_rng(3).normal(size=(3, 3))
    np.testing.assert_allclose(glm.softmax_fisher_vector_product(x, p)(V), loop_product(x, p, V), rtol=1e-12, atol=1e-15)
    bias_only = glm.softmax_fisher_vector_product(np.zeros((1, 0)), p)(np.array([[1.0, 0.0, -1.0]]))
    np.testing.assert_allclose(bias_only, [(np.diag(p[0]) - np.outer(p[0], p[0])) @ [1.0, 0.0, -1.0]], rtol=1e-12, atol=1e-15)


def test_probabilities_with_exact_zeros_are_accepted():
    X = np.random.default_rng(4).normal(size=(2, 2))
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    V = np.random.default_rng(5).normal(size=(3, 3))
    np.testing.assert_allclose(glm.softmax_fisher_vector_product(X, probs)(V), loop_product(X, probs, V), rtol=1e-12, atol=1e-15)


X5 = np.random.default_rng(6).normal(size=(5, 2))
P5 = rows(5, 3, 7)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: glm.softmax_fisher_vector_product(np.ones(3), P5), "X: expected a 2-D array (N, n_features) with N >= 1, got shape (3,)"),
        (lambda: glm.softmax_fisher_vector_product(np.ones((0, 2)), P5[:0]), "X: expected a 2-D array (N, n_features) with N >= 1, got shape (0, 2)"),
        (lambda: glm.softmax_fisher_vector_product(np.full((5, 2), np.nan), P5), "X: expected finite values, found NaN or inf"),
        (lambda: glm.softmax_fisher_vector_product(X5, np.full((5, 3), np.nan)), "probs: expected finite values, found NaN or inf"),
        (lambda: glm.softmax_fisher_vector_product(X5, P5[:4]), "probs: expected shape (5, K) with K >= 2, got (4, 3)"),
        (lambda: glm.softmax_fisher_vector_product(X5, np.ones((5, 1))), "probs: expected shape (5, K) with K >= 2, got (5, 1)"),
        (lambda: glm.softmax_fisher_vector_product(X5, np.tile([1.5, -0.5], (5, 1))), "probs: expected rows of probabilities (non-negative, summing to 1)"),
        # 1e-10 too much: within allclose's default atol (1e-8) and rtol (1e-5), not within 1e-12
        (lambda: glm.softmax_fisher_vector_product(X5, P5 * (1.0 + 1e-10)), "probs: expected rows of probabilities (non-negative, summing to 1)"),
        (lambda: glm.softmax_fisher_vector_product(X5, P5)(np.full((3, 3), np.nan)), "V: expected finite values, found NaN or inf"),
        (lambda: glm.softmax_fisher_vector_product(X5, P5)(np.ones(4)), "V: expected a table of shape (3, 3) or a flat vector of length 9, got (4,)"),
        (
            lambda: glm.softmax_fisher_vector_product(np.ones((5, 3)), P5[:, :2] / P5[:, :2].sum(axis=1, keepdims=True))(np.ones(3)),
            "V: expected a table of shape (4, 2) or a flat vector of length 8, got (3,)",
        ),
    ],
)
def test_exact_messages_of_the_closed_form_product(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()


def test_truncated_cg_returns_the_gradient_on_zero_curvature_at_the_first_iteration():
    """One product, which finds p^T A p = 0: the (unpreconditioned) gradient itself is returned."""
    g = np.array([1.0, -2.0])
    d, used = glm._truncated_cg(lambda p: np.zeros_like(p), g, 1e-8, 10)
    np.testing.assert_array_equal(d, g)
    assert used == 1


def test_truncated_cg_keeps_its_iterate_on_zero_curvature_later():
    """A = diag(1, 0), g = (1, 1): the first step gives d = (2, 2); the second direction (0, 2) has zero curvature."""
    d, used = glm._truncated_cg(lambda p: np.array([1.0, 0.0]) * p, np.array([1.0, 1.0]), 1e-8, 10)
    np.testing.assert_array_equal(d, [2.0, 2.0])
    assert used == 2


def test_truncated_cg_stops_when_the_residual_reaches_the_tolerance():
    """A = 2 I: one iteration solves exactly, with a residual of 0 <= tol = 0."""
    d, used = glm._truncated_cg(lambda p: 2.0 * p, np.array([1.0, -3.0]), 0.0, 10)
    np.testing.assert_array_equal(d, [0.5, -1.5])
    assert used == 1


def small_problem():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(30, 2))
    return X, (X[:, 0] + 0.5 * rng.normal(size=30) > 0).astype(int) + (X[:, 1] > 1.0)


def test_fit_defaults_are_c_one_and_a_hundred_iterations():
    X, y = small_problem()
    default = glm.fit_softmax_regression(X, y)
    np.testing.assert_array_equal(default.params, glm.fit_softmax_regression(X, y, C=1.0).params)
    # a tolerance that no float64 gradient reaches: the default budget of 100 iterations runs out
    unreachable = glm.fit_softmax_regression(X, y, tol=1e-300)
    assert unreachable.n_iter == 100 and not unreachable.converged


def test_fit_names_empty_integer_labels():
    X, _ = small_problem()
    with pytest.raises(ValueError, match=re.escape("y: expected 30 integer labels, got shape (0,) and dtype int64")):
        glm.fit_softmax_regression(X, np.array([], dtype=np.int64))


def test_fit_of_one_row_infers_two_classes():
    """One input with label 0: n_classes defaults to max(y) + 1 = 1, raised to 2; P = (1 + 1) * 2."""
    fit = glm.fit_softmax_regression(np.array([[0.5]]), np.array([0]))
    assert fit.params.shape == (4,) and fit.converged


def test_fit_names_a_class_count_below_one():
    X, y = small_problem()
    with pytest.raises(ValueError, match=r"^n_classes: expected an integer >= 1, got 0$"):
        glm.fit_softmax_regression(X, y, n_classes=0)


def test_fit_counts_the_products_of_every_solve(monkeypatch):
    """n_products is the sum, over the natural steps, of the products each CG solve reports."""
    X, y = small_problem()
    counts = []
    original = glm._truncated_cg

    def recording(*args):
        direction, used = original(*args)
        counts.append(used)
        return direction, used

    monkeypatch.setattr(glm, "_truncated_cg", recording)
    fit = glm.fit_softmax_regression(X, y)
    assert len(counts) == fit.n_iter >= 3
    assert fit.n_products == sum(counts) > counts[-1]
