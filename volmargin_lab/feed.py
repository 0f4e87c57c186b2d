"""A Chainlink-like price feed over the finest real path, and the bridge for hourly-only spans.

The oracle of the stress lab and of the main-job replay sees only the rounds a
deviation-plus-heartbeat feed publishes (docs/design.md §10): a round is published when the
market deviates from the last answer by at least the asset's ``FeedSpec.deviation`` or when
the last round is ``FeedSpec.heartbeat_s`` old. The feed runs over the finest real path
available (``feed_path``):

* 1-minute or 5-minute bars: their closes, one point per bar (``close_path``); bars' intrabar
  highs and lows are exchange wicks no aggregated feed publishes;
* hourly OHLC bars: a seeded Brownian bridge pinned to every bar's open, low, high and close
  (``bridge_bars``; ``BRIDGE_STEPS`` points per bar, noise scaled by the bar's Garman-Klass
  variance times ``BRIDGE_NOISE``), the rule chosen against the 1- and 5-minute spans
  (``feed_realism``);
* close-only bars: their closes (the intrabar path is unknown; a deviation feed on hourly
  closes sees about 0.63-0.96 of the fine data's volatility, see the stress report).

Units: times Unix seconds (UTC), prices USD per whole token, deviations fractions,
volatilities annualized fractions (365-day year).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import DATA_DIR, Bars, DataError, load_csv

YEAR_S = 365 * 86_400
#: Points per hourly bar of the bridge (one a minute).
BRIDGE_STEPS = 60
#: Brownian noise of the bridge as a multiple of the bar's Garman-Klass variance (chosen on the
#: 2021-05 five-minute spans, checked on the others: see ``feed_realism`` and the stress report).
BRIDGE_NOISE = 0.75
#: Bars at least this long (seconds) go through the bridge; finer bars give their closes.
BRIDGE_MIN_BAR_S = 3600


@dataclass(frozen=True)
class FeedSpec:
    """One asset's feed cadence: ``deviation`` (fraction) and ``heartbeat_s`` (seconds)."""

    deviation: float
    heartbeat_s: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.deviation < 1.0 or self.heartbeat_s <= 0:
            raise ValueError(f"a feed needs deviation in [0, 1) and heartbeat_s > 0, got {self}")


#: Per asset: WETH and WBTC as Chainlink's ETH/USD and BTC/USD on Ethereum (0.5 %, 1 h); USD as
#: Chainlink's USDC/USD (0.25 %, 24 h, the deployed USD oracle's heartbeat); LUNA and FTT, thinner
#: feeds, a wider 1 % deviation with the 1 h heartbeat the lab's oracles expect for them (a longer
#: feed heartbeat would make their oracles call the price stale between rounds).
FEED_SPECS: dict[str, FeedSpec] = {
    "USD": FeedSpec(0.0025, 86_400.0),
    "WETH": FeedSpec(0.005, 3_600.0),
    "WBTC": FeedSpec(0.005, 3_600.0),
    "LUNA": FeedSpec(0.01, 3_600.0),
    "FTT": FeedSpec(0.01, 3_600.0),
}


def feed_spec(symbol: str) -> FeedSpec:
    """``FEED_SPECS[symbol]``; KeyError naming the known symbols."""
    if symbol not in FEED_SPECS:
        raise KeyError(f"no feed cadence for {symbol!r}; known: {', '.join(FEED_SPECS)}")
    return FEED_SPECS[symbol]


def publish_rounds(
    times: np.ndarray, prices: np.ndarray, spec: FeedSpec, pause_below: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The rounds a deviation-plus-heartbeat feed publishes along a path.

    ``times`` (S,) seconds, increasing; ``prices`` (S,) USD. The first point is a round; a
    later point is one when ``|p / answer - 1| >= spec.deviation`` or ``t - updated >=
    spec.heartbeat_s`` (the heartbeat fires at the first point at or after it is due). Once
    the path is below ``pause_below`` (USD) the feed publishes nothing more (a paused feed).
    Returns (round times (R,), answers (R,)); ValueError for mismatched shapes."""
    t = np.asarray(times, dtype=np.float64)
    p = np.asarray(prices, dtype=np.float64)
    if t.shape != p.shape or t.ndim != 1 or len(t) == 0:
        raise ValueError("times and prices must be non-empty (S,) arrays")
    below = np.flatnonzero(p < pause_below)
    stop = int(below[0]) if len(below) else len(t)
    keep = [0] if stop > 0 else []
    last_p, last_t = p[0], t[0]
    dev, hb = spec.deviation, spec.heartbeat_s
    for i in range(1, stop):
        if abs(p[i] / last_p - 1.0) >= dev or t[i] - last_t >= hb:
            keep.append(i)
            last_p, last_t = p[i], t[i]
    idx = np.asarray(keep, dtype=np.int64)
    return t[idx], p[idx]


def on_grid(round_t: np.ndarray, round_p: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(answer, updated_at), each (G,): the last round at or before each ``grid`` time
    (seconds); before the first round, the first round (the listing)."""
    i = np.maximum(np.searchsorted(round_t, grid, side="right") - 1, 0)
    return round_p[i], round_t[i]


def feed_vol(round_t: np.ndarray, round_p: np.ndarray, span_s: float | None = None) -> float:
    """Annualized realized volatility of a feed's rounds: sqrt(sum of squared log returns
    between rounds / span in years); ``span_s`` defaults to last minus first round time."""
    span = float(round_t[-1] - round_t[0]) if span_s is None else float(span_s)
    if len(round_p) < 2 or span <= 0:
        return 0.0
    r = np.diff(np.log(round_p))
    return float(np.sqrt((r * r).sum() / span * YEAR_S))


def close_path(bars: Bars) -> tuple[np.ndarray, np.ndarray]:
    """(times, prices): the first bar's open (its close when it has none) at its start, then
    every close at its bar's end (``timestamp + resolution``)."""
    r = float(bars.resolution_s) if bars.resolution_s > 0 else 3600.0
    t0 = bars.timestamp.astype(np.float64)
    start = bars.open[0] if np.isfinite(bars.open[0]) else bars.close[0]
    return np.r_[t0[0], t0 + r], np.r_[start, bars.close.astype(np.float64)]


def has_ohlc(bars: Bars) -> bool:
    """True when every bar has finite open, high and low."""
    return (not bars.close_only) and bool(
        np.all(np.isfinite(bars.open)) and np.all(np.isfinite(bars.high)) and np.all(np.isfinite(bars.low)))


def bridge_bars(bars: Bars, seed: int, steps: int = BRIDGE_STEPS, noise: float = BRIDGE_NOISE) -> np.ndarray:
    """(K, steps + 1) prices (USD) of the bridge through K OHLC bars, point j at ``timestamp +
    j * resolution / steps``.

    Per bar: the open at j = 0, the close at j = steps, the low and the high at two distinct
    seeded random points in between (the low first when the bar closed at or above its open);
    between these four anchors, straight lines in log price plus a Brownian bridge of variance
    ``noise * GK / steps`` per point (GK: the bar's Garman-Klass variance), clipped to the
    bar's [low, high]. So each bar's maximum is its high and its minimum its low (a high or low
    inside the open/close is widened to them). ValueError without OHLC or with steps < 3."""
    if not has_ohlc(bars):
        raise DataError("the bridge needs OHLC bars (this file is close-only)")
    if steps < 3:
        raise ValueError(f"the bridge needs at least 3 points per bar, got {steps}")
    rng = np.random.default_rng(seed)
    xo, xc = np.log(bars.open), np.log(bars.close)
    hi = np.maximum(np.log(bars.high), np.maximum(xo, xc))
    lo = np.minimum(np.log(bars.low), np.minimum(xo, xc))
    K = len(xo)
    # two distinct anchor points in 1..steps-1 per bar
    a = rng.integers(1, steps, size=K)
    b = rng.integers(1, steps - 1, size=K)
    b = np.where(b >= a, b + 1, b)
    i1, i2 = np.minimum(a, b), np.maximum(a, b)
    up = xc >= xo
    x1, x2 = np.where(up, lo, hi), np.where(up, hi, lo)
    j = np.arange(steps + 1)[None, :]
    left = np.where(j <= i1[:, None], 0, np.where(j <= i2[:, None], i1[:, None], i2[:, None]))
    right = np.where(j <= i1[:, None], i1[:, None], np.where(j <= i2[:, None], i2[:, None], steps))
    anchors_x = np.stack([xo, x1, x2, xc], axis=1)
    anchors_i = np.stack([np.zeros(K, dtype=np.int64), i1, i2, np.full(K, steps)], axis=1)
    seg = np.where(j <= i1[:, None], 0, np.where(j <= i2[:, None], 1, 2))
    rows = np.arange(K)[:, None]
    xl, xr = anchors_x[rows, seg], anchors_x[rows, seg + 1]
    il, ir = anchors_i[rows, seg], anchors_i[rows, seg + 1]
    w = (j - il) / (ir - il)
    x = xl + (xr - xl) * w
    gk = np.maximum(0.5 * (hi - lo) ** 2 - (2.0 * np.log(2.0) - 1.0) * (xc - xo) ** 2, 0.0)
    if noise > 0:
        z = rng.standard_normal((K, steps + 1)) * np.sqrt(noise * gk / steps)[:, None]
        z[:, 0] = 0.0
        wk = np.cumsum(z, axis=1)
        wl, wr = np.take_along_axis(wk, left, 1), np.take_along_axis(wk, right, 1)
        x = x + (wk - wl - (wr - wl) * w)
    x = np.clip(x, lo[:, None], hi[:, None])
    return np.exp(x)


def bridge_path(bars: Bars, seed: int, steps: int = BRIDGE_STEPS, noise: float = BRIDGE_NOISE) -> tuple[np.ndarray, np.ndarray]:
    """(times, prices) of ``bridge_bars`` as one path: each bar's points after its open (the
    previous bar's close stands for it), the first bar's open at the path's start."""
    r = float(bars.resolution_s) if bars.resolution_s > 0 else 3600.0
    px = bridge_bars(bars, seed, steps, noise)
    tt = bars.timestamp.astype(np.float64)[:, None] + np.arange(steps + 1)[None, :] * (r / steps)
    return np.r_[tt[0, 0], tt[:, 1:].ravel()], np.r_[px[0, 0], px[:, 1:].ravel()]


def path_seed(*parts: str) -> int:
    """A stable seed from names (episode, symbol, file): CRC-32 of their ``/``-join."""
    return zlib.crc32("/".join(parts).encode())


def feed_path(bars: Bars, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The finest real path of ``bars`` for a feed: (times, prices, what it is built from)."""
    r = int(bars.resolution_s)
    if has_ohlc(bars) and r >= BRIDGE_MIN_BAR_S:
        t, p = bridge_path(bars, seed)
        return t, p, f"{_res(r)} OHLC through the pinned bridge ({BRIDGE_STEPS} points a bar)"
    kind = "closes (close-only file)" if not has_ohlc(bars) else "closes"
    t, p = close_path(bars)
    return t, p, f"{_res(r)} {kind}"


def _res(r: int) -> str:
    return f"{r // 3600}-hour" if r >= 3600 and r % 3600 == 0 else f"{r // 60}-minute" if r % 60 == 0 else f"{r}-second"


def resample_ohlc(bars: Bars, seconds: int = 3600) -> Bars:
    """``bars`` (OHLC, finer) as bars of ``seconds``: first open, highest high, lowest low, last
    close, summed volume per bucket ``timestamp // seconds``; only complete buckets are kept.
    DataError for close-only bars or bars not finer than ``seconds``."""
    if not has_ohlc(bars) or not 0 < bars.resolution_s < seconds or seconds % int(bars.resolution_s):
        raise DataError(f"cannot resample {bars.resolution_s}-second bars to {seconds} s")
    per = seconds // int(bars.resolution_s)
    key = bars.timestamp // seconds
    _, first, count = np.unique(key, return_index=True, return_counts=True)
    full = first[count == per]
    idx = full[:, None] + np.arange(per)[None, :]
    if not np.all(np.diff(bars.timestamp[idx], axis=1) == bars.resolution_s):
        full_ok = np.all(np.diff(bars.timestamp[idx], axis=1) == bars.resolution_s, axis=1)
        idx = idx[full_ok]
    return Bars(
        (key[idx[:, 0]] * seconds).astype(bars.timestamp.dtype), bars.open[idx[:, 0]], bars.high[idx].max(axis=1),
        bars.low[idx].min(axis=1), bars.close[idx[:, -1]], bars.volume[idx].sum(axis=1), False, bars.symbol,
        int(seconds),
    )


@dataclass(frozen=True)
class RealismRow:
    """One span's feed realism: annualized vol of the feed built from the span's hourly OHLC
    (through the bridge) and of the feed on the fine closes, over the same ``hours``."""

    hours: float
    vol_feed_hourly: float
    vol_feed_fine: float

    @property
    def ratio(self) -> float:
        """vol_feed_hourly / vol_feed_fine (NaN when the fine feed saw nothing)."""
        return self.vol_feed_hourly / self.vol_feed_fine if self.vol_feed_fine > 0 else float("nan")


def realism(fine: Bars, spec: FeedSpec, seed: int, steps: int = BRIDGE_STEPS, noise: float = BRIDGE_NOISE) -> RealismRow:
    """Feed realism of one fine (1- or 5-minute OHLC) span: resample it to hourly OHLC, bridge
    it (``bridge_path``), run the feed; run the feed on the fine closes of the same complete
    hours; compare the annualized vols (``feed_vol`` over the span). DataError when the span has
    no complete hour."""
    hourly = resample_ohlc(fine, 3600)
    if len(hourly) == 0:
        raise DataError("the span has no complete hour")
    t0, t1 = float(hourly.timestamp[0]), float(hourly.timestamp[-1] + 3600)
    fine = fine.take((fine.timestamp >= t0) & (fine.timestamp < t1))
    span = t1 - t0
    vh = feed_vol(*publish_rounds(*bridge_path(hourly, seed, steps, noise), spec), span)
    vf = feed_vol(*publish_rounds(*close_path(fine), spec), span)
    return RealismRow(span / 3600.0, vh, vf)


#: Spans with 1- or 5-minute OHLC data: (span, asset, file, role). ``train``: the bridge's noise
#: was chosen on them; ``check``: held out (the 2021-05 one-minute ETH file covers days of the
#: training span at a finer resolution: a check of the reference, not of new days).
REALISM_SPANS: tuple[tuple[str, str, str, str], ...] = (
    ("crash-2021-05", "WETH", "eth_usdt_2021-05_5m.csv", "train"),
    ("crash-2021-05", "WBTC", "btc_usdt_2021-05_5m.csv", "train"),
    ("crash-2021-05", "WETH", "eth_usdt_2021-05_1m.csv", "check (training days, 1-minute reference)"),
    ("crash-2024-08", "WETH", "eth_usdt_2024-08_5m.csv", "check"),
    ("crash-2024-08", "WBTC", "btc_usdt_2024-08_5m.csv", "check"),
    ("ftx-2022-11", "WETH", "eth_usdt_2022-11_1m.csv", "check"),
    ("ftx-2022-11", "WBTC", "btc_usdt_2022-11_1m.csv", "check"),
    ("ftx-2022-11", "FTT", "ftt_usdt_2022-11_1m.csv", "check"),
)
#: Bridge seeds averaged per span in ``feed_realism``.
REALISM_SEEDS = 8


def feed_realism(data_dir: Path | None = None, seeds: int = REALISM_SEEDS) -> list[dict[str, object]]:
    """One row per ``REALISM_SPANS`` entry: episode, asset, file, role, fine resolution (s),
    hours, vol_feed_hourly (mean over ``seeds`` bridge seeds), vol_feed_fine, ratio (their
    quotient), ratio_min / ratio_max over the seeds (annualized fractions). DataError for a
    missing file."""
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    rows: list[dict[str, object]] = []
    for episode, asset, f, role in REALISM_SPANS:
        fine = load_csv(root / f)
        rs = [realism(fine, feed_spec(asset), path_seed(episode, asset, f, str(k))) for k in range(seeds)]
        vh = float(np.mean([r.vol_feed_hourly for r in rs]))
        ratios = [r.ratio for r in rs]
        rows.append({"episode": episode, "asset": asset, "file": f, "role": role,
                     "fine_resolution_s": int(fine.resolution_s), "hours": rs[0].hours, "vol_feed_hourly": vh,
                     "vol_feed_fine": rs[0].vol_feed_fine, "ratio": vh / rs[0].vol_feed_fine,
                     "ratio_min": float(min(ratios)), "ratio_max": float(max(ratios))})
    return rows
