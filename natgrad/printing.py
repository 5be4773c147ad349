"""How the chapters print a number whose digits are round-off.

A residual of a check that holds exactly in exact arithmetic (a closed form against autograd,
a matrix-free product against a dense one) comes out at the size of float64's round-off, and
its digits depend on the machine's arithmetic and the order of its sums. The chapters print
such a value as the bound it lies below, so that the printed text, which nbval compares, is
the same on every machine; a value above the bound is printed with its digits, because then
its size is the point. Chapters 1, 2 and 4 introduce the convention.
"""

from __future__ import annotations

from natgrad._checks import nonnegative_finite, positive_finite


def residual(value: float, bound: float = 1e-12) -> str:
    r"""``value`` as ``"1.2e-05"``, or as ``"below 1e-12"`` when :math:`|\,\text{value}\,| < \text{bound}`.

    ``value`` is the size of a residual (a norm or a largest absolute difference), so it must be
    finite and non-negative; ``bound`` must be positive.
    """
    number = float(nonnegative_finite(value, "value"))
    bound = float(positive_finite(bound, "bound"))
    return f"{number:.1e}" if number >= bound else f"below {bound:.0e}"
