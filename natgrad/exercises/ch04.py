r"""Self-checks for the exercises of chapter 4, the Fisher information metric.

* :func:`check_bernoulli_angle_fisher`: the Fisher of a Bernoulli distribution in the coordinate
  :math:`\xi` with :math:`p = \sin^2\xi`, which is the constant 4;
* :func:`check_softmax_fisher_vector_product`: a function :math:`v \mapsto Fv` for the Fisher of
  the softmax regression of :func:`softmax_fisher_problem`,
  :math:`F = \frac1N \sum_n (\tilde a_n \tilde a_n^\top) \otimes \Lambda_n`, written without forming
  :math:`F`.

Each check recognises the typical mistakes (the empirical Fisher, a missing :math:`1/N`, the
parameters read in the wrong order, a forgotten :math:`p_n p_n^\top`, a sign, the wrong coordinates,
the chain rule applied once or the wrong way round) and says which one it saw.
"""

from __future__ import annotations

import numpy as np

from natgrad.datasets import fruit
from natgrad.distributions import softmax
from natgrad.exercises._verdict import Verdict, call_on_copies, forgiving, vector_answer, verdict
from natgrad.models import Model, softmax_regression

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


def softmax_fisher_problem() -> tuple[Model, np.ndarray, np.ndarray, np.ndarray]:
    """The exercise's softmax regression: ``(model, params, X, y)`` on 30 fruits, fixed seeds.

    ``params`` stores ``W.ravel()`` (shape (2, 3): rows are the features, columns the classes)
    followed by the three biases. Fresh copies on every call.
    """
    X, y = fruit(n_per_class=10, seed=4)
    model = softmax_regression(2, 3)
    params = np.random.default_rng(404).normal(0.0, 0.8, size=model.n_params)
    return model, params, X, y


def _softmax_fisher_candidates(params: np.ndarray, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The reference matrix and the matrices that typical wrong products multiply by, from the closed form."""
    n_rows = X.shape[0]
    W, b = params[:6].reshape(2, 3), params[6:]
    probs = softmax(X @ W + b)
    inputs = np.column_stack([X, np.ones(n_rows)])
    outer_in = np.einsum("ni,nj->nij", inputs, inputs)
    output_fisher = np.einsum("nc,cd->ncd", probs, np.eye(3)) - np.einsum("nc,nd->ncd", probs, probs)
    residual = np.eye(3)[y] - probs

    def mean_kron(left, right):
        return np.mean([np.kron(a, c) for a, c in zip(left, right)], axis=0)

    reference = mean_kron(outer_in, output_fisher)
    # Parameter (input i, class c) sits at i * 3 + c; reading it as class-major puts it at c * 3 + i.
    class_major = np.eye(9)[[i * 3 + c for c in range(3) for i in range(3)]]
    return {
        "reference": reference,
        "empirical": mean_kron(outer_in, np.einsum("nc,nd->ncd", residual, residual)),
        "sum": n_rows * reference,
        "negative": -reference,
        "transposed": mean_kron(output_fisher, outer_in),
        "read_class_major": reference @ class_major,
        "written_class_major": class_major.T @ reference,
        "diag_only": mean_kron(outer_in, np.einsum("nc,cd->ncd", probs, np.eye(3))),
        "no_lambda": mean_kron(outer_in, np.broadcast_to(np.eye(3), (n_rows, 3, 3))),
        "kfac": np.kron(outer_in.mean(axis=0), output_fisher.mean(axis=0)),
    }


_FVP_HINTS = {
    "empirical": "Your function multiplies by the empirical Fisher: you used the data's labels y, "
    "(e_y - p)(e_y - p)^T in place of Lambda_n. The Fisher averages over labels drawn from the model, "
    "which gives Lambda_n = diag(p_n) - p_n p_n^T.",
    "sum": "Your product is N times too large: the Fisher is a mean over the inputs, divide the sum by N.",
    "negative": "Your product has the wrong sign: v^T F v is a variance, never negative.",
    "transposed": "Your function reads the parameters class by class. natgrad stores W.ravel() (feature by feature: "
    "all classes of feature 1, then of feature 2), then b, so v.reshape(3, 3) has the rows feature 1, feature 2, "
    "bias and the columns classes.",
    "read_class_major": "Your function reads v class by class but writes F v feature by feature. natgrad stores "
    "W.ravel(), then b: v.reshape(3, 3) has the rows feature 1, feature 2, bias and the columns classes, and F v "
    "is flattened the same way.",
    "written_class_major": "Your function reads v feature by feature but writes F v class by class. Flatten the "
    "result in the parameter order of v: rows feature 1, feature 2, bias; columns classes.",
    "diag_only": "You applied diag(p_n) and forgot to subtract p_n (p_n^T z_dot_n): Lambda_n = diag(p_n) - p_n p_n^T.",
    "no_lambda": "You left out Lambda_n: pushing v forward and pulling it straight back gives J^T J, the Gauss-Newton "
    "matrix of squared error, not the Fisher of the softmax.",
    "kfac": "You multiplied by the Kronecker product of the two means. The Fisher is the mean of the Kronecker "
    "products; the product of means is the K-FAC approximation of chapter 8.",
}


@forgiving
def check_softmax_fisher_vector_product(fisher_times) -> Verdict:
    r"""Check a function ``v -> F v`` for the Fisher of the softmax regression of :func:`softmax_fisher_problem`.

    The reference is :math:`\frac1N\sum_n (\tilde a_n \tilde a_n^\top) \otimes (\mathrm{diag}(p_n) - p_n p_n^\top)`
    with :math:`\tilde a_n = (x_n, 1)`, in the package's parameter order (feature-major, biases last). The function
    is called on the nine unit vectors, which gives the matrix it multiplies by, and on three seeded random
    vectors, on which it must agree with that matrix (a product is linear in :math:`v`).
    """
    if not callable(fisher_times):
        return verdict(False, "", f"Pass your function itself (a callable v -> F v), not {type(fisher_times).__name__}.")
    model, params, X, y = softmax_fisher_problem()
    P = model.n_params
    probes = list(np.eye(P)) + list(np.random.default_rng(2024).normal(size=(3, P)))
    products = []
    for v in probes:
        answer, hint = call_on_copies(fisher_times, (v,))
        if hint is not None:
            return verdict(False, "", hint)
        shape = np.shape(answer)
        if shape == (X.shape[0], 3):
            return verdict(False, "", "Your function returns one vector per input, shape (30, 3). Pull each "
                           "Lambda_n z_dot_n back with J_n^T (the flattened outer product a~_n (Lambda_n z_dot_n)^T) and average over the inputs.")
        if shape == (3, 3):
            return verdict(False, "", "Your function returns a 3x3 array; flatten it with .ravel() to the parameter order of v.")
        answer, hint = vector_answer(answer, (P,), "F v, one entry per parameter")
        if hint is not None:
            return verdict(False, "", hint)
        products.append(answer)
    matrix = np.column_stack(products[:P])
    for v, product in zip(probes[P:], products[P:]):
        if not _close(product, matrix @ v):
            return verdict(False, "", "Your function is not linear in v: a matrix-vector product satisfies "
                           "F(a v + b w) = a F v + b F w. Does it keep a value from an earlier call?")
    candidates = _softmax_fisher_candidates(params, X, y)
    if _close(matrix, candidates["reference"]):
        return verdict(True, "Your function multiplies by the Fisher of softmax regression, "
                       "(1/N) sum_n (a~_n a~_n^T) kron (diag(p_n) - p_n p_n^T), without forming it.", "")
    for name, hint in _FVP_HINTS.items():
        if _close(matrix, candidates[name]):
            return verdict(False, "", hint)
    if not np.allclose(matrix, matrix.T, rtol=1e-8, atol=1e-12):
        return verdict(False, "", "The matrix your function multiplies by is not symmetric, and the Fisher is: "
                       "check that the pull-back with J_n^T is the transpose of the push-forward J_n v = Delta^T a~_n.")
    error = np.linalg.norm(matrix - candidates["reference"]) / np.linalg.norm(candidates["reference"])
    return verdict(False, "", f"The matrix your function multiplies by is off by {error:.2g} in relative Frobenius "
                   "norm. Compare fisher_times(v) with ng.fisher(model, params, X) @ v for a few v.")
