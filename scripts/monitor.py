"""ape run monitor: a static HTML risk view of a live deployment, a finished replay or a stress run.

Live: reads the deployment named by its manifest on the connected network and
writes DIR/index.html with per-asset prices (USD), volatilities, haircuts and
breaker states, per-account health (lowest first, liquidatable highlighted),
recent liquidations and bad debt, and PNG plots beside it; every snapshot is
appended to DIR/history.json. With --watch the page is redrawn every interval
and refreshes itself in the browser.

Finished runs: --from-replay DIR (summary.json + steps.csv of `ape run replay`)
or --from-stress DIR (summary.json of `ape run stress`) write the same kind of page.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from volmargin.cli import ConnectedCommand, OutDir, network_option


def _live(html: Path, deployment: Path | None, watch: int | None, snapshots: int | None) -> None:
    from ape import chain, project

    from volmargin.chain.manifest import DeploymentError, load
    from volmargin_lab import monitor as m

    path = deployment or Path("deployments") / f"{chain.chain_id}.json"
    try:
        dep = load(project, path)
    except DeploymentError as exc:
        raise click.ClickException(f"--deployment: {exc}") from None
    html.mkdir(parents=True, exist_ok=True)
    log = m.event_log_from(m.load_history(html / m.HISTORY_FILE))
    count = 0
    while True:
        snap, log = m.take_snapshot(dep, chain, log)
        page = m.write_live_page(snap, html, log, refresh=watch)
        count += 1
        liq = sum(a.liquidatable for a in snap.accounts)
        click.echo(f"block {snap.block}: {len(snap.assets)} assets, {len(snap.accounts)} accounts "
                   f"({liq} liquidatable); wrote {page}")
        if watch is None or (snapshots is not None and count >= snapshots):
            return
        time.sleep(watch)


@click.command(cls=ConnectedCommand, short_help="Write an HTML risk view of a deployment or a run")
@network_option()
@click.option("--html", "html", type=OutDir(), required=True,
              help="Output folder for index.html, its PNG plots and history.json (no unit; created, checked "
                   "before any work).")
@click.option("--deployment", type=click.Path(dir_okay=False, path_type=Path), default=None,
              show_default="deployments/<chain id>.json", help="Deployment manifest (JSON) to monitor (no unit).")
@click.option("--watch", type=click.IntRange(1), default=None, metavar="SECONDS", show_default="one snapshot",
              help="Take a snapshot every SECONDS seconds and redraw the page (which refreshes itself); "
                   "stop with Ctrl-C.")
@click.option("--snapshots", type=click.IntRange(1), default=None, show_default="never stop",
              help="With --watch: stop after this many snapshots (count).")
@click.option("--from-replay", "from_replay", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, show_default="a live deployment",
              help="The output folder of `ape run replay` (no unit; summary.json, steps.csv) to show instead.")
@click.option("--from-stress", "from_stress", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, show_default="a live deployment",
              help="The output folder of `ape run stress` (no unit; summary.json) to show instead.")
def cli(html: Path, deployment: Path | None, watch: int | None, snapshots: int | None,  # type: ignore[no-untyped-def]
        from_replay: Path | None, from_stress: Path | None) -> None:
    """Write HTML/index.html: a risk view of the deployment on the connected network
    (USD prices and values, haircuts and annualized volatilities in percent,
    price ages in seconds of block time), or of a finished replay or stress run."""
    from ape.logging import logger

    from volmargin_lab import monitor as m

    logger.set_level("WARNING")
    sources = [o for o, v in (("--from-replay", from_replay), ("--from-stress", from_stress)) if v is not None]
    if len(sources) > 1:
        raise click.ClickException("give at most one of --from-replay and --from-stress")
    live_only = [o for o, v in (("--deployment", deployment), ("--watch", watch), ("--snapshots", snapshots)) if v]
    if sources and live_only:
        raise click.ClickException(f"{', '.join(live_only)} apply to a live deployment, not to {sources[0]}")
    if snapshots is not None and watch is None:
        raise click.ClickException("--snapshots needs --watch")
    try:
        if from_replay is not None:
            summary, steps = m.read_replay(from_replay)
            click.echo(f"wrote {m.write_replay_page(summary, steps, html)}")
        elif from_stress is not None:
            click.echo(f"wrote {m.write_stress_page(m.read_summary(from_stress), html)}")
        else:
            _live(html, deployment, watch, snapshots)
    except m.MonitorError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("stopped")
