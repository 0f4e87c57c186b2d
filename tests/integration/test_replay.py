"""The main job on a short slice: the replay holds the chain to the reference and
writes its outputs (the CLI's answers to bad input: tests/integration/test_cli_bad_input.py)."""

from __future__ import annotations

import json

import ape
import numpy as np
import pytest

from volmargin_lab.data import DataError
from volmargin_lab.population import KIND_NAMES, make_population
from volmargin_lab.replay import run_replay, write_outputs


def test_short_replay_has_parity(project, chain, tmp_path):
    result = run_replay(project, chain, ape.accounts, "eth-2020-03", n_accounts=50, seed=7, max_steps=6)
    s = result.summary
    assert s["steps"] == 6 and len(result.steps) == 6
    assert s["parity_mismatches"] == 0, s["parity_examples"]
    # per step: 3 assets x 7 asset fields + 50 accounts x (3 balances + 4 health sums), plus liquidation checks
    assert s["parity_checks"] >= 6 * (21 + 50 * 7)
    assert s["accounts_opened"] == 50
    for sym in ("USD", "WETH", "WBTC"):
        a = s["assets"][sym]
        assert 0 < a["haircut_maint_min"] <= a["haircut_maint_max"] <= 0.6
    write_outputs(result, tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    for key in ("episode", "steps", "accounts", "liquidations", "bad_debt_usd", "parity_checks",
                "parity_mismatches", "breaker_trips", "feed"):
        assert key in summary
    assert "pinned bridge" in summary["feed"]["WETH"]["built_from"]
    assert 0 < summary["feed"]["WETH"]["rounds_pushed"] <= 6
    assert (tmp_path / "steps.csv").read_text().count("\n") == 7
    assert "parity" in (tmp_path / "report.md").read_text()


def test_unknown_episode_is_a_data_error(project, chain):
    with pytest.raises(DataError, match="unknown episode 'nope'; known: eth-2020-03"):
        run_replay(project, chain, ape.accounts, "nope")


def test_population_is_seeded_and_mixed():
    syms = ("USD", "WETH", "WBTC")
    a, b = make_population(200, 7, syms), make_population(200, 7, syms)
    for field in ("kind", "collateral_usd", "debt_asset", "leverage"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(make_population(200, 8, syms).collateral_usd, a.collateral_usd)
    assert {KIND_NAMES[k] for k in a.kind} == {"long_eth", "long_btc", "long_mix", "short_eth"}
    assert np.all((0.55 <= a.leverage) & (a.leverage <= 0.99))
    with pytest.raises(ValueError, match="accounts must be >= 1"):
        make_population(0, 1, syms)

