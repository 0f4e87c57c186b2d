"""ape run deploy: deploy the full volmargin system and write its deployment JSON.

Deploys USD (6 decimals), WETH (18) and WBTC (8) mock tokens, their
MockAggregator feeds (8 decimals, USD per token), the RiskOracle and the
MarginVault with the defaults of volmargin/params.py, lists the assets and
seeds lender liquidity (50M USD, 20,000 WETH, 1,000 WBTC unless
--no-liquidity). Writes deployments/<network>.json and deployments/latest.json.
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

from volmargin import params as P
from volmargin.chain.manifest import DEPLOYMENTS_DIR, LATEST


def _account(alias: str):  # type: ignore[no-untyped-def]
    from ape import accounts

    if alias.startswith("TEST::"):
        try:
            return accounts.test_accounts[int(alias.split("::", 1)[1])]
        except (ValueError, IndexError):
            raise click.BadParameter(f"no test account {alias!r}", param_hint="--account") from None
    try:
        return accounts.load(alias)
    except Exception as exc:  # ape raises its own AccountsError
        raise click.BadParameter(f"no account alias {alias!r} ({exc})", param_hint="--account") from None


@click.command(cls=ConnectedProviderCommand, short_help="Deploy tokens, feeds, oracle and vault")
@network_option()
@click.option("--account", "account_alias", default="TEST::0", show_default=True,
              help="Deployer (gets every admin role): an `ape accounts` alias or TEST::<index>.")
@click.option("--lender", "lender_alias", default="TEST::1", show_default=True,
              help="Account that seeds lender liquidity.")
@click.option("--no-liquidity", is_flag=True, help="Do not seed lender liquidity.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Deployment JSON path (default: deployments/<network>.json).")
def cli(network, account_alias: str, lender_alias: str, no_liquidity: bool, out: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Deploy volmargin with the documented defaults (volmargin/params.py)."""
    from ape import chain, project
    from ape.logging import logger

    from volmargin.chain.deploy import deploy_system, skip_debug_log_tracing

    logger.set_level("WARNING")
    skip_debug_log_tracing()
    admin = _account(account_alias)
    lender = None if no_liquidity else _account(lender_alias)
    system = deploy_system(project, admin, lender=lender, seed_liquidity=None if no_liquidity else P.SEED_LIQUIDITY)
    name = chain.provider.network.name
    path = out or DEPLOYMENTS_DIR / f"{chain.provider.network.ecosystem.name}-{name}.json"
    system.write_json(path)
    system.write_json(LATEST)
    click.echo(f"oracle {system.oracle.address}")
    click.echo(f"vault  {system.vault.address}")
    for s in system.symbols:
        click.echo(f"{s:5s} token {system.tokens[s].address}  feed {system.feeds[s].address}")
    click.echo(f"wrote {path} and {LATEST}")
