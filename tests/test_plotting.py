"""Plotting helpers: the colour scheme and the two drawing functions (Agg backend).

References: the published Okabe-Ito hex codes, matplotlib.colors.to_hex, and the data
stored on the returned artists.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import natgrad as ng  # noqa: E402
from natgrad import plotting  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design": the eight colours, written out independently.
PUBLISHED_OKABE_ITO = {"#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7"}


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_okabe_ito_palette_is_the_published_one():
    """Reference: the eight published Okabe-Ito hex codes."""
    assert {mcolors.to_hex(c) for c in plotting.OKABE_ITO.values()} == PUBLISHED_OKABE_ITO


def test_every_method_colour_is_okabe_ito():
    """Reference: the published Okabe-Ito set."""
    for method, colour in plotting.METHOD_COLORS.items():
        assert mcolors.to_hex(colour) in PUBLISHED_OKABE_ITO | {mcolors.to_hex(plotting.NEUTRAL_GREY)}, method


def test_method_colours_are_distinct():
    """Reference: as many distinct hex codes as methods."""
    hexes = [mcolors.to_hex(c) for c in plotting.METHOD_COLORS.values()]
    assert len(set(hexes)) == len(hexes)


def test_every_method_has_a_nonempty_label():
    """Reference: METHOD_LABELS has the same keys as METHOD_COLORS."""
    assert set(plotting.METHOD_LABELS) == set(plotting.METHOD_COLORS)
    assert all(isinstance(v, str) and v.strip() for v in plotting.METHOD_LABELS.values())


def test_method_color_returns_table_entry():
    """Reference: METHOD_COLORS[method]."""
    for method, colour in plotting.METHOD_COLORS.items():
        assert plotting.method_color(method) == colour


@pytest.mark.parametrize("bad", ["GD", "newton", "", "natural "])
def test_method_color_rejects_unknown_names(bad):
    """Reference: contract, ValueError naming 'method'."""
    with pytest.raises(ValueError, match=r"\bmethod\b"):
        plotting.method_color(bad)


def test_ng_plotting_is_the_plotting_module():
    """Reference: natgrad.plotting imported directly."""
    assert ng.plotting is plotting


def test_use_book_style_sets_colour_cycle():
    """Reference: the axes colour cycle equals METHOD_COLORS values, in order."""
    with matplotlib.rc_context():
        plotting.use_book_style()
        cycle = [mcolors.to_hex(c) for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]]
        assert cycle == [mcolors.to_hex(c) for c in plotting.METHOD_COLORS.values()]
        assert matplotlib.rcParams["axes.spines.top"] is False


def test_plot_path_draws_line_with_method_colour_and_label(ax):
    """Reference: the path array and METHOD_COLORS / METHOD_LABELS entries."""
    path = np.array([[0.0, 1.0], [0.5, 0.6], [0.9, 0.1]])
    line = plotting.plot_path(ax, path, "natural")
    np.testing.assert_array_equal(line.get_xdata(), path[:, 0])
    np.testing.assert_array_equal(line.get_ydata(), path[:, 1])
    assert mcolors.to_hex(line.get_color()) == mcolors.to_hex(plotting.METHOD_COLORS["natural"])
    assert line.get_label() == plotting.METHOD_LABELS["natural"]
    assert line in ax.get_lines()
    ax.figure.canvas.draw()


def test_plot_path_custom_label(ax):
    """Reference: the label passed in."""
    line = plotting.plot_path(ax, np.zeros((2, 2)), "gd", label="my run")
    assert line.get_label() == "my run"


def test_plot_path_rejects_wrong_shape(ax):
    """Reference: contract, ValueError naming 'path'."""
    with pytest.raises(ValueError, match=r"\bpath\b"):
        plotting.plot_path(ax, np.zeros((4, 3)), "gd")


def test_plot_path_rejects_unknown_method(ax):
    """Reference: contract, ValueError naming 'method'."""
    with pytest.raises(ValueError, match=r"\bmethod\b"):
        plotting.plot_path(ax, np.zeros((4, 2)), "bogus")


def test_plot_loss_contours_draws_onto_axes(ax):
    """Reference: a quadratic loss; contour levels lie between its min and max on the grid."""
    loss = lambda p: (p[0] - 0.2) ** 2 + 3 * (p[1] + 0.1) ** 2  # noqa: E731
    cs = plotting.plot_loss_contours(ax, loss, (-1, 1), (-1, 1), n_grid=31, levels=6)
    levels = np.asarray(cs.levels)
    assert levels.size == 6
    assert np.all(np.diff(levels) > 0)
    xs = np.linspace(-1, 1, 31)
    grid = np.array([[loss(np.array([x, y])) for x in xs] for y in xs])
    assert grid.min() <= levels.min() and levels.max() <= grid.max() + 1e-12
    assert cs.axes is ax
    ax.figure.canvas.draw()


def test_plot_path_over_contours_of_gradient_descent(ax):
    """Reference: an end-to-end figure (contours + gradient-descent path) renders without error."""
    A = np.diag([1.0, 10.0])
    plotting.plot_loss_contours(ax, lambda p: 0.5 * p @ A @ p, (-2, 2), (-2, 2), n_grid=21)
    path = ng.gradient_descent(lambda p: A @ p, np.array([1.5, 1.0]), 0.15, 10)
    line = plotting.plot_path(ax, path, "gd")
    assert line.get_xydata().shape == (11, 2)
    ax.figure.canvas.draw()


def test_plot_classes_draws_one_collection_per_class_with_its_colour_and_marker():
    """Reference: the colours and marker paths matplotlib records on each collection."""
    import matplotlib.pyplot as plt
    from matplotlib.markers import MarkerStyle

    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5], [3.0, 1.5]])
    y = np.array([0, 1, 2, 1])
    fig, ax = plt.subplots()
    collections = plotting.plot_classes(ax, X, y, ["apple", "banana", "orange"], s=np.array([1.0, 2.0, 3.0, 4.0]))
    assert [c.get_label() for c in collections] == ["apple", "banana", "orange"]
    for label, collection in enumerate(collections):
        assert mcolors.to_hex(collection.get_facecolor()[0]) == mcolors.to_hex(plotting.CLASS_COLORS[label])
        np.testing.assert_allclose(collection.get_offsets(), X[y == label])
        style = MarkerStyle(plotting.CLASS_MARKERS[label])
        marker_path = style.get_path().transformed(style.get_transform())
        np.testing.assert_allclose(collection.get_paths()[0].vertices, marker_path.vertices)
    np.testing.assert_allclose(collections[1].get_sizes(), [2.0, 4.0])
    plt.close(fig)


@pytest.mark.parametrize(
    "X, y, names, argument",
    [
        (np.zeros((3, 3)), np.zeros(3, dtype=int), ["a"], "X"),
        (np.zeros((3, 2)), np.zeros(2, dtype=int), ["a"], "y"),
        (np.zeros((3, 2)), np.array([0, 1, 1]), ["a"], "names"),
    ],
)
def test_plot_classes_rejects_bad_input(X, y, names, argument):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=argument):
        plotting.plot_classes(ax, X, y, names)
    plt.close(fig)


def test_use_book_style_sets_the_documented_figure_defaults():
    """Reference: the book's figure settings, written out."""
    with matplotlib.rc_context():
        plotting.use_book_style()
        params = matplotlib.rcParams
        assert tuple(params["figure.figsize"]) == (6.4, 4.0) and params["figure.dpi"] == 100
        assert params["axes.spines.right"] is False and params["legend.frameon"] is False
        assert params["axes.titlesize"] == "medium"


def test_plot_path_defaults_and_hollow_start_marker(ax):
    """Reference: small round markers, line width 1.2, and a hollow circle of size 8 at path[0] in the method's colour."""
    path = np.array([[0.3, -0.4], [0.5, 0.6], [0.9, 0.1]])
    line = plotting.plot_path(ax, path, "adam")
    assert (line.get_marker(), line.get_markersize(), line.get_linewidth()) == ("o", 3, 1.2)
    start = ax.get_lines()[-1]
    np.testing.assert_array_equal(start.get_xydata(), path[:1])
    assert (start.get_marker(), start.get_markersize(), start.get_linestyle()) == ("o", 8, "None")
    assert start.get_markerfacecolor() == "none"
    assert mcolors.to_hex(start.get_markeredgecolor()) == mcolors.to_hex(plotting.METHOD_COLORS["adam"])


def test_plot_loss_contours_default_grid_and_geometric_levels(ax):
    """Reference: a 121 x 121 grid over the box and 12 levels min + (max - min) * geomspace(1e-3, 1, 12), grey lines of width 0.8."""
    loss = lambda p: (p[0] - 0.2) ** 2 + 3 * (p[1] + 0.1) ** 2 + 1.0  # noqa: E731
    cs = plotting.plot_loss_contours(ax, loss, (-1, 2), (-2, 1))
    xs, ys = np.linspace(-1, 2, 121), np.linspace(-2, 1, 121)
    grid = np.array([[loss(np.array([x, y])) for x in xs] for y in ys])
    np.testing.assert_allclose(cs.levels, grid.min() + (grid.max() - grid.min()) * np.geomspace(1e-3, 1.0, 12), rtol=1e-12)
    assert mcolors.to_hex(cs.get_edgecolor()[0]) == mcolors.to_hex("0.6")
    assert cs.get_linewidth()[0] == 0.8


def test_plot_classes_default_edges_and_scalar_sizes(ax):
    """Reference: thin black edges (width 0.5) and a scalar size applied to every class."""
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]])
    collections = plotting.plot_classes(ax, X, np.array([0, 1, 1]), ["apple", "banana"], s=7.0)
    for collection in collections:
        assert mcolors.to_hex(collection.get_edgecolor()[0]) == "#000000"
        assert collection.get_linewidth()[0] == 0.5
        np.testing.assert_array_equal(collection.get_sizes(), [7.0])


def test_plot_classes_without_sizes_uses_matplotlib_default(ax):
    """Reference: matplotlib's default marker size, rcParams['lines.markersize'] ** 2, when no s is given."""
    collections = plotting.plot_classes(ax, np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1]), ["apple", "banana"])
    for collection in collections:
        np.testing.assert_allclose(collection.get_sizes(), [matplotlib.rcParams["lines.markersize"] ** 2])


def test_predicted_classes_matches_a_pointwise_argmax():
    model = ng.softmax_regression(n_features=2, n_classes=3)
    params = model.init(np.random.default_rng(5))
    W, b = params[:6].reshape(2, 3), params[6:]
    assert np.allclose(model.logits(params, np.array([[0.3, -0.2]])), np.array([0.3, -0.2]) @ W + b)
    grid = plotting.predicted_classes(model, params, xlim=(-2.0, 1.0), ylim=(0.0, 4.0), n_grid=(7, 5))
    assert grid.shape == (5, 7)
    for row, y_value in enumerate(np.linspace(0.0, 4.0, 5)):  # row 0 at ylim[0]
        for col, x_value in enumerate(np.linspace(-2.0, 1.0, 7)):
            assert grid[row, col] == int(np.argmax(np.array([x_value, y_value]) @ W + b))
    assert len(np.unique(grid)) > 1  # the grid is wide enough to cross a boundary: the test can fail


def test_predicted_classes_default_grid():
    model = ng.softmax_regression(n_features=2, n_classes=3)
    assert plotting.predicted_classes(model, model.init(np.random.default_rng(0)), (0, 1), (0, 1)).shape == (72, 96)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(xlim=(1.0, 0.0)), "xlim"),
        (dict(ylim=(0.0, np.inf)), "ylim"),
        (dict(n_grid=(5,)), "n_grid"),
        (dict(n_grid=(5, 0)), "n_grid"),
    ],
)
def test_predicted_classes_rejects_bad_input(kwargs, argument):
    model = ng.softmax_regression(n_features=2, n_classes=3)
    arguments = dict(xlim=(0.0, 1.0), ylim=(0.0, 1.0)) | kwargs
    with pytest.raises(ValueError, match=argument):
        plotting.predicted_classes(model, model.init(np.random.default_rng(0)), **arguments)


def test_predicted_classes_rejects_a_model_with_other_than_two_features():
    model = ng.softmax_regression(n_features=3, n_classes=2)
    with pytest.raises(ValueError, match="model"):
        plotting.predicted_classes(model, model.init(np.random.default_rng(0)), (0, 1), (0, 1))


def test_radial_level_set_of_a_quadratic_is_its_ellipse():
    """Reference: for f(d) = 1/2 d^T A d the level set along u has r = sqrt(2 level / u^T A u)."""
    A = np.array([[2.0, 0.6], [0.6, 0.5]])
    level = 0.3
    points = ng.plotting.radial_level_set(lambda d: 0.5 * np.einsum("ni,ij,nj->n", d, A, d), level, n_points=37)
    assert points.shape == (37, 2)
    np.testing.assert_allclose(0.5 * np.einsum("ni,ij,nj->n", points, A, points), level, rtol=1e-10)
    angles = np.arctan2(points[:, 1], points[:, 0]) % (2 * np.pi)
    np.testing.assert_allclose(angles, np.linspace(0, 2 * np.pi, 37, endpoint=False), atol=1e-12)


def test_radial_level_set_of_a_non_quadratic():
    """Reference: |d|^4 = level is the circle of radius level^(1/4); an off-centre bowl shifts it."""
    points = ng.plotting.radial_level_set(lambda d: np.sum(d**2, axis=1) ** 2, 16.0, n_points=8, r_max=10.0)
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 2.0, rtol=1e-12)
    # f = |d|^2 + d_1: along +x the root of r^2 + r = 2 is 1, along -x the root of r^2 - r = 2 is 2.
    points = ng.plotting.radial_level_set(lambda d: np.sum(d**2, axis=1) + d[:, 0], 2.0, n_points=2, r_max=10.0)
    np.testing.assert_allclose(points, [[1.0, 0.0], [-2.0, 0.0]], atol=1e-12)


def test_radial_level_set_rejects_bad_input():
    quadratic = lambda d: np.sum(d**2, axis=1)  # noqa: E731
    with pytest.raises(ValueError, match="r_max"):
        ng.plotting.radial_level_set(quadratic, 4.0, r_max=1.0)
    for kwargs, name in [({"level": 0.0}, "level"), ({"level": np.nan}, "level"), ({"level": 1.0, "n_points": 0}, "n_points"),
                         ({"level": 1.0, "r_max": -1.0}, "r_max"), ({"level": 1.0, "n_bisections": 0}, "n_bisections")]:
        with pytest.raises(ValueError, match=name):
            ng.plotting.radial_level_set(quadratic, **kwargs)
    with pytest.raises(ValueError, match="fn"):
        ng.plotting.radial_level_set("not a function", 1.0)
