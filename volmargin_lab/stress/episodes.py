"""Run every policy through one real episode, both ways of opening (issue #5 items 1-4).

For each policy the oracle is listed at the episode's first point with the realized variance
of the warm-up window (the feeds' published rounds from the first bar to ``open_at``, per
second; never the market path, ``scenarios`` module docstring) as its seed, and poked through
the warm-up; the oracle reads only the feeds' rounds (``engine.Feed``, driven mode); the accounts then open at ``open_at`` and the episode
runs to its end. Units: USD, seconds, fractions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .engine import Feed, Frictions, SimResult, VaultSim
from .metrics import episode_metrics
from .policies import Policy, make_policy
from .portfolio import book_borrowing_power
from ..population import OPEN_MODES, Population, borrowing_power, make_population, open_balances
from .scenarios import ALL_EPISODES, MarketPath, load_market


def realized_var(prices: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(A,) realized variance per second of simple returns along ``prices`` (S, A) at ``times`` (S,)
    (the episodes pass the feeds' answers on the step grid: each round's return counts once)."""
    if len(times) < 2:
        return np.zeros(prices.shape[1])
    r = np.diff(prices, axis=0) / prices[:-1]
    return (r * r).sum(axis=0) / float(times[-1] - times[0])


@dataclass
class EpisodeRun:
    """Results of one episode: ``metrics[mode][policy]`` dicts, ``results[mode][policy]``
    SimResults, the market path, the population size and the population."""

    name: str
    market: MarketPath
    metrics: dict[str, dict[str, dict[str, Any]]]
    results: dict[str, dict[str, SimResult]]
    n_accounts: int
    var_seed: np.ndarray
    population: Population | None = None


def run_episode(
    name: str,
    policies: list[str | Policy],
    n_accounts: int,
    seed: int,
    frictions: Frictions,
    max_hours: float | None = None,
    progress: Callable[[int], Any] | None = None,
    modes: tuple[str, ...] = OPEN_MODES,
    book: str = "lab",
    forecast_series: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> EpisodeRun:
    """Simulate ``policies`` (names of ``make_policy``, or ``Policy`` objects, keyed by their
    ``name``) on episode ``name`` with ``n_accounts`` seeded accounts, opening each way of
    ``modes`` (a subset of ``OPEN_MODES``; ``identical`` uses the smallest borrowing power over
    ``policies``). ``book`` (``population.BOOKS``): "lab" opens the lab's population with
    ``population.borrowing_power``; "hedged" / "diversified" open the portfolio study's books
    with ``portfolio.book_borrowing_power`` under every policy (its ``portfolio``, or per-asset
    sums without one), so the two margins are compared with one solver. A policy with a
    ``forecast`` gets the keeper's daily pushes (``forecast.keeper_forecasts`` of
    ``forecast_series``, {symbol: ``forecast.keeper_series(symbol)``}; None: fitted here).

    Raises ``volmargin_lab.data.DataError`` for an unknown episode or bad files, ``KeyError`` for
    an unknown policy or opening mode."""
    bad = [m for m in modes if m not in OPEN_MODES]
    if bad:
        raise KeyError(f"unknown opening mode(s) {bad}; known: {', '.join(OPEN_MODES)}")
    if book == "lab" and any(isinstance(p, Policy) and p.portfolio for p in policies):
        raise ValueError("a policy with portfolio margin needs a portfolio book ('hedged' or 'diversified')")
    market = load_market(name, max_hours=max_hours)
    ep = ALL_EPISODES[name]
    syms = market.symbols
    o = market.open_step
    var_seed = realized_var(market.answer[: o + 1], market.times[: o + 1])
    feed = Feed(market.answer[None], market.updated_at[None], market.times)
    pause = np.array([ep.pause_below.get(s, 0.0) for s in syms])
    toxic = ep.toxic[0] if ep.toxic else None
    pop = make_population(n_accounts, seed, syms, toxic, book=book)
    m_open = market.prices[o]
    tokens = pop.collateral_usd / m_open
    warmed: dict[str, VaultSim] = {}
    bp: dict[str, np.ndarray] = {}
    pols = [p if isinstance(p, Policy) else make_policy(p) for p in policies]
    pushes = None
    if any(p.forecast for p in pols):
        from ..forecast import keeper_forecasts

        pushes = keeper_forecasts(syms, market.times, forecast_series)
    for pol in pols:
        pol_name = pol.name
        sim = VaultSim(syms, pol.oracle_model(syms), pol.vault_model(), frictions, market.prices, market.times,
                       var_seed, pause_below=pause, feed=feed, bp_until=np.inf if ep.calm else ep.calm_until,
                       portfolio=pol.portfolio.margin(syms) if pol.portfolio else None,
                       forecast=pushes if pol.forecast else None)
        sim.warm_up(o)
        v = sim.view()
        if book == "lab":
            bp[pol_name] = borrowing_power(tokens, pop.debt_asset, v["price"][0], v["h_init"][0], v["kappa"][0],
                                           v["depth"][0], v["breaker"][0], pol.vault_model().caution_scale)
        else:
            bp[pol_name] = book_borrowing_power(tokens, pop.debt_asset, v["price"][0], v["h_init"][0], sim.portfolio)
        warmed[pol_name] = sim
    smallest = np.min(np.stack([bp[p.name] for p in pols]), axis=0)
    metrics: dict[str, dict[str, dict[str, Any]]] = {m: {} for m in modes}
    results: dict[str, dict[str, SimResult]] = {m: {} for m in modes}
    for mode in modes:
        for pol_name in (p.name for p in pols):
            debt = pop.leverage * (smallest if mode == "identical" else bp[pol_name])
            sim = copy.deepcopy(warmed[pol_name], {id(np): np})  # OracleModel holds its xp module
            sim.open(open_balances(pop, m_open, debt))
            res = sim.run(progress=progress)
            results[mode][pol_name] = res
            metrics[mode][pol_name] = episode_metrics(res, syms, ep.calm_until if not ep.calm else float("inf"))
    return EpisodeRun(name, market, metrics, results, n_accounts, var_seed, pop)
