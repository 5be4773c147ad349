r"""Self-checks for the exercises of chapter 4, the Fisher information metric.

* :func:`check_bernoulli_fisher`: the Fisher of :math:`\mathrm{Bernoulli}(\mathrm{sigmoid}(\theta))`
  as a function of the logit :math:`\theta`, which is :math:`p(1-p)`;
* :func:`check_softmax_regression_fisher`: the (9, 9) Fisher of softmax regression on the problem
  of :func:`softmax_fisher_problem`, :math:`\frac1N \sum_n (\tilde x_n \tilde x_n^\top) \otimes H_n`.

Each check recognises the typical mistakes (the empirical Fisher, a missing :math:`1/N`, the
Kronecker factors in the wrong order, a sign, the wrong coordinates) and says which one it saw.
"""

from __future__ import annotations

import numpy as np

import natgrad as ng
from natgrad.datasets import fruit
from natgrad.exercises._verdict import Verdict, forgiving, verdict

_BERNOULLI_THETAS = (-3.0, -1.2, -0.3, 0.0, 0.4, 1.5, 2.5)


def _sigmoid(theta: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * theta) + 1.0)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-10))


@forgiving
def check_bernoulli_fisher(fisher_fn) -> Verdict:
    r"""Check a function ``theta -> F(theta)`` for :math:`y \sim \mathrm{Bernoulli}(\mathrm{sigmoid}(\theta))`.

    The reference is :math:`F(\theta) = p(1-p)` with :math:`p = \mathrm{sigmoid}(\theta)`, the
    variance of the score :math:`y - p`. Evaluated one scalar at a time at a few logits.
    """
    if not callable(fisher_fn):
        return verdict(False, "", f"Pass your function itself (a callable theta -> number), not {type(fisher_fn).__name__}.")
    thetas = np.array(_BERNOULLI_THETAS)
    values = []
    for theta in thetas:
        value = np.asarray(fisher_fn(float(theta)), dtype=float)
        if value.size != 1:
            return verdict(False, "", f"At theta = {theta} your function returned shape {value.shape}; a one-parameter model has a 1x1 Fisher, a single number.")
        values.append(float(value.reshape(-1)[0]))
    answer = np.array(values)
    if not np.all(np.isfinite(answer)):
        return verdict(False, "", "Your function returned NaN or inf for some theta in [-3, 2.5]; the Fisher is finite there.")
    p = _sigmoid(thetas)
    reference = p * (1.0 - p)
    if _close(answer, reference):
        return verdict(True, "F(theta) = p (1 - p): the variance of the score y - p. It is largest at theta = 0, where one unit of logit moves p the most.", "")
    mistakes = [
        (-reference, "Your values have the wrong sign. The Fisher is E[score^2] = -E[second derivative of log p], and it is never negative."),
        (1.0 / reference, "That is 1 / (p (1 - p)), the Fisher in the coordinate p itself. In the logit theta, multiply it by (dp/dtheta)^2 = (p (1 - p))^2."),
        (np.sqrt(reference), "That is the standard deviation of the score. The Fisher is its variance: do not take the square root."),
        ((1.0 - p) ** 2, "That is the squared score for the label y = 1 only, an empirical Fisher. Average the squared score over y ~ Bernoulli(p)."),
        (p**2, "That is the squared score for the label y = 0 only. Average the squared score over both labels, weighted by their probabilities."),
        (p, "That is p, the mean of y. The Fisher is the variance of the score y - p."),
        (1.0 - p, "That is 1 - p. The Fisher is the variance of the score y - p."),
    ]
    for candidate, hint in mistakes:
        if _close(answer, candidate):
            return verdict(False, "", hint)
    worst = int(np.argmax(np.abs(answer - reference)))
    return verdict(
        False,
        "",
        f"At theta = {thetas[worst]:g} your function gives {answer[worst]:.6g}, the Fisher is {reference[worst]:.6g}. "
        "Write the score d/dtheta log p(y | theta) for y = 0 and y = 1 and average its square over y.",
    )


def softmax_fisher_problem() -> tuple[ng.Model, np.ndarray, np.ndarray, np.ndarray]:
    """The exercise's softmax regression: ``(model, params, X, y)`` on 30 fruits, fixed seeds.

    ``params`` stores ``W.ravel()`` (shape (2, 3): rows are the features, columns the classes)
    followed by the three biases. Fresh copies on every call.
    """
    X, y = fruit(n_per_class=10, seed=4)
    model = ng.softmax_regression(2, 3)
    params = np.random.default_rng(404).normal(0.0, 0.8, size=model.n_params)
    return model, params, X, y


def _softmax_fisher_candidates(params: np.ndarray, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The reference and the typical wrong answers, written from the closed form."""
    n_rows = X.shape[0]
    W, b = params[:6].reshape(2, 3), params[6:]
    probs = ng.softmax(X @ W + b)
    inputs = np.column_stack([X, np.ones(n_rows)])
    outer_in = np.einsum("ni,nj->nij", inputs, inputs)
    output_fisher = np.einsum("nc,cd->ncd", probs, np.eye(3)) - np.einsum("nc,nd->ncd", probs, probs)
    residual = np.eye(3)[y] - probs

    def mean_kron(left, right):
        return np.mean([np.kron(a, c) for a, c in zip(left, right)], axis=0)

    reference = mean_kron(outer_in, output_fisher)
    return {
        "reference": reference,
        "empirical": mean_kron(outer_in, np.einsum("nc,nd->ncd", residual, residual)),
        "sum": n_rows * reference,
        "transposed": mean_kron(output_fisher, outer_in),
        "diag_only": mean_kron(outer_in, np.einsum("nc,cd->ncd", probs, np.eye(3))),
        "kfac": np.kron(outer_in.mean(axis=0), output_fisher.mean(axis=0)),
    }


@forgiving
def check_softmax_regression_fisher(answer) -> Verdict:
    r"""Check the (9, 9) Fisher of the softmax regression of :func:`softmax_fisher_problem`.

    The reference is :math:`\frac1N\sum_n (\tilde x_n \tilde x_n^\top) \otimes (\mathrm{diag}(p_n) - p_n p_n^\top)`
    with :math:`\tilde x_n = [x_n, 1]`, in the package's parameter order (feature-major, biases last).
    """
    model, params, X, y = softmax_fisher_problem()
    answer = np.asarray(answer, dtype=float)
    P = model.n_params
    if answer.shape == (6, 6):
        return verdict(False, "", "Your matrix is 6x6: the biases are missing. Append a 1 to every input, x~ = [x, 1], to get all 9 parameters.")
    if answer.shape != (P, P):
        return verdict(False, "", f"Expected a ({P}, {P}) matrix, one row and column per parameter: (2 features + 1 bias) x 3 classes; got shape {answer.shape}.")
    if not np.all(np.isfinite(answer)):
        return verdict(False, "", "Your matrix contains NaN or inf entries.")
    candidates = _softmax_fisher_candidates(params, X, y)
    reference = candidates["reference"]
    if _close(answer, reference):
        return verdict(True, "This is the Fisher of softmax regression: the mean over rows of (x~ x~^T) kron (diag(p) - p p^T).", "")
    hints = {
        "empirical": "This is the empirical Fisher: you used the data's labels y. The Fisher averages over labels drawn from the model, y ~ p(. | x).",
        "sum": "Your matrix is N times too large: the Fisher is a mean over the rows, divide the sum by N.",
        "transposed": "The Kronecker factors are in the wrong order. The parameters are stored feature by feature (all classes of feature 1, then feature 2, then the biases), so the input factor comes first: kron(x~ x~^T, H).",
        "diag_only": "You used diag(p) for the output Fisher and forgot to subtract p p^T: the score e_y - p has mean zero only after subtracting p.",
        "kfac": "You took the Kronecker product of the two means. The Fisher is the mean of the Kronecker products; the product of means is the K-FAC approximation of chapter 8.",
    }
    for name, hint in hints.items():
        if _close(answer, candidates[name]):
            return verdict(False, "", hint)
    if not np.allclose(answer, answer.T, rtol=1e-8, atol=1e-12):
        return verdict(False, "", "Your matrix is not symmetric, and a Fisher is: it is an average of outer products s s^T.")
    error = np.linalg.norm(answer - reference) / np.linalg.norm(reference)
    return verdict(
        False,
        "",
        f"Your matrix is off by {error:.2g} in relative Frobenius norm. Compare it entry by entry with "
        "ng.fisher(model, params, X) for the same problem.",
    )
