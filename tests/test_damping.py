"""Levenberg-Marquardt damping: the reduction ratio and the update rule, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from natgrad import damping


def test_predicted_change_is_the_quadratic_model():
    """Reference: M(delta) - M(0) = g.delta + delta.F.delta / 2 computed from a matrix."""
    rng = np.random.default_rng(0)
    g, delta = rng.normal(size=4), rng.normal(size=4)
    root = rng.normal(size=(4, 4))
    F = root @ root.T
    assert damping.predicted_change(float(g @ delta), float(delta @ F @ delta)) == pytest.approx(g @ delta + 0.5 * delta @ F @ delta, rel=1e-15)


@pytest.mark.parametrize(("actual", "predicted", "expected"), [(-0.3, -0.6, 0.5), (0.2, -0.4, -0.5), (-1.0, -1.0, 1.0), (-2.0, -0.5, 4.0)])
def test_reduction_ratio_is_actual_over_predicted(actual, predicted, expected):
    assert damping.reduction_ratio(actual, predicted) == pytest.approx(expected, rel=1e-15)


def test_reduction_ratio_edge_cases():
    assert damping.reduction_ratio(math.inf, -1.0) == -math.inf  # an overflowing step counts as a failure
    assert damping.reduction_ratio(-math.inf, -1.0) == math.inf
    assert damping.reduction_ratio(-0.1, 0.0) == 1.0  # no predicted decrease, but the loss fell
    assert damping.reduction_ratio(0.1, 0.0) == 0.0
    assert damping.reduction_ratio(0.0, 0.5) == 0.0


@pytest.mark.parametrize(
    ("ratio", "factor"),
    [(0.9, 2 / 3), (0.75 + 1e-12, 2 / 3), (0.75, 1.0), (0.5, 1.0), (0.25, 1.0), (0.25 - 1e-12, 1.5), (-3.0, 1.5), (-math.inf, 1.5), (math.inf, 2 / 3)],
)
def test_adapt_damping_shrinks_above_three_quarters_and_grows_below_one_quarter(ratio, factor):
    assert damping.adapt_damping(0.3, ratio) == pytest.approx(0.3 * factor, rel=1e-15)


def test_adapt_damping_stays_in_its_interval():
    assert damping.adapt_damping(damping.MIN_DAMPING, 1.0) == damping.MIN_DAMPING
    assert damping.adapt_damping(1.2 * damping.MIN_DAMPING, 1.0) == damping.MIN_DAMPING
    assert damping.adapt_damping(damping.MAX_DAMPING, -1.0) == damping.MAX_DAMPING
    assert damping.adapt_damping(0.9 * damping.MAX_DAMPING, -1.0) == damping.MAX_DAMPING
    assert damping.adapt_damping(0.5 * damping.MAX_DAMPING, -1.0) == pytest.approx(0.75 * damping.MAX_DAMPING, rel=1e-15)


def test_the_published_constants():
    assert (damping.DECREASE, damping.INCREASE, damping.LOW, damping.HIGH) == (2 / 3, 1.5, 0.25, 0.75)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: damping.predicted_change(math.nan, 1.0), "grad_dot_step: expected a finite number, got nan"),
        (lambda: damping.predicted_change(-1.0, "1"), "curvature: expected a finite number, got '1'"),
        (lambda: damping.predicted_change(-1.0, -0.5), "curvature: expected delta^T F delta >= 0, got -0.5"),
        (lambda: damping.reduction_ratio(-1.0, math.inf), "predicted: expected a finite number, got inf"),
        (lambda: damping.reduction_ratio(math.nan, -1.0), "actual: expected a number (inf allowed), got nan"),
        (lambda: damping.reduction_ratio(True, -1.0), "actual: expected a number (inf allowed), got True"),
        (lambda: damping.adapt_damping(0.0, 0.5), "damping: expected a finite number > 0, got 0.0"),
        (lambda: damping.adapt_damping(1.0, math.nan), "ratio: expected a number (inf allowed), got nan"),
    ],
)
def test_bad_inputs_raise_value_errors_naming_the_argument(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == message
