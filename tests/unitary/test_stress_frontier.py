"""The efficient frontier (docs/frontier-protocol-v2.md): the parametric policy builder, the grid,
the selection rule on a hand-made table, and a tiny frontier through the lab's episode runner
whose verdict is recomputed by hand from its table."""

from __future__ import annotations

import math
from dataclasses import replace

import dask
import pytest

from volmargin import params as P
from volmargin import spec as S
from volmargin_lab.stress import frontier as F
from volmargin_lab.stress.engine import Frictions
from volmargin_lab.stress.policies import make_policy, make_policy_from, static_grid_point

WAD = 10**18


def test_static_grid_point_is_aave_at_825_and_scales_wbtc():
    assert static_grid_point(0.825) == {"lt": 0.825, "ltv": 0.8, "lt_wbtc": 0.78, "ltv_wbtc": 0.73}
    p = static_grid_point(0.90)
    assert p["ltv"] == pytest.approx(0.875) and p["lt_wbtc"] == pytest.approx(0.90 * 0.78 / 0.825)
    assert p["ltv_wbtc"] == pytest.approx(0.875 * 0.73 / 0.80)
    assert F.static_aave_matches_lab()


def test_make_policy_from_knobs_by_spec_name():
    assert make_policy_from("dynamic").oracle == make_policy("dynamic-calibrated").oracle
    pol = make_policy_from("dynamic", z_maint=2.5, z_init=3.0, horizon_h=4, h_min={"WETH": 0.06, "WBTC": 0.05},
                           caution_scale=0.75)
    w, b = pol.oracle["WETH"], pol.oracle["WBTC"]
    assert (w.z_maint, w.z_init, w.horizon, w.h_min) == (int(2.5 * WAD), 3 * WAD, 4 * 3600, int(0.06 * WAD))
    assert b.h_min == int(0.05 * WAD) and b.horizon == 4 * 3600
    # only WETH and WBTC move; the stablecoin and the toxic assets keep the base vectors
    base = make_policy("dynamic-calibrated")
    assert all(pol.oracle[s] == base.oracle[s] for s in ("USD", "LUNA", "FTT"))
    assert pol.vault.caution_scale == int(0.75 * WAD)
    st = make_policy_from("static", lt=0.85, ltv=0.825)
    assert st.oracle["WETH"].h_min / WAD == pytest.approx(0.15) and st.oracle["WETH"].h_max / WAD == pytest.approx(0.175)
    # a {symbol: value} knob reaches the symbols it names, the toxic ones too
    tox = make_policy_from("dynamic", h_min={"WETH": 0.06, "FTT": 0.4, "LUNA": 0.4})
    assert tox.oracle["FTT"].h_min == tox.oracle["LUNA"].h_min == int(0.4 * WAD)
    assert tox.oracle["WBTC"] == base.oracle["WBTC"] and tox.oracle["WETH"].h_min == int(0.06 * WAD)
    with pytest.raises(KeyError, match="unknown symbol 'DOGE'"):
        make_policy_from("dynamic", h_min={"DOGE": 0.4})
    with pytest.raises(KeyError, match="unknown knob 'nope'"):
        make_policy_from("dynamic", nope=1.0)
    with pytest.raises(KeyError, match="unknown family"):
        make_policy_from("aave")
    with pytest.raises(ValueError, match="LTV"):
        make_policy_from("static", lt=0.80, ltv=0.85)


def test_bonus_floor_is_strictly_above_the_bonus_bound():
    assert F.bonus_floor(0.05) == pytest.approx(0.05)  # 0.05 / 1.05 = 0.0476
    assert F.bonus_floor(0.10) == pytest.approx(0.095)  # 0.0909
    assert F.bonus_floor(0.05) > 0.05 / 1.05


def _floors(hs):
    return {h: {s: {"h_min": 0.05 + 0.004 * h, "q": 0.0} for s in ("WETH", "WBTC")} for h in hs}


def test_grid_points_size_names_and_aave_point():
    cfg = F.FrontierConfig()
    pts = F.grid_points(cfg, _floors(cfg.horizons_h))
    n_dyn = len(cfg.z_maint) * len(cfg.horizons_h) * len(cfg.gaps) * len(F.active_buffers(cfg)) * len(cfg.toxic_floors)
    assert len(pts) == len(cfg.static_lt) + n_dyn == 169  # docs/frontier-protocol-v2.md "Grids"
    assert len({p["name"] for p in pts}) == len(pts)
    d = next(p for p in pts if p["family"] == "dynamic")
    assert d["params"]["z_init"] == pytest.approx(d["params"]["z_maint"] + d["params"]["gap"])
    assert ("h_min_init" in d["params"]) == ("h_min_init" in S.ORACLE.names)
    for p in pts[len(cfg.static_lt):]:  # the toxic floor rides in the h_min dict; the initial floor stays on WETH/WBTC
        pol = F.policy_of(p)
        assert pol.oracle["FTT"].h_min == pol.oracle["LUNA"].h_min == round(p["params"]["toxic_floor"] * WAD)
        assert set(p["params"]["h_min_init"]) == {"WETH", "WBTC"}
    with pytest.raises(ValueError, match="Aave point"):
        F.grid_points(replace(cfg, static_lt=(0.80, 0.85)), _floors(cfg.horizons_h))
    with pytest.raises(KeyError, match="unknown knob"):
        F.grid_points(replace(cfg, extra_axes={"no_such_knob": (1.0,)}), _floors(cfg.horizons_h))


def _row(fam, name, bp, train, held, lt=None):
    return {"family": fam, "name": name, "params": {"lt": lt} if lt is not None else {}, "calm_borrowing_power": bp,
            "calm_borrowing_power_heldout": bp, "bad_debt_usd_train": train, "bad_debt_usd_heldout": held,
            "liquidation_volume_usd": 1.0}


def _walked(name, identical_ok=True, coverage_ok=True):
    return {"name": name, "calm_bp_gain": 0.125, "bad_debt_usd_train": 50.0,
            "identical_train": {"e1": {"static": 3.0, "chosen": 2.0 if identical_ok else 4.0}},
            "coverage_train": {s: {"kupiec_p_one_sided": 0.5, "christoffersen_p": 0.5 if coverage_ok else 0.01}
                               for s in ("WETH", "WBTC")},
            "identical_ok": identical_ok, "coverage_ok": coverage_ok, "passed": identical_ok and coverage_ok}


def test_selection_rule_on_a_hand_made_table():
    rows = [
        _row("static", "s80", 0.78, 50.0, 0.0, lt=0.80),
        _row("static", "aave", 0.80, 100.0, 10.0, lt=0.825),
        _row("dynamic", "too-risky", 0.99, 101.0, 0.0),  # most borrowing power but more training bad debt
        _row("dynamic", "a", 0.90, 100.0, 50.0),
        _row("dynamic", "b", 0.90, 40.0, 0.0),
        _row("dynamic", "c", 0.85, 0.0, 0.0),  # safest, but +6.25 %: below the goal, not eligible
        _row("dynamic", "d", 0.95, 40.0, 0.0),  # ties b on training bad debt with more borrowing power: first
        _row("dynamic", "nan", math.nan, 0.0, 0.0),
    ]
    st = F.static_point(rows)
    assert st["name"] == "aave"
    assert [r["name"] for r in F.eligible(rows, st)] == ["d", "b", "a"]
    # held-out figures never enter the rule
    rows[4]["bad_debt_usd_heldout"] = 1e12
    assert [r["name"] for r in F.eligible(rows, st)] == ["d", "b", "a"]
    # rule 3: the first walked point that passed both training checks is chosen
    assert F.chosen_name([_walked("d", identical_ok=False), _walked("b"), _walked("a")]) == "b"
    assert F.chosen_name([_walked("d", coverage_ok=False)]) is None and F.chosen_name(None) is None
    v = F.frontier_verdict(rows, [_walked("d", coverage_ok=False), _walked("b")], None, None)
    assert v["chosen"]["name"] == "b" and v["eligible"] == 3 and v["protocol"] == 2
    # nothing at or below static's training bad debt: no choice, goal not met
    poor = [r if r["family"] == "static" else {**r, "bad_debt_usd_train": 1e9} for r in rows]
    assert F.eligible(poor, st) == []
    v = F.frontier_verdict(poor, [], None, None)
    assert v["chosen"] is None and v["frontier_goal_met"] is False
    assert F.ratio(0.0, 0.0) == 0.0 and F.ratio(1.0, 0.0) == math.inf and F.ratio(1.0, 4.0) == 0.25


def test_verdict_goal_needs_every_part():
    rows = [_row("static", "aave", 0.80, 100.0, 10.0, lt=0.825), _row("dynamic", "d", 0.90, 50.0, 5.0)]
    idt = {"e1": {"static": 3.0, "chosen": 2.0}}
    cov = {"WETH": {"passed": True}, "WBTC": {"passed": True}}
    walk = [_walked("d")]
    v = F.frontier_verdict(rows, walk, idt, cov)
    assert v["calm_bp_gain"] == pytest.approx(0.90 / 0.80 - 1) and v["bad_debt_train_ratio"] == 0.5
    assert v["bad_debt_heldout_ratio"] == 0.5 and v["identical_ok"] and v["coverage_passed"] and v["frontier_goal_met"]
    assert not F.frontier_verdict(rows, walk, {"e1": {"static": 1.0, "chosen": 2.0}}, cov)["frontier_goal_met"]
    assert not F.frontier_verdict(rows, walk, idt, {**cov, "WBTC": {"passed": False}})["frontier_goal_met"]
    assert not F.frontier_verdict(rows, [_walked("d", identical_ok=False)], idt, cov)["frontier_goal_met"]
    worse = [rows[0], _row("dynamic", "d", 0.90, 50.0, 11.0)]  # more held-out bad debt than static
    assert not F.frontier_verdict(worse, walk, idt, cov)["frontier_goal_met"]
    low = [rows[0], _row("dynamic", "d", 0.85, 50.0, 5.0)]  # +6.25 %: below the +10 % goal
    assert not F.frontier_verdict(low, walk, idt, cov)["frontier_goal_met"]


def test_needed_says_when_the_goal_is_out_of_reach():
    """``needed``'s diagnostics on a hand-made table: points meeting the goal's totals, the least
    held-out bad debt at the goal gain, and per episode the largest gain no worse than static."""
    def row(fam, name, bp, by_ep, lt=None):
        r = _row(fam, name, bp, by_ep["tr"], by_ep["ho"], lt)
        return {**r, "bad_debt_by_episode": by_ep}

    rows = [row("static", "aave", 0.80, {"tr": 100.0, "ho": 0.0}, lt=0.825),
            row("static", "s85", 0.82, {"tr": 100.0, "ho": 5.0}, lt=0.85),
            row("dynamic", "d1", 0.90, {"tr": 50.0, "ho": 7.0}),  # +12.5 %, held-out worse than static
            row("dynamic", "d2", 0.84, {"tr": 10.0, "ho": 0.0})]  # +5 %: no worse anywhere, below the goal
    st = F.static_point(rows)
    need = F.needed(rows, st)
    assert need["points_meeting_totals"] == 0 and need["least_heldout_at_goal_gain"] == 7.0
    assert need["max_gain_no_worse_by_episode"]["tr"] == {"gain": pytest.approx(0.125), "point": "d1"}
    assert need["max_gain_no_worse_by_episode"]["ho"] == {"gain": pytest.approx(0.05), "point": "d2"}
    rows[2]["bad_debt_usd_heldout"] = 0.0  # now d1 meets the totals
    assert F.needed(rows, st)["points_meeting_totals"] == 1
    from volmargin_lab.stress import report as R

    words = "".join(R._reach_words(need))
    assert "**Out of the grid's reach:**" in words and "ho 5.0 % (`d2`)" in words


def test_report_words_when_static_has_no_held_out_bad_debt():
    """Static 0 and chosen > 0 held out: the ratio is unbounded (inf; null after the summary's
    JSON cleaning) and the report says so instead of failing."""
    from volmargin_lab.stress import report as R
    from volmargin_lab.stress.run import _clean

    rows = [_row("static", "aave", 0.80, 100.0, 0.0, lt=0.825), _row("dynamic", "d", 0.90, 50.0, 5.0)]
    v = F.frontier_verdict(rows, [_walked("d")], {"e1": {"static": 0.0, "chosen": 5.0}}, None)
    assert v["bad_debt_heldout_ratio"] == math.inf and not v["frontier_goal_met"]
    words = "".join(R._frontier_words({"verdict": _clean(v)}))
    assert "unbounded (static had none) held-out" in words and "**Goal not met**" in words


TINY = F.FrontierConfig(static_lt=(0.775, 0.825), z_maint=(2.0,), gaps=(1.0,), horizons_h=(4.0, 24.0), buffers=(0.0,),
                        toxic_floors=(0.30,), accounts=40, chunk=3, max_hours=6.0, max_walk=1)


def test_tiny_frontier_through_the_episode_runner():
    pts = F.grid_points(TINY, _floors(TINY.horizons_h))
    assert [p["family"] for p in pts] == ["static", "static", "dynamic", "dynamic"]
    assert set(F.UNSEEN_CRASHES) <= set(TINY.heldout_crashes) and len(TINY.episodes) == 10
    tasks = F.frontier_tasks(TINY, pts, 7, Frictions())
    assert len(tasks) == len(TINY.episodes) * 2
    parts = list(dask.compute(*tasks, scheduler="synchronous"))
    rows = F.frontier_table(TINY, pts, parts)
    for r in rows:
        assert set(r) >= {"family", "params", "calm_borrowing_power", "bad_debt_usd_train", "bad_debt_usd_heldout",
                          "bad_debt_usd_unseen", "liquidation_volume_usd"}
        assert 0 < r["calm_borrowing_power"] < 1.5 and r["bad_debt_usd_train"] >= 0
        assert r["bad_debt_usd_train"] == pytest.approx(sum(r["bad_debt_by_episode"][e] for e in TINY.train_crashes))
        assert r["bad_debt_usd_unseen"] == pytest.approx(sum(r["bad_debt_by_episode"][e] for e in F.UNSEEN_CRASHES))
    st = next(r for r in rows if r["params"].get("lt") == 0.825)
    assert F.static_point(rows)["name"] == st["name"]
    # rules 1-2 by hand
    by_hand = [r for r in rows if r["family"] == "dynamic" and r["bad_debt_usd_train"] <= st["bad_debt_usd_train"]
               and r["calm_borrowing_power"] / st["calm_borrowing_power"] - 1 >= F.GOAL_GAIN]
    by_hand.sort(key=lambda r: (r["bad_debt_usd_train"], -r["calm_borrowing_power"]))
    assert [r["name"] for r in F.eligible(rows, st)] == [r["name"] for r in by_hand]
    # rule 3 on the dynamic rows (whether eligible or not here): only the first max_walk are checked
    dyn = [r for r in rows if r["family"] == "dynamic"]
    walk = F.walk_checks(TINY, st, dyn, 7, Frictions(), True, "synchronous", None)
    assert [w["name"] for w in walk] == [dyn[0]["name"]]
    w = walk[0]
    assert set(w["identical_train"]) == set(TINY.train_crashes) and set(w["coverage_train"]) == {"WETH", "WBTC"}
    assert w["identical_ok"] == all(x["chosen"] <= x["static"] for x in w["identical_train"].values())
    assert all(c["period"] == "train" and c["observations"] > 0 for c in w["coverage_train"].values())
    assert w["passed"] == (w["identical_ok"] and all(c["passed"] for c in w["coverage_train"].values()))
    v = F.frontier_verdict(rows, walk, None, None)
    assert v["static_point"]["name"] == st["name"]
    assert (v["chosen"] or {}).get("name") == (dyn[0]["name"] if w["passed"] else None)
    v = F.frontier_verdict(rows, [{**w, "passed": True}], None, None)
    ch = dyn[0]
    assert v["calm_bp_gain"] == pytest.approx(ch["calm_borrowing_power"] / st["calm_borrowing_power"] - 1)

    def ratio_by_hand(a, b):
        return 0.0 if a == b == 0 else (math.inf if b == 0 else a / b)

    for key, col in (("bad_debt_train_ratio", "bad_debt_usd_train"), ("bad_debt_heldout_ratio", "bad_debt_usd_heldout"),
                     ("bad_debt_unseen_ratio", "bad_debt_usd_unseen")):
        assert v[key] == pytest.approx(ratio_by_hand(ch[col], st[col]))


def test_training_floor_at_one_day_matches_calibration_v2():
    """The re-derived 1-day floor: the same 99 % quantile as calibration protocol v2's stressed
    floor (which rounds to a whole percent, this one to half a percent)."""
    f = F.training_floors((24.0,))[24.0]
    for s in ("WETH", "WBTC"):
        assert math.ceil(100 * f[s]["q"] - 1e-9) / 100 == pytest.approx(P.CALIBRATED_V2[s]["h_min"])
        assert f[s]["h_min"] >= f[s]["q"] and f[s]["h_min"] - f[s]["q"] < F.FLOOR_STEP


def test_held_out_calm_window_is_september_2023_and_only_in_the_frontier():
    from volmargin_lab.data import EPISODES
    from volmargin_lab.stress.scenarios import STRESS_EPISODES, load_market, utc

    m = load_market(F.HELDOUT_CALM)
    assert m.symbols == ("USD", "WETH", "WBTC")
    assert m.times[0] == utc("2023-09-01 00:00") and m.times[-1] == utc("2023-10-01 00:00")
    assert m.times[m.open_step] == utc("2023-09-03 00:00") and len(m.times) == 721  # hourly closes
    assert F.HELDOUT_CALM not in STRESS_EPISODES and F.HELDOUT_CALM not in EPISODES
