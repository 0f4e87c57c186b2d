"""Portfolio margin against per-asset margin in the stress lab (issue #14 item 3, portfolio part;
protocol: docs/portfolio-study.md).

Two policies on the same oracle vectors: ``per-asset`` (the lab's ``dynamic`` policy: the
defaults, as the risk-model issue chose no other winner) and ``portfolio`` (the same with
``portfolio.PortfolioSpec``: WETH-WBTC correlation bounds from the training history at the
oracle's horizon, offsets capped at ``FLOOR_FRAC`` of the per-asset sum). Two books
(``population.make_population(book=...)``): ``hedged`` and ``diversified``. Every crash episode
of the frontier's split and both calm windows; each policy opens at its own borrowing power
(``fraction``), both with ``portfolio.book_borrowing_power``.

Outputs (``portfolio_summary``): per book the calm borrowing power gain of portfolio over
per-asset margin on the training calm window (and the held-out one), per episode and book the
bad debt of both, the largest ratio of portfolio to per-asset bad debt (0 when both are 0), the
correlation fits; ``forecast_adopted`` from the forecast-volatility backtest
(``volmargin_lab.forecast``, docs/forecast-study.md).
Units: USD, fractions, hours.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np

from .engine import Frictions, SimResult
from .episodes import EpisodeRun, run_episode
from .frontier import HELDOUT_CALM, HELDOUT_CRASHES, TRAIN_CALM, TRAIN_CRASHES, ratio
from .policies import Policy, make_policy
from .portfolio import book_borrowing_power, fit_portfolio

#: docs/portfolio-study.md: the offset cap (the requirement never falls below this fraction of
#: the per-asset sum) and the books.
FLOOR_FRAC = 0.5
#: docs/portfolio-study.md, Deviations 2: how the forecast policies enter the keeper's forecast:
#: the forecast study's candidate (docs/forecast-study.md: the mode passing on training with the
#: lowest mean haircut), fixed here before these policies' first run.
FORECAST_MODE = "replace"
STUDY_BOOKS: tuple[str, ...] = ("hedged", "diversified")
#: Accounts per episode and book (--quick: ``QUICK_ACCOUNTS``, 24 h after opening).
ACCOUNTS = 400
QUICK_ACCOUNTS = 100
#: Calm borrowing power is averaged over at most this many evenly spaced steps of the calm window.
BP_STEPS = 240
#: docs/portfolio-study.md, Deviations 1: the correlated Monte Carlo (jump-diffusion), its regimes
#: (None: the fitted WETH-WBTC correlation; a number replaces it) and size (--quick: ``QUICK_MC``).
MC_REGIMES: dict[str, float | None] = {"fitted": None, "broken": -0.5}
MC = {"paths": 200, "accounts": 1000, "horizon_h": 168, "batch": 25}
QUICK_MC = {"paths": 20, "accounts": 200, "horizon_h": 24, "batch": 10}


@lru_cache(maxsize=2)
def study_policies(quick: bool = False) -> tuple[Policy, Policy, Policy, Policy]:
    """(per-asset, portfolio, forecast, portfolio+forecast): the lab's ``dynamic`` policy without
    and with portfolio margin at the WETH oracle's horizon (``fit_portfolio``, stressed bounds,
    ``FLOOR_FRAC``), and both with the risk keeper's GARCH forecast (``FORECAST_MODE``, the
    oracle's default bounds); cached per process (the fit reads the long histories). The Monte
    Carlo runs the first two only: its paths have no history for a keeper to fit."""
    base = make_policy("dynamic")
    horizon_h = base.oracle["WETH"].horizon / 3600.0
    spec = fit_portfolio(horizon_h, FLOOR_FRAC, quick=quick)
    per_asset = replace(base, name="per-asset")
    portfolio = replace(base, name="portfolio", portfolio=spec,
                        description=f"dynamic with portfolio margin (WETH-WBTC bounds at {horizon_h:g} h, floor "
                                    f"{FLOOR_FRAC:g} of the per-asset sum)")
    keeper = f"a risk keeper's daily GARCH(1,1)-t forecast, {FORECAST_MODE} (docs/design.md §3.7)"
    return (per_asset, portfolio,
            per_asset.with_forecast(FORECAST_MODE, "forecast", f"dynamic with {keeper}"),
            portfolio.with_forecast(FORECAST_MODE, "portfolio+forecast", f"{portfolio.description}, with {keeper}"))


def calm_book_bp(run: EpisodeRun, pol: Policy, res: SimResult, until: float) -> float:
    """Mean over the calm window (opening to ``until``, at most ``BP_STEPS`` steps) of the book's
    borrowing power: USD the accounts may borrow (``book_borrowing_power`` at each step's oracle
    prices and initial haircuts, under ``pol``'s margin) per USD of their collateral."""
    pop = run.population
    assert pop is not None
    tokens = pop.collateral_usd / run.market.prices[run.market.open_step]
    pm = pol.portfolio.margin(run.market.symbols) if pol.portfolio else None
    steps = np.flatnonzero((res.times >= res.times[res.open_step]) & (res.times <= until))
    steps = steps[np.linspace(0, len(steps) - 1, min(len(steps), BP_STEPS)).astype(int)] if len(steps) else steps
    vals = []
    for k in steps:
        p, hi = res.price[0, k], res.h_init[0, k]
        x = book_borrowing_power(tokens, pop.debt_asset, p, hi, pm)
        vals.append(float((x * p[pop.debt_asset]).sum() / (tokens * p).sum()))
    return float(np.mean(vals)) if vals else math.nan


def study_task(episode: str, book: str, accounts: int, seed: int, fr: Frictions, max_hours: float | None,
               pols: tuple[Policy, ...], series: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
               ) -> dict[str, dict[str, float]]:
    """One dask task: the study policies ``pols`` (``study_policies``, fitted once by the caller)
    on ``episode`` with ``book``, the forecast policies pushing ``series`` (``forecast.keeper_series``
    per symbol, fitted once by the caller); per policy ``bad_debt_usd``, ``liquidation_volume_usd``,
    ``borrows_open_usd`` and, on a calm window, ``calm_bp`` (``calm_book_bp``)."""
    from .scenarios import ALL_EPISODES

    run = run_episode(episode, list(pols), accounts, seed, fr, max_hours=max_hours, modes=("fraction",), book=book,
                      forecast_series=series)
    ep = ALL_EPISODES[episode]
    out: dict[str, dict[str, float]] = {}
    for pol in pols:
        m, res = run.metrics["fraction"][pol.name], run.results["fraction"][pol.name]
        out[pol.name] = {k: float(m[k]) for k in ("bad_debt_usd", "liquidation_volume_usd", "borrows_open_usd")}
        if ep.calm:
            out[pol.name]["calm_bp"] = calm_book_bp(run, pol, res, math.inf)
    return out


def study_tasks(accounts: int, seed: int, fr: Frictions, quick: bool) -> tuple[list[tuple[str, str]], list[Any]]:
    """(keys, dask.delayed tasks): every (episode, book) of docs/portfolio-study.md."""
    import dask

    hours = 24.0 if quick else None
    from ..forecast import FORECAST_SYMBOLS, keeper_series

    pols = study_policies(quick)  # the correlation fit runs here once, not in every worker
    series = {s: keeper_series(s) for s in FORECAST_SYMBOLS}  # so do the keeper's GARCH fits
    keys = [(e, b) for e in (TRAIN_CALM, HELDOUT_CALM) + TRAIN_CRASHES + HELDOUT_CRASHES for b in STUDY_BOOKS]
    return keys, [dask.delayed(study_task)(e, b, accounts, seed, fr, hours, pols, series) for e, b in keys]


def forecast_tasks(quick: bool) -> tuple[list[str], list[Any]]:
    """(symbols, dask.delayed tasks): ``forecast.backtest`` of WETH and WBTC (docs/forecast-study.md)."""
    import dask

    from .. import forecast as FC

    syms = ["WETH", "WBTC"]
    return syms, [dask.delayed(FC.backtest)(s, quick) for s in syms]


def mc_study_tasks(seed: int, fr: Frictions, quick: bool) -> tuple[list[tuple[str, str]], list[Any]]:
    """(keys (regime, book) per task, dask.delayed ``montecarlo.simulate_batch`` tasks): both study
    policies on jump-diffusion paths in every ``MC_REGIMES`` regime and ``STUDY_BOOKS`` book."""
    import dask

    from .montecarlo import MCConfig, fit_models, simulate_batch

    size = QUICK_MC if quick else MC
    cfg = MCConfig(n_paths=size["paths"], n_accounts=size["accounts"], horizon_h=size["horizon_h"],
                   batch=size["batch"], seed=seed)
    models = fit_models(quick=quick, garch=False)
    pols = study_policies(quick)[:2]  # no keeper on synthetic paths
    keys, tasks = [], []
    for regime, rho in MC_REGIMES.items():
        for b in STUDY_BOOKS:
            for i, start in enumerate(range(0, cfg.n_paths, cfg.batch)):
                n = min(cfg.batch, cfg.n_paths - start)
                tasks.append(dask.delayed(simulate_batch)("gbm-jump", pols, i, n, cfg, models, fr, b, rho))
                keys.append((regime, b))
    return keys, tasks


def mc_study_summary(keys: list[tuple[str, str]], parts: list[dict[str, dict[str, np.ndarray]]]) -> dict[str, Any]:
    """``{"by_regime": {regime: {book: {policy: tail_stats of bad debt (USD), "borrows_usd_mean"}}},
    "mc_es99_ratio_max"}``: the 99 % expected shortfall ratio portfolio / per-asset, largest over
    regimes and books (0 when both are 0; None when unbounded)."""
    from .metrics import tail_stats

    by: dict[str, dict[str, dict[str, Any]]] = {}
    ratios = []
    for regime, b in dict.fromkeys(keys):
        mine = [p for p, k in zip(parts, keys) if k == (regime, b)]
        cell = {}
        for name in ("per-asset", "portfolio"):
            bad = np.concatenate([p[name]["bad_debt_usd"] for p in mine])
            cell[name] = {**tail_stats(bad), "paths": int(bad.size),
                          "borrows_usd_mean": float(np.concatenate([p[name]["borrows_usd"] for p in mine]).mean())}
        by.setdefault(regime, {})[b] = cell
        ratios.append(ratio(cell["portfolio"]["es99"], cell["per-asset"]["es99"]))
    worst = max(ratios) if ratios else None
    return {"by_regime": by, "regimes": {k: v for k, v in MC_REGIMES.items()},
            "mc_es99_ratio_max": None if worst is not None and math.isinf(worst) else worst,
            "mc_es99_ratio_unbounded": bool(worst is not None and math.isinf(worst))}


def forecast_policy_summary(by: dict[str, dict[str, dict[str, dict[str, float]]]]) -> dict[str, Any]:
    """The forecast policies beside per-asset margin (issue #14 item 3): ``mode``; per book the calm
    borrowing power gains (training and held-out calm windows) of "forecast" and
    "portfolio+forecast" over "per-asset", and each policy's frontier point (``points``: calm
    borrowing power per USD of collateral and summed crash bad debt, USD, training and held-out);
    ``bad_debt_ratio_max`` of "forecast" and of "portfolio+forecast" over "per-asset" (0 when both
    are 0, None when unbounded). Books or episodes without the forecast policies are left out."""
    out: dict[str, Any] = {"mode": FORECAST_MODE, "by_book": {}}
    names = ("per-asset", "portfolio", "forecast", "portfolio+forecast")
    ratios: dict[str, list[float]] = {"forecast": [], "portfolio+forecast": []}
    for b, eps in by.items():
        if not all("forecast" in x for x in eps.values()) or not eps:
            continue
        cell: dict[str, Any] = {"points": {}}
        for key, ep in (("", TRAIN_CALM), ("_heldout", HELDOUT_CALM)):
            x = eps.get(ep)
            for n in ("forecast", "portfolio+forecast"):
                cell[f"{n}_calm_bp_gain{key}"] = (x[n]["calm_bp"] / x["per-asset"]["calm_bp"] - 1.0) if x else None
        for n in names:
            cell["points"][n] = {
                "calm_bp": eps[TRAIN_CALM][n].get("calm_bp") if TRAIN_CALM in eps else None,
                "calm_bp_heldout": eps[HELDOUT_CALM][n].get("calm_bp") if HELDOUT_CALM in eps else None,
                "bad_debt_train_usd": sum(eps[e][n]["bad_debt_usd"] for e in TRAIN_CRASHES if e in eps),
                "bad_debt_heldout_usd": sum(eps[e][n]["bad_debt_usd"] for e in HELDOUT_CRASHES if e in eps),
            }
        for e, x in eps.items():
            if e in TRAIN_CRASHES + HELDOUT_CRASHES:
                for n in ratios:
                    ratios[n].append(ratio(x[n]["bad_debt_usd"], x["per-asset"]["bad_debt_usd"]))
        out["by_book"][b] = cell
    for n, rs in ratios.items():
        worst = max(rs) if rs else None
        out[f"{n}_bad_debt_ratio_max"] = None if worst is not None and math.isinf(worst) else worst
    return out


def portfolio_summary(keys: list[tuple[str, str]], parts: list[dict[str, dict[str, float]]],
                      quick: bool = False, forecast: dict[str, dict[str, Any]] | None = None,
                      monte_carlo: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``portfolio`` object of ``summary.json`` (issue #14): ``hedged_calm_bp_gain`` and
    ``diversified_calm_bp_gain`` (portfolio / per-asset calm borrowing power - 1, training calm
    window; ``_heldout``: the held-out one), ``bad_debt_ratio_max`` (largest portfolio /
    per-asset bad debt over the crash episodes and books; 0 when both 0, None for an unbounded
    ratio), ``forecast_adopted`` (``forecast.adoption`` of ``forecast``, ``{symbol:
    forecast.backtest(...)}``; False without it), ``forecast`` (the backtests, the candidate mode
    and the adoption), ``by_episode`` ({book: {episode: {policy: figures}}}), ``correlations``
    (the fitted bounds), the study's ``floor_frac``, ``monte_carlo`` (``mc_study_summary``, None
    when not run) and its ``mc_es99_ratio_max``."""
    from .. import forecast as FC

    by: dict[str, dict[str, dict[str, dict[str, float]]]] = {b: {} for b in STUDY_BOOKS}
    for (e, b), part in zip(keys, parts):
        by[b][e] = part
    out: dict[str, Any] = {}
    for b in STUDY_BOOKS:
        for key, ep in (("", TRAIN_CALM), ("_heldout", HELDOUT_CALM)):
            x = by[b].get(ep)
            out[f"{b}_calm_bp_gain{key}"] = (x["portfolio"]["calm_bp"] / x["per-asset"]["calm_bp"] - 1.0) if x else None
    ratios = [ratio(x["portfolio"]["bad_debt_usd"], x["per-asset"]["bad_debt_usd"])
              for b in STUDY_BOOKS for e, x in by[b].items() if e in TRAIN_CRASHES + HELDOUT_CRASHES]
    worst = max(ratios) if ratios else None
    out["bad_debt_ratio_max"] = None if worst is not None and math.isinf(worst) else worst
    out["bad_debt_ratio_unbounded"] = bool(worst is not None and math.isinf(worst))
    adopt = FC.adoption(forecast) if forecast else {"candidate": None, "adopted": False}
    out["forecast_adopted"] = adopt["adopted"]
    out["forecast"] = {"by_asset": forecast or {}, **adopt}
    out["forecast_policies"] = forecast_policy_summary(by)
    out["floor_frac"] = FLOOR_FRAC
    out["correlations"] = study_policies(quick)[1].portfolio.summary()
    out["by_episode"] = by
    out["monte_carlo"] = monte_carlo
    out["mc_es99_ratio_max"] = (monte_carlo or {}).get("mc_es99_ratio_max")
    out["train_crashes"], out["heldout_crashes"] = list(TRAIN_CRASHES), list(HELDOUT_CRASHES)
    return out
