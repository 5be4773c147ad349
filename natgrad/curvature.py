r"""Cheaper curvature: the diagonal of the Fisher, its exact layer blocks, and their Kronecker-factored (K-FAC) approximation.

All three are read off the same per-layer pieces that :func:`natgrad.fisher` assembles, for any
output likelihood of the model (:mod:`natgrad.likelihoods`): the augmented inputs
:math:`\tilde a_n = [a_n, 1]` of each layer and the output factors :math:`r_{nk}`
(:math:`\Lambda_n = \sum_k r_{nk} r_{nk}^\top`) carried back to the layer's pre-activations,
:math:`\gamma_{nk}`. With parameters stored per layer as ``W.ravel()`` then ``b``, the layer's
parameters are the row-major ravel of the (n_in + 1, n_out) matrix :math:`[W; b]`, the per-row
score of factor k is :math:`\tilde a_n \otimes \gamma_{nk}`, and the exact diagonal block of the
Fisher is

.. math:: F_l = \frac1N \sum_n (\tilde a_n \tilde a_n^\top) \otimes \Big(\sum_k \gamma_{nk}\gamma_{nk}^\top\Big)

in ``np.kron`` order (:func:`block_diagonal_fisher` returns these blocks). K-FAC replaces the mean of Kronecker products by the Kronecker product
of means, :math:`F_l \approx A_l \otimes \Gamma_l` (Martens and Grosse, 2015). Chapter 8.
"""

from __future__ import annotations

import numpy as np

from natgrad._checks import finite_array, flat_vector, nonnegative_finite
from natgrad.fisher import _factor_pieces, _kron_block
from natgrad.models import Model
from natgrad.solvers import DEFAULT_RTOL, _check_rtol, _minimum_norm_solve, _resolved_eigenvalues


def _pieces(model: Model, params, X, kind: str, y, n_samples: int, rng):
    r"""Augmented inputs (N, n_in + 1) and factors :math:`\gamma` (N, number of factors, n_out) of every layer."""
    return _factor_pieces(model, params, X, kind, y, n_samples, rng)


def diagonal_fisher(model: Model, params, X, kind: str = "exact", y=None, n_samples: int = 1, rng=None) -> np.ndarray:
    r"""The diagonal of the Fisher, shape (P,), without forming the matrix.

    For the weight joining input i to output o of layer l,

    .. math:: F_{(io),(io)} = \frac1N \sum_n \tilde a_{ni}^2 \sum_k \gamma_{nko}^2 ,

    one matrix product per layer: cost :math:`O(N P)` after the factors, memory :math:`O(P)`.
    ``kind``, ``y``, ``n_samples`` and ``rng`` choose the Fisher as in :func:`natgrad.fisher`
    (exact, empirical or Monte-Carlo), for the model's likelihood. Equals
    ``np.diag(ng.fisher(...))``. Chapter 8.
    """
    inputs, deltas = _pieces(model, params, X, kind, y, n_samples, rng)
    n_rows = inputs[0].shape[0]
    return np.concatenate([((a**2).T @ (d**2).sum(axis=1)).ravel() / n_rows for a, d in zip(inputs, deltas)])


def kfac_factors(model: Model, params, X, kind: str = "exact", y=None, n_samples: int = 1, rng=None) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""The K-FAC factors :math:`(A_l, \Gamma_l)` of every layer, so that :math:`F_l \approx A_l \otimes \Gamma_l`.

    .. math:: A_l = \frac1N \sum_n \tilde a_n \tilde a_n^\top, \qquad
              \Gamma_l = \frac1N \sum_n \sum_k \gamma_{nk} \gamma_{nk}^\top ,

    with :math:`\tilde a_n = [a_n, 1]` the layer's input with a trailing 1 for the bias,
    shape (n_in + 1, n_in + 1), and :math:`\Gamma_l` of shape (n_out, n_out), returned as
    pairs ``(A, Gamma)``. ``np.kron(A, Gamma)`` is in the parameter order of ``W.ravel()`` then
    ``b``. The approximation is exact when :math:`\tilde a_n \tilde a_n^\top` and
    :math:`\sum_k \gamma_{nk}\gamma_{nk}^\top` do not vary together over the rows: for one row;
    for a one-layer model whose :math:`\Lambda_n` is the same on every row (softmax or logistic
    regression with zero weights; linear regression, :math:`\Lambda_n = I`, at every point).
    Off-diagonal blocks between layers are dropped. ``kind`` etc. as in :func:`natgrad.fisher`,
    for the model's likelihood. Chapter 8.
    """
    inputs, deltas = _pieces(model, params, X, kind, y, n_samples, rng)
    n_rows = inputs[0].shape[0]
    factors = []
    for a, d in zip(inputs, deltas):
        flat_d = d.reshape(-1, d.shape[2])
        factors.append((a.T @ a / n_rows, flat_d.T @ flat_d / n_rows))
    return factors


def block_diagonal_fisher(model: Model, params, X, kind: str = "exact", y=None, n_samples: int = 1, rng=None) -> list[np.ndarray]:
    r"""The exact diagonal blocks :math:`F_l` of the Fisher, one (P_l, P_l) matrix per layer.

    .. math:: F_l = \frac1N \sum_n (\tilde a_n \tilde a_n^\top) \otimes \Big(\sum_k \gamma_{nk}\gamma_{nk}^\top\Big),

    with :math:`P_l = (n_{\text{in}} + 1)\, n_{\text{out}}` in the parameter order ``W.ravel()``
    then ``b``: block l equals ``F[s, s]`` of the dense :func:`natgrad.fisher` for the slice s of
    layer l's parameters. Dropping the blocks between layers keeps the coupling between the
    weights of one layer, which the diagonal drops, without K-FAC's Kronecker approximation
    inside the block; memory :math:`O(\sum_l P_l^2)`. ``kind``, ``y``, ``n_samples`` and ``rng``
    as in :func:`natgrad.fisher`. Chapter 8.
    """
    inputs, gammas = _pieces(model, params, X, kind, y, n_samples, rng)
    return [np.reshape(_kron_block(a, d, a, d), (a.shape[1] * d.shape[2],) * 2) for a, d in zip(inputs, gammas)]


def block_diagonal_direction(blocks, grad, damping: float = 0.0, rtol: float = DEFAULT_RTOL) -> np.ndarray:
    r"""Solve :math:`(F_l + \lambda I)\, v_l = g_l` layer by layer, for the blocks of :func:`block_diagonal_fisher`.

    ``grad`` is split into consecutive pieces of the blocks' sizes. With ``damping > 0`` each
    block is solved directly; with ``damping = 0`` each gets the minimum-norm solution with the
    relative eigenvalue cutoff ``rtol``, as :func:`natgrad.natural_direction` does for the whole
    Fisher (chapter 5). Cost :math:`O(\sum_l P_l^3)`. Chapter 8.
    """
    if not isinstance(blocks, (list, tuple)) or len(blocks) == 0:
        raise ValueError("blocks: expected a non-empty list of square matrices, as returned by block_diagonal_fisher")
    checked = []
    for index, block in enumerate(blocks):
        block = np.asarray(finite_array(block, f"blocks[{index}]"), dtype=float)
        if block.ndim != 2 or block.shape[0] != block.shape[1]:
            raise ValueError(f"blocks[{index}]: expected a square matrix, got shape {block.shape}")
        checked.append(block)
    nonnegative_finite(damping, "damping")
    rtol = _check_rtol(rtol)
    sizes = [block.shape[0] for block in checked]
    grad = np.asarray(flat_vector(grad, "grad", sum(sizes)), dtype=float)
    pieces, start = [], 0
    for block, size in zip(checked, sizes):
        g_l = grad[start : start + size]
        symmetric = 0.5 * (block + block.T)
        if damping > 0:
            pieces.append(np.linalg.solve(symmetric + damping * np.eye(size), g_l))
        else:
            pieces.append(_minimum_norm_solve(symmetric, g_l, rtol))
        start += size
    return np.concatenate(pieces)


def _check_factors(factors) -> list[tuple[np.ndarray, np.ndarray]]:
    """A list of (A, Gamma) pairs of finite square matrices."""
    if not isinstance(factors, (list, tuple)) or len(factors) == 0:
        raise ValueError("factors: expected a non-empty list of (A, Gamma) pairs, as returned by kfac_factors")
    checked = []
    for index, pair in enumerate(factors):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"factors[{index}]: expected a pair (A, Gamma)")
        A, G = (np.asarray(finite_array(m, f"factors[{index}]"), dtype=float) for m in pair)
        for name, m in (("A", A), ("Gamma", G)):
            if m.ndim != 2 or m.shape[0] != m.shape[1]:
                raise ValueError(f"factors[{index}]: expected {name} to be a square matrix, got shape {m.shape}")
        checked.append((A, G))
    return checked


def _split_damping(A: np.ndarray, G: np.ndarray, damping: float, pi_correction: bool) -> tuple[float, float]:
    r"""Damping of each factor: :math:`(\pi\sqrt\lambda,\ \sqrt\lambda/\pi)` with :math:`\pi^2 = \frac{\mathrm{tr}A/\dim A}{\mathrm{tr}\Gamma/\dim \Gamma}`."""
    root = np.sqrt(damping)
    mean_a, mean_g = np.trace(A) / A.shape[0], np.trace(G) / G.shape[0]
    pi = np.sqrt(mean_a / mean_g) if pi_correction and mean_a > 0 and mean_g > 0 else 1.0
    return pi * root, root / pi


def kfac_matrix(factors, damping: float = 0.0, pi_correction: bool = True) -> np.ndarray:
    r"""The dense (P, P) K-FAC approximation: block-diagonal, block l is :math:`(A_l + \pi_l\sqrt\lambda I) \otimes (\Gamma_l + \sqrt\lambda/\pi_l\, I)`.

    For inspection and tests only: it costs :math:`O(P^2)` memory, which K-FAC exists to
    avoid. ``damping`` and ``pi_correction`` as in :func:`kfac_direction`. Chapter 8.
    """
    factors = _check_factors(factors)
    nonnegative_finite(damping, "damping")
    blocks = []
    for A, G in factors:
        damp_a, damp_g = _split_damping(A, G, damping, pi_correction)
        blocks.append(np.kron(A + damp_a * np.eye(A.shape[0]), G + damp_g * np.eye(G.shape[0])))
    sizes = [block.shape[0] for block in blocks]
    out = np.zeros((sum(sizes), sum(sizes)))
    start = 0
    for block, size in zip(blocks, sizes):
        out[start : start + size, start : start + size] = block
        start += size
    return out


def kfac_direction(factors, grad, damping: float = 0.0, pi_correction: bool = True, rtol: float = DEFAULT_RTOL) -> np.ndarray:
    r"""The K-FAC direction: per layer, solve :math:`(A_l + \pi_l\sqrt\lambda I) \otimes (\Gamma_l + \tfrac{\sqrt\lambda}{\pi_l} I)\, d_l = g_l`.

    With :math:`g_l` reshaped to the (n_in + 1, n_out) matrix :math:`V` (row-major, as the
    parameters are stored), :math:`(A \otimes \Gamma)\,\mathrm{vec}(D) = \mathrm{vec}(A D \Gamma)`, so

    .. math:: D = (A + \pi\sqrt\lambda I)^{-1}\, V\, (\Gamma + \tfrac{\sqrt\lambda}{\pi} I)^{-1},

    two small solves per layer instead of one of size P: cost
    :math:`O(\sum_l n_{\text{in}}^3 + n_{\text{out}}^3)`. This is the factored Tikhonov damping
    of Martens and Grosse (2015, section 6.3), with
    :math:`\pi_l^2 = (\mathrm{tr}A_l / \dim A_l) / (\mathrm{tr}\Gamma_l / \dim \Gamma_l)`; with
    ``pi_correction=False``, :math:`\pi_l = 1`. Either way the damping differs from
    :math:`A \otimes \Gamma + \lambda I` by the cross terms :math:`\sqrt\lambda(\pi I \otimes \Gamma + A \otimes I/\pi)`.

    The solves go through the eigendecompositions of the two damped factors. Singular factors
    (the output layer's :math:`\Gamma` always is for a softmax model, which ignores a shift of all
    logits; Bernoulli and Gaussian outputs have no such direction) get the
    minimum-norm solution: each factor's eigenvalues at or below ``rtol`` times that factor's
    largest count as zero (the rule of :func:`natgrad.natural_direction`), and so does every
    eigenvalue :math:`\omega_a\omega_g` of the Kronecker product that involves one of them. The
    rule is per factor because each factor fixes its own eigenvalues to about
    :math:`10^{-16}` of its largest: a product of two small eigenvalues that are each resolved
    is resolved too, although it may lie far below ``rtol`` times the largest product.
    Chapter 8.
    """
    factors = _check_factors(factors)
    nonnegative_finite(damping, "damping")
    rtol = _check_rtol(rtol)
    sizes = [A.shape[0] * G.shape[0] for A, G in factors]
    grad = np.asarray(flat_vector(grad, "grad", sum(sizes)), dtype=float)
    pieces, start = [], 0
    for (A, G), size in zip(factors, sizes):
        damp_a, damp_g = _split_damping(A, G, damping, pi_correction)
        eig_a, vec_a = np.linalg.eigh(0.5 * (A + A.T) + damp_a * np.eye(A.shape[0]))
        eig_g, vec_g = np.linalg.eigh(0.5 * (G + G.T) + damp_g * np.eye(G.shape[0]))
        inverse_a = np.divide(1.0, eig_a, out=np.zeros_like(eig_a), where=_resolved_eigenvalues(eig_a, rtol))
        inverse_g = np.divide(1.0, eig_g, out=np.zeros_like(eig_g), where=_resolved_eigenvalues(eig_g, rtol))
        V = grad[start : start + size].reshape(A.shape[0], G.shape[0])
        pieces.append((vec_a @ ((vec_a.T @ V @ vec_g) * np.outer(inverse_a, inverse_g)) @ vec_g.T).ravel())
        start += size
    return np.concatenate(pieces)


def diagonal_direction(diagonal, grad, damping: float = 0.0) -> np.ndarray:
    r"""Solve the diagonal system :math:`(\mathrm{diag}(f) + \lambda I)\, d = g` entrywise: :math:`d_i = g_i / (f_i + \lambda)`.

    ``diagonal`` is :math:`f`, e.g. from :func:`diagonal_fisher`. With ``damping=0`` entries
    where :math:`f_i = 0` get :math:`d_i = 0` (the minimum-norm solution). Unlike the dense and
    K-FAC solves, this one needs no relative cutoff: each :math:`f_i` is a mean of squares,
    a sum without cancellation, so a tiny entry is a small number and not round-off; only an
    exact zero is a null direction (a feature that is zero on every row, whose gradient entry
    is zero too). Chapter 8.
    """
    diagonal = np.asarray(finite_array(diagonal, "diagonal"), dtype=float)
    if diagonal.ndim != 1:
        raise ValueError(f"diagonal: expected a flat vector, got shape {diagonal.shape}")
    if np.any(diagonal < 0):
        raise ValueError("diagonal: expected non-negative entries (a Fisher diagonal)")
    grad = np.asarray(flat_vector(grad, "grad", diagonal.size), dtype=float)
    nonnegative_finite(damping, "damping")
    denominator = diagonal + damping
    return np.divide(grad, denominator, out=np.zeros_like(grad), where=denominator > 0)
