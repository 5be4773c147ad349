"""Tests written to kill mutants of natgrad.animation that the other tests let survive.

Kept apart from tests/test_animation.py; see tests/MUTATION.md.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from test_animation import moving_dot  # noqa: E402

from natgrad.animation import animated_figure  # noqa: E402


def checked_mode(html: str) -> str:
    (mode,) = re.findall(r'<input type="radio" name="state" value="(\w+)"[^>]*\bchecked>', html)
    return mode


def test_fps_and_loop_reach_the_player():
    figure = animated_figure(moving_dot(4)[1], alt="A dot moves.", fps=5, loop="loop")
    assert "slider_id, 200," in figure.html  # 5 frames per second: 200 ms a frame
    assert checked_mode(figure.html) == "loop"
    default = animated_figure(moving_dot(4)[1], alt="A dot moves.")
    assert "slider_id, 100.0," in default.html  # the animation's own interval
    assert checked_mode(default.html) == "once"


def test_player_markup_alt_and_id():
    alt = "The dot's path"
    figure = animated_figure(moving_dot(4)[1], alt=alt)
    assert figure.alt == alt
    assert '<div class="animation" role="group" aria-label="Animated figure, 4 frames">' in figure.html
    assert 'alt="The dot&#x27;s path"' in figure.html
    (player_id,) = set(re.findall(r"anim([0-9a-f]+)\.set_frame\(3\)", figure.html))
    assert len(player_id) == 32
    assert figure.html.endswith(
        f'\n<script language="javascript">\n  setTimeout(function() {{ anim{player_id}.set_frame(3); }}, 0);\n</script>\n'
    )
    assert "XX" not in figure.html


def test_still_frame_may_count_every_frame_from_the_end():
    figure = animated_figure(moving_dot(4)[1], alt="A dot moves.", still_frame=-4)
    assert figure.still_frame == 0


def test_only_the_animations_figure_is_closed():
    fig, anim = moving_dot(3)
    other = plt.figure()
    animated_figure(anim, alt="A dot moves.")
    assert not plt.fignum_exists(fig.number)
    assert plt.fignum_exists(other.number)
    plt.close(other)


def test_a_non_animation_is_named_by_its_type():
    with pytest.raises(ValueError, match="^animation: expected a matplotlib.animation.Animation, got str$"):
        animated_figure("not an animation", alt="x")
