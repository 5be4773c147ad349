"""The KL backtracking line search: accepts what fits, shrinks what does not, reports failure.

References: closed-form backtrack counts for a quadratic KL, explicit loss profiles along the
step, and the true model_kl of the accepted parameters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from autograd import grad

import natgrad as ng
from natgrad.linesearch import LineSearchResult, kl_line_search


def quadratic_problem(scale: float = 1.0):
    """KL = scale * |q - p|^2 and a loss that decreases along the step direction."""
    params = np.array([0.5, -1.0, 2.0])
    step = np.array([1.0, 2.0, -2.0])  # |step|^2 = 9

    def kl_fn(q):
        return scale * np.sum((q - params) ** 2)

    def loss_fn(q):
        return -(q - params) @ step

    return kl_fn, loss_fn, params, step


def test_accepts_the_full_step_when_it_is_within_budget():
    kl_fn, loss_fn, params, step = quadratic_problem()
    result = kl_line_search(kl_fn, loss_fn, params, step, kl_budget=9.0)
    assert isinstance(result, LineSearchResult)
    assert result.success and result.step_fraction == 1.0 and result.n_backtracks == 0
    np.testing.assert_array_equal(result.params, params + step)
    assert result.kl == pytest.approx(9.0) and result.loss == pytest.approx(-9.0)


@pytest.mark.parametrize("budget", [8.0, 2.0, 0.3, 1e-3])
@pytest.mark.parametrize("shrink", [0.5, 0.3])
def test_backtracks_exactly_as_often_as_the_quadratic_kl_requires(budget, shrink):
    """KL(beta^k) = 9 beta^(2k) <= budget first at k = ceil(log(budget / 9) / (2 log beta))."""
    kl_fn, loss_fn, params, step = quadratic_problem()
    expected = max(0, math.ceil(math.log(budget / 9.0) / (2 * math.log(shrink)) - 1e-12))
    result = kl_line_search(kl_fn, loss_fn, params, step, budget, shrink=shrink, max_backtracks=50)
    assert result.success and result.n_backtracks == expected
    assert result.step_fraction == pytest.approx(shrink**expected)
    assert result.kl <= budget
    if expected:
        assert kl_fn(params + shrink ** (expected - 1) * step) > budget


def test_requires_the_loss_to_improve_unless_told_otherwise():
    """Loss 1 - t + 5 t^2 along the step: below 1 only for t < 0.2, so t = 1/8 after 3 halvings."""
    params, step = np.zeros(2), np.array([1.0, 0.0])

    def loss_fn(q):
        t = q[0]
        return 1.0 - t + 5.0 * t**2

    def kl_fn(q):
        return 0.0

    strict = kl_line_search(kl_fn, loss_fn, params, step, kl_budget=1.0)
    assert strict.success and strict.n_backtracks == 3 and strict.step_fraction == 0.125
    assert strict.loss < loss_fn(params)
    lax = kl_line_search(kl_fn, loss_fn, params, step, kl_budget=1.0, require_improvement=False)
    assert lax.success and lax.n_backtracks == 0


def test_reports_failure_and_returns_the_start_unchanged():
    kl_fn, loss_fn, params, step = quadratic_problem()
    result = kl_line_search(kl_fn, loss_fn, params, step, kl_budget=1e-6, max_backtracks=3)
    assert not result.success
    assert result.step_fraction == 0.0 and result.n_backtracks == 3
    np.testing.assert_array_equal(result.params, params)
    assert result.params is not params
    assert result.kl == 0.0 and result.loss == loss_fn(params)


def test_a_step_that_never_lowers_the_loss_fails():
    kl_fn, loss_fn, params, step = quadratic_problem()
    result = kl_line_search(kl_fn, loss_fn, params, -step, kl_budget=100.0, max_backtracks=10)
    assert not result.success and result.step_fraction == 0.0


def test_nan_and_inf_count_as_rejections():
    params, step = np.zeros(1), np.ones(1)

    def kl_fn(q):
        return np.nan if q[0] > 0.3 else q[0] ** 2

    def loss_fn(q):
        return np.inf if q[0] > 0.2 else -q[0]

    result = kl_line_search(kl_fn, loss_fn, params, step, kl_budget=1.0)
    assert result.success and result.step_fraction == 0.125


def test_on_a_real_model_the_accepted_step_meets_the_true_kl_budget(sigmoid_problem):
    """A large undamped natural step overshoots; after the search the true KL is within budget."""
    model, params, X, y = sigmoid_problem
    F = ng.fisher(model, params, X)
    g = grad(lambda p: ng.cross_entropy(model, p, X, y))(params)
    budget = 1e-3
    step = ng.natural_step(params, g, F, 0.5) - params
    assert ng.model_kl(model, params, params + step, X) > budget
    result = kl_line_search(lambda q: ng.model_kl(model, params, q, X), lambda q: ng.cross_entropy(model, q, X, y), params, step, budget)
    assert result.success
    assert ng.model_kl(model, params, result.params, X) <= budget
    assert ng.cross_entropy(model, result.params, X, y) < ng.cross_entropy(model, params, X, y)
    np.testing.assert_allclose(result.params, params + result.step_fraction * step)


def test_bad_inputs_raise_value_errors_naming_the_argument():
    kl_fn, loss_fn, params, step = quadratic_problem()
    with pytest.raises(ValueError, match="kl_fn"):
        kl_line_search(None, loss_fn, params, step, 1.0)
    with pytest.raises(ValueError, match="loss_fn"):
        kl_line_search(kl_fn, 3.0, params, step, 1.0)
    with pytest.raises(ValueError, match="step"):
        kl_line_search(kl_fn, loss_fn, params, step[:2], 1.0)
    with pytest.raises(ValueError, match="kl_budget"):
        kl_line_search(kl_fn, loss_fn, params, step, 0.0)
    with pytest.raises(ValueError, match="shrink"):
        kl_line_search(kl_fn, loss_fn, params, step, 1.0, shrink=1.0)
    with pytest.raises(ValueError, match="max_backtracks"):
        kl_line_search(kl_fn, loss_fn, params, step, 1.0, max_backtracks=-1)
    with pytest.raises(ValueError, match="require_improvement"):
        kl_line_search(kl_fn, loss_fn, params, step, 1.0, require_improvement="yes")


def test_default_budget_of_backtracks_is_twenty_and_every_trial_is_evaluated_once():
    """Reference: the documented trials k = 0, ..., max_backtracks (21 by default), one KL and one loss call each."""
    calls = {"kl": 0, "loss": 0}

    def kl_fn(q):
        calls["kl"] += 1
        return 1.0  # always over the budget

    def loss_fn(q):
        calls["loss"] += 1
        return -float(q @ q)

    result = kl_line_search(kl_fn, loss_fn, np.ones(2), np.ones(2), kl_budget=0.5)
    assert (result.success, result.n_backtracks, result.step_fraction, result.kl) == (False, 20, 0.0, 0.0)
    assert result.success is False
    assert calls == {"kl": 21, "loss": 22}  # one loss call at the start, then one per trial
    for max_backtracks in (0, 3):
        calls.update(kl=0, loss=0)
        result = kl_line_search(kl_fn, loss_fn, np.ones(2), np.ones(2), kl_budget=0.5, max_backtracks=max_backtracks)
        assert calls["kl"] == max_backtracks + 1 and result.n_backtracks == max_backtracks


def test_an_equal_loss_is_not_an_improvement():
    """Reference: the documented strict test L(theta_k) < L(theta); a flat loss never passes it."""
    result = kl_line_search(lambda q: 0.0, lambda q: 1.0, np.zeros(2), np.ones(2), kl_budget=1.0, max_backtracks=2)
    assert result.success is False and result.loss == 1.0
    accepted = kl_line_search(lambda q: 0.0, lambda q: 1.0, np.zeros(2), np.ones(2), kl_budget=1.0, require_improvement=False)
    assert accepted.success is True and accepted.n_backtracks == 0


def test_the_budget_is_inclusive():
    """Reference: the documented test KL <= epsilon: a trial exactly at the budget is accepted."""
    result = kl_line_search(lambda q: 0.25, lambda q: -float(q.sum()), np.zeros(2), np.ones(2), kl_budget=0.25)
    assert result.success is True and result.kl == 0.25 and result.step_fraction == 1.0


def test_trials_log_every_candidate_in_order_with_its_kl_and_loss():
    """Reference: the closed-form KL 9 alpha^2 and loss -9 alpha of the quadratic problem at alpha = 1, 1/2, 1/4."""
    kl_fn, loss_fn, params, step = quadratic_problem()
    result = kl_line_search(kl_fn, loss_fn, params, step, kl_budget=0.6)  # 9/16 = 0.5625 is the first within
    fractions = [trial[0] for trial in result.trials]
    assert fractions == [1.0, 0.5, 0.25]
    np.testing.assert_allclose([trial[1] for trial in result.trials], [9.0 * a**2 for a in fractions], rtol=1e-12)
    np.testing.assert_allclose([trial[2] for trial in result.trials], [-9.0 * a for a in fractions], rtol=1e-12)
    assert result.trials[-1] == (result.step_fraction, result.kl, result.loss)


def test_trials_of_a_failed_search_hold_every_rejected_candidate():
    """Reference: max_backtracks + 1 candidates tried, each logged with the values kl_fn and loss_fn returned."""
    kl_fn, loss_fn, params, step = quadratic_problem()
    result = kl_line_search(kl_fn, loss_fn, params, step, kl_budget=1e-6, max_backtracks=3)
    assert not result.success and len(result.trials) == 4
    for m, (fraction, kl, loss) in enumerate(result.trials):
        assert fraction == 0.5**m
        assert kl == pytest.approx(kl_fn(params + fraction * step)) and loss == pytest.approx(loss_fn(params + fraction * step))
        assert kl > 1e-6
