"""natgrad.minibatch: the cases that mutation testing found unchecked (tests/MUTATION.md).

References: the exact error messages of the API contract for the clipping of the SGD update.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import natgrad as ng
from natgrad import minibatch

MODEL = ng.softmax_regression(2, 3)
PARAMS = np.zeros(MODEL.n_params)
X = np.array([[0.5, -1.0], [2.0, 0.0]])
Y = np.array([0, 2])


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(method="natural", kl_budget=0.1, max_step_length=1.0), "max_step_length: only the 'sgd' update is clipped; a KL budget bounds the natural step"),
        (dict(method="sgd", learning_rate=0.1, max_step_length=0.0), "max_step_length: expected a finite number > 0, got 0.0"),
    ],
)
def test_exact_messages_of_the_clipping(changes, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        minibatch.update(MODEL, PARAMS, X, Y, **changes)
