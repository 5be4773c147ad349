r"""Pictures of the Fisher metric for two-parameter models: KL balls and direction fields.

Chapter 4 draws, around a parameter :math:`\theta`, the set of parameters at a fixed KL
divergence :math:`\epsilon` from it, both as the quadratic model
:math:`\tfrac12 \delta^\top F \delta = \epsilon` (an ellipse, :func:`quadratic_level_set`) and
exactly (:func:`divergence_level_set`), and compares preconditioned directions
:math:`-M(\theta)^{-1} g(\theta)` over a grid (:func:`direction_field`). Both level sets are
traced along the same rays from the centre, so their radii can be compared point by point.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from natgrad._checks import array_value, finite_array, flat_vector, positive_finite, positive_int


def _directions(n_points: int) -> np.ndarray:
    r"""Unit vectors at the angles :math:`2\pi k / n`, k = 0, ..., n - 1; shape (n, 2)."""
    angles = 2.0 * np.pi * np.arange(n_points) / n_points
    return np.column_stack([np.cos(angles), np.sin(angles)])


def quadratic_level_set(matrix, center, eps: float, n_points: int = 200) -> np.ndarray:
    r"""Points :math:`\theta + \delta` on the ellipse :math:`\tfrac12 \delta^\top F \delta = \epsilon`.

    ``matrix`` is a symmetric positive definite 2x2 matrix :math:`F`. Along the unit direction
    :math:`u_k` at angle :math:`2\pi k/n` the ellipse sits at radius
    :math:`\sqrt{2\epsilon / u_k^\top F u_k}`. With :math:`F = c I` it is the Euclidean circle of
    radius :math:`\sqrt{2\epsilon/c}`. Returns shape (n_points, 2). Chapter 4.
    """
    matrix = finite_array(matrix, "matrix")
    if matrix.shape != (2, 2) or not np.allclose(matrix, matrix.T, rtol=1e-12, atol=0.0):
        raise ValueError(f"matrix: expected a symmetric 2x2 matrix, got shape {matrix.shape}")
    if np.linalg.eigvalsh(matrix).min() <= 0:
        raise ValueError("matrix: expected a positive definite matrix (both eigenvalues > 0)")
    center = flat_vector(center, "center", 2)
    positive_finite(eps, "eps")
    units = _directions(positive_int(n_points, "n_points"))
    curvature = np.einsum("ki,ij,kj->k", units, matrix, units)
    return center + np.sqrt(2.0 * eps / curvature)[:, None] * units


def _below(divergence: Callable, point: np.ndarray, eps: float) -> bool:
    """True if ``divergence(point) < eps``; a point outside its domain counts as beyond the level."""
    try:
        value = float(array_value(divergence(point), "divergence(point)"))
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return False
    return math.isfinite(value) and value < eps


def divergence_level_set(
    divergence: Callable,
    center,
    eps: float,
    n_points: int = 200,
    initial_radius: float = 1e-3,
    rtol: float = 1e-10,
) -> np.ndarray:
    r"""Points :math:`\theta + t_k u_k` where ``divergence`` first reaches ``eps`` along each ray.

    ``divergence`` maps a flat length-2 vector :math:`\theta'` to a number such as
    :math:`\mathrm{KL}(p_\theta \,\|\, p_{\theta'})`, which is 0 at the centre. Along the unit
    direction :math:`u_k` at angle :math:`2\pi k/n` (the rays of :func:`quadratic_level_set`), the
    radius :math:`t_k` is bracketed by doubling from ``initial_radius`` and then refined by bisection
    to a relative width ``rtol``. A point where ``divergence`` raises ``ValueError`` or returns a
    non-finite value (for example :math:`\sigma \le 0`) counts as beyond the level set, so the
    result is exact as long as the divergence rises to ``eps`` before the edge of its domain.
    Returns shape (n_points, 2). Chapter 4.
    """
    if not callable(divergence):
        raise ValueError(f"divergence: expected a callable theta -> number, got {type(divergence).__name__}")
    center = np.asarray(flat_vector(center, "center", 2), dtype=float)
    positive_finite(eps, "eps")
    positive_finite(initial_radius, "initial_radius")
    positive_finite(rtol, "rtol")
    if not _below(divergence, center, eps):
        raise ValueError(f"divergence: expected a value below eps = {eps!r} at the centre")
    points = []
    for unit in _directions(positive_int(n_points, "n_points")):
        inner, outer = 0.0, initial_radius
        for _ in range(200):
            if not _below(divergence, center + outer * unit, eps):
                break
            inner, outer = outer, 2.0 * outer
        else:
            raise ValueError(f"divergence: never reached eps = {eps!r} along the direction {unit}")
        while outer - inner > rtol * outer:
            middle = 0.5 * (inner + outer)
            if _below(divergence, center + middle * unit, eps):
                inner = middle
            else:
                outer = middle
        points.append(center + 0.5 * (inner + outer) * unit)
    return np.array(points)


def direction_field(direction: Callable, xs, ys) -> tuple[np.ndarray, np.ndarray]:
    r"""The two components of ``direction`` on the grid ``xs`` x ``ys``, laid out for ``plt.quiver``.

    ``direction`` maps a flat length-2 vector :math:`\theta` to a length-2 vector, for example the
    preconditioned direction :math:`-M(\theta)^{-1} g(\theta)`. Returns ``(U, V)``, each of shape
    ``(len(ys), len(xs))``, with ``U[i, j], V[i, j] = direction([xs[j], ys[i]])``: the layout of
    ``np.meshgrid(xs, ys)``. Chapter 4.
    """
    if not callable(direction):
        raise ValueError(f"direction: expected a callable theta -> length-2 vector, got {type(direction).__name__}")
    xs = finite_array(xs, "xs")
    ys = finite_array(ys, "ys")
    for values, name in ((xs, "xs"), (ys, "ys")):
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"{name}: expected a non-empty 1-D array of grid coordinates, got shape {values.shape}")
    field = np.zeros((2, ys.size, xs.size))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            value = array_value(direction(np.array([x, y])), "direction(theta)")
            field[:, i, j] = flat_vector(value, "direction(theta)", 2)
    return field[0], field[1]
