"""The keeper against a live chain (anvil: ``--network ethereum:local:foundry``).

A deployment is written to a manifest, several leveraged accounts are opened, WETH
crashes in the feed (nobody pokes): one keeper round must poke every asset, liquidate
every liquidatable account (within two rounds), settle the bad debt of the deepest one
in the same transaction, refuse an unprofitable liquidation with its reason, and go on
past an account whose liquidation reverts. The same keeper also runs as
``ape run keeper --once`` against the same node.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from pathlib import Path

from ape_cli import ROOT, ape_run
from volmargin.chain.deploy import fund
from volmargin.chain.keeper import Keeper, KeeperConfig, RoundStats, run
from volmargin.chain.lens import AccountRow, read_accounts
from volmargin.reference import Health
from volmargin.chain.manifest import load

E6, E8, E18 = 10**6, 10**8, 10**18
#: (WETH collateral, debt symbol, debt amount): the crash to 1,400 USD makes all but the
#: last liquidatable; the first owes more than its collateral is worth after the crash.
POSITIONS = [
    (10 * E18, "USD", 15_000 * E6),
    (10 * E18, "USD", 12_500 * E6),
    (10 * E18, "USD", 12_000 * E6),
    (12 * E18, "USD", 15_000 * E6),
    (10 * E18, "WBTC", 42 * E8 // 100),  # WBTC debt: the keeper holds no WBTC, its liquidation reverts
    (10 * E18, "USD", 3_000 * E6),  # stays healthy
]


@pytest.fixture
def book(system, accounts, project, chain, tmp_path):
    """The positions opened (reverting one first in address order), the keeper's account
    (TEST::7, USD only), the manifest path, and the crash pushed into the feeds."""
    owners = sorted(accounts[10:10 + len(POSITIONS)], key=lambda a: str(a.address).lower())
    wbtc_pos = POSITIONS[4]
    positions = [wbtc_pos] + [p for p in POSITIONS if p is not wbtc_pos]  # the lowest address reverts
    vault = system.vault
    for who, (col, sym, debt) in zip(owners, positions):
        fund(system, who, "WETH", col)
        vault.deposit(system.tokens["WETH"], col, sender=who)
        vault.borrow(system.tokens[sym], debt, sender=who)
    keeper_acct = accounts[7]
    fund(system, keeper_acct, "USD", 10_000_000 * E6)
    path = system.write_json(tmp_path / "deployment.json")
    chain.pending_timestamp += 3_600
    for sym, price in (("USD", 1.0), ("WETH", 1_400.0), ("WBTC", 30_000.0)):
        system.push_price(sym, price)
    return {"owners": [str(o.address) for o in owners], "reverting": str(owners[0].address),
            "healthy": str(owners[-1].address), "keeper": keeper_acct, "path": path}


def _liquidatable(system, accounts_):
    _, rows = read_accounts(system.lens, accounts_)
    return {r.account for r in rows if r.health.maint_assets < r.health.maint_liabilities}


def test_keeper_round_liquidates_skips_and_survives(system, project, chain, book, monkeypatch):
    dep = load(project, book["path"])
    lines: list[dict] = []

    # a huge slippage allowance: every liquidation is refused as unprofitable, with its reason
    greedy = Keeper(dep, book["keeper"], KeeperConfig(slippage=0.5), lines.append)
    stats = greedy.run_round()
    (poke,) = [r for r in lines if r.get("action") == "poke"]
    assert sorted(poke["assets"]) == ["USD", "WBTC", "WETH"] and poke["gas_used"] > 0
    skips = {r["account"]: r for r in lines if r.get("action") == "skip"}
    errors = {r["account"]: r for r in lines if r.get("action") == "error"}
    assert not [r for r in lines if r.get("action") == "liquidate"]
    assert all(r["reason"].startswith("unprofitable: gain") and r["amounts"]["net_usd"] < 0 for r in skips.values())
    assert set(errors) == {book["reverting"]} and "erc20" in errors[book["reverting"]]["reason"]
    owners = book["owners"]
    liquidatable = _liquidatable(system, owners)
    assert liquidatable == set(owners) - {book["healthy"]}
    assert set(skips) == liquidatable - {book["reverting"]}
    assert stats.accounts == len(owners) + 1  # and the lender

    # a sane allowance: every liquidatable account is liquidated within two rounds
    lines.clear()
    keeper = Keeper(dep, book["keeper"], KeeperConfig(slippage=0.01, gas_price_wei=2 * 10**9), lines.append)
    t0 = time.perf_counter()
    first = keeper.run_round()
    round_s = time.perf_counter() - t0
    liquidated = {r["account"] for r in lines if r.get("action") == "liquidate"}
    # the reverting account came first in the round and did not stop it
    order = [(r["action"], r["account"]) for r in lines if r["account"]]
    assert order[0] == ("error", book["reverting"]) and len(liquidated) >= 3
    summary = run(keeper, once=True, handle_signals=False)
    liquidated |= {r["account"] for r in lines if r.get("action") == "liquidate"}
    assert liquidated == liquidatable - {book["reverting"]}
    assert summary["rounds"] == 1 and lines[-1]["summary"]["rounds"] == 1
    for r in lines:
        if r.get("action") == "liquidate":
            assert r["assets"] == ["USD", "WETH"] and r["gas_used"] > 0 and r["amounts"]["repaid"] > 0
            gas = r["amounts"]["gas_estimate"] * 2e-9 * 1_400.0  # 2 gwei at the oracle's WETH price
            assert r["amounts"]["gas_usd"] == pytest.approx(gas) and r["amounts"]["net_usd"] > 0
    # the deepest account lost all its collateral and its remaining debt was settled atomically
    deep = [r for r in lines if r.get("action") == "liquidate" and r["amounts"]["settled"]]
    assert len(deep) == 1 and set(deep[0]["amounts"]["settled"]) == {"USD"}
    assert int(system.vault.position_mask(deep[0]["account"])) == 0
    _, rows = read_accounts(system.lens, owners)
    for row in rows:
        assert row.account == book["reverting"] or row.health.maint_assets >= row.health.maint_liabilities
    print(f"\nkeeper round: {first.accounts} accounts, {first.actions['liquidate']} liquidations, {round_s:.2f} s; "
          f"next round ({summary['actions']['liquidate']} liquidations): {summary['round_s_last']:.2f} s")

    # bad debt is settled by liquidation itself; a settlement that reverts is one error record
    stats = RoundStats(keeper.block)
    fake = AccountRow(book["healthy"], (-1,) + (0,) * 7, Health(0, 1, 0, 1, False))
    keeper.act(fake, [], [], stats)
    assert lines[-1]["action"] == "error" and lines[-1]["reason"] == "vault: not bad debt"

    # a non-positive answer is poked once (poking it again would re-trip the breaker); the
    # invalid price then stops the reads, which is an error record per round, not an exit
    lines.clear()
    chain.pending_timestamp += 60
    dep.feeds["WBTC"].push(0, 0, sender=system.admin)
    for _ in range(2):
        keeper.run_round()
    assert [r["assets"] for r in lines if r.get("action") == "poke"] == [["WBTC"]]
    assert system.oracle.breaker(system.tokens["WBTC"]) == 2  # REDUCE_ONLY
    reads = [r["reason"] for r in lines if r.get("action") == "error"]
    assert reads == ["read: oracle: invalid price"] * 2
    chain.pending_timestamp += 60
    dep.feeds["WBTC"].push(3_000_000_000_000, 0, sender=system.admin)  # 30,000 USD
    keeper.run_round()
    assert [r["assets"] for r in lines if r.get("action") == "poke"] == [["WBTC"], ["WBTC"]]

    if chain.provider.name != "foundry":
        return  # the processes below need a node they can share (anvil)
    # the same keeper as a process, against the same node: nothing left but the reverting account
    monkeypatch.setenv("APE_FOUNDRY_HOST", chain.provider.uri)
    r = ape_run("keeper", "--once", "--network", "ethereum:local:foundry", "--account", "TEST::7",
                "--deployment", str(book["path"]), "--log", str(book["path"].parent / "keeper.jsonl"), timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    out = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert [(x["action"], x["account"]) for x in out[:-1]] == [("error", book["reverting"])]
    sub = out[-1]["summary"]
    assert sub["actions"]["error"] == 1 and sub["accounts"] == len(owners)  # the lender in, the closed one out
    logged = (book["path"].parent / "keeper.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in logged] == out
    assert r.stdout.splitlines()[0].startswith("{"), r.stdout[:500]  # stdout is JSON lines only

    # a long-running keeper stops on SIGTERM after its round, with a summary line
    ape_bin = str(Path(sys.executable).parent / "ape")
    proc = subprocess.Popen([ape_bin, "run", "keeper", "--interval", "0.5", "--network", "ethereum:local:foundry",
                             "--account", "TEST::7", "--deployment", str(book["path"])], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = json.loads(proc.stdout.readline())  # the reverting account, every round
        assert first["action"] == "error"
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-2000:]
    last = json.loads(rest.splitlines()[-1])["summary"]
    assert last["stopped_by"] == "SIGTERM" and last["rounds"] >= 1 and last["actions"]["error"] == last["rounds"]


def test_keeper_survives_rpc_errors(system, project, accounts, tmp_path, monkeypatch):
    import volmargin.chain.keeper as K

    dep = load(project, system.write_json(tmp_path / "deployment.json"))
    lines: list[dict] = []
    waits: list[float] = []
    cfg = KeeperConfig(retries=2, backoff_s=0.05, backoff_cap_s=0.075)
    keeper = Keeper(dep, accounts[7], cfg, lines.append, sleep=waits.append)
    real, fails = K.read_accounts, [2]

    def flaky(vault, accounts_):
        if fails[0]:
            fails[0] -= 1
            raise ConnectionError("connection reset by peer")
        return real(vault, accounts_)

    monkeypatch.setattr(K, "read_accounts", flaky)
    stats = keeper.run_round()  # two failures, two retries: the round goes through
    assert (stats.failed_stages, stats.accounts, waits, lines) == (0, 1, [0.05, 0.075], [])  # the lender
    fails[0] = 3  # one more than the retries: one error record, the round still ends
    stats = keeper.run_round()
    assert stats.failed_stages == 1
    assert [r["reason"] for r in lines] == ["read: ConnectionError: connection reset by peer"]
    # the loop backs off after a failed round and goes on
    lines.clear()
    fails[0] = 3
    t0 = time.perf_counter()
    summary = run(keeper, interval=0.01, max_rounds=2, handle_signals=False)
    assert summary["rounds"] == 2 and summary["actions"]["error"] == 1 and time.perf_counter() - t0 >= 0.05
    assert [r.get("action") for r in lines] == ["error", None]  # the round's error, then the summary


@pytest.mark.parametrize("args, hint", [
    (["--slippage", "-1"], "--slippage"),
    (["--deployment", "/nonexistent/deployment.json"], "--deployment"),
    (["--account", "TEST::999"], "--account"),
])
def test_cli_rejects_bad_options(args, hint, tmp_path):
    r = ape_run("keeper", "--once", "--network", "ethereum:local:test", *args, timeout=120)
    assert r.returncode == 2
    assert hint in r.stderr and "Traceback" not in r.stderr
