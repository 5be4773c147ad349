"""natgrad.animation: the offline player, its still frame, its alt text, and nbval's view of it."""

from __future__ import annotations

import base64
import configparser
import io
import re
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.animation import FuncAnimation

from natgrad.animation import AnimatedFigure, animated_figure

ROOT = Path(__file__).resolve().parents[1]


def moving_dot(n_frames: int = 5, colour: str = "C0"):
    """A dot moving along a line: frame k draws it at x = k / (n_frames - 1)."""
    fig, ax = plt.subplots(figsize=(2, 1.6), dpi=50)
    ax.set_xlim(-0.1, 1.1)
    ax.set_ylim(-1, 1)
    (dot,) = ax.plot([0.0], [0.0], "o", color=colour, markersize=12)

    def draw(k):
        dot.set_data([k / (n_frames - 1)], [0.0])
        return (dot,)

    return fig, FuncAnimation(fig, draw, frames=n_frames, interval=100)


def reference_frame(n_frames: int, k: int) -> np.ndarray:
    """Frame k drawn directly with savefig, independently of the player."""
    fig, ax = plt.subplots(figsize=(2, 1.6), dpi=50)
    ax.set_xlim(-0.1, 1.1)
    ax.set_ylim(-1, 1)
    ax.plot([k / (n_frames - 1)], [0.0], "o", color="C0", markersize=12)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    plt.close(fig)
    return mpimg.imread(io.BytesIO(buffer.getvalue()))


def pixels(png: bytes) -> np.ndarray:
    return mpimg.imread(io.BytesIO(png))


def frame_count(html: str) -> int:
    return len(re.findall(r'frames\[\d+\] = "data:image/png;base64,', html))


def test_player_has_every_frame_and_the_last_as_still():
    fig, anim = moving_dot(5)
    figure = animated_figure(anim, alt="A dot moves from left to right.")
    assert isinstance(figure, AnimatedFigure)
    assert figure.n_frames == 5 == frame_count(figure.html)
    assert figure.still_frame == 4
    np.testing.assert_array_equal(pixels(figure.still_png), reference_frame(5, 4))
    assert not np.array_equal(pixels(figure.still_png), reference_frame(5, 0))


@pytest.mark.parametrize("still, expected", [(0, 0), (2, 2), (-2, 3)])
def test_still_frame_is_the_requested_one(still, expected):
    _, anim = moving_dot(5)
    figure = animated_figure(anim, alt="A dot moves.", still_frame=still)
    assert figure.still_frame == expected
    np.testing.assert_array_equal(pixels(figure.still_png), reference_frame(5, expected))
    assert f".set_frame({expected}); }}, 0);" in figure.html


def test_player_is_offline_accessible_and_closes_its_figure():
    fig, anim = moving_dot(4)
    figure = animated_figure(anim, alt='The dot "jumps" & lands.')
    assert not plt.fignum_exists(fig.number)
    assert "http://" not in figure.html and "https://" not in figure.html
    assert "font-awesome" not in figure.html and 'class="fa ' not in figure.html
    images = re.findall(r"<img [^>]*>", figure.html)
    assert len(images) == 1 and 'alt="The dot &quot;jumps&quot; &amp; lands."' in images[0]
    labels = re.findall(r'<button title="([^"]+)" aria-label="\1"', figure.html)
    assert {"Play", "Pause", "Next frame", "Previous frame", "First frame", "Last frame"} <= set(labels)


def test_ids_are_derived_from_the_content():
    first = animated_figure(moving_dot(4)[1], alt="A dot moves.")
    again = animated_figure(moving_dot(4)[1], alt="A dot moves.")
    other = animated_figure(moving_dot(4, colour="C1")[1], alt="A dot moves.")
    assert first.html == again.html
    ids = {re.search(r"_anim_img([0-9a-f]{32})", f.html).group(1) for f in (first, other)}
    assert len(ids) == 2


def test_notebook_output_has_player_still_and_summary():
    figure = animated_figure(moving_dot(3)[1], alt="A dot moves.")
    bundle = figure._repr_mimebundle_()
    assert bundle["text/html"] == figure.html
    assert base64.b64decode(bundle["image/png"]) == figure.still_png
    assert bundle["text/plain"] == "<animated figure: 3 frames, still frame 2>"


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering anything")
@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"animation": "not an animation", "alt": "x"}, "animation"),
        ({"alt": ""}, "alt"),
        ({"alt": "   "}, "alt"),
        ({"alt": "x", "still_frame": 5}, "still_frame"),
        ({"alt": "x", "still_frame": -6}, "still_frame"),
        ({"alt": "x", "still_frame": 1.0}, "still_frame"),
        ({"alt": "x", "still_frame": True}, "still_frame"),
        ({"alt": "x", "fps": 0}, "fps"),
        ({"alt": "x", "loop": "bounce"}, "loop"),
    ],
)
def test_bad_arguments_are_rejected_by_name(kwargs, argument):
    _, anim = moving_dot(5)
    kwargs = {"animation": anim, **kwargs}
    with pytest.raises(ValueError, match=f"^{argument}:"):
        animated_figure(**kwargs)
    plt.close("all")


def sanitize(text: str) -> str:
    """Apply tests/nbval_sanitize.cfg the way nbval does: each section's regex, in order."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tests" / "nbval_sanitize.cfg")
    for section in config.sections():
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return text


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering anything")
def test_nbval_sees_two_renderings_of_a_player_as_equal():
    # matplotlib's own player draws a new random id each time; natgrad's frames are PNGs.
    raw_first, raw_again = (moving_dot(4)[1].to_jshtml() for _ in range(2))
    plt.close("all")
    assert raw_first != raw_again
    assert sanitize(raw_first) == sanitize(raw_again)
    assert "FRAME" in sanitize(raw_first) and not re.search(r"[0-9a-f]{32}", sanitize(raw_first))
    # A different number of frames stays visible to nbval.
    assert sanitize(animated_figure(moving_dot(4)[1], alt="x").html) != sanitize(animated_figure(moving_dot(5)[1], alt="x").html)


def _replay_problem():
    import natgrad as ng

    model = ng.softmax_regression(n_features=2, n_classes=3)
    rng = np.random.default_rng(2)
    params = model.init(rng)
    X = rng.normal(size=(12, 2))
    y = np.arange(12) % 3
    steps = {"short": 0.05 * rng.normal(size=9), "long": 4.0 * rng.normal(size=9)}
    return ng, model, params, X, y, steps


def test_step_replay_clock_fractions_kls_and_frames():
    from natgrad.animation import step_replay
    from natgrad.plotting import predicted_classes

    ng, model, params, X, y, steps = _replay_problem()
    lengths = np.array([np.linalg.norm(s) for s in steps.values()])
    replay = step_replay(model, params, steps, X, y, ["a", "b", "c"], xlim=(-3, 3), ylim=(-3, 3), n_frames=6)
    expected_distances = np.concatenate([[0.0], lengths.min() / 10 * (10 * lengths.max() / lengths.min()) ** (np.arange(5) / 4)])
    assert np.allclose(replay.distances, expected_distances)
    assert replay.distances[-1] == pytest.approx(lengths.max())
    assert np.allclose(replay.fractions, np.minimum(1.0, expected_distances[:, None] / lengths))
    assert replay.fractions[-1].tolist() == [1.0, 1.0] and replay.fractions[0].tolist() == [0.0, 0.0]
    for frame in (0, 3, 5):
        for j, step in enumerate(steps.values()):
            moved = params + replay.fractions[frame, j] * step
            assert replay.kls[frame, j] == pytest.approx(ng.model_kl(model, params, moved, X))
    fig = replay.animation._fig
    for frame in (2, 5):
        replay.draw(frame)
        for j, (ax, step) in enumerate(zip(fig.axes, steps.values())):
            moved = params + replay.fractions[frame, j] * step
            assert np.array_equal(ax.images[0].get_array(), predicted_classes(model, moved, (-3, 3), (-3, 3)))
            assert ax.texts[0].get_text().endswith(f"KL {replay.kls[frame, j]:.2g}")
    assert "(all)" in fig.axes[0].texts[0].get_text()  # the short step has ended by frame 5
    long_final = predicted_classes(model, params + steps["long"], (-3, 3), (-3, 3))
    long_start = predicted_classes(model, params, (-3, 3), (-3, 3))
    assert not np.array_equal(long_final, long_start)  # the long step changes the map: the image check can fail
    figure = animated_figure(replay.animation, alt="Two steps replayed.")
    assert figure.n_frames == 6


@pytest.mark.parametrize(
    "change, argument",
    [
        (dict(steps={}), "steps"),
        (dict(steps={"zero": np.zeros(9)}), "steps"),
        (dict(steps={"short": np.ones(4)}), "steps"),
        (dict(params=np.ones(3)), "params"),
        (dict(n_frames=1), "n_frames"),
        (dict(shortest_shown=100.0), "shortest_shown"),
        (dict(model="not a model"), "model"),
    ],
)
def test_step_replay_rejects_bad_arguments_by_name(change, argument):
    from natgrad.animation import step_replay

    ng, model, params, X, y, steps = _replay_problem()
    arguments = dict(model=model, params=params, steps=steps, X=X, y=y, class_names=["a", "b", "c"], n_frames=4) | change
    with pytest.raises(ValueError, match=argument):
        step_replay(**arguments, xlim=(-3, 3), ylim=(-3, 3))
    plt.close("all")


def test_animate_paths_walks_every_path_one_step_per_frame():
    """Reference: frame t of the animation draws exactly rows 0..t of each path."""
    from natgrad.animation import animate_paths

    fig, ax = plt.subplots(figsize=(2, 1.6), dpi=50)
    path_a = np.column_stack([np.arange(4.0), np.zeros(4)])
    path_b = np.column_stack([np.zeros(4), -np.arange(4.0)])
    (line_a,) = ax.plot([], [], "o-")
    (line_b,) = ax.plot([], [], "s--")
    anim = animate_paths(fig, [(line_a, path_a), (line_b, path_b)], interval=100)
    assert len(list(anim.new_frame_seq())) == 4
    np.testing.assert_array_equal(np.column_stack(line_a.get_data()), path_a[:1])  # the first frame is drawn at once
    for t in [2, 3, 0]:
        anim._func(t)
        np.testing.assert_array_equal(np.column_stack(line_a.get_data()), path_a[: t + 1])
        np.testing.assert_array_equal(np.column_stack(line_b.get_data()), path_b[: t + 1])
    figure = animated_figure(anim, alt="Two paths grow one step per frame.")
    assert figure.n_frames == 4
    assert line_b.get_linestyle() == "--" and line_b.get_marker() == "s"  # the caller's style is kept


def test_animate_paths_rejects_bad_input():
    from natgrad.animation import animate_paths

    fig, ax = plt.subplots()
    (line,) = ax.plot([], [])
    good = np.zeros((3, 2))
    for paths in [[], None, [(line,)], [("not a line", good)], [(line, np.zeros((3, 3)))], [(line, np.full((3, 2), np.nan))],
                  [(line, good), (line, np.zeros((4, 2)))]]:
        with pytest.raises(ValueError, match="paths"):
            animate_paths(fig, paths)
    with pytest.raises(ValueError, match="fig"):
        animate_paths(ax, [(line, good)])
    with pytest.raises(ValueError, match="interval"):
        animate_paths(fig, [(line, good)], interval=0.0)
    plt.close(fig)
