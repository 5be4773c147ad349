"""Classifiers as conditional distributions p(y | x, theta) over class labels.

A model maps one flat float64 parameter vector ``params`` and inputs ``X`` of shape
(N, n_features) to logits of shape (N, n_classes); softmax turns each row into a
probability vector. Chapter 2 introduces them; chapter 3 measures how far apart two
of them are with :func:`model_kl`.
"""

from __future__ import annotations

from dataclasses import dataclass

import autograd.numpy as np
import numpy as onp

from natgrad._checks import array_value, finite_array, flat_vector, generator, one_of, positive_int
from natgrad.distributions import kl_categorical, log_softmax

ACTIVATIONS = ("tanh", "sigmoid")


def sigmoid(z):
    r"""The logistic function :math:`1/(1+e^{-z}) = (\tanh(z/2) + 1)/2`, written in the stable tanh form."""
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def _activate(z, activation: str):
    return np.tanh(z) if activation == "tanh" else sigmoid(z)


def activation_derivative(hidden, activation: str):
    """The activation's derivative, written in terms of its output ``hidden``."""
    return 1.0 - hidden**2 if activation == "tanh" else hidden * (1.0 - hidden)


@dataclass(frozen=True)
class Model:
    """A fully connected classifier: affine layers with ``activation`` between them.

    ``layer_sizes = (n_features, *hidden, n_classes)``. Each layer ``l`` has a weight
    matrix ``W`` of shape (n_in, n_out) and a bias ``b`` of shape (n_out,); ``params``
    stores them layer by layer as ``W.ravel()`` then ``b``.
    """

    layer_sizes: tuple[int, ...]
    activation: str = "tanh"

    @property
    def n_features(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_classes(self) -> int:
        return self.layer_sizes[-1]

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """``(n_in, n_out)`` of each layer."""
        return list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))

    @property
    def n_params(self) -> int:
        return sum((n_in + 1) * n_out for n_in, n_out in self.shapes)

    def init(self, rng) -> onp.ndarray:
        """Random parameters: ``W ~ N(0, 1/n_in)`` entrywise, ``b = 0``."""
        rng = generator(rng)
        layers = [(rng.normal(0.0, 1.0 / onp.sqrt(n_in), size=(n_in, n_out)), onp.zeros(n_out)) for n_in, n_out in self.shapes]
        return self.flatten(layers)

    def unflatten(self, params) -> list[tuple]:
        """Split ``params`` into a list of ``(W, b)``, one per layer."""
        params = flat_vector(params, "params", self.n_params)
        layers, start = [], 0
        for n_in, n_out in self.shapes:
            W = np.reshape(params[start : start + n_in * n_out], (n_in, n_out))
            start += n_in * n_out
            layers.append((W, params[start : start + n_out]))
            start += n_out
        return layers

    def flatten(self, layers) -> onp.ndarray:
        """Inverse of :meth:`unflatten`: one flat float64 vector from a list of ``(W, b)``."""
        if len(layers) != len(self.shapes):
            raise ValueError(f"layers: expected {len(self.shapes)} (W, b) pairs, got {len(layers)}")
        pieces = []
        for index, ((W, b), (n_in, n_out)) in enumerate(zip(layers, self.shapes)):
            if array_value(W, "W").shape != (n_in, n_out) or array_value(b, "b").shape != (n_out,):
                raise ValueError(f"layers[{index}]: expected W of shape {(n_in, n_out)} and b of shape {(n_out,)}")
            pieces += [np.ravel(W), b]
        return np.concatenate(pieces)

    def check_inputs(self, X):
        """``X`` as a finite (N, n_features) float array."""
        value = array_value(X, "X")
        if value.ndim != 2 or value.shape[1] != self.n_features:
            raise ValueError(f"X: expected shape (N, {self.n_features}), got {value.shape}")
        return finite_array(X, "X")

    def forward(self, params, X):
        """Logits and the inputs of every layer: ``(logits, [X, h_1, ..., h_{L-1}])``."""
        X = self.check_inputs(X)
        inputs, h = [], X
        layers = self.unflatten(params)
        for index, (W, b) in enumerate(layers):
            inputs.append(h)
            z = np.dot(h, W) + b
            h = z if index == len(layers) - 1 else _activate(z, self.activation)
        return h, inputs

    def logits(self, params, X):
        """Logits of shape (N, n_classes); ``softmax`` of a row is p(. | x, params)."""
        return self.forward(params, X)[0]


def mlp(layer_sizes, activation: str = "tanh") -> Model:
    """A multilayer perceptron with the given ``layer_sizes`` and ``activation`` ("tanh" or "sigmoid"). Chapter 2."""
    one_of(activation, "activation", ACTIVATIONS)
    sizes = tuple(layer_sizes) if not isinstance(layer_sizes, (str, bytes)) else ()
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes: expected at least two sizes (inputs, ..., classes), got {layer_sizes!r}")
    for size in sizes:
        positive_int(size, "layer_sizes")
    if sizes[-1] < 2:
        raise ValueError(f"layer_sizes: expected at least 2 classes in the last layer, got {sizes[-1]}")
    return Model(tuple(int(s) for s in sizes), activation)


def softmax_regression(n_features: int, n_classes: int) -> Model:
    """Multinomial logistic regression: one affine layer, ``(n_features + 1) * n_classes`` parameters. Chapter 2."""
    positive_int(n_features, "n_features")
    positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes: expected at least 2, got {n_classes}")
    return Model((int(n_features), int(n_classes)))


def _check_model(model) -> Model:
    if not isinstance(model, Model):
        raise ValueError(f"model: expected a natgrad Model (from ng.mlp or ng.softmax_regression), got {type(model).__name__}")
    return model


def model_kl(model: Model, params_p, params_q, X):
    r"""Mean over the rows of ``X`` of :math:`\mathrm{KL}(p(\cdot|x, \theta_p) \,\|\, p(\cdot|x, \theta_q))`. Chapter 3."""
    _check_model(model)
    params_p = flat_vector(params_p, "params_p", model.n_params)
    params_q = flat_vector(params_q, "params_q", model.n_params)
    return np.mean(kl_categorical(model.logits(params_p, X), model.logits(params_q, X)))


def check_labels(y, n_rows: int, n_classes: int, name: str = "y") -> onp.ndarray:
    """Integer class labels, one per row, each in ``range(n_classes)``."""
    value = onp.asarray(y)
    if value.shape != (n_rows,) or not (onp.issubdtype(value.dtype, onp.integer) or value.size == 0):
        raise ValueError(f"{name}: expected {n_rows} integer labels, got shape {value.shape} and dtype {value.dtype}")
    if value.size and (value.min() < 0 or value.max() >= n_classes):
        raise ValueError(f"{name}: expected labels in 0..{n_classes - 1}")
    return value.astype(int)


def cross_entropy(model: Model, params, X, y):
    r"""Mean negative log-likelihood :math:`-\frac1N \sum_n \log p(y_n | x_n, \theta)`. Chapter 2."""
    _check_model(model)
    log_probs = log_softmax(model.logits(params, X))
    labels = check_labels(y, array_value(X, "X").shape[0], model.n_classes)
    return -np.mean(log_probs[onp.arange(labels.shape[0]), labels])
