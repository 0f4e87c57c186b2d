# pragma version ~=0.4.3
"""
@title volmargin RiskMathHarness (tests only)
@custom:contract-name RiskMathHarness
@license GNU Affero General Public License v3.0 only
@notice Evaluates the risk-math and rate modules that the deployables
        import, on a batch of inputs in one call, so that a differential
        test checks hundreds of cases per RPC call. Each case runs in its
        own static sub-call: a case that reverts (overflow, division by
        zero) is reported as `ok = False` without failing the batch, so
        tests can require "reverts iff the reference rejects".
"""

from ..modules import risk_math
from ..modules import rates
from ..modules import portfolio
from ..modules import margin
from ..modules import forecast

MAX_BATCH: constant(uint256) = 512

# Function ids (volmargin.harness mirrors this table).
F_ABS_RETURN: constant(uint8) = 0  # (p0, p)
F_EWMA_VAR: constant(uint8) = 1  # (var, abs_r, dt, tau)
F_SIGMA: constant(uint8) = 2  # (var, horizon)
F_HAIRCUT: constant(uint8) = 3  # (h0, z, sigma, h_min, h_max)
F_RAMP: constant(uint8) = 4  # (current, target, elapsed, up, down)
F_SIZE_HAIRCUT: constant(uint8) = 5  # (kappa, depth, value)
F_ASSET_VALUE: constant(uint8) = 6  # (amount, price, decimals)
F_LIABILITY_VALUE: constant(uint8) = 7  # (amount, price, decimals)
F_WEIGHTED_ASSET: constant(uint8) = 8  # (value, h)
F_WEIGHTED_LIABILITY: constant(uint8) = 9  # (value, h)
F_BONUS: constant(uint8) = 10  # (assets, liabilities, bonus_min, bonus_slope, bonus_max)
F_BORROW_RATE: constant(uint8) = 11  # (u, base, slope1, slope2, kink)
F_GROW_INDEX: constant(uint8) = 12  # (index, rate_per_year, dt)
F_EWMA_STEP: constant(uint8) = 13  # (var, p0, p, dt, tau, var_max): abs_return, ewma, clamp to [0, var_max]
F_HEALTH_FACTOR: constant(uint8) = 14  # (assets, liabilities)
F_MAX_REPAY: constant(uint8) = 15  # (debt, debt_price, debt_decimals, hf, close_factor, hf_full, min_debt_value)
F_SEIZE_AMOUNT: constant(uint8) = 16  # (repay, debt_price, debt_decimals, col_price, col_decimals, bonus)
F_REPAY_FOR_SEIZE: constant(uint8) = 17  # (seize, debt_price, debt_decimals, col_price, col_decimals, bonus)
F_UTILIZATION: constant(uint8) = 18  # (deposits, borrows)
F_INITIAL_HAIRCUT: constant(uint8) = 19  # (h_init, kappa, depth, value, conc)
F_SHARE: constant(uint8) = 20  # (u, total)
F_PAIR_TERM: constant(uint8) = 21  # (x_i, x_j, offset)
F_PORTFOLIO_SCALE: constant(uint8) = 22  # (reduction, floor)
F_SCALED_HAIRCUT: constant(uint8) = 23  # (h, lambda)
F_PACK_PAIR: constant(uint8) = 24  # (rho_lo + 1e18, rho_hi + 1e18): the pair word of the shifted bounds
F_TO_TOKENS: constant(uint8) = 25  # (|scaled|, 1 if scaled < 0, deposit_index, borrow_index): the int256's bits
F_FORECAST_COMBINE: constant(uint8) = 26  # (mode, sigma_r, sigma_f, f_lo, f_hi)
F_FORECAST_WITHIN: constant(uint8) = 27  # (sigma, sigma_r, f_lo, f_hi): 1 or 0
F_FORECAST_STEP_OK: constant(uint8) = 28  # (prev, sigma, f_step): 1 or 0
F_FORECAST_VARIANCE: constant(uint8) = 29  # (sigma)
N_ARGS: constant(uint256) = 8


struct Outcome:
    ok: bool
    value: uint256


@external
@view
def case(fn: uint8, a: uint256[N_ARGS]) -> uint256:
    """
    @notice One evaluation of function `fn` on arguments `a` (unused
            trailing arguments are ignored). Reverts like the module does.
    """
    if fn == F_ABS_RETURN:
        return risk_math._abs_return(a[0], a[1])
    if fn == F_EWMA_VAR:
        return risk_math._ewma_var(a[0], a[1], a[2], a[3])
    if fn == F_SIGMA:
        return risk_math._sigma(a[0], a[1])
    if fn == F_HAIRCUT:
        return risk_math._haircut(a[0], a[1], a[2], a[3], a[4])
    if fn == F_RAMP:
        return risk_math._ramp(a[0], a[1], a[2], a[3], a[4])
    if fn == F_SIZE_HAIRCUT:
        return risk_math._size_haircut(a[0], a[1], a[2])
    if fn == F_ASSET_VALUE:
        return risk_math._asset_value(a[0], a[1], a[2])
    if fn == F_LIABILITY_VALUE:
        return risk_math._liability_value(a[0], a[1], a[2])
    if fn == F_WEIGHTED_ASSET:
        return risk_math._weighted_asset(a[0], a[1])
    if fn == F_WEIGHTED_LIABILITY:
        return risk_math._weighted_liability(a[0], a[1])
    if fn == F_BONUS:
        return risk_math._bonus(a[0], a[1], a[2], a[3], a[4])
    if fn == F_BORROW_RATE:
        return rates._borrow_rate(a[0], a[1], a[2], a[3], a[4])
    if fn == F_GROW_INDEX:
        return rates._grow_index(a[0], a[1], a[2])
    if fn == F_EWMA_STEP:
        r: uint256 = risk_math._abs_return(a[1], a[2])
        return risk_math._clamp(risk_math._ewma_var(a[0], r, a[3], a[4]), 0, a[5])
    if fn == F_HEALTH_FACTOR:
        return risk_math._health_factor(a[0], a[1])
    if fn == F_MAX_REPAY:
        return risk_math._max_repay(a[0], a[1], a[2], a[3], a[4], a[5], a[6])
    if fn == F_SEIZE_AMOUNT:
        return risk_math._seize_amount(a[0], a[1], a[2], a[3], a[4], a[5])
    if fn == F_REPAY_FOR_SEIZE:
        return risk_math._repay_for_seize(a[0], a[1], a[2], a[3], a[4], a[5])
    if fn == F_UTILIZATION:
        return rates._utilization(a[0], a[1])
    if fn == F_INITIAL_HAIRCUT:
        return risk_math._initial_haircut(a[0], a[1], a[2], a[3], a[4])
    if fn == F_SHARE:
        return portfolio._share(a[0], a[1])
    if fn == F_PAIR_TERM:
        return portfolio._pair_term(a[0], a[1], a[2])
    if fn == F_PORTFOLIO_SCALE:
        return portfolio._scale(a[0], a[1])
    if fn == F_SCALED_HAIRCUT:
        return portfolio._scaled_haircut(a[0], a[1])
    if fn == F_PACK_PAIR:
        return portfolio._pack_pair(convert(a[0], int256) - 10**18, convert(a[1], int256) - 10**18)
    if fn == F_TO_TOKENS:
        scaled: int256 = convert(a[0], int256)
        if a[1] == 1:
            scaled = -scaled
        return convert(convert(margin._to_tokens(scaled, a[2], a[3]), bytes32), uint256)
    if fn == F_FORECAST_COMBINE:
        return forecast._combine(a[0], a[1], a[2], a[3], a[4])
    if fn == F_FORECAST_WITHIN:
        return convert(forecast._within(a[0], a[1], a[2], a[3]), uint256)
    if fn == F_FORECAST_STEP_OK:
        return convert(forecast._step_ok(a[0], a[1], a[2]), uint256)
    if fn == F_FORECAST_VARIANCE:
        return forecast._variance(a[0])
    raise "harness: unknown function"


@external
@view
def batch(fn: uint8, inputs: DynArray[uint256[N_ARGS], MAX_BATCH]) -> DynArray[Outcome, MAX_BATCH]:
    """
    @notice `case(fn, a)` for every `a` in `inputs` (at most 512), each in
            its own static call: a reverting case gives ok = False.
    """
    out: DynArray[Outcome, MAX_BATCH] = []
    for a: uint256[N_ARGS] in inputs:
        ok: bool = False
        res: Bytes[32] = b""
        ok, res = raw_call(
            self,
            abi_encode(fn, a, method_id=method_id("case(uint8,uint256[8])")),
            max_outsize=32,
            is_static_call=True,
            revert_on_failure=False,
        )
        if ok:
            out.append(Outcome(ok=True, value=convert(res, uint256)))
        else:
            out.append(Outcome(ok=False, value=0))
    return out
