"""Real market episodes as price paths for the stress engine (issue #5 item 1, docs/design.md §10).

A stress episode is a ``volmargin_lab.data.EPISODES`` entry plus: finer files that replace the
base file where they cover it, toxic collateral files, the time the population opens its
positions (before it, the oracle only warms up), the end of the calm window, and feed
pauses.

Intrabar paths (docs/design.md §10): an OHLC bar ``[t, t + r)`` becomes three points, the two
extremes at ``t + r/3`` and ``t + 2r/3`` (low first when the bar closed above its open,
high first otherwise) and the close at ``t + r``; bars shorter than
``INTRABAR_MIN_BAR_S`` and close-only bars give their close at ``t + r`` only. Every
asset's points are interpolated log-linearly onto the union of all assets' point times
(a close-only or coarser asset moves geometrically between its own observations).

Units: times Unix seconds (UTC); prices USD per whole token (USDT-quoted files read as
USD, see ``data/SOURCES.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..data import DATA_DIR, EPISODES, Bars, DataError, load_csv

#: Bars at least this long (seconds) visit their low and high inside the bar.
INTRABAR_MIN_BAR_S = 300


def utc(s: str) -> int:
    """Unix seconds of a ``YYYY-MM-DD HH:MM`` UTC time."""
    return int(datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc).timestamp())


def utc_str(t: float) -> str:
    """``YYYY-MM-DD HH:MM`` (UTC) of Unix seconds ``t``."""
    return datetime.fromtimestamp(int(t), tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class StressEpisode:
    """One real episode of the stress lab.

    Attributes
    ----------
    name : key of ``STRESS_EPISODES`` (and of ``volmargin_lab.data.EPISODES``).
    base : key of ``volmargin_lab.data.EPISODES`` supplying one file per asset.
    open_at : Unix seconds at which the accounts open (oracle warm-up before).
    calm_until : end of the calm window (Unix seconds): the steps from ``open_at`` to it.
    finer : symbol -> finer files (replace the base file where they cover it).
    extra : symbol -> files of assets not in ``base`` (toxic collateral), finest last.
    pause_below : symbol -> USD price under which the asset's feed stops updating
        (Chainlink paused LUNA/USD at about 0.107 USD on 2022-05-12; Venus kept using it).
    calm : True for the calm month (every simulated step is calm; false trips counted).
    window : optional (start, end) Unix seconds clipping the files (long files).
    files : symbol -> file replacing ``base``'s files (an episode cut from the long histories,
        not in ``volmargin_lab.data.EPISODES``; ``base`` is then only a label).
    about : one-line description where ``base`` is not an ``EPISODES`` key.
    """

    name: str
    base: str
    open_at: int
    calm_until: int
    finer: dict[str, tuple[str, ...]] = field(default_factory=dict)
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pause_below: dict[str, float] = field(default_factory=dict)
    calm: bool = False
    window: tuple[int, int] | None = None
    files: dict[str, str] = field(default_factory=dict)
    about: str = ""

    @property
    def description(self) -> str:
        """The base episode's one-line description (``about`` where set)."""
        return self.about or EPISODES[self.base].description

    @property
    def toxic(self) -> tuple[str, ...]:
        """Symbols listed only for this episode (toxic collateral)."""
        return tuple(self.extra)


STRESS_EPISODES: dict[str, StressEpisode] = {
    e.name: e
    for e in (
        StressEpisode("calm-2019-03", "calm-2019-03", utc("2019-03-03 00:00"), utc("2019-04-01 00:00"), calm=True),
        StressEpisode("eth-2020-03", "eth-2020-03", utc("2020-03-09 00:00"), utc("2020-03-12 00:00")),
        StressEpisode(
            "crash-2021-05", "crash-2021-05", utc("2021-05-17 00:00"), utc("2021-05-19 00:00"),
            finer={"WETH": ("eth_usdt_2021-05_1m.csv",)},
        ),
        StressEpisode(
            "luna-2022-05", "luna-2022-05", utc("2022-05-08 00:00"), utc("2022-05-09 00:00"),
            extra={"LUNA": ("luna_usdt_2022-05_1h.csv",)}, pause_below={"LUNA": 0.107},
        ),
        StressEpisode(
            "ftx-2022-11", "ftx-2022-11", utc("2022-11-07 00:00"), utc("2022-11-08 00:00"),
            finer={"WETH": ("eth_usdt_2022-11_1m.csv",), "WBTC": ("btc_usdt_2022-11_1m.csv",)},
            extra={"FTT": ("ftt_usdt_2022-11_1h.csv", "ftt_usdt_2022-11_1m.csv")},
        ),
        StressEpisode(
            "usdc-2023-03", "usdc-2023-03", utc("2023-03-10 00:00"), utc("2023-03-10 12:00"),
            window=(utc("2023-03-09 05:00"), utc("2023-03-19 00:00")),
        ),
        StressEpisode("crash-2024-08", "crash-2024-08", utc("2024-08-03 00:00"), utc("2024-08-04 12:00")),
    )
}


#: Episodes run only by the efficient frontier (``volmargin_lab.stress.frontier``), not by the
#: lab's episode tables: the held-out calm window of docs/frontier-protocol.md.
FRONTIER_EPISODES: dict[str, StressEpisode] = {
    "calm-2023-09": StressEpisode(
        "calm-2023-09", "calm-2023-09", utc("2023-09-03 00:00"), utc("2023-10-01 00:00"), calm=True,
        window=(utc("2023-09-01 00:00"), utc("2023-10-01 00:00")),
        files={"WETH": "eth_usdt_2021-2025_1h.csv", "WBTC": "btc_usdt_2021-2025_1h.csv"},
        about="September 2023, the calmest month of ETH from 2023 on (Binance USDT, hourly closes); the "
              "frontier's held-out calm window.",
    ),
}
#: Every episode ``load_market`` and ``run_episode`` know.
ALL_EPISODES: dict[str, StressEpisode] = {**STRESS_EPISODES, **FRONTIER_EPISODES}


@dataclass(frozen=True)
class MarketPath:
    """Market prices of several assets on one time grid.

    ``times`` (S,) float64 Unix seconds, increasing; ``prices`` (S, A) float64 USD;
    ``symbols`` the A column names; ``files`` the files used per symbol and
    ``resolution`` the finest bar length used per symbol (seconds);
    ``open_step`` the first step at or after the episode's ``open_at``.
    """

    name: str
    symbols: tuple[str, ...]
    times: np.ndarray
    prices: np.ndarray
    files: dict[str, list[str]]
    resolution: dict[str, int]
    close_only: dict[str, bool]
    open_step: int = 0


def bar_points(bars: Bars, intrabar_min_s: int = INTRABAR_MIN_BAR_S) -> tuple[np.ndarray, np.ndarray]:
    """The intrabar path of ``bars``: (times, prices), see the module docstring.

    The first bar also contributes its open at ``t`` (the path's start)."""
    r = int(bars.resolution_s) if bars.resolution_s > 0 else 3600
    t0 = bars.timestamp.astype(np.float64)
    ohlc = (not bars.close_only) and r >= intrabar_min_s and np.all(np.isfinite(bars.high)) and np.all(
        np.isfinite(bars.low)
    )
    if not ohlc:
        times = t0 + r
        prices = bars.close.astype(np.float64)
        start_p = bars.open[0] if np.isfinite(bars.open[0]) else bars.close[0]
        return np.r_[t0[0], times], np.r_[start_p, prices]
    up = bars.close >= bars.open
    first = np.where(up, bars.low, bars.high)
    second = np.where(up, bars.high, bars.low)
    times = np.stack([t0 + r / 3.0, t0 + 2.0 * r / 3.0, t0 + float(r)], axis=1).ravel()
    prices = np.stack([first, second, bars.close], axis=1).ravel()
    return np.r_[t0[0], times], np.r_[bars.open[0], prices]


def _splice(points: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Coarse first: each later (finer) series replaces the points inside its own span."""
    t, p = points[0]
    for tf, pf in points[1:]:
        keep = (t < tf[0]) | (t > tf[-1])
        t = np.r_[t[keep], tf]
        p = np.r_[p[keep], pf]
        order = np.argsort(t, kind="stable")
        t, p = t[order], p[order]
        _, first = np.unique(t, return_index=True)
        t, p = t[first], p[first]
    return t, p


def load_market(
    name: str,
    data_dir: str | Path | None = None,
    intrabar_min_s: int = INTRABAR_MIN_BAR_S,
    max_hours: float | None = None,
) -> MarketPath:
    """The market path of stress episode ``name``.

    Parameters
    ----------
    name : a key of ``ALL_EPISODES`` (``STRESS_EPISODES`` or ``FRONTIER_EPISODES``).
    data_dir : directory of the price files (default ``volmargin_lab.data.DATA_DIR``).
    intrabar_min_s : shortest bar (seconds) that visits its low and high.
    max_hours : keep only this many hours after ``open_at`` (``--quick``).

    Returns
    -------
    MarketPath with symbols ``("USD", <base assets>, <toxic assets>)``; USD is held at
    1.0 where the episode has no stablecoin file.

    Raises
    ------
    DataError
        Unknown episode (listing the known ones), a missing or malformed file, or files
        that do not overlap.
    """
    if name not in ALL_EPISODES:
        raise DataError(f"unknown episode {name!r}; known: {', '.join(ALL_EPISODES)}")
    ep = ALL_EPISODES[name]
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    base_files = dict(ep.files or EPISODES[ep.base].files)
    per_symbol: dict[str, list[str]] = {s: [f] for s, f in base_files.items()}
    for s, fs in ep.finer.items():
        per_symbol[s] = per_symbol[s] + list(fs)
    for s, fs in ep.extra.items():
        per_symbol[s] = list(fs)
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    resolution: dict[str, int] = {}
    close_only: dict[str, bool] = {}
    for s, fs in per_symbol.items():
        pts = []
        for f in fs:
            b = load_csv(root / f)
            if ep.window is not None:
                b = b.take((b.timestamp >= ep.window[0]) & (b.timestamp < ep.window[1]))
                if len(b) == 0:
                    raise DataError(f"{root / f}: no bars in the window of episode {name!r}")
            pts.append(bar_points(b, intrabar_min_s))
            resolution[s] = min(resolution.get(s, 10**9), int(b.resolution_s))
            close_only[s] = close_only.get(s, True) and b.close_only
        series[s] = _splice(pts)
    lo = max(t[0] for t, _ in series.values())
    hi = min(t[-1] for t, _ in series.values())
    if not hi > lo:
        raise DataError(f"episode {name!r}: its files do not overlap in time")
    grid = np.unique(np.concatenate([t[(t >= lo) & (t <= hi)] for t, _ in series.values()]))
    symbols = ["USD"] + [s for s in ("WETH", "WBTC") if s in series] + [s for s in ep.extra]
    cols = []
    for s in symbols:
        if s == "USD" and "USD" not in series:
            cols.append(np.ones(len(grid)))
            continue
        t, p = series[s]
        cols.append(np.exp(np.interp(grid, t, np.log(p))))
    prices = np.stack(cols, axis=1)
    open_step = int(np.searchsorted(grid, ep.open_at))
    if open_step >= len(grid) - 1:
        raise DataError(f"episode {name!r}: open_at is after the data")
    if max_hours is not None:
        end = ep.open_at + max_hours * 3600.0
        keep = grid <= end
        grid, prices = grid[keep], prices[keep]
    files = {s: per_symbol.get(s, []) for s in symbols}
    if "USD" not in series:
        resolution["USD"] = 0
        close_only["USD"] = True
    return MarketPath(name, tuple(symbols), grid, prices, files, resolution, close_only, open_step)
