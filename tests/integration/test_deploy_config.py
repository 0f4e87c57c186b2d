"""Deployment from a config file (`ape run deploy --config`): third-party tokens and feeds
listed instead of mocks, every parameter read back, a second run that deploys nothing, a
changed config refused without --force; a Sepolia dry run on an anvil with Sepolia's chain
id and code placed at the real feed and token addresses; and a table of bad configs, each
refused in one line naming the field.

The chain tests start their own anvil (test mnemonic) and run `ape run deploy` as a user
would; the third-party contracts are sent with web3 from another account.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from web3 import Web3

from ape_cli import ROOT, anvil_node, ape_run
from volmargin import params as P
from volmargin import spec as S
from volmargin.chain import config as C

SEPOLIA = ROOT / "deployments" / "configs" / "sepolia.yaml"
LOCAL = ROOT / "deployments" / "configs" / "local.yaml"


def _one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode != 0, r.stdout + r.stderr
    errors = [x for x in (r.stdout + r.stderr).splitlines() if x.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in r.stderr, r.stdout + r.stderr
    return errors[0]


def _abi(container: Any) -> list[dict[str, Any]]:
    return [a.model_dump(mode="json", by_alias=True, exclude_none=True) for a in container.contract_type.abi]


class Foreign:
    """Contracts sent with web3 from ``sender`` as a third party would (MockERC20, MockAggregator)."""

    def __init__(self, project: Any, port: int, sender_index: int) -> None:
        self.w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        self.sender = self.w3.eth.accounts[sender_index]
        self.project = project

    def deploy(self, name: str, *args: Any) -> Any:
        c = getattr(self.project, name).contract_type
        factory = self.w3.eth.contract(abi=_abi(getattr(self.project, name)), bytecode=c.deployment_bytecode.bytecode)
        receipt = self.w3.eth.wait_for_transaction_receipt(factory.constructor(*args).transact({"from": self.sender}))
        return self.w3.eth.contract(address=receipt.contractAddress, abi=_abi(getattr(self.project, name)))

    def send(self, fn: Any) -> None:
        self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": self.sender}))

    def token(self, symbol: str, decimals: int, holder: str) -> Any:
        """A token of which ``holder`` owns one whole unit (the vault's listing probe)."""
        tok = self.deploy("MockERC20", f"Third-party {symbol}", symbol, decimals)
        self.send(tok.functions.mint(holder, 10**decimals))
        return tok

    def feed(self, description: str, usd: float) -> Any:
        return self.deploy("MockAggregator", 8, description, int(usd * 10**8), 0)


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# ------------------------------------------------------------------ non-mock path on anvil


def test_deploy_listed_third_party_contracts_idempotent(project, tmp_path):
    with anvil_node() as port:
        net = f"ethereum:anvil:http://127.0.0.1:{port}"
        third = Foreign(project, port, sender_index=5)
        deployer, risk_admin, guardian = third.w3.eth.accounts[:3][0], third.w3.eth.accounts[2], third.w3.eth.accounts[3]
        weth, usdc = third.token("WETH", 18, deployer), third.token("USDC", 6, deployer)
        eth_usd, usdc_usd = third.feed("ETH / USD", 2_500.0), third.feed("USDC / USD", 1.0)
        cfg = {
            "network": "local", "chain_id": 31337,
            "vault": {"close_factor": 0.4, "liq_cap_usd": "5e6"},
            "assets": {
                "WETH": {"token": weth.address, "feed": eth_usd.address, "decimals": 18, "seed_vol": 0.7,
                         "risk": {"h_min": 0.12, "tau_fast": "6h", "ramp_up": "0.01 per hour", "depth_usd": "20e6"},
                         "rates": {"kink": 0.7}},
                "USDC": {"token": usdc.address, "feed": usdc_usd.address,  # decimals read from the token
                         "risk": {"heartbeat": "1d", "grace": "1h", "h_max": 0.1, "h_min": 0.01, "vol_max": 2.0}},
            },
            "roles": {"RISK_ADMIN_ROLE": [risk_admin], "GUARDIAN_ROLE": [guardian]},
        }
        path, out = _write(tmp_path / "third.yaml", cfg), tmp_path / "m.json"
        r = ape_run("deploy", "--network", net, "--config", str(path), "--out", str(out))
        assert r.returncode == 0, r.stdout + r.stderr
        wall = re.search(r"(\d+) transactions in ([0-9.]+) s", r.stdout)
        print(f"deploy from config on anvil: {wall.group(1)} transactions in {wall.group(2)} s")
        assert "read back: every parameter" in r.stdout
        m = json.loads(out.read_text())
        plan = C.load_config(path)
        assert (m["chain_id"], m["network"], m["deployer"]) == (31337, net, deployer)
        assert m["config_hash"] == plan.config_hash and m["config_file"] == str(path)
        assert m["compiler"] == {"vyper": "0.4.3"} and m["block"] >= 1 and re.fullmatch(r"[0-9a-f]{40}(-dirty)?",
                                                                                        m["git_commit"])
        assert not any(k.endswith((".token", ".feed", ".probe_mint")) for k in m["txs"])  # no mock deployed
        assert {"oracle", "vault", "WETH.list_oracle", "USDC.list_vault"} <= set(m["txs"])
        assert sum(k.startswith("role.") for k in m["txs"]) == 3  # risk admin on both, guardian on the vault
        rb = m["read_back"]
        assert rb["assets"]["WETH"]["token"] == weth.address and rb["assets"]["WETH"]["feed"] == eth_usd.address
        assert rb["assets"]["USDC"]["decimals"] == 6 and m["assets"]["USDC"]["mock_token"] is False
        assert rb["assets"]["WETH"]["oracle_params"]["h_min"] == 12 * 10**16
        assert rb["assets"]["WETH"]["oracle_params"]["tau_fast"] == 6 * 3600
        assert rb["assets"]["WETH"]["oracle_params"]["ramp_up"] == P.per_hour(0.01)
        assert rb["assets"]["WETH"]["oracle_params"]["depth"] == 20 * 10**6 * 10**18
        assert rb["assets"]["WETH"]["rate_params"]["kink"] == 7 * 10**17
        assert rb["assets"]["WETH"]["var_fast"] == P.annual_vol_to_var(0.7)
        assert rb["vault_params"]["close_factor"] == 4 * 10**17 and rb["vault_params"]["liq_cap"] == 5 * 10**24
        assert rb["roles"]["RISK_ADMIN_ROLE"][risk_admin] == {"oracle": True, "vault": True}
        assert rb["roles"]["GUARDIAN_ROLE"][guardian] == {"vault": True}
        for a in plan.assets:  # every entry of every vector, as sent
            got = rb["assets"][a.spec.symbol]
            assert got["oracle_params"] == S.ORACLE.as_dict(a.spec.oracle)
            assert got["rate_params"] == S.ASSET.as_dict(a.spec.rates)
        # the chain itself, not only the manifest
        oracle = third.w3.eth.contract(address=m["oracle"], abi=_abi(project.RiskOracle))
        assert oracle.functions.params(weth.address, S.ORACLE.index("h_min")).call() == 12 * 10**16

        # the same config again: nothing sent
        head = third.w3.eth.block_number
        r = ape_run("deploy", "--network", net, "--config", str(path), "--out", str(out))
        assert r.returncode == 0 and "nothing new deployed" in r.stdout, r.stdout + r.stderr
        assert "read back: every parameter" in r.stdout and third.w3.eth.block_number == head

        # a changed parameter: refused without --force, a new system with it
        cfg["assets"]["WETH"]["risk"]["h_min"] = 0.13
        _write(path, cfg)
        line = _one_error_line(ape_run("deploy", "--network", net, "--config", str(path), "--out", str(out)))
        assert "holds a deployment" in line and "made from another config" in line and "--force" in line
        assert third.w3.eth.block_number == head and json.loads(out.read_text())["vault"] == m["vault"]
        r = ape_run("deploy", "--network", net, "--config", str(path), "--out", str(out), "--force")
        assert r.returncode == 0, r.stdout + r.stderr
        m2 = json.loads(out.read_text())
        assert m2["vault"] != m["vault"] and m2["read_back"]["assets"]["WETH"]["oracle_params"]["h_min"] == 13 * 10**16


# ------------------------------------------------------------------ Sepolia dry run


def _place(w3: Web3, copies: dict[str, str]) -> None:
    """Give each target address (key) the code and every storage slot of the contract at the
    source address (value), as anvil's state dump holds them."""
    raw = w3.provider.make_request("anvil_dumpState", [])["result"]
    accounts = {k.lower(): v for k, v in json.loads(gzip.decompress(bytes.fromhex(raw[2:])))["accounts"].items()}
    for target, source in copies.items():
        state = accounts[source.lower()]
        w3.provider.make_request("anvil_setCode", [target, state["code"]])
        for slot, value in state["storage"].items():
            w3.provider.make_request("anvil_setStorageAt", [target, "0x" + int(slot, 16).to_bytes(32).hex(),
                                                             "0x" + int(value, 16).to_bytes(32).hex()])


def test_sepolia_dry_run_on_anvil(project, tmp_path):
    plan = C.load_config(SEPOLIA)
    with anvil_node("--chain-id", "11155111") as port:
        net = f"ethereum:anvil-sepolia:http://127.0.0.1:{port}"
        lab = Foreign(project, port, sender_index=0)  # TEST::0 deploys the stand-ins and holds one of each
        prices = {"USD": 1.0, "WETH": 2_500.0, "WBTC": 60_000.0}
        copies = {}
        for a in plan.assets:
            copies[a.token] = lab.token(a.spec.symbol, a.spec.decimals, lab.sender).address
            copies[a.feed] = lab.feed(a.spec.feed_description, prices[a.spec.symbol]).address
        _place(lab.w3, copies)
        out = tmp_path / "sepolia.json"
        r = ape_run("deploy", "--network", net, "--config", str(SEPOLIA), "--out", str(out))
        assert r.returncode == 0, r.stdout + r.stderr
        m = json.loads(out.read_text())
        assert m["chain_id"] == 11155111 and m["config_hash"] == plan.config_hash
        for a in plan.assets:
            got = m["read_back"]["assets"][a.spec.symbol]
            assert (got["token"], got["feed"]) == (a.token, a.feed)
            assert got["decimals"] == a.spec.decimals
            assert got["oracle_params"] == S.ORACLE.as_dict(a.spec.oracle)
            assert got["rate_params"] == S.ASSET.as_dict(a.spec.rates)
            assert m["assets"][a.spec.symbol]["mock_token"] is m["assets"][a.spec.symbol]["mock_feed"] is False
        assert m["read_back"]["vault_params"] == S.VAULT.as_dict(plan.vault)

        # a mock in the Sepolia config is refused before anything is sent
        cfg = yaml.safe_load(SEPOLIA.read_text())
        cfg["assets"]["WETH"]["feed"] = "mock"
        head = lab.w3.eth.block_number
        line = _one_error_line(ape_run("deploy", "--network", net, "--config", str(_write(tmp_path / "m.yaml", cfg)),
                                       "--out", str(tmp_path / "other.json")))
        assert "assets.WETH.feed: 'mock' is for local networks only (this config is for sepolia)" in line
        assert lab.w3.eth.block_number == head


# ------------------------------------------------------------------ config validation


def _base() -> dict[str, Any]:
    return yaml.safe_load(SEPOLIA.read_text())


def _edit(fn):  # type: ignore[no-untyped-def]
    def make() -> dict[str, Any]:
        d = _base()
        fn(d)
        return d
    return make


BAD = [
    (_edit(lambda d: d["assets"]["WETH"].update(colour="blue")), r"assets\.WETH\.colour: Extra inputs are not permitted"),
    (_edit(lambda d: d["assets"]["WETH"]["risk"].update(h_mni=0.1)), r"assets\.WETH\.risk\.h_mni: unknown RiskOracle parameter"),
    (_edit(lambda d: d["assets"]["WETH"]["risk"].update(kink=0.5)), r"assets\.WETH\.risk\.kink: .*it is a rates parameter"),
    (_edit(lambda d: d["assets"]["WETH"]["risk"].update(h_min=0.7)),
     r"assets\.WETH\.risk\.h_min: 0\.7 refused: oracle: bad params \(h_min must stay within 0 \.\. 0\.6\)"),
    (_edit(lambda d: d["assets"]["WETH"]["risk"].update(z_init=101)),
     r"assets\.WETH\.risk\.z_init: 101 refused: oracle: bad params \(z_init must stay within 0 \.\. 100\)"),
    (_edit(lambda d: d["assets"]["WETH"]["rates"].update(kink=1.0)), r"assets\.WETH\.rates\.kink: 1 refused: vault: bad params"),
    (_edit(lambda d: d["vault"].update(close_factor=0)), r"vault\.close_factor: 0 refused: vault: bad params"),
    (_edit(lambda d: d["assets"]["WETH"]["risk"].update(tau_fast="12 parsecs")), r"assets\.WETH\.risk\.tau_fast: .*not a duration"),
    (_edit(lambda d: d["assets"]["WETH"]["risk"].update(ramp_up=0.02)),
     r"assets\.WETH\.risk\.ramp_up: .*give a fraction with its time unit"),
    (_edit(lambda d: d["assets"]["WETH"]["risk"].update(heartbeat=1.5)), r"assets\.WETH\.risk\.heartbeat: "),
    (_edit(lambda d: d["assets"]["WETH"].update(token="0x1234")), r"assets\.WETH\.token: Value error, '0x1234' is neither an address \(0x and 40 hex digits\) nor 'mock'"),
    (_edit(lambda d: d["assets"]["WBTC"].update(token="FILL IN: a WBTC-like token")), r"assets\.WBTC\.token: Value error, 'FILL IN: a WBTC-like token' is neither an address"),
    (_edit(lambda d: d["assets"]["WETH"].update(token="mock")), r"assets\.WETH\.token: 'mock' is for local networks only"),
    (_edit(lambda d: d.update(seed_liquidity={"amounts": {"WETH": 1}})), r"seed_liquidity: seed liquidity is for local"),
    (_edit(lambda d: d.pop("chain_id")), r"chain_id: required for a live network \(sepolia\)"),
    (_edit(lambda d: d.update(network="local") or d["assets"]["WETH"].update(token="mock", decimals=None)),
     r"assets\.WETH\.decimals: required for a mock token"),
    (_edit(lambda d: d.update(roles={"KEEPER": ["0x" + "11" * 20]})), r"roles\.KEEPER: a role name ends in _ROLE"),
    (_edit(lambda d: d.update(roles={"GUARDIAN_ROLE": ["me"]})), r"roles\.GUARDIAN_ROLE\.0: "),
    # portfolio margin (docs/design.md §5.6): the oracle's bounds, checked before anything is sent
    (_edit(lambda d: d["portfolio"].update(floor=0)), r"portfolio\.floor: 0\.0 is not in \(0, 1\] \(oracle: bad params\)"),
    (_edit(lambda d: d["portfolio"].update(floor=1.5)), r"portfolio\.floor: 1\.5 is not in \(0, 1\] \(oracle: bad params\)"),
    (_edit(lambda d: d["portfolio"].update(correlations={"WETH-WBTC": [0.9, 0.5]})),
     r"portfolio\.correlations\.WETH-WBTC: rho_lo 0\.9 above rho_hi 0\.5 \(oracle: bad correlation\)"),
    (_edit(lambda d: d["portfolio"].update(correlations={"WETH-WBTC": [0.3, 1.5]})),
     r"portfolio\.correlations\.WETH-WBTC: 1\.5 is not a correlation in \[-1, 1\]"),
    (_edit(lambda d: d["portfolio"].update(correlations={"WETH-DOGE": [0.3, 0.9]})),
     r"portfolio\.correlations\.WETH-DOGE: DOGE not an asset of this config"),
    (_edit(lambda d: d["portfolio"].update(correlations={"WETH-WETH": [0.3, 0.9]})),
     r"portfolio\.correlations\.WETH-WETH: a pair is named SYMBOL-SYMBOL, two different assets"),
]


@pytest.mark.parametrize("make, match", BAD)
def test_bad_config_is_one_line_naming_the_field(make, match, tmp_path):
    path = _write(tmp_path / "bad.yaml", make())
    with pytest.raises(C.ConfigError) as exc:
        C.load_config(path)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(f"{path}: ")
    assert re.search(match, msg), msg


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: local\nassets: {WETH: [unclosed\n")
    with pytest.raises(C.ConfigError, match=r"bad\.yaml: not YAML at line \d+, column \d+"):
        C.load_config(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(C.ConfigError, match=r"a config is a mapping"):
        C.load_config(bad)
    with pytest.raises(C.ConfigError, match=r"nope\.yaml: no such config file"):
        C.load_config(tmp_path / "nope.yaml")
    # the same through the command: refused while the command line is parsed (exit 2), one line
    # naming the option and the file, nothing connected to a live network
    r = ape_run("deploy", "--config", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "x.json"))
    line = _one_error_line(r)
    assert r.returncode == 2 and "'--config'" in line and f"{tmp_path / 'nope.yaml'}' does not exist" in line, line
    assert not (tmp_path / "x.json").exists()


def test_local_config_is_the_params_defaults():
    """local.yaml writes out volmargin/params.py, and both are exact: every vector equals the
    defaults to the wei (params.py builds them with ``units.to_wad`` from the decimal form,
    as the config does; ``int(x * WAD)`` on floats used to leave 2.4e9 wei in ``depth``)."""
    plan, default = C.load_config(LOCAL), C.default_plan()
    assert [a.spec.symbol for a in plan.assets] == [t.symbol for t in P.TOKENS]
    assert (plan.max_rel_change, plan.min_change_delay, plan.seed_amounts) == (
        P.MAX_REL_CHANGE, P.MIN_CHANGE_DELAY, P.SEED_LIQUIDITY)
    for a, t in zip(plan.assets, P.TOKENS):
        assert (a.spec.decimals, a.spec.var_seed, a.spec.rates, a.spec.start_price_usd, a.spec.oracle) == (
            t.decimals, t.var_seed, t.rates, t.start_price_usd, t.oracle)
    assert plan.vault == P.VAULT and P.TOKENS[1].oracle.depth == 50_000_000 * 10**18
    assert (plan.portfolio_floor, dict(plan.correlations)) == (P.PORTFOLIO_FLOOR, P.CORRELATIONS)
    assert plan.correlated_pairs == (("WETH", "WBTC"),)
    assert plan.config_hash == default.config_hash  # the same deployment, so the same hash
