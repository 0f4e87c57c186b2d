"""The risk monitor's pages, rendered by headless Chromium.

A live deployment on the test chain (a few accounts, one liquidation, one
breaker trip), a small replay and a small stress summary are turned into
pages; Chromium loads each one (screenshots under the test's tmp_path), its
DOM must show the key figures read independently from the contracts, no
console message may appear, and every image must be a PNG file beside the page.
`make setup` installs Debian's chromium.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from ape_cli import ape_run
from volmargin import reference as ref
from volmargin.chain.deploy import fund
from volmargin.chain.lens import read_assets
from volmargin.chain.manifest import load
from volmargin_lab import monitor as m

WAD = 10**18
CONSOLE_MARKERS = (":CONSOLE", "Uncaught", "Failed to load resource")


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])


def _chromium(page: Path, shot: Path) -> str:
    """Screenshot ``page`` into ``shot`` and return its rendered DOM; fail on any console message."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium not found on PATH: `make setup` installs it")
    base = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={shot.parent / ('profile-' + shot.stem)}", "--enable-logging=stderr", "--v=0"]
    url = page.resolve().as_uri()
    shot_run = subprocess.run([*base, f"--screenshot={shot}", "--window-size=1280,2000", url],
                              capture_output=True, text=True, timeout=60)
    dom_run = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=60)
    assert shot.is_file() and shot.stat().st_size > 10_000, shot_run.stderr[-2000:]
    for run in (shot_run, dom_run):
        bad = [ln for ln in run.stderr.splitlines() if any(k in ln for k in CONSOLE_MARKERS)]
        assert not bad, bad
    assert dom_run.returncode == 0 and "<body" in dom_run.stdout
    return dom_run.stdout


def _check_images(dom: str, out: Path) -> list[str]:
    parser = _Images()
    parser.feed(dom)
    assert parser.srcs
    for src in parser.srcs:
        f = out / src
        assert f.is_file(), src
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", src
    return parser.srcs


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


# ---------------------------------------------------------------- live deployment


def _open(system, who, col: str, col_whole: float, debt: str, debt_whole: float) -> None:
    vault = system.vault
    vault.deposit(system.tokens[col], int(col_whole * 10 ** system.specs[col].decimals), sender=who)
    vault.borrow(system.tokens[debt], int(debt_whole * 10 ** system.specs[debt].decimals), sender=who)


def _market_moves(system, chain, liquidator, alice) -> None:
    """An hour later WETH -12 % (alice and dave liquidatable) and WBTC -50 %, both jumps that trip
    the breaker to REDUCE_ONLY; the liquidator takes part of alice's debt."""
    chain.pending_timestamp += 3600
    for sym, price in (("WETH", 1760.0), ("WBTC", 15_000.0), ("USD", 1.0)):
        system.push_price(sym, price)
    system.poke()
    system.vault.liquidate(alice, system.tokens["USD"], system.tokens["WETH"], 2**256 - 1, 0, sender=liquidator)


def test_live_page(project, chain, accounts, system, alice, bob, liquidator, tmp_path):
    dave, carol = accounts[7], accounts[8]
    for who in (dave, carol):
        for sym, whole in (("USD", 1_000_000), ("WETH", 1_000), ("WBTC", 100)):
            fund(system, who, sym, whole * 10 ** system.specs[sym].decimals)
    _open(system, alice, "WETH", 10, "USD", 15_000)
    _open(system, dave, "WETH", 10, "USD", 15_000)
    _open(system, bob, "WBTC", 1, "USD", 10_000)
    _open(system, carol, "USD", 50_000, "WETH", 1)
    _market_moves(system, chain, liquidator, alice)

    manifest = system.write_json(tmp_path / "deployment.json")
    dep = load(project, manifest)
    out = tmp_path / "live"
    snap, log = m.take_snapshot(dep, chain)
    m.write_live_page(snap, out, log, refresh=30)
    chain.pending_timestamp += 600
    system.push_price("WETH", 1750.0)
    system.poke(["WETH"])
    snap, log = m.take_snapshot(dep, chain, log)
    page = m.write_live_page(snap, out, log, refresh=30)

    # the snapshot, against the contracts' own views
    vault, oracle = system.vault, system.oracle
    assert snap.accounts_error is None
    debtors = [alice, bob, carol, dave]
    hf = {str(a.address): vault.health_factor(a) / WAD for a in debtors}
    got = {a.account: a for a in snap.accounts}
    assert set(hf) <= set(got) and str(system.admin.address) not in got
    assert [a.health_factor for a in snap.accounts] == sorted(a.health_factor for a in snap.accounts)
    for acct, want in hf.items():
        assert got[acct].health_factor == pytest.approx(want, rel=1e-9)
        assert got[acct].liquidatable == (want < 1)
    assert got[str(dave.address)].liquidatable
    weth_left = vault.balance_of(alice, system.tokens["WETH"]) / WAD
    assert got[str(alice.address)].collateral_usd == pytest.approx(weth_left * 1750.0, rel=1e-12)
    assert [r["account"] for r in snap.liquidations] == [str(alice.address)]
    by_sym = {a.symbol: a for a in snap.assets}
    # both drops are jumps (REDUCE_ONLY, one trip each; no cooldown has ended), USD stays NORMAL
    assert [by_sym[s].breaker for s in ("USD", "WETH", "WBTC")] == ["NORMAL", "REDUCE_ONLY", "REDUCE_ONLY"]
    assert [by_sym[s].trips for s in ("USD", "WETH", "WBTC")] == [0, 1, 1]
    assert sum(a.trips for a in snap.assets) == oracle.n_tripped()
    assert by_sym["WETH"].price == 1750.0 and 0 <= by_sym["WETH"].age_s <= 5  # pushed, then poked a block later

    history = json.loads((out / m.HISTORY_FILE).read_text())
    assert len(history["points"]) == 2

    dom = _chromium(page, tmp_path / "live.png")
    _check_images(dom, out)
    assert '<meta http-equiv="refresh" content="30">' in dom
    _, rows = read_assets(system.lens, [system.address(s) for s in system.symbols])
    for sym, r in zip(system.symbols, rows):
        assert sym in dom
        assert f"{r.price / WAD:,.2f}" in dom
        assert _pct(r.h_maint / WAD) in dom
        assert ref.BREAKER_NAMES[r.breaker] in dom
    lowest = min(hf.values())
    assert f"{lowest:.3f}" in dom
    assert dom.count("LIQUIDATABLE") == sum(v < 1 for v in hf.values())

    # two hours without a poke: WETH and WBTC (heartbeat 1 h + grace) are stale, the lens would revert
    chain.pending_timestamp += 7200
    chain.mine()
    snap, log = m.take_snapshot(dep, chain, log)
    assert snap.accounts == [] and snap.accounts_error == "WETH stale price; WBTC stale price"
    html = m.write_live_page(snap, out, log).read_text()
    assert "STALE PRICE" in html and "WETH stale price; WBTC stale price" in html


# ---------------------------------------------------------------- replay


def _replay_outputs(n: int = 24) -> tuple[dict, list[dict]]:
    """A small replay in the format of volmargin_lab.replay (summary.json, steps.csv rows)."""
    t0 = 1_583_370_000
    steps = []
    for i in range(n):
        row = {"step": i + 1, "bar_time": t0 + 3600 * i, "bar_utc": "", "chain_time": 0}
        for sym, p0, s0, h0 in (("USD", 1.0, 0.02, 0.0131), ("WETH", 227.0, 0.8, 0.145), ("WBTC", 8877.0, 0.65, 0.122)):
            drop = 1 - 0.02 * i if sym != "USD" else 1.0
            row |= {f"{sym}_price": round(p0 * drop, 2), f"{sym}_sigma_annual": s0 * (1 + 0.1 * i),
                    f"{sym}_h_maint": h0 * (1 + 0.05 * i), f"{sym}_h_init": h0 * (1 + 0.05 * i) * 1.3,
                    f"{sym}_breaker": "CAUTION" if sym == "WETH" and i > 15 else "NORMAL"}
        row |= {"liquidatable": max(0, i - 18), "liquidations": max(0, i - 19), "liquidation_volume_usd": 0.0,
                "bad_debt_usd_cum": 0.0}
        steps.append(row)
    summary = {
        "episode": "test-<crash>", "description": 'A <script>alert("x")</script> & "quoted" crash',
        "steps": n, "bar_seconds": 3600, "accounts": 5, "liquidations": 10, "liquidation_volume_usd": 12_345.5,
        "bad_debt_usd": 0.0, "parity_checks": 99, "parity_mismatches": 0, "breaker_trips": 0,
        "assets": {s: {"sigma_annual_min": 0.1, "sigma_annual_max": 0.9, "haircut_maint_min": 0.1,
                       "haircut_maint_max": 0.3, "steps_in_breaker_state": {"NORMAL": n, "CAUTION": 0, "REDUCE_ONLY": 0}}
                   for s in ("USD", "WETH", "WBTC")},
        "insurance_fund": {"USD": 1.5}, "simplifications": ["feeds update once per bar"], "wall_seconds": 1.0,
    }
    return summary, steps


def test_replay_page(tmp_path):
    summary, steps = _replay_outputs()
    out = tmp_path / "replay"
    page = m.write_replay_page(summary, steps, out)
    dom = _chromium(page, tmp_path / "replay.png")
    _check_images(dom, out)
    # escaped: the description shows as text, no script element was injected
    assert "&lt;script&gt;alert" in dom and "<script>" not in dom and "test-&lt;crash&gt;" in dom
    last = steps[-1]
    for sym in ("USD", "WETH", "WBTC"):
        assert sym in dom
        assert f"{last[f'{sym}_price']:,.2f}" in dom
        assert _pct(last[f"{sym}_h_maint"]) in dom
    assert "CAUTION" in dom and "NORMAL" in dom


def test_replay_page_cli(tmp_path):
    summary, steps = _replay_outputs()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "summary.json").write_text(json.dumps(summary))
    pd.DataFrame(steps).to_csv(run_dir / "steps.csv", index=False)
    out = tmp_path / "html"
    r = ape_run("monitor", "--from-replay", str(run_dir), "--html", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "index.html").is_file() and (out / "haircuts.png").is_file()


# ---------------------------------------------------------------- stress


def _stress_summary() -> dict:
    pols = ["static", "dynamic"]
    return {
        "command": "ape run stress --quick", "quick": True, "seed": 7, "accounts_per_episode": 300,
        "policies": {"static": {"description": "fixed haircuts"}, "dynamic": {"description": "volatility haircuts"}},
        "episodes": {
            "eth-2020-03": {"policies": {"static": {"bad_debt_usd": 1234.5, "liquidations": 3, "calm_borrowing_power": 0.804},
                                         "dynamic": {"bad_debt_usd": 0.0, "liquidations": 8, "calm_borrowing_power": 0.3656}}},
            "luna-2022-05": {"policies": {p: {"bad_debt_usd": 0.0, "liquidations": 4, "calm_borrowing_power": 0.75}
                                          for p in pols}},
        },
        "monte_carlo": {"results": {"garch": {p: {"bad_debt_usd": {"mean": 27.0, "q99": 683.0, "es99": 1339.7,
                                                                   "max": 1339.7, "p_positive": 0.02},
                                                  "liquidations_mean": 126.78} for p in pols}}},
        "onchain": {"dynamic": {"episode": "eth-2020-03", "steps": 6, "accounts": 8, "checks": 202, "mismatches": 0,
                                "liquidations": 2}},
        "verdict": {"crash_goal_met": True, "calm_month": "calm-2019-03", "calm_borrowing_power_gain": 0.03,
                    "calm_goal_met": False},
        "wall_seconds": {"total": 47.4},
    }


def test_stress_page(tmp_path):
    out = tmp_path / "stress"
    page = m.write_stress_page(_stress_summary(), out)
    dom = _chromium(page, tmp_path / "stress.png")
    assert len(_check_images(dom, out)) == 3
    for text in ("eth-2020-03", "luna-2022-05", "static", "dynamic", "1,234.50", "1,339.70", "+3.0 %", "NOT met"):
        assert text in dom, text
