r"""Natural-gradient variational inference: a Gaussian posterior fitted by the Bayesian learning rule.

Chapter 11. The model is Bayesian logistic regression: labels :math:`y_n \in \{0, 1\}` with
:math:`p(y_n = 1 \mid x_n, \theta) = \operatorname{sigm}(\tilde a_n^\top\theta)`, where :math:`\tilde a_n` is
row n of ``X`` (chapter 4's inputs with a column of ones appended, for an intercept), and the prior
:math:`\mathcal N\bigl(0, (N\tau)^{-1} I\bigr)`. The negative log-posterior is then
:math:`N L_\tau(\theta)` plus a constant, with the penalised loss

.. math:: L_\tau(\theta) = \frac1N \sum_n \bigl(\log(1 + e^{\tilde a_n^\top\theta}) - y_n \tilde a_n^\top\theta\bigr)
          + \frac\tau2 \lVert\theta\rVert^2 ,

so the posterior's mode is the minimiser of :math:`L_\tau` (the L2 penalty :math:`\tau` of
chapter 5). Variational inference fits the Gaussian :math:`q = \mathcal N(\mu, \Sigma)` over
:math:`\theta` that minimises :math:`\mathrm{KL}(q \,\Vert\, p(\theta \mid \text{data}))`;
:func:`vi_objective` is that KL divided by N, up to a constant.

The Bayesian learning rule (Khan and Rue, 2023) is natural gradient descent on this KL in the
natural parameters of q, which is plain gradient descent in its expectation parameters
(chapter 11, the section on expectation parameters). For a Gaussian q, with learning rate
:math:`\eta`, it reads

.. math:: \Sigma_{t+1}^{-1} = (1 - \eta)\,\Sigma_t^{-1} + \eta\, N\,\mathbb E_{q_t}[\nabla^2 L_\tau],
          \qquad \mu_{t+1} = \mu_t - \eta\, N\, \Sigma_{t+1}\, \mathbb E_{q_t}[\nabla L_\tau],

a Newton step with the gradient and Hessian averaged over :math:`q_t`
(:func:`variational_online_newton`; with :math:`\eta = 1` it is "variational online Newton").
Its diagonal version with squared per-example gradients in place of the expected Hessian is
VOGN (Khan et al., 2018), the update that resembles RMSprop and Adam
(:func:`diagonal_bayesian_learning_rule`).

The expectations over q are one-dimensional: :math:`\tilde a_n^\top\theta` is Gaussian under q, with mean
:math:`\tilde a_n^\top\mu` and variance :math:`\tilde a_n^\top\Sigma \tilde a_n`, so a quadrature rule in one dimension
computes them to float64 accuracy (:func:`gaussian_expectations`, :data:`DEFAULT_NODES`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import autograd.numpy as anp
import numpy as np

from natgrad._checks import array_value, finite_array, flat_vector, generator, nonnegative_int, one_of, positive_finite, positive_int

#: Nodes of the rule for the one-dimensional Gaussian expectations: the trapezoid rule on
#: :math:`u \in [-10, 10]` for :math:`\mathbb E_{u \sim N(0, 1)}[f(m + s u)]`. The integrands
#: (softplus, the logistic function and its derivative) are analytic in a strip of half-width
#: :math:`\pi / s` around the real line, so the error falls like :math:`e^{-2\pi^2 / (s h)}` with
#: the spacing h; measured against scipy's adaptive quadrature, 401 nodes (h = 0.05) give a
#: relative error below 1e-13 for logit standard deviations s up to 10 (Gauss-Hermite's 40
#: nodes: 3e-9 at s = 2, 1e-4 at s = 5).
DEFAULT_NODES = 401
_HALF_WIDTH = 10.0


def _sigm(z):
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def _design(X, y):
    X = np.asarray(finite_array(X, "X"), dtype=float)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X: expected a 2-D design matrix (N, P) with N, P >= 1, got shape {X.shape}")
    labels = np.asarray(flat_vector(y, "y", X.shape[0]), dtype=float)
    if not np.all((labels == 0.0) | (labels == 1.0)):
        raise ValueError("y: expected binary labels, each 0 or 1")
    return X, labels


def _covariance(cov, n_params: int, name: str = "cov") -> np.ndarray:
    cov = np.asarray(finite_array(cov, name), dtype=float)
    if cov.shape != (n_params, n_params):
        raise ValueError(f"{name}: expected a ({n_params}, {n_params}) covariance matrix, got shape {cov.shape}")
    if not np.allclose(cov, cov.T, rtol=1e-12, atol=1e-14 * max(np.abs(cov).max(), 1e-300)):
        raise ValueError(f"{name}: expected a symmetric matrix")
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name}: expected a positive definite matrix") from None
    return cov


def _variances(variance, n_params: int, name: str = "variance") -> np.ndarray:
    variance = np.asarray(flat_vector(variance, name, n_params), dtype=float)
    if np.any(variance <= 0):
        raise ValueError(f"{name}: expected positive variances")
    return variance


def _learning_rate(learning_rate) -> float:
    """The Bayesian learning rule's step size, a number in (0, 1]: the weight of the new curvature."""
    positive_finite(learning_rate, "learning_rate")
    if learning_rate > 1.0:
        raise ValueError(f"learning_rate: expected a number in (0, 1], got {learning_rate!r}")
    return float(learning_rate)


def _standard_normal_rule(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes and weights with :math:`\sum_j w_j f(u_j) \approx \mathbb E_{u \sim N(0,1)}[f(u)]` (see :data:`DEFAULT_NODES`)."""
    n_nodes = positive_int(n_nodes, "n_nodes")
    if n_nodes < 3:
        raise ValueError(f"n_nodes: expected at least 3 nodes, got {n_nodes}")
    nodes = np.linspace(-_HALF_WIDTH, _HALF_WIDTH, n_nodes)
    weights = np.exp(-0.5 * nodes**2)
    return nodes, weights / weights.sum()


def logistic_posterior_loss(params, X, y, penalty: float):
    r"""The penalised loss :math:`L_\tau(\theta)`, the negative log-posterior divided by N (up to a constant).

    Differentiable with autograd. Chapter 11.
    """
    X, labels = _design(X, y)
    positive_finite(penalty, "penalty")
    params = flat_vector(params, "params", X.shape[1])
    logits = anp.dot(X, params)
    return anp.mean(anp.logaddexp(0.0, logits) - labels * logits) + 0.5 * penalty * anp.sum(params**2)


@dataclass(frozen=True)
class Expectations:
    r"""Averages over :math:`q = \mathcal N(\mu, \Sigma)`: of :math:`L_\tau` (``value``), its gradient and its Hessian."""

    value: float
    grad: np.ndarray
    hessian: np.ndarray


def _expectations(mean, logit_variances, X, labels, penalty, trace_cov, n_nodes):
    nodes, weights = _standard_normal_rule(n_nodes)
    logit_means = X @ mean
    logits = logit_means[:, None] + np.sqrt(logit_variances)[:, None] * nodes[None, :]
    probs = _sigm(logits)
    softplus = np.logaddexp(0.0, logits) @ weights
    expected_probs = probs @ weights
    curvatures = (probs * (1.0 - probs)) @ weights  # E[sigm'(a~_n^T theta)], the Fisher weight of input n
    n_rows = X.shape[0]
    value = float(np.mean(softplus - labels * logit_means) + 0.5 * penalty * (mean @ mean + trace_cov))
    gradient = X.T @ (expected_probs - labels) / n_rows + penalty * mean
    return value, gradient, curvatures


def gaussian_expectations(mean, cov, X, y, penalty: float, n_nodes: int = DEFAULT_NODES) -> Expectations:
    r""":math:`\mathbb E_q[L_\tau]`, :math:`\mathbb E_q[\nabla L_\tau]` and :math:`\mathbb E_q[\nabla^2 L_\tau]` for :math:`q = \mathcal N(\mu, \Sigma)`.

    With :math:`z_n = \tilde a_n^\top\theta \sim \mathcal N(\tilde a_n^\top\mu,\ \tilde a_n^\top\Sigma \tilde a_n)`,

    .. math:: \mathbb E_q[\nabla L_\tau] = \frac1N\sum_n \bigl(\mathbb E[\operatorname{sigm}(z_n)] - y_n\bigr) \tilde a_n + \tau\mu,
              \qquad
              \mathbb E_q[\nabla^2 L_\tau] = \frac1N\sum_n \mathbb E[\operatorname{sigm}'(z_n)]\, \tilde a_n \tilde a_n^\top + \tau I,

    each expectation by a one-dimensional quadrature (:data:`DEFAULT_NODES`). By Bonnet's and Price's
    theorems these are also :math:`\nabla_\mu \mathbb E_q[L_\tau]` and :math:`2\nabla_\Sigma
    \mathbb E_q[L_\tau]`. The Hessian of the logistic loss is its Fisher (a canonical link), so
    the last term is the Fisher averaged over q, plus the prior's :math:`\tau I`. Chapter 11.
    """
    X, labels = _design(X, y)
    positive_finite(penalty, "penalty")
    mean = np.asarray(flat_vector(mean, "mean", X.shape[1]), dtype=float)
    cov = _covariance(cov, X.shape[1])
    logit_variances = np.maximum(np.einsum("ni,ij,nj->n", X, cov, X), 0.0)
    value, gradient, curvatures = _expectations(mean, logit_variances, X, labels, penalty, np.trace(cov), n_nodes)
    hessian = (X.T * curvatures) @ X / X.shape[0] + penalty * np.eye(X.shape[1])
    return Expectations(value, gradient, hessian)


def vi_objective(mean, cov, X, y, penalty: float, n_nodes: int = DEFAULT_NODES) -> float:
    r"""The variational objective :math:`\mathbb E_q[L_\tau] - \frac{1}{2N}\log\det\Sigma`.

    It is :math:`\mathrm{KL}(q \,\Vert\, p(\theta \mid \text{data})) / N` up to a constant that does
    not depend on q, since :math:`\mathbb E_q[\log q] = -\frac12\log\det\Sigma` plus a constant.
    Chapter 11.
    """
    X, _ = _design(X, y)
    cov = _covariance(cov, X.shape[1])
    expected_loss = gaussian_expectations(mean, cov, X, y, penalty, n_nodes).value
    return float(expected_loss - 0.5 * np.linalg.slogdet(cov)[1] / X.shape[0])


def kl_gaussians(mean_p, cov_p, mean_q, cov_q) -> float:
    r"""The KL divergence :math:`\mathrm{KL}\bigl(\mathcal N(\mu_p, \Sigma_p) \,\Vert\, \mathcal N(\mu_q, \Sigma_q)\bigr)` in nats.

    .. math:: \tfrac12\Bigl(\operatorname{tr}(\Sigma_q^{-1}\Sigma_p) + (\mu_q - \mu_p)^\top \Sigma_q^{-1} (\mu_q - \mu_p)
              - P + \log\frac{\det\Sigma_q}{\det\Sigma_p}\Bigr),

    the multivariate form of :func:`natgrad.kl_gaussian`. Chapter 11 measures with it how far an
    iterate :math:`q_t` is from the fitted Gaussian.
    """
    mean_p = np.asarray(finite_array(mean_p, "mean_p"), dtype=float)
    if mean_p.ndim != 1 or mean_p.size < 1:
        raise ValueError(f"mean_p: expected a flat vector, got shape {mean_p.shape}")
    n_params = mean_p.size
    mean_q = np.asarray(flat_vector(mean_q, "mean_q", n_params), dtype=float)
    cov_p = _covariance(cov_p, n_params, "cov_p")
    cov_q = _covariance(cov_q, n_params, "cov_q")
    factor_q = np.linalg.cholesky(cov_q)
    whitened_cov = np.linalg.solve(factor_q, np.linalg.solve(factor_q, cov_p).T)  # L^-1 Sigma_p L^-T
    whitened_mean = np.linalg.solve(factor_q, mean_q - mean_p)
    log_det_ratio = np.linalg.slogdet(cov_q)[1] - np.linalg.slogdet(cov_p)[1]
    return float(0.5 * (np.trace(whitened_cov) + whitened_mean @ whitened_mean - n_params + log_det_ratio))


@dataclass(frozen=True)
class GaussianPath:
    r"""The iterates :math:`q_t = \mathcal N(\mu_t, \Sigma_t)`: ``means`` of shape (T + 1, P) and ``covs`` of shape (T + 1, P, P)."""

    means: np.ndarray
    covs: np.ndarray


def _symmetric_inverse(matrix: np.ndarray) -> np.ndarray:
    inverse = np.linalg.inv(matrix)
    return 0.5 * (inverse + inverse.T)


def variational_online_newton(X, y, penalty: float, mean0, cov0, learning_rate: float = 1.0, n_steps: int = 10,
                              n_nodes: int = DEFAULT_NODES) -> GaussianPath:
    r"""The Bayesian learning rule for a full Gaussian :math:`q = \mathcal N(\mu, \Sigma)`; returns the path.

    .. math:: \Sigma_{t+1}^{-1} = (1 - \eta)\,\Sigma_t^{-1} + \eta N\,\mathbb E_{q_t}[\nabla^2 L_\tau], \qquad
              \mu_{t+1} = \mu_t - \eta N\, \Sigma_{t+1}\, \mathbb E_{q_t}[\nabla L_\tau],

    with :math:`\eta` = ``learning_rate`` in (0, 1]. This is natural gradient descent on
    :func:`vi_objective` (times N) in q's natural parameters :math:`(\Sigma^{-1}\mu, -\frac12\Sigma^{-1})`.
    With :math:`\eta = 1` it is Newton's method with the gradient and Hessian averaged over
    :math:`q_t` (variational online Newton); its fixed points satisfy
    :math:`\mathbb E_q[\nabla L_\tau] = 0` and :math:`\Sigma^{-1} = N\,\mathbb E_q[\nabla^2 L_\tau]`, the
    stationarity conditions of the objective. The precision stays positive definite, since
    the logistic Hessian is positive semi-definite and :math:`\tau > 0`. Like Newton's method,
    :math:`\eta = 1` is not safe from every start: from a very wide :math:`q_0` the averaged
    curvature is small and the first step far too long (chapter 11's exercise: from
    :math:`\mathcal N(0, 30^2 I)` the mean runs away); :math:`\eta < 1` damps it. Chapter 11.
    """
    X, labels = _design(X, y)
    positive_finite(penalty, "penalty")
    n_rows, n_params = X.shape
    mean = np.asarray(flat_vector(mean0, "mean0", n_params), dtype=float)
    cov = _covariance(cov0, n_params, "cov0")
    learning_rate = _learning_rate(learning_rate)
    n_steps = nonnegative_int(n_steps, "n_steps")
    positive_int(n_nodes, "n_nodes")
    means, covs = [mean], [cov]
    precision = _symmetric_inverse(cov)
    for _ in range(n_steps):
        expected = gaussian_expectations(mean, cov, X, labels, penalty, n_nodes)
        precision = (1.0 - learning_rate) * precision + learning_rate * n_rows * expected.hessian
        cov = _symmetric_inverse(precision)
        mean = mean - learning_rate * n_rows * (cov @ expected.grad)
        means.append(mean)
        covs.append(cov)
    return GaussianPath(np.array(means), np.array(covs))


def laplace_approximation(X, y, penalty: float, tol: float = 1e-12, max_steps: int = 100) -> tuple[np.ndarray, np.ndarray]:
    r"""The Laplace approximation :math:`\mathcal N\bigl(\hat\theta, (N\nabla^2 L_\tau(\hat\theta))^{-1}\bigr)`: ``(mode, cov)``.

    The mode :math:`\hat\theta` minimises :math:`L_\tau` (Newton's method from zero, halving a step
    that does not lower the loss, until :math:`\max_i |\partial_i L_\tau| \le` ``tol``). It is the
    Bayesian learning rule's fixed point with the expectations over q replaced by values at the
    mean. Chapter 11.
    """
    X, labels = _design(X, y)
    positive_finite(penalty, "penalty")
    positive_finite(tol, "tol")
    max_steps = positive_int(max_steps, "max_steps")
    n_rows, n_params = X.shape

    def loss_grad_hessian(theta):
        logits = X @ theta
        probs = _sigm(logits)
        loss = np.mean(np.logaddexp(0.0, logits) - labels * logits) + 0.5 * penalty * theta @ theta
        gradient = X.T @ (probs - labels) / n_rows + penalty * theta
        hessian = (X.T * (probs * (1.0 - probs))) @ X / n_rows + penalty * np.eye(n_params)
        return loss, gradient, hessian

    theta = np.zeros(n_params)
    loss, gradient, hessian = loss_grad_hessian(theta)
    for _ in range(max_steps):
        if np.abs(gradient).max() <= tol:
            break
        step = np.linalg.solve(hessian, gradient)
        length = 1.0
        while True:
            candidate = theta - length * step
            new_loss, new_gradient, new_hessian = loss_grad_hessian(candidate)
            # Near the mode a Newton step lowers the loss by less than its round-off: accept it then.
            if new_loss <= loss + 1e-13 * max(abs(loss), 1.0) or length < 1e-10:
                break
            length /= 2.0
        theta, loss, gradient, hessian = candidate, new_loss, new_gradient, new_hessian
    else:
        if np.abs(gradient).max() > tol:
            raise ValueError(f"max_steps: Newton's method did not reach tol = {tol:g} in {max_steps} steps")
    return theta, _symmetric_inverse(n_rows * hessian)


@dataclass(frozen=True)
class DiagonalPath:
    r"""The iterates of a diagonal Gaussian :math:`\mathcal N(\mu_t, \operatorname{diag}(\sigma_t^2))`: ``means`` and ``variances``, each (T + 1, P)."""

    means: np.ndarray
    variances: np.ndarray


def diagonal_bayesian_learning_rule(X, y, penalty: float, mean0, variance0, learning_rate: float, n_steps: int,
                                    curvature: str = "expected", batch_size: int | None = None, rng=None,
                                    n_nodes: int = DEFAULT_NODES) -> DiagonalPath:
    r"""The Bayesian learning rule for a diagonal Gaussian :math:`q = \mathcal N(\mu, \operatorname{diag}(\sigma^2))`.

    Write the precision as :math:`1/\sigma^2 = N(s + \tau)`, with :math:`s` the data's share. Each step

    .. math:: s_{t+1} = (1 - \eta)\, s_t + \eta\, h_t, \qquad
              \mu_{t+1} = \mu_t - \eta\, \frac{\hat g_t + \tau\mu_t}{s_{t+1} + \tau}

    (elementwise), with the curvature estimate :math:`h_t` and the gradient estimate
    :math:`\hat g_t` (of the data's mean loss, without the prior) chosen by ``curvature``:

    * ``"expected"``: :math:`h_t` = the diagonal of :math:`\mathbb E_{q_t}[\nabla^2 L]` and
      :math:`\hat g_t = \mathbb E_{q_t}[\nabla L]`, by quadrature, on the mini-batch (on all rows
      if ``batch_size`` is None). Full-batch, its fixed points are those of the mean-field
      variational objective.
    * ``"empirical"``: VOGN (Khan et al., 2018). Draw one :math:`\theta \sim q_t` and a
      mini-batch B; :math:`\hat g_t` is the mean over B of the per-example gradients
      :math:`g_n(\theta) = (\operatorname{sigm}(\tilde a_n^\top\theta) - y_n)\, \tilde a_n` and :math:`h_t` the mean
      of their squares :math:`g_n \odot g_n`, a diagonal empirical Fisher at the sample.
    * ``"batch"``: as ``"empirical"``, but :math:`h_t = \hat g_t \odot \hat g_t`, the square of the
      mini-batch gradient (the estimate of Vadam, Khan et al., 2018). Then :math:`s_t` is Adam's
      running average :math:`\overline{g^2}_t` with :math:`\beta_2 = 1 - \eta`, and the mean's
      update is Adam's without momentum, except that it divides by :math:`\overline{g^2}_t + \tau`
      where Adam divides by :math:`\sqrt{\overline{g^2}_t} + \varepsilon_{\text{Adam}}`.

    The rule itself divides by a precision, without a square root.
    ``rng`` (a Generator or an int seed) draws the batches and samples. Returns the path of the
    means and of the variances :math:`\sigma^2 = 1/(N(s + \tau))`. Chapter 11.
    """
    X, labels = _design(X, y)
    positive_finite(penalty, "penalty")
    n_rows, n_params = X.shape
    mean = np.asarray(flat_vector(mean0, "mean0", n_params), dtype=float)
    variance = _variances(variance0, n_params, "variance0")
    learning_rate = _learning_rate(learning_rate)
    n_steps = nonnegative_int(n_steps, "n_steps")
    one_of(curvature, "curvature", ("expected", "empirical", "batch"))
    if batch_size is not None:
        batch_size = positive_int(batch_size, "batch_size")
        if batch_size > n_rows:
            raise ValueError(f"batch_size: expected at most N = {n_rows} rows, got {batch_size}")
    needs_rng = curvature != "expected" or batch_size is not None
    rng = generator(rng) if needs_rng or rng is not None else None
    positive_int(n_nodes, "n_nodes")

    data_share = 1.0 / (n_rows * variance) - penalty
    means, variances = [mean], [variance]
    for _ in range(n_steps):
        rows = np.arange(n_rows) if batch_size is None else rng.choice(n_rows, size=batch_size, replace=False)
        X_batch, y_batch = X[rows], labels[rows]
        if curvature == "expected":
            logit_variances = (X_batch**2) @ variance
            _, gradient, curvatures = _expectations(mean, logit_variances, X_batch, y_batch, 0.0, 0.0, n_nodes)
            estimate = (X_batch**2).T @ curvatures / len(rows)
        else:
            theta = mean + np.sqrt(variance) * rng.standard_normal(n_params)
            per_example = (_sigm(X_batch @ theta) - y_batch)[:, None] * X_batch
            gradient = per_example.mean(axis=0)
            estimate = (per_example**2).mean(axis=0) if curvature == "empirical" else gradient**2
        data_share = (1.0 - learning_rate) * data_share + learning_rate * estimate
        mean = mean - learning_rate * (gradient + penalty * mean) / (data_share + penalty)
        variance = 1.0 / (n_rows * (data_share + penalty))
        means.append(mean)
        variances.append(variance)
    return DiagonalPath(np.array(means), np.array(variances))
