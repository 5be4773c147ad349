r"""Self-checks for chapter 10 (first edition: chapter 9), the methods that are natural gradient in disguise.

* :func:`irls_problem`: a small binary classification problem (design matrix with an intercept
  column, labels 0/1) for the IRLS exercise;
* :func:`check_irls_step`: a reader's IRLS (Fisher scoring) step for binary logistic regression,

  .. math:: \theta_{\text{new}} = \theta + (X^\top D X)^{-1} X^\top (y - p), \qquad D = \mathrm{diag}\big(p(1-p)\big),

  against :func:`natgrad.family.irls_step`. It names the usual mistakes: no weights, the
  empirical Fisher's weights :math:`(y-p)^2`, a sign error, a gradient step, a missing or extra
  factor N, and returning the step instead of the new parameters.
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
        (params - newton, "Your step has the right length but the wrong sign: the new parameters are params + (X^T D X)^{-1} X^T (y - p)."),
        (params + np.linalg.solve(X.T @ X, X.T @ residual),
         "Your step has no weights: it solves with X^T X. Weight each row by p_n (1 - p_n), the Fisher of its Bernoulli label."),
        (params + np.linalg.solve(X.T @ ((residual**2)[:, None] * X), X.T @ residual),
         "Your weights are (y_n - p_n)^2: that is the empirical Fisher. The Fisher averages over the model's own labels, which gives p_n (1 - p_n)."),
        (params + n_rows * newton,
         "Your step is N times too long: you divided the curvature X^T D X by N but not the gradient X^T (y - p), or the other way round."),
        (params + newton / n_rows,
         "Your step is N times too short: divide both X^T D X and X^T (y - p) by N, or neither."),
        (params + X.T @ residual / n_rows, "That is a gradient step. IRLS solves with the curvature X^T D X instead of using a learning rate."),
        (params + X.T @ residual, "That is a gradient step. IRLS solves with the curvature X^T D X instead of using a learning rate."),
        (params + np.linalg.solve(X.T @ (p[:, None] * X), X.T @ residual),
         "Your weights are p_n: the weight of a Bernoulli label is its variance p_n (1 - p_n)."),
    ]


def _close(answer: np.ndarray, expected: np.ndarray) -> bool:
    return bool(np.allclose(answer, expected, rtol=_RTOL, atol=_RTOL * max(np.abs(expected).max(), 1.0)))


@forgiving
def check_irls_step(step_fn) -> Verdict:
    r"""Check ``step_fn(params, X, y)`` against :func:`natgrad.family.irls_step`.

    The answer must return :math:`\theta + (X^\top D X)^{-1} X^\top (y - p)` as a flat vector
    (relative tolerance 1e-6) on three seeded problems and leave its inputs unchanged. Prints
    and returns a verdict; never raises. Chapter 9.
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
            "Your step does not match theta + (X^T D X)^{-1} X^T (y - p) with p = sigmoid(X theta) and "
            "D = diag(p (1 - p)). Compute p, the weights, then solve the weighted normal equations.",
        )
    return verdict(
        True,
        "Your step solves the weighted normal equations with the Fisher weights p (1 - p): one step of "
        "Newton's method, Fisher scoring and IRLS at once.",
        "",
    )
