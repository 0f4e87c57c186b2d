"""Replay a real price episode through the deployed contracts (the main job).

The replay deploys the system on the connected Ape network, opens a seeded
population of leveraged accounts, then for each historical bar: pushes the
bar's close into the mock feeds, pokes the oracle, compares every number the
chain reports (prices, sigmas, haircuts, breaker states, every account's
balances and health sums) with ``volmargin.reference`` run on the same
inputs, and lets a keeper liquidate every liquidatable account.

Simplifications of this main-job replay (DESIGN §10 allows them; the report
states them): feeds update once per bar at the bar's close, the keeper is
frictionless (no slippage, no gas, no latency beyond the bar), the
stablecoin holds 1.00 USD where the episode has no stablecoin file.
"""

from __future__ import annotations

import csv
import json
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from volmargin import params as P
from volmargin import reference as ref
from .data import Bars, load_episode, EPISODES
from volmargin.chain.deploy import deploy_system, fund
from volmargin.chain.lens import read_accounts, read_assets

WAD = ref.WAD


@dataclass(frozen=True)
class Position:
    """One account of the seeded population.

    ``collateral`` maps a symbol to whole-token amounts (float); ``borrow``
    is the symbol borrowed and ``leverage`` the fraction (0..1) of the
    account's borrowing power it draws.
    """

    kind: str
    collateral: dict[str, float]
    borrow: str
    leverage: float


def make_population(n: int, seed: int, prices: dict[str, float]) -> list[Position]:
    """A deterministic population of ``n`` leveraged accounts.

    Kinds (shares): long ETH (WETH collateral, USD debt) 35 %, long BTC 25 %,
    long ETH+BTC 25 %, short ETH (USD collateral, WETH debt) 15 %.
    Collateral value is log-uniform in [5k, 200k] USD; leverage uniform in
    [0.55, 0.99] of borrowing power (seeded ``numpy`` PCG64 generator).
    """
    if n < 1:
        raise ValueError(f"accounts must be >= 1, got {n}")
    rng = np.random.Generator(np.random.PCG64(seed))
    kinds = rng.choice(["long_eth", "long_btc", "long_mix", "short_eth"], size=n, p=[0.35, 0.25, 0.25, 0.15])
    out = []
    for kind in kinds:
        usd = float(np.exp(rng.uniform(np.log(5e3), np.log(2e5))))
        lev = float(rng.uniform(0.55, 0.99))
        if kind == "long_eth":
            out.append(Position(str(kind), {"WETH": usd / prices["WETH"]}, "USD", lev))
        elif kind == "long_btc":
            out.append(Position(str(kind), {"WBTC": usd / prices["WBTC"]}, "USD", lev))
        elif kind == "long_mix":
            w = float(rng.uniform(0.2, 0.8))
            out.append(
                Position(str(kind), {"WETH": w * usd / prices["WETH"], "WBTC": (1 - w) * usd / prices["WBTC"]}, "USD", lev)
            )
        else:
            out.append(Position(str(kind), {"USD": usd}, "WETH", lev))
    return out


def max_borrow(vref: ref.VaultRef, account: str, asset: str, decimals: int, now: int) -> int:
    """Largest borrow of ``asset`` (token decimals) that keeps initial health >= 0, by bisection on the reference."""
    lo, hi = 0, 1
    probe = _clone(vref)

    def ok(amount: int) -> bool:
        trial = _clone(probe)
        try:
            trial.borrow(account, asset, amount, now)
            return True
        except ref.Reject:
            return False

    while ok(hi):
        lo, hi = hi, hi * 2
        if hi > 10 ** (decimals + 12):
            break
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def _clone(v: ref.VaultRef) -> ref.VaultRef:
    from dataclasses import replace as _r

    return _r(
        v,
        markets={k: _r(m) for k, m in v.markets.items()},
        scaled=dict(v.scaled),
        masks=dict(v.masks),
    )


@dataclass
class Parity:
    """Counts of chain-vs-reference comparisons, with the first mismatches."""

    checks: int = 0
    mismatches: int = 0
    examples: list[str] = field(default_factory=list)

    def check(self, what: str, chain: Any, reference: Any) -> None:
        """Compare one number (or tuple) from the chain with the reference."""
        self.checks += 1
        if chain != reference:
            self.mismatches += 1
            if len(self.examples) < 20:
                self.examples.append(f"{what}: chain={chain} reference={reference}")


@dataclass
class ReplayResult:
    """Everything the replay writes: the summary and the per-step rows."""

    summary: dict[str, Any]
    steps: list[dict[str, Any]]


def _usd(x: int) -> float:
    return x / WAD


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
        Population size (>= 1); borrowers are test accounts beyond the
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
    symbols_with_data = [s for s in ("WETH", "WBTC") if s in bars]
    stable_file = EPISODES[episode].files.get("USD")
    times = bars[symbols_with_data[0]].timestamp
    n_bars = len(times)
    last = n_bars if max_steps is None else min(n_bars, max_steps + 1)
    step_s = int(times[1] - times[0]) if n_bars > 1 else 3600

    def close(sym: str, i: int) -> float:
        if sym == "USD":
            return float(bars["USD"].close[i]) if "USD" in bars else 1.0
        return float(bars[sym].close[i])

    test_accounts = accounts.test_accounts
    admin, lender, liquidator = test_accounts[0], test_accounts[1], test_accounts[2]
    borrowers = [test_accounts[3 + k] for k in range(n_accounts)]

    prices0 = {s: close(s, 0) for s in ("USD", "WETH", "WBTC")}
    system = deploy_system(project, admin, start_prices=prices0, lender=lender, seed_liquidity=P.SEED_LIQUIDITY)
    vault, vref = system.vault, system.vault_ref
    addr = {s: system.address(s) for s in system.symbols}
    sym_of = {a: s for s, a in addr.items()}
    dec = {s: system.specs[s].decimals for s in system.symbols}

    # --- the population
    population = make_population(n_accounts, seed, prices0)
    for s in system.symbols:
        fund(system, liquidator, s, 10**9 * 10 ** dec[s])
        system.tokens[s].mint(admin.address, 10**12 * 10 ** dec[s], sender=admin)
        system.tokens[s].approve(vault.address, 2**256 - 1, sender=admin)
    opened = 0
    for acct, pos in zip(borrowers, population):
        a = str(acct.address)
        for s, whole in pos.collateral.items():
            amount = int(whole * 10 ** dec[s])
            r = vault.deposit(addr[s], amount, a, sender=admin)
            vref.deposit(a, addr[s], amount, r.timestamp)
        now = chain.pending_timestamp
        amount = int(max_borrow(vref, a, addr[pos.borrow], dec[pos.borrow], now) * pos.leverage)
        if amount > 0:
            r = vault.borrow(addr[pos.borrow], amount, sender=acct)
            vref.borrow(a, addr[pos.borrow], amount, r.timestamp)
            opened += 1

    parity = Parity()
    steps: list[dict[str, Any]] = []
    liquidations = 0
    liq_volume_usd = 0.0
    bad_debt_usd = 0.0
    trips = 0
    prev_breaker = {s: ref.NORMAL for s in system.symbols}
    breaker_steps = {s: {name: 0 for name in ref.BREAKER_NAMES.values()} for s in system.symbols}
    sig_min = {s: float("inf") for s in system.symbols}
    sig_max = {s: 0.0 for s in system.symbols}
    hm_min = {s: float("inf") for s in system.symbols}
    hm_max = {s: 0.0 for s in system.symbols}
    borrower_addrs = [str(b.address) for b in borrowers]
    t_base = max(int(chain.blocks.head.timestamp), int(chain.pending_timestamp)) + step_s
    last_usd_push = -(10**9)

    for i in range(1, last):
        chain.pending_timestamp = t_base + (i - 1) * step_s
        for s in symbols_with_data:
            system.push_price(s, close(s, i))
        if "USD" in bars or i - last_usd_push >= P.DAY // step_s:
            system.push_price("USD", close("USD", i))
            last_usd_push = i
        system.poke()

        # --- parity: assets
        ts, snaps = read_assets(system.oracle, [addr[s] for s in system.symbols])
        oref = system.oracle_ref
        for snap in snaps:
            a = str(snap.asset)
            s = sym_of[a]
            st = oref.assets[a]
            parity.check(f"{s}.price", int(snap.price), st.price)
            parity.check(f"{s}.var_fast", int(snap.var_fast), st.var_fast)
            parity.check(f"{s}.var_slow", int(snap.var_slow), st.var_slow)
            parity.check(f"{s}.sigma_annual", int(snap.sigma_annual), oref.sigma(a, ref.SECONDS_PER_YEAR))
            parity.check(f"{s}.h_maint", int(snap.h_maint), oref.h_maint_now(a, int(ts)))
            parity.check(f"{s}.h_init", int(snap.h_init), oref.h_init(a))
            parity.check(f"{s}.breaker", int(snap.breaker), st.breaker)
            sig = _usd(int(snap.sigma_annual))
            hm = _usd(int(snap.h_maint))
            sig_min[s], sig_max[s] = min(sig_min[s], sig), max(sig_max[s], sig)
            hm_min[s], hm_max[s] = min(hm_min[s], hm), max(hm_max[s], hm)
            if int(snap.breaker) == ref.REDUCE_ONLY and prev_breaker[s] != ref.REDUCE_ONLY:
                trips += 1
            prev_breaker[s] = int(snap.breaker)
            breaker_steps[s][ref.BREAKER_NAMES[int(snap.breaker)]] += 1

        # --- parity: accounts; find the liquidatable ones
        ts, views = read_accounts(vault, borrower_addrs)
        unhealthy = []
        for v in views:
            a = str(v.account)
            h = vref.health(a, ts)
            for k, s in enumerate(system.symbols):
                parity.check(f"{a[:8]}.{s}.balance", int(v.balances[k]), vref.balance(a, addr[s], ts))
            parity.check(f"{a[:8]}.maint_assets", int(v.health.maint_assets), h.maint_assets)
            parity.check(f"{a[:8]}.maint_liabilities", int(v.health.maint_liabilities), h.maint_liabilities)
            parity.check(f"{a[:8]}.init_assets", int(v.health.init_assets), h.init_assets)
            parity.check(f"{a[:8]}.init_liabilities", int(v.health.init_liabilities), h.init_liabilities)
            if int(v.health.maint_assets) < int(v.health.maint_liabilities):
                unhealthy.append(a)

        # --- keeper: liquidate every liquidatable account (frictionless)
        step_liqs = 0
        step_volume = 0.0
        for a in unhealthy:
            for _round in range(8):
                now = int(chain.pending_timestamp)
                try:
                    h = vref.health(a, now)
                except ref.Reject:
                    break
                if h.maint_assets >= h.maint_liabilities:
                    break
                debt_sym, col_sym = _pick_pair(vref, a, addr, now)
                if debt_sym is None or col_sym is None:
                    break
                try:
                    receipt = vault.liquidate(
                        a, addr[debt_sym], addr[col_sym], 2**256 - 1, 0, sender=liquidator
                    )
                except Exception as exc:  # the chain refused: the reference must refuse too
                    expected = _expect_reject(vref, liquidator, a, addr[debt_sym], addr[col_sym], now)
                    parity.check(f"{a[:8]}.liquidate_reverts", True, expected is not None)
                    if expected is None:
                        parity.examples.append(f"liquidate reverted on chain only: {exc}")
                    break
                repaid, seized, _cut, settled = vref.liquidate(
                    str(liquidator.address), a, addr[debt_sym], addr[col_sym], 2**256 - 1, 0, receipt.timestamp
                )
                ev = [e for e in receipt.events if e.event_name == "Liquidation"][0]
                parity.check(f"{a[:8]}.repaid", int(ev.repaid), repaid)
                parity.check(f"{a[:8]}.seized", int(ev.seized), seized)
                price = system.oracle_ref.assets[addr[debt_sym]].price
                vol = _usd(ref.liability_value(repaid, price, dec[debt_sym]))
                step_volume += vol
                step_liqs += 1
                for asset, debt, _covered, _loss in settled:
                    bad_debt_usd += _usd(ref.liability_value(debt, system.oracle_ref.assets[asset].price, vref.decimals[asset]))
                if settled:
                    break
        liquidations += step_liqs
        liq_volume_usd += step_volume

        row: dict[str, Any] = {
            "step": i,
            "bar_time": int(times[i]),
            "bar_utc": datetime.fromtimestamp(int(times[i]), tz=timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "chain_time": ts,
        }
        for snap in snaps:
            s = sym_of[str(snap.asset)]
            row[f"{s}_price"] = _usd(int(snap.price))
            row[f"{s}_sigma_annual"] = _usd(int(snap.sigma_annual))
            row[f"{s}_h_maint"] = _usd(int(snap.h_maint))
            row[f"{s}_h_init"] = _usd(int(snap.h_init))
            row[f"{s}_breaker"] = ref.BREAKER_NAMES[int(snap.breaker)]
        row.update(
            liquidatable=len(unhealthy),
            liquidations=step_liqs,
            liquidation_volume_usd=round(step_volume, 2),
            bad_debt_usd_cum=round(bad_debt_usd, 2),
        )
        steps.append(row)
        if progress is not None:
            progress(1)

    summary: dict[str, Any] = {
        "episode": episode,
        "description": EPISODES[episode].description,
        "files": dict(EPISODES[episode].files),
        "stablecoin": "from file" if stable_file else "held at 1.00 USD (no stablecoin file for this episode)",
        "steps": last - 1,
        "bar_seconds": step_s,
        "accounts": n_accounts,
        "accounts_opened": opened,
        "seed": seed,
        "liquidations": liquidations,
        "liquidation_volume_usd": round(liq_volume_usd, 2),
        "bad_debt_usd": round(bad_debt_usd, 2),
        "parity_checks": parity.checks,
        "parity_mismatches": parity.mismatches,
        "parity_examples": parity.examples,
        "breaker_trips": trips,
        "assets": {
            s: {
                "sigma_annual_min": sig_min[s],
                "sigma_annual_max": sig_max[s],
                "haircut_maint_min": hm_min[s],
                "haircut_maint_max": hm_max[s],
                "steps_in_breaker_state": breaker_steps[s],
            }
            for s in system.symbols
        },
        "insurance_fund": {s: vref.markets[addr[s]].insurance / 10 ** dec[s] for s in system.symbols},
        "simplifications": [
            "feeds update once per bar, at the bar's close (no deviation/heartbeat cadence, no intrabar path)",
            "frictionless keeper: liquidates every liquidatable account each bar, no slippage or gas",
            "stablecoin at 1.00 USD unless the episode has a stablecoin file",
        ],
        "wall_seconds": round(time.time() - started, 1),
        "deployment": system.to_json(),
    }
    return ReplayResult(summary, steps)


def _pick_pair(vref: ref.VaultRef, account: str, addr: dict[str, str], now: int) -> tuple[str | None, str | None]:
    """Largest debt (by value) and largest collateral (by value) of an account."""
    best_debt: tuple[float, str | None] = (0.0, None)
    best_col: tuple[float, str | None] = (0.0, None)
    for s, a in addr.items():
        bal = vref.balance(account, a, now)
        price = vref.oracle.assets[a].price
        v = abs(bal) * price / 10 ** vref.decimals[a]
        if bal < 0 and v > best_debt[0]:
            best_debt = (v, s)
        elif bal > 0 and v > best_col[0]:
            best_col = (v, s)
    return best_debt[1], best_col[1]


def _expect_reject(vref: ref.VaultRef, liquidator: Any, account: str, debt: str, col: str, now: int) -> str | None:
    trial = _clone(vref)
    try:
        trial.liquidate(str(liquidator.address), account, debt, col, 2**256 - 1, 0, now)
    except ref.Reject as exc:
        return exc.reason
    return None


def write_outputs(result: ReplayResult, out: Path) -> None:
    """Write ``summary.json``, ``steps.csv`` and ``report.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(result.summary, indent=2))
    if result.steps:
        with (out / "steps.csv").open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(result.steps[0]))
            w.writeheader()
            w.writerows(result.steps)
    (out / "report.md").write_text(render_report(result))


def render_report(result: ReplayResult) -> str:
    """A short Markdown report of a replay."""
    s = result.summary
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
        f"- wall time: {s['wall_seconds']} s",
        "",
        "| asset | sigma annual min | sigma annual max | h_maint min | h_maint max |",
        "|---|---|---|---|---|",
    ]
    for sym, a in s["assets"].items():
        lines.append(
            f"| {sym} | {a['sigma_annual_min']:.1%} | {a['sigma_annual_max']:.1%} | "
            f"{a['haircut_maint_min']:.2%} | {a['haircut_maint_max']:.2%} |"
        )
    lines += ["", "Steps in each circuit-breaker state:", "", "| asset | NORMAL | CAUTION | REDUCE_ONLY |", "|---|---|---|---|"]
    for sym, a in s["assets"].items():
        b = a["steps_in_breaker_state"]
        lines.append(f"| {sym} | {b['NORMAL']} | {b['CAUTION']} | {b['REDUCE_ONLY']} |")
    lines += ["", "Simplifications of this replay (DESIGN §10):", ""]
    lines += [f"- {x}" for x in s["simplifications"]]
    lines += ["", "Parameters (WAD = 1e18; variances WAD/s; times s) are in `summary.json` under `deployment`;",
              "their defaults and sources are documented in `volmargin/params.py`."]
    if s["parity_examples"]:
        lines += ["", "First mismatches:", ""] + [f"- {x}" for x in s["parity_examples"]]
    return "\n".join(lines) + "\n"
