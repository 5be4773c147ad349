"""Shared fixtures for the natgrad test suite.

Every fixture is tiny (P < 100) and seeded with ``numpy.random.default_rng`` so that
the whole suite is deterministic. Hypothesis is configured without an example
database so that running the tests writes nothing outside ``tests/``.
"""

from __future__ import annotations

import os
import tempfile

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

import natgrad as ng  # noqa: E402
from tests.helpers import make_data, random_params  # noqa: E402

# Keep hypothesis' caches out of the repository.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "natgrad-tests-hypothesis"))
settings.register_profile(
    "natgrad",
    database=None,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("natgrad")


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


@pytest.fixture
def softmax_problem():
    """Softmax regression, 3 features, 4 classes (P = 16), 12 rows, random params and labels."""
    model = ng.softmax_regression(3, 4)
    X, y = make_data(12, 3, 4, seed=1)
    params = random_params(model, seed=2, scale=0.7)
    return model, params, X, y


@pytest.fixture
def tanh_problem():
    """tanh MLP 3-5-4-3 (P = 59), 10 rows."""
    model = ng.mlp([3, 5, 4, 3], activation="tanh")
    X, y = make_data(10, 3, 3, seed=3)
    params = random_params(model, seed=4, scale=0.8)
    return model, params, X, y


@pytest.fixture
def sigmoid_problem():
    """sigmoid MLP 2-4-3-3 (P = 39), 9 rows."""
    model = ng.mlp([2, 4, 3, 3], activation="sigmoid")
    X, y = make_data(9, 2, 3, seed=5)
    params = random_params(model, seed=6, scale=1.2)
    return model, params, X, y


@pytest.fixture(params=["softmax", "tanh", "sigmoid"])
def any_problem(request, softmax_problem, tanh_problem, sigmoid_problem):
    """Each of the three small problems in turn."""
    return {"softmax": softmax_problem, "tanh": tanh_problem, "sigmoid": sigmoid_problem}[request.param]
