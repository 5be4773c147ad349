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
