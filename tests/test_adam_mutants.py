"""natgrad.adam: the cases that mutation testing found unchecked (tests/MUTATION.md).

References: the mean over every batch of two of two rows drawn without replacement, written
out by hand, and the exact error messages of the API contract.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from natgrad import adam


def test_two_rows_and_one_parameter_are_enough():
    """N = 2, P = 1, |B| = 1: the mean of g^2 over the two single-row batches, (1 + 9) / 2 = 5."""
    np.testing.assert_allclose(adam.expected_batch_second_moment([[1.0], [3.0]], 1), [5.0], rtol=1e-15)
    # |B| = N = 2: the one batch is all rows, and its mean gradient is 2
    np.testing.assert_allclose(adam.expected_batch_second_moment([[1.0], [3.0]], 2), [4.0], rtol=1e-15)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: adam.expected_batch_second_moment([[np.nan], [1.0]], 1), "per_example_grads: expected finite values, found NaN or inf"),
        (lambda: adam.expected_batch_second_moment([[1.0, 2.0]], 1), "per_example_grads: expected a 2-D array (N, P) with N >= 2, got shape (1, 2)"),
        (lambda: adam.expected_batch_second_moment([[1.0], [2.0]], 0), "batch_size: expected an integer >= 1, got 0"),
        (lambda: adam.drift_steady_state_precision([1.0], 0.0), "drift_std: expected a finite number > 0, got 0.0"),
    ],
)
def test_exact_messages(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()
