"""The chapter 1 self-check accepts the reference answer, names typical mistakes and never raises."""

from __future__ import annotations

import numpy as np
import pytest

from natgrad.exercises import ch01


def reference(H):
    """Independent reference: 2 over the largest eigenvalue, found by power iteration."""
    v = np.ones(H.shape[0])
    for _ in range(5000):
        v = H @ v
        v /= np.linalg.norm(v)
    return 2.0 / (v @ H @ v)


def test_accepts_the_reference(capsys):
    assert ch01.check_stability_limit(reference)
    assert ch01.check_stability_limit(lambda H: 2.0 / np.linalg.eigvalsh(H).max())
    assert capsys.readouterr().out.startswith("Correct.")


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda H: 1.0 / np.linalg.eigvalsh(H).max(), "1 / omega_max"),
        (lambda H: 2.0 / np.linalg.eigvalsh(H).min(), "2 / omega_min"),
        (lambda H: 2.0 / np.trace(H), "trace"),
        (lambda H: 2.0 / np.diag(H).max(), "diagonal"),
        (lambda H: 2.0 * np.linalg.eigvalsh(H).max(), "inverse of the curvature"),
        (lambda H: 1.7, "not"),
        (lambda H: None, "returned None"),
        (lambda H: np.array([1.0, 2.0]), "one finite number"),
        (lambda H: float("nan"), "one finite number"),
    ],
)
def test_rejects_typical_mistakes_with_a_hint(wrong, hint, capsys):
    result = ch01.check_stability_limit(wrong)
    assert not result
    assert hint in capsys.readouterr().out


def test_never_raises_on_broken_answers(capsys):
    def crashes(H):
        raise RuntimeError("boom")

    def edits_in_place(H):
        H *= 2.0
        return 2.0 / np.linalg.eigvalsh(H).max()

    assert not ch01.check_stability_limit(crashes)
    assert not ch01.check_stability_limit(edits_in_place)
    assert not ch01.check_stability_limit(3.0)
    out = capsys.readouterr().out
    assert "boom" in out and "in place" in out and "without calling it" in out
