"""The chapter 6 checker accepts correct sigmoid-to-tanh maps, names typical mistakes and never raises.

Reference solutions are written here from sigm(z) = (tanh(z/2) + 1)/2, independently of natgrad.
"""

from __future__ import annotations

import numpy as np
import pytest

from natgrad.exercises import Verdict, ch06


def reference(W1, b1, W2, b2):
    return W1 / 2, b1 / 2, W2 / 2, b2 + 0.5 * W2.sum(axis=0)


def as_list(W1, b1, W2, b2):
    return [a.tolist() for a in reference(W1, b1, W2, b2)]


def with_output_shift(W1, b1, W2, b2):
    """Adding one constant to every output bias changes the logits but no probability."""
    W1t, b1t, W2t, b2t = reference(W1, b1, W2, b2)
    return W1t, b1t, W2t, b2t + 3.0


def no_bias_correction(W1, b1, W2, b2):
    return W1 / 2, b1 / 2, W2 / 2, b2


def bias_correction_without_half(W1, b1, W2, b2):
    return W1 / 2, b1 / 2, W2 / 2, b2 + W2.sum(axis=0)


def bias_correction_wrong_sign(W1, b1, W2, b2):
    return W1 / 2, b1 / 2, W2 / 2, b2 - 0.5 * W2.sum(axis=0)


def hidden_not_halved(W1, b1, W2, b2):
    return W1, b1, W2 / 2, b2 + 0.5 * W2.sum(axis=0)


def bias_of_hidden_not_halved(W1, b1, W2, b2):
    return W1 / 2, b1, W2 / 2, b2 + 0.5 * W2.sum(axis=0)


def output_weights_not_halved(W1, b1, W2, b2):
    return W1 / 2, b1 / 2, W2, b2 + 0.5 * W2.sum(axis=0)


def sum_over_wrong_axis(W1, b1, W2, b2):
    return W1 / 2, b1 / 2, W2 / 2, 0.5 * W2.sum(axis=1)


def unrelated(W1, b1, W2, b2):
    return W1 / 3, b1 / 3, -W2, b2


def in_place(W1, b1, W2, b2):
    W1 /= 2
    b1 /= 2
    W2 /= 2
    b2 += W2.sum(axis=0)
    return W1, b1, W2, b2


def no_return(W1, b1, W2, b2):
    reference(W1, b1, W2, b2)


def three_items(W1, b1, W2, b2):
    return reference(W1, b1, W2, b2)[:3]


def not_iterable(W1, b1, W2, b2):
    return 1.0


def crashes(W1, b1, W2, b2):
    raise RuntimeError("boom")


def returns_nan(W1, b1, W2, b2):
    return tuple(np.full(np.shape(a), np.nan) for a in (W1, b1, W2, b2))


@pytest.mark.parametrize("solution", [reference, as_list, with_output_shift])
def test_accepts_correct_solutions(solution, capsys):
    result = ch06.check_sigmoid_to_tanh(solution)
    assert isinstance(result, Verdict) and result.correct
    assert capsys.readouterr().out.startswith("Correct.")


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        (no_bias_correction, "forgot the bias correction"),
        (bias_correction_without_half, "twice too large"),
        (bias_correction_wrong_sign, "wrong sign"),
        (hidden_not_halved, "not rescaled"),
        (bias_of_hidden_not_halved, "but not b1"),
        (output_weights_not_halved, "W2 is unchanged"),
        (sum_over_wrong_axis, "axis=1"),
        (unrelated, "does not predict the same probabilities"),
        (in_place, "in place"),
        (no_return, "return statement"),
        (three_items, "got 3 items"),
        (not_iterable, "as a tuple"),
        (crashes, "RuntimeError: boom"),
        (returns_nan, "NaN"),
    ],
)
def test_rejects_typical_mistakes_with_a_hint(mistake, hint, capsys):
    result = ch06.check_sigmoid_to_tanh(mistake)
    assert not result
    out = capsys.readouterr().out
    assert out.startswith("Not yet.")
    assert hint in result.message and hint in out


def test_the_checker_cases_tell_sigmoid_from_tanh():
    """Guard against a checker that could not fail: the untouched parameters must be rejected."""
    assert not ch06.check_sigmoid_to_tanh(lambda W1, b1, W2, b2: (W1, b1, W2, b2))


@pytest.mark.parametrize("answer", [None, 3.0, "map", reference])
def test_non_callable_answers_get_a_verdict_not_an_exception(answer):
    if answer is reference:
        answer = reference(np.ones((2, 3)), np.zeros(3), np.ones((3, 2)), np.zeros(2))
    result = ch06.check_sigmoid_to_tanh(answer)
    assert not result and "Pass your function" in result.message
