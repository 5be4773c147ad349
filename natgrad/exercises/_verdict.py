"""The verdict every exercise checker prints and returns."""

from __future__ import annotations

import functools
from dataclasses import dataclass


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
