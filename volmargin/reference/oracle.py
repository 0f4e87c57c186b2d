"""Exact integer mirror of ``contracts/RiskOracle.vy`` (docs/design.md §3, §4, §7)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .risk_math import (CAUTION, MAX_ABS_RETURN, MAX_PRICE, NORMAL, REASON_INCOMPLETE, REASON_NON_POSITIVE,
                        REASON_OUT_OF_RANGE, REASON_STALE, REDUCE_ONLY, SECONDS_PER_YEAR, WAD, U, abs_return, clamp,
                        div, ewma_var, haircut, ramp, require, sigma)
from .. import spec as _S
from . import portfolio as _pf
from . import forecast as _fc

# ---------------------------------------------------------------- RiskOracle.vy

# Parameter indices (RiskOracle.P_*), looked up in the spec table by contract constant.
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
    P_H_MIN_INIT,
    P_DD_WINDOW,
    P_DD_TRIP,
    P_F_LO,
    P_F_HI,
    P_F_STEP,
    P_F_TTL,
    P_F_MODE,
) = _S.ORACLE.indices(
    "P_HEARTBEAT", "P_GRACE", "P_TAU_FAST", "P_TAU_SLOW", "P_HORIZON", "P_Z_MAINT", "P_Z_INIT", "P_H0", "P_H_MIN",
    "P_H_MAX", "P_RAMP_UP", "P_RAMP_DOWN", "P_VAR_MIN", "P_VAR_MAX", "P_K_JUMP", "P_R_FLOOR", "P_COOLDOWN",
    "P_SIGMA_CAUTION", "P_KAPPA", "P_DEPTH", "P_H_MIN_INIT", "P_DD_WINDOW", "P_DD_TRIP", "P_F_LO", "P_F_HI",
    "P_F_STEP", "P_F_TTL", "P_F_MODE",
)
ORACLE_PARAM_NAMES = list(_S.ORACLE.names)


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
    #: A pushed forecast is live (set by push_forecast, cleared by the first poke after its expiry).
    forecast: bool = False


@dataclass(frozen=True)
class RiskView:
    """RiskOracle.RiskView: what the vault reads per asset."""

    price: int
    h_maint: int
    h_init: int
    kappa: int
    depth: int
    breaker: int
    #: Whether the asset has a correlation pair with an offset (docs/design.md §5.6).
    correlated: bool = False


def check_oracle_params(p: list[int]) -> None:
    """RiskOracle._check_params: the bounds of ``spec.ORACLE`` (positive times, haircuts
    within [0, 1] and ordered, variance bounds ordered and <= VAR_CAP, horizon <= one year,
    z_init <= 100, every entry within its storage width), one ``assert`` line of the contract
    after the other.

    Raises Reject "oracle: bad params" at the first line that fails."""
    for ok, reason in _S.ORACLE.evaluate(p):
        require(ok, reason)


def check_correlation(rho_lo: int, rho_hi: int) -> None:
    """RiskOracle.set_correlation's bound: ``-1e18 <= rho_lo <= rho_hi <= 1e18`` (signed WAD).

    Raises Reject "oracle: bad correlation" otherwise."""
    require(-WAD <= rho_lo <= rho_hi <= WAD, "oracle: bad correlation")


def check_portfolio_floor(value: int) -> None:
    """RiskOracle.set_portfolio_floor's bound (``spec.PORTFOLIO_FLOOR``): ``0 < value <= 1e18`` (WAD).

    Raises Reject "oracle: bad params" otherwise."""
    row = _S.PORTFOLIO_FLOOR
    require(row.lo <= value <= row.hi, row.reason)


@dataclass
class OracleRef:
    """Mirror of RiskOracle.vy: per-asset EWMA variances, ramped haircuts and breakers."""

    assets: dict[str, AssetState] = field(default_factory=dict)
    params: dict[str, list[int]] = field(default_factory=dict)
    n_tripped: int = 0
    #: RiskOracle._dd_ref: (ref_price WAD USD, ref_time s) per asset; absent = (0, 0).
    dd_ref: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: RiskOracle._pairs by ``portfolio.pair_key``: pair words (absent: (-1, +1), no offset).
    pairs: dict[tuple[str, str], int] = field(default_factory=dict)
    #: RiskOracle.portfolio_floor, WAD (1e18 at deployment: portfolio margin off).
    portfolio_floor: int = WAD
    #: RiskOracle._forecast: the forecast word of each asset (``forecast.pack``; absent: never pushed).
    forecasts: dict[str, int] = field(default_factory=dict)

    def list_asset(self, asset: str, feed_decimals: int, rnd: FeedRound, var_seed: int, params: list[int], now: int) -> None:
        """RiskOracle.list_asset (role checks are the contract's)."""
        require(asset not in self.assets, "oracle: already listed")
        check_oracle_params(params)
        require(feed_decimals <= 18, "oracle: feed decimals > 18")
        scale = 10 ** (18 - feed_decimals)
        price, updated_at, reason = self._read_feed(rnd, scale, now)
        require(reason != REASON_OUT_OF_RANGE, "oracle: price out of range")
        require(reason == 0, "oracle: invalid price")
        require(U(now - updated_at) <= params[P_HEARTBEAT] + params[P_GRACE], "oracle: stale price")
        var = clamp(var_seed, params[P_VAR_MIN], params[P_VAR_MAX])
        h = haircut(params[P_H0], params[P_Z_MAINT], sigma(var, params[P_HORIZON]), params[P_H_MIN], params[P_H_MAX])
        self.params[asset] = list(params)
        self.assets[asset] = AssetState(scale, price, updated_at, var, var, h, h, now)

    @staticmethod
    def _read_feed(rnd: FeedRound, scale: int, now: int) -> tuple[int, int, int]:
        """RiskOracle._read_feed: (price WAD USD, updatedAt s, reason); reason != 0 marks an
        unusable answer: non-positive, incomplete, or a scaled price of ``MAX_PRICE`` (2**128)
        or more, refused before the scaling (docs/design.md §7.2)."""
        if rnd.answer <= 0:
            return 0, rnd.updated_at, REASON_NON_POSITIVE
        if rnd.updated_at == 0 or rnd.answered_in_round < rnd.round_id or rnd.updated_at > now:
            return 0, rnd.updated_at, REASON_INCOMPLETE
        if rnd.answer > (MAX_PRICE - 1) // scale:
            return 0, rnd.updated_at, REASON_OUT_OF_RANGE
        return U(rnd.answer * scale), rnd.updated_at, 0

    def _drawdown(self, asset: str, price: int, updated_at: int, window: int, trip: int) -> bool:
        """RiskOracle._drawdown (docs/design.md §7.8): whether an accepted round at ``price``
        (WAD USD) and feed time ``updated_at`` (s) moved more than ``trip`` (WAD) from the
        reference, which moves to the round when absent, ``window`` s old or tripped."""
        if trip == 0:
            return False
        ref_price, ref_time = self.dd_ref.get(asset, (0, 0))
        if ref_price == 0 or U(updated_at - ref_time) >= window:
            ref_price, ref_time = price, updated_at
        tripped = abs_return(ref_price, price) > trip
        if tripped:
            ref_price, ref_time = price, updated_at
        self.dd_ref[asset] = (ref_price, ref_time)
        return tripped

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
        accepted, r = False, 0
        if reason == 0:
            if now - updated_at > p[P_HEARTBEAT] + p[P_GRACE]:
                reason = REASON_STALE
            elif updated_at > s.updated_at:
                accepted = True
                r = abs_return(s.price, price)  # range-checked before ewma_var squares it
                if r > MAX_ABS_RETURN:
                    reason = REASON_OUT_OF_RANGE
        if reason != 0:
            s.invalid = True
            self._trip(s, now)
            self.assets[asset] = s
            return
        jump = drawdown = False
        if accepted:
            dt = updated_at - s.updated_at
            sigma_dt = sigma(max(s.var_fast, s.var_slow), dt)
            jump = r > U(div(U(p[P_K_JUMP] * sigma_dt), WAD) + p[P_R_FLOOR])
            s.var_fast = clamp(ewma_var(s.var_fast, r, dt, p[P_TAU_FAST]), p[P_VAR_MIN], p[P_VAR_MAX])
            s.var_slow = clamp(ewma_var(s.var_slow, r, dt, p[P_TAU_SLOW]), p[P_VAR_MIN], p[P_VAR_MAX])
            drawdown = self._drawdown(asset, price, updated_at, p[P_DD_WINDOW], p[P_DD_TRIP])
            s.price = price
            s.updated_at = updated_at
        s.invalid = False
        if s.forecast and (p[P_F_MODE] == _fc.MODE_OFF
                           or now >= _fc.pushed_at(self.forecasts.get(asset, 0)) + p[P_F_TTL]):
            s.forecast = False  # expired: the realized sigma from now on
        s.h_maint = self._ramped(s, p, now)
        s.h_time = now
        var = max(s.var_fast, s.var_slow)
        s.h_target = self._h_target(asset, s, p)
        if jump or drawdown:
            self._trip(s, now)
        else:
            cooldown = p[P_COOLDOWN]
            if s.breaker != REDUCE_ONLY or now >= s.tripped_at + cooldown:
                hot = sigma(var, SECONDS_PER_YEAR) > p[P_SIGMA_CAUTION]
                cooling = s.tripped_at != 0 and now < s.tripped_at + 2 * cooldown
                self._set_breaker(s, CAUTION if (hot or cooling) else NORMAL)
        self.assets[asset] = s

    def set_param(self, asset: str, param: int, new_value: int, now: int) -> None:
        """RiskOracle.set_param after the steward's checks (role, bound and delay
        are the contract's): brings the ramped maintenance haircut to ``now``
        under the old ramp speeds, sets the parameter and retargets the maintenance
        haircut under the new vector (docs/design.md §4, §8).

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
        s.h_target = self._h_target(asset, s, p)
        self.assets[asset] = s
        self.params[asset] = p

    def _sigma_h(self, asset: str, s: AssetState, p: list[int]) -> int:
        """RiskOracle._sigma_h: sigma over the horizon that the haircuts use, WAD: the realized
        sigma, or while a forecast is live (and f_mode != 0) the pushed sigma's variance clamped
        to [var_min, var_max] over the horizon, combined by ``forecast.combine``."""
        sigma_r = sigma(max(s.var_fast, s.var_slow), p[P_HORIZON])
        if not s.forecast or p[P_F_MODE] == _fc.MODE_OFF:
            return sigma_r
        var_f = clamp(_fc.variance(_fc.sigma_of(self.forecasts.get(asset, 0))), p[P_VAR_MIN], p[P_VAR_MAX])
        return _fc.combine(p[P_F_MODE], sigma_r, sigma(var_f, p[P_HORIZON]), p[P_F_LO], p[P_F_HI])

    def _h_target(self, asset: str, s: AssetState, p: list[int]) -> int:
        """RiskOracle._h_target_of: the maintenance haircut target from ``_sigma_h``, WAD."""
        return haircut(p[P_H0], p[P_Z_MAINT], self._sigma_h(asset, s, p), p[P_H_MIN], p[P_H_MAX])

    def push_forecast(self, asset: str, sigma_annual: int, now: int) -> None:
        """RiskOracle.push_forecast at ``now`` (the role check is the contract's): a forecast
        volatility ``sigma_annual`` (WAD per year) bounded by f_lo/f_hi times the realized sigma
        per year and, while a push is live, by f_step from it; then the maintenance haircut is
        brought to ``now`` and retargeted (docs/design.md §3.7).

        Raises Reject "oracle: asset not listed", "oracle: forecast off", "oracle: forecast too
        soon", "oracle: forecast out of bounds", "oracle: forecast step too large"; the state is
        untouched on a rejection."""
        require(asset in self.assets, "oracle: asset not listed")
        p = self.params[asset]
        require(p[P_F_MODE] != _fc.MODE_OFF, "oracle: forecast off")
        w = self.forecasts.get(asset, 0)
        require(U(now - _fc.pushed_at(w)) >= p[P_HEARTBEAT], "oracle: forecast too soon")
        s = replace(self.assets[asset])
        sigma_r = sigma(max(s.var_fast, s.var_slow), SECONDS_PER_YEAR)
        require(sigma_annual <= _fc.MAX_SIGMA and _fc.within(sigma_annual, sigma_r, p[P_F_LO], p[P_F_HI]),
                "oracle: forecast out of bounds")
        if s.forecast and now < _fc.pushed_at(w) + p[P_F_TTL]:
            require(_fc.step_ok(_fc.sigma_of(w), sigma_annual, p[P_F_STEP]), "oracle: forecast step too large")
        s.h_maint = self._ramped(s, p, now)
        s.h_time = now
        self.forecasts[asset] = _fc.pack(sigma_annual, now)
        s.forecast = True
        s.h_target = self._h_target(asset, s, p)
        self.assets[asset] = s

    def forecast_of(self, asset: str) -> tuple[int, int, bool]:
        """RiskOracle.forecast_of: (sigma WAD per year, push time s, whether the haircuts use it)."""
        w = self.forecasts.get(asset, 0)
        s = self.assets.get(asset)
        live = s is not None and s.forecast and self.params[asset][P_F_MODE] != _fc.MODE_OFF
        return _fc.sigma_of(w), _fc.pushed_at(w), live

    def set_correlation(self, asset_a: str, asset_b: str, rho_lo: int, rho_hi: int) -> None:
        """RiskOracle.set_correlation after the steward's checks (role, bound and delay are the
        contract's): stores the pair word of bounds ``rho_lo`` <= ``rho_hi`` (signed WAD).

        Raises Reject "oracle: asset not listed", "oracle: same asset", "oracle: bad correlation"
        (unless -1e18 <= rho_lo <= rho_hi <= 1e18); the state is untouched on a rejection."""
        require(asset_a in self.assets and asset_b in self.assets, "oracle: asset not listed")
        require(asset_a != asset_b, "oracle: same asset")
        check_correlation(rho_lo, rho_hi)
        self.pairs[_pf.pair_key(asset_a, asset_b)] = _pf.pack_pair(rho_lo, rho_hi)

    def correlation(self, asset_a: str, asset_b: str) -> tuple[int, int]:
        """RiskOracle.correlation: (rho_lo, rho_hi), signed WAD; (-1e18, 1e18) when never set."""
        return _pf.rho_bounds(self.pairs.get(_pf.pair_key(asset_a, asset_b), _pf.NO_PAIR))

    def set_portfolio_floor(self, new_value: int) -> None:
        """RiskOracle.set_portfolio_floor after the steward's checks.

        Raises Reject "oracle: bad params" unless 0 < new_value <= 1e18."""
        check_portfolio_floor(new_value)
        self.portfolio_floor = new_value

    def portfolio_scales(self, legs: list[str | None], balances: list[int], decimals: list[int], conc: list[int],
                         now: int) -> tuple[int, int]:
        """RiskOracle.portfolio_scales at ``now`` (``portfolio.portfolio_scales`` on this oracle's
        views, pairs and floor): (lambda_maint, lambda_init), WAD. Rejects as ``risk`` for a leg
        with a balance that cannot be valued."""
        if self.portfolio_floor == WAD:
            return WAD, WAD
        views = [self.risk(a, now) if a is not None and b != 0 else None for a, b in zip(legs, balances)]
        return _pf.portfolio_scales(legs, balances, decimals, conc, views, self.pairs, self.portfolio_floor)

    def h_maint_now(self, asset: str, now: int) -> int:
        """Maintenance haircut in force at ``now`` (ramped lazily), WAD."""
        return self._ramped(self.assets[asset], self.params[asset], now)

    @staticmethod
    def _ramped(s: AssetState, p: list[int], now: int) -> int:
        """RiskOracle._h_maint_now: ``s``'s maintenance haircut ramped to ``now`` under ``p``'s speeds, WAD."""
        return ramp(s.h_maint, s.h_target, U(now - s.h_time), p[P_RAMP_UP], p[P_RAMP_DOWN])

    def h_init(self, asset: str) -> int:
        """The cached initial haircut without the size term (``h_init_base``), WAD, from
        ``_sigma_h`` (the forecast while one is live); floored by max(h_min, h_min_init)
        (docs/design.md §4.3). The one in force is ``h_init_now``."""
        s, p = self.assets[asset], self.params[asset]
        return haircut(p[P_H0], p[P_Z_INIT], self._sigma_h(asset, s, p), max(p[P_H_MIN], p[P_H_MIN_INIT]), p[P_H_MAX])

    def h_init_now(self, asset: str, now: int) -> int:
        """Initial haircut in force at ``now`` without the size term, WAD: ``h_init`` (the cached
        formula), or the maintenance haircut in force where that is higher: after a volatility
        spike the formula falls at once while ``h_maint_now`` ramps down, and an opening limit
        below the liquidation threshold would let a borrow be liquidatable as it opens
        (RiskOracle.risk and RiskOracle.haircuts, docs/design.md §4.3)."""
        return max(self.h_init(asset), self.h_maint_now(asset, now))

    def risk(self, asset: str, now: int) -> RiskView:
        """RiskOracle.risk: rejects unlisted, invalid and stale prices; ``h_init`` is
        ``h_init_now`` (never below ``h_maint``)."""
        require(asset in self.assets, "oracle: asset not listed")
        s, p = self.assets[asset], self.params[asset]
        require(not s.invalid, "oracle: invalid price")
        require(U(now - s.updated_at) <= p[P_HEARTBEAT] + p[P_GRACE], "oracle: stale price")
        return RiskView(s.price, self.h_maint_now(asset, now), self.h_init_now(asset, now), p[P_KAPPA], p[P_DEPTH], s.breaker,
                        _pf.correlated(asset, self.pairs))

    def sigma(self, asset: str, horizon: int) -> int:
        """RiskOracle.sigma: WAD sigma over ``horizon`` seconds."""
        require(asset in self.assets, "oracle: asset not listed")
        s = self.assets[asset]
        return sigma(max(s.var_fast, s.var_slow), horizon)


