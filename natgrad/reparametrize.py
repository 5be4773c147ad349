r"""A sigmoid network is a tanh network in other coordinates.

Chapter 6 uses the identity :math:`\operatorname{sigm}(z) = \tfrac12\bigl(\tanh(z/2) + 1\bigr)` to rewrite a
sigmoid MLP as a tanh MLP with the same layer sizes and the same logits for every input.
Write each layer of the sigmoid network as :math:`z_l = h_{l-1} W_l + b_l` (:math:`h_0 = x`). A
hidden sigmoid layer outputs :math:`h_l = (h_l^{\tanh} + 1)/2` with :math:`h_l^{\tanh} = \tanh(z_l/2)`,
so the tanh network

* halves the weights and bias of every layer that feeds a hidden unit (its pre-activation is
  :math:`z/2`), and
* in every layer that reads a hidden layer, replaces :math:`h_{l-1} W_l + b_l` by
  :math:`h_{l-1}^{\tanh} (W_l/2) + (b_l + \tfrac12 \mathbf 1^\top W_l)`: the weights are halved and
  the bias absorbs half the column sums of the weights.

A middle layer gets both, :math:`W/4` and :math:`(b + \tfrac12\mathbf 1^\top W)/2`. Every new
entry is a fixed linear combination of old ones, so the map is linear,
:math:`\theta_{\tanh} = M\,\theta_{\mathrm{sig}}`, with an invertible constant matrix M
(:func:`sigmoid_to_tanh_jacobian`; the book writes M for the Jacobian of a change of
coordinates): an affine reparametrisation with zero offset.
"""

from __future__ import annotations

import autograd.numpy as np
import numpy as onp

from natgrad._checks import flat_vector
from natgrad.models import Model, _check_model


def _check_activation(model, activation: str) -> Model:
    _check_model(model)
    if model.activation != activation:
        raise ValueError(f"model: expected a {activation} MLP (ng.mlp(..., activation={activation!r})), got activation {model.activation!r}")
    return model


def _scales(model: Model, index: int) -> tuple[float, float, bool]:
    """(output scale, input scale, reads a hidden layer) of layer ``index``."""
    n_layers = len(model.shapes)
    output_scale = 0.5 if index < n_layers - 1 else 1.0
    reads_hidden = index > 0
    return output_scale, 0.5 if reads_hidden else 1.0, reads_hidden


def sigmoid_to_tanh_params(model: Model, params):
    r"""Parameters of the tanh MLP with the same layer sizes and the same logits as the sigmoid MLP.

    For layer l with weights :math:`W` and bias :math:`b`, and :math:`s_{\mathrm{out}} = \tfrac12`
    if it feeds a hidden layer (else 1), :math:`s_{\mathrm{in}} = \tfrac12` if it reads one (else 1):

    .. math:: W' = s_{\mathrm{out}}\, s_{\mathrm{in}}\, W, \qquad
              b' = s_{\mathrm{out}}\bigl(b + [l > 0]\,\tfrac12\,\mathbf 1^\top W\bigr).

    ``model`` must be a sigmoid MLP; ``params`` is its flat parameter vector. Linear in
    ``params`` (the matrix is :func:`sigmoid_to_tanh_jacobian`) and differentiable with
    autograd. Chapter 6.
    """
    _check_activation(model, "sigmoid")
    params = flat_vector(params, "params", model.n_params)
    layers = []
    for index, (W, b) in enumerate(model.unflatten(params)):
        output_scale, input_scale, reads_hidden = _scales(model, index)
        bias = b + 0.5 * np.sum(W, axis=0) if reads_hidden else b
        layers.append((output_scale * input_scale * W, output_scale * bias))
    return model.flatten(layers)


def tanh_to_sigmoid_params(model: Model, params):
    r"""The inverse of :func:`sigmoid_to_tanh_params`: sigmoid-MLP parameters with the tanh MLP's logits.

    With the scales of :func:`sigmoid_to_tanh_params`,

    .. math:: W = \frac{W'}{s_{\mathrm{out}}\, s_{\mathrm{in}}}, \qquad
              b = \frac{b'}{s_{\mathrm{out}}} - [l > 0]\,\tfrac12\,\mathbf 1^\top W .

    ``model`` must be a tanh MLP; ``params`` is its flat parameter vector. Chapter 6.
    """
    _check_activation(model, "tanh")
    params = flat_vector(params, "params", model.n_params)
    layers = []
    for index, (W_tanh, b_tanh) in enumerate(model.unflatten(params)):
        output_scale, input_scale, reads_hidden = _scales(model, index)
        W = W_tanh / (output_scale * input_scale)
        bias = b_tanh / output_scale
        layers.append((W, bias - 0.5 * np.sum(W, axis=0) if reads_hidden else bias))
    return model.flatten(layers)


def sigmoid_to_tanh_jacobian(model: Model) -> onp.ndarray:
    r"""The constant (P, P) matrix M with :math:`\theta_{\tanh} = M\,\theta_{\mathrm{sig}}`.

    Block diagonal, one block per layer: :math:`s_{\mathrm{out}} s_{\mathrm{in}}` on the weights,
    :math:`s_{\mathrm{out}}` on the biases, and, in layers that read a hidden layer, the entry
    :math:`\tfrac12 s_{\mathrm{out}}` linking bias :math:`b_o` to every weight :math:`W_{io}` of
    the same output unit. ``model`` must be a sigmoid MLP. Chapter 6 uses M to transform the
    gradient (:math:`g_{\mathrm{sig}} = M^\top g_{\tanh}`) and the Fisher
    (:math:`F_{\mathrm{sig}} = M^\top F_{\tanh} M`).
    """
    _check_activation(model, "sigmoid")
    M = onp.zeros((model.n_params, model.n_params))
    start = 0
    for index, (n_in, n_out) in enumerate(model.shapes):
        output_scale, input_scale, reads_hidden = _scales(model, index)
        weights = onp.arange(start, start + n_in * n_out)
        biases = onp.arange(start + n_in * n_out, start + (n_in + 1) * n_out)
        M[weights, weights] = output_scale * input_scale
        M[biases, biases] = output_scale
        if reads_hidden:
            # W.ravel() is row-major, so weight i * n_out + o feeds output unit o.
            M[biases[(weights - start) % n_out], weights] = 0.5 * output_scale
        start += (n_in + 1) * n_out
    return M
