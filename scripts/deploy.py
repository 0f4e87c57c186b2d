"""ape run deploy: deploy volmargin from a config file (or the defaults) and write its manifest.

With ``--config deployments/configs/NAME.yaml`` (one file per network: assets with token
and feed addresses or ``mock``, parameters by name in human units, roles, seed liquidity;
see volmargin/chain/config.py) it checks everything before sending (bounds with the
contract's reason, feeds fresh, tokens' decimals, the probe's whole token, mocks and
test accounts only on a development chain), deploys the oracle and the vault, lists the
assets, grants the roles, reads every parameter back and compares it with the file
(exit 1 naming each difference), and writes deployments/<chain_id>.json.

Without ``--config``: the default mock deployment of volmargin/params.py (USD 6
decimals, WETH 18, WBTC 8, MockAggregator feeds with 8 decimals) with lender liquidity
(50M USD, 20,000 WETH, 1,000 WBTC) unless --no-liquidity.

A second run with the same config on the same chain deploys nothing and says so; a
different config, or a manifest of another deployment at the target path, is refused
unless --force. Every bad input: one line and a non-zero exit.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from volmargin.chain.manifest import LATEST
from volmargin.cli import ConnectedCommand, InFile, OutFile, network_option


def _fail(msg: str) -> None:
    raise click.ClickException(msg)


@click.command(cls=ConnectedCommand, short_help="Deploy oracle, vault and assets from a config")
@network_option()
@click.option("--config", "config_path", type=InFile(), default=None,
              show_default="the mock deployment of volmargin/params.py",
              help="Deployment config (no unit; YAML, deployments/configs/*.yaml; parameters in the units of "
                   "volmargin/spec.py).")
@click.option("--account", "account_alias", default="TEST::0", show_default=True,
              help="Deployer, gets DEFAULT_ADMIN_ROLE (no unit): an `ape accounts` alias, or TEST::<index> on a "
                   "development chain.")
@click.option("--lender", "lender_alias", default=None, show_default="TEST::1",
              help="Without --config: the account that seeds lender liquidity (no unit). With --config the file's "
                   "seed_liquidity.lender is used.")
@click.option("--no-liquidity", is_flag=True, help="Without --config: do not seed lender liquidity.")
@click.option("--force", is_flag=True,
              help="Deploy even though the manifest at the target path holds a deployment of another config, or "
                   "of another chain, and replace it.")
@click.option("--out", "out", type=OutFile(), default=None,
              show_default="deployments/<chain id>.json, also copied to deployments/latest.json",
              help="Manifest path (no unit).")
def cli(network, config_path: Path | None, account_alias: str, lender_alias: str | None,  # type: ignore[no-untyped-def]
        no_liquidity: bool, force: bool, out: Path | None) -> None:
    """Deploy volmargin from --config (or the params.py defaults) and write deployments/<chain id>.json."""
    from ape import chain, project
    from ape.logging import logger

    from volmargin.chain import config as C
    from volmargin.chain import rollout as R
    from volmargin.chain.admin import AdminError, resolve_account
    from volmargin.chain.deploy import skip_debug_log_tracing
    from volmargin.chain.node import load_deployment

    logger.set_level("WARNING")
    skip_debug_log_tracing()
    if config_path is not None and (lender_alias is not None or no_liquidity):
        _fail("--lender and --no-liquidity are for the default deployment: set seed_liquidity in the config file")
    try:
        plan = (C.load_config(config_path) if config_path is not None
                else C.default_plan(lender_alias or "TEST::1", {} if no_liquidity else None))
        deployer = resolve_account(account_alias, chain.provider)
        lender = resolve_account(plan.seed_lender, chain.provider) if plan.seed_amounts else None
        path = out or R.default_manifest(int(chain.chain_id))
        existing = R.check_existing(path, chain, plan, force)
        if existing.action == "current":
            _verify_current(project, chain, plan, path, load_deployment)
            return
        plan = R.preflight(project, chain, plan, deployer)
    except (C.ConfigError, R.RolloutError, AdminError) as exc:
        _fail(str(exc))
    if existing.note:
        click.echo(existing.note)
    started = time.monotonic()
    system = _deploy(R, project, plan, deployer, lender)
    dep = R.Deployment(system.oracle, system.vault, system.tokens, system.feeds, None, system.lens)  # type: ignore[arg-type]
    rb = R.read_back(dep, plan.roles, str(deployer.address), plan.correlated_pairs)
    info = R.manifest(project, chain, system, plan, rb)
    R.write_manifest(info, path)
    if out is None:
        R.write_manifest(info, LATEST)
    _summary(system, path, time.monotonic() - started)
    diff = R.differences(plan, rb, {s: str(f.address) for s, f in system.feeds.items()}, fresh=True)
    _report(diff)


def _deploy(R, project, plan, deployer, lender):  # type: ignore[no-untyped-def]
    """``rollout.deploy``; a revert is one line naming the contract's reason."""
    from ape.exceptions import ApeException

    try:
        return R.deploy(project, plan, deployer, lender)
    except ApeException as exc:
        _fail(f"deployment failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__} "
              "(contracts deployed so far are not in any manifest)")


def _verify_current(project, chain, plan, path: Path, load_deployment) -> None:  # type: ignore[no-untyped-def]
    """Nothing to deploy: read the live deployment back and compare it with the config."""
    from volmargin.chain import rollout as R

    dep = load_deployment(project, chain, path)
    rb = R.read_back(dep, plan.roles, dep.info.deployer or dep.info.admin, plan.correlated_pairs)
    click.echo(f"nothing new deployed: {path} holds this config's deployment on chain {chain.chain_id} "
               f"(vault {dep.info.vault}, config hash {plan.config_hash[:12]})")
    _report(R.differences(plan, rb, {s: str(f.address) for s, f in dep.feeds.items()}, fresh=False))


def _summary(system, path: Path, seconds: float) -> None:  # type: ignore[no-untyped-def]
    click.echo(f"oracle {system.oracle.address}")
    click.echo(f"vault  {system.vault.address}")
    for s in system.symbols:
        kinds = "/".join(k for k, m in zip(("mock token", "mock feed"), system.mocks.get(s, (True, True))) if m)
        click.echo(f"{s:5s} token {system.tokens[s].address}  feed {system.feeds[s].address}"
                   + (f"  ({kinds})" if kinds else ""))
    click.echo(f"{len(system.txs)} transactions in {seconds:.1f} s; wrote {path}")


def _report(diff: list[str]) -> None:
    """Exit 0 when the chain matches the config, else 1 with one line naming every difference."""
    if diff:
        _fail(f"read-back differs from the config: {'; '.join(diff)}")
    click.echo("read back: every parameter, feed, decimals and role matches the config")
