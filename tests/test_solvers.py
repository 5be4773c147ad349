"""Conjugate gradient.

References: numpy.linalg.solve on the same (damped) system, explicit residuals, and the
Krylov-space property (k distinct eigenvalues -> convergence in k iterations).
"""

from __future__ import annotations

import numpy as np
import pytest

import natgrad as ng


def random_spd(n, seed, condition=100.0):
    """Q diag(eigs) Q^T with eigenvalues log-spaced in [1, condition]."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return Q @ np.diag(np.geomspace(1.0, condition, n)) @ Q.T


class CountingMatvec:
    """v -> A v that counts its calls."""

    def __init__(self, A):
        self.A = A
        self.calls = 0

    def __call__(self, v):
        self.calls += 1
        return self.A @ v


@pytest.mark.parametrize("n,seed", [(5, 0), (20, 1), (40, 2)])
@pytest.mark.parametrize("damping", [0.0, 0.3, 5.0])
def test_cg_matches_numpy_solve(n, seed, damping):
    """Reference: numpy.linalg.solve(A + damping I, b)."""
    A = random_spd(n, seed)
    b = np.random.default_rng(seed + 100).normal(size=n)
    result = ng.conjugate_gradient(lambda v: A @ v, b, damping=damping)
    expected = np.linalg.solve(A + damping * np.eye(n), b)
    assert result.converged
    np.testing.assert_allclose(result.x, expected, rtol=1e-8, atol=1e-8 * np.linalg.norm(expected))
    true_residual = np.linalg.norm(b - (A + damping * np.eye(n)) @ result.x) / np.linalg.norm(b)
    assert true_residual < 1e-9


def test_cg_damping_only_system():
    """Reference: A = 0 so (0 + damping I) x = b has x = b / damping, found in one iteration."""
    b = np.array([1.0, -2.0, 3.0])
    result = ng.conjugate_gradient(lambda v: np.zeros_like(v), b, damping=4.0)
    assert result.converged and result.n_iter == 1
    np.testing.assert_allclose(result.x, b / 4.0, rtol=1e-15)


def test_cg_reports_not_converged_when_max_iter_too_small():
    """Reference: a 30-dim system with 30 distinct, widely spread eigenvalues cannot be solved in 3 steps."""
    A = random_spd(30, 3, condition=1e4)
    b = np.random.default_rng(4).normal(size=30)
    matvec = CountingMatvec(A)
    result = ng.conjugate_gradient(matvec, b, max_iter=3)
    assert result.converged is False
    assert result.n_iter == 3
    assert matvec.calls == 3
    assert len(result.residual_norms) == 4
    assert result.residual_norms[-1] > 1e-10
    # The iterate is still a partial solution: it does not match numpy's answer yet.
    assert not np.allclose(result.x, np.linalg.solve(A, b), rtol=1e-6)


def test_cg_max_iter_zero_returns_zero_vector():
    """Reference: no iteration, x = 0, relative residual ||b|| / ||b|| = 1."""
    A = random_spd(4, 5)
    result = ng.conjugate_gradient(lambda v: A @ v, np.ones(4), max_iter=0)
    assert not result.converged
    assert result.n_iter == 0
    np.testing.assert_array_equal(result.x, np.zeros(4))
    assert result.residual_norms[0] == pytest.approx(1.0, rel=1e-15, abs=0)


@pytest.mark.parametrize("n_distinct", [1, 2, 3, 4])
def test_cg_iteration_count_equals_number_of_distinct_eigenvalues(n_distinct):
    """Reference: Krylov theory; with k distinct eigenvalues CG converges in exactly k iterations."""
    rng = np.random.default_rng(n_distinct)
    n = 12
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eigs = np.resize(np.arange(1.0, n_distinct + 1.0) * 2.0, n)
    A = Q @ np.diag(eigs) @ Q.T
    b = rng.normal(size=n)
    matvec = CountingMatvec(A)
    result = ng.conjugate_gradient(matvec, b, tol=1e-10)
    assert result.converged
    assert result.n_iter == n_distinct
    assert matvec.calls == n_distinct
    assert len(result.residual_norms) == n_distinct + 1
    np.testing.assert_allclose(result.x, np.linalg.solve(A, b), rtol=1e-9)


def test_cg_residual_norms_are_relative_residuals(rng):
    """Reference: first entry 1 (x = 0), last entry <= tol, and it matches ||b - A x|| / ||b|| recomputed."""
    A = random_spd(15, 6)
    b = rng.normal(size=15)
    result = ng.conjugate_gradient(lambda v: A @ v, b, damping=0.1, tol=1e-6)
    assert result.residual_norms[0] == pytest.approx(1.0, rel=1e-15, abs=0)
    assert result.residual_norms[-1] <= 1e-6
    assert len(result.residual_norms) == result.n_iter + 1
    true = np.linalg.norm(b - (A + 0.1 * np.eye(15)) @ result.x) / np.linalg.norm(b)
    assert true == pytest.approx(result.residual_norms[-1], rel=1e-3, abs=1e-12)


def test_cg_zero_rhs_returns_zero_without_iterating():
    """Reference: the exact solution of A x = 0 is x = 0; no matvec should be needed."""
    A = random_spd(6, 7)
    matvec = CountingMatvec(A)
    result = ng.conjugate_gradient(matvec, np.zeros(6))
    assert result.converged is True
    assert result.n_iter == 0
    assert result.residual_norms == [0.0]
    np.testing.assert_array_equal(result.x, np.zeros(6))
    assert matvec.calls == 0


def test_cg_stops_at_negative_curvature_and_returns_the_last_iterate():
    """Reference: CG by hand on A = diag(2, -1), b = (1, 1).

    Step 1: p = b, p^T A p = 1, alpha = 2, x = (2, 2), r = (-3, 3). Step 2: p = r + 9 p_old
    = (6, 12), p^T A p = -72 < 0, so CG stops with x = (2, 2) after one iteration.
    """
    matvec = CountingMatvec(np.diag([2.0, -1.0]))
    result = ng.conjugate_gradient(matvec, np.ones(2))
    np.testing.assert_allclose(result.x, [2.0, 2.0], rtol=1e-15)
    assert (result.n_iter, result.converged, matvec.calls) == (1, False, 2)
    np.testing.assert_allclose(result.residual_norms, [1.0, 3.0], rtol=1e-15)


@pytest.mark.parametrize("damping", [0.0, 1.0])
def test_cg_stops_at_zero_curvature_without_dividing_by_it(damping):
    """Reference: b = e_2 spans the null space of A + lambda I = diag(1 + 2 lambda, 0): zero curvature at once, x stays 0."""
    A = np.diag([1.0 + damping, -damping])
    result = ng.conjugate_gradient(lambda v: A @ v, np.array([0.0, 1.0]), damping=damping)
    np.testing.assert_array_equal(result.x, np.zeros(2))
    assert (result.n_iter, result.converged, result.residual_norms) == (0, False, [1.0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_cg_stops_when_the_operator_returns_non_finite_values(bad):
    """Reference: x = 0 is the last finite iterate; a NaN or inf product must not leak into x."""
    result = ng.conjugate_gradient(lambda v: np.full_like(v, bad), np.ones(3))
    np.testing.assert_array_equal(result.x, np.zeros(3))
    assert (result.n_iter, result.converged) == (0, False)


def test_cg_default_max_iter_is_ten_times_the_size():
    """Reference: a 2-D rotation by 90 degrees plus the identity is not symmetric, and CG on it never settles.

    Here p^T A p = |p|^2 > 0 always, so only max_iter stops it: 10 * len(b) = 20 matvecs.
    """
    A = np.array([[1.0, 1.0], [-1.0, 1.0]])
    matvec = CountingMatvec(A)
    result = ng.conjugate_gradient(matvec, np.array([1.0, 0.0]), tol=1e-300)
    assert (result.n_iter, matvec.calls, len(result.residual_norms)) == (20, 20, 21)
    assert not result.converged


def test_cg_solves_a_multiple_of_the_identity_in_one_step():
    """Reference: with A = 2 I and b = (1, 1), one step gives x = b / 2 exactly and residual 0."""
    result = ng.conjugate_gradient(lambda v: 2.0 * v, np.ones(2), tol=1e-300)
    assert (result.n_iter, result.converged, result.residual_norms) == (1, True, [1.0, 0.0])
    np.testing.assert_array_equal(result.x, [0.5, 0.5])


def test_cg_stopping_test_is_inclusive():
    """Reference: the documented rule ||r_k|| <= tol ||b||: a tol equal to the first residual stops after one step."""
    A = random_spd(6, 9)
    b = np.random.default_rng(10).normal(size=6)
    first = ng.conjugate_gradient(lambda v: A @ v, b, max_iter=1).residual_norms[1]
    result = ng.conjugate_gradient(lambda v: A @ v, b, tol=first)
    assert (result.n_iter, result.converged) == (1, True)


def test_cg_singular_consistent_system_gives_minimum_norm_solution():
    """Reference: numpy.linalg.pinv(A) @ b for a rank-deficient PSD A with b in its range."""
    rng = np.random.default_rng(8)
    B = rng.normal(size=(10, 6))
    A = B @ B.T  # rank 6
    b = A @ rng.normal(size=10)
    result = ng.conjugate_gradient(lambda v: A @ v, b, tol=1e-12)
    np.testing.assert_allclose(result.x, np.linalg.pinv(A) @ b, rtol=1e-6, atol=1e-8)


def test_cg_with_fisher_vector_product(tanh_problem):
    """Reference: numpy.linalg.solve(F + damping I, g) with the dense Fisher."""
    model, params, X, _ = tanh_problem
    g = np.random.default_rng(0).normal(size=model.n_params)
    result = ng.conjugate_gradient(ng.fisher_vector_product(model, params, X), g, damping=1e-2, max_iter=500)
    F = ng.fisher(model, params, X)
    assert result.converged
    np.testing.assert_allclose(result.x, np.linalg.solve(F + 1e-2 * np.eye(model.n_params), g), rtol=1e-7, atol=1e-7)
