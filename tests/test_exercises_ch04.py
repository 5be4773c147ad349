"""The chapter 4 exercise checkers accept the reference, name the typical mistakes, and never raise.

References: autograd's Hessian of model_kl and an explicit loop over per-class scores for the
softmax-regression Fisher; for the Bernoulli in the angle coordinate p = sin^2(xi), the autograd
Hessian of the Bernoulli KL in xi, which never uses the reparametrisation rule the checker tests.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import hessian

import natgrad as ng
from natgrad.exercises import ch04


def bernoulli_kl(p, q):
    """KL(Bernoulli(p) || Bernoulli(q)) in the success probabilities, written with autograd.numpy."""
    return p * anp.log(p / q) + (1.0 - p) * anp.log((1.0 - p) / (1.0 - q))


def reader_angle_fisher(xi):
    """A reader's correct answer, found without the rule: the KL Hessian in xi at xi' = xi, via autograd."""
    return hessian(lambda q: bernoulli_kl(anp.sin(xi) ** 2, anp.sin(q) ** 2))(xi)


def fisher_in_p(xi):
    p = np.sin(xi) ** 2
    return 1.0 / (p * (1.0 - p))


def M(xi):
    return 2.0 * np.sin(xi) * np.cos(xi)


# ---------------------------------------------------------------- Bernoulli in the angle coordinate


def test_the_kl_hessian_in_xi_is_the_constant_four():
    """The checker's reference, 4, against an independent computation at angles it does not use."""
    for xi in [0.05, 0.33, 0.9, 1.52]:
        np.testing.assert_allclose(reader_angle_fisher(xi), 4.0, rtol=1e-9)


def test_angle_accepts_the_kl_hessian_the_rule_and_a_1x1_array(capsys):
    assert ch04.check_bernoulli_angle_fisher(reader_angle_fisher)
    assert ch04.check_bernoulli_angle_fisher(lambda xi: M(xi) * fisher_in_p(xi) * M(xi))
    assert ch04.check_bernoulli_angle_fisher(lambda xi: np.array([[4.0]]))
    assert capsys.readouterr().out.count("Correct.") == 3


@pytest.mark.parametrize(
    "wrong, phrase",
    [
        (lambda xi: -4.0, "wrong sign"),
        (fisher_in_p, "Fisher in p itself"),
        (lambda xi: M(xi) * fisher_in_p(xi), "once"),
        (lambda xi: fisher_in_p(xi) / M(xi) ** 2, "divided by M^2"),
        (lambda xi: (np.sin(xi) * np.cos(xi)) ** 2 * fisher_in_p(xi), "drop the 2"),
        (lambda xi: 2.0, "half the Fisher"),
        (lambda xi: np.sin(xi) ** 2 * np.cos(xi) ** 2, "in the logit"),
        (lambda xi: 0.25, "inverse"),
        (lambda xi: 4.01, "At xi"),
        (lambda xi: 4.0 + 0.1 * np.sin(xi), "At xi"),
    ],
)
def test_angle_names_the_mistake(wrong, phrase, capsys):
    result = ch04.check_bernoulli_angle_fisher(wrong)
    out = capsys.readouterr().out
    assert not result and out.startswith("Not yet.") and phrase in out


@pytest.mark.parametrize(
    "junk",
    [None, 4.0, "4", lambda xi: "x", lambda xi: np.zeros(2), lambda xi: np.nan, lambda: 4.0, lambda xi: 1 / 0],
)
def test_angle_never_raises_on_malformed_answers(junk, capsys):
    result = ch04.check_bernoulli_angle_fisher(junk)
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
