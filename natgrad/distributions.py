"""Probability distributions and the KL divergence between them.

Chapter 2 (a network is a distribution over outputs) uses :func:`softmax`;
chapter 3 (KL divergence) uses :func:`kl_categorical` and :func:`kl_gaussian`;
chapter 4 (the Fisher information metric) derives :func:`gaussian_fisher`.
:func:`log_sigmoid` and :func:`kl_bernoulli` serve the Bernoulli output likelihood of
:mod:`natgrad.likelihoods` (independent sigmoids, one per output).
"""

from __future__ import annotations

import autograd.numpy as np

from natgrad._checks import array_value, finite_array, one_of

_PARAMETRIZATIONS = ("sigma", "log_sigma")


def log_softmax(logits):
    r"""Log-probabilities of the categorical distribution with the given logits.

    .. math:: \log p_c = z_c - \log \sum_{c'} e^{z_{c'}},

    along the last axis. Subtracting the row maximum first keeps it exact for
    logits of magnitude 1e3 and beyond. Chapter 2.
    """
    logits = finite_array(logits, "logits")
    if array_value(logits, "logits").ndim < 1:
        raise ValueError("logits: expected an array with at least one axis (the classes)")
    # The shift cancels mathematically, so no gradient needs to flow through it.
    shift = np.max(array_value(logits, "logits"), axis=-1, keepdims=True)
    shifted = logits - shift
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax(logits):
    r"""Probabilities :math:`p_c = e^{z_c} / \sum_{c'} e^{z_{c'}}` along the last axis. Chapter 2."""
    return np.exp(log_softmax(logits))


def _excess(r):
    r"""The non-negative function :math:`\varphi(r) = e^{-r} - 1 + r`, accurate near 0.

    A short Taylor series replaces ``expm1(-r) + r`` where that would cancel, so the
    KL of a tiny step keeps its relative accuracy (chapter 3 tabulates such steps).
    Callers keep ``r`` away from large negative values, where ``e^{-r}`` overflows.
    """
    small = np.abs(r) < 1e-3
    r_small = np.where(small, r, 0.0)
    r_large = np.where(small, 1.0, r)
    series = r_small**2 * (0.5 - r_small / 6.0 + r_small**2 / 24.0 - r_small**3 / 120.0)
    return np.where(small, series, np.expm1(-r_large) + r_large)


def kl_categorical(logits_p, logits_q):
    r"""Row-wise :math:`\mathrm{KL}(p \,\|\, q) = \sum_c p_c \log(p_c / q_c)` for categorical p, q.

    ``p = softmax(logits_p)`` and ``q = softmax(logits_q)``; the result has shape
    ``logits.shape[:-1]``. Each term is written as :math:`p_c\,\varphi(r_c)` with
    :math:`r_c = \log p_c - \log q_c` and :math:`\varphi(r) = e^{-r} - 1 + r \ge 0`
    (the extra terms sum to zero), so the result is never negative, is exactly 0
    for equal logits, and stays finite for extreme logits. Chapter 3.
    """
    p_shape = array_value(logits_p, "logits_p").shape
    q_shape = array_value(logits_q, "logits_q").shape
    if p_shape != q_shape:
        raise ValueError(f"logits_q: expected the same shape as logits_p {p_shape}, got {q_shape}")
    log_p = log_softmax(finite_array(logits_p, "logits_p"))
    log_q = log_softmax(finite_array(logits_q, "logits_q"))
    return np.sum(_kl_terms(log_p, log_q), axis=-1)


def _kl_terms(log_p, log_q):
    r"""The non-negative terms :math:`p\,\varphi(r)`, :math:`r = \log p - \log q`, whose sum over outcomes is the KL."""
    r = log_p - log_q
    p = np.exp(log_p)
    # Where q_c dwarfs p_c, e^{-r} would overflow; there p*phi(r) = q - p + p*r has no cancellation.
    overflow = r < -30.0
    r_safe = np.where(overflow, 0.0, r)
    return np.where(overflow, np.exp(log_q) - p + p * r, p * _excess(r_safe))


def log_sigmoid(logits):
    r"""Elementwise :math:`\log \operatorname{sigm}(z) = -\log(1 + e^{-z})`, stable for every finite z.

    Written as :math:`-\operatorname{logaddexp}(0, -z)`: no overflow for :math:`z \to -\infty`
    (where it is :math:`z`) and full relative accuracy of :math:`e^{\log\operatorname{sigm}(z)}`
    in both tails, so that :math:`\operatorname{sigm}(z)` and :math:`1 - \operatorname{sigm}(z) =
    \operatorname{sigm}(-z)` are each computed without subtracting from 1. (The activation
    :func:`natgrad.models.sigmoid` uses the tanh form, accurate in absolute terms only.)
    Chapters 3 and 8.
    """
    return -np.logaddexp(0.0, -finite_array(logits, "logits"))


def kl_bernoulli(logits_p, logits_q):
    r"""Elementwise :math:`\mathrm{KL}(\operatorname{Bern}(p) \,\|\, \operatorname{Bern}(q))` for
    :math:`p = \operatorname{sigm}(z_p)`, :math:`q = \operatorname{sigm}(z_q)`:

    .. math:: \mathrm{KL} = p \log\frac{p}{q} + (1 - p) \log\frac{1 - p}{1 - q}.

    A Bernoulli is the categorical distribution with logits :math:`(z, 0)`, and the two terms
    are written as in :func:`kl_categorical`, each :math:`\ge 0`, with :math:`\log p` and
    :math:`\log(1-p)` from :func:`log_sigmoid`: the result is never negative, exactly 0 for
    equal logits, and finite for logits of any size. Same shape as the inputs. Chapter 3.
    """
    p_shape = array_value(logits_p, "logits_p").shape
    q_shape = array_value(logits_q, "logits_q").shape
    if p_shape != q_shape:
        raise ValueError(f"logits_q: expected the same shape as logits_p {p_shape}, got {q_shape}")
    logits_p = finite_array(logits_p, "logits_p")
    logits_q = finite_array(logits_q, "logits_q")
    ones = _kl_terms(-np.logaddexp(0.0, -logits_p), -np.logaddexp(0.0, -logits_q))
    zeros = _kl_terms(-np.logaddexp(0.0, logits_p), -np.logaddexp(0.0, logits_q))
    return ones + zeros


def kl_gaussian(mu_p, sigma_p, mu_q, sigma_q):
    r"""Elementwise KL between univariate normals :math:`N(\mu_p, \sigma_p^2)` and :math:`N(\mu_q, \sigma_q^2)`.

    .. math:: \mathrm{KL} = \log\frac{\sigma_q}{\sigma_p}
              + \frac{\sigma_p^2 + (\mu_p - \mu_q)^2}{2\sigma_q^2} - \frac12 .

    Computed as :math:`\tfrac12\varphi(2\log(\sigma_q/\sigma_p)) + (\mu_p-\mu_q)^2/(2\sigma_q^2)`,
    which is non-negative term by term. Chapters 3 and 4.
    """
    for value, name in ((mu_p, "mu_p"), (mu_q, "mu_q")):
        finite_array(value, name)
    for value, name in ((sigma_p, "sigma_p"), (sigma_q, "sigma_q")):
        if not np.all(array_value(finite_array(value, name), name) > 0):
            raise ValueError(f"{name}: expected standard deviations > 0")
    log_ratio = 2.0 * (np.log(sigma_q) - np.log(sigma_p))
    return 0.5 * _excess(log_ratio) + (mu_p - mu_q) ** 2 / (2.0 * sigma_q**2)


def gaussian_fisher(mu, sigma, parametrization: str = "sigma"):
    r"""The 2x2 Fisher information of :math:`N(\mu, \sigma^2)`.

    In :math:`(\mu, \sigma)` it is :math:`\mathrm{diag}(1/\sigma^2,\ 2/\sigma^2)`; in
    :math:`(\mu, \log\sigma)` it is :math:`\mathrm{diag}(1/\sigma^2,\ 2)`. Both are the
    Hessian of :func:`kl_gaussian` in the second argument's coordinates, at coincidence.
    ``mu`` does not enter: the family is translation invariant. Chapter 4.
    """
    one_of(parametrization, "parametrization", _PARAMETRIZATIONS)
    finite_array(mu, "mu")
    sigma_value = array_value(finite_array(sigma, "sigma"), "sigma")
    if sigma_value.ndim != 0 or array_value(mu, "mu").ndim != 0:
        raise ValueError("mu, sigma: expected scalars")
    if sigma_value <= 0:
        raise ValueError(f"sigma: expected a standard deviation > 0, got {float(sigma_value)!r}")
    second = 2.0 / sigma**2 if parametrization == "sigma" else 2.0 + 0.0 * sigma
    return np.diag(np.array([1.0 / sigma**2, second]))
