"""The ``ape run stress`` pipeline: episodes, calibration, Monte Carlo, on-chain subset, report.

Independent work (every episode, each asset's calibration and policy backtest, every Monte
Carlo batch) runs as dask tasks: local processes by default, a ``dask.distributed``
scheduler for the Monte Carlo when an address is given. The on-chain subset runs in this
process on the chain Ape is connected to. Outputs in ``out``: ``summary.json``,
``report.md`` and the PNGs of ``volmargin_lab.stress.report``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .engine import Frictions
from .episodes import EpisodeRun, run_episode
from . import frontier as F
from . import portfolio_study as PS
from ..data import DataError
from .montecarlo import MCConfig, MODELS, compute, fit_models, mc_collect, mc_tasks
from .policies import POLICY_NAMES, make_policy
from ..population import BASE_SHARES, COLLATERAL_USD, KIND_NAMES, LEVERAGE, TOXIC_COLLATERAL_USD, TOXIC_SHARE
from ..monitor import write_stress_page
from .report import verdict, write_report
from .scenarios import STRESS_EPISODES, utc_str
from ..feed import BRIDGE_NOISE, BRIDGE_STEPS, FEED_SPECS, feed_realism

#: --quick: hours simulated after opening, accounts per episode, Monte Carlo size, on-chain bars.
QUICK = {"hours": 24.0, "accounts": 300, "paths": 50, "mc_accounts": 1000, "onchain_steps": 6, "onchain_accounts": 8}


@dataclass
class StressConfig:
    """What to run. Counts >= 1; ``scheduler`` None (local processes), "threads",
    "synchronous" or a dask.distributed address; ``workers`` local dask workers; ``frontier``
    the efficient frontier's grids (``frontier.FrontierConfig``; None: no frontier);
    ``portfolio`` runs the portfolio-margin study (``portfolio_study``)."""

    out: Path
    quick: bool = False
    episodes: list[str] = field(default_factory=lambda: list(STRESS_EPISODES))
    policies: list[str] = field(default_factory=lambda: list(POLICY_NAMES))
    accounts: int = 2000
    paths: int = 1000
    mc_accounts: int = 10_000
    horizon_h: int = 168
    seed: int = 7
    scheduler: str | None = None
    workers: int | None = None
    onchain: bool = True
    onchain_steps: int = 24
    onchain_accounts: int = 30
    onchain_policies: tuple[str, ...] = ("static", "dynamic")
    frontier: F.FrontierConfig | None = None
    portfolio: bool = True


def _episode_task(name: str, policies: list[str], accounts: int, seed: int, fr: Frictions,
                  hours: float | None) -> EpisodeRun:
    return run_episode(name, policies, accounts, seed, fr, max_hours=hours)


def _calibration_task(symbol: str, quick: bool) -> dict[str, Any]:
    """Calibration protocol v2 (``calibrate_v2``) of ``symbol``: the chosen parameters and the
    model haircut's held-out tests at the top level (``kupiec_p``, ``christoffersen_p``, ...
    of the primary test), the confirmatory and deployed-haircut results, and whether
    ``params.CALIBRATED_V2`` (the policy ``dynamic-calibrated``) matches this run's choice
    (None in quick mode). Units as ``V2Result``: fractions, seconds, UTC periods."""
    from .. import calibration as C
    from volmargin import params as P

    r = C.calibrate_v2(symbol, quick=quick)
    pr = r.primary or {}
    d: dict[str, Any] = {
        "asset": symbol, "protocol": "v2", "selected": r.selected,
        "z_maint": r.z_maint, "z_init": r.z_init, "tau_fast": r.tau_fast, "tau_slow": r.tau_slow,
        "h0": r.h0, "h_min": r.h_min, "h_min_quantile": r.h_min_quantile,
        "kupiec_p": pr.get("kupiec_p"), "christoffersen_p": pr.get("christoffersen_p"),
        "exceedances": pr.get("exceedances"), "observations": pr.get("observations"),
        "mean_haircut": pr.get("mean_haircut"), "passed": bool(r.primary_passed),
        "target_level": C.TARGET_LEVEL,
        "train_period": r.details["train_period"], "test_period": r.details.get("test_period"),
        "train": r.train, "primary": r.primary, "confirmatory": r.confirmatory,
        "confirmatory_period": (r.details.get("confirmatory") or {}).get("test_period"),
        "deployed": r.deployed, "deployed_in_oracle": r.deployed_in_oracle,
        "design_defaults_model": r.details.get("design_defaults_model"),
        "unresolved_tie": r.unresolved_tie,
    }
    lit = P.CALIBRATED_V2.get(symbol, {})
    got = {"z_maint": r.z_maint, "z_init": r.z_init, "tau_fast": r.tau_fast, "tau_slow": r.tau_slow, "h0": r.h0,
           "h_min": r.h_min}
    d["policy_literals_match"] = None if quick else all(abs(float(lit.get(k, math.nan)) - float(v)) < 1e-12
                                                         for k, v in got.items())
    return d


def _backtest_task(symbol: str, policies: list[str], quick: bool) -> dict[str, dict[str, Any]]:
    """Held-out backtest (99 %, 1-day windows) of each policy's maintenance haircut on the long history."""
    from .. import calibration as C
    from volmargin import model as M
    from volmargin import params as P

    bars = C.load_long_history(symbol)
    times = bars.timestamp + bars.resolution_s
    prices = bars.close
    if quick:
        t0, split, t1 = C.QUICK_WINDOW
        keep = (times >= t0 - C.BURN_IN_S) & (times <= t1)
        prices, times = prices[keep], times[keep]
    else:
        split = C.TEST_START
    op = M.OracleParams.from_wad([make_policy(p).oracle[symbol] for p in policies])
    seed = next(t for t in P.TOKENS if t.symbol == symbol).var_seed / 1e18
    win = C.haircut_windows(prices, times, op, 86_400, var_seed=seed, start=int(times[0]) + C.BURN_IN_S)
    test = win.start >= split
    out = {}
    for k, pol in enumerate(policies):
        hits = win.loss_long[test] > win.h_maint[k, test]
        x, n = int(hits.sum()), int(hits.size)
        _, pk = C.kupiec_pof(x, n, C.TARGET_LEVEL)
        _, pc = C.christoffersen_ind(hits)
        out[pol] = {"kupiec_p": pk, "christoffersen_p": pc, "exceedances": x, "observations": n,
                    "mean_haircut": float(win.h_maint[k, test].mean()), "first_window_utc": utc_str(win.start[test][0])}
    return out


def _clean(x: Any) -> Any:
    """JSON-ready: numpy to Python, non-finite floats to None."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


#: Data caveats every report lists (after any Monte Carlo or calibration note of the run).
DATA_NOTES: tuple[str, ...] = (
    "USDT-quoted files are read as USD prices (crash-2021-05, ftx-2022-11 BTC/FTT/1-minute legs, usdc-2023-03 "
    "ETH/BTC, crash-2024-08).",
    "No intrabar path where only closes exist: ftx-2022-11 BTC and FTT hourly, LUNA hourly, USDC 15-minute, "
    "ETH/BTC hourly in usdc-2023-03 (close-only files: the feeds run on the closes, which under-state the volatility "
    "a feed on finer data sees; see Feed realism).",
    "1-minute data exist only for ETH from 2021-05-15 15:24 and for ETH/BTC/FTT on 2022-11-08 22:31 .. 11-09 15:12; "
    "elsewhere the finest are 5-minute (2021-05, 2024-08) or hourly bars.",
    "No LUNA or FTT price before their episodes: their oracles are seeded with the realized variance of the "
    "warm-up window like every asset; no UST leg (only daily UST data: ust_usd_2022-05_1d.csv is not used).",
    "The USDC depeg uses irregular 15-minute closes (88 gaps, 132 missing bars in the source).",
)


def run_stress(
    cfg: StressConfig,
    command: str,
    onchain_fn: Callable[[str, int, int], dict[str, Any]] | None = None,
    echo: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """Run everything ``cfg`` asks for and write the outputs; returns the summary.

    ``onchain_fn(policy, steps, accounts)`` runs the on-chain subset (None: skipped).
    Units of the summary: USD, fractions, seconds, UTC times (see ``scripts/stress.py``)."""
    t_all = time.time()
    walls: dict[str, float] = {}
    cfg.out.mkdir(parents=True, exist_ok=True)
    fr = Frictions()
    notes: list[str] = []

    t = time.time()
    points = _frontier_points(cfg)
    walls["frontier_floors"] = time.time() - t
    t = time.time()
    graph = _task_graph(cfg, fr, notes, points)
    walls["model_fits"] = time.time() - t
    runs, cal_out, mc_parts, fr_parts = _compute_graph(cfg, graph, echo, walls)
    mc, mc_summary = _monte_carlo_summary(cfg, graph, mc_parts)
    calibration, backtest = _calibration_summary(cfg, graph, cal_out)

    # ---- on-chain subset
    t = time.time()
    onchain: dict[str, Any] = {}
    if cfg.onchain and onchain_fn is not None:
        steps = QUICK["onchain_steps"] if cfg.quick else cfg.onchain_steps
        n_oc = QUICK["onchain_accounts"] if cfg.quick else cfg.onchain_accounts
        for pol in cfg.onchain_policies:
            if pol in cfg.policies:
                echo(f"on-chain subset, {pol}: {steps} bars x {n_oc} accounts")
                onchain[pol] = onchain_fn(pol, steps, n_oc)
    walls["onchain"] = time.time() - t

    # ---- summary
    summary: dict[str, Any] = {
        "command": command,
        "quick": cfg.quick,
        "seed": cfg.seed,
        "accounts_per_episode": cfg.accounts,
        "policies": {p: make_policy(p).summary(("USD", "WETH", "WBTC", "LUNA", "FTT")) for p in cfg.policies},
        "episodes": {run.name: _episode_summary(run, backtest) for run in runs},
        "monte_carlo": mc_summary,
        "calibration": calibration,
        "policy_backtest": backtest,
        "onchain": onchain,
        "assumptions": _assumptions(fr),
        "data_notes": notes + list(DATA_NOTES),
    }
    # ---- feed realism (volmargin_lab.feed): the bridge of the hourly-only spans against the fine data
    summary["feed_realism"] = feed_realism()
    summary["verdict"] = verdict(summary)
    if cfg.frontier is not None:
        t = time.time()
        _frontier_summary(cfg, fr, points, fr_parts, summary, echo)
        walls["frontier_checks"] = time.time() - t
    if cfg.portfolio:
        t = time.time()
        keys, tasks = PS.study_tasks(PS.QUICK_ACCOUNTS if cfg.quick else PS.ACCOUNTS, cfg.seed, fr, cfg.quick)
        fkeys, ftasks = PS.forecast_tasks(cfg.quick)
        mkeys, mtasks = PS.mc_study_tasks(cfg.seed, fr, cfg.quick)
        n, nf = len(tasks), len(ftasks)
        echo(f"portfolio-margin study (episodes and Monte Carlo) and forecast-volatility backtest: "
             f"{n + nf + len(mtasks)} tasks")
        done = compute(tasks + ftasks + mtasks, _local(cfg.scheduler), cfg.workers)
        summary["portfolio"] = PS.portfolio_summary(keys, done[:n], cfg.quick, forecast=dict(zip(fkeys, done[n: n + nf])),
                                                    monte_carlo=PS.mc_study_summary(mkeys, done[n + nf:]))
        walls["portfolio"] = time.time() - t
    walls["total"] = time.time() - t_all
    summary["wall_seconds"] = walls
    summary = _clean(summary)
    t = time.time()
    (cfg.out / "summary.json").write_text(json.dumps(summary, indent=2))  # the figures survive a report failure
    write_report(summary, runs, mc, cfg.out)
    write_stress_page(summary, cfg.out)
    summary["wall_seconds"]["report"] = time.time() - t
    (cfg.out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


@dataclass
class _Graph:
    """The dask tasks of one run: ``episodes`` (one per episode), ``calibration`` (per asset:
    ``_calibration_task`` then ``_backtest_task``; empty when ``cal_ok`` is False, with the
    reason in ``cal_reason``), the Monte Carlo batches ``mc`` with their path-model ``mc_keys``,
    the fitted path ``models`` (None when the Monte Carlo is skipped) and its config ``mcc``."""

    episodes: list[Any]
    calibration: list[Any]
    cal_ok: bool
    cal_reason: str
    mc: list[Any]
    mc_keys: list[str]
    models: Any
    mcc: MCConfig
    frontier: list[Any] = field(default_factory=list)


def _frontier_points(cfg: StressConfig) -> list[dict[str, Any]]:
    """The frontier's grid points (``frontier.grid_points``, floors re-derived from the training
    history); [] without a frontier."""
    if cfg.frontier is None:
        return []
    return F.grid_points(cfg.frontier, F.training_floors(cfg.frontier.horizons_h, quick=cfg.quick))


def _frontier_summary(cfg: StressConfig, fr: Frictions, points: list[dict[str, Any]], parts: list[Any],
                      summary: dict[str, Any], echo: Callable[[str], Any]) -> None:
    """Add ``frontier`` (the table), ``frontier_config``, ``frontier_needed`` and the frontier
    verdict keys (``frontier.frontier_verdict``, on top of the lab's) to ``summary``; runs the
    selection rule's training checks (``frontier.walk_checks``) and the chosen point's held-out
    identical-opening and coverage checks (``frontier.check_chosen``)."""
    fc = cfg.frontier
    assert fc is not None
    rows = F.frontier_table(fc, points, parts)
    st = F.static_point(rows)
    cands = F.eligible(rows, st)
    echo(f"frontier: {len(cands)} eligible points; training checks of the first {min(len(cands), fc.max_walk)}")
    walk = F.walk_checks(fc, st, cands, cfg.seed, fr, cfg.quick, _local(cfg.scheduler), cfg.workers) if cands else []
    name = F.chosen_name(walk)
    walked = {w["name"]: w["identical_train"] for w in walk}  # identical openings the walk already ran
    ch = next((r for r in rows if r["name"] == name), None)
    need = F.needed(rows, st)
    identical = coverage = None
    if ch is not None:
        echo(f"frontier: chosen {ch['name']}; held-out identical openings and coverage test")
        identical, coverage = F.check_chosen(fc, st, ch, cfg.seed, fr, cfg.quick, _local(cfg.scheduler), cfg.workers,
                                             known=walked.get(ch["name"]))
    elif need["least_bad_debt_at_goal_gain"] is not None:  # no choice: the same checks as a diagnostic only
        diag = next(r for r in rows if r["name"] == need["least_bad_debt_at_goal_gain"]["name"])
        echo(f"frontier: nothing chosen; diagnostic checks of {diag['name']}")
        idt, cov = F.check_chosen(fc, st, diag, cfg.seed, fr, cfg.quick, _local(cfg.scheduler), cfg.workers,
                                  known=walked.get(diag["name"]))
        lost = tuple(e for e, x in idt.items() if x["chosen"] > x["static"])
        frictionless = F.identical_openings(fc, st, diag, lost, cfg.seed, replace(fr, frictionless=True),
                                            _local(cfg.scheduler), cfg.workers) if lost else {}
        need["least_bad_debt_at_goal_gain"].update({"identical_openings": idt, "coverage": cov,
                                                    "identical_frictionless": frictionless})
    summary["frontier"] = rows
    summary["frontier_config"] = {**fc.as_dict(), "static_aave_point_is_static_policy": F.static_aave_matches_lab(),
                                  "points": len(points)}
    summary["frontier_needed"] = need
    summary["verdict"].update(F.frontier_verdict(rows, walk, identical, coverage))


def _local(scheduler: str | None) -> str | None:
    """The local dask scheduler the lab's episodes use (a remote address runs them locally)."""
    return scheduler if scheduler in (None, "processes", "threads", "synchronous") else None


def _task_graph(cfg: StressConfig, fr: Frictions, notes: list[str], points: list[dict[str, Any]]) -> _Graph:
    """Every independent piece as a dask task: episodes, calibrations, policy backtests, the
    frontier's grid points and the Monte Carlo batches (path models fitted here). A skipped part
    is explained in ``notes``."""
    import dask

    hours = QUICK["hours"] if cfg.quick else None
    tasks = [dask.delayed(_episode_task)(e, cfg.policies, cfg.accounts, cfg.seed, fr, hours) for e in cfg.episodes]
    cal_tasks: list[Any] = []
    try:
        from .. import calibration as _C  # noqa: F401

        cal_ok, cal_reason = True, ""
        for s in ("WETH", "WBTC"):
            cal_tasks.append(dask.delayed(_calibration_task)(s, cfg.quick))
            cal_tasks.append(dask.delayed(_backtest_task)(s, cfg.policies, cfg.quick))
    except ImportError as exc:
        cal_ok, cal_reason = False, f"volmargin_lab.calibration is not importable ({exc})"

    n_paths = QUICK["paths"] if cfg.quick else cfg.paths
    n_acc = QUICK["mc_accounts"] if cfg.quick else cfg.mc_accounts
    mcc = MCConfig(n_paths=n_paths, n_accounts=n_acc, horizon_h=cfg.horizon_h, seed=cfg.seed, batch=min(25, n_paths))
    mc_list: list[Any] = []
    mc_keys: list[str] = []
    models = None
    try:
        models = fit_models(quick=cfg.quick, garch=cal_ok)
        which = MODELS if cal_ok else ("gbm-jump",)
        if not cal_ok:
            notes.append("GARCH Monte Carlo skipped: volmargin_lab.calibration unavailable.")
        mc_list, mc_keys = mc_tasks(mcc, tuple(cfg.policies), models, fr, which)
    except (ImportError, DataError) as exc:
        notes.append(f"Monte Carlo skipped: {exc}")
    fr_tasks = F.frontier_tasks(cfg.frontier, points, cfg.seed, fr) if cfg.frontier is not None else []
    return _Graph(tasks, cal_tasks, cal_ok, cal_reason, mc_list, mc_keys, models, mcc, fr_tasks)


def _compute_graph(
    cfg: StressConfig, g: _Graph, echo: Callable[[str], Any], walls: dict[str, float]
) -> tuple[list[EpisodeRun], list[Any], list[Any], list[Any]]:
    """Run ``g`` in one local dask graph, so that no worker idles while another finishes a long
    episode (the Monte Carlo on ``cfg.scheduler`` instead when that is a dask.distributed
    address); returns the episode runs, the calibration outputs, the Monte Carlo parts and the
    frontier parts and records the wall seconds in ``walls``."""
    remote = cfg.scheduler not in (None, "processes", "threads", "synchronous")
    local_tasks = g.episodes + g.calibration + g.frontier + ([] if remote else g.mc)
    echo(f"episodes ({len(cfg.episodes)}) x policies ({len(cfg.policies)}) x 2 openings"
         + (", calibration and policy backtests" if g.cal_ok else "")
         + (f", Monte Carlo {g.mcc.n_paths} paths x {g.mcc.n_accounts} accounts x {len(set(g.mc_keys))} models "
            f"in {len(g.mc)} tasks" if g.mc and not remote else "")
         + (f", frontier in {len(g.frontier)} tasks" if g.frontier else "") + ":")
    t = time.time()
    done = compute(local_tasks, None if remote else cfg.scheduler, cfg.workers)
    n_ep, n_cal, n_fr = len(g.episodes), len(g.calibration), len(g.frontier)
    runs: list[EpisodeRun] = list(done[:n_ep])
    cal_out = list(done[n_ep: n_ep + n_cal])
    fr_parts = list(done[n_ep + n_cal: n_ep + n_cal + n_fr])
    mc_parts = list(done[n_ep + n_cal + n_fr:])
    walls["dask_local"] = time.time() - t
    if remote and g.mc:
        t = time.time()
        echo(f"Monte Carlo on {cfg.scheduler}: {len(g.mc)} tasks")
        mc_parts = list(compute(g.mc, cfg.scheduler, cfg.workers))
        walls["dask_remote"] = time.time() - t
    return runs, cal_out, mc_parts, fr_parts


def _monte_carlo_summary(
    cfg: StressConfig, g: _Graph, mc_parts: list[Any]
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The Monte Carlo results per model and policy (with the samples, for the plots; None when
    skipped) and their summary entry (without the samples; {} when skipped)."""
    if not g.mc or g.models is None:
        return None, {}
    mc = mc_collect(mc_parts, g.mc_keys, tuple(cfg.policies))
    mc_summary = {
        "config": asdict(g.mcc),
        "scheduler": cfg.scheduler or f"local dask processes ({cfg.workers or 'one per CPU'})",
        "models": g.models.describe(),
        "results": {m: {p: {k: v for k, v in x.items() if not k.startswith("samples")} for p, x in r.items()}
                    for m, r in mc.items()},
    }
    mc_summary["models"]["source"] = ("the last 2,000 hourly returns of each long history (--quick)" if cfg.quick
                                      else "the whole long hourly histories (2018-05 .. 2025-06)")
    return mc, mc_summary


def _calibration_summary(
    cfg: StressConfig, g: _Graph, cal_out: list[Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The summary's ``calibration`` entry (per asset, ``_calibration_task``'s output) and its
    ``policy_backtest`` entry (per policy and asset, ``_backtest_task``'s output)."""
    calibration: dict[str, Any] = {"available": g.cal_ok}
    backtest: dict[str, dict[str, Any]] = {p: {} for p in cfg.policies}
    if g.cal_ok:
        calibration["assets"] = {}
        for i, s in enumerate(("WETH", "WBTC")):
            calibration["assets"][s] = cal_out[2 * i]
            for pol, x in cal_out[2 * i + 1].items():
                backtest[pol][s] = x
        calibration["quick"] = cfg.quick
    else:
        calibration["reason"] = g.cal_reason
    return calibration, backtest


def _episode_summary(run: EpisodeRun, backtest: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One episode's summary entry: its data and window (UTC), every metric by opening mode
    (``by_mode``) and the headline figures per policy (``fraction`` opening; USD, fractions)
    with the policy's WETH held-out backtest p-values."""
    ep = STRESS_EPISODES[run.name]
    m = run.market
    e: dict[str, Any] = {
        "description": ep.description,
        "files": m.files,
        "resolution": m.resolution,
        "close_only": m.close_only,
        "toxic": list(ep.toxic),
        "calm": ep.calm,
        "start_utc": utc_str(m.times[0]),
        "open_utc": utc_str(m.times[m.open_step]),
        "end_utc": utc_str(m.times[-1]),
        "calm_until_utc": utc_str(min(ep.calm_until, m.times[-1])),
        "steps": int(len(m.times) - 1 - m.open_step),
        "accounts": run.n_accounts,
        "var_seed_annual_vol": dict(zip(m.symbols, np.sqrt(run.var_seed * 31_536_000).tolist())),
        "feed_built_from": m.built_from,
        "feed_rounds": m.rounds,
        "by_mode": run.metrics,
        "policies": {},
    }
    for pol, x in run.metrics["fraction"].items():
        e["policies"][pol] = {
            "bad_debt_usd": x["bad_debt_usd"],
            "bad_debt_pct_of_borrows": x["bad_debt_pct_of_borrows"],
            "liquidations": x["liquidations"],
            "calm_borrowing_power": x["calm_borrowing_power"],
            "kupiec_p": backtest.get(pol, {}).get("WETH", {}).get("kupiec_p"),
            "christoffersen_p": backtest.get(pol, {}).get("WETH", {}).get("christoffersen_p"),
        }
    return e


def _assumptions(fr: Frictions) -> dict[str, Any]:
    """The summary's ``assumptions``: the frictions, the population and the other modelling choices."""
    return {
        "frictions": fr.as_dict(),
        "population": {"kinds": list(KIND_NAMES), "shares (before toxic)": list(BASE_SHARES),
                       "toxic share": TOXIC_SHARE, "collateral USD (log-uniform)": list(COLLATERAL_USD),
                       "toxic collateral USD (log-uniform)": list(TOXIC_COLLATERAL_USD),
                       "leverage (uniform, fraction of borrowing power)": list(LEVERAGE)},
        "other": {
            "feeds": {s: {"deviation": f.deviation, "heartbeat_s": f.heartbeat_s} for s, f in FEED_SPECS.items()},
            "feed path": "1- and 5-minute bars: closes; hourly OHLC bars: seeded bridge pinned to open, low, high, "
                         f"close ({BRIDGE_STEPS} points a bar, Brownian noise {BRIDGE_NOISE} x the bar's Garman-Klass "
                         "variance); close-only bars: closes. The oracle reads only the feeds' rounds; engine steps at "
                         "the rounds' times",
            "oracle seed": "realized variance per second of the feeds' rounds in the warm-up window (first bar to "
                           "opening), per asset",
            "feed pause": "LUNA/USD stops updating below 0.107 USD (Chainlink paused it on 2022-05-12)",
            "interest": "not accrued in the model (below 0.5 % of a debt over a month at the default rates)",
            "accounts": "no new borrowing, repayment or top-up during an episode",
            "market impact": "liquidations do not move the historical market path",
        },
    }
