r"""Linear regression as a distribution: :math:`y \mid x \sim N(x^\top\theta, \sigma^2)`.

The smallest model whose Fisher is known in closed form and does not depend on
:math:`\theta`: :math:`F = X^\top X / (N\sigma^2)`. Chapter 4 uses it to contrast the Fisher
with the empirical Fisher (the example of Kunstner, Balles and Hennig, 2019); chapter 5
uses an ill-conditioned one to compare natural gradient with gradient descent.
"""

from __future__ import annotations

import autograd.numpy as np

from natgrad._checks import array_value, finite_array, flat_vector, positive_finite


def _check(X, y=None, noise_std: float = 1.0):
    X = finite_array(X, "X")
    if array_value(X, "X").ndim != 2:
        raise ValueError(f"X: expected a 2-D array (N, n_features), got shape {array_value(X, 'X').shape}")
    if y is not None:
        y = flat_vector(y, "y", array_value(X, "X").shape[0])
    positive_finite(noise_std, "noise_std")
    return X, y


def linear_gaussian_loss(params, X, y, noise_std: float = 1.0):
    r"""Mean negative log-likelihood :math:`\frac1N\sum_n \frac{(y_n - x_n^\top\theta)^2}{2\sigma^2} + \log(\sigma\sqrt{2\pi})`."""
    X, y = _check(X, y, noise_std)
    params = flat_vector(params, "params", array_value(X, "X").shape[1])
    residual = y - np.dot(X, params)
    return np.mean(residual**2) / (2.0 * noise_std**2) + np.log(noise_std * np.sqrt(2.0 * np.pi))


def linear_gaussian_kl(params_p, params_q, X, noise_std: float = 1.0):
    r"""Mean over rows of KL between :math:`N(x^\top\theta_p, \sigma^2)` and :math:`N(x^\top\theta_q, \sigma^2)`: :math:`\frac{1}{2N\sigma^2}\|X(\theta_p-\theta_q)\|^2`."""
    X, _ = _check(X, None, noise_std)
    n_features = array_value(X, "X").shape[1]
    delta = flat_vector(params_p, "params_p", n_features) - flat_vector(params_q, "params_q", n_features)
    return np.mean(np.dot(X, delta) ** 2) / (2.0 * noise_std**2)


def linear_gaussian_fisher(X, noise_std: float = 1.0):
    r"""The Fisher :math:`F = X^\top X / (N\sigma^2)`, the same at every :math:`\theta`. Chapter 4."""
    X, _ = _check(X, None, noise_std)
    return np.dot(X.T, X) / (array_value(X, "X").shape[0] * noise_std**2)


def linear_gaussian_empirical_fisher(params, X, y, noise_std: float = 1.0):
    r"""The empirical Fisher :math:`\frac1N\sum_n \frac{(y_n - x_n^\top\theta)^2}{\sigma^4} x_n x_n^\top`.

    It uses the observed labels, so it changes with :math:`\theta` and vanishes wherever
    the model fits the data exactly: it is not the Fisher. Chapter 4.
    """
    X, y = _check(X, y, noise_std)
    params = flat_vector(params, "params", array_value(X, "X").shape[1])
    residual = y - np.dot(X, params)
    return np.dot(X.T * residual**2, X) / (array_value(X, "X").shape[0] * noise_std**4)
