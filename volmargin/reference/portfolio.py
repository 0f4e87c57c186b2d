"""Exact mirror of ``contracts/modules/portfolio.vy`` and of ``RiskOracle.portfolio_scales``
(docs/design.md §5.6): the pair word's codec and the portfolio scale of an account's haircuts.

With per-asset requirements ``u_i = v_i * h_i`` (WAD USD) summing to ``S``, the scale is
``lambda = clamp(sqrt(1 - 2 sum_{i<j} x_i x_j c_ij), floor, 1)`` with shares ``x_i = u_i / S``
and pair offsets ``c_ij``: ``1 - rho_hi`` for two legs of the same sign, ``1 + rho_lo`` for a
deposit against a borrow. Correlations are signed WAD ints; offsets, shares and lambda WAD.
Every division rounds as the contract's (shares and terms down, the square root up), so every
rounding raises lambda.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .risk_math import WAD, U, asset_value, initial_haircut, isqrt, liability_value

M128 = 2**128 - 1
#: The pair word of a pair never set: (-1, +1), no offset.
NO_PAIR = 0


def pack_pair(rho_lo: int, rho_hi: int) -> int:
    """portfolio._pack_pair: ``(1 - rho_hi) | (1 + rho_lo) << 128`` (WAD fields); the caller
    has checked ``-WAD <= rho_lo <= rho_hi <= WAD``."""
    return (U(WAD - rho_hi) | (U(WAD + rho_lo) << 128)) % 2**256  # Vyper's << drops bits past 256


def offset(w: int, same_sign: bool) -> int:
    """portfolio._offset: the same-sign offset ``1 - rho_hi`` or the opposite-sign one
    ``1 + rho_lo`` of pair word ``w``, WAD in [0, 2e18]."""
    return w & M128 if same_sign else w >> 128


def rho_bounds(w: int) -> tuple[int, int]:
    """(portfolio._rho_lo, portfolio._rho_hi) of pair word ``w``, signed WAD."""
    return (w >> 128) - WAD, WAD - (w & M128)


def share(u: int, total: int) -> int:
    """portfolio._share: ``u * 1e18 // total``, WAD (``total`` > 0)."""
    return U(u * WAD) // total


def pair_term(x_i: int, x_j: int, c: int) -> int:
    """portfolio._pair_term: ``x_i * x_j // 1e18 * c // 1e18``, WAD."""
    return U(U(x_i * x_j) // WAD * c) // WAD


def scale(reduction: int, floor: int) -> int:
    """portfolio._scale: ``clamp(ceil(sqrt((1 - 2 reduction) 1e18)), floor, 1e18)``; a
    reduction of half or more gives the floor. WAD."""
    q = U((WAD - 2 * reduction) * WAD) if U(2 * reduction) < WAD else 0
    s = isqrt(q)
    if s * s < q:
        s += 1
    return min(max(s, floor), WAD)


def scaled_haircut(h: int, lam: int) -> int:
    """portfolio._scaled_haircut: ``ceil(h * lambda / 1e18)``, WAD (lambda = 1e18 gives h)."""
    return U(h * lam + WAD - 1) // WAD


def portfolio_scales(legs: Sequence[str | None], balances: Sequence[int], decimals: Sequence[int],
                     conc: Sequence[int], views: Sequence[Any], pairs: dict[tuple[str, str], int],
                     floor: int) -> tuple[int, int]:
    """RiskOracle.portfolio_scales: (lambda_maint, lambda_init), WAD in [floor, 1e18].

    Per leg ``i`` (``legs[i]`` None: no leg): the signed balance ``balances[i]`` (token
    decimals ``decimals[i]``), the concentration haircut ``conc[i]`` of its asset (WAD; a
    deposit's only) and its oracle view ``views[i]`` (``RiskView``; read for legs with a
    non-zero balance). Requirements ``value * h // 1e18`` with the maintenance haircut and with
    ``initial_haircut``; ``pairs`` maps ``pair_key(a, b)`` to the pair word (absent:
    ``NO_PAIR``), and only legs whose asset has a pair word are paired (``RiskView.correlated``
    on chain: a leg without one has no offset with any other); ``floor`` is the oracle's
    ``portfolio_floor`` (1e18: off, both scales 1e18)."""
    if floor == WAD:
        return WAD, WAD
    n = len(legs)
    um, ui = [0] * n, [0] * n
    for i in range(n):
        if legs[i] is None or balances[i] == 0:
            continue
        r = views[i]
        if balances[i] > 0:
            v, c = asset_value(balances[i], r.price, decimals[i]), conc[i]
        else:
            v, c = liability_value(-balances[i], r.price, decimals[i]), 0
        um[i] = U(v * r.h_maint) // WAD
        ui[i] = U(v * initial_haircut(r.h_init, r.kappa, r.depth, v, c)) // WAD
    paired = [leg if leg is not None and correlated(leg, pairs) else None for leg in legs]
    return scales(paired, [b < 0 for b in balances], um, ui, pairs, floor)


def scales(legs: Sequence[str | None], borrows: Sequence[bool], um: Sequence[int], ui: Sequence[int],
           pairs: dict[tuple[str, str], int], floor: int) -> tuple[int, int]:
    """The arithmetic of ``portfolio_scales``: (lambda_maint, lambda_init), WAD, of the
    maintenance and initial requirements ``um``, ``ui`` (WAD USD, >= 0) of legs whose sides
    are ``borrows[i]`` (True: a borrow). Only legs named in ``legs`` (None: not paired) are
    paired; every leg's requirement counts in the sum."""
    sm, si = U(sum(um)), U(sum(ui))
    out = []
    n = len(legs)
    for u, total in ((um, sm), (ui, si)):
        red = 0
        for i in range(n):
            if um[i] | ui[i] == 0 or legs[i] is None:
                continue
            for j in range(i + 1, n):
                if um[j] | ui[j] == 0 or legs[j] is None:
                    continue
                c = offset(pairs.get(pair_key(legs[i], legs[j]), NO_PAIR),  # type: ignore[arg-type]
                           borrows[i] == borrows[j])
                if total != 0:
                    red += pair_term(share(u[i], total), share(u[j], total), c)
        out.append(scale(red, floor))
    return out[0], out[1]


def correlated(asset: str, pairs: dict[tuple[str, str], int]) -> bool:
    """RiskView.correlated: whether ``asset`` has a pair with an offset (a non-empty word)."""
    return any(w != NO_PAIR and asset in key for key, w in pairs.items())


def _order(asset: str) -> tuple[int, int, str]:
    return (0, int(asset, 16), "") if asset.startswith("0x") else (1, 0, asset)


def pair_key(a: str, b: str) -> tuple[str, str]:
    """RiskOracle._ordered: the pair's storage order, lower address (as a number) first (names
    that are not 0x addresses, as in hand-made references, after them in string order)."""
    return (a, b) if _order(a) < _order(b) else (b, a)
