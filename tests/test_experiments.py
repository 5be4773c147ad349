"""The committed race (book/data/race.json) against the code: a sample re-run, and the sweep's own rules.

Re-running a run reproduces every recorded number except the wall-clock seconds to a
relative 1e-9 (with single-threaded BLAS, as ``make experiments`` and ``make test`` run,
they agree to the last digit; the tolerance leaves room for another BLAS build).
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

import natgrad
from natgrad import race as natgrad_race

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "book" / "data" / "race.json"


def _load_sweep():
    spec = importlib.util.spec_from_file_location("race_sweep", ROOT / "experiments" / "race.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sweep = _load_sweep()


@pytest.fixture(scope="module")
def data():
    return json.loads(DATA.read_text())


def test_every_run_spent_the_same_budget_of_gradient_evaluations(data):
    for name, batch_size, method, cell in _cells(data):
        budget = data["settings"]["budgets"][name][str(batch_size)]
        assert budget == sweep.BUDGET_EPOCHS * (1000 // batch_size)
        for run in cell["runs"]:
            assert run["cost"][-1] >= budget and run["cost"][-2] < budget and not run["diverged"]
            per_iteration = run["cost"][-1] / run["iterations"][-1]
            if method in ("momentum", "adam"):
                assert per_iteration == 1.0
            elif method == "natural":  # a gradient, at most 10 products and the ratio test's forward pass
                assert 1.0 < per_iteration <= 11.5


def _cells(data):
    for name, by_batch in data["results"].items():
        for batch_size, by_method in by_batch.items():
            for method, cell in by_method.items():
                yield name, int(batch_size), method, cell


def test_the_data_file_records_the_settings_of_the_sweep_script(data):
    settings = data["settings"]
    assert data["natgrad_version"] == natgrad.__version__
    assert settings["budget_epochs"] == sweep.BUDGET_EPOCHS and settings["batch_sizes"] == list(sweep.BATCH_SIZES)
    assert settings["seeds"] == list(sweep.SEEDS) and settings["tuning_seed"] == sweep.TUNING_SEED
    assert settings["grids"] == {m: {"knob": k, "values": v} for m, (k, v) in sweep.GRIDS.items()}
    assert settings["fixed"] == sweep.FIXED and settings["costs"] == natgrad.optimizers.COSTS
    assert settings["n_records"] == sweep.N_RECORDS
    assert sorted(data["results"]) == sorted(natgrad_race.PROBLEMS)
    assert len(list(_cells(data))) == len(natgrad_race.PROBLEMS) * len(sweep.BATCH_SIZES) * len(sweep.METHODS)


def test_every_method_had_the_same_tuning_budget_and_the_choice_follows_the_rules(data):
    for name, batch_size, method, cell in _cells(data):
        tuning = cell["tuning"]
        values = tuning["values"]
        assert set(sweep.GRIDS[method][1]) <= set(values), (name, batch_size, method)
        assert len(values) == len(sweep.GRIDS[method][1]) + tuning["extensions"]
        scores = [math.inf if s is None else s for s in tuning["best_validation_loss"]]
        assert tuning["chosen"] == values[int(np.argmin(scores))]
        if tuning["chosen_on_edge"]:
            assert tuning["extensions"] == sweep.MAX_EXTENSIONS, (name, batch_size, method)
        else:
            assert values[0] < tuning["chosen"] < values[-1]
        assert len(cell["runs"]) == len(sweep.SEEDS)


def _compare(recorded: dict, fresh: dict):
    for key in ("iterations", "at_cap", "at_budget", "diverged"):
        assert fresh[key] == recorded[key], key
    for key in ("cost", "train_loss", "validation_loss", "test_loss", "test_accuracy", "damping"):
        a = np.array([np.nan if v is None else v for v in fresh[key]], dtype=float)
        b = np.array([np.nan if v is None else v for v in recorded[key]], dtype=float)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=0, equal_nan=True, err_msg=key)


@pytest.mark.parametrize("method", sweep.METHODS)
def test_a_rerun_of_the_classifier_at_the_large_batch_reproduces_the_committed_run(data, method):
    cell = data["results"]["classifier"]["250"][method]
    fresh = sweep.one_run(natgrad_race.problem("classifier"), method, cell["tuning"]["chosen"], 250, sweep.SEEDS[0])
    _compare(cell["runs"][0], fresh)


def test_a_rerun_of_an_autoencoder_tuning_run_reproduces_the_committed_score(data):
    tuning = data["results"]["autoencoder"]["250"]["kfac"]["tuning"]
    value = tuning["values"][0]
    fresh = sweep.one_run(natgrad_race.problem("autoencoder"), "kfac", value, 250, sweep.TUNING_SEED)
    assert fresh["validation_loss"][-1] == pytest.approx(tuning["final_validation_loss"][0], rel=1e-9)
    assert sweep.score(fresh) == pytest.approx(tuning["best_validation_loss"][0], rel=1e-9)
    assert (fresh["at_cap"], fresh["at_budget"]) == (tuning["at_cap"][0], tuning["at_budget"][0])
