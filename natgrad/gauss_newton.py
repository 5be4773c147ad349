r"""The generalised Gauss-Newton matrix, the Fisher in disguise for matching losses. Chapter 9."""

from __future__ import annotations

import numpy as onp
from autograd import hessian, jacobian

from natgrad._checks import array_value, flat_vector


def gauss_newton(output_fn, loss_of_outputs, params) -> onp.ndarray:
    r"""The generalised Gauss-Newton matrix :math:`G = J^\top H_L J`, dense, by automatic differentiation.

    ``output_fn(params)`` returns the model's outputs z (any shape, e.g. logits (N, C)),
    ``loss_of_outputs(z)`` the scalar loss as a function of those outputs. :math:`J` is the
    Jacobian of the flattened outputs in ``params`` and :math:`H_L` the Hessian of the loss
    in the outputs. Differentiating :math:`L(z(\theta))` twice gives
    :math:`\nabla^2 L = J^\top H_L J + \sum_k (\partial L/\partial z_k)\,\nabla^2 z_k`; G keeps
    the first term. Forms a (P, NC) Jacobian and an (NC, NC) Hessian: for small models only.
    Chapter 9.
    """
    params = onp.asarray(flat_vector(params, "params", onp.size(array_value(params, "params"))), dtype=float)
    outputs = onp.asarray(output_fn(params), dtype=float)
    J = onp.reshape(jacobian(output_fn)(params), (outputs.size, params.size))
    H = onp.reshape(hessian(loss_of_outputs)(outputs), (outputs.size, outputs.size))
    return J.T @ H @ J
