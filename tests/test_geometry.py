"""KL balls and direction fields for two-parameter models.

References: the quadratic form evaluated directly, the closed-form Gaussian KL and its Fisher,
a hand-written circle, and explicit loops over the grid.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import natgrad as ng
from natgrad.geometry import direction_field, divergence_level_set, quadratic_level_set


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


def test_divergence_level_set_of_a_quadratic_is_the_ellipse():
    """Reference: quadratic_level_set, whose points the divergence 1/2 d^T A d must reproduce along the same rays."""
    A = random_spd(7)
    center = np.array([1.0, 2.0])
    exact = divergence_level_set(lambda t: 0.5 * (t - center) @ A @ (t - center), center, 0.3, n_points=25)
    np.testing.assert_allclose(exact, quadratic_level_set(A, center, 0.3, n_points=25), rtol=1e-9, atol=1e-9)


def test_divergence_level_set_of_the_gaussian_kl_is_on_the_level_and_tends_to_the_fisher_ellipse():
    """Reference: ng.kl_gaussian at every point (= eps), and the gaussian_fisher ellipse, whose relative
    radius gap must shrink like sqrt(eps) as eps -> 0."""
    mu, sigma = 0.4, 0.7
    center = np.array([mu, sigma])

    def kl(t):
        return ng.kl_gaussian(mu, sigma, t[0], t[1])

    gaps = []
    for eps in [1e-2, 1e-4]:
        exact = divergence_level_set(kl, center, eps, n_points=48)
        np.testing.assert_allclose([kl(p) for p in exact], eps, rtol=1e-8)
        ellipse = quadratic_level_set(ng.gaussian_fisher(mu, sigma), center, eps, n_points=48)
        radius_ratio = np.linalg.norm(exact - center, axis=1) / np.linalg.norm(ellipse - center, axis=1)
        gaps.append(np.abs(radius_ratio - 1.0).max())
    assert gaps[1] < 0.02
    assert 5.0 < gaps[0] / gaps[1] < 20.0  # sqrt(100) = 10


def test_divergence_level_set_treats_points_outside_the_domain_as_beyond_the_level():
    """Reference: a divergence defined only for sigma > 0 that never reaches eps before sigma = 0
    along the downward ray; the result there must stop at the domain edge, sigma -> 0."""

    def divergence(t):
        if t[1] <= 0:
            raise ValueError("sigma must be positive")
        return 0.01 * t[0] ** 2 + 0.01 * (t[1] - 1.0) ** 2

    points = divergence_level_set(divergence, np.array([0.0, 1.0]), 0.5, n_points=4)
    np.testing.assert_allclose(points[3], [0.0, 0.0], atol=1e-8)  # angle 3 pi / 2, straight down
    np.testing.assert_allclose(points[0], [np.sqrt(50.0), 1.0], rtol=1e-9)


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
        (lambda: divergence_level_set("kl", [0.0, 0.0], 1.0), "divergence"),
        (lambda: divergence_level_set(lambda t: 1.0, [0.0, 0.0], 0.5), "divergence"),
        (lambda: divergence_level_set(lambda t: 0.0, [0.0, 0.0], 0.5), "divergence"),
        (lambda: divergence_level_set(lambda t: t @ t, [0.0, np.nan], 0.5), "center"),
        (lambda: divergence_level_set(lambda t: t @ t, [0.0, 0.0], -1.0), "eps"),
        (lambda: divergence_level_set(lambda t: t @ t, [0.0, 0.0], 1.0, rtol=0.0), "rtol"),
        (lambda: direction_field(None, [0.0], [0.0]), "direction"),
        (lambda: direction_field(lambda t: t, [], [0.0]), "xs"),
        (lambda: direction_field(lambda t: t, [0.0], [[0.0]]), "ys"),
        (lambda: direction_field(lambda t: np.zeros(3), [0.0], [0.0]), "direction(theta)"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}:"):
        call()


def test_level_sets_default_to_200_points_on_the_same_rays():
    """Reference: the documented default n_points = 200 and the angles 2 pi k / n."""
    quadratic = quadratic_level_set(np.eye(2), np.zeros(2), 0.5)
    exact = divergence_level_set(lambda t: 0.5 * t @ t, np.zeros(2), 0.5)
    angles = 2 * np.pi * np.arange(200) / 200
    for points in (quadratic, exact):
        assert points.shape == (200, 2)
        np.testing.assert_allclose(points, np.column_stack([np.cos(angles), np.sin(angles)]), rtol=1e-9, atol=1e-9)


def test_divergence_level_set_finds_the_first_crossing_from_a_small_initial_radius():
    """Reference: a divergence that jumps above eps on the shell 0.01 <= |t| <= 0.02 and then falls back.

    Doubling from the default initial radius 1e-3 lands in the shell (0.016), so the first crossing,
    |t| = 0.01, is found; a larger start or a coarser growth would jump over the shell to |t| = 5 sqrt(0.5).
    """
    def divergence(theta):
        r = np.linalg.norm(theta - np.array([1.0, -1.0]))
        return 1.0 if 0.01 <= r <= 0.02 else (r / 5.0) ** 2

    points = divergence_level_set(divergence, np.array([1.0, -1.0]), 0.5, n_points=4)
    np.testing.assert_allclose(np.linalg.norm(points - np.array([1.0, -1.0]), axis=1), 0.01, rtol=1e-9)


def test_divergence_level_set_inside_the_initial_radius():
    """Reference: radius sqrt(2 eps) = 1e-4 for the divergence |t|^2 / 2, below the first trial radius 1e-3."""
    points = divergence_level_set(lambda t: 0.5 * t @ t, np.zeros(2), 5e-9, n_points=3)
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 1e-4, rtol=1e-9)


def test_divergence_exactly_at_eps_counts_as_reached():
    """Reference: the documented test divergence < eps; a centre at exactly eps is not below it."""
    with pytest.raises(ValueError, match=r"^divergence: expected a value below eps = 0.5 at the centre$"):
        divergence_level_set(lambda t: 0.5, np.zeros(2), 0.5)
