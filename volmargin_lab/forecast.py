"""The forecast-volatility keeper, backtested before it is built (issue #14 item 2; protocol:
docs/forecast-study.md).

A keeper fits GARCH(1,1) with Student-t innovations (``calibration.fit_garch``, ``arch``) to
the trailing ``WINDOW_DAYS`` daily log returns every ``REFIT_DAYS`` days and pushes the
one-day-ahead conditional volatility once a day; the oracle would bound each push (at most
``MAX_STEP`` relative change from the previous push) and clip what it reads to
``[M_LO, M_HI]`` times its own realized volatility. ``backtest`` compares the maintenance
haircut target under the realized volatility with the three ways the forecast could enter it
(``MODES``), with and without the default floor, on the training and held-out windows.

Units: volatilities are fractions per day (one-day horizon), haircuts fractions, times Unix
seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from volmargin import model as M
from volmargin import params as P

from . import calibration as C

DAY = 86_400
#: docs/forecast-study.md: the keeper's fit window and refit period (days).
WINDOW_DAYS = 730
REFIT_DAYS = 30
#: The on-chain bounds: read-time clip to multiples of the realized volatility, the largest
#: relative change of one push, the expiry of a push (seconds).
M_LO, M_HI = 0.5, 3.0
MAX_STEP = 0.5
EXPIRY_S = 2 * DAY
#: How the bounded forecast enters the haircut.
MODES: tuple[str, ...] = ("replace", "max", "blend")
#: The criterion's significance level and coverage target.
TEST_SIZE = 0.05
LEVEL = 0.99


def daily_closes(symbol: str, quick: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(hourly times, hourly closes, daily times, daily closes) of ``symbol``'s long history;
    a daily close is the hourly close at 00:00 UTC (days without one are skipped).
    ``quick``: only up to the quick window's end (``calibration.QUICK_WINDOW``)."""
    bars = C.load_long_history(symbol)
    t = (bars.timestamp + bars.resolution_s).astype(np.int64)
    p = np.asarray(bars.close, dtype=np.float64)
    if quick:
        keep = t <= C.QUICK_WINDOW[2]
        t, p = t[keep], p[keep]
    day = t % DAY == 0
    return t, p, t[day], p[day]


def rolling_garch_sigma(log_returns: np.ndarray, window: int = WINDOW_DAYS, refit: int = REFIT_DAYS) -> np.ndarray:
    """One-day-ahead conditional volatility (fraction per day) after each daily return: entry
    ``i`` uses returns ``0..i`` only (NaN for ``i < window - 1``). Refitted every ``refit``
    returns on the trailing ``window``; between refits the variance follows
    ``h' = omega + alpha (r - mu)^2 + beta h`` with the last fit's parameters.
    Raises ValueError for fewer than ``window`` returns."""
    r = np.asarray(log_returns, dtype=np.float64)
    if len(r) < window:
        raise ValueError(f"need at least {window} daily returns, got {len(r)}")
    out = np.full(len(r), np.nan)
    fit = None
    h = math.nan
    for i in range(window - 1, len(r)):
        if fit is None or (i - (window - 1)) % refit == 0:
            fit = C.fit_garch(r[i - window + 1: i + 1], 365.0)
            h = fit.last_variance
        else:
            e = r[i] - fit.mu
            h = fit.omega + fit.alpha * e * e + fit.beta * h
        out[i] = math.sqrt(h)
    return out


def next_day_sigma(daily_closes: np.ndarray, window: int = WINDOW_DAYS) -> float:
    """The risk keeper's forecast (``scripts/risk-keeper.py``): GARCH(1,1) with Student-t
    innovations (``calibration.fit_garch``) fitted on the trailing ``window`` daily log returns
    of ``daily_closes`` (USD, oldest first, one a day), and its one-day-ahead conditional
    volatility annualized by sqrt(365): a fraction per year, the unit ``push_forecast`` takes
    (as WAD). The study's keeper (``rolling_garch_sigma``) refits every ``REFIT_DAYS``; a keeper
    run fits anew each time.

    Raises ValueError for fewer than 101 closes (``fit_garch`` needs 100 returns), a close that
    is not finite and positive, or ``window`` < 100."""
    p = np.asarray(daily_closes, dtype=np.float64)
    if window < 100:
        raise ValueError(f"window must be at least 100 daily returns, got {window}")
    if p.ndim != 1 or len(p) < 101:
        raise ValueError(f"need at least 101 daily closes (100 returns), got {p.size}")
    if not np.all(np.isfinite(p) & (p > 0)):
        raise ValueError("daily closes must be finite and positive")
    r = np.diff(np.log(p))[-window:]
    fit = C.fit_garch(r, 365.0)
    return math.sqrt(fit.last_variance * 365.0)


#: Symbols with a long history to fit on (``calibration.load_long_history``).
FORECAST_SYMBOLS: tuple[str, ...] = ("WETH", "WBTC")


@lru_cache(maxsize=4)
def keeper_series(symbol: str) -> tuple[np.ndarray, np.ndarray]:
    """(times (D,) Unix seconds, sigma (D,) fraction per year): what the study's keeper pushes
    at each day's 00:00 UTC close of ``symbol``'s long history, ``rolling_garch_sigma`` (730-day
    window, refitted every 30 days) annualized by sqrt(365), known from the closes up to that
    time only; days before the first fit are left out. Cached per process."""
    _, _, dt, dp = daily_closes(symbol)
    sig = rolling_garch_sigma(np.diff(np.log(dp)))  # entry i: after the return ending at dt[i + 1]
    ok = np.isfinite(sig)
    return dt[1:][ok], sig[ok] * math.sqrt(365.0)


def keeper_forecasts(symbols: tuple[str, ...] | list[str], times: np.ndarray,
                     series: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """(S, A) forecasts to push along a path of step ``times`` (S,) (Unix seconds): at the first
    step at or after each day's 00:00 UTC push of ``keeper_series`` the day's value (fraction per
    year), NaN elsewhere and for symbols outside ``FORECAST_SYMBOLS``. ``series`` ({symbol:
    keeper_series(symbol)}) may be given to skip the fits (the portfolio study fits once and passes
    them to every task)."""
    t = np.asarray(times, dtype=np.float64)
    out = np.full((len(t), len(symbols)), np.nan)
    for a, sym in enumerate(symbols):
        if sym not in FORECAST_SYMBOLS:
            continue
        days, sig = (series or {}).get(sym) or keeper_series(sym)
        inside = (days >= t[0]) & (days <= t[-1])
        steps = np.searchsorted(t, days[inside], side="left")
        out[steps, a] = sig[inside]
    return out


def bounded_push(sigma_f: np.ndarray, max_step: float = MAX_STEP) -> np.ndarray:
    """The pushed values (fraction per day): each within ``[1 - max_step, 1 + max_step]`` of the
    previous push (the first push free); NaN forecasts push nothing (the previous value stays)."""
    out = np.full(len(sigma_f), np.nan)
    prev = math.nan
    for i, x in enumerate(sigma_f):
        if math.isfinite(x):
            prev = x if not math.isfinite(prev) else min(max(x, prev * (1 - max_step)), prev * (1 + max_step))
        out[i] = prev
    return out


def combine(mode: str, sigma_r: np.ndarray, pushed: np.ndarray, m_lo: float = M_LO, m_hi: float = M_HI) -> np.ndarray:
    """The volatility the haircut uses under ``mode`` (``MODES`` or "realized"): the pushed value
    clipped to ``[m_lo, m_hi] x sigma_r`` at read time, then replacing, maxed with or averaged
    with ``sigma_r``; where nothing was pushed yet, ``sigma_r``. Raises ValueError for an
    unknown mode."""
    if mode == "realized":
        return np.asarray(sigma_r, dtype=np.float64)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; known: realized, {', '.join(MODES)}")
    f = np.where(np.isfinite(pushed), np.clip(pushed, m_lo * sigma_r, m_hi * sigma_r), sigma_r)
    return {"replace": f, "max": np.maximum(sigma_r, f), "blend": 0.5 * (sigma_r + f)}[mode]


def realized_sigma_at(hourly_t: np.ndarray, hourly_p: np.ndarray, starts: np.ndarray,
                      oracle: Any = None) -> np.ndarray:
    """The oracle's realized volatility over one day, ``sqrt(max(var_fast, var_slow) x 1 day)``
    (fraction), after every hourly close at or before each of ``starts`` (Unix seconds), with
    ``oracle`` (a parameter vector; default ``params.oracle_params()``) listed at the first close
    with its ``var_min`` seed."""
    op = M.OracleParams.from_wad([oracle or P.oracle_params()])
    om = M.OracleModel(op, np.array([hourly_p[0]]), op.var_min, float(hourly_t[0]))
    out = np.empty(len(starts))
    j = 1
    for w, s in enumerate(starts):
        while j < len(hourly_t) and hourly_t[j] <= s:
            om.step(np.array([hourly_p[j]]), float(hourly_t[j]))
            j += 1
        out[w] = math.sqrt(float(np.maximum(om.var_fast, om.var_slow)[0]) * DAY)
    return out


@dataclass(frozen=True)
class Series:
    """One asset's daily windows: ``start`` (W,) Unix seconds, ``loss`` (W,) long-side loss over
    the next day, ``sigma_r`` (W,) realized and ``pushed`` (W,) bounded forecast volatilities
    (fractions per day), ``train`` (W,) bool (before ``calibration.TEST_START`` and after the
    first fit)."""

    start: np.ndarray
    loss: np.ndarray
    sigma_r: np.ndarray
    pushed: np.ndarray
    train: np.ndarray


def series(symbol: str, quick: bool = False) -> Series:
    """The daily windows of ``symbol`` with both volatilities (see ``Series``); ``quick``: the
    quick window's history, with a 365-day fit window and the quick split."""
    ht, hp, dt, dp = daily_closes(symbol, quick)
    r = np.diff(np.log(dp))
    window = 365 if quick else WINDOW_DAYS
    sig_f = rolling_garch_sigma(r, window=window)  # entry i: after the return ending at dt[i + 1]
    starts = dt[1:-1]  # a window needs the next day's close
    loss = 1.0 - dp[2:] / dp[1:-1]
    pushed = bounded_push(sig_f[:-1])
    sigma_r = realized_sigma_at(ht, hp, starts)
    split = C.QUICK_WINDOW[1] if quick else C.TEST_START
    ok = np.isfinite(pushed) & (dt[2:] - starts == DAY)  # consecutive days only
    return Series(starts[ok], loss[ok], sigma_r[ok], pushed[ok], (starts < split)[ok])


def coverage(hits: np.ndarray, h: np.ndarray) -> dict[str, Any]:
    """Exceedances, one- and two-sided Kupiec, Christoffersen, mean haircut, ``passed``."""
    x, n = int(hits.sum()), int(hits.size)
    _, p1 = C.kupiec_pof_one_sided(x, n, LEVEL)
    _, p2 = C.kupiec_pof(x, n, LEVEL)
    _, pc = C.christoffersen_ind(hits)
    return {"exceedances": x, "observations": n, "kupiec_p_one_sided": p1, "kupiec_p": p2, "christoffersen_p": pc,
            "mean_haircut": float(h.mean()) if n else math.nan, "passed": bool(p1 >= TEST_SIZE and pc >= TEST_SIZE)}


def backtest(symbol: str, quick: bool = False) -> dict[str, Any]:
    """``{floor: {period: {mode: coverage(...)}}}`` for ``floor`` "none" (``h_min`` 0) and
    "default" (``h_min`` of ``params.oracle_params()``), ``period`` "train" / "heldout", ``mode``
    "realized" and ``MODES``; the haircut target ``clamp(h0 + z_maint sigma, h_min, h_max)`` of the
    default vector."""
    s = series(symbol, quick)
    v = P.oracle_params()
    h0, z, hmin, hmax = (x / P.WAD for x in (v.h0, v.z_maint, v.h_min, v.h_max))
    out: dict[str, Any] = {"windows": int(len(s.start))}
    for floor_name, floor in (("none", 0.0), ("default", hmin)):
        out[floor_name] = {}
        for period, mask in (("train", s.train), ("heldout", ~s.train)):
            out[floor_name][period] = {}
            for mode in ("realized",) + MODES:
                sig = combine(mode, s.sigma_r, s.pushed)[mask]
                h = np.clip(h0 + z * sig, floor, hmax)
                out[floor_name][period][mode] = coverage(s.loss[mask] > h, h)
    return out


def adoption(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """docs/forecast-study.md's rule over ``{symbol: backtest(...)}``: ``candidate`` (the mode
    passing on training for every asset with the lowest mean haircut, summed over assets; None
    when none passes), ``adopted`` (the candidate wins on held-out for every asset: passes, and
    has a lower mean haircut than the realized volatility or the realized fails)."""
    syms = list(results)
    tr = [m for m in MODES if all(results[s]["none"]["train"][m]["passed"] for s in syms)]
    cand = min(tr, key=lambda m: sum(results[s]["none"]["train"][m]["mean_haircut"] for s in syms)) if tr else None
    adopted = False
    if cand is not None:
        adopted = all(
            results[s]["none"]["heldout"][cand]["passed"]
            and (results[s]["none"]["heldout"][cand]["mean_haircut"] < results[s]["none"]["heldout"]["realized"]["mean_haircut"]
                 or not results[s]["none"]["heldout"]["realized"]["passed"])
            for s in syms)
    return {"candidate": cand, "adopted": bool(adopted)}
