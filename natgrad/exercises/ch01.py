r"""Self-check for chapter 1, gradient descent and its units problem.

:func:`check_stability_limit` tests a reader's function ``limit(H)`` that returns the
largest learning rate for which gradient descent on :math:`\tfrac12 \theta^\top H \theta`
converges from every start, :math:`2 / \omega_{\max}(H)`, and names the usual mistakes.
"""

from __future__ import annotations

import numpy as np

from natgrad.exercises._verdict import Verdict, call_on_copies, forgiving, verdict

_RTOL = 1e-8


def _cases() -> list[np.ndarray]:
    """Symmetric positive definite matrices: the chapter's shape, a diagonal one, an ill-conditioned 4x4."""
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    return [
        np.array([[1.0, 3.4], [3.4, 104.0]]),
        np.diag([0.5, 7.0, 2.0]),
        Q @ np.diag([1e-3, 0.2, 5.0, 40.0]) @ Q.T,
    ]


def _diagnose(answer: float, H: np.ndarray) -> str:
    eigenvalues = np.linalg.eigvalsh(H)
    mistakes = {
        "1 / omega_max: the error along the stiff direction is multiplied by 1 - eta omega_max, which stays "
        "inside (-1, 1) up to eta = 2 / omega_max, not 1 / omega_max": 1.0 / eigenvalues[-1],
        "2 / omega_min: the binding constraint comes from the largest eigenvalue, not the smallest": 2.0 / eigenvalues[0],
        "2 / trace(H): the trace adds every eigenvalue; only the largest matters": 2.0 / np.trace(H),
        "2 / max(diag(H)): the diagonal entries are not the eigenvalues unless H is diagonal": 2.0 / np.max(np.diag(H)),
        "2 * omega_max: the limit is the inverse of the curvature": 2.0 * eigenvalues[-1],
    }
    for hint, value in mistakes.items():
        if np.isclose(answer, value, rtol=1e-6):
            return f"Your answer looks like {hint}."
    return f"For this H the limit is not {answer:.6g}. Write theta_(t+1) - theta* = (I - eta H) (theta_t - theta*) in the eigenvectors of H."


@forgiving
def check_stability_limit(limit_fn) -> Verdict:
    """Check ``limit_fn(H) -> float`` against :math:`2/\\omega_{\\max}(H)` on a few SPD matrices.

    Prints and returns a verdict; never raises. Chapter 1.
    """
    if not callable(limit_fn):
        return verdict(False, "", "Pass your function itself, e.g. check_stability_limit(my_limit), without calling it.")
    for H in _cases():
        answer, hint = call_on_copies(limit_fn, (H,))
        if hint is not None:
            return verdict(False, "", hint)
        answer = np.asarray(answer, dtype=float)
        if answer.shape not in ((), (1,)) or not np.isfinite(answer).all():
            return verdict(False, "", f"Expected one finite number (a learning rate), got {answer!r}.")
        answer = float(answer.reshape(()))
        if not np.isclose(answer, 2.0 / np.linalg.eigvalsh(H)[-1], rtol=_RTOL, atol=0.0):
            return verdict(False, "", _diagnose(answer, H))
    return verdict(True, "Gradient descent converges exactly when eta < 2 / omega_max(H): the stiffest direction sets the limit.", "")
