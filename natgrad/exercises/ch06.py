r"""Self-checks for chapter 6, invariance under reparametrisation.

:func:`check_sigmoid_to_tanh` tests a reader's map from the parameters of a one-hidden-layer
sigmoid network to those of the tanh network that predicts the same probabilities. With
:math:`\operatorname{sigm}(z) = (\tanh(z/2) + 1)/2`, the reference answer is

.. math:: W_1' = W_1/2, \quad b_1' = b_1/2, \quad W_2' = W_2/2, \quad b_2' = b_2 + \tfrac12 \mathbf 1^\top W_2 ,

and the checker names the usual mistakes (a missing factor 1/2, a missing or wrong bias correction).
"""

from __future__ import annotations

import numpy as np

from natgrad.exercises._verdict import Verdict, forgiving, verdict

_TOL = 1e-9
# (n_features, n_hidden, n_classes): no two sizes equal, so a sum over the wrong axis shows in the shapes.
_SIZES = ((2, 5, 3), (4, 3, 2), (3, 6, 4))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _probabilities(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def _cases():
    """(W1, b1, W2, b2, X) for three seeded networks with generic (nonzero) biases."""
    rng = np.random.default_rng(6)
    cases = []
    for n_in, n_hidden, n_out in _SIZES:
        W1, b1 = rng.normal(size=(n_in, n_hidden)), rng.normal(size=n_hidden)
        W2, b2 = rng.normal(size=(n_hidden, n_out)), rng.normal(size=n_out)
        cases.append((W1, b1, W2, b2, 2.0 * rng.normal(size=(25, n_in))))
    return cases


def _sigmoid_probabilities(W1, b1, W2, b2, X):
    return _probabilities(_sigmoid(X @ W1 + b1) @ W2 + b2)


def _tanh_probabilities(W1, b1, W2, b2, X):
    return _probabilities(np.tanh(X @ W1 + b1) @ W2 + b2)


def _close(a, b) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=_TOL, atol=_TOL)


def _diagnose(answer, W1, b1, W2, b2) -> str:
    """A hint naming the mistake in ``answer`` when exactly one layer is wrong in a recognisable way."""
    W1t, b1t, W2t, b2t = answer
    column_sums = W2.sum(axis=0)
    first_right = _close(W1t, W1 / 2) and _close(b1t, b1 / 2)
    second_right = _close(W2t, W2 / 2) and _close(b2t, b2 + 0.5 * column_sums)
    if second_right and _close(W1t, W1) and _close(b1t, b1):
        return "The hidden layer is not rescaled. sigm(z) = (tanh(z/2) + 1)/2, so the tanh units must see z/2: use W1/2 and b1/2."
    if second_right and _close(W1t, W1 / 2) and _close(b1t, b1):
        return "You halved W1 but not b1. The whole pre-activation z = x W1 + b1 is halved, so use b1/2 as well."
    if first_right and _close(W2t, W2):
        return "W2 is unchanged. The sigmoid output is (tanh + 1)/2, so the output layer sees half the tanh value: use W2/2."
    if first_right and _close(W2t, W2 / 2):
        if _close(b2t, b2):
            return "You forgot the bias correction. (h + 1)/2 contributes (1/2) * (sum of each column of W2) to the logits: use b2 + 0.5 * W2.sum(axis=0)."
        if _close(b2t, b2 + column_sums):
            return "The bias correction is twice too large: the constant part of (tanh + 1)/2 is 1/2, so add 0.5 * W2.sum(axis=0), not W2.sum(axis=0)."
        if _close(b2t, b2 - 0.5 * column_sums):
            return "The bias correction has the wrong sign: (tanh + 1)/2 adds +1/2 times each column sum of W2, so use b2 + 0.5 * W2.sum(axis=0)."
    return "The tanh network does not predict the same probabilities. Start from sigm(z) = (tanh(z/2) + 1)/2 and rewrite each layer."


@forgiving
def check_sigmoid_to_tanh(map_fn) -> Verdict:
    r"""Check ``map_fn(W1, b1, W2, b2) -> (W1', b1', W2', b2')`` on three seeded networks.

    The tanh network :math:`\mathrm{softmax}(\tanh(x W_1' + b_1') W_2' + b_2')` must predict the
    same probabilities as the sigmoid network :math:`\mathrm{softmax}(\operatorname{sigm}(x W_1 + b_1) W_2 + b_2)`
    on 25 random inputs (tolerance 1e-9), with arrays of the original shapes and the inputs
    left unchanged. Prints and returns a verdict; never raises. Chapter 6.
    """
    if not callable(map_fn):
        return verdict(False, "", "Pass your function itself, e.g. check_sigmoid_to_tanh(my_map), without calling it.")
    names = ("W1", "b1", "W2", "b2")
    for W1, b1, W2, b2, X in _cases():
        originals = (W1, b1, W2, b2)
        inputs = tuple(a.copy() for a in originals)
        answer = map_fn(*inputs)
        if any(not np.array_equal(a, b) for a, b in zip(inputs, originals)):
            return verdict(False, "", "Your function changed its inputs in place. Build new arrays for the tanh network instead.")
        if answer is None:
            return verdict(False, "", "Your function returned None: did you forget the return statement?")
        try:
            answer = tuple(answer)
        except TypeError:
            return verdict(False, "", "Return four arrays, (W1, b1, W2, b2) of the tanh network, as a tuple.")
        if len(answer) != 4:
            return verdict(False, "", f"Return four arrays, (W1, b1, W2, b2) of the tanh network; got {len(answer)} items.")
        answer = tuple(np.asarray(a, dtype=float) for a in answer)
        for name, got, expected in zip(names, answer, originals):
            if got.shape != expected.shape:
                hint = " Did you sum W2 over axis=1? Sum over the rows, W2.sum(axis=0), one total per output unit." if name == "b2" else ""
                return verdict(False, "", f"{name} has shape {got.shape}, expected {expected.shape}.{hint}")
        if not all(np.all(np.isfinite(a)) for a in answer):
            return verdict(False, "", "Your function returned NaN or inf values.")
        if not np.allclose(_tanh_probabilities(*answer, X), _sigmoid_probabilities(W1, b1, W2, b2, X), rtol=_TOL, atol=_TOL):
            return verdict(False, "", _diagnose(answer, W1, b1, W2, b2))
    return verdict(
        True,
        "Your tanh network predicts the same probabilities as the sigmoid network on every input tried: "
        "halve the first layer, halve W2, and move half of each column sum of W2 into b2.",
        "",
    )
