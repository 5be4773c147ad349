r"""Self-checks for chapter 7, stability with noisy and outlier mini-batches.

:func:`check_sgd_learning_rate` tests a reader's function for the learning rate that makes a
plain gradient step :math:`\delta = -\eta g` use up a KL budget :math:`\epsilon` exactly, in the
quadratic model :math:`\tfrac12 \delta^\top F \delta`:

.. math:: \eta = \sqrt{\frac{2\epsilon}{g^\top F g}} ,

and names the usual mistakes (a missing square root, :math:`F^{-1}` in place of :math:`F`, a
missing factor 2, no Fisher at all, the ratio upside down).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from natgrad.exercises._verdict import Verdict, forgiving, verdict

_RTOL = 1e-6


def _spd(rng: np.random.Generator, size: int, spread: float) -> np.ndarray:
    Q, _ = np.linalg.qr(rng.normal(size=(size, size)))
    return Q @ np.diag(np.geomspace(1.0 / spread, 1.0, size)) @ Q.T


def _cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(grad, fisher, kl_budget): three seeded problems, with budgets and gradients chosen so that
    every typical mistake gives a value at least 10 per cent away from the reference."""
    rng = np.random.default_rng(7)
    cases = []
    for size, spread, budget, scale in ((2, 50.0, 0.01, 3.0), (5, 400.0, 0.2, 0.7), (3, 8.0, 1.5, 0.2)):
        cases.append((scale * rng.normal(size=size), _spd(rng, size, spread), budget))
    return cases


def reference_learning_rate(grad, fisher, kl_budget: float) -> float:
    r""":math:`\eta = \sqrt{2\epsilon / g^\top F g}`, so that :math:`\tfrac12 (\eta g)^\top F (\eta g) = \epsilon`."""
    grad, fisher = np.asarray(grad, dtype=float), np.asarray(fisher, dtype=float)
    return math.sqrt(2.0 * kl_budget / float(grad @ fisher @ grad))


def _mistakes(grad: np.ndarray, fisher: np.ndarray, budget: float) -> list[tuple[float, str]]:
    """Values produced by the typical slips, each with the hint that names it."""
    curvature = float(grad @ fisher @ grad)
    inverse_curvature = float(grad @ np.linalg.solve(fisher, grad))
    return [
        (2.0 * budget / curvature, "You forgot the square root: the KL grows like eta squared, so eta = sqrt(2 eps / g^T F g)."),
        (math.sqrt(2.0 * budget / inverse_curvature), "You used F^{-1}: that is the length rule of the natural step. A plain step delta = -eta g has KL 1/2 eta^2 g^T F g, with F itself."),
        (math.sqrt(budget / curvature), "Your rate is too small by sqrt(2): the quadratic KL model is 1/2 delta^T F delta, so eta^2 g^T F g = 2 eps."),
        (math.sqrt(budget / (2.0 * curvature)), "Your rate is half the right one: the 1/2 of the KL model belongs in the denominator, 1/2 eta^2 g^T F g = eps gives eta = sqrt(2 eps / g^T F g)."),
        (math.sqrt(2.0 * budget / float(grad @ grad)), "Your rate ignores the Fisher: g^T g measures the step in parameter units, the KL needs g^T F g."),
        (math.sqrt(2.0 * budget * curvature), "Your ratio is upside down: eta = sqrt(2 eps / g^T F g), the curvature g^T F g goes in the denominator."),
        (math.sqrt(2.0 * budget) / curvature, "Take the square root of the whole ratio: eta = sqrt(2 eps / g^T F g), not sqrt(2 eps) / g^T F g."),
    ]


def _as_number(value) -> float | str:
    """The reader's value as a float, or a hint saying why it is not one number."""
    if value is None:
        return "Your function returned None: did you forget the return statement?"
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        return f"Your function should return a number (the learning rate), got {type(value).__name__}."
    if array.size != 1:
        return f"Your function should return one number, the learning rate eta; got an array of shape {array.shape}."
    return float(array.reshape(()))


@forgiving
def check_sgd_learning_rate(rate_fn) -> Verdict:
    r"""Check ``rate_fn(grad, fisher, kl_budget)`` against :math:`\eta = \sqrt{2\epsilon / g^\top F g}`.

    Evaluated on three seeded problems with symmetric positive definite F (relative tolerance
    1e-6); the inputs must be left unchanged. Prints and returns a verdict; never raises.
    Chapter 7.
    """
    if not callable(rate_fn):
        return verdict(False, "", "Pass your function itself, e.g. check_sgd_learning_rate(my_rate), without calling it.")
    for grad, fisher, budget in _cases():
        inputs = (grad.copy(), fisher.copy())
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            answer = rate_fn(*inputs, budget)
        if any(not np.array_equal(a, b) for a, b in zip(inputs, (grad, fisher))):
            return verdict(False, "", "Your function changed its inputs in place. Compute the rate without modifying grad or fisher.")
        value = _as_number(answer)
        if isinstance(value, str):
            return verdict(False, "", value)
        if not math.isfinite(value):
            return verdict(False, "", f"Your function returned {value}; the learning rate is a finite positive number.")
        expected = reference_learning_rate(grad, fisher, budget)
        if math.isclose(value, expected, rel_tol=_RTOL):
            continue
        if math.isclose(value, -expected, rel_tol=_RTOL):
            return verdict(False, "", "Your rate is negative. The learning rate is positive; the minus sign belongs to the step, delta = -eta g.")
        for candidate, hint in _mistakes(grad, fisher, budget):
            if math.isclose(value, candidate, rel_tol=_RTOL):
                return verdict(False, "", hint)
        step = -value * grad
        quadratic_kl = 0.5 * float(step @ fisher @ step)
        return verdict(
            False,
            "",
            f"With your rate the step -eta g has 1/2 delta^T F delta = {quadratic_kl:.4g}, but the budget is {budget:.4g}. "
            "Solve 1/2 eta^2 g^T F g = eps for eta.",
        )
    return verdict(
        True,
        "eta = sqrt(2 eps / g^T F g): the gradient step then uses exactly the KL budget in the quadratic model, "
        "however large the gradient is.",
        "",
    )
