r"""Self-checks for chapter 2, *A network is a distribution over outputs*.

Both checks use the chapter's fruit classifier, :func:`natgrad.softmax_regression` with
2 features and 3 classes: its 9 parameters are ``W.ravel()`` (W of shape (2, 3), one row
per feature, one column per class) followed by the 3 biases ``b``, and
:math:`p(\cdot \mid x, \theta) = \mathrm{softmax}(x^\top W + b)`.
"""

from __future__ import annotations

import warnings

import numpy as np

from natgrad.datasets import fruit
from natgrad.exercises._verdict import Verdict, forgiving, verdict
from natgrad.models import softmax_regression

MODEL = softmax_regression(2, 3)
_LAYOUT = (
    "9 numbers: W.ravel() (W has shape (2, 3): row 0 holds the elongation weights of apple, banana, orange;"
    " row 1 the yellowness weights), then the 3 biases"
)


def _probe_inputs() -> np.ndarray:
    """The chapter's fruit inputs plus the corners of a wide box around them."""
    X, _ = fruit(60, seed=0)
    corners = np.array([[-5.0, -5.0], [-5.0, 5.0], [5.0, -5.0], [5.0, 5.0]])
    return np.concatenate([X, corners])


def _split(params):
    """``(W, b)`` from a flat vector of length 9, in the documented layout."""
    return params[:6].reshape(2, 3), params[6:]


def _stable_softmax(z):
    z = z - np.max(z)
    e = np.exp(z)
    return e / np.sum(e)


def _cases():
    """(params, x) pairs: random parameters at four scales, then logits near 1000 (a naive exp overflows)."""
    rng = np.random.default_rng(2)
    X = _probe_inputs()
    cases = [(rng.normal(0.0, scale, MODEL.n_params), X[rng.integers(len(X))]) for scale in (0.5, 1.0, 2.0, 3.0)]
    large = np.zeros(MODEL.n_params)
    large[[0, 6]] = 900.0, 100.0  # the apple logit at x = (1, 0) is 1000
    cases.append((large, np.array([1.0, 0.0])))
    return cases


def _probability_hint(out, params, x) -> str:
    """Name the most likely mistake behind a wrong probability vector ``out``."""
    W, b = _split(params)
    logits = x @ W + b
    if np.allclose(out, logits, atol=1e-8):
        return "Your function returns the logits x W + b. Turn them into probabilities with the softmax."
    if np.allclose(out, np.exp(logits), rtol=1e-8):
        return "Your function returns exp(logits) without dividing by their sum; probabilities must add up to 1."
    if np.allclose(out, _stable_softmax(x @ W), atol=1e-8):
        return "Your probabilities leave out the biases: the logits are x W + b."
    if np.allclose(out, _stable_softmax(x @ params[:6].reshape(3, 2).T + b), atol=1e-8):
        return "The weights are read in the wrong order. params[:6] is W.ravel() with W of shape (2, 3): use params[:6].reshape(2, 3)."
    if not np.isclose(np.sum(out), 1.0, atol=1e-8):
        return f"Your vector sums to {np.sum(out):.4g}, but probabilities must add up to 1."
    return "Your vector differs from softmax(x W + b). Compare it with ng.softmax(model.logits(params, x[None, :]))[0]."


@forgiving
def check_probability_function(probability_fn) -> Verdict:
    r"""Check ``probability_fn(params, x)``: the vector :math:`p(\cdot \mid x, \theta)` of the chapter's model.

    ``params`` is a flat vector of length 9 and ``x`` one input of shape (2,). The answer
    is compared with :math:`\mathrm{softmax}(x^\top W + b)` for several random parameter
    vectors, and for one with logits near 1000, where a softmax that does not subtract the
    largest logit first overflows. Prints and returns a verdict; never raises.
    """
    if not callable(probability_fn):
        return verdict(False, "", "Pass the function itself, e.g. check_probability_function(probabilities), without calling it.")
    cases = _cases()
    for index, (params, x) in enumerate(cases):
        W, b = _split(params)
        expected = _stable_softmax(x @ W + b)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = np.asarray(probability_fn(params.copy(), x.copy()), dtype=float)
        if out.size != 3:
            return verdict(False, "", f"Expected a vector of 3 probabilities (apple, banana, orange), "
                                      f"got shape {out.shape}.")
        out = out.ravel()
        is_last = index == len(cases) - 1
        if not np.all(np.isfinite(out)):
            if is_last:
                return verdict(False, "", "For logits near 1000, exp overflows and your function returns inf or NaN. "
                               "Subtract the largest logit before exponentiating: it cancels in the ratio.")
            return verdict(False, "", "Your function returned inf or NaN for ordinary parameters.")
        if not np.allclose(out, expected, rtol=1e-7, atol=1e-10):
            if is_last:
                return verdict(False, "", "Your function is right for moderate logits but wrong for logits near 1000. "
                               "Subtract the largest logit before exponentiating.")
            return verdict(False, "", _probability_hint(out, params, x))
    return verdict(True, "Your function returns p(. | x, theta) for every test case, including logits near 1000.", "")


@forgiving
def check_invisible_on_line(delta) -> Verdict:
    r"""Check that ``delta`` changes no prediction on the line of equal features, and some prediction off it.

    For softmax regression a step ``delta`` changes the logits by :math:`\Delta W^\top x + \Delta b`
    whatever :math:`\theta` is, and the softmax ignores a change that is the same for all three
    classes (chapter 2, *Directions that change no prediction*). On the inputs of the line, where
    :math:`x_1 = x_2`, the change is :math:`x_1 (\Delta W_{1k} + \Delta W_{2k}) + \Delta b_k`, so ``delta`` is invisible
    on the line exactly when the column sums of :math:`\Delta W` and the biases are each the same
    in all classes. The exercise asks for more than the chapter's three directions, which are
    invisible for every input: each row of :math:`\Delta W` must not be the same in all classes.
    Differences below ``1e-9`` times the length of ``delta`` count as zero. Prints and returns a
    verdict; never raises.
    """
    try:
        value = np.asarray(delta, dtype=float)
    except (TypeError, ValueError):
        return verdict(False, "", f"Expected a flat vector of {_LAYOUT}; could not read your answer as numbers.")
    if value.shape != (MODEL.n_params,):
        return verdict(False, "", f"Expected a flat vector of {_LAYOUT}; got shape {value.shape}.")
    if not np.all(np.isfinite(value)):
        return verdict(False, "", "Your perturbation contains inf or NaN.")
    length = np.linalg.norm(value)
    if length < 1e-8:
        return verdict(False, "", "Your perturbation has (almost) zero length: it leaves the predictions alone only because "
                       "it changes nothing. Find a nonzero one.")
    tolerance = 1e-9 * length

    def invisible_on_line(W, b):
        return np.ptp(W[0] + W[1]) <= tolerance and np.ptp(b) <= tolerance

    W, b = _split(value)
    if invisible_on_line(W, b):
        if np.ptp(W[0]) <= tolerance:
            return verdict(False, "", "Your perturbation changes no prediction for any input: every row of W and the biases "
                           "move by the same amount in all classes, so it is a combination of the chapter's three "
                           "directions. Find one that is invisible on the line of equal features but not everywhere.")
        off_line = np.array([1.0, 0.0]) @ W + b
        return verdict(
            True,
            "Your perturbation moves the three logits of every input on the line (both features equal) by the same "
            f"amount, so no prediction on the line changes; at the input (1, 0), off the line, it moves them by {off_line[0]:.3g}, {off_line[1]:.3g}, "
            f"{off_line[2]:.3g}, so it is visible there.",
            "",
        )
    W_swapped = value[:6].reshape(3, 2).T
    if invisible_on_line(W_swapped, b) and np.ptp(W_swapped[0]) > tolerance:
        return verdict(False, "", "Close: your idea is right but the weights are in the wrong order. params[:6] is W.ravel() "
                       "with W of shape (2, 3), so entries 0, 1, 2 are the elongation weights of apple, banana, orange.")
    if np.ptp(b) > tolerance:
        return verdict(False, "", f"At the input (0, 0), which lies on the line, the logits move by the biases, "
                       f"{b[0]:.3g}, {b[1]:.3g}, {b[2]:.3g}: they must move by the same amount in all classes.")
    change = np.array([1.0, 1.0]) @ W + b
    return verdict(False, "", f"At the input (1, 1) on the line the three logits move by {change[0]:.3g}, {change[1]:.3g}, "
                   f"{change[2]:.3g}. On the line a class's logit moves by t times the sum of its two weights, plus "
                   "its bias: those sums must be the same in all classes.")
