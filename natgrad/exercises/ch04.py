r"""Self-checks for the exercises of chapter 4, the Fisher information metric.

* :func:`check_bernoulli_angle_fisher`: the Fisher of a Bernoulli distribution in the coordinate
  :math:`\xi` with :math:`p = \sin^2\xi`, which is the constant 4;
* :func:`check_softmax_regression_fisher`: the (9, 9) Fisher of softmax regression on the problem
  of :func:`softmax_fisher_problem`, :math:`\frac1N \sum_n (\tilde x_n \tilde x_n^\top) \otimes \Lambda_n`.

Each check recognises the typical mistakes (the empirical Fisher, a missing :math:`1/N`, the
Kronecker factors in the wrong order, a sign, the wrong coordinates, the chain rule applied
once or the wrong way round) and says which one it saw.
"""

from __future__ import annotations

import numpy as np

import natgrad as ng
from natgrad.datasets import fruit
from natgrad.exercises._verdict import Verdict, forgiving, verdict

_ANGLES = (0.15, 0.4, 0.7, np.pi / 4, 1.0, 1.25, 1.45)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-10))


@forgiving
def check_bernoulli_angle_fisher(fisher_fn) -> Verdict:
    r"""Check a function ``xi -> F(xi)`` for a Bernoulli distribution with :math:`p = \sin^2\xi`.

    The reference is :math:`F_\xi = M \cdot \frac{1}{p(1-p)} \cdot M = 4` with
    :math:`M = dp/d\xi = 2\sin\xi\cos\xi`: the rule :math:`F_\xi = M^\top F M` of chapter 4
    applied to the Fisher in the mean. Evaluated one scalar at a time at a few angles in
    :math:`(0, \pi/2)`.
    """
    if not callable(fisher_fn):
        return verdict(False, "", f"Pass your function itself (a callable xi -> number), not {type(fisher_fn).__name__}.")
    angles = np.array(_ANGLES)
    values = []
    for xi in angles:
        value = np.asarray(fisher_fn(float(xi)), dtype=float)
        if value.size != 1:
            return verdict(False, "", f"At xi = {xi:.3g} your function returned shape {value.shape}; a one-parameter model has a 1x1 Fisher, a single number.")
        values.append(float(value.reshape(-1)[0]))
    answer = np.array(values)
    if not np.all(np.isfinite(answer)):
        return verdict(False, "", "Your function returned NaN or inf for some xi in (0, pi/2); the Fisher is finite there.")
    p = np.sin(angles) ** 2
    M = 2.0 * np.sin(angles) * np.cos(angles)
    fisher_in_p = 1.0 / (p * (1.0 - p))
    reference = np.full_like(angles, 4.0)
    if _close(answer, reference):
        return verdict(True, "F(xi) = M (1 / (p (1 - p))) M = 4 at every xi: in this coordinate, equal steps are equal changes of the distribution.", "")
    mistakes = [
        (-reference, "Your values have the wrong sign. A Fisher is a variance, never negative."),
        (fisher_in_p, "That is 1 / (p (1 - p)), the Fisher in p itself. In xi, multiply it on both sides by M = dp/dxi."),
        (M * fisher_in_p, "You multiplied by M = dp/dxi once. The rule F_xi = M^T F M uses it on both sides."),
        (fisher_in_p / M**2, "You divided by M^2. With p = phi(xi) and M = dp/dxi, the Fisher in xi is M^T F M, not M^-T F M^-1."),
        (reference / 4.0, "Off by a factor of 4: d/dxi sin^2(xi) = 2 sin(xi) cos(xi); did you drop the 2?"),
        (reference / 2.0, "That is half the Fisher. 1 / (2 p (1 - p)) is the coefficient of the KL's quadratic term; the Fisher is twice it."),
        (p * (1.0 - p), "That is p (1 - p), the Fisher in the logit, not in xi."),
        (reference / 16.0, "That is 1 / F, the inverse of the Fisher."),
    ]
    for candidate, hint in mistakes:
        if _close(answer, candidate):
            return verdict(False, "", hint)
    worst = int(np.argmax(np.abs(answer - reference)))
    return verdict(
        False,
        "",
        f"At xi = {angles[worst]:.3g} your function gives {answer[worst]:.6g}, which is not the Fisher. "
        "Compute M = dp/dxi and apply F_xi = M (1 / (p (1 - p))) M.",
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
        "transposed": "The Kronecker factors are in the wrong order. The parameters are stored feature by feature (all classes of feature 1, then feature 2, then the biases), so the input factor comes first: kron(x~ x~^T, Lambda) with Lambda = diag(p) - p p^T.",
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
