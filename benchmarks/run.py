"""Speed goals for natgrad (``make bench``).

Each goal is a ratio against a baseline timed in the same run on the same data, so the
numbers mean the same on a fast or a slow, busy machine. The tests never time anything.
Timings are medians over repeats after a warm-up call.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from autograd import grad

import natgrad as ng

N_ROWS, N_FEATURES, N_CLASSES = 1797, 64, 10  # the shape of scikit-learn's digits


def median_seconds(fn, repeats: int = 7) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def data(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    y = rng.integers(0, N_CLASSES, size=N_ROWS)
    return rng, X, y


def bench_fisher_vector_product() -> dict:
    """One Fisher-vector product against one gradient of the loss, 64-64-10 tanh MLP."""
    rng, X, y = data()
    model = ng.mlp([N_FEATURES, 64, N_CLASSES], activation="tanh")
    params = model.init(rng)
    v = rng.normal(size=model.n_params)
    loss_grad = grad(lambda p: ng.cross_entropy(model, p, X, y))
    product = ng.fisher_vector_product(model, params, X)
    baseline = median_seconds(lambda: loss_grad(params))
    measured = median_seconds(lambda: product(v))
    return {
        "goal": "fisher_vector_product / gradient, 64-64-10 tanh MLP, 1797 rows",
        "baseline": baseline,
        "measured": measured,
        "ratio": measured / baseline,
        "target": "<= 1.5",
        "met": measured / baseline <= 1.5,
    }


def bench_dense_softmax_fisher() -> dict:
    """Dense exact Fisher of softmax regression (650 params) against one 650x1797x650 matrix product."""
    rng, X, _ = data()
    model = ng.softmax_regression(N_FEATURES, N_CLASSES)
    params = model.init(rng)
    G = rng.normal(size=(N_ROWS, model.n_params))
    baseline = median_seconds(lambda: G.T @ G)
    measured = median_seconds(lambda: ng.fisher(model, params, X))
    return {
        "goal": "dense exact Fisher / one Gram product G^T G, softmax regression 64x10, 1797 rows",
        "baseline": baseline,
        "measured": measured,
        "ratio": measured / baseline,
        "target": f"<= 0.1 s (measured {measured:.3f} s)",
        "met": measured <= 0.1,
    }


def bench_dense_mlp_fisher() -> dict:
    """Dense exact Fisher of the 64-64-10 tanh MLP (4810 params) against one gradient of the loss."""
    rng, X, y = data()
    model = ng.mlp([N_FEATURES, 64, N_CLASSES], activation="tanh")
    params = model.init(rng)
    loss_grad = grad(lambda p: ng.cross_entropy(model, p, X, y))
    baseline = median_seconds(lambda: loss_grad(params))
    measured = median_seconds(lambda: ng.fisher(model, params, X), repeats=3)
    return {
        "goal": "dense exact Fisher / gradient, 64-64-10 tanh MLP, 1797 rows",
        "baseline": baseline,
        "measured": measured,
        "ratio": measured / baseline,
        "target": f"well under 1 s (measured {measured:.2f} s)",
        "met": measured < 1.0,
    }


def main() -> int:
    rows = [bench_fisher_vector_product(), bench_dense_softmax_fisher(), bench_dense_mlp_fisher()]
    print(f"{'goal':<84} {'baseline s':>10} {'measured s':>10} {'ratio':>7}  target")
    for row in rows:
        mark = "met" if row["met"] else "MISSED"
        print(f"{row['goal']:<84} {row['baseline']:>10.4f} {row['measured']:>10.4f} {row['ratio']:>7.2f}  {row['target']} [{mark}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
