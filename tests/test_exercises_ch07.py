"""The chapter 7 checker accepts the KL-budgeted SGD learning rate, names typical mistakes and never raises.

Reference solutions are written here independently of natgrad: the closed form
sqrt(2 eps / g^T F g), and a bisection on the quadratic KL model 1/2 eta^2 g^T F g = eps.
"""

from __future__ import annotations

import numpy as np
import pytest

from natgrad.exercises import Verdict, ch07


def closed_form(grad, fisher, kl_budget):
    return np.sqrt(2 * kl_budget / (grad @ fisher @ grad))


def by_bisection(grad, fisher, kl_budget):
    """The rate at which 1/2 eta^2 g^T F g reaches the budget, found without the closed form."""
    low, high = 0.0, 1.0
    while 0.5 * high**2 * (grad @ fisher @ grad) < kl_budget:
        high *= 2.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if 0.5 * middle**2 * (grad @ fisher @ grad) < kl_budget:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def as_array(grad, fisher, kl_budget):
    return np.array([closed_form(grad, fisher, kl_budget)])


def no_square_root(grad, fisher, kl_budget):
    return 2 * kl_budget / (grad @ fisher @ grad)


def inverse_fisher(grad, fisher, kl_budget):
    return np.sqrt(2 * kl_budget / (grad @ np.linalg.solve(fisher, grad)))


def missing_factor_two(grad, fisher, kl_budget):
    return np.sqrt(kl_budget / (grad @ fisher @ grad))


def half_in_numerator(grad, fisher, kl_budget):
    return np.sqrt(kl_budget / (2 * grad @ fisher @ grad))


def no_fisher(grad, fisher, kl_budget):
    return np.sqrt(2 * kl_budget / (grad @ grad))


def upside_down(grad, fisher, kl_budget):
    return np.sqrt(2 * kl_budget * (grad @ fisher @ grad))


def root_of_numerator_only(grad, fisher, kl_budget):
    return np.sqrt(2 * kl_budget) / (grad @ fisher @ grad)


def negative(grad, fisher, kl_budget):
    return -closed_form(grad, fisher, kl_budget)


def wrong_constant(grad, fisher, kl_budget):
    return 3.0 * closed_form(grad, fisher, kl_budget)


def in_place(grad, fisher, kl_budget):
    grad *= 2.0
    return closed_form(grad, fisher, kl_budget)


def no_return(grad, fisher, kl_budget):
    closed_form(grad, fisher, kl_budget)


def crashes(grad, fisher, kl_budget):
    raise RuntimeError("boom")


def returns_vector(grad, fisher, kl_budget):
    return closed_form(grad, fisher, kl_budget) * np.ones(grad.size)


def returns_nan(grad, fisher, kl_budget):
    return np.sqrt(-1.0 * kl_budget)


def returns_text(grad, fisher, kl_budget):
    return "0.1"


def test_reference_puts_the_quadratic_kl_on_the_budget():
    """Reference: 1/2 (eta g)^T F (eta g) computed by hand equals the budget."""
    for grad, fisher, budget in ch07._cases():
        eta = ch07.reference_learning_rate(grad, fisher, budget)
        step = -eta * grad
        np.testing.assert_allclose(0.5 * step @ fisher @ step, budget, rtol=1e-12)
        np.testing.assert_allclose(eta, by_bisection(grad, fisher, budget), rtol=1e-12)


@pytest.mark.parametrize("solution", [closed_form, by_bisection, as_array])
def test_accepts_correct_solutions(solution, capsys):
    result = ch07.check_sgd_learning_rate(solution)
    assert isinstance(result, Verdict) and result.correct
    assert capsys.readouterr().out.startswith("Correct.")


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        (no_square_root, "square root"),
        (inverse_fisher, "F^{-1}"),
        (missing_factor_two, "sqrt(2)"),
        (half_in_numerator, "half the right one"),
        (no_fisher, "ignores the Fisher"),
        (upside_down, "upside down"),
        (root_of_numerator_only, "whole ratio"),
        (negative, "negative"),
        (wrong_constant, "but the budget is"),
        (in_place, "in place"),
        (no_return, "return statement"),
        (crashes, "RuntimeError: boom"),
        (returns_vector, "one number"),
        (returns_nan, "finite positive"),
        (returns_text, "should return a number"),
    ],
)
def test_rejects_typical_mistakes_with_a_hint(mistake, hint, capsys):
    result = ch07.check_sgd_learning_rate(mistake)
    assert isinstance(result, Verdict) and not result
    out = capsys.readouterr().out
    assert out.startswith("Not yet.")
    assert hint in result.message and hint in out


@pytest.mark.parametrize("answer", [None, 0.1, "eta", closed_form(np.ones(2), np.eye(2), 0.1)])
def test_non_callable_answers_get_a_verdict_not_an_exception(answer):
    result = ch07.check_sgd_learning_rate(answer)
    assert not result and "Pass your function" in result.message
