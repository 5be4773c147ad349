"""One look for every figure in the book: colours per method, contours and paths.

Colours come from the Okabe-Ito palette, which stays distinguishable under the common
forms of colour blindness, plus one grey. Each method keeps its colour in every chapter, and legends use
the same names as the prose (:data:`METHOD_LABELS`).
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

from natgrad._checks import one_of, positive_finite, positive_int

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

# A mid grey for the empirical Fisher, the one method beyond the palette's seven colours:
# greys differ from every Okabe-Ito colour in lightness, so they stay distinguishable too.
# (Loss contours use a lighter grey, 0.6.)
NEUTRAL_GREY = "#666666"

#: The colour of each method in every figure of the book.
METHOD_COLORS = {
    "gd": OKABE_ITO["blue"],
    "sgd": OKABE_ITO["sky_blue"],
    "natural": OKABE_ITO["vermillion"],
    "adam": OKABE_ITO["bluish_green"],
    "kfac": OKABE_ITO["reddish_purple"],
    "diagonal": OKABE_ITO["orange"],
    "empirical": NEUTRAL_GREY,
    "reference": OKABE_ITO["black"],
}

#: The name of each method in the figures' legends, as the prose names it.
METHOD_LABELS = {
    "gd": "gradient descent",
    "sgd": "SGD",
    "natural": "natural gradient",
    "adam": "Adam",
    "kfac": "K-FAC",
    "diagonal": "diagonal Fisher",
    "empirical": "empirical Fisher",
    "reference": "reference",
}


# The fruit classes of chapter 2 onwards (apple, banana, orange): colour and marker per class.
CLASS_COLORS = (OKABE_ITO["bluish_green"], OKABE_ITO["yellow"], OKABE_ITO["orange"])
CLASS_MARKERS = ("o", "^", "s")


def method_color(method: str) -> str:
    """The book-wide colour of ``method`` (a key of :data:`METHOD_COLORS`)."""
    return METHOD_COLORS[one_of(method, "method", tuple(METHOD_COLORS))]


def use_book_style() -> None:
    """Set matplotlib defaults shared by every chapter's figures."""
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": "medium",
            "legend.frameon": False,
            "axes.prop_cycle": mpl.cycler(color=list(METHOD_COLORS.values())),
        }
    )


def plot_loss_contours(ax, loss, xlim, ylim, n_grid: int = 121, levels: int = 12, **contour_kwargs):
    """Contours of a two-parameter ``loss`` over the box ``xlim`` x ``ylim``.

    ``loss`` takes a flat vector of length 2. Levels are spaced geometrically above the
    minimum on the grid, so that both the valley floor and the walls show. Returns the
    contour set.
    """
    n_grid = positive_int(n_grid, "n_grid")
    levels = positive_int(levels, "levels")
    xs = np.linspace(*xlim, n_grid)
    ys = np.linspace(*ylim, n_grid)
    values = np.array([[float(loss(np.array([x, y]))) for x in xs] for y in ys])
    low, high = values.min(), values.max()
    spacing = np.geomspace(1e-3, 1.0, levels) * (high - low) + low
    contour_kwargs.setdefault("colors", "0.6")
    contour_kwargs.setdefault("linewidths", 0.8)
    return ax.contour(xs, ys, values, levels=spacing, **contour_kwargs)


def plot_path(ax, path, method: str, label: str | None = None, **line_kwargs):
    """Draw an optimisation path (an array of shape (T, 2)) in the colour of ``method``.

    The start is a hollow circle; ``label`` defaults to the method's name in the prose.
    Returns the line.
    """
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2:
        raise ValueError(f"path: expected an array of shape (T, 2), got {path.shape}")
    color = method_color(method)
    line_kwargs.setdefault("marker", "o")
    line_kwargs.setdefault("markersize", 3)
    line_kwargs.setdefault("linewidth", 1.2)
    (line,) = ax.plot(path[:, 0], path[:, 1], color=color, label=label or METHOD_LABELS[method], **line_kwargs)
    ax.plot(path[0, 0], path[0, 1], "o", markersize=8, markerfacecolor="none", markeredgecolor=color)
    return line


def plot_classes(ax, X, y, names, **scatter_kwargs):
    """Scatter two-feature inputs ``X`` with one colour and marker per class label in ``y``.

    Class ``k`` is drawn in ``CLASS_COLORS[k]`` with marker ``CLASS_MARKERS[k]`` and labelled
    ``names[k]``, with thin black edges so the pale yellow stays visible. Extra keyword
    arguments go to ``ax.scatter`` (``s`` may be an array with one size per row). Returns
    the scatter collections, one per class.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X: expected an array of shape (N, 2), got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y: expected {X.shape[0]} labels, got shape {y.shape}")
    if len(names) > len(CLASS_COLORS) or (y.size and (y.min() < 0 or y.max() >= len(names))):
        raise ValueError(f"names: expected one name per class label (at most {len(CLASS_COLORS)} classes)")
    sizes = scatter_kwargs.pop("s", None)
    scatter_kwargs.setdefault("edgecolors", "black")
    scatter_kwargs.setdefault("linewidths", 0.5)
    collections = []
    for label, name in enumerate(names):
        rows = y == label
        size = sizes[rows] if isinstance(sizes, np.ndarray) else sizes
        collections.append(
            ax.scatter(X[rows, 0], X[rows, 1], s=size, color=CLASS_COLORS[label], marker=CLASS_MARKERS[label], label=name, **scatter_kwargs)
        )
    return collections


def predicted_classes(model, params, xlim, ylim, n_grid: tuple[int, int] = (96, 72)) -> np.ndarray:
    r"""The class :math:`\arg\max_k z_k(x, \theta)` a two-feature classifier predicts on a grid.

    The grid has ``n_grid = (n_x, n_y)`` points spanning ``xlim`` and ``ylim``. Returns an
    integer array of shape ``(n_y, n_x)`` whose row 0 lies at ``ylim[0]``, as
    ``ax.imshow(..., origin="lower", extent=(*xlim, *ylim))`` draws it. Chapter 7's animated
    figure shows these maps along a step.
    """
    from natgrad.models import Model

    if not isinstance(model, Model) or model.n_features != 2:
        raise ValueError("model: expected a natgrad model with two input features")
    for name, limits in (("xlim", xlim), ("ylim", ylim)):
        if len(limits) != 2 or not np.all(np.isfinite(limits)) or not limits[0] < limits[1]:
            raise ValueError(f"{name}: expected finite limits (low, high) with low < high, got {limits!r}")
    if len(n_grid) != 2:
        raise ValueError(f"n_grid: expected two grid sizes (n_x, n_y), got {n_grid!r}")
    n_x, n_y = (positive_int(n, "n_grid") for n in n_grid)
    xs, ys = np.meshgrid(np.linspace(*xlim, n_x), np.linspace(*ylim, n_y))
    points = np.column_stack([xs.ravel(), ys.ravel()])
    return np.asarray(model.logits(params, points)).argmax(axis=1).reshape(n_y, n_x)


def radial_level_set(fn, level: float, n_points: int = 120, r_max: float = 1e3, n_bisections: int = 60) -> np.ndarray:
    r"""The closed curve :math:`\{\delta \in \mathbb R^2 : f(\delta) = \text{level}\}` around the origin, ray by ray.

    ``fn`` maps an array of offsets of shape (n, 2) to n values; it must be 0 at the origin
    and increase along every ray :math:`r \mapsto f(r u)`, :math:`r \ge 0`, as a KL
    divergence :math:`\delta \mapsto \mathrm{KL}(\theta, \theta + \delta)` of a model with
    logits linear in :math:`\theta` does (chapter 3). For ``n_points`` unit directions
    :math:`u_\phi = (\cos\phi, \sin\phi)`, bisection on :math:`[0, r_{\max}]` finds the
    radius :math:`r_\phi` with :math:`f(r_\phi u_\phi) = \text{level}`; returns the points
    :math:`r_\phi u_\phi`, shape (n_points, 2). Raises ``ValueError`` if some ray does not
    reach the level by ``r_max``.
    """
    if not callable(fn):
        raise ValueError(f"fn: expected a callable offsets -> values, got {type(fn).__name__}")
    positive_finite(level, "level")
    n_points = positive_int(n_points, "n_points")
    positive_finite(r_max, "r_max")
    n_bisections = positive_int(n_bisections, "n_bisections")
    angles = np.linspace(0.0, 2.0 * np.pi, n_points, endpoint=False)
    directions = np.column_stack([np.cos(angles), np.sin(angles)])
    if np.any(np.asarray(fn(r_max * directions), dtype=float) < level):
        raise ValueError(f"r_max: some ray does not reach the level {level} within r_max = {r_max}")
    low, high = np.zeros(n_points), np.full(n_points, float(r_max))
    for _ in range(n_bisections):
        middle = 0.5 * (low + high)
        below = np.asarray(fn(middle[:, None] * directions), dtype=float) < level
        low, high = np.where(below, middle, low), np.where(below, high, middle)
    return 0.5 * (low + high)[:, None] * directions
