"""The operator walkthrough of the README ("Run it on a persistent local chain"), end to end,
as a user runs it: each step is a separate process against one persistent anvil.

1. ``make node`` (NODE_PORT: a free port; NODE_DIR: the test's folder, so that a node the user
   runs is never touched) starts anvil;
2. a third party (TEST::6) deploys its own tokens and Chainlink-style feeds (MockAggregator
   instances it administers: no mock of the deployment) and hands out tokens, as a faucet would;
3. a config names those addresses; ``ape run deploy --config`` deploys the system;
4. ``ape console`` (commands on stdin, as in the README) supplies lender liquidity and opens
   three WETH-backed USD loans;
5. ``ape run feed --price`` crashes WETH by 40 % (the third party's reporter pushes);
6. ``ape run keeper --once``, at most twice: every account the chain found liquidatable
   before the keeper is liquidated (or settled) within those rounds;
7. ``ape run monitor --html`` writes the risk page; headless Chromium renders it (screenshot,
   DOM with the liquidation rows and WETH's price and breaker, no console message);
8. ``make node-stop``.

Each step's wall time is printed (``pytest -s``) and written to ``timings.json`` in the test's
folder. Nothing is written under the repository's ``deployments/`` (``--out``/``--deployment``
and ``VOLMARGIN_DEPLOYMENT`` point at the test's folder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from test_deploy_config import Foreign, _abi, _one_error_line
from test_monitor_page import _check_images, _chromium

from ape_cli import ROOT, ape_run, free_port

E6, E18 = 10**6, 10**18
THIRD_PARTY, DEPLOYER, LENDER, KEEPER = 6, 0, 1, 2
#: test account -> USD borrowed against 10 WETH at 2,000 USD (init limit about 16,230 USD)
LOANS = {5: 15_000, 7: 14_000, 8: 9_000}
CRASH_USD = 1_200.0  # WETH 2,000 -> 1,200: the 15,000 and 14,000 loans fall below maintenance
PRICES = {"USD": 1.0, "WETH": 2_000.0, "WBTC": 30_000.0}


class Clock:
    """Wall time of each step, seconds."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.steps[name] = round(time.perf_counter() - t0, 2)
            print(f"walkthrough step {name}: {self.steps[name]:.1f} s", flush=True)


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in the repository. ``-o node_modules/.bin/anvil``: never reinstall anvil
    here (`make test` has set it up); the node recipe itself is the user's. Run as from a shell:
    without the flags of a `make test` this may run under."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", "-o", "node_modules/.bin/anvil", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def _config(third: Foreign, path: Path) -> tuple[Path, dict[str, Any]]:
    """deployments/configs/local.yaml with the third party's tokens and feeds instead of mocks
    (no seed liquidity: that mints mock tokens). Returns the path and the contracts."""
    cfg = yaml.safe_load((ROOT / "deployments" / "configs" / "local.yaml").read_text())
    deployer = third.w3.eth.accounts[DEPLOYER]
    made: dict[str, Any] = {}
    for sym, spec in cfg["assets"].items():
        tok = third.token(sym, spec["decimals"], deployer)  # the deployer's whole token: the listing probe
        feed = third.feed(spec["feed_description"], PRICES[sym])
        for k in ("name", "feed_description", "start_price"):
            spec.pop(k)
        spec.update(token=tok.address, feed=feed.address)
        made[sym], made[f"{sym}_feed"] = tok, feed
    cfg.pop("seed_liquidity")
    cfg["chain_id"] = 31337
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path, made


def _faucet(third: Foreign, made: dict[str, Any]) -> None:
    """The token issuer hands out tokens: lender USD, borrowers WETH, the keeper USD to repay with."""
    acct = third.w3.eth.accounts
    third.send(made["USD"].functions.mint(acct[LENDER], 5_000_000 * E6))
    third.send(made["USD"].functions.mint(acct[KEEPER], 1_000_000 * E6))
    for i in LOANS:
        third.send(made["WETH"].functions.mint(acct[i], 10 * E18))


CONSOLE = """\
lender = accounts.test_accounts[1]
usd.approve(vault, 5_000_000 * 10**6, sender=lender)
vault.deposit(usd, 5_000_000 * 10**6, sender=lender)
{loans}
import json
print("HEALTH " + json.dumps({{a: health(a) for a in {accounts}}}))
"""
LOAN = """\
who = accounts.test_accounts[{i}]
weth.approve(vault, 10 * 10**18, sender=who)
vault.deposit(weth, 10 * 10**18, sender=who)
vault.borrow(usd, {usd} * 10**6, sender=who)
"""


def _console(net: str, manifest: Path, script: str) -> str:
    """``ape console --network NET`` with ``script`` on stdin (the manifest named by
    VOLMARGIN_DEPLOYMENT); its output."""
    ape_bin = Path(sys.executable).parent / "ape"
    env = {**os.environ, "VOLMARGIN_DEPLOYMENT": str(manifest)}
    r = subprocess.run([str(ape_bin), "console", "--network", net], input=script, cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=180)
    out = r.stdout + r.stderr
    assert f"bound the deployment of {manifest}" in out, out
    assert "ERROR" not in out and "Traceback" not in out, out
    return out


def _liquidatable(w3: Any, vault: Any) -> set[str]:
    """Every test account whose maintenance assets are below its maintenance liabilities."""
    out = set()
    for a in w3.eth.accounts:
        maint_assets, maint_liabilities, *_ = vault.functions.health(a).call()
        if maint_assets < maint_liabilities:
            out.add(a)
    return out


def _keeper_lines(r: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert r.returncode == 0, r.stdout + r.stderr
    return [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]


def test_node_networks_pad_gas_estimates(networks):
    """ape-config.yaml: transactions on the node networks get 20 % over Ape's estimate (an
    exact estimate ran out of gas in the console when the block came a few seconds later),
    and wait for no confirmation (an automining anvil mines no further block)."""
    for name in ("anvil", "anvil-sepolia"):
        net = networks.ethereum.get_network(name)
        assert (net.auto_gas_multiplier, net.required_confirmations) == (1.2, 0), name


def test_operator_walkthrough(project, tmp_path):
    clock, port, node_dir = Clock(), free_port(), tmp_path / "node"
    net = f"ethereum:anvil:http://127.0.0.1:{port}"
    manifest, html = tmp_path / "deployment.json", tmp_path / "monitor"
    with clock.step("make node"):
        r = _make("node", f"NODE_PORT={port}", f"NODE_DIR={node_dir}")
    assert r.returncode == 0 and f"node up: {net}" in r.stdout, r.stdout + r.stderr
    try:
        with clock.step("third-party tokens and feeds"):
            third = Foreign(project, port, sender_index=THIRD_PARTY)
            config, made = _config(third, tmp_path / "foreign.yaml")
            _faucet(third, made)
        with clock.step("ape run deploy --config"):
            r = ape_run("deploy", "--network", net, "--config", str(config), "--out", str(manifest), timeout=240)
        assert r.returncode == 0 and "read back: every parameter" in r.stdout, r.stdout + r.stderr
        m = json.loads(manifest.read_text())
        assert not any(k.endswith((".token", ".feed")) for k in m["txs"])  # nothing mocked: the third party's
        assert {s: (a["token"], a["feed"]) for s, a in m["assets"].items()} == {
            s: (made[s].address, made[f"{s}_feed"].address) for s in PRICES}
        vault = third.w3.eth.contract(address=m["vault"], abi=_abi(project.MarginVault))

        with clock.step("ape console: open positions"):
            loans = "".join(LOAN.format(i=i, usd=usd) for i, usd in LOANS.items())
            borrowers = [third.w3.eth.accounts[i] for i in LOANS]
            out = _console(net, manifest, CONSOLE.format(loans=loans, accounts=borrowers))
        health = json.loads(out.split("HEALTH ", 1)[1].splitlines()[0])
        assert all(0 < h["maint_liabilities_usd"] < h["init_assets_usd"] for h in health.values()), health
        assert _liquidatable(third.w3, vault) == set()

        feed = ("feed", "--network", net, "--deployment", str(manifest), "--asset", "WETH", "--price", str(CRASH_USD))
        # the feeds are the third party's: TEST::0 (the default reporter) may not push, said in one line
        line = _one_error_line(ape_run(*feed))
        assert "lacks REPORTER_ROLE" in line and "nothing pushed" in line
        with clock.step("ape run feed --price (crash)"):
            r = ape_run(*feed, "--reporter", f"TEST::{THIRD_PARTY}")
        assert r.returncode == 0, r.stdout + r.stderr
        (pushed,) = [x for x in r.stdout.splitlines() if x.startswith("WETH")]
        assert f"{CRASH_USD:,.4f} USD" in pushed and "breaker REDUCE_ONLY" in pushed, r.stdout

        before = _liquidatable(third.w3, vault)
        assert before == {third.w3.eth.accounts[i] for i in (5, 7)}  # the 9,000 USD loan stays healthy
        done: set[str] = set()
        for n in (1, 2):
            with clock.step(f"ape run keeper --once ({n})"):
                r = ape_run("keeper", "--network", net, "--deployment", str(manifest), "--once", timeout=240)
            lines = _keeper_lines(r)
            assert lines[-1]["summary"]["actions"]["error"] == 0, r.stdout
            done |= {x["account"] for x in lines if x.get("action") in ("liquidate", "settle")}
            if not before & _liquidatable(third.w3, vault):
                break
        assert not before & _liquidatable(third.w3, vault), f"still liquidatable after {n} keeper rounds"
        assert before <= done
        liquidations = [x for x in lines if x.get("action") == "liquidate"]

        with clock.step("ape run monitor --html"):
            r = ape_run("monitor", "--network", net, "--deployment", str(manifest), "--html", str(html))
        assert r.returncode == 0 and "(0 liquidatable)" in r.stdout, r.stdout + r.stderr
        with clock.step("chromium: screenshot and DOM"):
            dom = _chromium(html / "index.html", tmp_path / "monitor.png")
        _check_images(dom, html)
        for acct in before:  # the liquidation rows: each account liquidated, with its transaction
            assert f'title="{acct}"' in dom
        for x in liquidations:
            assert f'title="{x["tx"]}"' in dom
        weth_row = dom[dom.index(f'title="{made["WETH"].address}"'):]
        weth_row = weth_row[:weth_row.index("</tr>")]
        assert "1,200.00" in weth_row and "REDUCE_ONLY" in weth_row, weth_row
    finally:
        with clock.step("make node-stop"):
            r = _make("node-stop", f"NODE_DIR={node_dir}")
        (tmp_path / "timings.json").write_text(json.dumps(clock.steps, indent=2))
        print(f"walkthrough timings (s): {json.dumps(clock.steps)}; total {sum(clock.steps.values()):.1f} s")
    assert "node stopped" in r.stdout, r.stdout + r.stderr
