"""The risk keeper (issue #14 item 2, docs/design.md §3.7) against a chain: 160 days of real
Bitcoin daily closes (``data/prices/btc_usd_2011-2025_1d.csv``, 2021-01 .. 2021-06, scaled to
end at the deployment's 30,000 USD) go into the WBTC feed; the keeper reads them back from the
feed, fits GARCH(1,1)-t, and pushes the annualized forecast clamped into the oracle's box. The
oracle's state after the push equals the reference's; a second run within the heartbeat and a
run with the mode off are skipped with the oracle's reason; a keeper without the role is
refused before anything is sent. On anvil (``--network ethereum:local:foundry``) the same runs
as ``ape run risk-keeper``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ape_cli import ROOT, ape_run
from volmargin import reference as ref
from volmargin.chain import risk_keeper as RK
from volmargin.chain.manifest import load
from volmargin.reference import forecast as fc
from volmargin.units import to_feed_answer
from volmargin_lab.data import load_csv
from volmargin_lab.forecast import next_day_sigma

DAY = 86_400
WAD = ref.WAD
N_DAYS = 160


def _closes() -> np.ndarray:
    bars = load_csv(ROOT / "data" / "prices" / "btc_usd_2011-2025_1d.csv")
    t = bars.timestamp
    start = int(np.flatnonzero(t >= 1_609_459_200)[0])  # 2021-01-01 00:00 UTC
    c = np.asarray(bars.close[start:start + N_DAYS], dtype=np.float64)
    return c * 30_000.0 / c[-1]


@pytest.fixture
def history(system, chain, tmp_path):
    """The WBTC feed holds the 160 closes, one a day, the last at block time; the oracle poked
    (the last close is the price it already holds); the forecast mode on (replace); the manifest."""
    closes = _closes()
    now = chain.pending_timestamp
    for k, price in enumerate(closes):
        ts = now - (N_DAYS - 1 - k) * DAY
        system.feeds["WBTC"].push(to_feed_answer(float(price)), ts if k < N_DAYS - 1 else 0, sender=system.admin)
    system.last_rounds.pop("WBTC", None)
    system.poke(["WBTC"])
    rc = system.oracle.set_param(system.tokens["WBTC"], ref.P_F_MODE, fc.MODE_REPLACE, sender=system.admin)
    system.oracle_ref.set_param(system.address("WBTC"), ref.P_F_MODE, fc.MODE_REPLACE, rc.timestamp)
    return closes, system.write_json(tmp_path / "deployment.json")


def test_feed_history_reads_back_one_close_a_day(system, project, history):
    closes, path = history
    dep = load(project, path)
    h = RK.feed_history(dep.feeds["WBTC"], 365)
    assert len(h.prices) == N_DAYS and h.rounds >= N_DAYS
    assert np.allclose(h.prices, closes, rtol=1e-8)
    gaps = np.diff(h.times)  # a day apart; the last close was pushed at block time, minutes later
    assert np.all(gaps[:-1] == DAY) and DAY <= gaps[-1] < DAY + 3_600
    # a shorter window: the closes of the last 30 days (the latest round was pushed minutes after
    # the daily ones, so the one 30 days before it falls just outside)
    assert len(RK.feed_history(dep.feeds["WBTC"], 30).prices) == 30


def test_keeper_fits_and_pushes_within_the_box(system, project, chain, history, risk_keeper, alice):
    closes, path = history
    dep = load(project, path)
    records: list[dict] = []
    now = int(chain.blocks.head.timestamp)
    errors = RK.run_once(dep, ["WBTC"], risk_keeper, next_day_sigma, 365, now, records.append)
    assert errors == 0
    (rec,) = records
    assert rec["action"] == "push" and rec["days"] == N_DAYS
    forecast = next_day_sigma(RK.feed_history(dep.feeds["WBTC"], 365).prices)  # the feed's 8-decimal answers
    assert rec["forecast"] == forecast and 0.2 < forecast < 3.0  # a plausible BTC volatility, a year
    assert forecast == pytest.approx(next_day_sigma(closes), rel=1e-5)
    sigma_r = int(system.oracle.sigma(system.tokens["WBTC"], ref.SECONDS_PER_YEAR))
    lo, hi = -(-sigma_r // 2), 3 * sigma_r
    pushed = min(max(int(round(forecast * WAD)), lo), hi)
    assert rec["clipped"] == (pushed != int(round(forecast * WAD)))
    sigma, t, in_use = system.oracle.forecast_of(system.tokens["WBTC"])
    assert (sigma, in_use) == (pushed, True)
    system.oracle_ref.push_forecast(system.address("WBTC"), pushed, t)
    s, r = system.oracle.assets(system.tokens["WBTC"]), system.oracle_ref.assets[system.address("WBTC")]
    assert (s.h_maint, s.h_target, s.h_time, s.forecast) == (r.h_maint, r.h_target, r.h_time, r.forecast)
    assert rec["h_target"] == s.h_target / WAD

    # again within the heartbeat: skipped with the oracle's reason, nothing sent
    records.clear()
    assert RK.run_once(dep, ["WBTC"], risk_keeper, next_day_sigma, 365, int(chain.blocks.head.timestamp),
                       records.append) == 0
    assert records[0]["action"] == "skip" and records[0]["refusal"].startswith("oracle: forecast too soon")
    # a signer without the role, and an asset whose mode is off: skipped without a fit
    records.clear()
    later = int(chain.blocks.head.timestamp) + 2 * DAY
    assert RK.run_once(dep, ["WBTC"], alice, next_day_sigma, 365, later, records.append) == 0
    assert RK.run_once(dep, ["WETH"], risk_keeper, next_day_sigma, 365, later, records.append) == 0
    assert [r["action"] for r in records] == ["skip", "skip"] and records[1]["forecast"] is None
    assert records[0]["refusal"].startswith("access_control: account is missing role")
    assert records[1]["refusal"].startswith("oracle: forecast off")
    # WETH's mode on, but its feed has a few rounds: no history to fit, an error, nothing sent
    system.oracle.set_param(system.tokens["WETH"], ref.P_F_MODE, fc.MODE_MAX, sender=system.admin)
    records.clear()
    assert RK.run_once(dep, ["WETH"], risk_keeper, next_day_sigma, 365, later, records.append) == 1
    assert records[0]["action"] == "error" and "at least 101 daily closes" in records[0]["error"]
    assert tuple(system.oracle.forecast_of(system.tokens["WETH"]))[:2] == (0, 0)
    assert tuple(system.oracle.forecast_of(system.tokens["WBTC"]))[:2] == (pushed, t)


def test_plan_refuses_when_the_mode_is_off_and_names_the_fix(system, project, chain, tmp_path, risk_keeper):
    dep = load(project, system.write_json(tmp_path / "deployment.json"))
    now = int(chain.blocks.head.timestamp)
    plan = RK.plan_push(dep, "WETH", now, risk_keeper)
    assert plan.refusal.startswith("oracle: forecast off") and "set-param f_mode 1 --asset WETH" in plan.refusal
    with pytest.raises(RK.RiskKeeperError, match="oracle: forecast off"):
        plan.choose(0.8)  # a refused plan takes no value
    with pytest.raises(RK.RiskKeeperError, match="unknown asset 'DOGE'"):
        RK.plan_push(dep, "DOGE", 0, risk_keeper)
    system.oracle.set_param(system.tokens["WETH"], ref.P_F_MODE, fc.MODE_REPLACE, sender=system.admin)
    plan = RK.plan_push(dep, "WETH", now, risk_keeper)
    assert plan.refusal is None
    with pytest.raises(RK.RiskKeeperError, match="finite volatility"):
        plan.choose(float("nan"))


@pytest.mark.anvil
def test_ape_run_risk_keeper_on_anvil(system, chain, history, monkeypatch):
    """``ape run risk-keeper`` against the same node: one JSON line, the push on chain."""
    assert chain.provider.name == "foundry"
    _, path = history
    monkeypatch.setenv("APE_FOUNDRY_HOST", chain.provider.uri)
    r = ape_run("risk-keeper", "--network", "ethereum:local:foundry", "--account", "TEST::10",
                "--deployment", str(path), "--asset", "WBTC", "--days", "365", timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    (line,) = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert line["action"] == "push" and line["asset"] == "WBTC"
    sigma, _, in_use = system.oracle.forecast_of(system.tokens["WBTC"])
    assert in_use and sigma / WAD == pytest.approx(line["sigma"], rel=1e-15)
    # a bad asset: named, exit 2, nothing sent
    r = ape_run("risk-keeper", "--network", "ethereum:local:foundry", "--account", "TEST::10",
                "--deployment", str(path), "--asset", "DOGE", timeout=180)
    assert r.returncode == 2 and "unknown asset 'DOGE'" in r.stderr
