"""ape run stress: the stress lab (issue #5).

Runs every policy (static, dynamic, two ablations and dynamic-calibrated) through the real crash episodes
and the calm month on the vectorized model with the frictions of docs/design.md §10, a Monte
Carlo of GBM-with-jumps and GARCH(1,1) paths through dask, the haircut calibration and
backtests, a subset replayed through the deployed contracts for parity, and the efficient frontier
of docs/frontier-protocol-v2.md (static and dynamic margin swept over their risk knobs; --no-frontier
skips it); writes DIR/summary.json, DIR/report.md and PNG plots.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from tqdm import tqdm

from volmargin.cli import ConnectedCommand, OutDir, network_option
from volmargin_lab.stress.frontier import FrontierConfig, QUICK_FRONTIER
from volmargin_lab.stress.policies import POLICY_NAMES
from volmargin_lab.stress.scenarios import STRESS_EPISODES

_FC, _QF = FrontierConfig(), QUICK_FRONTIER


def _csv(xs: tuple[float, ...]) -> str:
    return ",".join(f"{x:g}" for x in xs)


def _floats(value: str | None, param: str) -> tuple[float, ...] | None:
    """A comma-separated list of numbers, None when not given; click.BadParameter otherwise."""
    if value is None:
        return None
    try:
        out = tuple(float(x) for x in value.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter(f"not a list of numbers: {value!r}", param_hint=param) from None
    if not out:
        raise click.BadParameter("empty list", param_hint=param)
    return out


def _frontier_config(quick: bool, accounts: int | None, lt: str | None, z: str | None, horizons: str | None,
                     gaps: str | None, buffers: str | None, axes: tuple[str, ...]) -> FrontierConfig:
    """The frontier grid: the mode's defaults (``FrontierConfig()`` or ``QUICK_FRONTIER``) with the
    options given replacing them."""
    from dataclasses import replace

    base = QUICK_FRONTIER if quick else FrontierConfig()
    ch: dict = {}
    for key, val, param in (("static_lt", lt, "--frontier-lt"), ("z_maint", z, "--frontier-z"),
                            ("horizons_h", horizons, "--frontier-horizons"), ("gaps", gaps, "--frontier-gaps"),
                            ("buffers", buffers, "--frontier-buffers")):
        got = _floats(val, param)
        if got is not None:
            ch[key] = got
    if accounts is not None:
        ch["accounts"] = accounts
    extra = {}
    for a in axes:
        name, sep, vals = a.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected KNOB=X,Y, got {a!r}", param_hint="--frontier-axis")
        extra[name.strip()] = _floats(vals, "--frontier-axis")
    if extra:
        ch["extra_axes"] = extra
    return replace(base, **ch)


def _names(value: str | None, known: tuple[str, ...] | list[str], what: str, param: str) -> list[str]:
    """The comma-separated names of ``value`` (all of ``known`` when None); ``click.BadParameter``
    naming ``param`` for an empty list or a name not in ``known``."""
    if value is None:
        return list(known)
    names = [x.strip() for x in value.split(",") if x.strip()]
    if not names:
        raise click.BadParameter(f"no {what} given", param_hint=param)
    bad = [x for x in names if x not in known]
    if bad:
        raise click.BadParameter(f"unknown {what} {', '.join(repr(b) for b in bad)}; known: {', '.join(known)}",
                                 param_hint=param)
    return names


def _episodes(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str]:
    return _names(value, list(STRESS_EPISODES), "episode", "--episodes")


def _policies(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str]:
    return _names(value, list(POLICY_NAMES), "policy", "--policies")


@click.command(cls=ConnectedCommand, short_help="Stress lab: policies through crashes, Monte Carlo, report")
@network_option()
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Folder for summary.json, report.md and the PNG plots (no unit; created, checked before any work).")
@click.option("--quick", is_flag=True, help="First 24 h after opening of each episode, 300 accounts, "
              "50 Monte Carlo paths x 1,000 accounts, 6 on-chain bars: a smoke run (under 2 minutes).")
@click.option("--episodes", default=None, metavar="A,B,...", callback=_episodes, show_default="all",
              help=f"Comma-separated episodes (no unit): {', '.join(STRESS_EPISODES)}.")
@click.option("--policies", default=None, metavar="A,B,...", callback=_policies, show_default="all",
              help=f"Comma-separated policies (no unit): {', '.join(POLICY_NAMES)}.")
@click.option("--paths", type=click.IntRange(1, 1_000_000), default=1000, show_default=True,
              help="Monte Carlo paths per path model (count; hourly steps over --horizon hours).")
@click.option("--accounts", type=click.IntRange(1, 1_000_000), default=10_000, show_default=True,
              help="Accounts in each Monte Carlo path (count).")
@click.option("--episode-accounts", type=click.IntRange(1, 1_000_000), default=2000, show_default=True,
              help="Accounts in each real episode (count).")
@click.option("--horizon", "horizon_h", type=click.IntRange(1, 24 * 60), default=168, show_default=True,
              help="Monte Carlo horizon, hours (one step per hour).")
@click.option("--scheduler", default=None, metavar="ADDRESS", show_default="local dask processes",
              help="dask.distributed scheduler address (no unit; e.g. tcp://10.0.0.5:8786) for the Monte Carlo; "
              "'threads' or 'synchronous' pick those local schedulers.")
@click.option("--workers", type=click.IntRange(1, 1024), default=None, show_default="one per CPU",
              help="Local dask workers (count).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=7, show_default=True,
              help="Seed of the populations and of the Monte Carlo paths (no unit).")
@click.option("--no-onchain", is_flag=True, help="Skip the on-chain parity subset.")
@click.option("--frontier/--no-frontier", default=True, show_default=True,
              help="Sweep static and dynamic margin over their risk knobs (no unit; docs/frontier-protocol-v2.md).")
@click.option("--frontier-accounts", type=click.IntRange(1, 1_000_000), default=None,
              help=f"Accounts per episode in the frontier (count) [default: {_FC.accounts}; --quick {_QF.accounts}].")
@click.option("--frontier-lt", default=None, metavar="X,Y,...",
              help=f"Static grid, WETH liquidation thresholds (fraction; must hold 0.825) [default: {_csv(_FC.static_lt)}; "
              f"--quick {_csv(_QF.static_lt)}].")
@click.option("--frontier-z", default=None, metavar="X,Y,...",
              help=f"Dynamic grid, z_maint (sigma multiples, no unit) [default: {_csv(_FC.z_maint)}; --quick {_csv(_QF.z_maint)}].")
@click.option("--frontier-horizons", default=None, metavar="H,...",
              help=f"Dynamic grid, horizons (hours) [default: {_csv(_FC.horizons_h)}; --quick {_csv(_QF.horizons_h)}].")
@click.option("--frontier-gaps", default=None, metavar="X,Y,...",
              help=f"Dynamic grid, z_init - z_maint (sigma multiples, no unit) [default: {_csv(_FC.gaps)}; --quick {_csv(_QF.gaps)}].")
@click.option("--frontier-buffers", default=None, metavar="X,Y,...",
              help=f"Dynamic grid, h_min_init - h_min (fraction; run only where the oracle has h_min_init) "
              f"[default: {_csv(_FC.buffers)}; --quick {_csv(_QF.buffers)}].")
@click.option("--portfolio/--no-portfolio", default=True, show_default=True,
              help="Portfolio margin against per-asset margin on hedged and diversified books (no unit; "
              "docs/portfolio-study.md).")
@click.option("--frontier-axis", multiple=True, metavar="KNOB=X,Y",
              show_default="none", help="A further dynamic grid axis over any policy knob by name, in the knob's human unit, e.g. fraction or hours (repeatable).")
def cli(out_dir: Path, quick: bool, episodes: list[str], policies: list[str], paths: int, accounts: int,
        episode_accounts: int, horizon_h: int, scheduler: str | None, workers: int | None, seed: int,
        no_onchain: bool, frontier: bool, frontier_accounts: int | None, frontier_lt: str | None,
        frontier_z: str | None, frontier_horizons: str | None, frontier_gaps: str | None,
        frontier_buffers: str | None, frontier_axis: tuple[str, ...], portfolio: bool) -> None:
    """Measure volmargin against a static-parameter protocol on real crashes and simulated paths.

    Units in the outputs: USD (bad debt, liquidation volume), fractions (haircuts, borrowing
    power per USD of collateral), percent where the key says so, seconds, UTC times.
    Exits 1 if the on-chain subset disagrees with the model beyond its tolerance.
    """
    from ape import accounts as ape_accounts, chain, project
    from ape.logging import logger

    from volmargin_lab.stress.onchain import replay_subset
    from volmargin_lab.stress.run import QUICK, StressConfig, run_stress
    from volmargin.chain.deploy import skip_debug_log_tracing

    logger.set_level("WARNING")
    skip_debug_log_tracing()
    started = time.time()
    fc = None
    if frontier:
        fc = _frontier_config(quick, frontier_accounts, frontier_lt, frontier_z, frontier_horizons, frontier_gaps,
                              frontier_buffers, frontier_axis)
    cfg = StressConfig(out=out_dir, quick=quick, episodes=episodes, policies=policies,
                       accounts=QUICK["accounts"] if quick else episode_accounts, paths=paths,
                       mc_accounts=accounts, horizon_h=horizon_h, seed=seed, scheduler=scheduler,
                       workers=workers, onchain=not no_onchain, frontier=fc, portfolio=portfolio)

    def onchain(policy: str, steps: int, n: int) -> dict:
        with tqdm(total=steps, desc=f"on-chain {policy}", unit="bar") as bar:
            return replay_subset(project, chain, ape_accounts, policy, steps=steps, n_accounts=n, seed=seed,
                                 progress=bar.update)

    command = "ape run stress " + " ".join(sys.argv[3:] if len(sys.argv) > 3 else [])
    summary = run_stress(cfg, command.strip(), onchain_fn=onchain, echo=click.echo)
    v = summary["verdict"]
    click.echo(json.dumps({
        "episodes": {e: {p: {k: x[k] for k in ("bad_debt_usd", "liquidations", "calm_borrowing_power")}
                         for p, x in s["policies"].items()} for e, s in summary["episodes"].items()},
        "verdict": {**{k: v[k] for k in ("dynamic_less_bad_debt_in", "episodes_with_static_bad_debt",
                                         "calm_borrowing_power_gain", "crash_goal_met", "calm_goal_met")},
                    **({"dynamic-calibrated": {k: v["dynamic-calibrated"][k] for k in (
                        "less_bad_debt_in", "more_bad_debt_in", "calm_borrowing_power_gain", "crash_goal_met",
                        "calm_goal_met")}} if "dynamic-calibrated" in v else {})},
        "frontier": {k: v.get(k) for k in ("calm_bp_gain", "calm_bp_gain_heldout", "bad_debt_train_ratio",
                                            "bad_debt_heldout_ratio", "identical_ok", "coverage_passed",
                                            "frontier_goal_met")} | {"chosen": (v.get("chosen") or {}).get("name")}
        if "frontier_goal_met" in v else None,
        "onchain": {p: {k: r.get(k) for k in ("checks", "mismatches", "liquidations")}
                    for p, r in summary["onchain"].items()},
        "wall_seconds": round(time.time() - started, 1),
    }, indent=2))
    click.echo(f"wrote {out_dir}/summary.json, report.md and PNG plots")
    bad = {p: r["mismatches"] for p, r in summary["onchain"].items() if r.get("mismatches")}
    if bad:
        click.echo(f"on-chain parity mismatches: {bad} (see report.md)", err=True)
        sys.exit(1)
