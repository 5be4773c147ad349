"""The synthetic fruit data set (chapter 2)."""

from __future__ import annotations

import numpy as np
import pytest

from natgrad.datasets import FRUIT_NAMES, fruit


def test_shapes_labels_and_standardisation():
    X, y = fruit(n_per_class=40, seed=3)
    assert X.shape == (120, 2) and X.dtype == np.float64
    assert np.array_equal(np.bincount(y), [40, 40, 40])
    assert y.max() == len(FRUIT_NAMES) - 1
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)


def test_same_seed_same_data_other_seed_other_data():
    X1, _ = fruit(seed=7)
    X2, _ = fruit(seed=7)
    X3, _ = fruit(seed=8)
    assert np.array_equal(X1, X2)
    assert not np.allclose(X1, X3)


def test_bananas_are_the_elongated_fruit():
    X, y = fruit(n_per_class=200, seed=0)
    elongation = [X[y == k, 0].mean() for k in range(3)]
    assert np.argmax(elongation) == FRUIT_NAMES.index("banana")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="n_per_class"):
        fruit(n_per_class=bad)


def test_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        fruit(seed="zero")


def test_defaults_are_sixty_fruit_per_class_and_seed_zero():
    X, y = fruit()
    X_ref, y_ref = fruit(60, seed=0)
    assert X.shape == (180, 2)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_class_means_and_spreads_follow_the_published_recipe():
    """Reference: standardising is affine per feature, so it keeps ratios of class-mean gaps and of
    class standard deviations: yellowness gaps (0.85 - 0.30) / (0.60 - 0.30) and elongation spreads
    0.45 / 0.12 (banana / apple), 0.10 / 0.07 for yellowness (apple / banana). 20,000 per class."""
    X, y = fruit(20_000, seed=3)
    means = np.array([X[y == k].mean(axis=0) for k in range(3)])
    stds = np.array([X[y == k].std(axis=0) for k in range(3)])
    assert (means[1, 1] - means[0, 1]) / (means[2, 1] - means[0, 1]) == pytest.approx(0.55 / 0.30, rel=0.02)
    assert (means[1, 0] - means[0, 0]) / (means[2, 0] - means[0, 0]) == pytest.approx(1.9 / -0.1, rel=0.05)
    assert stds[1, 0] / stds[0, 0] == pytest.approx(0.45 / 0.12, rel=0.03)
    assert stds[0, 1] / stds[1, 1] == pytest.approx(0.10 / 0.07, rel=0.03)
