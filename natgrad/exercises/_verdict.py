"""The verdict every exercise checker prints and returns."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``correct`` and the ``message`` that was printed.

    Truthy when correct. In a notebook it displays nothing, since the checker has
    already printed its message.
    """

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def _ipython_display_(self) -> None:
        return None


def verdict(correct: bool, praise: str, hint: str) -> Verdict:
    """Print and return the verdict: ``praise`` when correct, otherwise ``hint``."""
    message = f"Correct. {praise}" if correct else f"Not yet. {hint}"
    print(message)
    return Verdict(bool(correct), message)


def forgiving(check):
    """Turn any exception raised while checking a malformed answer into a 'not yet' verdict."""

    @functools.wraps(check)
    def wrapper(*args, **kwargs) -> Verdict:
        try:
            return check(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a checker must never crash on a reader's answer
            return verdict(False, "", f"Your answer could not be checked ({type(exc).__name__}: {exc}).")

    return wrapper


def call_on_copies(fn, arrays, *extra):
    """Call ``fn(*copies of arrays, *extra)``; return ``(answer, hint)``.

    ``hint`` is None, or says what went wrong before the answer can be compared: the
    function edited its inputs in place, or returned nothing.
    """
    copies = tuple(np.array(array, copy=True) for array in arrays)
    answer = fn(*copies, *extra)
    if any(not np.array_equal(copy, array) for copy, array in zip(copies, arrays)):
        return None, "Your function changed its inputs in place. Build a new array for the result instead."
    if answer is None:
        return None, "Your function returned None: did you forget the return statement?"
    return answer, None


def vector_answer(answer, shape: tuple[int, ...], what: str = "the new parameters"):
    """``(answer as a float array, None)``, or ``(None, hint)`` if it has the wrong shape or is not finite."""
    answer = np.asarray(answer, dtype=float)
    if answer.shape != shape:
        return None, f"Expected a flat vector of shape {shape} ({what}), got shape {answer.shape}."
    if not np.all(np.isfinite(answer)):
        return None, "Your function returned NaN or inf values."
    return answer, None
