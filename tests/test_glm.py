"""Matrix-free Fisher scoring (Newton-CG) for softmax regression, natgrad.glm.

References: scikit-learn's LogisticRegression(solver="newton-cg") run to a tight tolerance,
the dense Fisher and the autograd-based Fisher-vector product of ng.softmax_regression, the
autograd gradient of family.penalized_cross_entropy, and the forcing formula written out.
No test measures time (benchmarks/run.py compares the speed with scikit-learn's).
"""

from __future__ import annotations

import math
import warnings

import autograd
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

import natgrad as ng
from natgrad import family, glm
from tests.helpers import make_data, probabilities


def sklearn_fit(X, y, C):
    """scikit-learn's optimum: newton-cg to a tight tolerance (it may end on a failed line search)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(C=C, solver="newton-cg", tol=1e-13, max_iter=1000).fit(X, y)


def gaps(params, fit, X):
    """Largest coefficient gap (weights, and intercepts centred) and largest probability gap."""
    table = params.reshape(X.shape[1] + 1, -1)
    W, b = table[:-1], table[-1]
    centred = fit.intercept_ - fit.intercept_.mean()
    coefficient_gap = max(np.abs(W - fit.coef_.T).max(), np.abs((b - b.mean()) - centred).max())
    probability_gap = np.abs(probabilities(X @ W + b) - fit.predict_proba(X)).max()
    return coefficient_gap, probability_gap


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_fit_reaches_sklearn_optimum_on_digits(digits):
    """Reference: scikit-learn's optimum on digits (1797 x 64, 10 classes, C = 1, P = 650), the
    problem of the benchmark, with its tolerance: coefficient gap <= 1e-8, probability gap <= 1e-10."""
    X, y = digits
    fit = glm.fit_softmax_regression(X, y, C=1.0, tol=1e-12)
    assert fit.converged and fit.params.shape == (650,)
    coefficient_gap, probability_gap = gaps(fit.params, sklearn_fit(X, y, 1.0), X)
    assert coefficient_gap <= 1e-8, coefficient_gap
    assert probability_gap <= 1e-10, probability_gap
    # CG from zero never moves the biases' common shift, the null direction.
    assert abs(fit.params[-10:].mean()) < 1e-14


def test_kfac_preconditioner_cuts_the_products_and_keeps_the_optimum(digits):
    """Reference: the unpreconditioned fit. The K-FAC preconditioner of chapter 8 needs fewer
    than half the Fisher-vector products on digits, and both fits land on the same optimum."""
    X, y = digits
    plain = glm.fit_softmax_regression(X, y, tol=1e-12, precondition=False)
    preconditioned = glm.fit_softmax_regression(X, y, tol=1e-12)
    assert plain.converged and preconditioned.converged
    assert preconditioned.n_products < 0.5 * plain.n_products, (preconditioned.n_products, plain.n_products)
    np.testing.assert_allclose(preconditioned.params, plain.params, rtol=0, atol=1e-8)


@pytest.mark.parametrize("C", [0.05, 1.0, 20.0])
@pytest.mark.parametrize("n_classes", [3, 5])
@pytest.mark.parametrize("precondition", [True, False])
def test_fit_matches_sklearn_for_several_penalties(C, n_classes, precondition):
    """Reference: scikit-learn's optimum with the same C; its objective is C sum_n loss_n +
    ||W||^2 / 2, ours that divided by C N, so the minimisers agree, with or without the K-FAC
    preconditioner (which changes how each system is solved, not its solution)."""
    X, y = make_data(150, 4, n_classes, seed=n_classes)
    X[:, 0] *= 5.0  # features on different scales
    fit = glm.fit_softmax_regression(X, y, C=C, tol=1e-12, precondition=precondition)
    coefficient_gap, probability_gap = gaps(fit.params, sklearn_fit(X, y, C), X)
    assert coefficient_gap <= 1e-8 and probability_gap <= 1e-10, (coefficient_gap, probability_gap)


def test_fit_zeroes_the_gradient_of_the_penalised_cross_entropy():
    """Reference: autograd's gradient of family.penalized_cross_entropy with lambda = 1 / (C N),
    independent of scikit-learn: the fit stops at max |g_i| <= tol, and so it does."""
    X, y = make_data(80, 3, 4, seed=5)
    C = 0.3
    fit = glm.fit_softmax_regression(X, y, C=C, tol=1e-12)
    model = ng.softmax_regression(3, 4)
    g = autograd.grad(lambda p: family.penalized_cross_entropy(model, p, X, y, 1.0 / (C * len(y))))(fit.params)
    assert np.abs(g).max() <= 1e-12
    assert fit.grad_max[-1] == pytest.approx(np.abs(g).max(), rel=1e-3, abs=1e-15)
    assert fit.losses[-1] == pytest.approx(family.penalized_cross_entropy(model, fit.params, X, y, 1.0 / (C * len(y))), rel=1e-14)


def test_fit_from_a_far_start_backtracks_and_still_converges(monkeypatch):
    """Reference: scikit-learn's optimum. From parameters of size 20 the unit step overshoots; the
    Armijo backtracking (extra loss evaluations) keeps every step a decrease of the loss, and
    the fit converges."""
    X, y = make_data(200, 5, 4, seed=3)
    start = 20.0 * np.random.default_rng(1).normal(size=24)
    evaluations = []
    original = glm._Problem.evaluate
    monkeypatch.setattr(glm._Problem, "evaluate", lambda self, table: evaluations.append(1) or original(self, table))
    fit = glm.fit_softmax_regression(X, y, C=1.0, tol=1e-11, params0=start)
    assert fit.converged
    assert len(evaluations) > fit.n_iter + 1 + 5  # at least five halvings of the unit step
    assert all(after <= before for before, after in zip(fit.losses, fit.losses[1:]))
    coefficient_gap, probability_gap = gaps(fit.params, sklearn_fit(X, y, 1.0), X)
    assert coefficient_gap <= 1e-8 and probability_gap <= 1e-10
    # The biases' common shift is invisible and never moved.
    assert fit.params[-4:].mean() == pytest.approx(start[-4:].mean(), abs=1e-12)


def test_fit_converges_superlinearly():
    """Reference: the forcing sequence eta_k = min(0.5, sqrt(|g_k|)) makes Newton-CG superlinear:
    the ratio of successive gradient norms goes to zero (below 1e-2 at the end)."""
    X, y = make_data(300, 6, 4, seed=8)
    fit = glm.fit_softmax_regression(X, y, C=1.0, tol=1e-13)
    ratios = np.array(fit.grad_max[1:]) / np.array(fit.grad_max[:-1])
    assert ratios[-1] < 1e-2 and ratios[-2] < 1e-1, ratios


def test_max_iter_zero_returns_the_start():
    X, y = make_data(30, 2, 3, seed=1)
    start = np.random.default_rng(2).normal(size=9)
    fit = glm.fit_softmax_regression(X, y, max_iter=0, params0=start)
    np.testing.assert_array_equal(fit.params, start)
    assert fit.n_iter == 0 and fit.n_products == 0 and not fit.converged and len(fit.grad_max) == 1


def test_two_classes_is_binary_logistic_regression_with_c_doubled():
    """Reference: scikit-learn's binary fit, whose coefficients w are the difference of the two
    class columns W_1 - W_0 of the over-parametrised softmax. At the optimum W_0 = -W_1 = -w / 2,
    so our penalty lambda ||W||^2 / 2 is lambda ||w||^2 / 4: the binary model with C doubled."""
    X, y = make_data(120, 3, 2, seed=4)
    fit = glm.fit_softmax_regression(X, y, C=2.0, tol=1e-12)
    table = fit.params.reshape(4, 2)
    binary = sklearn_fit(X, y, 4.0)
    assert binary.coef_.shape == (1, 3)
    np.testing.assert_allclose(table[:-1, 1] - table[:-1, 0], binary.coef_[0], atol=1e-8)
    np.testing.assert_allclose(table[-1, 1] - table[-1, 0], binary.intercept_[0], atol=1e-8)
    np.testing.assert_allclose(table[:-1, 0], -table[:-1, 1], atol=1e-12)


# ---------------------------------------------------------------- the Fisher-vector product


def test_closed_form_product_equals_autograd_product_and_dense_fisher():
    """Reference: ng.fisher_vector_product (forward and reverse mode through the model) and the
    dense ng.fisher of ng.softmax_regression, on the flat layout W.ravel() then b."""
    model = ng.softmax_regression(4, 5)
    X, _ = make_data(25, 4, 5, seed=6)
    params = 1.5 * np.random.default_rng(7).normal(size=model.n_params)
    product = glm.softmax_fisher_vector_product(X, probabilities(model.logits(params, X)))
    reference = ng.fisher_vector_product(model, params, X)
    F = ng.fisher(model, params, X)
    for seed in range(3):
        v = np.random.default_rng(seed).normal(size=model.n_params)
        np.testing.assert_allclose(product(v), reference(v), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(product(v), F @ v, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(product(v.reshape(5, 5)), (F @ v).reshape(5, 5), rtol=1e-12, atol=1e-15)


def test_closed_form_product_annihilates_the_logit_shifts():
    """Reference: the null space of the softmax Fisher, {W[i, :] += c_i, b += c} (chapter 4)."""
    X, _ = make_data(20, 3, 4, seed=9)
    product = glm.softmax_fisher_vector_product(X, probabilities(np.random.default_rng(3).normal(size=(20, 4))))
    for row in range(4):
        shift = np.zeros((4, 4))
        shift[row] = 1.0
        assert np.abs(product(shift)).max() < 1e-15


# ---------------------------------------------------------------- the forcing rule


@pytest.mark.parametrize("grad_norm, expected", [(0.0, 0.0), (1e-6, 1e-9), (0.01, 0.001), (0.25, 0.125), (4.0, 2.0)])
def test_forcing_tolerance_is_min_half_sqrt_times_the_gradient_norm(grad_norm, expected):
    """Reference: eta_k |g_k| with eta_k = min(0.5, sqrt(|g_k|)), Nocedal and Wright (2006), algorithm 7.1."""
    assert glm.forcing_tolerance(grad_norm) == pytest.approx(expected, rel=1e-15, abs=0)
    assert glm.forcing_tolerance(grad_norm) == pytest.approx(min(0.5, math.sqrt(grad_norm)) * grad_norm, rel=1e-15, abs=0)


def test_every_inner_solve_reaches_its_forcing_tolerance(monkeypatch):
    """Reference: the forcing formula; each CG solve of the fit ends with a residual below
    max(forcing_tolerance(|g_k|), tol / 2), checked against the dense penalised Fisher."""
    X, y = make_data(100, 4, 3, seed=12)
    C, tol = 0.5, 1e-10
    model = ng.softmax_regression(4, 3)
    penalty = 1.0 / (C * len(y))
    solves = []
    original = glm._truncated_cg

    def recording(product, grad, inner_tol, max_iter, precondition):
        direction, used = original(product, grad, inner_tol, max_iter, precondition)
        solves.append((grad.ravel().copy(), direction.ravel().copy(), inner_tol))
        return direction, used

    monkeypatch.setattr(glm, "_truncated_cg", recording)
    fit = glm.fit_softmax_regression(X, y, C=C, tol=tol)
    assert len(solves) == fit.n_iter >= 3
    params = np.zeros(model.n_params)
    for grad, direction, inner_tol in solves:
        assert inner_tol == max(glm.forcing_tolerance(np.linalg.norm(grad)), 0.5 * tol)
        A = family.penalized_fisher(model, params, X, penalty)
        assert np.linalg.norm(grad - A @ direction) <= inner_tol * (1 + 1e-9)
        params = params - direction  # the unit step, accepted on this problem
    np.testing.assert_allclose(params, fit.params, atol=1e-14)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda X, y: glm.fit_softmax_regression(X[:, 0], y), "X"),
        (lambda X, y: glm.fit_softmax_regression(np.where(X > 1, np.nan, X), y), "X"),
        (lambda X, y: glm.fit_softmax_regression(X[:0], y[:0]), "X"),
        (lambda X, y: glm.fit_softmax_regression(X, y[:-1]), "y"),
        (lambda X, y: glm.fit_softmax_regression(X, y.astype(float)), "y"),
        (lambda X, y: glm.fit_softmax_regression(X, y, n_classes=2), "y"),
        (lambda X, y: glm.fit_softmax_regression(X, y, n_classes=1), "n_classes"),
        (lambda X, y: glm.fit_softmax_regression(X, y, C=0.0), "C"),
        (lambda X, y: glm.fit_softmax_regression(X, y, C=np.inf), "C"),
        (lambda X, y: glm.fit_softmax_regression(X, y, tol=0.0), "tol"),
        (lambda X, y: glm.fit_softmax_regression(X, y, max_iter=-1), "max_iter"),
        (lambda X, y: glm.fit_softmax_regression(X, y, params0=np.zeros(5)), "params0"),
        (lambda X, y: glm.fit_softmax_regression(X, y, precondition="kfac"), "precondition"),
        (lambda X, y: glm.softmax_fisher_vector_product(X, np.full((len(y), 2), 0.7)), "probs"),
        (lambda X, y: glm.softmax_fisher_vector_product(X, np.full((len(y) + 1, 3), 1 / 3)), "probs"),
        (lambda X, y: glm.softmax_fisher_vector_product(X, np.full((len(y), 3), 1 / 3))(np.ones(5)), "V"),
        (lambda X, y: glm.forcing_tolerance(-1.0), "grad_norm"),
        (lambda X, y: glm.forcing_tolerance(np.nan), "grad_norm"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    X, y = make_data(12, 2, 3, seed=0)
    with pytest.raises(ValueError, match=rf"(?<![\w]){name}(?![\w])"):
        call(X, y)


def test_kfac_preconditioner_uses_the_kfac_factors_of_chapter_8():
    """Reference: natgrad.curvature.kfac_factors of ng.softmax_regression (exact kind) and the
    damped Kronecker matrix of curvature.kfac_matrix with the penalty as damping: the
    preconditioner applies its inverse, projected off the biases' common shift."""
    model = ng.softmax_regression(3, 4)
    X, y = make_data(30, 3, 4, seed=14)
    params = np.random.default_rng(15).normal(size=model.n_params)
    penalty = 0.05
    problem = glm._Problem(np.column_stack([X, np.ones(30)]), 4, penalty, y)
    precondition = problem.kfac_preconditioner(probabilities(model.logits(params, X)))
    M = ng.curvature.kfac_matrix(ng.curvature.kfac_factors(model, params, X), damping=penalty)
    shift = np.zeros((4, 4))
    shift[-1] = 0.5  # the unit null vector: all four biases + 1/2
    projector = np.eye(16) - np.outer(shift.ravel(), shift.ravel())
    R = np.random.default_rng(16).normal(size=(4, 4))
    expected = projector @ np.linalg.solve(M, projector @ R.ravel())
    np.testing.assert_allclose(precondition(R).ravel(), expected, rtol=1e-10, atol=1e-12)
