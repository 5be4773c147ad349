"""natgrad.gauss_newton: the cases that mutation testing found unchecked (tests/MUTATION.md).

References: the exact error messages of the API contract, and G = 0 for outputs that do not
depend on the parameters (J = 0).
"""

from __future__ import annotations

import re
import warnings

import autograd.numpy as anp
import numpy as np
import pytest

from natgrad.gauss_newton import gauss_newton


def squared(z):
    return 0.5 * anp.sum(z**2)


@pytest.mark.parametrize(
    "output_fn, loss_of_outputs, message",
    [
        (3, squared, "output_fn: expected a function, got int"),
        (lambda p: p, "loss", "loss_of_outputs: expected a function, got str"),
    ],
)
def test_exact_messages(output_fn, loss_of_outputs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        gauss_newton(output_fn, loss_of_outputs, np.zeros(2))


def test_integer_outputs_that_do_not_depend_on_the_parameters_give_zero():
    """Constant integer outputs are converted to floats before the loss's Hessian is taken."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # autograd: the output does not depend on the input
        G = gauss_newton(lambda p: np.array([1, 2]), squared, np.zeros(3))
    np.testing.assert_array_equal(G, np.zeros((3, 3)))
