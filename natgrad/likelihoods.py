r"""Output likelihoods: the distribution :math:`p(y \mid z)` a model puts on its targets, given its outputs.

A model's last layer gives the outputs :math:`z_n \in \mathbb R^K` of input n
(:meth:`natgrad.Model.logits`); its likelihood turns them into a distribution over the
target :math:`y_n`. natgrad has three, each with the canonical link, so the loss of one
input :math:`\ell_n = -\log p(y_n \mid z_n)` has the gradient :math:`\nabla_{z_n}\ell_n =
\mathbb E[y \mid z_n] - y_n` and the curvature :math:`\Lambda_n = \nabla^2_{z_n}\ell_n`, which
does not depend on :math:`y_n` and is the Fisher of :math:`p(\cdot \mid z_n)` in :math:`z_n`
(chapter 4). That is why the Fisher of every such model is its Gauss-Newton matrix,
:math:`F = \frac1N\sum_n J_n^\top \Lambda_n J_n`.

* ``"categorical"`` (the default): :math:`p(y = k \mid z) = \operatorname{softmax}(z)_k`; targets
  are integer labels in ``0..K-1``, shape (N,); mean prediction :math:`p = \operatorname{softmax}(z)`;
  :math:`\Lambda_n = \operatorname{diag}(p_n) - p_n p_n^\top`.
* ``"bernoulli"``: independent sigmoids, :math:`p(y \mid z) = \prod_k \operatorname{Bern}(y_k;
  \operatorname{sigm}(z_k))`; targets in [0, 1], shape (N, K); mean prediction
  :math:`\operatorname{sigm}(z)`; :math:`\Lambda_n = \operatorname{diag}(\operatorname{sigm}(z_n)
  \odot \operatorname{sigm}(-z_n))`.
* ``"gaussian"``: :math:`p(y \mid z) = \mathcal N(y; z, I)`; real targets, shape (N, K); mean
  prediction :math:`z`; :math:`\Lambda_n = I`.

Bernoulli targets may be intensities in [0, 1] (the loss is then the cross-entropy of
:math:`\operatorname{Bern}(y_k)` from :math:`\operatorname{Bern}(\operatorname{sigm}(z_k))`, as
for an autoencoder of images scaled to [0, 1]); samples drawn from the model are 0 or 1. The
Gaussian has unit variance: its loss is half the squared error, the negative log-likelihood up
to the constant :math:`\tfrac K2\log 2\pi`, which no gradient or Fisher sees. (A variance
:math:`\sigma^2` would scale the loss, the gradient and the Fisher by :math:`1/\sigma^2`.) For
:math:`K = 1`, Bernoulli and Gaussian targets may also be given with shape (N,).

Each likelihood gives, row by row, with ``z`` of shape (N, K): the loss :math:`\ell_n`
(:meth:`~Likelihood.loss`), the KL between two output rows (:meth:`~Likelihood.kl`), the mean
prediction (:meth:`~Likelihood.mean`), the gradient :math:`\nabla_{z_n}\ell_n`
(:meth:`~Likelihood.output_gradient`), the product :math:`\Lambda_n u_n`
(:meth:`~Likelihood.curvature_product`), a sampler (:meth:`~Likelihood.sample`) and the output
factors :math:`r_{nk}` of the exact, Monte-Carlo and empirical Fisher
(:meth:`~Likelihood.output_factors`). These are building blocks: they trust the shapes of their
arguments, which the model-level functions (:func:`natgrad.negative_log_likelihood`,
:func:`natgrad.model_kl`, :func:`natgrad.fisher`, ...) check once at their boundary, with
:meth:`~Likelihood.check_targets` for the targets. Get one with :func:`get`. Chapters 4 and 8.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import autograd.numpy as np
import numpy as onp

from natgrad._checks import array_value, finite_array, one_of
from natgrad.distributions import kl_bernoulli, kl_categorical, log_softmax, softmax

KINDS = ("exact", "empirical", "monte_carlo")


def check_labels(y, n_rows: int, n_classes: int, name: str = "y") -> onp.ndarray:
    """Integer class labels, one per row, each in ``range(n_classes)``."""
    value = onp.asarray(y)
    if value.shape != (n_rows,) or not (onp.issubdtype(value.dtype, onp.integer) or value.size == 0):
        raise ValueError(f"{name}: expected {n_rows} integer labels, got shape {value.shape} and dtype {value.dtype}")
    if value.size and (value.min() < 0 or value.max() >= n_classes):
        raise ValueError(f"{name}: expected labels in 0..{n_classes - 1}")
    return value.astype(int)


def _real_targets(y, n_rows: int, n_outputs: int, name: str, what: str) -> onp.ndarray:
    """Finite real targets of shape (n_rows, n_outputs); shape (n_rows,) is accepted when n_outputs = 1."""
    value = onp.asarray(y)
    if value.dtype == object or not (onp.issubdtype(value.dtype, onp.number) or value.dtype == bool):
        raise ValueError(f"{name}: expected {what} as an array of numbers, got dtype {value.dtype}")
    value = value.astype(float)
    if n_outputs == 1 and value.shape == (n_rows,):
        value = value[:, None]
    if value.shape != (n_rows, n_outputs):
        single = " (or (N,) for one output)" if n_outputs == 1 else ""
        raise ValueError(f"{name}: expected {what} of shape (N, K) = ({n_rows}, {n_outputs}){single}, got shape {onp.shape(y)}")
    return onp.asarray(finite_array(value, name), dtype=float)


def _scaled_unit_vectors(weights):
    """Shape (N, K, K): factor k of row n is ``weights[n, k] * e_k``."""
    return weights[:, :, None] * onp.eye(weights.shape[1])[None, :, :]


class Likelihood(ABC):
    """The interface shared by the three likelihoods; see the module docstring."""

    name: str = ""
    #: The fewest outputs a model with this likelihood may have.
    min_outputs: int = 1
    #: What :meth:`check_targets` accepts, for messages.
    targets: str = ""

    def __repr__(self) -> str:
        return f"natgrad.likelihoods.get({self.name!r})"

    @abstractmethod
    def check_targets(self, y, n_rows: int, n_outputs: int, name: str = "y"):
        """``y`` validated and converted (int labels or float64 (N, K)); ``ValueError`` naming ``name`` otherwise."""

    @abstractmethod
    def loss(self, z, y):
        r"""Per row :math:`\ell_n = -\log p(y_n \mid z_n)`, shape (N,); differentiable in ``z`` with autograd."""

    @abstractmethod
    def kl(self, z_p, z_q):
        r"""Per row :math:`\mathrm{KL}(p(\cdot \mid z_{p,n}) \,\|\, p(\cdot \mid z_{q,n}))`, shape (N,); differentiable."""

    @abstractmethod
    def mean(self, z):
        r"""The mean prediction :math:`\mathbb E[y \mid z_n]` per row, shape (N, K)."""

    @abstractmethod
    def output_gradient(self, z, y):
        r""":math:`\nabla_{z_n}\ell_n = \mathbb E[y \mid z_n] - y_n` per row, shape (N, K)."""

    @abstractmethod
    def curvature_product(self, z, u):
        r""":math:`\Lambda_n u_n` per row, for ``u`` of shape (N, K)."""

    @abstractmethod
    def sample(self, z, rng, n_samples: int = 1):
        """``n_samples`` targets per row drawn from the model with the Generator ``rng``."""

    def output_factors(self, z, kind: str, y=None, n_samples: int = 1, rng=None):
        r"""Vectors :math:`r_{nk}` with :math:`\sum_k r_{nk} r_{nk}^\top` the per-row output Fisher of ``kind``.

        Shape (N, number of factors, K):

        * ``exact``: :math:`\sum_k r_{nk} r_{nk}^\top = \Lambda_n` exactly (K factors);
        * ``monte_carlo``: :math:`r_{ns} = \nabla_{z_n}\log p(y_s \mid z_n)/\sqrt S` for S targets
          :math:`y_s` sampled from the model with ``rng`` (S factors), whose mean outer product
          is :math:`\Lambda_n` in expectation;
        * ``empirical``: :math:`r_n = \nabla_{z_n}\log p(y_n \mid z_n) = y_n - \mathbb E[y \mid z_n]`
          for the data's targets ``y`` (one factor).
        """
        one_of(kind, "kind", KINDS)
        if kind == "exact":
            return self._exact_factors(z)
        if kind == "empirical":
            return self._empirical_factors(z, y)
        return self._sampled_factors(z, rng, n_samples)

    @abstractmethod
    def _exact_factors(self, z):
        """The K exact factors of every row, (N, K, K)."""

    @abstractmethod
    def _empirical_factors(self, z, y):
        """The one factor of the data's target of every row, (N, 1, K)."""

    @abstractmethod
    def _sampled_factors(self, z, rng, n_samples: int):
        """The ``n_samples`` factors of drawn targets of every row, (N, S, K)."""


def _categorical_factors(probs, kind: str, y=None, n_samples: int = 1, rng=None):
    r"""The categorical output factors from the probabilities (see :func:`natgrad.fisher.output_factors`)."""
    n_rows, n_classes = array_value(probs, "probs").shape
    eye = onp.eye(n_classes)
    if kind == "exact":
        return np.sqrt(probs)[:, :, None] * (eye[None, :, :] - probs[:, None, :])
    if kind == "empirical":
        return (eye[y] - probs)[:, None, :]
    labels = _categorical_labels(array_value(probs, "probs"), rng, n_samples)
    return (eye[labels] - probs[:, None, :]) / onp.sqrt(n_samples)


def _categorical_labels(probs: onp.ndarray, rng, n_samples: int) -> onp.ndarray:
    """Labels of shape (N, S), each row's drawn from its probabilities by inverting the cumulative sum."""
    cumulative = onp.cumsum(probs, axis=1)
    draws = rng.random((probs.shape[0], n_samples, 1))
    return onp.minimum((draws > cumulative[:, None, :]).sum(axis=2), probs.shape[1] - 1)


class Categorical(Likelihood):
    r"""Softmax outputs: :math:`p(y = k \mid z) = \operatorname{softmax}(z)_k`, :math:`\Lambda_n = \operatorname{diag}(p_n) - p_n p_n^\top`.

    :math:`\ell_n = -\log\operatorname{softmax}(z_n)_{y_n}` (the cross-entropy, chapter 2).
    Exact factors :math:`r_{nk} = \sqrt{p_{nk}}\,(e_k - p_n)`; sampled and empirical factors
    :math:`e_y - p_n`. Each factor is a sum of products, so :math:`\Lambda_n` is never formed by
    subtracting :math:`p_n p_n^\top` from :math:`\operatorname{diag}(p_n)`, which would lose all
    its digits at saturation. Chapter 4.
    """

    name = "categorical"
    min_outputs = 2
    targets = "integer labels in 0..K-1"

    def check_targets(self, y, n_rows: int, n_outputs: int, name: str = "y"):
        return check_labels(y, n_rows, n_outputs, name)

    def loss(self, z, y):
        return -log_softmax(z)[onp.arange(y.shape[0]), y]

    def kl(self, z_p, z_q):
        return kl_categorical(z_p, z_q)

    def mean(self, z):
        return softmax(z)

    def output_gradient(self, z, y):
        return softmax(z) - onp.eye(z.shape[1])[y]

    def curvature_product(self, z, u):
        # The first edition's form, kept bit for bit (chapters print round-off-sensitive CG runs).
        # It is accurate relative to |u| but not to |Lambda_n u| in a saturated row: for
        # p_1 = 1 - 2e-18 the entry p_1 (1 - p_1) of Lambda_n e_1 comes out 0. The exact
        # factors keep it (sum_j p_j (u_k - u_j) would too).
        probs = softmax(z)
        return probs * (u - np.sum(probs * u, axis=1, keepdims=True))

    def sample(self, z, rng, n_samples: int = 1):
        """Labels of shape (N, S)."""
        return _categorical_labels(array_value(softmax(z), "z"), rng, n_samples)

    def _exact_factors(self, z):
        return _categorical_factors(softmax(z), "exact")

    def _empirical_factors(self, z, y):
        return _categorical_factors(softmax(z), "empirical", y=y)

    def _sampled_factors(self, z, rng, n_samples):
        return _categorical_factors(softmax(z), "monte_carlo", n_samples=n_samples, rng=rng)


class Bernoulli(Likelihood):
    r"""Independent sigmoids: :math:`p(y \mid z) = \prod_k p_k^{y_k} (1 - p_k)^{1 - y_k}` with :math:`p = \operatorname{sigm}(z)`.

    .. math:: \ell_n = \sum_k y_{nk}\,\operatorname{softplus}(-z_{nk}) + (1 - y_{nk})\,\operatorname{softplus}(z_{nk}),
              \qquad \Lambda_n = \operatorname{diag}\big(\operatorname{sigm}(z_n) \odot \operatorname{sigm}(-z_n)\big),

    with :math:`\operatorname{softplus}(z) = \log(1 + e^z) = -\log\operatorname{sigm}(-z)` and
    :math:`p_{nk}` the probability of a one. Both terms of the loss are non-negative for
    :math:`y \in [0, 1]`, so their sum has no cancellation; :math:`p` and :math:`1 - p =
    \operatorname{sigm}(-z)` are each computed as in :func:`natgrad.distributions.log_sigmoid`,
    never by subtracting from 1, so :math:`\Lambda_n` keeps its relative accuracy when an output
    saturates (:math:`\operatorname{sigm}(40)\operatorname{sigm}(-40) \approx 4 \times 10^{-18}`,
    where :math:`p - p^2` gives 0). The same care gives the residual :math:`y - p = y\,(1 - p) -
    (1 - y)\,p` exactly for targets 0 and 1. Exact factors :math:`r_{nk} = \sqrt{p_{nk}(1 -
    p_{nk})}\,e_k`. Chapter 8 (the autoencoder).
    """

    name = "bernoulli"
    targets = "values in [0, 1]"

    @staticmethod
    def _probabilities(z):
        """:math:`(\\operatorname{sigm}(z), \\operatorname{sigm}(-z))`, each with full relative accuracy."""
        return np.exp(-np.logaddexp(0.0, -z)), np.exp(-np.logaddexp(0.0, z))

    def check_targets(self, y, n_rows: int, n_outputs: int, name: str = "y"):
        value = _real_targets(y, n_rows, n_outputs, name, self.targets)
        if value.size and (value.min() < 0.0 or value.max() > 1.0):
            raise ValueError(f"{name}: expected Bernoulli targets in [0, 1], got values from {value.min():g} to {value.max():g}")
        return value

    def loss(self, z, y):
        return np.sum(y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z), axis=1)

    def kl(self, z_p, z_q):
        return np.sum(kl_bernoulli(z_p, z_q), axis=1)

    def mean(self, z):
        return self._probabilities(z)[0]

    def _residual(self, z, y):
        """:math:`y - \\operatorname{sigm}(z) = y \\operatorname{sigm}(-z) - (1 - y) \\operatorname{sigm}(z)`."""
        one, zero = self._probabilities(z)
        return y * zero - (1.0 - y) * one

    def output_gradient(self, z, y):
        return -self._residual(z, y)

    def curvature_product(self, z, u):
        one, zero = self._probabilities(z)
        return one * zero * u

    def sample(self, z, rng, n_samples: int = 1):
        """Targets 0.0 or 1.0 of shape (N, S, K)."""
        one = array_value(self.mean(z), "z")
        return (rng.random((one.shape[0], n_samples, one.shape[1])) < one[:, None, :]).astype(float)

    def _exact_factors(self, z):
        one, zero = self._probabilities(z)
        return _scaled_unit_vectors(np.sqrt(one * zero))

    def _empirical_factors(self, z, y):
        return self._residual(z, y)[:, None, :]

    def _sampled_factors(self, z, rng, n_samples):
        drawn = self.sample(z, rng, n_samples)
        return self._residual(z[:, None, :], drawn) / onp.sqrt(n_samples)


class Gaussian(Likelihood):
    r"""Unit-variance Gaussian outputs: :math:`p(y \mid z) = \mathcal N(y; z, I)`, :math:`\Lambda_n = I`.

    .. math:: \ell_n = \tfrac12 \lVert y_n - z_n \rVert^2

    (the negative log-likelihood up to the constant :math:`\tfrac K2 \log 2\pi`; chapter 1's
    squared error). The KL between two rows is :math:`\tfrac12\lVert z_{p,n} - z_{q,n}\rVert^2`.
    Exact factors :math:`r_{nk} = e_k`; a sampled factor is the drawn noise
    :math:`(y_s - z_n)/\sqrt S = \varepsilon_s/\sqrt S` itself, never computed by subtraction.
    Since :math:`\Lambda_n = I` does not depend on the parameters, K-FAC is exact for a
    one-layer (linear regression) model at every point. Chapters 1, 4 and 10.
    """

    name = "gaussian"
    targets = "real targets"

    def check_targets(self, y, n_rows: int, n_outputs: int, name: str = "y"):
        return _real_targets(y, n_rows, n_outputs, name, self.targets)

    def loss(self, z, y):
        return 0.5 * np.sum((y - z) ** 2, axis=1)

    def kl(self, z_p, z_q):
        return 0.5 * np.sum((z_p - z_q) ** 2, axis=1)

    def mean(self, z):
        return z

    def output_gradient(self, z, y):
        return z - y

    def curvature_product(self, z, u):
        return u

    @staticmethod
    def _noise(shape, rng, n_samples):
        return rng.standard_normal((shape[0], n_samples, shape[1]))

    def sample(self, z, rng, n_samples: int = 1):
        """Targets :math:`z_n + \\varepsilon_s`, :math:`\\varepsilon_s \\sim \\mathcal N(0, I)`, of shape (N, S, K)."""
        return array_value(z, "z")[:, None, :] + self._noise(np.shape(z), rng, n_samples)

    def _exact_factors(self, z):
        return _scaled_unit_vectors(onp.ones(np.shape(z)))

    def _empirical_factors(self, z, y):
        return (y - z)[:, None, :]

    def _sampled_factors(self, z, rng, n_samples):
        return self._noise(np.shape(z), rng, n_samples) / onp.sqrt(n_samples)


LIKELIHOODS: dict[str, Likelihood] = {likelihood.name: likelihood for likelihood in (Categorical(), Bernoulli(), Gaussian())}
NAMES = tuple(LIKELIHOODS)


def get(likelihood: str) -> Likelihood:
    """The likelihood called ``likelihood``: one of "categorical", "bernoulli", "gaussian"."""
    return LIKELIHOODS[one_of(likelihood, "likelihood", NAMES)]
