"""natgrad.fisher: the cases that mutation testing found unchecked (tests/MUTATION.md).

References: the exact error messages of the API contract, written out by hand.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import natgrad as ng

MODEL = ng.softmax_regression(2, 3)
PARAMS = np.linspace(-1.0, 1.0, MODEL.n_params)
X = np.array([[0.5, -1.0], [2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


@pytest.mark.parametrize(
    "u, message",
    [
        ("outputs", "u: expected an array of real numbers, got str"),
        (np.ones((4, 2)), "u: expected shape (4, 3) (one row per input, one column per output), got (4, 2)"),
        (np.full((4, 3), np.nan), "u: expected finite values, found NaN or inf"),
    ],
)
def test_vjp_messages(u, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        ng.linearize(MODEL, PARAMS, X).vjp(u)


def test_linearize_rejects_no_rows():
    with pytest.raises(ValueError, match=r"^X: expected at least one row$"):
        ng.linearize(MODEL, PARAMS, np.zeros((0, 2)))
