"""The chapter 3 checkers accept correct answers, reject the typical mistakes, and never raise.

References: the KL written out with math.fsum over the classes with p_c > 0, and the
Bernoulli KL written out by hand.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from natgrad.exercises import Verdict, ch03


def fsum_kl(p, q) -> float:
    """sum_{k: p_k > 0} p_k log(p_k / q_k), infinite if some q_k = 0 < p_k."""
    terms = []
    for pc, qc in zip(p, q):
        if pc == 0:
            continue
        if qc == 0:
            return math.inf
        terms.append(pc * math.log(pc / qc))
    return math.fsum(terms)


def masked_kl(p, q):
    """The reference solution of the exercise."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    mask = p > 0
    return np.sum(p[mask] * np.log(p[mask] / q[mask]))


def loop_kl(p, q):
    """A plain-Python solution: also correct."""
    return fsum_kl(p, q)


def run(check, answer, capsys, **kwargs) -> tuple[Verdict, str]:
    result = check(answer, **kwargs)
    return result, capsys.readouterr().out


# ---------------------------------------------------------------- reference_kl


def test_reference_kl_matches_fsum_definition(rng):
    """Reference: fsum_kl, on random Dirichlet pairs with and without zeros."""
    for _ in range(20):
        p, q = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
        p[rng.integers(5)] = 0.0
        p /= p.sum()
        assert math.isclose(ch03.reference_kl(p, q), fsum_kl(p, q), rel_tol=1e-12, abs_tol=1e-15)
    assert ch03.reference_kl([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert ch03.reference_kl([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0


# ---------------------------------------------------------------- check_kl: accepted


@pytest.mark.parametrize("answer", [masked_kl, loop_kl], ids=["masked numpy", "plain python"])
def test_check_kl_accepts_correct_solutions(answer, capsys):
    result, out = run(ch03.check_kl, answer, capsys)
    assert result and result.correct
    assert out.startswith("Correct.")


def test_check_kl_emits_no_warnings_for_a_naive_answer(capsys):
    """A naive formula divides by zero inside the checker; nothing must reach stderr."""

    def naive(p, q):
        return np.sum(p * np.log(p / q))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result, _ = run(ch03.check_kl, naive, capsys)
    assert not result
    assert caught == []
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- check_kl: typical mistakes


MISTAKES = {
    "reversed": (lambda p, q: masked_kl(q, p), "KL(q || p)"),
    "no p weight": (lambda p, q: np.sum(np.log(p / q)), "weighted by p_k"),
    "mean over classes": (lambda p, q: np.mean(p * np.log(p / q)), "add them up"),
    "log base 2": (lambda p, q: masked_kl(p, q) / np.log(2.0), "natural logarithm"),
    "wrong sign": (lambda p, q: -masked_kl(p, q), "never negative"),
    "terms not summed": (lambda p, q: p * np.log(p / q), "sum the terms"),
    "nan on zeros": (lambda p, q: np.sum(p * np.log(p / q)), "0 log 0 = 0"),
    "zeros dropped wrongly": (lambda p, q: masked_kl(p, q) + float(np.sum(q[p == 0])), "contribute exactly 0"),
    "clipped q": (lambda p, q: masked_kl(p, np.clip(q, 1e-12, None)), "infinite"),
    "raises": (lambda p, q: 1 / 0, "ZeroDivisionError"),
    "returns None": (lambda p, q: None, "not a number"),
    "returns text": (lambda p, q: "0.1", "not a number"),
    "wrong signature": (lambda p: 0.0, "TypeError"),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_check_kl_rejects_typical_mistakes_with_a_useful_hint(name, capsys):
    answer, hint = MISTAKES[name]
    result, out = run(ch03.check_kl, answer, capsys)
    assert isinstance(result, Verdict)
    assert not result
    assert out.startswith("Not yet.")
    assert hint in out, out


def test_check_kl_rejects_a_non_function(capsys):
    result, out = run(ch03.check_kl, 0.27, capsys)
    assert not result and "Pass the function itself" in out


@given(
    st.one_of(
        st.none(),
        st.text(max_size=5),
        st.floats(allow_nan=True, allow_infinity=True),
        st.lists(st.floats(allow_nan=True), max_size=4),
        st.complex_numbers(),
    )
)
def test_check_kl_never_raises_whatever_the_answer_returns(returned):
    result = ch03.check_kl(lambda p, q: returned)
    assert isinstance(result, Verdict)
    assert not result


# ---------------------------------------------------------------- check_bernoulli_coefficient


def bernoulli_kl(p, q):
    """KL(Bern(p) || Bern(q)), written out by hand."""
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


def probability_step_estimate(p, delta):
    return bernoulli_kl(p, p + delta) / delta**2


@pytest.mark.parametrize("p", [0.5, 0.2, 0.03])
def test_bernoulli_coefficient_is_the_small_step_limit(p):
    """Reference: KL / delta^2 at delta = 1e-5 from the hand-written Bernoulli KL."""
    assert math.isclose(ch03.bernoulli_coefficient(p), probability_step_estimate(p, 1e-5), rel_tol=1e-3)


@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, True, "0.2"])
def test_bernoulli_coefficient_rejects_a_bad_probability(p):
    with pytest.raises(ValueError, match="p: expected a probability"):
        ch03.bernoulli_coefficient(p)


def test_check_bernoulli_coefficient_accepts_an_estimate_from_a_small_step(capsys):
    result, out = run(ch03.check_bernoulli_coefficient, probability_step_estimate(0.2, 1e-3), capsys)
    assert result and out.startswith("Correct.")
    result, _ = run(ch03.check_bernoulli_coefficient, np.array([probability_step_estimate(0.3, 1e-4)]), capsys, p=0.3)
    assert result


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (2 * 3.125, "twice"),  # the Fisher 1 / (p (1 - p)) instead of half of it
        (0.08, "step in the logit"),  # p (1 - p) / 2, the coefficient of a step in the logit
        (bernoulli_kl(0.2, 0.2 + 1e-4) / 1e-4, "not by delta"),
        (probability_step_estimate(0.2, 0.1), "small step"),  # a step too long for the quadratic term
        (4.0, "small step"),
        (-3.125, "positive"),
        (float("nan"), "positive"),
        (np.ones(3), "one number"),
        ("3.125", "as a number"),
    ],
)
def test_check_bernoulli_coefficient_rejects_mistakes(answer, hint, capsys):
    result, out = run(ch03.check_bernoulli_coefficient, answer, capsys)
    assert not result
    assert out.startswith("Not yet.") and hint in out, out


def test_check_bernoulli_coefficient_uses_the_given_probability(capsys):
    """The right coefficient at p = 0.2 is wrong at p = 0.05, and the other way round."""
    result, _ = run(ch03.check_bernoulli_coefficient, 3.125, capsys, p=0.05)
    assert not result
    result, _ = run(ch03.check_bernoulli_coefficient, 1 / (2 * 0.05 * 0.95), capsys, p=0.05)
    assert result


@pytest.mark.parametrize("p", [0.0, 1.0, -0.2, True, "0.2"])
def test_check_bernoulli_coefficient_rejects_a_bad_probability(p, capsys):
    result, out = run(ch03.check_bernoulli_coefficient, 3.125, capsys, p=p)
    assert not result and "strictly between 0 and 1" in out
