r"""Self-checks for chapter 5, the constrained natural step.

:func:`check_natural_step` tests a reader's implementation of

.. math:: \theta_{\text{new}} = \theta - \sqrt{\frac{2\epsilon}{g^\top F^{-1} g}}\; F^{-1} g

against :func:`natgrad.natural_step` on a few seeded problems, and names the usual mistakes.
"""

from __future__ import annotations

import numpy as np

from natgrad.exercises._verdict import Verdict, call_on_copies, forgiving, vector_answer, verdict
from natgrad.steps import natural_step

_RTOL = 1e-6


def _spd(rng: np.random.Generator, size: int, spread: float) -> np.ndarray:
    Q, _ = np.linalg.qr(rng.normal(size=(size, size)))
    return Q @ np.diag(np.geomspace(1.0, spread, size)) @ Q.T


def _cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    """(params, grad, fisher, kl_budget): an ill-conditioned 2x2, a 4x4 and a 3x3 problem, seeded."""
    rng = np.random.default_rng(5)
    cases = []
    for size, spread, budget in ((2, 2000.0, 0.01), (4, 50.0, 0.3), (3, 10.0, 2.0)):
        cases.append((rng.normal(size=size), rng.normal(size=size), _spd(rng, size, spread), budget))
    return cases


def _parallel(step: np.ndarray, direction: np.ndarray) -> float:
    """The cosine of the angle between two vectors (0 if either is zero)."""
    norms = np.linalg.norm(step) * np.linalg.norm(direction)
    return float(step @ direction / norms) if norms > 0 else 0.0


def _diagnose(answer: np.ndarray, params, grad, fisher, budget) -> str:
    """A hint naming the mistake that explains ``answer``, or a general one."""
    expected_step = natural_step(params, grad, fisher, budget) - params
    if np.allclose(answer, expected_step, rtol=_RTOL, atol=0):
        return "Your function returns the step delta itself. Return the new parameters, params + delta."
    step = answer - params
    if np.linalg.norm(step) == 0:
        return "Your function returns params unchanged: the step is zero."
    natural = np.linalg.solve(fisher, grad)
    for direction, name in ((natural, None), (fisher @ grad, "F @ g"), (grad, "g")):
        cosine = _parallel(step, direction)
        if abs(cosine) < 1 - 1e-8:
            continue
        if name == "F @ g":
            return "Your step points along F g: you multiplied by the Fisher instead of solving F d = g (use F^{-1} g)."
        if name == "g":
            return "Your step points along the plain gradient g. The natural step goes along F^{-1} g: solve F d = g first."
        if cosine > 0 and np.allclose(-step, expected_step, rtol=_RTOL, atol=0):
            return "Your step has the right length but goes uphill: subtract alpha * F^{-1} g from params."
        if cosine > 0:
            return "Your step goes uphill (along +F^{-1} g). The loss decreases along -F^{-1} g."
        ratio = np.linalg.norm(step) / np.linalg.norm(expected_step)
        quadratic_kl = 0.5 * step @ fisher @ step
        if np.isclose(np.linalg.norm(step), 2 * budget / (grad @ natural) * np.linalg.norm(natural), rtol=_RTOL):
            return "The direction is right but the length is not: did you forget the square root in alpha = sqrt(2 eps / g^T F^{-1} g)?"
        if np.isclose(ratio, np.sqrt(0.5), rtol=_RTOL):
            return "The direction is right but the step is too short by sqrt(2): the KL model is 1/2 delta^T F delta, so alpha = sqrt(2 eps / g^T F^{-1} g)."
        return (
            f"The direction is right but the length is not: your step has 1/2 delta^T F delta = {quadratic_kl:.3g} "
            f"instead of the budget {budget:.3g}."
        )
    return "Your step is not along -F^{-1} g, F g or g. Solve F d = g with np.linalg.solve, then scale d to the KL budget."


@forgiving
def check_natural_step(step_fn) -> Verdict:
    r"""Check ``step_fn(params, grad, fisher, kl_budget)`` against :func:`natgrad.natural_step`.

    The answer must return :math:`\theta - \sqrt{2\epsilon / g^\top F^{-1} g}\, F^{-1} g` as a
    flat vector (relative tolerance 1e-6) on three seeded problems with invertible F, and
    leave its inputs unchanged. Prints and returns a verdict; never raises. Chapter 5.
    """
    if not callable(step_fn):
        return verdict(False, "", "Pass your function itself, e.g. check_natural_step(my_natural_step), without calling it.")
    for params, grad, fisher, budget in _cases():
        answer, hint = call_on_copies(step_fn, (params, grad, fisher), budget)
        if hint is None:
            answer, hint = vector_answer(answer, params.shape)
        if hint is not None:
            return verdict(False, "", hint)
        expected = natural_step(params, grad, fisher, budget)
        if not np.allclose(answer, expected, rtol=_RTOL, atol=_RTOL * np.abs(expected).max()):
            return verdict(False, "", _diagnose(answer, params, grad, fisher, budget))
    return verdict(
        True,
        "Your step goes along -F^{-1} g and its quadratic KL model, 1/2 delta^T F delta, equals the budget.",
        "",
    )
