"""natgrad.variational: the cases that mutation testing found unchecked (tests/MUTATION.md).

References: the univariate Gaussian KL written out, the variational objective assembled from
gaussian_expectations and numpy's slogdet, and the exact error messages of the API contract.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from natgrad import variational

X = np.array([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0], [1.0, 0.0]])
Y = np.array([1.0, 0.0, 1.0, 0.0])
MEAN = np.array([0.2, -0.3])
COV = np.array([[0.5, 0.1], [0.1, 0.3]])


def test_kl_gaussians_of_one_parameter_is_the_univariate_kl():
    """KL(N(0, 1) || N(1, 2)) = (1/2)(1/2 + 1/2 - 1 + log 2) = log(2) / 2."""
    assert variational.kl_gaussians([0.0], [[1.0]], [1.0], [[2.0]]) == pytest.approx(0.5 * math.log(2.0), rel=1e-14)


def test_vi_objective_uses_the_number_of_nodes_it_is_given():
    """With 3 quadrature nodes the expectation is cruder than with the default 401, and the objective follows it."""
    coarse = variational.gaussian_expectations(MEAN, COV, X, Y, 0.1, n_nodes=3).value
    fine = variational.gaussian_expectations(MEAN, COV, X, Y, 0.1).value
    assert abs(coarse - fine) > 1e-3
    log_det = np.linalg.slogdet(COV)[1]
    assert variational.vi_objective(MEAN, COV, X, Y, 0.1, n_nodes=3) == pytest.approx(coarse - 0.5 * log_det / 4, rel=1e-14)
    assert variational.vi_objective(MEAN, COV, X, Y, 0.1) == pytest.approx(fine - 0.5 * log_det / 4, rel=1e-14)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: variational.logistic_posterior_loss(MEAN, X, Y, 0.0), "penalty: expected a finite number > 0, got 0.0"),
        (lambda: variational.logistic_posterior_loss(np.ones(3), X, Y, 0.1), "params: expected a flat vector of length 2, got shape (3,)"),
        (lambda: variational.kl_gaussians([np.nan, 0.0], COV, MEAN, COV), "mean_p: expected finite values, found NaN or inf"),
        (lambda: variational.kl_gaussians(np.ones((2, 1)), COV, MEAN, COV), "mean_p: expected a flat vector, got shape (2, 1)"),
        (lambda: variational.kl_gaussians(np.ones(0), COV, MEAN, COV), "mean_p: expected a flat vector, got shape (0,)"),
        (lambda: variational.kl_gaussians(MEAN, COV, np.ones(3), COV), "mean_q: expected a flat vector of length 2, got shape (3,)"),
        (lambda: variational.kl_gaussians(MEAN, np.eye(3), MEAN, COV), "cov_p: expected a (2, 2) covariance matrix, got shape (3, 3)"),
        (lambda: variational.kl_gaussians(MEAN, COV, MEAN, np.eye(3)), "cov_q: expected a (2, 2) covariance matrix, got shape (3, 3)"),
    ],
)
def test_exact_messages(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()
