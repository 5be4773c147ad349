"""natgrad: natural gradient descent from first principles.

The package behind the book *Natural Gradient Descent, an executable book*. Modules follow
the book's order: :mod:`~natgrad.descent` (chapter 1), :mod:`~natgrad.distributions` and
:mod:`~natgrad.models` (chapters 2-3) with the output likelihoods of :mod:`~natgrad.likelihoods`
(categorical, Bernoulli, Gaussian), :mod:`~natgrad.fisher` (chapter 4),
:mod:`~natgrad.linear_gaussian` (chapters 4-5), :mod:`~natgrad.solvers` and
:mod:`~natgrad.steps` (chapters 5 and 8), :mod:`~natgrad.constrained` (chapter 5),
:mod:`~natgrad.reparametrize` (chapter 6), :mod:`~natgrad.minibatch` (chapter 7),
:mod:`~natgrad.curvature` and :mod:`~natgrad.linesearch` (chapter 8),
:mod:`~natgrad.optimizers`, :mod:`~natgrad.damping` and :mod:`~natgrad.race` (chapter 9's
race), :mod:`~natgrad.glm` and :mod:`~natgrad.gauss_newton` (chapter 10's second-order
relatives), :mod:`~natgrad.adam`, :mod:`~natgrad.policy`, :mod:`~natgrad.mirror` and
:mod:`~natgrad.variational` (chapter 11's first-order and probabilistic relatives), with
:mod:`~natgrad.family` keeping their first-edition names;
:mod:`~natgrad.datasets` holds the small data sets, :mod:`~natgrad.animation` the offline
players of the animated figures, :mod:`~natgrad.exercises` the exercise checkers,
:mod:`~natgrad.plotting` the look of the figures and :mod:`~natgrad.printing` how
round-off-level residuals are printed. Parameters are always one flat float64 vector.
"""

from natgrad import (
    adam,
    animation,
    constrained,
    curvature,
    damping,
    datasets,
    exercises,
    family,
    gauss_newton,
    geometry,
    glm,
    likelihoods,
    linear_gaussian,
    linesearch,
    minibatch,
    mirror,
    optimizers,
    plotting,
    policy,
    printing,
    race,
    reparametrize,
    variational,
)
from natgrad.descent import gradient_descent
from natgrad.distributions import gaussian_fisher, kl_bernoulli, kl_categorical, kl_gaussian, log_sigmoid, log_softmax, softmax
from natgrad.fisher import Linearization, fisher, fisher_vector_product, linearize
from natgrad.models import (
    Model,
    cross_entropy,
    linear_regression,
    logistic_regression,
    mlp,
    model_kl,
    negative_log_likelihood,
    predict,
    softmax_regression,
)
from natgrad.solvers import CGResult, conjugate_gradient
from natgrad.steps import natural_direction, natural_step

__version__ = "2.0.0"

__all__ = [
    "adam",
    "CGResult",
    "Linearization",
    "Model",
    "animation",
    "conjugate_gradient",
    "constrained",
    "curvature",
    "datasets",
    "exercises",
    "family",
    "gauss_newton",
    "cross_entropy",
    "fisher",
    "fisher_vector_product",
    "gaussian_fisher",
    "geometry",
    "glm",
    "gradient_descent",
    "kl_bernoulli",
    "kl_categorical",
    "kl_gaussian",
    "likelihoods",
    "linear_gaussian",
    "linear_regression",
    "linearize",
    "linesearch",
    "log_sigmoid",
    "log_softmax",
    "logistic_regression",
    "minibatch",
    "mirror",
    "mlp",
    "model_kl",
    "natural_direction",
    "natural_step",
    "negative_log_likelihood",
    "optimizers",
    "plotting",
    "policy",
    "predict",
    "printing",
    "reparametrize",
    "softmax",
    "softmax_regression",
    "variational",
]
