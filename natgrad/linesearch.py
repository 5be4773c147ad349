r"""A backtracking line search on the true KL divergence, as in TRPO.

The natural step :func:`natgrad.natural_step` meets its KL budget :math:`\epsilon` only in the
quadratic model :math:`\tfrac12\delta^\top F\delta`. Where that model is poor, the true KL of
the step can be orders of magnitude larger. The repair of Schulman et al. (2015, appendix C)
keeps the direction and shrinks the step, :math:`\theta + \alpha v` for the proposed step
:math:`v` and :math:`\alpha = 1, \tfrac12, \tfrac14, \dots`, until the true KL is within the
budget and the loss improves.
Chapter 8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from natgrad._checks import array_value, flat_vector, nonnegative_int, positive_finite


@dataclass(frozen=True)
class LineSearchResult:
    """What :func:`kl_line_search` found.

    ``params`` are the accepted parameters (``params`` unchanged if the search failed),
    ``step_fraction`` the accepted fraction :math:`\\beta` of the step (0 on failure), ``n_backtracks`` the number
    of times the step was shrunk, ``success`` whether a step was accepted, and ``kl`` and
    ``loss`` the true KL from the starting model and the loss at the returned ``params``.
    ``trials`` is the search's log: one ``(fraction, kl, loss)`` triple per candidate tried,
    in order, so a reader can see which test each rejected candidate failed.
    """

    params: np.ndarray
    step_fraction: float
    n_backtracks: int
    success: bool
    kl: float
    loss: float
    trials: tuple[tuple[float, float, float], ...] = ()


def kl_line_search(
    kl_fn,
    loss_fn,
    params,
    step,
    kl_budget: float,
    shrink: float = 0.5,
    max_backtracks: int = 20,
    require_improvement: bool = True,
) -> LineSearchResult:
    r"""Shrink ``step`` until the true KL is within ``kl_budget`` (and the loss improves).

    Tries :math:`\theta' = \theta + \alpha v` for the proposed step :math:`v` (``step``) and
    :math:`\alpha = s^m`, :math:`m = 0, \dots,` ``max_backtracks``, with :math:`s` = ``shrink``,
    and accepts the first with

    .. math:: \mathrm{KL}(p_\theta \,\|\, p_{\theta'}) \le \epsilon
              \quad\text{and}\quad L(\theta') < L(\theta)

    (the second test only if ``require_improvement``). ``kl_fn(candidate)`` returns the true
    divergence from the current model (parameters ``params``) to the candidate, e.g.
    ``lambda q: ng.model_kl(model, params, q, X)``; ``loss_fn(candidate)`` its loss. A NaN or
    infinite KL or loss counts as a rejection. If no candidate is accepted, the result says
    so (``success=False``) and returns ``params`` unchanged: it never returns a step that
    breaks the budget. Each trial costs one evaluation of each function, and is recorded in the
    result's ``trials``. Chapter 8.
    """
    for fn, name in ((kl_fn, "kl_fn"), (loss_fn, "loss_fn")):
        if not callable(fn):
            raise ValueError(f"{name}: expected a callable params -> float, got {type(fn).__name__}")
    size = array_value(params, "params").size
    params = np.asarray(flat_vector(params, "params", size), dtype=float)
    step = np.asarray(flat_vector(step, "step", size), dtype=float)
    positive_finite(kl_budget, "kl_budget")
    positive_finite(shrink, "shrink")
    if shrink >= 1:
        raise ValueError(f"shrink: expected a number in (0, 1), got {shrink!r}")
    max_backtracks = nonnegative_int(max_backtracks, "max_backtracks")
    if not isinstance(require_improvement, bool):
        raise ValueError(f"require_improvement: expected True or False, got {require_improvement!r}")

    start_loss = float(loss_fn(params))
    trials = []
    for backtracks in range(max_backtracks + 1):
        fraction = shrink**backtracks
        candidate = params + fraction * step
        kl = float(kl_fn(candidate))
        loss = float(loss_fn(candidate))
        trials.append((fraction, kl, loss))
        within_budget = np.isfinite(kl) and kl <= kl_budget
        improves = np.isfinite(loss) and (loss < start_loss or not require_improvement)
        if within_budget and improves:
            return LineSearchResult(candidate, fraction, backtracks, True, kl, loss, tuple(trials))
    return LineSearchResult(params.copy(), 0.0, max_backtracks, False, 0.0, start_loss, tuple(trials))
