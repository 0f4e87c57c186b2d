"""ape run replay: replay a real crash through the deployed contracts (the main job).

Deploys the full system on the connected network (default: the embedded
local chain), opens a seeded population of leveraged accounts, feeds the
episode's real hourly closes through MockAggregator, pokes the oracle, lets a
keeper liquidate, and checks every number against volmargin.reference.
Writes DIR/summary.json, DIR/steps.csv and DIR/report.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from tqdm import tqdm

from volmargin_lab.data import EPISODES, DataError, load_episode
from volmargin_lab.replay import run_replay, write_outputs
from volmargin.chain.deploy import skip_debug_log_tracing
from volmargin.cli import ConnectedCommand, OutDir, network_option


@click.command(cls=ConnectedCommand, short_help="Replay a real price episode through the contracts")
@network_option()
@click.option(
    "--episode",
    required=True,
    help=f"Episode to replay (no unit); one of: {', '.join(EPISODES)}.",
)
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Folder for summary.json, steps.csv and report.md (no unit; created, checked before any work).")
@click.option("--accounts", "n_accounts", type=click.IntRange(1, 200), default=50, show_default=True,
              help="Number of leveraged accounts in the seeded population (count).")
@click.option("--seed", type=click.IntRange(0), default=7, show_default=True,
              help="Seed of the population generator (no unit).")
@click.option("--max-steps", type=click.IntRange(1), default=None, show_default="all",
              help="Replay only this many bars (hourly steps, count) after the opening bar.")
def cli(episode: str, out_dir: Path, n_accounts: int, seed: int, max_steps: int | None) -> None:
    """Replay a real price episode through a fresh deployment on the connected network.

    Each step is one bar (hourly for the shipped episodes): its close (USD per
    whole token) is pushed into the feeds at the bar's time offset, the oracle
    is poked, every asset and account is compared with volmargin.reference,
    and a keeper liquidates. Exits 1 if any number differs from the reference.
    """
    from ape import accounts, chain, project
    from ape.logging import logger

    logger.set_level("WARNING")
    skip_debug_log_tracing()
    try:
        n_steps = len(next(iter(load_episode(episode).values()))) - 1
    except DataError as exc:
        raise click.BadParameter(str(exc), param_hint="--episode") from exc
    needed = n_accounts + 3
    if len(accounts.test_accounts) < needed:
        raise click.BadParameter(
            f"needs {needed} test accounts (ape-config.yaml test.number_of_accounts), "
            f"have {len(accounts.test_accounts)}", param_hint="--accounts"
        )
    total = n_steps if max_steps is None else min(n_steps, max_steps)
    with tqdm(total=total, desc=f"replay {episode}", unit="bar") as bar:
        result = run_replay(project, chain, accounts, episode, n_accounts=n_accounts, seed=seed,
                            max_steps=max_steps, progress=bar.update)
    write_outputs(result, out_dir)
    s = result.summary
    click.echo(json.dumps({k: s[k] for k in ("episode", "steps", "accounts", "liquidations", "bad_debt_usd",
                                             "parity_checks", "parity_mismatches", "breaker_trips",
                                             "wall_seconds")}, indent=2))
    click.echo(f"wrote {out_dir}/summary.json, steps.csv, report.md, index.html (risk page) and its PNG plots")
    if s["parity_mismatches"]:
        click.echo(f"parity mismatches: {s['parity_mismatches']} (see report.md)", err=True)
        sys.exit(1)
