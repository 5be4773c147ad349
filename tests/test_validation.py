"""Bad input: every public function raises ValueError whose message names the argument.

Reference: the API contract. Each case is (callable, argument name); the message must
contain the name as a whole word (so "params" does not satisfy "params_q").
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import natgrad as ng  # noqa: E402
from natgrad import plotting  # noqa: E402

MODEL = ng.softmax_regression(3, 4)  # P = 16
MLP = ng.mlp([3, 4, 2])  # P = 26
X = np.random.default_rng(0).normal(size=(5, 3))
Y = np.array([0, 1, 2, 3, 0])
PARAMS = np.random.default_rng(1).normal(size=MODEL.n_params) * 0.3
F = ng.fisher(MODEL, PARAMS, X)
G = np.random.default_rng(2).normal(size=MODEL.n_params)
SPD = np.eye(3) * 2.0

NAN_PARAMS = PARAMS.copy()
NAN_PARAMS[3] = np.nan
INF_PARAMS = PARAMS.copy()
INF_PARAMS[0] = np.inf
SHORT = PARAMS[:-1]
X_WRONG = np.ones((5, 2))
X_NAN = X.copy()
X_NAN[1, 1] = np.nan
NAN_G = G.copy()
NAN_G[2] = np.nan
INF_G = G.copy()
INF_G[5] = -np.inf
FVP = ng.fisher_vector_product(MODEL, PARAMS, X)
BERNOULLI = ng.mlp([3, 4, 2], likelihood="bernoulli")  # P = 26
GAUSSIAN = ng.linear_regression(3, 2)  # P = 8
B_PARAMS = np.random.default_rng(3).normal(size=BERNOULLI.n_params) * 0.3
G_PARAMS = np.random.default_rng(4).normal(size=GAUSSIAN.n_params)
Y_UNIT = np.random.default_rng(5).random((5, 2))
Y_REAL = np.random.default_rng(6).normal(size=(5, 2))
LIN = ng.linearize(BERNOULLI, B_PARAMS, X)


def _with(array, index, value):
    out = np.array(array, dtype=float)
    out[index] = value
    return out


def _fvp_call(v):
    return ng.fisher_vector_product(MODEL, PARAMS, X)(v)


def _plot_path(path, method):
    fig, ax = plt.subplots()
    try:
        plotting.plot_path(ax, path, method)
    finally:
        plt.close(fig)


def _plot_contours(**kwargs):
    fig, ax = plt.subplots()
    try:
        plotting.plot_loss_contours(ax, lambda p: p @ p, (-1, 1), (-1, 1), **kwargs)
    finally:
        plt.close(fig)


CASES = {
    # --- distributions
    "softmax NaN logits": (lambda: ng.softmax(np.array([0.0, np.nan])), "logits"),
    "softmax inf logits": (lambda: ng.softmax(np.array([0.0, np.inf])), "logits"),
    "softmax scalar logits": (lambda: ng.softmax(1.0), "logits"),
    "log_softmax NaN logits": (lambda: ng.log_softmax(np.array([[np.nan, 1.0]])), "logits"),
    "kl_categorical NaN p": (lambda: ng.kl_categorical(np.array([np.nan, 0.0]), np.zeros(2)), "logits_p"),
    "kl_categorical inf q": (lambda: ng.kl_categorical(np.zeros(2), np.array([np.inf, 0.0])), "logits_q"),
    "kl_categorical shape mismatch": (lambda: ng.kl_categorical(np.zeros(3), np.zeros(2)), "logits_q"),
    "kl_gaussian NaN mu_p": (lambda: ng.kl_gaussian(np.nan, 1.0, 0.0, 1.0), "mu_p"),
    "kl_gaussian inf mu_q": (lambda: ng.kl_gaussian(0.0, 1.0, np.inf, 1.0), "mu_q"),
    "kl_gaussian sigma_p zero": (lambda: ng.kl_gaussian(0.0, 0.0, 0.0, 1.0), "sigma_p"),
    "kl_gaussian sigma_q negative": (lambda: ng.kl_gaussian(0.0, 1.0, 0.0, -1.0), "sigma_q"),
    "kl_gaussian sigma_q NaN": (lambda: ng.kl_gaussian(0.0, 1.0, 0.0, np.nan), "sigma_q"),
    "gaussian_fisher unknown parametrization": (lambda: ng.gaussian_fisher(0.0, 1.0, "variance"), "parametrization"),
    "gaussian_fisher sigma negative": (lambda: ng.gaussian_fisher(0.0, -1.0), "sigma"),
    "gaussian_fisher sigma NaN": (lambda: ng.gaussian_fisher(0.0, np.nan), "sigma"),
    "gaussian_fisher mu inf": (lambda: ng.gaussian_fisher(np.inf, 1.0), "mu"),
    # --- model constructors and methods
    "mlp unknown activation": (lambda: ng.mlp([3, 4, 2], activation="relu"), "activation"),
    "mlp too few sizes": (lambda: ng.mlp([3]), "layer_sizes"),
    "mlp zero size": (lambda: ng.mlp([3, 0, 2]), "layer_sizes"),
    "mlp one class": (lambda: ng.mlp([3, 4, 1]), "layer_sizes"),
    "softmax_regression zero features": (lambda: ng.softmax_regression(0, 3), "n_features"),
    "softmax_regression one class": (lambda: ng.softmax_regression(3, 1), "n_classes"),
    "softmax_regression float classes": (lambda: ng.softmax_regression(3, 2.5), "n_classes"),
    "init bad rng": (lambda: MODEL.init("seed"), "rng"),
    "logits params wrong length": (lambda: MODEL.logits(SHORT, X), "params"),
    "logits params NaN": (lambda: MODEL.logits(NAN_PARAMS, X), "params"),
    "logits X wrong features": (lambda: MODEL.logits(PARAMS, X_WRONG), "X"),
    "logits X 1-D": (lambda: MODEL.logits(PARAMS, np.ones(3)), "X"),
    "logits X NaN": (lambda: MODEL.logits(PARAMS, X_NAN), "X"),
    "unflatten wrong length": (lambda: MODEL.unflatten(np.zeros(MODEL.n_params + 1)), "params"),
    "unflatten inf": (lambda: MODEL.unflatten(INF_PARAMS), "params"),
    "flatten wrong number of layers": (lambda: MLP.flatten(MLP.unflatten(np.zeros(MLP.n_params))[:1]), "layers"),
    # --- cross_entropy and model_kl
    "cross_entropy params wrong length": (lambda: ng.cross_entropy(MODEL, SHORT, X, Y), "params"),
    "cross_entropy params NaN": (lambda: ng.cross_entropy(MODEL, NAN_PARAMS, X, Y), "params"),
    "cross_entropy X wrong features": (lambda: ng.cross_entropy(MODEL, PARAMS, X_WRONG, Y), "X"),
    "cross_entropy y out of range": (lambda: ng.cross_entropy(MODEL, PARAMS, X, np.array([0, 1, 2, 4, 0])), "y"),
    "cross_entropy y negative": (lambda: ng.cross_entropy(MODEL, PARAMS, X, np.array([0, -1, 2, 3, 0])), "y"),
    "cross_entropy y wrong length": (lambda: ng.cross_entropy(MODEL, PARAMS, X, Y[:3]), "y"),
    "cross_entropy y float": (lambda: ng.cross_entropy(MODEL, PARAMS, X, Y + 0.5), "y"),
    "cross_entropy model not a Model": (lambda: ng.cross_entropy("model", PARAMS, X, Y), "model"),
    "model_kl params_p wrong length": (lambda: ng.model_kl(MODEL, SHORT, PARAMS, X), "params_p"),
    "model_kl params_q wrong length": (lambda: ng.model_kl(MODEL, PARAMS, SHORT, X), "params_q"),
    "model_kl params_p NaN": (lambda: ng.model_kl(MODEL, NAN_PARAMS, PARAMS, X), "params_p"),
    "model_kl params_q inf": (lambda: ng.model_kl(MODEL, PARAMS, INF_PARAMS, X), "params_q"),
    "model_kl X wrong features": (lambda: ng.model_kl(MODEL, PARAMS, PARAMS, X_WRONG), "X"),
    # --- fisher and fisher_vector_product
    "fisher unknown kind": (lambda: ng.fisher(MODEL, PARAMS, X, kind="observed"), "kind"),
    "fisher params wrong length": (lambda: ng.fisher(MODEL, SHORT, X), "params"),
    "fisher params NaN": (lambda: ng.fisher(MODEL, NAN_PARAMS, X), "params"),
    "fisher params inf": (lambda: ng.fisher(MODEL, INF_PARAMS, X), "params"),
    "fisher X wrong features": (lambda: ng.fisher(MODEL, PARAMS, X_WRONG), "X"),
    "fisher empirical without y": (lambda: ng.fisher(MODEL, PARAMS, X, kind="empirical"), "y"),
    "fisher empirical y out of range": (lambda: ng.fisher(MODEL, PARAMS, X, kind="empirical", y=Y + 1), "y"),
    "fisher monte_carlo zero samples": (lambda: ng.fisher(MODEL, PARAMS, X, kind="monte_carlo", n_samples=0), "n_samples"),
    "fisher monte_carlo bad rng": (lambda: ng.fisher(MODEL, PARAMS, X, kind="monte_carlo", rng="x"), "rng"),
    "fisher model not a Model": (lambda: ng.fisher(None, PARAMS, X), "model"),
    "fvp params wrong length": (lambda: ng.fisher_vector_product(MODEL, SHORT, X), "params"),
    "fvp params NaN": (lambda: ng.fisher_vector_product(MODEL, NAN_PARAMS, X), "params"),
    "fvp X wrong features": (lambda: ng.fisher_vector_product(MODEL, PARAMS, X_WRONG), "X"),
    "fvp v wrong length": (lambda: FVP(np.ones(MODEL.n_params - 1)), "v"),
    "fvp v NaN": (lambda: FVP(NAN_G), "v"),
    # --- output likelihoods (natgrad.likelihoods) and the models that use them
    "mlp unknown likelihood": (lambda: ng.mlp([3, 4, 2], likelihood="poisson"), "likelihood"),
    "Model unknown likelihood": (lambda: ng.Model((3, 2), "tanh", "multinomial"), "likelihood"),
    "likelihoods.get unknown": (lambda: ng.likelihoods.get("laplace"), "likelihood"),
    "output_factors unknown kind": (lambda: ng.likelihoods.get("bernoulli").output_factors(np.zeros((2, 2)), "observed"), "kind"),
    "logistic_regression zero features": (lambda: ng.logistic_regression(0), "n_features"),
    "logistic_regression zero outputs": (lambda: ng.logistic_regression(3, 0), "n_outputs"),
    "linear_regression float outputs": (lambda: ng.linear_regression(3, 1.5), "n_outputs"),
    "log_sigmoid NaN": (lambda: ng.log_sigmoid(np.array([0.0, np.nan])), "logits"),
    "kl_bernoulli shape mismatch": (lambda: ng.kl_bernoulli(np.zeros(3), np.zeros(2)), "logits_q"),
    "kl_bernoulli inf p": (lambda: ng.kl_bernoulli(np.array([np.inf]), np.zeros(1)), "logits_p"),
    "kl_bernoulli NaN q": (lambda: ng.kl_bernoulli(np.zeros(1), np.array([np.nan])), "logits_q"),
    "nll bernoulli y above 1": (lambda: ng.negative_log_likelihood(BERNOULLI, B_PARAMS, X, _with(Y_UNIT, (2, 1), 1.5)), "y"),
    "nll bernoulli y negative": (lambda: ng.negative_log_likelihood(BERNOULLI, B_PARAMS, X, _with(Y_UNIT, (0, 0), -1e-9)), "y"),
    "nll bernoulli y NaN": (lambda: ng.negative_log_likelihood(BERNOULLI, B_PARAMS, X, _with(Y_UNIT, (1, 1), np.nan)), "y"),
    "nll bernoulli y wrong shape": (lambda: ng.negative_log_likelihood(BERNOULLI, B_PARAMS, X, Y_UNIT.T), "y"),
    "nll bernoulli y flat for two outputs": (lambda: ng.negative_log_likelihood(BERNOULLI, B_PARAMS, X, Y_UNIT.ravel()), "y"),
    "nll bernoulli y strings": (lambda: ng.negative_log_likelihood(BERNOULLI, B_PARAMS, X, np.full((5, 2), "1")), "y"),
    "nll bernoulli params wrong length": (lambda: ng.negative_log_likelihood(BERNOULLI, PARAMS, X, Y_UNIT), "params"),
    "nll gaussian y inf": (lambda: ng.negative_log_likelihood(GAUSSIAN, G_PARAMS, X, _with(Y_REAL, (4, 0), np.inf)), "y"),
    "nll gaussian y too few rows": (lambda: ng.negative_log_likelihood(GAUSSIAN, G_PARAMS, X, Y_REAL[:4]), "y"),
    "nll gaussian X wrong features": (lambda: ng.negative_log_likelihood(GAUSSIAN, G_PARAMS, X_WRONG, Y_REAL), "X"),
    "nll categorical y float": (lambda: ng.negative_log_likelihood(MODEL, PARAMS, X, Y + 0.5), "y"),
    "nll model not a Model": (lambda: ng.negative_log_likelihood("model", PARAMS, X, Y), "model"),
    "cross_entropy bernoulli model": (lambda: ng.cross_entropy(BERNOULLI, B_PARAMS, X, Y_UNIT), "model"),
    "predict X NaN": (lambda: ng.predict(BERNOULLI, B_PARAMS, X_NAN), "X"),
    "predict params wrong length": (lambda: ng.predict(GAUSSIAN, PARAMS, X), "params"),
    "model_kl gaussian params_q wrong length": (lambda: ng.model_kl(GAUSSIAN, G_PARAMS, PARAMS, X), "params_q"),
    "fisher bernoulli empirical y above 1": (lambda: ng.fisher(BERNOULLI, B_PARAMS, X, kind="empirical", y=Y_UNIT + 1.0), "y"),
    "fisher gaussian empirical y labels": (lambda: ng.fisher(GAUSSIAN, G_PARAMS, X, kind="empirical", y=Y), "y"),
    "fisher gaussian empirical without y": (lambda: ng.fisher(GAUSSIAN, G_PARAMS, X, kind="empirical"), "y"),
    "fisher bernoulli monte_carlo zero samples": (lambda: ng.fisher(BERNOULLI, B_PARAMS, X, kind="monte_carlo", n_samples=0), "n_samples"),
    "fisher X without rows": (lambda: ng.fisher(BERNOULLI, B_PARAMS, X[:0]), "X"),
    "diagonal_fisher gaussian y wrong shape": (lambda: ng.curvature.diagonal_fisher(GAUSSIAN, G_PARAMS, X, kind="empirical", y=Y_REAL[:, :1]), "y"),
    "kfac_factors bernoulli y NaN": (lambda: ng.curvature.kfac_factors(BERNOULLI, B_PARAMS, X, kind="empirical", y=_with(Y_UNIT, (0, 0), np.nan)), "y"),
    "kfac_factors bernoulli bad rng": (lambda: ng.curvature.kfac_factors(BERNOULLI, B_PARAMS, X, kind="monte_carlo", rng=1.5), "rng"),
    "linearize X without rows": (lambda: ng.linearize(BERNOULLI, B_PARAMS, X[:0]), "X"),
    "linearize params NaN": (lambda: ng.linearize(BERNOULLI, _with(B_PARAMS, 0, np.nan), X), "params"),
    "linearize model not a Model": (lambda: ng.linearize(None, B_PARAMS, X), "model"),
    "linearization jvp v wrong length": (lambda: LIN.jvp(np.ones(3)), "v"),
    "linearization fvp v inf": (lambda: LIN.fisher_vector_product(_with(B_PARAMS, 1, np.inf)), "v"),
    "linearization fisher_norm_squared v wrong length": (lambda: LIN.fisher_norm_squared(np.ones(BERNOULLI.n_params + 1)), "v"),
    "linearization vjp u wrong shape": (lambda: LIN.vjp(np.ones((5, 3))), "u"),
    "linearization vjp u NaN": (lambda: LIN.vjp(np.full((5, 2), np.nan)), "u"),
    "linearization gradient y above 1": (lambda: LIN.gradient(Y_UNIT * 3.0), "y"),
    "linearization loss y wrong shape": (lambda: LIN.loss(Y_UNIT[:, 0]), "y"),
    # --- conjugate_gradient
    "cg matvec not callable": (lambda: ng.conjugate_gradient(SPD, np.ones(3)), "matvec"),
    "cg b NaN": (lambda: ng.conjugate_gradient(lambda v: SPD @ v, np.array([1.0, np.nan, 0.0])), "b"),
    "cg b 2-D": (lambda: ng.conjugate_gradient(lambda v: SPD @ v, np.ones((3, 1))), "b"),
    "cg damping negative": (lambda: ng.conjugate_gradient(lambda v: SPD @ v, np.ones(3), damping=-1e-3), "damping"),
    "cg damping NaN": (lambda: ng.conjugate_gradient(lambda v: SPD @ v, np.ones(3), damping=np.nan), "damping"),
    "cg tol zero": (lambda: ng.conjugate_gradient(lambda v: SPD @ v, np.ones(3), tol=0.0), "tol"),
    "cg max_iter negative": (lambda: ng.conjugate_gradient(lambda v: SPD @ v, np.ones(3), max_iter=-1), "max_iter"),
    # --- natural_direction
    "natural_direction grad NaN": (lambda: ng.natural_direction(NAN_G, F), "grad"),
    "natural_direction grad inf": (lambda: ng.natural_direction(INF_G, F), "grad"),
    "natural_direction grad 2-D": (lambda: ng.natural_direction(G[:, None], F), "grad"),
    "natural_direction damping negative": (lambda: ng.natural_direction(G, F, damping=-0.1), "damping"),
    "natural_direction damping inf": (lambda: ng.natural_direction(G, F, damping=np.inf), "damping"),
    "natural_direction fisher wrong shape": (lambda: ng.natural_direction(G, F[:-1, :-1]), "fisher"),
    "natural_direction fisher NaN": (lambda: ng.natural_direction(G, np.full_like(F, np.nan)), "fisher"),
    "natural_direction callable damping negative": (lambda: ng.natural_direction(G, FVP, damping=-1.0), "damping"),
    "natural_direction fisher not symmetric": (lambda: ng.natural_direction(G, F + np.triu(np.ones_like(F), 1)), "fisher"),
    "natural_direction rtol negative": (lambda: ng.natural_direction(G, F, rtol=-1e-14), "rtol"),
    "natural_direction rtol one": (lambda: ng.natural_direction(G, F, rtol=1.0), "rtol"),
    "natural_direction rtol NaN": (lambda: ng.natural_direction(G, F, rtol=np.nan), "rtol"),
    "natural_direction rtol inf": (lambda: ng.natural_direction(G, F, rtol=np.inf), "rtol"),
    "natural_direction rtol bool": (lambda: ng.natural_direction(G, F, rtol=True), "rtol"),
    "natural_direction rtol string": (lambda: ng.natural_direction(G, F, rtol="1e-14"), "rtol"),
    "natural_direction callable rtol negative": (lambda: ng.natural_direction(G, FVP, rtol=-1.0), "rtol"),
    # --- natural_step
    "natural_step kl_budget zero": (lambda: ng.natural_step(PARAMS, G, F, 0.0), "kl_budget"),
    "natural_step kl_budget negative": (lambda: ng.natural_step(PARAMS, G, F, -1e-3), "kl_budget"),
    "natural_step kl_budget inf": (lambda: ng.natural_step(PARAMS, G, F, np.inf), "kl_budget"),
    "natural_step kl_budget NaN": (lambda: ng.natural_step(PARAMS, G, F, np.nan), "kl_budget"),
    "natural_step damping negative": (lambda: ng.natural_step(PARAMS, G, F, 1e-3, damping=-1e-6), "damping"),
    "natural_step params NaN": (lambda: ng.natural_step(NAN_PARAMS, G, F, 1e-3), "params"),
    "natural_step params wrong length": (lambda: ng.natural_step(SHORT, G, F, 1e-3), "params"),
    "natural_step grad NaN": (lambda: ng.natural_step(PARAMS, NAN_G, F, 1e-3), "grad"),
    "natural_step grad inf": (lambda: ng.natural_step(PARAMS, INF_G, FVP, 1e-3), "grad"),
    "natural_step fisher wrong shape": (lambda: ng.natural_step(PARAMS, G, np.eye(3), 1e-3), "fisher"),
    "natural_step rtol too large": (lambda: ng.natural_step(PARAMS, G, F, 1e-3, rtol=2.0), "rtol"),
    "kfac_direction rtol negative": (lambda: ng.curvature.kfac_direction(ng.curvature.kfac_factors(MODEL, PARAMS, X), G, rtol=-0.5), "rtol"),
    # --- glm
    "fit_softmax_regression C zero": (lambda: ng.glm.fit_softmax_regression(X, Y, C=0.0), "C"),
    "fit_softmax_regression tol NaN": (lambda: ng.glm.fit_softmax_regression(X, Y, tol=np.nan), "tol"),
    "fit_softmax_regression y out of range": (lambda: ng.glm.fit_softmax_regression(X, Y, n_classes=3), "y"),
    "softmax_fisher_vector_product probs not summing to 1": (lambda: ng.glm.softmax_fisher_vector_product(X, np.full((5, 4), 0.3)), "probs"),
    "forcing_tolerance negative": (lambda: ng.glm.forcing_tolerance(-0.5), "grad_norm"),
    # --- gradient_descent
    "gradient_descent grad_fn not callable": (lambda: ng.gradient_descent(None, np.zeros(2), 0.1, 3), "grad_fn"),
    "gradient_descent params0 NaN": (lambda: ng.gradient_descent(lambda x: x, np.array([np.nan, 0.0]), 0.1, 3), "params0"),
    "gradient_descent params0 2-D": (lambda: ng.gradient_descent(lambda x: x, np.zeros((2, 2)), 0.1, 3), "params0"),
    "gradient_descent learning_rate zero": (lambda: ng.gradient_descent(lambda x: x, np.zeros(2), 0.0, 3), "learning_rate"),
    "gradient_descent learning_rate inf": (lambda: ng.gradient_descent(lambda x: x, np.zeros(2), np.inf, 3), "learning_rate"),
    "gradient_descent n_steps negative": (lambda: ng.gradient_descent(lambda x: x, np.zeros(2), 0.1, -1), "n_steps"),
    "gradient_descent n_steps float": (lambda: ng.gradient_descent(lambda x: x, np.zeros(2), 0.1, 2.5), "n_steps"),
    # --- plotting
    "method_color unknown": (lambda: plotting.method_color("sgd_momentum"), "method"),
    "plot_path unknown method": (lambda: _plot_path(np.zeros((3, 2)), "nope"), "method"),
    "plot_path wrong shape": (lambda: _plot_path(np.zeros(3), "gd"), "path"),
    "plot_loss_contours n_grid zero": (lambda: _plot_contours(n_grid=0), "n_grid"),
    "plot_loss_contours levels zero": (lambda: _plot_contours(levels=0), "levels"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_raises_value_error_naming_argument(case):
    """Reference: contract; ValueError and the argument name as a whole word in the message."""
    call, name = CASES[case]
    with pytest.raises(ValueError, match=rf"(?<![\w]){re.escape(name)}(?![\w])"):
        call()


def test_fvp_call_helper_validates_v():
    """Reference: contract, a freshly built product also rejects a wrong-length v."""
    with pytest.raises(ValueError, match=r"\bv\b"):
        _fvp_call(np.ones(3))


def test_validation_does_not_reject_good_input():
    """Reference: every call above succeeds with its bad argument replaced by a good one."""
    ng.softmax(np.array([0.0, 1.0]))
    ng.kl_categorical(np.zeros(2), np.zeros(2))
    ng.kl_gaussian(0.0, 1.0, 0.0, 1.0)
    ng.gaussian_fisher(0.0, 1.0, "log_sigma")
    ng.model_kl(MODEL, PARAMS, PARAMS, X)
    ng.cross_entropy(MODEL, PARAMS, X, Y)
    ng.fisher(MODEL, PARAMS, X, kind="empirical", y=Y)
    ng.fisher(MODEL, PARAMS, X, kind="monte_carlo", n_samples=2, rng=np.random.default_rng(0))
    FVP(G)
    ng.conjugate_gradient(lambda v: SPD @ v, np.ones(3), damping=0.0, max_iter=0)
    ng.natural_direction(G, F, damping=0.0)
    ng.natural_direction(G, F, rtol=0.0)
    ng.natural_direction(G, F, rtol=0.999)
    ng.natural_step(PARAMS, G, F, 1e-3, damping=0.0)
    ng.natural_step(PARAMS, G, F, 1e-3, rtol=1e-10)
    ng.glm.fit_softmax_regression(X, Y, C=1.0, tol=1e-8)
    ng.glm.softmax_fisher_vector_product(X, np.full((5, 4), 0.25))(np.zeros(16))
    ng.glm.forcing_tolerance(0.0)
    ng.curvature.kfac_direction(ng.curvature.kfac_factors(MODEL, PARAMS, X), G, rtol=0.0)
    ng.gradient_descent(lambda x: x, np.zeros(2), 0.1, 0)
    plotting.method_color("gd")
    ng.mlp([3, 1], likelihood="bernoulli")
    ng.logistic_regression(3)
    ng.linear_regression(3, 2)
    ng.log_sigmoid(np.array([-800.0, 800.0]))
    ng.kl_bernoulli(np.zeros(3), np.ones(3))
    ng.negative_log_likelihood(BERNOULLI, B_PARAMS, X, Y_UNIT)
    ng.negative_log_likelihood(BERNOULLI, B_PARAMS, X, Y_UNIT > 0.5)
    ng.negative_log_likelihood(ng.logistic_regression(3), np.zeros(4), X, np.array([0.0, 1.0, 0.5, 1.0, 0.0]))
    ng.negative_log_likelihood(GAUSSIAN, G_PARAMS, X, Y_REAL)
    ng.negative_log_likelihood(MODEL, PARAMS, X, Y)
    ng.predict(BERNOULLI, B_PARAMS, X)
    ng.fisher(BERNOULLI, B_PARAMS, X, kind="empirical", y=Y_UNIT)
    ng.fisher(GAUSSIAN, G_PARAMS, X, kind="empirical", y=Y_REAL)
    ng.curvature.kfac_factors(BERNOULLI, B_PARAMS, X, kind="monte_carlo", rng=np.random.default_rng(1))
    ng.curvature.diagonal_fisher(GAUSSIAN, G_PARAMS, X, kind="empirical", y=Y_REAL)
    LIN.jvp(B_PARAMS)
    LIN.vjp(np.ones((5, 2)))
    LIN.gradient(Y_UNIT)
    LIN.loss(Y_UNIT)
    LIN.fisher_norm_squared(B_PARAMS)
