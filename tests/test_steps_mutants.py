"""Tests written to kill mutants of natgrad.steps and natgrad.solvers that the other tests let survive.

Kept apart from tests/test_steps.py; see tests/MUTATION.md.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import natgrad as ng
from natgrad.solvers import _resolved_eigenvalues


def test_natural_direction_accepts_a_zero_fisher_with_damping():
    # A zero matrix is exactly symmetric: |F - F^T|.max() = 0 is not above the tolerance 0.
    g = np.array([1.0, -2.0])
    d = ng.natural_direction(g, np.zeros((2, 2)), damping=0.5)
    np.testing.assert_allclose(d, g / 0.5)


def test_natural_direction_rejects_an_asymmetric_fisher_with_its_whole_message():
    message = "fisher: expected a symmetric matrix (a Fisher is symmetric), got one with F != F^T"
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        ng.natural_direction(np.ones(2), np.array([[1.0, 0.5], [0.0, 1.0]]))


def test_natural_direction_warns_at_the_caller():
    # A callable Fisher that CG cannot solve in its budget: the warning names this file.
    def matvec(v):
        return np.diag(np.logspace(0, 12, 40)) @ v

    with pytest.warns(RuntimeWarning, match="natural_direction: conjugate gradient stopped") as record:
        ng.natural_direction(np.ones(40), matvec)
    assert record[0].filename == __file__


def test_resolved_eigenvalues_of_no_eigenvalues_is_an_empty_mask():
    mask = _resolved_eigenvalues(np.array([]), 1e-10)
    assert mask.shape == (0,)
    assert mask.dtype == bool
