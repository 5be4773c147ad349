r"""Mini-batch updates, outlier batches, and how far one update moves the model.

Chapter 7 tests the claim that a natural-gradient update is stable when a random
mini-batch :math:`B` contains outliers. Each update uses only the batch: its gradient
:math:`g_B` and its Fisher :math:`F_B` (``ng.fisher`` on the batch rows). The size of an
update is measured on the full, clean data as :math:`\mathrm{KL}(p_{\theta_t} \,\|\, p_{\theta_{t+1}})`
with :func:`natgrad.model_kl`. :func:`train` runs the same seeded stream of batches
(:func:`noisy_batches`) through each update rule of :func:`update` (SGD, SGD with gradient
clipping, the natural gradient with a fixed rate or a KL budget) and records that KL at
every step. It is the mini-batch counterpart of
:func:`natgrad.constrained.natural_gradient_descent`, which sees all the data at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from autograd import grad

from natgrad._checks import (
    array_value,
    finite_array,
    flat_vector,
    generator,
    nonnegative_finite,
    nonnegative_int,
    one_of,
    positive_finite,
    positive_int,
)
from natgrad.fisher import fisher
from natgrad.models import Model, _check_model, check_labels, cross_entropy, model_kl
from natgrad.steps import natural_direction, natural_step

METHODS = ("sgd", "natural")


def minibatches(n_rows: int, batch_size: int, rng) -> np.ndarray:
    """One epoch of mini-batches: a random permutation of ``range(n_rows)`` cut into disjoint batches.

    Returns an integer array of shape ``(n_rows // batch_size, batch_size)``; row ``k`` holds
    the row indices of batch ``k``. The ``n_rows % batch_size`` rows left over are left out
    of this epoch (the next call shuffles anew). ``rng`` is a Generator or an int seed.
    Chapter 7.
    """
    n_rows = positive_int(n_rows, "n_rows")
    batch_size = positive_int(batch_size, "batch_size")
    if batch_size > n_rows:
        raise ValueError(f"batch_size: expected at most n_rows = {n_rows}, got {batch_size}")
    rng = generator(rng)
    n_batches = n_rows // batch_size
    return rng.permutation(n_rows)[: n_batches * batch_size].reshape(n_batches, batch_size)


def _n_classes(n_classes) -> int:
    n_classes = positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes: expected at least 2 classes (an outlier's label must be wrong), got {n_classes}")
    return n_classes


def make_outliers(X, y, n_classes: int, input_scale: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Outlier copies of the rows ``(X, y)``: inputs :math:`s\,x`, labels :math:`(y + 1) \bmod K`, with K = ``n_classes``.

    Scaling the inputs by ``input_scale`` :math:`s` pushes them far outside the data, where a
    trained model is confident; shifting every label to the next class makes each of them
    wrong. Returns new arrays; the inputs are not changed. Chapter 7.
    """
    X = np.asarray(finite_array(X, "X"), dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (rows, features), got shape {X.shape}")
    y = check_labels(y, X.shape[0], _n_classes(n_classes))
    positive_finite(input_scale, "input_scale")
    return input_scale * X, (y + 1) % n_classes


def noisy_batches(
    X,
    y,
    n_classes: int,
    batch_size: int,
    n_steps: int,
    outlier_fraction: float,
    n_outliers: int,
    input_scale: float,
    rng,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    r"""A seeded stream of ``n_steps`` mini-batches of ``(X, y)``, some of them with outliers.

    ``y`` holds labels in ``range(n_classes)``. Batches come from :func:`minibatches`, epoch
    after epoch. Each batch, independently with probability ``outlier_fraction``, has its
    first ``n_outliers`` rows replaced by :func:`make_outliers` copies (inputs times
    ``input_scale``, labels shifted to a wrong class). Returns the list of
    ``(X_batch, y_batch)`` pairs and a boolean array marking the batches with outliers.
    Feeding the same stream to every update rule compares them on identical data; the same
    ``rng`` seed with ``outlier_fraction=0`` gives the same batches without outliers.
    Chapter 7.
    """
    X = np.asarray(finite_array(X, "X"), dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (rows, features), got shape {X.shape}")
    n_classes = _n_classes(n_classes)
    y = check_labels(y, X.shape[0], n_classes)
    batch_size = positive_int(batch_size, "batch_size")
    n_steps = nonnegative_int(n_steps, "n_steps")
    if not 0.0 <= nonnegative_finite(outlier_fraction, "outlier_fraction") <= 1.0:
        raise ValueError(f"outlier_fraction: expected a probability in [0, 1], got {outlier_fraction!r}")
    n_outliers = nonnegative_int(n_outliers, "n_outliers")
    if n_outliers > batch_size:
        raise ValueError(f"n_outliers: expected at most batch_size = {batch_size}, got {n_outliers}")
    positive_finite(input_scale, "input_scale")
    rng = generator(rng)
    batches: list[tuple[np.ndarray, np.ndarray]] = []
    has_outliers = np.zeros(n_steps, dtype=bool)
    while len(batches) < n_steps:
        for rows in minibatches(X.shape[0], batch_size, rng)[: n_steps - len(batches)]:
            X_batch, y_batch = X[rows].copy(), y[rows].copy()
            # One draw per batch whatever the settings, so that streams with the same seed
            # visit the same rows in the same order and differ only in their outliers.
            if rng.random() < outlier_fraction and n_outliers:
                has_outliers[len(batches)] = True
                X_batch[:n_outliers], y_batch[:n_outliers] = make_outliers(X_batch[:n_outliers], y_batch[:n_outliers], n_classes, input_scale)
            batches.append((X_batch, y_batch))
    return batches, has_outliers


def _check_rule(method: str, learning_rate, kl_budget, damping, max_step_length=None) -> None:
    one_of(method, "method", METHODS)
    if (learning_rate is None) == (kl_budget is None):
        raise ValueError("learning_rate, kl_budget: give exactly one of them")
    if method == "sgd" and kl_budget is not None:
        raise ValueError("kl_budget: the 'sgd' update takes a learning_rate")
    if learning_rate is not None:
        positive_finite(learning_rate, "learning_rate")
    else:
        positive_finite(kl_budget, "kl_budget")
    nonnegative_finite(damping, "damping")
    if method == "sgd" and damping != 0:
        raise ValueError("damping: the 'sgd' update has no Fisher to damp; leave damping = 0")
    if max_step_length is not None:
        if method != "sgd":
            raise ValueError("max_step_length: only the 'sgd' update is clipped; a KL budget bounds the natural step")
        positive_finite(max_step_length, "max_step_length")


def update(
    model: Model,
    params,
    X_batch,
    y_batch,
    method: str,
    learning_rate: float | None = None,
    kl_budget: float | None = None,
    damping: float = 0.0,
    max_step_length: float | None = None,
) -> np.ndarray:
    r"""One update of ``params`` from one mini-batch; returns the new parameters.

    With :math:`g_B` the gradient of the batch's mean cross-entropy and :math:`F_B` the exact
    Fisher on the batch's inputs (``ng.fisher`` on the batch rows):

    * ``method="sgd"``, ``learning_rate`` :math:`\eta`: :math:`\theta - \eta\, g_B`; with
      ``max_step_length`` :math:`\alpha_{\max}`, gradient clipping (Pascanu, Mikolov and Bengio
      2013): :math:`\theta - \min(\eta, \alpha_{\max} / \lVert g_B\rVert)\, g_B`, the same step
      shortened to length :math:`\alpha_{\max}` when it is longer (clipping :math:`g_B` at the
      norm :math:`\alpha_{\max}/\eta`);
    * ``method="natural"``, ``learning_rate`` :math:`\eta`: :math:`\theta - \eta\,(F_B + \lambda I)^{-1} g_B`
      (``damping=0`` takes the minimum-norm solution, :func:`natgrad.natural_direction`);
    * ``method="natural"``, ``kl_budget`` :math:`\epsilon`: :func:`natgrad.natural_step`, so that
      :math:`\tfrac12\delta^\top (F_B + \lambda I)\delta = \epsilon`. The budget is measured on the
      batch's inputs and holds only to second order.

    Chapter 7.
    """
    _check_model(model)
    _check_rule(method, learning_rate, kl_budget, damping, max_step_length)
    params = np.asarray(flat_vector(params, "params", model.n_params), dtype=float)
    X_batch = model.check_inputs(X_batch)
    y_batch = check_labels(y_batch, array_value(X_batch, "X_batch").shape[0], model.n_classes, "y_batch")
    return _update(model, params, X_batch, y_batch, method, learning_rate, kl_budget, damping, max_step_length)


def _update(model, params, X_batch, y_batch, method, learning_rate, kl_budget, damping, max_step_length):
    """:func:`update` on checked inputs (the training loop checks once, then calls this)."""
    grad_batch = grad(lambda theta: cross_entropy(model, theta, X_batch, y_batch))(params)
    if method == "sgd":
        rate = learning_rate
        if max_step_length is not None:
            grad_norm = np.linalg.norm(grad_batch)
            if grad_norm * learning_rate > max_step_length:
                rate = max_step_length / grad_norm
        return params - rate * grad_batch
    fisher_batch = fisher(model, params, X_batch)
    if learning_rate is not None:
        return params - learning_rate * natural_direction(grad_batch, fisher_batch, damping)
    return natural_step(params, grad_batch, fisher_batch, kl_budget, damping)


@dataclass(frozen=True)
class TrainingRun:
    """What :func:`train` recorded.

    ``path[t]`` are the parameters :math:`\\theta_t` after ``t`` steps, shape (n_steps + 1, P), and
    ``params`` the final ones, ``path[-1]``; ``step_kl[t]`` is :math:`\\mathrm{KL}(p_{\\theta_t} \\| p_{\\theta_{t+1}})`
    on the evaluation inputs, shape (n_steps,); ``loss[t]`` the mean cross-entropy of
    :math:`\\theta_t` on the evaluation data, shape (n_steps + 1,).
    """

    path: np.ndarray
    step_kl: np.ndarray
    loss: np.ndarray

    @property
    def params(self) -> np.ndarray:
        """The final parameters, ``path[-1]``."""
        return self.path[-1]


def train(
    model: Model,
    params0,
    batches,
    X_eval,
    y_eval,
    method: str,
    learning_rate: float | None = None,
    kl_budget: float | None = None,
    damping: float = 0.0,
    max_step_length: float | None = None,
) -> TrainingRun:
    r"""Apply :func:`update` once per ``(X_batch, y_batch)`` in ``batches``, starting from ``params0``.

    After every step it records the KL divergence between the model before and after the
    step, :math:`\mathrm{KL}(p_{\theta_t} \,\|\, p_{\theta_{t+1}})` averaged over ``X_eval``
    (:func:`natgrad.model_kl`), the cross-entropy on ``(X_eval, y_eval)`` and the parameters.
    Use the full, clean data for the evaluation: that is what a single bad batch should not
    damage. Chapter 7.
    """
    _check_model(model)
    _check_rule(method, learning_rate, kl_budget, damping, max_step_length)
    params = np.asarray(flat_vector(params0, "params0", model.n_params), dtype=float)
    X_eval = model.check_inputs(X_eval)
    y_eval = check_labels(y_eval, X_eval.shape[0], model.n_classes, "y_eval")
    checked = []
    for index, (X_batch, y_batch) in enumerate(batches):
        X_batch = model.check_inputs(X_batch)
        checked.append((X_batch, check_labels(y_batch, X_batch.shape[0], model.n_classes, f"batches[{index}]")))
    path = np.zeros((len(checked) + 1, model.n_params))
    step_kl = np.zeros(len(checked))
    loss = np.zeros(len(checked) + 1)
    path[0] = params
    loss[0] = cross_entropy(model, params, X_eval, y_eval)
    for step, (X_batch, y_batch) in enumerate(checked):
        path[step + 1] = _update(model, path[step], X_batch, y_batch, method, learning_rate, kl_budget, damping, max_step_length)
        step_kl[step] = model_kl(model, path[step], path[step + 1], X_eval)
        loss[step + 1] = cross_entropy(model, path[step + 1], X_eval, y_eval)
    return TrainingRun(path, step_kl, loss)
