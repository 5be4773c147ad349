"""Contracts of chapter 8's curvature solves that mutation testing found unchecked.

References: the API contract (``ValueError`` naming the argument and what was expected, each
message written out by hand), natgrad.fisher's documented Monte-Carlo defaults, and the closed
form of the minimum-norm K-FAC solve for diagonal factors. See ``tests/MUTATION.md`` (section "Chapter 8's modules") for
the mutants these tests kill.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from natgrad.curvature import block_diagonal_direction, block_diagonal_fisher, kfac_direction

FINITE = "expected finite values, found NaN or inf"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: block_diagonal_direction([], np.ones(2)), "blocks: expected a non-empty list of square matrices, as returned by block_diagonal_fisher"),
        (lambda: block_diagonal_direction(np.eye(2), np.ones(2)), "blocks: expected a non-empty list of square matrices, as returned by block_diagonal_fisher"),
        (lambda: block_diagonal_direction([np.ones((2, 3))], np.ones(2)), "blocks[0]: expected a square matrix, got shape (2, 3)"),
        (lambda: block_diagonal_direction([np.eye(2), np.ones(3)], np.ones(5)), "blocks[1]: expected a square matrix, got shape (3,)"),
        (lambda: block_diagonal_direction([np.eye(2), np.full((2, 2), np.nan)], np.ones(4)), f"blocks[1]: {FINITE}"),
        (lambda: block_diagonal_direction([np.eye(2), np.eye(3)], np.ones(6)), "grad: expected a flat vector of length 5, got shape (6,)"),
        (lambda: block_diagonal_direction([np.eye(2)], np.ones(2), damping=-1.0), "damping: expected a finite number >= 0, got -1.0"),
        (lambda: block_diagonal_direction([np.eye(2)], np.ones(2), rtol=1.0), "rtol: expected a finite number with 0 <= rtol < 1, got 1.0"),
    ],
)
def test_block_diagonal_direction_messages_name_the_argument_and_what_was_expected(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_block_diagonal_monte_carlo_defaults_are_one_sample_per_row_and_seed_zero(tanh_problem):
    """Reference: the documented defaults of natgrad.fisher, one sample per row from a Generator seeded with 0."""
    model, params, X, _ = tanh_problem
    default = block_diagonal_fisher(model, params, X, kind="monte_carlo")
    seeded = block_diagonal_fisher(model, params, X, kind="monte_carlo", n_samples=1, rng=np.random.default_rng(0))
    two_samples = block_diagonal_fisher(model, params, X, kind="monte_carlo", n_samples=2, rng=0)
    for block, reference in zip(default, seeded):
        np.testing.assert_array_equal(block, reference)
    assert not all(np.allclose(block, other) for block, other in zip(default, two_samples))


@pytest.mark.parametrize("cut", ["A", "G", "both"])
def test_kfac_direction_leaves_every_eigenvalue_at_or_below_the_cutoff_uninverted(cut):
    """Reference: for diagonal factors the minimum-norm solve is D_ij = V_ij / (a_i g_j) where both
    a_i and g_j exceed rtol times their factor's largest, and D_ij = 0 elsewhere.

    With rtol = 0.3 the cut eigenvalues (0.1 of 2 in A, 0.5 of 4 in G) are far from round-off, so
    an inverse left unwritten for them would show whatever the memory under it held (an
    eigenvalue's magnitude, or the NaN freed just before): only the written zeros give the
    reference. Each factor is diagonal with distinct entries, so its eigenvectors are unit vectors.
    """
    a = np.array([1.0, 0.1, 2.0]) if cut in ("A", "both") else np.array([1.0, 0.7, 2.0])
    g = np.array([0.5, 4.0]) if cut in ("G", "both") else np.array([1.5, 4.0])
    V = np.arange(1.0, 7.0).reshape(3, 2)
    kept = np.outer(a > 0.3 * a.max(), g > 0.3 * g.max())
    expected = np.where(kept, V / np.outer(a, g), 0.0)
    assert kept.sum() < kept.size
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            for shape in ((3,), (2,)):
                for _ in range(4):
                    poison = np.full(shape, np.nan)
                    del poison
            d = kfac_direction([(np.diag(a), np.diag(g))], V.ravel(), rtol=0.3)
            np.testing.assert_allclose(d, expected.ravel(), rtol=1e-14, atol=0)
