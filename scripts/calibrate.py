"""ape run calibrate: choose the maintenance haircut's z_maint, tau_fast and tau_slow on
real history and backtest the choice on held-out data (Kupiec 1995, Christoffersen 1998).

For each asset, ``volmargin_lab.calibration.calibrate`` runs the float model of the oracle
(``volmargin.model.OracleModel``) along the longest hourly history (2018-05 .. 2025-06),
counts the days whose loss exceeded the maintenance haircut in force at the day's start
(non-overlapping 1-day windows, target coverage 99 %), picks on 2018-08 .. 2022 the
cheapest candidate (lowest mean haircut) passing both tests at 5 %, and reports both
tests' p-values on 2023-01 .. 2025-06. Three grids: ``zt`` varies z_maint, tau_fast and
tau_slow with every other parameter at its ``volmargin.params`` default; ``extended``
also varies the haircut's base h0 and floor h_min; ``low-floor`` holds the floor at 2 %.
Also fits a GARCH(1,1) (Bollerslev
1986, Student-t) to the daily and hourly log returns for the Monte Carlo.

``--protocol v2`` runs the pre-registered protocol of ``docs/calibration-protocol.md``
(``volmargin_lab.calibration.calibrate_v2``): the volatility model (h_min = 0) on the ``zt``
grid, the stressed floor h_min = the training 99 % loss quantile rounded up to a whole
percent, z_init = z_maint + 1, the primary held-out test (hourly 2023-01 .. 2025-06), the
confirmatory test of the WBTC choice on daily BTC/USD 2014-01 .. 2018-05-14, and the
deployed haircut max(h_min, model) with a one-sided Kupiec test and the Basel traffic light.

Writes OUT/calibration.json and OUT/candidates_<ASSET>_<GRID>.csv (every candidate's
training statistics; ``<GRID>`` = ``v2`` for protocol v2) and prints a table. v1 writes the
top-level keys of calibration.json, v2 its ``protocol_v2`` key; each run keeps the other
protocol's part of an existing file. Needs no chain.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

GRIDS = ("zt", "extended", "low-floor")
PROTOCOLS = ("v1", "v2")


def _grid(name: str) -> dict[str, Any]:
    from volmargin_lab import calibration as C

    return {"zt": C.DEFAULT_GRID, "extended": C.EXTENDED_GRID, "low-floor": C.LOW_FLOOR_GRID}[name]


def _garch(symbol: str) -> dict[str, Any]:
    from volmargin_lab import calibration as C
    from volmargin_lab.data import resample

    bars = C.load_long_history(symbol)
    daily = resample(bars, C.DAY)
    return {
        "daily": C.fit_garch(np.diff(np.log(daily.close)), 365.0).to_dict(),
        "hourly": C.fit_garch(np.diff(np.log(bars.close)), 8_760.0).to_dict(),
    }


def _fmt(x: Any, spec: str) -> str:
    return "-" if x is None else format(x, spec)


@click.command(short_help="Calibrate z_maint/tau on real history; Kupiec and Christoffersen backtests")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for calibration.json and the candidate tables (created).")
@click.option("--asset", type=click.Choice(["WETH", "WBTC", "all"]), default="all", show_default=True,
              help="Asset to calibrate.")
@click.option("--grid", "grids", type=click.Choice([*GRIDS, "all"]), default="all", show_default=True,
              help="zt: z_maint (1.5-4, dimensionless) x tau_fast (6-48 h) x tau_slow (7-60 days), the rest at "
                   "the params.py defaults; extended: also h0 (0-2 %) and h_min (2-10 %), as fractions of the "
                   "collateral value; low-floor: extended with h_min held at 2 %.")
@click.option("--quick", is_flag=True,
              help="Short run for a smoke test: train 2019-07..2020, test 2021, 4 candidates, no GARCH.")
@click.option("--level", type=click.FloatRange(0.5, 0.9999), default=0.99, show_default=True,
              help="Target coverage of the one-day loss (0.99 = 1 % expected exceedance rate).")
@click.option("--garch/--no-garch", default=True, show_default=True,
              help="Also fit GARCH(1,1) to daily and hourly log returns (per-period units) and write it.")
@click.option("--strict", is_flag=True, help="Exit 1 when a chosen calibration fails a held-out test "
              "(v2: the primary test of the model haircut).")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default="v1", show_default=True,
              help="v1: the three grids above (floor included in the backtest); v2: the pre-registered protocol "
                   "of docs/calibration-protocol.md (model backtest at 99 %, stressed floor, confirmatory BTC daily "
                   "test; --grid, --level and --garch do not apply).")
@click.pass_context
def cli(ctx: click.Context, out_dir: Path, asset: str, grids: str, quick: bool, level: float, garch: bool,
        strict: bool, protocol: str) -> None:
    """Calibrate the maintenance haircut and backtest it on held-out data.

    Units: z_maint dimensionless; tau_fast, tau_slow and the 1-day horizon in seconds in
    the JSON (hours / days in the table); haircuts, h0, h_min and loss rates as fractions;
    periods as UTC bar times. With --strict, exits 1 when a chosen calibration fails a
    held-out test (or no candidate passes training).
    """
    from volmargin_lab import calibration as C
    from volmargin_lab.data import DataError

    if out_dir.exists() and not out_dir.is_dir():
        raise click.BadParameter(f"{out_dir} exists and is not a directory", param_hint="--out")
    assets = ["WETH", "WBTC"] if asset == "all" else [asset]
    if protocol == "v2":
        given = [f"--{name}" for name in ("grid", "level", "garch")
                 if ctx.get_parameter_source(name if name != "grid" else "grids")
                 not in (click.core.ParameterSource.DEFAULT, None)]
        if given:
            raise click.UsageError(f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to "
                                   "--protocol v2, which fixes the zt grid, "
                                   "the 99 % level and no GARCH fit (docs/calibration-protocol.md)", ctx=ctx)
        _run_v2(out_dir, assets, quick, strict)
        return
    names = list(GRIDS) if grids == "all" else [grids]
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "target_level": level,
        "test_size": C.TEST_SIZE,
        "horizon_s": C.DAY,
        "windows": "non-overlapping 1-day windows starting 00:00 UTC; loss = 1 - P(end)/P(start) of the collateral",
        "selection": "lowest mean haircut on training among candidates with Kupiec and Christoffersen p >= 0.05 there",
        "quick": quick,
        "assets": {},
    }
    rows = []
    all_passed = True
    for sym in assets:
        entry: dict[str, Any] = {}
        for name in names:
            t0 = time.time()
            try:
                res = C.calibrate(sym, grid=None if quick else _grid(name), quick=quick, level=level)
            except DataError as exc:
                raise click.ClickException(f"price data for {sym}: {exc}") from exc
            entry[name] = _with_candidates_csv(res.to_dict(), out_dir / f"candidates_{sym}_{name}.csv", t0)
            all_passed &= res.passed
            rows.append((sym, name, res))
            if quick:
                break  # the quick grid is the same whatever --grid says
        if garch and not quick:
            entry["garch"] = _garch(sym)
        report["assets"][sym] = entry
    previous = _read_json(out_dir / "calibration.json")
    if "protocol_v2" in previous:
        report["protocol_v2"] = previous["protocol_v2"]
    (out_dir / "calibration.json").write_text(json.dumps(report, indent=2))

    head = (f"{'asset':5} {'grid':9} {'z':>5} {'tau_f':>6} {'tau_s':>6} {'h0':>5} {'h_min':>5} "
            f"{'train x/N':>10} {'test x/N':>9} {'kupiec_p':>8} {'chr_p':>6} {'mean_h':>6}  result")
    click.echo(head)
    for sym, name, r in rows:
        tr = r.details.get("train", {})
        click.echo(
            f"{sym:5} {name:9} {_fmt(r.z_maint, '5.2f')} "
            f"{_fmt(None if r.tau_fast is None else r.tau_fast / 3600, '5.0f')}h "
            f"{_fmt(None if r.tau_slow is None else r.tau_slow / 86400, '5.0f')}d "
            f"{_fmt(r.h0, '5.2f')} {_fmt(r.h_min, '5.2f')} "
            f"{str(tr.get('exceedances', '-')) + '/' + str(tr.get('observations', '-')):>10} "
            f"{str(r.exceedances) + '/' + str(r.observations):>9} {_fmt(r.kupiec_p, '8.4f')} "
            f"{_fmt(r.christoffersen_p, '6.3f')} {_fmt(r.mean_haircut, '6.4f')}  "
            f"{'PASS' if r.passed else ('no candidate passes training' if r.z_maint is None else 'FAIL on held-out')}"
        )
    click.echo(f"train {rows[0][2].train_period[0]} .. {rows[0][2].train_period[1]}, "
               f"test {rows[0][2].test_period[0]} .. {rows[0][2].test_period[1]} (UTC); wrote {out_dir / 'calibration.json'}")
    if strict and not all_passed:
        raise SystemExit(1)


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


def _xn(s: dict[str, Any] | None) -> str:
    return "-" if not s else f"{s['exceedances']}/{s['observations']}"


def _run_v2(out_dir: Path, assets: list[str], quick: bool, strict: bool) -> None:
    """Protocol v2 for ``assets``: writes OUT/calibration.json's ``protocol_v2`` key (keeping the
    rest of an existing file) and OUT/candidates_<ASSET>_v2.csv; prints two tables."""
    from volmargin_lab import calibration as C
    from volmargin_lab.data import DataError

    out_dir.mkdir(parents=True, exist_ok=True)
    section: dict[str, Any] = {
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

    def tests(s: dict[str, Any] | None) -> str:
        return "-" if not s else f"{_xn(s):>11} {s['kupiec_p']:8.4f} {s['christoffersen_p']:6.3f}"

    click.echo("protocol v2: model haircut (h_min = 0), two-sided Kupiec and Christoffersen p at 99 %")
    click.echo(f"{'asset':5} {'z':>5} {'z_init':>6} {'tau_f':>6} {'tau_s':>6} {'h0':>5} {'h_min':>5} "
               f"{'train x/N kupiec_p  chr_p':>24} {'primary x/N kupiec_p  chr_p':>28} "
               f"{'confirm x/N kupiec_p  chr_p':>28}  "
               f"result")
    for r in results:
        verdict = ("PASS" if r.primary_passed else "FAIL on primary held-out") if r.selected else \
            "no candidate passes training: DESIGN defaults kept"
        click.echo(f"{r.asset:5} {r.z_maint:5.2f} {r.z_init:6.2f} {r.tau_fast / 3600:5.0f}h {r.tau_slow / 86400:5.0f}d "
                   f"{r.h0:5.2f} {r.h_min:5.2f} {tests(r.train):>24} {tests(r.primary):>28} "
                   f"{tests(r.confirmatory):>28}  {verdict}")
    click.echo("deployed haircut max(h_min, model): exceedances, one-sided Kupiec p, Basel zone (whole set; "
               "per 250-day block)")
    for r in results:
        for name, x in r.deployed.items():
            blocks = " ".join(b["zone"][0].upper() for b in x["traffic_light_blocks"])
            click.echo(f"{r.asset:5} {name:12} {_xn(x):>9} {x['kupiec_one_sided_p']:8.4f} "
                       f"{x['traffic_light']['zone']:6} ({x['traffic_light']['per_250_days']:.2f} per 250 days; "
                       f"blocks {blocks})")
    r0 = results[0]
    click.echo(f"train {r0.details['train_period'][0]} .. {r0.details['train_period'][1]}, primary "
               f"{r0.details['test_period'][0]} .. {r0.details['test_period'][1]} (UTC); wrote "
               f"{out_dir / 'calibration.json'} (protocol_v2)")
    if strict and not all(r.selected and r.primary_passed for r in results):
        raise SystemExit(1)
