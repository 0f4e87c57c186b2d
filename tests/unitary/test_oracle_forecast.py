"""Forecast volatility bounded on chain (issue #14 item 2, docs/design.md §3.7): a risk keeper
pushes an annual sigma per asset; the oracle refuses a push outside ``[f_lo, f_hi]`` times the
realized sigma, one within a heartbeat of the last, and one further than ``f_step`` from a live
push; while the push is live the haircuts use it as ``f_mode`` says (replace, max, blend), and
the first poke after ``f_ttl`` falls back to the realized sigma by itself.

Every state the chain reaches is compared with ``volmargin.reference`` (``OracleRef``) to the
wei, and a random sequence of pushes, pokes and mode changes reverts on chain iff the reference
rejects it. The defaults (``volmargin.params``): f_lo 0.5, f_hi 3, f_step 0.5, f_ttl 2 days,
mode off.
"""

from __future__ import annotations

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market import refresh
from volmargin import params as P
from volmargin import reference as ref
from volmargin.reference import forecast as fc

WAD = ref.WAD
YEAR = ref.SECONDS_PER_YEAR
DAY = 86_400
HOUR = 3_600


def _state(system, sym: str) -> tuple:
    """The chain's view of one asset: the unpacked state, the haircuts now, the forecast."""
    o, a = system.oracle, system.tokens[sym]
    s = o.assets(a)
    return (s.h_maint, s.h_target, s.h_time, s.forecast, *o.haircuts(a), *o.forecast_of(a))


def _ref_state(system, sym: str, now: int) -> tuple:
    """The reference's view of the same, at block time ``now``."""
    r, a = system.oracle_ref, system.address(sym)
    s = r.assets[a]
    return (s.h_maint, s.h_target, s.h_time, s.forecast, r.h_maint_now(a, now), r.h_init_now(a, now), *r.forecast_of(a))


def _set(system, sym: str, param: int, value: int):
    """The admin's set_param on chain and in the reference, at the same block time."""
    rc = system.oracle.set_param(system.tokens[sym], param, value, sender=system.admin)
    system.oracle_ref.set_param(system.address(sym), param, value, rc.timestamp)
    return rc


def _push(system, keeper, sym: str, sigma: int):
    """A push on chain and in the reference, at the same block time."""
    rc = system.oracle.push_forecast(system.tokens[sym], sigma, sender=keeper)
    system.oracle_ref.push_forecast(system.address(sym), sigma, rc.timestamp)
    return rc


def _realized(system, sym: str) -> int:
    return system.oracle.sigma(system.tokens[sym], YEAR)


# ---------------------------------------------------------------- the module (reference)

sig = st.integers(0, 10**24)
mult = st.integers(0, 10 * WAD)


@given(mode=st.integers(0, 3), sigma_r=sig, sigma_f=sig, a=mult, b=mult)
def test_combined_sigma_never_leaves_the_bounds_of_the_realized_one(mode, sigma_r, sigma_f, a, b):
    """Whatever the keeper pushed, the sigma the haircuts use lies within [f_lo, f_hi] times
    the realized one (each bound rounded down), and max never goes below the realized one: a
    compromised keeper cannot cut a haircut's sigma below f_lo of the realized."""
    lo, hi = min(a, b), max(a, b)
    out = fc.combine(mode, sigma_r, sigma_f, lo, hi)
    lo_r, hi_r = lo * sigma_r // WAD, hi * sigma_r // WAD
    if mode == fc.MODE_OFF:
        assert out == sigma_r
    else:
        assert min(lo_r, sigma_r) <= out <= max(hi_r, sigma_r)
        assert out >= lo_r if mode != fc.MODE_BLEND else 2 * out >= sigma_r + lo_r
    if mode == fc.MODE_MAX:
        assert out >= sigma_r


@given(prev=st.integers(1, 10**24), step=st.integers(0, 10 * WAD))
def test_step_bound_is_exact(prev, step):
    """step_ok accepts exactly the pushes within f_step of the live one."""
    top = prev + step * prev // WAD
    assert fc.step_ok(prev, top, step) and not fc.step_ok(prev, top + 1, step)
    if top > prev or step * prev % WAD == 0:
        low = prev - step * prev // WAD
        assert (low < 0) or fc.step_ok(prev, max(low, 0), step)


@given(sigma_r=sig, a=mult, b=mult, step=mult, live=st.one_of(st.none(), st.integers(1, 10**24)), data=st.data())
def test_box_is_exactly_what_the_push_checks_accept(sigma_r, a, b, step, live, data):
    """``forecast.box`` (the risk keeper's range) solves ``within`` and ``step_ok`` exactly: its
    ends are accepted and one wei beyond either is refused (an empty box accepts nothing)."""
    lo_m, hi_m = min(a, b), max(a, b)
    lo, hi = fc.box(sigma_r, lo_m, hi_m, step, live)

    def ok(x: int) -> bool:
        return x >= 0 and fc.within(x, sigma_r, lo_m, hi_m) and (live is None or fc.step_ok(live, x, step))

    if lo > hi:
        x = data.draw(st.integers(max(0, hi - 2), lo + 2))
        assert not ok(x)
    else:
        assert ok(lo) and ok(hi) and not ok(lo - 1) and not ok(hi + 1)
        assert ok(data.draw(st.integers(lo, hi)))


def test_forecast_word_round_trips():
    w = fc.pack(123 * WAD // 100, 1_700_000_000)
    assert (fc.sigma_of(w), fc.pushed_at(w)) == (123 * WAD // 100, 1_700_000_000)
    assert (fc.sigma_of(0), fc.pushed_at(0)) == (0, 0)


def test_combine_on_chain_equals_the_reference(harness):
    """The module's arithmetic on chain (the risk-math harness) against the reference, at the
    edges: zero sigmas, equal bounds, and each mode."""
    cases = []
    for mode in range(4):
        for sr, sf, lo, hi in ((0, 0, 0, 0), (10**17, 5 * 10**17, WAD // 2, 3 * WAD), (10**17, 1, WAD // 2, 3 * WAD),
                               (7 * 10**16 + 1, 10**16, WAD, WAD), (3, 10**20, 10 * WAD, 10 * WAD)):
            cases.append((mode, sr, sf, lo, hi))
    from volmargin.chain.harness import chain_outcomes

    assert chain_outcomes(harness, "forecast_combine", cases) == [(True, fc.combine(*c)) for c in cases]
    # the push bounds hold with equality: f_lo * sigma_r == sigma * 1e18, |sigma - prev| * 1e18 == f_step * prev
    assert chain_outcomes(harness, "forecast_within", [[WAD // 2, WAD, WAD // 2, 3 * WAD], [3 * WAD, WAD, WAD // 2, 3 * WAD],
                                                        [WAD // 2 - 1, WAD, WAD // 2, 3 * WAD]]) == [(True, 1), (True, 1),
                                                                                                  (True, 0)]
    assert chain_outcomes(harness, "forecast_step_ok", [[2 * WAD, 3 * WAD, WAD // 2], [2 * WAD, WAD, WAD // 2],
                                                         [2 * WAD, 3 * WAD + 1, WAD // 2]]) == [(True, 1), (True, 1),
                                                                                                (True, 0)]


# ---------------------------------------------------------------- the oracle


def test_a_push_is_refused_while_the_mode_is_off(system, risk_keeper):
    """Off by default (the study did not adopt the forecast): a push reverts and moves nothing."""
    assert system.oracle.params(system.tokens["WETH"], ref.P_F_MODE) == fc.MODE_OFF
    with ape.reverts("oracle: forecast off"):
        system.oracle.push_forecast(system.tokens["WETH"], _realized(system, "WETH"), sender=risk_keeper)
    assert tuple(system.oracle.forecast_of(system.tokens["WETH"])) == (0, 0, False)


@pytest.mark.parametrize("mode", [fc.MODE_REPLACE, fc.MODE_MAX, fc.MODE_BLEND], ids=["replace", "max", "blend"])
def test_push_moves_the_haircuts_as_the_mode_says(system, chain, risk_keeper, mode):
    """A push at twice the realized sigma: replace and max raise both haircut targets to
    sigma_f's, blend to the mean; the state equals the reference to the wei. A push at the
    lower bound lowers them under replace only."""
    _set(system, "WETH", ref.P_F_MODE, mode)
    sr = _realized(system, "WETH")
    before = _state(system, "WETH")
    chain.pending_timestamp += HOUR
    rc = _push(system, risk_keeper, "WETH", 2 * sr)
    after = _state(system, "WETH")
    assert after == _ref_state(system, "WETH", rc.timestamp)
    assert after[3] and after[6:] == (2 * sr, rc.timestamp, True)
    ev = rc.decode_logs(system.oracle.ForecastPushed)[0]
    assert (ev.sigma, ev.sigma_realized, ev.h_target) == (2 * sr, sr, after[1])
    p = P.TOKENS[1].oracle
    h_of = lambda s: ref.haircut(p.h0, p.z_maint, s, p.h_min, p.h_max)  # noqa: E731
    sr_h = ref.sigma(max(system.oracle.assets(system.tokens["WETH"]).var_fast,
                         system.oracle.assets(system.tokens["WETH"]).var_slow), p.horizon)
    sf_h = ref.sigma(fc.variance(2 * sr), p.horizon)
    want = {fc.MODE_REPLACE: sf_h, fc.MODE_MAX: max(sr_h, sf_h), fc.MODE_BLEND: (sr_h + sf_h + 1) // 2}[mode]
    assert after[1] == h_of(want) > before[1]


def test_bounds_step_and_heartbeat_at_the_wei(system, chain, risk_keeper):
    """f_lo and f_hi at the wei (exact products, no rounding), a second push within a
    heartbeat, and f_step from the live push at the wei; refusals move no storage."""
    from state import storage_roots

    _set(system, "WETH", ref.P_F_MODE, fc.MODE_REPLACE)
    o, weth = system.oracle, system.tokens["WETH"]
    sr = _realized(system, "WETH")
    lo_ok, hi_ok = (sr + 1) // 2, 3 * sr  # f_lo 0.5 and f_hi 3: sigma * 1e18 within [0.5e18 sr, 3e18 sr]
    roots = storage_roots(chain, [o])
    for bad in (lo_ok - 1, hi_ok + 1, 2**128, 2**256 - 1):
        with ape.reverts("oracle: forecast out of bounds"):
            o.push_forecast(weth, bad, sender=risk_keeper)
    assert storage_roots(chain, [o]) == roots
    rc = _push(system, risk_keeper, "WETH", lo_ok)
    roots = storage_roots(chain, [o])
    # within a heartbeat of the last push: refused, even for the same value
    chain.pending_timestamp = rc.timestamp + P.TOKENS[1].oracle.heartbeat - 1
    with ape.reverts("oracle: forecast too soon"):
        o.push_forecast(weth, lo_ok, sender=risk_keeper)
    chain.pending_timestamp = rc.timestamp + P.TOKENS[1].oracle.heartbeat
    top = lo_ok + lo_ok // 2  # f_step 0.5 from the live push: |sigma - live| <= live / 2
    with ape.reverts("oracle: forecast step too large"):
        o.push_forecast(weth, top + 1, sender=risk_keeper)
    assert storage_roots(chain, [o]) == roots
    rc = _push(system, risk_keeper, "WETH", top)
    assert _state(system, "WETH") == _ref_state(system, "WETH", rc.timestamp)


def test_expiry_falls_back_to_the_realized_sigma_by_itself(system, chain, risk_keeper):
    """A push at the upper bound, then pokes at the heartbeat: while it is live the haircuts
    follow it; the first poke at or after f_ttl clears it (ForecastExpired) and retargets both
    haircuts on the realized sigma, as if no push had happened; the step bound no longer
    applies to the next push (there is no live one)."""
    _set(system, "WETH", ref.P_F_MODE, fc.MODE_REPLACE)
    sr = _realized(system, "WETH")
    rc = _push(system, risk_keeper, "WETH", 3 * sr)
    t_push, ttl = rc.timestamp, P.TOKENS[1].oracle.f_ttl
    h_init_live = system.oracle.haircuts(system.tokens["WETH"])[1]
    while True:
        rc = refresh(system, chain, 6 * HOUR)
        live = rc.timestamp < t_push + ttl
        s = _state(system, "WETH")
        assert s == _ref_state(system, "WETH", rc.timestamp)
        assert s[3] == live and s[8] == live
        # the first poke at or after the expiry says so
        assert bool(rc.decode_logs(system.oracle.ForecastExpired)) == (not live)
        if not live:
            break
    p = P.TOKENS[1].oracle
    st_ = system.oracle.assets(system.tokens["WETH"])
    sr_h = ref.sigma(max(st_.var_fast, st_.var_slow), p.horizon)
    assert st_.h_target == ref.haircut(p.h0, p.z_maint, sr_h, p.h_min, p.h_max)
    formula = ref.haircut(p.h0, p.z_init, sr_h, max(p.h_min, p.h_min_init), p.h_max)
    assert system.oracle_ref.h_init(system.address("WETH")) == formula < h_init_live
    # in force: the formula, or the maintenance haircut in force (s[4]) where that is higher (§4.3)
    assert s[5] == max(formula, s[4])
    # no live push: a push anywhere within the multiples is accepted, far from the last one
    chain.pending_timestamp += 1
    _push(system, risk_keeper, "WETH", (_realized(system, "WETH") + 1) // 2)


def test_mode_off_by_the_admin_restores_the_realized_haircuts(system, chain, risk_keeper):
    """The admin turning the mode off takes the forecast out of both haircut targets at once
    (set_param retargets); the next poke clears the live bit (ForecastExpired)."""
    _set(system, "WETH", ref.P_F_MODE, fc.MODE_MAX)
    rc = _push(system, risk_keeper, "WETH", 3 * _realized(system, "WETH"))
    raised = _state(system, "WETH")
    rc = _set(system, "WETH", ref.P_F_MODE, fc.MODE_OFF)
    s = _state(system, "WETH")
    assert s == _ref_state(system, "WETH", rc.timestamp) and s[8] is False
    p, st_ = P.TOKENS[1].oracle, system.oracle.assets(system.tokens["WETH"])
    sr_h = ref.sigma(max(st_.var_fast, st_.var_slow), p.horizon)
    assert s[1] == ref.haircut(p.h0, p.z_maint, sr_h, p.h_min, p.h_max) < raised[1]
    rc = refresh(system, chain, 60)
    assert _state(system, "WETH") == _ref_state(system, "WETH", rc.timestamp)
    assert rc.decode_logs(system.oracle.ForecastExpired)


# ---------------------------------------------------------------- chain reverts iff the reference rejects

action = st.one_of(
    st.tuples(st.just("push"), st.integers(0, 400)),  # a push at this percent of the realized sigma
    st.tuples(st.just("poke"), st.sampled_from([60, HOUR, 6 * HOUR, DAY, 2 * DAY])),
    st.tuples(st.just("mode"), st.integers(0, 3)),
    st.tuples(st.just("wait"), st.sampled_from([1, HOUR - 1, HOUR, 3 * HOUR])),
)


@given(actions=st.lists(action, min_size=2, max_size=8))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_pushes_match_the_reference(system, chain, risk_keeper, actions):
    """Random pushes (0-400 % of the realized sigma), pokes, waits and mode changes: each push
    reverts on chain iff the reference rejects it, with the same reason, and after every step
    the asset's state equals the reference's to the wei."""
    import copy

    with chain.isolate():
        saved = copy.deepcopy((system.oracle_ref, system.vault_ref, system.last_rounds))
        try:
            for kind, arg in actions:
                if kind == "push":
                    sigma = _realized(system, "WETH") * arg // 100
                    t = chain.pending_timestamp
                    chain.pending_timestamp = t  # the block the push lands in
                    try:
                        system.oracle_ref.push_forecast(system.address("WETH"), sigma, t)
                    except ref.Reject as e:
                        # the reference moved nothing: the chain reverts with the same reason
                        with ape.reverts(str(e)):
                            system.oracle.push_forecast(system.tokens["WETH"], sigma, sender=risk_keeper)
                        continue
                    rc = system.oracle.push_forecast(system.tokens["WETH"], sigma, sender=risk_keeper)
                    assert rc.timestamp == t
                    now = t
                elif kind == "poke":
                    now = refresh(system, chain, arg, ("WETH",)).timestamp
                elif kind == "mode":
                    now = _set(system, "WETH", ref.P_F_MODE, arg).timestamp
                else:
                    chain.pending_timestamp += arg
                    continue
                assert _state(system, "WETH") == _ref_state(system, "WETH", now)
        finally:
            system.oracle_ref, system.vault_ref, system.last_rounds = saved
