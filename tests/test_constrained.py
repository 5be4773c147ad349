"""The brute-force KL-circle search, the angle helper and the natural-gradient loop.

References: the closed-form radius sqrt(2 eps / u^T F u) of a quadratic KL, kl_gaussian
evaluated independently at the returned points, the Lagrange solution
-sqrt(2 eps / g^T F^-1 g) F^-1 g via numpy.linalg.solve, the secular equation of a quadratic loss
on a KL ellipse solved by scipy's brentq, numpy's arccos for angles, and
hand-written loops of numpy.linalg.solve for the natural-gradient path.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import natgrad as ng
from natgrad.constrained import angle_degrees, kl_circle, least_loss_on_kl_circle, natural_gradient_descent


def random_spd(rng, size, spread=10.0):
    """A symmetric positive definite matrix with eigenvalues between 1 and spread."""
    Q, _ = np.linalg.qr(rng.normal(size=(size, size)))
    return Q @ np.diag(np.geomspace(1.0, spread, size)) @ Q.T


def quadratic_kl_rows(F, center):
    """Rows theta -> 1/2 (theta - center)^T F (theta - center)."""
    return lambda T: 0.5 * np.einsum("ij,jk,ik->i", T - center, F, T - center)


# ---------------------------------------------------------------- kl_circle


@pytest.mark.parametrize("budget", [1e-6, 1e-2, 3.0])
def test_kl_circle_on_quadratic_kl_matches_closed_form_radius(budget):
    """Reference: r_k = sqrt(2 eps / u_k^T F u_k) along u_k = (cos phi_k, sin phi_k), phi_k = 2 pi k / K."""
    rng = np.random.default_rng(0)
    F = random_spd(rng, 2, spread=300.0)
    center = rng.normal(size=2)
    K = 360
    points = kl_circle(quadratic_kl_rows(F, center), center, budget, n_directions=K)
    assert points.shape == (K, 2)
    phi = 2 * np.pi * np.arange(K) / K
    u = np.column_stack([np.cos(phi), np.sin(phi)])
    radius = np.sqrt(2 * budget / np.einsum("ij,jk,ik->i", u, F, u))
    np.testing.assert_allclose(points, center + radius[:, None] * u, rtol=1e-12, atol=1e-13 * radius.max())


def test_kl_circle_gaussian_hits_the_true_kl_and_respects_the_domain():
    """Reference: ng.kl_gaussian at the returned points equals the budget; in (mu, sigma) coordinates
    the points with sigma <= 0 are reported as inf by kl_fn and never returned."""
    mu0, sigma0 = 0.3, 0.5
    budget = 0.8

    def kl_rows(T):
        out = np.full(T.shape[0], np.inf)
        ok = T[:, 1] > 0
        out[ok] = ng.kl_gaussian(mu0, sigma0, T[ok, 0], T[ok, 1])
        return out

    points = kl_circle(kl_rows, [mu0, sigma0], budget, n_directions=720)
    assert np.all(points[:, 1] > 0)
    np.testing.assert_allclose(ng.kl_gaussian(mu0, sigma0, points[:, 0], points[:, 1]), budget, rtol=1e-10)
    directions = points - np.array([mu0, sigma0])
    phi = 2 * np.pi * np.arange(720) / 720
    np.testing.assert_allclose(np.arctan2(directions[:, 1], directions[:, 0]) % (2 * np.pi), phi, atol=1e-9)


def test_kl_circle_rejects_bad_input():
    kl = quadratic_kl_rows(np.eye(2), np.zeros(2))
    with pytest.raises(ValueError, match="kl_budget"):
        kl_circle(kl, [0.0, 0.0], 0.0)
    with pytest.raises(ValueError, match="params"):
        kl_circle(kl, [0.0, 0.0, 0.0], 0.1)
    with pytest.raises(ValueError, match="n_directions"):
        kl_circle(kl, [0.0, 0.0], 0.1, n_directions=2)
    with pytest.raises(ValueError, match="kl_fn"):
        kl_circle("not callable", [0.0, 0.0], 0.1)
    with pytest.raises(ValueError, match="kl_fn"):
        kl_circle(lambda T: np.zeros(3), [0.0, 0.0], 0.1)
    with pytest.raises(ValueError, match="kl_fn"):
        kl_circle(lambda T: np.zeros(T.shape[0]), [0.0, 0.0], 0.1)  # never reaches the budget


# ---------------------------------------------------------------- least_loss_on_kl_circle


@given(seed=st.integers(0, 10_000), log_budget=st.floats(-6.0, 1.0))
def test_least_loss_on_kl_circle_grid_only_linear_loss_is_the_lagrange_solution(seed, log_budget):
    """Reference: for a linear loss g^T delta and quadratic KL, the exact constrained minimiser is
    delta* = -sqrt(2 eps / g^T F^-1 g) F^-1 g (numpy.linalg.solve). Without refinement the search
    must agree up to the grid: within one angular step (the winner is one of the two grid
    directions around the optimum), at the exact KL, and along one of the grid's directions."""
    rng = np.random.default_rng(seed)
    F = random_spd(rng, 2, spread=1e3)
    g = rng.normal(size=2)
    center = rng.normal(size=2)
    budget = 10.0**log_budget
    K = 3600
    kl = quadratic_kl_rows(F, center)
    winner = least_loss_on_kl_circle(lambda T: (T - center) @ g, kl, center, budget, K, refine=False)
    natural = np.linalg.solve(F, g)
    expected = -np.sqrt(2 * budget / (g @ natural)) * natural
    cos = (winner - center) @ expected / (np.linalg.norm(winner - center) * np.linalg.norm(expected))
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))) <= 360 / K + 1e-6
    delta = winner - center
    assert 0.5 * delta @ F @ delta == pytest.approx(budget, rel=1e-9)
    steps_of_grid = (np.arctan2(delta[1], delta[0]) % (2 * np.pi)) / (2 * np.pi / K)
    assert abs(steps_of_grid - np.round(steps_of_grid)) < 1e-9


def signed_degrees(u, v):
    """The angle from v to u in the plane, in degrees, positive counter-clockwise (numpy's arctan2)."""
    return np.degrees(np.arctan2(v[0] * u[1] - v[1] * u[0], v @ u))


@settings(max_examples=20)
@given(seed=st.integers(0, 10_000), log_budget=st.floats(-6.0, 1.0))
def test_least_loss_on_kl_circle_refined_linear_loss_is_the_lagrange_solution_far_below_the_grid(seed, log_budget):
    """Reference: the Lagrange solution above. The refined search (the default) must find its
    direction to within 1e-4 degrees, a thousand times finer than the grid's 0.1 degrees, on a
    coarse grid of 360 directions as well, and still lie at the exact KL."""
    rng = np.random.default_rng(seed)
    F = random_spd(rng, 2, spread=1e3)
    g = rng.normal(size=2)
    center = rng.normal(size=2)
    budget = 10.0**log_budget
    natural = np.linalg.solve(F, g)
    expected = -np.sqrt(2 * budget / (g @ natural)) * natural
    for K in (360, 3600):
        winner = least_loss_on_kl_circle(lambda T: (T - center) @ g, quadratic_kl_rows(F, center), center, budget, K)
        assert abs(signed_degrees(winner - center, expected)) < 1e-4
        delta = winner - center
        assert 0.5 * delta @ F @ delta == pytest.approx(budget, rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_least_loss_on_kl_circle_refined_quadratic_loss_matches_the_secular_equation(seed):
    """Reference: for a convex quadratic loss g^T delta + 1/2 delta^T A delta whose unconstrained
    minimiser lies outside the KL ellipse 1/2 delta^T F delta = eps, the constrained minimiser is
    delta(nu) = -(A + nu F)^-1 g with nu > 0 the root of 1/2 delta(nu)^T F delta(nu) = eps (scipy's
    brentq). The refined search must find it to 1e-7 relative; the grid winner only to about the
    grid's resolution."""
    from scipy.optimize import brentq

    rng = np.random.default_rng(seed)
    F = random_spd(rng, 2, spread=50.0)
    A = random_spd(rng, 2, spread=20.0)
    g = rng.normal(size=2)
    center = rng.normal(size=2)
    free = -np.linalg.solve(A, g)
    budget = 0.1 * 0.5 * free @ F @ free  # a tenth of the KL of the unconstrained minimiser

    def delta_of(nu):
        return -np.linalg.solve(A + nu * F, g)

    nu = brentq(lambda nu: 0.5 * delta_of(nu) @ F @ delta_of(nu) - budget, 0.0, 1e8, xtol=1e-14, rtol=1e-15)
    expected = center + delta_of(nu)

    def loss_rows(T):
        D = T - center
        return D @ g + 0.5 * np.einsum("ij,jk,ik->i", D, A, D)

    refined = least_loss_on_kl_circle(loss_rows, quadratic_kl_rows(F, center), center, budget, 360)
    grid = least_loss_on_kl_circle(loss_rows, quadratic_kl_rows(F, center), center, budget, 360, refine=False)
    scale = np.linalg.norm(expected - center)
    assert np.linalg.norm(refined - expected) < 1e-7 * scale
    assert np.linalg.norm(grid - expected) > 1e3 * np.linalg.norm(refined - expected)
    assert loss_rows(refined[None, :])[0] <= loss_rows(grid[None, :])[0]


def test_least_loss_on_kl_circle_refinement_never_loses_to_the_grid():
    """Reference: the grid winner itself. When the loss along the KL curve has its minimum exactly
    at a grid direction (a linear loss along one of them, isotropic KL), the refined point has no
    more loss than the grid winner and the same KL."""
    center = np.array([0.3, -0.2])
    K = 36
    phi = 2 * np.pi * 7 / K
    g = -np.array([np.cos(phi), np.sin(phi)])  # the loss falls fastest along grid direction 7
    kl = quadratic_kl_rows(np.eye(2), center)
    grid = least_loss_on_kl_circle(lambda T: (T - center) @ g, kl, center, 0.5, K, refine=False)
    refined = least_loss_on_kl_circle(lambda T: (T - center) @ g, kl, center, 0.5, K)
    assert (refined - center) @ g <= (grid - center) @ g
    np.testing.assert_allclose(grid - center, [np.cos(phi), np.sin(phi)], rtol=1e-12)
    np.testing.assert_allclose(refined, grid, atol=1e-7)


def test_least_loss_on_kl_circle_curved_loss_tends_to_natural_direction():
    """Reference: a Gaussian N(mu, exp(t)^2) fitted to data by its mean NLL, with the gradient and the
    Fisher diag(1/sigma^2, 2) written out by hand. The angle between the winner and -F^-1 g shrinks
    as the budget shrinks, and is below one degree at eps = 1e-3."""
    xbar, var = 1.0, 0.8
    theta = np.array([-1.0, np.log(3.0)])
    sigma = np.exp(theta[1])

    def loss_rows(T):
        return T[:, 1] + ((xbar - T[:, 0]) ** 2 + var) / (2 * np.exp(2 * T[:, 1]))

    def kl_rows(T):
        return np.log(np.exp(T[:, 1]) / sigma) + (sigma**2 + (T[:, 0] - theta[0]) ** 2) / (2 * np.exp(2 * T[:, 1])) - 0.5

    g = np.array([-(xbar - theta[0]) / sigma**2, 1 - ((xbar - theta[0]) ** 2 + var) / sigma**2])
    natural = -np.array([sigma**2 * g[0], g[1] / 2])
    angles = []
    for budget in [1.0, 1e-1, 1e-2, 1e-3]:
        winner = least_loss_on_kl_circle(loss_rows, kl_rows, theta, budget)
        cos = (winner - theta) @ natural / (np.linalg.norm(winner - theta) * np.linalg.norm(natural))
        angles.append(np.degrees(np.arccos(cos)))
    assert all(a > b for a, b in zip(angles, angles[1:])), angles
    assert angles[-1] < 1.0


def test_least_loss_on_kl_circle_rejects_bad_loss():
    kl = quadratic_kl_rows(np.eye(2), np.zeros(2))
    with pytest.raises(ValueError, match="loss_fn"):
        least_loss_on_kl_circle(None, kl, [0.0, 0.0], 0.1)
    with pytest.raises(ValueError, match="loss_fn"):
        least_loss_on_kl_circle(lambda T: np.full(T.shape[0], np.nan), kl, [0.0, 0.0], 0.1)
    with pytest.raises(ValueError, match="loss_fn"):
        least_loss_on_kl_circle(lambda T: T, kl, [0.0, 0.0], 0.1)
    with pytest.raises(ValueError, match="refine"):
        least_loss_on_kl_circle(lambda T: T[:, 0], kl, [0.0, 0.0], 0.1, refine="yes")
    with pytest.raises(ValueError, match="kl_budget"):
        least_loss_on_kl_circle(lambda T: T[:, 0], kl, [0.0, 0.0], -0.1)


# ---------------------------------------------------------------- angle_degrees


@pytest.mark.parametrize(
    ("u", "v", "expected"),
    [([1, 0], [3, 0], 0.0), ([1, 0], [0, 2], 90.0), ([1, 1], [1, 0], 45.0), ([1, 0], [-1, 0], 180.0), ([1, 2, 2], [2, 1, -2], 90.0)],
)
def test_angle_degrees_known_angles(u, v, expected):
    assert angle_degrees(u, v) == pytest.approx(expected, abs=1e-12)


@given(seed=st.integers(0, 10_000))
def test_angle_degrees_matches_arccos(seed):
    """Reference: numpy's arccos of the normalised dot product (away from 0 and 180 degrees)."""
    u, v = np.random.default_rng(seed).normal(size=(2, 5))
    cos = u @ v / (np.linalg.norm(u) * np.linalg.norm(v))
    assert angle_degrees(u, v) == pytest.approx(np.degrees(np.arccos(cos)), abs=1e-9)


def test_angle_degrees_tiny_angle_is_accurate():
    """Reference: the exact angle of (1, 0) and (1, tan a) is a, here 1e-9 rad, which arccos cannot resolve."""
    a = 1e-9
    assert angle_degrees([1.0, 0.0], [1.0, np.tan(a)]) == pytest.approx(np.degrees(a), rel=1e-6)


def test_angle_degrees_rejects_zero_and_mismatched_vectors():
    with pytest.raises(ValueError, match="u"):
        angle_degrees([0.0, 0.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="v"):
        angle_degrees([1.0, 0.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="v"):
        angle_degrees([1.0, 0.0], [1.0, 0.0, 0.0])


# ---------------------------------------------------------------- natural_gradient_descent


@pytest.mark.parametrize("damping", [0.0, 0.3])
def test_natural_gradient_descent_learning_rate_matches_hand_loop(damping):
    """Reference: theta <- theta - lr (F(theta) + damping I)^-1 g(theta) with numpy.linalg.solve,
    on a loss whose gradient and Fisher both depend on theta."""
    rng = np.random.default_rng(3)
    A = random_spd(rng, 3, spread=50.0)

    def grad_fn(theta):
        return A @ theta + np.sin(theta)

    def fisher_fn(theta):
        return A + np.diag(1.0 + theta**2)

    theta0 = rng.normal(size=3)
    path = natural_gradient_descent(grad_fn, fisher_fn, theta0, 12, learning_rate=0.4, damping=damping)
    assert path.shape == (13, 3)
    theta = theta0.copy()
    np.testing.assert_array_equal(path[0], theta0)
    for t in range(12):
        theta = theta - 0.4 * np.linalg.solve(fisher_fn(theta) + damping * np.eye(3), grad_fn(theta))
        np.testing.assert_allclose(path[t + 1], theta, rtol=1e-11, atol=1e-13)


def test_natural_gradient_descent_learning_rate_one_is_newton_on_a_quadratic():
    """Reference: the minimiser A^-1 b of 1/2 x^T A x - b^T x, whose Hessian A is used as the Fisher."""
    rng = np.random.default_rng(4)
    A = random_spd(rng, 2, spread=3000.0)
    b = rng.normal(size=2)
    path = natural_gradient_descent(lambda x: A @ x - b, lambda x: A, np.array([5.0, -4.0]), 1, learning_rate=1.0)
    np.testing.assert_allclose(path[1], np.linalg.solve(A, b), rtol=1e-9)


@pytest.mark.parametrize("damping", [0.0, 0.1])
def test_natural_gradient_descent_kl_budget_steps_have_the_budget(damping):
    """Reference: 1/2 delta^T (F + damping I) delta of every step, computed by hand, equals the budget."""
    rng = np.random.default_rng(5)
    A = random_spd(rng, 3)
    b = rng.normal(size=3)
    path = natural_gradient_descent(lambda x: A @ x - b, lambda x: A, np.zeros(3), 6, kl_budget=1e-3, damping=damping)
    for delta in np.diff(path, axis=0):
        assert 0.5 * delta @ (A + damping * np.eye(3)) @ delta == pytest.approx(1e-3, rel=1e-10)


def test_natural_gradient_descent_rejects_bad_input():
    grad_fn, fisher_fn = (lambda x: x), (lambda x: np.eye(2))
    with pytest.raises(ValueError, match="learning_rate, kl_budget"):
        natural_gradient_descent(grad_fn, fisher_fn, np.zeros(2), 3)
    with pytest.raises(ValueError, match="learning_rate, kl_budget"):
        natural_gradient_descent(grad_fn, fisher_fn, np.zeros(2), 3, learning_rate=0.1, kl_budget=0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        natural_gradient_descent(grad_fn, fisher_fn, np.zeros(2), 3, learning_rate=-1.0)
    with pytest.raises(ValueError, match="kl_budget"):
        natural_gradient_descent(grad_fn, fisher_fn, np.zeros(2), 3, kl_budget=0.0)
    with pytest.raises(ValueError, match="n_steps"):
        natural_gradient_descent(grad_fn, fisher_fn, np.zeros(2), -1, learning_rate=0.1)
    with pytest.raises(ValueError, match="damping"):
        natural_gradient_descent(grad_fn, fisher_fn, np.zeros(2), 3, learning_rate=0.1, damping=-1.0)
    with pytest.raises(ValueError, match="grad_fn"):
        natural_gradient_descent(None, fisher_fn, np.zeros(2), 3, learning_rate=0.1)
    with pytest.raises(ValueError, match="fisher_fn"):
        natural_gradient_descent(grad_fn, 3.0, np.zeros(2), 3, learning_rate=0.1)
    with pytest.raises(ValueError, match="params0"):
        natural_gradient_descent(grad_fn, fisher_fn, [np.nan, 0.0], 3, learning_rate=0.1)
