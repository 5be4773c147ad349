"""The chapter 5 checker accepts correct natural steps, names typical mistakes and never raises.

Reference solutions are written here independently of natgrad (numpy.linalg.solve, pinv).
"""

from __future__ import annotations

import numpy as np
import pytest

from natgrad.exercises import Verdict, ch05


def reference_step(params, grad, fisher, kl_budget):
    direction = np.linalg.solve(fisher, grad)
    return params - np.sqrt(2 * kl_budget / (grad @ direction)) * direction


def pinv_step(params, grad, fisher, kl_budget):
    direction = np.linalg.pinv(fisher) @ grad
    return params - np.sqrt(2 * kl_budget / (direction @ fisher @ direction)) * direction


def as_list_step(params, grad, fisher, kl_budget):
    return list(reference_step(params, grad, fisher, kl_budget))


def no_square_root(params, grad, fisher, kl_budget):
    direction = np.linalg.solve(fisher, grad)
    return params - 2 * kl_budget / (grad @ direction) * direction


def missing_factor_two(params, grad, fisher, kl_budget):
    direction = np.linalg.solve(fisher, grad)
    return params - np.sqrt(kl_budget / (grad @ direction)) * direction


def fisher_not_inverse(params, grad, fisher, kl_budget):
    direction = fisher @ grad
    return params - np.sqrt(2 * kl_budget / (direction @ fisher @ direction)) * direction


def plain_gradient(params, grad, fisher, kl_budget):
    return params - np.sqrt(2 * kl_budget / (grad @ fisher @ grad)) * grad


def uphill(params, grad, fisher, kl_budget):
    direction = np.linalg.solve(fisher, grad)
    return params + np.sqrt(2 * kl_budget / (grad @ direction)) * direction


def only_the_step(params, grad, fisher, kl_budget):
    return reference_step(params, grad, fisher, kl_budget) - params


def wrong_budget(params, grad, fisher, kl_budget):
    return reference_step(params, grad, fisher, 3 * kl_budget)


def in_place(params, grad, fisher, kl_budget):
    params -= 0.0 * grad + 1.0
    return params


def no_return(params, grad, fisher, kl_budget):
    np.linalg.solve(fisher, grad)


def crashes(params, grad, fisher, kl_budget):
    raise RuntimeError("boom")


def wrong_shape(params, grad, fisher, kl_budget):
    return np.zeros((2, 2))


def returns_nan(params, grad, fisher, kl_budget):
    return np.full(params.shape, np.nan)


def random_direction(params, grad, fisher, kl_budget):
    return params + np.arange(params.size, dtype=float)


@pytest.mark.parametrize("solution", [reference_step, pinv_step, as_list_step])
def test_accepts_correct_solutions(solution, capsys):
    result = ch05.check_natural_step(solution)
    assert isinstance(result, Verdict) and result.correct
    assert capsys.readouterr().out.startswith("Correct.")


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        (no_square_root, "square root"),
        (missing_factor_two, "sqrt(2)"),
        (fisher_not_inverse, "instead of solving"),
        (plain_gradient, "plain gradient"),
        (uphill, "uphill"),
        (only_the_step, "params + delta"),
        (wrong_budget, "instead of the budget"),
        (in_place, "in place"),
        (no_return, "return statement"),
        (crashes, "RuntimeError: boom"),
        (wrong_shape, "shape"),
        (returns_nan, "NaN"),
        (random_direction, "not along"),
    ],
)
def test_rejects_typical_mistakes_with_a_hint(mistake, hint, capsys):
    result = ch05.check_natural_step(mistake)
    assert not result
    out = capsys.readouterr().out
    assert out.startswith("Not yet.")
    assert hint in result.message and hint in out


@pytest.mark.parametrize("answer", [None, 3.0, "step", reference_step(np.zeros(2), np.ones(2), np.eye(2), 0.1)])
def test_non_callable_answers_get_a_verdict_not_an_exception(answer):
    result = ch05.check_natural_step(answer)
    assert not result and "Pass your function" in result.message
