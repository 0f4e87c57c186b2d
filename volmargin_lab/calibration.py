"""Calibration and VaR backtest of the maintenance haircut; GARCH(1,1) fits for the stress lab.

The maintenance haircut is a value-at-risk margin: an account sitting exactly
at its maintenance threshold stays solvent over the liquidation horizon ``H``
unless the collateral loses more than the haircut in force when the horizon
began. This module measures how often that happened on the longest real
hourly history in ``data/prices/`` and tests the exceedance sequence:

* **Kupiec (1995)** proportion-of-failures test, "Techniques for verifying the
  accuracy of risk measurement models", J. Derivatives 3(2): likelihood ratio
  of the observed exceedance rate against the target rate, chi2(1).
* **Christoffersen (1998)** independence test, "Evaluating interval
  forecasts", International Economic Review 39(4): likelihood ratio of a
  first-order Markov chain of hits against an i.i.d. Bernoulli sequence,
  chi2(1).

The haircuts are computed by ``volmargin.model.OracleModel`` (the float64
mirror of ``RiskOracle``, held to the contracts by the differential tests),
fed one hourly close per bar like the replay, so the calibration describes
the deployed code and not a re-derivation of its formulas.

Target level (``TARGET_LEVEL``): 99 % coverage of the one-horizon loss,
i.e. an expected exceedance rate of 1 %; the confidence EU EMIR RTS
153/2013 art. 24(1) asks of a CCP's initial margin for instruments other than
OTC derivatives. Windows are non-overlapping (one per horizon, starting at
multiples of ``H`` in Unix time, i.e. 00:00 UTC for a day) so that the hits are
not mechanically autocorrelated, as both tests assume.

Protocol v2 (``calibrate_v2``, ``docs/calibration-protocol.md``, pre-registered) backtests
the volatility model alone (``h_min`` = 0) and sets the stressed floor ``h_min`` by its
docs/design.md §3 definition; the deployed haircut ``max(h_min, model)`` is reported with a
one-sided Kupiec test and the Basel Committee (1996) traffic light ("Supervisory
framework for the use of 'backtesting' in conjunction with the internal models approach
to market risk capital requirements"). Its confirmatory set is the daily BTC/USD file
``btc_usd_2011-2025_1d.csv`` (2014-01-01 .. 2018-05-14). Protocol v1, which backtested the
haircut with the floor inside it, was replaced by v2 and removed; ``docs/calibration-protocol-v1.md``
records what it did and measured.

GARCH(1,1) (Bollerslev 1986, "Generalized autoregressive conditional
heteroskedasticity", J. Econometrics 31): ``r_t = mu + e_t``,
``e_t = sqrt(h_t) z_t``, ``h_t = omega + alpha e_{t-1}^2 + beta h_{t-1}``,
fitted with ``arch`` (Sheppard) by maximum likelihood, Student-t or normal
``z_t`` of unit variance.

Units: prices USD per whole token; times Unix seconds (UTC); horizons and
time constants seconds; haircuts, losses and returns fractions (0.1 = 10 %);
log returns per period; GARCH variances per period squared (fractions).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy.special import xlogy
from scipy.stats import binom, chi2, norm

from volmargin import model as M
from volmargin import params as P
from volmargin import reference as ref
from .data import DATA_DIR, Bars, load_csv

HOUR = 3_600
DAY = 86_400

#: Target coverage of the maintenance haircut over the liquidation horizon
#: (EMIR RTS 153/2013 art. 24(1): 99 % for instruments other than OTC derivatives).
TARGET_LEVEL = 0.99

#: Test size of both likelihood-ratio tests: a calibration passes when each p-value >= 0.05.
TEST_SIZE = 0.05

#: Longest hourly history per asset: a USD market first, then a Binance USDT market spliced
#: on after the USD file's last bar (file names in ``data/prices``; see ``data/SOURCES.md``).
LONG_HISTORY: dict[str, tuple[str, ...]] = {
    "WETH": ("eth_usd_2018-2023_1h.csv", "eth_usdt_2021-2025_1h.csv"),
    "WBTC": ("btc_usd_2018-2022_1h.csv", "btc_usdt_2021-2025_1h.csv"),
}

#: Start of the held-out test period (Unix seconds, 2023-01-01 00:00 UTC). Everything
#: before it is the training period; nothing after it informs the choice of parameters.
TEST_START = 1_672_531_200

#: Bars at the start of the history used only to warm up the EWMA variances (seconds):
#: two slow time constants of the largest grid value (30 days each) plus margin.
BURN_IN_S = 90 * DAY

#: The grid of ``calibrate_v2(quick=True)``: four candidates.
QUICK_GRID: dict[str, tuple[float, ...]] = {
    "z_maint": (2.0, 3.0),
    "tau_fast": (12 * HOUR,),
    "tau_slow": (7 * DAY, 30 * DAY),
}

#: ``quick=True`` window (Unix seconds): train 2019-07-01..2020-12-31, test 2021 (UTC).
QUICK_WINDOW = (1_561_939_200, 1_609_459_200, 1_640_995_200)


def _utc(t: float) -> str:
    return datetime.fromtimestamp(int(t), tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------ data


def load_long_history(symbol: str, data_dir: str | Path | None = None) -> Bars:
    """The longest hourly price history of ``symbol`` ("WETH" or "WBTC").

    The files of ``LONG_HISTORY[symbol]`` are loaded with ``volmargin_lab.data.load_csv``
    and spliced: every bar of the first (USD market) file, then the bars of the
    next (Binance USDT market) file strictly after the previous file's last bar.
    WETH: Bitfinex ETH/USD 2018-05-15 06:00 .. 2023-01-16 23:00, then Binance
    ETH/USDT to 2025-06-12 23:00 (62,040 bars); WBTC: Bitstamp BTC/USD
    2018-05-15 06:00 .. 2022-08-19 23:00, then Binance BTC/USDT to 2025-06-12
    23:00 (62,057 bars). On their overlap the USDT/USD log basis averages
    -4 bp with a 10 bp standard deviation, so the junction adds one ordinary
    hourly return.

    Gaps (a few missing hours in each file, listed in ``data/SOURCES.md``) are
    not filled: the oracle sees the longer interval as one round with a
    longer ``dt``, as the contract would, and ``exceedances`` drops a horizon
    window whose start or end price is staler than its ``max_stale_s``.

    Returns
    -------
    Bars
        Hourly bars, ``timestamp`` = bar open time (Unix seconds, UTC); ``close``
        USD (USDT) per whole token. ``open``/``high``/``low``/``volume`` are the
        USD file's where it has them and NaN in the USDT (close-only) part;
        ``close_only`` is False; ``symbol`` is the file prefix ("eth", "btc").

    Raises
    ------
    ValueError
        For a symbol other than "WETH" or "WBTC".
    volmargin_lab.data.DataError
        For a missing or malformed file (see ``load_csv``).
    """
    if symbol not in LONG_HISTORY:
        raise ValueError(f"symbol must be one of {', '.join(LONG_HISTORY)}, got {symbol!r}")
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    parts: list[Bars] = []
    for name in LONG_HISTORY[symbol]:
        b = load_csv(root / name)
        if parts:
            b = b.take(b.timestamp > parts[-1].timestamp[-1])
        parts.append(b)
    cat = {k: np.concatenate([getattr(b, k) for b in parts]) for k in ("timestamp", "open", "high", "low", "close", "volume")}
    resolution = int(np.median(np.diff(cat["timestamp"])))
    return Bars(
        cat["timestamp"], cat["open"], cat["high"], cat["low"], cat["close"], cat["volume"],
        False, parts[0].symbol, resolution,
    )


def history_sources(symbol: str, data_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Which file supplies which bars of ``load_long_history(symbol)``: a list of
    ``{"file", "first_bar_utc", "last_bar_utc", "bars"}``, in splice order."""
    if symbol not in LONG_HISTORY:
        raise ValueError(f"symbol must be one of {', '.join(LONG_HISTORY)}, got {symbol!r}")
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    out: list[dict[str, Any]] = []
    last = -1
    for name in LONG_HISTORY[symbol]:
        t = load_csv(root / name).timestamp
        t = t[t > last]
        out.append({"file": name, "first_bar_utc": _utc(t[0]), "last_bar_utc": _utc(t[-1]), "bars": int(len(t))})
        last = int(t[-1])
    return out


# ------------------------------------------------------------------ tests


def kupiec_pof(exceedances: int, observations: int, level: float) -> tuple[float, float]:
    """Kupiec (1995) proportion-of-failures test.

    With ``x`` exceedances in ``N`` observations and target exceedance rate
    ``p = 1 - level``::

        LR_POF = -2 ln[(1 - p)^(N - x) p^x] + 2 ln[(1 - x/N)^(N - x) (x/N)^x]  ~  chi2(1)

    (``0 ln 0 = 0``). Two-sided: too few exceedances reject as well as too many.

    Parameters
    ----------
    exceedances : int, 0 <= x <= N.
    observations : int, N >= 1.
    level : float, coverage in (0, 1), e.g. 0.99 (target exceedance rate 1 %).

    Returns
    -------
    (LR, p-value) : the statistic and ``chi2(1).sf(LR)``.

    Raises
    ------
    ValueError
        For ``N < 1``, ``x`` outside ``[0, N]`` or ``level`` outside (0, 1).
    """
    x, n = int(exceedances), int(observations)
    if n < 1:
        raise ValueError(f"observations must be >= 1, got {observations}")
    if not 0 <= x <= n:
        raise ValueError(f"exceedances must be in [0, observations={n}], got {exceedances}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    p = 1.0 - level
    phat = x / n
    ll_null = xlogy(n - x, 1.0 - p) + xlogy(x, p)
    ll_alt = xlogy(n - x, 1.0 - phat) + xlogy(x, phat)
    lr = max(0.0, float(-2.0 * (ll_null - ll_alt)))
    return lr, float(chi2.sf(lr, 1))


def christoffersen_ind(hits: np.ndarray) -> tuple[float, float]:
    """Christoffersen (1998) independence test of a hit sequence.

    With ``n_ij`` the number of days in state ``j`` following a day in state
    ``i`` (1 = exceedance), ``pi_01 = n01 / (n00 + n01)``,
    ``pi_11 = n11 / (n10 + n11)``, ``pi = (n01 + n11) / (n00 + n01 + n10 + n11)``::

        LR_IND = -2 ln[(1 - pi)^(n00 + n10) pi^(n01 + n11)]
                 + 2 ln[(1 - pi_01)^n00 pi_01^n01 (1 - pi_11)^n10 pi_11^n11]  ~  chi2(1)

    (``0 ln 0 = 0``; a transition count of zero contributes nothing).

    Parameters
    ----------
    hits : array of shape (N,), bool or 0/1, in time order (N >= 2).

    Returns
    -------
    (LR, p-value) : the statistic and ``chi2(1).sf(LR)``.

    Raises
    ------
    ValueError
        For a sequence that is not 1-D, shorter than 2, or has values other than 0/1.
    """
    h = np.asarray(hits)
    if h.ndim != 1 or len(h) < 2:
        raise ValueError(f"hits must be a 1-D sequence of at least 2 values, got shape {h.shape}")
    if not np.isin(h, (0, 1)).all():
        raise ValueError("hits must be 0/1 (or bool)")
    h = h.astype(np.int64)
    prev, cur = h[:-1], h[1:]
    n00 = int(np.sum((prev == 0) & (cur == 0)))
    n01 = int(np.sum((prev == 0) & (cur == 1)))
    n10 = int(np.sum((prev == 1) & (cur == 0)))
    n11 = int(np.sum((prev == 1) & (cur == 1)))
    total = n00 + n01 + n10 + n11
    pi = (n01 + n11) / total
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    ll_null = xlogy(n00 + n10, 1.0 - pi) + xlogy(n01 + n11, pi)
    ll_alt = xlogy(n00, 1.0 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1.0 - pi11) + xlogy(n11, pi11)
    lr = max(0.0, float(-2.0 * (ll_null - ll_alt)))
    return lr, float(chi2.sf(lr, 1))


# ------------------------------------------------------------------ exceedances


def _as_oracle_params(params: Any) -> M.OracleParams:
    if isinstance(params, M.OracleParams):
        return params
    vec = [int(v) for v in params]
    if len(vec) != len(ref.ORACLE_PARAM_NAMES):
        raise ValueError(
            f"params must be an OracleParams or a RiskOracle vector of {len(ref.ORACLE_PARAM_NAMES)} entries, "
            f"got {len(vec)}"
        )
    return M.OracleParams.from_wad([vec])


@dataclass
class Windows:
    """Non-overlapping horizon windows along a price series and the haircut in force
    at each window's start.

    Attributes (``W`` windows, ``K`` parameter sets)
    ----------
    start : (W,) int64, window start, Unix seconds (a multiple of the horizon).
    p_start, p_end : (W,) float64, last price observed at or before the start / end (USD).
    loss_long : (W,) float64, ``1 - p_end / p_start``: loss of a collateral holder.
    loss_short : (W,) float64, ``p_end / p_start - 1``: loss of a short (borrowed asset).
    h_maint : (K, W) float64, maintenance haircut in force at the start (fraction).
    dropped : int, windows left out because a start or end price was staler than ``max_stale_s``.
    """

    start: np.ndarray
    p_start: np.ndarray
    p_end: np.ndarray
    loss_long: np.ndarray
    loss_short: np.ndarray
    h_maint: np.ndarray
    dropped: int


def haircut_windows(
    prices: np.ndarray,
    times: np.ndarray,
    params: Any,
    horizon_s: int,
    *,
    var_seed: Any = None,
    start: int | None = None,
    end: int | None = None,
    max_stale_s: int = 2 * HOUR,
) -> Windows:
    """Run ``OracleModel`` along ``prices`` and read the haircut in force at the start of
    every non-overlapping horizon window.

    Parameters
    ----------
    prices : (n,) USD feed answers, positive, in time order.
    times : (n,) int, the answers' times (Unix seconds), strictly increasing; each
        answer is poked at its own time (``OracleModel.step(p, t)``).
    params : a RiskOracle parameter vector (20 WAD / seconds ints, ``P_*`` order), or a
        ``model.OracleParams`` with ``K`` columns to evaluate ``K`` parameter sets in one
        pass (each column is an independent "asset" fed the same prices).
    horizon_s : window length = liquidation horizon, seconds (> 0).
    var_seed : seed variance(s) per second at listing (scalar or (K,)); default the
        model's ``var_min`` (the calmest the parameters allow).
    start, end : windows ``[t, t + horizon_s)`` with ``start <= t`` and ``t + horizon_s <= end``,
        ``t`` a multiple of ``horizon_s`` (Unix seconds); default the whole series.
    max_stale_s : a window is dropped when the last price at or before its start or
        end is older than this (a data gap), seconds.

    Returns
    -------
    Windows (see its attributes). The haircut at a window start ``t`` is
    ``OracleModel.h_maint_now(t)`` after every answer at or before ``t``: the
    contract's ``h_maint`` in force at ``t``.

    Raises
    ------
    ValueError
        For mismatched or empty inputs, non-increasing times, non-positive prices,
        a bad parameter vector, or ``horizon_s <= 0``.
    """
    prices = np.asarray(prices, dtype=np.float64)
    times = np.asarray(times, dtype=np.int64)
    if prices.ndim != 1 or prices.shape != times.shape or len(prices) < 2:
        raise ValueError("prices and times must be 1-D of the same length >= 2")
    if np.any(np.diff(times) <= 0):
        raise ValueError("times must be strictly increasing")
    if not np.all(np.isfinite(prices) & (prices > 0)):
        raise ValueError("prices must be positive and finite")
    if horizon_s <= 0:
        raise ValueError(f"horizon_s must be > 0, got {horizon_s}")
    op = _as_oracle_params(params)
    starts, i0, i1, dropped = _window_grid(times, horizon_s, start, end, max_stale_s)
    h = _haircuts_at(op, prices, times, starts, i0, op.var_min if var_seed is None else var_seed)
    p0, p1 = prices[i0], prices[i1]
    return Windows(starts, p0, p1, 1.0 - p1 / p0, p1 / p0 - 1.0, h, dropped)


def _window_grid(
    times: np.ndarray, horizon_s: int, start: int | None, end: int | None, max_stale_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The non-overlapping horizon windows of ``haircut_windows`` along ``times`` (Unix seconds,
    strictly increasing): window starts (multiples of ``horizon_s``), the index of the last
    answer at or before each start and each end, and the number of windows dropped because one
    of those answers is older than ``max_stale_s`` seconds. Raises ValueError when no complete
    window fits between ``start`` and ``end``."""
    lo = int(times[0]) if start is None else int(start)
    hi = int(times[-1]) if end is None else int(end)
    first = -(-max(lo, int(times[0])) // horizon_s) * horizon_s
    starts = np.arange(first, min(hi, int(times[-1])) - horizon_s + 1, horizon_s, dtype=np.int64)
    if len(starts) == 0:
        raise ValueError("no complete horizon window between start and end")
    i0 = np.searchsorted(times, starts, side="right") - 1  # last answer at or before the start
    i1 = np.searchsorted(times, starts + horizon_s, side="right") - 1
    ok = (i0 >= 0) & (starts - times[np.maximum(i0, 0)] <= max_stale_s)
    ok &= starts + horizon_s - times[i1] <= max_stale_s
    return starts[ok], i0[ok], i1[ok], int((~ok).sum())


def _haircuts_at(
    op: M.OracleParams, prices: np.ndarray, times: np.ndarray, starts: np.ndarray, i0: np.ndarray, var_seed: Any
) -> np.ndarray:
    """``OracleModel.h_maint_now`` (fractions) at each window start, shape (K, W): the model,
    listed at the first price with ``var_seed`` (variance per second, scalar or (K,)), steps
    through the answers and is read after the last answer at or before each start (``i0``)."""
    k = op.n_assets
    oracle = M.OracleModel(op, np.full(k, prices[0]), var_seed, float(times[0]))
    h = np.empty((k, len(starts)))
    # step through the answers; after the last answer at or before each window start, read h_maint_now
    w = 0  # next window to read; several windows share an answer index only across a gap
    for i in range(1, len(prices) + 1):
        while w < len(starts) and i0[w] == i - 1:
            h[:, w] = oracle.h_maint_now(float(starts[w]))
            w += 1
        if w == len(starts):
            break
        if i < len(prices):
            oracle.step(np.full(k, prices[i]), float(times[i]))
    return h


def exceedances(
    prices: np.ndarray,
    times: np.ndarray,
    params: Any,
    horizon_s: int,
    *,
    side: str = "long",
    var_seed: Any = None,
    start: int | None = None,
    end: int | None = None,
    max_stale_s: int = 2 * HOUR,
) -> np.ndarray:
    """Hit sequence of the maintenance haircut over non-overlapping horizon windows.

    A hit is a window whose loss exceeds the haircut in force at its start:
    ``side="long"``: ``1 - P(t+H)/P(t) > h_maint(t)`` (collateral);
    ``side="short"``: ``P(t+H)/P(t) - 1 > h_maint(t)`` (borrowed asset).
    See ``haircut_windows`` for every other argument, the window grid and gaps.

    Returns
    -------
    bool array of shape (W,) for a single parameter vector, or (K, W) for an
    ``OracleParams`` with K > 1 columns.

    Raises
    ------
    ValueError
        For ``side`` other than "long"/"short", and as ``haircut_windows``.
    """
    if side not in ("long", "short"):
        raise ValueError(f"side must be 'long' or 'short', got {side!r}")
    win = haircut_windows(
        prices, times, params, horizon_s, var_seed=var_seed, start=start, end=end, max_stale_s=max_stale_s
    )
    loss = win.loss_long if side == "long" else win.loss_short
    hits = loss[None, :] > win.h_maint
    return hits[0] if hits.shape[0] == 1 else hits


# ------------------------------------------------------------------ calibration


def _stats(hits: np.ndarray, h: np.ndarray, level: float) -> dict[str, Any]:
    """Both tests of the hit sequence ``hits`` (N,) against the haircuts ``h`` (N,) (fractions)."""
    x, n = int(hits.sum()), int(len(hits))
    lr_uc, p_uc = kupiec_pof(x, n, level)
    lr_ind, p_ind = christoffersen_ind(hits)
    return {
        "exceedances": x,
        "observations": n,
        "rate": x / n,
        "kupiec_lr": lr_uc,
        "kupiec_p": p_uc,
        "christoffersen_lr": lr_ind,
        "christoffersen_p": p_ind,
        "mean_haircut": float(h.mean()),
        "passed": bool(p_uc >= TEST_SIZE and p_ind >= TEST_SIZE),
    }


def format_xn(stats: dict[str, Any] | None, missing: str = "n/a") -> str:
    """``"x/N"``: the exceedances and observations of a statistics dict (as in
    ``V2Result.train``, ``primary``, ``confirmatory`` or a ``deployed`` entry), or
    ``missing`` when ``stats`` is None or empty."""
    return missing if not stats else f"{stats['exceedances']}/{stats['observations']}"


def _grid_params(
    base: Sequence[int], grid: dict[str, Sequence[float]]
) -> tuple[list[tuple[float, int, int, float, float]], M.OracleParams]:
    """Candidates (z_maint, tau_fast s, tau_slow s, h_min, h0) of ``grid`` and their oracle
    parameters, one column each; ``h_min`` and ``h0`` are the base vector's unless the grid has them."""
    floors = grid.get("h_min") or (base[ref.P_H_MIN] / 1e18,)
    bases = grid.get("h0") or (base[ref.P_H0] / 1e18,)
    cands = [
        (float(z), int(tf), int(ts), float(hm), float(h0))
        for h0 in bases
        for hm in floors
        for z in grid["z_maint"]
        for tf in grid["tau_fast"]
        for ts in grid["tau_slow"]
        if int(tf) < int(ts)
    ]
    return cands, M.OracleParams.from_wad([_candidate_vector(base, *c) for c in cands])


def _candidate_vector(base: Sequence[int], z: float, tf: int, ts: int, h_min: float, h0: float) -> list[int]:
    """``base`` (a RiskOracle WAD vector) with z_maint, tau_fast and tau_slow (seconds),
    h_min and h0 (fractions) replaced; the initial floor h_min_init follows h_min (one floor)."""
    v = list(base)
    v[ref.P_Z_MAINT] = int(round(z * 1e18))
    v[ref.P_TAU_FAST] = int(tf)
    v[ref.P_TAU_SLOW] = int(ts)
    v[ref.P_H_MIN] = v[ref.P_H_MIN_INIT] = int(round(h_min * 1e18))
    v[ref.P_H0] = int(round(h0 * 1e18))
    return v


# ------------------------------------------------------------------ protocol v2
#
# docs/calibration-protocol.md (pre-registered, committed before any run): backtest the
# volatility *model* (h_min = 0) at 99 %, set the stressed floor h_min by its docs/design.md §3
# definition (empirical 99 % quantile of the training 1-day losses, rounded up to a whole
# percent), z_init = z_maint + 1; primary held-out test on the hourly 2023-01-01 ..
# 2025-06-12 windows, confirmatory test of the WBTC choice on the unseen BTC/USD daily
# closes 2014-01-01 .. 2018-05-14; the deployed haircut max(h_min, model) is reported with
# a one-sided Kupiec test and the Basel (1996) traffic light.

#: Protocol v2's grid (protocol v1's ``zt`` values): z_maint 1.5..4 by 0.25 (dimensionless),
#: tau_fast 6, 12, 24, 48 h and tau_slow 7, 14, 30, 60 days (seconds).
V2_GRID: dict[str, tuple[float, ...]] = {
    "z_maint": (1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5, 3.75, 4.0),
    "tau_fast": (6 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR),
    "tau_slow": (7 * DAY, 14 * DAY, 30 * DAY, 60 * DAY),
}

#: Base of the model haircut (fraction): the docs/design.md default 2 %.
V2_H0 = 0.02

#: Floor of the *model* haircut in the backtest (fraction): 0, the model alone.
V2_MODEL_H_MIN = 0.0

#: Level of the empirical quantile that defines the stressed floor (docs/design.md §3).
V2_FLOOR_LEVEL = 0.99

#: Opening buffer: ``z_init = z_maint + V2_Z_GAP`` (the docs/design.md defaults' one-sigma gap, 3 and 4).
V2_Z_GAP = 1.0

#: docs/design.md defaults kept when no candidate passes on training: (z_maint, tau_fast s, tau_slow s).
V2_FALLBACK: tuple[float, int, int] = (3.0, 12 * HOUR, 30 * DAY)

#: Confirmatory set (protocol v2): BTC/USD daily OHLC, Bitstamp to 2015-07-21 then Coinbase
#: (``data/SOURCES.md``), for the WBTC choice only.
CONFIRM_FILE = "btc_usd_2011-2025_1d.csv"
CONFIRM_ASSET = "WBTC"
#: Listing of the oracle on the daily closes = start of the burn-in, 2013-10-03 00:00 UTC
#: (the close of the 2013-10-02 bar), Unix seconds; 90 days before the test.
CONFIRM_LISTING = 1_380_758_400
#: First confirmatory window, 2014-01-01 00:00 UTC.
CONFIRM_START = 1_388_534_400
#: End of the last confirmatory window, 2018-05-15 00:00 UTC: the last window is the day
#: 2018-05-14, the day before the hourly history starts.
CONFIRM_END = 1_526_342_400

#: Basel Committee on Banking Supervision (1996), "Supervisory framework for the use of
#: 'backtesting' in conjunction with the internal models approach to market risk capital
#: requirements", Table 1-2: zones by the binomial probability of observing that many
#: exceptions or fewer at 99 % coverage: green below 95 %, yellow below 99.99 %, red from
#: 99.99 % (at 250 days: green 0-4, yellow 5-9, red 10 or more).
BASEL_DAYS = 250
TRAFFIC_LIGHT_BOUNDS: tuple[float, float] = (0.95, 0.9999)


def stressed_floor(losses: np.ndarray, level: float = V2_FLOOR_LEVEL) -> tuple[float, float]:
    """The stressed floor ``h_min`` of docs/design.md §3 from a sample of one-horizon losses.

    ``q`` is the empirical ``level`` quantile of ``losses``: the smallest sample value
    ``x`` with at least ``level`` of the sample at or below it (the inverse of the
    empirical CDF, ``numpy.quantile(..., method="inverted_cdf")``, Hyndman-Fan type 1).
    The floor is ``q`` rounded *up* to a whole percent (``ceil(100 q) / 100``; a ``q``
    that is a whole percent up to 1e-9 stays where it is), and at least 0.

    Parameters
    ----------
    losses : (n,) long-side losses ``1 - P(end)/P(start)`` (fractions), finite, n >= 1.
    level : quantile level in (0, 1), default 0.99.

    Returns
    -------
    (floor, q) : fractions (floor a multiple of 0.01).

    Raises
    ------
    ValueError
        For an empty, non-1-D or non-finite sample, or ``level`` outside (0, 1).
    """
    x = np.asarray(losses, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0 or not np.all(np.isfinite(x)):
        raise ValueError("losses must be a non-empty 1-D array of finite values")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    q = float(np.quantile(x, level, method="inverted_cdf"))
    floor = math.ceil(round(q * 100.0, 9)) / 100.0
    return max(floor, 0.0), q


def select_v2(table: Sequence[dict[str, Any]]) -> tuple[int | None, bool]:
    """Protocol v2's selection rule over training statistics.

    Among the rows with ``passed`` true (Kupiec and Christoffersen p >= ``TEST_SIZE``),
    the one with the lowest ``mean_haircut``; a tie (equal mean haircut) goes to the
    larger ``z_maint``, then to the larger ``tau_slow``. The protocol names no further
    tie-break: should rows still tie, the larger ``tau_fast`` is taken and the second
    value returned is True so that the caller reports it.

    Parameters
    ----------
    table : rows with keys ``passed``, ``mean_haircut`` (fraction), ``z_maint``,
        ``tau_fast`` and ``tau_slow`` (seconds).

    Returns
    -------
    (index or None when no row passes, unresolved_tie)
    """
    passing = [k for k, r in enumerate(table) if r["passed"]]
    if not passing:
        return None, False

    def key(k: int) -> tuple[float, float, float]:
        r = table[k]
        return (float(r["mean_haircut"]), -float(r["z_maint"]), -float(r["tau_slow"]))

    best = min(passing, key=key)
    tied = [k for k in passing if key(k) == key(best)]
    if len(tied) > 1:
        best = max(tied, key=lambda k: float(table[k]["tau_fast"]))
    return best, len(tied) > 1


def kupiec_pof_one_sided(exceedances: int, observations: int, level: float) -> tuple[float, float]:
    """Kupiec's (1995) proportion-of-failures test against under-coverage only.

    ``LR`` is ``kupiec_pof``'s statistic; its signed root
    ``r = sign(x/N - p) sqrt(LR)`` is asymptotically standard normal under the null
    exceedance rate ``p = 1 - level``, and the p-value is ``P(Z >= r)``: small only when
    there are *more* exceedances than the target rate implies (``= chi2(1).sf(LR) / 2``
    then); ``>= 0.5`` when there are fewer or as many.

    Returns
    -------
    (LR, p-value). Raises ValueError as ``kupiec_pof``.
    """
    lr, _ = kupiec_pof(exceedances, observations, level)
    excess = int(exceedances) / int(observations) - (1.0 - level)
    r = math.sqrt(lr) if excess > 0 else -math.sqrt(lr)
    return lr, float(norm.sf(r))


def traffic_light(exceedances: int, observations: int, level: float = TARGET_LEVEL) -> dict[str, Any]:
    """Basel (1996) traffic-light zone of ``exceedances`` in ``observations`` days.

    With ``X ~ Binomial(N, 1 - level)``, ``c = P(X <= x)``; the zone is green for
    ``c < 0.95``, yellow for ``0.95 <= c < 0.9999``, red for ``c >= 0.9999``
    (``TRAFFIC_LIGHT_BOUNDS``). At N = 250 and 99 % this is Basel's green 0-4, yellow
    5-9, red 10+; for other N the same cumulative probabilities scale the zones, as the
    Basel framework does for samples other than 250 days.

    Returns
    -------
    dict: ``exceedances``, ``observations``, ``per_250_days`` (x scaled to 250 days),
    ``cumulative_probability`` (c) and ``zone`` ("green", "yellow" or "red").

    Raises
    ------
    ValueError
        For ``N < 1``, ``x`` outside ``[0, N]`` or ``level`` outside (0, 1).
    """
    x, n = int(exceedances), int(observations)
    if n < 1 or not 0 <= x <= n:
        raise ValueError(f"need 0 <= exceedances <= observations and observations >= 1, got {x}, {n}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    c = float(binom.cdf(x, n, 1.0 - level))
    green, yellow = TRAFFIC_LIGHT_BOUNDS
    zone = "green" if c < green else ("yellow" if c < yellow else "red")
    return {"exceedances": x, "observations": n, "per_250_days": BASEL_DAYS * x / n,
            "cumulative_probability": c, "zone": zone}


def traffic_light_blocks(hits: np.ndarray, starts: np.ndarray, level: float = TARGET_LEVEL,
                         block: int = BASEL_DAYS) -> list[dict[str, Any]]:
    """``traffic_light`` of consecutive blocks of ``block`` windows (the last one possibly
    shorter, zoned at its own length), each with its first and last window (UTC)."""
    h = np.asarray(hits, dtype=bool)
    out = []
    for i in range(0, len(h), block):
        part = h[i : i + block]
        tl = traffic_light(int(part.sum()), len(part), level)
        tl["first_window_utc"] = _utc(starts[i])
        tl["last_window_utc"] = _utc(starts[i + len(part) - 1])
        out.append(tl)
    return out


def _deployed_stats(hits: np.ndarray, h: np.ndarray, starts: np.ndarray, level: float) -> dict[str, Any]:
    x, n = int(hits.sum()), int(len(hits))
    lr, p1 = kupiec_pof_one_sided(x, n, level)
    return {
        "exceedances": x,
        "observations": n,
        "rate": x / n,
        "kupiec_one_sided_lr": lr,
        "kupiec_one_sided_p": p1,
        "binomial_tail_p": float(binom.sf(x - 1, n, 1.0 - level)),
        "mean_haircut": float(h.mean()),
        "traffic_light": traffic_light(x, n, level),
        "traffic_light_blocks": traffic_light_blocks(hits, starts, level),
    }


@dataclass
class V2Result:
    """Protocol v2's outcome for one asset (``docs/calibration-protocol.md``).

    Parameters chosen: ``z_maint``, ``z_init = z_maint + 1`` (dimensionless),
    ``tau_fast``/``tau_slow`` (seconds), ``h0`` (fraction, 2 %), ``h_min`` (the stressed
    floor, fraction, a whole percent) and ``h_min_quantile`` (the raw empirical 99 %
    quantile it rounds up). ``selected``: a candidate passed both tests on training
    (False: the docs/design.md defaults were kept); ``unresolved_tie``: the protocol's
    tie-breaks did not decide (see ``select_v2``).

    Statistics (dicts as ``_stats``: exceedances, observations, rate, Kupiec and
    Christoffersen LR and p, mean haircut, passed): ``train`` (model haircut, training
    windows), ``primary`` (model haircut, hourly held-out windows; None when run with
    ``held_out=False``), ``confirmatory`` (WBTC only: model haircut on the daily BTC/USD
    closes 2014-01-01 .. 2018-05-14; None otherwise). ``primary_passed``: both primary
    tests >= ``TEST_SIZE`` (the protocol's pass criterion). ``deployed``: for each held-out
    set, ``max(h_min, model)``'s exceedances, one-sided Kupiec p, exact binomial tail
    and Basel traffic light (whole set and per 250-day block); ``deployed_in_oracle``: the
    same for the haircut the oracle computes with ``h_min`` in its vector (ramped towards
    the floored target; never below ``max(h_min, model)``), a diagnostic.
    ``details``: periods, counts, the candidate table size, the docs/design.md defaults' model
    statistics, the short side, data sources.
    """

    asset: str
    selected: bool
    z_maint: float
    z_init: float
    tau_fast: int
    tau_slow: int
    h0: float
    h_min: float
    h_min_quantile: float
    train: dict[str, Any]
    primary: dict[str, Any] | None
    primary_passed: bool | None
    confirmatory: dict[str, Any] | None
    deployed: dict[str, Any]
    deployed_in_oracle: dict[str, Any]
    unresolved_tie: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def oracle_vector(self) -> tuple[int, ...]:
        """The RiskOracle vector of the choice: ``volmargin.params.oracle_params`` defaults
        with z_maint, z_init, tau_fast, tau_slow, h0 and the stressed floor h_min."""
        return P.oracle_params(z_maint=self.z_maint, z_init=self.z_init, tau_fast=self.tau_fast,
                               tau_slow=self.tau_slow, h0=self.h0, h_min=self.h_min)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict of every field."""
        return asdict(self)


def load_confirmatory(data_dir: str | Path | None = None) -> Bars:
    """The daily BTC/USD bars of ``CONFIRM_FILE`` (``timestamp`` = day open, UTC; ``close``
    USD per BTC). Raises ``volmargin_lab.data.DataError`` for a missing or malformed file."""
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    return load_csv(root / CONFIRM_FILE)


def calibrate_v2(
    symbol: str,
    *,
    quick: bool = False,
    held_out: bool = True,
    data_dir: str | Path | None = None,
) -> V2Result:
    """Calibration protocol v2 (``docs/calibration-protocol.md``) for ``symbol``.

    1. **Model grid on training.** Every ``V2_GRID`` candidate (z_maint, tau_fast,
       tau_slow) is the asset's ``volmargin.params`` oracle vector with those entries,
       ``h0`` = 2 % and ``h_min`` = 0: the haircut ``clamp(h0 + z_maint sigma_H, 0, h_max)``
       with ``var = max(var_fast, var_slow)`` and the ramp, exactly what ``RiskOracle``
       sets at ``h_min`` = 0. ``OracleModel`` runs all candidates along
       ``load_long_history(symbol)`` (one hourly close per bar, listed with the asset's
       ``var_seed``); windows and losses (``haircut_windows``): non-overlapping 1-day windows
       from 00:00 UTC, long-side loss ``1 - P(end)/P(start)`` against the haircut in force
       at the window's start, the first ``BURN_IN_S`` (90 days) as burn-in. Training:
       windows ending by 2023-01-01 00:00 UTC (2018-08-14 .. 2022-12-31).
    2. **Selection** (``select_v2``): lowest training mean haircut among candidates whose
       training Kupiec (two-sided) and Christoffersen p-values are both >= 0.05; ties to
       the larger z_maint, then the larger tau_slow. None passes: the docs/design.md defaults
       ``V2_FALLBACK`` are kept and ``selected`` is False.
    3. **Floor**: ``h_min = stressed_floor(training losses)`` (99 % empirical quantile
       rounded up to a whole percent). **Opening buffer**: ``z_init = z_maint + 1``.
    4. **Primary held-out test** (``held_out``): the chosen model haircut on the windows
       from 2023-01-01 00:00 UTC to the end of the history (2025-06-12); the oracle's
       state runs on across the split. Both tests must pass (``primary_passed``).
    5. **Confirmatory test** (WBTC only): the WBTC choice, unchanged, on ``CONFIRM_FILE``
       fed one close per day (a day's close observed at the next 00:00 UTC), listed at
       ``CONFIRM_LISTING`` with WBTC's ``var_seed`` (burn-in 2013-10-03 .. 2013-12-31),
       windows 2014-01-01 .. 2018-05-14 (``CONFIRM_START`` .. ``CONFIRM_END``).
    6. **Deployed haircut** ``max(h_min, model)`` on both held-out sets: exceedances,
       one-sided Kupiec p (``kupiec_pof_one_sided``), Basel traffic light
       (``traffic_light``, whole set and per 250 days). Not a pass criterion.

    ``quick=True``: ``QUICK_WINDOW`` (train 2019-07..2020, test 2021) and ``QUICK_GRID``
    (4 candidates), for tests and smoke runs; the confirmatory set is *not* run (it stays
    unseen by anything but the protocol's own run). ``held_out=False``:
    training only (steps 1-3; the price series is cut at the split, which leaves every
    training statistic unchanged because the oracle is causal); ``primary``,
    ``confirmatory``, ``deployed`` are then None / empty.

    Units: haircuts, losses, h0, h_min fractions; tau and horizons seconds; periods UTC.

    Raises
    ------
    ValueError
        For a symbol other than "WETH" or "WBTC".
    volmargin_lab.data.DataError
        For a missing or malformed price file.
    """
    if symbol not in LONG_HISTORY:
        raise ValueError(f"symbol must be one of {', '.join(LONG_HISTORY)}, got {symbol!r}")
    g = {**(QUICK_GRID if quick else V2_GRID), "h0": (V2_H0,), "h_min": (V2_MODEL_H_MIN,)}
    run = _v2_run(symbol, g, quick, held_out, data_dir)
    train = run.train
    table = [
        {"z_maint": z, "tau_fast": tf, "tau_slow": ts, "h0": h0, "h_min": hm,
         **_stats(run.hits[k, train], run.win.h_maint[k, train], TARGET_LEVEL)}
        for k, (z, tf, ts, hm, h0) in enumerate(run.cands)
    ]
    best, tie = select_v2(table)
    selected = best is not None
    if best is None:
        best = next(k for k, c in enumerate(run.cands) if c[:3] == V2_FALLBACK)
    z, tf, ts, _, h0 = run.cands[best]
    floor, q = stressed_floor(run.win.loss_long[train])
    res = V2Result(
        asset=symbol, selected=selected, z_maint=z, z_init=z + V2_Z_GAP, tau_fast=tf, tau_slow=ts, h0=h0,
        h_min=floor, h_min_quantile=q, train=table[best], primary=None, primary_passed=None, confirmatory=None,
        deployed={}, deployed_in_oracle={}, unresolved_tie=tie,
        details=_v2_details(run, symbol, g, table, quick, data_dir),
    )
    if held_out:
        _v2_primary(run, res, best)
        if symbol == CONFIRM_ASSET and not quick:  # the confirmatory set is never opened in quick mode
            _v2_confirmatory(res, data_dir)
    return res


@dataclass
class _V2Run:
    """One asset's protocol v2 pass: the hourly closes fed to the oracle (``prices`` USD,
    ``times`` Unix seconds), the first window start ``t_begin``, the end ``t_end`` and the
    train/test ``split`` (Unix seconds), every candidate (z_maint, tau_fast s, tau_slow s,
    h_min, h0) with its windows ``win`` and long-side hits ``hits`` (K, W), and the token's
    ``spec`` (``volmargin.params.TOKENS`` entry), ``horizon_s`` and ``var_seed`` (per second)."""

    spec: Any
    horizon_s: int
    var_seed: float
    prices: np.ndarray
    times: np.ndarray
    t_begin: int
    t_end: int
    split: int
    cands: list[tuple[float, int, int, float, float]]
    win: Windows
    hits: np.ndarray

    @property
    def train(self) -> np.ndarray:
        """(W,) bool: windows that end by the split."""
        return self.win.start + self.horizon_s <= self.split

    @property
    def test(self) -> np.ndarray:
        """(W,) bool: windows that start at or after the split."""
        return self.win.start >= self.split

    def period(self, mask: np.ndarray) -> list[str]:
        """[first window start, last window end] of the windows in ``mask``, UTC."""
        return [_utc(self.win.start[mask][0]), _utc(self.win.start[mask][-1] + self.horizon_s)]


def _v2_run(
    symbol: str, g: dict[str, Sequence[float]], quick: bool, held_out: bool, data_dir: str | Path | None
) -> _V2Run:
    """Step 1 of ``calibrate_v2``: every candidate of ``g`` through ``OracleModel`` along the
    long hourly history of ``symbol`` (``QUICK_WINDOW`` when ``quick``; cut at the split
    unless ``held_out``), a bar's close observed at the bar's end."""
    spec = next(t for t in P.TOKENS if t.symbol == symbol)
    cands, op = _grid_params(spec.oracle, g)
    H = int(spec.oracle[ref.P_HORIZON])
    var_seed = spec.var_seed / 1e18

    bars = load_long_history(symbol, data_dir)
    times = bars.timestamp + bars.resolution_s  # a bar's close is observed at its end
    prices = bars.close
    if quick:
        t_first, split, t_end = QUICK_WINDOW
        keep = (times >= t_first - BURN_IN_S) & (times <= t_end)
        prices, times = prices[keep], times[keep]
    else:
        split, t_end = TEST_START, int(times[-1])
    if not held_out:
        keep = times <= split
        prices, times, t_end = prices[keep], times[keep], split
    t_begin = int(times[0]) + BURN_IN_S
    win = haircut_windows(prices, times, op, H, var_seed=var_seed, start=t_begin, end=t_end)
    hits = win.loss_long[None, :] > win.h_maint
    return _V2Run(spec, H, var_seed, prices, times, t_begin, t_end, split, cands, win, hits)


def _v2_details(
    run: _V2Run, symbol: str, g: dict[str, Sequence[float]], table: list[dict[str, Any]], quick: bool,
    data_dir: str | Path | None,
) -> dict[str, Any]:
    """``V2Result.details`` of the training steps: settings, periods, counts, data sources,
    the candidate table and the docs/design.md defaults' model statistics on training."""
    train = run.train
    details: dict[str, Any] = {
        "protocol": "v2 (docs/calibration-protocol.md)",
        "horizon_s": run.horizon_s,
        "side": "long",
        "target_level": TARGET_LEVEL,
        "test_size": TEST_SIZE,
        "burn_in_days": BURN_IN_S / DAY,
        "quick": quick,
        "grid": {k: list(v) for k, v in g.items()},
        "candidates": len(run.cands),
        "candidates_passing_train": sum(1 for r in table if r["passed"]),
        "train_period": run.period(train),
        "train_observations": int(train.sum()),
        "windows_dropped_for_gaps": run.win.dropped,
        "floor_level": V2_FLOOR_LEVEL,
        "floor_quantile_method": "inverse empirical CDF (numpy 'inverted_cdf'), rounded up to a whole percent",
        "sources": history_sources(symbol, data_dir),
        "train_table": table,
    }
    k_def = _design_defaults_index(run)
    if k_def is not None:
        details["design_defaults_model"] = {"z_maint": V2_FALLBACK[0], "tau_fast": V2_FALLBACK[1],
                                            "tau_slow": V2_FALLBACK[2], "train": table[k_def]}
    return details


def _design_defaults_index(run: _V2Run) -> int | None:
    """Index of the docs/design.md defaults ``V2_FALLBACK`` among the candidates, None when the grid lacks them."""
    return next((k for k, c in enumerate(run.cands) if c[:3] == V2_FALLBACK), None)


def _v2_primary(run: _V2Run, res: V2Result, best: int) -> None:
    """Steps 4 and 6 of ``calibrate_v2`` on the hourly held-out windows, written into ``res``:
    the chosen model haircut's tests (and the short side, and the docs/design.md defaults'), the
    deployed ``max(h_min, model)`` and the haircut of the oracle with the floor in its vector."""
    test, win, level = run.test, run.win, TARGET_LEVEL
    model = win.h_maint[best]
    res.primary = _stats(run.hits[best, test], model[test], level)
    res.primary_passed = bool(res.primary["passed"])
    res.details["test_period"] = run.period(test)
    short = win.loss_short[test] > model[test]
    res.details["primary_short_side"] = _stats(short, model[test], level)
    k_def = _design_defaults_index(run)
    if k_def is not None:
        res.details["design_defaults_model"]["primary"] = _stats(run.hits[k_def, test], win.h_maint[k_def, test],
                                                                 level)
    dep = np.maximum(res.h_min, model)
    res.deployed["primary"] = _deployed_stats(win.loss_long[test] > dep[test], dep[test], win.start[test], level)
    op_floored = M.OracleParams.from_wad([_candidate_vector(run.spec.oracle, res.z_maint, res.tau_fast, res.tau_slow,
                                                            res.h_min, V2_H0)])
    floored = haircut_windows(run.prices, run.times, op_floored, run.horizon_s, var_seed=run.var_seed,
                              start=run.t_begin, end=run.t_end)
    assert np.array_equal(floored.start, win.start)
    h_in = floored.h_maint[0]
    res.deployed_in_oracle["primary"] = _deployed_stats(
        win.loss_long[test] > h_in[test], h_in[test], win.start[test], level)


def _v2_confirmatory(res: V2Result, data_dir: str | Path | None) -> None:
    """Step 5 of ``calibrate_v2``: the choice in ``res``, unchanged, on the daily BTC/USD
    closes (``confirmatory_backtest``), written into ``res``."""
    c = confirmatory_backtest(res.z_maint, res.tau_fast, res.tau_slow, res.h_min, data_dir=data_dir)
    res.confirmatory = c["model"]
    res.deployed["confirmatory"] = c["deployed"]
    res.deployed_in_oracle["confirmatory"] = c["deployed_in_oracle"]
    res.details["confirmatory"] = c["details"]


def confirmatory_backtest(
    z_maint: float, tau_fast: int, tau_slow: int, h_min: float, *, data_dir: str | Path | None = None,
    listing: int = CONFIRM_LISTING, start: int = CONFIRM_START, end: int = CONFIRM_END,
) -> dict[str, Any]:
    """Protocol v2's confirmatory test of a WBTC choice on daily BTC/USD closes.

    The WBTC vector with ``z_maint``, ``tau_fast``, ``tau_slow`` (seconds), ``h0`` = 2 % and
    ``h_min`` = 0 (the model) runs on ``CONFIRM_FILE`` fed one close per day, a day's close
    observed at the next 00:00 UTC, listed at ``listing`` with WBTC's ``var_seed``; windows
    are the 1-day windows from ``start`` to ``end`` (Unix seconds, UTC; by default
    2014-01-01 .. 2018-05-14 after the 2013-10-03 .. 2013-12-31 burn-in). ``h_min``
    (fraction) is the stressed floor of the deployed haircut ``max(h_min, model)``.

    Returns
    -------
    dict: ``model`` (``_stats`` of the model haircut: both tests), ``deployed`` and
    ``deployed_in_oracle`` (one-sided Kupiec, binomial tail, Basel traffic light), and
    ``details`` (file, market, listing, closes fed, period, gaps, short side).

    Raises
    ------
    volmargin_lab.data.DataError
        For a missing or malformed ``CONFIRM_FILE``; ValueError when no window fits.
    """
    level = TARGET_LEVEL
    spec = next(t for t in P.TOKENS if t.symbol == CONFIRM_ASSET)
    H = int(spec.oracle[ref.P_HORIZON])
    daily = load_confirmatory(data_dir)
    t_d = daily.timestamp + DAY  # a day's close is observed at the next 00:00 UTC
    keep = (t_d >= listing) & (t_d <= end)
    p_d, t_d = daily.close[keep], t_d[keep]
    vecs = [_candidate_vector(spec.oracle, z_maint, tau_fast, tau_slow, V2_MODEL_H_MIN, V2_H0),
            _candidate_vector(spec.oracle, z_maint, tau_fast, tau_slow, h_min, V2_H0)]
    cw = haircut_windows(p_d, t_d, M.OracleParams.from_wad(vecs), H, var_seed=spec.var_seed / 1e18,
                         start=start, end=end)
    hits = cw.loss_long[None, :] > cw.h_maint
    dep = np.maximum(h_min, cw.h_maint[0])
    return {
        "model": _stats(hits[0], cw.h_maint[0], level),
        "deployed": _deployed_stats(cw.loss_long > dep, dep, cw.start, level),
        "deployed_in_oracle": _deployed_stats(hits[1], cw.h_maint[1], cw.start, level),
        "details": {
            "file": CONFIRM_FILE,
            "market": "Bitstamp BTC/USD to 2015-07-21, Coinbase BTC-USD after (data/SOURCES.md)",
            "listing_utc": _utc(t_d[0]),
            "closes_fed": int(len(p_d)),
            "test_period": [_utc(cw.start[0]), _utc(cw.start[-1] + H)],
            "windows_dropped_for_gaps": cw.dropped,
            "short_side": _stats(cw.loss_short > cw.h_maint[0], cw.h_maint[0], level),
        },
    }


# ------------------------------------------------------------------ GARCH


@dataclass
class GarchFit:
    """A fitted GARCH(1,1) (Bollerslev 1986) of log returns, in fractions per period.

    ``r_t = mu + e_t``, ``e_t = sqrt(h_t) z_t``, ``h_t = omega + alpha e_{t-1}^2 + beta h_{t-1}``;
    ``z_t`` standardized Student-t with ``nu`` degrees of freedom (unit variance), or
    standard normal when ``nu`` is None. ``omega`` and ``last_variance`` are variances per
    period (fraction^2), ``mu`` a log return per period; ``periods_per_year`` converts
    (8,760 for hourly, 365 for daily). ``last_variance`` is the conditional variance of
    the first period after the sample (the one-step forecast).
    """

    omega: float
    alpha: float
    beta: float
    mu: float
    nu: float | None
    periods_per_year: float
    last_variance: float

    @property
    def persistence(self) -> float:
        """alpha + beta (< 1 for a covariance-stationary process)."""
        return self.alpha + self.beta

    @property
    def unconditional_variance(self) -> float:
        """omega / (1 - alpha - beta), per period (Bollerslev 1986, thm 1); inf if not stationary."""
        return self.omega / (1.0 - self.persistence) if self.persistence < 1.0 else math.inf

    @property
    def annual_vol(self) -> float:
        """sqrt(unconditional variance * periods_per_year): long-run annualized volatility."""
        return math.sqrt(self.unconditional_variance * self.periods_per_year)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable fields plus ``persistence`` and ``annual_vol``."""
        return {**asdict(self), "persistence": self.persistence, "annual_vol": self.annual_vol}


#: Extra (alpha, beta) starting points of ``fit_garch``'s multi-start maximum likelihood.
_GARCH_STARTS = ((0.05, 0.93), (0.10, 0.85), (0.15, 0.80))


def fit_garch(log_returns: np.ndarray, periods_per_year: float, dist: str = "t") -> GarchFit:
    """Fit a constant-mean GARCH(1,1) by maximum likelihood with ``arch``.

    The returns are multiplied by 100 (percent) before fitting, as ``arch`` recommends
    for the optimizer's scaling, and the estimates converted back: ``mu / 100``,
    ``omega / 100^2``, ``last_variance / 100^2``; ``alpha``, ``beta``, ``nu`` are scale-free.
    The optimizer starts from ``arch``'s default and from ``_GARCH_STARTS``; the converged
    fit with the largest log-likelihood is kept. Crypto returns often give
    ``alpha + beta`` at or just above 1 (integrated GARCH): then ``unconditional_variance``
    is infinite and simulated variance does not revert.

    Parameters
    ----------
    log_returns : (n,) log returns per period (fractions), finite, n >= 100.
    periods_per_year : periods in a year (> 0), stored for annualization.
    dist : "t" (standardized Student-t, default) or "normal".

    Raises
    ------
    ValueError
        For fewer than 100 returns, non-finite returns, ``periods_per_year <= 0`` or
        an unknown ``dist``.
    """
    from arch import arch_model

    r = np.asarray(log_returns, dtype=np.float64)
    if r.ndim != 1 or len(r) < 100:
        raise ValueError(f"log_returns must be 1-D with at least 100 values, got shape {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("log_returns must be finite")
    if not periods_per_year > 0:
        raise ValueError(f"periods_per_year must be > 0, got {periods_per_year}")
    if dist not in ("t", "normal"):
        raise ValueError(f"dist must be 't' or 'normal', got {dist!r}")
    scale = 100.0
    x = r * scale
    am = arch_model(x, mean="Constant", vol="GARCH", p=1, q=1, dist=dist, rescale=False)
    # arch's SLSQP can stop at its starting point on long, heavy-tailed series (seen on the
    # hourly BTC history): start also from a few (alpha, beta) and keep the best likelihood
    fits = [am.fit(disp="off", show_warning=False)]
    for a, b in _GARCH_STARTS:
        start = [x.mean(), x.var() * (1.0 - a - b), a, b] + ([6.0] if dist == "t" else [])
        fits.append(am.fit(disp="off", show_warning=False, starting_values=np.array(start)))
    ok = [f for f in fits if f.convergence_flag == 0 and np.isfinite(f.loglikelihood)] or fits
    res = max(ok, key=lambda f: f.loglikelihood)
    prm = res.params
    fc = float(res.forecast(horizon=1, reindex=False).variance.values[-1, 0])
    return GarchFit(
        omega=float(prm["omega"]) / scale**2,
        alpha=float(prm["alpha[1]"]),
        beta=float(prm["beta[1]"]),
        mu=float(prm["mu"]) / scale,
        nu=float(prm["nu"]) if dist == "t" else None,
        periods_per_year=float(periods_per_year),
        last_variance=fc / scale**2,
    )
