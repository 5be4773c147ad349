r"""Self-checks for the exercises of chapter 8, natural gradient in practice.

* :func:`check_kfac_factors`: the K-FAC factors of one layer from its inputs :math:`a_n` and
  output factors carried back to its pre-activations, :math:`\gamma_{nk}`,
  :math:`A = \frac1N\sum_n \tilde a_n \tilde a_n^\top` with :math:`\tilde a_n = [a_n, 1]` and
  :math:`\Gamma = \frac1N \sum_n \sum_k \gamma_{nk}\gamma_{nk}^\top`;
* :func:`check_backtracking`: the step fraction accepted by a backtracking line search on the
  true KL, compared with :func:`natgrad.linesearch.kl_line_search`.

Each check recognises the typical mistakes and says which one it saw.
"""

from __future__ import annotations

import numpy as np

from natgrad.exercises._verdict import Verdict, forgiving, verdict
from natgrad.linesearch import kl_line_search

_MAX_BACKTRACKS = 20


def kfac_layer_problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A layer's inputs ``a`` (N = 7, n_in = 3) and carried-back output factors ``gammas`` (N, K = 4, n_out = 2), seeded."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(7, 3)), rng.normal(size=(7, 4, 2))


def _reference_factors(a: np.ndarray, gammas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_rows = a.shape[0]
    augmented = np.column_stack([a, np.ones(n_rows)])
    return augmented.T @ augmented / n_rows, np.einsum("nko,nkp->op", gammas, gammas) / n_rows


def _close(answer: np.ndarray, reference: np.ndarray) -> bool:
    return answer.shape == reference.shape and bool(np.allclose(answer, reference, rtol=1e-8, atol=1e-12))


def _diagnose_a(A: np.ndarray, a: np.ndarray) -> str:
    n_rows, n_in = a.shape
    augmented = np.column_stack([a, np.ones(n_rows)])
    reference = augmented.T @ augmented / n_rows
    if _close(A, a.T @ a / n_rows):
        return "A has no row and column for the bias. Append a column of ones to a (after the inputs) before forming a^T a / N."
    leading = np.column_stack([np.ones(n_rows), a])
    if _close(A, leading.T @ leading / n_rows):
        return "The column of ones is in front. The parameters store W.ravel() before b, so the bias is the last row of [W; b]: append the ones after the inputs."
    if _close(A, reference * n_rows):
        return "A is N times too large: divide the sum over rows by N."
    if A.shape == (n_in + 1, n_in + 1):
        return "A has the right shape, (n_in + 1, n_in + 1), but the wrong values. It is the mean over rows of the outer products of [a_n, 1]."
    return f"A should have shape {(n_in + 1, n_in + 1)} (inputs plus the bias), got {A.shape}."


def _diagnose_gamma(Gamma: np.ndarray, gammas: np.ndarray) -> str:
    n_rows, n_factors, n_out = gammas.shape
    reference = np.einsum("nko,nkp->op", gammas, gammas) / n_rows
    if _close(Gamma, reference / n_factors):
        return "Gamma is too small by the number of factors K: sum over k (do not average), then divide by N only."
    if _close(Gamma, reference * n_rows):
        return "Gamma is N times too large: divide the sum over rows by N."
    first = np.einsum("no,np->op", gammas[:, 0], gammas[:, 0]) / n_rows
    if _close(Gamma, first):
        return "Gamma uses only the first factor k = 0. The output curvature of a row is the sum over all k of gamma_k gamma_k^T."
    summed = gammas.sum(axis=1)
    if _close(Gamma, summed.T @ summed / n_rows):
        return "You summed the factors before the outer product, (sum_k gamma_k)(sum_k gamma_k)^T. Sum the outer products instead: sum_k gamma_k gamma_k^T."
    if Gamma.shape == (n_out, n_out):
        return "Gamma has the right shape, (n_out, n_out), but the wrong values. It is (1/N) sum_n sum_k gamma_nk gamma_nk^T."
    return f"Gamma should have shape {(n_out, n_out)} (outputs by outputs), got {Gamma.shape}."


@forgiving
def check_kfac_factors(factors_fn) -> Verdict:
    r"""Check ``factors_fn(a, gammas) -> (A, Gamma)`` for one layer on two seeded problems.

    ``a`` has shape (N, n_in), ``gammas`` shape (N, K, n_out). The reference is
    :math:`A = \frac1N \tilde a^\top \tilde a` with the ones column last, and
    :math:`\Gamma = \frac1N \sum_{n,k} \gamma_{nk} \gamma_{nk}^\top`. Prints and returns a verdict;
    never raises. Chapter 8.
    """
    if not callable(factors_fn):
        return verdict(False, "", f"Pass your function itself (a callable (a, gammas) -> (A, Gamma)), not {type(factors_fn).__name__}.")
    for seed in (0, 1):
        a, gammas = kfac_layer_problem(seed)
        inputs = (a.copy(), gammas.copy())
        answer = factors_fn(*inputs)
        if not (np.array_equal(inputs[0], a) and np.array_equal(inputs[1], gammas)):
            return verdict(False, "", "Your function changed a or gammas in place. Build new arrays instead.")
        if answer is None:
            return verdict(False, "", "Your function returned None: did you forget the return statement?")
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            return verdict(False, "", "Return a pair (A, Gamma): the input factor first, then the output factor.")
        A, Gamma = (np.asarray(m, dtype=float) for m in answer)
        reference_a, reference_g = _reference_factors(a, gammas)
        if _close(A, reference_g) and _close(Gamma, reference_a):
            return verdict(False, "", "A and Gamma are swapped: return (A, Gamma), the input factor (with the bias) first.")
        if not _close(A, reference_a):
            return verdict(False, "", _diagnose_a(A, a))
        if not _close(Gamma, reference_g):
            return verdict(False, "", _diagnose_gamma(Gamma, gammas))
    return verdict(
        True,
        "With these factors np.kron(A, Gamma) is the K-FAC block of the layer, in the parameter order W.ravel() then b.",
        "",
    )


def _quadratic_case(seed: int, size: int, spread: float, kl_max: float, loss_curvature: float):
    """A KL that is quadratic plus a quartic bump, and a loss that first falls then rises along the step."""
    rng = np.random.default_rng(seed)
    params = rng.normal(size=size)
    metric = np.diag(np.geomspace(1.0, spread, size))
    step = rng.normal(size=size)
    step *= 3.0 / np.sqrt(step @ metric @ step)

    def kl_fn(candidate):
        delta = np.asarray(candidate, dtype=float) - params
        quadratic = 0.5 * delta @ metric @ delta
        return quadratic + quadratic**2

    def loss_fn(candidate):
        t = (np.asarray(candidate, dtype=float) - params) @ step / (step @ step)
        return 1.0 - t + loss_curvature * t**2

    return kl_fn, loss_fn, params, step, kl_max


def _cases():
    """(kl_fn, loss_fn, params, step, kl_max): full step fine, KL-bound, loss-bound, and hopeless."""
    return [
        _quadratic_case(0, 3, 10.0, 30.0, 0.2),
        _quadratic_case(1, 4, 100.0, 0.01, 0.2),
        _quadratic_case(2, 2, 5.0, 5.0, 40.0),
        _quadratic_case(3, 3, 10.0, 1e-14, 0.2),
    ]


@forgiving
def check_backtracking(backtrack_fn) -> Verdict:
    r"""Check ``backtrack_fn(kl_fn, loss_fn, params, step, kl_max) -> fraction``.

    ``kl_max`` is the hard limit :math:`\epsilon_{\max}` on the true KL (the ``kl_budget``
    argument of :func:`natgrad.linesearch.kl_line_search`).

    The answer must be the first of :math:`1, \tfrac12, \tfrac14, \dots, 2^{-20}` at which the
    true KL is within ``kl_max`` and the loss is below the loss at ``params``, or 0.0 if none
    is; the reference is :func:`natgrad.linesearch.kl_line_search`. Four seeded cases: the full
    step is fine, the KL forces backtracking, the loss forces it, and nothing is accepted.
    Prints and returns a verdict; never raises. Chapter 8.
    """
    if not callable(backtrack_fn):
        return verdict(False, "", f"Pass your function itself (a callable), not {type(backtrack_fn).__name__}.")
    names = ("the full step is acceptable", "the KL is too large at the full step", "the loss rises at the full step", "no fraction is acceptable")
    for (kl_fn, loss_fn, params, step, kl_max), name in zip(_cases(), names):
        inputs = (params.copy(), step.copy())
        answer = backtrack_fn(kl_fn, loss_fn, inputs[0], inputs[1], kl_max)
        if not (np.array_equal(inputs[0], params) and np.array_equal(inputs[1], step)):
            return verdict(False, "", "Your function changed params or step in place. Build each candidate as a new array.")
        if answer is None:
            return verdict(False, "", "Your function returned None: return the accepted step fraction (a number).")
        answer = np.asarray(answer, dtype=float)
        if answer.size != 1:
            return verdict(False, "", f"Return the step fraction, a single number, not an array of shape {answer.shape}.")
        fraction = float(answer.reshape(-1)[0])
        expected = kl_line_search(kl_fn, loss_fn, params, step, kl_max, max_backtracks=_MAX_BACKTRACKS)
        if np.isclose(fraction, expected.step_fraction, rtol=1e-12, atol=0.0):
            continue
        if not expected.success:
            return verdict(False, "", f"When {name}, the search must give up and return 0.0 (no step), got {fraction:g}.")
        without_loss = kl_line_search(kl_fn, loss_fn, params, step, kl_max, max_backtracks=_MAX_BACKTRACKS, require_improvement=False)
        if name == "the loss rises at the full step" and np.isclose(fraction, without_loss.step_fraction):
            return verdict(False, "", "Your search accepted a step that increases the loss. Also require loss_fn(candidate) < loss_fn(params).")
        if fraction > 0 and float(kl_fn(params + fraction * step)) > kl_max:
            return verdict(False, "", f"When {name}, your fraction {fraction:g} has a true KL above the limit. Keep halving until kl_fn(candidate) <= kl_max.")
        if np.isclose(fraction, 0.5 * expected.step_fraction):
            return verdict(False, "", f"When {name}, you shrank once too often: try the full step (fraction 1) first, and stop at the first acceptable fraction.")
        return verdict(False, "", f"When {name}, the accepted fraction is {expected.step_fraction:g}, got {fraction:g}. Try 1, 1/2, 1/4, ... in turn.")
    return verdict(True, "Your search tries the full step first, halves it until the true KL is within the limit and the loss falls, and gives up honestly.", "")
