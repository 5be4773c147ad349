"""The chapter 4 exercise checkers accept the reference, name the typical mistakes, and never raise.

References: autograd's Hessian of model_kl, its Hessian-vector product, and an explicit loop over
per-class scores for the softmax-regression Fisher; for the Bernoulli in the angle coordinate
p = sin^2(xi), the autograd Hessian of the Bernoulli KL in xi, which never uses the
reparametrisation rule the checker tests.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, hessian

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


def kl_hessian_vector_product(problem):
    """v -> F v as the Hessian-vector product of the KL at q = params, by autograd (never forms F)."""
    model, params, X, _ = problem
    kl_grad = grad(lambda q: ng.model_kl(model, params, q, X))
    return lambda v: grad(lambda q: anp.dot(kl_grad(q), v))(params)


def loop_product(params, X, output_matrix):
    """v -> (1/N) sum_n J_n^T B_n J_n v, one input at a time, with B_n = output_matrix(n, p_n)."""
    W, b = params[:6].reshape(2, 3), params[6:]
    probs = ng.softmax(X @ W + b)

    def product(v):
        Delta = np.asarray(v).reshape(3, 3)  # rows: feature 1, feature 2, bias; columns: classes
        total = np.zeros(9)
        for n, (x, p) in enumerate(zip(X, probs)):
            a_tilde = np.append(x, 1.0)
            total += np.outer(a_tilde, output_matrix(n, p) @ (Delta.T @ a_tilde)).ravel()
        return total / len(X)

    return product


def fisher_output(n, p):
    return np.diag(p) - np.outer(p, p)


def test_the_loop_product_is_the_kl_hessian_vector_product(problem):
    _, params, X, _ = problem
    hvp, product = kl_hessian_vector_product(problem), loop_product(params, X, fisher_output)
    for v in np.random.default_rng(0).normal(size=(4, 9)):
        np.testing.assert_allclose(product(v), hvp(v), rtol=1e-9, atol=1e-14)


def test_fvp_accepts_correct_products(problem, capsys):
    model, params, X, _ = problem
    assert ch04.check_softmax_fisher_vector_product(loop_product(params, X, fisher_output))
    assert ch04.check_softmax_fisher_vector_product(kl_hessian_vector_product(problem))
    assert ch04.check_softmax_fisher_vector_product(ng.fisher_vector_product(model, params, X))
    dense = score_loop_fisher(params, X)
    assert ch04.check_softmax_fisher_vector_product(lambda v: (dense @ v).tolist())
    assert capsys.readouterr().out.count("Correct.") == 4


def test_fvp_rejects_the_empirical_fisher(problem, capsys):
    model, params, X, y = problem

    def residual_outer(n, p):
        r = np.eye(3)[y[n]] - p
        return np.outer(r, r)

    empirical = ng.fisher(model, params, X, kind="empirical", y=y)
    np.testing.assert_allclose(score_loop_fisher(params, X, labels_from_model=False, y=y), empirical, rtol=1e-10, atol=1e-14)
    assert not ch04.check_softmax_fisher_vector_product(loop_product(params, X, residual_outer))
    assert "empirical Fisher" in capsys.readouterr().out


@pytest.mark.parametrize(
    "mistake, phrase",
    [
        (lambda F, v: len_x() * (F @ v), "divide the sum by N"),
        (lambda F, v: -(F @ v), "wrong sign"),
        (lambda F, v: class_major_read_and_written(F) @ v, "class by class. natgrad stores"),
        (lambda F, v: F @ class_major_vector(v), "reads v class by class"),
        (lambda F, v: unclass_major_vector(F @ v), "writes F v class by class"),
        (lambda F, v: F @ v + 1e-3, "not linear"),
        (lambda F, v: 1.1 * (F @ v), "relative Frobenius"),
    ],
)
def test_fvp_names_mistakes_made_on_the_matrix(problem, mistake, phrase, capsys):
    """References: the dense score-loop Fisher, with the mistake applied to it by hand."""
    _, params, X, _ = problem
    F = score_loop_fisher(params, X)
    assert not ch04.check_softmax_fisher_vector_product(lambda v: mistake(F, v))
    out = capsys.readouterr().out
    assert out.startswith("Not yet.") and phrase in out


def len_x():
    return ch04.softmax_fisher_problem()[2].shape[0]


# Parameter (input i, class c) sits at i * 3 + c; class-major order puts it at c * 3 + i.
CLASS_MAJOR = np.array([i * 3 + c for c in range(3) for i in range(3)])


def class_major_vector(v):
    """The entries of v in class-major order: what a function that reads v as (class, input) sees as feature-major."""
    return np.asarray(v)[CLASS_MAJOR]


def unclass_major_vector(w):
    out = np.empty(9)
    out[CLASS_MAJOR] = w
    return out


def class_major_read_and_written(F):
    return F[np.ix_(CLASS_MAJOR, CLASS_MAJOR)]


@pytest.mark.parametrize(
    "output_matrix, phrase",
    [
        (lambda n, p: np.diag(p), "forgot to subtract"),
        (lambda n, p: np.eye(3), "left out Lambda_n"),
    ],
)
def test_fvp_names_mistakes_in_the_output_curvature(problem, output_matrix, phrase, capsys):
    _, params, X, _ = problem
    assert not ch04.check_softmax_fisher_vector_product(loop_product(params, X, output_matrix))
    out = capsys.readouterr().out
    assert out.startswith("Not yet.") and phrase in out


def test_fvp_names_the_product_of_means_and_an_asymmetric_matrix(problem, capsys):
    _, params, X, _ = problem
    W, b = params[:6].reshape(2, 3), params[6:]
    probs = ng.softmax(X @ W + b)
    X_tilde = np.column_stack([X, np.ones(len(X))])
    Lambda_mean = np.mean([np.diag(p) - np.outer(p, p) for p in probs], axis=0)
    kfac = np.kron(X_tilde.T @ X_tilde / len(X), Lambda_mean)
    assert not ch04.check_softmax_fisher_vector_product(lambda v: kfac @ v)
    assert "K-FAC" in capsys.readouterr().out
    asymmetric = score_loop_fisher(params, X)
    asymmetric[0, 1] += 0.1
    assert not ch04.check_softmax_fisher_vector_product(lambda v: asymmetric @ v)
    assert "not symmetric" in capsys.readouterr().out


def test_fvp_names_unpulled_unflattened_in_place_and_missing_returns(problem, capsys):
    _, params, X, _ = problem
    W, b = params[:6].reshape(2, 3), params[6:]
    probs = ng.softmax(X @ W + b)
    X_tilde = np.column_stack([X, np.ones(len(X))])
    F = score_loop_fisher(params, X)

    def not_pulled_back(v):
        Z_dot = X_tilde @ v.reshape(3, 3)
        return probs * Z_dot - probs * np.sum(probs * Z_dot, axis=1, keepdims=True)

    def in_place(v):
        v *= 2.0
        return F @ v / 2.0

    for wrong, phrase in [
        (not_pulled_back, "one vector per input"),
        (lambda v: (F @ v).reshape(3, 3), "flatten it"),
        (in_place, "in place"),
        (lambda v: None, "return statement"),
        (lambda v: F @ v[:6], "could not be checked"),
        (lambda v: np.append(F @ v, 0.0), "shape (9,)"),
    ]:
        assert not ch04.check_softmax_fisher_vector_product(wrong)
        out = capsys.readouterr().out
        assert out.startswith("Not yet.") and phrase in out, (phrase, out)


@pytest.mark.parametrize("junk", [None, "F", np.eye(9), lambda v: "x", lambda v: np.full(9, np.nan), lambda: 1.0, lambda v: 1 / 0])
def test_fvp_never_raises_on_malformed_answers(junk, capsys):
    result = ch04.check_softmax_fisher_vector_product(junk)
    assert not result and capsys.readouterr().out.startswith("Not yet.")
