"""Exact integer mirror of ``contracts/modules/shares.vy``: scaled balances ("shares") and
token amounts at a WAD index (docs/design.md §2), as Morpho's SharesMathLib.

Rounding favours the vault: a deposit's amount and a deposit's shares round down (the
depositor gets the smaller balance), a borrow's amount and a borrow's shares round up (the
borrower owes the larger debt). Amounts are token decimals, indices WAD, shares in index
scale. Every intermediate is checked as uint256, left to right as Vyper evaluates it
(``ArithmeticError`` where the contract reverts, a zero index included).
"""

from __future__ import annotations

from .risk_math import WAD, U, ceil_div, div

__all__ = ["to_assets_down", "to_assets_up", "to_shares_down", "to_shares_up"]


def to_assets_down(shares: int, index: int) -> int:
    """shares.vy ``_to_assets_down``: ``shares * index / WAD`` rounded down (deposit
    balances and totals), token decimals."""
    return div(U(shares * index), WAD)


def to_assets_up(shares: int, index: int) -> int:
    """shares.vy ``_to_assets_up``: ``shares * index / WAD`` rounded up (borrow balances
    and totals), token decimals."""
    return ceil_div(U(shares * index), WAD)


def to_shares_down(assets: int, index: int) -> int:
    """shares.vy ``_to_shares_down``: ``assets * WAD / index`` rounded down (a deposit's
    scaled balance)."""
    return div(U(assets * WAD), index)


def to_shares_up(assets: int, index: int) -> int:
    """shares.vy ``_to_shares_up``: ``assets * WAD / index`` rounded up (a borrow's scaled
    balance)."""
    return ceil_div(U(assets * WAD), index)
