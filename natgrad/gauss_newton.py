r"""The generalised Gauss-Newton matrix, which is the Fisher for a matching loss. Chapter 10.

For outputs :math:`z_n = z(x_n, \theta)` with Jacobians :math:`J_n` and a loss
:math:`L = \frac1N\sum_n \ell_n`, each :math:`\ell_n` a function of :math:`z_n` and the label,

.. math:: G = \frac1N \sum_n J_n^\top \Lambda_n J_n, \qquad \Lambda_n = \nabla^2_{z_n} \ell_n .

When :math:`\ell_n` is the negative log-likelihood of an exponential family in its natural
parameters :math:`z_n` (softmax with cross-entropy; a Gaussian :math:`\mathcal N(z_n, \sigma^2 I)`
with the squared error :math:`\lVert y_n - z_n\rVert^2 / (2\sigma^2)`), :math:`\Lambda_n` is the
Fisher of the output distribution and :math:`G = F`. Scaling the loss by :math:`\zeta` scales
:math:`G` by :math:`\zeta` and leaves the Gauss-Newton direction :math:`G^{-1} g` unchanged.
"""

from __future__ import annotations

import numpy as onp
from autograd import hessian, jacobian

from natgrad._checks import array_value, flat_vector


def gauss_newton(output_fn, loss_of_outputs, params) -> onp.ndarray:
    r"""The generalised Gauss-Newton matrix :math:`G = J^\top \Lambda J`, dense, by automatic differentiation.

    ``output_fn(params)`` returns the model's outputs :math:`z` (any shape, e.g. logits (N, K)),
    ``loss_of_outputs(z)`` the scalar loss as a function of those outputs (a mean over inputs
    includes its :math:`1/N`). :math:`J` is the Jacobian of the flattened outputs in ``params``
    and :math:`\Lambda` the Hessian of the loss in all the outputs: block diagonal, with blocks
    :math:`\Lambda_n / N`, when the loss is a mean over inputs. Differentiating :math:`L(z(\theta))` twice gives
    :math:`H = J^\top \Lambda J + \sum_k (\partial L/\partial z_k)\,\nabla^2 z_k`; :math:`G` keeps
    the first term. Forms a (NK, P) Jacobian and an (NK, NK) Hessian: for small models only.
    Chapter 10.
    """
    for fn, name in ((output_fn, "output_fn"), (loss_of_outputs, "loss_of_outputs")):
        if not callable(fn):
            raise ValueError(f"{name}: expected a function, got {type(fn).__name__}")
    params = onp.asarray(flat_vector(params, "params", onp.size(array_value(params, "params"))), dtype=float)
    outputs = onp.asarray(output_fn(params), dtype=float)
    J = onp.reshape(jacobian(output_fn)(params), (outputs.size, params.size))
    Lambda = onp.reshape(hessian(loss_of_outputs)(outputs), (outputs.size, outputs.size))
    return J.T @ Lambda @ J
