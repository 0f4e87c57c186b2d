"""Operating a deployment: the admin functions (checked before sending, refused with the
contract's reason), the feed helpers (no silent drops, no unrepresentable prices, ages and
breaker names), and the persistent node network reached from separate processes.

The library tests run on the embedded chain; the CLI tests start their own anvil on a
free port and drive it with `ape run` as a user would.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from ape_cli import anvil_node, ape_run
from volmargin import params as P
from volmargin.chain import admin as A
from volmargin.chain import feeds as F
from volmargin.chain.manifest import load
from volmargin.chain.node import NODE_NETWORK, is_dev_chain


@pytest.fixture
def dep(system, project, tmp_path):
    """The module's system as a manifest-loaded Deployment (what scripts and the console use)."""
    return load(project, system.write_json(tmp_path / "dep.json"))


def test_pause_roles_and_refusals(dep, admin, guardian, alice):
    assert A.pause(dep, ["borrow", "liquidate"], guardian) == (0, 6)
    assert A.mask_names(int(dep.vault.paused())) == "borrow, liquidate"
    with pytest.raises(A.AdminError, match="^access_control: account is missing role .*DEFAULT_ADMIN_ROLE on the vault"):
        A.unpause(dep, ["borrow"], guardian)  # a guardian cannot unpause
    with pytest.raises(A.AdminError, match="^access_control: account is missing role"):
        A.pause(dep, ["all"], alice)
    with pytest.raises(A.AdminError, match="unknown action 'deposit'.*cannot be paused"):
        A.pause(dep, ["deposit"], admin)
    assert A.unpause(dep, ["all"], admin) == (6, 0)


def test_set_param_through_the_steward(dep, chain, admin, risk_admin, alice):
    weth = str(dep.tokens["WETH"].address)
    plan = A.plan_param(chain, dep, "h_min", "0.2", risk_admin, "WETH")
    assert (plan.role, plan.current, plan.lo, plan.hi) == ("RISK_ADMIN_ROLE", 10**17, 75 * 10**15, 125 * 10**15)
    assert plan.refusal.startswith("steward: change too large")
    with pytest.raises(A.AdminError, match="^refused before sending: steward: change too large"):
        A.set_param(chain, dep, "h_min", "0.2", risk_admin, "WETH")
    plan, receipt = A.set_param(chain, dep, "h_min", "0.12", risk_admin, "WETH")
    assert int(dep.oracle.params(weth, plan.row.index)) == 12 * 10**16
    again = A.plan_param(chain, dep, "h_min", "0.13", risk_admin, "WETH")
    assert again.earliest == receipt.timestamp + P.MIN_CHANGE_DELAY
    assert again.refusal.startswith("steward: change too soon")
    # the admin (the timelock) is bounded by the spec only, and refused with the contract's reason
    with pytest.raises(A.AdminError, match=r"oracle: bad params \(h_min must stay within 0 .. 0.6\)"):
        A.set_param(chain, dep, "h_min", "0.9", admin, "WETH")
    assert A.plan_param(chain, dep, "close_factor", "0.55", alice).refusal.startswith("access_control")
    A.set_param(chain, dep, "close_factor", "0.55", admin)
    assert int(dep.vault.params(0)) == 55 * 10**16
    A.set_param(chain, dep, "kink", "0.85", admin, "USD")
    assert int(dep.vault.asset_params(dep.tokens["USD"].address, 3)) == 85 * 10**16
    # the thin-collateral levers: a supply cap in whole tokens, kappa_agg a WAD fraction
    A.set_param(chain, dep, "supply_cap", "1500", admin, "WETH")
    A.set_param(chain, dep, "kappa_agg", "0.05", admin, "WETH")
    assert [int(dep.vault.asset_params(weth, i)) for i in (6, 7)] == [1_500, 5 * 10**16]
    with pytest.raises(A.AdminError, match="supply_cap: 0.5 is not a non-negative multiple of one on-chain unit"):
        A.plan_param(chain, dep, "supply_cap", "0.5", admin, "WETH")
    for bad, msg in ((("bogus", "1", None), "unknown parameter 'bogus'"), (("kink", "0.5", None), "per asset"),
                     (("close_factor", "0.5", "WETH"), "global"), (("heartbeat", "1.5", "WETH"), "on-chain unit")):
        with pytest.raises(A.AdminError, match=msg):
            A.plan_param(chain, dep, bad[0], bad[1], admin, bad[2])


def test_portfolio_margin_through_the_steward(dep, chain, admin, risk_admin, alice):
    """set-correlation and set-portfolio-floor are checked as the oracle will check them, and
    refused with its reasons before anything is sent; the admin (the timelock) sets freely, a
    risk admin moves each offset and the floor by at most 25 % once a day and creates no offset."""
    o = dep.oracle
    weth, wbtc = (str(dep.tokens[s].address) for s in ("WETH", "WBTC"))
    lo, hi = P.CORRELATIONS[("WETH", "WBTC")]
    assert tuple(int(x) for x in o.correlation(weth, wbtc)) == (lo, hi)
    for args, reason in (((admin, "WETH", "WETH", "0", "0"), "oracle: same asset"),
                         ((admin, "WETH", "WBTC", "0.5", "0.4"), "oracle: bad correlation"),
                         ((alice, "WETH", "WBTC", "0.3", "0.98"), "access_control: account is missing role"),
                         ((risk_admin, "USD", "WETH", "-0.9", "1"), "steward: change too large"),
                         # the deployment set the pair: the delay runs from there
                         ((risk_admin, "WETH", "WBTC", "0.3", "0.98"), "steward: change too soon")):
        who, a, b, r_lo, r_hi = args
        plan = A.plan_correlation(chain, dep, a, b, r_lo, r_hi, who)
        assert plan.refusal is not None and plan.refusal.startswith(reason), plan.refusal
        with pytest.raises(A.AdminError, match="^refused before sending: " + reason):
            A.send_portfolio_change(dep, plan, who)
    for bad in ("1.5", "x", "0.1234567890123456789"):
        with pytest.raises(A.AdminError, match="^rho: "):
            A.plan_correlation(chain, dep, "WETH", "WBTC", bad, "1", admin)
    chain.pending_timestamp = chain.pending_timestamp + P.MIN_CHANGE_DELAY
    # offsets 1.34 -> 1.30 (-3 %) and 0.02 -> 0.015 (-25 %): within a risk admin's step
    A.send_portfolio_change(dep, A.plan_correlation(chain, dep, "WBTC", "WETH", "0.30", "0.985", risk_admin), risk_admin)
    assert tuple(int(x) for x in o.correlation(weth, wbtc)) == (3 * 10**17, 985 * 10**15)
    assert A.plan_correlation(chain, dep, "WETH", "WBTC", "0.3", "0.99", risk_admin).refusal.startswith(
        "steward: change too large")  # 0.015 -> 0.01 is -33 %
    # the floor: (0, 1], the steward on the floor itself
    assert A.plan_portfolio_floor(chain, dep, "0", admin).refusal.startswith("oracle: bad params")
    assert A.plan_portfolio_floor(chain, dep, "1.5", admin).refusal.startswith("oracle: bad params")
    with pytest.raises(A.AdminError, match="not a non-negative multiple"):
        A.plan_portfolio_floor(chain, dep, "-0.5", admin)
    assert A.plan_portfolio_floor(chain, dep, "0.3", risk_admin).refusal.startswith("steward: change too large")
    A.send_portfolio_change(dep, A.plan_portfolio_floor(chain, dep, "0.4", risk_admin), risk_admin)
    assert int(o.portfolio_floor()) == 4 * 10**17
    A.send_portfolio_change(dep, A.plan_portfolio_floor(chain, dep, "1", admin), admin)  # off
    assert int(o.portfolio_floor()) == 10**18


def test_roles_by_name(dep, admin, alice):
    assert set(A.contract_roles(dep.vault)) == {"DEFAULT_ADMIN_ROLE", "RISK_ADMIN_ROLE", "GUARDIAN_ROLE"}
    assert set(A.contract_roles(dep.oracle)) == {"DEFAULT_ADMIN_ROLE", "RISK_ADMIN_ROLE", "RISK_KEEPER_ROLE"}
    # the risk keeper's role exists on the oracle only: granted there by name
    assert A.change_role(dep, True, "RISK_KEEPER_ROLE", str(alice.address), admin) == [
        f"oracle: granted RISK_KEEPER_ROLE to {alice.address}"]
    assert dep.oracle.hasRole(dep.oracle.RISK_KEEPER_ROLE(), alice)
    lines = A.change_role(dep, True, "GUARDIAN_ROLE", str(alice.address), admin)
    assert lines == [f"vault: granted GUARDIAN_ROLE to {alice.address}"]  # the oracle has no guardian
    assert dep.vault.hasRole(dep.vault.GUARDIAN_ROLE(), alice)
    with pytest.raises(A.AdminError, match="^access_control: account is missing role"):
        A.change_role(dep, True, "RISK_ADMIN_ROLE", str(alice.address), alice)
    with pytest.raises(A.AdminError, match="unknown role 'KEEPER_ROLE'.*GUARDIAN_ROLE"):
        A.change_role(dep, True, "KEEPER_ROLE", str(alice.address), admin)
    A.change_role(dep, False, "GUARDIAN_ROLE", str(alice.address), admin, on="vault")
    assert not dep.vault.hasRole(dep.vault.GUARDIAN_ROLE(), alice)


def test_list_asset_with_probe(dep, project, chain, admin):
    token = project.MockERC20.deploy("Link", "LINK", 18, sender=admin)
    feed = project.MockAggregator.deploy(8, "LINK / USD", 15 * 10**8, 0, sender=admin)
    with pytest.raises(A.AdminError, match="the fee-on-transfer probe needs 10+ \\(one whole token\\)"):
        A.plan_listing(project, chain, dep, str(token.address), str(feed.address), admin)
    token.mint(admin, 10**18, sender=admin)
    with pytest.raises(A.AdminError, match="oracle: bad params"):
        A.plan_listing(project, chain, dep, str(token.address), str(feed.address), admin, {"h_min": "0.7"})
    plan = A.plan_listing(project, chain, dep, str(token.address), str(feed.address), admin,
                          {"heartbeat": "7200", "kink": "0.7"}, like="WETH")
    lines = A.list_asset(dep, plan, admin)
    assert any("approved the vault for the probe" in x for x in lines)
    assert int(dep.oracle.params(token.address, 0)) == 7200
    assert int(dep.vault.asset_params(token.address, 3)) == 7 * 10**17
    assert token.balanceOf(admin) == 10**18  # the probe came back


def test_feed_helpers(dep, chain, admin):
    with pytest.raises(ValueError, match="step 2: 1e-09 USD"):
        F.check_path([1.0, 1e-9])
    with pytest.raises(ValueError, match="step 1"):
        F.check_path([1e40])
    with pytest.raises(ValueError, match="step 1"):
        F.check_path([float("nan")])
    # two pushes within one second: the second moves the clock one second on and is accepted
    chain.pending_timestamp = chain.blocks.head.timestamp + 60
    F.push(chain, dep, "WETH", 2_100.0, admin)
    r = F.push(chain, dep, "WETH", 2_200.0, admin)
    assert dep.oracle.assets(dep.tokens["WETH"].address).price == 2_200 * 10**18
    assert int(r.events[0].updatedAt) > int(dep.feeds["WETH"].getRoundData(int(r.events[0].roundId) - 1)[3])
    # the clock moves past WBTC's heartbeat + grace: its age says STALE while its breaker still reads NORMAL
    at = chain.blocks.head.timestamp + 3 * 3600
    F.push(chain, dep, "WETH", 2_150.0, admin, at=at)
    ages = {a.symbol: a for a in F.ages(dep)}
    assert ages["WETH"].age_s <= 1 and ages["WBTC"].stale and ages["WBTC"].breaker == "NORMAL"
    assert ages["WBTC"].label().endswith("STALE")
    # keep-alive re-pushes the last answers of the feeds that outlived their heartbeat
    at = chain.blocks.head.timestamp + 1
    assert F.keep_alive(chain, dep, at, admin, skip=["WETH"]) == ["WBTC"]  # USD's heartbeat is a day
    ages = {a.symbol: a for a in F.ages(dep)}
    assert not ages["WBTC"].stale and ages["WBTC"].price_usd == 30_000.0 and ages["WBTC"].breaker == "NORMAL"


def test_test_accounts_only_on_development_chains(chain):
    assert is_dev_chain(chain.provider)

    class Net:
        is_dev = False

    class Remote:
        network, network_choice = Net(), "ethereum:sepolia:node"

        def make_request(self, method, params):
            return "Geth/v1.14.0"

    assert not is_dev_chain(Remote())
    with pytest.raises(A.AdminError, match="^test account TEST::0 refused on ethereum:sepolia:node"):
        A.resolve_account("TEST::0", Remote())
    with pytest.raises(A.AdminError, match="no test account 'TEST::x'"):
        A.resolve_account("TEST::x", chain.provider)


# ------------------------------------------------------------------ persistent node, separate processes


@pytest.fixture(scope="module")
def node():
    """An anvil on a free port, as `make node` starts it (test mnemonic, no base fee, gas price 0);
    yields its network choice."""
    with anvil_node("--block-base-fee-per-gas", "0", "--gas-price", "0") as port:
        yield f"{NODE_NETWORK}:http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def node_manifest(node, tmp_path_factory):
    """Deploy to the node in one `ape run` process; the manifest path."""
    path = tmp_path_factory.mktemp("node") / "dep.json"
    r = ape_run("deploy", "--network", node, "--out", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(path.read_text())["vault"] in r.stdout
    return path


def _one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode != 0
    errors = [x for x in (r.stdout + r.stderr).splitlines() if x.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in r.stderr, r.stdout + r.stderr
    return errors[0]


def test_node_is_reached_from_other_processes(node, node_manifest):
    admin = ("admin", "--network", node, "--deployment", str(node_manifest))
    r = ape_run(*admin, "--account", "TEST::0", "pause", "borrow")
    assert r.returncode == 0 and "paused: borrow (was: nothing)" in r.stdout, r.stdout + r.stderr
    r = ape_run(*admin, "--account", "TEST::3", "unpause", "borrow")
    assert "access_control: account is missing role" in _one_error_line(r)
    r = ape_run(*admin, "--account", "TEST::0", "set-param", "h_min", "0.9", "--asset", "WETH")
    assert "current 0.1, new 0.9" in r.stdout
    assert "refused before sending: oracle: bad params" in _one_error_line(r)


def test_feed_on_the_node(node, node_manifest):
    feed = ("feed", "--network", node, "--deployment", str(node_manifest), "--asset", "WETH", "--gbm")
    r = ape_run(*feed, "--sigma", "1e9", "--steps", "3")
    assert "leaves the representable range" in _one_error_line(r) and "nothing pushed" in r.stderr + r.stdout
    r = ape_run(*feed, "--steps", "2", "--dt", "3600")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [x for x in r.stdout.splitlines() if x.startswith("WETH")]
    # the round just pushed is read back at once: 0 s old, 1 s when the read falls in the next second
    assert len(lines) == 2 and all("breaker NORMAL" in x and re.search(r"ages: WETH [01] s", x) for x in lines)
    assert "kept alive: WBTC" in r.stdout and "STALE" not in r.stdout
