# pragma version ~=0.4.3
"""
@title volmargin asset state codec
@custom:contract-name asset_state
@license GNU Affero General Public License v3.0 only
@notice Codec of the RiskOracle's packed per-asset state, four storage
        words (docs/design.md §3.6), in the style of Aave's
        ReserveConfiguration: each field has its bit position, its width
        (the bound a value must respect to fit) and a named accessor; no
        other contract shifts or masks these words. Layout:
          word 0: feed (bits 0-159) | feed_scale exponent, 18 - feed
                  decimals (160-167) | tripped_at (184-247)
          word 1: price (0-127) | updated_at (128-191) | valid_until
                  (192-255): updated_at + heartbeat + grace, the last
                  second `risk()` serves the price (capped at 2**64 - 1)
          word 2: var_fast (0-127) | var_slow (128-255)
          word 3: h_maint (0-59) | h_target (60-119) | h_init (120-179) |
                  h_time (180-243) | forecast (244) | invalid (245) |
                  breaker (246-247) | n_pairs (248-255)
        `risk()` needs words 1 and 3 only: the breaker, the invalid flag
        and the pair count share word 3 with the haircuts, a listed asset
        has h_time != 0 (its listing's block time), so word 3 also tells
        whether the asset is listed, and word 1 carries the staleness
        deadline, so `risk()` reads no parameter word for it (the ramp
        speeds only while h_maint moves). Every write of word 1 is given
        the asset's heartbeat + grace in force (`_encode`).
        Prices, haircuts and variances are WAD (variances per second);
        times Unix seconds. Only the price can exceed its field in use
        (haircuts are <= 1e18 < 2**60, variances <= VAR_CAP < 2**120,
        times are block or feed times): the oracle range-checks it against
        PRICE_MAX ("oracle: price out of range").
"""

import interfaces.IRiskOracle as IRiskOracle

# ---------------------------------------------------------------- word 0
FEED_MASK: constant(uint256) = 2**160 - 1
SCALE_EXP_SHIFT: constant(uint256) = 160
TRIPPED_AT_SHIFT: constant(uint256) = 184
BYTE_MASK: constant(uint256) = 2**8 - 1  # scale exponent
# feed | scale exponent (bits 0-167): written at listing, never changed after.
IDENTITY_MASK: constant(uint256) = 2**168 - 1
TIME_MASK: constant(uint256) = 2**64 - 1  # tripped_at, updated_at, h_time
# ---------------------------------------------------------------- word 1
PRICE_MAX: constant(uint256) = 2**128 - 1  # WAD USD: the largest price the field holds
UPDATED_AT_SHIFT: constant(uint256) = 128
VALID_UNTIL_SHIFT: constant(uint256) = 192
# ---------------------------------------------------------------- word 2
VAR_MASK: constant(uint256) = 2**128 - 1
VAR_SLOW_SHIFT: constant(uint256) = 128
# ---------------------------------------------------------------- word 3
HAIRCUT_MASK: constant(uint256) = 2**60 - 1  # haircuts <= 1e18 < 2**60
H_TARGET_SHIFT: constant(uint256) = 60
H_INIT_SHIFT: constant(uint256) = 120
H_TIME_SHIFT: constant(uint256) = 180
FORECAST_SHIFT: constant(uint256) = 244
INVALID_SHIFT: constant(uint256) = 245
BREAKER_SHIFT: constant(uint256) = 246
BREAKER_MASK: constant(uint256) = 2**2 - 1  # 0 NORMAL, 1 CAUTION, 2 REDUCE_ONLY
N_PAIRS_SHIFT: constant(uint256) = 248
# One more correlation pair: added to (or taken from) word 3 by `set_correlation`
# (at most 255 pairs an asset: the oracle lists at most 64 assets).
ONE_PAIR: constant(uint256) = 1 << N_PAIRS_SHIFT


@internal
@pure
def _breaker(w3: uint256) -> uint8:
    """
    @notice The circuit-breaker state (word 3): 0 NORMAL, 1 CAUTION, 2 REDUCE_ONLY.
    """
    return convert((w3 >> BREAKER_SHIFT) & BREAKER_MASK, uint8)


@internal
@pure
def _n_pairs(w3: uint256) -> uint256:
    """
    @notice The number of the asset's correlation pairs with an offset (word 3).
    """
    return w3 >> N_PAIRS_SHIFT


@internal
@pure
def _listed(w3: uint256) -> bool:
    """
    @notice Whether word 3 belongs to a listed asset (h_time, a block time, is set at listing).
    """
    return w3 != 0


@internal
@pure
def _valid_until(w1: uint256) -> uint256:
    """
    @notice The last second the price may be served, s (word 1):
            updated_at + heartbeat + grace, capped at 2**64 - 1.
    """
    return w1 >> VALID_UNTIL_SHIFT


@internal
@pure
def _decode(w: uint256[4]) -> (IRiskOracle.AssetState, uint256):
    """
    @notice Unpacks the four words into the state and the cached h_init (WAD).
    @dev feed_scale = 10**exponent. Every field is read inline with its
         position and width (the constants above; a call per field would
         cost gas on every `risk` and poke); the accessors above serve
         the fields read alone.
    """
    return IRiskOracle.AssetState(
        feed=convert(convert(w[0] & FEED_MASK, uint160), address),
        feed_scale=10 ** ((w[0] >> SCALE_EXP_SHIFT) & BYTE_MASK),
        price=w[1] & PRICE_MAX,
        updated_at=(w[1] >> UPDATED_AT_SHIFT) & TIME_MASK,
        var_fast=w[2] & VAR_MASK,
        var_slow=w[2] >> VAR_SLOW_SHIFT,
        h_maint=w[3] & HAIRCUT_MASK,
        h_target=(w[3] >> H_TARGET_SHIFT) & HAIRCUT_MASK,
        h_time=(w[3] >> H_TIME_SHIFT) & TIME_MASK,
        breaker=convert((w[3] >> BREAKER_SHIFT) & BREAKER_MASK, uint8),
        tripped_at=(w[0] >> TRIPPED_AT_SHIFT) & TIME_MASK,
        invalid=(w[3] >> INVALID_SHIFT) & 1 != 0,
        forecast=(w[3] >> FORECAST_SHIFT) & 1 != 0,
    ), (w[3] >> H_INIT_SHIFT) & HAIRCUT_MASK


@internal
@pure
def _encode(s: IRiskOracle.AssetState, h_init: uint256, w0_old: uint256, w3_old: uint256, max_age: uint256) -> uint256[4]:
    """
    @notice Packs a state and its cached h_init (WAD) over the asset's
            stored words 0 and 3 (0 at listing): word 0 keeps, once
            listed, the feed and its scale exponent, word 3 the pair count;
            word 1 gets the deadline updated_at + `max_age` (the asset's
            heartbeat + grace, s; < 2**65), capped at 2**64 - 1: for any
            block time below 2**64, `now <= valid_until` iff
            `now - updated_at <= heartbeat + grace`.
    @dev The caller range-checks the price (<= PRICE_MAX). At listing,
         feed_scale (a power of ten <= 1e18) is stored as its exponent;
         after that `s.feed` and `s.feed_scale` are not read (they never
         change), which spares every poke the exponent's loop.
    """
    identity: uint256 = w0_old & IDENTITY_MASK
    if identity == 0:
        exp: uint256 = 0
        scale: uint256 = s.feed_scale
        for i: uint256 in range(18):
            if scale == 1:
                break
            scale //= 10
            exp += 1
        identity = convert(convert(s.feed, uint160), uint256) | (exp << SCALE_EXP_SHIFT)
    flag: uint256 = 0
    if s.invalid:
        flag = 1
    live: uint256 = 0
    if s.forecast:
        live = 1
    return [
        identity | (s.tripped_at << TRIPPED_AT_SHIFT),
        s.price | (s.updated_at << UPDATED_AT_SHIFT) | (min(s.updated_at + max_age, TIME_MASK) << VALID_UNTIL_SHIFT),
        s.var_fast | (s.var_slow << VAR_SLOW_SHIFT),
        s.h_maint | (s.h_target << H_TARGET_SHIFT) | (h_init << H_INIT_SHIFT) | (s.h_time << H_TIME_SHIFT) | (live << FORECAST_SHIFT)
        | (flag << INVALID_SHIFT) | (convert(s.breaker, uint256) << BREAKER_SHIFT) | (w3_old >> N_PAIRS_SHIFT << N_PAIRS_SHIFT),
    ]
