"""Small synthetic data sets that the chapters train on.

Chapter 2 introduces the fruit classifier: each fruit is described by two measured
features and belongs to one of three classes.
"""

from __future__ import annotations

import numpy as np

from natgrad._checks import generator, positive_int

#: The fruit's names, indexed by the class labels 0, 1, 2.
FRUIT_NAMES = ("apple", "banana", "orange")
FRUIT_FEATURES = ("elongation", "yellowness")

# Per class: mean and standard deviation of (elongation = length / width, yellowness in [0, 1]).
_FRUIT_MEANS = np.array([[1.1, 0.30], [3.0, 0.85], [1.0, 0.60]])
_FRUIT_STDS = np.array([[0.12, 0.10], [0.45, 0.07], [0.08, 0.08]])


def fruit(n_per_class: int = 60, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """The apple / banana / orange data set: ``X`` of shape (3 n, 2) and integer labels ``y``.

    Features are elongation (length over width) and yellowness (0 to 1), drawn from one
    Gaussian per class and then standardised to mean 0 and variance 1 per feature, so
    that parameter scales are comparable. Labels index :data:`FRUIT_NAMES`. Seeded and
    reproducible. Chapter 2.
    """
    n_per_class = positive_int(n_per_class, "n_per_class")
    rng = generator(seed, "seed")
    X = np.concatenate([rng.normal(mean, std, size=(n_per_class, 2)) for mean, std in zip(_FRUIT_MEANS, _FRUIT_STDS)])
    y = np.repeat(np.arange(len(FRUIT_NAMES)), n_per_class)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, y
