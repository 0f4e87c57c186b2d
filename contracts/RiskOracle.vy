# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title volmargin RiskOracle
@custom:contract-name RiskOracle
@license GNU Affero General Public License v3.0 only
@notice Reads Chainlink-style feeds (AggregatorV3Interface), validates
        each answer, keeps two EWMA variance estimates per asset
        (docs/design.md §3) and, when a risk keeper pushes one, a bounded
        forecast volatility (§3.7), sets the volatility-driven haircuts with
        a ramped maintenance haircut (§4), and owns the per-asset circuit
        breaker (§7). `poke` is permissionless. Prices, haircuts and variances
        are WAD (1e18 = 1.0); variance is per second; times are Unix
        seconds. Every rejection is a revert reason prefixed `oracle:`.
        `volmargin.reference.OracleRef` mirrors this contract bit for bit.
"""

from ethereum.ercs import IERC165
implements: IERC165

from snekmate.auth.interfaces import IAccessControl
implements: IAccessControl

from snekmate.auth import access_control
initializes: access_control
exports: access_control.__interface__

import interfaces.IAggregatorV3 as IAggregatorV3
import interfaces.IRiskOracle as IRiskOracle
implements: IRiskOracle
from .modules import risk_math
from .modules import portfolio
from .modules import forecast
from .modules import steward
from .modules import asset_state
from .modules import risk_params
from .modules import drawdown_word
from .modules import leg_units
from .modules import oracle_globals
initializes: steward[access_control := access_control]
exports: (
    steward.max_rel_change,
    steward.min_change_delay,
    steward.last_change,
    steward.set_governance_bounds,
)

WAD: constant(uint256) = 10**18
WAD_I: constant(int256) = 10**18
# Legs of one account in `portfolio_scales` (the vault's MAX_ASSETS).
MAX_LEGS: constant(uint256) = 8
# Steward key of the portfolio floor: (the zero address, PORTFOLIO_FLOOR_PARAM). A pair's two
# offsets: (the lower of the two addresses, higher address << 8 | 0 same-sign, | 1 opposite-sign).
PORTFOLIO_FLOOR_PARAM: public(constant(uint256)) = 0
SECONDS_PER_YEAR: constant(uint256) = 31_536_000
MAX_BATCH: constant(uint256) = 16
# Upper bound for any variance, WAD per second: keeps sigma's isqrt
# argument var * 31_536_000 * 1e18 far below 2**256.
VAR_CAP: constant(uint256) = 10**36
# Largest accepted price, WAD USD (the price's storage field, docs/design.md §3.6).
MAX_PRICE: constant(uint256) = asset_state.PRICE_MAX
# Largest |return| of an accepted round, WAD (a 1.7e20-fold move): keeps
# abs_r**2 and the EWMA update below 2**256 (docs/design.md §7.2).
MAX_ABS_RETURN: constant(uint256) = 2**127 - 1

RISK_ADMIN_ROLE: public(constant(bytes32)) = keccak256("RISK_ADMIN_ROLE")
# May push a forecast volatility per asset (`push_forecast`), within the bounds of §3.7.
RISK_KEEPER_ROLE: public(constant(bytes32)) = keccak256("RISK_KEEPER_ROLE")

# Breaker states (docs/design.md §7). PAUSED is a vault-level, per-action switch.
NORMAL: public(constant(uint8)) = 0
CAUTION: public(constant(uint8)) = 1
REDUCE_ONLY: public(constant(uint8)) = 2

# Reasons carried by BreakerChanged.
REASON_VOLATILITY: public(constant(uint8)) = 0
REASON_NON_POSITIVE: public(constant(uint8)) = 1
REASON_INCOMPLETE: public(constant(uint8)) = 2
REASON_STALE: public(constant(uint8)) = 3
REASON_JUMP: public(constant(uint8)) = 4
REASON_OUT_OF_RANGE: public(constant(uint8)) = 5
REASON_DRAWDOWN: public(constant(uint8)) = 6

# Indices into the per-asset parameter vector.
N_PARAMS: constant(uint256) = risk_params.N_PARAMS
P_HEARTBEAT: public(constant(uint256)) = risk_params.P_HEARTBEAT  # s: expected feed update interval
P_GRACE: public(constant(uint256)) = risk_params.P_GRACE  # s: tolerated delay beyond the heartbeat
P_TAU_FAST: public(constant(uint256)) = risk_params.P_TAU_FAST  # s: fast EWMA time constant
P_TAU_SLOW: public(constant(uint256)) = risk_params.P_TAU_SLOW  # s: slow EWMA time constant
P_HORIZON: public(constant(uint256)) = risk_params.P_HORIZON  # s: liquidation horizon H
P_Z_MAINT: public(constant(uint256)) = risk_params.P_Z_MAINT  # WAD: sigma multiple for h_maint
P_Z_INIT: public(constant(uint256)) = risk_params.P_Z_INIT  # WAD: sigma multiple for h_init
P_H0: public(constant(uint256)) = risk_params.P_H0  # WAD: base haircut
P_H_MIN: public(constant(uint256)) = risk_params.P_H_MIN  # WAD: haircut floor (stressed floor)
P_H_MAX: public(constant(uint256)) = risk_params.P_H_MAX  # WAD: haircut cap
P_RAMP_UP: public(constant(uint256)) = risk_params.P_RAMP_UP  # WAD per s: tightening speed of h_maint
P_RAMP_DOWN: public(constant(uint256)) = risk_params.P_RAMP_DOWN  # WAD per s: loosening speed of h_maint
P_VAR_MIN: public(constant(uint256)) = risk_params.P_VAR_MIN  # WAD per s: variance floor
P_VAR_MAX: public(constant(uint256)) = risk_params.P_VAR_MAX  # WAD per s: variance cap
P_K_JUMP: public(constant(uint256)) = risk_params.P_K_JUMP  # WAD: jump threshold in sigma_dt
P_R_FLOOR: public(constant(uint256)) = risk_params.P_R_FLOOR  # WAD: jump threshold floor (simple return)
P_COOLDOWN: public(constant(uint256)) = risk_params.P_COOLDOWN  # s: minimum time in REDUCE_ONLY after a trip
P_SIGMA_CAUTION: public(constant(uint256)) = risk_params.P_SIGMA_CAUTION  # WAD: annual sigma above which CAUTION
P_KAPPA: public(constant(uint256)) = risk_params.P_KAPPA  # WAD: size haircut coefficient
P_DEPTH: public(constant(uint256)) = risk_params.P_DEPTH  # WAD USD: market depth for the size haircut
P_H_MIN_INIT: public(constant(uint256)) = risk_params.P_H_MIN_INIT  # WAD: floor of h_init (effective: max(h_min, h_min_init))
P_DD_WINDOW: public(constant(uint256)) = risk_params.P_DD_WINDOW  # s: drawdown window
P_DD_TRIP: public(constant(uint256)) = risk_params.P_DD_TRIP  # WAD: drawdown that trips REDUCE_ONLY (0: off)
P_F_LO: public(constant(uint256)) = risk_params.P_F_LO  # WAD: least multiple of the realized sigma a forecast may have
P_F_HI: public(constant(uint256)) = risk_params.P_F_HI  # WAD: largest multiple of the realized sigma a forecast may have
P_F_STEP: public(constant(uint256)) = risk_params.P_F_STEP  # WAD: largest relative change of one push from the live one
P_F_TTL: public(constant(uint256)) = risk_params.P_F_TTL  # s: life of a push (expiry)
P_F_MODE: public(constant(uint256)) = risk_params.P_F_MODE  # how a live forecast enters the haircuts: 0 off, 1 replace, 2 max, 3 blend

# Largest forecast multiple or step, WAD.
MAX_F_MULTIPLE: constant(uint256) = 10 * WAD


event AssetListed:
    asset: indexed(address)
    feed: indexed(address)
    price: uint256
    var_seed: uint256


event PriceAccepted:
    asset: indexed(address)
    price: uint256
    updated_at: uint256
    var_fast: uint256
    var_slow: uint256
    h_target: uint256


event CorrelationSet:
    asset_a: indexed(address)
    asset_b: indexed(address)
    rho_lo: int256
    rho_hi: int256


event ForecastPushed:
    asset: indexed(address)
    sigma: uint256
    sigma_realized: uint256
    h_target: uint256


event ForecastExpired:
    asset: indexed(address)


event BreakerChanged:
    asset: indexed(address)
    old_state: uint8
    new_state: uint8
    reason: uint8


# Packed per-asset state, four words (module `asset_state`: layout, widths
# and accessors; read with `assets`). h_init (without the size term) is a
# cache of haircut(h0, z_init, _sigma_h, max(h_min, h_min_init), h_max):
# it is recomputed whenever a variance, the forecast or one of those
# parameters changes (list_asset, poke, push_forecast, set_param), so it
# always equals the live formula.
_state: HashMap[address, uint256[4]]
# Packed parameter vector, seven words and a forecast word (module
# `risk_params`: layout, widths and accessors; read with `params`). The
# forecast word is read only while a forecast is live.
_params: HashMap[address, uint256[7]]
_fparams: HashMap[address, uint256]
# The live forecast of each asset (module `forecast` codec): sigma (WAD per
# year) | push time (s); see docs/design.md §3.7.
_forecast: HashMap[address, uint256]
# Drawdown reference (docs/design.md §7.8), one word per asset (module
# `drawdown_word`), read and written by `poke` only while dd_trip != 0.
_dd_ref: HashMap[address, uint256]
listed: public(DynArray[address, 64])
# Portfolio margin (docs/design.md §5.6): correlation bounds of asset pairs, one word a pair
# (`portfolio` codec) keyed by the lower address, then the higher; the empty word is
# (-1, +1), no offset. `portfolio_floor` (WAD) is the least scale of an account's haircuts;
# 1e18 (the value at deployment) turns every offset off.
_pairs: HashMap[address, HashMap[address, uint256]]
# portfolio_floor | n_tripped (module `oracle_globals`; getters `portfolio_floor`, `n_tripped`).
_globals: uint256


@deploy
def __init__(max_rel_change_: uint256, min_change_delay_: uint256):
    """
    @notice Deploys the oracle; the deployer gets DEFAULT_ADMIN_ROLE.
    @param max_rel_change_ Risk-steward step limit, WAD (e.g. 0.25e18).
    @param min_change_delay_ Risk-steward delay, seconds.
    """
    access_control.__init__()
    steward.__init__(max_rel_change_, min_change_delay_)
    self._globals = WAD  # floor 1e18 (portfolio margin off), nothing tripped


@internal
@pure
def _check_params(p: uint256[N_PARAMS]):
    # one assert, one revert string (the oracle is close to the EIP-170 code size limit); the terms
    # in the order of spec.ORACLE's check line; the widths are the `risk_params` fields'
    assert p[P_HEARTBEAT] > 0 and p[P_TAU_FAST] > 0 and p[P_TAU_SLOW] > 0 and p[P_HORIZON] > 0 and p[P_H_MIN] <= p[P_H_MAX] and p[P_H_MIN_INIT] <= p[P_H_MAX] and p[P_H_MAX] <= WAD and p[P_H0] <= WAD and p[P_Z_MAINT] <= p[P_Z_INIT] and p[P_VAR_MIN] <= p[P_VAR_MAX] and p[P_VAR_MAX] <= VAR_CAP and p[P_HORIZON] <= SECONDS_PER_YEAR and p[P_Z_INIT] <= 100 * WAD and max(max(p[P_HEARTBEAT], p[P_GRACE]), max(p[P_RAMP_UP], p[P_RAMP_DOWN])) <= risk_params.M64 and max(max(p[P_TAU_FAST], p[P_TAU_SLOW]), p[P_COOLDOWN]) <= risk_params.M64 and p[P_KAPPA] <= risk_params.M96 and p[P_DEPTH] <= risk_params.M160 and p[P_K_JUMP] <= risk_params.M96 and p[P_R_FLOOR] <= risk_params.M64 and p[P_SIGMA_CAUTION] <= risk_params.M96 and p[P_DD_WINDOW] <= risk_params.M48 and p[P_DD_TRIP] <= risk_params.M64 and p[P_F_LO] <= p[P_F_HI] and p[P_F_HI] <= MAX_F_MULTIPLE and p[P_F_STEP] <= MAX_F_MULTIPLE and p[P_F_TTL] <= risk_params.M56 and p[P_F_MODE] <= forecast.MODE_BLEND, "oracle: bad params"


@internal
@view
def _load_params(asset: address, with_forecast: bool, with_size: bool) -> uint256[N_PARAMS]:
    """
    @dev The parameter vector of `asset` (module `risk_params`); the
         forecast entries only `with_forecast`, kappa and depth only
         `with_size` (else 0: a poke reads no word it does not use).
    """
    w: uint256[7] = [self._params[asset][0], 0, self._params[asset][2], self._params[asset][3],
                     self._params[asset][4], self._params[asset][5], self._params[asset][6]]
    if with_size:
        w[1] = self._params[asset][1]
    f: uint256 = 0
    if with_forecast:
        f = self._fparams[asset]
    return risk_params._unpack(w, f)


@internal
def _store_params(asset: address, p: uint256[N_PARAMS]):
    """
    @dev Packs a parameter vector already bounded by `_check_params`.
    """
    self._params[asset], self._fparams[asset] = risk_params._pack(p)


@internal
@view
def _load_state(asset: address) -> (IRiskOracle.AssetState, uint256):
    """
    @dev The state of `asset` and its cached h_init, WAD (module `asset_state`).
    """
    return asset_state._decode(self._state[asset])


@internal
def _store_state(asset: address, s: IRiskOracle.AssetState, h_init: uint256):
    """
    @dev Packs the state of `asset` (module `asset_state`) with its
         staleness deadline under the stored parameters (heartbeat +
         grace of parameter word 0: every caller stores new parameters
         first, and has read that word already). Haircuts are
         <= WAD, variances <= VAR_CAP and times are block times or feed
         times not after them, so only the price needs a range check.
    """
    assert s.price <= MAX_PRICE, "oracle: price out of range"
    w0: uint256 = self._params[asset][0]
    self._state[asset] = asset_state._encode(s, h_init, self._state[asset][0], self._state[asset][3], risk_params._heartbeat(w0) + risk_params._grace(w0))


@internal
@view
def _sigma_h(asset: address, s: IRiskOracle.AssetState, p: uint256[N_PARAMS]) -> uint256:
    """
    @dev Sigma over the liquidation horizon that the haircuts use, WAD
         (docs/design.md §3.7): the realized sigma of max(var_fast, var_slow),
         or, while a forecast is live (`s.forecast`, f_mode != 0; `p` then
         carries the forecast entries), the pushed sigma's variance per
         second, clamped to [var_min, var_max], over the horizon, bounded
         by f_lo and f_hi times the realized sigma and entered by f_mode.
    """
    sigma_r: uint256 = risk_math._sigma(self._var(s), p[P_HORIZON])
    if not s.forecast or p[P_F_MODE] == forecast.MODE_OFF:
        return sigma_r
    var_f: uint256 = risk_math._clamp(
        forecast._variance(forecast._sigma(self._forecast[asset])), p[P_VAR_MIN], p[P_VAR_MAX]
    )
    return forecast._combine(p[P_F_MODE], sigma_r, risk_math._sigma(var_f, p[P_HORIZON]), p[P_F_LO], p[P_F_HI])


@internal
@pure
def _targets(sigma_h: uint256, p: uint256[N_PARAMS]) -> (uint256, uint256):
    """
    @dev The haircuts of a sigma over the horizon (`_sigma_h`, WAD) under
         the parameters: the maintenance target (docs/design.md §4.2) and
         the initial haircut without the size term (§4), whose floor is
         max(h_min, h_min_init): the value cached in state word 3.
         One call for both, so each caller computes the sigma (a square
         root) once and the vector is copied once.
    """
    return (
        risk_math._haircut(p[P_H0], p[P_Z_MAINT], sigma_h, p[P_H_MIN], p[P_H_MAX]),
        risk_math._haircut(p[P_H0], p[P_Z_INIT], sigma_h, max(p[P_H_MIN], p[P_H_MIN_INIT]), p[P_H_MAX]),
    )


@internal
@view
def _read_feed(feed: address, scale: uint256) -> (uint256, uint256, uint8):
    """
    @dev Returns (price WAD, updatedAt, reason); reason != 0 marks the
         answer unusable (non-positive, incomplete, or a scaled price
         above MAX_PRICE: range-checked before the scaling can overflow).
    """
    round_id: uint80 = 0
    answer: int256 = 0
    started_at: uint256 = 0
    updated_at: uint256 = 0
    answered_in: uint80 = 0
    round_id, answer, started_at, updated_at, answered_in = staticcall IAggregatorV3(feed).latestRoundData()
    if answer <= 0:
        return 0, updated_at, REASON_NON_POSITIVE
    if updated_at == 0 or answered_in < round_id or updated_at > block.timestamp:
        return 0, updated_at, REASON_INCOMPLETE
    if convert(answer, uint256) > MAX_PRICE // scale:
        return 0, updated_at, REASON_OUT_OF_RANGE
    return convert(answer, uint256) * scale, updated_at, 0


@internal
@view
def _var(s: IRiskOracle.AssetState) -> uint256:
    return max(s.var_fast, s.var_slow)


@internal
def _set_breaker(asset: address, s: IRiskOracle.AssetState, new_state: uint8, reason: uint8) -> IRiskOracle.AssetState:
    out: IRiskOracle.AssetState = s
    if new_state == s.breaker:
        return out
    if new_state == REDUCE_ONLY:
        self._globals += oracle_globals.ONE_TRIPPED
    elif s.breaker == REDUCE_ONLY:
        self._globals -= oracle_globals.ONE_TRIPPED
    log BreakerChanged(asset=asset, old_state=s.breaker, new_state=new_state, reason=reason)
    out.breaker = new_state
    return out


@internal
def _trip(asset: address, s: IRiskOracle.AssetState, reason: uint8) -> IRiskOracle.AssetState:
    out: IRiskOracle.AssetState = self._set_breaker(asset, s, REDUCE_ONLY, reason)
    out.tripped_at = block.timestamp
    if s.breaker == REDUCE_ONLY:
        # re-trip: restart the cooldown, state unchanged
        log BreakerChanged(asset=asset, old_state=REDUCE_ONLY, new_state=REDUCE_ONLY, reason=reason)
    return out


@internal
def _drawdown(asset: address, price: uint256, updated_at: uint256, window: uint256, trip: uint256) -> bool:
    """
    @dev The drawdown test of an accepted round (docs/design.md §7.8); a
         no-op returning False while `trip` (dd_trip, WAD) is 0. The
         reference (price WAD USD, feed time s) moves to this round when
         there is none yet or `window` seconds have passed since it was
         set, and when this round trips; the test is
         |price - ref_price| / ref_price > trip.
    """
    if trip == 0:
        return False
    w: uint256 = self._dd_ref[asset]
    ref_price: uint256 = drawdown_word._ref_price(w)
    ref_time: uint256 = drawdown_word._ref_time(w)
    if ref_price == 0 or updated_at - ref_time >= window:
        ref_price = price
        ref_time = updated_at
    tripped: bool = risk_math._abs_return(ref_price, price) > trip
    if tripped:
        ref_price = price
        ref_time = updated_at
    nw: uint256 = drawdown_word._pack(ref_price, ref_time)
    if nw != w:
        self._dd_ref[asset] = nw
    return tripped


@internal
def _poke(asset: address):
    s: IRiskOracle.AssetState = empty(IRiskOracle.AssetState)
    h_init: uint256 = 0
    s, h_init = self._load_state(asset)
    assert s.feed != empty(address), "oracle: asset not listed"
    p: uint256[N_PARAMS] = self._load_params(asset, s.forecast, False)
    now: uint256 = block.timestamp
    price: uint256 = 0
    updated_at: uint256 = 0
    reason: uint8 = 0
    price, updated_at, reason = self._read_feed(s.feed, s.feed_scale)
    accepted: bool = False
    abs_r: uint256 = 0
    if reason == 0:
        if now - updated_at > p[P_HEARTBEAT] + p[P_GRACE]:
            reason = REASON_STALE
        elif updated_at > s.updated_at:
            accepted = True
            # range-checked before anything squares it (docs/design.md §7.2)
            abs_r = risk_math._abs_return(s.price, price)
            if abs_r > MAX_ABS_RETURN:
                reason = REASON_OUT_OF_RANGE
    if reason != 0:
        s.invalid = True
        self._store_state(asset, self._trip(asset, s, reason), h_init)
        return

    jump: bool = False
    drawdown: bool = False
    if accepted:
        dt: uint256 = updated_at - s.updated_at
        sigma_dt: uint256 = risk_math._sigma(self._var(s), dt)
        jump = abs_r > p[P_K_JUMP] * sigma_dt // WAD + p[P_R_FLOOR]
        var_min: uint256 = p[P_VAR_MIN]
        var_max: uint256 = p[P_VAR_MAX]
        s.var_fast = risk_math._clamp(
            risk_math._ewma_var(s.var_fast, abs_r, dt, p[P_TAU_FAST]), var_min, var_max
        )
        s.var_slow = risk_math._clamp(
            risk_math._ewma_var(s.var_slow, abs_r, dt, p[P_TAU_SLOW]), var_min, var_max
        )
        drawdown = self._drawdown(asset, price, updated_at, p[P_DD_WINDOW], p[P_DD_TRIP])
        s.price = price
        s.updated_at = updated_at
    s.invalid = False
    # A forecast past its expiry (or with f_mode set to off) leaves the haircuts to the
    # realized sigma from now on (docs/design.md §3.7).
    expired: bool = False
    if s.forecast:
        if p[P_F_MODE] == forecast.MODE_OFF or now >= forecast._pushed_at(self._forecast[asset]) + p[P_F_TTL]:
            s.forecast = False
            expired = True
            log ForecastExpired(asset=asset)

    # Bring the haircut in force to now under the old target, then retarget.
    s.h_maint = risk_math._ramp(s.h_maint, s.h_target, now - s.h_time, p[P_RAMP_UP], p[P_RAMP_DOWN])
    s.h_time = now
    var: uint256 = self._var(s)
    new_init: uint256 = 0
    s.h_target, new_init = self._targets(self._sigma_h(asset, s, p), p)
    if accepted or expired:
        h_init = new_init
    if accepted:
        log PriceAccepted(
            asset=asset, price=price, updated_at=updated_at, var_fast=s.var_fast, var_slow=s.var_slow, h_target=s.h_target
        )
    if jump:
        s = self._trip(asset, s, REASON_JUMP)
    elif drawdown:
        s = self._trip(asset, s, REASON_DRAWDOWN)
    else:
        cooldown: uint256 = p[P_COOLDOWN]
        if s.breaker != REDUCE_ONLY or now >= s.tripped_at + cooldown:
            hot: bool = risk_math._sigma(var, SECONDS_PER_YEAR) > p[P_SIGMA_CAUTION]
            cooling: bool = s.tripped_at != 0 and now < s.tripped_at + 2 * cooldown
            if hot or cooling:
                s = self._set_breaker(asset, s, CAUTION, REASON_VOLATILITY)
            else:
                s = self._set_breaker(asset, s, NORMAL, REASON_VOLATILITY)
    self._store_state(asset, s, h_init)


@external
def poke(asset: address):
    """
    @notice Reads the asset's feed and, on a new valid round, updates the
            EWMA variances, the maintenance-haircut target and the
            circuit breaker. Permissionless.
    @dev A non-positive, incomplete, out-of-range (scaled price above
         2**192 - 1 WAD, or a move of more than MAX_ABS_RETURN) or stale
         answer does not revert: it
         trips the breaker to REDUCE_ONLY and marks the price invalid,
         so that nothing is valued at it until a valid round arrives.
         Reverts "oracle: asset not listed".
    @param asset The listed token address.
    """
    self._poke(asset)


@external
def poke_many(assets_: DynArray[address, MAX_BATCH]):
    """
    @notice `poke` for up to 16 assets in one transaction.
    @param assets_ Listed token addresses.
    """
    for asset: address in assets_:
        self._poke(asset)


@internal
@view
def _h_maint_now(s: IRiskOracle.AssetState, ramp_up: uint256, ramp_down: uint256) -> uint256:
    return risk_math._ramp(s.h_maint, s.h_target, block.timestamp - s.h_time, ramp_up, ramp_down)


@internal
@view
def _risk(asset: address) -> IRiskOracle.RiskView:
    """
    @dev `risk` from three packed words: state words 1 and 3 (module
         `asset_state`: word 1 holds the staleness deadline) and parameter
         word 1 (kappa, depth); parameter word 0 (the ramp speeds) only
         while the maintenance haircut moves (h_maint != h_target: the
         ramp of a haircut at its target is the target).
    """
    s: IRiskOracle.AssetState = empty(IRiskOracle.AssetState)
    h_init: uint256 = 0
    # words 1 and 3 only (module `asset_state`): word 3 holds the flags and tells a listed asset
    st3: uint256 = self._state[asset][3]
    assert asset_state._listed(st3), "oracle: asset not listed"
    st1: uint256 = self._state[asset][1]
    s, h_init = asset_state._decode([0, st1, 0, st3])
    assert not s.invalid, "oracle: invalid price"
    assert block.timestamp <= asset_state._valid_until(st1), "oracle: stale price"
    h_maint: uint256 = s.h_target
    if s.h_maint != s.h_target:
        w0: uint256 = self._params[asset][0]
        h_maint = self._h_maint_now(s, risk_params._ramp_up(w0), risk_params._ramp_down(w0))
    w1: uint256 = self._params[asset][1]
    return IRiskOracle.RiskView(
        price=s.price,
        h_maint=h_maint,
        # the initial haircut in force is never below the maintenance haircut in force
        # (docs/design.md §4.3): after a spike h_init falls at once, h_maint at the ramp speed
        h_init=max(h_init, h_maint),
        kappa=risk_params._kappa(w1),
        depth=risk_params._depth(w1),
        breaker=s.breaker,
        correlated=asset_state._n_pairs(st3) != 0,
    )


@external
@view
def risk(asset: address) -> IRiskOracle.RiskView:
    """
    @notice Everything the vault needs to value one asset.
    @dev Reverts "oracle: asset not listed", "oracle: invalid price" (the
         last poke saw a non-positive or incomplete answer, or a stale
         feed) and "oracle: stale price" (the accepted price is older than
         heartbeat + grace).
    @param asset The listed token address.
    @return price (WAD USD), h_maint (WAD, ramped to now), h_init (WAD,
            without the size term: max(cached h_init, h_maint), §4.3),
            kappa (WAD), depth (WAD USD), breaker.
    """
    return self._risk(asset)


@external
@view
def risk_many(assets_: DynArray[address, MAX_BATCH]) -> DynArray[IRiskOracle.RiskView, MAX_BATCH]:
    """
    @notice `risk` of up to 16 assets in one call (the vault's health check).
    @dev Reverts as `risk` on the first asset that cannot be valued.
    @param assets_ Listed token addresses.
    @return One RiskView per asset, in order.
    """
    out: DynArray[IRiskOracle.RiskView, MAX_BATCH] = []
    for asset: address in assets_:
        out.append(self._risk(asset))
    return out


@external
@view
def assets(asset: address) -> IRiskOracle.AssetState:
    """
    @notice The unpacked state of an asset (all zero if not listed).
    @return feed, feed_scale (10**(18 - feed decimals)), price (WAD USD),
            updated_at (s), var_fast and var_slow (WAD per s), h_maint
            (WAD, at h_time), h_target (WAD), h_time (s), breaker,
            tripped_at (s, 0: never), invalid.
    """
    s: IRiskOracle.AssetState = empty(IRiskOracle.AssetState)
    h_init: uint256 = 0
    s, h_init = self._load_state(asset)
    if s.feed == empty(address):
        return empty(IRiskOracle.AssetState)
    return s


@external
@view
def params(asset: address, i: uint256) -> uint256:
    """
    @notice One risk parameter of an asset (P_* index; 0 if not listed).
    """
    return self._load_params(asset, True, True)[i]


@external
@view
def haircuts(asset: address) -> (uint256, uint256):
    """
    @notice Haircuts in force now, without price checks (display), as
            `risk` returns them.
    @dev Reverts "oracle: asset not listed".
    @return (h_maint ramped to now, h_init without size term: the cached
            h_init, or h_maint where that is higher, docs/design.md §4.3),
            WAD.
    """
    s: IRiskOracle.AssetState = empty(IRiskOracle.AssetState)
    h_init: uint256 = 0
    s, h_init = self._load_state(asset)
    assert s.feed != empty(address), "oracle: asset not listed"
    w0: uint256 = self._params[asset][0]
    h_maint: uint256 = self._h_maint_now(s, risk_params._ramp_up(w0), risk_params._ramp_down(w0))
    return h_maint, max(h_init, h_maint)


@external
@view
def sigma(asset: address, horizon: uint256) -> uint256:
    """
    @notice sigma over `horizon` seconds from max(var_fast, var_slow).
    @param horizon Seconds (31_536_000 for the annualized sigma).
    @return Sigma, WAD.
    """
    s: IRiskOracle.AssetState = empty(IRiskOracle.AssetState)
    h_init: uint256 = 0
    s, h_init = self._load_state(asset)
    assert s.feed != empty(address), "oracle: asset not listed"
    return risk_math._sigma(self._var(s), horizon)


@external
@view
def drawdown_ref(asset: address) -> (uint256, uint256):
    """
    @notice The drawdown reference (docs/design.md §7.8): price (WAD USD)
            and feed time (s); (0, 0) before the first accepted round
            with dd_trip != 0.
    """
    w: uint256 = self._dd_ref[asset]
    return drawdown_word._ref_price(w), drawdown_word._ref_time(w)


@external
@view
def breaker(asset: address) -> uint8:
    """
    @notice Circuit-breaker state: 0 NORMAL, 1 CAUTION, 2 REDUCE_ONLY.
    """
    return asset_state._breaker(self._state[asset][3])


@external
@view
def n_tripped() -> uint256:
    """
    @notice The number of listed assets in REDUCE_ONLY (the vault's lower liquidation cap applies while > 0).
    """
    return oracle_globals._n_tripped(self._globals)


@external
@view
def portfolio_floor() -> uint256:
    """
    @notice The least portfolio scale of an account's haircuts, WAD (1e18: portfolio margin off).
    """
    return oracle_globals._floor(self._globals)


@external
@view
def n_listed() -> uint256:
    """
    @notice Number of listed assets.
    """
    return len(self.listed)


@external
def list_asset(asset: address, feed: address, var_seed: uint256, params_: uint256[N_PARAMS]):
    """
    @notice Lists an asset with its feed, seed variance and parameters.
    @dev DEFAULT_ADMIN_ROLE. Reverts "oracle: already listed",
         "oracle: bad params", "oracle: feed decimals > 18",
         "oracle: price out of range", "oracle: invalid price",
         "oracle: stale price".
    @param asset Token address.
    @param feed AggregatorV3Interface feed of the asset in USD.
    @param var_seed Governance seed of both variances, WAD per second,
           clamped to [var_min, var_max].
    @param params_ Parameter vector, indexed by the P_* constants.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert asset != empty(address) and feed != empty(address), "oracle: zero address"
    assert self._state[asset][0] == 0, "oracle: already listed"
    self._check_params(params_)
    decimals: uint256 = convert(staticcall IAggregatorV3(feed).decimals(), uint256)
    assert decimals <= 18, "oracle: feed decimals > 18"
    scale: uint256 = 10 ** (18 - decimals)
    price: uint256 = 0
    updated_at: uint256 = 0
    reason: uint8 = 0
    price, updated_at, reason = self._read_feed(feed, scale)
    assert reason != REASON_OUT_OF_RANGE, "oracle: price out of range"
    assert reason == 0, "oracle: invalid price"
    assert block.timestamp - updated_at <= params_[P_HEARTBEAT] + params_[P_GRACE], "oracle: stale price"
    var: uint256 = risk_math._clamp(var_seed, params_[P_VAR_MIN], params_[P_VAR_MAX])
    h: uint256 = 0
    h_init: uint256 = 0
    h, h_init = self._targets(risk_math._sigma(var, params_[P_HORIZON]), params_)
    self._store_params(asset, params_)
    st: IRiskOracle.AssetState = IRiskOracle.AssetState(
        feed=feed,
        feed_scale=scale,
        price=price,
        updated_at=updated_at,
        var_fast=var,
        var_slow=var,
        h_maint=h,
        h_target=h,
        h_time=block.timestamp,
        breaker=NORMAL,
        tripped_at=0,
        invalid=False,
        forecast=False,
    )
    self._store_state(asset, st, h_init)
    self.listed.append(asset)
    log AssetListed(asset=asset, feed=feed, price=price, var_seed=var)


@external
def set_param(asset: address, param: uint256, new_value: uint256):
    """
    @notice Changes one risk parameter of a listed asset and retargets its
            haircuts under the new vector: the maintenance target at once (the
            haircut in force moves toward it at the ramp speeds), the initial
            haircut at once.
    @dev DEFAULT_ADMIN_ROLE (the timelock) may set any valid value;
         RISK_ADMIN_ROLE moves a parameter by at most `max_rel_change`
         of its current value, and not within `min_change_delay`
         seconds of the previous change (docs/design.md §8, Aave risk stewards).
         Reverts "oracle: asset not listed", "oracle: unknown param",
         "oracle: bad params", "steward: change too large",
         "steward: change too soon", "access_control: account is missing role".
    @param asset Listed token address.
    @param param Index into the parameter vector (P_* constants).
    @param new_value New value, in the parameter's unit.
    """
    assert self._state[asset][0] != 0, "oracle: asset not listed"
    assert param < N_PARAMS, "oracle: unknown param"
    p: uint256[N_PARAMS] = self._load_params(asset, True, True)
    old: uint256 = p[param]
    steward._authorize_change(asset, param, old, new_value)
    s: IRiskOracle.AssetState = empty(IRiskOracle.AssetState)
    h_init: uint256 = 0
    s, h_init = self._load_state(asset)
    # Bring the haircut in force to now under the old ramp speeds, so that a
    # new speed applies from now on only and never retroactively (docs/design.md §4:
    # the maintenance haircut moves at bounded speed).
    s.h_maint = self._h_maint_now(s, p[P_RAMP_UP], p[P_RAMP_DOWN])
    s.h_time = block.timestamp
    p[param] = new_value
    self._check_params(p)
    self._store_params(asset, p)
    # retarget under the new parameters (the haircut in force then moves at the ramp speeds),
    # and keep the cached h_init equal to the live formula
    s.h_target, h_init = self._targets(self._sigma_h(asset, s, p), p)
    self._store_state(asset, s, h_init)


# ---------------------------------------------------------------- forecast volatility


@external
def push_forecast(asset: address, sigma: uint256):
    """
    @notice Pushes a forecast volatility of a listed asset (docs/design.md
            §3.7), e.g. a GARCH(1,1) one-day-ahead forecast, annualized.
            While it is live (until f_ttl seconds after the push, seen by
            the first poke after that), the haircuts use it as f_mode says,
            bounded by f_lo and f_hi times the realized sigma. Brings the
            maintenance haircut in force to now, then retargets it and the
            initial haircut with the new sigma.
    @dev RISK_KEEPER_ROLE. Reverts "oracle: asset not listed", "oracle:
         forecast off" (f_mode is 0), "oracle: forecast too soon" (less
         than a heartbeat since the last push), "oracle: forecast out of
         bounds" (unless f_lo * sigma_r <= sigma * 1e18 <= f_hi * sigma_r,
         sigma_r the realized sigma per year), "oracle: forecast step too
         large" (a live push exists and |sigma - live| * 1e18 > f_step *
         live), "access_control: account is missing role".
    @param asset Listed token address.
    @param sigma Forecast volatility, WAD per year (0.8e18: 80 % a year).
    """
    access_control._check_role(RISK_KEEPER_ROLE, msg.sender)
    s: IRiskOracle.AssetState = empty(IRiskOracle.AssetState)
    h_init: uint256 = 0
    s, h_init = self._load_state(asset)
    assert s.feed != empty(address), "oracle: asset not listed"
    p: uint256[N_PARAMS] = self._load_params(asset, True, True)
    assert p[P_F_MODE] != forecast.MODE_OFF, "oracle: forecast off"
    w: uint256 = self._forecast[asset]
    now: uint256 = block.timestamp
    assert now - forecast._pushed_at(w) >= p[P_HEARTBEAT], "oracle: forecast too soon"
    sigma_r: uint256 = risk_math._sigma(self._var(s), SECONDS_PER_YEAR)
    assert sigma <= forecast.MAX_SIGMA and forecast._within(sigma, sigma_r, p[P_F_LO], p[P_F_HI]), "oracle: forecast out of bounds"
    if s.forecast and now < forecast._pushed_at(w) + p[P_F_TTL]:
        assert forecast._step_ok(forecast._sigma(w), sigma, p[P_F_STEP]), "oracle: forecast step too large"
    s.h_maint = self._h_maint_now(s, p[P_RAMP_UP], p[P_RAMP_DOWN])
    s.h_time = now
    self._forecast[asset] = forecast._pack(sigma, now)
    s.forecast = True
    s.h_target, h_init = self._targets(self._sigma_h(asset, s, p), p)
    self._store_state(asset, s, h_init)
    log ForecastPushed(asset=asset, sigma=sigma, sigma_realized=sigma_r, h_target=s.h_target)


@external
@view
def forecast_of(asset: address) -> (uint256, uint256, bool):
    """
    @notice The last pushed forecast of an asset (docs/design.md §3.7).
    @return sigma (WAD per year; 0: never pushed), push time (s), and
            whether the haircuts use it (live and f_mode != 0).
    """
    s: IRiskOracle.AssetState = empty(IRiskOracle.AssetState)
    h_init: uint256 = 0
    s, h_init = self._load_state(asset)
    w: uint256 = self._forecast[asset]
    return forecast._sigma(w), forecast._pushed_at(w), s.forecast and risk_params._f_mode(self._fparams[asset]) != forecast.MODE_OFF


# ---------------------------------------------------------------- portfolio margin


@internal
@pure
def _ordered(a: address, b: address) -> (address, address):
    """
    @dev The pair's storage order: lower address first.
    """
    if convert(a, uint160) < convert(b, uint160):
        return a, b
    return b, a


@external
def set_correlation(asset_a: address, asset_b: address, rho_lo: int256, rho_hi: int256):
    """
    @notice Sets the correlation bounds of two listed assets for
            portfolio margin (docs/design.md §5.6): a deposit and a borrow
            of the pair offset each other as far as the lower bound
            allows, two deposits (or two borrows) as far as the upper
            bound allows. (-1, +1) removes every offset of the pair.
    @dev DEFAULT_ADMIN_ROLE freely; RISK_ADMIN_ROLE within the steward
         limits on each offset, 1 - rho_hi and 1 + rho_lo (steward key:
         the lower address; param: the higher address << 8 | 0 for the
         same-sign offset, | 1 for the opposite-sign one), so it cannot
         create an offset where there is none. Reverts "oracle: asset
         not listed", "oracle: same asset", "oracle: bad correlation"
         (unless -1 <= rho_lo <= rho_hi <= 1), "steward: change too
         large", "steward: change too soon", "access_control: account
         is missing role".
    @param asset_a Listed token.
    @param asset_b Another listed token.
    @param rho_lo Lower bound, WAD, signed (-1e18 .. rho_hi).
    @param rho_hi Upper bound, WAD, signed (rho_lo .. 1e18).
    """
    assert self._state[asset_a][0] != 0 and self._state[asset_b][0] != 0, "oracle: asset not listed"
    assert asset_a != asset_b, "oracle: same asset"
    assert -WAD_I <= rho_lo and rho_lo <= rho_hi and rho_hi <= WAD_I, "oracle: bad correlation"
    a: address = empty(address)
    b: address = empty(address)
    a, b = self._ordered(asset_a, asset_b)
    old: uint256 = self._pairs[a][b]
    new: uint256 = portfolio._pack_pair(rho_lo, rho_hi)
    steward._authorize_change(a, portfolio._offset_key(b, False), portfolio._same_offset(old), portfolio._same_offset(new))
    steward._authorize_change(a, portfolio._offset_key(b, True), portfolio._opposite_offset(old), portfolio._opposite_offset(new))
    self._pairs[a][b] = new
    # each asset counts its pairs with an offset (RiskView.correlated)
    if old == 0 and new != 0:
        self._state[a][3] += asset_state.ONE_PAIR
        self._state[b][3] += asset_state.ONE_PAIR
    elif old != 0 and new == 0:
        self._state[a][3] -= asset_state.ONE_PAIR
        self._state[b][3] -= asset_state.ONE_PAIR
    log CorrelationSet(asset_a=a, asset_b=b, rho_lo=rho_lo, rho_hi=rho_hi)


@external
def set_portfolio_floor(new_value: uint256):
    """
    @notice Sets the least portfolio scale of an account's haircuts:
            no offset lowers an account's requirement below this
            fraction of the sum of its per-asset requirements
            (docs/design.md §5.6). 1e18 turns portfolio margin off.
    @dev DEFAULT_ADMIN_ROLE freely; RISK_ADMIN_ROLE within the steward
         limits (key: the zero address, param PORTFOLIO_FLOOR_PARAM).
         Reverts "oracle: bad params" (unless 0 < new_value <= 1e18),
         "steward: change too large", "steward: change too soon",
         "access_control: account is missing role".
    @param new_value WAD, in (0, 1e18].
    """
    assert new_value > 0 and new_value <= WAD, "oracle: bad params"
    g: uint256 = self._globals
    steward._authorize_change(empty(address), PORTFOLIO_FLOOR_PARAM, oracle_globals._floor(g), new_value)
    self._globals = oracle_globals._with_floor(g, new_value)


@external
@view
def correlation(asset_a: address, asset_b: address) -> (int256, int256):
    """
    @notice Correlation bounds (rho_lo, rho_hi) of two assets, WAD,
            signed; (-1e18, 1e18) for a pair never set.
    """
    a: address = empty(address)
    b: address = empty(address)
    a, b = self._ordered(asset_a, asset_b)
    w: uint256 = self._pairs[a][b]
    return portfolio._rho_lo(w), portfolio._rho_hi(w)


@external
@view
def portfolio_scales(
    legs: address[MAX_LEGS], balances: int256[MAX_LEGS], units: uint256[MAX_LEGS]
) -> (uint256, uint256):
    """
    @notice The portfolio scales (lambda_maint, lambda_init) of one
            account's haircuts (docs/design.md §5.6). Each leg is valued
            as the vault values it (`risk`, deposits rounded down, borrows
            up) and its requirements are u = value * h // 1e18 with the
            maintenance haircut and with the initial one (size term, and
            for a deposit the concentration haircut, capped at 1); S is
            their sum. lambda = clamp(sqrt(1 - 2 sum_{i<j} x_i x_j c_ij),
            portfolio_floor, 1) with shares x_i = u_i / S and c_ij the
            pair's same-sign offset (1 - rho_hi) for two deposits or two
            borrows, its opposite-sign offset (1 + rho_lo) for a deposit
            against a borrow; only legs of assets with a pair are paired
            (module `portfolio`; every rounding raises lambda).
    @dev The vault passes one leg per slot (the zero address: no leg).
         Reverts as `risk` for a leg that cannot be valued ("oracle:
         asset not listed", "oracle: invalid price", "oracle: stale
         price"), and on overflow.
    @param legs Token of each leg, or the zero address.
    @param balances Signed balance of each leg, token decimals (> 0 a
           deposit, < 0 a borrow).
    @param units Decimals | concentration haircut of the asset's total
           deposits (WAD) of each leg, as module `leg_units` packs them.
    @return lambda_maint, lambda_init, WAD in [portfolio_floor, 1e18].
    """
    floor_: uint256 = oracle_globals._floor(self._globals)
    if floor_ == WAD:
        return WAD, WAD
    um: uint256[MAX_LEGS] = empty(uint256[MAX_LEGS])
    ui: uint256[MAX_LEGS] = empty(uint256[MAX_LEGS])
    sm: uint256 = 0
    si: uint256 = 0
    paired: DynArray[uint256, MAX_LEGS] = []  # legs with a requirement whose asset has a pair
    for i: uint256 in range(MAX_LEGS):
        if legs[i] == empty(address) or balances[i] == 0:
            continue
        r: IRiskOracle.RiskView = self._risk(legs[i])
        v: uint256 = 0
        conc: uint256 = 0
        if balances[i] > 0:
            v = risk_math._asset_value(convert(balances[i], uint256), r.price, leg_units._decimals(units[i]))
            conc = leg_units._concentration(units[i])
        else:
            v = risk_math._liability_value(convert(-balances[i], uint256), r.price, leg_units._decimals(units[i]))
        um[i] = v * r.h_maint // WAD
        ui[i] = v * risk_math._initial_haircut(r.h_init, r.kappa, r.depth, v, conc) // WAD
        sm += um[i]
        si += ui[i]
        if r.correlated and um[i] | ui[i] != 0:
            paired.append(i)
    rm: uint256 = 0
    ri: uint256 = 0
    for k: uint256 in range(len(paired), bound=MAX_LEGS):
        i: uint256 = paired[k]
        for m: uint256 in range(k + 1, k + MAX_LEGS, bound=MAX_LEGS):
            if m >= len(paired):
                break
            j: uint256 = paired[m]
            a: address = empty(address)
            b: address = empty(address)
            a, b = self._ordered(legs[i], legs[j])
            c: uint256 = portfolio._offset(self._pairs[a][b], (balances[i] > 0) == (balances[j] > 0))
            if sm != 0:
                rm += portfolio._pair_term(portfolio._share(um[i], sm), portfolio._share(um[j], sm), c)
            if si != 0:
                ri += portfolio._pair_term(portfolio._share(ui[i], si), portfolio._share(ui[j], si), c)
    return portfolio._scale(rm, floor_), portfolio._scale(ri, floor_)
