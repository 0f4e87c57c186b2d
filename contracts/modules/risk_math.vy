# pragma version ~=0.4.3
"""
@title volmargin risk math
@custom:contract-name risk_math
@license GNU Affero General Public License v3.0 only
@notice Pure, stateless fixed-point functions of the risk engine:
        EWMA variance (docs/design.md §3), sigma, dynamic haircuts and their
        ramp (§4), position values and health weights (§5), and the
        liquidation bonus and amounts (§6). Every quantity is an
        unsigned integer; prices, haircuts, rates and variances are
        WAD fixed point (1e18 = 1.0). Every division rounds down,
        except where a docstring says it rounds up (haircuts, values
        of liabilities), so that rounding never favours the user.
        `volmargin.reference` mirrors each function bit for bit.
        Arithmetic overflow reverts (Vyper checked arithmetic); the
        reference raises `ArithmeticError` in the same cases.
"""

WAD: constant(uint256) = 10**18
SECONDS_PER_YEAR: constant(uint256) = 31_536_000


@internal
@pure
def _abs_return(p0: uint256, p: uint256) -> uint256:
    """
    @notice Absolute simple return |p - p0| / p0 (docs/design.md §3).
    @param p0 Previous accepted price, WAD USD, > 0.
    @param p New price, WAD USD.
    @return |r|, WAD, rounded down.
    """
    if p >= p0:
        return (p - p0) * WAD // p0
    return (p0 - p) * WAD // p0


@internal
@pure
def _ewma_var(var: uint256, abs_r: uint256, dt: uint256, tau: uint256) -> uint256:
    """
    @notice One EWMA update of the variance per second (docs/design.md §3):
            lam = tau / (tau + dt), var' = lam * var + (1 - lam) * r^2 / dt.
    @dev `lam` is the rational form of exp(-dt/tau). All divisions
         round down. Reverts on dt == 0 (division by zero): callers
         skip updates with no elapsed time.
    @param var Current variance, WAD per second.
    @param abs_r |simple return| over the interval, WAD.
    @param dt Interval length, seconds, > 0.
    @param tau EWMA time constant, seconds.
    @return The updated variance, WAD per second (unclamped).
    """
    lam: uint256 = tau * WAD // (tau + dt)
    return (lam * var + (WAD - lam) * (abs_r * abs_r // WAD) // dt) // WAD


@internal
@pure
def _clamp(x: uint256, lo: uint256, hi: uint256) -> uint256:
    """
    @notice max(lo, min(x, hi)).
    """
    return max(lo, min(x, hi))


@internal
@pure
def _sigma(var: uint256, horizon: uint256) -> uint256:
    """
    @notice Volatility over a horizon: isqrt(var * h * 1e18) (docs/design.md §3).
    @param var Variance, WAD per second.
    @param horizon Horizon, seconds (31_536_000 gives the annual sigma).
    @return Sigma over the horizon, WAD, rounded down.
    """
    return isqrt(var * horizon * WAD)


@internal
@pure
def _haircut(h0: uint256, z: uint256, sigma: uint256, h_min: uint256, h_max: uint256) -> uint256:
    """
    @notice Haircut target clamp(h0 + z * sigma, h_min, h_max) (docs/design.md §4).
    @dev The product z * sigma rounds up (haircuts round up).
    @param h0 Base haircut, WAD.
    @param z Confidence multiplier, WAD (3e18 = 3 sigma).
    @param sigma Sigma over the liquidation horizon, WAD.
    @param h_min Floor, WAD.
    @param h_max Cap, WAD.
    @return Haircut, WAD.
    """
    return self._clamp(h0 + (z * sigma + WAD - 1) // WAD, h_min, h_max)


@internal
@pure
def _ramp(current: uint256, target: uint256, elapsed: uint256, up: uint256, down: uint256) -> uint256:
    """
    @notice Move the haircut in force toward its target at bounded
            speed (docs/design.md §4): at most `up` per second when tightening
            and `down` per second when loosening.
    @param current Haircut in force, WAD.
    @param target Target haircut, WAD.
    @param elapsed Seconds since `current` was set.
    @param up Tightening speed, WAD per second.
    @param down Loosening speed, WAD per second.
    @return The haircut in force now, WAD.
    """
    if target >= current:
        return min(target, current + up * elapsed)
    step: uint256 = down * elapsed
    if current - target <= step:
        return target
    return current - step


@internal
@pure
def _size_haircut(kappa: uint256, depth: uint256, val: uint256) -> uint256:
    """
    @notice Size/liquidity add-on kappa * sqrt(value / depth) (docs/design.md §4,
            Drift-style), rounded up.
    @dev value / depth is taken in WAD and scaled by 1e18 once more before
         the square root, so that isqrt returns sqrt(value / depth) in WAD
         (docs/design.md's isqrt(value * 1e18 / depth) alone would be 1e9 too small).
    @param kappa Size coefficient, WAD (0 disables the term).
    @param depth Market depth, WAD USD (0 disables the term).
    @param val Position value, WAD USD.
    @return Add-on haircut, WAD.
    """
    if kappa == 0 or depth == 0:
        return 0
    return (kappa * isqrt(val * WAD // depth * WAD) + WAD - 1) // WAD


@internal
@pure
def _initial_haircut(h_init: uint256, kappa: uint256, depth: uint256, val: uint256, conc: uint256) -> uint256:
    """
    @notice A position's initial haircut: the oracle's h_init plus its
            size add-on and a concentration haircut, capped at 1
            (docs/design.md §4.3).
    @param h_init The oracle's initial haircut without the size term, WAD.
    @param kappa Size coefficient, WAD.
    @param depth Market depth, WAD USD.
    @param val Position value, WAD USD.
    @param conc Concentration haircut of the asset's total deposits,
           WAD (0 for a borrow).
    @return min(h_init + size + conc, 1e18), WAD.
    """
    return min(h_init + self._size_haircut(kappa, depth, val) + conc, WAD)


@internal
@pure
def _asset_value(amount: uint256, price: uint256, decimals: uint256) -> uint256:
    """
    @notice USD value of a deposit: amount * price / 10**decimals, rounded down.
    @param amount Token amount, token decimals.
    @param price Price, WAD USD per whole token.
    @param decimals Token decimals.
    @return Value, WAD USD.
    """
    return amount * price // 10**decimals


@internal
@pure
def _liability_value(amount: uint256, price: uint256, decimals: uint256) -> uint256:
    """
    @notice USD value of a debt: amount * price / 10**decimals, rounded up.
    @param amount Token amount, token decimals.
    @param price Price, WAD USD per whole token.
    @param decimals Token decimals.
    @return Value, WAD USD.
    """
    unit: uint256 = 10**decimals
    return (amount * price + unit - 1) // unit


@internal
@pure
def _weighted_asset(val: uint256, haircut: uint256) -> uint256:
    """
    @notice value * (1 - h), rounded down; h >= 1 weighs nothing.
    @param val Deposit value, WAD USD.
    @param haircut Haircut, WAD.
    @return Weighted collateral, WAD USD.
    """
    if haircut >= WAD:
        return 0
    return val * (WAD - haircut) // WAD


@internal
@pure
def _weighted_liability(val: uint256, haircut: uint256) -> uint256:
    """
    @notice value * (1 + h), rounded up.
    @param val Debt value, WAD USD.
    @param haircut Haircut, WAD.
    @return Weighted liability, WAD USD.
    """
    return (val * (WAD + haircut) + WAD - 1) // WAD


@internal
@pure
def _health_factor(weighted_assets: uint256, weighted_liabilities: uint256) -> uint256:
    """
    @notice Display health factor assets / liabilities (docs/design.md §5).
    @return WAD; max_value(uint256) when there is no debt.
    """
    if weighted_liabilities == 0:
        return max_value(uint256)
    return weighted_assets * WAD // weighted_liabilities


@internal
@pure
def _bonus(
    weighted_assets: uint256, weighted_liabilities: uint256, bonus_min: uint256, bonus_slope: uint256, bonus_max: uint256
) -> uint256:
    """
    @notice Health-scaled liquidation bonus (docs/design.md §6, Euler-style):
            min(bonus_min + bonus_slope * shortfall, bonus_max) with
            shortfall = (liabilities - assets) / liabilities.
    @dev Maintenance-weighted sums; both rounding steps round down.
    @return Bonus, WAD.
    """
    shortfall: uint256 = 0
    if weighted_liabilities > weighted_assets:
        shortfall = (weighted_liabilities - weighted_assets) * WAD // weighted_liabilities
    return min(bonus_min + bonus_slope * shortfall // WAD, bonus_max)


@internal
@pure
def _max_repay(
    debt: uint256,
    debt_price: uint256,
    debt_decimals: uint256,
    health_factor: uint256,
    close_factor: uint256,
    hf_full: uint256,
    min_debt_value: uint256,
) -> uint256:
    """
    @notice Largest repayment a liquidator may make on one debt asset
            (docs/design.md §6): close_factor of the debt, or all of it when the
            health factor is below hf_full or when the rest would be dust.
    @param debt Debt, token decimals.
    @param debt_price Price of the debt asset, WAD USD.
    @param debt_decimals Decimals of the debt asset.
    @param health_factor Maintenance health factor, WAD.
    @param close_factor Share of the debt, WAD.
    @param hf_full Health factor below which the whole debt may be repaid, WAD.
    @param min_debt_value Smallest debt value that may remain, WAD USD.
    @return Maximum repayment, token decimals.
    """
    if health_factor < hf_full:
        return debt
    cap: uint256 = debt * close_factor // WAD
    if self._liability_value(debt - cap, debt_price, debt_decimals) < min_debt_value:
        return debt
    return cap


@internal
@pure
def _seize_amount(
    repay: uint256, debt_price: uint256, debt_decimals: uint256, col_price: uint256, col_decimals: uint256, bonus: uint256
) -> uint256:
    """
    @notice Collateral owed for a repayment: repaid value * (1 + bonus)
            / collateral price (docs/design.md §6). Rounds down (against the
            liquidator).
    @return Seized collateral, collateral token decimals.
    """
    val: uint256 = self._asset_value(repay, debt_price, debt_decimals)
    return val * (WAD + bonus) // WAD * 10**col_decimals // col_price


@internal
@pure
def _repay_for_seize(
    seize: uint256, debt_price: uint256, debt_decimals: uint256, col_price: uint256, col_decimals: uint256, bonus: uint256
) -> uint256:
    """
    @notice Repayment that buys `seize` collateral when the collateral
            caps the liquidation: value / (1 + bonus), rounded up
            (against the liquidator).
    @return Repayment, debt token decimals.
    """
    val: uint256 = self._asset_value(seize, col_price, col_decimals)
    unit: uint256 = 10**debt_decimals
    return (val * WAD // (WAD + bonus) * unit + debt_price - 1) // debt_price
