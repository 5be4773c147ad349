"""Networks as conditional distributions p(y | x, theta) over their targets.

A model maps one flat float64 parameter vector ``params`` and inputs ``X`` of shape
(N, n_features) to outputs z of shape (N, K); its output likelihood
(:mod:`natgrad.likelihoods`) turns each row into a distribution over the target. The
default, ``"categorical"``, is a classifier: softmax turns the logits into class
probabilities. ``"bernoulli"`` (independent sigmoids, targets in [0, 1]) and
``"gaussian"`` (unit variance, squared error) serve autoencoders and regression.
Chapter 2 introduces classifiers; chapter 3 measures how far apart two models are with
:func:`model_kl`; :func:`negative_log_likelihood` is the loss of any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import autograd.numpy as np
import numpy as onp

from natgrad._checks import array_value, finite_array, flat_vector, generator, one_of, positive_int
from natgrad.likelihoods import NAMES as LIKELIHOODS
from natgrad.likelihoods import check_labels, get  # check_labels: natgrad.glm, minibatch and optimizers import it from here

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
    """A fully connected network: affine layers with ``activation`` between them, and an output likelihood.

    ``layer_sizes = (n_features, *hidden, K)`` with K the number of outputs (the classes of
    a classifier). Each layer ``l`` has a weight matrix ``W`` of shape (n_in, n_out) and a
    bias ``b`` of shape (n_out,); ``params`` stores them layer by layer as ``W.ravel()`` then
    ``b``. ``likelihood`` names the distribution of the targets given the outputs: one of
    ``"categorical"`` (the default), ``"bernoulli"``, ``"gaussian"`` (:mod:`natgrad.likelihoods`).
    """

    layer_sizes: tuple[int, ...]
    activation: str = "tanh"
    likelihood: str = "categorical"

    def __post_init__(self):
        one_of(self.likelihood, "likelihood", LIKELIHOODS)

    @property
    def n_features(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        """K, the number of outputs."""
        return self.layer_sizes[-1]

    @property
    def n_classes(self) -> int:
        """The number of outputs K (the classes, for a classifier)."""
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
        """Outputs and the inputs of every layer: ``(logits, [X, h_1, ..., h_{L-1}])``."""
        X = self.check_inputs(X)
        inputs, h = [], X
        layers = self.unflatten(params)
        for index, (W, b) in enumerate(layers):
            inputs.append(h)
            z = np.dot(h, W) + b
            h = z if index == len(layers) - 1 else _activate(z, self.activation)
        return h, inputs

    def logits(self, params, X):
        """The outputs z of shape (N, K): logits for the categorical and Bernoulli likelihoods
        (``softmax`` of a row is p(. | x, params) for a classifier), means for the Gaussian."""
        return self.forward(params, X)[0]


def mlp(layer_sizes, activation: str = "tanh", likelihood: str = "categorical") -> Model:
    """A multilayer perceptron with the given ``layer_sizes``, ``activation`` ("tanh" or "sigmoid")
    and output ``likelihood`` ("categorical", "bernoulli" or "gaussian"). Chapter 2; chapter 8 for
    the Bernoulli autoencoder, e.g. ``mlp([64, 32, 16, 8, 16, 32, 64], likelihood="bernoulli")``."""
    one_of(activation, "activation", ACTIVATIONS)
    one_of(likelihood, "likelihood", LIKELIHOODS)
    sizes = tuple(layer_sizes) if not isinstance(layer_sizes, (str, bytes)) else ()
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes: expected at least two sizes (inputs, ..., outputs), got {layer_sizes!r}")
    for size in sizes:
        positive_int(size, "layer_sizes")
    if likelihood == "categorical" and sizes[-1] < 2:
        raise ValueError(f"layer_sizes: expected at least 2 classes in the last layer, got {sizes[-1]}")
    return Model(tuple(int(s) for s in sizes), activation, likelihood)


def softmax_regression(n_features: int, n_classes: int) -> Model:
    """Multinomial logistic regression: one affine layer, ``(n_features + 1) * n_classes`` parameters. Chapter 2."""
    positive_int(n_features, "n_features")
    positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes: expected at least 2, got {n_classes}")
    return Model((int(n_features), int(n_classes)))


def _one_layer(n_features, n_outputs, likelihood: str) -> Model:
    positive_int(n_features, "n_features")
    positive_int(n_outputs, "n_outputs")
    return Model((int(n_features), int(n_outputs)), likelihood=likelihood)


def logistic_regression(n_features: int, n_outputs: int = 1) -> Model:
    r"""``n_outputs`` independent logistic regressions on the same inputs: one affine layer, Bernoulli likelihood.

    :math:`p(y_k = 1 \mid x) = \operatorname{sigm}(x^\top W_{:k} + b_k)`, with
    ``(n_features + 1) * n_outputs`` parameters; targets in [0, 1] of shape (N, n_outputs).
    K-FAC is exact for it where all rows share their probabilities (zero weights). Chapters 4 and 8.
    """
    return _one_layer(n_features, n_outputs, "bernoulli")


def linear_regression(n_features: int, n_outputs: int = 1) -> Model:
    r"""Linear regression with unit-variance Gaussian noise: one affine layer, Gaussian likelihood.

    :math:`y \sim \mathcal N(W^\top x + b, I)`, with ``(n_features + 1) * n_outputs``
    parameters; its loss is half the mean squared error (chapter 1) and its Fisher
    :math:`\frac1N\sum_n \tilde x_n \tilde x_n^\top \otimes I`, the same at every point.
    Chapters 1, 4 and 10.
    """
    return _one_layer(n_features, n_outputs, "gaussian")


def _check_model(model) -> Model:
    if not isinstance(model, Model):
        raise ValueError(f"model: expected a natgrad Model (from ng.mlp or a one-layer constructor such as ng.softmax_regression), got {type(model).__name__}")
    return model


def check_targets(model: Model, y, n_rows: int, name: str = "y"):
    """The targets ``y`` of ``n_rows`` inputs, checked against the model's likelihood (integer
    labels for a classifier, float64 (N, K) otherwise); ``ValueError`` naming ``name`` if they do not fit."""
    return get(model.likelihood).check_targets(y, n_rows, model.n_outputs, name)


def model_kl(model: Model, params_p, params_q, X):
    r"""Mean over the rows of ``X`` of :math:`\mathrm{KL}(p(\cdot|x, \theta_p) \,\|\, p(\cdot|x, \theta_q))`.

    The KL of the model's likelihood between the output rows (for a Bernoulli, the sum over
    the K outputs; for the unit Gaussian, :math:`\tfrac12\lVert z_p - z_q\rVert^2`). Chapter 3.
    """
    _check_model(model)
    params_p = flat_vector(params_p, "params_p", model.n_params)
    params_q = flat_vector(params_q, "params_q", model.n_params)
    return np.mean(get(model.likelihood).kl(model.logits(params_p, X), model.logits(params_q, X)))


def negative_log_likelihood(model: Model, params, X, y):
    r"""The loss :math:`L(\theta) = \frac1N \sum_n \ell_n`, :math:`\ell_n = -\log p(y_n | x_n, \theta)`, for any likelihood.

    ``y`` as the model's likelihood expects: integer labels for ``"categorical"`` (then this is
    :func:`cross_entropy`), values in [0, 1] of shape (N, K) for ``"bernoulli"`` (the summed
    binary cross-entropy of the K outputs), reals of shape (N, K) for ``"gaussian"`` (half the
    squared error, the negative log-likelihood up to :math:`\tfrac K2 \log 2\pi`).
    Differentiable with autograd: ``autograd.grad(lambda p: ng.negative_log_likelihood(model, p, X, y))``;
    :func:`natgrad.linearize` gives the same gradient with a hand-written backward pass.
    Chapters 2 and 8.
    """
    _check_model(model)
    outputs = model.logits(params, X)
    targets = check_targets(model, y, array_value(X, "X").shape[0])
    return np.mean(get(model.likelihood).loss(outputs, targets))


def cross_entropy(model: Model, params, X, y):
    r"""Mean negative log-likelihood :math:`-\frac1N \sum_n \log p(y_n | x_n, \theta)` of a classifier. Chapter 2.

    For a categorical model only; :func:`negative_log_likelihood` is the loss of every likelihood.
    """
    _check_model(model)
    if model.likelihood != "categorical":
        raise ValueError(f"model: cross_entropy expects a categorical model, got likelihood {model.likelihood!r}; use ng.negative_log_likelihood")
    return negative_log_likelihood(model, params, X, y)


def predict(model: Model, params, X):
    r"""The mean prediction :math:`\mathbb E[y \mid x_n, \theta]` of every row, shape (N, K).

    Class probabilities :math:`\operatorname{softmax}(z_n)` for ``"categorical"``, the
    probabilities :math:`\operatorname{sigm}(z_n)` of a one for ``"bernoulli"`` (an
    autoencoder's reconstruction), the outputs :math:`z_n` for ``"gaussian"``. Chapter 2.
    """
    _check_model(model)
    return get(model.likelihood).mean(model.logits(params, X))
