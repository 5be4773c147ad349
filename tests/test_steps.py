"""Natural-gradient directions and KL-budgeted natural steps.

References: numpy.linalg.solve / numpy.linalg.pinv on the dense Fisher, the quadratic KL
model computed by hand, the true model_kl, and a change of coordinates theta = A phi
whose phi-space gradient and Fisher come from autograd (not from natgrad's formulas).
"""

from __future__ import annotations

import os
import warnings

import autograd
import numpy as np
import pytest

import natgrad as ng
from tests.helpers import make_data, probabilities, random_params


def loss_grad(model, params, X, y):
    return autograd.grad(lambda p: ng.cross_entropy(model, p, X, y))(params)


def quadratic_kl(delta, F, damping=0.0):
    """1/2 delta^T (F + damping I) delta."""
    return 0.5 * delta @ (F @ delta) + 0.5 * damping * delta @ delta


# ---------------------------------------------------------------- natural_direction


@pytest.mark.parametrize("damping", [1e-3, 0.1, 2.0])
def test_natural_direction_dense_damped_matches_solve(tanh_problem, damping):
    """Reference: numpy.linalg.solve(F + damping I, g)."""
    model, params, X, y = tanh_problem
    F = ng.fisher(model, params, X)
    g = loss_grad(model, params, X, y)
    expected = np.linalg.solve(F + damping * np.eye(model.n_params), g)
    np.testing.assert_allclose(ng.natural_direction(g, F, damping=damping), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("damping", [1e-2, 0.5])
def test_natural_direction_callable_matches_dense_solve(sigmoid_problem, damping):
    """Reference: numpy.linalg.solve(F + damping I, g) with the dense Fisher; natgrad gets only v -> F v."""
    model, params, X, y = sigmoid_problem
    F = ng.fisher(model, params, X)
    g = loss_grad(model, params, X, y)
    fvp = ng.fisher_vector_product(model, params, X)
    expected = np.linalg.solve(F + damping * np.eye(model.n_params), g)
    np.testing.assert_allclose(ng.natural_direction(g, fvp, damping=damping), expected, rtol=1e-7, atol=1e-9)


def test_natural_direction_invertible_matrix_undamped():
    """Reference: numpy.linalg.solve on a random SPD matrix (no damping)."""
    rng = np.random.default_rng(0)
    B = rng.normal(size=(8, 8))
    F = B @ B.T + 0.5 * np.eye(8)
    g = rng.normal(size=8)
    np.testing.assert_allclose(ng.natural_direction(g, F), np.linalg.solve(F, g), rtol=1e-10)


def test_natural_direction_singular_softmax_fisher_is_minimum_norm(softmax_problem):
    """Reference: numpy.linalg.pinv(F) @ g for the singular softmax-regression Fisher, damping 0."""
    model, params, X, y = softmax_problem
    F = ng.fisher(model, params, X)
    assert np.linalg.matrix_rank(F) < model.n_params  # really singular
    g = loss_grad(model, params, X, y)
    d = ng.natural_direction(g, F, damping=0.0)
    expected = np.linalg.pinv(F) @ g
    np.testing.assert_allclose(d, expected, rtol=1e-8, atol=1e-10 * np.abs(expected).max())
    # It solves the system: F d = g.
    np.testing.assert_allclose(F @ d, g, atol=1e-10 * np.abs(g).max())


def test_natural_direction_singular_random_rhs_is_pinv_solution(softmax_problem):
    """Reference: numpy.linalg.pinv(F) @ g also for a g outside the range of F (least squares)."""
    model, params, X, _ = softmax_problem
    F = ng.fisher(model, params, X)
    g = np.random.default_rng(1).normal(size=model.n_params)
    expected = np.linalg.pinv(F) @ g
    np.testing.assert_allclose(ng.natural_direction(g, F), expected, rtol=1e-7, atol=1e-9 * np.abs(expected).max())


def test_natural_direction_singular_is_orthogonal_to_logit_shift_null_space(softmax_problem):
    """Reference: the null space of the softmax Fisher is {W[i, :] += c_i, b += c}; the
    minimum-norm direction has zero component along it (row sums of dW and db vanish)."""
    model, params, X, y = softmax_problem
    F = ng.fisher(model, params, X)
    g = loss_grad(model, params, X, y)
    d = ng.natural_direction(g, F)
    (dW, db), = model.unflatten(d)
    scale = np.abs(d).max()
    np.testing.assert_allclose(dW.sum(axis=1), 0.0, atol=1e-12 * scale)
    assert abs(db.sum()) < 1e-12 * scale
    # Same check with explicit null vectors, one per feature row and one for the bias.
    for row in range(model.n_features + 1):
        null = np.zeros((model.n_features + 1, model.n_classes))
        null[row] = 1.0
        assert np.linalg.norm(F @ null.ravel()) < 1e-13
        assert abs(d @ null.ravel()) < 1e-12 * scale


def test_natural_direction_callable_undamped_singular_is_minimum_norm(softmax_problem):
    """Reference: numpy.linalg.pinv(F) @ g; CG from zero stays in the range of F."""
    model, params, X, y = softmax_problem
    F = ng.fisher(model, params, X)
    g = loss_grad(model, params, X, y)
    d = ng.natural_direction(g, ng.fisher_vector_product(model, params, X))
    np.testing.assert_allclose(d, np.linalg.pinv(F) @ g, rtol=1e-7, atol=1e-9)


def test_natural_direction_warns_naming_the_caller_when_cg_does_not_converge():
    """Reference: CG by hand on the indefinite diag(1, -1) with g = (1, 1) meets zero curvature at once.

    The warning reports 0 iterations and the relative residual 1, and points at the code that
    called natural_direction (stacklevel), not at natgrad's own line.
    """
    indefinite = np.diag([1.0, -1.0])
    with pytest.warns(RuntimeWarning) as record:
        d = ng.natural_direction(np.ones(2), lambda v: indefinite @ v)
    assert len(record) == 1
    assert str(record[0].message) == (
        "natural_direction: conjugate gradient stopped after 0 iterations at relative residual 1.0e+00; consider damping > 0"
    )
    # Attributed to the caller of natural_direction (stacklevel=2). Under mutmut an extra frame of its
    # trampoline sits between the two, so there the caller is that frame.
    assert record[0].filename == __file__ or record[0].filename.endswith(os.path.join("mutmut", "mutation", "trampoline.py"))
    np.testing.assert_array_equal(d, np.zeros(2))


def test_natural_direction_is_silent_when_cg_converges(sigmoid_problem):
    """Reference: no warning at all (any warning is turned into an error here) for a well-posed damped solve."""
    model, params, X, y = sigmoid_problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = ng.natural_direction(loss_grad(model, params, X, y), ng.fisher_vector_product(model, params, X), damping=0.1)
    F = ng.fisher(model, params, X)
    np.testing.assert_allclose((F + 0.1 * np.eye(model.n_params)) @ d, loss_grad(model, params, X, y), rtol=1e-8, atol=1e-11)


def test_natural_step_with_zero_curvature_returns_a_copy_of_params():
    """Reference: F = 0 with damping 0 gives d^T F d = 0, where no alpha exists: params come back unchanged, as a new array."""
    params = np.array([1.0, -2.0])
    with pytest.warns(RuntimeWarning):
        new = ng.natural_step(params, np.array([1.0, 0.0]), lambda v: 0.0 * v, 0.1)
    np.testing.assert_array_equal(new, params)
    assert new is not params


# ---------------------------------------------------------------- natural_step: KL budget


@pytest.mark.parametrize("kl_budget", [1e-6, 1e-3, 0.05])
@pytest.mark.parametrize("damping", [0.0, 1e-3, 0.3])
def test_natural_step_hits_quadratic_budget_dense(tanh_problem, kl_budget, damping):
    """Reference: 1/2 delta^T (F + damping I) delta computed by hand equals kl_budget (rel 1e-10)."""
    model, params, X, y = tanh_problem
    F = ng.fisher(model, params, X)
    g = loss_grad(model, params, X, y)
    new = ng.natural_step(params, g, F, kl_budget, damping=damping)
    assert new.shape == params.shape
    assert quadratic_kl(new - params, F, damping) == pytest.approx(kl_budget, rel=1e-10, abs=0)


@pytest.mark.parametrize("damping", [0.0, 1e-2])
def test_natural_step_hits_quadratic_budget_callable(sigmoid_problem, damping):
    """Reference: quadratic KL with the dense Fisher, while natgrad only sees v -> F v."""
    model, params, X, y = sigmoid_problem
    F = ng.fisher(model, params, X)
    g = loss_grad(model, params, X, y)
    new = ng.natural_step(params, g, ng.fisher_vector_product(model, params, X), 1e-3, damping=damping)
    assert quadratic_kl(new - params, F, damping) == pytest.approx(1e-3, rel=1e-10, abs=0)


@pytest.mark.parametrize("damping", [0.0, 0.1])
def test_natural_step_moves_against_natural_direction(tanh_problem, damping):
    """Reference: params - new is a positive multiple of numpy's solve / pinv solution."""
    model, params, X, y = tanh_problem
    F = ng.fisher(model, params, X)
    g = loss_grad(model, params, X, y)
    new = ng.natural_step(params, g, F, 1e-3, damping=damping)
    d = np.linalg.solve(F + damping * np.eye(F.shape[0]), g) if damping else np.linalg.pinv(F, rcond=1e-12) @ g
    step = params - new
    alpha = (step @ d) / (d @ d)
    assert alpha > 0
    np.testing.assert_allclose(step, alpha * d, rtol=1e-6, atol=1e-9 * np.abs(step).max())


@pytest.mark.parametrize("setup", ["softmax", "tanh_mlp"])
def test_natural_step_true_kl_tends_to_budget(setup):
    """Reference: the true model_kl of the step; |KL / budget - 1| shrinks monotonically as the
    budget shrinks and is below 1e-2 at the smallest budget. Both models have N (C - 1) > P, so
    the only null directions of F are exact invariances (a common shift of the logits)."""
    if setup == "softmax":
        model = ng.softmax_regression(3, 4)
        X, y = make_data(12, 3, 4, seed=1)
        params = random_params(model, seed=2, scale=0.7)
    else:
        model = ng.mlp([2, 3, 3], activation="tanh")
        X, y = make_data(40, 2, 3, seed=7)
        params = random_params(model, seed=8)
    F = ng.fisher(model, params, X)
    g = loss_grad(model, params, X, y)
    budgets = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7]
    errors = []
    for budget in budgets:
        new = ng.natural_step(params, g, F, budget)
        errors.append(abs(ng.model_kl(model, params, new, X) / budget - 1.0))
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 1e-2, errors


def test_natural_step_decreases_loss_for_small_budget(any_problem):
    """Reference: cross_entropy before and after; g^T delta < 0 so a small step lowers the loss."""
    model, params, X, y = any_problem
    F = ng.fisher(model, params, X)
    g = loss_grad(model, params, X, y)
    new = ng.natural_step(params, g, F, 1e-4, damping=1e-4)
    assert ng.cross_entropy(model, new, X, y) < ng.cross_entropy(model, params, X, y)


def test_natural_step_zero_gradient_returns_params(softmax_problem):
    """Reference: the input params, unchanged (and a new array, not the caller's)."""
    model, params, X, _ = softmax_problem
    F = ng.fisher(model, params, X)
    new = ng.natural_step(params, np.zeros(model.n_params), F, 0.1)
    np.testing.assert_array_equal(new, params)


# ---------------------------------------------------------------- reparameterisation invariance


def test_natural_step_is_invariant_under_linear_reparameterisation_gd_is_not(softmax_problem):
    """Reference: theta = A phi. The phi-space gradient and Fisher come from autograd of the
    phi-space loss and of the phi-space model_kl Hessian (checked against A^T g and A^T F A).
    One undamped natural step in phi, mapped through A, predicts like the theta step; a plain
    gradient step does not."""
    model, theta, X, y = softmax_problem
    P = model.n_params
    rng = np.random.default_rng(42)
    A = np.eye(P) + 0.4 * rng.normal(size=(P, P))
    assert np.linalg.cond(A) < 1e3
    phi = np.linalg.solve(A, theta)

    def loss_phi(ph):
        return ng.cross_entropy(model, A @ ph, X, y)

    g = loss_grad(model, theta, X, y)
    F = ng.fisher(model, theta, X)
    g_phi = autograd.grad(loss_phi)(phi)
    F_phi = autograd.hessian(lambda ph: ng.model_kl(model, theta, A @ ph, X))(phi)
    np.testing.assert_allclose(g_phi, A.T @ g, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(F_phi, A.T @ F @ A, rtol=1e-9, atol=1e-12 * np.abs(F_phi).max())

    budget = 1e-2
    theta_nat = ng.natural_step(theta, g, F, budget)
    theta_nat_via_phi = A @ ng.natural_step(phi, g_phi, F_phi, budget)
    p_nat = probabilities(model.logits(theta_nat, X))
    p_nat_via_phi = probabilities(model.logits(theta_nat_via_phi, X))
    np.testing.assert_allclose(p_nat_via_phi, p_nat, rtol=0, atol=1e-10)

    lr = 0.5
    theta_gd = theta - lr * g
    theta_gd_via_phi = A @ (phi - lr * g_phi)
    gap = np.abs(probabilities(model.logits(theta_gd_via_phi, X)) - probabilities(model.logits(theta_gd, X))).max()
    assert gap > 1e-3


def test_natural_step_invariance_with_invertible_fisher():
    """Reference: as above, on a 3-parameter binary logistic model (class-1 logit pinned at 0, so F
    is invertible, checked); the mapped phi step equals the u step parameter for parameter."""
    model = ng.softmax_regression(2, 2)
    X, y = make_data(30, 2, 2, seed=3)
    # Parameters theta = E u restricted to class-0 weights/bias (class-1 fixed at 0): F_u invertible.
    E = np.zeros((model.n_params, 3))
    E[[0, 2, 4], [0, 1, 2]] = 1.0  # W[0,0], W[1,0], b[0]
    u = np.random.default_rng(4).normal(size=3)

    def kl_u(u_p, u_q):
        return ng.model_kl(model, E @ u_p, E @ u_q, X)

    F_u = autograd.hessian(lambda uq: kl_u(u, uq))(u)
    assert np.linalg.eigvalsh(F_u).min() > 1e-3 * np.linalg.eigvalsh(F_u).max()
    g_u = autograd.grad(lambda uu: ng.cross_entropy(model, E @ uu, X, y))(u)
    A = np.array([[2.0, 0.3, -0.5], [0.1, 0.7, 0.2], [-0.4, 0.2, 1.5]])
    phi = np.linalg.solve(A, u)
    F_phi = autograd.hessian(lambda ph: kl_u(u, A @ ph))(phi)
    g_phi = autograd.grad(lambda ph: ng.cross_entropy(model, E @ (A @ ph), X, y))(phi)
    step_u = ng.natural_step(u, g_u, F_u, 1e-2)
    step_phi = ng.natural_step(phi, g_phi, F_phi, 1e-2)
    np.testing.assert_allclose(A @ step_phi, step_u, rtol=1e-10, atol=1e-12)
