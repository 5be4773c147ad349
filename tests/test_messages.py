"""The exact error message of every public check: the argument's name, then what was expected.

Reference: the API contract ("raise ValueError naming the argument and what was expected"),
written out by hand for each case. ``tests/test_validation.py`` checks that the name appears;
here the whole message must match, so a check that reports the wrong argument, drops the
expected form or garbles it fails. Each case is (callable, exact message).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import natgrad as ng  # noqa: E402
from natgrad import _checks, constrained, curvature, datasets, family, geometry, linear_gaussian, linesearch, minibatch, plotting, reparametrize  # noqa: E402
from natgrad import optimizers as opt  # noqa: E402
from natgrad.fisher import output_factors  # noqa: E402

MODEL = ng.softmax_regression(3, 4)  # P = 16
MLP = ng.mlp([3, 4, 2])  # P = 26
SIGMOID = ng.mlp([2, 3, 2], activation="sigmoid")
X = np.random.default_rng(0).normal(size=(5, 3))
Y = np.array([0, 1, 2, 3, 0])
PARAMS = np.random.default_rng(1).normal(size=MODEL.n_params) * 0.3
F = ng.fisher(MODEL, PARAMS, X)
G = np.random.default_rng(2).normal(size=MODEL.n_params)
NAN = np.array([0.0, np.nan])
FACTORS = curvature.kfac_factors(MODEL, PARAMS, X)
FINITE = "expected finite values, found NaN or inf"
MODEL_MESSAGE = "model: expected a natgrad Model (from ng.mlp or a one-layer constructor such as ng.softmax_regression), got str"


def _with_axes(draw):
    fig, ax = plt.subplots()
    try:
        return draw(ax)
    finally:
        plt.close(fig)


def _train(**changes):
    arguments = dict(model=MODEL, optimizer=opt.sgd(0.1), params0=PARAMS, X_train=X, y_train=Y, X_test=X, y_test=Y, n_iter=1, batch_size=2)
    arguments.update(changes)
    return opt.train(**arguments)


def _noisy(**changes):
    arguments = dict(X=X, y=Y, n_classes=4, batch_size=2, n_steps=3, outlier_fraction=0.5, n_outliers=1, input_scale=3.0, rng=0)
    arguments.update(changes)
    return minibatch.noisy_batches(**arguments)


def _line_search(**changes):
    arguments = dict(kl_fn=lambda q: 0.0, loss_fn=lambda q: 0.0, params=np.zeros(2), step=np.ones(2), kl_budget=0.1)
    arguments.update(changes)
    return linesearch.kl_line_search(**arguments)


def _kl_circle(**changes):
    arguments = dict(kl_fn=lambda points: np.sum(points**2, axis=1), params=np.zeros(2), kl_budget=0.1, n_directions=4)
    arguments.update(changes)
    return constrained.kl_circle(**arguments)


def _ngd(**changes):
    arguments = dict(grad_fn=lambda p: p, fisher_fn=lambda p: np.eye(2), params0=np.ones(2), n_steps=1, learning_rate=0.1)
    arguments.update(changes)
    return constrained.natural_gradient_descent(**arguments)


def _mirror(**changes):
    arguments = dict(grad_fn=lambda x: x, point0=np.ones(2), to_dual=lambda x: x, from_dual=lambda x: x, learning_rate=0.1, n_steps=1)
    arguments.update(changes)
    return family.mirror_descent(**arguments)


CASES = {
    # --- the shared checks themselves
    "array_value object": (lambda: _checks.array_value(object(), "z"), "z: expected an array of real numbers, got object"),
    "array_value text": (lambda: _checks.array_value("abc", "z"), "z: expected an array of real numbers, got str"),
    "finite_array NaN": (lambda: _checks.finite_array(NAN, "z"), f"z: {FINITE}"),
    "flat_vector 2-D": (lambda: _checks.flat_vector(np.zeros((2, 2)), "z", 4), "z: expected a flat vector of length 4, got shape (2, 2)"),
    "flat_vector short": (lambda: _checks.flat_vector(np.zeros(3), "z", 4), "z: expected a flat vector of length 4, got shape (3,)"),
    "flat_vector NaN": (lambda: _checks.flat_vector(NAN, "z", 2), f"z: {FINITE}"),
    "positive_finite zero": (lambda: _checks.positive_finite(0, "z"), "z: expected a finite number > 0, got 0"),
    "positive_finite bool": (lambda: _checks.positive_finite(True, "z"), "z: expected a finite number > 0, got True"),
    "positive_finite text": (lambda: _checks.positive_finite("1", "z"), "z: expected a finite number > 0, got '1'"),
    "positive_finite inf": (lambda: _checks.positive_finite(np.inf, "z"), "z: expected a finite number > 0, got inf"),
    "nonnegative_finite negative": (lambda: _checks.nonnegative_finite(-1e-9, "z"), "z: expected a finite number >= 0, got -1e-09"),
    "nonnegative_finite bool": (lambda: _checks.nonnegative_finite(False, "z"), "z: expected a finite number >= 0, got False"),
    "nonnegative_finite NaN": (lambda: _checks.nonnegative_finite(np.nan, "z"), "z: expected a finite number >= 0, got nan"),
    "nonnegative_finite text": (lambda: _checks.nonnegative_finite("0", "z"), "z: expected a finite number >= 0, got '0'"),
    "positive_int zero": (lambda: _checks.positive_int(0, "z"), "z: expected an integer >= 1, got 0"),
    "positive_int float": (lambda: _checks.positive_int(1.0, "z"), "z: expected an integer >= 1, got 1.0"),
    "positive_int bool": (lambda: _checks.positive_int(True, "z"), "z: expected an integer >= 1, got True"),
    "nonnegative_int negative": (lambda: _checks.nonnegative_int(-1, "z"), "z: expected an integer >= 0, got -1"),
    "nonnegative_int float": (lambda: _checks.nonnegative_int(0.0, "z"), "z: expected an integer >= 0, got 0.0"),
    "nonnegative_int bool": (lambda: _checks.nonnegative_int(False, "z"), "z: expected an integer >= 0, got False"),
    "one_of": (lambda: _checks.one_of("c", "z", ("a", "b")), "z: expected one of 'a', 'b', got 'c'"),
    "generator text": (lambda: _checks.generator("s"), "rng: expected a numpy.random.Generator or an int seed, got str"),
    "generator bool": (lambda: _checks.generator(True, "seed"), "seed: expected a numpy.random.Generator or an int seed, got bool"),
    "generator float": (lambda: _checks.generator(1.0, "seed"), "seed: expected a numpy.random.Generator or an int seed, got float"),
    # --- distributions
    "log_softmax scalar": (lambda: ng.log_softmax(1.0), "logits: expected an array with at least one axis (the classes)"),
    "softmax NaN": (lambda: ng.softmax(NAN), f"logits: {FINITE}"),
    "kl_categorical shapes": (lambda: ng.kl_categorical(np.zeros(3), np.zeros(2)), "logits_q: expected the same shape as logits_p (3,), got (2,)"),
    "kl_categorical NaN p": (lambda: ng.kl_categorical(NAN, np.zeros(2)), f"logits_p: {FINITE}"),
    "kl_categorical NaN q": (lambda: ng.kl_categorical(np.zeros(2), NAN), f"logits_q: {FINITE}"),
    "kl_categorical text p": (lambda: ng.kl_categorical("ab", np.zeros(2)), "logits_p: expected an array of real numbers, got str"),
    "kl_categorical text q": (lambda: ng.kl_categorical(np.zeros(2), "ab"), "logits_q: expected an array of real numbers, got str"),
    "kl_gaussian NaN mu_p": (lambda: ng.kl_gaussian(np.nan, 1.0, 0.0, 1.0), f"mu_p: {FINITE}"),
    "kl_gaussian NaN mu_q": (lambda: ng.kl_gaussian(0.0, 1.0, np.nan, 1.0), f"mu_q: {FINITE}"),
    "kl_gaussian sigma_p zero": (lambda: ng.kl_gaussian(0.0, 0.0, 0.0, 1.0), "sigma_p: expected standard deviations > 0"),
    "kl_gaussian sigma_q one zero entry": (lambda: ng.kl_gaussian(0.0, 1.0, 0.0, np.array([1.0, 0.0])), "sigma_q: expected standard deviations > 0"),
    "kl_gaussian sigma_q NaN": (lambda: ng.kl_gaussian(0.0, 1.0, 0.0, np.nan), f"sigma_q: {FINITE}"),
    "kl_gaussian sigma_p text": (lambda: ng.kl_gaussian(0.0, "s", 0.0, 1.0), "sigma_p: expected an array of real numbers, got str"),
    "gaussian_fisher parametrization": (lambda: ng.gaussian_fisher(0.0, 1.0, "variance"), "parametrization: expected one of 'sigma', 'log_sigma', got 'variance'"),
    "gaussian_fisher sigma zero": (lambda: ng.gaussian_fisher(0.0, 0.0), "sigma: expected a standard deviation > 0, got 0.0"),
    "gaussian_fisher sigma negative": (lambda: ng.gaussian_fisher(0.0, -2.0, "log_sigma"), "sigma: expected a standard deviation > 0, got -2.0"),
    "gaussian_fisher vector mu": (lambda: ng.gaussian_fisher(np.zeros(2), 1.0), "mu, sigma: expected scalars"),
    "gaussian_fisher vector sigma": (lambda: ng.gaussian_fisher(0.0, np.ones(2)), "mu, sigma: expected scalars"),
    "gaussian_fisher mu inf": (lambda: ng.gaussian_fisher(np.inf, 1.0), f"mu: {FINITE}"),
    "gaussian_fisher sigma NaN": (lambda: ng.gaussian_fisher(0.0, np.nan), f"sigma: {FINITE}"),
    "gaussian_fisher mu text": (lambda: ng.gaussian_fisher("m", 1.0), "mu: expected an array of real numbers, got str"),
    "gaussian_fisher sigma text": (lambda: ng.gaussian_fisher(0.0, "s"), "sigma: expected an array of real numbers, got str"),
    # --- models
    "mlp activation": (lambda: ng.mlp([3, 4, 2], activation="relu"), "activation: expected one of 'tanh', 'sigmoid', got 'relu'"),
    "mlp one size": (lambda: ng.mlp([3]), "layer_sizes: expected at least two sizes (inputs, ..., outputs), got [3]"),
    "mlp string sizes": (lambda: ng.mlp("32"), "layer_sizes: expected at least two sizes (inputs, ..., outputs), got '32'"),
    "mlp zero size": (lambda: ng.mlp([3, 0, 2]), "layer_sizes: expected an integer >= 1, got 0"),
    "mlp one class": (lambda: ng.mlp([3, 4, 1]), "layer_sizes: expected at least 2 classes in the last layer, got 1"),
    "softmax_regression features": (lambda: ng.softmax_regression(0, 3), "n_features: expected an integer >= 1, got 0"),
    "softmax_regression one class": (lambda: ng.softmax_regression(3, 1), "n_classes: expected at least 2, got 1"),
    "softmax_regression float classes": (lambda: ng.softmax_regression(3, 2.5), "n_classes: expected an integer >= 1, got 2.5"),
    "init rng": (lambda: MODEL.init("seed"), "rng: expected a numpy.random.Generator or an int seed, got str"),
    "unflatten length": (lambda: MODEL.unflatten(np.zeros(17)), "params: expected a flat vector of length 16, got shape (17,)"),
    "flatten layer count": (lambda: MLP.flatten(MLP.unflatten(np.zeros(26))[:1]), "layers: expected 2 (W, b) pairs, got 1"),
    "flatten transposed W, right b": (lambda: MODEL.flatten([(np.zeros((4, 3)), np.zeros(4))]), "layers[0]: expected W of shape (3, 4) and b of shape (4,)"),
    "flatten right W, wrong b": (lambda: MODEL.flatten([(np.zeros((3, 4)), np.zeros(3))]), "layers[0]: expected W of shape (3, 4) and b of shape (4,)"),
    "flatten second layer": (lambda: MLP.flatten([(np.zeros((3, 4)), np.zeros(4)), (np.zeros((4, 2)), np.zeros((1, 2)))]), "layers[1]: expected W of shape (4, 2) and b of shape (2,)"),
    "flatten W text": (lambda: MODEL.flatten([("w", np.zeros(4))]), "W: expected an array of real numbers, got str"),
    "flatten b text": (lambda: MODEL.flatten([(np.zeros((3, 4)), "b")]), "b: expected an array of real numbers, got str"),
    "logits X features": (lambda: MODEL.logits(PARAMS, np.ones((5, 2))), "X: expected shape (N, 3), got (5, 2)"),
    "logits X 1-D": (lambda: MODEL.logits(PARAMS, np.ones(3)), "X: expected shape (N, 3), got (3,)"),
    "logits X NaN": (lambda: MODEL.logits(PARAMS, np.full((2, 3), np.nan)), f"X: {FINITE}"),
    "logits X text": (lambda: MODEL.logits(PARAMS, "X"), "X: expected an array of real numbers, got str"),
    "cross_entropy model": (lambda: ng.cross_entropy("model", PARAMS, X, Y), MODEL_MESSAGE),
    "cross_entropy y range": (lambda: ng.cross_entropy(MODEL, PARAMS, X, np.array([0, 1, 2, 4, 0])), "y: expected labels in 0..3"),
    "cross_entropy y negative": (lambda: ng.cross_entropy(MODEL, PARAMS, X, np.array([0, -1, 2, 3, 0])), "y: expected labels in 0..3"),
    "cross_entropy y length": (lambda: ng.cross_entropy(MODEL, PARAMS, X, np.array([0, 1, 2])), "y: expected 5 integer labels, got shape (3,) and dtype int64"),
    "cross_entropy y float": (lambda: ng.cross_entropy(MODEL, PARAMS, X, Y + 0.5), "y: expected 5 integer labels, got shape (5,) and dtype float64"),
    "cross_entropy X text": (lambda: ng.cross_entropy(MODEL, PARAMS, "X", Y), "X: expected an array of real numbers, got str"),
    "model_kl model": (lambda: ng.model_kl("model", PARAMS, PARAMS, X), MODEL_MESSAGE),
    "model_kl params_p": (lambda: ng.model_kl(MODEL, PARAMS[:-1], PARAMS, X), "params_p: expected a flat vector of length 16, got shape (15,)"),
    "model_kl params_p text": (lambda: ng.model_kl(MODEL, "p", PARAMS, X), "params_p: expected an array of real numbers, got str"),
    "model_kl params_q": (lambda: ng.model_kl(MODEL, PARAMS, PARAMS[:-1], X), "params_q: expected a flat vector of length 16, got shape (15,)"),
    # --- fisher
    "fisher kind": (lambda: ng.fisher(MODEL, PARAMS, X, kind="observed"), "kind: expected one of 'exact', 'empirical', 'monte_carlo', got 'observed'"),
    "fisher model": (lambda: ng.fisher("model", PARAMS, X), MODEL_MESSAGE),
    "fisher params": (lambda: ng.fisher(MODEL, PARAMS[:-1], X), "params: expected a flat vector of length 16, got shape (15,)"),
    "fisher empirical without y": (lambda: ng.fisher(MODEL, PARAMS, X, kind="empirical"), "y: kind='empirical' needs the data's targets y"),
    "fisher empirical y range": (lambda: ng.fisher(MODEL, PARAMS, X, kind="empirical", y=Y + 1), "y: expected labels in 0..3"),
    "fisher n_samples": (lambda: ng.fisher(MODEL, PARAMS, X, kind="monte_carlo", n_samples=0), "n_samples: expected an integer >= 1, got 0"),
    "fisher rng": (lambda: ng.fisher(MODEL, PARAMS, X, kind="monte_carlo", rng="x"), "rng: expected a numpy.random.Generator or an int seed, got str"),
    "fisher X text": (lambda: ng.fisher(MODEL, PARAMS, "X"), "X: expected an array of real numbers, got str"),
    "output_factors probs text": (lambda: output_factors("p", "exact"), "probs: expected an array of real numbers, got str"),
    "fvp model": (lambda: ng.fisher_vector_product("model", PARAMS, X), MODEL_MESSAGE),
    "fvp params": (lambda: ng.fisher_vector_product(MODEL, PARAMS[:-1], X), "params: expected a flat vector of length 16, got shape (15,)"),
    "fvp X": (lambda: ng.fisher_vector_product(MODEL, PARAMS, np.ones((5, 2))), "X: expected shape (N, 3), got (5, 2)"),
    "fvp v": (lambda: ng.fisher_vector_product(MODEL, PARAMS, X)(np.ones(15)), "v: expected a flat vector of length 16, got shape (15,)"),
    # --- conjugate gradient
    "cg matvec": (lambda: ng.conjugate_gradient(np.eye(3), np.ones(3)), "matvec: expected a callable v -> A v, got ndarray"),
    "cg b 2-D": (lambda: ng.conjugate_gradient(lambda v: v, np.ones((3, 1))), "b: expected a 1-D vector, got shape (3, 1)"),
    "cg b NaN": (lambda: ng.conjugate_gradient(lambda v: v, NAN), f"b: {FINITE}"),
    "cg b text": (lambda: ng.conjugate_gradient(lambda v: v, "b"), "b: expected an array of real numbers, got str"),
    "cg damping": (lambda: ng.conjugate_gradient(lambda v: v, np.ones(3), damping=-1e-3), "damping: expected a finite number >= 0, got -0.001"),
    "cg tol": (lambda: ng.conjugate_gradient(lambda v: v, np.ones(3), tol=0.0), "tol: expected a finite number > 0, got 0.0"),
    "cg max_iter": (lambda: ng.conjugate_gradient(lambda v: v, np.ones(3), max_iter=-1), "max_iter: expected an integer >= 0, got -1"),
    # --- natural direction and step
    "natural_direction grad 2-D": (lambda: ng.natural_direction(G[:, None], F), "grad: expected a flat vector, got shape (16, 1)"),
    "natural_direction grad NaN": (lambda: ng.natural_direction(NAN, np.eye(2)), f"grad: {FINITE}"),
    "natural_direction grad text": (lambda: ng.natural_direction("g", np.eye(2)), "grad: expected an array of real numbers, got str"),
    "natural_direction damping": (lambda: ng.natural_direction(G, F, damping=-0.5), "damping: expected a finite number >= 0, got -0.5"),
    "natural_direction fisher shape": (lambda: ng.natural_direction(G, F[:-1, :-1]), "fisher: expected a (16, 16) matrix or a callable v -> F v, got shape (15, 15)"),
    "natural_direction fisher NaN": (lambda: ng.natural_direction(G, np.full_like(F, np.nan)), f"fisher: {FINITE}"),
    "natural_direction fisher text": (lambda: ng.natural_direction(G, "F"), "fisher: expected an array of real numbers, got str"),
    "natural_step grad 2-D": (lambda: ng.natural_step(PARAMS, G[:, None], F, 1e-3), "grad: expected a flat vector, got shape (16, 1)"),
    "natural_step grad text": (lambda: ng.natural_step(PARAMS, "g", F, 1e-3), "grad: expected an array of real numbers, got str"),
    "natural_step grad NaN": (lambda: ng.natural_step(np.zeros(2), NAN, np.eye(2), 1e-3), f"grad: {FINITE}"),
    "natural_step params": (lambda: ng.natural_step(PARAMS[:-1], G, F, 1e-3), "params: expected a flat vector of length 16, got shape (15,)"),
    "natural_step kl_budget": (lambda: ng.natural_step(PARAMS, G, F, 0.0), "kl_budget: expected a finite number > 0, got 0.0"),
    "natural_step damping": (lambda: ng.natural_step(PARAMS, G, F, 1e-3, damping=-1.0), "damping: expected a finite number >= 0, got -1.0"),
    "natural_step fisher": (lambda: ng.natural_step(PARAMS, G, np.eye(3), 1e-3), "fisher: expected a (16, 16) matrix or a callable v -> F v, got shape (3, 3)"),
    # --- gradient descent
    "gradient_descent grad_fn": (lambda: ng.gradient_descent(3, np.zeros(2), 0.1, 3), "grad_fn: expected a callable params -> gradient, got int"),
    "gradient_descent params0": (lambda: ng.gradient_descent(lambda x: x, np.zeros((2, 2)), 0.1, 3), "params0: expected a flat vector of length 4, got shape (2, 2)"),
    "gradient_descent learning_rate": (lambda: ng.gradient_descent(lambda x: x, np.zeros(2), 0.0, 3), "learning_rate: expected a finite number > 0, got 0.0"),
    "gradient_descent n_steps": (lambda: ng.gradient_descent(lambda x: x, np.zeros(2), 0.1, -1), "n_steps: expected an integer >= 0, got -1"),
    # --- linear Gaussian
    "linear_gaussian X 1-D": (lambda: linear_gaussian.linear_gaussian_fisher(np.ones(3)), "X: expected a 2-D array (N, n_features), got shape (3,)"),
    "linear_gaussian X NaN": (lambda: linear_gaussian.linear_gaussian_fisher(np.full((2, 2), np.nan)), f"X: {FINITE}"),
    "linear_gaussian noise_std": (lambda: linear_gaussian.linear_gaussian_fisher(X, noise_std=0.0), "noise_std: expected a finite number > 0, got 0.0"),
    "linear_gaussian y": (lambda: linear_gaussian.linear_gaussian_loss(np.zeros(3), X, np.zeros(4)), "y: expected a flat vector of length 5, got shape (4,)"),
    "linear_gaussian loss params": (lambda: linear_gaussian.linear_gaussian_loss(np.zeros(2), X, np.zeros(5)), "params: expected a flat vector of length 3, got shape (2,)"),
    "linear_gaussian loss noise_std": (lambda: linear_gaussian.linear_gaussian_loss(np.zeros(3), X, np.zeros(5), noise_std=-1.0), "noise_std: expected a finite number > 0, got -1.0"),
    "linear_gaussian kl params_p": (lambda: linear_gaussian.linear_gaussian_kl(np.zeros(2), np.zeros(3), X), "params_p: expected a flat vector of length 3, got shape (2,)"),
    "linear_gaussian kl params_q": (lambda: linear_gaussian.linear_gaussian_kl(np.zeros(3), np.zeros(4), X), "params_q: expected a flat vector of length 3, got shape (4,)"),
    "linear_gaussian kl noise_std": (lambda: linear_gaussian.linear_gaussian_kl(np.zeros(3), np.zeros(3), X, noise_std=np.inf), "noise_std: expected a finite number > 0, got inf"),
    "linear_gaussian empirical params": (lambda: linear_gaussian.linear_gaussian_empirical_fisher(np.zeros(4), X, np.zeros(5)), "params: expected a flat vector of length 3, got shape (4,)"),
    "linear_gaussian empirical y": (lambda: linear_gaussian.linear_gaussian_empirical_fisher(np.zeros(3), X, np.zeros(6)), "y: expected a flat vector of length 5, got shape (6,)"),
    "linear_gaussian empirical noise_std": (lambda: linear_gaussian.linear_gaussian_empirical_fisher(np.zeros(3), X, np.zeros(5), noise_std=0.0), "noise_std: expected a finite number > 0, got 0.0"),
    # --- constrained
    "kl_circle kl_fn": (lambda: _kl_circle(kl_fn=1.5), "kl_fn: expected a callable (M, 2) array -> M divergences, got float"),
    "kl_circle params": (lambda: _kl_circle(params=np.zeros(3)), "params: expected a flat vector of length 2, got shape (3,)"),
    "kl_circle kl_budget": (lambda: _kl_circle(kl_budget=0.0), "kl_budget: expected a finite number > 0, got 0.0"),
    "kl_circle n_directions zero": (lambda: _kl_circle(n_directions=0), "n_directions: expected an integer >= 1, got 0"),
    "kl_circle n_directions two": (lambda: _kl_circle(n_directions=2), "n_directions: expected at least 3 directions, got 2"),
    "kl_circle kl_fn shape": (lambda: _kl_circle(kl_fn=lambda points: np.zeros((len(points), 1))), "kl_fn: expected one value per row of an (M, 2) array, got shape (4, 1) for M = 4"),
    "kl_circle flat KL": (lambda: _kl_circle(kl_fn=lambda points: np.zeros(len(points))), "kl_fn: the KL stays below kl_budget along some direction, however far out"),
    "least_loss loss_fn": (lambda: constrained.least_loss_on_kl_circle("f", lambda p: np.sum(p**2, axis=1), np.zeros(2), 0.1, 4), "loss_fn: expected a callable (M, 2) array -> M losses, got str"),
    "least_loss loss shape": (lambda: constrained.least_loss_on_kl_circle(lambda p: np.zeros(3), lambda p: np.sum(p**2, axis=1), np.zeros(2), 0.1, 4), "loss_fn: expected one value per row of an (M, 2) array, got shape (3,) for M = 4"),
    "least_loss no finite loss": (lambda: constrained.least_loss_on_kl_circle(lambda p: np.full(len(p), np.inf), lambda p: np.sum(p**2, axis=1), np.zeros(2), 0.1, 4), "loss_fn: no finite loss on the KL circle"),
    "angle u zero": (lambda: constrained.angle_degrees(np.zeros(2), np.ones(2)), "u: expected a nonzero vector"),
    "angle v zero": (lambda: constrained.angle_degrees(np.ones(2), np.zeros(2)), "v: expected a nonzero vector"),
    "angle u NaN": (lambda: constrained.angle_degrees(NAN, np.ones(2)), f"u: {FINITE}"),
    "angle v length": (lambda: constrained.angle_degrees(np.ones(2), np.ones(3)), "v: expected a flat vector of length 2, got shape (3,)"),
    "ngd grad_fn": (lambda: _ngd(grad_fn=[1]), "grad_fn: expected a callable of the parameters, got list"),
    "ngd fisher_fn": (lambda: _ngd(fisher_fn=np.eye(2)), "fisher_fn: expected a callable of the parameters, got ndarray"),
    "ngd both": (lambda: _ngd(kl_budget=0.1), "learning_rate, kl_budget: give exactly one of them"),
    "ngd neither": (lambda: _ngd(learning_rate=None), "learning_rate, kl_budget: give exactly one of them"),
    "ngd learning_rate": (lambda: _ngd(learning_rate=-0.1), "learning_rate: expected a finite number > 0, got -0.1"),
    "ngd kl_budget": (lambda: _ngd(learning_rate=None, kl_budget=0.0), "kl_budget: expected a finite number > 0, got 0.0"),
    "ngd damping": (lambda: _ngd(damping=-1.0), "damping: expected a finite number >= 0, got -1.0"),
    "ngd n_steps": (lambda: _ngd(n_steps=-1), "n_steps: expected an integer >= 0, got -1"),
    "ngd params0 NaN": (lambda: _ngd(params0=NAN), f"params0: {FINITE}"),
    "ngd params0 text": (lambda: _ngd(params0="p"), "params0: expected an array of real numbers, got str"),
    # --- geometry
    "quadratic_level_set shape": (lambda: geometry.quadratic_level_set(np.eye(3), np.zeros(2), 0.1), "matrix: expected a symmetric 2x2 matrix, got shape (3, 3)"),
    "quadratic_level_set asymmetric": (lambda: geometry.quadratic_level_set(np.array([[1.0, 1e-9], [0.0, 1.0]]), np.zeros(2), 0.1), "matrix: expected a symmetric 2x2 matrix, got shape (2, 2)"),
    "quadratic_level_set nearly symmetric": (lambda: geometry.quadratic_level_set(np.array([[2.0, 1.0 + 1e-9], [1.0, 2.0]]), np.zeros(2), 0.1), "matrix: expected a symmetric 2x2 matrix, got shape (2, 2)"),
    "quadratic_level_set singular": (lambda: geometry.quadratic_level_set(np.diag([1.0, 0.0]), np.zeros(2), 0.1), "matrix: expected a positive definite matrix (both eigenvalues > 0)"),
    "quadratic_level_set NaN": (lambda: geometry.quadratic_level_set(np.full((2, 2), np.nan), np.zeros(2), 0.1), f"matrix: {FINITE}"),
    "quadratic_level_set center": (lambda: geometry.quadratic_level_set(np.eye(2), np.zeros(3), 0.1), "center: expected a flat vector of length 2, got shape (3,)"),
    "quadratic_level_set eps": (lambda: geometry.quadratic_level_set(np.eye(2), np.zeros(2), 0.0), "eps: expected a finite number > 0, got 0.0"),
    "quadratic_level_set n_points": (lambda: geometry.quadratic_level_set(np.eye(2), np.zeros(2), 0.1, n_points=0), "n_points: expected an integer >= 1, got 0"),
    "direction_field direction": (lambda: geometry.direction_field(np.eye(2), np.zeros(2), np.zeros(2)), "direction: expected a callable theta -> length-2 vector, got ndarray"),
    "direction_field xs empty": (lambda: geometry.direction_field(lambda t: t, np.zeros(0), np.zeros(2)), "xs: expected a non-empty 1-D array of grid coordinates, got shape (0,)"),
    "direction_field ys 2-D": (lambda: geometry.direction_field(lambda t: t, np.zeros(2), np.zeros((2, 2))), "ys: expected a non-empty 1-D array of grid coordinates, got shape (2, 2)"),
    "direction_field xs NaN": (lambda: geometry.direction_field(lambda t: t, NAN, np.zeros(2)), f"xs: {FINITE}"),
    "direction_field ys NaN": (lambda: geometry.direction_field(lambda t: t, np.zeros(2), NAN), f"ys: {FINITE}"),
    "direction_field value length": (lambda: geometry.direction_field(lambda t: np.ones(3), np.zeros(2), np.zeros(2)), "direction(theta): expected a flat vector of length 2, got shape (3,)"),
    "direction_field value text": (lambda: geometry.direction_field(lambda t: "d", np.zeros(2), np.zeros(2)), "direction(theta): expected an array of real numbers, got str"),
    # --- reparametrisation
    "sigmoid_to_tanh on tanh": (lambda: reparametrize.sigmoid_to_tanh_params(MLP, np.zeros(MLP.n_params)), "model: expected a sigmoid MLP (ng.mlp(..., activation='sigmoid')), got activation 'tanh'"),
    "tanh_to_sigmoid on sigmoid": (lambda: reparametrize.tanh_to_sigmoid_params(SIGMOID, np.zeros(SIGMOID.n_params)), "model: expected a tanh MLP (ng.mlp(..., activation='tanh')), got activation 'sigmoid'"),
    "jacobian on tanh": (lambda: reparametrize.sigmoid_to_tanh_jacobian(MLP), "model: expected a sigmoid MLP (ng.mlp(..., activation='sigmoid')), got activation 'tanh'"),
    "jacobian model": (lambda: reparametrize.sigmoid_to_tanh_jacobian("model"), MODEL_MESSAGE),
    "sigmoid_to_tanh params": (lambda: reparametrize.sigmoid_to_tanh_params(SIGMOID, np.zeros(3)), f"params: expected a flat vector of length {SIGMOID.n_params}, got shape (3,)"),
    "tanh_to_sigmoid params": (lambda: reparametrize.tanh_to_sigmoid_params(MLP, np.zeros(3)), "params: expected a flat vector of length 26, got shape (3,)"),
    # --- minibatch
    "minibatches n_rows": (lambda: minibatch.minibatches(0, 1, 0), "n_rows: expected an integer >= 1, got 0"),
    "minibatches batch_size": (lambda: minibatch.minibatches(5, 0, 0), "batch_size: expected an integer >= 1, got 0"),
    "minibatches too big": (lambda: minibatch.minibatches(5, 6, 0), "batch_size: expected at most n_rows = 5, got 6"),
    "minibatches rng": (lambda: minibatch.minibatches(5, 2, "r"), "rng: expected a numpy.random.Generator or an int seed, got str"),
    "make_outliers X": (lambda: minibatch.make_outliers(np.ones(3), Y, 4, 2.0), "X: expected a 2-D array (rows, features), got shape (3,)"),
    "make_outliers X NaN": (lambda: minibatch.make_outliers(np.full((2, 2), np.nan), Y[:2], 4, 2.0), f"X: {FINITE}"),
    "make_outliers n_classes": (lambda: minibatch.make_outliers(X, Y, 1, 2.0), "n_classes: expected at least 2 classes (an outlier's label must be wrong), got 1"),
    "make_outliers n_classes zero": (lambda: minibatch.make_outliers(X, Y, 0, 2.0), "n_classes: expected an integer >= 1, got 0"),
    "make_outliers y": (lambda: minibatch.make_outliers(X, Y, 3, 2.0), "y: expected labels in 0..2"),
    "make_outliers input_scale": (lambda: minibatch.make_outliers(X, Y, 4, 0.0), "input_scale: expected a finite number > 0, got 0.0"),
    "noisy_batches X": (lambda: _noisy(X=np.ones(5)), "X: expected a 2-D array (rows, features), got shape (5,)"),
    "noisy_batches X NaN": (lambda: _noisy(X=np.full((5, 3), np.nan)), f"X: {FINITE}"),
    "noisy_batches n_classes": (lambda: _noisy(n_classes=1), "n_classes: expected at least 2 classes (an outlier's label must be wrong), got 1"),
    "noisy_batches y": (lambda: _noisy(y=Y[:4]), "y: expected 5 integer labels, got shape (4,) and dtype int64"),
    "noisy_batches batch_size": (lambda: _noisy(batch_size=0), "batch_size: expected an integer >= 1, got 0"),
    "noisy_batches n_steps": (lambda: _noisy(n_steps=-1), "n_steps: expected an integer >= 0, got -1"),
    "noisy_batches outlier_fraction high": (lambda: _noisy(outlier_fraction=1.5), "outlier_fraction: expected a probability in [0, 1], got 1.5"),
    "noisy_batches outlier_fraction negative": (lambda: _noisy(outlier_fraction=-0.1), "outlier_fraction: expected a finite number >= 0, got -0.1"),
    "noisy_batches n_outliers": (lambda: _noisy(n_outliers=3), "n_outliers: expected at most batch_size = 2, got 3"),
    "noisy_batches n_outliers negative": (lambda: _noisy(n_outliers=-1), "n_outliers: expected an integer >= 0, got -1"),
    "noisy_batches input_scale": (lambda: _noisy(input_scale=0.0), "input_scale: expected a finite number > 0, got 0.0"),
    "noisy_batches rng": (lambda: _noisy(rng="r"), "rng: expected a numpy.random.Generator or an int seed, got str"),
    "update model": (lambda: minibatch.update("model", PARAMS, X, Y, "sgd", learning_rate=0.1), MODEL_MESSAGE),
    "update method": (lambda: minibatch.update(MODEL, PARAMS, X, Y, "adam", learning_rate=0.1), "method: expected one of 'sgd', 'natural', got 'adam'"),
    "update both": (lambda: minibatch.update(MODEL, PARAMS, X, Y, "natural", learning_rate=0.1, kl_budget=0.1), "learning_rate, kl_budget: give exactly one of them"),
    "update neither": (lambda: minibatch.update(MODEL, PARAMS, X, Y, "natural"), "learning_rate, kl_budget: give exactly one of them"),
    "update sgd kl_budget": (lambda: minibatch.update(MODEL, PARAMS, X, Y, "sgd", kl_budget=0.1), "kl_budget: the 'sgd' update takes a learning_rate"),
    "update sgd damping": (lambda: minibatch.update(MODEL, PARAMS, X, Y, "sgd", learning_rate=0.1, damping=0.1), "damping: the 'sgd' update has no Fisher to damp; leave damping = 0"),
    "update learning_rate": (lambda: minibatch.update(MODEL, PARAMS, X, Y, "natural", learning_rate=0.0), "learning_rate: expected a finite number > 0, got 0.0"),
    "update kl_budget": (lambda: minibatch.update(MODEL, PARAMS, X, Y, "natural", kl_budget=-1.0), "kl_budget: expected a finite number > 0, got -1.0"),
    "update damping": (lambda: minibatch.update(MODEL, PARAMS, X, Y, "natural", kl_budget=0.1, damping=-1.0), "damping: expected a finite number >= 0, got -1.0"),
    "update params": (lambda: minibatch.update(MODEL, PARAMS[:-1], X, Y, "sgd", learning_rate=0.1), "params: expected a flat vector of length 16, got shape (15,)"),
    "update X_batch": (lambda: minibatch.update(MODEL, PARAMS, np.ones((5, 2)), Y, "sgd", learning_rate=0.1), "X: expected shape (N, 3), got (5, 2)"),
    "update y_batch": (lambda: minibatch.update(MODEL, PARAMS, X, Y[:4], "sgd", learning_rate=0.1), "y_batch: expected 5 integer labels, got shape (4,) and dtype int64"),
    "minibatch train model": (lambda: minibatch.train("model", PARAMS, [], X, Y, "sgd", learning_rate=0.1), MODEL_MESSAGE),
    "minibatch train method": (lambda: minibatch.train(MODEL, PARAMS, [], X, Y, "kfac", learning_rate=0.1), "method: expected one of 'sgd', 'natural', got 'kfac'"),
    "minibatch train params0": (lambda: minibatch.train(MODEL, PARAMS[:-1], [], X, Y, "sgd", learning_rate=0.1), "params0: expected a flat vector of length 16, got shape (15,)"),
    "minibatch train X_eval": (lambda: minibatch.train(MODEL, PARAMS, [], np.ones((5, 2)), Y, "sgd", learning_rate=0.1), "X: expected shape (N, 3), got (5, 2)"),
    "minibatch train y_eval": (lambda: minibatch.train(MODEL, PARAMS, [], X, Y[:4], "sgd", learning_rate=0.1), "y_eval: expected 5 integer labels, got shape (4,) and dtype int64"),
    # --- curvature
    "diagonal_fisher model": (lambda: curvature.diagonal_fisher("model", PARAMS, X), MODEL_MESSAGE),
    "diagonal_fisher kind": (lambda: curvature.diagonal_fisher(MODEL, PARAMS, X, kind="observed"), "kind: expected one of 'exact', 'empirical', 'monte_carlo', got 'observed'"),
    "diagonal_fisher params": (lambda: curvature.diagonal_fisher(MODEL, PARAMS[:-1], X), "params: expected a flat vector of length 16, got shape (15,)"),
    "diagonal_fisher empty X": (lambda: curvature.diagonal_fisher(MODEL, PARAMS, np.zeros((0, 3))), "X: expected at least one row"),
    "diagonal_fisher X": (lambda: curvature.diagonal_fisher(MODEL, PARAMS, np.zeros((2, 2))), "X: expected shape (N, 3), got (2, 2)"),
    "diagonal_fisher empirical without y": (lambda: curvature.diagonal_fisher(MODEL, PARAMS, X, kind="empirical"), "y: kind='empirical' needs the data's targets y"),
    "diagonal_fisher empirical y": (lambda: curvature.diagonal_fisher(MODEL, PARAMS, X, kind="empirical", y=Y[:4]), "y: expected 5 integer labels, got shape (4,) and dtype int64"),
    "diagonal_fisher n_samples": (lambda: curvature.diagonal_fisher(MODEL, PARAMS, X, kind="monte_carlo", n_samples=0), "n_samples: expected an integer >= 1, got 0"),
    "diagonal_fisher rng": (lambda: curvature.diagonal_fisher(MODEL, PARAMS, X, kind="monte_carlo", rng="r"), "rng: expected a numpy.random.Generator or an int seed, got str"),
    "kfac_factors empty X": (lambda: curvature.kfac_factors(MODEL, PARAMS, np.zeros((0, 3))), "X: expected at least one row"),
    "factors empty": (lambda: curvature.kfac_direction([], G), "factors: expected a non-empty list of (A, Gamma) pairs, as returned by kfac_factors"),
    "factors not a list": (lambda: curvature.kfac_matrix(np.eye(2)), "factors: expected a non-empty list of (A, Gamma) pairs, as returned by kfac_factors"),
    "factors single": (lambda: curvature.kfac_matrix([FACTORS[0][0]]), "factors[0]: expected a pair (A, Gamma)"),
    "factors triple": (lambda: curvature.kfac_matrix([(np.eye(2), np.eye(2), np.eye(2))]), "factors[0]: expected a pair (A, Gamma)"),
    "factors A not square": (lambda: curvature.kfac_matrix([(np.ones((2, 3)), np.eye(2))]), "factors[0]: expected A to be a square matrix, got shape (2, 3)"),
    "factors G 1-D": (lambda: curvature.kfac_matrix([(np.eye(2), np.eye(2)), (np.eye(2), np.ones(3))]), "factors[1]: expected Gamma to be a square matrix, got shape (3,)"),
    "factors NaN": (lambda: curvature.kfac_matrix([(np.eye(2), np.full((2, 2), np.nan))]), f"factors[0]: {FINITE}"),
    "kfac_matrix damping": (lambda: curvature.kfac_matrix(FACTORS, damping=-1.0), "damping: expected a finite number >= 0, got -1.0"),
    "kfac_direction damping": (lambda: curvature.kfac_direction(FACTORS, G, damping=-1.0), "damping: expected a finite number >= 0, got -1.0"),
    "kfac_direction grad": (lambda: curvature.kfac_direction(FACTORS, G[:-1]), "grad: expected a flat vector of length 16, got shape (15,)"),
    "diagonal_direction 2-D": (lambda: curvature.diagonal_direction(np.ones((2, 2)), np.ones(4)), "diagonal: expected a flat vector, got shape (2, 2)"),
    "diagonal_direction negative": (lambda: curvature.diagonal_direction(np.array([1.0, -1e-12]), np.ones(2)), "diagonal: expected non-negative entries (a Fisher diagonal)"),
    "diagonal_direction NaN": (lambda: curvature.diagonal_direction(NAN, np.ones(2)), f"diagonal: {FINITE}"),
    "diagonal_direction grad": (lambda: curvature.diagonal_direction(np.ones(2), np.ones(3)), "grad: expected a flat vector of length 2, got shape (3,)"),
    "diagonal_direction damping": (lambda: curvature.diagonal_direction(np.ones(2), np.ones(2), damping=-1.0), "damping: expected a finite number >= 0, got -1.0"),
    # --- line search
    "line_search kl_fn": (lambda: _line_search(kl_fn="kl"), "kl_fn: expected a callable params -> float, got str"),
    "line_search loss_fn": (lambda: _line_search(loss_fn=1.0), "loss_fn: expected a callable params -> float, got float"),
    "line_search params text": (lambda: _line_search(params="p"), "params: expected an array of real numbers, got str"),
    "line_search params NaN": (lambda: _line_search(params=NAN), f"params: {FINITE}"),
    "line_search params 2-D": (lambda: _line_search(params=np.zeros((1, 2))), "params: expected a flat vector of length 2, got shape (1, 2)"),
    "line_search step": (lambda: _line_search(step=np.ones(3)), "step: expected a flat vector of length 2, got shape (3,)"),
    "line_search kl_budget": (lambda: _line_search(kl_budget=0.0), "kl_budget: expected a finite number > 0, got 0.0"),
    "line_search shrink zero": (lambda: _line_search(shrink=0.0), "shrink: expected a finite number > 0, got 0.0"),
    "line_search shrink one": (lambda: _line_search(shrink=1.0), "shrink: expected a number in (0, 1), got 1.0"),
    "line_search max_backtracks": (lambda: _line_search(max_backtracks=-1), "max_backtracks: expected an integer >= 0, got -1"),
    "line_search require_improvement": (lambda: _line_search(require_improvement=1), "require_improvement: expected True or False, got 1"),
    # --- optimizers
    "sgd learning_rate": (lambda: opt.sgd(0.0), "learning_rate: expected a finite number > 0, got 0.0"),
    "adam learning_rate": (lambda: opt.adam(-1.0), "learning_rate: expected a finite number > 0, got -1.0"),
    "adam epsilon": (lambda: opt.adam(epsilon=0.0), "epsilon: expected a finite number > 0, got 0.0"),
    "adam beta1 negative": (lambda: opt.adam(beta1=-0.1), "beta1: expected a finite number >= 0, got -0.1"),
    "adam beta1 one": (lambda: opt.adam(beta1=1.0), "beta1: expected a number in [0, 1), got 1.0"),
    "adam beta2 negative": (lambda: opt.adam(beta2=-0.1), "beta2: expected a finite number >= 0, got -0.1"),
    "adam beta2 one": (lambda: opt.adam(beta2=1.0), "beta2: expected a number in [0, 1), got 1.0"),
    "natural_gradient kl_budget": (lambda: opt.natural_gradient(0.0, 0.1), "kl_budget: expected a finite number > 0, got 0.0"),
    "natural_gradient damping": (lambda: opt.natural_gradient(0.1, -0.1), "damping: expected a finite number >= 0, got -0.1"),
    "natural_gradient max_step": (lambda: opt.natural_gradient(0.1, 0.1, max_step=0.0), "max_step: expected a finite number > 0, got 0.0"),
    "natural_gradient cg_iters": (lambda: opt.natural_gradient(0.1, 0.1, cg_iters=0), "cg_iters: expected an integer >= 1, got 0"),
    "kfac factor_decay negative": (lambda: opt.kfac(0.1, 0.1, factor_decay=-0.5), "factor_decay: expected a finite number >= 0, got -0.5"),
    "kfac factor_decay one": (lambda: opt.kfac(0.1, 0.1, factor_decay=1.0), "factor_decay: expected a number in [0, 1), got 1.0"),
    "kfac n_samples": (lambda: opt.kfac(0.1, 0.1, n_samples=0), "n_samples: expected an integer >= 1, got 0"),
    "kfac max_step": (lambda: opt.kfac(0.1, 0.1, max_step=-1.0), "max_step: expected a finite number > 0, got -1.0"),
    "diagonal factor_decay": (lambda: opt.diagonal_natural_gradient(0.1, 0.1, factor_decay=1.5), "factor_decay: expected a number in [0, 1), got 1.5"),
    "diagonal n_samples": (lambda: opt.diagonal_natural_gradient(0.1, 0.1, n_samples=0), "n_samples: expected an integer >= 1, got 0"),
    "diagonal kl_budget": (lambda: opt.diagonal_natural_gradient(-0.1, 0.1), "kl_budget: expected a finite number > 0, got -0.1"),
    "accuracy model": (lambda: opt.accuracy("model", PARAMS, X, Y), MODEL_MESSAGE),
    "accuracy X text": (lambda: opt.accuracy(MODEL, PARAMS, "X", Y), "X: expected an array of real numbers, got str"),
    "accuracy y": (lambda: opt.accuracy(MODEL, PARAMS, X, Y[:4]), "y: expected 5 integer labels, got shape (4,) and dtype int64"),
    "train model": (lambda: _train(model="model"), MODEL_MESSAGE),
    "train optimizer": (lambda: _train(optimizer="sgd"), "optimizer: expected an Optimizer (from sgd, adam, natural_gradient, kfac, ...), got str"),
    "train optimizer.method": (lambda: _train(optimizer=opt.Optimizer("newton", lambda p: None, None)), "optimizer.method: expected one of 'sgd', 'momentum', 'adam', 'natural', 'kfac', 'diagonal', got 'newton'"),
    "train params0": (lambda: _train(params0=PARAMS[:-1]), "params0: expected a flat vector of length 16, got shape (15,)"),
    "train X_train empty": (lambda: _train(X_train=np.zeros((0, 3)), y_train=np.zeros(0, dtype=int)), "X_train: expected shape (N, 3) with N >= 1, got (0, 3)"),
    "train X_train NaN": (lambda: _train(X_train=np.full((5, 3), np.nan)), f"X_train: {FINITE}"),
    "train X_test features": (lambda: _train(X_test=np.zeros((5, 2))), "X_test: expected shape (N, 3) with N >= 1, got (5, 2)"),
    "train X_test 1-D": (lambda: _train(X_test=np.zeros(3)), "X_test: expected shape (N, 3) with N >= 1, got (3,)"),
    "train y_train": (lambda: _train(y_train=Y[:4]), "y_train: expected 5 integer labels, got shape (4,) and dtype int64"),
    "train y_test": (lambda: _train(y_test=Y + 1), "y_test: expected labels in 0..3"),
    "train n_iter": (lambda: _train(n_iter=0), "n_iter: expected an integer >= 1, got 0"),
    "train batch_size zero": (lambda: _train(batch_size=0), "batch_size: expected an integer >= 1, got 0"),
    "train batch_size too big": (lambda: _train(batch_size=6), "batch_size: expected at most 5 (the training rows), got 6"),
    # --- family
    "irls X": (lambda: family.irls_step(np.zeros(3), np.ones(3), np.zeros(3)), "X: expected a 2-D design matrix (N, n_features), got shape (3,)"),
    "irls X NaN": (lambda: family.irls_step(np.zeros(2), np.full((2, 2), np.nan), np.zeros(2)), f"X: {FINITE}"),
    "irls y binary": (lambda: family.irls_step(np.zeros(3), X, np.array([0, 1, 2, 0, 1])), "y: expected binary labels, each 0 or 1"),
    "irls y length": (lambda: family.irls_step(np.zeros(3), X, np.zeros(4)), "y: expected a flat vector of length 5, got shape (4,)"),
    "irls params": (lambda: family.irls_step(np.zeros(2), X, np.zeros(5)), "params: expected a flat vector of length 3, got shape (2,)"),
    "l2_weight_mask model": (lambda: family.l2_weight_mask("model"), MODEL_MESSAGE),
    "penalized_cross_entropy penalty": (lambda: family.penalized_cross_entropy(MODEL, PARAMS, X, Y, -1.0), "penalty: expected a finite number >= 0, got -1.0"),
    "penalized_fisher penalty": (lambda: family.penalized_fisher(MODEL, PARAMS, X, np.nan), "penalty: expected a finite number >= 0, got nan"),
    "fisher_scoring model": (lambda: family.fisher_scoring("model", PARAMS, X, Y, 0.1, 1), MODEL_MESSAGE),
    "fisher_scoring n_steps": (lambda: family.fisher_scoring(MODEL, PARAMS, X, Y, 0.1, -1), "n_steps: expected an integer >= 0, got -1"),
    "fisher_scoring y": (lambda: family.fisher_scoring(MODEL, PARAMS, X, Y[:4], 0.1, 1), "y: expected 5 integer labels, got shape (4,) and dtype int64"),
    "fisher_scoring params0": (lambda: family.fisher_scoring(MODEL, PARAMS[:-1], X, Y, 0.1, 1), "params0: expected a flat vector of length 16, got shape (15,)"),
    "gauss_newton params": (lambda: family.gauss_newton(lambda p: p, lambda z: z @ z, np.zeros((2, 2))), "params: expected a flat vector of length 4, got shape (2, 2)"),
    "gauss_newton params text": (lambda: family.gauss_newton(lambda p: p, lambda z: z @ z, "p"), "params: expected an array of real numbers, got str"),
    "running_second_moment 1-D": (lambda: family.running_second_moment(np.ones(3)), "batch_grads: expected a 2-D array (T, P) with T >= 1, got shape (3,)"),
    "running_second_moment empty": (lambda: family.running_second_moment(np.ones((0, 3))), "batch_grads: expected a 2-D array (T, P) with T >= 1, got shape (0, 3)"),
    "running_second_moment NaN": (lambda: family.running_second_moment(np.full((2, 2), np.nan)), f"batch_grads: {FINITE}"),
    "running_second_moment beta2 one": (lambda: family.running_second_moment(np.ones((2, 3)), beta2=1.0), "beta2: expected a number in [0, 1), got 1.0"),
    "running_second_moment beta2 negative": (lambda: family.running_second_moment(np.ones((2, 3)), beta2=-0.5), "beta2: expected a number in [0, 1), got -0.5"),
    "adam_direction grad": (lambda: family.adam_direction(np.ones((2, 2)), np.ones(4)), "grad: expected a flat vector, got shape (2, 2)"),
    "adam_direction grad NaN": (lambda: family.adam_direction(NAN, np.ones(2)), f"grad: {FINITE}"),
    "adam_direction second_moment": (lambda: family.adam_direction(np.ones(2), np.ones(3)), "second_moment: expected a flat vector of length 2, got shape (3,)"),
    "adam_direction second_moment negative": (lambda: family.adam_direction(np.ones(2), np.array([1.0, -1e-12])), "second_moment: expected non-negative entries (averages of squares)"),
    "adam_direction eps": (lambda: family.adam_direction(np.ones(2), np.ones(2), eps=-1e-8), "eps: expected a finite number >= 0, got -1e-08"),
    "expected_reward one arm": (lambda: family.expected_reward(np.zeros(1), np.zeros(1)), "logits: expected a flat vector with at least 2 arms, got shape (1,)"),
    "expected_reward 2-D logits": (lambda: family.expected_reward(np.zeros((2, 2)), np.zeros(2)), "logits: expected a flat vector with at least 2 arms, got shape (2, 2)"),
    "expected_reward logits NaN": (lambda: family.expected_reward(NAN, np.zeros(2)), f"logits: {FINITE}"),
    "policy_gradient rewards": (lambda: family.policy_gradient(np.zeros(3), np.zeros(2)), "rewards: expected a flat vector of length 3, got shape (2,)"),
    "policy_fisher one arm": (lambda: family.policy_fisher(np.zeros(1)), "logits: expected a flat vector with at least 2 arms, got shape (1,)"),
    "natural_policy_gradient kl_budget": (lambda: family.natural_policy_gradient(np.zeros(3), np.ones(3), 0.0, 1), "kl_budget: expected a finite number > 0, got 0.0"),
    "natural_policy_gradient n_steps": (lambda: family.natural_policy_gradient(np.zeros(3), np.ones(3), 0.1, -1), "n_steps: expected an integer >= 0, got -1"),
    "natural_policy_gradient rewards": (lambda: family.natural_policy_gradient(np.zeros(3), np.ones(4), 0.1, 1), "rewards: expected a flat vector of length 3, got shape (4,)"),
    "vanilla_policy_gradient learning_rate": (lambda: family.vanilla_policy_gradient(np.zeros(3), np.ones(3), 0.0, 1), "learning_rate: expected a finite number > 0, got 0.0"),
    "vanilla_policy_gradient n_steps": (lambda: family.vanilla_policy_gradient(np.zeros(3), np.ones(3), 0.1, 1.5), "n_steps: expected an integer >= 0, got 1.5"),
    "vanilla_policy_gradient logits": (lambda: family.vanilla_policy_gradient(np.zeros(1), np.ones(1), 0.1, 1), "logits: expected a flat vector with at least 2 arms, got shape (1,)"),
    "step_kls one row": (lambda: family.step_kls(np.zeros((1, 3))), "path: expected logits of shape (T + 1, K) with T >= 1, got shape (1, 3)"),
    "step_kls 1-D": (lambda: family.step_kls(np.zeros(3)), "path: expected logits of shape (T + 1, K) with T >= 1, got shape (3,)"),
    "step_kls NaN": (lambda: family.step_kls(np.full((2, 2), np.nan)), f"path: {FINITE}"),
    "log_partition empty": (lambda: family.categorical_log_partition(np.zeros(0)), "natural: expected a flat vector of K - 1 >= 1 natural parameters, got shape (0,)"),
    "log_partition text": (lambda: family.categorical_log_partition("t"), "natural: expected an array of real numbers, got str"),
    "log_partition 2-D": (lambda: family.categorical_log_partition(np.zeros((1, 2))), "natural: expected a flat vector of K - 1 >= 1 natural parameters, got shape (1, 2)"),
    "categorical_mean NaN": (lambda: family.categorical_mean(NAN), f"natural: {FINITE}"),
    "negative_entropy empty": (lambda: family.categorical_negative_entropy(np.zeros(0)), "mean: expected a flat vector of K - 1 >= 1 probabilities, got shape (0,)"),
    "negative_entropy sums to one": (lambda: family.categorical_negative_entropy(np.array([0.5, 0.5])), "mean: expected probabilities > 0 of the first K - 1 classes, summing to less than 1"),
    "negative_entropy zero entry": (lambda: family.categorical_negative_entropy(np.array([0.0, 0.5])), "mean: expected probabilities > 0 of the first K - 1 classes, summing to less than 1"),
    "categorical_natural 2-D": (lambda: family.categorical_natural(np.full((1, 1), 0.5)), "mean: expected a flat vector of K - 1 >= 1 probabilities, got shape (1, 1)"),
    "categorical_natural text": (lambda: family.categorical_natural("m"), "mean: expected an array of real numbers, got str"),
    "mirror grad_fn": (lambda: _mirror(grad_fn=2.0), "grad_fn: expected a callable, got float"),
    "mirror to_dual": (lambda: _mirror(to_dual=1), "to_dual: expected a callable, got int"),
    "mirror from_dual": (lambda: _mirror(from_dual="f"), "from_dual: expected a callable, got str"),
    "mirror learning_rate": (lambda: _mirror(learning_rate=0.0), "learning_rate: expected a finite number > 0, got 0.0"),
    "mirror n_steps": (lambda: _mirror(n_steps=-2), "n_steps: expected an integer >= 0, got -2"),
    "mirror point0": (lambda: _mirror(point0=NAN), f"point0: {FINITE}"),
    "mirror point0 text": (lambda: _mirror(point0="x"), "point0: expected an array of real numbers, got str"),
    # --- datasets and plotting
    "fruit n_per_class": (lambda: datasets.fruit(0), "n_per_class: expected an integer >= 1, got 0"),
    "fruit seed": (lambda: datasets.fruit(5, seed="s"), "seed: expected a numpy.random.Generator or an int seed, got str"),
    "method_color": (lambda: plotting.method_color("newton"), "method: expected one of 'gd', 'sgd', 'natural', 'adam', 'kfac', 'diagonal', 'empirical', 'reference', got 'newton'"),
    "plot_path shape": (lambda: _with_axes(lambda ax: plotting.plot_path(ax, np.zeros(3), "gd")), "path: expected an array of shape (T, 2), got (3,)"),
    "plot_path columns": (lambda: _with_axes(lambda ax: plotting.plot_path(ax, np.zeros((3, 3)), "gd")), "path: expected an array of shape (T, 2), got (3, 3)"),
    "plot_path method": (lambda: _with_axes(lambda ax: plotting.plot_path(ax, np.zeros((3, 2)), "newton")), "method: expected one of 'gd', 'sgd', 'natural', 'adam', 'kfac', 'diagonal', 'empirical', 'reference', got 'newton'"),
    "plot_loss_contours n_grid": (lambda: _with_axes(lambda ax: plotting.plot_loss_contours(ax, lambda p: p @ p, (-1, 1), (-1, 1), n_grid=0)), "n_grid: expected an integer >= 1, got 0"),
    "plot_loss_contours levels": (lambda: _with_axes(lambda ax: plotting.plot_loss_contours(ax, lambda p: p @ p, (-1, 1), (-1, 1), levels=0)), "levels: expected an integer >= 1, got 0"),
    "plot_classes X": (lambda: _with_axes(lambda ax: plotting.plot_classes(ax, np.zeros(3), np.zeros(3, dtype=int), ["a"])), "X: expected an array of shape (N, 2), got (3,)"),
    "plot_classes X columns": (lambda: _with_axes(lambda ax: plotting.plot_classes(ax, np.zeros((3, 3)), np.zeros(3, dtype=int), ["a"])), "X: expected an array of shape (N, 2), got (3, 3)"),
    "plot_classes y": (lambda: _with_axes(lambda ax: plotting.plot_classes(ax, np.zeros((3, 2)), np.zeros(2, dtype=int), ["a"])), "y: expected 3 labels, got shape (2,)"),
    "plot_classes too many names": (lambda: _with_axes(lambda ax: plotting.plot_classes(ax, np.zeros((3, 2)), np.zeros(3, dtype=int), ["a", "b", "c", "d"])), "names: expected one name per class label (at most 3 classes)"),
    "plot_classes label beyond names": (lambda: _with_axes(lambda ax: plotting.plot_classes(ax, np.zeros((3, 2)), np.array([0, 1, 1]), ["a"])), "names: expected one name per class label (at most 3 classes)"),
    "plot_classes negative label": (lambda: _with_axes(lambda ax: plotting.plot_classes(ax, np.zeros((3, 2)), np.array([0, -1, 0]), ["a", "b"])), "names: expected one name per class label (at most 3 classes)"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_error_message_names_the_argument_and_the_expected_form(case):
    call, message = CASES[case]
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == message
