"""Replay a real price episode through the deployed contracts (the main job).

The replay deploys the system on the connected Ape network, opens a seeded
population of leveraged accounts, then for each historical bar: pushes into the mock
feeds the last round each asset's Chainlink-like feed published during the bar
(``volmargin_lab.feed``: deviation threshold and heartbeat per asset, run over the finest real
path of the bars; nothing when the feed published no round), pokes the oracle, compares every
number the chain reports (prices, sigmas, haircuts, breaker states, every account's
balances and health sums) with ``volmargin.reference`` run on the same
inputs, and lets a keeper liquidate every liquidatable account.

This is the exact configuration of ``volmargin.chain.driver`` (``exact_configuration``);
the population is ``volmargin_lab.population``'s, opened at each account's leverage times
the model's borrowing power at the listing (``population.open_at_leverage``).

Simplifications of this main-job replay (docs/design.md §10 allows them; the report
states them): the feeds push at most one round per bar (the last one they published in it), the keeper is
frictionless (no slippage, no gas, no latency beyond the bar), the
stablecoin holds 1.00 USD where the episode has no stablecoin file.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from volmargin import model as M
from volmargin import params as P
from volmargin import reference as ref
from volmargin.chain.deploy import System, deploy_system
from volmargin.chain.driver import EpisodeResult, exact_configuration, listing_model, run_episode

from .data import Bars, EPISODES, load_episode
from .feed import feed_path, feed_spec, path_seed, publish_rounds
from .monitor import write_replay_page
from .population import make_population, open_at_leverage

SIMPLIFICATIONS: tuple[str, ...] = (
    "feeds push at most one round per bar: the last round their deviation/heartbeat feed published during the bar "
    "(earlier rounds of the same bar are not pushed; see `feed` for the counts)",
    "frictionless keeper: liquidates every liquidatable account each bar, no slippage or gas",
    "stablecoin at 1.00 USD unless the episode has a stablecoin file",
)


@dataclass
class ReplayResult:
    """Everything the replay writes: the summary and the per-step rows."""

    summary: dict[str, Any]
    steps: list[dict[str, Any]]


def run_replay(
    project: Any,
    chain: Any,
    accounts: Any,
    episode: str,
    n_accounts: int = 50,
    seed: int = 7,
    max_steps: int | None = None,
    progress: Callable[[int], Any] | None = None,
) -> ReplayResult:
    """Deploy, open the population, replay ``episode`` and hold the chain to the reference.

    Parameters
    ----------
    project, chain, accounts
        Ape's ``project``, ``chain`` and ``accounts`` (the connected network).
    episode
        A key of ``volmargin_lab.data.EPISODES``; ``DataError`` otherwise.
    n_accounts
        Population size (>= 1, else ValueError); borrowers are test accounts beyond the
        admin, lender and liquidator.
    seed
        Seed of the population generator.
    max_steps
        Replay only the first ``max_steps`` bars after the opening bar.
    progress
        Called with the number of steps done after each step (a progress bar).
    """
    started = time.time()
    bars = load_episode(episode)
    times = bars[[s for s in ("WETH", "WBTC") if s in bars][0]].timestamp
    last = len(times) if max_steps is None else min(len(times), max_steps + 1)
    step_s = int(times[1] - times[0]) if len(times) > 1 else 3600
    ta = accounts.test_accounts
    admin, lender, liquidator = ta[0], ta[1], ta[2]
    borrowers = [ta[3 + k] for k in range(n_accounts)]
    prices, start, feed_info = feed_prices(episode, bars, last, step_s)
    system = deploy_system(project, admin, start_prices=start, lender=lender, seed_liquidity=P.SEED_LIQUIDITY)
    checker, keeper = exact_configuration(system, str(liquidator.address))
    opening = opening_balances(system, n_accounts, seed)
    result = run_episode(system, chain, borrowers, liquidator, opening, prices, step_s, checker, keeper, progress)
    steps = step_table(result, times)
    summary = _summary(episode, system, result, steps, n_accounts=n_accounts, seed=seed, bar_seconds=step_s)
    summary["feed"] = feed_info
    summary["wall_seconds"] = round(time.time() - started, 1)
    summary["deployment"] = system.to_json()
    return ReplayResult(summary, steps.to_dict("records"))


def feed_prices(
    episode: str, bars: dict[str, Bars], last: int, step_s: int
) -> tuple[dict[str, np.ndarray], dict[str, float], dict[str, dict[str, Any]]]:
    """The feeds' pushes of steps 1..``last - 1``, the listing prices and what the feeds are built from.

    Step i ends at ``timestamp[i] + step_s`` (bar i's close). Per asset with data, its feed
    (``feed.FEED_SPECS``) runs over the finest real path of its bars (``feed.feed_path``, seeded
    by episode, symbol and file as in the stress lab); step i pushes the last round published
    after step i - 1 and up to its end (NaN: no round, no push); the listing price is the last
    round at step 0. The stablecoin without a file holds 1.00 USD, pushed once a day (its feed's
    heartbeat). Returns (symbol -> (last - 1,) USD in push order: the assets with data, then the
    stablecoin; symbol -> listing USD; symbol -> {built_from, deviation, heartbeat_s,
    rounds_published, rounds_pushed})."""
    ref_sym = [s for s in ("WETH", "WBTC") if s in bars][0]
    ends = bars[ref_sym].timestamp[:last].astype(np.float64) + step_s
    out: dict[str, np.ndarray] = {}
    start: dict[str, float] = {}
    info: dict[str, dict[str, Any]] = {}
    for s in [x for x in ("WETH", "WBTC") if x in bars] + (["USD"] if "USD" in bars else []):
        f = EPISODES[episode].files[s]
        t, p, what = feed_path(bars[s], path_seed(episode, s, f))
        spec = feed_spec(s)
        rt, rp = publish_rounds(t, p, spec)
        j = np.maximum(np.searchsorted(rt, ends, side="right") - 1, 0)
        new = np.r_[False, j[1:] > j[:-1]]
        out[s] = np.where(new, rp[j], np.nan)[1:]
        start[s] = float(rp[j[0]])
        info[s] = {"built_from": f"{f}: {what}", "deviation": spec.deviation, "heartbeat_s": spec.heartbeat_s,
                   "rounds_published": int(((rt > ends[0]) & (rt <= ends[-1])).sum()), "rounds_pushed": int(new.sum())}
    if "USD" not in bars:
        usd = np.full(last - 1, np.nan)
        usd[np.arange(last - 1) % (P.DAY // step_s) == 0] = 1.0
        out["USD"], start["USD"] = usd, 1.0
        info["USD"] = {"built_from": "no stablecoin file: held at 1.00 USD, pushed once a day (its heartbeat)",
                       "rounds_pushed": int(np.isfinite(usd).sum())}
    return out, start, info


def opening_balances(system: System, n_accounts: int, seed: int) -> np.ndarray:
    """(N, A) opening balances (whole tokens): the seeded population
    (``population.make_population``) at its leverage times the model's borrowing power
    under the deployed parameters at the listing (feed answers, seed variances)."""
    params = M.OracleParams.from_wad([system.specs[s].oracle for s in system.symbols])
    oracle = listing_model(system, params)
    caution = system.vault_ref.params[ref.V_CAUTION_SCALE] / ref.WAD
    pop = make_population(n_accounts, seed, tuple(system.symbols))
    return open_at_leverage(pop, oracle.price, oracle.h_init_now(oracle.h_time), params.kappa, params.depth, oracle.breaker, caution)


def step_table(result: EpisodeResult, times: np.ndarray) -> pd.DataFrame:
    """The driver's rows with each bar's time (Unix s and UTC), USD rounded to cents."""
    df = pd.DataFrame(result.rows)
    if df.empty:
        return df
    bar_time = times[df["step"].to_numpy()].astype(int)
    df.insert(1, "bar_time", bar_time)
    df.insert(2, "bar_utc", pd.to_datetime(bar_time, unit="s", utc=True).strftime("%Y-%m-%d %H:%M"))
    for col in ("liquidation_volume_usd", "bad_debt_usd_cum"):
        df[col] = [round(float(x), 2) for x in df[col]]
    return df


def asset_ranges(steps: pd.DataFrame, symbols: list[str]) -> dict[str, dict[str, Any]]:
    """Per asset: annualized sigma and maintenance haircut ranges (fractions) over the steps,
    and the number of steps in each circuit-breaker state."""
    out: dict[str, dict[str, Any]] = {}
    for s in symbols:
        counts = steps[f"{s}_breaker"].value_counts()
        out[s] = {
            "sigma_annual_min": float(steps[f"{s}_sigma_annual"].min()),
            "sigma_annual_max": float(steps[f"{s}_sigma_annual"].max()),
            "haircut_maint_min": float(steps[f"{s}_h_maint"].min()),
            "haircut_maint_max": float(steps[f"{s}_h_maint"].max()),
            "steps_in_breaker_state": {name: int(counts.get(name, 0)) for name in ref.BREAKER_NAMES.values()},
        }
    return out


def breaker_trips(steps: pd.DataFrame, symbols: list[str]) -> int:
    """Entries into REDUCE_ONLY over all assets (every asset starts NORMAL)."""
    trips = 0
    for s in symbols:
        state = steps[f"{s}_breaker"]
        trips += int(((state == "REDUCE_ONLY") & (state.shift(fill_value="NORMAL") != "REDUCE_ONLY")).sum())
    return trips


def _summary(episode: str, system: System, result: EpisodeResult, steps: pd.DataFrame, *, n_accounts: int,
             seed: int, bar_seconds: int) -> dict[str, Any]:
    """The summary's figures (USD, whole tokens, fractions; see ``render_report``)."""
    spec = EPISODES[episode]
    syms = system.symbols
    vref = system.vault_ref
    return {
        "episode": episode,
        "description": spec.description,
        "files": dict(spec.files),
        "stablecoin": "from file" if spec.files.get("USD") else "held at 1.00 USD (no stablecoin file for this episode)",
        "steps": len(steps),
        "bar_seconds": bar_seconds,
        "accounts": n_accounts,
        "accounts_opened": result.opened,
        "seed": seed,
        "liquidations": result.liquidations,
        "liquidation_volume_usd": round(result.liquidation_volume_usd, 2),
        "bad_debt_usd": round(result.bad_debt_usd, 2),
        "parity_checks": result.parity.checks,
        "parity_mismatches": result.parity.mismatches,
        "parity_examples": result.parity.examples,
        "breaker_trips": breaker_trips(steps, syms) if len(steps) else 0,
        "assets": asset_ranges(steps, syms) if len(steps) else {},
        "insurance_fund": {s: vref.markets[system.address(s)].insurance / 10 ** system.specs[s].decimals
                           for s in syms},
        "simplifications": list(SIMPLIFICATIONS),
    }


def write_outputs(result: ReplayResult, out: Path) -> None:
    """Write ``summary.json``, ``steps.csv``, ``report.md`` and the risk page ``index.html``
    (with its PNG plots, ``volmargin_lab.monitor.write_replay_page``) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(result.summary, indent=2))
    if result.steps:
        pd.DataFrame(result.steps).to_csv(out / "steps.csv", index=False)
    (out / "report.md").write_text(render_report(result))
    if result.steps:
        write_replay_page(result.summary, result.steps, out)


def render_report(result: ReplayResult) -> str:
    """A short Markdown report of a replay (tables by ``DataFrame.to_markdown``)."""
    s = result.summary
    assets = pd.DataFrame.from_dict(s["assets"], orient="index")
    ranges = pd.DataFrame({
        "asset": assets.index,
        "sigma annual min": [f"{x:.1%}" for x in assets.get("sigma_annual_min", [])],
        "sigma annual max": [f"{x:.1%}" for x in assets.get("sigma_annual_max", [])],
        "h_maint min": [f"{x:.2%}" for x in assets.get("haircut_maint_min", [])],
        "h_maint max": [f"{x:.2%}" for x in assets.get("haircut_maint_max", [])],
    })
    states = pd.DataFrame([{"asset": sym, **a["steps_in_breaker_state"]} for sym, a in s["assets"].items()])
    lines = [
        f"# volmargin replay: {s['episode']}",
        "",
        s["description"],
        "",
        f"- data files: {', '.join(f'{k}: `{v}`' for k, v in s['files'].items())}; stablecoin {s['stablecoin']}",
        f"- steps: {s['steps']} bars of {s['bar_seconds']} s; accounts: {s['accounts']} "
        f"({s['accounts_opened']} with debt), seed {s['seed']}",
        f"- liquidations: {s['liquidations']} (volume {s['liquidation_volume_usd']:,.0f} USD); "
        f"bad debt: {s['bad_debt_usd']:,.2f} USD",
        f"- circuit-breaker trips (entries into REDUCE_ONLY): {s['breaker_trips']}",
        f"- parity with `volmargin.reference`: {s['parity_checks']} checks, {s['parity_mismatches']} mismatches",
        *[f"- feed {k}: {v['built_from']}; rounds pushed {v['rounds_pushed']}"
          + (f" of {v['rounds_published']} published (deviation {v['deviation']:.2%}, heartbeat {v['heartbeat_s']:.0f} s)"
             if "rounds_published" in v else "") for k, v in s.get("feed", {}).items()],
        f"- wall time: {s['wall_seconds']} s",
        "",
        ranges.to_markdown(index=False, disable_numparse=True),
        "",
        "Steps in each circuit-breaker state:",
        "",
        states.to_markdown(index=False) if len(states) else "(no steps)",
        "",
        "Simplifications of this replay (docs/design.md §10):",
        "",
        *[f"- {x}" for x in s["simplifications"]],
        "",
        "Parameters (WAD = 1e18; variances WAD/s; times s) are in `summary.json` under `deployment`;",
        "their defaults and sources are documented in `volmargin/params.py`.",
    ]
    if s["parity_examples"]:
        lines += ["", "First mismatches:", ""] + [f"- {x}" for x in s["parity_examples"]]
    return "\n".join(lines) + "\n"
