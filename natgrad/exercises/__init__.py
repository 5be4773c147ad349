"""Self-checks for the coding exercises, one module per chapter.

Each ``check_...`` function takes the reader's answer, prints a friendly verdict and
returns a :class:`~natgrad.exercises._verdict.Verdict` (truthy when correct). A wrong or
malformed answer never raises: the verdict says what to look at instead.
"""

from natgrad.exercises._verdict import Verdict

__all__ = ["Verdict"]
