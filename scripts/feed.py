"""ape run feed: push prices into a deployment's MockAggregator feeds.

Prices come from a price CSV (the close of every bar, USD per whole token) or
from a simulated GBM-with-jumps path (seedable). On local networks the chain
clock advances by the bar spacing before each push; after each push the
oracle is poked, so EWMA variance, haircuts and breakers follow.
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

from volmargin.chain.manifest import LATEST, DeploymentError


@click.command(cls=ConnectedProviderCommand, short_help="Push real or simulated prices into the mock feeds")
@network_option()
@click.option("--deployment", "deployment_path", type=click.Path(dir_okay=False, path_type=Path), default=LATEST,
              show_default=True, help="Deployment JSON written by `ape run deploy`.")
@click.option("--asset", required=True, help="Symbol of the feed to push (USD, WETH, WBTC).")
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Price file (timestamp,open,high,low,close,volume); its closes are pushed in order.")
@click.option("--gbm", is_flag=True, help="Push a simulated GBM path with jumps instead of a file.")
@click.option("--s0", type=click.FloatRange(min=0, min_open=True), default=None,
              help="GBM start price, USD (default: the feed's current answer).")
@click.option("--sigma", type=click.FloatRange(min=0), default=0.8, show_default=True,
              help="GBM annualized volatility (0.8 = 80 %).")
@click.option("--jump-intensity", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Expected jumps per year.")
@click.option("--jump-mean", type=float, default=-0.1, show_default=True, help="Mean log jump size.")
@click.option("--jump-std", type=click.FloatRange(min=0), default=0.05, show_default=True, help="Std of log jump size.")
@click.option("--steps", type=click.IntRange(1), default=24, show_default=True, help="GBM steps (or max bars from --csv).")
@click.option("--dt", "dt_s", type=click.IntRange(1), default=3600, show_default=True,
              help="Seconds between pushes for GBM (for --csv: the file's bar spacing).")
@click.option("--seed", type=int, default=0, show_default=True, help="GBM seed.")
@click.option("--no-poke", is_flag=True, help="Do not poke the oracle after each push.")
def cli(network, deployment_path: Path, asset: str, csv_path: Path | None, gbm: bool, s0: float | None,  # type: ignore[no-untyped-def]
        sigma: float, jump_intensity: float, jump_mean: float, jump_std: float, steps: int, dt_s: int,
        seed: int, no_poke: bool) -> None:
    """Push prices (USD per whole token) into ASSET's feed, one round per step."""
    from ape import accounts, chain, project
    from ape.logging import logger

    from volmargin import params as P
    from volmargin.units import to_feed_answer
    from volmargin_lab.data import DataError, load_csv
    from volmargin.chain.manifest import load
    from volmargin_lab.paths import gbm_jump_path
    from volmargin.chain.deploy import skip_debug_log_tracing

    logger.set_level("WARNING")
    skip_debug_log_tracing()
    if gbm == (csv_path is not None):
        raise click.UsageError("give exactly one of --csv FILE or --gbm")
    try:
        dep = load(project, deployment_path)
        symbol = dep.symbol_of(asset)
    except DeploymentError as exc:
        raise click.BadParameter(str(exc), param_hint="--deployment/--asset") from None
    feed = dep.feeds[symbol]
    if csv_path is not None:
        try:
            bars = load_csv(csv_path)
        except DataError as exc:
            raise click.BadParameter(str(exc), param_hint="--csv") from None
        prices = [float(x) for x in bars.close[:steps]]
        dt_s = bars.resolution_s or dt_s
    else:
        start = s0 if s0 is not None else int(feed.latestRoundData()[1]) / 10**P.FEED_DECIMALS
        prices = [float(x) for x in gbm_jump_path(start, steps, dt_s, sigma, 0.0, jump_intensity, jump_mean, jump_std, seed)[1:]]
    reporter = accounts.test_accounts[0] if chain.provider.network.is_local else None
    if reporter is None:
        raise click.UsageError("feed pushes to mock feeds on local networks only (the reporter is TEST::0)")
    local = chain.provider.network.is_local
    for price in prices:
        if local:
            chain.pending_timestamp = max(chain.pending_timestamp, chain.blocks.head.timestamp + dt_s)
        feed.push(to_feed_answer(price, P.FEED_DECIMALS), 0, sender=reporter)
        if not no_poke:
            dep.oracle.poke(dep.tokens[symbol].address, sender=reporter)
        state = dep.oracle.assets(dep.tokens[symbol].address)
        click.echo(f"{symbol} {price:>14,.4f} USD  sigma_annual {dep.oracle.sigma(dep.tokens[symbol].address, 31_536_000) / 1e18:7.1%}"
                   f"  h_maint {dep.oracle.haircuts(dep.tokens[symbol].address)[0] / 1e18:6.2%}  breaker {state.breaker}")
