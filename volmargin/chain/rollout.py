"""Deployment from a config (``ape run deploy``): checks before sending, the one sequence of
deployment steps (``deploy.deploy_system``), role grants (``admin.change_role``), the
read-back of every parameter, and the manifest ``deployments/<chain_id>.json``.

A second run with the same config on the same chain deploys nothing: the manifest's
contracts exist on the chain and its ``config_hash`` matches (the parameters are read
back and compared again). A different config on a chain that holds a deployment, or a
manifest of another chain, is refused unless forced. Values are on-chain integers (WAD =
1e18, variances WAD/s, rates WAD/year, times s) unless said otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import params as P
from .. import spec as S
from . import admin as A
from .config import Plan
from .deploy import System, deploy_system
from .manifest import DEPLOYMENTS_DIR, Deployment, DeploymentError, DeploymentInfo, _field_errors, read_json
from .node import is_dev_chain


class RolloutError(ValueError):
    """A deployment refused before sending (or a manifest that may not be replaced), in one line."""


def default_manifest(chain_id: int) -> Path:
    """Where ``ape run deploy`` writes the manifest of chain ``chain_id``: ``deployments/<chain_id>.json``."""
    return DEPLOYMENTS_DIR / f"{chain_id}.json"


# ------------------------------------------------------------------ an existing manifest


@dataclass(frozen=True)
class Existing:
    """What a manifest already at the target path means for this run: ``action`` is
    ``deploy`` (no manifest, a stale one on a restarted development chain, or ``--force``),
    or ``current`` (this config's deployment is live: nothing to deploy); ``note`` says why."""

    action: str
    note: str | None = None


def _live(chain: Any, info: DeploymentInfo) -> bool:
    """Whether the manifest's oracle and vault have code on the connected chain."""
    return all(chain.provider.get_code(a) for a in (info.oracle, info.vault))


def check_existing(path: Path, chain: Any, plan: Plan, force: bool) -> Existing:
    """Decide what to do about the manifest at ``path`` (see ``Existing``).

    Raises ``RolloutError`` without ``force`` when the manifest cannot be read as one,
    belongs to another chain, describes contracts absent from a live network, or holds a
    live deployment of another config."""
    if not path.exists():
        return Existing("deploy")
    chain_id, where = int(chain.chain_id), chain.provider.network_choice
    try:
        info = read_json(path)
    except DeploymentError as exc:
        if force:
            return Existing("deploy", f"replacing {path} (--force): {exc}")
        raise RolloutError(f"{exc}; refusing to overwrite it (--force replaces it)") from None
    live = info.chain_id in (None, chain_id) and _live(chain, info)
    if live and info.config_hash == plan.config_hash:
        return Existing("current")
    if force:
        return Existing("deploy", f"replacing {path} (--force): it held vault {info.vault}")
    if live:
        raise RolloutError(
            f"{path}: chain {chain_id} holds a deployment (vault {info.vault}) made from another config "
            f"(config hash {str(info.config_hash)[:12]} != {plan.config_hash[:12]}); --force deploys a new system "
            "and replaces the manifest")
    if info.chain_id not in (None, chain_id):
        raise RolloutError(f"{path}: a manifest of chain {info.chain_id}, connected to chain {chain_id} ({where}); "
                           "--force replaces it (or give --out)")
    if is_dev_chain(chain.provider) and info.chain_id == chain_id:
        return Existing("deploy", f"{path}: its contracts are gone from {where} (the node was restarted): replacing it")
    raise RolloutError(f"{path}: no code at its vault {info.vault} on chain {chain_id} ({where}): a manifest of "
                       "another deployment; --force replaces it (or give --out)")


# ------------------------------------------------------------------ checks before sending


def preflight(project: Any, chain: Any, plan: Plan, deployer: Any) -> Plan:
    """Check ``plan`` against the connected chain before anything is sent: the chain id,
    a local config or mocks only on a development chain (``is_dev_chain``), role names the
    contracts define, and for each existing token and feed: code at the address, the
    token's decimals (equal to the file's when given; <= 24), the feed's decimals and a
    valid, fresh answer (``admin._check_feed``, the oracle's listing checks) and the
    deployer's whole token for the vault's fee-on-transfer probe.

    Returns the plan with the tokens' decimals read from the chain. Raises
    ``RolloutError`` naming each failed field (``assets.WETH.feed: ...``)."""
    provider, chain_id = chain.provider, int(chain.chain_id)
    where = f"chain {chain_id} ({provider.network_choice})"
    if plan.chain_id is not None and plan.chain_id != chain_id:
        raise RolloutError(f"chain_id: the config is for chain {plan.chain_id}, connected to {where}")
    if (plan.local or plan.has_mocks) and not is_dev_chain(provider):
        raise RolloutError(f"network: a '{plan.network}' config with mock tokens or feeds is for development chains; "
                           f"{where} is not one")
    errors: list[str] = []
    known = sorted(set(_role_names(project.RiskOracle)) | set(_role_names(project.MarginVault)))
    errors += [f"roles.{r}: unknown role; known: {', '.join(known)}" for r in plan.roles if r not in known]
    for a in plan.assets:
        plan = _check_asset(project, chain, plan, a.spec.symbol, deployer, errors)
    if errors:
        raise RolloutError("; ".join(errors))
    return plan


def _role_names(container: Any) -> list[str]:
    """Role names a contract type defines (views ``*_ROLE`` returning bytes32, as ``admin.contract_roles``)."""
    return [m.name for m in container.contract_type.view_methods
            if m.name.endswith("_ROLE") and not m.inputs and [o.type for o in m.outputs] == ["bytes32"]]


def _check_asset(project: Any, chain: Any, plan: Plan, symbol: str, deployer: Any, errors: list[str]) -> Plan:
    """The existing token and feed of ``symbol`` (see ``preflight``); the plan with its decimals."""
    a = next(x for x in plan.assets if x.spec.symbol == symbol)
    path, n = f"assets.{symbol}", len(errors)
    for kind, address in (("token", a.token), ("feed", a.feed)):
        if address is not None and not chain.provider.get_code(address):
            errors.append(f"{path}.{kind}: no contract at {address} on chain {chain.chain_id}")
    if len(errors) > n:
        return plan
    if a.feed is not None:
        try:
            A._check_feed(chain, project.MockAggregator.at(a.feed), a.spec.oracle)
        except A.AdminError as exc:
            errors.append(f"{path}.feed: {exc}")
    if a.token is None:
        return plan
    token = project.MockERC20.at(a.token)
    decimals = int(token.decimals())
    if a.decimals_given and decimals != a.spec.decimals:
        errors.append(f"{path}.decimals: the file says {a.spec.decimals}, the token at {a.token} has {decimals}")
    elif decimals > 24:
        errors.append(f"{path}.token: refused before sending: vault: decimals > 24 ({decimals})")
    elif int(token.balanceOf(deployer)) < 10**decimals:
        errors.append(f"{path}.token: the deployer {deployer.address} holds {int(token.balanceOf(deployer))} units; "
                      f"the vault's fee-on-transfer probe needs {10**decimals} (one whole token): get one first")
    return plan.with_decimals(symbol, decimals)


# ------------------------------------------------------------------ deploying


def deploy(project: Any, plan: Plan, deployer: Any, lender: Any | None) -> System:
    """Deploy ``plan`` through ``deploy_system`` (mocks only where the plan has no address)
    and grant its roles with ``admin.change_role``; every transaction hash is in
    ``System.txs`` (roles as ``role.<ROLE>.<address>.<contract>``)."""
    system = deploy_system(
        project, deployer, specs=tuple(a.spec for a in plan.assets), vault_params=plan.vault,
        lender=lender, seed_liquidity=plan.seed_amounts or None,
        addresses={a.spec.symbol: (a.token, a.feed) for a in plan.assets},
        max_rel_change=plan.max_rel_change, min_change_delay=plan.min_change_delay,
        portfolio_floor=plan.portfolio_floor, correlations=dict(plan.correlations),
    )
    dep = Deployment(system.oracle, system.vault, system.tokens, system.feeds,
                     DeploymentInfo.model_validate(system.to_json()), system.lens)
    for role, addresses in plan.roles.items():
        for address in addresses:
            receipts: dict[str, Any] = {}
            A.change_role(dep, True, role, address, deployer, receipts=receipts)
            for label, r in receipts.items():
                system.txs[f"role.{role}.{address}.{label}"] = str(r.txn_hash)
    return system


# ------------------------------------------------------------------ read-back


def read_back(dep: Deployment, roles: dict[str, tuple[str, ...]], deployer: str,
              pairs: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """Every parameter of ``dep`` as the chain holds it now: per asset the oracle's feed and
    vectors (``params``), the seed-era variance ``var_fast``, the vault's listing and rate
    vector (``asset_params``), the token's decimals; the vault vector; both contracts'
    steward limits; for the deployer (DEFAULT_ADMIN_ROLE) and each role of ``roles``
    whether each contract that defines it grants it; the oracle's portfolio floor and the
    correlation bounds of each pair of symbols in ``pairs``."""
    o, v = dep.oracle, dep.vault
    assets = {}
    for sym, tok in dep.tokens.items():
        a = str(tok.address)
        state = o.assets(a)
        assets[sym] = {
            "token": a, "feed": str(state.feed), "decimals": int(tok.decimals()),
            "vault_listed": int(v.asset_slot(a)) != 0, "var_fast": int(state.var_fast),
            "oracle_params": {r.name: int(o.params(a, r.index)) for r in S.ORACLE},
            "rate_params": {r.name: int(v.asset_params(a, r.index)) for r in S.ASSET},
        }
    wanted = {"DEFAULT_ADMIN_ROLE": (deployer,), **roles}
    held: dict[str, dict[str, dict[str, bool]]] = {}
    for label, c in (("oracle", o), ("vault", v)):
        defined = A.contract_roles(c)
        for role, addresses in wanted.items():
            if role in defined:
                for address in addresses:
                    held.setdefault(role, {}).setdefault(address, {})[label] = bool(c.hasRole(defined[role], address))
    return {
        "assets": assets,
        "vault_params": {r.name: int(v.params(r.index)) for r in S.VAULT},
        "max_rel_change": {"oracle": int(o.max_rel_change()), "vault": int(v.max_rel_change())},
        "min_change_delay": {"oracle": int(o.min_change_delay()), "vault": int(v.min_change_delay())},
        "roles": held,
        "portfolio": {"floor": int(o.portfolio_floor()),
                      "correlations": {f"{a}-{b}": [int(x) for x in o.correlation(str(dep.tokens[a].address),
                                                                                   str(dep.tokens[b].address))]
                                       for a, b in pairs if a in dep.tokens and b in dep.tokens}},
    }


def differences(plan: Plan, rb: dict[str, Any], feeds: dict[str, str], fresh: bool) -> list[str]:
    """The read-back ``rb`` against ``plan``, one line per difference named by the config's
    path, in human units (``assets.WETH.risk.h_min: file 0.1, chain 0.12``). ``feeds``:
    the feed address each asset must have (the file's, or the mock's); ``fresh``: the
    deployment was just made, so the variance still holds the seed (clamped to
    [var_min, var_max])."""
    out: list[str] = []
    for a in plan.assets:
        sym, s = a.spec.symbol, a.spec
        got = rb["assets"].get(sym)
        if got is None:
            out.append(f"assets.{sym}: not in the deployment")
            continue
        if a.token is not None and got["token"].lower() != a.token.lower():
            out.append(f"assets.{sym}.token: file {a.token}, manifest {got['token']}")
        if got["feed"].lower() != feeds[sym].lower():
            out.append(f"assets.{sym}.feed: expected {feeds[sym]}, the oracle reads {got['feed']}")
        if s.decimals >= 0 and got["decimals"] != s.decimals:  # < 0: not in the file, read from the token
            out.append(f"assets.{sym}.decimals: file {s.decimals}, chain {got['decimals']}")
        if not got["vault_listed"]:
            out.append(f"assets.{sym}: not listed in the vault")
        out += _vector_diff(S.ORACLE, f"assets.{sym}.risk", s.oracle, got["oracle_params"])
        out += _vector_diff(S.ASSET, f"assets.{sym}.rates", s.rates, got["rate_params"])
        if fresh:
            want = min(max(s.var_seed, s.oracle.var_min), s.oracle.var_max)
            if got["var_fast"] != want:
                out.append(f"assets.{sym}.seed_vol: variance {want} WAD/s expected, chain {got['var_fast']}")
    out += _vector_diff(S.VAULT, "vault", plan.vault, rb["vault_params"])
    for key, want in (("max_rel_change", plan.max_rel_change), ("min_change_delay", plan.min_change_delay)):
        out += [f"governance.{key}: file {want}, {c} {got}" for c, got in rb[key].items() if got != want]
    pf = rb.get("portfolio", {})
    if pf.get("floor", plan.portfolio_floor) != plan.portfolio_floor:
        out.append(f"portfolio.floor: file {plan.portfolio_floor / P.WAD:g}, chain {pf['floor'] / P.WAD:g}")
    for (a, b), want in plan.correlations:
        got = pf.get("correlations", {}).get(f"{a}-{b}")
        if got is not None and tuple(got) != tuple(want):
            out.append(f"portfolio.correlations.{a}-{b}: file {[w / P.WAD for w in want]}, chain {[g / P.WAD for g in got]}")
    for role, holders in rb["roles"].items():
        for address, on in holders.items():
            out += [f"roles.{role}: {address} does not hold it on the {c}" for c, ok in on.items() if not ok]
    return out


def _vector_diff(table: S.Table, section: str, want: Any, got: dict[str, int]) -> list[str]:
    return [f"{section}.{r.name}: file {A.to_human(r, want[r.index])}, chain {A.to_human(r, got[r.name])}"
            for r in table if got[r.name] != want[r.index]]


# ------------------------------------------------------------------ the manifest


def _compiler(project: Any) -> dict[str, str]:
    """``{"vyper": version}`` of the project's compiled contracts (else the installed vyper)."""
    try:
        for c in project.manifest.compilers or []:
            if c.name == "vyper":
                return {"vyper": str(c.version)}
    except Exception:  # an Ape project without a manifest: fall back to the package version
        pass
    try:
        return {"vyper": metadata.version("vyper")}
    except metadata.PackageNotFoundError:
        return {}


def _git_commit(root: Path) -> str | None:
    """HEAD of the repository at ``root`` (``-dirty`` when its tree has changes); None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def manifest(project: Any, chain: Any, system: System, plan: Plan, rb: dict[str, Any]) -> DeploymentInfo:
    """The manifest of a deployment just made: ``System.to_json`` plus chain id, network,
    deployer, first block, transaction hashes, compiler, git commit, config and read-back.
    ``RolloutError`` if it does not follow ``DeploymentInfo`` (a bug, named by field)."""
    first = system.txs.get("oracle")
    block = int(chain.provider.get_receipt(first).block_number) if first else None
    data = {
        **system.to_json(),
        "chain_id": int(chain.chain_id), "network": chain.provider.network_choice,
        "deployer": str(system.admin.address), "block": block, "txs": dict(system.txs),
        "compiler": _compiler(project), "git_commit": _git_commit(Path(project.path)),
        "config_file": str(plan.source) if plan.source else None, "config_sha256": plan.source_sha256,
        "config_hash": plan.config_hash, "read_back": rb,
        "deployed_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    try:
        return DeploymentInfo.model_validate(data)
    except ValidationError as exc:
        raise RolloutError(f"manifest: {_field_errors(exc)}") from None


def write_manifest(info: DeploymentInfo, path: Path) -> Path:
    """Write ``info`` as JSON to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info.model_dump(exclude_none=False), indent=2))
    return path
