"""The chapter 4 exercise checkers accept the reference, name the typical mistakes, and never raise.

References: autograd's Hessian of model_kl and an explicit loop over per-class scores for the
softmax-regression Fisher; the closed form p (1 - p) for the Bernoulli Fisher, checked here
against the autograd Hessian of the Bernoulli KL in the logit.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import hessian

import natgrad as ng
from natgrad.exercises import ch04


def bernoulli_kl(theta_p, theta_q):
    """KL(Bernoulli(sigmoid(theta_p)) || Bernoulli(sigmoid(theta_q))), written with autograd.numpy."""
    p = 1.0 / (1.0 + anp.exp(-theta_p))
    q = 1.0 / (1.0 + anp.exp(-theta_q))
    return p * anp.log(p / q) + (1.0 - p) * anp.log((1.0 - p) / (1.0 - q))


def reader_bernoulli_fisher(theta):
    """A reader's correct answer: the KL Hessian at coincidence, via autograd."""
    return hessian(lambda q: bernoulli_kl(theta, q))(theta)


def sigmoid(theta):
    return 1.0 / (1.0 + np.exp(-theta))


# ---------------------------------------------------------------- Bernoulli


def test_bernoulli_accepts_the_kl_hessian(capsys):
    result = ch04.check_bernoulli_fisher(reader_bernoulli_fisher)
    assert result and capsys.readouterr().out.startswith("Correct.")


def test_bernoulli_accepts_a_function_returning_a_1x1_array():
    assert ch04.check_bernoulli_fisher(lambda t: np.array([[sigmoid(t) * (1 - sigmoid(t))]]))


@pytest.mark.parametrize(
    "wrong, phrase",
    [
        (lambda t: -sigmoid(t) * (1 - sigmoid(t)), "wrong sign"),
        (lambda t: 1.0 / (sigmoid(t) * (1 - sigmoid(t))), "coordinate p"),
        (lambda t: np.sqrt(sigmoid(t) * (1 - sigmoid(t))), "standard deviation"),
        (lambda t: (1 - sigmoid(t)) ** 2, "empirical Fisher"),
        (lambda t: sigmoid(t) ** 2, "y = 0 only"),
        (lambda t: sigmoid(t), "mean of y"),
        (lambda t: 0.25, "At theta"),
    ],
)
def test_bernoulli_names_the_mistake(wrong, phrase, capsys):
    result = ch04.check_bernoulli_fisher(wrong)
    out = capsys.readouterr().out
    assert not result and out.startswith("Not yet.") and phrase in out


@pytest.mark.parametrize(
    "junk",
    [None, 0.25, "p(1-p)", lambda t: "x", lambda t: np.zeros(2), lambda t: np.nan, lambda: 1.0, lambda t: 1 / 0],
)
def test_bernoulli_never_raises_on_malformed_answers(junk, capsys):
    result = ch04.check_bernoulli_fisher(junk)
    assert not result and capsys.readouterr().out.startswith("Not yet.")


# ---------------------------------------------------------------- softmax regression


@pytest.fixture
def problem():
    return ch04.softmax_fisher_problem()


def score_loop_fisher(params, X, labels_from_model=True, y=None):
    """(1/N) sum_n sum_c w_nc s_nc s_nc^T with s_nc = [x_n, 1] kron (e_c - p_n), written independently."""
    W, b = params[:6].reshape(2, 3), params[6:]
    logits = X @ W + b
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    F = np.zeros((9, 9))
    for n, (x, p) in enumerate(zip(X, probs)):
        x_tilde = np.append(x, 1.0)
        classes = range(3) if labels_from_model else [y[n]]
        for c in classes:
            weight = p[c] if labels_from_model else 1.0
            s = np.kron(x_tilde, np.eye(3)[c] - p)
            F += weight * np.outer(s, s)
    return F / len(X)


def test_problem_is_reproducible_and_the_loop_reference_is_the_kl_hessian(problem):
    model, params, X, y = problem
    model2, params2, X2, y2 = ch04.softmax_fisher_problem()
    np.testing.assert_array_equal(params, params2)
    np.testing.assert_array_equal(X, X2)
    assert model.n_params == 9 and X.shape == (30, 2)
    kl_hessian = hessian(lambda q: ng.model_kl(model, params, q, X))(params)
    np.testing.assert_allclose(score_loop_fisher(params, X), kl_hessian, rtol=1e-9, atol=1e-14)


def test_softmax_accepts_the_reference_and_ng_fisher(problem, capsys):
    model, params, X, _ = problem
    assert ch04.check_softmax_regression_fisher(score_loop_fisher(params, X))
    assert ch04.check_softmax_regression_fisher(ng.fisher(model, params, X).tolist())
    assert capsys.readouterr().out.count("Correct.") == 2


def test_softmax_rejects_the_empirical_fisher(problem, capsys):
    model, params, X, y = problem
    empirical = score_loop_fisher(params, X, labels_from_model=False, y=y)
    np.testing.assert_allclose(empirical, ng.fisher(model, params, X, kind="empirical", y=y), rtol=1e-10, atol=1e-14)
    assert not ch04.check_softmax_regression_fisher(empirical)
    assert "empirical Fisher" in capsys.readouterr().out


def test_softmax_rejects_a_missing_one_over_n(problem, capsys):
    _, params, X, _ = problem
    assert not ch04.check_softmax_regression_fisher(len(X) * score_loop_fisher(params, X))
    assert "divide the sum by N" in capsys.readouterr().out


def test_softmax_rejects_the_transposed_kronecker_order(problem, capsys):
    """Reference: the class-major layout, i.e. the permutation that swaps the factor order."""
    _, params, X, _ = problem
    F = score_loop_fisher(params, X)
    # Parameter (input i, class c) sits at i * 3 + c; class-major puts it at c * 3 + i.
    perm = np.array([i * 3 + c for c in range(3) for i in range(3)])
    assert not ch04.check_softmax_regression_fisher(F[np.ix_(perm, perm)])
    assert "wrong order" in capsys.readouterr().out


def test_softmax_rejects_diag_p_and_product_of_means(problem, capsys):
    _, params, X, _ = problem
    W, b = params[:6].reshape(2, 3), params[6:]
    probs = ng.softmax(X @ W + b)
    X_tilde = np.column_stack([X, np.ones(len(X))])
    diag_only = np.mean([np.kron(np.outer(x, x), np.diag(p)) for x, p in zip(X_tilde, probs)], axis=0)
    assert not ch04.check_softmax_regression_fisher(diag_only)
    assert "forgot to subtract" in capsys.readouterr().out
    H_mean = np.mean([np.diag(p) - np.outer(p, p) for p in probs], axis=0)
    kfac = np.kron(X_tilde.T @ X_tilde / len(X), H_mean)
    assert not ch04.check_softmax_regression_fisher(kfac)
    assert "K-FAC" in capsys.readouterr().out


def test_softmax_rejects_missing_biases_asymmetry_and_other_errors(problem, capsys):
    _, params, X, _ = problem
    F = score_loop_fisher(params, X)
    assert not ch04.check_softmax_regression_fisher(F[:6, :6])
    assert "biases are missing" in capsys.readouterr().out
    asymmetric = F.copy()
    asymmetric[0, 1] += 0.1
    assert not ch04.check_softmax_regression_fisher(asymmetric)
    assert "not symmetric" in capsys.readouterr().out
    assert not ch04.check_softmax_regression_fisher(1.1 * F)
    assert "relative Frobenius" in capsys.readouterr().out


@pytest.mark.parametrize("junk", [None, "F", np.zeros((9, 8)), np.full((9, 9), np.nan), [[1, 2], [3]], object()])
def test_softmax_never_raises_on_malformed_answers(junk, capsys):
    result = ch04.check_softmax_regression_fisher(junk)
    assert not result and capsys.readouterr().out.startswith("Not yet.")
