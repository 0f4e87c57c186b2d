# pragma version ~=0.4.3
"""
@title volmargin forecast volatility
@custom:contract-name forecast
@license GNU Affero General Public License v3.0 only
@notice A forecast volatility pushed by a risk keeper, bounded by the
        oracle's own realized volatility (docs/design.md §3.7). A push
        is an annualized sigma (WAD); while it is live, the haircuts use
            sigma_f' = clamp(sigma_f, f_lo * sigma_r, f_hi * sigma_r)
        over the liquidation horizon, where sigma_r is the realized
        sigma, entered by the mode: REPLACE (sigma_f'), MAX
        (max(sigma_r, sigma_f')) or BLEND ((sigma_r + sigma_f') / 2).
        OFF (the default) uses sigma_r alone. So a compromised keeper
        cannot lower a haircut's sigma below f_lo times the realized one,
        nor raise it above f_hi times it.
        This module holds the forecast word's codec and that arithmetic;
        `volmargin.reference.forecast` mirrors it bit for bit. Sigmas and
        multiples are WAD (1e18 = 1.0); times Unix seconds.
"""

WAD: constant(uint256) = 10**18
SECONDS_PER_YEAR: constant(uint256) = 31_536_000
M64: constant(uint256) = 2**64 - 1
M128: constant(uint256) = 2**128 - 1

# How a live forecast enters the haircut (the parameter f_mode).
MODE_OFF: constant(uint256) = 0
MODE_REPLACE: constant(uint256) = 1
MODE_MAX: constant(uint256) = 2
MODE_BLEND: constant(uint256) = 3
# Largest pushed sigma, WAD per year (so that sigma**2 fits a word).
MAX_SIGMA: constant(uint256) = 2**128 - 1


# ---------------------------------------------------------------- forecast word
# One storage word per asset: bits 0-127 the pushed sigma (WAD, annual),
# bits 128-191 the push time (s). The empty word: never pushed.


@internal
@pure
def _pack(sigma: uint256, pushed_at: uint256) -> uint256:
    """
    @notice The forecast word of a push.
    @dev The caller bounds sigma (<= MAX_SIGMA) and pushed_at (a block time).
    @param sigma Pushed sigma, WAD per year.
    @param pushed_at Push time, Unix seconds.
    """
    return sigma | pushed_at << 128


@internal
@pure
def _sigma(w: uint256) -> uint256:
    """
    @notice The pushed sigma of a forecast word, WAD per year.
    """
    return w & M128


@internal
@pure
def _pushed_at(w: uint256) -> uint256:
    """
    @notice The push time of a forecast word, Unix seconds (0: never).
    """
    return (w >> 128) & M64


# ---------------------------------------------------------------- arithmetic


@internal
@pure
def _variance(sigma: uint256) -> uint256:
    """
    @notice The variance per second of an annual sigma: sigma**2 / (1e18 * 31,536,000),
            WAD per second, rounded down (the oracle's unit of variance, docs/design.md §3).
    @param sigma WAD per year, <= MAX_SIGMA.
    """
    return sigma * sigma // (WAD * SECONDS_PER_YEAR)


@internal
@pure
def _within(sigma: uint256, sigma_r: uint256, f_lo: uint256, f_hi: uint256) -> bool:
    """
    @notice Whether f_lo * sigma_r <= sigma * 1e18 <= f_hi * sigma_r (no rounding).
    @param sigma Pushed sigma, WAD per year, <= MAX_SIGMA.
    @param sigma_r Realized sigma, WAD per year (< 2**128 under VAR_CAP).
    @param f_lo Lower multiple, WAD (<= 10e18).
    @param f_hi Upper multiple, WAD (<= 10e18).
    """
    return f_lo * sigma_r <= sigma * WAD and sigma * WAD <= f_hi * sigma_r


@internal
@pure
def _step_ok(prev: uint256, sigma: uint256, f_step: uint256) -> bool:
    """
    @notice Whether a push moves at most f_step (WAD, relative) from the live one:
            |sigma - prev| * 1e18 <= f_step * prev (no rounding).
    @param prev The live push, WAD per year, <= MAX_SIGMA.
    @param sigma The new push, WAD per year, <= MAX_SIGMA.
    @param f_step Largest relative change, WAD (<= 10e18).
    """
    d: uint256 = 0
    if sigma > prev:
        d = sigma - prev
    else:
        d = prev - sigma
    return d * WAD <= f_step * prev


@internal
@pure
def _combine(mode: uint256, sigma_r: uint256, sigma_f: uint256, f_lo: uint256, f_hi: uint256) -> uint256:
    """
    @notice The sigma the haircuts use: the forecast clamped to
            [f_lo * sigma_r, f_hi * sigma_r] (each bound rounded down), entered
            by `mode`; sigma_r for MODE_OFF.
    @param mode MODE_OFF, MODE_REPLACE, MODE_MAX or MODE_BLEND (<= 3).
    @param sigma_r Realized sigma over the horizon, WAD.
    @param sigma_f Forecast sigma over the horizon, WAD.
    @param f_lo Lower multiple, WAD, <= f_hi.
    @param f_hi Upper multiple, WAD, <= 10e18.
    @return Sigma over the horizon, WAD.
    """
    if mode == MODE_OFF:
        return sigma_r
    f: uint256 = min(max(sigma_f, f_lo * sigma_r // WAD), f_hi * sigma_r // WAD)
    if mode == MODE_REPLACE:
        return f
    if mode == MODE_MAX:
        return max(sigma_r, f)
    return (sigma_r + f + 1) // 2
