"""natgrad.adam's chapter 11 functions against independent references: every mini-batch
enumerated, the drifting filter iterated to its fixed point, and the closed-form limits."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from natgrad import adam


def test_expected_batch_second_moment_averages_over_every_batch():
    rng = np.random.default_rng(0)
    per_example = rng.normal(size=(7, 3)) * np.array([1.0, 4.0, 0.1]) + np.array([0.5, -1.0, 0.0])
    for batch_size in (1, 3, 7):
        batches = list(combinations(range(7), batch_size))
        enumerated = np.mean([per_example[list(b)].mean(axis=0) ** 2 for b in batches], axis=0)
        np.testing.assert_allclose(adam.expected_batch_second_moment(per_example, batch_size), enumerated, rtol=1e-12)


def test_running_average_of_sampled_batches_tends_to_the_expected_second_moment():
    rng = np.random.default_rng(1)
    per_example = rng.normal(size=(50, 2)) + np.array([1.0, 0.2])
    batches = [rng.choice(50, size=10, replace=False) for _ in range(100_000)]
    running = adam.running_second_moment(np.array([per_example[b].mean(axis=0) for b in batches]), beta2=0.99999)
    np.testing.assert_allclose(running, adam.expected_batch_second_moment(per_example, 10), rtol=0.02)


def iterate_filter(second_moment, drift_std, n_steps=200_000):
    precision = np.ones_like(second_moment)
    for _ in range(n_steps):
        precision = 1.0 / (1.0 / precision + drift_std**2) + second_moment
    return precision


@pytest.mark.parametrize("drift_std", [1e-2, 0.3, 3.0])
def test_drift_steady_state_is_the_fixed_point_of_the_filter(drift_std):
    second_moment = np.array([1e-4, 0.02, 1.0, 30.0])
    np.testing.assert_allclose(adam.drift_steady_state_precision(second_moment, drift_std),
                               iterate_filter(second_moment, drift_std), rtol=1e-10)


@given(st.floats(1e-6, 1e3), st.floats(1e-3, 1e2))
def test_drift_steady_state_limits_are_the_root_and_the_mean_square(second_moment, drift_std):
    """sqrt(v) / sigma_drift <= precision <= sqrt(v) / sigma_drift + v, with each bound tight in its limit."""
    precision = float(adam.drift_steady_state_precision(np.array([second_moment]), drift_std)[0])
    root = np.sqrt(second_moment) / drift_std
    assert root * (1 - 1e-12) <= precision <= (root + second_moment) * (1 + 1e-12)
    assert precision >= second_moment * (1 - 1e-12)


def test_drift_steady_state_in_its_two_regimes():
    v = np.array([4.0])
    assert adam.drift_steady_state_precision(v, 1e-4)[0] / (np.sqrt(v[0]) / 1e-4) == pytest.approx(1.0, abs=1e-3)
    assert adam.drift_steady_state_precision(v, 1e4)[0] / v[0] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: adam.expected_batch_second_moment(np.ones(3), 1), "per_example_grads"),
        (lambda: adam.expected_batch_second_moment(np.ones((4, 2)), 5), "batch_size"),
        (lambda: adam.expected_batch_second_moment(np.ones((4, 2)), 0), "batch_size"),
        (lambda: adam.drift_steady_state_precision(-np.ones(2), 0.1), "second_moment"),
        (lambda: adam.drift_steady_state_precision(np.ones(2), 0.0), "drift_std"),
        (lambda: adam.running_second_moment(np.ones((2, 3)), beta2="0.9"), "beta2"),
        (lambda: adam.adam_direction(np.ones((2, 2)), np.ones(4)), "grad"),
        (lambda: adam.adam_direction(np.ones(2), np.ones(2), eps=-1.0), "eps"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
