r"""The Fisher information matrix of a model, dense and matrix-free, for every output likelihood.

For a model with outputs :math:`z_n = z(x_n, \theta)` (``model.logits``) and output Jacobian
:math:`J_n = \partial z_n / \partial\theta`,

.. math:: F = \frac1N \sum_n J_n^\top \Lambda_n J_n, \qquad \Lambda_n = \nabla^2_{z_n}\ell_n,

where :math:`\Lambda_n` is the curvature of the loss in the outputs and also the Fisher of the
output likelihood in :math:`z_n` (:mod:`natgrad.likelihoods`): :math:`\mathrm{diag}(p_n) - p_n
p_n^\top` for softmax, :math:`\mathrm{diag}(\operatorname{sigm}(z_n)\odot\operatorname{sigm}(-z_n))`
for independent sigmoids, :math:`I` for a unit Gaussian. So :math:`F` is the generalised
Gauss-Newton matrix. It equals the Hessian of :func:`natgrad.model_kl` in its second argument
at :math:`\theta' = \theta` and the covariance of the score :math:`\nabla_\theta \log
p(y|x,\theta)` with :math:`y \sim p(\cdot|x,\theta)`. Chapter 4.

Dense matrices (:func:`fisher`) are built layer by layer from the output factors :math:`r_{nk}`
(:math:`\Lambda_n = \sum_k r_{nk} r_{nk}^\top`) carried back to each layer's pre-activations as
:math:`\gamma_{nk}`; products (:func:`linearize`, :func:`fisher_vector_product`) reuse one
stored forward pass.
"""

from __future__ import annotations

from typing import Callable

import autograd.numpy as np
import numpy as onp
from autograd.tracer import isbox

from natgrad._checks import array_value, finite_array, flat_vector, generator, one_of, positive_int
from natgrad.likelihoods import KINDS, _categorical_factors, get
from natgrad.models import Model, _check_model, activation_derivative, check_targets


def output_factors(probs, kind: str, y=None, n_samples: int = 1, rng=None):
    r"""Categorical output factors :math:`r_{nk}` in logit space, from the probabilities ``probs``.

    :math:`\sum_k r_{nk} r_{nk}^\top` is the per-row output Fisher:

    * ``exact``: :math:`r_{nk} = \sqrt{p_{nk}}\,(e_k - p_n)`, so the sum is :math:`\Lambda_n` exactly;
    * ``monte_carlo``: :math:`r_{ns} = (e_{y_s} - p_n)/\sqrt{S}` for sampled labels :math:`y_s \sim p_n`;
    * ``empirical``: :math:`r_n = e_{y_n} - p_n` for the data's own labels.

    :math:`e - p` is the gradient of :math:`\log p_y` in the logits. Returns shape
    (N, number of factors, K) for K classes: K factors per row for ``exact``, S for
    ``monte_carlo``, one for ``empirical``. The factors of every likelihood, from the outputs
    z, are ``natgrad.likelihoods.get(name).output_factors(z, kind, ...)``. Chapter 8.
    """
    return _categorical_factors(probs, kind, y=y, n_samples=n_samples, rng=rng)


def _layer_factors(model: Model, params, X, factors, inputs=None):
    r"""Per layer: augmented inputs :math:`\tilde a_n = [a_n, 1]` (N, n_in + 1) and the factors
    :math:`\gamma_{nk}` carried back to its pre-activations (N, number of factors, n_out).

    ``inputs`` (the layer inputs of ``model.forward``) saves a forward pass when given."""
    if inputs is None:
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


def _factor_pieces(model: Model, params, X, kind: str, y, n_samples: int, rng):
    r"""Check the arguments of a Fisher of ``kind`` once, then return the per-layer pieces
    :math:`(\tilde a, \gamma)` of :func:`_layer_factors`. Differentiable in ``params``."""
    _check_model(model)
    one_of(kind, "kind", KINDS)
    params = flat_vector(params, "params", model.n_params)
    outputs, inputs = model.forward(params, X)
    n_rows = array_value(X, "X").shape[0]
    if n_rows == 0:
        raise ValueError("X: expected at least one row")
    if kind == "empirical":
        if y is None:
            raise ValueError("y: kind='empirical' needs the data's targets y")
        y = check_targets(model, y, n_rows)
    if kind == "monte_carlo":
        n_samples = positive_int(n_samples, "n_samples")
        rng = generator(0 if rng is None else rng)
    factors = get(model.likelihood).output_factors(outputs, kind, y=y, n_samples=n_samples, rng=rng)
    return _layer_factors(model, params, X, factors, inputs)


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
    out = onp.zeros((n_params, n_params))
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
              \nabla_\theta \log p(y|x_n,\theta)^\top\right] = \frac1N \sum_n J_n^\top \Lambda_n J_n

    for the model's output likelihood (:mod:`natgrad.likelihoods`):

    * ``kind="exact"``: the expectation over :math:`y \sim p(\cdot|x_n,\theta)` in closed form;
    * ``kind="monte_carlo"``: ``n_samples`` targets drawn per row from the model, using ``rng``
      (a Generator or int seed; default seed 0): labels for a classifier, 0/1 for a Bernoulli,
      :math:`z_n + \varepsilon` for a Gaussian;
    * ``kind="empirical"``: the data's targets ``y`` (required; as for
      :func:`natgrad.negative_log_likelihood`). This is *not* the Fisher away from the optimum.

    Built layer by layer from back-propagated output factors, never from the full Jacobian;
    differentiable with autograd.

    Parameter order. Each layer stores ``W.ravel()`` and then ``b``, with ``W`` of shape
    (n_in, n_out): input by input, all outputs of input 1 first. For a one-layer model the
    output Jacobian of row n is then :math:`J_n = \tilde x_n^\top \otimes I_K` with
    :math:`\tilde x_n = (x_n, 1)`, and

    .. math:: F = \frac1N \sum_n (\tilde x_n \tilde x_n^\top) \otimes \Lambda_n,

    the input factor first. With the classes as the outer index it would be
    :math:`\Lambda_n \otimes \tilde x_n \tilde x_n^\top`; mixing up the two orders is a classic
    bug. :func:`_kron_block` lays out every block of a layer pair in this order. Chapter 4.
    """
    inputs, deltas = _factor_pieces(model, params, X, kind, y, n_samples, rng)
    return _assemble(inputs, deltas, model.n_params)


class Linearization:
    r"""A model's forward pass at ``params`` on ``X``, stored, and the products it makes cheap.

    Built by :func:`linearize`. With the layer inputs :math:`a_l` and the activation slopes
    stored, each method is one pass of matrix products through the network:

    * :meth:`jvp`: :math:`\dot z_n = J_n v` by a forward-mode (tangent) pass,
      :math:`\dot s_l = \dot a_l W_l + a_l\,\Delta W_l + \Delta b_l`,
      :math:`\dot a_{l+1} = \operatorname{act}'(s_l) \odot \dot s_l`;
    * :meth:`vjp`: :math:`\sum_n J_n^\top u_n` by a backward pass;
    * :meth:`fisher_vector_product`: :math:`F v = \frac1N \sum_n J_n^\top \Lambda_n J_n v`,
      one tangent and one backward pass (about one gradient evaluation, the book's cost model
      of chapter 4);
    * :meth:`fisher_norm_squared`: :math:`v^\top F v = \frac1N\sum_n \dot z_n^\top \Lambda_n
      \dot z_n`, a tangent pass alone;
    * :meth:`loss` and :meth:`gradient`: :math:`L` and :math:`\nabla L = \frac1N\sum_n J_n^\top
      (\mathbb E[y|z_n] - y_n)` for targets ``y`` (the canonical link makes the output gradient
      the residual), one backward pass.

    ``outputs`` holds :math:`z` (N, K), equal to ``model.logits(params, X)``. Plain numpy: not
    differentiable with autograd (use :func:`fisher` or :func:`natgrad.negative_log_likelihood`
    for that). Chapters 4 and 8.

    Each pass applies the operations of autograd's own rules in their order (the slope as a
    division by :math:`\cosh^2`, the products as ``np.dot`` of the same operands), so that
    :meth:`fisher_vector_product` agrees bit for bit with the first edition's product built
    from ``autograd.make_jvp`` and ``make_vjp``: the chapters print results of long
    conjugate-gradient runs that depend on its round-off.
    """

    def __init__(self, model: Model, params, X):
        self.model = model
        self.likelihood = get(model.likelihood)
        X = onp.asarray(array_value(X, "X"), dtype=float)
        layers = [(onp.asarray(W), onp.asarray(b)) for W, b in model.unflatten(onp.asarray(array_value(params, "params"), dtype=float))]
        sigmoid = model.activation == "sigmoid"
        inputs, denominators, h = [], [None], X
        for index, (W, b) in enumerate(layers):
            inputs.append(h)
            s = onp.dot(h, W) + b
            if index == len(layers) - 1:
                h = s
                break
            # The forms of natgrad.models._activate and of autograd's tanh rule, g / cosh(x)**2.
            inner = 0.5 * s if sigmoid else s
            with onp.errstate(over="ignore"):
                denominators.append(onp.cosh(inner) ** 2)
            h = 0.5 * (onp.tanh(inner) + 1.0) if sigmoid else onp.tanh(s)
        self.n_rows = X.shape[0]
        self.outputs = h
        self._layers, self._inputs, self._denominators, self._sigmoid = layers, inputs, denominators, sigmoid

    def _slope(self, index: int, g: onp.ndarray) -> onp.ndarray:
        r""":math:`\operatorname{act}'(s_{l-1}) \odot g` at the input of layer ``index`` (tangent and cotangent alike)."""
        if self._sigmoid:
            return 0.5 * ((0.5 * g) / self._denominators[index])
        return g / self._denominators[index]

    def _split(self, v: onp.ndarray):
        """``v`` as one (Delta W, Delta b) pair per layer (views, in the parameter order)."""
        pieces, start = [], 0
        for n_in, n_out in self.model.shapes:
            dW = onp.reshape(v[start : start + n_in * n_out], (n_in, n_out))
            start += n_in * n_out
            pieces.append((dW, v[start : start + n_out]))
            start += n_out
        return pieces

    def _tangent(self, v: onp.ndarray) -> onp.ndarray:
        tangent = None
        for index, ((W, _), (dW, db), a) in enumerate(zip(self._layers, self._split(v), self._inputs)):
            if index == 0:
                tangent = onp.dot(a, dW) + db
            else:
                tangent = (onp.dot(self._slope(index, tangent), W) + onp.dot(a, dW)) + db
        return tangent

    def _backward(self, u: onp.ndarray) -> onp.ndarray:
        pieces = []
        for index in range(len(self._layers) - 1, -1, -1):
            pieces.append(onp.sum(u, axis=0))
            pieces.append(onp.dot(u.T, self._inputs[index]).T.ravel())
            if index > 0:
                u = self._slope(index, onp.dot(u, self._layers[index][0].T))
        return onp.concatenate(pieces[::-1])

    def jvp(self, v) -> onp.ndarray:
        r""":math:`\dot z_n = J_n v` for every row, shape (N, K)."""
        return self._tangent(onp.asarray(flat_vector(v, "v", self.model.n_params), dtype=float))

    def vjp(self, u) -> onp.ndarray:
        r""":math:`\sum_n J_n^\top u_n`, shape (P,), for ``u`` of shape (N, K)."""
        value = array_value(u, "u")
        if value.shape != self.outputs.shape:
            raise ValueError(f"u: expected shape {self.outputs.shape} (one row per input, one column per output), got {value.shape}")
        return self._backward(onp.asarray(finite_array(u, "u"), dtype=float))

    def fisher_vector_product(self, v) -> onp.ndarray:
        r""":math:`F v` for the exact Fisher, never forming F: one tangent pass, :math:`\Lambda_n \dot z_n`, one backward pass."""
        tangent = self.jvp(v)
        return self._backward(self.likelihood.curvature_product(self.outputs, tangent)) / self.n_rows

    def fisher_norm_squared(self, v) -> float:
        r""":math:`v^\top F v = \frac1N \sum_n \dot z_n^\top \Lambda_n \dot z_n` (twice the quadratic model of the KL), one tangent pass."""
        tangent = self.jvp(v)
        return float(onp.sum(tangent * self.likelihood.curvature_product(self.outputs, tangent)) / self.n_rows)

    def _targets(self, y):
        return check_targets(self.model, y, self.n_rows)

    def loss(self, y) -> float:
        r"""The loss :math:`L = \frac1N\sum_n \ell_n` at the stored point, as :func:`natgrad.negative_log_likelihood`."""
        return float(onp.mean(self.likelihood.loss(self.outputs, self._targets(y))))

    def gradient(self, y) -> onp.ndarray:
        r""":math:`\nabla L = \frac1N \sum_n J_n^\top (\mathbb E[y \mid z_n] - y_n)`, one backward pass."""
        return self._backward(self.likelihood.output_gradient(self.outputs, self._targets(y))) / self.n_rows


def linearize(model: Model, params, X) -> Linearization:
    r"""Store the forward pass of ``model`` at ``params`` on the rows of ``X``: a :class:`Linearization`.

    Then ``lin.fisher_vector_product(v)`` costs one tangent and one backward pass, and
    ``lin.gradient(y)`` one backward pass, with no forward pass recomputed: a natural step with
    j conjugate-gradient iterations costs one forward pass and 1 + j backward-sized passes
    (the cost model of chapter 4). Chapters 4 and 8.
    """
    _check_model(model)
    params = flat_vector(params, "params", model.n_params)
    X = model.check_inputs(X)
    if array_value(X, "X").shape[0] == 0:
        raise ValueError("X: expected at least one row")
    return Linearization(model, params, X)


def fisher_vector_product(model: Model, params, X) -> Callable:
    r"""A callable :math:`v \mapsto F v` for the exact Fisher, never forming F.

    The forward pass at ``params`` is run once, here, and stored (:func:`linearize`); each call
    then runs a tangent pass :math:`u_n = J_n v` through the stored activations, applies the
    output curvature row by row (:math:`\Lambda_n u_n = p_n \odot u_n - p_n (p_n^\top u_n)` for
    softmax, :math:`\operatorname{sigm}(z_n)\odot\operatorname{sigm}(-z_n)\odot u_n` for
    Bernoulli outputs, :math:`u_n` for Gaussian ones) and pulls the result back with a backward
    pass :math:`\frac1N\sum_n J_n^\top (\cdot)`. Cost per product: about one gradient evaluation
    (``make bench`` measures it). Chapter 4 counts what that costs against a gradient;
    chapter 8 pairs the product with conjugate gradient.
    """
    return linearize(model, params, X).fisher_vector_product
