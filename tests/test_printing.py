"""natgrad.printing: round-off-level residuals print as their bound, larger ones with their digits."""

import numpy as np
import pytest

from natgrad.printing import residual


@pytest.mark.parametrize(
    ("value", "bound", "expected"),
    [
        (3.2e-17, 1e-12, "below 1e-12"),
        (0.0, 1e-12, "below 1e-12"),
        (np.float64(9.99e-13), 1e-12, "below 1e-12"),
        (1e-12, 1e-12, "1.0e-12"),
        (2.345e-5, 1e-12, "2.3e-05"),
        (44.34, 1e-12, "4.4e+01"),
        (5e-9, 1e-8, "below 1e-08"),
        (np.float32(0.5), 1e-3, "5.0e-01"),
    ],
)
def test_residual_prints_the_bound_or_the_digits(value, bound, expected):
    assert residual(value, bound) == expected


def test_residual_default_bound_is_1e_12():
    assert residual(5e-13) == "below 1e-12"
    assert residual(5e-12) == "5.0e-12"


@pytest.mark.parametrize("value", [-1e-20, float("nan"), float("inf"), "small", None, True])
def test_residual_rejects_what_is_not_a_size(value):
    with pytest.raises(ValueError, match=r"^value: expected a finite number >= 0"):
        residual(value)


@pytest.mark.parametrize("bound", [0.0, -1e-12, float("inf"), "1e-12"])
def test_residual_rejects_a_bound_that_is_not_positive(bound):
    with pytest.raises(ValueError, match=r"^bound: expected a finite number > 0"):
        residual(1.0, bound)
