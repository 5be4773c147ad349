"""The chapter 8 checkers accept correct answers, name typical mistakes and never raise.

Reference solutions are written here independently of natgrad: explicit loops over rows and
factors for the K-FAC factors, and a plain loop over halvings for the line search.
"""

from __future__ import annotations

import numpy as np
import pytest

import natgrad as ng
from natgrad.curvature import kfac_factors
from natgrad.exercises import ch08

# ---------------------------------------------------------------- K-FAC factors


def loop_factors(a, gammas):
    n_rows, n_in = a.shape
    A = np.zeros((n_in + 1, n_in + 1))
    G = np.zeros((gammas.shape[2], gammas.shape[2]))
    for n in range(n_rows):
        augmented = np.append(a[n], 1.0)
        A += np.outer(augmented, augmented)
        for k in range(gammas.shape[1]):
            G += np.outer(gammas[n, k], gammas[n, k])
    return A / n_rows, G / n_rows


def test_reference_agrees_with_natgrad_on_a_real_layer():
    """The loop reference reproduces kfac_factors when fed natgrad's own layer pieces."""
    from natgrad.fisher import _layer_factors, output_factors

    model = ng.mlp([3, 4, 3])
    rng = np.random.default_rng(0)
    X, params = rng.normal(size=(6, 3)), rng.normal(size=model.n_params)
    inputs, gammas = _layer_factors(model, params, X, output_factors(ng.softmax(model.logits(params, X)), "exact"))
    for (A, G), a, d in zip(kfac_factors(model, params, X), inputs, gammas):
        A_ref, G_ref = loop_factors(a[:, :-1], d)
        np.testing.assert_allclose(A, A_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(G, G_ref, rtol=1e-12, atol=1e-14)


def test_kfac_accepts_the_loop_reference_and_lists(capsys):
    assert ch08.check_kfac_factors(loop_factors)
    assert ch08.check_kfac_factors(lambda a, d: [x.tolist() for x in loop_factors(a, d)])
    assert capsys.readouterr().out.count("Correct.") == 2


def no_bias(a, gammas):
    A, G = loop_factors(a, gammas)
    return A[:-1, :-1], G


def bias_first(a, gammas):
    augmented = np.column_stack([np.ones(len(a)), a])
    return augmented.T @ augmented / len(a), loop_factors(a, gammas)[1]


def no_one_over_n(a, gammas):
    A, G = loop_factors(a, gammas)
    return A * len(a), G


def mean_over_factors(a, gammas):
    A, G = loop_factors(a, gammas)
    return A, G / gammas.shape[1]


def g_not_divided(a, gammas):
    A, G = loop_factors(a, gammas)
    return A, G * len(a)


def first_factor_only(a, gammas):
    return loop_factors(a, gammas[:, :1])[0], loop_factors(a, gammas[:, :1])[1]


def summed_before_outer(a, gammas):
    summed = gammas.sum(axis=1)
    return loop_factors(a, gammas)[0], summed.T @ summed / len(a)


def swapped(a, gammas):
    A, G = loop_factors(a, gammas)
    return G, A


def in_place(a, gammas):
    a *= 2.0
    return loop_factors(a, gammas)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (no_bias, "no row and column for the bias"),
        (bias_first, "column of ones is in front"),
        (no_one_over_n, "A is N times too large"),
        (mean_over_factors, "Gamma is too small by the number of factors"),
        (g_not_divided, "Gamma is N times too large"),
        (first_factor_only, "Gamma uses only the first factor"),
        (summed_before_outer, "summed the factors before the outer product"),
        (swapped, "swapped"),
        (in_place, "in place"),
        (lambda a, d: None, "returned None"),
        (lambda a, d: loop_factors(a, d)[0], "Return a pair"),
        (lambda a, d: (np.eye(a.shape[1] + 1), loop_factors(a, d)[1]), "right shape"),
        (lambda a, d: (loop_factors(a, d)[0], np.eye(3)), "Gamma should have shape"),
    ],
)
def test_kfac_rejects_typical_mistakes_with_a_specific_hint(answer, phrase, capsys):
    assert not ch08.check_kfac_factors(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not yet.") and phrase in out


@pytest.mark.parametrize("junk", [None, "f", 3, lambda: 1, lambda a, d: 1 / 0, lambda a, d: ("A", "G")])
def test_kfac_never_raises(junk, capsys):
    assert not ch08.check_kfac_factors(junk)
    assert capsys.readouterr().out.startswith("Not yet.")


# ---------------------------------------------------------------- line search


def halving_search(kl_fn, loss_fn, params, step, kl_max):
    start = loss_fn(params)
    for k in range(21):
        candidate = params + 0.5**k * step
        if kl_fn(candidate) <= kl_max and loss_fn(candidate) < start:
            return 0.5**k
    return 0.0


def test_cases_cover_the_four_situations():
    fractions = [halving_search(*case) for case in ch08._cases()]
    assert fractions[0] == 1.0
    assert 0 < fractions[1] < 1 and 0 < fractions[2] < 1
    assert fractions[3] == 0.0
    kl_fn, loss_fn, params, step, kl_max = ch08._cases()[2]
    assert kl_fn(params + fractions[2] * step) < kl_max and kl_fn(params + 2 * fractions[2] * step) < kl_max


def test_backtracking_accepts_the_loop_reference(capsys):
    assert ch08.check_backtracking(halving_search)
    assert ch08.check_backtracking(lambda *args: np.array([halving_search(*args)]))
    assert capsys.readouterr().out.count("Correct.") == 2


def ignores_loss(kl_fn, loss_fn, params, step, kl_max):
    for k in range(21):
        if kl_fn(params + 0.5**k * step) <= kl_max:
            return 0.5**k
    return 0.0


def starts_at_half(kl_fn, loss_fn, params, step, kl_max):
    start = loss_fn(params)
    for k in range(1, 22):
        candidate = params + 0.5**k * step
        if kl_fn(candidate) <= kl_max and loss_fn(candidate) < start:
            return 0.5**k
    return 0.0


def never_gives_up(kl_fn, loss_fn, params, step, kl_max):
    fraction = halving_search(kl_fn, loss_fn, params, step, kl_max)
    return fraction if fraction > 0 else 0.5**20


def ignores_kl(kl_fn, loss_fn, params, step, kl_max):
    start = loss_fn(params)
    for k in range(21):
        if loss_fn(params + 0.5**k * step) < start:
            return 0.5**k
    return 0.0


def moves_in_place(kl_fn, loss_fn, params, step, kl_max):
    params += 0.0
    step *= 1.0
    step[0] += 1e-3
    return halving_search(kl_fn, loss_fn, params, step, kl_max)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (ignores_loss, "increases the loss"),
        (starts_at_half, "try the full step"),
        (never_gives_up, "give up and return 0.0"),
        (ignores_kl, "true KL above the limit"),
        (lambda *args: 1.0, "true KL above the limit"),
        (lambda *args: 0.25, "accepted fraction is"),
        (moves_in_place, "in place"),
        (lambda *args: None, "returned None"),
        (lambda *args: np.ones(3), "single number"),
    ],
)
def test_backtracking_rejects_typical_mistakes_with_a_specific_hint(answer, phrase, capsys):
    assert not ch08.check_backtracking(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not yet.") and phrase in out


@pytest.mark.parametrize("junk", [None, 0.5, "search", lambda: 1.0, lambda *a: 1 / 0, lambda *a: "half"])
def test_backtracking_never_raises(junk, capsys):
    assert not ch08.check_backtracking(junk)
    assert capsys.readouterr().out.startswith("Not yet.")
