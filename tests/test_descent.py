"""Plain gradient descent.

Reference: the closed form of gradient descent on a quadratic,
theta_t = (I - lr A)^t (theta_0 - theta*) + theta*, via numpy.linalg.matrix_power.
"""

from __future__ import annotations

import warnings

import autograd
import numpy as np
import pytest

import natgrad as ng


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.3])
def test_gradient_descent_on_quadratic_matches_closed_form(lr):
    """Reference: (I - lr A)^t (x0 - x*) + x* for L(x) = 1/2 (x - x*)^T A (x - x*)."""
    rng = np.random.default_rng(0)
    B = rng.normal(size=(4, 4))
    A = B @ B.T / 4 + 0.5 * np.eye(4)
    x_star = rng.normal(size=4)
    x0 = rng.normal(size=4)
    n_steps = 25
    path = ng.gradient_descent(lambda x: A @ (x - x_star), x0, lr, n_steps)
    assert path.shape == (n_steps + 1, 4)
    np.testing.assert_array_equal(path[0], x0)
    M = np.eye(4) - lr * A
    for t in range(n_steps + 1):
        expected = np.linalg.matrix_power(M, t) @ (x0 - x_star) + x_star
        np.testing.assert_allclose(path[t], expected, rtol=1e-11, atol=1e-12)


def test_gradient_descent_with_autograd_gradient():
    """Reference: the closed form on a diagonal quadratic, gradient from autograd.grad."""
    a = np.array([1.0, 4.0])
    loss = lambda x: 0.5 * np.sum(a * x**2)  # noqa: E731
    x0 = np.array([1.0, -1.0])
    path = ng.gradient_descent(autograd.grad(loss), x0, 0.2, 10)
    t = np.arange(11)[:, None]
    np.testing.assert_allclose(path, (1 - 0.2 * a) ** t * x0, rtol=1e-13, atol=1e-16)


def test_gradient_descent_zero_steps_returns_start():
    """Reference: path of one row, the start, as float64."""
    path = ng.gradient_descent(lambda x: x, [1, 2, 3], 0.1, 0)
    assert path.shape == (1, 3) and path.dtype == np.float64
    np.testing.assert_array_equal(path[0], [1.0, 2.0, 3.0])


def test_gradient_descent_does_not_modify_params0():
    """Reference: a copy of params0 taken before the call."""
    x0 = np.array([1.0, 2.0])
    before = x0.copy()
    ng.gradient_descent(lambda x: 2 * x, x0, 0.1, 5)
    np.testing.assert_array_equal(x0, before)


def test_gradient_descent_divergence_is_visible():
    """Reference: lr above 2 / lambda_max diverges; |x_t| = |1 - lr a|^t |x_0| grows, overflow kept as inf."""
    path = ng.gradient_descent(lambda x: 10.0 * x, np.array([1.0]), 1.0, 400)
    np.testing.assert_allclose(path[:5, 0], (-9.0) ** np.arange(5), rtol=1e-15)
    assert not np.all(np.isfinite(path[-1]))


def test_gradient_descent_overflow_and_nan_raise_no_warning():
    """Reference: float64 arithmetic by hand. 0 - 10 * 1e308 overflows to -inf; then the gradient -inf
    gives -inf - 10 * (-inf) = NaN. Both stay in the path silently, as documented."""
    def grad_fn(x):
        return np.where(np.isfinite(x), 1e308, -np.inf)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = ng.gradient_descent(grad_fn, np.zeros(1), 10.0, 2)
    assert path[1, 0] == -np.inf and np.isnan(path[2, 0])


def test_steps_to_reach_is_the_first_step_within_the_tolerance():
    """Reference: a linear scan written out by hand."""
    gaps = np.array([3.0, 1.0, 2e-6, 1e-6, 5e-7, 2.0, 1e-9])
    expected = next(t for t, gap in enumerate(gaps) if gap <= 1e-6)
    assert ng.descent.steps_to_reach(gaps, 1e-6) == expected == 3
    assert ng.descent.steps_to_reach(gaps, 1e-6) is not None
    assert ng.descent.steps_to_reach(gaps, 5.0) == 0  # the start already counts
    assert ng.descent.steps_to_reach(gaps, 1e-10) is None
    assert ng.descent.steps_to_reach(list(gaps), 0.0) is None
    assert ng.descent.steps_to_reach([0.0, 1.0], 0.0) == 0  # the tolerance itself is reached
    assert isinstance(ng.descent.steps_to_reach(gaps, 1e-6), int)


def test_steps_to_reach_on_a_gradient_descent_path():
    """Reference: on L = x^2 / 2 with rate lr, the gap after t steps is (1 - lr)^(2t) / 2."""
    lr, x0, tol = 0.1, 1.0, 1e-6
    path = ng.gradient_descent(lambda x: x, np.array([x0]), lr, n_steps=200)
    gaps = 0.5 * path[:, 0] ** 2
    expected = int(np.ceil(np.log(2 * tol / x0**2) / (2 * np.log(1 - lr))))
    assert ng.descent.steps_to_reach(gaps, tol) == expected


def test_steps_to_reach_skips_nan_and_rejects_bad_input():
    assert ng.descent.steps_to_reach([np.nan, np.inf, 0.5, 1e-7], 1e-6) == 3
    assert ng.descent.steps_to_reach([np.nan, np.nan], 1e-6) is None
    for gaps in [[], np.zeros((2, 2)), ["a", "b"], 3.0]:
        with pytest.raises(ValueError, match="gaps"):
            ng.descent.steps_to_reach(gaps, 1e-6)
    for tolerance in [-1e-6, np.nan, np.inf, True, "1e-6"]:
        with pytest.raises(ValueError, match="tolerance"):
            ng.descent.steps_to_reach([1.0, 0.0], tolerance)
