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

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

HEADER: list[str] = ["timestamp", "open", "high", "low", "close", "volume"]


class DataError(ValueError):
    """A price file or episode that cannot be used; the message names it
    (and, for a bad row, the file and line as ``path:line:``)."""


#: Environment variable naming the folder of the price files.
DATA_DIR_ENV = "VOLMARGIN_DATA_DIR"

#: Where the price folder lives under a repository checkout or under the current directory.
PRICES_SUBDIR = Path("data") / "prices"


def find_data_dir(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The folder of the price files, chosen explicitly, first match wins:

    1. the folder named by ``$VOLMARGIN_DATA_DIR`` when it is set and not empty;
    2. ``data/prices`` of the repository checkout when the package runs from
       one (the folder above the package holds ``pyproject.toml`` and
       ``data/prices``): a clone, or an editable install;
    3. ``data/prices`` under the current directory ``cwd`` (an installed
       wheel ships no price files).

    The folder need not exist: loading from a missing folder raises
    ``DataError`` naming ``VOLMARGIN_DATA_DIR`` (see ``load_csv``).

    Parameters
    ----------
    environ : mapping, optional
        Environment to read; ``os.environ`` by default.
    cwd : Path, optional
        Current directory for rule 3; ``Path.cwd()`` by default.
    """
    env = (os.environ if environ is None else environ).get(DATA_DIR_ENV)
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / PRICES_SUBDIR).is_dir():
        return checkout / PRICES_SUBDIR
    return (Path.cwd() if cwd is None else cwd) / PRICES_SUBDIR


#: Directory of the price files: ``find_data_dir()``, evaluated once, at import.
DATA_DIR: Path = find_data_dir()


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


def _missing_file(path: Path) -> DataError:
    """The error for a price file that does not exist; names VOLMARGIN_DATA_DIR when its folder is missing too."""
    if path.parent.is_dir():
        return DataError(f"{path}: no such price file")
    return DataError(
        f"{path}: no such price file (the folder {path.parent} does not exist: set {DATA_DIR_ENV} to the folder "
        "of the price files, or run from a directory holding data/prices)"
    )


def _to_int(column: pd.Series) -> np.ndarray:
    """int64 array of a column of strings, each parsed by Python's ``int`` (``ValueError`` if one does not)."""
    return column.to_numpy(dtype=object).astype(np.int64)


def _to_float(column: pd.Series) -> np.ndarray:
    """float64 array of a column of strings, each parsed by Python's ``float``; blank -> NaN."""
    return column.where(column.str.strip() != "", "nan").to_numpy(dtype=object).astype(np.float64)


#: Parser of each column of ``HEADER``.
_PARSERS: tuple[Callable[[pd.Series], np.ndarray], ...] = (_to_int,) + (_to_float,) * (len(HEADER) - 1)


def _read_table(path: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The data lines of a price file, checked header first.

    Returns ``(table, lineno, fields)``: ``table`` holds, as strings (pandas
    ``read_csv``), the non-blank data lines up to the first one without 6
    fields; ``lineno`` (int64, shape (m,)) the 1-based line number of every
    non-blank data line; ``fields`` (int64, shape (m,)) its number of
    comma-separated fields (fields are not quoted, see ``data/SOURCES.md``).

    Raises ``DataError`` for an empty file or a wrong header.
    """
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",") if lines else []
    if not any(h.strip() for h in header):
        raise DataError(f"{path}: empty file (expected header {','.join(HEADER)})")
    if [h.strip() for h in header] != HEADER:
        raise DataError(f"{path}:1: header must be {','.join(HEADER)}, got {','.join(header)}")
    lineno = np.array([i + 1 for i, line in enumerate(lines) if i and line], dtype=np.int64)
    fields = np.array([lines[i - 1].count(",") + 1 for i in lineno], dtype=np.int64)
    ragged = np.flatnonzero(fields != len(HEADER))
    n_ok = int(ragged[0]) if len(ragged) else len(lineno)
    if n_ok == 0:
        return pd.DataFrame({h: pd.Series([], dtype=object) for h in HEADER}), lineno, fields
    text = "\n".join(lines[i - 1] for i in lineno[:n_ok])
    table = pd.read_csv(
        io.StringIO(text), header=None, names=HEADER, dtype=str, keep_default_na=False, skip_blank_lines=False,
    )
    if len(table) != n_ok:
        raise DataError(f"{path}: a quoted field spans lines (price files are not quoted)")
    return table, lineno, fields


def _first_unparsable(table: pd.DataFrame) -> tuple[int, str] | None:
    """Row index and parser message of the first field that does not parse (rows in order, fields left to right)."""
    for i, row in enumerate(table.itertuples(index=False)):
        for parse, text in zip(_PARSERS, row):
            try:
                parse(pd.Series([text], dtype=object))
            except ValueError as exc:
                return i, str(exc)
    return None


def _parse_table(path: Path, table: pd.DataFrame, lineno: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Timestamps (int64, Unix seconds) and open/high/low/close/volume (float64) of the table's rows.

    Raises ``DataError`` naming the first bad line (in file order) for a
    non-numeric field, a timestamp not after the previous one, or a close that
    is not a positive finite number.
    """
    bad = None
    try:
        parsed = [parse(table[h]) for parse, h in zip(_PARSERS, HEADER)]
    except ValueError:
        bad = _first_unparsable(table)
        assert bad is not None
        parsed = [parse(table[h].iloc[: bad[0]]) for parse, h in zip(_PARSERS, HEADER)]
    t, close = parsed[0], parsed[4]
    unordered = np.flatnonzero(np.diff(t) <= 0) + 1
    bad_close = np.flatnonzero(~(np.isfinite(close) & (close > 0)))
    k = min([*unordered[:1], *bad_close[:1], len(t)])
    if k < len(t) and k in unordered[:1]:
        raise DataError(f"{path}:{lineno[k]}: timestamp {t[k]} not after {t[k - 1]}")
    if k < len(t):
        raise DataError(f"{path}:{lineno[k]}: close must be a positive number, got {table['close'].iloc[k]!r}")
    if bad is not None:
        raise DataError(f"{path}:{lineno[bad[0]]}: non-numeric field ({bad[1]})")
    return t, parsed[1:]


def load_csv(path: str | Path) -> Bars:
    """Load one price file (parsed with pandas ``read_csv``).

    Parameters
    ----------
    path : str or Path
        A CSV file with header ``timestamp,open,high,low,close,volume``.
        ``timestamp`` is an integer (Unix seconds); open/high/low/volume may be
        blank (close-only rows); ``close`` is a positive finite USD price.
        Blank lines are skipped; numbers are read as Python's ``int`` and
        ``float`` read them (so values are bit-exact).

    Returns
    -------
    Bars
        ``symbol`` is the file name up to its first ``_``; ``resolution_s`` the
        median timestamp difference in seconds.

    Raises
    ------
    DataError
        Naming the file (and line, as ``path:line:``) for: a missing file (and
        ``VOLMARGIN_DATA_DIR`` when its folder is missing), an empty file, a
        missing or wrong header, a header without rows, a row without 6
        fields, a non-numeric field, a timestamp not after the previous one,
        or a close that is not a positive finite number. The first bad line
        in file order is reported.
    """
    path = Path(path)
    if not path.is_file():
        raise _missing_file(path)
    table, lineno, fields = _read_table(path)
    t_arr, (o, h, lo, c, v) = _parse_table(path, table, lineno)
    if len(table) < len(lineno):
        raise DataError(f"{path}:{lineno[len(table)]}: expected 6 fields, got {fields[len(table)]}")
    if not len(t_arr):
        raise DataError(f"{path}: no bars after the header")
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
        For an unknown episode (listing the known ones), a missing price
        folder (naming ``VOLMARGIN_DATA_DIR``), a bad or missing file
        (see ``load_csv``), or files without a common timestamp.
    """
    if name not in EPISODES:
        raise DataError(f"unknown episode {name!r}; known: {', '.join(EPISODES)}")
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    if not root.is_dir():
        raise DataError(
            f"episode {name!r}: the price folder {root} does not exist: set {DATA_DIR_ENV} to the folder of the "
            "price files, or run from a directory holding data/prices"
        )
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
