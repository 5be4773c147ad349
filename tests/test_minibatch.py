"""Mini-batches, outlier batches, one-batch updates and the training loop of chapter 7.

References, written here independently of natgrad: a forward pass and cross-entropy from
tests.helpers differentiated with autograd, the Fisher as the mean of J_n^T H_n J_n with
autograd Jacobians, numpy.linalg.solve / pinv for the natural direction, the categorical KL
as sum p log(p / q), and hand-written loops replaying each update.
"""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import natgrad as ng
from natgrad import minibatch
from tests.helpers import make_data, probabilities, random_params, reference_log_softmax, reference_logits


def reference_loss(model, params, X, y):
    return -anp.mean(reference_log_softmax(reference_logits(model, params, X))[np.arange(len(y)), y])


def reference_grad(model, params, X, y):
    return autograd.grad(lambda p: reference_loss(model, p, X, y))(params)


def reference_fisher(model, params, X):
    """(1/N) sum_n J_n^T (diag p_n - p_n p_n^T) J_n, J_n the autograd Jacobian of row n's logits."""
    P = model.n_params
    F = np.zeros((P, P))
    for x in X:
        J = autograd.jacobian(lambda p: reference_logits(model, p, x[None, :])[0])(params)
        p = probabilities(reference_logits(model, params, x[None, :]))[0]
        F += J.T @ (np.diag(p) - np.outer(p, p)) @ J
    return F / len(X)


def reference_kl(model, params_p, params_q, X):
    """Mean over rows of sum_c p_c log(p_c / q_c)."""
    p = probabilities(reference_logits(model, params_p, X))
    q = probabilities(reference_logits(model, params_q, X))
    return float(np.mean(np.sum(p * np.log(p / q), axis=1)))


# ---------------------------------------------------------------- minibatches


@pytest.mark.parametrize(("n_rows", "batch_size"), [(20, 4), (23, 5), (7, 7), (9, 1)])
def test_minibatches_are_disjoint_rows_of_one_epoch(n_rows, batch_size):
    """Reference: the batches hold n_rows // batch_size * batch_size distinct indices in range(n_rows)."""
    batches = minibatch.minibatches(n_rows, batch_size, np.random.default_rng(0))
    assert batches.shape == (n_rows // batch_size, batch_size)
    flat = batches.ravel()
    assert len(set(flat.tolist())) == flat.size
    assert flat.min() >= 0 and flat.max() < n_rows


def test_minibatches_are_seeded_and_shuffled():
    """Reference: the same seed gives the same batches, an int seed equals its Generator, and
    over many epochs every row lands in every batch position (no fixed order)."""
    first = minibatch.minibatches(12, 3, np.random.default_rng(5))
    np.testing.assert_array_equal(first, minibatch.minibatches(12, 3, np.random.default_rng(5)))
    np.testing.assert_array_equal(first, minibatch.minibatches(12, 3, 5))
    rng = np.random.default_rng(1)
    seen = np.zeros((12, 12), dtype=bool)  # seen[row, position in the epoch]
    for _ in range(400):
        order = minibatch.minibatches(12, 3, rng).ravel()
        seen[order, np.arange(12)] = True
    assert seen.all()


def test_minibatches_rejects_bad_input():
    with pytest.raises(ValueError, match="batch_size"):
        minibatch.minibatches(5, 6, 0)
    with pytest.raises(ValueError, match="batch_size"):
        minibatch.minibatches(5, 0, 0)
    with pytest.raises(ValueError, match="n_rows"):
        minibatch.minibatches(2.5, 1, 0)
    with pytest.raises(ValueError, match="rng"):
        minibatch.minibatches(5, 2, "seed")


# ---------------------------------------------------------------- make_outliers


def test_make_outliers_scales_inputs_and_makes_every_label_wrong():
    """Reference: x -> s x and y -> (y + 1) mod C, written out; the inputs are not modified."""
    X, y = make_data(10, 2, 3, seed=0)
    X_copy, y_copy = X.copy(), y.copy()
    X_out, y_out = minibatch.make_outliers(X, y, n_classes=3, input_scale=6.0)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_allclose(X_out, 6.0 * X_copy, rtol=0, atol=0)
    np.testing.assert_array_equal(y_out, np.array([(label + 1) % 3 for label in y_copy]))
    assert np.all(y_out != y_copy)


def test_make_outliers_rejects_bad_input():
    X, y = make_data(4, 2, 3, seed=0)
    with pytest.raises(ValueError, match="n_classes"):
        minibatch.make_outliers(X, np.zeros(4, dtype=int), n_classes=1, input_scale=2.0)
    with pytest.raises(ValueError, match="input_scale"):
        minibatch.make_outliers(X, y, n_classes=3, input_scale=0.0)
    with pytest.raises(ValueError, match="y"):
        minibatch.make_outliers(X, y + 3, n_classes=3, input_scale=2.0)
    with pytest.raises(ValueError, match="X"):
        minibatch.make_outliers(X[:, 0], y, n_classes=3, input_scale=2.0)


# ---------------------------------------------------------------- noisy_batches


def _row_index(X, row):
    """The index of the row of X equal to ``row`` (exactly), or -1."""
    hits = np.flatnonzero(np.all(X == row, axis=1))
    return int(hits[0]) if hits.size else -1


def test_noisy_batches_rows_come_from_the_data_or_are_outliers_of_it():
    """Reference: every clean row equals a data row with its label; in a flagged batch the first
    n_outliers rows equal scale * a data row with the next class as label."""
    X, y = make_data(30, 2, 3, seed=1)
    batches, flags = minibatch.noisy_batches(X, y, 3, batch_size=5, n_steps=40, outlier_fraction=0.3,
                                             n_outliers=2, input_scale=7.0, rng=3)
    assert len(batches) == 40 and flags.shape == (40,) and 0 < flags.sum() < 40
    for (X_batch, y_batch), flagged in zip(batches, flags):
        assert X_batch.shape == (5, 2) and y_batch.shape == (5,)
        for k, (row, label) in enumerate(zip(X_batch, y_batch)):
            if flagged and k < 2:
                index = _row_index(7.0 * X, row)
                assert index >= 0 and label == (y[index] + 1) % 3
            else:
                index = _row_index(X, row)
                assert index >= 0 and label == y[index]


def test_noisy_batches_walk_through_epochs():
    """Reference: with no outliers, each block of n_rows // batch_size consecutive batches uses
    every row at most once (one epoch)."""
    X, y = make_data(12, 2, 3, seed=2)
    batches, flags = minibatch.noisy_batches(X, y, 3, batch_size=4, n_steps=9, outlier_fraction=0.0,
                                             n_outliers=1, input_scale=2.0, rng=0)
    assert not flags.any()
    for epoch in range(3):
        rows = [_row_index(X, row) for X_batch, _ in batches[3 * epoch : 3 * epoch + 3] for row in X_batch]
        assert sorted(rows) == list(range(12))


def test_noisy_batches_same_seed_same_rows_with_or_without_outliers():
    """Reference: the clean stream equals the noisy stream wherever the noisy one has no outlier."""
    X, y = make_data(20, 3, 4, seed=3)
    settings = dict(batch_size=4, n_steps=25, n_outliers=3, input_scale=5.0, rng=11)
    noisy, flags = minibatch.noisy_batches(X, y, 4, outlier_fraction=0.4, **settings)
    clean, clean_flags = minibatch.noisy_batches(X, y, 4, outlier_fraction=0.0, **settings)
    assert flags.any() and not clean_flags.any()
    for (Xn, yn), (Xc, yc), flagged in zip(noisy, clean, flags):
        np.testing.assert_array_equal(Xn[3:], Xc[3:])
        np.testing.assert_array_equal(yn[3:], yc[3:])
        if flagged:
            np.testing.assert_array_equal(Xn[:3], 5.0 * Xc[:3])
            np.testing.assert_array_equal(yn[:3], (yc[:3] + 1) % 4)
        else:
            np.testing.assert_array_equal(Xn, Xc)


def test_noisy_batches_outlier_frequency_matches_the_fraction():
    """Reference: the number of flagged batches among 2000 is Binomial(2000, 0.1): within 5 sd of 200."""
    X, y = make_data(16, 2, 3, seed=4)
    _, flags = minibatch.noisy_batches(X, y, 3, batch_size=4, n_steps=2000, outlier_fraction=0.1,
                                       n_outliers=1, input_scale=3.0, rng=2)
    assert abs(flags.sum() - 200) < 5 * np.sqrt(2000 * 0.1 * 0.9)
    _, all_flags = minibatch.noisy_batches(X, y, 3, batch_size=4, n_steps=10, outlier_fraction=1.0,
                                           n_outliers=1, input_scale=3.0, rng=2)
    assert all_flags.all()


def test_noisy_batches_may_replace_a_whole_batch_and_flag_it_in_a_boolean_array():
    """Reference: make_outliers applied to the whole batch when n_outliers = batch_size (the documented maximum)."""
    X, y = make_data(8, 2, 3, seed=6)
    batches, flags = minibatch.noisy_batches(X, y, 3, batch_size=4, n_steps=3, outlier_fraction=1.0,
                                             n_outliers=4, input_scale=5.0, rng=1)
    clean, _ = minibatch.noisy_batches(X, y, 3, batch_size=4, n_steps=3, outlier_fraction=0.0,
                                       n_outliers=4, input_scale=5.0, rng=1)
    assert flags.dtype == bool and flags.tolist() == [True, True, True]
    for (X_batch, y_batch), (X_clean, y_clean) in zip(batches, clean):
        np.testing.assert_array_equal(X_batch, 5.0 * X_clean)
        np.testing.assert_array_equal(y_batch, (y_clean + 1) % 3)
    _, none = minibatch.noisy_batches(X, y, 3, batch_size=4, n_steps=2, outlier_fraction=0.0, n_outliers=4, input_scale=5.0, rng=1)
    assert none.dtype == bool and not none.any()


def test_noisy_batches_rejects_bad_input():
    X, y = make_data(10, 2, 3, seed=0)
    good = dict(batch_size=4, n_steps=5, outlier_fraction=0.1, n_outliers=1, input_scale=3.0, rng=0)
    with pytest.raises(ValueError, match="outlier_fraction"):
        minibatch.noisy_batches(X, y, 3, **{**good, "outlier_fraction": 1.5})
    with pytest.raises(ValueError, match="n_outliers"):
        minibatch.noisy_batches(X, y, 3, **{**good, "n_outliers": 5})
    with pytest.raises(ValueError, match="n_steps"):
        minibatch.noisy_batches(X, y, 3, **{**good, "n_steps": -1})
    with pytest.raises(ValueError, match="input_scale"):
        minibatch.noisy_batches(X, y, 3, **{**good, "input_scale": -2.0})
    with pytest.raises(ValueError, match="y"):
        minibatch.noisy_batches(X, y, 2, **good)
    with pytest.raises(ValueError, match="n_classes"):
        minibatch.noisy_batches(X, np.zeros(10, dtype=int), 1, **good)


# ---------------------------------------------------------------- update


def test_update_sgd_is_a_gradient_step(any_problem):
    """Reference: params - eta * autograd gradient of the hand-written batch cross-entropy."""
    model, params, X, y = any_problem
    new = minibatch.update(model, params, X, y, "sgd", learning_rate=0.3)
    np.testing.assert_allclose(new, params - 0.3 * reference_grad(model, params, X, y), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("damping", [1e-3, 0.5])
def test_update_natural_fixed_rate_solves_with_the_batch_fisher(tanh_problem, damping):
    """Reference: params - eta * solve(F_B + damping I, g_B), F_B from autograd Jacobians of the batch rows."""
    model, params, X, y = tanh_problem
    rows = slice(2, 8)
    F = reference_fisher(model, params, X[rows])
    g = reference_grad(model, params, X[rows], y[rows])
    expected = params - 0.2 * np.linalg.solve(F + damping * np.eye(model.n_params), g)
    new = minibatch.update(model, params, X[rows], y[rows], "natural", learning_rate=0.2, damping=damping)
    np.testing.assert_allclose(new, expected, rtol=1e-8, atol=1e-10)


def test_update_natural_undamped_singular_fisher_takes_the_minimum_norm_solution(softmax_problem):
    """Reference: numpy.linalg.pinv(F_B) @ g_B for the singular softmax Fisher."""
    model, params, X, y = softmax_problem
    F = reference_fisher(model, params, X)
    g = reference_grad(model, params, X, y)
    new = minibatch.update(model, params, X, y, "natural", learning_rate=0.5)
    expected = params - 0.5 * np.linalg.pinv(F) @ g
    np.testing.assert_allclose(new, expected, rtol=1e-7, atol=1e-9 * np.abs(expected - params).max())


@pytest.mark.parametrize("damping", [0.0, 1e-2, 1.0])
def test_update_kl_budget_spends_the_budget_on_the_batch(sigmoid_problem, damping):
    """Reference: 1/2 delta^T (F_B + damping I) delta = eps by hand, delta along -pinv/solve(F_B + damping I) g_B."""
    model, params, X, y = sigmoid_problem
    F = reference_fisher(model, params, X) + damping * np.eye(model.n_params)
    g = reference_grad(model, params, X, y)
    delta = minibatch.update(model, params, X, y, "natural", kl_budget=2e-3, damping=damping) - params
    assert 0.5 * delta @ F @ delta == pytest.approx(2e-3, rel=1e-8)
    direction = np.linalg.pinv(F) @ g
    cosine = -delta @ direction / (np.linalg.norm(delta) * np.linalg.norm(direction))
    assert cosine == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("max_step_length", [1e-3, 0.05, 10.0])
def test_update_clipped_sgd_caps_the_step_length(any_problem, max_step_length):
    """Reference: the unclipped step -eta g_B when it is at most max_step_length long, otherwise
    the same direction rescaled by hand to length max_step_length."""
    model, params, X, y = any_problem
    g = reference_grad(model, params, X, y)
    unclipped = -0.3 * g
    length = np.linalg.norm(unclipped)
    expected = unclipped if length <= max_step_length else unclipped * (max_step_length / length)
    new = minibatch.update(model, params, X, y, "sgd", learning_rate=0.3, max_step_length=max_step_length)
    np.testing.assert_allclose(new - params, expected, rtol=1e-10, atol=1e-14)
    assert np.linalg.norm(new - params) <= max_step_length * (1 + 1e-12)


def test_update_clipping_leaves_short_steps_alone(softmax_problem):
    """Reference: with a cap far above the step's length, clipped SGD equals plain SGD bit for bit;
    with a cap just below it, the step is exactly the cap long."""
    model, params, X, y = softmax_problem
    plain = minibatch.update(model, params, X, y, "sgd", learning_rate=0.2)
    length = np.linalg.norm(plain - params)
    np.testing.assert_array_equal(minibatch.update(model, params, X, y, "sgd", learning_rate=0.2, max_step_length=2 * length), plain)
    tight = minibatch.update(model, params, X, y, "sgd", learning_rate=0.2, max_step_length=0.5 * length)
    assert np.linalg.norm(tight - params) == pytest.approx(0.5 * length, rel=1e-12)


def test_update_sgd_true_kl_matches_its_quadratic_model(softmax_problem):
    """Reference: for small eta, KL(theta || theta - eta g) / (1/2 eta^2 g^T F g) -> 1, F the Fisher of
    the evaluation inputs (the book's eq. for the KL of an SGD step)."""
    model, params, X, y = softmax_problem
    X_eval = make_data(30, 3, 4, seed=9)[0]
    F = reference_fisher(model, params, X_eval)
    g = reference_grad(model, params, X[:4], y[:4])
    ratios = []
    for eta in [1e-1, 1e-2, 1e-3]:
        new = minibatch.update(model, params, X[:4], y[:4], "sgd", learning_rate=eta)
        ratios.append(reference_kl(model, params, new, X_eval) / (0.5 * eta**2 * g @ F @ g))
    errors = np.abs(np.array(ratios) - 1.0)
    assert errors[-1] < 1e-2 and errors[0] > errors[1] > errors[2]


def test_update_rejects_bad_input(softmax_problem):
    model, params, X, y = softmax_problem
    with pytest.raises(ValueError, match="learning_rate, kl_budget"):
        minibatch.update(model, params, X, y, "natural")
    with pytest.raises(ValueError, match="learning_rate, kl_budget"):
        minibatch.update(model, params, X, y, "natural", learning_rate=0.1, kl_budget=0.1)
    with pytest.raises(ValueError, match="kl_budget"):
        minibatch.update(model, params, X, y, "sgd", kl_budget=0.1)
    with pytest.raises(ValueError, match="damping"):
        minibatch.update(model, params, X, y, "sgd", learning_rate=0.1, damping=0.1)
    with pytest.raises(ValueError, match="method"):
        minibatch.update(model, params, X, y, "adam", learning_rate=0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        minibatch.update(model, params, X, y, "sgd", learning_rate=-1.0)
    with pytest.raises(ValueError, match="params"):
        minibatch.update(model, params[:-1], X, y, "sgd", learning_rate=0.1)
    with pytest.raises(ValueError, match="y_batch"):
        minibatch.update(model, params, X, y[:-1], "sgd", learning_rate=0.1)
    with pytest.raises(ValueError, match="model"):
        minibatch.update("model", params, X, y, "sgd", learning_rate=0.1)
    with pytest.raises(ValueError, match="max_step_length"):
        minibatch.update(model, params, X, y, "natural", kl_budget=0.1, max_step_length=1.0)
    with pytest.raises(ValueError, match="max_step_length"):
        minibatch.update(model, params, X, y, "sgd", learning_rate=0.1, max_step_length=0.0)
    with pytest.raises(ValueError, match="max_step_length"):
        minibatch.update(model, params, X, y, "sgd", learning_rate=0.1, max_step_length=float("inf"))


# ---------------------------------------------------------------- the damped budget bound (chapter 7 theorem)


@given(
    seed=st.integers(0, 2**16),
    kl_budget=st.floats(1e-5, 1.0),
    damping=st.floats(1e-3, 10.0),
    input_scale=st.floats(1.0, 10.0),
)
def test_damped_kl_budget_bounds_the_quadratic_kl_on_any_inputs(seed, kl_budget, damping, input_scale):
    """Reference: for the damped budget step, 1/2 d^T F_B d <= eps, |d|^2 <= 2 eps / damping, and
    1/2 d^T F_D d <= eps * lambda_max(F_D) / damping for unrelated inputs D (numpy.linalg.eigvalsh)."""
    model = ng.mlp([2, 3, 3])
    X, y = make_data(6, 2, 3, seed=seed)
    X_batch, y_batch = minibatch.make_outliers(X, y, n_classes=3, input_scale=input_scale)
    params = random_params(model, seed=seed + 1, scale=1.5)
    delta = minibatch.update(model, params, X_batch, y_batch, "natural", kl_budget=kl_budget, damping=damping) - params
    F_batch = ng.fisher(model, params, X_batch)
    F_other = ng.fisher(model, params, make_data(20, 2, 3, seed=seed + 2)[0])
    slack = 1.0 + 1e-9
    assert 0.5 * delta @ F_batch @ delta <= kl_budget * slack
    assert delta @ delta <= 2 * kl_budget / damping * slack
    assert 0.5 * delta @ F_other @ delta <= kl_budget * np.linalg.eigvalsh(F_other).max() / damping * slack


# ---------------------------------------------------------------- train


@pytest.mark.parametrize(
    "rule",
    [
        dict(method="sgd", learning_rate=0.4),
        dict(method="natural", learning_rate=0.1, damping=0.05),
        dict(method="natural", kl_budget=1e-2, damping=1e-3),
        dict(method="sgd", learning_rate=0.4, max_step_length=0.05),
    ],
)
def test_train_records_the_kl_and_loss_of_every_step(tanh_problem, rule):
    """Reference: a hand-written loop of update calls; the KL and loss of each step recomputed with
    the helpers' forward pass, sum p log(p / q) and the hand-written cross-entropy."""
    model, params, X, y = tanh_problem
    batches, _ = minibatch.noisy_batches(X, y, 3, batch_size=3, n_steps=7, outlier_fraction=0.5,
                                         n_outliers=1, input_scale=4.0, rng=1)
    run = minibatch.train(model, params, batches, X, y, **rule)
    assert run.step_kl.shape == (7,) and run.loss.shape == (8,)
    assert run.path.shape == (8, model.n_params)
    current = params.copy()
    np.testing.assert_array_equal(run.path[0], params)
    assert run.loss[0] == pytest.approx(reference_loss(model, current, X, y), rel=1e-10)
    for step, (X_batch, y_batch) in enumerate(batches):
        new = minibatch.update(model, current, X_batch, y_batch, **rule)
        np.testing.assert_allclose(run.path[step + 1], new, rtol=1e-12, atol=1e-15)
        assert run.step_kl[step] == pytest.approx(reference_kl(model, current, new, X), rel=1e-7, abs=1e-14)
        assert run.loss[step + 1] == pytest.approx(reference_loss(model, new, X, y), rel=1e-10)
        current = new
    np.testing.assert_allclose(run.params, current, rtol=1e-12, atol=0)


def test_train_with_no_batches_returns_the_start(softmax_problem):
    """Reference: zero steps leave the parameters unchanged and record only the starting loss."""
    model, params, X, y = softmax_problem
    run = minibatch.train(model, params, [], X, y, method="sgd", learning_rate=0.1)
    np.testing.assert_array_equal(run.params, params)
    assert run.step_kl.shape == (0,)
    assert run.loss.tolist() == [pytest.approx(reference_loss(model, params, X, y), rel=1e-12)]


def test_train_does_not_modify_its_inputs(softmax_problem):
    model, params, X, y = softmax_problem
    batches = [(X[:4].copy(), y[:4].copy()), (X[4:8].copy(), y[4:8].copy())]
    copies = [(a.copy(), b.copy()) for a, b in batches]
    params_copy = params.copy()
    minibatch.train(model, params, batches, X, y, method="natural", kl_budget=1e-2, damping=0.1)
    np.testing.assert_array_equal(params, params_copy)
    for (a, b), (c, d) in zip(batches, copies):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_train_rejects_bad_input(softmax_problem):
    model, params, X, y = softmax_problem
    with pytest.raises(ValueError, match="learning_rate, kl_budget"):
        minibatch.train(model, params, [], X, y, method="sgd")
    with pytest.raises(ValueError, match="params0"):
        minibatch.train(model, params[:3], [], X, y, method="sgd", learning_rate=0.1)
    with pytest.raises(ValueError, match="y_eval"):
        minibatch.train(model, params, [], X, y[:-1], method="sgd", learning_rate=0.1)
    with pytest.raises(ValueError, match="X"):
        minibatch.train(model, params, [], X[:, :2], y, method="sgd", learning_rate=0.1)
    with pytest.raises(ValueError, match=r"batches\[1\]"):
        minibatch.train(model, params, [(X[:3], y[:3]), (X[3:6], y[3:5])], X, y, method="sgd", learning_rate=0.1)
    with pytest.raises(ValueError, match="max_step_length"):
        minibatch.train(model, params, [], X, y, method="natural", kl_budget=0.1, max_step_length=1.0)
