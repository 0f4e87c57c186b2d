"""Exact integer mirror of the risk-math and rate modules (docs/design.md §2–§6).

Every function mirrors a Vyper function bit for bit on Python ints: the same
formula, the same order of operations, the same rounding (``//`` rounds down;
``ceil_div`` rounds up where the contract does), the same checked uint256
arithmetic (``ArithmeticError`` where Vyper reverts on overflow, underflow or
division by zero) and the same rejections (``Reject`` carrying the contract's
revert string, e.g. ``"vault: insufficient health"``).

Units: prices, haircuts, sigmas, rates and indices are WAD (1e18 = 1.0);
variances are WAD per second; USD values are WAD USD; token amounts are in
the token's own decimals; times are Unix seconds.

Mirrors ``contracts/modules/risk_math.vy`` and ``contracts/modules/rates.vy``.
"""

from __future__ import annotations

import math

# WAD, SECONDS_PER_YEAR, UINT256_MAX and VAR_CAP are defined with the parameter bounds that use them.
from ..spec import SECONDS_PER_YEAR, UINT256_MAX, VAR_CAP, WAD  # noqa: E402,F401

INT256_MAX = 2**255 - 1
INT256_MIN = -(2**255)
# RiskOracle stores an accepted price in 128 bits (WAD USD, about 3.4e20 USD
# per whole token): a larger one is refused with "oracle: price out of range".
MAX_PRICE = 2**128
# Largest |return| of an accepted round (RiskOracle.MAX_ABS_RETURN, WAD): a larger move is
# out of range (docs/design.md §7.2), so that ewma_var's abs_r**2 never overflows.
MAX_ABS_RETURN = 2**127 - 1

NORMAL, CAUTION, REDUCE_ONLY = 0, 1, 2
REASON_VOLATILITY, REASON_NON_POSITIVE, REASON_INCOMPLETE, REASON_STALE, REASON_JUMP = 0, 1, 2, 3, 4
REASON_OUT_OF_RANGE, REASON_DRAWDOWN = 5, 6
BREAKER_NAMES = {NORMAL: "NORMAL", CAUTION: "CAUTION", REDUCE_ONLY: "REDUCE_ONLY"}


class Reject(Exception):
    """A rejection with the contract's revert reason (e.g. ``"oracle: stale price"``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def require(cond: bool, reason: str) -> None:
    """Raise ``Reject(reason)`` unless ``cond`` (Vyper ``assert cond, reason``)."""
    if not cond:
        raise Reject(reason)


def U(x: int) -> int:
    """Check that ``x`` is a uint256 (Vyper reverts otherwise)."""
    if x < 0 or x > UINT256_MAX:
        raise ArithmeticError("uint256 overflow/underflow")
    return x


def I(x: int) -> int:  # noqa: E743 - mirrors int256
    """Check that ``x`` is an int256."""
    if x < INT256_MIN or x > INT256_MAX:
        raise ArithmeticError("int256 overflow")
    return x


def div(a: int, b: int) -> int:
    """uint256 division rounding down; division by zero raises ``ArithmeticError``."""
    if b == 0:
        raise ArithmeticError("division by zero")
    return a // b


def pow10(d: int) -> int:
    """10**d as a uint256 (Vyper reverts for d > 77)."""
    if d > 77:
        raise ArithmeticError("uint256 overflow in 10**d")
    return 10**d


def ceil_div(x: int, d: int) -> int:
    """Vyper's ``(x + d - 1) // d`` on uint256, rounding up: evaluated left to right, so the
    intermediate ``x + d`` must fit in a uint256 too (it reverts at ``x = 2**256 - d``, where
    ``x + d - 1`` alone would fit); division by zero raises ``ArithmeticError``."""
    return div(U(U(U(x) + d) - 1), d)


def isqrt(x: int) -> int:
    """Vyper ``isqrt``: floor square root of a uint256."""
    return math.isqrt(U(x))


# ----------------------------------------------------------------- risk_math.vy


def abs_return(p0: int, p: int) -> int:
    """|p - p0| / p0, WAD, rounded down (docs/design.md §3). ``risk_math._abs_return``."""
    if p >= p0:
        return div(U(U(p - p0) * WAD), p0)
    return div(U(U(p0 - p) * WAD), p0)


def ewma_var(var: int, abs_r: int, dt: int, tau: int) -> int:
    """EWMA variance update, WAD per second (docs/design.md §3). ``risk_math._ewma_var``.

    lam = tau*1e18 // (tau+dt); var' = (lam*var + (1e18-lam) * (r*r//1e18) // dt) // 1e18.
    """
    lam = div(U(tau * WAD), U(tau + dt))
    return div(U(U(lam * var) + div(U(U(U(WAD - lam) * div(U(abs_r * abs_r), WAD))), dt)), WAD)


def clamp(x: int, lo: int, hi: int) -> int:
    """max(lo, min(x, hi))."""
    return max(lo, min(x, hi))


def sigma(var: int, horizon: int) -> int:
    """isqrt(var * horizon * 1e18): sigma over ``horizon`` seconds, WAD (docs/design.md §3)."""
    return isqrt(U(U(var * horizon) * WAD))


def haircut(h0: int, z: int, sig: int, h_min: int, h_max: int) -> int:
    """clamp(h0 + ceil(z*sigma/1e18), h_min, h_max), WAD (docs/design.md §4)."""
    return clamp(U(h0 + ceil_div(z * sig, WAD)), h_min, h_max)


def ramp(current: int, target: int, elapsed: int, up: int, down: int) -> int:
    """Maintenance haircut moved toward ``target`` at most up/down WAD per second (docs/design.md §4)."""
    if target >= current:
        return min(target, U(current + U(up * elapsed)))
    step = U(down * elapsed)
    if current - target <= step:
        return target
    return current - step


def size_haircut(kappa: int, depth: int, val: int) -> int:
    """ceil(kappa * isqrt(value*1e18/depth*1e18) / 1e18), WAD (docs/design.md §4, Drift-style size term).

    value/depth is a WAD number; one more 1e18 makes isqrt return sqrt(value/depth) in WAD.
    """
    if kappa == 0 or depth == 0:
        return 0
    return ceil_div(kappa * isqrt(U(div(U(val * WAD), depth) * WAD)), WAD)


def initial_haircut(h_init: int, kappa: int, depth: int, val: int, conc: int) -> int:
    """risk_math._initial_haircut: ``min(h_init + size_haircut(kappa, depth, val) + conc, 1e18)``, WAD
    (docs/design.md §4.3): a position's initial haircut with its size add-on and, for a deposit,
    its asset's concentration haircut ``conc`` (0 for a borrow)."""
    return min(U(h_init + size_haircut(kappa, depth, val) + conc), WAD)


def asset_value(amount: int, price: int, decimals: int) -> int:
    """amount * price / 10**decimals rounded down, WAD USD."""
    return div(U(amount * price), pow10(decimals))


def liability_value(amount: int, price: int, decimals: int) -> int:
    """amount * price / 10**decimals rounded up, WAD USD."""
    unit = pow10(decimals)
    return ceil_div(amount * price, unit)


def weighted_asset(val: int, h: int) -> int:
    """value * (1 - h) rounded down; 0 when h >= 1."""
    if h >= WAD:
        return 0
    return div(U(val * (WAD - h)), WAD)


def weighted_liability(val: int, h: int) -> int:
    """value * (1 + h) rounded up."""
    return ceil_div(val * U(WAD + h), WAD)


def health_factor(assets: int, liabilities: int) -> int:
    """assets / liabilities, WAD; UINT256_MAX without debt (docs/design.md §5)."""
    if liabilities == 0:
        return UINT256_MAX
    return div(U(assets * WAD), liabilities)


def bonus(assets: int, liabilities: int, bonus_min: int, bonus_slope: int, bonus_max: int) -> int:
    """min(bonus_min + bonus_slope * shortfall, bonus_max), WAD (docs/design.md §6)."""
    shortfall = 0
    if liabilities > assets:
        shortfall = div(U((liabilities - assets) * WAD), liabilities)
    return min(U(bonus_min + div(U(bonus_slope * shortfall), WAD)), bonus_max)


def max_repay(
    debt: int, debt_price: int, debt_decimals: int, hf: int, close_factor: int, hf_full: int, min_debt_value: int
) -> int:
    """Largest repayment on one debt asset, token decimals (docs/design.md §6)."""
    if hf < hf_full:
        return debt
    cap = div(U(debt * close_factor), WAD)
    if liability_value(U(debt - cap), debt_price, debt_decimals) < min_debt_value:
        return debt
    return cap


def seize_amount(repay: int, debt_price: int, debt_dec: int, col_price: int, col_dec: int, bon: int) -> int:
    """Collateral for a repayment, rounded down, collateral decimals (docs/design.md §6)."""
    val = asset_value(repay, debt_price, debt_dec)
    return div(U(div(U(val * U(WAD + bon)), WAD) * pow10(col_dec)), col_price)


def repay_for_seize(seize: int, debt_price: int, debt_dec: int, col_price: int, col_dec: int, bon: int) -> int:
    """Repayment buying ``seize`` collateral, rounded up, debt decimals (docs/design.md §6)."""
    val = asset_value(seize, col_price, col_dec)
    unit = pow10(debt_dec)
    return ceil_div(div(U(val * WAD), U(WAD + bon)) * unit, debt_price)


# --------------------------------------------------------------------- rates.vy


def utilization(deposits: int, borrows: int) -> int:
    """borrows / deposits capped at 1, WAD; 0 without deposits."""
    if deposits == 0:
        return 0
    return min(div(U(borrows * WAD), deposits), WAD)


def borrow_rate(u: int, base: int, slope1: int, slope2: int, kink: int) -> int:
    """Kinked rate model, WAD per year (docs/design.md §2)."""
    rate = U(base + div(U(slope1 * min(u, kink)), kink))
    if u > kink:
        rate = U(rate + div(U(slope2 * (u - kink)), U(WAD - kink)))
    return rate


def grow_index(index: int, rate_per_year: int, dt: int) -> int:
    """index + ceil(index * (rate/31_536_000) * dt / 1e18), WAD."""
    rate_s = rate_per_year // SECONDS_PER_YEAR
    return U(index + ceil_div(U(index * rate_s) * dt, WAD))


