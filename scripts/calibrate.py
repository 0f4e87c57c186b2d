"""ape run calibrate: calibration protocol v2 of the maintenance haircut on real history.

Runs the pre-registered protocol of ``docs/calibration-protocol.md``
(``volmargin_lab.calibration.calibrate_v2``) for WETH and WBTC: the float model of the oracle
(``volmargin.model.OracleModel``) along the longest hourly history (2018-05 .. 2025-06); the
volatility model (h_min = 0) on the ``zt`` grid (z_maint 1.5-4, tau_fast 6-48 h, tau_slow
7-60 days), backtested on non-overlapping 1-day windows at 99 % coverage with Kupiec (1995)
and Christoffersen (1998); the cheapest candidate passing both at 5 % on training
(2018-08 .. 2022); the stressed floor h_min = the training 99 % loss quantile rounded up to a
whole percent; z_init = z_maint + 1; the primary held-out test (hourly 2023-01 .. 2025-06),
the confirmatory test of the WBTC choice on daily BTC/USD 2014-01 .. 2018-05-14, and the
deployed haircut max(h_min, model) with a one-sided Kupiec test and the Basel traffic light.
Protocol v1 was replaced by v2 and removed (``docs/calibration-protocol-v1.md``);
``--protocol v2`` is still accepted.

Writes OUT/calibration.json (key ``protocol_v2``; other keys of an existing file are kept)
and OUT/candidates_<ASSET>_v2.csv (every candidate's training statistics) and prints two
tables. Needs no chain.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import click

from volmargin.cli import Command, OutDir

PROTOCOLS = ("v2",)


@click.command(cls=Command,
               short_help="Calibration protocol v2 of the maintenance haircut; Kupiec, Christoffersen, Basel")
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Folder for calibration.json and the candidate tables (no unit; created, checked before any work).")
@click.option("--asset", type=click.Choice(["WETH", "WBTC", "all"]), default="all", show_default=True,
              help="Asset to calibrate (no unit).")
@click.option("--quick", is_flag=True,
              help="Short run for a smoke test: train 2019-07..2020, test 2021, 4 candidates, no confirmatory set.")
@click.option("--strict", is_flag=True, help="Exit 1 when the primary held-out test of the model haircut fails "
              "(or no candidate passes training).")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default="v2", show_default=True,
              help="The pre-registered protocol of docs/calibration-protocol.md (model backtest at 99 %, stressed "
                   "floor, confirmatory BTC daily test); the only one left (no unit).")
def cli(out_dir: Path, asset: str, quick: bool, strict: bool, protocol: str) -> None:
    """Calibrate the maintenance haircut by protocol v2 and backtest it on held-out data.

    Units: z_maint dimensionless; tau_fast, tau_slow and the 1-day horizon in seconds in
    the JSON (hours / days in the table); haircuts, h0, h_min and loss rates as fractions;
    periods as UTC bar times. With --strict, exits 1 when a chosen calibration fails the
    primary held-out test (or no candidate passes training).
    """
    _run_v2(out_dir, ["WETH", "WBTC"] if asset == "all" else [asset], quick, strict)


def _with_candidates_csv(d: dict[str, Any], path: Path, started: float) -> dict[str, Any]:
    """Move a calibration result's ``details.train_table`` (every candidate's training
    statistics) into the CSV ``path``; record the file name and the seconds since ``started``."""
    table = d["details"].pop("train_table")
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    d["details"]["candidates_csv"] = path.name
    d["details"]["seconds"] = round(time.time() - started, 1)
    return d


def _read_json(path: Path) -> dict[str, Any]:
    """An existing calibration.json, or {} when there is none or it is not a JSON object."""
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return d if isinstance(d, dict) else {}


def _v2_section(quick: bool) -> dict[str, Any]:
    """The settings part of calibration.json's ``protocol_v2`` key (``assets`` still empty)."""
    from volmargin_lab import calibration as C

    return {
        "protocol": "docs/calibration-protocol.md (pre-registered)",
        "run_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "target_level": C.TARGET_LEVEL,
        "test_size": C.TEST_SIZE,
        "horizon_s": C.DAY,
        "model": "h0 + z_maint sigma_H with var = max(var_fast, var_slow) and the ramp, clamped to [0, h_max] "
                 "(RiskOracle at h_min = 0)",
        "windows": "non-overlapping 1-day windows starting 00:00 UTC; loss = 1 - P(end)/P(start) of the collateral",
        "selection": "lowest training mean haircut among candidates with Kupiec and Christoffersen p >= 0.05 on "
                     "training; ties to the larger z_maint, then the larger tau_slow",
        "floor": "h_min = empirical 99 % quantile of the training 1-day losses, rounded up to a whole percent",
        "z_init": "z_maint + 1",
        "deployed": "max(h_min, model); one-sided Kupiec (under-coverage), Basel (1996) traffic light",
        "quick": quick,
        "assets": {},
    }


def _run_v2(out_dir: Path, assets: list[str], quick: bool, strict: bool) -> None:
    """Protocol v2 for ``assets``: writes OUT/calibration.json's ``protocol_v2`` key (keeping the
    rest of an existing file) and OUT/candidates_<ASSET>_v2.csv; prints two tables."""
    from volmargin_lab import calibration as C
    from volmargin_lab.data import DataError

    out_dir.mkdir(parents=True, exist_ok=True)
    section = _v2_section(quick)
    results = []
    for sym in assets:
        t0 = time.time()
        try:
            res = C.calibrate_v2(sym, quick=quick)
        except DataError as exc:
            raise click.ClickException(f"price data for {sym}: {exc}") from exc
        d = _with_candidates_csv(res.to_dict(), out_dir / f"candidates_{sym}_v2.csv", t0)
        d["oracle_vector"] = list(res.oracle_vector())
        section["assets"][sym] = d
        results.append(res)
    report = _read_json(out_dir / "calibration.json")
    report["protocol_v2"] = section
    (out_dir / "calibration.json").write_text(json.dumps(report, indent=2))
    _echo_v2(results, out_dir)
    if strict and not all(r.selected and r.primary_passed for r in results):
        raise SystemExit(1)


def _echo_v2(results: list[Any], out_dir: Path) -> None:
    """Print the model-haircut table and the deployed-haircut table of ``results``
    (``calibrate_v2``'s ``V2Result`` per asset)."""
    from volmargin_lab.calibration import format_xn

    def tests(s: dict[str, Any] | None) -> str:
        return "-" if not s else f"{format_xn(s, '-'):>11} {s['kupiec_p']:8.4f} {s['christoffersen_p']:6.3f}"

    click.echo("protocol v2: model haircut (h_min = 0), two-sided Kupiec and Christoffersen p at 99 %")
    click.echo(f"{'asset':5} {'z':>5} {'z_init':>6} {'tau_f':>6} {'tau_s':>6} {'h0':>5} {'h_min':>5} "
               f"{'train x/N kupiec_p  chr_p':>24} {'primary x/N kupiec_p  chr_p':>28} "
               f"{'confirm x/N kupiec_p  chr_p':>28}  "
               f"result")
    for r in results:
        verdict = ("PASS" if r.primary_passed else "FAIL on primary held-out") if r.selected else \
            "no candidate passes training: docs/design.md defaults kept"
        click.echo(f"{r.asset:5} {r.z_maint:5.2f} {r.z_init:6.2f} {r.tau_fast / 3600:5.0f}h {r.tau_slow / 86400:5.0f}d "
                   f"{r.h0:5.2f} {r.h_min:5.2f} {tests(r.train):>24} {tests(r.primary):>28} "
                   f"{tests(r.confirmatory):>28}  {verdict}")
    click.echo("deployed haircut max(h_min, model): exceedances, one-sided Kupiec p, Basel zone (whole set; "
               "per 250-day block)")
    for r in results:
        for name, x in r.deployed.items():
            blocks = " ".join(b["zone"][0].upper() for b in x["traffic_light_blocks"])
            click.echo(f"{r.asset:5} {name:12} {format_xn(x, '-'):>9} {x['kupiec_one_sided_p']:8.4f} "
                       f"{x['traffic_light']['zone']:6} ({x['traffic_light']['per_250_days']:.2f} per 250 days; "
                       f"blocks {blocks})")
    r0 = results[0]
    click.echo(f"train {r0.details['train_period'][0]} .. {r0.details['train_period'][1]}, primary "
               f"{r0.details['test_period'][0]} .. {r0.details['test_period'][1]} (UTC); wrote "
               f"{out_dir / 'calibration.json'} (protocol_v2)")
