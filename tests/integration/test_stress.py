"""ape run stress --quick end to end on the embedded chain (outputs, on-chain parity); the CLI's
answers to bad input are in tests/integration/test_cli_bad_input.py."""

from __future__ import annotations

import json

import pytest

from ape_cli import ape_run
from volmargin_lab.stress.policies import POLICY_NAMES
from volmargin_lab.stress.scenarios import STRESS_EPISODES

PLOTS = ("price.png", "sigma.png", "haircut.png", "health.png", "liquidations.png", "bad_debt.png")


def test_quick_run_writes_the_report_and_holds_parity(tmp_path):
    out = tmp_path / "stress"
    r = ape_run("stress", "--out", str(out), "--quick", "--workers", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    assert set(s["episodes"]) == set(STRESS_EPISODES)
    for name, e in s["episodes"].items():
        assert set(e["policies"]) == set(POLICY_NAMES)
        for pol, x in e["policies"].items():
            assert x["bad_debt_usd"] >= 0 and x["liquidations"] >= 0
            assert 0 < x["calm_borrowing_power"] < 1, (name, pol)
            assert 0 <= x["kupiec_p"] <= 1 and 0 <= x["christoffersen_p"] <= 1
        assert set(e["by_mode"]) == {"identical", "fraction"}
    # identical opening: the same borrows under every policy
    for e in s["episodes"].values():
        borrows = {round(x["borrows_open_usd"], 6) for x in e["by_mode"]["identical"].values()}
        assert len(borrows) == 1
    # static: fixed LTV 80 % on WETH collateral, so a dollar of collateral borrows about 0.8 in every calm window
    assert s["episodes"]["calm-2019-03"]["policies"]["static"]["calm_borrowing_power"] == pytest.approx(0.8, abs=0.03)
    cal = s["calibration"]
    assert cal["available"] and set(cal["assets"]) == {"WETH", "WBTC"}
    # protocol v2 only: protocol v1 was removed (docs/calibration-protocol-v1.md)
    for x in cal["assets"].values():
        assert x["protocol"] == "v2" and "v1" not in x and "defaults_test" not in x
    for model in ("gbm-jump", "garch"):
        for pol in POLICY_NAMES:
            st = s["monte_carlo"]["results"][model][pol]["bad_debt_usd"]
            assert st["n"] == 50 and st["mean"] <= st["es99"] + 1e-9
    for pol in ("static", "dynamic"):
        oc = s["onchain"][pol]
        assert oc["mismatches"] == 0, oc["examples"]
        assert oc["checks"] > 100 and oc["opened"] >= 6
    report = (out / "report.md").read_text()
    assert s["feed_realism"], "no span with 1- or 5-minute data was measured"
    for row in s["feed_realism"]:
        assert {"episode", "asset", "hours", "vol_feed_hourly", "vol_feed_fine", "ratio"} <= set(row)
        assert row["hours"] < 168 or 0.8 <= row["ratio"] <= 1.25, row
    for section in ("## Findings", "## Episodes", "## Monte Carlo", "## Calibration", "## On-chain subset",
                    "## Feed realism", "## Assumptions", "## Closing note"):
        assert section in report
    assert "**Protocol v2**" in report and "v1 (floor in the backtest)" not in report
    for f in PLOTS + ("frontier.png",):
        assert (out / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f
    # the frontier (docs/frontier-protocol-v2.md): its table, the verdict's keys and its report section
    assert "## Frontier" in report and s["frontier_config"]["static_aave_point_is_static_policy"]
    for row in s["frontier"]:
        assert {"family", "params", "calm_borrowing_power", "bad_debt_usd_train", "bad_debt_usd_heldout",
                "liquidation_volume_usd"} <= set(row)
    v = s["verdict"]
    assert {"static_point", "chosen", "calm_bp_gain", "bad_debt_train_ratio", "bad_debt_heldout_ratio",
            "crash_goal_met", "calm_goal_met"} <= set(v)
    assert v["protocol"] == 2 and len(v["walk"]) == min(v["eligible"], s["frontier_config"]["max_walk"])
    for w in v["walk"]:
        assert set(w["identical_train"]) == set(s["frontier_config"]["train_crashes"])
        assert w["passed"] == (w["identical_ok"] and w["coverage_ok"])
    assert (v["chosen"] or {}).get("name") == next((w["name"] for w in v["walk"] if w["passed"]), None)
    if v["chosen"]:
        assert set(v["identical_openings"]) == set(s["frontier_config"]["train_crashes"]
                                                   + s["frontier_config"]["heldout_crashes"])
    # the portfolio-margin study and the forecast backtest (docs/portfolio-study.md, docs/forecast-study.md)
    pf = s["portfolio"]
    assert {"hedged_calm_bp_gain", "diversified_calm_bp_gain", "bad_debt_ratio_max", "forecast_adopted"} <= set(pf)
    assert pf["hedged_calm_bp_gain"] > pf["diversified_calm_bp_gain"] >= 0.0  # a hedge earns the larger offset
    assert pf["forecast_adopted"] == pf["forecast"]["adopted"] and set(pf["forecast"]["by_asset"]) == {"WETH", "WBTC"}
    assert set(pf["monte_carlo"]["by_regime"]) == {"fitted", "broken"} and "mc_es99_ratio_max" in pf
    assert "## Portfolio margin (study)" in report and "### Forecast volatility (backtest)" in report
    assert "wrote" in r.stdout

