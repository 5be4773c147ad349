r"""Self-checks for chapter 10, the second-order relatives of the natural gradient (Fisher scoring, IRLS, Gauss-Newton).

* :func:`irls_problem`: a small binary classification problem (inputs with a column of ones
  appended, the rows :math:`\tilde a_n^\top` of :math:`\tilde X`, and labels 0/1) for the IRLS
  exercise;
* :func:`check_irls_step`: a reader's IRLS (Fisher scoring, Newton) step for binary logistic regression,

  .. math:: \theta_{\text{new}} = \theta + (\tilde X^\top \Lambda \tilde X)^{-1} \tilde X^\top (y - p),
            \qquad \Lambda = \mathrm{diag}\big(p_n(1-p_n)\big),

  against :func:`natgrad.glm.irls_step`. It names the usual mistakes: no weights, the
  empirical Fisher's weights :math:`(y_n-p_n)^2`, a sign error, a gradient step, a missing or extra
  factor N, and returning the step instead of the new parameters;
* :func:`check_learned_variance_curvature`: a reader's curvature of the Gaussian's negative
  log-likelihood in the outputs :math:`z = (\mu, \log\sigma)` for one label,

  .. math:: \Lambda = \frac{1}{\sigma^2}\begin{pmatrix} 1 & 2r \\ 2r & 2r^2 \end{pmatrix}, \qquad r = y - \mu,

  which names the Fisher (the average over labels), derivatives in :math:`\sigma` instead of
  :math:`\log\sigma`, and slips of sign and of a factor 2.
"""

from __future__ import annotations

import numpy as np

from natgrad.exercises._verdict import Verdict, call_on_copies, forgiving, vector_answer, verdict
from natgrad.glm import irls_step

_RTOL = 1e-6


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def irls_problem(n_rows: int = 60, seed: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: two Gaussian features plus a column of ones, and labels 0/1 drawn from a logistic model.

    Seeded; the classes overlap, so the maximum-likelihood estimate is finite. Fresh arrays on every call.
    """
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n_rows, 2))
    X = np.column_stack([features, np.ones(n_rows)])
    y = (rng.random(n_rows) < _sigmoid(X @ np.array([1.5, -1.0, 0.3]))).astype(float)
    return X, y


def _cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(params, X, y): the exercise's problem at two points and a smaller 3-feature problem."""
    X, y = irls_problem()
    X_small, y_small = irls_problem(n_rows=25, seed=3)
    X_wide = np.column_stack([X_small[:, :2], X_small[:, 0] * X_small[:, 1], X_small[:, 2]])
    return [
        (np.zeros(3), X, y),
        (np.array([0.8, -0.4, 0.2]), X, y),
        (np.array([0.3, 0.1, -0.2, 0.4]), X_wide, y_small),
    ]


def _mistakes(params: np.ndarray, X: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Answers that the usual mistakes produce, each with its hint."""
    p = _sigmoid(X @ params)
    residual = y - p
    n_rows = len(y)
    newton = np.linalg.solve(X.T @ ((p * (1 - p))[:, None] * X), X.T @ residual)
    return [
        (newton, "Your function returns the step itself. Return the new parameters, params + step."),
        (params - newton, "Your step has the right length but the wrong sign: the new parameters are params + (X^T Lambda X)^{-1} X^T (y - p)."),
        (params + np.linalg.solve(X.T @ X, X.T @ residual),
         "Your step has no weights: it solves with X^T X. Weight each row by p_n (1 - p_n), the Fisher of its Bernoulli label."),
        (params + np.linalg.solve(X.T @ ((residual**2)[:, None] * X), X.T @ residual),
         "Your weights are (y_n - p_n)^2: that is the empirical Fisher. The Fisher averages over the model's own labels, which gives p_n (1 - p_n)."),
        (params + n_rows * newton,
         "Your step is N times too long: you divided the curvature X^T Lambda X by N but not the gradient X^T (y - p), or the other way round."),
        (params + newton / n_rows,
         "Your step is N times too short: divide both X^T Lambda X and X^T (y - p) by N, or neither."),
        (params + X.T @ residual / n_rows, "That is a gradient step. IRLS solves with the curvature X^T Lambda X instead of using a learning rate."),
        (params + X.T @ residual, "That is a gradient step. IRLS solves with the curvature X^T Lambda X instead of using a learning rate."),
        (params + np.linalg.solve(X.T @ (p[:, None] * X), X.T @ residual),
         "Your weights are p_n: the weight of a Bernoulli label is its variance p_n (1 - p_n)."),
    ]


def _close(answer: np.ndarray, expected: np.ndarray) -> bool:
    return bool(np.allclose(answer, expected, rtol=_RTOL, atol=_RTOL * max(np.abs(expected).max(), 1.0)))


@forgiving
def check_irls_step(step_fn) -> Verdict:
    r"""Check ``step_fn(params, X, y)`` against :func:`natgrad.glm.irls_step`.

    The answer must return :math:`\theta + (\tilde X^\top \Lambda \tilde X)^{-1} \tilde X^\top (y - p)`
    as a flat vector (relative tolerance 1e-6) on three seeded problems and leave its inputs
    unchanged. Prints and returns a verdict; never raises. Chapter 10.
    """
    if not callable(step_fn):
        return verdict(False, "", "Pass your function itself, e.g. check_irls_step(my_irls_step), without calling it.")
    for params, X, y in _cases():
        answer, hint = call_on_copies(step_fn, (params, X, y))
        if hint is None:
            answer, hint = vector_answer(answer, params.shape)
        if hint is not None:
            return verdict(False, "", hint)
        expected = irls_step(params, X, y)
        if _close(answer, expected):
            continue
        for candidate, hint in _mistakes(params, X, y):
            if _close(answer, candidate):
                return verdict(False, "", hint)
        return verdict(
            False,
            "",
            "Your step does not match theta + (X^T Lambda X)^{-1} X^T (y - p) with p = sigm(X theta) and "
            "Lambda = diag(p (1 - p)). Compute p, the weights, then solve the weighted normal equations.",
        )
    return verdict(
        True,
        "Your step solves the weighted normal equations with the Fisher weights p (1 - p): one step of "
        "Newton's method, Fisher scoring and IRLS at once.",
        "",
    )


# ---------------------------------------------------------------- a Gaussian that learns its variance

# (mu, log sigma, y): labels above, below and at the mean, and three standard deviations.
_CURVATURE_CASES = [(0.5, np.log(0.8), 2.0), (-1.0, 0.3, -1.7), (0.2, -0.5, 0.2), (1.5, 0.0, 0.4)]


def _learned_variance_mistakes(mu: float, log_sigma: float, y: float) -> list[tuple[np.ndarray, str]]:
    """Answers that the usual mistakes produce for one label, each with its hint."""
    r, sigma = y - mu, np.exp(log_sigma)
    variance = sigma**2
    return [
        (np.diag([1 / variance, 2.0]),
         "That is the Fisher, diag(1/sigma^2, 2): the average of the curvature over labels drawn from the model. "
         "For one observed label y the curvature depends on the residual y - mu."),
        (np.array([[1 / variance, 2 * r / sigma**3], [2 * r / sigma**3, 3 * r**2 / sigma**4 - 1 / variance]]),
         "You differentiated in sigma. The outputs are mu and log sigma: write sigma = exp(s) and differentiate in s."),
        (np.array([[1.0, -2 * r], [-2 * r, 2 * r**2]]) / variance,
         "The off-diagonal entry has the wrong sign. With r = y - mu, d(ell)/d(mu) = -r / sigma^2, and its "
         "derivative in log sigma is +2 r / sigma^2."),
        (np.array([[1.0, r], [r, 2 * r**2]]) / variance,
         "The off-diagonal entry is missing a factor 2: differentiating exp(-2 s) in s = log sigma brings down -2."),
        (np.array([[1.0, 2 * r], [2 * r, r**2]]) / variance,
         "The (log sigma, log sigma) entry is missing a factor 2: the second derivative of r^2 exp(-2 s) / 2 in s "
         "is 2 r^2 exp(-2 s)."),
        (np.array([[1.0, 2 * r], [2 * r, 2 * r**2]]) / log_sigma**2 if log_sigma != 0 else np.full((2, 2), np.nan),
         "You used log_sigma as if it were sigma: sigma = exp(log_sigma)."),
    ]


def _learned_variance_curvature(mu: float, log_sigma: float, y: float) -> np.ndarray:
    r = y - mu
    return np.array([[1.0, 2 * r], [2 * r, 2 * r**2]]) * np.exp(-2 * log_sigma)


@forgiving
def check_learned_variance_curvature(curvature_fn) -> Verdict:
    r"""Check ``curvature_fn(mu, log_sigma, y)``, the Hessian of :math:`\ell = \log\sigma + (y - \mu)^2/(2\sigma^2)` in :math:`(\mu, \log\sigma)`.

    The answer must return the :math:`2 \times 2` matrix
    :math:`\sigma^{-2}\begin{pmatrix} 1 & 2r \\ 2r & 2r^2 \end{pmatrix}`, :math:`r = y - \mu`
    (relative tolerance 1e-6), for four labels: above, below and at the mean. Prints and returns
    a verdict; never raises. Chapter 10.
    """
    if not callable(curvature_fn):
        return verdict(False, "", "Pass your function itself, e.g. check_learned_variance_curvature(curvature), without calling it.")
    for mu, log_sigma, y in _CURVATURE_CASES:
        answer = curvature_fn(mu, log_sigma, y)
        if answer is None:
            return verdict(False, "", "Your function returned None: did you forget the return statement?")
        answer = np.asarray(answer, dtype=float)
        if answer.shape != (2, 2):
            return verdict(False, "", f"Expected the 2 x 2 matrix of second derivatives in (mu, log sigma), got shape {answer.shape}.")
        if not np.all(np.isfinite(answer)):
            return verdict(False, "", "Your function returned NaN or inf values.")
        expected = _learned_variance_curvature(mu, log_sigma, y)
        if _close(answer, expected):
            continue
        for candidate, hint in _learned_variance_mistakes(mu, log_sigma, y):
            if np.all(np.isfinite(candidate)) and _close(answer, candidate):
                return verdict(False, "", hint)
        return verdict(
            False,
            "",
            f"At mu = {mu:g}, log sigma = {log_sigma:.3g}, y = {y:g} your matrix does not match. Write s = log sigma, "
            "ell = s + (y - mu)^2 exp(-2 s) / 2, and differentiate twice in mu and s.",
        )
    return verdict(
        True,
        "Your curvature depends on the label through r = y - mu, and its determinant -2 r^2 / sigma^4 is negative "
        "whenever y differs from mu: this loss is not convex in (mu, log sigma).",
        "",
    )
