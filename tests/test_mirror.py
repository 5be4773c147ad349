"""natgrad.mirror (chapter 11) against independent references: the Fisher in expectation
parameters by the reparametrisation rule with autograd Jacobians, the convex conjugate by
numerical maximisation, and the straight-line path of the natural step in m."""

from __future__ import annotations

import autograd
import numpy as np
import pytest
from scipy.optimize import minimize

from natgrad import mirror

TARGET = np.array([0.1, 0.2, 0.3, 0.4])
THETA = np.array([2.0, -1.0, 0.5])


def loss_natural(theta):
    return mirror.categorical_log_partition(theta) - TARGET[:-1] @ theta


def test_fisher_in_expectation_parameters_is_the_inverse_fisher():
    """F_m = M^T F_theta M with M = d theta / d m (chapter 4's rule) equals F_theta^{-1}."""
    m = mirror.categorical_mean(THETA)
    M = autograd.jacobian(mirror.categorical_natural)(m)
    F_theta = autograd.hessian(mirror.categorical_log_partition)(THETA)
    np.testing.assert_allclose(M.T @ F_theta @ M, np.linalg.inv(F_theta), rtol=1e-10)


def test_natural_gradient_in_expectation_parameters_is_the_model_minus_the_data():
    m = mirror.categorical_mean(THETA)
    M = autograd.jacobian(mirror.categorical_natural)(m)
    F_m = M.T @ autograd.hessian(mirror.categorical_log_partition)(THETA) @ M
    gradient_m = autograd.grad(lambda mm: loss_natural(mirror.categorical_natural(mm)))(m)
    np.testing.assert_allclose(np.linalg.solve(F_m, gradient_m), m - TARGET[:-1], atol=1e-13)


def test_negative_entropy_is_the_convex_conjugate_of_the_log_partition():
    """psi*(m) = max_theta theta^T m - psi(theta), maximised by BFGS."""
    m = np.array([0.15, 0.25, 0.35])
    result = minimize(lambda t: mirror.categorical_log_partition(t) - t @ m, np.zeros(3), method="BFGS",
                      options={"gtol": 1e-12})
    assert mirror.categorical_negative_entropy(m) == pytest.approx(-result.fun, abs=1e-11)
    np.testing.assert_allclose(mirror.categorical_natural(m), result.x, atol=1e-6)


@pytest.mark.parametrize("learning_rate", [0.3, 1.0])
def test_mirror_descent_on_natural_parameters_moves_m_straight_to_the_data(learning_rate):
    """Mirror map psi on theta: m_{t+1} = m_t - eta (m_t - T_bar), so m_t - T_bar = (1 - eta)^t (m_0 - T_bar)."""
    path = mirror.mirror_descent(autograd.grad(loss_natural), THETA, to_dual=mirror.categorical_mean,
                                 from_dual=mirror.categorical_natural, learning_rate=learning_rate, n_steps=6)
    m0 = mirror.categorical_mean(THETA)
    for t, theta in enumerate(path):
        np.testing.assert_allclose(mirror.categorical_mean(theta) - TARGET[:-1], (1 - learning_rate) ** t * (m0 - TARGET[:-1]),
                                   atol=1e-14)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: mirror.categorical_mean(np.zeros((2, 2))), "natural"),
        (lambda: mirror.categorical_negative_entropy(np.array([-0.1, 0.5])), "mean"),
        (lambda: mirror.mirror_descent(abs, np.zeros(2), abs, abs, 0.1, -1), "n_steps"),
        (lambda: mirror.mirror_descent(abs, np.zeros(2), None, abs, 0.1, 1), "to_dual"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
