r"""Training loops that compare SGD, Adam and three natural-gradient methods on real data.

Every method sees the same seeded stream of mini-batches and starts from the same
parameters. Each iteration computes the mini-batch gradient :math:`g` of the
cross-entropy and then moves the parameters by the method's rule:

* ``sgd``: :math:`\theta \leftarrow \theta - \eta g`;
* ``adam``: the update of Kingma and Ba (2015), with bias-corrected moment estimates;
* ``natural``: :math:`d \approx (F_B + \lambda I)^{-1} g` by a fixed number of conjugate-gradient
  iterations with Fisher-vector products on the batch (Martens, 2010), never forming :math:`F`;
* ``kfac``: :math:`d = (A \otimes G)^{-1} g` per layer with factors averaged over iterations
  (Martens and Grosse, 2015);
* ``diagonal``: :math:`d_i = g_i / (F_{ii} + \lambda)` with a running diagonal Fisher.

The three natural-gradient methods take the step :math:`-\alpha d` with
:math:`\alpha = \min\big(\alpha_{\max}, \sqrt{2\epsilon / g^\top d}\big)`: the full step
:math:`\alpha_{\max} d` unless its quadratic KL model :math:`\tfrac12\alpha^2 g^\top d` would
exceed the budget :math:`\epsilon` (for the exact damped solve and for every CG iterate,
:math:`g^\top d = d^\top (F + \lambda I) d`).

Besides wall-clock seconds, which depend on the machine, the history records a
deterministic cost in *gradient evaluations*: one mini-batch gradient costs 1, a
Fisher-vector product :data:`COSTS` ``["fvp"]`` (a forward-mode and a reverse-mode pass),
and back-propagating one sampled output vector per row for K-FAC or the diagonal
``["curvature_pass"]``. Chapter 8.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from autograd import grad as autograd_grad

from natgrad._checks import array_value, finite_array, flat_vector, nonnegative_finite, one_of, positive_finite, positive_int
from natgrad.curvature import diagonal_direction, diagonal_fisher, kfac_direction, kfac_factors
from natgrad.fisher import fisher_vector_product
from natgrad.models import Model, _check_model, check_labels, cross_entropy
from natgrad.solvers import conjugate_gradient

#: The update rules an :class:`Optimizer` can be, by ``method``.
METHODS = ("sgd", "adam", "natural", "kfac", "diagonal")

#: What one operation costs, counted in gradient evaluations.
COSTS = {"gradient": 1.0, "fvp": 2.0, "curvature_pass": 1.0}


@dataclass(frozen=True)
class Optimizer:
    """An update rule: ``method`` (a key of :data:`METHODS`), ``init(params) -> state`` and
    ``update(model, params, state, X, y, grad, rng) -> (params, state, cost)``, where ``grad``
    is the mini-batch gradient (already paid for) and ``cost`` the extra gradient evaluations spent."""

    method: str
    init: Callable
    update: Callable


def sgd(learning_rate: float) -> Optimizer:
    r"""Stochastic gradient descent, :math:`\theta \leftarrow \theta - \eta g`. Chapter 8."""
    positive_finite(learning_rate, "learning_rate")

    def update(model, params, state, X, y, grad, rng):
        return params - learning_rate * grad, state, 0.0

    return Optimizer("sgd", lambda params: None, update)


def adam(learning_rate: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> Optimizer:
    r"""Adam: :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
    :math:`\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \varepsilon)` with
    :math:`\hat m = m / (1 - \beta_1^t)`, :math:`\hat v = v / (1 - \beta_2^t)`. Chapter 8."""
    positive_finite(learning_rate, "learning_rate")
    positive_finite(epsilon, "epsilon")
    for value, name in ((beta1, "beta1"), (beta2, "beta2")):
        nonnegative_finite(value, name)
        if value >= 1:
            raise ValueError(f"{name}: expected a number in [0, 1), got {value!r}")

    def update(model, params, state, X, y, grad, rng):
        step, m, v = state
        step += 1
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
        return params - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), (step, m, v), 0.0

    return Optimizer("adam", lambda params: (0, np.zeros_like(params), np.zeros_like(params)), update)


def _budgeted(params, grad, direction, kl_budget: float, max_step: float):
    r"""``params - alpha * direction`` with :math:`\alpha = \min(\alpha_{\max}, \sqrt{2\epsilon / g^\top d})`."""
    curvature = grad @ direction
    if not curvature > 0:
        return params
    return params - min(max_step, np.sqrt(2.0 * kl_budget / curvature)) * direction


def _check_step_settings(kl_budget, damping, max_step):
    positive_finite(kl_budget, "kl_budget")
    nonnegative_finite(damping, "damping")
    positive_finite(max_step, "max_step")


def _check_decay(factor_decay):
    nonnegative_finite(factor_decay, "factor_decay")
    if factor_decay >= 1:
        raise ValueError(f"factor_decay: expected a number in [0, 1), got {factor_decay!r}")


def _running_average(old, new, count: int, factor_decay: float):
    """Exponential average with weight min(1 - 1/count, factor_decay) on the old value (a plain mean at first)."""
    weight = min(1.0 - 1.0 / count, factor_decay)
    return weight * old + (1.0 - weight) * new


def natural_gradient(kl_budget: float, damping: float, cg_iters: int = 10, max_step: float = 1.0) -> Optimizer:
    r"""Natural gradient by conjugate gradient: ``cg_iters`` Fisher-vector products on the batch per step.

    Solves :math:`(F_B + \lambda I) d = g` approximately (:func:`natgrad.conjugate_gradient`
    from 0, stopping early at relative residual 1e-6), then takes the KL-budgeted step
    described in the module docstring. Cost per iteration: the gradient plus
    ``COSTS["fvp"]`` per CG iteration. Chapter 8.
    """
    _check_step_settings(kl_budget, damping, max_step)
    cg_iters = positive_int(cg_iters, "cg_iters")

    def update(model, params, state, X, y, grad, rng):
        result = conjugate_gradient(fisher_vector_product(model, params, X), grad, damping=damping, tol=1e-6, max_iter=cg_iters)
        return _budgeted(params, grad, result.x, kl_budget, max_step), state, COSTS["fvp"] * result.n_iter

    return Optimizer("natural", lambda params: None, update)


def kfac(kl_budget: float, damping: float, max_step: float = 1.0, factor_decay: float = 0.95, n_samples: int = 1, pi_correction: bool = True) -> Optimizer:
    r"""K-FAC: Kronecker factors from ``n_samples`` sampled labels per row, averaged over iterations.

    Each iteration computes :func:`natgrad.curvature.kfac_factors` (Monte-Carlo kind) on
    the batch, folds them into running averages (weight :math:`\min(1 - 1/t, \text{factor\_decay})`
    on the past), and takes the KL-budgeted step along :func:`natgrad.curvature.kfac_direction`,
    whose quadratic model uses the damped K-FAC matrix. Cost per iteration: the gradient plus
    ``n_samples`` curvature passes. Chapter 8.
    """
    _check_step_settings(kl_budget, damping, max_step)
    _check_decay(factor_decay)
    n_samples = positive_int(n_samples, "n_samples")

    def update(model, params, state, X, y, grad, rng):
        count, averages = state
        batch = kfac_factors(model, params, X, kind="monte_carlo", n_samples=n_samples, rng=rng)
        count += 1
        if averages is None:
            averages = batch
        else:
            averages = [tuple(_running_average(old, new, count, factor_decay) for old, new in zip(pair, new_pair)) for pair, new_pair in zip(averages, batch)]
        direction = kfac_direction(averages, grad, damping, pi_correction)
        return _budgeted(params, grad, direction, kl_budget, max_step), (count, averages), COSTS["curvature_pass"] * n_samples

    return Optimizer("kfac", lambda params: (0, None), update)


def diagonal_natural_gradient(kl_budget: float, damping: float, max_step: float = 1.0, factor_decay: float = 0.95, n_samples: int = 1) -> Optimizer:
    r"""Natural gradient with the diagonal Fisher only: :math:`d_i = g_i / (\bar F_{ii} + \lambda)`.

    :math:`\bar F_{ii}` is a running average of :func:`natgrad.curvature.diagonal_fisher`
    (Monte-Carlo kind, ``n_samples`` labels per row) over the batches. Same step rule and
    cost as :func:`kfac`. Chapter 8.
    """
    _check_step_settings(kl_budget, damping, max_step)
    _check_decay(factor_decay)
    n_samples = positive_int(n_samples, "n_samples")

    def update(model, params, state, X, y, grad, rng):
        count, average = state
        batch = diagonal_fisher(model, params, X, kind="monte_carlo", n_samples=n_samples, rng=rng)
        count += 1
        average = batch if average is None else _running_average(average, batch, count, factor_decay)
        direction = diagonal_direction(average, grad, damping)
        return _budgeted(params, grad, direction, kl_budget, max_step), (count, average), COSTS["curvature_pass"] * n_samples

    return Optimizer("diagonal", lambda params: (0, None), update)


@dataclass(frozen=True)
class TrainingHistory:
    """One training run, recorded before the first iteration and after each one (length n_iter + 1).

    ``cost`` counts gradient evaluations (deterministic, see :data:`COSTS`); ``seconds`` is the
    wall-clock time spent in updates (machine-dependent; evaluation is not counted);
    ``train_loss`` is the cross-entropy on the whole training set, ``test_loss`` and
    ``test_accuracy`` on the test set. ``params`` are the final parameters.
    """

    method: str
    iterations: np.ndarray
    cost: np.ndarray
    seconds: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    params: np.ndarray

    def first_reaching(self, accuracy: float) -> int | None:
        """The index of the first record whose test accuracy is at least ``accuracy`` (None if never)."""
        reached = np.flatnonzero(self.test_accuracy >= accuracy)
        return int(reached[0]) if reached.size else None


def accuracy(model: Model, params, X, y) -> float:
    """The fraction of rows whose most probable class is the label."""
    _check_model(model)
    labels = check_labels(y, array_value(X, "X").shape[0], model.n_classes)
    return float(np.mean(np.argmax(model.logits(params, X), axis=1) == labels))


def _inputs(model: Model, X, name: str) -> np.ndarray:
    """``X`` as a finite float64 array of shape (N, n_features), N >= 1."""
    value = np.asarray(finite_array(X, name), dtype=float)
    if value.ndim != 2 or value.shape[1] != model.n_features or value.shape[0] == 0:
        raise ValueError(f"{name}: expected shape (N, {model.n_features}) with N >= 1, got {value.shape}")
    return value


def train(model: Model, optimizer: Optimizer, params0, X_train, y_train, X_test, y_test, n_iter: int, batch_size: int, seed: int = 0) -> TrainingHistory:
    r"""Run ``optimizer`` for ``n_iter`` mini-batch iterations from ``params0``.

    Batches of ``batch_size`` rows are drawn without replacement within each epoch from a
    generator seeded with ``seed``, so every optimizer sees the same batches; a second
    generator from the same seed draws the sampled labels of K-FAC and the diagonal.
    Returns a :class:`TrainingHistory`. Chapter 8.
    """
    _check_model(model)
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer: expected an Optimizer (from sgd, adam, natural_gradient, kfac, ...), got {type(optimizer).__name__}")
    one_of(optimizer.method, "optimizer.method", METHODS)
    params = np.asarray(flat_vector(params0, "params0", model.n_params), dtype=float)
    X_train, X_test = _inputs(model, X_train, "X_train"), _inputs(model, X_test, "X_test")
    y_train = check_labels(y_train, X_train.shape[0], model.n_classes, "y_train")
    y_test = check_labels(y_test, X_test.shape[0], model.n_classes, "y_test")
    n_iter = positive_int(n_iter, "n_iter")
    batch_size = positive_int(batch_size, "batch_size")
    if batch_size > X_train.shape[0]:
        raise ValueError(f"batch_size: expected at most {X_train.shape[0]} (the training rows), got {batch_size}")
    batch_rng, sample_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    loss_grad = autograd_grad(lambda theta, X, y: cross_entropy(model, theta, X, y))

    def record(params):
        return (
            float(cross_entropy(model, params, X_train, y_train)),
            float(cross_entropy(model, params, X_test, y_test)),
            accuracy(model, params, X_test, y_test),
        )

    records = [record(params)]
    cost, seconds = [0.0], [0.0]
    state = optimizer.init(params)
    order, position = batch_rng.permutation(X_train.shape[0]), 0
    for _ in range(n_iter):
        if position + batch_size > order.size:
            order, position = batch_rng.permutation(X_train.shape[0]), 0
        rows = order[position : position + batch_size]
        position += batch_size
        started = time.perf_counter()
        grad = loss_grad(params, X_train[rows], y_train[rows])
        params, state, extra = optimizer.update(model, params, state, X_train[rows], y_train[rows], grad, sample_rng)
        seconds.append(seconds[-1] + time.perf_counter() - started)
        cost.append(cost[-1] + COSTS["gradient"] + extra)
        records.append(record(params))
    train_loss, test_loss, test_accuracy = (np.array(column) for column in zip(*records))
    return TrainingHistory(optimizer.method, np.arange(n_iter + 1), np.array(cost), np.array(seconds), train_loss, test_loss, test_accuracy, params)
