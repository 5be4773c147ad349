"""The race's data and training loop (natgrad.race): splits, problems, records, costs and divergence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from autograd import grad
from sklearn.datasets import load_digits

import natgrad as ng
from natgrad import optimizers as opt
from natgrad import race


@pytest.fixture(scope="module")
def classifier():
    return race.problem("classifier")


@pytest.fixture(scope="module")
def autoencoder():
    return race.problem("autoencoder")


def test_the_splits_are_disjoint_cover_the_digits_and_keep_chapter_8s_test_set():
    splits = race.digits_splits()
    assert {part: rows.size for part, rows in splits.items()} == {"test": 540, "validation": 257, "train": 1000}
    every = np.concatenate(list(splits.values()))
    assert np.array_equal(np.sort(every), np.arange(1797))
    np.testing.assert_array_equal(splits["test"], np.random.default_rng(0).permutation(1797)[:540])


def test_the_classifier_is_standardised_with_training_statistics_only(classifier):
    images, labels = load_digits(return_X_y=True)
    splits = race.digits_splits()
    train = images[splits["train"]]
    std = train.std(axis=0)
    std[std == 0] = 1
    np.testing.assert_allclose(classifier.X["validation"], (images[splits["validation"]] - train.mean(axis=0)) / std, rtol=1e-15)
    np.testing.assert_array_equal(classifier.y["test"], labels[splits["test"]])
    assert classifier.model.layer_sizes == (64, 32, 10) and classifier.model.likelihood == "categorical"


def test_the_autoencoder_reconstructs_pixels_scaled_to_the_unit_interval(autoencoder):
    images, _ = load_digits(return_X_y=True)
    splits = race.digits_splits()
    for part in ("train", "validation", "test"):
        np.testing.assert_array_equal(autoencoder.X[part], images[splits[part]] / 16)
        np.testing.assert_array_equal(autoencoder.y[part], autoencoder.X[part])
    assert autoencoder.X["train"].min() == 0 and autoencoder.X["train"].max() == 1
    assert autoencoder.model.layer_sizes == (64, 32, 16, 8, 16, 32, 64) and autoencoder.model.likelihood == "bernoulli"


def test_run_records_on_schedule_and_matches_a_hand_written_sgd_loop(classifier):
    """Reference: plain SGD on the same seeded batches with autograd's gradient of the cross-entropy."""
    record = race.run(classifier, opt.sgd(0.05), batch_size=250, seed=4, budget=8.0, n_records=3)
    assert list(record.iterations) == [0, 3, 6, 8]  # the first iterations whose cost passes 8/3, 16/3 and 8
    np.testing.assert_array_equal(record.cost, record.iterations)
    init_rng, batch_rng, _ = (np.random.default_rng(s) for s in np.random.SeedSequence(4).spawn(3))
    model, X, y = classifier.model, classifier.X["train"], classifier.y["train"]
    theta = model.init(init_rng)
    loss_grad = grad(lambda p, rows: ng.cross_entropy(model, p, X[rows], y[rows]))
    for _ in range(2):
        order = batch_rng.permutation(1000)
        for start in range(0, 1000, 250):
            theta = theta - 0.05 * loss_grad(theta, order[start : start + 250])
    assert record.train_loss[-1] == pytest.approx(ng.cross_entropy(model, theta, X, y), rel=1e-12)
    assert record.validation_loss[-1] == pytest.approx(ng.cross_entropy(model, theta, classifier.X["validation"], classifier.y["validation"]), rel=1e-12)
    accuracy = np.mean(np.argmax(model.logits(theta, classifier.X["test"]), axis=1) == classifier.y["test"])
    assert record.test_accuracy[-1] == accuracy
    assert np.all(np.isnan(record.damping)) and (record.at_cap, record.at_budget, record.diverged) == (0, 0, False)
    assert record.seconds[0] == 0 and np.all(np.diff(record.seconds) >= 0)


def test_run_is_deterministic_and_counts_natural_steps(autoencoder):
    first = race.run(autoencoder, opt.lm_natural_gradient(1e-2, cg_iters=3), batch_size=500, seed=1, budget=12.0, n_records=100)
    second = race.run(autoencoder, opt.lm_natural_gradient(1e-2, cg_iters=3), batch_size=500, seed=1, budget=12.0, n_records=100)
    np.testing.assert_array_equal(first.train_loss, second.train_loss)
    np.testing.assert_array_equal(first.iterations, np.arange(first.iterations[-1] + 1))  # every iteration passes a mark
    assert first.cost[-2] < 12.0 <= first.cost[-1]  # it stops at the first iteration that spends the budget
    assert first.at_cap + first.at_budget == first.iterations[-1]
    # Each iteration: the gradient, at most 3 products, and the forward pass of the ratio test.
    increments = np.diff(first.cost)
    assert np.all((increments >= 1.5) & (increments <= 4.5)) and np.all(np.mod(increments - 1.5, 1) == 0)
    assert np.all(np.isnan(first.test_accuracy)) and first.damping[0] == 1.0 and np.all(first.damping > 0)


def test_a_diverging_run_stops_and_reports_infinite_losses(classifier):
    record = race.run(classifier, opt.sgd(1e306), batch_size=250, seed=0, budget=20.0, n_records=20)
    assert record.diverged
    assert record.iterations[-1] < 20 and math.isinf(record.train_loss[-1]) and math.isinf(record.validation_loss[-1])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: race.problem("regression"), "name: expected one of 'classifier', 'autoencoder', got 'regression'"),
        (lambda p: race.run("digits", opt.sgd(0.1), 50, 0, 10.0), "problem: expected a natgrad.race.Problem (from natgrad.race.problem), got str"),
        (lambda p: race.run(p, "sgd", 50, 0, 10.0), "optimizer: expected an Optimizer (from natgrad.optimizers), got str"),
        (lambda p: race.run(p, opt.sgd(0.1), 1001, 0, 10.0), "batch_size: expected at most 1000 (the training rows), got 1001"),
        (lambda p: race.run(p, opt.sgd(0.1), 0, 0, 10.0), "batch_size: expected an integer >= 1, got 0"),
        (lambda p: race.run(p, opt.sgd(0.1), 50, -1, 10.0), "seed: expected an integer >= 0, got -1"),
        (lambda p: race.run(p, opt.sgd(0.1), 50, 0, 0.0), "budget: expected a finite number > 0, got 0.0"),
        (lambda p: race.run(p, opt.sgd(0.1), 50, 0, 10.0, 0), "n_records: expected an integer >= 1, got 0"),
    ],
)
def test_bad_inputs_raise_value_errors_naming_the_argument(classifier, call, message):
    with pytest.raises(ValueError) as error:
        call(classifier)
    assert str(error.value) == message


RUN = {"iterations": [0, 2, 4, 6], "cost": [0.0, 5.0, 10.5, 16.0], "train_loss": [2.0, 0.9, None, 0.4], "test_accuracy": [0.1, 0.8, 0.95, 0.97]}


def test_cost_to_reach_reads_the_first_record_at_the_target():
    assert race.cost_to_reach(RUN, "train_loss", 0.9) == 5.0
    assert race.cost_to_reach(RUN, "train_loss", 0.5) == 16.0  # None is an infinite loss, never below a target
    assert race.cost_to_reach(RUN, "train_loss", 0.1) == math.inf
    assert race.cost_to_reach(RUN, "test_accuracy", 0.95, above=True) == 10.5
    assert race.cost_to_reach(RUN, "test_accuracy", 0.99, above=True) == math.inf


def test_mean_and_spread_is_the_mean_and_sample_standard_deviation():
    mean, spread = race.mean_and_spread([1.0, 2.0, 4.0])
    assert mean == pytest.approx(7 / 3, rel=1e-15)
    assert spread == pytest.approx(np.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2), rel=1e-15)
    assert race.mean_and_spread([1.0, math.inf]) == (math.inf, 0.0)


def test_separated_compares_the_gap_with_the_sum_of_the_spreads():
    assert race.separated((1.0, 0.2), (1.5, 0.2))
    assert not race.separated((1.0, 0.3), (1.5, 0.2))
    assert not race.separated((1.0, 0.25), (1.5, 0.25))
    assert race.separated((1.0, 0.1), (math.inf, 0.0)) and not race.separated((math.inf, 0.0), (math.inf, 0.0))


def test_bands_interpolate_each_run_in_cost_and_give_the_range_of_the_seeds():
    runs = [
        {"cost": [0.0, 10.0], "train_loss": [2.0, 1.0]},
        {"cost": [0.0, 4.0, 12.0], "train_loss": [2.0, 0.0, 0.8]},
        {"cost": [0.0, 20.0], "train_loss": [3.0, 1.0]},
    ]
    low, median, high = race.bands(runs, "train_loss", [0.0, 2.0, 8.0])
    # at cost 2: 1.8, 1.0, 2.8; at cost 8: 1.2, 0.4, 2.2
    np.testing.assert_allclose(low, [2.0, 1.0, 0.4], rtol=1e-15)
    np.testing.assert_allclose(median, [2.0, 1.8, 1.2], rtol=1e-15)
    np.testing.assert_allclose(high, [3.0, 2.8, 2.2], rtol=1e-15)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: race.cost_to_reach(RUN, "loss", 0.1), "key: expected one of the recorded columns ['cost', 'iterations', 'test_accuracy', 'train_loss'], got 'loss'"),
        (lambda: race.mean_and_spread([1.0]), "values: expected at least two numbers, one per seed, got shape (1,)"),
        (lambda: race.mean_and_spread([1.0, math.nan]), "values: expected numbers or inf, got NaN"),
        (lambda: race.bands([], "train_loss", [0.0]), "runs: expected at least one run"),
        (lambda: race.bands([RUN], "train_loss", [[0.0]]), "costs: expected a flat vector of finite costs, got shape (1, 1)"),
        (lambda: race.bands([RUN], "train_loss", [0.0, 17.0]), "costs: expected costs within every run's records, [0, 16]"),
    ],
)
def test_summaries_reject_bad_input_naming_the_argument(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == message
