"""Historical price files and episodes.

Files follow ``data/SOURCES.md``: header ``timestamp,open,high,low,close,volume``,
``timestamp`` = bar open time in Unix seconds (UTC), prices in USD per whole
token, rows strictly increasing; close-only files leave open/high/low/volume
blank.

Units everywhere in this module: times in Unix seconds (UTC), durations in
seconds, prices in USD per whole token (float64), feed answers and WAD
amounts as Python ``int`` fixed-point numbers.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

HEADER: list[str] = ["timestamp", "open", "high", "low", "close", "volume"]


class DataError(ValueError):
    """A price file or episode that cannot be used; the message names it
    (and, for a bad row, the file and line as ``path:line:``)."""


def _data_dir() -> Path:
    env = os.environ.get("VOLMARGIN_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data" / "prices"


#: Directory of the price files: ``<project>/data/prices``, or the directory in
#: the environment variable ``VOLMARGIN_DATA_DIR`` (read once, at import).
DATA_DIR: Path = _data_dir()


@dataclass(frozen=True)
class Bars:
    """A price series of one asset, one row per bar.

    Attributes
    ----------
    timestamp : np.ndarray
        int64, shape (n,): bar open time, Unix seconds (UTC), strictly increasing.
    open, high, low, close : np.ndarray
        float64, shape (n,): USD per whole token. ``open``, ``high`` and ``low``
        are NaN for a close-only file.
    volume : np.ndarray
        float64, shape (n,): traded volume as published (see ``data/SOURCES.md``
        for the unit of each file); NaN where blank.
    close_only : bool
        True when the file has no open/high/low (all NaN).
    symbol : str
        First component of the file name, e.g. ``"eth"``.
    resolution_s : int
        Median spacing of consecutive bars, seconds (0 for a single bar).
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

    def __post_init__(self) -> None:
        n = len(self.timestamp)
        for name in ("open", "high", "low", "close", "volume"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Bars.{name} has {len(getattr(self, name))} rows, timestamp has {n}")

    def __len__(self) -> int:
        """Number of bars."""
        return len(self.timestamp)

    def take(self, idx: np.ndarray) -> Bars:
        """The bars at integer or boolean index ``idx`` (same symbol and resolution)."""
        return Bars(
            self.timestamp[idx], self.open[idx], self.high[idx], self.low[idx], self.close[idx], self.volume[idx],
            self.close_only, self.symbol, self.resolution_s,
        )


def _num(text: str) -> float:
    return float(text) if text.strip() else math.nan


def load_csv(path: str | Path) -> Bars:
    """Load one price file.

    Parameters
    ----------
    path : str or Path
        A CSV file with header ``timestamp,open,high,low,close,volume``.
        ``timestamp`` is an integer (Unix seconds); open/high/low/volume may be
        blank (close-only rows); ``close`` is a positive finite USD price.

    Returns
    -------
    Bars
        ``symbol`` is the file name up to its first ``_``; ``resolution_s`` the
        median timestamp difference in seconds.

    Raises
    ------
    DataError
        Naming the file (and line, as ``path:line:``) for: a missing file, an
        empty file, a missing or wrong header, a header without rows, a row
        without 6 fields, a non-numeric field, a timestamp not after the
        previous one, or a close that is not a positive finite number.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such price file")
    ts: list[int] = []
    cols: list[list[float]] = [[], [], [], [], []]
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise DataError(f"{path}: empty file (expected header {','.join(HEADER)})")
        if [h.strip() for h in header] != HEADER:
            raise DataError(f"{path}:1: header must be {','.join(HEADER)}, got {','.join(header)}")
        for row in reader:
            lineno = reader.line_num
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
            close = values[3]
            if not (math.isfinite(close) and close > 0):
                raise DataError(f"{path}:{lineno}: close must be a positive number, got {row[4]!r}")
            ts.append(t)
            for c, v in zip(cols, values):
                c.append(v)
    if not ts:
        raise DataError(f"{path}: no bars after the header")
    t_arr = np.asarray(ts, dtype=np.int64)
    o, h, lo, c, v = (np.asarray(x, dtype=np.float64) for x in cols)
    resolution = int(np.median(np.diff(t_arr))) if len(t_arr) > 1 else 0
    close_only = bool(np.isnan(o).all() and np.isnan(h).all() and np.isnan(lo).all())
    return Bars(t_arr, o, h, lo, c, v, close_only, path.name.split("_")[0], resolution)


@dataclass(frozen=True)
class Episode:
    """A named market episode.

    Attributes
    ----------
    name : str
        Key in ``EPISODES``.
    description : str
        One line: dates (UTC), event, source.
    files : dict[str, str]
        Asset symbol (``"WETH"``, ``"WBTC"``, ``"USD"``) -> file name in ``DATA_DIR``.
    stable_file : str or None
        The stablecoin's price file, i.e. ``files["USD"]``; None when the episode
        has none, in which case the stablecoin feed holds 1.00 USD.
    """

    name: str
    description: str
    files: dict[str, str] = field(default_factory=dict)
    stable_file: str | None = None

    def __post_init__(self) -> None:
        if self.files.get("USD") != self.stable_file:
            raise ValueError(
                f"episode {self.name!r}: stable_file={self.stable_file!r} must equal files['USD']="
                f"{self.files.get('USD')!r}"
            )


EPISODES: dict[str, Episode] = {
    "eth-2020-03": Episode(
        "eth-2020-03",
        "Black Thursday, 2020-03-05..2020-03-20: ETH 194.6 USD on 03-11, low 88.2 on 03-13 (Bitstamp, hourly OHLC).",
        {"WETH": "eth_usd_2020-03_1h.csv", "WBTC": "btc_usd_2020-03_1h.csv"},
        None,
    ),
    "calm-2019-03": Episode(
        "calm-2019-03",
        "March 2019, the calmest month of 2019 (Bitstamp, hourly OHLC).",
        {"WETH": "eth_usd_calm-2019-03_1h.csv", "WBTC": "btc_usd_calm-2019-03_1h.csv"},
        None,
    ),
    "luna-2022-05": Episode(
        "luna-2022-05",
        "LUNA/UST collapse, 2022-05-07..2022-05-15 (ETH Bitfinex, BTC Bitstamp, hourly OHLC).",
        {"WETH": "eth_usd_2022-05_1h.csv", "WBTC": "btc_usd_2022-05_1h.csv"},
        None,
    ),
    "crash-2021-05": Episode(
        "crash-2021-05",
        "China mining ban crash, 2021-05-12..2021-05-26: ETH 4,170 to a 1,900 low on 05-19 (Binance USDT, 5-minute OHLC).",
        {"WETH": "eth_usdt_2021-05_5m.csv", "WBTC": "btc_usdt_2021-05_5m.csv"},
        None,
    ),
    "ftx-2022-11": Episode(
        "ftx-2022-11",
        "FTX collapse, 2022-11-06..2022-11-14 (ETH Bitfinex hourly OHLC, BTC Binance USDT hourly closes).",
        {"WETH": "eth_usd_2022-11_1h.csv", "WBTC": "btc_usdt_2022-11_1h.csv"},
        None,
    ),
    "usdc-2023-03": Episode(
        "usdc-2023-03",
        "USDC depeg (SVB), 2023-03-09..2023-03-18: USDC 0.87 USD on 03-11 (USDC/USD 15-minute closes, irregular; "
        "ETH, BTC Binance USDT hourly closes).",
        {"USD": "usdc_usd_2023-03_15m.csv", "WETH": "eth_usdt_2021-2025_1h.csv", "WBTC": "btc_usdt_2021-2025_1h.csv"},
        "usdc_usd_2023-03_15m.csv",
    ),
    "crash-2024-08": Episode(
        "crash-2024-08",
        "Yen carry unwind, 2024-08-01..2024-08-09: BTC low 49,000 on 08-05 (Binance USDT, 5-minute OHLC).",
        {"WETH": "eth_usdt_2024-08_5m.csv", "WBTC": "btc_usdt_2024-08_5m.csv"},
        None,
    ),
}


def load_episode(name: str, data_dir: str | Path | None = None) -> dict[str, Bars]:
    """Load an episode's files aligned on their common timestamps.

    Parameters
    ----------
    name : str
        A key of ``EPISODES``.
    data_dir : str or Path, optional
        Directory of the files; ``DATA_DIR`` by default.

    Returns
    -------
    dict[str, Bars]
        Asset symbol -> bars, all with the same timestamps (the intersection of
        the files' timestamps, Unix seconds).

    Raises
    ------
    DataError
        For an unknown episode (listing the known ones), a bad or missing file
        (see ``load_csv``), or files without a common timestamp.
    """
    if name not in EPISODES:
        raise DataError(f"unknown episode {name!r}; known: {', '.join(EPISODES)}")
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    series = {sym: load_csv(root / f) for sym, f in EPISODES[name].files.items()}
    common: np.ndarray | None = None
    for b in series.values():
        common = b.timestamp if common is None else np.intersect1d(common, b.timestamp)
    if common is None or len(common) == 0:
        raise DataError(f"episode {name!r}: its files share no timestamps")
    return {sym: b.take(np.isin(b.timestamp, common)) for sym, b in series.items()}


def resample(bars: Bars, resolution_s: int) -> Bars:
    """Downsample to a coarser resolution.

    Bars are grouped into buckets ``[k * resolution_s, (k + 1) * resolution_s)``
    (Unix seconds); each bucket gives one bar stamped with the bucket start:
    open = first open, high = max high, low = min low, close = last close,
    volume = sum of volumes (NaN stays NaN).

    Parameters
    ----------
    bars : Bars
    resolution_s : int
        New bar length, seconds; a positive multiple of ``bars.resolution_s``.

    Raises
    ------
    ValueError
        Unless ``resolution_s`` is a positive multiple of the bar resolution.
    """
    if resolution_s <= 0 or bars.resolution_s <= 0 or resolution_s % bars.resolution_s:
        raise ValueError(f"resolution_s={resolution_s} is not a positive multiple of {bars.resolution_s}")
    bucket = bars.timestamp // resolution_s * resolution_s
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(bucket)]

    def agg(a: np.ndarray, fn: Callable[[np.ndarray], float]) -> np.ndarray:
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
    """The bars with ``start <= timestamp < end`` (Unix seconds)."""
    return bars.take((bars.timestamp >= start) & (bars.timestamp < end))
