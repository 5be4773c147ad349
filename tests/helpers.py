"""Plain helper functions shared by the test modules: seeded data, parameters and references."""

from __future__ import annotations

import numpy as np


def make_data(n_rows: int, n_features: int, n_classes: int, seed: int):
    """Standard-normal inputs and uniformly random integer labels."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    y = rng.integers(0, n_classes, size=n_rows)
    return X, y


def random_params(model, seed: int, scale: float = 1.0):
    """Generic (not init-structured) parameters: every entry, biases included, is random."""
    return scale * np.random.default_rng(seed).normal(size=model.n_params)


def central_difference(f, x, h: float = 1e-6):
    """Central finite-difference gradient of a scalar function f at x."""
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def probabilities(logits):
    """Softmax with a max shift, written independently of natgrad."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def reference_logits(model, params, X):
    """Hand-written forward pass from the documented layout (per layer W.ravel() then b).

    Written with autograd.numpy so that it can be differentiated; the activation is
    np.tanh or the textbook logistic 1 / (1 + exp(-z)).
    """
    import autograd.numpy as anp

    def act(z):
        return anp.tanh(z) if model.activation == "tanh" else 1.0 / (1.0 + anp.exp(-z))

    h, start = X, 0
    sizes = model.layer_sizes
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = anp.reshape(params[start : start + n_in * n_out], (n_in, n_out))
        start += n_in * n_out
        b = params[start : start + n_out]
        start += n_out
        z = anp.dot(h, W) + b
        h = z if index == len(sizes) - 2 else act(z)
    assert start == np.size(params)
    return h


def reference_log_softmax(z):
    """log softmax along the last axis, z - log sum exp z, written with autograd.numpy (moderate z only)."""
    import autograd.numpy as anp

    return z - anp.log(anp.sum(anp.exp(z), axis=-1, keepdims=True))


def planted_psd(n: int, n_null: int, rng, smallest: float = 1e-6, scale: float = 1.0, null_noise: float = 0.0, noise: float = 0.0, genuine=None):
    """A symmetric PSD matrix with a planted null space, plus round-off-sized noise.

    F = scale * Q diag(omega) Q^T with n_null zero eigenvalues and the others log-uniform in
    [smallest, 1] (the largest is 1), or the n - n_null values ``genuine`` if given; then a symmetric perturbation of norm ``null_noise *
    scale`` inside the null space (round-off eigenvalues of either sign) and one of norm
    ``noise * scale`` in general position. Returns (F, Z, pinv): Z (n, n_null) an orthonormal
    basis of the planted null space and pinv the pseudo-inverse of the noiseless matrix,
    both from the planted eigendecomposition, not from a solver.
    """
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    if genuine is None:
        genuine = np.exp(rng.uniform(np.log(smallest), 0.0, size=n - n_null))
        genuine[np.argmax(genuine)] = 1.0
    genuine = np.asarray(genuine, dtype=float)
    omega = np.concatenate([np.zeros(n_null), genuine])
    F = scale * (Q * omega) @ Q.T
    Z, K = Q[:, :n_null], Q[:, n_null:]
    for size, basis in ((null_noise, Z), (noise, Q)):
        if size > 0 and basis.shape[1] > 0:
            S = rng.normal(size=(basis.shape[1], basis.shape[1]))
            S = S + S.T
            F = F + size * scale * basis @ (S / np.linalg.norm(S, 2)) @ basis.T
    pinv = (K / (scale * genuine)) @ K.T
    return 0.5 * (F + F.T), Z, pinv


def forward_with_shift(model, params, x, layer, shift):
    """Hand-written forward pass with ``shift`` added to the pre-activation of ``layer``; also the layer inputs.

    The Jacobian of its outputs in ``shift`` (autograd) carries an output vector back to that
    layer's pre-activations, as K-FAC's factors Gamma_l need.
    """
    import autograd.numpy as anp

    def act(z):
        return anp.tanh(z) if model.activation == "tanh" else 1.0 / (1.0 + anp.exp(-z))

    h, start, inputs = x, 0, []
    for index, (n_in, n_out) in enumerate(model.shapes):
        W = anp.reshape(params[start : start + n_in * n_out], (n_in, n_out))
        start += n_in * n_out
        b = params[start : start + n_out]
        start += n_out
        inputs.append(h)
        z = anp.dot(h, W) + b + (shift if index == layer else 0.0)
        h = z if index == len(model.shapes) - 1 else act(z)
    return h, inputs


def layer_blocks(model):
    """Slices of the parameter vector, one per layer."""
    sizes = [(n_in + 1) * n_out for n_in, n_out in model.shapes]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    return [slice(starts[i], starts[i + 1]) for i in range(len(sizes))]
