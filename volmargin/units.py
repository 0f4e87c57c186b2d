"""Unit conversions between human numbers and the contracts' fixed-point integers.

Prices go into a Chainlink-style feed as integers with the feed's decimals (8
for USD feeds); WAD is 1e18 fixed point (docs/design.md §1).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal


def to_feed_answer(x: float, decimals: int = 8) -> int:
    """A USD price as a fixed-point integer with ``decimals`` decimals.

    The price is taken at its shortest decimal representation (``repr``), so
    ``to_feed_answer(194.57) == 19_457_000_000`` exactly, and rounded to the
    nearest integer (ties to even).

    Parameters
    ----------
    x : float
        USD per whole token, finite and >= 0.
    decimals : int
        Decimals of the answer (8 for a Chainlink USD feed), >= 0.

    Raises
    ------
    ValueError
        For a non-finite or negative price, or negative ``decimals``.
    """
    x = float(x)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"price must be a finite non-negative number, got {x!r}")
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals}")
    return int((Decimal(repr(x)).scaleb(decimals)).to_integral_value(rounding=ROUND_HALF_EVEN))


def to_wad(x: float) -> int:
    """A non-negative number (a USD price or value, a fraction, a multiple) as an 18-decimal
    fixed-point integer (WAD, 1e18 = 1.0), taken at its shortest decimal representation and
    rounded to nearest, so ``to_wad(50e6) == 50_000_000 * 10**18`` exactly (``int(50e6 * 1e18)``
    is off by 2.4e9); ``ValueError`` for a non-finite or negative number."""
    return to_feed_answer(x, 18)


def correlation_to_wad(value: object) -> int:
    """A correlation in [-1, 1] (a number or its text, e.g. ``"0.34"``) as a signed WAD, taken
    exactly at its decimal representation (``"0.34"`` is 34e16). ``ValueError`` naming the value
    for anything else (not a number, not finite, outside [-1, 1], finer than 1e-18)."""
    try:
        d = Decimal(str(value).strip())
    except (ArithmeticError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    if not d.is_finite() or not -1 <= d <= 1:
        raise ValueError(f"{value} is not a correlation in [-1, 1]")
    w = d.scaleb(18)
    if w != w.to_integral_value():
        raise ValueError(f"{value} has more than 18 decimals")
    return int(w)
