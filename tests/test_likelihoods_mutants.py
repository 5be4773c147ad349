"""natgrad.likelihoods: the cases that mutation testing found unchecked (tests/MUTATION.md).

References: the documented shapes of a sampler's output with the default ``n_samples = 1``,
and the exact error message of the API contract for an argument that is not an array of
real numbers.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from natgrad.likelihoods import get

Z = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])


def test_categorical_sample_draws_one_label_per_row_by_default():
    labels = get("categorical").sample(Z, np.random.default_rng(0))
    assert labels.shape == (2, 1)
    np.testing.assert_array_equal(labels, get("categorical").sample(Z, np.random.default_rng(0), 1))


def test_gaussian_sample_draws_one_target_per_row_by_default():
    targets = get("gaussian").sample(Z, np.random.default_rng(0))
    assert targets.shape == (2, 1, 3)
    np.testing.assert_array_equal(targets, Z[:, None, :] + np.random.default_rng(0).standard_normal((2, 1, 3)))


def test_bernoulli_sample_draws_one_target_per_row_by_default():
    targets = get("bernoulli").sample(Z, np.random.default_rng(0))
    assert targets.shape == (2, 1, 3)
    np.testing.assert_array_equal(targets, get("bernoulli").sample(Z, np.random.default_rng(0), 1))


def test_gaussian_sample_names_outputs_that_are_not_numbers():
    with pytest.raises(ValueError, match=r"^z: expected an array of real numbers, got str$"):
        get("gaussian").sample("outputs", np.random.default_rng(0))


@pytest.mark.parametrize(
    "name, y, message",
    [
        ("gaussian", np.ones(3), "y: expected real targets of shape (N, K) = (2, 1) (or (N,) for one output), got shape (3,)"),
        ("bernoulli", np.ones(3), "y: expected values in [0, 1] of shape (N, K) = (2, 1) (or (N,) for one output), got shape (3,)"),
        ("categorical", np.ones(3, dtype=int), "y: expected 2 integer labels, got shape (3,) and dtype int64"),
    ],
)
def test_check_targets_names_y_by_default(name, y, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        get(name).check_targets(y, 2, 1)


def test_real_targets_of_several_outputs_have_no_vector_form_in_the_message():
    message = "y: expected real targets of shape (N, K) = (2, 2), got shape (2, 3)"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        get("gaussian").check_targets(np.ones((2, 3)), 2, 2)


def test_monte_carlo_factors_draw_one_sample_per_row_by_default():
    Z = np.array([[0.3, -0.2, 1.0], [0.0, 0.5, -1.0]])
    default = get("categorical").output_factors(Z, "monte_carlo", rng=np.random.default_rng(3))
    one = get("categorical").output_factors(Z, "monte_carlo", n_samples=1, rng=np.random.default_rng(3))
    assert default.shape == (2, 1, 3)
    np.testing.assert_array_equal(default, one)


def test_categorical_check_targets_names_the_targets_it_was_given():
    with pytest.raises(ValueError, match="^labels"):
        get("categorical").check_targets(np.array([0, 5]), 2, 3, "labels")


def test_model_check_targets_names_the_targets_it_was_given():
    import natgrad as ng
    from natgrad.models import check_targets

    model = ng.softmax_regression(2, 3)
    with pytest.raises(ValueError, match="^labels"):
        check_targets(model, np.array([0, 5]), 2, "labels")
