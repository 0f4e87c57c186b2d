"""volmargin.reference by hand: rounding directions, rejections, atomicity."""

from __future__ import annotations

import pytest

from volmargin import params as P
from volmargin import reference as ref

WAD = ref.WAD


def test_rounding_never_favours_the_user():
    # one wei of a 6-decimal token at 1.5 USD: worth 1.5e12 wei-USD, floored as an
    # asset and ceiled as a liability
    assert ref.asset_value(1, 3 * WAD // 2, 6) == 1_500_000_000_000
    assert ref.asset_value(1, 3 * WAD // 2 + 1, 6) == 1_500_000_000_000
    assert ref.liability_value(1, 3 * WAD // 2 + 1, 6) == 1_500_000_000_001
    assert ref.weighted_asset(3, WAD // 2) == 1  # 1.5 floored
    assert ref.weighted_liability(3, WAD // 2) == 5  # 4.5 ceiled
    assert ref.haircut(0, WAD, 1, 0, WAD) == 1  # z * sigma = 1e-18: rounds up to one wei
    assert ref.grow_index(WAD, ref.SECONDS_PER_YEAR, 1) == WAD + 1  # 1 wei/s of rate: index rounds up


def test_liquidation_amounts_round_against_the_liquidator():
    bonus = WAD // 20
    seize = ref.seize_amount(1_000 * 10**6, WAD, 6, 2_000 * WAD, 18, bonus)
    assert seize == 525 * 10**15  # 1,000 USD * 1.05 / 2,000 USD
    repay = ref.repay_for_seize(seize, WAD, 6, 2_000 * WAD, 18, bonus)
    assert repay == 1_000 * 10**6
    assert ref.repay_for_seize(seize - 1, WAD, 6, 2_000 * WAD, 18, bonus) == 1_000 * 10**6  # rounded up


def test_checked_arithmetic():
    with pytest.raises(ArithmeticError):
        ref.sigma(2**255, 2)
    with pytest.raises(ArithmeticError):
        ref.pow10(78)
    with pytest.raises(ArithmeticError):
        ref.ewma_var(1, 1, 0, 1)  # dt = 0 divides by zero
    assert ref.pow10(77) == 10**77


def _oracle_with_weth(now: int = 10_000) -> tuple[ref.OracleRef, str]:
    o = ref.OracleRef()
    spec = P.TOKENS[1]
    o.list_asset("WETH", 8, ref.FeedRound(1, 2_000 * 10**8, now, 1), spec.var_seed, list(spec.oracle), now)
    return o, "WETH"


def test_oracle_jump_trips_and_stale_invalidates():
    o, a = _oracle_with_weth()
    o.poke(a, ref.FeedRound(2, 1_600 * 10**8, 13_600, 2), 13_600)  # -20 % in an hour
    assert o.assets[a].breaker == ref.REDUCE_ONLY and o.n_tripped == 1
    o.poke(a, ref.FeedRound(2, 1_600 * 10**8, 13_600, 2), 13_600 + 4_201)  # heartbeat + grace passed
    assert o.assets[a].invalid
    with pytest.raises(ref.Reject, match="oracle: invalid price"):
        o.risk(a, 13_600 + 4_201)


def test_vault_rejections_are_atomic():
    o, a = _oracle_with_weth()
    usd = P.TOKENS[0]
    o.list_asset("USD", 8, ref.FeedRound(1, 10**8, 10_000, 1), usd.var_seed, list(usd.oracle), 10_000)
    v = ref.VaultRef(oracle=o, params=list(P.VAULT))
    v.list_asset("USD", 6, list(usd.rates), 10_000)
    v.list_asset("WETH", 18, list(P.TOKENS[1].rates), 10_000)
    v.deposit("lender", "USD", 10**6 * 10**6, 10_000)
    v.deposit("alice", "WETH", 10**18, 10_000)
    v.borrow("alice", "USD", 1_000 * 10**6, 10_000)
    before = ({k: (m.scaled_deposits, m.scaled_borrows) for k, m in v.markets.items()}, dict(v.scaled))
    with pytest.raises(ref.Reject, match="vault: insufficient health"):
        v.borrow("alice", "USD", 1_000 * 10**6, 10_000)
    assert ({k: (m.scaled_deposits, m.scaled_borrows) for k, m in v.markets.items()}, dict(v.scaled)) == before
    with pytest.raises(ref.Reject, match="vault: account healthy"):
        v.liquidate("bob", "alice", "USD", "WETH", 10**6, 0, 10_000)
