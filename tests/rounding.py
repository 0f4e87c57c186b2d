"""Rounding for the by-hand figures of the unit tests."""

from __future__ import annotations


def ceil_div(a: int, b: int) -> int:
    """``a / b`` rounded up, for ``a >= 0`` and ``b > 0``: the contracts' ``(a + b - 1) // b``
    (the reference, volmargin.reference, writes it inline the same way); ``ZeroDivisionError``
    for ``b == 0``."""
    return -(-a // b)
