r"""Mirror descent on an exponential family, and the categorical family's log-partition and its dual. Chapter 11.

An exponential family :math:`p(y \mid \theta) \propto \exp(\theta^\top T(y) - \psi(\theta))` has natural
parameters :math:`\theta`, expectation parameters :math:`m = \nabla\psi(\theta)` and Fisher
:math:`F_\theta = \nabla^2\psi(\theta)`; the convex conjugate :math:`\psi^*` (the negative entropy) maps
back, :math:`\nabla\psi^*(m) = \theta`. In the expectation parameters the Fisher is
:math:`F_m = F_\theta^{-1}`, so a natural-gradient step in one set of coordinates is a mirror-descent
step in the other (Raskutti and Mukherjee, 2015).
"""

from __future__ import annotations

import autograd.numpy as np
import numpy as onp

from natgrad._checks import array_value, finite_array, flat_vector, nonnegative_int, positive_finite
from natgrad.distributions import softmax


def _natural(natural):
    value = array_value(natural, "natural")
    if value.ndim != 1 or value.size < 1:
        raise ValueError(f"natural: expected a flat vector of K - 1 >= 1 natural parameters, got shape {value.shape}")
    return finite_array(natural, "natural")


def _mean(mean):
    value = array_value(mean, "mean")
    if value.ndim != 1 or value.size < 1:
        raise ValueError(f"mean: expected a flat vector of K - 1 >= 1 probabilities, got shape {value.shape}")
    if not (onp.all(value > 0) and value.sum() < 1):
        raise ValueError("mean: expected probabilities > 0 of the first K - 1 classes, summing to less than 1")
    return finite_array(mean, "mean")


def categorical_log_partition(natural):
    r"""The log-partition :math:`\psi(\theta) = \log\big(1 + \sum_{k<K} e^{\theta_k}\big)` of the categorical family.

    Minimal parametrisation: :math:`p_k \propto e^{\theta_k}` for :math:`k < K` and
    :math:`p_K \propto 1`, so :math:`\theta` has K - 1 entries and the Fisher
    :math:`\nabla^2 \psi(\theta) = \mathrm{diag}(m) - mm^\top` is invertible. Chapter 11.
    """
    natural = _natural(natural)
    padded = np.concatenate([natural, np.zeros(1)])
    top = onp.max(array_value(padded, "natural"))
    return top + np.log(np.sum(np.exp(padded - top)))


def categorical_mean(natural):
    r"""The expectation parameters :math:`m = \nabla\psi(\theta)`: the probabilities of the first K - 1 classes. Chapter 11."""
    natural = _natural(natural)
    return softmax(np.concatenate([natural, np.zeros(1)]))[:-1]


def categorical_negative_entropy(mean):
    r"""The convex conjugate :math:`\psi^*(m) = \sum_{k<K} m_k \log m_k + m_K \log m_K`, :math:`m_K = 1 - \sum_{k<K} m_k`.

    It is the negative entropy of the distribution with expectation parameters :math:`m`. Chapter 11.
    """
    mean = _mean(mean)
    last = 1.0 - np.sum(mean)
    return np.sum(mean * np.log(mean)) + last * np.log(last)


def categorical_natural(mean):
    r"""The natural parameters :math:`\theta = \nabla\psi^*(m) = \log(m_k / m_K)`, the inverse of :func:`categorical_mean`. Chapter 11."""
    mean = _mean(mean)
    return np.log(mean) - np.log(1.0 - np.sum(mean))


def mirror_descent(grad_fn, point0, to_dual, from_dual, learning_rate: float, n_steps: int) -> onp.ndarray:
    r"""Mirror descent :math:`\nabla\Phi(m_{t+1}) = \nabla\Phi(m_t) - \eta\,\nabla L(m_t)`; returns the path of m, shape (n_steps + 1, P).

    ``to_dual`` is the gradient :math:`\nabla\Phi` of the mirror map and ``from_dual`` its
    inverse; ``grad_fn`` is :math:`\nabla L` in the primal coordinates m. A first-order method:
    no matrix is formed or solved. With m the expectation parameters of an exponential family
    and :math:`\Phi = \psi^*`, the dual coordinates :math:`\nabla\Phi(m)` are the natural
    parameters and the iterates are those of natural gradient descent in :math:`\theta`
    (Raskutti and Mukherjee, 2015). Chapter 11.
    """
    for fn, name in ((grad_fn, "grad_fn"), (to_dual, "to_dual"), (from_dual, "from_dual")):
        if not callable(fn):
            raise ValueError(f"{name}: expected a callable, got {type(fn).__name__}")
    positive_finite(learning_rate, "learning_rate")
    n_steps = nonnegative_int(n_steps, "n_steps")
    point0 = onp.asarray(flat_vector(point0, "point0", onp.size(array_value(point0, "point0"))), dtype=float)
    path = onp.empty((n_steps + 1, point0.size))
    path[0] = point0
    for step in range(n_steps):
        dual = onp.asarray(to_dual(path[step]), dtype=float) - learning_rate * onp.asarray(grad_fn(path[step]), dtype=float)
        path[step + 1] = from_dual(dual)
    return path
