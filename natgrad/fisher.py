r"""The Fisher information matrix of a classifier, dense and matrix-free.

For a model with logits :math:`z_n = z(x_n, \theta)` and output Jacobian
:math:`J_n = \partial z_n / \partial\theta`,

.. math:: F = \frac1N \sum_n J_n^\top \Lambda_n J_n, \qquad \Lambda_n = \mathrm{diag}(p_n) - p_n p_n^\top,

where :math:`\Lambda_n` is the Fisher of the categorical distribution in its logits and also the
Hessian of the cross-entropy in the logits (so :math:`F` is the generalised Gauss-Newton
matrix). It equals the Hessian of :func:`natgrad.model_kl` in its second argument at
:math:`\theta' = \theta` and the covariance of the score :math:`\nabla_\theta \log p(y|x,\theta)`
with :math:`y \sim p(\cdot|x,\theta)`. Chapter 4.
"""

from __future__ import annotations

import autograd.numpy as np
import numpy as onp
from autograd import make_jvp, make_vjp
from autograd.tracer import isbox

from natgrad._checks import array_value, flat_vector, generator, one_of, positive_int
from natgrad.distributions import softmax
from natgrad.models import Model, _check_model, activation_derivative, check_labels

KINDS = ("exact", "empirical", "monte_carlo")


def output_factors(probs, kind: str, y=None, n_samples: int = 1, rng=None):
    r"""Vectors :math:`r_{nk}` in logit space with :math:`\sum_k r_{nk} r_{nk}^\top` the per-row output Fisher.

    * ``exact``: :math:`r_{nk} = \sqrt{p_{nk}}\,(e_k - p_n)`, so the sum is :math:`\Lambda_n` exactly;
    * ``monte_carlo``: :math:`r_{ns} = (e_{y_s} - p_n)/\sqrt{S}` for sampled labels :math:`y_s \sim p_n`;
    * ``empirical``: :math:`r_n = e_{y_n} - p_n` for the data's own labels.

    :math:`e - p` is the gradient of :math:`\log p_y` in the logits. Returns shape
    (N, number of factors, K) for K classes: K factors per row for ``exact``, S for
    ``monte_carlo``, one for ``empirical``.
    """
    n_rows, n_classes = array_value(probs, "probs").shape
    eye = onp.eye(n_classes)
    if kind == "exact":
        return np.sqrt(probs)[:, :, None] * (eye[None, :, :] - probs[:, None, :])
    if kind == "empirical":
        return (eye[y] - probs)[:, None, :]
    p_value = array_value(probs, "probs")
    cumulative = onp.cumsum(p_value, axis=1)
    draws = rng.random((n_rows, n_samples, 1))
    labels = onp.minimum((draws > cumulative[:, None, :]).sum(axis=2), n_classes - 1)
    return (eye[labels] - probs[:, None, :]) / onp.sqrt(n_samples)


def _layer_factors(model: Model, params, X, factors):
    """Per layer: augmented inputs [a, 1] (N, n_in + 1) and back-propagated factors (N, K, n_out)."""
    _, inputs = model.forward(params, X)
    layers = model.unflatten(params)
    deltas = [None] * len(layers)
    delta = factors
    for index in range(len(layers) - 1, -1, -1):
        deltas[index] = delta
        if index > 0:
            W = layers[index][0]
            delta = np.einsum("nko,io->nki", delta, W) * activation_derivative(inputs[index], model.activation)[:, None, :]
    ones = onp.ones((array_value(X, "X").shape[0], 1))
    return [np.concatenate([a, ones], axis=1) for a in inputs], deltas


def _pair_index(n: int) -> tuple[onp.ndarray, onp.ndarray, onp.ndarray]:
    """Upper-triangle pairs (i <= k) of ``range(n)`` and the symmetric map (i, k) -> pair number."""
    upper_i, upper_k = onp.triu_indices(n)
    index = onp.zeros((n, n), dtype=int)
    index[upper_i, upper_k] = index[upper_k, upper_i] = onp.arange(upper_i.size)
    return upper_i, upper_k, index


def _kron_block(a_l, d_l, a_m, d_m):
    r"""The Fisher block between two layers, :math:`\frac1N\sum_n (a_l a_m^\top) \otimes (\sum_k \gamma_{lk}\gamma_{mk}^\top)`.

    ``a_l``, ``a_m`` are the layers' inputs with a 1 appended; ``d_l``, ``d_m`` the output
    factors :math:`\gamma` carried back to the layers' pre-activations.

    Returned with axes (input_l, output_l, input_m, output_m). Summing over k before the
    outer product over inputs makes the cost :math:`O(N P_l P_m)` instead of the
    :math:`O(N K P_l P_m)` of stacking per-class Jacobians. On the diagonal (``a_l is a_m``)
    both outer products are symmetric, so only pairs i <= k of inputs and j <= l of
    outputs are computed (a quarter of the work) and a gather lays out the full block.
    """
    n_rows, n_in_l = a_l.shape
    n_in_m = a_m.shape[1]
    n_out_l, n_out_m = d_l.shape[2], d_m.shape[2]
    outer_out = np.matmul(np.swapaxes(d_l, 1, 2), d_m)
    if a_l is a_m:
        in_i, in_k, in_pairs = _pair_index(n_in_l)
        out_j, out_l, out_pairs = _pair_index(n_out_l)
        reduced = np.dot((a_l[:, in_i] * a_l[:, in_k]).T, outer_out[:, out_j, out_l]) / n_rows
        return reduced[in_pairs[:, None, :, None], out_pairs[None, :, None, :]]
    outer_in = (a_l[:, :, None] * a_m[:, None, :]).reshape(n_rows, n_in_l * n_in_m)
    block = np.dot(outer_in.T, outer_out.reshape(n_rows, n_out_l * n_out_m)) / n_rows
    return np.transpose(np.reshape(block, (n_in_l, n_in_m, n_out_l, n_out_m)), (0, 2, 1, 3))


def _assemble(inputs, deltas, n_params: int):
    """The symmetric (P, P) matrix from its layer blocks (upper blocks computed, lower mirrored)."""
    sizes = [a.shape[1] * d.shape[2] for a, d in zip(inputs, deltas)]
    starts = onp.concatenate([[0], onp.cumsum(sizes)])
    pairs = [(l, m) for l in range(len(sizes)) for m in range(l, len(sizes))]
    blocks = {(l, m): _kron_block(inputs[l], deltas[l], inputs[m], deltas[m]) for l, m in pairs}
    if any(isbox(value) for value in blocks.values()):
        # Differentiable path: autograd cannot trace in-place writes.
        flat = {key: np.reshape(value, (sizes[key[0]], sizes[key[1]])) for key, value in blocks.items()}
        rows = [np.concatenate([flat[(l, m)] if l <= m else flat[(m, l)].T for m in range(len(sizes))], axis=1) for l in range(len(sizes))]
        return np.concatenate(rows, axis=0)
    out = onp.empty((n_params, n_params))
    for (l, m), value in blocks.items():
        rows, cols = slice(starts[l], starts[l + 1]), slice(starts[m], starts[m + 1])
        # Writing through a 4-D view does the axis permutation and the placement in one copy.
        out[rows, cols].reshape(value.shape)[...] = value
        if l != m:
            out[cols, rows] = out[rows, cols].T
    return out


def fisher(model: Model, params, X, kind: str = "exact", y=None, n_samples: int = 1, rng=None):
    r"""The dense (P, P) Fisher matrix, a mean over the rows of ``X``.

    .. math:: F = \frac1N \sum_n \mathbb{E}_{y}\!\left[\nabla_\theta \log p(y|x_n,\theta)\,
              \nabla_\theta \log p(y|x_n,\theta)^\top\right]

    * ``kind="exact"``: the expectation over :math:`y \sim p(\cdot|x_n,\theta)` in closed form;
    * ``kind="monte_carlo"``: ``n_samples`` labels drawn per row from the model, using ``rng``
      (a Generator or int seed; default seed 0);
    * ``kind="empirical"``: the data's labels ``y`` (required). This is *not* the Fisher away
      from the optimum.

    Built layer by layer from back-propagated output factors, never from the full Jacobian.

    Parameter order. Each layer stores ``W.ravel()`` and then ``b``, with ``W`` of shape
    (n_in, n_out): input by input, all outputs of input 1 first. For softmax regression the
    output Jacobian of row n is then :math:`J_n = \tilde x_n^\top \otimes I_K` with
    :math:`\tilde x_n = (x_n, 1)`, and

    .. math:: F = \frac1N \sum_n (\tilde x_n \tilde x_n^\top) \otimes \Lambda_n,

    the input factor first. With the classes as the outer index it would be
    :math:`\Lambda_n \otimes \tilde x_n \tilde x_n^\top`; mixing up the two orders is a classic
    bug. ``_kron_block`` lays out every block of a layer pair in this order. Chapter 4.
    """
    _check_model(model)
    one_of(kind, "kind", KINDS)
    params = flat_vector(params, "params", model.n_params)
    logits = model.logits(params, X)
    n_rows = array_value(X, "X").shape[0]
    if kind == "empirical":
        if y is None:
            raise ValueError("y: kind='empirical' needs the data's labels y")
        y = check_labels(y, n_rows, model.n_classes)
    if kind == "monte_carlo":
        n_samples = positive_int(n_samples, "n_samples")
        rng = generator(0 if rng is None else rng)
    factors = output_factors(softmax(logits), kind, y=y, n_samples=n_samples, rng=rng)
    inputs, deltas = _layer_factors(model, params, X, factors)
    return _assemble(inputs, deltas, model.n_params)


def fisher_vector_product(model: Model, params, X):
    r"""A callable :math:`v \mapsto F v` for the exact Fisher, never forming F.

    Each call runs a forward-mode product :math:`u_n = J_n v` (``make_jvp``), applies the
    output Fisher row by row, :math:`\Lambda_n u_n = p_n \odot u_n - p_n (p_n^\top u_n)`, and
    pulls the result back with a reverse-mode product :math:`J_n^\top (\cdot)/N`
    (``make_vjp``, traced once when the map is built). Cost per product: one forward-mode
    pass, which with autograd also recomputes the forward values, and one backward pass
    through the stored trace. Chapter 4 counts what that costs against a gradient;
    chapter 8 pairs the product with conjugate gradient.
    """
    _check_model(model)
    params = flat_vector(params, "params", model.n_params)
    X = model.check_inputs(X)
    n_rows = array_value(X, "X").shape[0]

    def logits_of(theta):
        return model.logits(theta, X)

    pullback, logits = make_vjp(logits_of)(params)
    probs = softmax(logits)
    push_forward = make_jvp(logits_of)(params)

    def product(v):
        v = flat_vector(v, "v", model.n_params)
        _, u = push_forward(v)
        h_u = probs * (u - np.sum(probs * u, axis=1, keepdims=True))
        return pullback(h_u) / n_rows

    return product
