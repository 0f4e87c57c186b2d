"""Stress engine: liquidation amounts against hand-computed values, keeper latency, feed
cadence and pauses, frozen accounts, bad debt settlement, liquidator profitability and
capacity. Pure Python."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from volmargin_lab.stress.engine import Frictions, VaultSim, _group_cumsum, liquidation_amounts
from volmargin_lab.stress.policies import make_policy

SYMS = ("USD", "WETH", "WBTC")
VAR = np.array([0.02**2, 0.8**2, 0.65**2]) / 31_536_000


def _sim(policy, prices, fr=None, var=VAR, pause=None, step_s=3600.0):
    pol = make_policy(policy)
    prices = np.asarray(prices, dtype=float)
    times = np.arange(prices.shape[0]) * step_s + 1e9
    fr = fr or Frictions(latency_steps=0, frictionless=True)
    return VaultSim(SYMS, pol.oracle_model(SYMS), pol.vault_model(), fr, prices, times, var, pause_below=pause)


def test_liquidation_amounts_by_hand():
    v = make_policy("static").vault_model()
    # 1 WETH at 1,000 USD against 900 USD: maint assets 825, liabilities 900, hf 0.9167 < 0.95 -> full repay,
    # bonus flat 5 %: seize 900 * 1.05 / 1000 = 0.945 WETH
    d, c, repay, seize, bon = liquidation_amounts(
        np.array([[0.0, 1.0, 0.0]]), np.array([[900.0, 0.0, 0.0]]), np.array([[1.0, 1000.0, 30000.0]]),
        np.array([[0.0, 0.175, 0.22]]), v)
    assert (d[0], c[0]) == (0, 1)
    assert repay[0] == pytest.approx(900.0) and bon[0] == pytest.approx(0.05) and seize[0] == pytest.approx(0.945)
    # dynamic bonus: 0.02 + 0.5 * shortfall; maint assets 1000 * 0.8 = 800, liabilities 800 * 1.03 = 824,
    # hf 0.971 >= 0.95 -> close factor 50 %
    vd = make_policy("dynamic").vault_model()
    _, _, repay, seize, bon = liquidation_amounts(
        np.array([[0.0, 1.0, 0.0]]), np.array([[800.0, 0.0, 0.0]]), np.array([[1.0, 1000.0, 30000.0]]),
        np.array([[0.03, 0.2, 0.2]]), vd)
    ma, ml = 800.0, 824.0
    assert bon[0] == pytest.approx(0.02 + 0.5 * (ml - ma) / ml)
    assert repay[0] == pytest.approx(400.0) and seize[0] == pytest.approx(400.0 * (1 + bon[0]) / 1000.0)
    # seizure capped by the collateral: 0.5 WETH at 1,000 cannot cover 900 -> repay what 0.5 WETH buys
    _, _, repay, seize, _ = liquidation_amounts(
        np.array([[0.0, 0.5, 0.0]]), np.array([[900.0, 0.0, 0.0]]), np.array([[1.0, 1000.0, 30000.0]]),
        np.array([[0.0, 0.175, 0.22]]), v)
    assert seize[0] == 0.5 and repay[0] == pytest.approx(500.0 / 1.05)


def _crash(n=6, at=3, to=700.0):
    p = np.tile([1.0, 1000.0, 30000.0], (n, 1))
    p[at:, 1] = to
    return p


def test_latency_delays_the_liquidation_by_one_step():
    bal = np.array([[-780.0, 1.0, 0.0]])  # static: liquidatable once 0.825 p < 780, i.e. p < 945
    for latency, first in ((0, 3), (1, 4)):
        sim = _sim("static", _crash(to=900.0), Frictions(latency_steps=latency, frictionless=True))
        sim.open(bal)
        res = sim.run()
        assert np.flatnonzero(res.liq_count[0])[0] == first


def test_bad_debt_settled_when_collateral_runs_out():
    sim = _sim("static", _crash(to=100.0))
    sim.open(np.array([[-700.0, 1.0, 0.0]]))
    res = sim.run()
    # the whole WETH (worth 100) buys 100 / 1.05 of the debt; the rest is written off at once
    assert res.bad_debt_settled_usd[0] == pytest.approx(700.0 - 100.0 / 1.05)
    assert res.shortfall_end_usd[0] == 0.0
    assert res.balances_end[0, 0].tolist() == [0.0, 0.0, 0.0]
    assert res.insurance_used_usd[0] == pytest.approx(100.0 / 1.05 * 0.05 * 0.1 / 100.0 * 100.0)


def test_feed_deviation_and_heartbeat():
    p = np.tile([1.0, 1000.0, 30000.0], (8, 1))
    p[1:, 1] = [1003.0, 1004.0, 1006.0, 1006.0, 1006.0, 1006.0, 1007.0]
    sim = _sim("dynamic", p, Frictions(feed_heartbeat_s=3 * 1200.0), step_s=1200.0)
    sim.warm_up(7)
    seen = sim.s_price[0, :, 1]
    # 0.3 % and 0.4 % moves are not published; 0.6 % is (step 3); the heartbeat (3 steps) republishes at
    # step 6; the 0.1 % move of step 7 is not published
    assert seen.tolist() == [1000.0, 1000.0, 1000.0, 1006.0, 1006.0, 1006.0, 1006.0, 1006.0]
    assert sim.updated[0, 1] == sim.times[6]


def test_paused_feed_freezes_accounts_under_dynamic_but_not_static():
    p = _crash(n=6, at=2, to=0.05)
    pause = np.array([0.0, 0.1, 0.0])
    bal = np.array([[-500.0, 1.0, 0.0]])
    fr = Frictions(latency_steps=0, frictionless=True)
    dyn = _sim("dynamic", p, fr, pause=pause)
    dyn.open(bal)
    rd = dyn.run()
    # the feed never publishes 0.05; after heartbeat + grace the price is stale: no liquidation possible
    assert rd.liq_count.sum() == 0
    assert rd.breaker[0, -1, 1] == 2 and dyn.oracle.invalid[0, 1]  # REDUCE_ONLY: stale
    assert rd.shortfall_end_usd[0] == pytest.approx(500.0 - 0.05)
    st = _sim("static", p, fr, pause=pause)
    st.open(bal)
    rs = st.run()
    assert rs.price[0, -1, 1] == 1000.0  # the stale answer keeps valuing
    assert rs.liq_count.sum() == 0  # 1 WETH "worth" 1,000 covers 500 USD: looks healthy


def test_unprofitable_liquidations_are_left_and_become_shortfall():
    p = _crash(to=800.0)
    bal = np.array([[-700.0, 1.0, 0.0]])
    fr = Frictions(latency_steps=0, gas_usd=1e6)
    sim = _sim("static", p, fr)
    sim.open(bal)
    res = sim.run()
    assert res.liq_count.sum() == 0 and res.skipped_unprofitable[0] > 0


def test_capacity_caps_volume_per_step():
    p = _crash(n=5, at=2, to=900.0)
    bal = np.tile([-780.0, 1.0, 0.0], (50, 1))
    fr = Frictions(latency_steps=0, impact=0.0, gas_usd=0.0, capacity_per_hour=1e-7,
                   depth_usd={"USD": 1e9, "WETH": 1e10, "WBTC": 1e9})
    sim = _sim("static", p, fr)
    sim.open(bal)
    res = sim.run()
    # hf = 0.825 * 900 / 780 = 0.952: close factor, repay 390, seize 390 * 1.05 / 900 WETH (about 409 USD, less
    # the insurance cut); capacity 1e-7 * 1e10 * 0.9 (depth follows price) = 900 USD per hour: two per step
    assert res.liq_count[0, 2:].tolist() == [2.0, 2.0, 2.0]
    assert res.skipped_capacity[0] > 0


def test_batches_are_independent():
    p1, p2 = _crash(to=700.0), _crash(to=990.0)
    bal = np.array([[-780.0, 1.0, 0.0]])
    pol = make_policy("static")
    times = np.arange(6) * 3600.0
    sim = VaultSim(SYMS, pol.oracle_model(SYMS), pol.vault_model(), Frictions(latency_steps=0, frictionless=True),
                   np.stack([p1, p2]), times, VAR)
    sim.open(bal)
    res = sim.run()
    assert res.liq_count[0].sum() > 0 and res.liq_count[1].sum() == 0


def test_group_cumsum():
    key = np.array([1, 0, 1, 0, 2])
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert _group_cumsum(key, x).tolist() == [1.0, 2.0, 4.0, 6.0, 5.0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="latency_steps"):
        Frictions(latency_steps=2)
    with pytest.raises(ValueError, match="fractions"):
        Frictions(fractions=(1.5,))
    with pytest.raises(KeyError, match="no market depth for WBTC"):
        replace(Frictions(), depth_usd={"USD": 1.0, "WETH": 1.0}).depth(SYMS)
    with pytest.raises(ValueError, match="strictly increasing"):
        pol = make_policy("static")
        VaultSim(SYMS, pol.oracle_model(SYMS), pol.vault_model(), Frictions(), _crash(), np.zeros(6), VAR)
    sim = _sim("static", _crash())
    with pytest.raises(RuntimeError, match="open"):
        sim.step()


def test_screening_gives_the_same_result_as_evaluating_every_account():
    rng = np.random.Generator(np.random.PCG64(5))
    n, steps, B = 400, 60, 3
    lr = rng.normal(0, 0.02, (B, steps, 2)).cumsum(axis=1)
    lr[:, 30:, 0] -= 0.25  # a crash halfway
    p = np.ones((B, steps, 3))
    p[..., 1], p[..., 2] = 1000.0 * np.exp(lr[..., 0]), 30000.0 * np.exp(lr[..., 1])
    bal = np.zeros((n, 3))
    bal[:, 1] = rng.uniform(0.5, 5.0, n)
    bal[:, 2] = rng.uniform(0.0, 0.1, n)
    bal[:, 0] = -(bal[:, 1] * 1000 + bal[:, 2] * 30000) * rng.uniform(0.3, 0.82, n)
    pol = make_policy("dynamic")
    out = []
    for screen in (False, True):
        sim = VaultSim(SYMS, pol.oracle_model(SYMS), pol.vault_model(), Frictions(), p, np.arange(steps) * 3600.0,
                       VAR, screen=screen, track_bp=False)
        sim.open(bal)
        out.append(sim.run())
    a, b = out
    assert a.liq_count.sum() > 50
    assert np.array_equal(a.liq_count, b.liq_count) and np.array_equal(a.balances_end, b.balances_end)
    assert np.array_equal(a.bad_debt_usd, b.bad_debt_usd)


def test_partial_liquidation_never_leaves_dust():
    # 1 WETH against 790 USD, price 940: hf = 0.825 * 940 / 790 = 0.98; with min_debt_value 1e6 the maximum is the
    # whole debt (dust rule). Selling its ~825 USD of seized WETH costs 28 * sqrt(825 / 9.4e7) = 8.3 % slippage:
    # unprofitable; a quarter (4.1 %) or an eighth (2.9 %) would pay, but would leave dust: nothing is taken.
    p = _crash(to=940.0)
    pol = make_policy("static")
    base = pol.vault_model()
    times = np.arange(6) * 3600.0
    counts = []
    for min_debt in (1e6, 0.0):
        v = type(base)(**{**base.__dict__, "min_debt_value": min_debt})
        sim = VaultSim(SYMS, pol.oracle_model(SYMS), v, Frictions(latency_steps=0, gas_usd=0.0, impact=28.0),
                       p, times, VAR)
        sim.open(np.array([[-790.0, 1.0, 0.0]]))
        counts.append(sim.run().liq_count.sum())
    # without a dust floor the partial liquidations are taken
    assert counts[0] == 0 and counts[1] > 0


def test_forecast_keeper_pushes_into_the_box_and_moves_the_haircuts():
    """A keeper's forecast (docs/design.md §3.7) in the engine: pushed one second after the poke
    of its step, clamped into the oracle's box ([f_lo, f_hi] x realized, f_step from a live push);
    under ``replace`` a forecast far above the box raises the maintenance target to the box's top,
    a policy whose mode is off ignores the same pushes; a wrongly shaped array is refused."""
    steps = 8
    prices = np.tile([1.0, 2_000.0, 30_000.0], (steps, 1))
    times = np.arange(steps) * 3600.0 + 1e9
    f = np.full((steps, 3), np.nan)
    f[2, 1] = 50.0  # WETH: 5,000 % a year, far above 3 x realized
    base = make_policy("dynamic")
    runs = {}
    for pol in (base, base.with_forecast("replace", "fc", "test")):
        sim = VaultSim(SYMS, pol.oracle_model(SYMS), pol.vault_model(), Frictions(latency_steps=0, frictionless=True),
                       prices, times, VAR, forecast=f, track_bp=False)
        sim.warm_up(steps - 1)
        runs[pol.name] = sim
    off, on = runs["dynamic"].oracle, runs["fc"].oracle
    assert not off.f_live.any() and on.f_live[0].tolist() == [False, True, False]
    # the push sat on the box's top: 3 x the realized sigma then (flat prices since: within 5 %)
    assert on.f_sigma[0, 1] == pytest.approx(3.0 * float(np.sqrt(on.var[0, 1] * 31_536_000)), rel=0.05)
    assert on.h_target[0, 1] > off.h_target[0, 1]
    assert on.h_target[0, 0] == off.h_target[0, 0] and on.h_target[0, 2] == off.h_target[0, 2]
    with pytest.raises(ValueError, match="forecast must be"):
        VaultSim(SYMS, base.oracle_model(SYMS), base.vault_model(), Frictions(), prices, times, VAR, forecast=f[:, :2])
    with pytest.raises(ValueError, match="forecast mode must be"):
        base.with_forecast("off", "x", "x")
