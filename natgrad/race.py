r"""The race of chapter 9: data, the two problems and one training run with its records.

Two problems on scikit-learn's handwritten digits (8 x 8 images, 1,797 of them):

* ``"classifier"``: the tanh network 64-32-10 with a softmax output, on standardised pixels;
* ``"autoencoder"``: the tanh network 64-32-16-8-16-32-64 with Bernoulli outputs
  (Hinton and Salakhutdinov, 2006, in small), on pixels scaled to [0, 1], which are also
  its targets.

:func:`digits_splits` fixes one split for both: 540 test images (never used to choose
anything), 257 validation images (for choosing settings) and 1,000 training images.
:func:`run` trains one optimizer of :mod:`natgrad.optimizers` with a seeded stream of
mini-batches until it has spent a budget of gradient evaluations, and records, at equally
spaced costs, the iterations, the cost in gradient
evaluations (the book's one cost model), the losses on the three splits, the test accuracy
of the classifier, the damping and the steps at the cap and at the budget. ``experiments/race.py``
runs the sweep and writes ``book/data/race.json``; chapter 9 reads it. Chapter 9.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from natgrad._checks import one_of, positive_finite, positive_int
from natgrad.fisher import Linearization
from natgrad.likelihoods import get as get_likelihood
from natgrad.models import Model, mlp
from natgrad.optimizers import COSTS, CurvatureState, Optimizer

#: The problems of the race, by name.
PROBLEMS = ("classifier", "autoencoder")
#: How many images each split holds.
N_TEST, N_VALIDATION = 540, 257


@dataclass(frozen=True)
class Problem:
    """A model and its data: inputs and targets of the training, validation and test splits."""

    name: str
    model: Model
    X: dict
    y: dict


def digits_splits(seed: int = 0) -> dict[str, np.ndarray]:
    """Row indices of the digits into ``"test"``, ``"validation"`` and ``"train"``, from one seeded permutation.

    The first 540 rows of the permutation are the test set (chapter 8's split), the next 257
    the validation set, the remaining 1,000 the training set. Chapter 9.
    """
    from sklearn.datasets import load_digits

    n_rows = load_digits().target.size
    order = np.random.default_rng(seed).permutation(n_rows)
    return {"test": order[:N_TEST], "validation": order[N_TEST : N_TEST + N_VALIDATION], "train": order[N_TEST + N_VALIDATION :]}


def problem(name: str) -> Problem:
    """The ``"classifier"`` or the ``"autoencoder"`` of the race, with its three splits. Chapter 9.

    Classifier inputs are standardised with the training split's pixel means and standard
    deviations (blank pixels keep standard deviation 1); autoencoder inputs and targets are
    the pixel intensities divided by 16, in [0, 1].
    """
    one_of(name, "name", PROBLEMS)
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    splits = digits_splits()
    if name == "classifier":
        mean, std = images[splits["train"]].mean(axis=0), images[splits["train"]].std(axis=0)
        std[std == 0] = 1.0
        X = {part: (images[rows] - mean) / std for part, rows in splits.items()}
        return Problem(name, mlp([64, 32, 10]), X, {part: labels[rows] for part, rows in splits.items()})
    X = {part: images[rows] / 16.0 for part, rows in splits.items()}
    return Problem(name, mlp([64, 32, 16, 8, 16, 32, 64], likelihood="bernoulli"), X, {part: X[part].copy() for part in splits})


@dataclass(frozen=True)
class RunRecord:
    """One training run, recorded before the first iteration and at equally spaced costs (:func:`run`).

    Arrays of one entry per record: ``iterations``, ``cost`` (gradient evaluations, see
    :data:`natgrad.optimizers.COSTS`), ``seconds`` (wall-clock time in the updates, an
    illustration only), ``train_loss``, ``validation_loss``, ``test_loss`` (the mean negative
    log-likelihood), ``test_accuracy`` (NaN for the autoencoder) and ``damping`` (NaN for
    SGD and Adam). ``at_cap`` and ``at_budget`` count the natural steps whose length was set by
    the cap and by the KL budget (0 for SGD and Adam); ``diverged`` says whether a loss became
    non-finite (the run then stops, and its last losses are infinite).
    """

    iterations: np.ndarray
    cost: np.ndarray
    seconds: np.ndarray
    train_loss: np.ndarray
    validation_loss: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    damping: np.ndarray
    at_cap: int
    at_budget: int
    diverged: bool


def _mean_loss(model: Model, likelihood, params, X, y) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(np.mean(likelihood.loss(model.logits(params, X), y)))
    return value if math.isfinite(value) else math.inf


def run(problem: Problem, optimizer: Optimizer, batch_size: int, seed: int, budget: float, n_records: int = 50) -> RunRecord:
    r"""Train ``optimizer`` on ``problem`` until it has spent ``budget`` gradient evaluations.

    Every method gets the same budget in the book's cost model, so a method whose iterations
    cost more takes fewer of them. ``seed`` spawns three generators: the initial parameters
    (``model.init``), the order of the rows (a fresh permutation each epoch; the last incomplete
    batch of an epoch is dropped, so an epoch is :math:`\lfloor N / |B| \rfloor` iterations) and
    the labels that K-FAC samples. Each iteration linearises the model on the batch, takes the
    gradient (cost 1) and calls ``optimizer.update``, which returns its extra cost. The run
    stops after the iteration at which the cost reaches ``budget``. It records before the first
    iteration, after each iteration at which the cost passes one of the ``n_records`` equally
    spaced marks :math:`k \cdot \text{budget} / \text{n\_records}`, and at the end. Chapter 9.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem: expected a natgrad.race.Problem (from natgrad.race.problem), got {type(problem).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer: expected an Optimizer (from natgrad.optimizers), got {type(optimizer).__name__}")
    n_train = problem.X["train"].shape[0]
    batch_size = positive_int(batch_size, "batch_size")
    if batch_size > n_train:
        raise ValueError(f"batch_size: expected at most {n_train} (the training rows), got {batch_size}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    budget = float(positive_finite(budget, "budget"))
    n_records = positive_int(n_records, "n_records")

    model, likelihood = problem.model, get_likelihood(problem.model.likelihood)
    targets = {part: likelihood.check_targets(problem.y[part], problem.X[part].shape[0], model.n_outputs, f"y[{part!r}]") for part in problem.X}
    init_rng, batch_rng, sample_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(3))
    params = model.init(init_rng)
    state = optimizer.init(params)
    per_epoch = n_train // batch_size
    rows_of = {name: [] for name in ("iterations", "cost", "seconds", "train_loss", "validation_loss", "test_loss", "test_accuracy", "damping")}
    cost = seconds = 0.0

    def record(iteration: int) -> bool:
        losses = {part: _mean_loss(model, likelihood, params, problem.X[part], targets[part]) for part in ("train", "validation", "test")}
        if problem.name == "classifier":
            accuracy = float(np.mean(np.argmax(model.logits(params, problem.X["test"]), axis=1) == targets["test"]))
        else:
            accuracy = math.nan
        for name, value in (("iterations", iteration), ("cost", cost), ("seconds", seconds), ("train_loss", losses["train"]),
                            ("validation_loss", losses["validation"]), ("test_loss", losses["test"]), ("test_accuracy", accuracy),
                            ("damping", state.damping if isinstance(state, CurvatureState) else math.nan)):
            rows_of[name].append(value)
        return all(math.isfinite(value) for value in losses.values())

    finite, iteration, mark = record(0), 0, 1
    while finite and cost < budget:
        if iteration % per_epoch == 0:
            order = batch_rng.permutation(n_train)
        start = (iteration % per_epoch) * batch_size
        iteration += 1
        rows = order[start : start + batch_size]
        X_batch, y_batch = problem.X["train"][rows], targets["train"][rows]
        started = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):
            lin = Linearization(model, params, X_batch)
            grad = lin.gradient(y_batch)
            params, state, extra = optimizer.update(model, params, state, X_batch, y_batch, grad, sample_rng)
        seconds += time.perf_counter() - started
        cost += COSTS["gradient"] + extra
        finite = bool(np.all(np.isfinite(params)))
        if cost >= mark * budget / n_records or cost >= budget or not finite:
            while mark * budget / n_records <= cost:
                mark += 1
            finite = record(iteration) and finite
    diverged = not finite
    if diverged:
        for name in ("train_loss", "validation_loss", "test_loss"):
            rows_of[name][-1] = math.inf
    at_cap, at_budget = (state.at_cap, state.at_budget) if isinstance(state, CurvatureState) else (0, 0)
    arrays = {name: np.array(values, dtype=float) for name, values in rows_of.items()}
    arrays["iterations"] = arrays["iterations"].astype(int)
    return RunRecord(**arrays, at_cap=int(at_cap), at_budget=int(at_budget), diverged=diverged)


def _values(run: dict, key: str) -> np.ndarray:
    """A recorded column of a run of ``book/data/race.json`` as floats (None, an infinity, as inf)."""
    if key not in run:
        raise ValueError(f"key: expected one of the recorded columns {sorted(k for k, v in run.items() if isinstance(v, list))}, got {key!r}")
    return np.array([math.inf if v is None else v for v in run[key]], dtype=float)


def cost_to_reach(run: dict, key: str, target: float, above: bool = False) -> float:
    """The cost (gradient evaluations) at the first record whose ``key`` is at most ``target``
    (at least, with ``above``), or inf if the run never gets there. Chapter 9."""
    values = _values(run, key)
    reached = np.flatnonzero(values >= target if above else values <= target)
    return float(run["cost"][reached[0]]) if reached.size else math.inf


def mean_and_spread(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1) of the finite ``values``; (inf, 0) if any is infinite. Chapter 9."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size < 2:
        raise ValueError(f"values: expected at least two numbers, one per seed, got shape {values.shape}")
    if np.any(np.isnan(values)):
        raise ValueError("values: expected numbers or inf, got NaN")
    if not np.all(np.isfinite(values)):
        return math.inf, 0.0
    return float(values.mean()), float(values.std(ddof=1))


def separated(first: tuple[float, float], second: tuple[float, float]) -> bool:
    """Whether two (mean, spread) pairs separate: the means differ by more than the sum of the spreads. Chapter 9."""
    (m1, s1), (m2, s2) = first, second
    if math.isinf(m1) or math.isinf(m2):
        return m1 != m2
    return abs(m1 - m2) > s1 + s2


def bands(runs: list[dict], key: str, costs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(low, median, high)`` across seeds of ``key`` at the given ``costs``: the minimum, median and
    maximum of the runs' records, each run interpolated linearly in cost between its records
    (runs record at different costs, since their iterations cost different amounts). Chapter 9."""
    if not runs:
        raise ValueError("runs: expected at least one run")
    costs = np.asarray(costs, dtype=float)
    if costs.ndim != 1 or not np.all(np.isfinite(costs)):
        raise ValueError(f"costs: expected a flat vector of finite costs, got shape {costs.shape}")
    values = []
    for run in runs:
        recorded = np.asarray(run["cost"], dtype=float)
        if costs.size and (costs.min() < recorded[0] or costs.max() > recorded[-1]):
            raise ValueError(f"costs: expected costs within every run's records, [{recorded[0]:g}, {recorded[-1]:g}]")
        values.append(np.interp(costs, recorded, _values(run, key)))
    values = np.array(values)
    return values.min(axis=0), np.median(values, axis=0), values.max(axis=0)
