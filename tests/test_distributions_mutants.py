"""natgrad.distributions: the cases that mutation testing found unchecked (tests/MUTATION.md).

References: the exact error messages of the API contract, written out by hand.
"""

from __future__ import annotations

import re

import pytest

import natgrad as ng


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ng.kl_bernoulli("logits", [0.0]), "logits_p: expected an array of real numbers, got str"),
        (lambda: ng.kl_bernoulli([0.0], "logits"), "logits_q: expected an array of real numbers, got str"),
    ],
)
def test_exact_messages(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()
