"""volmargin.reference by hand: every risk-math function on worked examples (docs/design.md §2-§7),
rounding directions, checked arithmetic, and small OracleRef / VaultRef scenarios
(breakers, invalid prices, named rejections, atomicity). Pure Python (no chain).

Every expected value below is worked out by hand in the comment next to it; none was
copied from running the code.
"""

from __future__ import annotations

import math
from dataclasses import astuple
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from volmargin import params as P
from volmargin import reference as ref

WAD = ref.WAD
PCT = WAD // 100  # 1 % in WAD


# --------------------------------------------------------------------- abs_return


def test_abs_return_both_directions():
    assert ref.abs_return(100 * WAD, 110 * WAD) == 10 * PCT  # +10 %
    assert ref.abs_return(100 * WAD, 90 * WAD) == 10 * PCT  # -10 %: absolute value
    assert ref.abs_return(2_000 * 10**8, 1_600 * 10**8) == 20 * PCT
    assert ref.abs_return(7, 7) == 0


def test_abs_return_rounds_down_and_rejects_zero_base():
    # |4 - 3| / 3 = 0.333... -> 333...333 (18 threes), never ...334
    assert ref.abs_return(3, 4) == 333_333_333_333_333_333
    assert ref.abs_return(3, 2) == 333_333_333_333_333_333
    with pytest.raises(ArithmeticError):
        ref.abs_return(0, 1)  # division by zero, as the contract reverts


# ----------------------------------------------------------------------- ewma_var


def test_ewma_var_one_step_by_hand():
    # tau = 3 s, dt = 1 s: lam = 3e18 // 4 = 0.75 WAD
    # r = 0.1 WAD: r*r // 1e18 = 1e16
    # var' = (0.75e18 * 4e15 + 0.25e18 * 1e16 // 1) // 1e18 = (3e33 + 2.5e33) // 1e18 = 5.5e15
    assert ref.ewma_var(4 * 10**15, 10 * PCT, 1, 3) == 55 * 10**14


def test_ewma_var_fixed_point_and_decay():
    # when r^2 / dt equals var, the update leaves var unchanged (lam = 1/2 with tau = dt = 1)
    assert ref.ewma_var(10**16, 10 * PCT, 1, 1) == 10**16
    # no move: var decays by lam = tau / (tau + dt) = 9/10
    assert ref.ewma_var(10**18, 0, 1, 9) == 9 * 10**17
    # a long gap (dt = 99 tau) keeps only 1 % of the old variance
    assert ref.ewma_var(10**18, 0, 99, 1) == 10**16


def test_ewma_var_rounds_down():
    # tau = 1, dt = 2: lam = 1e18 // 3 = 333333333333333333, 1e18 - lam = 666666666666666667
    # r = 1 WAD: r*r // 1e18 = 1e18; (666666666666666667 * 1e18) // 2 = 333333333333333333.5e18 floored
    # // 1e18 -> 333333333333333333 (the exact 1/3 WAD, floored)
    assert ref.ewma_var(0, WAD, 2, 1) == 333_333_333_333_333_333


# -------------------------------------------------------------------------- sigma


def test_sigma_by_hand():
    # var = 4e14 WAD/s over 100 s: isqrt(4e14 * 100 * 1e18) = isqrt(4e34) = 2e17 = 20 %
    assert ref.sigma(4 * 10**14, 100) == 20 * PCT
    # isqrt(1e18) = 1e9; isqrt(2e18) = floor(1.41421356237e9) = 1414213562
    assert ref.sigma(1, 1) == 10**9
    assert ref.sigma(2, 1) == 1_414_213_562
    assert ref.sigma(0, 86_400) == 0


# ------------------------------------------------------------------------ haircut


def test_haircut_inside_the_clamp():
    # 0.02 + 3 * 0.10 = 0.32
    assert ref.haircut(2 * PCT, 3 * WAD, 10 * PCT, 10 * PCT, 60 * PCT) == 32 * PCT


def test_haircut_clamps():
    assert ref.haircut(2 * PCT, 3 * WAD, 30 * PCT, 10 * PCT, 60 * PCT) == 60 * PCT  # 0.92 -> h_max
    assert ref.haircut(2 * PCT, 3 * WAD, 1 * PCT, 10 * PCT, 60 * PCT) == 10 * PCT  # 0.05 -> h_min
    assert ref.haircut(WAD, WAD, WAD, 0, WAD) == WAD  # 2.0 -> 1.0


def test_haircut_rounds_up():
    # z * sigma = 333333333333333333 * 1 / 1e18 = 3.3e-19 WAD: rounds up to one wei
    assert ref.haircut(0, WAD // 3, 1, 0, WAD) == 1
    # z * sigma = 3e18 * 1 / 1e18 = exactly 3 wei: no extra wei
    assert ref.haircut(0, 3 * WAD, 1, 0, WAD) == 3
    assert ref.haircut(0, 3 * WAD + 1, 1, 0, WAD) == 4


# --------------------------------------------------------------------------- ramp


def test_ramp_up_is_bounded_and_reaches_target():
    assert ref.ramp(10, 100, 5, 3, 1) == 25  # 10 + 3 * 5
    assert ref.ramp(10, 100, 30, 3, 1) == 100  # exactly 10 + 90
    assert ref.ramp(10, 100, 50, 3, 1) == 100  # would be 160: stops at the target
    assert ref.ramp(10, 100, 0, 3, 1) == 10


def test_ramp_down_is_bounded_and_reaches_target():
    assert ref.ramp(100, 10, 5, 3, 2) == 90  # 100 - 2 * 5 (the down speed, not the up speed)
    assert ref.ramp(100, 10, 45, 3, 2) == 10  # step 90 == distance
    assert ref.ramp(100, 10, 1_000, 3, 2) == 10  # never below the target
    assert ref.ramp(50, 50, 1_000, 3, 2) == 50


def test_ramp_at_the_default_speeds():
    # ramp_up 2 %/h: 2e16 // 3600 = 5555555555555 WAD/s; one hour moves 3600 * that = 19999999999998000
    up = 2 * 10**16 // 3_600
    assert up == 5_555_555_555_555
    assert ref.ramp(10 * PCT, 60 * PCT, 3_600, up, 0) == 10 * PCT + 19_999_999_999_998_000


# ------------------------------------------------------------------- size_haircut


def test_size_haircut_by_hand():
    depth = 50_000_000 * WAD
    # value / depth = 0.01: isqrt(1e16 * 1e18) = 1e17 (sqrt 0.01 = 0.1); 0.05 * 0.1 = 0.005
    assert ref.size_haircut(5 * PCT, depth, 500_000 * WAD) == 5 * 10**15
    # value == depth: sqrt(1) = 1, so the term is kappa itself
    assert ref.size_haircut(5 * PCT, depth, depth) == 5 * PCT
    # value / depth = 4: sqrt = 2
    assert ref.size_haircut(5 * PCT, depth, 4 * depth) == 10 * PCT


def test_size_haircut_zero_cases_and_rounding_up():
    assert ref.size_haircut(0, WAD, 10**30) == 0
    assert ref.size_haircut(5 * PCT, 0, 10**30) == 0
    assert ref.size_haircut(5 * PCT, WAD, 0) == 0
    # kappa = 1 wei, value / depth = 1e-18: isqrt(1 * 1e18) = 1e9; 1 * 1e9 / 1e18 rounds up to 1
    assert ref.size_haircut(1, WAD, 1) == 1


# ---------------------------------------------------------- values and weights


def test_asset_and_liability_value_exact():
    assert ref.asset_value(10**18, 2_000 * WAD, 18) == 2_000 * WAD  # 1 WETH at 2,000 USD
    # 1.23456789 WBTC at 30,000 USD = 37,037.0367 USD
    assert ref.asset_value(123_456_789, 30_000 * WAD, 8) == 37_037_036_700_000_000_000_000
    assert ref.liability_value(123_456_789, 30_000 * WAD, 8) == 37_037_036_700_000_000_000_000


def test_asset_value_rounds_down_liability_value_rounds_up():
    # 1 unit of a 1-decimal token at 3 wei-USD: 0.3 wei -> 0 as an asset, 1 as a liability
    assert ref.asset_value(1, 3, 1) == 0
    assert ref.liability_value(1, 3, 1) == 1
    # one wei of a 6-decimal token at 1.5 USD + 1 wei = 1.5e12 + 1e-6 wei-USD
    assert ref.asset_value(1, 3 * WAD // 2 + 1, 6) == 1_500_000_000_000
    assert ref.liability_value(1, 3 * WAD // 2 + 1, 6) == 1_500_000_000_001
    assert ref.liability_value(1, 3 * WAD // 2, 6) == 1_500_000_000_000  # exact: no extra wei


def test_weighted_asset_and_liability():
    assert ref.weighted_asset(1_000 * WAD, 30 * PCT) == 700 * WAD
    assert ref.weighted_liability(1_000 * WAD, 30 * PCT) == 1_300 * WAD
    assert ref.weighted_asset(3, WAD // 2) == 1  # 1.5 floored
    assert ref.weighted_liability(3, WAD // 2) == 5  # 4.5 ceiled
    assert ref.weighted_asset(10**30, WAD) == 0  # h = 100 %: worthless as collateral
    assert ref.weighted_asset(10**30, 2 * WAD) == 0
    assert ref.weighted_liability(7, 0) == 7


@given(st.integers(0, 10**40), st.integers(0, 10**36), st.integers(0, 24))
def test_values_bracket_the_exact_product(amount, price, dec):
    exact = Fraction(amount * price, 10**dec)
    a, l = ref.asset_value(amount, price, dec), ref.liability_value(amount, price, dec)
    assert a <= exact <= l and l - a <= 1
    assert a == math.floor(exact) and l == math.ceil(exact)


# ---------------------------------------------------------------- health_factor


def test_health_factor():
    assert ref.health_factor(123, 0) == 2**256 - 1  # no debt: max uint
    assert ref.health_factor(0, 0) == 2**256 - 1
    assert ref.health_factor(150 * WAD, 100 * WAD) == 3 * WAD // 2
    assert ref.health_factor(2, 3) == 666_666_666_666_666_666  # 2/3 floored
    assert ref.health_factor(0, 1) == 0


# -------------------------------------------------------------------------- bonus


BONUS = dict(bonus_min=2 * PCT, bonus_slope=50 * PCT, bonus_max=5 * PCT)


def test_bonus_min_slope_cap():
    assert ref.bonus(100 * WAD, 100 * WAD, **BONUS) == 2 * PCT  # no shortfall: the minimum
    assert ref.bonus(120 * WAD, 100 * WAD, **BONUS) == 2 * PCT  # healthy: the minimum
    # shortfall = (100 - 98) / 100 = 0.02; 0.02 + 0.5 * 0.02 = 0.03
    assert ref.bonus(98 * WAD, 100 * WAD, **BONUS) == 3 * PCT
    # shortfall 0.06: 0.02 + 0.03 = 0.05 = exactly the cap
    assert ref.bonus(94 * WAD, 100 * WAD, **BONUS) == 5 * PCT
    # shortfall 0.2: 0.02 + 0.1 = 0.12 -> capped at 0.05
    assert ref.bonus(80 * WAD, 100 * WAD, **BONUS) == 5 * PCT
    assert ref.bonus(0, 100 * WAD, **BONUS) == 5 * PCT


# ---------------------------------------------------------------------- max_repay

CF, HF_FULL, MIN_DEBT = 50 * PCT, 95 * PCT, 100 * WAD


def test_max_repay_close_factor():
    # 1,000 USD debt (6 dec), hf 1.0 >= 0.95: half, leaving 500 USD >= 100 USD
    assert ref.max_repay(1_000 * 10**6, WAD, 6, WAD, CF, HF_FULL, MIN_DEBT) == 500 * 10**6
    # hf exactly hf_full is not "below": still the close factor
    assert ref.max_repay(1_000 * 10**6, WAD, 6, HF_FULL, CF, HF_FULL, MIN_DEBT) == 500 * 10**6


def test_max_repay_full_below_hf_full():
    assert ref.max_repay(1_000 * 10**6, WAD, 6, HF_FULL - 1, CF, HF_FULL, MIN_DEBT) == 1_000 * 10**6


def test_max_repay_dust_rule():
    # 150 USD: half leaves 75 USD < 100 USD -> the whole debt
    assert ref.max_repay(150 * 10**6, WAD, 6, WAD, CF, HF_FULL, MIN_DEBT) == 150 * 10**6
    # 200 USD: half leaves exactly 100 USD, not below -> half
    assert ref.max_repay(200 * 10**6, WAD, 6, WAD, CF, HF_FULL, MIN_DEBT) == 100 * 10**6
    # 199.999999 USD: half = 99.9999995 floored to 99.999999, leaving 100 USD -> half
    assert ref.max_repay(199_999_999, WAD, 6, WAD, CF, HF_FULL, MIN_DEBT) == 99_999_999
    # 0.1 WETH at 2,000 USD = 200 USD: half leaves 100 USD -> half
    assert ref.max_repay(10**17, 2_000 * WAD, 18, WAD, CF, HF_FULL, MIN_DEBT) == 5 * 10**16


def test_max_repay_cap_rounds_down():
    # 3 units, close factor 1/2: cap 1 (1.5 floored); remaining 2 units valued 2 WAD >= 0
    assert ref.max_repay(3, WAD, 0, WAD, CF, HF_FULL, 0) == 1


# --------------------------------------------------------- seize / repay_for_seize


def test_seize_amount_by_hand():
    b = 5 * PCT
    # 1,000 USD repaid * 1.05 / 30,000 USD per WBTC = 0.035 WBTC = 3,500,000 sats
    assert ref.seize_amount(1_000 * 10**6, WAD, 6, 30_000 * WAD, 8, b) == 3_500_000
    assert ref.repay_for_seize(3_500_000, WAD, 6, 30_000 * WAD, 8, b) == 1_000 * 10**6
    # 1,000 USD * 1.05 / 2,000 USD per WETH = 0.525 WETH
    assert ref.seize_amount(1_000 * 10**6, WAD, 6, 2_000 * WAD, 18, b) == 525 * 10**15


def test_seize_and_repay_round_against_the_liquidator():
    b = 5 * PCT
    # at 30,001 USD: 1050e8 / 30001 = 3,499,883.33...; 30001 * 3,499,883 = 104,999,989,883 <= 105e9
    seize = ref.seize_amount(1_000 * 10**6, WAD, 6, 30_001 * WAD, 8, b)
    assert seize == 3_499_883  # floored: the liquidator gets less
    # buying 3,499,883 sats back: 3,499,883 * 30,001 / 1e8 = 1,049.99989883 USD; / 1.05 = 999.99990364...
    # USD -> 999,999,903.6 micro-USD, rounded up: the liquidator pays more
    assert ref.repay_for_seize(seize, WAD, 6, 30_001 * WAD, 8, b) == 999_999_904
    # one sat less costs strictly less
    assert ref.repay_for_seize(seize - 1, WAD, 6, 30_001 * WAD, 8, b) < 999_999_904
    # 1 sat at 30,000.5 USD, no bonus: 300.005 micro-USD, rounded up to 301
    assert ref.repay_for_seize(1, WAD, 6, 30_000 * WAD + WAD // 2, 8, 0) == 301
    assert ref.repay_for_seize(1, WAD, 6, 30_000 * WAD, 8, 0) == 300  # exact: no extra micro-USD


@given(
    repay=st.integers(1, 10**24),
    debt_price=st.integers(10**12, 10**24),
    debt_dec=st.sampled_from([0, 6, 8, 18, 24]),
    col_price=st.integers(10**12, 10**24),
    col_dec=st.sampled_from([0, 6, 8, 18, 24]),
    bon=st.integers(0, WAD // 4),
)
def test_seize_round_trip_never_favours_the_liquidator(repay, debt_price, debt_dec, col_price, col_dec, bon):
    seize = ref.seize_amount(repay, debt_price, debt_dec, col_price, col_dec, bon)
    exact = Fraction(repay * debt_price, 10**debt_dec) * Fraction(WAD + bon, WAD) * Fraction(10**col_dec, col_price)
    assert seize <= exact  # every division rounds down
    # buying back what was seized never costs more than the repayment that bought it
    assert ref.repay_for_seize(seize, debt_price, debt_dec, col_price, col_dec, bon) <= repay


# --------------------------------------------------------------------------- rates


def test_utilization():
    assert ref.utilization(0, 0) == 0
    assert ref.utilization(0, 5) == 0  # no deposits: 0, not a division by zero
    assert ref.utilization(100, 50) == 50 * PCT
    assert ref.utilization(100, 150) == WAD  # capped at 100 %
    assert ref.utilization(3, 1) == 333_333_333_333_333_333  # floored


KINKED = dict(base=0, slope1=4 * PCT, slope2=75 * PCT, kink=80 * PCT)


def test_borrow_rate_kink():
    assert ref.borrow_rate(0, **KINKED) == 0
    assert ref.borrow_rate(40 * PCT, **KINKED) == 2 * PCT  # 0.04 * 0.4 / 0.8
    assert ref.borrow_rate(80 * PCT, **KINKED) == 4 * PCT  # at the kink: slope1
    assert ref.borrow_rate(90 * PCT, **KINKED) == 415 * 10**15  # 0.04 + 0.75 * 0.1 / 0.2 = 0.415
    assert ref.borrow_rate(WAD, **KINKED) == 79 * PCT  # 0.04 + 0.75
    assert ref.borrow_rate(40 * PCT, 1 * PCT, 4 * PCT, 75 * PCT, 80 * PCT) == 3 * PCT  # base added
    # the slope steepens past the kink: +1 % utilization costs 0.05 % below, 3.75 % above
    below = ref.borrow_rate(71 * PCT, **KINKED) - ref.borrow_rate(70 * PCT, **KINKED)
    above = ref.borrow_rate(91 * PCT, **KINKED) - ref.borrow_rate(90 * PCT, **KINKED)
    assert below == 5 * 10**14 and above == 375 * 10**14


def test_grow_index():
    # rate 1e9 WAD/s (31,536,000e9 per year), 1,000 s: 1e18 * 1e9 * 1000 / 1e18 = 1e12 exactly
    assert ref.grow_index(WAD, 31_536_000 * 10**9, 1_000) == WAD + 10**12
    assert ref.grow_index(WAD, 31_536_000 * 10**9, 0) == WAD
    # a per-year rate below one wei per second truncates to 0 per second
    assert ref.grow_index(WAD, 31_535_999, 10**6) == WAD


def test_grow_index_rounds_up():
    # 1 wei/s on index 1e18 for 1 s: 1e18 * 1 * 1 / 1e18 = 1 exactly
    assert ref.grow_index(WAD, ref.SECONDS_PER_YEAR, 1) == WAD + 1
    # on index 1e18 + 1: (1e18 + 1) / 1e18 = 1.000...001 -> 2
    assert ref.grow_index(WAD + 1, ref.SECONDS_PER_YEAR, 1) == WAD + 3
    # a tiny index still grows by one wei: 1 * 1 * 1 / 1e18 rounds up to 1
    assert ref.grow_index(1, ref.SECONDS_PER_YEAR, 1) == 2


# ------------------------------------------------------------- checked arithmetic


def test_checked_arithmetic():
    with pytest.raises(ArithmeticError):
        ref.sigma(2**255, 2)  # var * horizon = 2**256
    with pytest.raises(ArithmeticError):
        ref.sigma(2**200, 1)  # * 1e18 overflows
    with pytest.raises(ArithmeticError):
        ref.pow10(78)
    assert ref.pow10(77) == 10**77
    with pytest.raises(ArithmeticError):
        ref.asset_value(1, 1, 78)
    with pytest.raises(ArithmeticError):
        ref.ewma_var(1, 1, 0, 0)  # tau + dt = 0 divides by zero
    with pytest.raises(ArithmeticError):
        ref.weighted_liability(2**255, 1)
    with pytest.raises(ArithmeticError):
        ref.grow_index(2**200, 10**30, 10**10)
    with pytest.raises(ArithmeticError):
        ref.U(-1)
    with pytest.raises(ArithmeticError):
        ref.I(2**255)
    assert ref.U(2**256 - 1) == 2**256 - 1 and ref.I(-(2**255)) == -(2**255)


# ------------------------------------------------------------------- OracleRef

T0 = 1_700_000_000  # a Unix time, s
HOUR = 3_600


def _weth_oracle() -> tuple[ref.OracleRef, list[int]]:
    """WETH listed at 2,000 USD (8-decimal feed) with the default parameters and an 80 % seed vol."""
    o = ref.OracleRef()
    p = list(P.oracle_params())
    o.list_asset("WETH", 8, ref.FeedRound(1, 2_000 * 10**8, T0, 1), P.annual_vol_to_var(0.8), p, T0)
    return o, p


def test_listing_sets_the_haircut_from_the_seed():
    o, p = _weth_oracle()
    s = o.assets["WETH"]
    assert s.price == 2_000 * WAD and s.feed_scale == 10**10 and s.breaker == ref.NORMAL and not s.invalid
    assert s.var_fast == s.var_slow == P.annual_vol_to_var(0.8)
    # sigma over a day = 0.8 / sqrt(365) = 0.041874; h_maint = 0.02 + 3 * 0.041874 = 0.14562
    assert s.h_maint == s.h_target == pytest.approx(0.14562 * WAD, rel=1e-4)
    # h_init = 0.02 + 4 * 0.041874 = 0.18750
    assert o.h_init("WETH") == pytest.approx(0.18750 * WAD, rel=1e-4)
    assert o.n_tripped == 0


def test_small_move_stays_normal():
    o, p = _weth_oracle()
    # -2 % after 1 h: threshold = 6 * 0.8 * sqrt(3600 / 31536000) + 0.05 = 0.1013 -> no jump; var_fast becomes
    # (0.923 * 2.03e-8 + 0.0769 * 0.0004 / 3600) = 2.73e-8 /s, i.e. 93 % a year < 150 % -> NORMAL
    o.poke("WETH", ref.FeedRound(2, 1_960 * 10**8, T0 + HOUR, 2), T0 + HOUR)
    s = o.assets["WETH"]
    assert s.breaker == ref.NORMAL and o.n_tripped == 0 and s.price == 1_960 * WAD
    assert s.var_fast > s.var_slow > 0  # the fast estimate reacts more


def test_jump_trips_reduce_only_and_ramps_the_haircut():
    o, p = _weth_oracle()
    h0 = o.assets["WETH"].h_maint
    # -20 % after 1 h: 0.20 > 0.1013 -> a jump
    o.poke("WETH", ref.FeedRound(2, 1_600 * 10**8, T0 + HOUR, 2), T0 + HOUR)
    s = o.assets["WETH"]
    assert s.breaker == ref.REDUCE_ONLY and s.tripped_at == T0 + HOUR and o.n_tripped == 1
    assert s.price == 1_600 * WAD and s.updated_at == T0 + HOUR
    # var_fast ~ 0.0769 * 0.04 / 3600 = 8.5e-7 /s -> daily sigma 0.27 -> 0.02 + 0.81: clamped at h_max
    assert s.h_target == p[ref.P_H_MAX]
    # the haircut in force ramps toward it at ramp_up per second, not at once
    assert s.h_maint == h0
    assert o.h_maint_now("WETH", T0 + 2 * HOUR) == h0 + HOUR * p[ref.P_RAMP_UP]
    assert o.risk("WETH", T0 + HOUR).breaker == ref.REDUCE_ONLY
    # a second jump re-arms the trip time but does not count the asset twice: with var_fast now
    # ~8.7e-7 /s the 1 h threshold is 6 * sqrt(8.7e-7 * 3600) + 0.05 = 0.39, and -75 % exceeds it
    o.poke("WETH", ref.FeedRound(3, 400 * 10**8, T0 + 2 * HOUR, 3), T0 + 2 * HOUR)
    s = o.assets["WETH"]
    assert s.breaker == ref.REDUCE_ONLY and s.tripped_at == T0 + 2 * HOUR and o.n_tripped == 1


def test_stale_round_invalidates_and_risk_rejects():
    o, p = _weth_oracle()
    stale_after = p[ref.P_HEARTBEAT] + p[ref.P_GRACE]  # 3,600 + 600 s
    assert stale_after == 4_200
    rnd = ref.FeedRound(1, 2_000 * 10**8, T0, 1)
    o.poke("WETH", rnd, T0 + stale_after)  # exactly heartbeat + grace: still valid
    assert not o.assets["WETH"].invalid and o.risk("WETH", T0 + stale_after).price == 2_000 * WAD
    with pytest.raises(ref.Reject, match="oracle: stale price"):
        o.risk("WETH", T0 + stale_after + 1)  # not poked: risk() itself checks the age
    o.poke("WETH", rnd, T0 + stale_after + 1)  # one second later: stale
    s = o.assets["WETH"]
    assert s.invalid and s.breaker == ref.REDUCE_ONLY and o.n_tripped == 1
    with pytest.raises(ref.Reject, match="^oracle: invalid price$"):
        o.risk("WETH", T0 + stale_after + 1)
    # a fresh valid round clears the invalid flag (the breaker waits for its cooldown)
    o.poke("WETH", ref.FeedRound(2, 2_000 * 10**8, T0 + 5_000, 2), T0 + 5_000)
    assert not o.assets["WETH"].invalid
    assert o.risk("WETH", T0 + 5_000).price == 2_000 * WAD


@pytest.mark.parametrize(
    "rnd",
    [
        ref.FeedRound(2, 0, T0 + 60, 2),  # zero price
        ref.FeedRound(2, -5, T0 + 60, 2),  # negative price
        ref.FeedRound(3, 2_000 * 10**8, T0 + 60, 2),  # answered in an older round
        ref.FeedRound(2, 2_000 * 10**8, 0, 2),  # never updated
        ref.FeedRound(2, 2_000 * 10**8, T0 + 61, 2),  # from the future
    ],
)
def test_bad_rounds_invalidate(rnd):
    o, _ = _weth_oracle()
    o.poke("WETH", rnd, T0 + 60)
    assert o.assets["WETH"].invalid and o.n_tripped == 1
    with pytest.raises(ref.Reject, match="oracle: invalid price"):
        o.risk("WETH", T0 + 60)


def test_oracle_rejections():
    o, p = _weth_oracle()
    with pytest.raises(ref.Reject, match="oracle: already listed"):
        o.list_asset("WETH", 8, ref.FeedRound(1, 10**8, T0, 1), 1, p, T0)
    with pytest.raises(ref.Reject, match="oracle: asset not listed"):
        o.poke("WBTC", ref.FeedRound(1, 10**8, T0, 1), T0)
    with pytest.raises(ref.Reject, match="oracle: asset not listed"):
        o.risk("WBTC", T0)
    with pytest.raises(ref.Reject, match="oracle: invalid price"):
        o.list_asset("WBTC", 8, ref.FeedRound(1, 0, T0, 1), 1, p, T0)
    with pytest.raises(ref.Reject, match="oracle: stale price"):
        o.list_asset("WBTC", 8, ref.FeedRound(1, 10**8, T0 - 4_201, 1), 1, p, T0)
    with pytest.raises(ref.Reject, match="oracle: feed decimals > 18"):
        o.list_asset("WBTC", 19, ref.FeedRound(1, 10**8, T0, 1), 1, p, T0)
    bad = list(p)
    bad[ref.P_H_MIN] = bad[ref.P_H_MAX] + 1
    with pytest.raises(ref.Reject, match="oracle: bad params"):
        o.list_asset("WBTC", 8, ref.FeedRound(1, 10**8, T0, 1), 1, bad, T0)
    assert set(o.assets) == {"WETH"}


# -------------------------------------------------------------------- VaultRef


def _vault() -> ref.VaultRef:
    """USD (6 dec, 1.00) and WETH (18 dec, 2,000) listed with the default parameters; a lender
    supplies 1M USD and alice deposits 1 WETH."""
    o, _ = _weth_oracle()
    usd = P.TOKENS[0]
    o.list_asset("USD", 8, ref.FeedRound(1, 10**8, T0, 1), usd.var_seed, list(usd.oracle), T0)
    v = ref.VaultRef(oracle=o, params=list(P.VAULT))
    v.list_asset("USD", 6, list(usd.rates), T0)
    v.list_asset("WETH", 18, list(P.TOKENS[1].rates), T0)
    v.deposit("lender", "USD", 1_000_000 * 10**6, T0)
    v.deposit("alice", "WETH", 10**18, T0)
    return v


def _state(v: ref.VaultRef) -> tuple:
    return (
        {k: astuple(m) for k, m in v.markets.items()},
        dict(v.scaled),
        dict(v.masks),
        v.liq_window_start,
        v.liq_window_used,
    )


def test_deposit_sets_balances_and_masks():
    v = _vault()
    assert v.balance("alice", "WETH", T0) == 10**18
    assert v.balance("lender", "USD", T0) == 1_000_000 * 10**6
    assert v.masks["alice"] == v.bit("WETH") == 0b10 and v.masks["lender"] == v.bit("USD") == 0b01
    assert v.health_factor("alice", T0) == 2**256 - 1  # no debt


def test_borrow_within_limits_and_rejected_beyond():
    v = _vault()
    # init limit: 2,000 * (1 - 0.1875 - size 0.05 * sqrt(2000 / 50e6) = 0.0003) = 1,624.4 USD of weighted
    # collateral; a USD liability weighs 1 + 0.01 + 4 * 0.02 / sqrt(365) = 1.0142 -> about 1,601.7 USD
    v.borrow("alice", "USD", 1_500 * 10**6, T0)
    assert v.balance("alice", "USD", T0) == -1_500 * 10**6
    assert v.masks["alice"] == 0b11
    # maintenance: 2,000 * (1 - 0.1456) / (1,500 * (1 + 0.01 + 3 * 0.02 / sqrt(365))) = 1,708.8 / 1,519.7 = 1.1244
    assert v.health_factor("alice", T0) == pytest.approx(1.1244 * WAD, rel=1e-3)
    before = _state(v)
    with pytest.raises(ref.Reject, match="^vault: insufficient health$"):
        v.borrow("alice", "USD", 150 * 10**6, T0)  # 1,650 > 1,601.7
    assert _state(v) == before
    v.borrow("alice", "USD", 100 * 10**6, T0)  # 1,600 < 1,601.7 still fits
    assert v.balance("alice", "USD", T0) == -1_600 * 10**6


def test_rejected_actions_leave_state_unchanged():
    v = _vault()
    v.borrow("alice", "USD", 1_500 * 10**6, T0)
    later = T0 + HOUR  # interest accrues inside the rejected actions and must be rolled back too
    before = _state(v)
    with pytest.raises(ref.Reject, match="vault: insufficient health"):
        v.borrow("alice", "USD", 500 * 10**6, later)
    assert _state(v) == before
    with pytest.raises(ref.Reject, match="vault: insufficient health"):
        v.withdraw("alice", "WETH", 10**18, later)
    assert _state(v) == before
    with pytest.raises(ref.Reject, match="vault: insufficient balance"):
        v.withdraw("alice", "WETH", 2 * 10**18, later)
    with pytest.raises(ref.Reject, match="vault: insufficient liquidity"):
        v.borrow("alice", "USD", 2_000_000 * 10**6, later)
    with pytest.raises(ref.Reject, match="vault: zero amount"):
        v.deposit("alice", "WETH", 0, later)
    with pytest.raises(ref.Reject, match="vault: asset not listed"):
        v.deposit("alice", "WBTC", 1, later)
    with pytest.raises(ref.Reject, match="vault: no debt"):
        v.repay("lender", "USD", 1, later)
    with pytest.raises(ref.Reject, match="vault: account healthy"):
        v.liquidate("bob", "alice", "USD", "WETH", 10**6, 0, later)
    with pytest.raises(ref.Reject, match="vault: amount too large"):
        v.deposit("alice", "WETH", 2**255, later)  # no longer fits a signed balance
    with pytest.raises(ArithmeticError):
        v.deposit("alice", "WETH", 2**255 - 1, later)  # fits alone, but alice's deposit + it overflows int256
    assert _state(v) == before
    # a successful action at the same time does accrue
    v.repay("alice", "USD", 1, later)
    assert v.markets["USD"].last_accrual == later and v.markets["USD"].borrow_index > WAD


def test_reduce_only_blocks_new_risk_but_not_repayment():
    v = _vault()
    v.borrow("alice", "USD", 500 * 10**6, T0)
    v.oracle.poke("WETH", ref.FeedRound(2, 1_600 * 10**8, T0 + HOUR, 2), T0 + HOUR)  # -20 %: trips
    assert v.oracle.n_tripped == 1
    before = _state(v)
    with pytest.raises(ref.Reject, match="vault: asset reduce-only"):
        v.borrow("alice", "USD", 10**6, T0 + HOUR)
    assert _state(v) == before
    assert v.repay("alice", "USD", 100 * 10**6, T0 + HOUR) == 100 * 10**6
    v.deposit("alice", "WETH", 10**17, T0 + HOUR)
    assert v.balance("alice", "WETH", T0 + HOUR) == 11 * 10**17


def test_set_param_freezes_the_ramp_at_the_old_speed_then_applies_the_new_one():
    """OracleRef.set_param mirrors the contract: the haircut in force is brought
    to the change's time at the old ramp speed; the new speed counts from then."""
    o, p = _weth_oracle()
    h0 = o.assets["WETH"].h_maint
    o.poke("WETH", ref.FeedRound(2, 1_600 * 10**8, T0 + HOUR, 2), T0 + HOUR)  # target jumps to h_max
    up = p[ref.P_RAMP_UP]
    o.set_param("WETH", ref.P_RAMP_UP, 2 * up, T0 + 2 * HOUR)
    s = o.assets["WETH"]
    assert (s.h_maint, s.h_time) == (h0 + HOUR * up, T0 + 2 * HOUR)  # one hour at the old speed
    assert o.h_maint_now("WETH", T0 + 3 * HOUR) == h0 + HOUR * up + HOUR * 2 * up  # then the new one


@pytest.mark.parametrize(
    "asset, param, value, reason",
    [
        ("WBTC", ref.P_Z_MAINT, 1, "oracle: asset not listed"),
        ("WETH", len(ref.ORACLE_PARAM_NAMES), 1, "oracle: unknown param"),
        ("WETH", ref.P_HEARTBEAT, 0, "oracle: bad params"),
        ("WETH", ref.P_H_MIN, 2 * WAD, "oracle: bad params"),
    ],
)
def test_set_param_rejections_leave_the_oracle_untouched(asset, param, value, reason):
    o, p = _weth_oracle()
    before = (astuple(o.assets["WETH"]), list(o.params["WETH"]))
    with pytest.raises(ref.Reject, match=reason):
        o.set_param(asset, param, value, T0 + HOUR)
    assert (astuple(o.assets["WETH"]), list(o.params["WETH"])) == before


def test_round_up_overflows_where_vyper_does():
    """Vyper evaluates ``(x + d - 1) // d`` left to right: ``x + d`` must fit in a uint256 even
    when ``x + d - 1`` would. Found by the harness fuzz: liability_value(1, 2**256 - 1, 0)
    reverts on chain (1 wei at the largest price, 0 decimals)."""
    top = 2**256 - 1
    with pytest.raises(ArithmeticError):
        ref.liability_value(1, top, 0)
    with pytest.raises(ArithmeticError):
        ref.ceil_div(top - 10**18 + 1, 10**18)  # x + d = 2**256 + 0: overflows
    assert ref.ceil_div(top - 10**18, 10**18) == (top - 10**18) // 10**18 + 1  # x + d = 2**256 - 1 fits
    assert ref.ceil_div(0, 7) == 0 and ref.ceil_div(7, 7) == 1 and ref.ceil_div(8, 7) == 2


def test_share_math_rounds_for_the_vault():
    """reference.shares (contracts/modules/shares.vy): deposits round down, borrows up, exact
    multiples are exact, and the checked arithmetic overflows where Vyper's does."""
    WAD = ref.WAD
    index = WAD + WAD // 3  # 1.333...: no amount below is an exact multiple
    for x in (1, 7, 10**6 + 1, 3 * 10**24 + 5):
        assert ref.to_assets_down(x, index) == x * index // WAD
        assert ref.to_assets_up(x, index) == -(-x * index // WAD)
        assert ref.to_shares_down(x, index) == x * WAD // index
        assert ref.to_shares_up(x, index) == -(-x * WAD // index)
        assert ref.to_assets_up(x, index) - ref.to_assets_down(x, index) in (0, 1)
        assert ref.to_shares_up(x, index) - ref.to_shares_down(x, index) in (0, 1)
        # a deposit never gets back more than it paid in, a borrow never owes less than it took
        assert ref.to_assets_down(ref.to_shares_down(x, index), index) <= x
        assert ref.to_assets_up(ref.to_shares_up(x, index), index) >= x
    assert ref.to_assets_up(3, WAD) == ref.to_assets_down(3, WAD) == 3  # unit index: exact
    assert ref.to_shares_up(0, index) == ref.to_assets_up(0, index) == 0
    top = 2**256 - 1
    with pytest.raises(ArithmeticError):
        ref.to_assets_up(top - WAD + 1, 1)  # x + WAD = 2**256: overflows before the - 1
    with pytest.raises(ArithmeticError):
        ref.to_shares_down(1, 0)  # zero index: the division reverts
    with pytest.raises(ArithmeticError):
        ref.to_assets_down(2**255, 2)  # the product overflows
