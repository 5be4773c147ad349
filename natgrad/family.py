r"""Methods that are natural gradient in disguise. Chapter 9.

* Fisher scoring and IRLS: for a canonical-link model (logistic and softmax regression) the
  Fisher equals the Hessian of the negative log-likelihood, so the natural step with
  :math:`\eta = 1` is Newton's method (:func:`irls_step`, :func:`fisher_scoring`).
* Gauss-Newton: :math:`G = J^\top H_L J` with :math:`H_L` the Hessian of the loss in the
  model's outputs (:func:`gauss_newton`), the Fisher for softmax + cross-entropy and for
  Gaussian + squared error.
* Adam and RMSprop: a square-rooted running average of squared mini-batch gradients,
  a diagonal *empirical* Fisher (:func:`running_second_moment`, :func:`adam_direction`).
* The natural policy gradient and TRPO on a multi-armed bandit (:func:`policy_fisher`,
  :func:`natural_policy_gradient`, :func:`vanilla_policy_gradient`).
* Mirror descent on an exponential family (:func:`mirror_descent` and the categorical
  family's log-partition :func:`categorical_log_partition` and its dual
  :func:`categorical_negative_entropy`).
"""

from __future__ import annotations

import autograd.numpy as np
import numpy as onp
from autograd import grad, hessian, jacobian

from natgrad._checks import array_value, finite_array, flat_vector, nonnegative_finite, nonnegative_int, positive_finite
from natgrad.distributions import kl_categorical, softmax
from natgrad.fisher import fisher
from natgrad.models import Model, _check_model, check_labels, cross_entropy, sigmoid
from natgrad.solvers import DEFAULT_RTOL, _minimum_norm_solve
from natgrad.steps import natural_direction, natural_step


def _design(X, y=None):
    """``X`` as a finite 2-D float array and, if given, ``y`` as 0/1 floats, one per row."""
    X = onp.asarray(finite_array(X, "X"), dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D design matrix (N, n_features), got shape {X.shape}")
    if y is None:
        return X, None
    labels = onp.asarray(flat_vector(y, "y", X.shape[0]), dtype=float)
    if not onp.all((labels == 0.0) | (labels == 1.0)):
        raise ValueError("y: expected binary labels, each 0 or 1")
    return X, labels


# Fisher scoring and IRLS ------------------------------------------------------------------


def irls_step(params, X, y) -> onp.ndarray:
    r"""One IRLS (Fisher scoring, Newton) step for binary logistic regression, :math:`p = \sigma(X\theta)`.

    .. math:: \theta_{\text{new}} = \theta + (X^\top D X)^{-1} X^\top (y - p), \qquad D = \mathrm{diag}\big(p(1-p)\big),

    which is the weighted least-squares solution :math:`(X^\top D X)^{-1} X^\top D z` for the
    working response :math:`z = X\theta + D^{-1}(y - p)`. ``X`` is the design matrix (add a
    column of ones for an intercept), ``y`` holds labels 0 or 1. :math:`X^\top D X / N` is both
    the Fisher and the Hessian of the mean negative log-likelihood. If it is singular (collinear
    columns of X), the step is the minimum-norm solution with the cutoff of
    :func:`natgrad.natural_direction`. Chapter 9.
    """
    X, labels = _design(X, y)
    params = onp.asarray(flat_vector(params, "params", X.shape[1]), dtype=float)
    p = sigmoid(X @ params)
    weights = p * (1.0 - p)
    return params + _minimum_norm_solve((X.T * weights) @ X, X.T @ (labels - p), DEFAULT_RTOL)


def l2_weight_mask(model: Model) -> onp.ndarray:
    """A flat 0/1 vector over ``params``: 1 for every weight, 0 for every bias. Chapter 9."""
    _check_model(model)
    layers = [(onp.ones((n_in, n_out)), onp.zeros(n_out)) for n_in, n_out in model.shapes]
    return model.flatten(layers)


def penalized_cross_entropy(model: Model, params, X, y, penalty: float):
    r"""Mean cross-entropy plus an L2 penalty on the weights (not the biases):

    .. math:: L(\theta) = -\frac1N\sum_n \log p(y_n|x_n,\theta) + \frac{\lambda}{2}\|W\|^2 .

    scikit-learn's ``LogisticRegression(C=C)`` minimises :math:`C \sum_n \ell_n + \tfrac12\|W\|^2`,
    which is :math:`CN` times this objective with :math:`\lambda = 1/(CN)`. Chapter 9.
    """
    nonnegative_finite(penalty, "penalty")
    mask = l2_weight_mask(model)
    return cross_entropy(model, params, X, y) + 0.5 * penalty * np.sum(mask * params**2)


def penalized_fisher(model: Model, params, X, penalty: float) -> onp.ndarray:
    r"""The Fisher of the penalised objective: :math:`F(\theta) + \lambda\,\mathrm{diag}(m)`, m from :func:`l2_weight_mask`.

    The penalty is a fixed quadratic, so its Hessian :math:`\lambda\,\mathrm{diag}(m)` adds to the
    model's Fisher; for softmax regression the sum is the Hessian of
    :func:`penalized_cross_entropy`. Chapter 9.
    """
    nonnegative_finite(penalty, "penalty")
    return fisher(model, params, X) + penalty * onp.diag(l2_weight_mask(model))


def fisher_scoring(model: Model, params0, X, y, penalty: float, n_steps: int) -> onp.ndarray:
    r"""Iterate :math:`\theta_{t+1} = \theta_t - (F_t + \lambda\,\mathrm{diag}(m))^{+} g_t`; returns the path, shape (n_steps + 1, P).

    :math:`g_t` is the gradient of :func:`penalized_cross_entropy` and the matrix is
    :func:`penalized_fisher`: the natural step with learning rate 1, which for softmax
    regression is Newton's method. The biases are unpenalised and a shift of all output
    biases changes no probability, so the matrix is singular along that direction; the solve
    is minimum-norm (:func:`natgrad.natural_direction`), which never moves the mean of the
    output biases.
    Chapter 9.
    """
    _check_model(model)
    n_steps = nonnegative_int(n_steps, "n_steps")
    labels = check_labels(y, model.check_inputs(X).shape[0], model.n_classes)
    objective_grad = grad(lambda params: penalized_cross_entropy(model, params, X, labels, penalty))
    path = onp.empty((n_steps + 1, model.n_params))
    path[0] = flat_vector(params0, "params0", model.n_params)
    for step in range(n_steps):
        params = path[step]
        path[step + 1] = params - natural_direction(objective_grad(params), penalized_fisher(model, params, X, penalty))
    return path


# Gauss-Newton -----------------------------------------------------------------------------


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


# Adam and RMSprop -------------------------------------------------------------------------


def running_second_moment(batch_grads, beta2: float = 0.999) -> onp.ndarray:
    r"""Adam's bias-corrected running average of squared mini-batch gradients.

    For gradients :math:`g_1, \dots, g_T` (rows of ``batch_grads``),
    :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t \odot g_t` from :math:`v_0 = 0`, and the
    result is :math:`v_T / (1 - \beta_2^T)`. With batches of one example drawn uniformly, its
    expectation is the diagonal of the empirical Fisher. Chapter 9.
    """
    grads = onp.asarray(finite_array(batch_grads, "batch_grads"), dtype=float)
    if grads.ndim != 2 or grads.shape[0] < 1:
        raise ValueError(f"batch_grads: expected a 2-D array (T, P) with T >= 1, got shape {grads.shape}")
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"beta2: expected a number in [0, 1), got {beta2!r}")
    second_moment = onp.zeros(grads.shape[1])
    for g in grads:
        second_moment = beta2 * second_moment + (1.0 - beta2) * g**2
    return second_moment / (1.0 - beta2 ** grads.shape[0])


def adam_direction(grad, second_moment, eps: float = 1e-8) -> onp.ndarray:
    r"""The direction :math:`g / (\sqrt{v} + \varepsilon)` of Adam and RMSprop (without momentum). Chapter 9.

    ``second_moment`` is :math:`v`, a running average of squared gradients
    (:func:`running_second_moment`) or the diagonal of the empirical Fisher. The square root
    makes the direction unchanged when the loss is multiplied by a constant (up to
    :math:`\varepsilon`): it is not :math:`\mathrm{diag}(F)^{-1} g`.
    """
    grad = onp.asarray(finite_array(grad, "grad"), dtype=float)
    if grad.ndim != 1:
        raise ValueError(f"grad: expected a flat vector, got shape {grad.shape}")
    second_moment = onp.asarray(flat_vector(second_moment, "second_moment", grad.size), dtype=float)
    if onp.any(second_moment < 0):
        raise ValueError("second_moment: expected non-negative entries (averages of squares)")
    nonnegative_finite(eps, "eps")
    return grad / (onp.sqrt(second_moment) + eps)


# Natural policy gradient and TRPO on a bandit ---------------------------------------------


def _bandit(logits, rewards):
    logits = onp.asarray(finite_array(logits, "logits"), dtype=float)
    if logits.ndim != 1 or logits.size < 2:
        raise ValueError(f"logits: expected a flat vector with at least 2 arms, got shape {logits.shape}")
    return logits, onp.asarray(flat_vector(rewards, "rewards", logits.size), dtype=float)


def expected_reward(logits, rewards) -> float:
    r"""The expected reward :math:`J(\theta) = r^\top \mathrm{softmax}(\theta)` of a softmax policy over arms. Chapter 9."""
    logits, rewards = _bandit(logits, rewards)
    return float(rewards @ softmax(logits))


def policy_gradient(logits, rewards) -> onp.ndarray:
    r"""The exact gradient :math:`\nabla_\theta J = p \odot (r - p^\top r)`, :math:`p = \mathrm{softmax}(\theta)`.

    Computed as :math:`(r_k - p^\top r) = \sum_j p_j (r_k - r_j)`, which keeps full relative
    accuracy when the policy is nearly deterministic (the difference of two nearly equal
    numbers would keep only about :math:`10^{-16} / (1 - p_{\max})` of it). Chapter 9.
    """
    logits, rewards = _bandit(logits, rewards)
    p = softmax(logits)
    return p * ((rewards[:, None] - rewards[None, :]) @ p)


def policy_fisher(logits) -> onp.ndarray:
    r"""The Fisher of a softmax policy in its logits, :math:`\mathrm{diag}(p) - p p^\top`.

    Singular: adding the same constant to every logit changes no probability, so
    :math:`F \mathbf 1 = 0`. The diagonal is computed as :math:`p_k \sum_{j \ne k} p_j`, not
    :math:`p_k - p_k^2`: for a nearly deterministic policy the subtraction loses the
    diagonal entry of the likely arm to round-off, and with it the null space (the round-off
    eigenvalue along :math:`\mathbf 1` then reaches 0.6 of the largest one at logits of size
    40, against :math:`10^{-16}` this way). Chapter 9.
    """
    logits, _ = _bandit(logits, onp.zeros(onp.size(logits)))
    p = softmax(logits)
    others = (1.0 - onp.eye(p.size)) @ p  # 1 - p_k, summed from the other arms
    fisher_matrix = -onp.outer(p, p)
    fisher_matrix[onp.diag_indices(p.size)] = p * others
    return fisher_matrix


def natural_policy_gradient(logits0, rewards, kl_budget: float, n_steps: int) -> onp.ndarray:
    r"""Ascend :math:`J` with KL-budgeted natural steps; returns the logits after each step, shape (n_steps + 1, K).

    Each step is :func:`natgrad.natural_step` on the loss :math:`-J` with
    :func:`policy_fisher` and a minimum-norm solve of the singular system. Since
    :math:`(\mathrm{diag}(p) - pp^\top)(r - c\mathbf 1) = p \odot (r - p^\top r)` for every c,
    the minimum-norm direction is the centred reward vector :math:`r - \bar r\,\mathbf 1`, the
    same at every step; the budget sets its length. The step's true KL matches
    ``kl_budget`` only to second order. Chapter 9.
    """
    logits0, rewards = _bandit(logits0, rewards)
    positive_finite(kl_budget, "kl_budget")
    n_steps = nonnegative_int(n_steps, "n_steps")
    path = onp.empty((n_steps + 1, logits0.size))
    path[0] = logits0
    for step in range(n_steps):
        theta = path[step]
        path[step + 1] = natural_step(theta, -policy_gradient(theta, rewards), policy_fisher(theta), kl_budget)
    return path


def vanilla_policy_gradient(logits0, rewards, learning_rate: float, n_steps: int) -> onp.ndarray:
    r"""Ascend :math:`J` by :math:`\theta_{t+1} = \theta_t + \eta\, \nabla_\theta J(\theta_t)`; returns the path, shape (n_steps + 1, K). Chapter 9."""
    logits0, rewards = _bandit(logits0, rewards)
    positive_finite(learning_rate, "learning_rate")
    n_steps = nonnegative_int(n_steps, "n_steps")
    path = onp.empty((n_steps + 1, logits0.size))
    path[0] = logits0
    for step in range(n_steps):
        path[step + 1] = path[step] + learning_rate * policy_gradient(path[step], rewards)
    return path


def step_kls(path) -> onp.ndarray:
    r"""The KL divergence :math:`\mathrm{KL}(\pi_{\theta_t} \,\|\, \pi_{\theta_{t+1}})` of each step of a path of logits, shape (T,). Chapter 9."""
    path = onp.asarray(finite_array(path, "path"), dtype=float)
    if path.ndim != 2 or path.shape[0] < 2:
        raise ValueError(f"path: expected logits of shape (T + 1, K) with T >= 1, got shape {path.shape}")
    return onp.asarray(kl_categorical(path[:-1], path[1:]))


# Mirror descent on the categorical family -------------------------------------------------


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
    r"""The log-partition :math:`A(\theta) = \log\big(1 + \sum_{k<K} e^{\theta_k}\big)` of the categorical family.

    Minimal parametrisation: :math:`p_k \propto e^{\theta_k}` for :math:`k < K` and
    :math:`p_K \propto 1`, so :math:`\theta` has K - 1 entries and the Fisher
    :math:`\nabla^2 A(\theta) = \mathrm{diag}(\mu) - \mu\mu^\top` is invertible. Chapter 9.
    """
    natural = _natural(natural)
    padded = np.concatenate([natural, np.zeros(1)])
    top = onp.max(array_value(padded, "natural"))
    return top + np.log(np.sum(np.exp(padded - top)))


def categorical_mean(natural):
    r"""The mean parameters :math:`\mu = \nabla A(\theta)`: the probabilities of the first K - 1 classes. Chapter 9."""
    natural = _natural(natural)
    return softmax(np.concatenate([natural, np.zeros(1)]))[:-1]


def categorical_negative_entropy(mean):
    r"""The convex conjugate :math:`A^*(\mu) = \sum_{k<K} \mu_k \log\mu_k + \mu_K \log\mu_K`, :math:`\mu_K = 1 - \sum_{k<K}\mu_k`.

    It is the negative entropy of the distribution with mean parameters :math:`\mu`. Chapter 9.
    """
    mean = _mean(mean)
    last = 1.0 - np.sum(mean)
    return np.sum(mean * np.log(mean)) + last * np.log(last)


def categorical_natural(mean):
    r"""The natural parameters :math:`\theta = \nabla A^*(\mu) = \log(\mu_k / \mu_K)`, the inverse of :func:`categorical_mean`. Chapter 9."""
    mean = _mean(mean)
    return np.log(mean) - np.log(1.0 - np.sum(mean))


def mirror_descent(grad_fn, point0, to_dual, from_dual, learning_rate: float, n_steps: int) -> onp.ndarray:
    r"""Mirror descent :math:`\nabla\Phi(x_{t+1}) = \nabla\Phi(x_t) - \eta\,\nabla L(x_t)`; returns the path of x, shape (n_steps + 1, P).

    ``to_dual`` is the gradient :math:`\nabla\Phi` of the mirror map and ``from_dual`` its
    inverse; ``grad_fn`` is :math:`\nabla L` in the primal coordinates x. A first-order method:
    no matrix is formed or solved. With :math:`x = \mu` the mean parameters of an exponential
    family and :math:`\Phi = A^*`, the dual coordinates are the natural parameters and the
    iterates are those of natural gradient descent in :math:`\theta` (Raskutti and Mukherjee,
    2015). Chapter 9.
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
