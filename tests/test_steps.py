"""Natural-gradient directions and KL-budgeted natural steps.

References: numpy.linalg.solve / numpy.linalg.pinv on the dense Fisher, the quadratic KL
model computed by hand, the true model_kl, and a change of coordinates theta = A phi
whose phi-space gradient and Fisher come from autograd (not from natgrad's formulas).
"""

from __future__ import annotations

import math

import autograd
import numpy as np
import pytest

import natgrad as ng
from natgrad import family
from tests.helpers import make_data, planted_psd, probabilities, random_params


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


# ---------------------------------------------------------------- minimum-norm solves: the relative eigenvalue cutoff

REWARDS = np.array([0.7, 0.5, 0.3, 0.2, 1.0])  # chapter 9's bandit
CENTRED_REWARDS = REWARDS - REWARDS.mean()


def bandit_fisher(logits):
    """diag(p) - p p^T for a softmax policy, the diagonal summed exactly as p_k * fsum_{j != k} p_j (no cancellation)."""
    p = probabilities(logits)
    F = -np.outer(p, p)
    F[np.diag_indices(p.size)] = [p[k] * math.fsum(np.delete(p, k)) for k in range(p.size)]
    return F


def bandit_gradient(logits):
    """p * (r - p^T r), with r_k - p^T r summed exactly as fsum_j p_j (r_k - r_j)."""
    p = probabilities(logits)
    return p * np.array([math.fsum(p * (reward - REWARDS)) for reward in REWARDS])


def test_natural_direction_bandit_is_the_centred_reward_vector_at_logits_up_to_40():
    """Reference: the closed form F^+ g = r - mean(r) 1 of chapter 9, for every policy, at 2000
    random policies whose logits reach magnitude 40: a common shift of up to 31 (which changes
    no probability) plus a spread of up to 18 nats between arms. The relative error of a
    minimum-norm solve grows like 1e-16 e^spread (the smallest genuine eigenvalue is about
    e^-spread omega_max); at 18 nats it is below 2e-9. The Fisher and gradient are summed
    exactly here, so this checks the solve alone; test_family checks natgrad's own bandit."""
    rng = np.random.default_rng(40)
    worst = 0.0
    for _ in range(2000):
        logits = rng.uniform(-9.0, 9.0, size=5) + rng.uniform(-31.0, 31.0)
        d = ng.natural_direction(bandit_gradient(logits), bandit_fisher(logits))
        worst = max(worst, np.linalg.norm(d - CENTRED_REWARDS) / np.linalg.norm(CENTRED_REWARDS))
    assert worst < 1e-8, worst


def test_natural_direction_saturated_softmax_regression_is_orthogonal_to_the_logit_shifts():
    """Reference: the known null space of the softmax-regression Fisher, {W[i, :] += c_i, b += c}
    (one vector per feature row and one for the biases), orthonormalised; parameters scaled so
    that the logits reach magnitudes 5 to 40 (probabilities as small as 1e-30). The direction
    has no component along it to 1e-8 relative, and solves F d = g."""
    model = ng.softmax_regression(3, 4)
    X, y = make_data(40, 3, 4, seed=12)
    base = random_params(model, seed=13)
    shifts = []
    for row in range(model.n_features + 1):
        table = np.zeros((model.n_features + 1, model.n_classes))
        table[row] = 1.0
        shifts.append(table.ravel())
    null_basis, _ = np.linalg.qr(np.column_stack(shifts))
    for size in (5.0, 10.0, 20.0, 40.0):
        params = base * size / np.abs(model.logits(base, X)).max()
        F = ng.fisher(model, params, X)
        g = loss_grad(model, params, X, y)
        d = ng.natural_direction(g, F)
        assert np.linalg.norm(null_basis.T @ d) < 1e-8 * np.linalg.norm(d), size
        assert np.linalg.norm(F @ d - g) < 1e-8 * np.linalg.norm(g), size


@pytest.mark.parametrize("n, n_null", [(2, 1), (3, 1), (4, 2), (8, 3), (20, 5)])
@pytest.mark.parametrize("scale", [1e-8, 1.0, 1e8])
@pytest.mark.parametrize("null_noise", [1e-16, 1e-15])
def test_natural_direction_planted_null_space_with_round_off_noise(n, n_null, scale, null_noise):
    """Reference: the pseudo-inverse of the noiseless matrix, built from its planted eigenvectors.
    Genuine eigenvalues from 1e-6 to 1 (times scale); round-off noise of norm null_noise *
    scale inside the null space and 1e-16 * scale in general position. 1e-15 is the size of the
    round-off eigenvalues measured for null directions of real Fishers (up to 9.2e-16); it
    survives lstsq's cutoff of 2.2e-16 * P * omega_max when P <= 4. The cutoff is relative, so
    the answer does not depend on scale."""
    rng = np.random.default_rng(1000 * n + n_null)
    F, Z, pinv = planted_psd(n, n_null, rng, smallest=1e-6, scale=scale, null_noise=null_noise, noise=1e-16)
    g = rng.normal(size=n)
    expected = pinv @ g
    d = ng.natural_direction(g, F)
    np.testing.assert_allclose(d, expected, rtol=0, atol=1e-8 * np.linalg.norm(expected))
    assert np.linalg.norm(Z.T @ d) < 1e-8 * np.linalg.norm(expected)


def test_natural_direction_rtol_decides_which_eigenvalues_count_as_zero():
    """Reference: the planted eigendecomposition. Eigenvalues 0 (+ round-off 1e-16), 1e-9,
    1e-3, 1: rtol = 1e-10 keeps 1e-9, rtol = 1e-8 drops it, and rtol = 0 keeps even the
    round-off eigenvalue, whose inverse then dominates the direction."""
    rng = np.random.default_rng(7)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    omega = np.array([1e-16, 1e-9, 1e-3, 1.0])
    F = (Q * omega) @ Q.T
    F = 0.5 * (F + F.T)
    g = Q @ np.array([0.0, 1e-9, 1e-3, 1.0])  # in the range of F, as a gradient is
    coefficients = np.array([0.0, 1.0, 1.0, 1.0])  # (u_i^T g) / omega_i for the kept i
    np.testing.assert_allclose(ng.natural_direction(g, F, rtol=1e-10), Q @ coefficients, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ng.natural_direction(g, F, rtol=1e-8), Q @ (coefficients * [0, 0, 1, 1]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ng.natural_direction(g, F), Q @ coefficients, rtol=0, atol=1e-6)
    # A gradient with a round-off component along the null vector: rtol = 0 divides it by 1e-16.
    g_noisy = g + 1e-12 * Q[:, 0]
    assert np.linalg.norm(ng.natural_direction(g_noisy, F)) < 2.0
    assert np.linalg.norm(ng.natural_direction(g_noisy, F, rtol=0.0)) > 1e3


def test_natural_direction_invertible_badly_scaled_fisher_is_exact():
    """Reference: d = D^-1 B^-1 D^-1 g from the factors of F = D B D, with B well conditioned and
    D = diag(1e-3, 1, 1e3, 10): a Fisher whose parameters are in very different units
    (condition number about 1e12). Nothing is cut, and the solve is accurate to round-off
    (an eigenvector sum would be accurate only to 1e-16 times the condition number)."""
    rng = np.random.default_rng(8)
    R = rng.normal(size=(4, 4))
    B = R @ R.T + 4.0 * np.eye(4)
    D = np.array([1e-3, 1.0, 1e3, 10.0])
    F = D[:, None] * B * D[None, :]
    g = rng.normal(size=4)
    expected = np.linalg.solve(B, g / D) / D
    np.testing.assert_allclose(ng.natural_direction(g, F), expected, rtol=1e-12)


def test_rtol_zero_on_an_exactly_singular_fisher_returns_the_pseudo_inverse_solution():
    # At logits (30, 0, 0) every computed eigenvalue of the bandit Fisher is nonzero, so rtol = 0
    # keeps them all, yet LU finds the matrix exactly singular; the answer is still the solution
    # orthogonal to the null vector 1, which is -(e_0 - 1/3) / (1 - p_0) up to round-off.
    logits = np.array([30.0, 0.0, 0.0])
    probs = ng.softmax(logits)
    fisher = family.policy_fisher(logits)
    grad = probs - np.eye(3)[0]
    direction = ng.natural_direction(grad, fisher, rtol=0.0)
    assert abs(direction.sum()) < 1e-12 * np.linalg.norm(direction)
    np.testing.assert_allclose(fisher @ direction, grad, atol=1e-15)
    np.testing.assert_allclose(direction, ng.natural_direction(grad, fisher), rtol=1e-6)
