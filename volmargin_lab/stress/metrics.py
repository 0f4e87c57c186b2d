"""Metrics of a stress run (issue #5 item 4): bad debt, liquidations, cascades, calm-window
borrowing power, time per breaker state, trips; tail statistics of Monte Carlo bad debt.

Units: USD, fractions, counts; times seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import CAUTION, NORMAL, REDUCE_ONLY, SimResult

BREAKER_NAMES = {NORMAL: "NORMAL", CAUTION: "CAUTION", REDUCE_ONLY: "REDUCE_ONLY"}


def step_durations(times: np.ndarray) -> np.ndarray:
    """(S,) seconds each step's state lasts: until the next step; the last lasts as the one before."""
    d = np.diff(times)
    return np.r_[d, d[-1] if len(d) else 0.0]


def episode_metrics(res: SimResult, symbols: tuple[str, ...], calm_until: float, batch: int = 0) -> dict[str, Any]:
    """Metrics of batch ``batch`` of ``res`` over the simulated steps (from ``open_step``).

    Returns a dict: ``bad_debt_usd`` (settled + end shortfall, before insurance),
    ``bad_debt_pct_of_borrows`` (percent of the opening borrows at market), ``bad_debt_settled_usd``,
    ``shortfall_end_usd``, ``insurance_used_usd``, ``liquidations`` (count),
    ``liquidation_volume_usd`` (repaid, oracle prices), ``max_step_liquidation_usd`` (largest
    volume in one step: the cascade), ``calm_borrowing_power`` (mean over the calm window of USD
    borrowable per USD of opening collateral), ``breaker_time`` (symbol -> state -> fraction
    of simulated time), ``trips`` (symbol -> entries into REDUCE_ONLY), ``caution_entries``,
    skipped liquidations (unprofitable, capacity, frozen by a stale price), ``borrows_open_usd``.
    """
    o = res.open_step
    t = res.times[o:]
    dur = step_durations(t)
    b = batch
    calm = t <= calm_until
    bp = res.borrowing_power[b, o:]
    calm_bp = float(np.nanmean(bp[calm])) if calm.any() and np.isfinite(bp[calm]).any() else float("nan")
    brk = res.breaker[b, o:]
    prev = np.r_[res.breaker[b, o - 1 : o] if o > 0 else brk[:1], brk[:-1]]
    total = dur.sum() if dur.sum() > 0 else 1.0
    breaker_time = {
        s: {name: float(dur[brk[:, i] == st].sum() / total) for st, name in BREAKER_NAMES.items()}
        for i, s in enumerate(symbols)
    }
    trips = {s: int(((brk[:, i] == REDUCE_ONLY) & (prev[:, i] != REDUCE_ONLY)).sum()) for i, s in enumerate(symbols)}
    cautions = {s: int(((brk[:, i] == CAUTION) & (prev[:, i] == NORMAL)).sum()) for i, s in enumerate(symbols)}
    borrows = float(res.borrows_open_usd[b])
    bad = float(res.bad_debt_usd[b])
    return {
        "bad_debt_usd": bad,
        "bad_debt_pct_of_borrows": 100.0 * bad / borrows if borrows > 0 else 0.0,
        "bad_debt_settled_usd": float(res.bad_debt_settled_usd[b]),
        "shortfall_end_usd": float(res.shortfall_end_usd[b]),
        "insurance_used_usd": float(res.insurance_used_usd[b]),
        "insurance_left_usd": float(res.insurance_usd[b]),
        "liquidations": int(res.liq_count[b, o:].sum()),
        "liquidation_volume_usd": float(res.liq_volume_usd[b, o:].sum()),
        "max_step_liquidation_usd": float(res.liq_volume_usd[b, o:].max(initial=0.0)),
        "liquidatable_max": int(res.liquidatable_max[b]),
        "skipped_unprofitable": int(res.skipped_unprofitable[b]),
        "skipped_capacity": int(res.skipped_capacity[b]),
        "skipped_frozen": int(res.skipped_frozen[b]),
        "calm_borrowing_power": calm_bp,
        "borrows_open_usd": borrows,
        "collateral_open_usd": float(res.collateral_open_usd[b]),
        "breaker_time": breaker_time,
        "trips": trips,
        "caution_entries": cautions,
        "steps": int(len(t) - 1),
    }


def tail_stats(x: np.ndarray, level: float = 0.99) -> dict[str, float]:
    """Mean, ``level`` quantile, expected shortfall and probability of a positive value
    of a sample ``x`` (1-D, any unit; the outputs are in the same unit).

    The expected shortfall is the mean of the worst ``(1 - level)`` fraction of the
    sample, the discrete estimator of Acerbi and Tasche (2002, "On the coherence of
    expected shortfall", J. Banking & Finance 26(7), eq. 3.3): with the values sorted
    from the largest, ``k = n (1 - level)`` and ``m = floor(k)``,
    ``ES = (y_1 + ... + y_m + (k - m) y_{m+1}) / k``; below one value (``k < 1``) it is
    the largest value. It is never below the quantile or the mean, and with 1,000
    paths at 99 % it is the mean of the 10 worst, however many paths lost nothing.
    Raises ``ValueError`` on an empty sample or a level outside (0, 1).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        raise ValueError("empty sample")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level {level} outside (0, 1)")
    q = float(np.quantile(x, level))
    y = np.sort(x)[::-1]
    k = x.size * (1.0 - level)
    m = int(np.floor(k + 1e-9))
    es = float(y[0]) if k < 1.0 else float((y[:m].sum() + (k - m) * (y[m] if m < y.size else 0.0)) / k)
    return {
        "mean": float(x.mean()),
        f"q{int(round(level * 100))}": q,
        f"es{int(round(level * 100))}": es,
        "p_positive": float((x > 0).mean()),
        "max": float(x.max()),
        "n": int(x.size),
    }
