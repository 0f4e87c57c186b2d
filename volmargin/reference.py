"""Exact integer reference of the volmargin contracts (DESIGN §2–§7).

Every function mirrors a Vyper function bit for bit on Python ints: the same
formula, the same order of operations, the same rounding (``//`` rounds down;
``_ceil_div`` rounds up where the contract does), the same checked uint256
arithmetic (``ArithmeticError`` where Vyper reverts on overflow, underflow or
division by zero) and the same rejections (``Reject`` carrying the contract's
revert string, e.g. ``"vault: insufficient health"``).

Units: prices, haircuts, sigmas, rates and indices are WAD (1e18 = 1.0);
variances are WAD per second; USD values are WAD USD; token amounts are in
the token's own decimals; times are Unix seconds.

Mirrors:
  * risk math:   ``contracts/modules/risk_math.vy``
  * rates:       ``contracts/modules/rates.vy``
  * ``OracleRef``: ``contracts/RiskOracle.vy``
  * ``VaultRef``:  ``contracts/MarginVault.vy``
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

WAD = 10**18
SECONDS_PER_YEAR = 31_536_000
UINT256_MAX = 2**256 - 1
INT256_MAX = 2**255 - 1
INT256_MIN = -(2**255)
VAR_CAP = 10**36
# RiskOracle stores an accepted price in 192 bits (WAD USD, about 6.3e39 USD
# per whole token): a larger one is refused with "oracle: price out of range".
MAX_PRICE = 2**192

NORMAL, CAUTION, REDUCE_ONLY = 0, 1, 2
REASON_VOLATILITY, REASON_NON_POSITIVE, REASON_INCOMPLETE, REASON_STALE, REASON_JUMP = 0, 1, 2, 3, 4
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


def isqrt(x: int) -> int:
    """Vyper ``isqrt``: floor square root of a uint256."""
    return math.isqrt(U(x))


# ----------------------------------------------------------------- risk_math.vy


def abs_return(p0: int, p: int) -> int:
    """|p - p0| / p0, WAD, rounded down (DESIGN §3). ``risk_math._abs_return``."""
    if p >= p0:
        return div(U(U(p - p0) * WAD), p0)
    return div(U(U(p0 - p) * WAD), p0)


def ewma_var(var: int, abs_r: int, dt: int, tau: int) -> int:
    """EWMA variance update, WAD per second (DESIGN §3). ``risk_math._ewma_var``.

    lam = tau*1e18 // (tau+dt); var' = (lam*var + (1e18-lam) * (r*r//1e18) // dt) // 1e18.
    """
    lam = div(U(tau * WAD), U(tau + dt))
    return div(U(U(lam * var) + div(U(U(U(WAD - lam) * div(U(abs_r * abs_r), WAD))), dt)), WAD)


def clamp(x: int, lo: int, hi: int) -> int:
    """max(lo, min(x, hi))."""
    return max(lo, min(x, hi))


def sigma(var: int, horizon: int) -> int:
    """isqrt(var * horizon * 1e18): sigma over ``horizon`` seconds, WAD (DESIGN §3)."""
    return isqrt(U(U(var * horizon) * WAD))


def haircut(h0: int, z: int, sig: int, h_min: int, h_max: int) -> int:
    """clamp(h0 + ceil(z*sigma/1e18), h_min, h_max), WAD (DESIGN §4)."""
    return clamp(U(h0 + div(U(U(z * sig) + WAD - 1), WAD)), h_min, h_max)


def ramp(current: int, target: int, elapsed: int, up: int, down: int) -> int:
    """Maintenance haircut moved toward ``target`` at most up/down WAD per second (DESIGN §4)."""
    if target >= current:
        return min(target, U(current + U(up * elapsed)))
    step = U(down * elapsed)
    if current - target <= step:
        return target
    return current - step


def size_haircut(kappa: int, depth: int, val: int) -> int:
    """ceil(kappa * isqrt(value*1e18/depth*1e18) / 1e18), WAD (DESIGN §4, Drift-style size term).

    value/depth is a WAD number; one more 1e18 makes isqrt return sqrt(value/depth) in WAD.
    """
    if kappa == 0 or depth == 0:
        return 0
    return div(U(U(kappa * isqrt(U(div(U(val * WAD), depth) * WAD))) + WAD - 1), WAD)


def asset_value(amount: int, price: int, decimals: int) -> int:
    """amount * price / 10**decimals rounded down, WAD USD."""
    return div(U(amount * price), pow10(decimals))


def liability_value(amount: int, price: int, decimals: int) -> int:
    """amount * price / 10**decimals rounded up, WAD USD."""
    unit = pow10(decimals)
    return div(U(U(amount * price) + unit - 1), unit)


def weighted_asset(val: int, h: int) -> int:
    """value * (1 - h) rounded down; 0 when h >= 1."""
    if h >= WAD:
        return 0
    return div(U(val * (WAD - h)), WAD)


def weighted_liability(val: int, h: int) -> int:
    """value * (1 + h) rounded up."""
    return div(U(U(val * U(WAD + h)) + WAD - 1), WAD)


def health_factor(assets: int, liabilities: int) -> int:
    """assets / liabilities, WAD; UINT256_MAX without debt (DESIGN §5)."""
    if liabilities == 0:
        return UINT256_MAX
    return div(U(assets * WAD), liabilities)


def bonus(assets: int, liabilities: int, bonus_min: int, bonus_slope: int, bonus_max: int) -> int:
    """min(bonus_min + bonus_slope * shortfall, bonus_max), WAD (DESIGN §6)."""
    shortfall = 0
    if liabilities > assets:
        shortfall = div(U((liabilities - assets) * WAD), liabilities)
    return min(U(bonus_min + div(U(bonus_slope * shortfall), WAD)), bonus_max)


def max_repay(
    debt: int, debt_price: int, debt_decimals: int, hf: int, close_factor: int, hf_full: int, min_debt_value: int
) -> int:
    """Largest repayment on one debt asset, token decimals (DESIGN §6)."""
    if hf < hf_full:
        return debt
    cap = div(U(debt * close_factor), WAD)
    if liability_value(U(debt - cap), debt_price, debt_decimals) < min_debt_value:
        return debt
    return cap


def seize_amount(repay: int, debt_price: int, debt_dec: int, col_price: int, col_dec: int, bon: int) -> int:
    """Collateral for a repayment, rounded down, collateral decimals (DESIGN §6)."""
    val = asset_value(repay, debt_price, debt_dec)
    return div(U(div(U(val * U(WAD + bon)), WAD) * pow10(col_dec)), col_price)


def repay_for_seize(seize: int, debt_price: int, debt_dec: int, col_price: int, col_dec: int, bon: int) -> int:
    """Repayment buying ``seize`` collateral, rounded up, debt decimals (DESIGN §6)."""
    val = asset_value(seize, col_price, col_dec)
    unit = pow10(debt_dec)
    return div(U(U(div(U(val * WAD), U(WAD + bon)) * unit) + debt_price - 1), debt_price)


# --------------------------------------------------------------------- rates.vy


def utilization(deposits: int, borrows: int) -> int:
    """borrows / deposits capped at 1, WAD; 0 without deposits."""
    if deposits == 0:
        return 0
    return min(div(U(borrows * WAD), deposits), WAD)


def borrow_rate(u: int, base: int, slope1: int, slope2: int, kink: int) -> int:
    """Kinked rate model, WAD per year (DESIGN §2)."""
    rate = U(base + div(U(slope1 * min(u, kink)), kink))
    if u > kink:
        rate = U(rate + div(U(slope2 * (u - kink)), U(WAD - kink)))
    return rate


def grow_index(index: int, rate_per_year: int, dt: int) -> int:
    """index + ceil(index * (rate/31_536_000) * dt / 1e18), WAD."""
    rate_s = rate_per_year // SECONDS_PER_YEAR
    return U(index + div(U(U(U(index * rate_s) * dt) + WAD - 1), WAD))


# ---------------------------------------------------------------- RiskOracle.vy

# Parameter indices (RiskOracle.P_*).
(
    P_HEARTBEAT,
    P_GRACE,
    P_TAU_FAST,
    P_TAU_SLOW,
    P_HORIZON,
    P_Z_MAINT,
    P_Z_INIT,
    P_H0,
    P_H_MIN,
    P_H_MAX,
    P_RAMP_UP,
    P_RAMP_DOWN,
    P_VAR_MIN,
    P_VAR_MAX,
    P_K_JUMP,
    P_R_FLOOR,
    P_COOLDOWN,
    P_SIGMA_CAUTION,
    P_KAPPA,
    P_DEPTH,
) = range(20)
ORACLE_PARAM_NAMES = (
    "heartbeat grace tau_fast tau_slow horizon z_maint z_init h0 h_min h_max ramp_up ramp_down "
    "var_min var_max k_jump r_floor cooldown sigma_caution kappa depth"
).split()


@dataclass
class FeedRound:
    """One AggregatorV3 ``latestRoundData`` answer."""

    round_id: int
    answer: int  # feed decimals, signed
    updated_at: int  # s
    answered_in_round: int


@dataclass
class AssetState:
    """RiskOracle.AssetState."""

    feed_scale: int
    price: int
    updated_at: int
    var_fast: int
    var_slow: int
    h_maint: int
    h_target: int
    h_time: int
    breaker: int = NORMAL
    tripped_at: int = 0
    invalid: bool = False


@dataclass(frozen=True)
class RiskView:
    """RiskOracle.RiskView: what the vault reads per asset."""

    price: int
    h_maint: int
    h_init: int
    kappa: int
    depth: int
    breaker: int


def check_oracle_params(p: list[int]) -> None:
    """RiskOracle._check_params."""
    require(p[P_HEARTBEAT] > 0, "oracle: bad params")
    require(p[P_TAU_FAST] > 0 and p[P_TAU_SLOW] > 0 and p[P_HORIZON] > 0, "oracle: bad params")
    require(p[P_H_MIN] <= p[P_H_MAX] and p[P_H_MAX] <= WAD and p[P_H0] <= WAD, "oracle: bad params")
    require(p[P_Z_MAINT] <= p[P_Z_INIT], "oracle: bad params")
    require(p[P_VAR_MIN] <= p[P_VAR_MAX] and p[P_VAR_MAX] <= VAR_CAP, "oracle: bad params")
    require(p[P_HORIZON] <= SECONDS_PER_YEAR and p[P_Z_INIT] <= 100 * WAD, "oracle: bad params")
    # the contract's storage packing widths
    require(max(p[P_HEARTBEAT], p[P_GRACE], p[P_RAMP_UP], p[P_RAMP_DOWN]) < 2**64, "oracle: bad params")
    require(max(p[P_TAU_FAST], p[P_TAU_SLOW], p[P_COOLDOWN]) < 2**64, "oracle: bad params")
    require(p[P_KAPPA] < 2**96 and p[P_DEPTH] < 2**160, "oracle: bad params")
    require(p[P_K_JUMP] < 2**128 and p[P_R_FLOOR] < 2**128, "oracle: bad params")


@dataclass
class OracleRef:
    """Mirror of RiskOracle.vy: per-asset EWMA variances, ramped haircuts and breakers."""

    assets: dict[str, AssetState] = field(default_factory=dict)
    params: dict[str, list[int]] = field(default_factory=dict)
    n_tripped: int = 0

    def list_asset(self, asset: str, feed_decimals: int, rnd: FeedRound, var_seed: int, params: list[int], now: int) -> None:
        """RiskOracle.list_asset (role checks are the contract's)."""
        require(asset not in self.assets, "oracle: already listed")
        check_oracle_params(params)
        require(feed_decimals <= 18, "oracle: feed decimals > 18")
        scale = 10 ** (18 - feed_decimals)
        price, updated_at, reason = self._read_feed(rnd, scale, now)
        require(reason == 0, "oracle: invalid price")
        require(U(now - updated_at) <= params[P_HEARTBEAT] + params[P_GRACE], "oracle: stale price")
        require(price < MAX_PRICE, "oracle: price out of range")
        var = clamp(var_seed, params[P_VAR_MIN], params[P_VAR_MAX])
        h = haircut(params[P_H0], params[P_Z_MAINT], sigma(var, params[P_HORIZON]), params[P_H_MIN], params[P_H_MAX])
        self.params[asset] = list(params)
        self.assets[asset] = AssetState(scale, price, updated_at, var, var, h, h, now)

    @staticmethod
    def _read_feed(rnd: FeedRound, scale: int, now: int) -> tuple[int, int, int]:
        if rnd.answer <= 0:
            return 0, rnd.updated_at, REASON_NON_POSITIVE
        if rnd.updated_at == 0 or rnd.answered_in_round < rnd.round_id or rnd.updated_at > now:
            return 0, rnd.updated_at, REASON_INCOMPLETE
        return U(rnd.answer * scale), rnd.updated_at, 0

    def _set_breaker(self, s: AssetState, new_state: int) -> None:
        if new_state == s.breaker:
            return
        if new_state == REDUCE_ONLY:
            self.n_tripped += 1
        elif s.breaker == REDUCE_ONLY:
            self.n_tripped -= 1
        s.breaker = new_state

    def _trip(self, s: AssetState, now: int) -> None:
        self._set_breaker(s, REDUCE_ONLY)
        s.tripped_at = now

    def poke(self, asset: str, rnd: FeedRound, now: int) -> None:
        """RiskOracle.poke: ``rnd`` is the feed's latestRoundData at ``now``."""
        require(asset in self.assets, "oracle: asset not listed")
        s = replace(self.assets[asset])
        p = self.params[asset]
        price, updated_at, reason = self._read_feed(rnd, s.feed_scale, now)
        if reason == 0 and now - updated_at > p[P_HEARTBEAT] + p[P_GRACE]:
            reason = REASON_STALE
        if reason != 0:
            s.invalid = True
            self._trip(s, now)
            self.assets[asset] = s
            return
        jump = False
        if updated_at > s.updated_at:
            dt = updated_at - s.updated_at
            r = abs_return(s.price, price)
            sigma_dt = sigma(max(s.var_fast, s.var_slow), dt)
            jump = r > U(div(U(p[P_K_JUMP] * sigma_dt), WAD) + p[P_R_FLOOR])
            s.var_fast = clamp(ewma_var(s.var_fast, r, dt, p[P_TAU_FAST]), p[P_VAR_MIN], p[P_VAR_MAX])
            s.var_slow = clamp(ewma_var(s.var_slow, r, dt, p[P_TAU_SLOW]), p[P_VAR_MIN], p[P_VAR_MAX])
            s.price = price
            s.updated_at = updated_at
        s.invalid = False
        s.h_maint = ramp(s.h_maint, s.h_target, U(now - s.h_time), p[P_RAMP_UP], p[P_RAMP_DOWN])
        s.h_time = now
        var = max(s.var_fast, s.var_slow)
        s.h_target = haircut(p[P_H0], p[P_Z_MAINT], sigma(var, p[P_HORIZON]), p[P_H_MIN], p[P_H_MAX])
        if jump:
            self._trip(s, now)
        else:
            cooldown = p[P_COOLDOWN]
            if s.breaker != REDUCE_ONLY or now >= s.tripped_at + cooldown:
                hot = sigma(var, SECONDS_PER_YEAR) > p[P_SIGMA_CAUTION]
                cooling = s.tripped_at != 0 and now < s.tripped_at + 2 * cooldown
                self._set_breaker(s, CAUTION if (hot or cooling) else NORMAL)
        require(s.price < MAX_PRICE, "oracle: price out of range")  # the contract's storage width
        self.assets[asset] = s

    def set_param(self, asset: str, param: int, new_value: int, now: int) -> None:
        """RiskOracle.set_param after the steward's checks (role, bound and delay
        are the contract's): brings the ramped maintenance haircut to ``now``
        under the old ramp speeds, then sets the parameter (DESIGN §4, §8).

        Raises Reject "oracle: asset not listed", "oracle: unknown param",
        "oracle: bad params"; the state is untouched on a rejection."""
        require(asset in self.assets, "oracle: asset not listed")
        require(0 <= param < len(self.params[asset]), "oracle: unknown param")
        p = list(self.params[asset])
        p[param] = new_value
        check_oracle_params(p)
        s = replace(self.assets[asset])
        s.h_maint = self.h_maint_now(asset, now)
        s.h_time = now
        self.assets[asset] = s
        self.params[asset] = p

    def h_maint_now(self, asset: str, now: int) -> int:
        """Maintenance haircut in force at ``now`` (ramped lazily), WAD."""
        s, p = self.assets[asset], self.params[asset]
        return ramp(s.h_maint, s.h_target, U(now - s.h_time), p[P_RAMP_UP], p[P_RAMP_DOWN])

    def h_init(self, asset: str) -> int:
        """Initial haircut without the size term, WAD."""
        s, p = self.assets[asset], self.params[asset]
        return haircut(
            p[P_H0], p[P_Z_INIT], sigma(max(s.var_fast, s.var_slow), p[P_HORIZON]), p[P_H_MIN], p[P_H_MAX]
        )

    def risk(self, asset: str, now: int) -> RiskView:
        """RiskOracle.risk: rejects unlisted, invalid and stale prices."""
        require(asset in self.assets, "oracle: asset not listed")
        s, p = self.assets[asset], self.params[asset]
        require(not s.invalid, "oracle: invalid price")
        require(U(now - s.updated_at) <= p[P_HEARTBEAT] + p[P_GRACE], "oracle: stale price")
        return RiskView(s.price, self.h_maint_now(asset, now), self.h_init(asset), p[P_KAPPA], p[P_DEPTH], s.breaker)

    def sigma(self, asset: str, horizon: int) -> int:
        """RiskOracle.sigma: WAD sigma over ``horizon`` seconds."""
        require(asset in self.assets, "oracle: asset not listed")
        s = self.assets[asset]
        return sigma(max(s.var_fast, s.var_slow), horizon)


# ---------------------------------------------------------------- MarginVault.vy

(
    V_CLOSE_FACTOR,
    V_HF_FULL,
    V_MIN_DEBT_VALUE,
    V_BONUS_MIN,
    V_BONUS_SLOPE,
    V_BONUS_MAX,
    V_INSURANCE_SHARE,
    V_LIQ_WINDOW,
    V_LIQ_CAP,
    V_LIQ_CAP_TRIPPED,
    V_CAUTION_SCALE,
) = range(11)
VAULT_PARAM_NAMES = (
    "close_factor hf_full min_debt_value bonus_min bonus_slope bonus_max insurance_share "
    "liq_window liq_cap liq_cap_tripped caution_scale"
).split()
A_BASE_RATE, A_SLOPE1, A_SLOPE2, A_KINK, A_RESERVE_FACTOR, A_BORROWABLE = range(6)
ASSET_PARAM_NAMES = "base_rate slope1 slope2 kink reserve_factor borrowable".split()
PAUSE_WITHDRAW, PAUSE_BORROW, PAUSE_LIQUIDATE = 1, 2, 4


@dataclass
class Market:
    """MarginVault.Market."""

    deposit_index: int = WAD
    borrow_index: int = WAD
    scaled_deposits: int = 0
    scaled_borrows: int = 0
    last_accrual: int = 0
    insurance: int = 0


@dataclass(frozen=True)
class Health:
    """MarginVault.Health: weighted sums, WAD USD."""

    maint_assets: int = 0
    maint_liabilities: int = 0
    init_assets: int = 0
    init_liabilities: int = 0
    reduce_only: bool = False

    @property
    def maint(self) -> int:
        """health_maint = maint_assets - maint_liabilities (liquidatable iff < 0)."""
        return self.maint_assets - self.maint_liabilities

    @property
    def init(self) -> int:
        """health_init = init_assets - init_liabilities."""
        return self.init_assets - self.init_liabilities


def check_vault_params(p: list[int]) -> None:
    """MarginVault._check_params."""
    require(p[V_CLOSE_FACTOR] > 0 and p[V_CLOSE_FACTOR] <= WAD, "vault: bad params")
    require(p[V_BONUS_MIN] <= p[V_BONUS_MAX] and p[V_BONUS_MAX] <= WAD, "vault: bad params")
    require(p[V_INSURANCE_SHARE] <= WAD and p[V_CAUTION_SCALE] <= WAD, "vault: bad params")
    require(p[V_LIQ_WINDOW] > 0 and p[V_LIQ_CAP_TRIPPED] <= p[V_LIQ_CAP], "vault: bad params")


def check_asset_params(a: list[int]) -> None:
    """MarginVault._check_asset_params."""
    require(a[A_KINK] > 0 and a[A_KINK] < WAD, "vault: bad params")
    require(a[A_RESERVE_FACTOR] <= WAD and a[A_BORROWABLE] <= 1, "vault: bad params")
    require(a[A_BASE_RATE] + a[A_SLOPE1] + a[A_SLOPE2] <= 100 * WAD, "vault: bad params")


def tokens(scaled: int, m: Market) -> int:
    """Signed token balance of a scaled balance (deposits down, borrows up)."""
    if scaled >= 0:
        return scaled * m.deposit_index // WAD
    return -((-scaled * m.borrow_index + WAD - 1) // WAD)


def health_sums(balances: list[int], views: list[RiskView], decimals: list[int], caution_scale: int) -> Health:
    """MarginVault._weigh: the four weighted sums of DESIGN §5, WAD USD.

    ``balances[i]`` is a signed balance in token decimals ``decimals[i]``, valued
    with the oracle view ``views[i]`` (price WAD USD, haircuts WAD, size term
    kappa/depth). Deposits weigh ``1 - h`` (rounded down), debts ``1 + h``
    (rounded up); the initial haircut adds the size term and is capped at 1;
    CAUTION collateral counts ``caution_scale`` (WAD) in the initial sum.
    ``reduce_only`` is set when any given view is REDUCE_ONLY."""
    ma = ml = ia = il = 0
    reduce_only = False
    for bal, r, dec in zip(balances, views, decimals):
        if r.breaker == REDUCE_ONLY:
            reduce_only = True
        if bal > 0:
            v = asset_value(bal, r.price, dec)
            hi = min(r.h_init + size_haircut(r.kappa, r.depth, v), WAD)
            ma += weighted_asset(v, r.h_maint)
            w = weighted_asset(v, hi)
            if r.breaker == CAUTION:
                w = w * caution_scale // WAD
            ia += w
        elif bal < 0:
            v = liability_value(-bal, r.price, dec)
            hi = min(r.h_init + size_haircut(r.kappa, r.depth, v), WAD)
            ml += weighted_liability(v, r.h_maint)
            il += weighted_liability(v, hi)
    return Health(ma, ml, ia, il, reduce_only)


@dataclass
class VaultRef:
    """Mirror of MarginVault.vy on top of an ``OracleRef``.

    Token transfers are not modelled (the contract's token calls succeed or
    revert the whole transaction); every method takes ``now`` (block time, s).
    """

    oracle: OracleRef
    params: list[int]
    listed: list[str] = field(default_factory=list)
    decimals: dict[str, int] = field(default_factory=dict)
    asset_params: dict[str, list[int]] = field(default_factory=dict)
    markets: dict[str, Market] = field(default_factory=dict)
    scaled: dict[tuple[str, str], int] = field(default_factory=dict)
    masks: dict[str, int] = field(default_factory=dict)
    paused: int = 0
    liq_window_start: int = 0
    liq_window_used: int = 0

    # -- listing and parameters

    def list_asset(self, asset: str, decimals: int, asset_params: list[int], now: int) -> None:
        """MarginVault.list_asset (the oracle's poke is the caller's to mirror)."""
        require(asset not in self.decimals, "vault: already listed")
        require(len(self.listed) < 8, "vault: too many assets")
        check_asset_params(asset_params)
        require(decimals <= 24, "vault: decimals > 24")
        self.oracle.risk(asset, now)
        self.listed.append(asset)
        self.decimals[asset] = decimals
        self.asset_params[asset] = list(asset_params)
        self.markets[asset] = Market(last_accrual=now)

    def _listed(self, asset: str) -> None:
        require(asset in self.decimals, "vault: asset not listed")

    def bit(self, asset: str) -> int:
        """Bit of ``asset`` in a position mask."""
        return 1 << self.listed.index(asset)

    # -- interest

    def accrued(self, asset: str, now: int) -> tuple[Market, int]:
        """MarginVault._accrued: the market accrued to ``now`` and the reserve added."""
        m = replace(self.markets[asset])
        dt = U(now - m.last_accrual)
        if dt == 0:
            return m, 0
        m.last_accrual = now
        if m.scaled_borrows == 0:
            return m, 0
        a = self.asset_params[asset]
        deposits = m.scaled_deposits * m.deposit_index // WAD
        borrows = (m.scaled_borrows * m.borrow_index + WAD - 1) // WAD
        rate = borrow_rate(utilization(deposits, borrows), a[A_BASE_RATE], a[A_SLOPE1], a[A_SLOPE2], a[A_KINK])
        m.borrow_index = grow_index(m.borrow_index, rate, dt)
        interest = U((m.scaled_borrows * m.borrow_index + WAD - 1) // WAD - borrows)
        reserve = interest * a[A_RESERVE_FACTOR] // WAD
        if m.scaled_deposits == 0:
            reserve = interest
        else:
            m.deposit_index += (interest - reserve) * WAD // m.scaled_deposits
        m.insurance += reserve
        return m, reserve

    def _accrue(self, asset: str, now: int) -> Market:
        m, _ = self.accrued(asset, now)
        self.markets[asset] = m
        return m

    def balance(self, account: str, asset: str, now: int) -> int:
        """MarginVault.balance_of: signed token balance accrued to ``now``."""
        m, _ = self.accrued(asset, now)
        return tokens(self.scaled.get((account, asset), 0), m)

    def totals(self, asset: str, now: int) -> tuple[int, int, int, int, int]:
        """MarginVault.market: (deposit index, borrow index, deposits, borrows, insurance)."""
        m, _ = self.accrued(asset, now)
        return (
            m.deposit_index,
            m.borrow_index,
            m.scaled_deposits * m.deposit_index // WAD,
            (m.scaled_borrows * m.borrow_index + WAD - 1) // WAD,
            m.insurance,
        )

    def _set_balance(self, account: str, asset: str, m: Market, new_tokens: int) -> Market:
        out = replace(m)
        old = self.scaled.get((account, asset), 0)
        if old > 0:
            out.scaled_deposits = U(out.scaled_deposits - old)
        elif old < 0:
            out.scaled_borrows = U(out.scaled_borrows + old)
        new = 0
        if new_tokens > 0:
            s = new_tokens * WAD // m.deposit_index
            out.scaled_deposits += s
            new = s
        elif new_tokens < 0:
            s = (-new_tokens * WAD + m.borrow_index - 1) // m.borrow_index
            out.scaled_borrows += s
            new = -s
        self.scaled[(account, asset)] = new
        mask = self.masks.get(account, 0)
        mask = mask & ~self.bit(asset) if new == 0 else mask | self.bit(asset)
        self.masks[account] = mask
        self.markets[asset] = out
        return out

    @staticmethod
    def _available(m: Market) -> int:
        deposits = m.scaled_deposits * m.deposit_index // WAD
        borrows = (m.scaled_borrows * m.borrow_index + WAD - 1) // WAD
        return 0 if borrows >= deposits else deposits - borrows

    # -- health

    def health(self, account: str, now: int, mask: int | None = None) -> Health:
        """MarginVault._health over ``mask`` (default: the account's positions)."""
        if mask is None:
            mask = self.masks.get(account, 0)
        bals: list[int] = []
        views: list[RiskView] = []
        decs: list[int] = []
        for i, asset in enumerate(self.listed):
            if not mask & (1 << i):
                continue
            m, _ = self.accrued(asset, now)
            bals.append(tokens(self.scaled.get((account, asset), 0), m))
            views.append(self.oracle.risk(asset, now))
            decs.append(self.decimals[asset])
        return health_sums(bals, views, decs, self.params[V_CAUTION_SCALE])

    def health_factor(self, account: str, now: int) -> int:
        """Maintenance health factor, WAD."""
        h = self.health(account, now)
        return health_factor(h.maint_assets, h.maint_liabilities)

    def _check_risk_increase(self, account: str, asset: str, now: int) -> None:
        h = self.health(account, now, self.masks.get(account, 0) | self.bit(asset))
        require(not h.reduce_only, "vault: asset reduce-only")
        require(h.init_assets >= h.init_liabilities, "vault: insufficient health")

    # -- actions (each is atomic: on Reject the state is restored)

    def _atomic(self, fn, *args):  # type: ignore[no-untyped-def]
        snapshot = (
            {k: replace(v) for k, v in self.markets.items()},
            dict(self.scaled),
            dict(self.masks),
            self.liq_window_start,
            self.liq_window_used,
        )
        try:
            return fn(*args)
        except (Reject, ArithmeticError):
            self.markets, self.scaled, self.masks, self.liq_window_start, self.liq_window_used = snapshot
            raise

    def deposit(self, account: str, asset: str, amount: int, now: int) -> None:
        """MarginVault.deposit (never paused)."""
        self._atomic(self._deposit, account, asset, amount, now)

    def _deposit(self, account: str, asset: str, amount: int, now: int) -> None:
        require(amount > 0, "vault: zero amount")
        require(amount <= 2**255 - 1, "vault: amount too large")
        self._listed(asset)
        m = self._accrue(asset, now)
        bal = tokens(self.scaled.get((account, asset), 0), m)
        self._set_balance(account, asset, m, I(bal + amount))

    def withdraw(self, account: str, asset: str, amount: int, now: int) -> None:
        """MarginVault.withdraw."""
        self._atomic(self._withdraw, account, asset, amount, now)

    def _withdraw(self, account: str, asset: str, amount: int, now: int) -> None:
        require(self.paused & PAUSE_WITHDRAW == 0, "vault: withdraw paused")
        require(amount > 0, "vault: zero amount")
        self._listed(asset)
        m = self._accrue(asset, now)
        bal = tokens(self.scaled.get((account, asset), 0), m)
        require(bal >= I(amount), "vault: insufficient balance")
        require(amount <= self._available(m), "vault: insufficient liquidity")
        self._set_balance(account, asset, m, bal - amount)
        self._check_risk_increase(account, asset, now)

    def borrow(self, account: str, asset: str, amount: int, now: int) -> None:
        """MarginVault.borrow."""
        self._atomic(self._borrow, account, asset, amount, now)

    def _borrow(self, account: str, asset: str, amount: int, now: int) -> None:
        require(self.paused & PAUSE_BORROW == 0, "vault: borrow paused")
        require(amount > 0, "vault: zero amount")
        self._listed(asset)
        require(self.asset_params[asset][A_BORROWABLE] == 1, "vault: asset not borrowable")
        m = self._accrue(asset, now)
        bal = tokens(self.scaled.get((account, asset), 0), m)
        require(amount <= self._available(m), "vault: insufficient liquidity")
        self._set_balance(account, asset, m, I(bal - I(amount)))
        self._check_risk_increase(account, asset, now)

    def repay(self, account: str, asset: str, amount: int, now: int) -> int:
        """MarginVault.repay: returns the amount repaid (never paused)."""
        return self._atomic(self._repay, account, asset, amount, now)

    def _repay(self, account: str, asset: str, amount: int, now: int) -> int:
        require(amount > 0, "vault: zero amount")
        self._listed(asset)
        m = self._accrue(asset, now)
        bal = tokens(self.scaled.get((account, asset), 0), m)
        require(bal < 0, "vault: no debt")
        paid = min(amount, -bal)
        self._set_balance(account, asset, m, bal + paid)
        return paid

    def _use_liquidation_cap(self, repaid_value: int, now: int) -> None:
        used = self.liq_window_used
        if now >= self.liq_window_start + self.params[V_LIQ_WINDOW]:
            self.liq_window_start = now
            used = 0
        cap = self.params[V_LIQ_CAP_TRIPPED] if self.oracle.n_tripped > 0 else self.params[V_LIQ_CAP]
        used += repaid_value
        require(used <= cap, "vault: liquidation cap reached")
        self.liq_window_used = used

    def settle_if_bankrupt(self, account: str, now: int) -> list[tuple[str, int, int, int]]:
        """MarginVault._settle_if_bankrupt: [(asset, debt, covered, socialized)] written off."""
        mask = self.masks.get(account, 0)
        if mask == 0 or any(self.scaled.get((account, a), 0) > 0 for a in self.listed):
            return []
        out = []
        for i, asset in enumerate(self.listed):
            if not mask & (1 << i):
                continue
            m = self._accrue(asset, now)
            debt = -tokens(self.scaled.get((account, asset), 0), m)
            covered = min(debt, m.insurance)
            m.insurance -= covered
            loss = debt - covered
            m = self._set_balance(account, asset, m, 0)
            if loss > 0 and m.scaled_deposits > 0:
                deposits = m.scaled_deposits * m.deposit_index // WAD
                m.deposit_index = (deposits - min(loss, deposits)) * WAD // m.scaled_deposits
            self.markets[asset] = m
            out.append((asset, debt, covered, loss))
        return out

    def settle_bad_debt(self, account: str, now: int) -> list[tuple[str, int, int, int]]:
        """MarginVault.settle_bad_debt."""

        def run() -> list[tuple[str, int, int, int]]:
            out = self.settle_if_bankrupt(account, now)
            require(bool(out), "vault: not bad debt")
            return out

        return self._atomic(run)

    def liquidate(
        self, liquidator: str, account: str, debt_asset: str, col_asset: str, max_repay_: int, min_seize: int, now: int
    ) -> tuple[int, int, int, list[tuple[str, int, int, int]]]:
        """MarginVault.liquidate: returns (repaid, seized to liquidator, insurance cut, bad debt settled)."""
        return self._atomic(self._liquidate, liquidator, account, debt_asset, col_asset, max_repay_, min_seize, now)

    def _liquidate(
        self, liquidator: str, account: str, debt_asset: str, col_asset: str, max_repay_: int, min_seize: int, now: int
    ) -> tuple[int, int, int, list[tuple[str, int, int, int]]]:
        require(self.paused & PAUSE_LIQUIDATE == 0, "vault: liquidate paused")
        require(max_repay_ > 0, "vault: zero amount")
        require(account != liquidator, "vault: self-liquidation")
        require(debt_asset != col_asset, "vault: same asset")
        self._listed(debt_asset)
        self._listed(col_asset)
        md = self._accrue(debt_asset, now)
        mc = self._accrue(col_asset, now)
        h = self.health(account, now)
        require(h.maint_assets < h.maint_liabilities, "vault: account healthy")
        debt_bal = tokens(self.scaled.get((account, debt_asset), 0), md)
        col_bal = tokens(self.scaled.get((account, col_asset), 0), mc)
        require(debt_bal < 0, "vault: no debt in asset")
        require(col_bal > 0, "vault: no collateral in asset")
        rd = self.oracle.risk(debt_asset, now)
        rc = self.oracle.risk(col_asset, now)
        dd, dc = self.decimals[debt_asset], self.decimals[col_asset]
        p = self.params
        debt = -debt_bal
        repay = min(
            max_repay_,
            max_repay(
                debt,
                rd.price,
                dd,
                health_factor(h.maint_assets, h.maint_liabilities),
                p[V_CLOSE_FACTOR],
                p[V_HF_FULL],
                p[V_MIN_DEBT_VALUE],
            ),
        )
        if repay < debt:  # a liquidator-chosen repayment must not leave dust behind (DESIGN §6)
            require(liability_value(debt - repay, rd.price, dd) >= p[V_MIN_DEBT_VALUE], "vault: dust left")
        bon = bonus(h.maint_assets, h.maint_liabilities, p[V_BONUS_MIN], p[V_BONUS_SLOPE], p[V_BONUS_MAX])
        seize = seize_amount(repay, rd.price, dd, rc.price, dc, bon)
        if seize > col_bal:
            seize = col_bal
            repay = min(repay, repay_for_seize(seize, rd.price, dd, rc.price, dc, bon))
        cut = seize * bon // (WAD + bon) * p[V_INSURANCE_SHARE] // WAD
        require(repay > 0 and seize - cut >= min_seize, "vault: seize below minimum")
        self._use_liquidation_cap(liability_value(repay, rd.price, dd), now)
        self._set_balance(account, debt_asset, md, debt_bal + repay)
        mc = self._set_balance(account, col_asset, mc, col_bal - seize)
        mc.insurance += cut
        self.markets[col_asset] = mc
        settled = self.settle_if_bankrupt(account, now)
        return repay, seize - cut, cut, settled
