"""Animated figures that play offline in the HTML book and stay still in the PDF.

:func:`animated_figure` turns a matplotlib animation into matplotlib's JavaScript player
(:meth:`matplotlib.animation.Animation.to_jshtml`, every frame embedded as a PNG), made fit
for the book:

- it plays with no server and no network: the player's only remote resource, the icon
  font it links from a CDN, is replaced by plain Unicode symbols on its buttons;
- it keeps one frame as a still PNG, which the PDF prints and which the HTML player shows
  before it is played;
- the player's image carries the figure's alt text, and its controls their labels;
- its element ids are derived from its content instead of drawn at random, so that
  re-running an unchanged chapter leaves the notebook unchanged.

In a notebook the result displays as the player, with the still PNG in the same output
(Jupyter Book's HTML pages take the player, its LaTeX builder the PNG). Keep animations
small, since every frame is stored in the notebook: a few dozen frames of a figure of a
few inches at 80 dpi.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from natgrad._checks import one_of, positive_finite

LOOP_MODES = ("once", "loop", "reflect")

# The button labels of the player: matplotlib's icon font is remote, these are Unicode.
_BUTTON_SYMBOLS = {
    "fa-minus": "\u2212",
    "fa-fast-backward": "\u275a\u25c0\u25c0",
    "fa-step-backward": "\u275a\u25c0",
    "fa-play fa-flip-horizontal": "\u25c0",
    "fa-pause": "\u275a\u275a",
    "fa-play": "\u25b6",
    "fa-step-forward": "\u25b6\u275a",
    "fa-fast-forward": "\u25b6\u25b6\u275a",
    "fa-plus": "+",
}

_FRAME = re.compile(r'frames\[(\d+)\] = "data:image/png;base64,(.*?)"', re.DOTALL)
_PLAYER_ID = re.compile(r"_anim_img([0-9a-f]{32})")
_REMOTE_STYLESHEET = re.compile(r'<link rel="stylesheet"\s+href="https?://[^"]*">\s*')
_ICON = re.compile(r'<i class="fa ([a-z -]+)"></i>')


@dataclass(frozen=True)
class AnimatedFigure:
    """An animation as an offline HTML player, its still frame and its alt text.

    ``html`` is the player (no remote resources), ``still_png`` the PNG bytes of frame
    ``still_frame`` of ``n_frames``. Displayed in Jupyter, it gives both ``text/html``
    and ``image/png``, and a ``text/plain`` summary.
    """

    html: str
    still_png: bytes
    alt: str
    n_frames: int
    still_frame: int

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {
            "text/html": self.html,
            "image/png": base64.b64encode(self.still_png).decode("ascii"),
            "text/plain": f"<animated figure: {self.n_frames} frames, still frame {self.still_frame}>",
        }


def _frames(player_html: str) -> list[bytes]:
    found = sorted((int(index), data) for index, data in _FRAME.findall(player_html))
    return [base64.b64decode(data.replace("\\\n", "")) for _, data in found]


def animated_figure(animation, alt: str, *, still_frame: int = -1, fps: float | None = None, loop: str = "once") -> AnimatedFigure:
    """The offline HTML player of a matplotlib animation, with a still frame and alt text.

    ``animation`` is a :class:`matplotlib.animation.Animation` (e.g. a ``FuncAnimation``
    built with ``blit=False``); ``alt`` describes the figure for readers who cannot see it;
    ``still_frame`` is the frame the PDF prints and the player first shows (default: the
    last, where the motion ends); ``fps`` the frame rate (default: the animation's
    interval); ``loop`` what the player does at the end: ``"once"``, ``"loop"`` or
    ``"reflect"``. Renders every frame once, then closes the animation's figure, so the
    notebook shows the player and not a stray still image.
    """
    from matplotlib import pyplot as plt
    from matplotlib.animation import Animation

    if not isinstance(animation, Animation):
        raise ValueError(f"animation: expected a matplotlib.animation.Animation, got {type(animation).__name__}")
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt: expected a non-empty description of the figure")
    if isinstance(still_frame, bool) or not isinstance(still_frame, Integral):
        raise ValueError(f"still_frame: expected an integer frame index, got {still_frame!r}")
    if fps is not None:
        positive_finite(fps, "fps")
    one_of(loop, "loop", LOOP_MODES)

    player = animation.to_jshtml(fps=fps, embed_frames=True, default_mode=loop)
    plt.close(animation._fig)  # Animation keeps its figure only as this private attribute
    frames = _frames(player)
    if not frames:
        raise ValueError("animation: it produced no frames")
    if not -len(frames) <= still_frame < len(frames):
        raise ValueError(f"still_frame: expected an index into the {len(frames)} frames, got {still_frame}")
    still = still_frame % len(frames)

    random_id = _PLAYER_ID.search(player).group(1)
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(frame)
    digest.update(alt.encode("utf-8"))
    player_id = digest.hexdigest()[:32]
    player = player.replace(random_id, player_id)
    player = _REMOTE_STYLESHEET.sub("", player)
    player = _ICON.sub(lambda match: f'<span aria-hidden="true">{_BUTTON_SYMBOLS[match.group(1)]}</span>', player)
    player = player.replace(
        f'<img id="_anim_img{player_id}">',
        f'<img id="_anim_img{player_id}" alt="{html.escape(alt, quote=True)}">',
    )
    player = player.replace(
        '<div class="animation">',
        f'<div class="animation" role="group" aria-label="Animated figure, {len(frames)} frames">',
    )
    # The player is built in a setTimeout(0); a second one runs after it and shows the still.
    player += (
        '\n<script language="javascript">\n'
        f"  setTimeout(function() {{ anim{player_id}.set_frame({still}); }}, 0);\n"
        "</script>\n"
    )
    if re.search(r"(src|href)=\"https?://", player) or "font-awesome" in player:
        raise RuntimeError("the player still loads a remote resource")
    return AnimatedFigure(html=player, still_png=frames[still], alt=alt, n_frames=len(frames), still_frame=still)


@dataclass(frozen=True)
class StepReplay:
    """The animation :func:`step_replay` builds, with its clock.

    ``distances[f]`` is the distance travelled in parameter space at frame ``f``;
    ``fractions[f, j]`` the fraction of step ``j`` taken then, :math:`\\min(1, r_f/\\lVert\\delta_j\\rVert)`;
    ``kls[f, j]`` the KL from the start, mean over the inputs; ``draw(f)`` draws frame ``f``.
    """

    animation: object
    distances: object
    fractions: object
    kls: object
    draw: object


def step_replay(model, params, steps, X, y, class_names, *, xlim, ylim, n_frames: int = 30,
                shortest_shown: float | None = None, figsize=(9.6, 2.7), dpi: float = 72) -> StepReplay:
    r"""Replay several steps from one point, on one clock: the distance travelled in parameter space.

    ``steps`` maps a name to a step :math:`\delta_j` from ``params`` (flat vectors). Each step
    gets one panel, showing the classes a two-feature classifier predicts over ``xlim`` x
    ``ylim`` (:func:`natgrad.plotting.predicted_classes`), the inputs ``X`` with their labels
    ``y``, and two numbers: the distance travelled and
    :math:`\mathrm{KL}(\theta, \theta + s\,\delta_j)` averaged over ``X``. The clock runs from 0
    (frame 0) through ``n_frames - 1`` geometrically spaced distances
    :math:`r_f`, from ``shortest_shown`` (default: a tenth of the shortest step) to the
    longest step; at distance :math:`r_f` step ``j`` has moved the parameters to
    :math:`\theta + \min(1, r_f / \lVert\delta_j\rVert)\,\delta_j`, so a short step stops early
    and a long one keeps going. Chapter 7 replays one outlier batch's steps this way.
    Returns a :class:`StepReplay`; pass its ``animation`` to :func:`animated_figure`.
    """
    import numpy as np
    from matplotlib import pyplot as plt
    from matplotlib.animation import FuncAnimation
    from matplotlib.colors import ListedColormap, to_rgb

    from natgrad._checks import flat_vector, positive_int
    from natgrad.models import Model, model_kl
    from natgrad.plotting import CLASS_COLORS, plot_classes, predicted_classes

    if not isinstance(model, Model):
        raise ValueError(f"model: expected a natgrad model, got {type(model).__name__}")
    params = flat_vector(params, "params", model.n_params)
    if not isinstance(steps, dict) or not steps:
        raise ValueError("steps: expected a non-empty dict mapping a name to a step")
    deltas = {name: flat_vector(step, f"steps[{name!r}]", model.n_params) for name, step in steps.items()}
    lengths = np.array([np.linalg.norm(delta) for delta in deltas.values()])
    if np.any(lengths == 0):
        raise ValueError("steps: expected nonzero steps")
    n_frames = positive_int(n_frames, "n_frames")
    if n_frames < 2:
        raise ValueError(f"n_frames: expected at least 2 frames, got {n_frames}")
    shortest = lengths.min() / 10 if shortest_shown is None else positive_finite(shortest_shown, "shortest_shown")
    if not shortest < lengths.max():
        raise ValueError(f"shortest_shown: expected a distance below the longest step {lengths.max():.3g}, got {shortest}")

    distances = np.concatenate([[0.0], np.geomspace(shortest, lengths.max(), n_frames - 1)])
    fractions = np.minimum(1.0, distances[:, None] / lengths[None, :])
    kls = np.array([[model_kl(model, params, params + s * delta, X) for s, delta in zip(row, deltas.values())]
                    for row in fractions])

    background = ListedColormap([tuple(0.55 + 0.45 * np.array(to_rgb(c))) for c in CLASS_COLORS[: model.n_classes]])
    fig, axes = plt.subplots(1, len(deltas), figsize=figsize, dpi=dpi, sharex=True, sharey=True, squeeze=False)
    axes = axes[0]
    images, labels = [], []
    for ax, name in zip(axes, deltas):
        image = ax.imshow(predicted_classes(model, params, xlim, ylim), origin="lower", extent=(*xlim, *ylim),
                          cmap=background, vmin=-0.5, vmax=model.n_classes - 0.5, aspect="auto", interpolation="nearest")
        plot_classes(ax, X, y, class_names, s=7, linewidths=0.3)
        ax.set_title(name, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        images.append(image)
        labels.append(ax.text(0.03, 0.03, "", transform=ax.transAxes, fontsize=7, va="bottom",
                              bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.5)))
    clock = fig.suptitle("", fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.92))

    def draw(frame):
        for j, (image, label, delta) in enumerate(zip(images, labels, deltas.values())):
            image.set_data(predicted_classes(model, params + fractions[frame, j] * delta, xlim, ylim))
            moved = fractions[frame, j] * lengths[j]
            label.set_text(f"moved {moved:.3g}{' (all)' if fractions[frame, j] == 1 else ''}\nKL {kls[frame, j]:.2g}")
        clock.set_text(f"distance travelled in parameter space: {distances[frame]:.3g}")
        return [*images, *labels, clock]

    draw(0)
    animation = FuncAnimation(fig, draw, frames=n_frames, interval=250, blit=False)
    return StepReplay(animation=animation, distances=distances, fractions=fractions, kls=kls, draw=draw)


def animate_paths(fig, paths, *, interval: float = 200.0):
    r"""A ``FuncAnimation`` that walks optimisation paths forward one iterate per frame.

    ``paths`` is a list of ``(line, path)`` pairs: a matplotlib ``Line2D`` already on the
    figure (its style and label are kept) and an array of shape (T, 2) of iterates
    :math:`\theta_0, \dots, \theta_{T-1}`, all of the same length T. Frame :math:`t` shows
    :math:`\theta_0, \dots, \theta_t` of every path, so the frames are the steps
    :math:`t = 0, \dots, T-1`. Pass the result to :func:`animated_figure`. Chapter 1.
    """
    from matplotlib.animation import FuncAnimation
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    if not isinstance(fig, Figure):
        raise ValueError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(paths, (list, tuple)) or not paths:
        raise ValueError("paths: expected a non-empty list of (line, path) pairs")
    checked = []
    for index, pair in enumerate(paths):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], Line2D):
            raise ValueError(f"paths: entry {index} is not a (matplotlib Line2D, path) pair")
        path = np.asarray(pair[1], dtype=float)
        if path.ndim != 2 or path.shape[1] != 2 or path.shape[0] < 1 or not np.all(np.isfinite(path)):
            raise ValueError(f"paths: entry {index} is not a finite array of shape (T, 2), got shape {path.shape}")
        checked.append((pair[0], path))
    n_frames = checked[0][1].shape[0]
    if any(path.shape[0] != n_frames for _, path in checked):
        raise ValueError("paths: expected paths of equal length, one iterate per frame")
    positive_finite(interval, "interval")

    def draw(t):
        for line, path in checked:
            line.set_data(path[: t + 1, 0], path[: t + 1, 1])
        return [line for line, _ in checked]

    draw(0)
    return FuncAnimation(fig, draw, frames=n_frames, interval=interval, blit=False)
