r"""Self-checks for the coding exercises of chapter 3 (KL divergence).

* :func:`check_kl` takes the reader's function ``kl(p, q)`` for two probability vectors
  and compares it with :func:`natgrad.kl_categorical`, the definition
  :math:`\mathrm{KL}(p\,\|\,q) = \sum_k p_k \log(p_k / q_k)` with :math:`0 \log 0 = 0`.
* :func:`check_bernoulli_coefficient` takes the reader's estimate of the coefficient of
  :math:`\delta^2` in the KL between a Bernoulli distribution and a small step of its
  probability :math:`p` of a one.

Every checker prints a verdict and returns it; none ever raises.
"""

from __future__ import annotations

import math
import warnings
from numbers import Real

import numpy as np

from natgrad.distributions import kl_categorical
from natgrad.exercises._verdict import Verdict, forgiving, verdict

# Far enough below any log-probability of a valid vector that softmax maps it to exactly 0.
_LOG_ZERO = -1e3

_REGULAR_CASES = (
    (np.array([0.7, 0.1, 0.2]), np.array([0.4, 0.1, 0.5])),
    (np.array([0.25, 0.25, 0.25, 0.25]), np.array([0.1, 0.2, 0.3, 0.4])),
    (np.array([0.9, 0.1]), np.array([0.5, 0.5])),
    (np.array([0.05, 0.15, 0.3, 0.1, 0.4]), np.array([0.3, 0.3, 0.1, 0.2, 0.1])),
)
_EQUAL_CASE = (np.array([0.2, 0.5, 0.3]), np.array([0.2, 0.5, 0.3]))
_ZERO_IN_P_CASES = (
    (np.array([0.5, 0.5, 0.0]), np.array([0.2, 0.3, 0.5])),
    (np.array([0.6, 0.0, 0.4, 0.0]), np.array([0.3, 0.0, 0.6, 0.1])),
)
_ZERO_IN_Q_CASE = (np.array([0.5, 0.5]), np.array([1.0, 0.0]))


def reference_kl(p, q) -> float:
    r""":math:`\sum_k p_k \log(p_k / q_k)` for probability vectors, via :func:`natgrad.kl_categorical`.

    A zero probability becomes a logit of -1000, which softmax maps to exactly 0; the
    KL is infinite when some :math:`q_k = 0 < p_k`.
    """
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if np.any((q == 0) & (p > 0)):
        return math.inf
    with np.errstate(divide="ignore"):
        logits_p = np.where(p > 0, np.log(p), _LOG_ZERO)
        logits_q = np.where(q > 0, np.log(q), _LOG_ZERO)
    return float(kl_categorical(logits_p, logits_q))


def _call(kl, p, q):
    """The reader's value as a float, or a string describing what went wrong."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            value = kl(p.copy(), q.copy())
        except Exception as exc:  # noqa: BLE001 - the reader's code may fail in any way
            return f"your function raised {type(exc).__name__}: {exc}"
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        return f"it returned {value!r}, which is not a number"
    if array.size != 1:
        return f"it returned {array.size} numbers (shape {array.shape}); sum the terms over the classes to get one number"
    return float(array.reshape(()))


def _close(value: float, target: float) -> bool:
    return math.isclose(value, target, rel_tol=1e-8, abs_tol=1e-12)


def _diagnose(value: float, p, q) -> str:
    """A hint naming the likely mistake behind a wrong value on an ordinary pair."""
    with np.errstate(all="ignore"):
        reversed_kl = reference_kl(q, p)
        unweighted = float(np.sum(np.log(p / q)))
        mean_terms = float(np.mean(p * np.log(p / q)))
    right = reference_kl(p, q)
    where = f"For p = {np.round(p, 3).tolist()} and q = {np.round(q, 3).tolist()} you returned {value:.6g}, expected {right:.6g}."
    if _close(value, reversed_kl):
        return f"{where} That is KL(q || p): the weights and the numerator must both come from p, sum_k p_k log(p_k / q_k)."
    if _close(value, unweighted):
        return f"{where} Each log-ratio log(p_k / q_k) must be weighted by p_k: the KL is an average under p."
    if _close(value, mean_terms):
        return f"{where} You averaged the terms p_k log(p_k / q_k) over the classes; add them up instead."
    if _close(value, right / math.log(2.0)) or _close(value, right / math.log(10.0)):
        return f"{where} Use the natural logarithm (np.log), so that the KL is measured in nats like ng.kl_categorical."
    if value < 0:
        return f"{where} A KL divergence is never negative; check the order of p and q inside the logarithm."
    return f"{where} Compare your code term by term with sum_k p_k log(p_k / q_k)."


@forgiving
def check_kl(kl) -> Verdict:
    r"""Check ``kl(p, q)``, the KL divergence between two probability vectors, against the definition.

    The pairs include equal vectors, zeros in ``p`` (where :math:`0 \log 0 = 0`) and a zero
    in ``q`` where ``p`` is positive (where the KL is infinite).
    """
    if not callable(kl):
        return verdict(False, "", f"Pass the function itself, kl, not {type(kl).__name__}: check_kl(kl).")
    for p, q in _REGULAR_CASES:
        value = _call(kl, p, q)
        if isinstance(value, str):
            return verdict(False, "", f"On p = {p.tolist()}, q = {q.tolist()} {value}.")
        if not _close(value, reference_kl(p, q)):
            return verdict(False, "", _diagnose(value, p, q))
    p, q = _EQUAL_CASE
    value = _call(kl, p, q)
    if isinstance(value, str) or not _close(value, 0.0):
        return verdict(False, "", f"For p = q = {p.tolist()} the KL must be 0, got {value}.")
    for p, q in _ZERO_IN_P_CASES:
        value = _call(kl, p, q)
        if isinstance(value, str):
            return verdict(False, "", f"On p = {p.tolist()}, q = {q.tolist()} {value}.")
        if math.isnan(value):
            return verdict(
                False,
                "",
                f"For p = {p.tolist()}, q = {q.tolist()} you returned nan. A class with p_k = 0 contributes "
                "nothing (0 log 0 = 0), so leave those terms out, e.g. with a mask p > 0.",
            )
        if not _close(value, reference_kl(p, q)):
            return verdict(
                False,
                "",
                f"For p = {p.tolist()}, q = {q.tolist()} you returned {value:.6g}, expected {reference_kl(p, q):.6g}. "
                "Classes with p_k = 0 contribute exactly 0.",
            )
    p, q = _ZERO_IN_Q_CASE
    value = _call(kl, p, q)
    if isinstance(value, str) or not value == math.inf:
        return verdict(
            False,
            "",
            f"For p = {p.tolist()}, q = {q.tolist()} the KL is infinite (q rules out a class that p expects), "
            f"but you returned {value}.",
        )
    return verdict(
        True,
        "Your kl agrees with ng.kl_categorical on ordinary pairs, is 0 for equal vectors, "
        "handles p_k = 0 as 0 log 0 = 0, and is infinite where q_k = 0 < p_k.",
        "",
    )


def bernoulli_coefficient(p: float) -> float:
    r"""The coefficient of :math:`\delta^2` in the KL between a Bernoulli distribution and a small step of it.

    :math:`\mathrm{KL}(\mathrm{Bern}(p)\,\|\,\mathrm{Bern}(p+\delta)) = \delta^2 / (2p(1-p)) + O(\delta^3)`,
    for :math:`p` the probability of a one: half the Bernoulli Fisher information
    :math:`1/(p(1-p))` in the coordinate :math:`p` (chapter 3; chapter 4 relates it to the logit).
    """
    if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 < p < 1.0:
        raise ValueError(f"p: expected a probability strictly between 0 and 1, got {p!r}")
    return 1.0 / (2.0 * p * (1.0 - p))


@forgiving
def check_bernoulli_coefficient(coefficient, p: float = 0.2) -> Verdict:
    r"""Check an estimate of the coefficient of :math:`\delta^2` in the KL of a small Bernoulli step.

    The step is :math:`p \to p + \delta` in the probability of a one. Accepted within 1 %
    of :func:`bernoulli_coefficient`, so that an estimate from one small step passes.
    """
    if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 < p < 1.0:
        return verdict(False, "", f"p must be a probability strictly between 0 and 1, got {p!r}.")
    value = np.asarray(coefficient)
    if value.dtype.kind not in "iuf":
        return verdict(False, "", f"Pass the coefficient as a number, got {coefficient!r}.")
    if value.size != 1:
        return verdict(False, "", f"Pass one number, the coefficient of delta^2; got an array of shape {value.shape}.")
    value = float(value.reshape(()))
    target = bernoulli_coefficient(p)
    if math.isclose(value, target, rel_tol=1e-2):
        return verdict(
            True,
            f"The coefficient at p = {p:g} is 1 / (2 p (1 - p)) = {target:.4g}, half the Fisher information "
            "in the coordinate p.",
            "",
        )
    if math.isclose(value, 2.0 * target, rel_tol=1e-2):
        return verdict(False, "", f"You gave {value:.4g}, twice the coefficient. Remember the 1/2 in KL = (1/2) F delta^2.")
    if math.isclose(value, p * (1.0 - p) / 2.0, rel_tol=1e-2):
        return verdict(
            False,
            "",
            f"You gave {value:.4g}, which is p (1 - p) / 2: the coefficient for a step in the logit "
            "log(p / (1 - p)), not in p. Here q = p + delta.",
        )
    if not math.isfinite(value) or value <= 0:
        return verdict(False, "", f"You gave {value}; the coefficient of delta^2 is a positive number.")
    if value < 0.1 * target:
        return verdict(False, "", f"You gave {value:.4g}, far too small. Divide the KL by delta squared, not by delta.")
    return verdict(
        False,
        "",
        f"You gave {value:.4g}. Take a small step delta (e.g. 1e-4) in p and divide the KL by delta**2.",
    )
