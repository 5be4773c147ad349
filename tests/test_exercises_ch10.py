"""The chapter 9 checker accepts correct IRLS steps, names typical mistakes and never raises.

Reference solutions are written here independently of natgrad (numpy.linalg.solve, lstsq
on the working response).
"""

from __future__ import annotations

import numpy as np
import pytest

from natgrad.exercises import Verdict, ch10


def _p(params, X):
    return 1.0 / (1.0 + np.exp(-X @ params))


def reference_step(params, X, y):
    p = _p(params, X)
    w = p * (1 - p)
    return params + np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (y - p))


def working_response_step(params, X, y):
    p = _p(params, X)
    w = p * (1 - p)
    z = X @ params + (y - p) / w
    return np.linalg.lstsq(np.sqrt(w)[:, None] * X, np.sqrt(w) * z, rcond=None)[0]


def mean_form_step(params, X, y):
    p = _p(params, X)
    w = p * (1 - p)
    n = len(y)
    return params + np.linalg.solve(X.T @ (w[:, None] * X) / n, X.T @ (y - p) / n)


def as_list_step(params, X, y):
    return list(reference_step(params, X, y))


def no_weights(params, X, y):
    return params + np.linalg.solve(X.T @ X, X.T @ (y - _p(params, X)))


def empirical_fisher(params, X, y):
    r = y - _p(params, X)
    return params + np.linalg.solve(X.T @ ((r**2)[:, None] * X), X.T @ r)


def sign_error(params, X, y):
    return 2 * params - reference_step(params, X, y)


def only_the_step(params, X, y):
    return reference_step(params, X, y) - params


def mixed_mean_and_sum(params, X, y):
    p = _p(params, X)
    w = p * (1 - p)
    return params + np.linalg.solve(X.T @ (w[:, None] * X) / len(y), X.T @ (y - p))


def gradient_step(params, X, y):
    return params + X.T @ (y - _p(params, X)) / len(y)


def weights_p(params, X, y):
    p = _p(params, X)
    return params + np.linalg.solve(X.T @ (p[:, None] * X), X.T @ (y - p))


def in_place(params, X, y):
    params += 1.0
    return params


def no_return(params, X, y):
    reference_step(params, X, y)


def crashes(params, X, y):
    raise RuntimeError("boom")


def wrong_shape(params, X, y):
    return np.zeros((2, 2))


def returns_nan(params, X, y):
    return np.full(params.shape, np.nan)


def something_else(params, X, y):
    return params + np.arange(params.size, dtype=float)


@pytest.mark.parametrize("solution", [reference_step, working_response_step, mean_form_step, as_list_step])
def test_accepts_correct_solutions(solution, capsys):
    result = ch10.check_irls_step(solution)
    assert isinstance(result, Verdict) and result.correct
    assert capsys.readouterr().out.startswith("Correct.")


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        (no_weights, "no weights"),
        (empirical_fisher, "empirical Fisher"),
        (sign_error, "wrong sign"),
        (only_the_step, "params + step"),
        (mixed_mean_and_sum, "N times too long"),
        (gradient_step, "gradient step"),
        (weights_p, "variance p_n (1 - p_n)"),
        (in_place, "in place"),
        (no_return, "return statement"),
        (crashes, "RuntimeError: boom"),
        (wrong_shape, "shape"),
        (returns_nan, "NaN"),
        (something_else, "does not match"),
    ],
)
def test_rejects_typical_mistakes_with_a_hint(mistake, hint, capsys):
    result = ch10.check_irls_step(mistake)
    assert not result
    out = capsys.readouterr().out
    assert out.startswith("Not yet.")
    assert hint in result.message and hint in out


@pytest.mark.parametrize("answer", [None, 3.0, "step", np.zeros(3)])
def test_non_callable_answers_get_a_verdict_not_an_exception(answer):
    result = ch10.check_irls_step(answer)
    assert not result and "Pass your function" in result.message


def test_irls_problem_is_seeded_binary_with_an_intercept_column():
    X, y = ch10.irls_problem()
    X2, y2 = ch10.irls_problem()
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(X[:, -1], 1.0)
    assert set(np.unique(y)) == {0.0, 1.0}
    X[0, 0] = 99.0
    assert ch10.irls_problem()[0][0, 0] != 99.0


# ---------------------------------------------------------------- a Gaussian that learns its variance


def _nll(z, y):
    """The Gaussian's negative log-likelihood in (mu, log sigma), written independently with autograd.numpy."""
    import autograd.numpy as anp

    return z[1] + 0.5 * (y - z[0]) ** 2 * anp.exp(-2.0 * z[1])


def autograd_curvature(mu, log_sigma, y):
    import autograd

    return autograd.hessian(_nll)(np.array([mu, log_sigma], dtype=float), float(y))


def closed_form_curvature(mu, log_sigma, y):
    r = y - mu
    return [[np.exp(-2 * log_sigma), 2 * r * np.exp(-2 * log_sigma)], [2 * r * np.exp(-2 * log_sigma), 2 * r**2 * np.exp(-2 * log_sigma)]]


def fisher_instead(mu, log_sigma, y):
    return np.diag([np.exp(-2 * log_sigma), 2.0])


def in_sigma(mu, log_sigma, y):
    import autograd
    import autograd.numpy as anp

    def nll_sigma(z):
        return anp.log(z[1]) + 0.5 * (y - z[0]) ** 2 / z[1] ** 2

    return autograd.hessian(nll_sigma)(np.array([mu, np.exp(log_sigma)]))


def off_diagonal_sign(mu, log_sigma, y):
    H = autograd_curvature(mu, log_sigma, y)
    H[0, 1] = H[1, 0] = -H[0, 1]
    return H


def off_diagonal_half(mu, log_sigma, y):
    H = autograd_curvature(mu, log_sigma, y)
    H[0, 1] = H[1, 0] = H[0, 1] / 2
    return H


def corner_half(mu, log_sigma, y):
    H = autograd_curvature(mu, log_sigma, y)
    H[1, 1] /= 2
    return H


def log_sigma_as_sigma(mu, log_sigma, y):
    return autograd_curvature(mu, np.log(abs(log_sigma)), y)


def gradient_only(mu, log_sigma, y):
    import autograd

    return autograd.grad(_nll)(np.array([mu, log_sigma]), float(y))


def transposed_mistake(mu, log_sigma, y):
    return autograd_curvature(mu, log_sigma, y) + np.array([[0.0, 0.1], [0.0, 0.0]])


@pytest.mark.parametrize("solution", [autograd_curvature, closed_form_curvature])
def test_curvature_checker_accepts_correct_solutions(solution, capsys):
    result = ch10.check_learned_variance_curvature(solution)
    assert result.correct and capsys.readouterr().out.startswith("Correct.")


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        (fisher_instead, "That is the Fisher"),
        (in_sigma, "differentiated in sigma"),
        (off_diagonal_sign, "wrong sign"),
        (off_diagonal_half, "off-diagonal entry is missing a factor 2"),
        (corner_half, "(log sigma, log sigma) entry is missing a factor 2"),
        (log_sigma_as_sigma, "log_sigma as if it were sigma"),
        (gradient_only, "2 x 2 matrix"),
        (transposed_mistake, "does not match"),
        (lambda mu, log_sigma, y: None, "return statement"),
        (lambda mu, log_sigma, y: np.full((2, 2), np.nan), "NaN"),
        (lambda mu, log_sigma, y: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_curvature_checker_names_typical_mistakes(mistake, hint, capsys):
    result = ch10.check_learned_variance_curvature(mistake)
    assert not result
    assert capsys.readouterr().out.startswith("Not yet.")
    assert hint in result.message


def test_curvature_checker_wants_the_function_itself():
    assert "Pass your function" in ch10.check_learned_variance_curvature(np.eye(2)).message
