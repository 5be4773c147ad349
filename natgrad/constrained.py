r"""The natural step as "least loss at a fixed KL", searched by brute force and iterated.

Chapter 5 does literally what the blog post behind the book describes: on a two-parameter model, list the
parameter vectors whose *true* KL divergence from the current model equals a budget
:math:`\epsilon` (:func:`kl_circle`), and keep the one with the least loss
(:func:`least_loss_on_kl_circle`, which then refines the winner's angle by a golden-section
search). As :math:`\epsilon \to 0` the winner lines up with the direction :math:`-F^{-1} g` of
the natural step (measured with :func:`angle_degrees`).
:func:`natural_gradient_descent` then repeats the natural step, with either a fixed
learning rate or a KL budget per step.
"""

from __future__ import annotations

import numpy as np

from natgrad._checks import array_value, flat_vector, nonnegative_finite, nonnegative_int, positive_finite, positive_int
from natgrad.steps import natural_direction, natural_step

_MAX_DOUBLINGS = 200
_N_BISECTIONS = 80
_ANGLE_TOLERANCE = 1e-12  # radians: far below any angle the chapter prints


def _row_values(fn, points: np.ndarray, name: str) -> np.ndarray:
    """``fn(points)`` as M floats, one per row of ``points`` (shape (M, 2))."""
    values = np.asarray(fn(points), dtype=float)
    if values.shape != (points.shape[0],):
        raise ValueError(f"{name}: expected one value per row of an (M, 2) array, got shape {values.shape} for M = {points.shape[0]}")
    return values


def _radii(kl_fn, params: np.ndarray, kl_budget: float, units: np.ndarray) -> np.ndarray:
    """Step lengths alpha_i > 0 with KL(params, params + alpha_i v_i) = kl_budget along the unit rows v_i."""

    def beyond_budget(radii):
        with np.errstate(invalid="ignore", over="ignore"):
            values = _row_values(kl_fn, params + radii[:, None] * units, "kl_fn")
        # NaN and inf mark points outside the model's domain: past the budget by definition.
        return ~(values < kl_budget)

    low = np.zeros(units.shape[0])
    high = np.full(units.shape[0], np.sqrt(kl_budget) * (1.0 + np.abs(params).max()))
    for _ in range(_MAX_DOUBLINGS):
        short = ~beyond_budget(high)
        if not short.any():
            break
        low = np.where(short, high, low)
        high = np.where(short, 2.0 * high, high)
    else:
        raise ValueError("kl_fn: the KL stays below kl_budget along some direction, however far out")
    for _ in range(_N_BISECTIONS):
        middle = 0.5 * (low + high)
        past = beyond_budget(middle)
        high = np.where(past, middle, high)
        low = np.where(past, low, middle)
    return 0.5 * (low + high)


def _units(angles: np.ndarray) -> np.ndarray:
    """The unit vectors (cos a, sin a), one row per angle."""
    return np.column_stack([np.cos(angles), np.sin(angles)])


def _circle_inputs(kl_fn, params, kl_budget, n_directions):
    """The checked arguments of kl_circle and least_loss_on_kl_circle."""
    if not callable(kl_fn):
        raise ValueError(f"kl_fn: expected a callable (M, 2) array -> M divergences, got {type(kl_fn).__name__}")
    params = np.asarray(flat_vector(params, "params", 2), dtype=float)
    positive_finite(kl_budget, "kl_budget")
    n_directions = positive_int(n_directions, "n_directions")
    if n_directions < 3:
        raise ValueError(f"n_directions: expected at least 3 directions, got {n_directions}")
    return params, float(kl_budget), n_directions


def kl_circle(kl_fn, params, kl_budget: float, n_directions: int = 3600) -> np.ndarray:
    r"""The points :math:`\theta + \alpha_i v_i` at which the true KL from :math:`\theta` equals :math:`\epsilon`.

    For ``n_directions`` (:math:`n`) equally spaced unit vectors
    :math:`v_i = (\cos(2\pi i/n), \sin(2\pi i/n))`, the step length :math:`\alpha_i > 0` solves
    :math:`\mathrm{KL}(\theta, \theta + \alpha_i v_i) = \epsilon` by bracketing (doubling) and
    bisection to float64 accuracy. ``kl_fn`` maps an (M, 2) array of candidate parameters
    to their M divergences from the current model; it may return ``inf`` for points
    outside the model's domain (e.g. :math:`\sigma \le 0`). The KL must grow along each ray
    and exceed the budget before the domain ends. Returns shape (n_directions, 2), row i
    for the angle :math:`2\pi i/n`. Chapter 5.
    """
    params, kl_budget, n_directions = _circle_inputs(kl_fn, params, kl_budget, n_directions)
    units = _units(2.0 * np.pi * np.arange(n_directions) / n_directions)
    return params + _radii(kl_fn, params, kl_budget, units)[:, None] * units


def least_loss_on_kl_circle(
    loss_fn, kl_fn, params, kl_budget: float, n_directions: int = 3600, refine: bool = True
) -> np.ndarray:
    r"""The brute-force constrained step: the point of least loss among those at true KL :math:`\epsilon`.

    First the grid: among the ``n_directions`` points of :func:`kl_circle`, the one with the
    least loss, exact up to the angular resolution :math:`360^\circ / n`. With ``refine``
    (the default), a golden-section search over the angle :math:`\phi` between the grid
    winner's two neighbours then minimises :math:`L(\theta + \alpha(\phi)\, v(\phi))`, each
    :math:`\alpha(\phi)` again by bisection on the true KL, until the bracket is narrower
    than :math:`10^{-12}` radians; this finds the continuous optimum when the loss along the
    KL curve has a single minimum between those neighbours, and it never returns a point
    with more loss than the grid winner. ``loss_fn`` and ``kl_fn`` map an (M, 2) array of
    parameters to M values. For small budgets the answer points along :math:`-F^{-1} g`.
    Chapter 5.
    """
    if not callable(loss_fn):
        raise ValueError(f"loss_fn: expected a callable (M, 2) array -> M losses, got {type(loss_fn).__name__}")
    if not isinstance(refine, (bool, np.bool_)):
        raise ValueError(f"refine: expected True or False, got {refine!r}")
    params, kl_budget, n_directions = _circle_inputs(kl_fn, params, kl_budget, n_directions)
    points = kl_circle(kl_fn, params, kl_budget, n_directions)
    losses = _row_values(loss_fn, points, "loss_fn")
    if not np.isfinite(losses).any():
        raise ValueError("loss_fn: no finite loss on the KL circle")
    best = int(np.nanargmin(np.where(np.isfinite(losses), losses, np.nan)))
    if not refine:
        return points[best]

    def point_at(angle):
        unit = _units(np.array([angle]))
        return params + _radii(kl_fn, params, kl_budget, unit)[0] * unit[0]

    def loss_at(angle):
        value = _row_values(loss_fn, point_at(angle)[None, :], "loss_fn")[0]
        return value if np.isfinite(value) else np.inf

    spacing = 2.0 * np.pi / n_directions
    low, high = (best - 1) * spacing, (best + 1) * spacing
    shrink = (np.sqrt(5.0) - 1.0) / 2.0  # the golden section: each step keeps this fraction of the bracket
    left, right = high - shrink * (high - low), low + shrink * (high - low)
    loss_left, loss_right = loss_at(left), loss_at(right)
    while high - low > _ANGLE_TOLERANCE:
        if loss_left <= loss_right:
            high, right, loss_right = right, left, loss_left
            left = high - shrink * (high - low)
            loss_left = loss_at(left)
        else:
            low, left, loss_left = left, right, loss_right
            right = low + shrink * (high - low)
            loss_right = loss_at(right)
    angle = left if loss_left <= loss_right else right
    if min(loss_left, loss_right) < losses[best]:
        return point_at(angle)
    return points[best]


def angle_degrees(u, v) -> float:
    r"""The angle :math:`\arccos\big(u^\top v / (\|u\|\,\|v\|)\big)` between two nonzero vectors, in degrees.

    Computed as :math:`2\arctan(\|\hat u - \hat v\| / \|\hat u + \hat v\|)` on the unit vectors,
    which stays accurate for nearly parallel vectors where arccos loses half the digits. Chapter 5.
    """
    u = np.asarray(flat_vector(u, "u", np.size(u)), dtype=float)
    v = np.asarray(flat_vector(v, "v", u.size), dtype=float)
    norm_u, norm_v = np.linalg.norm(u), np.linalg.norm(v)
    if norm_u == 0.0:
        raise ValueError("u: expected a nonzero vector")
    if norm_v == 0.0:
        raise ValueError("v: expected a nonzero vector")
    u_hat, v_hat = u / norm_u, v / norm_v
    return float(np.degrees(2.0 * np.arctan2(np.linalg.norm(u_hat - v_hat), np.linalg.norm(u_hat + v_hat))))


def natural_gradient_descent(
    grad_fn,
    fisher_fn,
    params0,
    n_steps: int,
    learning_rate: float | None = None,
    kl_budget: float | None = None,
    damping: float = 0.0,
) -> np.ndarray:
    r"""Iterate natural-gradient steps from ``params0``; returns the path, shape (n_steps + 1, P).

    Give exactly one of

    * ``learning_rate`` :math:`\eta`: :math:`\theta_{t+1} = \theta_t - \eta\,(F_t + \lambda I)^{-1} g_t`
      (on a model whose Fisher equals the loss Hessian, :math:`\eta = 1` is Newton's method);
    * ``kl_budget`` :math:`\epsilon`: :math:`\theta_{t+1}` = :func:`natgrad.natural_step`, whose
      quadratic KL model equals :math:`\epsilon` at every step.

    ``grad_fn`` maps parameters to the loss gradient :math:`g`, ``fisher_fn`` to the dense
    Fisher :math:`F` (or a callable :math:`v \mapsto F v`); :math:`\lambda` is ``damping``.
    Errors raised by them (e.g. for parameters outside the model's domain) propagate.
    Chapter 5.
    """
    for fn, name in ((grad_fn, "grad_fn"), (fisher_fn, "fisher_fn")):
        if not callable(fn):
            raise ValueError(f"{name}: expected a callable of the parameters, got {type(fn).__name__}")
    if (learning_rate is None) == (kl_budget is None):
        raise ValueError("learning_rate, kl_budget: give exactly one of them")
    if learning_rate is not None:
        positive_finite(learning_rate, "learning_rate")
    else:
        positive_finite(kl_budget, "kl_budget")
    nonnegative_finite(damping, "damping")
    n_steps = nonnegative_int(n_steps, "n_steps")
    params0 = np.asarray(flat_vector(params0, "params0", np.size(array_value(params0, "params0"))), dtype=float)
    path = np.empty((n_steps + 1, params0.size))
    path[0] = params0
    for step in range(n_steps):
        params = path[step]
        grad = np.asarray(grad_fn(params), dtype=float)
        fisher = fisher_fn(params)
        if learning_rate is not None:
            path[step + 1] = params - learning_rate * natural_direction(grad, fisher, damping)
        else:
            path[step + 1] = natural_step(params, grad, fisher, kl_budget, damping)
    return path
