"""Input checks shared by the public functions.

Every public function of :mod:`natgrad` rejects bad input with a :class:`ValueError`
whose message names the argument and says what was expected. The checks look
through autograd's boxes (``getval``) so that validated functions stay differentiable.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as onp
from autograd.tracer import getval, isbox


def array_value(x, name: str) -> onp.ndarray:
    """Return the plain float64 value of ``x`` (unboxed), or raise ``ValueError``."""
    try:
        value = onp.asarray(getval(x), dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected an array of real numbers, got {type(x).__name__}") from exc
    return value


def finite_array(x, name: str):
    """A float64 array with no NaN or inf entries."""
    value = array_value(x, name)
    if not onp.all(onp.isfinite(value)):
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return x if isbox(x) else value


def flat_vector(x, name: str, length: int):
    """A finite 1-D float64 vector of the given length."""
    value = array_value(x, name)
    if value.ndim != 1 or value.shape[0] != length:
        raise ValueError(f"{name}: expected a flat vector of length {length}, got shape {value.shape}")
    return finite_array(x, name)


def positive_finite(x, name: str) -> float:
    """A real number that is finite and > 0."""
    if isinstance(x, bool) or not isinstance(getval(x), Real) or not math.isfinite(getval(x)) or getval(x) <= 0:
        raise ValueError(f"{name}: expected a finite number > 0, got {x!r}")
    return x


def nonnegative_finite(x, name: str) -> float:
    """A real number that is finite and >= 0."""
    if isinstance(x, bool) or not isinstance(getval(x), Real) or not math.isfinite(getval(x)) or getval(x) < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {x!r}")
    return x


def positive_int(x, name: str) -> int:
    """An integer >= 1."""
    if isinstance(x, bool) or not isinstance(x, Integral) or x < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {x!r}")
    return int(x)


def nonnegative_int(x, name: str) -> int:
    """An integer >= 0."""
    if isinstance(x, bool) or not isinstance(x, Integral) or x < 0:
        raise ValueError(f"{name}: expected an integer >= 0, got {x!r}")
    return int(x)


def one_of(x, name: str, choices: tuple[str, ...]) -> str:
    """One of a fixed set of strings."""
    if x not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {x!r}")
    return x


def generator(rng, name: str = "rng") -> onp.random.Generator:
    """A ``numpy.random.Generator``; an int is taken as its seed."""
    if isinstance(rng, onp.random.Generator):
        return rng
    if isinstance(rng, Integral) and not isinstance(rng, bool):
        return onp.random.default_rng(int(rng))
    raise ValueError(f"{name}: expected a numpy.random.Generator or an int seed, got {type(rng).__name__}")
