"""Historical price files and episodes.

Files follow ``data/SOURCES.md``: header ``timestamp,open,high,low,close,volume``,
``timestamp`` = bar open time in Unix seconds (UTC), prices in USD per whole
token; close-only files leave open/high/low/volume blank.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HEADER = ["timestamp", "open", "high", "low", "close", "volume"]


class DataError(ValueError):
    """A price file or episode that cannot be used; the message names it."""


def _data_dir() -> Path:
    env = os.environ.get("VOLMARGIN_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data" / "prices"


DATA_DIR: Path = _data_dir()


@dataclass(frozen=True)
class Bars:
    """A price series.

    ``timestamp``: int64 Unix seconds (bar open time), shape (n,);
    ``open/high/low/close``: float64 USD per whole token, shape (n,) (NaN
    where the file is close-only); ``volume``: float64 (NaN if blank);
    ``resolution_s``: median bar spacing in seconds.
    """

    timestamp: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    close_only: bool
    symbol: str
    resolution_s: int

    def __len__(self) -> int:
        return len(self.timestamp)

    def take(self, idx: np.ndarray) -> "Bars":
        """The bars at integer or boolean index ``idx``."""
        return Bars(
            self.timestamp[idx], self.open[idx], self.high[idx], self.low[idx], self.close[idx], self.volume[idx],
            self.close_only, self.symbol, self.resolution_s,
        )


def _num(text: str) -> float:
    return float(text) if text.strip() else math.nan


def load_csv(path: str | Path) -> Bars:
    """Load one price file. Raises ``DataError`` naming the file and line for a
    missing or wrong header, an empty file, a non-increasing timestamp, or a
    non-numeric or non-positive close."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such price file")
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: empty file")
        if [h.strip() for h in header] != HEADER:
            raise DataError(f"{path}:1: header must be {','.join(HEADER)}, got {','.join(header)}")
        ts: list[int] = []
        cols: list[list[float]] = [[], [], [], [], []]
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != 6:
                raise DataError(f"{path}:{lineno}: expected 6 fields, got {len(row)}")
            try:
                t = int(row[0])
                values = [_num(x) for x in row[1:]]
            except ValueError as exc:
                raise DataError(f"{path}:{lineno}: non-numeric field ({exc})") from None
            if ts and t <= ts[-1]:
                raise DataError(f"{path}:{lineno}: timestamp {t} not after {ts[-1]}")
            if not (values[3] > 0):
                raise DataError(f"{path}:{lineno}: close must be a positive number, got {row[4]!r}")
            ts.append(t)
            for c, v in zip(cols, values):
                c.append(v)
    if not ts:
        raise DataError(f"{path}: no bars")
    t_arr = np.asarray(ts, dtype=np.int64)
    o, h, lo, c, v = (np.asarray(x, dtype=np.float64) for x in cols)
    resolution = int(np.median(np.diff(t_arr))) if len(t_arr) > 1 else 0
    return Bars(t_arr, o, h, lo, c, v, bool(np.isnan(o).all()), path.name.split("_")[0], resolution)


@dataclass(frozen=True)
class Episode:
    """A named market episode: symbol ("WETH", "WBTC", "USD") -> file in DATA_DIR.

    Without a "USD" file the stablecoin feed holds 1.00 USD.
    """

    name: str
    description: str
    files: dict[str, str] = field(default_factory=dict)


EPISODES: dict[str, Episode] = {
    "eth-2020-03": Episode(
        "eth-2020-03",
        "Black Thursday, 2020-03-05..2020-03-20: ETH 194.6 USD on 03-11, low 88.2 on 03-13 (Bitstamp, hourly OHLC).",
        {"WETH": "eth_usd_2020-03_1h.csv", "WBTC": "btc_usd_2020-03_1h.csv"},
    ),
    "calm-2019-03": Episode(
        "calm-2019-03",
        "March 2019, the calmest month of 2019 (Bitstamp, hourly OHLC).",
        {"WETH": "eth_usd_calm-2019-03_1h.csv", "WBTC": "btc_usd_calm-2019-03_1h.csv"},
    ),
    "luna-2022-05": Episode(
        "luna-2022-05",
        "LUNA/UST collapse, 2022-05-07..2022-05-15 (hourly OHLC).",
        {"WETH": "eth_usd_2022-05_1h.csv", "WBTC": "btc_usd_2022-05_1h.csv"},
    ),
}


def load_episode(name: str) -> dict[str, Bars]:
    """Load an episode's files aligned on their common timestamps.

    Raises ``DataError`` for an unknown episode (listing the known ones) or
    files without common bars.
    """
    if name not in EPISODES:
        raise DataError(f"unknown episode {name!r}; known: {', '.join(EPISODES)}")
    series = {sym: load_csv(DATA_DIR / f) for sym, f in EPISODES[name].files.items()}
    common = None
    for b in series.values():
        common = b.timestamp if common is None else np.intersect1d(common, b.timestamp)
    if common is None or len(common) == 0:
        raise DataError(f"episode {name!r}: its files share no timestamps")
    return {sym: b.take(np.isin(b.timestamp, common)) for sym, b in series.items()}


def resample(bars: Bars, resolution_s: int) -> Bars:
    """Downsample to ``resolution_s`` seconds (open first, high max, low min,
    close last, volume sum). ``ValueError`` unless it is a positive multiple
    of the bar resolution."""
    if resolution_s <= 0 or bars.resolution_s <= 0 or resolution_s % bars.resolution_s:
        raise ValueError(f"resolution_s={resolution_s} is not a positive multiple of {bars.resolution_s}")
    bucket = bars.timestamp // resolution_s * resolution_s
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(bucket)]

    def agg(a: np.ndarray, fn) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.array([fn(a[s:e]) for s, e in zip(starts, ends)], dtype=np.float64)

    return Bars(
        bucket[starts],
        bars.open[starts],
        agg(bars.high, np.max),
        agg(bars.low, np.min),
        bars.close[ends - 1],
        agg(bars.volume, np.sum),
        bars.close_only,
        bars.symbol,
        resolution_s,
    )


def slice_time(bars: Bars, start: int, end: int) -> Bars:
    """Bars with ``start <= timestamp < end`` (Unix seconds)."""
    return bars.take((bars.timestamp >= start) & (bars.timestamp < end))


def to_wad(x: float) -> int:
    """USD price to WAD fixed point (1e18), rounded to nearest."""
    return to_feed_answer(x, 18)


def to_feed_answer(x: float, decimals: int = 8) -> int:
    """USD price to a feed answer with ``decimals`` decimals, rounded to nearest.

    ``ValueError`` for a non-finite or negative price.
    """
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"price must be a finite non-negative number, got {x!r}")
    return int(round(x * 10**decimals))
