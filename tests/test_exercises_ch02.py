"""The chapter 2 checkers accept valid answers, reject typical mistakes, and never raise.

References: a softmax written here with math.exp and an explicit max shift, and perturbations
built by hand from the documented layout (W.ravel() with W of shape (2, 3), then b), judged
independently by comparing probabilities before and after on inputs on the line x1 = x2 and
off it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import natgrad as ng
from natgrad.exercises import Verdict, ch02

FINITE = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False)


def reference_probabilities(params, x):
    """softmax(x W + b) with plain Python floats, shifted by the largest logit."""
    logits = [x[0] * params[c] + x[1] * params[3 + c] + params[6 + c] for c in range(3)]
    top = max(logits)
    weights = [math.exp(z - top) for z in logits]
    return np.array(weights) / sum(weights)


def natgrad_probabilities(params, x):
    return ng.softmax(ch02.MODEL.logits(params, np.asarray(x)[None, :]))[0]


def naive_probabilities(params, x):
    z = x @ params[:6].reshape(2, 3) + params[6:]
    return np.exp(z) / np.sum(np.exp(z))


def invariant(a: float, b: float, c: float) -> np.ndarray:
    """Elongation weights +a, yellowness weights +b, biases +c, the same in every class: invisible everywhere."""
    return np.array([a, a, a, b, b, b, c, c, c])


def on_line(u, s: float, c: float) -> np.ndarray:
    """Elongation weights +u (one per class), yellowness weights s - u, biases +c: invisible where x1 = x2."""
    u = np.asarray(u, dtype=float)
    return np.concatenate([u, s - u, np.full(3, c)])


def predictions_unchanged(delta, inputs) -> bool:
    """Independent reference: probabilities at random parameters on the given inputs, before and after delta."""
    params = np.random.default_rng(7).normal(size=9)
    before = ng.softmax(ch02.MODEL.logits(params, inputs))
    after = ng.softmax(ch02.MODEL.logits(params + np.asarray(delta, dtype=float), inputs))
    return bool(np.max(np.abs(after - before)) < 1e-12)


_T = np.random.default_rng(8).normal(0.0, 3.0, size=50)
LINE = np.column_stack([_T, _T])
OFF_LINE = np.random.default_rng(9).normal(0.0, 3.0, size=(50, 2))


def invisible_on_line_only(delta) -> bool:
    """What the exercise asks for, by the reference: no prediction changes on the line, some changes off it."""
    return predictions_unchanged(delta, LINE) and not predictions_unchanged(delta, OFF_LINE)


def assert_verdict(result, correct: bool, capsys, phrase: str | None = None):
    printed = capsys.readouterr().out
    assert isinstance(result, Verdict)
    assert bool(result) is correct
    assert printed.strip() == result.message
    assert printed.startswith("Correct." if correct else "Not yet.")
    if phrase is not None:
        assert phrase in result.message


# check_probability_function


@pytest.mark.parametrize("answer", [reference_probabilities, natgrad_probabilities])
def test_probability_function_accepts_correct_answers(answer, capsys):
    assert_verdict(ch02.check_probability_function(answer), True, capsys)


def test_probability_function_accepts_a_row_vector(capsys):
    def as_row(params, x):
        return natgrad_probabilities(params, x)[None, :]

    assert_verdict(ch02.check_probability_function(as_row), True, capsys)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda p, x: x @ p[:6].reshape(2, 3) + p[6:], "logits"),
        (lambda p, x: np.exp(x @ p[:6].reshape(2, 3) + p[6:]), "sum"),
        (lambda p, x: reference_probabilities(np.concatenate([p[:6], np.zeros(3)]), x), "biases"),
        (lambda p, x: reference_probabilities(np.concatenate([p[:6].reshape(3, 2).T.ravel(), p[6:]]), x), "wrong order"),
        (lambda p, x: np.full(3, 0.5), "sums to"),
        (lambda p, x: np.ones(4) / 4, "3 probabilities"),
    ],
)
def test_probability_function_rejects_typical_mistakes(answer, phrase, capsys):
    assert_verdict(ch02.check_probability_function(answer), False, capsys, phrase)


def test_probability_function_rejects_the_overflowing_softmax_without_warnings(capsys, recwarn):
    assert_verdict(ch02.check_probability_function(naive_probabilities), False, capsys, "largest logit")
    assert len(recwarn) == 0


@pytest.mark.parametrize("answer", [None, 3.0, "softmax", natgrad_probabilities(np.zeros(9), np.zeros(2))])
def test_probability_function_rejects_non_callables(answer, capsys):
    assert_verdict(ch02.check_probability_function(answer), False, capsys, "function")


def test_probability_function_never_raises_on_a_crashing_answer(capsys):
    def crashes(params, x):
        return params.reshape(3, 2) @ x  # the classic shape mistake

    assert_verdict(ch02.check_probability_function(crashes), False, capsys, "could not be checked")


# check_invisible_on_line


@pytest.mark.parametrize(
    "delta",
    [
        np.array([1.0, 0, 0, -1.0, 0, 0, 0, 0, 0]),  # the solution's answer
        on_line([0.0, 2.0, 0.0], 0.0, 0.0),
        on_line([0.3, -0.2, 0.5], 1.0, -2.0),
        on_line([1.0, 0.0, 0.0], 0.0, 0.0) + invariant(0.4, -0.7, 3.0),
        1e-3 * on_line([1.0, 2.0, 3.0], 0.5, 0.1),
    ],
)
def test_invisible_on_line_accepts_valid_answers(delta, capsys):
    assert invisible_on_line_only(delta)
    assert_verdict(ch02.check_invisible_on_line(delta), True, capsys, "visible there")


@pytest.mark.parametrize("abc", [(1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.5, -2.0, 3.0), (1e-3, 0.0, 0.0)])
def test_invisible_on_line_rejects_the_chapters_three_directions(abc, capsys):
    delta = invariant(*abc)
    assert predictions_unchanged(delta, LINE) and predictions_unchanged(delta, OFF_LINE)
    assert_verdict(ch02.check_invisible_on_line(delta), False, capsys, "chapter's three directions")


def test_invisible_on_line_rejects_a_direction_that_is_visible_only_by_round_off(capsys):
    delta = invariant(1.0, 1.0, 1.0) + on_line([1e-12, 0.0, 0.0], 0.0, 0.0)
    assert_verdict(ch02.check_invisible_on_line(delta), False, capsys, "chapter's three directions")


@given(st.lists(FINITE, min_size=3, max_size=3), FINITE, FINITE)
def test_invisible_on_line_accepts_every_answer_the_reference_accepts(u, s, c):
    delta = on_line(u, s, c)
    if np.ptp(u) < 1e-3:
        return  # the chapter's directions, or too close to them to tell by the reference
    assert invisible_on_line_only(delta)
    assert ch02.check_invisible_on_line(delta)


@given(st.lists(FINITE, min_size=9, max_size=9), st.sampled_from(["raw", "line", "everywhere"]))
def test_invisible_on_line_agrees_with_the_probability_reference(values, projection):
    delta = np.array(values)
    W, b = delta[:6].reshape(2, 3), delta[6:]
    if projection == "line":
        # Make the column sums of W and the biases constant across classes, so that both verdicts occur.
        sums = W.sum(axis=0)
        delta = on_line(W[0], sums.mean(), b.mean())
    elif projection == "everywhere":
        delta = np.repeat(delta.reshape(3, 3).mean(axis=1), 3)
    if np.linalg.norm(delta) < 1e-3 or 1e-9 < np.ptp(delta[:3]) < 1e-3:
        return  # too short, or too close to the chapter's directions for the reference to tell
    assert bool(ch02.check_invisible_on_line(delta)) == invisible_on_line_only(delta)


@pytest.mark.parametrize(
    "delta, phrase",
    [
        (np.zeros(9), "zero length"),
        (np.full(9, 1e-12), "zero length"),
        (np.array([0, 0, 0, 0, 0, 0, 1.0, 0, 0]), "input (0, 0)"),
        (np.array([1.0, 0, 0, -1.0, 0, 0, 0, 1.0, 0]), "input (0, 0)"),
        (np.array([1.0, 0, 0, 0, 0, 0, 0, 0, 0]), "input (1, 1)"),
        (np.array([1.0, 0, 0, 1.0, 0, 0, 0, 0, 0]), "input (1, 1)"),
        (np.array([1.0, -1.0, 0, 0, 0, 0, 0, 0, 0]), "wrong order"),
        (np.array([0, 0, 2.0, -2.0, 0, 0, 0, 0, 0]), "wrong order"),
    ],
)
def test_invisible_on_line_rejects_typical_mistakes(delta, phrase, capsys):
    assert not invisible_on_line_only(delta)
    assert_verdict(ch02.check_invisible_on_line(delta), False, capsys, phrase)


@pytest.mark.parametrize(
    "delta, phrase",
    [
        (np.ones(3), "got shape (3,)"),
        (np.ones((3, 3)), "got shape (3, 3)"),
        (np.array([np.nan] + [0.0] * 8), "NaN"),
        ("zero", "could not read"),
        (None, "got shape ()"),
        ([[1, 2], [3]], "could not read"),
    ],
)
def test_invisible_on_line_never_raises_on_malformed_answers(delta, phrase, capsys):
    assert_verdict(ch02.check_invisible_on_line(delta), False, capsys, phrase)


def test_invisible_on_line_accepts_a_list(capsys):
    assert_verdict(ch02.check_invisible_on_line([1, 0, 0, -1, 0, 0, 0, 0, 0]), True, capsys)
