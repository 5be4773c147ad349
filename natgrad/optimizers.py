r"""Training loops that compare SGD, Adam and three natural-gradient methods on real data.

Every method sees the same seeded stream of mini-batches and starts from the same
parameters. Each iteration computes the mini-batch gradient :math:`g` of the
cross-entropy and then moves the parameters by the method's rule:

* ``sgd``: :math:`\theta \leftarrow \theta - \eta g`;
* ``momentum``: heavy-ball or Nesterov momentum, :math:`v \leftarrow \beta v + g`,
  :math:`\theta \leftarrow \theta - \eta v` (Polyak, 1964; Sutskever et al., 2013);
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

:func:`lm_natural_gradient` and :func:`lm_kfac` are the versions that practitioners run
(chapter 9): the damping :math:`\lambda` adapts by the Levenberg-Marquardt rule of
:mod:`natgrad.damping` every ``damping_every`` iterations, and K-FAC refreshes the
eigendecompositions of its factors only every ``inverse_every`` iterations.

Besides wall-clock seconds, which depend on the machine, the history records a
deterministic cost in *gradient evaluations*: one mini-batch gradient costs 1, a
Fisher-vector product at the stored linearisation :data:`COSTS` ``["fvp"]`` (a forward-mode
and a reverse-mode pass: about one gradient evaluation, the book's one cost model of chapter 4),
back-propagating one sampled output vector per row for K-FAC or the diagonal
``["curvature_pass"]``, and a forward pass alone (the loss at a new point on the batch, or
the tangent pass of :math:`\delta^\top F\delta`) ``["forward"]``: half a gradient evaluation, an
over-charge, since a forward pass is one matrix product per layer and a gradient evaluation
three. K-FAC's eigendecompositions are charged by :func:`kfac_inverse_cost`. Chapters 8 and 9.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from autograd import grad as autograd_grad

from natgrad._checks import array_value, finite_array, flat_vector, nonnegative_finite, one_of, positive_finite, positive_int
from natgrad.curvature import diagonal_direction, diagonal_fisher, kfac_direction, kfac_factors
from natgrad.damping import _adapt, predicted_change, reduction_ratio
from natgrad.fisher import fisher_vector_product, linearize
from natgrad.likelihoods import get as get_likelihood
from natgrad.models import Model, _check_model, check_labels, cross_entropy
from natgrad.solvers import DEFAULT_RTOL, _resolved_eigenvalues, conjugate_gradient

#: The update rules an :class:`Optimizer` can be, by ``method``.
METHODS = ("sgd", "momentum", "adam", "natural", "kfac", "diagonal")

#: What one operation costs, counted in gradient evaluations (see the module docstring).
COSTS = {"gradient": 1.0, "fvp": 1.0, "curvature_pass": 1.0, "forward": 0.5}

#: Floating-point operations of one symmetric eigendecomposition with eigenvectors, per n**3
#: (Golub and Van Loan, 2013, section 8.3: about 9 n**3), and of one gradient evaluation per
#: row and parameter (2 for the forward pass, 4 for the backward pass).
EIGH_FLOPS, GRADIENT_FLOPS = 9.0, 6.0


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


def momentum(learning_rate: float, momentum: float = 0.9, nesterov: bool = False) -> Optimizer:
    r"""SGD with momentum: :math:`v \leftarrow \beta v + g`, then :math:`\theta \leftarrow \theta - \eta v`
    (heavy ball, Polyak 1964) or, with ``nesterov``, :math:`\theta \leftarrow \theta - \eta (g + \beta v)`
    (Nesterov's look-ahead in the form of Sutskever et al., 2013). :math:`\beta` is ``momentum``,
    :math:`v_0 = 0`. Chapter 9."""
    positive_finite(learning_rate, "learning_rate")
    nonnegative_finite(momentum, "momentum")
    if momentum >= 1:
        raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
    if not isinstance(nesterov, bool):
        raise ValueError(f"nesterov: expected True or False, got {nesterov!r}")

    def update(model, params, state, X, y, grad, rng):
        velocity = momentum * state + grad
        step = grad + momentum * velocity if nesterov else velocity
        return params - learning_rate * step, velocity, 0.0

    return Optimizer("momentum", lambda params: np.zeros_like(params), update)


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
class CurvatureState:
    r"""What :func:`lm_natural_gradient` and :func:`lm_kfac` carry from one iteration to the next.

    ``count`` iterations done; ``damping`` the current :math:`\lambda`; ``at_cap`` and
    ``at_budget`` the steps so far whose length was set by ``max_step`` and by the KL budget
    (a step along a direction with :math:`g^\top d \le 0` counts as neither: it is not taken);
    ``ratio`` the last reduction ratio :math:`\varrho` (NaN before the first);
    ``averages`` K-FAC's running factors and ``inverse`` their stored eigendecompositions
    (both None for the conjugate-gradient method). Chapter 9.
    """

    count: int
    damping: float
    at_cap: int = 0
    at_budget: int = 0
    ratio: float = math.nan
    averages: list | None = None
    inverse: list | None = None


def _step_length(grad, direction, kl_budget: float, max_step: float) -> tuple[float, bool | None]:
    r"""``(alpha, capped)``: :math:`\alpha = \min(\alpha_{\max}, \sqrt{2\epsilon / g^\top d})` and whether
    :math:`\alpha_{\max}` set it (None, with :math:`\alpha = 0`, if :math:`g^\top d \le 0`)."""
    curvature = float(grad @ direction)
    if not curvature > 0:
        return 0.0, None
    alpha = math.sqrt(2.0 * kl_budget / curvature)
    return (max_step, True) if alpha >= max_step else (alpha, False)


def _counted(state: CurvatureState, capped: bool | None) -> tuple[int, int]:
    return state.at_cap + (capped is True), state.at_budget + (capped is False)


def _check_lm_settings(kl_budget, initial_damping, max_step, damping_every):
    positive_finite(kl_budget, "kl_budget")
    positive_finite(initial_damping, "initial_damping")
    positive_finite(max_step, "max_step")
    if not isinstance(damping_every, (int, np.integer)) or isinstance(damping_every, bool) or damping_every < 0:
        raise ValueError(f"damping_every: expected an integer >= 0 (0: never adapt), got {damping_every!r}")
    return int(damping_every)


def _adapted(model: Model, params, new_params, X, y, damping: float, grad_dot_step: float, curvature: float) -> tuple[float, float]:
    r"""``(ratio, damping)`` after one Levenberg-Marquardt test of the step ``new_params - params`` on the batch."""
    likelihood = get_likelihood(model.likelihood)
    targets = likelihood.check_targets(y, X.shape[0], model.n_outputs)
    change = float(np.mean(likelihood.loss(model.logits(new_params, X), targets)) - np.mean(likelihood.loss(model.logits(params, X), targets)))
    ratio = reduction_ratio(change if math.isfinite(change) else math.inf, predicted_change(grad_dot_step, max(curvature, 0.0)))
    return ratio, _adapt(damping, ratio)


def lm_natural_gradient(kl_budget: float, initial_damping: float = 1.0, cg_iters: int = 10, max_step: float = 1.0, damping_every: int = 1) -> Optimizer:
    r"""The conjugate-gradient natural gradient with Levenberg-Marquardt damping (Martens, 2010, section 4.1).

    Each iteration solves :math:`(F_B + \lambda I) d = g` by at most ``cg_iters`` CG iterations
    with Fisher-vector products on the batch, from 0, to relative residual 1e-6, and steps
    :math:`\delta = -\alpha d`, :math:`\alpha = \min(\alpha_{\max}, \sqrt{2\epsilon/g^\top d})`.
    Every ``damping_every`` iterations (0: never) it computes the reduction ratio
    :math:`\varrho` of :mod:`natgrad.damping` on the batch and adapts :math:`\lambda`. The
    model's curvature term is free: every CG iterate from 0 satisfies
    :math:`d^\top F_\lambda d = g^\top d`, so :math:`\delta^\top F\delta = \alpha^2 (g^\top d - \lambda\lVert d\rVert^2)`;
    the loss at the new point costs ``COSTS["forward"]``. Cost per iteration: the gradient,
    ``COSTS["fvp"]`` per CG iteration, and that forward pass when :math:`\lambda` adapts.
    The state is a :class:`CurvatureState`. Chapter 9.
    """
    damping_every = _check_lm_settings(kl_budget, initial_damping, max_step, damping_every)
    cg_iters = positive_int(cg_iters, "cg_iters")

    def update(model, params, state, X, y, grad, rng):
        damping, count = state.damping, state.count + 1
        result = conjugate_gradient(fisher_vector_product(model, params, X), grad, damping=damping, tol=1e-6, max_iter=cg_iters)
        d = result.x
        alpha, capped = _step_length(grad, d, kl_budget, max_step)
        new_params = params - alpha * d
        cost, ratio = COSTS["fvp"] * result.n_iter, state.ratio
        if damping_every and count % damping_every == 0 and alpha > 0:
            g_dot_d = float(grad @ d)
            ratio, damping = _adapted(model, params, new_params, X, y, damping, -alpha * g_dot_d, alpha**2 * (g_dot_d - damping * float(d @ d)))
            cost += COSTS["forward"]
        at_cap, at_budget = _counted(state, capped)
        return new_params, CurvatureState(count, damping, at_cap, at_budget, ratio), cost

    return Optimizer("natural", lambda params: CurvatureState(0, float(initial_damping)), update)


def kfac_inverse_cost(model: Model, batch_size: int) -> float:
    r"""What refreshing K-FAC's inverses costs, in gradient evaluations on a batch of ``batch_size`` rows.

    One symmetric eigendecomposition per factor, about :data:`EIGH_FLOPS` :math:`\cdot n^3`
    operations for an :math:`n \times n` matrix, against :data:`GRADIENT_FLOPS`
    :math:`\cdot |B| P` for a gradient evaluation:

    .. math:: \frac{9 \sum_l \big((n_{\text{in},l} + 1)^3 + n_{\text{out},l}^3\big)}{6\, |B|\, P} .

    An operation count, not a measurement: it ignores that small eigendecompositions run
    slower per operation than matrix products. Chapter 9.
    """
    _check_model(model)
    batch_size = positive_int(batch_size, "batch_size")
    flops = EIGH_FLOPS * sum((n_in + 1) ** 3 + n_out**3 for n_in, n_out in model.shapes)
    return flops / (GRADIENT_FLOPS * batch_size * model.n_params)


def _eigendecompose(factors, pi_correction: bool) -> list[tuple]:
    """Per layer: eigenvalues and eigenvectors of the undamped A and Gamma, and pi."""
    stored = []
    for A, G in factors:
        eig_a, vec_a = np.linalg.eigh(0.5 * (A + A.T))
        eig_g, vec_g = np.linalg.eigh(0.5 * (G + G.T))
        mean_a, mean_g = np.trace(A) / A.shape[0], np.trace(G) / G.shape[0]
        pi = math.sqrt(mean_a / mean_g) if pi_correction and mean_a > 0 and mean_g > 0 else 1.0
        stored.append((eig_a, vec_a, eig_g, vec_g, pi))
    return stored


def _kfac_apply(stored, grad, damping: float) -> np.ndarray:
    r"""Per layer :math:`D = U_A \big[(U_A^\top V U_G) / ((\omega_A + \pi\sqrt\lambda)(\omega_G + \sqrt\lambda/\pi)^\top)\big] U_G^\top`."""
    pieces, start, root = [], 0, math.sqrt(damping)
    for eig_a, vec_a, eig_g, vec_g, pi in stored:
        damped_a, damped_g = eig_a + pi * root, eig_g + root / pi
        inverse_a = np.divide(1.0, damped_a, out=np.zeros_like(damped_a), where=_resolved_eigenvalues(damped_a, DEFAULT_RTOL))
        inverse_g = np.divide(1.0, damped_g, out=np.zeros_like(damped_g), where=_resolved_eigenvalues(damped_g, DEFAULT_RTOL))
        size = eig_a.size * eig_g.size
        V = grad[start : start + size].reshape(eig_a.size, eig_g.size)
        pieces.append((vec_a @ ((vec_a.T @ V @ vec_g) * np.outer(inverse_a, inverse_g)) @ vec_g.T).ravel())
        start += size
    return np.concatenate(pieces)


def lm_kfac(
    kl_budget: float,
    initial_damping: float = 1.0,
    max_step: float = 1.0,
    factor_decay: float = 0.95,
    n_samples: int = 1,
    pi_correction: bool = True,
    damping_every: int = 5,
    inverse_every: int = 5,
) -> Optimizer:
    r"""K-FAC with Levenberg-Marquardt damping and inverses refreshed every ``inverse_every`` iterations.

    The running factors :math:`A_l, \Gamma_l` are updated every iteration as in :func:`kfac`.
    On the first iteration and every ``inverse_every`` (:math:`T_{\text{inv}}`) iterations after
    it, their eigendecompositions :math:`A = U_A \operatorname{diag}(\omega_A) U_A^\top`,
    :math:`\Gamma = U_G \operatorname{diag}(\omega_G) U_G^\top` are recomputed, charged
    :func:`kfac_inverse_cost`; between refreshes the stored ones serve, with the *current*
    factored damping, which eigenvalues make exact:

    .. math:: (A + \pi\sqrt\lambda I) \otimes (\Gamma + \tfrac{\sqrt\lambda}{\pi} I)
              = (U_A \otimes U_G)\, \operatorname{diag}\big((\omega_A + \pi\sqrt\lambda) \otimes (\omega_G + \tfrac{\sqrt\lambda}{\pi})\big)\, (U_A \otimes U_G)^\top .

    The step is the KL-budgeted step of :func:`kfac`. Every ``damping_every``
    (:math:`T_\lambda`) iterations (0: never), :math:`\lambda` adapts by the reduction ratio
    (Martens and Grosse, 2015, section 6.5), whose model uses the exact batch Fisher,
    :math:`\delta^\top F_B \delta` by one tangent pass, plus the loss at the new point: two
    ``COSTS["forward"]``. Cost per iteration: the gradient, ``n_samples`` curvature passes, and
    those extras when they happen. The state is a :class:`CurvatureState`. Chapter 9.
    """
    damping_every = _check_lm_settings(kl_budget, initial_damping, max_step, damping_every)
    _check_decay(factor_decay)
    n_samples = positive_int(n_samples, "n_samples")
    inverse_every = positive_int(inverse_every, "inverse_every")
    if not isinstance(pi_correction, bool):
        raise ValueError(f"pi_correction: expected True or False, got {pi_correction!r}")

    def update(model, params, state, X, y, grad, rng):
        damping, count = state.damping, state.count + 1
        batch = kfac_factors(model, params, X, kind="monte_carlo", n_samples=n_samples, rng=rng)
        if state.averages is None:
            averages = batch
        else:
            averages = [tuple(_running_average(old, new, count, factor_decay) for old, new in zip(pair, new_pair)) for pair, new_pair in zip(state.averages, batch)]
        cost, inverse, ratio = COSTS["curvature_pass"] * n_samples, state.inverse, state.ratio
        if inverse is None or (count - 1) % inverse_every == 0:
            inverse = _eigendecompose(averages, pi_correction)
            cost += kfac_inverse_cost(model, X.shape[0])
        d = _kfac_apply(inverse, grad, damping)
        alpha, capped = _step_length(grad, d, kl_budget, max_step)
        new_params = params - alpha * d
        if damping_every and count % damping_every == 0 and alpha > 0:
            step = new_params - params
            curvature = linearize(model, params, X).fisher_norm_squared(step)
            ratio, damping = _adapted(model, params, new_params, X, y, damping, float(grad @ step), curvature)
            cost += 2 * COSTS["forward"]
        at_cap, at_budget = _counted(state, capped)
        return new_params, CurvatureState(count, damping, at_cap, at_budget, ratio, averages, inverse), cost

    return Optimizer("kfac", lambda params: CurvatureState(0, float(initial_damping)), update)


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
