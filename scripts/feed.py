"""ape run feed: push prices into a deployment's MockAggregator feeds.

Prices come from a price CSV (the close of every bar, USD per whole token), from
a simulated GBM-with-jumps path (seedable), or are given with --price (a crash in
one push: --price 1200). On development chains the
chain clock advances by the bar spacing before each push; after each push the
oracle is poked, so EWMA variance, haircuts and breakers follow. Moving the
clock for one asset would let the others go stale (older than heartbeat +
grace): with --keep-alive (the default) their last answers are re-pushed
whenever they would outlive their heartbeat, as live Chainlink feeds do. Each
line shows every price's age; breakers print by name.
"""

from __future__ import annotations

from pathlib import Path

import click

from volmargin.cli import ConnectedCommand, InFile, network_option


@click.command(cls=ConnectedCommand, short_help="Push real or simulated prices into the mock feeds")
@network_option()
@click.option("--deployment", "deployment_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              show_default="deployments/<chain id>.json, else deployments/latest.json",
              help="Deployment manifest (no unit).")
@click.option("--asset", required=True, help="Symbol or token address of the feed to push (no unit; USD, WETH, WBTC).")
@click.option("--csv", "csv_path", type=InFile(), default=None, show_default="none: give --csv or --gbm",
              help="Price file (no unit; timestamp,open,high,low,close,volume, closes in USD per whole token); "
                   "its closes are pushed in order.")
@click.option("--gbm", is_flag=True, help="Push a simulated GBM path with jumps instead of a file.")
@click.option("--price", "given", type=click.FloatRange(min=0, min_open=True), multiple=True, metavar="USD",
              show_default="none: give --price, --csv or --gbm", help="Push this price (USD per whole token); repeat for a path, --dt seconds apart.")
@click.option("--reporter", "reporter_alias", default="TEST::0", show_default=True,
              help="Account that pushes (no unit; holds REPORTER_ROLE on the feeds): TEST::<index> or an `ape accounts` "
                   "alias. A deployment's mock feeds are the deployer's (TEST::0 for `ape run deploy`).")
@click.option("--s0", type=click.FloatRange(min=0, min_open=True), default=None,
              show_default="the feed's current answer", help="GBM start price, USD per whole token.")
@click.option("--sigma", type=click.FloatRange(min=0), default=0.8, show_default=True,
              help="GBM annualized volatility, fraction a year (0.8 = 80 %).")
@click.option("--jump-intensity", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Expected jumps per year (count a year).")
@click.option("--jump-mean", type=float, default=-0.1, show_default=True,
              help="Mean log jump size (log of a price ratio, no unit).")
@click.option("--jump-std", type=click.FloatRange(min=0), default=0.05, show_default=True,
              help="Std of log jump size (log of a price ratio, no unit).")
@click.option("--steps", type=click.IntRange(1), default=24, show_default=True,
              help="GBM steps (or max bars from --csv), count.")
@click.option("--dt", "dt_s", type=click.IntRange(1), default=3600, show_default=True,
              help="Seconds between pushes for GBM and --price; the clock moves on by this much before each "
                   "push (for --csv: the file's bar spacing).")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="GBM seed (no unit).")
@click.option("--no-poke", is_flag=True, help="Do not poke the oracle after each push.")
@click.option("--keep-alive/--no-keep-alive", default=True, show_default=True,
              help="Re-push the other feeds' last answers whenever they would outlive their heartbeat "
                   "(seconds, per asset on the oracle), so that they never go stale while the clock moves.")
def cli(network, deployment_path: Path | None, asset: str, csv_path: Path | None, gbm: bool,  # type: ignore[no-untyped-def]
        given: tuple[float, ...], reporter_alias: str, s0: float | None, sigma: float, jump_intensity: float, jump_mean: float, jump_std: float, steps: int,
        dt_s: int, seed: int, no_poke: bool, keep_alive: bool) -> None:
    """Push prices (USD per whole token) into ASSET's feed, one round per step.

    A path that leaves what the feed and the oracle can hold (8-decimal answers of at
    least 1e-08 USD, prices below 2**128 WAD) is refused before anything is pushed.
    A push in the same second as the feed's last round moves the clock one second on
    first (the oracle accepts only later rounds).
    """
    from ape import chain, project
    from ape.logging import logger

    from volmargin import params as P
    from volmargin.chain import feeds as F
    from volmargin.chain.admin import AdminError, resolve_account
    from volmargin.chain.deploy import skip_debug_log_tracing
    from volmargin.chain.manifest import DeploymentError, load
    from volmargin.chain.node import is_dev_chain, load_deployment, manifest_path
    from volmargin_lab.data import DataError, load_csv
    from volmargin_lab.paths import gbm_jump_path

    logger.set_level("WARNING")
    skip_debug_log_tracing()
    if sum((gbm, csv_path is not None, bool(given))) != 1:
        raise click.ClickException("give exactly one of --csv FILE, --gbm or --price USD")
    bars = None
    if csv_path is not None:  # read before the chain is
        try:
            bars = load_csv(csv_path)
        except DataError as exc:
            raise click.ClickException(f"--csv: {exc}") from None
    if not is_dev_chain(chain.provider):
        raise click.ClickException("feed pushes to mock feeds on development chains only")
    path = deployment_path or manifest_path(chain.chain_id)
    try:
        manifest = load(project, path)
    except DeploymentError as exc:
        raise click.ClickException(f"--deployment: {exc}") from None
    try:
        symbol = manifest.symbol_of(asset)  # the manifest's assets, before the chain is read
    except DeploymentError as exc:
        raise click.BadParameter(str(exc), param_hint="--asset") from None
    try:
        dep = load_deployment(project, chain, path)
    except DeploymentError as exc:
        raise click.ClickException(f"--deployment: {exc}") from None
    feed = dep.feeds[symbol]
    if bars is not None:
        prices = [float(x) for x in bars.close[:steps]]
        dt_s = bars.resolution_s or dt_s
    elif given:
        prices = list(given)
    else:
        start = s0 if s0 is not None else int(feed.latestRoundData()[1]) / 10**P.FEED_DECIMALS
        prices = [float(x) for x in gbm_jump_path(start, steps, dt_s, sigma, 0.0, jump_intensity, jump_mean, jump_std, seed)[1:]]
    try:
        F.check_path(prices)
    except ValueError as exc:
        raise click.ClickException(f"{exc}; nothing pushed") from None
    try:
        reporter = resolve_account(reporter_alias, chain.provider)
        F.check_reporter(dep, reporter, [symbol, *dep.feeds] if keep_alive else [symbol])
    except (AdminError, ValueError) as exc:
        raise click.ClickException(f"{exc}; nothing pushed") from None
    token = dep.tokens[symbol].address
    for price in prices:
        at = max(chain.pending_timestamp, chain.blocks.head.timestamp + dt_s)
        F.push(chain, dep, symbol, price, reporter, poke=not no_poke, at=at)
        kept = F.keep_alive(chain, dep, at, reporter, skip=[symbol], poke=not no_poke) if keep_alive else []
        (own,) = F.ages(dep, [symbol])
        others = "  ".join(a.label() for a in F.ages(dep) if a.symbol != symbol)
        click.echo(f"{symbol} {price:>14,.4f} USD  sigma_annual {dep.oracle.sigma(token, 31_536_000) / 1e18:7.1%}"
                   f"  h_maint {dep.oracle.haircuts(token)[0] / 1e18:6.2%}  breaker {own.breaker:<11s}"
                   f"  ages: {own.label()}  {others}" + (f"  (kept alive: {', '.join(kept)})" if kept else ""))
