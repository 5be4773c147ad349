"""Tests written to kill mutants of natgrad.constrained that the other tests let survive.

Kept apart from tests/test_constrained.py; see tests/MUTATION.md.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from natgrad.constrained import least_loss_on_kl_circle


def euclidean_kl(rows):
    return 0.5 * np.sum(np.asarray(rows) ** 2, axis=1)


def test_refinement_names_a_loss_that_returns_the_wrong_shape_for_one_row():
    # Right on the grid (M = 360 rows), wrong for the single rows of the refinement.
    def loss(rows):
        return rows[:, 0] if len(rows) > 1 else np.zeros(2)

    message = "loss_fn: expected one value per row of an (M, 2) array, got shape (2,) for M = 1"
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        least_loss_on_kl_circle(loss, euclidean_kl, np.zeros(2), 0.5, 360)


def test_refinement_on_a_flat_valley_keeps_the_lower_end_of_the_flat_part():
    # The loss max(|angle - a0|, w) has a flat bottom of half-width w = spacing / 4 midway between
    # grid directions 0 and 1, below both. Where the golden section's two losses tie, it keeps the
    # lower part of its bracket, so it ends at the flat part's lower end a0 - w = spacing / 4.
    n = 360
    spacing = 2.0 * np.pi / n
    a0, w = 0.5 * spacing, 0.25 * spacing

    def loss(rows):
        return np.maximum(np.abs(np.arctan2(rows[:, 1], rows[:, 0]) - a0), w)

    point = least_loss_on_kl_circle(loss, euclidean_kl, np.zeros(2), 0.5, n)
    angle = np.arctan2(point[1], point[0])
    assert abs(angle - (a0 - w)) < 1e-9
