"""The chapter 2 checkers accept valid answers, reject typical mistakes, and never raise.

References: a softmax written here with math.exp and an explicit max shift, and invariant
perturbations built by hand from the documented layout (W.ravel() with W of shape (2, 3),
then b), checked independently by comparing probabilities before and after.
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
    """Elongation weights +a, yellowness weights +b, biases +c, the same in every class."""
    return np.array([a, a, a, b, b, b, c, c, c])


def predictions_unchanged(delta) -> bool:
    """Independent reference: probabilities at random parameters and inputs, before and after."""
    rng = np.random.default_rng(7)
    X = rng.normal(0.0, 3.0, size=(50, 2))
    params = rng.normal(size=9)
    before = ng.softmax(ch02.MODEL.logits(params, X))
    after = ng.softmax(ch02.MODEL.logits(params + np.asarray(delta, dtype=float), X))
    return bool(np.max(np.abs(after - before)) < 1e-12)


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


# check_invariant_perturbation


def moves_a_weight(delta) -> bool:
    """What the exercise demands besides invariance: some weight (entries 0..5) changes, by more
    than the checker's documented 1e-9 of the length (below that, a change is round-off)."""
    delta = np.asarray(delta, dtype=float)
    return bool(np.max(np.abs(delta[:6])) > 1e-9 * np.linalg.norm(delta))


@pytest.mark.parametrize(
    "abc, moved",
    [
        ((0.3, 0.0, 0.0), "moves the weights;"),
        ((0.0, -2.0, 0.0), "moves the weights;"),
        ((1.0, 1.0, 1.0), "moves the weights and the biases;"),
        ((1e-3, 2e-3, -5e-4), "moves the weights and the biases;"),
    ],
)
def test_invariant_perturbation_accepts_valid_answers(abc, moved, capsys):
    delta = invariant(*abc)
    assert predictions_unchanged(delta) and moves_a_weight(delta)
    assert_verdict(ch02.check_invariant_perturbation(delta), True, capsys, moved)


@pytest.mark.parametrize("c", [1.0, -0.5, 1e-3, 40.0])
def test_invariant_perturbation_rejects_the_chapters_bias_shift(c, capsys):
    # Invariant, but the exercise asks for a perturbation that changes at least one weight.
    delta = invariant(0.0, 0.0, c)
    assert predictions_unchanged(delta) and not moves_a_weight(delta)
    assert_verdict(ch02.check_invariant_perturbation(delta), False, capsys, "changes at least one weight")


def test_invariant_perturbation_rejects_a_bias_shift_with_negligible_weights(capsys):
    delta = invariant(1e-12, 0.0, 1.0)
    assert predictions_unchanged(delta) and not moves_a_weight(delta)
    assert_verdict(ch02.check_invariant_perturbation(delta), False, capsys, "bias shift")


def test_invariant_perturbation_accepts_a_list_and_a_fisher_null_vector(capsys):
    assert_verdict(ch02.check_invariant_perturbation([0.5] * 9), True, capsys)
    X = np.random.default_rng(3).normal(size=(40, 2))
    eigenvalues, eigenvectors = np.linalg.eigh(ng.fisher(ch02.MODEL, np.random.default_rng(4).normal(size=9), X))
    null_vector = eigenvectors[:, 0]
    assert eigenvalues[0] < 1e-12 * eigenvalues[-1] and predictions_unchanged(null_vector) and moves_a_weight(null_vector)
    assert_verdict(ch02.check_invariant_perturbation(null_vector), True, capsys)


@given(st.tuples(FINITE, FINITE, FINITE).filter(lambda t: max(abs(t[0]), abs(t[1])) > 1e-3))
def test_invariant_perturbation_accepts_every_uniform_shift_that_moves_a_weight(abc):
    assert ch02.check_invariant_perturbation(invariant(*abc))


@given(FINITE.filter(lambda c: abs(c) > 1e-3))
def test_invariant_perturbation_rejects_every_bias_only_shift(c):
    assert not ch02.check_invariant_perturbation(invariant(0.0, 0.0, c))


@given(st.lists(FINITE, min_size=9, max_size=9), st.booleans())
def test_invariant_perturbation_agrees_with_the_probability_reference(values, common_part_only):
    delta = np.array(values)
    if common_part_only:
        # Keep only each row's mean over the classes (the invariant part), so both verdicts occur.
        delta = np.repeat(delta.reshape(3, 3).mean(axis=1), 3)
    if np.linalg.norm(delta) < 1e-3:
        return
    expected = predictions_unchanged(delta) and moves_a_weight(delta)
    assert bool(ch02.check_invariant_perturbation(delta)) == expected


@pytest.mark.parametrize(
    "delta, phrase",
    [
        (np.zeros(9), "zero length"),
        (np.full(9, 1e-12), "zero length"),
        (np.array([0, 0, 0, 0, 0, 0, 1.0, 0, 0]), "same number to all three biases"),
        (np.array([0, 0, 0, 0, 0, 0, 1.0, 2.0, 3.0]), "same number to all three biases"),
        (np.array([0.4, 0.7, 0.4, 0.7, 0.4, 0.7, 0, 0, 0]), "wrong order"),
        (np.array([1.0, 0, 0, 0, 0, 0, 0, 0, 0]), "same amount in every class"),
        (np.concatenate([np.arange(1.0, 7.0), np.zeros(3)]), "same amount in every class"),
    ],
)
def test_invariant_perturbation_rejects_typical_mistakes(delta, phrase, capsys):
    assert not predictions_unchanged(delta) or np.linalg.norm(delta) < 1e-8
    assert_verdict(ch02.check_invariant_perturbation(delta), False, capsys, phrase)


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
def test_invariant_perturbation_never_raises_on_malformed_answers(delta, phrase, capsys):
    assert_verdict(ch02.check_invariant_perturbation(delta), False, capsys, phrase)
