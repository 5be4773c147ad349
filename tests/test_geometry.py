"""KL balls and direction fields for two-parameter models.

References: the quadratic form evaluated directly, a hand-written circle, and explicit loops
over the grid.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from natgrad.geometry import direction_field, quadratic_level_set


def random_spd(seed: int) -> np.ndarray:
    A = np.random.default_rng(seed).normal(size=(2, 2))
    return A @ A.T + 0.1 * np.eye(2)


@given(seed=st.integers(0, 10_000), eps=st.floats(1e-6, 10.0))
def test_quadratic_level_set_points_satisfy_the_quadratic_form(seed, eps):
    """Reference: 1/2 d^T F d evaluated at every returned point."""
    F = random_spd(seed)
    center = np.random.default_rng(seed + 1).normal(size=2)
    points = quadratic_level_set(F, center, eps, n_points=37)
    d = points - center
    np.testing.assert_allclose(0.5 * np.einsum("ki,ij,kj->k", d, F, d), eps, rtol=1e-12)


def test_quadratic_level_set_of_a_multiple_of_the_identity_is_a_circle():
    """Reference: a circle of radius sqrt(2 eps / c), written with cos and sin, starting at angle 0."""
    center = np.array([0.3, -1.2])
    points = quadratic_level_set(4.0 * np.eye(2), center, 0.5, n_points=8)
    angles = 2.0 * np.pi * np.arange(8) / 8
    circle = center + 0.5 * np.column_stack([np.cos(angles), np.sin(angles)])
    np.testing.assert_allclose(points, circle, rtol=0, atol=1e-15)


def test_direction_field_matches_an_explicit_loop_with_meshgrid_layout():
    """Reference: a double loop over np.meshgrid(xs, ys) evaluating the direction point by point."""
    F = random_spd(3)

    def direction(theta):
        return -np.linalg.solve(F, np.array([theta[0] ** 2 - theta[1], np.sin(theta[0] * theta[1])]))

    xs, ys = np.linspace(-1.0, 2.0, 4), np.linspace(0.5, 1.5, 3)
    U, V = direction_field(direction, xs, ys)
    assert U.shape == V.shape == (3, 4)
    X, Y = np.meshgrid(xs, ys)
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose([U[i, j], V[i, j]], direction(np.array([X[i, j], Y[i, j]])), rtol=1e-15)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: quadratic_level_set(np.eye(3), [0.0, 0.0], 1.0), "matrix"),
        (lambda: quadratic_level_set(np.array([[1.0, 2.0], [0.0, 1.0]]), [0.0, 0.0], 1.0), "matrix"),
        (lambda: quadratic_level_set(np.diag([1.0, -1.0]), [0.0, 0.0], 1.0), "matrix"),
        (lambda: quadratic_level_set(np.eye(2), [0.0, 0.0, 0.0], 1.0), "center"),
        (lambda: quadratic_level_set(np.eye(2), [0.0, 0.0], 0.0), "eps"),
        (lambda: quadratic_level_set(np.eye(2), [0.0, 0.0], 1.0, n_points=0), "n_points"),
        (lambda: direction_field(None, [0.0], [0.0]), "direction"),
        (lambda: direction_field(lambda t: t, [], [0.0]), "xs"),
        (lambda: direction_field(lambda t: t, [0.0], [[0.0]]), "ys"),
        (lambda: direction_field(lambda t: np.zeros(3), [0.0], [0.0]), "direction(theta)"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}:"):
        call()
