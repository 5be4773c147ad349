r"""Plain gradient descent, the baseline every later method is compared with.

Chapter 1: :math:`\theta_{t+1} = \theta_t - \eta\, \nabla L(\theta_t)`, with one learning
rate :math:`\eta` for every parameter, measured in parameter units; and
:func:`steps_to_reach`, which counts the steps a path needs (chapters 1 and 5).
"""

from __future__ import annotations

import numpy as np

from natgrad._checks import flat_vector, nonnegative_finite, nonnegative_int, positive_finite


def gradient_descent(grad_fn, params0, learning_rate: float, n_steps: int) -> np.ndarray:
    r"""Iterate :math:`\theta_{t+1} = \theta_t - \eta\,\nabla L(\theta_t)` from ``params0``.

    ``grad_fn`` maps a flat parameter vector to the gradient of the loss. Returns the whole
    path, an array of shape (n_steps + 1, P) whose row 0 is ``params0``. A path that
    overflows keeps its inf/NaN rows, so divergence stays visible. Chapter 1.
    """
    if not callable(grad_fn):
        raise ValueError(f"grad_fn: expected a callable params -> gradient, got {type(grad_fn).__name__}")
    params0 = np.asarray(flat_vector(params0, "params0", np.size(params0)), dtype=float)
    positive_finite(learning_rate, "learning_rate")
    n_steps = nonnegative_int(n_steps, "n_steps")
    path = np.zeros((n_steps + 1, params0.size))
    path[0] = params0
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(n_steps):
            path[step + 1] = path[step] - learning_rate * np.asarray(grad_fn(path[step]), dtype=float)
    return path


def steps_to_reach(gaps, tolerance: float) -> int | None:
    r"""The first step :math:`t` with :math:`\mathrm{gap}_t \le` ``tolerance``, or ``None``.

    ``gaps`` is one number per iterate of a path, typically the loss gap
    :math:`L(\theta_t) - L(\theta^\star)` (row 0 for the start); ``tolerance`` is a
    non-negative threshold. A NaN gap (a diverged run) never counts as reached. Chapters 1
    and 5 count the steps of gradient descent and of natural gradient descent with it.
    """
    try:
        gaps = np.asarray(gaps, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"gaps: expected a 1-D sequence of numbers, got {type(gaps).__name__}") from exc
    if gaps.ndim != 1 or gaps.size == 0:
        raise ValueError(f"gaps: expected a non-empty 1-D sequence of numbers, got shape {gaps.shape}")
    nonnegative_finite(tolerance, "tolerance")
    with np.errstate(invalid="ignore"):
        reached = np.flatnonzero(gaps <= tolerance)
    return int(reached[0]) if reached.size else None
