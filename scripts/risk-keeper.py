"""ape run risk-keeper: fit a forecast volatility per asset and push it into the oracle.

For each asset it reads the daily closes of the asset's feed (``getRoundData``, back
--days days), fits GARCH(1,1) with Student-t innovations (``arch``) to their log returns,
annualizes the one-day-ahead volatility, clamps it into the box the oracle accepts now
(multiples of the realized volatility, the step from a live push) and pushes it with
``RiskOracle.push_forecast`` (docs/design.md §3.7). One JSON line per asset on stdout:
``action`` "push", "plan" (--dry-run), "skip" (the oracle would refuse it: the forecast
mode is off, a push less than a heartbeat ago, no role) or "error" (the history cannot be
fitted). Exits 1 when an asset had an error, 0 otherwise; bad arguments exit 2.

Run it once a day (the study behind the bounds pushed daily: docs/forecast-study.md).
"""

from __future__ import annotations

from pathlib import Path

import click

from volmargin.cli import ConnectedCommand, InFile, network_option


@click.command(cls=ConnectedCommand, short_help="Fit and push forecast volatilities (RISK_KEEPER_ROLE)")
@network_option()
@click.option("--deployment", "deployment_path", type=InFile(), default=None,
              show_default="deployments/<chain id>.json of the connected chain", help="Deployment manifest (no unit).")
@click.option("--account", "account_alias", default=None,
              show_default="TEST::2 on a development chain, required elsewhere",
              help="Signer holding RISK_KEEPER_ROLE (no unit): an `ape accounts` alias, or TEST::<index> on a "
                   "development chain.")
@click.option("--asset", "assets", multiple=True,
              show_default="every asset of the deployment", help="Symbol to forecast (repeatable; no unit).")
@click.option("--days", type=click.IntRange(min=101), default=730, show_default=True,
              help="Days of feed history to fit on (the study's window: 730); at least 101 daily closes are needed.")
@click.option("--dry-run", is_flag=True, help="Fit and check, print the plan, send nothing.")
def cli(network, deployment_path: Path | None, account_alias: str | None, assets: tuple[str, ...],  # type: ignore[no-untyped-def]
        days: int, dry_run: bool) -> None:
    """Fit GARCH(1,1)-t to each asset's feed history and push the annualized forecast.

    Volatilities in the JSON lines are fractions per year; h_target a fraction.
    """
    import sys

    from ape import chain

    from volmargin.chain import risk_keeper as RK
    from volmargin.cli import signer_and_deployment
    from volmargin_lab.forecast import next_day_sigma

    sender, dep, _ = signer_and_deployment(account_alias, deployment_path)
    unknown = [a for a in assets if a not in dep.tokens]
    if unknown:
        raise click.BadParameter(f"unknown asset {unknown[0]!r}; known: {', '.join(dep.tokens)}", param_hint="--asset")
    symbols = list(assets) or list(dep.tokens)
    errors = RK.run_once(dep, symbols, sender, lambda closes: next_day_sigma(closes, window=days), days,
                         int(chain.blocks.head.timestamp), lambda r: click.echo(RK.json_line(r)), dry_run=dry_run)
    sys.exit(1 if errors else 0)
