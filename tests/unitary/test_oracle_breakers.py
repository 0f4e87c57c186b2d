"""RiskOracle: EWMA variance and haircut target (docs/design.md §3-§4), the bounded
maintenance-haircut ramp, and the circuit breaker (§7): jump threshold at the
wei, non-positive / incomplete / stale answers, cooldown, CAUTION, recovery,
re-trips; the views (risk, snapshot, sigma, haircuts) and poke_many.

Every poke goes through ``system.poke``, which feeds ``system.oracle_ref`` the
same rounds at the same block time, so after each step the whole stored state
of every asset is compared with the reference; one-step values are also
computed by hand from the docs/design.md formulas.
"""

from __future__ import annotations

import math

import ape
import pytest

from volmargin import params as P
from volmargin import reference as ref
from volmargin import spec as S

from market import refresh as step  # advance time, push feeds, poke
from market import spike_then_calm
from rounding import ceil_div

WAD = ref.WAD
YEAR = ref.SECONDS_PER_YEAR
SYMS = ("USD", "WETH", "WBTC")
PW = P.TOKENS[1].oracle  # WETH's oracle parameters (P_* order)


def state(oracle, token):
    s = oracle.assets(token)
    return (s.feed_scale, s.price, s.updated_at, s.var_fast, s.var_slow, s.h_maint, s.h_target, s.h_time,
            s.breaker, s.tripped_at, s.invalid)


def synced(system, chain):
    """Every asset's stored state, n_tripped and the time-dependent views equal
    the reference fed the same rounds."""
    o, r = system.oracle, system.oracle_ref
    now = chain.blocks.head.timestamp
    for sym in SYMS:
        a = system.address(sym)
        s = r.assets[a]
        assert state(o, system.tokens[sym]) == (
            s.feed_scale, s.price, s.updated_at, s.var_fast, s.var_slow, s.h_maint, s.h_target, s.h_time,
            s.breaker, s.tripped_at, s.invalid,
        ), sym
        assert tuple(o.haircuts(system.tokens[sym])) == (r.h_maint_now(a, now), r.h_init_now(a, now)), sym
    assert o.n_tripped() == r.n_tripped


def raw(system, sym, answer, ts=0, incomplete=False):
    """Push a raw round (any answer, explicit timestamp) that system.poke will read back."""
    feed = system.feeds[sym]
    r = (feed.push_incomplete if incomplete else feed.push)(answer, ts, sender=system.admin)
    system.last_rounds.pop(sym, None)
    return r


def breaker_events(receipt, oracle):
    return [(e.old_state, e.new_state, e.reason) for e in receipt.events.filter(oracle.BreakerChanged)]


# ------------------------------------------------------------------ EWMA and haircut target


def test_one_poke_by_hand(system, oracle, weth, chain):
    """WETH +5 % after an hour, docs/design.md §3-§4 by hand."""
    s0 = oracle.assets(weth)
    r = step(system, chain, WETH=2_100.0)
    s1 = oracle.assets(weth)
    dt = s1.updated_at - s0.updated_at
    assert dt >= 3_600 and s1.price == 2_100 * WAD
    abs_r = 5 * WAD // 100
    assert abs_r == (2_100 - 2_000) * WAD // 2_000
    rr = abs_r * abs_r // WAD
    lam_f = PW[ref.P_TAU_FAST] * WAD // (PW[ref.P_TAU_FAST] + dt)
    lam_s = PW[ref.P_TAU_SLOW] * WAD // (PW[ref.P_TAU_SLOW] + dt)
    vf = (lam_f * s0.var_fast + (WAD - lam_f) * rr // dt) // WAD
    vs = (lam_s * s0.var_slow + (WAD - lam_s) * rr // dt) // WAD
    assert PW[ref.P_VAR_MIN] < vs < vf < PW[ref.P_VAR_MAX]  # inside the clamp; the fast one reacts more
    assert (s1.var_fast, s1.var_slow) == (vf, vs)
    sigma_h = math.isqrt(vf * PW[ref.P_HORIZON] * WAD)
    target = PW[ref.P_H0] + ceil_div(PW[ref.P_Z_MAINT] * sigma_h, WAD)  # rounds up
    assert PW[ref.P_H_MIN] < target < PW[ref.P_H_MAX] and s1.h_target == target
    # the haircut in force was brought to now under the old target (equal to it): unchanged
    assert s1.h_maint == s0.h_maint == s0.h_target and s1.h_time == r.timestamp
    ev = [e for e in r.events.filter(oracle.PriceAccepted) if e.asset == weth.address]
    assert [(e.price, e.updated_at, e.var_fast, e.var_slow, e.h_target) for e in ev] == [
        (2_100 * WAD, s1.updated_at, vf, vs, target)]
    # CAUTION iff the annualized sigma of the new variance exceeds sigma_caution (150 %)
    hot = math.isqrt(vf * YEAR * WAD) > PW[ref.P_SIGMA_CAUTION]
    assert s1.breaker == (ref.CAUTION if hot else ref.NORMAL)
    assert breaker_events(r, oracle) == ([(ref.NORMAL, ref.CAUTION, ref.REASON_VOLATILITY)] if hot else [])
    synced(system, chain)


def test_round_sequence_matches_reference(system, oracle, chain):
    """Twelve steps of mixed moves, gaps and faults on all three assets; the
    whole stored state equals the reference after each."""
    steps = [
        (3_600, {"WETH": 2_050.0, "WBTC": 30_300.0}),
        (600, {"WETH": 2_045.0, "USD": 1.001}),
        (3_000, {"WETH": 1_700.0}),  # a jump
        (1, {}),
        (3_600, {"WETH": 1_720.0, "WBTC": 29_000.0}),
        (4_000, {"WETH": 1_760.0, "WBTC": 28_800.0}),
        (7_300, {"WETH": 1_790.0, "USD": 0.999}),
        (86_400, {"WETH": 1_800.0, "WBTC": 31_000.0}),
        (900, {"WBTC": 31_100.0}),
        (40_000, {"WETH": 1_850.0}),
        (40_000, {"WETH": 1_840.0, "WBTC": 31_000.0}),
        (40_000, {}),
    ]
    prices = {"USD": 1.0, "WETH": 2_000.0, "WBTC": 30_000.0}
    seen = set()
    for seconds, moves in steps:
        prices.update(moves)
        step(system, chain, seconds, **prices)
        synced(system, chain)
        seen.add(oracle.breaker(system.tokens["WETH"]))
    assert seen == {ref.NORMAL, ref.CAUTION, ref.REDUCE_ONLY}  # the sequence visits every state
    # faults, each mirrored: incomplete, non-positive, then stale
    chain.pending_timestamp += 60
    raw(system, "WBTC", 31_000 * 10**8, incomplete=True)
    raw(system, "USD", 0)
    system.poke()
    synced(system, chain)
    chain.pending_timestamp += 5_000
    system.poke(["WETH"])
    synced(system, chain)
    assert oracle.n_tripped() == 3


def test_no_new_round_keeps_variance_but_brings_the_ramp_to_now(system, oracle, weth, chain):
    step(system, chain, WETH=1_500.0)  # raises the target: the haircut in force ramps
    s0 = oracle.assets(weth)
    chain.pending_timestamp += 600
    r = system.poke(["WETH"])
    s1 = oracle.assets(weth)
    assert (s1.var_fast, s1.var_slow, s1.price, s1.updated_at, s1.h_target) == (
        s0.var_fast, s0.var_slow, s0.price, s0.updated_at, s0.h_target)
    assert not list(r.events.filter(oracle.PriceAccepted))
    assert s1.h_time == r.timestamp
    assert s1.h_maint == min(s0.h_target, s0.h_maint + PW[ref.P_RAMP_UP] * (r.timestamp - s0.h_time))
    synced(system, chain)


# ------------------------------------------------------------------ ramp


def test_maintenance_haircut_tightens_at_ramp_up(system, oracle, weth, chain):
    """The target jumps at once; the haircut in force follows at ramp_up per
    second (2 %/h), never faster, until it reaches the target (docs/design.md §4)."""
    step(system, chain, WETH=1_500.0)
    s = oracle.assets(weth)
    up = PW[ref.P_RAMP_UP]
    assert up == int(0.02 * WAD) // 3_600
    assert s.h_target > s.h_maint + up * 3 * 3_600  # far above: it takes hours
    prev_t, prev_h = s.h_time, s.h_maint
    for wait in (1, 59, 1_800, 3_600, 20_000, 86_400):
        chain.pending_timestamp += wait
        chain.mine()
        t = chain.blocks.head.timestamp
        h = oracle.haircuts(weth)[0]
        assert h == min(s.h_target, s.h_maint + up * (t - s.h_time))
        assert h - prev_h <= up * (t - prev_t)  # bounded speed between any two observations
        prev_t, prev_h = t, h
    assert prev_h == s.h_target  # eventually there


def test_maintenance_haircut_loosens_at_ramp_down(system, oracle, weth, admin, chain):
    """Lowering z_maint (admin) lowers the target at once (set_param retargets); the haircut
    in force then falls at ramp_down (0.5 %/h), through the next poke."""
    h_before = oracle.haircuts(weth)[0]
    rc = oracle.set_param(weth, ref.P_Z_MAINT, 2 * WAD, sender=admin)
    system.oracle_ref.set_param(system.address("WETH"), ref.P_Z_MAINT, 2 * WAD, rc.timestamp)
    assert oracle.assets(weth).h_maint == h_before  # nothing moves the haircut in force at once
    assert oracle.assets(weth).h_target == system.oracle_ref.assets[system.address("WETH")].h_target < h_before
    r = step(system, chain, seconds=60, symbols=("WETH",))
    s = oracle.assets(weth)
    sigma_h = math.isqrt(max(s.var_fast, s.var_slow) * PW[ref.P_HORIZON] * WAD)
    assert s.h_target == max(PW[ref.P_H_MIN], PW[ref.P_H0] + ceil_div(2 * WAD * sigma_h, WAD)) < s.h_maint
    down = PW[ref.P_RAMP_DOWN]
    for wait in (1, 3_600, 10 * 3_600):
        chain.pending_timestamp += wait
        chain.mine()
        elapsed = chain.blocks.head.timestamp - r.timestamp
        assert oracle.haircuts(weth)[0] == max(s.h_target, s.h_maint - down * elapsed)
    synced(system, chain)


def test_set_param_retargets_at_once_and_the_haircut_follows_at_ramp_speed(system, oracle, weth, admin, chain):
    """A new floor (h_min 10 % -> 30 %, above the volatility's target) moves the maintenance
    target in the same transaction (it once waited for the next poke), and the cached initial
    haircut with it; the haircut in force then climbs at ramp_up, as the reference says."""
    before = oracle.assets(weth)
    assert before.h_target < 30 * WAD // 100
    r = oracle.set_param(weth, ref.P_H_MIN, 30 * WAD // 100, sender=admin)
    system.oracle_ref.set_param(weth.address, ref.P_H_MIN, 30 * WAD // 100, r.timestamp)
    s, want = oracle.assets(weth), system.oracle_ref.assets[weth.address]
    assert s.h_target == want.h_target == 30 * WAD // 100
    assert oracle.haircuts(weth)[1] == system.oracle_ref.h_init_now(weth.address, r.timestamp) >= 30 * WAD // 100
    chain.pending_timestamp = r.timestamp + 600
    chain.mine()
    now = chain.blocks.head.timestamp
    up = oracle.params(weth, ref.P_RAMP_UP)
    assert oracle.haircuts(weth)[0] == s.h_maint + up * (now - r.timestamp) == system.oracle_ref.h_maint_now(
        weth.address, now)


def test_ramp_parameter_change_does_not_move_the_haircut_in_force(system, oracle, weth, risk_admin, chain):
    """A new ramp speed applies from the change on, never retroactively: set_param
    first brings the haircut in force to now under the old speed (docs/design.md §4). Here
    an in-bounds +25 % ramp_up change by the risk steward, one hour after a
    volatility spike, moves h_maint by at most the old speed times the seconds
    since the last read (it once jumped by 0.5 % in one block), and afterwards
    the haircut climbs at the new speed, exactly as the reference says."""
    step(system, chain, WETH=1_500.0)  # target far above the haircut in force
    chain.pending_timestamp += 3_600
    chain.mine()
    before = oracle.haircuts(weth)[0]
    t0 = chain.blocks.head.timestamp
    up = oracle.params(weth, ref.P_RAMP_UP)
    assert oracle.assets(weth).h_target - before > 100 * up  # still ramping toward a far target
    r = oracle.set_param(weth, ref.P_RAMP_UP, up * 125 // 100, sender=risk_admin)
    s = oracle.assets(weth)
    assert s.h_time == r.timestamp
    assert s.h_maint == before + up * (r.timestamp - t0)  # old speed up to the change, to the wei
    system.oracle_ref.set_param(weth.address, ref.P_RAMP_UP, up * 125 // 100, r.timestamp)
    assert system.oracle_ref.assets[weth.address].h_maint == s.h_maint
    chain.pending_timestamp = r.timestamp + 600
    chain.mine()
    now = chain.blocks.head.timestamp
    assert oracle.haircuts(weth)[0] == s.h_maint + up * 125 // 100 * (now - r.timestamp)
    assert oracle.haircuts(weth)[0] == system.oracle_ref.h_maint_now(weth.address, now)


# ------------------------------------------------------------------ jump breaker


def _jump_round(system, oracle, weth, chain, direction, extra):
    """A WETH round exactly 3,600 s after the last accepted one whose |return| is
    the jump threshold k_jump * sigma_dt + r_floor (docs/design.md §7) plus ``extra`` feed units."""
    s = oracle.assets(weth)
    dt = 3_600
    sigma_dt = math.isqrt(max(s.var_fast, s.var_slow) * dt * WAD)
    thr = PW[ref.P_K_JUMP] * sigma_dt // WAD + PW[ref.P_R_FLOOR]
    assert 0.10 * WAD < thr < 0.11 * WAD  # about 10.1 % for 80 % a year over an hour
    # answer a (8 decimals) at p0 = 2,000 USD: |r| = |2000e8 - a| * 1e28 // 2000e18 = |2000e8 - a| * 5e6
    d = thr // 5_000_000 + extra
    answer = 2_000 * 10**8 + direction * d
    chain.pending_timestamp = s.updated_at + dt + 10
    raw(system, "WETH", answer, ts=s.updated_at + dt)
    r = system.poke(["WETH"])
    return r, d * 5_000_000, thr, answer


@pytest.mark.parametrize("direction", [-1, 1], ids=["down", "up"])
def test_move_at_the_threshold_does_not_trip(system, oracle, weth, chain, direction):
    r, abs_r, thr, answer = _jump_round(system, oracle, weth, chain, direction, 0)
    assert abs_r <= thr
    # no trip (sigma rises, so CAUTION at most)
    assert breaker_events(r, oracle) in ([], [(ref.NORMAL, ref.CAUTION, ref.REASON_VOLATILITY)])
    assert oracle.n_tripped() == 0
    assert oracle.assets(weth).price == answer * 10**10
    assert oracle.breaker(weth) != ref.REDUCE_ONLY  # CAUTION at most (sigma rises)
    synced(system, chain)


@pytest.mark.parametrize("direction", [-1, 1], ids=["down", "up"])
def test_move_one_unit_beyond_the_threshold_trips(system, oracle, weth, chain, direction):
    r, abs_r, thr, answer = _jump_round(system, oracle, weth, chain, direction, 1)
    assert abs_r > thr
    assert breaker_events(r, oracle) == [(ref.NORMAL, ref.REDUCE_ONLY, ref.REASON_JUMP)]
    s = oracle.assets(weth)
    assert (s.breaker, s.tripped_at, s.invalid) == (ref.REDUCE_ONLY, r.timestamp, False)
    assert s.price == answer * 10**10  # the price itself is accepted (and valued)
    assert [e.price for e in r.events.filter(oracle.PriceAccepted)] == [answer * 10**10]
    assert oracle.n_tripped() == 1
    assert oracle.risk(weth).breaker == ref.REDUCE_ONLY
    synced(system, chain)


def test_cooldown_then_caution_then_normal(system, oracle, weth, chain):
    """REDUCE_ONLY for the cooldown (2 h) whatever the price, then CAUTION while
    the trip cools down (until 2 x cooldown) or sigma is above sigma_caution,
    then NORMAL."""
    r = step(system, chain, WETH=1_700.0)  # -15 % in an hour
    assert breaker_events(r, oracle) == [(ref.NORMAL, ref.REDUCE_ONLY, ref.REASON_JUMP)]
    tripped = r.timestamp
    cd = PW[ref.P_COOLDOWN]
    r = step(system, chain, 3_600, WETH=1_701.0)  # calm, but within the cooldown
    assert oracle.breaker(weth) == ref.REDUCE_ONLY and not breaker_events(r, oracle)
    r = step(system, chain, 3_700, WETH=1_702.0)  # cooldown over
    assert r.timestamp >= tripped + cd
    assert breaker_events(r, oracle) == [(ref.REDUCE_ONLY, ref.CAUTION, ref.REASON_VOLATILITY)]
    assert oracle.n_tripped() == 0
    synced(system, chain)
    transitions = []
    for _ in range(6):  # calm 40,000 s steps: var_fast decays by tau / (tau + dt) each
        r = step(system, chain, 40_000, WETH=1_702.0)
        s = oracle.assets(weth)
        hot = math.isqrt(max(s.var_fast, s.var_slow) * YEAR * WAD) > PW[ref.P_SIGMA_CAUTION]
        cooling = r.timestamp < tripped + 2 * cd
        assert s.breaker == (ref.CAUTION if hot or cooling else ref.NORMAL)
        transitions += breaker_events(r, oracle)
        if s.breaker == ref.NORMAL:
            break
    assert transitions == [(ref.CAUTION, ref.NORMAL, ref.REASON_VOLATILITY)]
    synced(system, chain)


def test_caution_from_volatility_alone(system, oracle, weth, chain):
    """-7.5 % in an hour: under the jump threshold, but sigma_annual > 150 %."""
    r = step(system, chain, WETH=1_850.0)
    assert breaker_events(r, oracle) == [(ref.NORMAL, ref.CAUTION, ref.REASON_VOLATILITY)]
    assert oracle.sigma(weth, YEAR) > PW[ref.P_SIGMA_CAUTION] and oracle.n_tripped() == 0
    synced(system, chain)


# ------------------------------------------------------------------ faults


def test_stale_feed_trips_and_invalidates(system, oracle, lens, weth, chain):
    chain.pending_timestamp += PW[ref.P_HEARTBEAT] + PW[ref.P_GRACE] + 1
    chain.mine()
    with ape.reverts("oracle: stale price"):  # not poked yet: the accepted price is too old
        oracle.risk(weth)
    price0 = oracle.assets(weth).price
    r = system.poke(["WETH"])
    assert breaker_events(r, oracle) == [(ref.NORMAL, ref.REDUCE_ONLY, ref.REASON_STALE)]
    s = oracle.assets(weth)
    assert (s.breaker, s.invalid, s.tripped_at, s.price) == (ref.REDUCE_ONLY, True, r.timestamp, price0)
    assert oracle.n_tripped() == 1
    with ape.reverts("oracle: invalid price"):
        oracle.risk(weth)
    _, (snap,) = lens.snapshot([weth])  # the lens never reverts on a bad price
    assert (snap.invalid, snap.breaker, snap.price) == (True, ref.REDUCE_ONLY, price0)
    synced(system, chain)
    # a fresh valid round: usable again, but REDUCE_ONLY until the cooldown is over
    r = step(system, chain, 60, symbols=("WETH",))
    assert not oracle.assets(weth).invalid and oracle.breaker(weth) == ref.REDUCE_ONLY
    assert oracle.risk(weth).price == 2_000 * WAD
    synced(system, chain)


@pytest.mark.parametrize("answer", [0, -1], ids=["zero", "negative"])
def test_non_positive_answer_trips(system, oracle, weth, chain, answer):
    chain.pending_timestamp += 60
    raw(system, "WETH", answer)
    r = system.poke(["WETH"])
    assert breaker_events(r, oracle) == [(ref.NORMAL, ref.REDUCE_ONLY, ref.REASON_NON_POSITIVE)]
    s = oracle.assets(weth)
    assert s.invalid and s.price == 2_000 * WAD  # the last valid price is kept, but not used
    with ape.reverts("oracle: invalid price"):
        oracle.risk(weth)
    synced(system, chain)


def test_incomplete_round_trips(system, oracle, weth, chain):
    chain.pending_timestamp += 60
    raw(system, "WETH", 2_010 * 10**8, incomplete=True)
    rid, _, _, _, answered = system.feeds["WETH"].latestRoundData()
    assert answered == rid - 1
    r = system.poke(["WETH"])
    assert breaker_events(r, oracle) == [(ref.NORMAL, ref.REDUCE_ONLY, ref.REASON_INCOMPLETE)]
    s = oracle.assets(weth)
    assert s.invalid and s.price == 2_000 * WAD  # the incomplete answer is not taken
    synced(system, chain)


def test_fault_while_tripped_restarts_the_cooldown(system, oracle, weth, chain):
    r = step(system, chain, WETH=1_700.0)
    assert oracle.n_tripped() == 1
    chain.pending_timestamp += 3_600
    raw(system, "WETH", -1)
    r2 = system.poke(["WETH"])
    # re-trip: state unchanged, logged, cooldown restarted, still one tripped asset
    assert breaker_events(r2, oracle) == [(ref.REDUCE_ONLY, ref.REDUCE_ONLY, ref.REASON_NON_POSITIVE)]
    assert oracle.assets(weth).tripped_at == r2.timestamp > r.timestamp
    assert oracle.n_tripped() == 1
    # 2 h after the first trip but not after the second: a valid round keeps it REDUCE_ONLY
    r3 = step(system, chain, 3_700, WETH=1_705.0)
    assert r3.timestamp >= r.timestamp + PW[ref.P_COOLDOWN] > r3.timestamp - (r2.timestamp - r.timestamp)
    assert oracle.breaker(weth) == ref.REDUCE_ONLY
    synced(system, chain)


# ------------------------------------------------------------------ views and batch


def test_unlisted_asset_is_named_everywhere(system, oracle, lens, weth, alice, admin):
    before = state(oracle, weth)
    for call in (
        lambda: oracle.poke(alice, sender=alice),
        lambda: oracle.poke_many([weth, alice], sender=alice),  # the whole batch reverts
        lambda: oracle.risk(alice),
        lambda: oracle.sigma(alice, 1),
        lambda: oracle.haircuts(alice),
        lambda: lens.snapshot([weth, alice]),
        lambda: oracle.set_param(alice, ref.P_HEARTBEAT, 1, sender=admin),
    ):
        with ape.reverts("oracle: asset not listed"):
            call()
    assert state(oracle, weth) == before
    assert oracle.breaker(alice) == ref.NORMAL  # the plain getter answers the default


def test_poke_many_updates_every_asset_in_one_transaction(system, oracle, usd, weth, wbtc, chain):
    chain.pending_timestamp += 3_600
    for sym, price in (("USD", 1.002), ("WETH", 2_020.0), ("WBTC", 30_100.0)):
        system.push_price(sym, price)
    r = system.poke()  # poke_many over the three
    assert [(e.asset, e.price) for e in r.events.filter(oracle.PriceAccepted)] == [
        (usd.address, 1_002 * WAD // 1_000), (weth.address, 2_020 * WAD), (wbtc.address, 30_100 * WAD)]
    assert {oracle.assets(t).h_time for t in (usd, weth, wbtc)} == {r.timestamp}
    synced(system, chain)
    r = oracle.poke_many([], sender=system.admin)  # an empty batch does nothing
    assert not list(r.events)
    assert oracle.n_listed() == 3 and [oracle.listed(i) for i in range(3)] == [usd.address, weth.address, wbtc.address]


def test_views_by_hand(system, oracle, lens, usd, weth, wbtc, chain):
    step(system, chain, symbols=("WETH",), WETH=2_080.0)  # USD and WBTC keep their listing round
    ts, snaps = lens.snapshot([usd, weth, wbtc])
    assert ts == chain.blocks.head.timestamp
    for token, snap in zip((usd, weth, wbtc), snaps):
        s = oracle.assets(token)
        p = [oracle.params(token, i) for i in range(len(S.ORACLE))]
        var = max(s.var_fast, s.var_slow)
        sigma_y = math.isqrt(var * YEAR * WAD)
        h_init = min(max(p[ref.P_H0] + ceil_div(p[ref.P_Z_INIT] * math.isqrt(var * p[ref.P_HORIZON] * WAD), WAD),
                         p[ref.P_H_MIN]), p[ref.P_H_MAX])
        h_now = oracle.haircuts(token)[0]
        assert (snap.asset, snap.price, snap.updated_at, snap.var_fast, snap.var_slow, snap.h_target, snap.breaker,
                snap.invalid) == (token.address, s.price, s.updated_at, s.var_fast, s.var_slow, s.h_target,
                                  s.breaker, s.invalid)
        assert (snap.sigma_annual, snap.h_init, snap.h_maint) == (sigma_y, h_init, h_now)
        assert oracle.sigma(token, YEAR) == sigma_y
        assert oracle.sigma(token, 3_600) == math.isqrt(var * 3_600 * WAD)
        assert tuple(oracle.haircuts(token)) == (h_now, h_init)
        rv = oracle.risk(token)
        assert (rv.price, rv.h_maint, rv.h_init, rv.kappa, rv.depth, rv.breaker) == (
            s.price, h_now, h_init, p[ref.P_KAPPA], p[ref.P_DEPTH], s.breaker)
    # WETH's seed is 80 % a year; one +4 % hour moves the fast estimate up, the slow one barely
    assert snaps[1].var_fast > snaps[1].var_slow
    assert abs(math.isqrt(snaps[1].var_slow * YEAR * WAD) - 8 * WAD // 10) < WAD // 50
    assert snaps[2].sigma_annual == math.isqrt(P.TOKENS[2].var_seed * YEAR * WAD)  # WBTC: still its seed


def test_variance_and_haircut_clamps(system, oracle, weth, admin, chain):
    """-90 % in an hour: the fast variance clamps at var_max, the target at h_max."""
    step(system, chain, WETH=200.0)
    s = oracle.assets(weth)
    assert s.var_fast == PW[ref.P_VAR_MAX] and s.h_target == PW[ref.P_H_MAX]
    synced(system, chain)
    # raising var_min above both estimates clamps them up at the next round
    oracle.set_param(weth, ref.P_VAR_MIN, PW[ref.P_VAR_MAX], sender=admin)
    system.oracle_ref.params[system.address("WETH")][ref.P_VAR_MIN] = PW[ref.P_VAR_MAX]
    step(system, chain, 60, WETH=200.0)
    s = oracle.assets(weth)
    assert s.var_fast == s.var_slow == PW[ref.P_VAR_MAX]
    synced(system, chain)


# ------------------------------------------------------------------ out-of-range answers (docs/design.md §7.2)

#: (answer at 8 decimals, why it is out of range): 1e40 scales to 1e50 WAD, above the price's
#: 128 bits (it was inside the 192 bits of issue #15's first layout, a 5e28-fold move whose square
#: overflowed before the range check); one unit above 2**128 - 1 WAD after scaling; the largest
#: int256, whose scaling alone overflowed.
OUT_OF_RANGE = {
    "1e40": 10**40,
    "2**128 WAD + 1 after scaling": (2**128 - 1) // 10**10 + 1,
    "max int256": 2**255 - 1,
}


@pytest.mark.parametrize("answer", list(OUT_OF_RANGE.values()), ids=list(OUT_OF_RANGE))
def test_out_of_range_answer_trips_instead_of_overflowing(system, oracle, weth, chain, answer):
    """An answer the oracle cannot hold or square is an unusable round: no arithmetic revert,
    REDUCE_ONLY with REASON_OUT_OF_RANGE, the last valid price kept but not used; the
    reference (fed the same round) agrees wei for wei."""
    chain.pending_timestamp += 60
    raw(system, "WETH", answer)
    r = system.poke(["WETH"])
    assert breaker_events(r, oracle) == [(ref.NORMAL, ref.REDUCE_ONLY, ref.REASON_OUT_OF_RANGE)]
    s = oracle.assets(weth)
    assert s.invalid and s.price == 2_000 * WAD and s.tripped_at == r.timestamp
    with ape.reverts("oracle: invalid price"):
        oracle.risk(weth)
    synced(system, chain)
    # a valid round afterwards is accepted as usual, and REDUCE_ONLY lasts the cooldown
    step(system, chain, 60, symbols=("WETH",), WETH=2_010.0)
    assert not oracle.assets(weth).invalid and oracle.breaker(weth) == ref.REDUCE_ONLY
    synced(system, chain)


def test_largest_in_range_answer_is_accepted(system, oracle, weth, chain):
    """The edges: a scaled price of exactly 2**128 - 1 WAD is a valid feed answer. From 2,000
    USD it is a 1.7e17-fold move, inside MAX_ABS_RETURN: accepted, as a jump; from one unit of
    the feed's last decimal (1e-8 USD, reached by a move down, |r| <= 1) the same answer is a
    3.4e28-fold move, refused as out of range. The range check is on the price and the return,
    not the answer; the reference agrees at every step."""
    top = (2**128 - 1) // 10**10  # largest 8-decimal answer in range
    o = ref.OracleRef()
    o.list_asset("X", 8, ref.FeedRound(1, top, 1_000, 1), 0, list(PW), 1_000)
    o.poke("X", ref.FeedRound(2, top // 2, 1_600, 2), 1_600)  # -50 %: a jump, accepted
    assert o.assets["X"].price == top // 2 * 10**10 and not o.assets["X"].invalid
    assert o.assets["X"].breaker == ref.REDUCE_ONLY
    with pytest.raises(ref.Reject, match="oracle: price out of range"):  # listing refuses, by name
        ref.OracleRef().list_asset("Y", 8, ref.FeedRound(1, top + 1, 1_000, 1), 0, list(PW), 1_000)
    chain.pending_timestamp += 60
    raw(system, "WETH", top)  # 1.7e17 times 2,000 USD: in range, a jump
    r = system.poke(["WETH"])
    assert breaker_events(r, oracle) == [(ref.NORMAL, ref.REDUCE_ONLY, ref.REASON_JUMP)]
    assert oracle.assets(weth).price == top * 10**10 and not oracle.assets(weth).invalid
    synced(system, chain)
    for answer, invalid in ((1, False), (top, True)):  # down to 1e-8 USD, then back up: 3.4e28-fold
        chain.pending_timestamp += 60
        raw(system, "WETH", answer)
        system.poke(["WETH"])
        assert oracle.assets(weth).invalid == invalid
        synced(system, chain)
    assert oracle.assets(weth).price == 10**10  # the last accepted price, kept but not used


@pytest.mark.parametrize("answer", list(OUT_OF_RANGE.values()), ids=list(OUT_OF_RANGE))
def test_listing_an_out_of_range_answer_is_refused_by_name(project, system, admin, chain, answer):
    feed = project.MockAggregator.deploy(8, "X / USD", answer, chain.blocks.head.timestamp, sender=admin)
    token = project.MockERC20.deploy("X", "X", 18, sender=admin)
    with ape.reverts("oracle: price out of range"):
        system.oracle.list_asset(token, feed, 0, list(PW), sender=admin)
    with pytest.raises(ref.Reject, match="oracle: price out of range"):
        ref.OracleRef().list_asset("X", 8, ref.FeedRound(1, answer, 1_000, 1), 0, list(PW), 1_000)


# ------------------------------------------------------------------ initial floor (docs/design.md §4.3)


def set_both(system, chain, sym, param, value):
    """set_param by the admin on chain and in the reference, at the same block time."""
    r = system.oracle.set_param(system.tokens[sym], param, value, sender=system.admin)
    system.oracle_ref.set_param(system.address(sym), param, value, r.timestamp)
    return r


def test_initial_floor_separates_h_init_from_h_maint(system, oracle, weth, chain):
    """With h_min_init above h_min, a calm asset's initial haircut sits on h_min_init while the
    maintenance target stays on h_min; lowering h_min_init to h_min restores one floor; h_min
    above h_min_init makes h_min the floor of both (max); h_min_init above h_max is refused."""
    for _ in range(3):
        step(system, chain, WETH=2_000.0)  # flat rounds: sigma falls
    set_both(system, chain, "WETH", ref.P_Z_INIT, 3 * WAD)  # z_init 3 = z_maint: same formula but the floor
    set_both(system, chain, "WETH", ref.P_H0, 0)
    # the maintenance haircut loosens at once (ramp_down 1 a second), so that the initial haircut
    # in force, max(formula, h_maint in force) (docs/design.md §4.3), shows the formula here
    set_both(system, chain, "WETH", ref.P_RAMP_DOWN, WAD)
    step(system, chain, symbols=("WETH",))
    chain.pending_timestamp += 60  # a block later: the haircut in force has reached the poke's new target
    chain.mine()
    h_maint_target = oracle.assets(weth).h_target
    assert oracle.haircuts(weth)[0] == h_maint_target
    assert oracle.haircuts(weth)[1] == h_maint_target  # one floor or one formula: equal
    set_both(system, chain, "WETH", ref.P_H_MIN_INIT, 55 * WAD // 100)
    assert oracle.haircuts(weth)[1] == max(55 * WAD // 100, h_maint_target)  # cached h_init follows at once
    assert oracle.assets(weth).h_target == h_maint_target  # maintenance keeps h_min
    synced(system, chain)
    step(system, chain, symbols=("WETH",))
    assert oracle.haircuts(weth)[1] == 55 * WAD // 100 > oracle.assets(weth).h_target
    synced(system, chain)
    set_both(system, chain, "WETH", ref.P_H_MIN_INIT, 0)  # below h_min: h_min is the floor
    assert oracle.haircuts(weth)[1] == oracle.assets(weth).h_target
    synced(system, chain)
    # h_min binding (above h0 + z_init sigma_H) and h_min_init below it: h_min floors h_init too
    set_both(system, chain, "WETH", ref.P_H_MIN, WAD // 2)
    assert oracle.haircuts(weth)[1] == WAD // 2
    synced(system, chain)
    with ape.reverts("oracle: bad params"):
        oracle.set_param(weth, ref.P_H_MIN_INIT, PW[ref.P_H_MAX] + 1, sender=system.admin)
    with pytest.raises(ref.Reject, match="oracle: bad params"):
        ref.check_oracle_params([*PW[:ref.P_H_MIN_INIT], PW[ref.P_H_MAX] + 1, *PW[ref.P_H_MIN_INIT + 1:]])


def test_initial_haircut_never_below_the_maintenance_haircut_in_force(system, oracle, lens, weth, chain):
    """After a volatility spike the initial-haircut formula falls at once and the maintenance
    haircut in force ramps down at 0.5 %/h: while the formula is below it, `risk`, `haircuts`
    and the lens's `snapshot` give the maintenance haircut as the initial one; once the ramp
    has come down to the formula, the formula again (docs/design.md §4.3). Each step is held
    to the reference, whose cached formula (`h_init`) stays what the chain stores."""
    w = weth.address
    o = system.oracle_ref
    spike_then_calm(system, chain)
    seen = {"gap": 0, "formula": 0}
    for _ in range(30):  # calm hours: the gap opens, then the ramp meets the falling formula
        now = chain.blocks.head.timestamp
        hm, formula = o.h_maint_now(w, now), o.h_init(w)
        want = max(hm, formula)
        assert oracle.risk(weth).h_init == oracle.haircuts(weth)[1] == o.h_init_now(w, now) == want
        assert lens.snapshot([weth])[1][0].h_init == want
        assert oracle.risk(weth).h_maint == hm
        seen["gap" if hm > formula else "formula"] += 1
        synced(system, chain)
        step(system, chain, WETH=float(o.assets[w].price) / WAD)
    assert seen["gap"] > 0
    # later still: the formula (its floor) is back above the ramp's end
    for _ in range(60):
        step(system, chain, seconds=4 * 3_600, WETH=float(o.assets[w].price) / WAD)
    now = chain.blocks.head.timestamp
    assert o.h_maint_now(w, now) <= o.h_init(w) == oracle.risk(weth).h_init
    synced(system, chain)


def test_initial_floor_in_the_reference_and_the_model():
    """h_init = clamp(h0 + z_init sigma_H, max(h_min, h_min_init), h_max) in the reference and the model."""
    from volmargin import model as M

    vec = list(P.oracle_params(h_min=0.10, h_min_init=0.25))
    o = ref.OracleRef()
    seed = P.annual_vol_to_var(0.3)
    o.list_asset("A", 8, ref.FeedRound(1, 2_000 * 10**8, 1_000, 1), seed, vec, 1_000)
    sig = ref.sigma(seed, vec[ref.P_HORIZON])
    assert ref.haircut(vec[ref.P_H0], vec[ref.P_Z_INIT], sig, 0, WAD) < WAD // 4
    assert o.h_init("A") == WAD // 4 and o.assets["A"].h_target == ref.haircut(
        vec[ref.P_H0], vec[ref.P_Z_MAINT], sig, vec[ref.P_H_MIN], vec[ref.P_H_MAX]) < WAD // 4
    m = M.OracleModel(M.OracleParams.from_wad([vec]), [2_000.0], [seed / WAD], 1_000.0)
    assert m.h_init()[0] == pytest.approx(0.25, abs=1e-15)


# ------------------------------------------------------------------ drawdown trip (docs/design.md §7.8)

DD = 15 * WAD // 100  # 15 % within the window
DRIFT = (1_960.0, 1_920.0, 1_880.0, 1_840.0, 1_800.0, 1_760.0, 1_720.0, 1_680.0)  # -2 % a round, no jump


def arm_drawdown(system, chain, window=6 * 3_600, trip=DD):
    set_both(system, chain, "WETH", ref.P_DD_WINDOW, window)
    set_both(system, chain, "WETH", ref.P_DD_TRIP, trip)


def test_drawdown_trips_on_sub_threshold_rounds(system, oracle, weth, chain):
    """Hourly -2 % rounds (each far below the 10 % jump threshold): the round that takes the
    cumulative move since the reference past 15 % trips REDUCE_ONLY with REASON_DRAWDOWN,
    the reference moves to it, and the usual cooldown follows; chain == reference at every step."""
    arm_drawdown(system, chain, window=12 * 3_600)
    r = step(system, chain, symbols=("WETH",), WETH=2_000.0)  # the first round sets the reference
    assert tuple(oracle.drawdown_ref(weth)) == (2_000 * WAD, oracle.assets(weth).updated_at)
    trips = []
    for price in DRIFT:
        r = step(system, chain, symbols=("WETH",), WETH=price)
        trips.append(breaker_events(r, oracle))
        assert tuple(oracle.drawdown_ref(weth)) == system.oracle_ref.dd_ref[system.address("WETH")]
        synced(system, chain)
    # 1,680 / 2,000 - 1 = -16 %: the eighth round trips, none before (-14 % at 1,720)
    assert all(new != ref.REDUCE_ONLY for events in trips[:7] for _, new, _ in events)
    assert trips[7][-1][1:] == (ref.REDUCE_ONLY, ref.REASON_DRAWDOWN)
    assert oracle.breaker(weth) == ref.REDUCE_ONLY and oracle.assets(weth).tripped_at == r.timestamp
    assert tuple(oracle.drawdown_ref(weth)) == (1_680 * WAD, oracle.assets(weth).updated_at)  # moved on the trip
    # the next -2 % round does not re-trip: the reference is the tripping round
    r = step(system, chain, symbols=("WETH",), WETH=1_650.0)
    assert ref.REASON_DRAWDOWN not in [e[2] for e in breaker_events(r, oracle)]
    synced(system, chain)


def test_drawdown_window_moves_the_reference(system, oracle, weth, chain):
    """The same -16 % drift spread over two 4-hour windows does not trip: each window's move
    stays under 15 % because the reference moves once the window has passed."""
    arm_drawdown(system, chain, window=4 * 3_600)
    step(system, chain, symbols=("WETH",), WETH=2_000.0)
    refs = []
    for price in DRIFT:
        r = step(system, chain, symbols=("WETH",), WETH=price)
        assert ref.REASON_DRAWDOWN not in [e[2] for e in breaker_events(r, oracle)]
        refs.append(oracle.drawdown_ref(weth)[0])
        synced(system, chain)
    # moved four hours in (to -8 %) and again at eight hours (-8.7 % from there)
    assert refs == [2_000 * WAD] * 3 + [1_840 * WAD] * 4 + [1_680 * WAD]
    assert oracle.breaker(weth) != ref.REDUCE_ONLY


def test_drawdown_off_and_upward_moves():
    """dd_trip 0 keeps no reference (the default: results unchanged); the test is two-sided
    (a +16 % drift trips as well); the model agrees with the reference round by round."""
    from volmargin import model as M

    vec = list(P.oracle_params(dd_window=6 * 3_600, dd_trip=0.15))
    for prices, trips in (([2_000 + 80 * k for k in range(7)], True), ([2_000] * 5, False)):
        for v, armed in ((vec, True), (list(P.oracle_params()), False)):
            o = ref.OracleRef()
            o.list_asset("A", 8, ref.FeedRound(1, 2_000 * 10**8, 1_000, 1), P.annual_vol_to_var(0.8), v, 1_000)
            m = M.OracleModel(M.OracleParams.from_wad([v]), [2_000.0], [P.annual_vol_to_var(0.8) / WAD], 1_000.0)
            for k, price in enumerate(prices[1:], start=1):
                t = 1_000 + 3_600 * k
                o.poke("A", ref.FeedRound(k + 1, price * 10**8, t, k + 1), t)
                m.step([float(price)], t)
                assert m.breaker[0] == o.assets["A"].breaker and m.tripped_at[0] == o.assets["A"].tripped_at
                rp, rt = o.dd_ref.get("A", (0, 0))
                assert m.ref_price[0] == pytest.approx(rp / WAD, rel=1e-15) and m.ref_time[0] == rt
            assert (o.assets["A"].breaker == ref.REDUCE_ONLY) == (trips and armed)
            assert ("A" in o.dd_ref) == armed
