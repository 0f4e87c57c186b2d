"""ape run bench_model: throughput (and optionally agreement) of the vectorized model, volmargin.model.

Needs no chain (no network is connected):

    ape run bench_model --out reports/bench/model.json
    ape run bench_model --steps 4000 --paths 4 --tolerance

Times ``health_paths`` (oracle model along the paths + maintenance health of
every account at every step) on ``--accounts`` x 3 assets (USD, WETH, WBTC
with the default parameters) x ``--steps`` hourly steps of a seeded
jump-diffusion, and reports ``model_account_steps_per_s`` = accounts x steps
x paths / median wall time, with the core count. ``--tolerance`` adds the
worst disagreement with the exact integer reference over a seeded sweep (the
"measured" column of the model's docstring).
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import statistics
import time
from pathlib import Path

import click
import numpy as np

from volmargin import model as M
from volmargin import params as P
from volmargin import reference as ref
from volmargin.cli import Command, OutFile

F = float(ref.WAD)
HOUR = 3_600


def _paths(paths: int, steps: int, seed: int) -> np.ndarray:
    """(paths, steps, 3) USD prices: a flat stablecoin and two jump-diffusions (80 %, 65 % a year)."""
    rng = np.random.default_rng(seed)
    dt = HOUR / ref.SECONDS_PER_YEAR
    sig = np.array([0.0, 0.8, 0.65])
    logr = rng.normal(0, 1, size=(paths, steps - 1, 3)) * sig * math.sqrt(dt) - 0.5 * sig**2 * dt
    logr += rng.normal(-0.1, 0.1, size=logr.shape) * (rng.random(logr.shape) < 5 * dt)  # ~5 jumps a year
    logr[..., 0] = 0.0
    start = np.array([s.start_price_usd for s in P.TOKENS])
    return start * np.exp(np.concatenate([np.zeros((paths, 1, 3)), np.cumsum(logr, axis=1)], axis=1))


def _book(accounts: int, seed: int) -> np.ndarray:
    """(accounts, 3) whole-token balances: ETH and BTC collateral against USD debt, some shorts."""
    rng = np.random.default_rng(seed)
    bal = np.column_stack([-rng.uniform(0, 5e4, accounts), rng.uniform(0, 20, accounts), rng.uniform(0, 1, accounts)])
    short = rng.random(accounts) < 0.1
    bal[short, 0] = rng.uniform(1e4, 5e4, short.sum())
    bal[short, 1] = -rng.uniform(0, 5, short.sum())
    return bal


def bench(accounts: int, steps: int, paths: int, repeat: int, chunk: int, xp_name: str) -> dict:
    """Time ``health_paths`` (and ``oracle_paths``) ``repeat`` times on a seeded (paths, steps, 3) USD
    price array and an (accounts, 3) whole-token book; returns the JSON dict written by ``--out``
    (account-steps per second, wall seconds, core count, versions, worst maintenance health, USD).
    ``xp_name`` names the array module (``numpy``, ``cupy``)."""
    xp = np if xp_name == "numpy" else __import__(xp_name)
    params = M.OracleParams.from_wad([s.oracle for s in P.TOKENS], xp=xp)
    seed = np.array([s.var_seed for s in P.TOKENS]) / F
    prices = _paths(paths, steps, 1)
    bal = _book(accounts, 2)
    if xp is not np:
        prices, bal = xp.asarray(prices), xp.asarray(bal)
    pp = prices[0] if paths == 1 else prices
    out = xp.empty(pp.shape[:-1] + (accounts,), dtype=xp.float64)
    M.health_paths(bal[:10], pp[..., :10, :], params, seed, xp=xp)  # warm up
    sync = getattr(getattr(xp, "cuda", None), "Device", None)

    def timed(fn) -> float:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        fn()
        if sync is not None:
            sync().synchronize()
        return time.perf_counter() - started

    total = [timed(lambda: M.health_paths(bal, pp, params, seed, chunk=chunk, out=out, xp=xp)) for _ in range(repeat)]
    oracle = [timed(lambda: M.oracle_paths(pp, params, seed, xp=xp)) for _ in range(repeat)]
    n = accounts * steps * paths
    med = statistics.median(total)
    return {
        "model_account_steps_per_s": round(n / med, 1),
        "best_account_steps_per_s": round(n / min(total), 1),
        "cpu_count": os.cpu_count(),
        "accounts": accounts,
        "assets": len(P.TOKENS),
        "steps": steps,
        "paths": paths,
        "account_steps": n,
        "seconds_median": round(med, 4),
        "seconds_all": [round(t, 4) for t in total],
        "oracle_seconds_median": round(statistics.median(oracle), 4),
        "chunk": chunk,
        "xp": xp_name,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "min_health_usd": float(out.min()),
        "liquidatable_account_steps": int((out < 0).sum()),
    }


# ------------------------------------------------------------------ tolerance


def _sweep_functions(n: int, seed: int) -> dict[str, float]:
    """Worst error of each risk-math function on ``n`` seeded draws (realistic domains)."""
    W = ref.WAD
    rng = random.Random(seed)
    worst: dict[str, float] = {}

    def see(key: str, err: float) -> None:
        worst[key] = max(worst.get(key, 0.0), float(err))

    for _ in range(n):
        p0 = rng.randrange(10**14, 10**24)
        p = max(1, int(p0 * rng.uniform(0.5, 2.0)))
        r = ref.abs_return(p0, p)
        see("abs_return_abs", abs(float(M.abs_return(p0 / F, p / F)) - r / F))
        var, dt, tau = rng.randrange(10**5, 10**14), rng.randrange(1, 30 * 86_400), rng.randrange(60, 10**8)
        want = ref.ewma_var(var, r, dt, tau)
        err = abs(float(M.ewma_var(var / F, r / F, dt, tau)) - want / F)
        see("ewma_var_abs_wei", err * F)
        # beyond the reference's floors: 2 wei, and the wei of lam times r^2 / dt
        see("ewma_var_rel_beyond_floors", max(0.0, err - (2 + (r / F) ** 2 / dt) / F) / (want / F))
        sg = ref.sigma(want, 86_400)
        see("sigma_rel", abs(float(M.sigma(want / F, 86_400)) - sg / F) / max(sg / F, 1e-300))
        z, h0 = rng.randrange(0, 6 * W), rng.randrange(0, W // 10)
        see("haircut_abs", abs(float(M.haircut(h0 / F, z / F, sg / F, 0.0, 1.0)) - ref.haircut(h0, z, sg, 0, W) / F))
        cur, tgt, el = rng.randrange(0, W), rng.randrange(0, W), rng.randrange(0, 10**6)
        up, down = rng.randrange(0, 10**14), rng.randrange(0, 10**14)
        see("ramp_abs", abs(float(M.ramp(cur / F, tgt / F, el, up / F, down / F)) - ref.ramp(cur, tgt, el, up, down) / F))
        kap, depth = rng.randrange(0, W), int(rng.uniform(1e5, 1e10) * F)
        val = int(depth * 10 ** rng.uniform(-10, 1))
        see("size_haircut_abs", abs(float(M.size_haircut(kap / F, depth / F, val / F)) - ref.size_haircut(kap, depth, val) / F))
        a, li = rng.randrange(0, 10**30), rng.randrange(1, 10**30)
        see("bonus_abs", abs(float(M.bonus(a / F, li / F, 0.02, 0.5, 0.05)) - ref.bonus(a, li, W // 50, W // 2, W // 20) / F))
        hf = ref.health_factor(a, li)
        see("health_factor_rel", abs(float(M.health_factor(a / F, li / F)) - hf / F) / max(hf / F, 1e-18))
        u = rng.randrange(0, W)
        rate = ref.borrow_rate(u, 0, 4 * W // 100, 75 * W // 100, 8 * W // 10)
        see("borrow_rate_rel", abs(float(M.borrow_rate(u / F, 0.0, 0.04, 0.75, 0.8)) - rate / F) / max(rate / F, 1e-18))
        idx, gdt = rng.randrange(W, 3 * W), rng.randrange(0, ref.SECONDS_PER_YEAR)
        g = ref.grow_index(idx, rate, gdt)
        see("grow_index_rel", abs(float(M.grow_index(idx / F, rate / F, gdt)) - g / F) / (g / F))
        dd, cd = rng.choice([6, 8, 18]), rng.choice([6, 8, 18])
        pd, pc = rng.randrange(10**16, 10**23), rng.randrange(10**16, 10**23)
        repay, bon = rng.randrange(10**dd, 10**6 * 10**dd), rng.randrange(0, W // 10)
        sz = ref.seize_amount(repay, pd, dd, pc, cd, bon)
        err = abs(float(M.seize_amount(repay / 10**dd, pd / F, pc / F, bon / F)) * 10**cd - sz)
        see("seize_amount_units", err)  # the reference floors to one unit (and to wei of USD on the way)
        see("seize_amount_rel_beyond_floors", max(0.0, err - 1 - 3 * 10**cd / pc) / sz)
    for _ in range(max(1, n // 100)):  # weighted sums over 100-account books
        decs = [rng.choice([6, 8, 18]) for _ in range(3)]
        views = [
            ref.RiskView(rng.randrange(10**14, 10**23), rng.randrange(0, W), rng.randrange(0, W),
                         rng.randrange(0, W // 5), int(rng.uniform(1e5, 1e9) * F), rng.randrange(0, 3))
            for _ in decs
        ]
        book = [[int(rng.uniform(-1e6, 1e6) * 10**d) for d in decs] for _ in range(100)]
        bal = np.array([[x / 10**d for x, d in zip(row, decs)] for row in book])
        col = lambda k: np.array([getattr(v, k) / F for v in views])  # noqa: E731
        got = M.weighted_health(bal, col("price"), col("h_maint"), col("h_init"), col("kappa"), col("depth"),
                                np.array([v.breaker for v in views]), 0.5)
        gross = np.abs(bal) @ col("price")
        for i, row in enumerate(book):
            h = ref.health_sums(row, views, decs, W // 2)
            want = (h.maint_assets, h.maint_liabilities, h.init_assets, h.init_liabilities)
            for g_, w_ in zip(got, want):
                see("weighted_health_rel_gross", abs(float(g_[i]) - w_ / F) / gross[i])
    return worst


def _sweep_paths(n_paths: int, steps: int, rng: np.random.Generator, accounts: int = 30) -> dict[str, float]:
    """Worst disagreement of OracleModel and health_paths with OracleRef over hourly paths."""
    worst = {"var_abs_wei": 0.0, "var_rel": 0.0, "h_maint_abs": 0.0, "health_rel_gross": 0.0, "breaker_mismatches": 0}
    vectors = [s.oracle for s in P.TOKENS]
    decs = [s.decimals for s in P.TOKENS]
    syms = [s.symbol for s in P.TOKENS]
    params = M.OracleParams.from_wad(vectors)
    for _ in range(n_paths):
        vols = rng.uniform(0.02, 1.5, 3)
        seeds = [P.annual_vol_to_var(v) for v in vols]
        moves = np.exp(rng.normal(0, [0.0005, 0.02, 0.015], size=(steps - 1, 3))
                       + rng.choice([0.0, -0.2, 0.15], p=[0.97, 0.02, 0.01], size=(steps - 1, 3)))
        start = np.array([s.start_price_usd for s in P.TOKENS])
        answers = np.maximum(np.round(np.vstack([start, start * np.cumprod(moves, axis=0)]) * 1e8), 1).astype(np.int64)
        t0 = 1_700_000_000
        times = t0 + HOUR * np.arange(steps)
        book = [[int(rng.uniform(-1, 1.5) * sc * 10**d) for sc, d in zip([2e4, 10.0, 0.6], decs)] for _ in range(accounts)]
        bal = np.array([[x / 10**d for x, d in zip(row, decs)] for row in book])
        got = M.health_paths(bal, answers / 1e8, params, np.array(seeds) / F, times=times)
        _, _, brk = M.oracle_paths(answers / 1e8, params, np.array(seeds) / F, times=times)
        model = M.OracleModel(params, answers[0] / 1e8, np.array(seeds) / F, t0)
        o = ref.OracleRef()
        for sym, vec, vs, a in zip(syms, vectors, seeds, answers[0]):
            o.list_asset(sym, 8, ref.FeedRound(1, int(a), t0, 1), vs, list(vec), t0)
        for t in range(steps):
            now = int(times[t])
            if t:
                for k, sym in enumerate(syms):
                    o.poke(sym, ref.FeedRound(t + 1, int(answers[t, k]), now, t + 1), now)
                model.step(answers[t] / 1e8, now)
            for k, sym in enumerate(syms):
                s = o.assets[sym]
                for mv, rv in ((model.var_fast[k], s.var_fast), (model.var_slow[k], s.var_slow)):
                    worst["var_abs_wei"] = max(worst["var_abs_wei"], abs(mv * F - rv))
                    worst["var_rel"] = max(worst["var_rel"], abs(mv * F - rv) / rv)
                worst["h_maint_abs"] = max(worst["h_maint_abs"], abs(model.h_maint[k] - s.h_maint / F))
                worst["breaker_mismatches"] += int(brk[t, k] != s.breaker)
            views = [o.risk(s, now) for s in syms]
            prices = np.array([r.price / F for r in views])
            for i, row in enumerate(book):
                ma = ml = 0
                for b, r, d in zip(row, views, decs):
                    if b > 0:
                        ma += ref.weighted_asset(ref.asset_value(b, r.price, d), r.h_maint)
                    elif b < 0:
                        ml += ref.weighted_liability(ref.liability_value(-b, r.price, d), r.h_maint)
                gross = float(np.abs(bal[i]) @ prices)
                worst["health_rel_gross"] = max(worst["health_rel_gross"], abs(got[t, i] - (ma - ml) / F) / gross)
    return {k: float(v) for k, v in worst.items()}


def _array_module(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``--xp``: the name of an importable array module; ``click.BadParameter`` otherwise."""
    import importlib.util

    try:
        found = importlib.util.find_spec(value) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise click.BadParameter(f"no array module {value!r} is installed (numpy, cupy)")
    return value


def tolerance(draws: int, n_paths: int, steps: int, seed: int) -> dict:
    """Worst disagreement of volmargin.model with the exact reference: ``draws`` seeded draws per
    risk-math function and ``n_paths`` hourly paths of ``steps`` steps (keys: absolute errors in
    WAD units or wei, relative errors as fractions, breaker mismatches as a count)."""
    out = {"draws": draws, "paths": n_paths, "steps": steps}
    out.update(_sweep_functions(draws, seed))
    out.update(_sweep_paths(n_paths, steps, np.random.default_rng(seed)))
    return out


@click.command(cls=Command, short_help="Throughput and tolerance of the vectorized model (no chain)")
@click.option("--accounts", type=click.IntRange(1), default=10_000, show_default=True,
              help="Accounts in the book, each with balances in the 3 assets (count; USD, WETH, WBTC).")
@click.option("--steps", type=click.IntRange(1), default=2_000, show_default=True,
              help="Hourly time steps per price path (count of rows, listing row included).")
@click.option("--paths", type=click.IntRange(1), default=1, show_default=True, help="Seeded price paths (count).")
@click.option("--repeat", type=click.IntRange(1), default=5, show_default=True,
              help="Timed runs (count); the median wall time (seconds) is reported.")
@click.option("--chunk", type=click.IntRange(1), default=256, show_default=True,
              help="Time steps (rows, count) per matrix product.")
@click.option("--xp", "xp_name", default="numpy", show_default=True, callback=_array_module,
              help="Array namespace module (no unit; numpy, cupy).")
@click.option("--tolerance", "with_tolerance", is_flag=True,
              help="Also measure the worst disagreement with the exact integer reference.")
@click.option("--tolerance-draws", type=click.IntRange(1), default=20_000, show_default=True,
              help="Seeded draws per risk-math function in the tolerance sweep (count).")
@click.option("--tolerance-paths", type=click.IntRange(1), default=100, show_default=True,
              help="Seeded 200-step hourly paths (30 accounts) in the tolerance sweep (count).")
@click.option("--out", type=OutFile(), default=None, show_default="print only",
              help="Write the results as JSON to this file (no unit; folders created, checked before any work).")
def cli(accounts: int, steps: int, paths: int, repeat: int, chunk: int, xp_name: str, with_tolerance: bool,
        tolerance_draws: int, tolerance_paths: int, out: Path | None) -> None:
    """Time volmargin.model.health_paths on ACCOUNTS x 3 assets x STEPS hourly steps x PATHS and print
    account-steps per second (accounts x steps x paths / median wall seconds) and the core count."""
    res = bench(accounts, steps, paths, repeat, chunk, xp_name)
    click.echo(
        f"health_paths: {res['accounts']:,} accounts x {res['assets']} assets x {res['steps']:,} steps x "
        f"{res['paths']} path(s) in {res['seconds_median']:.3f} s (median of {repeat}; oracle "
        f"{res['oracle_seconds_median']:.3f} s) = {res['model_account_steps_per_s']:,.4g} account-steps/s "
        f"on {res['cpu_count']} cores"
    )
    if with_tolerance:
        res["tolerance"] = tolerance(tolerance_draws, tolerance_paths, 200, 0)
        for k, v in res["tolerance"].items():
            click.echo(f"  {k:22s} {v:.3g}")
    click.echo(json.dumps({"model_account_steps_per_s": res["model_account_steps_per_s"], "cpu_count": res["cpu_count"]}))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=2) + "\n")
