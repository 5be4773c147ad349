"""The fair race of chapter 9: tune every method on the same budget, then run the winners on fresh seeds.

    make experiments          # or: python experiments/race.py [--output book/data/race.json]

For each problem (the digits classifier and the deep autoencoder of ``natgrad.race``), each
batch size and each method (SGD with heavy-ball momentum, Adam, the CG natural gradient and
K-FAC, both with Levenberg-Marquardt damping):

1. Tuning: one run per setting of the method's grid (six values of its step-size knob:
   the learning rate for SGD and Adam, the KL budget for the natural methods), on the tuning
   seed 0, each run spending the same budget of gradient evaluations (the book's cost model).
   The setting with the lowest validation loss at any recorded point wins (early stopping). If it lies on the edge of
   the grid, the grid is extended on that side by one more value (same spacing) until the
   winner is inside, at most MAX_EXTENSIONS times; every setting tried is recorded.
2. Evaluation: the chosen setting on seeds 1..5 (new initial parameters, batch orders and
   K-FAC samples), with the full records of ``natgrad.race.run``.

The test split is never looked at for a choice. Everything (settings, seeds, natgrad's
version, results, the sweep's own time) goes to one JSON file that chapter 9 reads, and
tests/test_experiments.py re-runs a sample of it. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

import natgrad
from natgrad import optimizers, race

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "book" / "data" / "race.json"

BATCH_SIZES = (50, 250)
#: Every run's budget, in epochs' worth of gradient evaluations: 115 epochs of SGD or Adam,
#: about 38 of K-FAC, and at least 10 of the CG natural gradient (at most 1 + 10 + 0.5
#: evaluations per iteration).
BUDGET_EPOCHS = 115
#: Records per run, at equally spaced costs.
N_RECORDS = 50
TUNING_SEED = 0
SEEDS = (1, 2, 3, 4, 5)
MAX_EXTENSIONS = 3
METHODS = ("momentum", "adam", "natural", "kfac")
#: Each method's grid: the knob's name and its six values (a factor of about 3 apart).
GRIDS = {
    "momentum": ("learning_rate", [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]),
    "adam": ("learning_rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]),
    "natural": ("kl_budget", [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]),
    "kfac": ("kl_budget", [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]),
}
#: The fixed settings of each method (not tuned).
FIXED = {
    "momentum": {"momentum": 0.9, "nesterov": False},
    "adam": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "natural": {"initial_damping": 1.0, "cg_iters": 10, "max_step": 1.0, "damping_every": 1},
    "kfac": {"initial_damping": 1.0, "max_step": 1.0, "factor_decay": 0.95, "n_samples": 1, "pi_correction": True, "damping_every": 5, "inverse_every": 5},
}
CONSTRUCTORS = {"momentum": optimizers.momentum, "adam": optimizers.adam, "natural": optimizers.lm_natural_gradient, "kfac": optimizers.lm_kfac}


def make_optimizer(method: str, value: float) -> optimizers.Optimizer:
    """The optimizer ``method`` with its tuned knob set to ``value`` and the rest at :data:`FIXED`."""
    knob, _ = GRIDS[method]
    return CONSTRUCTORS[method](**{knob: value}, **FIXED[method])


def budget(problem: race.Problem, batch_size: int) -> float:
    """The budget of every run, in gradient evaluations: BUDGET_EPOCHS epochs of gradients."""
    return float(BUDGET_EPOCHS * (problem.X["train"].shape[0] // batch_size))


def one_run(problem: race.Problem, method: str, value: float, batch_size: int, seed: int) -> dict:
    """One run as a JSON-ready dict (arrays as lists; infinities as None)."""
    record = race.run(problem, make_optimizer(method, value), batch_size, seed, budget(problem, batch_size), N_RECORDS)
    out = {}
    for name in ("iterations", "cost", "seconds", "train_loss", "validation_loss", "test_loss", "test_accuracy", "damping"):
        out[name] = [None if not math.isfinite(v) else (int(v) if name == "iterations" else float(v)) for v in getattr(record, name)]
    out.update(at_cap=record.at_cap, at_budget=record.at_budget, diverged=record.diverged)
    return out


class Progress:
    """A one-line progress bar on stderr: runs done, elapsed time and the current run."""

    def __init__(self, total: int):
        self.total, self.done, self.started = total, 0, time.perf_counter()

    def show(self, label: str) -> None:
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        elapsed = time.perf_counter() - self.started
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} runs, {elapsed:5.0f} s  {label:<44}")
        sys.stderr.flush()

    def step(self, label: str) -> None:
        self.done += 1
        self.show(label)


def score(run: dict) -> float:
    """The tuning score: the lowest validation loss over the run's records (early stopping at the
    best recorded point; infinite if the run diverged)."""
    if run["diverged"]:
        return math.inf
    return min(math.inf if v is None else v for v in run["validation_loss"])


def tune(problem, method: str, batch_size: int, progress: Progress) -> dict:
    """Tune ``method`` on its grid (extended at an edge winner), on the tuning seed."""
    knob, grid = GRIDS[method]
    values = list(grid)
    results = {}

    def try_values(new_values):
        for value in new_values:
            progress.show(f"{problem.name} |B|={batch_size} {method} {knob}={value:g}")
            results[value] = one_run(problem, method, value, batch_size, TUNING_SEED)
            progress.step(f"{problem.name} |B|={batch_size} {method} {knob}={value:g}")

    try_values(values)
    ratio = values[1] / values[0]
    extensions = 0
    while True:
        ordered = sorted(results)
        best = min(ordered, key=lambda v: score(results[v]))
        if extensions >= MAX_EXTENSIONS or best not in (ordered[0], ordered[-1]):
            break
        new = ordered[0] / ratio if best == ordered[0] else ordered[-1] * ratio
        new = float(f"{new:.3g}")
        progress.total += 1 + 0  # one more tuning run
        try_values([new])
        extensions += 1
    ordered = sorted(results)
    return {
        "knob": knob,
        "values": ordered,
        "initial_grid": list(grid),
        "extensions": extensions,
        "chosen": best,
        "chosen_on_edge": best in (ordered[0], ordered[-1]),
        "best_validation_loss": [None if not math.isfinite(score(results[v])) else score(results[v]) for v in ordered],
        "final_validation_loss": [results[v]["validation_loss"][-1] for v in ordered],
        "final_train_loss": [results[v]["train_loss"][-1] for v in ordered],
        "final_test_accuracy": [results[v]["test_accuracy"][-1] for v in ordered],
        "diverged": [results[v]["diverged"] for v in ordered],
        "at_cap": [results[v]["at_cap"] for v in ordered],
        "at_budget": [results[v]["at_budget"] for v in ordered],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    problems = {name: race.problem(name) for name in race.PROBLEMS}
    n_cells = len(problems) * len(BATCH_SIZES) * len(METHODS)
    progress = Progress(n_cells * (6 + len(SEEDS)))
    results = {}
    for name, problem in problems.items():
        results[name] = {}
        for batch_size in BATCH_SIZES:
            cell = results[name][str(batch_size)] = {}
            for method in METHODS:
                tuning = tune(problem, method, batch_size, progress)
                runs = []
                for seed in SEEDS:
                    progress.show(f"{name} |B|={batch_size} {method} seed {seed}")
                    runs.append(one_run(problem, method, tuning["chosen"], batch_size, seed))
                    progress.step(f"{name} |B|={batch_size} {method} seed {seed}")
                cell[method] = {"tuning": tuning, "runs": runs}
    elapsed = time.perf_counter() - started
    sys.stderr.write(f"\nrace: {progress.done} runs in {elapsed:.0f} s\n")
    data = {
        "description": "Chapter 9's race: see experiments/race.py. Losses are mean negative log-likelihoods per image; cost is in gradient evaluations.",
        "natgrad_version": natgrad.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
        "sweep_seconds": round(elapsed),
        "settings": {
            "budget_epochs": BUDGET_EPOCHS,
            "budgets": {name: {str(b): budget(problem, b) for b in BATCH_SIZES} for name, problem in problems.items()},
            "batch_sizes": list(BATCH_SIZES),
            "n_records": N_RECORDS,
            "tuning_seed": TUNING_SEED,
            "seeds": list(SEEDS),
            "max_extensions": MAX_EXTENSIONS,
            "grids": {method: {"knob": knob, "values": values} for method, (knob, values) in GRIDS.items()},
            "fixed": FIXED,
            "costs": optimizers.COSTS,
            "selection": "lowest validation loss over the recorded points of the run on the tuning seed",
            "splits": {"train": int(problems["classifier"].X["train"].shape[0]), "validation": race.N_VALIDATION, "test": race.N_TEST},
            "models": {name: list(problem.model.layer_sizes) for name, problem in problems.items()},
            "likelihoods": {name: problem.model.likelihood for name, problem in problems.items()},
        },
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=None, separators=(",", ":")) + "\n")
    sys.stderr.write(f"race: wrote {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
