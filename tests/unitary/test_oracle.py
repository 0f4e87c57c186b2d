"""RiskOracle: EWMA update and haircut target against the docs/design.md §3-§4
formulas, the bounded ramp, and the circuit breaker (§7): jumps, stale and
non-positive answers, incomplete rounds, cooldown, CAUTION and recovery."""

from __future__ import annotations

import ape
import pytest

from volmargin import params as P
from volmargin import reference as ref

WAD = ref.WAD


def _step(system, chain, seconds, **prices):
    chain.pending_timestamp += seconds
    for sym, price in prices.items():
        system.push_price(sym, price)
    return system.poke()


def test_poke_updates_variance_as_design_says(system, oracle, weth, chain):
    a = str(weth.address)
    s0 = oracle.assets(weth)
    r = _step(system, chain, 3_600, WETH=2_100.0, WBTC=30_000.0, USD=1.0)
    s1 = oracle.assets(weth)
    dt = s1.updated_at - s0.updated_at
    p = P.TOKENS[1].oracle
    # docs/design.md §3 by hand: r = 5 %, lam = tau / (tau + dt)
    abs_r = (2_100 - 2_000) * WAD // 2_000
    lam_fast = p[ref.P_TAU_FAST] * WAD // (p[ref.P_TAU_FAST] + dt)
    want_fast = (lam_fast * s0.var_fast + (WAD - lam_fast) * (abs_r * abs_r // WAD) // dt) // WAD
    assert s1.var_fast == want_fast
    assert s1.var_slow < s1.var_fast  # the slow estimate reacts less
    assert s1.price == 2_100 * WAD and s1.updated_at == system.feeds["WETH"].latestRoundData()[3]
    ev = [e for e in r.events if e.event_name == "PriceAccepted" and e.asset == a][0]
    assert (ev.price, ev.var_fast, ev.h_target) == (s1.price, s1.var_fast, s1.h_target)
    # haircut target: h0 + z_maint * sigma_1d, rounded up, clamped
    sigma_1d = ref.sigma(max(s1.var_fast, s1.var_slow), p[ref.P_HORIZON])
    assert s1.h_target == ref.haircut(p[ref.P_H0], p[ref.P_Z_MAINT], sigma_1d, p[ref.P_H_MIN], p[ref.P_H_MAX])


def test_no_new_round_changes_no_variance(system, oracle, weth, chain):
    before = oracle.assets(weth)
    chain.pending_timestamp += 60
    system.poke()
    after = oracle.assets(weth)
    assert (after.var_fast, after.var_slow, after.updated_at) == (before.var_fast, before.var_slow, before.updated_at)


def test_maintenance_haircut_ramps_at_bounded_speed(system, oracle, weth, chain):
    """A volatility spike raises the target at once; the haircut in force follows
    at ramp_up per second (docs/design.md §4)."""
    p = P.TOKENS[1].oracle
    h0 = oracle.haircuts(weth)[0]
    _step(system, chain, 3_600, WETH=1_500.0, WBTC=30_000.0, USD=1.0)
    s = oracle.assets(weth)
    assert s.h_target > h0 + p[ref.P_RAMP_UP] * 3_600 * 2  # the target jumped far
    # right after the poke the haircut in force moved at most ramp_up * elapsed
    assert s.h_maint <= h0 + p[ref.P_RAMP_UP] * 3_600
    chain.pending_timestamp += 7_200
    chain.mine()
    h_now = oracle.haircuts(weth)[0]
    assert s.h_maint < h_now <= min(s.h_target, s.h_maint + p[ref.P_RAMP_UP] * 7_300)


def test_jump_trips_reduce_only_then_caution_then_normal(system, oracle, weth, chain):
    r = _step(system, chain, 3_600, WETH=1_700.0, WBTC=30_000.0, USD=1.0)  # -15 % in an hour
    assert oracle.breaker(weth) == ref.REDUCE_ONLY
    assert oracle.n_tripped() == 1
    ev = [e for e in r.events if e.event_name == "BreakerChanged"][0]
    assert (ev.old_state, ev.new_state, ev.reason) == (ref.NORMAL, ref.REDUCE_ONLY, ref.REASON_JUMP)
    # within the 2 h cooldown: stays REDUCE_ONLY even with a calm price
    _step(system, chain, 3_600, WETH=1_701.0, WBTC=30_000.0, USD=1.0)
    assert oracle.breaker(weth) == ref.REDUCE_ONLY
    # after the cooldown: CAUTION (recent trip cooling down; sigma is high too)
    _step(system, chain, 3_700, WETH=1_702.0, WBTC=30_000.0, USD=1.0)
    assert oracle.breaker(weth) == ref.CAUTION
    assert oracle.n_tripped() == 0


def test_stale_feed_trips_and_invalidates(system, oracle, weth, chain):
    chain.pending_timestamp += 3_600 + 600 + 1
    r = system.oracle.poke(weth, sender=system.admin)
    s = oracle.assets(weth)
    assert s.breaker == ref.REDUCE_ONLY and s.invalid
    ev = [e for e in r.events if e.event_name == "BreakerChanged"][0]
    assert ev.reason == ref.REASON_STALE
    with ape.reverts("oracle: invalid price"):
        oracle.risk(weth)
    # a fresh round makes the price valid again (the breaker waits for its cooldown)
    system.push_price("WETH", 2_000.0)
    system.oracle.poke(weth, sender=system.admin)
    assert not oracle.assets(weth).invalid
    assert oracle.risk(weth).price == 2_000 * WAD


@pytest.mark.parametrize("answer, reason", [(0, ref.REASON_NON_POSITIVE), (-10, ref.REASON_NON_POSITIVE)])
def test_non_positive_answer_trips(system, oracle, weth, chain, answer, reason):
    chain.pending_timestamp += 60
    system.feeds["WETH"].push(answer, 0, sender=system.admin)
    r = oracle.poke(weth, sender=system.admin)
    assert [e.reason for e in r.events if e.event_name == "BreakerChanged"] == [reason]
    assert oracle.assets(weth).price == 2_000 * WAD  # the last valid price is kept, but invalid
    with ape.reverts("oracle: invalid price"):
        oracle.risk(weth)


def test_incomplete_round_trips(system, oracle, weth, chain):
    chain.pending_timestamp += 60
    system.feeds["WETH"].push_incomplete(2_000 * 10**8, 0, sender=system.admin)
    r = oracle.poke(weth, sender=system.admin)
    assert [e.reason for e in r.events if e.event_name == "BreakerChanged"] == [ref.REASON_INCOMPLETE]


def test_risk_view_rejects_stale_without_poke(oracle, weth, chain):
    chain.pending_timestamp += 3_600 + 600 + 1
    chain.mine()
    with ape.reverts("oracle: stale price"):
        oracle.risk(weth)


def test_unlisted_asset(oracle, lens, alice):
    for call in (lambda: oracle.poke(alice, sender=alice), lambda: oracle.risk(alice),
                 lambda: oracle.sigma(alice, 1), lambda: oracle.haircuts(alice), lambda: lens.snapshot([alice])):
        with ape.reverts("oracle: asset not listed"):
            call()


def test_views(system, oracle, lens, usd, weth, wbtc):
    ts, snaps = lens.snapshot([usd, weth, wbtc])
    assert [s.asset for s in snaps] == [usd.address, weth.address, wbtc.address]
    w = snaps[1]
    assert w.sigma_annual == oracle.sigma(weth, ref.SECONDS_PER_YEAR)
    # the seed is 80 % a year: sigma_annual = isqrt(var * year * 1e18)
    assert abs(w.sigma_annual - 8 * WAD // 10) < WAD // 10**6
    assert oracle.n_listed() == 3
    rv = oracle.risk(weth)
    assert (rv.price, rv.breaker) == (2_000 * WAD, ref.NORMAL)
    assert rv.h_init > rv.h_maint  # z_init 4 > z_maint 3
