r"""Pictures of the Fisher metric for two-parameter models: KL balls and direction fields.

Chapter 4 draws, around a parameter :math:`\theta`, the parameters at KL divergence
:math:`\epsilon` from it to second order, the ellipse :math:`\tfrac12 \delta^\top F \delta = \epsilon`
(:func:`quadratic_level_set`), and compares preconditioned directions
:math:`-M(\theta)^{-1} g(\theta)` over a grid (:func:`direction_field`).
"""

from __future__ import annotations

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
    field = np.empty((2, ys.size, xs.size))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            value = array_value(direction(np.array([x, y])), "direction(theta)")
            field[:, i, j] = flat_vector(value, "direction(theta)", 2)
    return field[0], field[1]
