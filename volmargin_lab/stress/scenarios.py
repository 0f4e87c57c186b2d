"""Real market episodes as price paths for the stress engine (issue #5 item 1, docs/design.md §10).

A stress episode is a ``volmargin_lab.data.EPISODES`` entry plus: finer files that replace the
base file where they cover it, toxic collateral files, the time the population opens its
positions (before it, the oracle only warms up), the end of the calm window, and feed
pauses.

Paths and feeds (docs/design.md §10, ``volmargin_lab.feed``): every file becomes its finest real
path (``feed.feed_path``: 1- and 5-minute bars their closes, hourly OHLC bars the seeded bridge
pinned to each bar's open, low, high and close, close-only bars their closes); finer files
replace coarser ones inside their span. Each asset's Chainlink-like feed
(``feed.FEED_SPECS``: deviation threshold and heartbeat) runs over that path and publishes
rounds; the engine steps at the union of all assets' round times, the oracle sees only the
rounds (``MarketPath.answer``, ``updated_at``) and the keeper the market path at the step
times (``MarketPath.prices``, interpolated log-linearly between an asset's own points).

Units: times Unix seconds (UTC); prices USD per whole token (USDT-quoted files read as
USD, see ``data/SOURCES.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..data import DATA_DIR, EPISODES, DataError, load_csv
from ..feed import feed_path, feed_spec, on_grid, path_seed, publish_rounds


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


#: The Binance hourly-close files the frontier's own episodes are cut from.
LONG_HOURLY_FILES: dict[str, str] = {"WETH": "eth_usdt_2021-2025_1h.csv", "WBTC": "btc_usdt_2021-2025_1h.csv"}


def _long_hourly(name: str, start: str, open_at: str, end: str, about: str, calm: bool = False) -> StressEpisode:
    """An episode cut from ``LONG_HOURLY_FILES`` (closes only): the feed from ``start``, accounts
    opening at ``open_at``, to ``end`` (``YYYY-MM-DD HH:MM`` UTC); a crash's calm window ends at
    its opening, a calm episode's at its end."""
    return StressEpisode(name, name, utc(open_at), utc(end) if calm else utc(open_at), calm=calm,
                         window=(utc(start), utc(end)), files=dict(LONG_HOURLY_FILES), about=about)


#: Episodes run only by the efficient frontier (``volmargin_lab.stress.frontier``), not by the
#: lab's episode tables: the held-out calm window of docs/frontier-protocol.md and the unseen held-out crashes
#: of docs/frontier-protocol-v2.md ("The unseen windows": the two largest 72 h drawdowns of ETH's hourly close
#: from 2023 on outside the earlier held-out windows; warm-up 2 days, open at the 72 h window's start, 5 days on).
FRONTIER_EPISODES: dict[str, StressEpisode] = {
    e.name: e
    for e in (
        _long_hourly("calm-2023-09", "2023-09-01 00:00", "2023-09-03 00:00", "2023-10-01 00:00", calm=True,
                     about="September 2023, the calmest month of ETH from 2023 on (Binance USDT, hourly closes); "
                           "the frontier's held-out calm window."),
        _long_hourly("crash-2024-12", "2024-12-15 14:00", "2024-12-17 14:00", "2024-12-22 14:00",
                     about="December 2024: ETH's close fell 22.8 % within 72 h from 2024-12-17 14:00 (Binance "
                           "USDT, hourly closes only); a held-out crash of frontier protocol v2, run by no earlier "
                           "version of the lab."),
        _long_hourly("crash-2025-02", "2025-01-29 15:00", "2025-01-31 15:00", "2025-02-05 15:00",
                     about="February 2025 (tariff news): ETH's close fell 28.4 % within 72 h from 2025-01-31 15:00 "
                           "(Binance USDT, hourly closes only); a held-out crash of frontier protocol v2, run by no "
                           "earlier version of the lab."),
    )
}
#: Every episode ``load_market`` and ``run_episode`` know.
ALL_EPISODES: dict[str, StressEpisode] = {**STRESS_EPISODES, **FRONTIER_EPISODES}


@dataclass(frozen=True)
class MarketPath:
    """Market prices and feed answers of several assets on one time grid.

    ``times`` (S,) float64 Unix seconds, increasing: the union of every asset's feed round
    times; ``prices`` (S, A) float64 USD market (keeper) prices; ``answer`` and
    ``updated_at`` (S, A) the feeds' last round (USD, seconds) at each step; ``symbols`` the A
    column names; ``files`` the files used per symbol, ``resolution`` the finest bar length
    used per symbol (seconds), ``built_from`` what each asset's feed runs over, ``rounds`` the
    rounds each feed published on the grid; ``open_step`` the first step at or after the
    episode's ``open_at``.
    """

    name: str
    symbols: tuple[str, ...]
    times: np.ndarray
    prices: np.ndarray
    files: dict[str, list[str]]
    resolution: dict[str, int]
    close_only: dict[str, bool]
    open_step: int = 0
    answer: np.ndarray | None = None
    updated_at: np.ndarray | None = None
    built_from: dict[str, list[str]] = field(default_factory=dict)
    rounds: dict[str, int] = field(default_factory=dict)


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


def _symbol_paths(
    name: str, root: Path, per_symbol: dict[str, list[str]], window: tuple[int, int] | None
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, list[str]], dict[str, int], dict[str, bool]]:
    """Per symbol: the spliced finest path (times, prices), its files' descriptions, finest
    resolution (s) and whether every file is close-only. DataError for a bad file or window."""
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    built: dict[str, list[str]] = {}
    resolution: dict[str, int] = {}
    close_only: dict[str, bool] = {}
    for s, fs in per_symbol.items():
        pts = []
        built[s] = []
        for f in fs:
            b = load_csv(root / f)
            if window is not None:
                b = b.take((b.timestamp >= window[0]) & (b.timestamp < window[1]))
                if len(b) == 0:
                    raise DataError(f"{root / f}: no bars in the window of episode {name!r}")
            t, p, what = feed_path(b, path_seed(name, s, f))
            pts.append((t, p))
            built[s].append(f"{f}: {what}")
            resolution[s] = min(resolution.get(s, 10**9), int(b.resolution_s))
            close_only[s] = close_only.get(s, True) and b.close_only
        series[s] = _splice(pts)
    return series, built, resolution, close_only


def load_market(name: str, data_dir: str | Path | None = None, max_hours: float | None = None) -> MarketPath:
    """The market path and feed rounds of stress episode ``name``.

    Parameters
    ----------
    name : a key of ``ALL_EPISODES`` (``STRESS_EPISODES`` or ``FRONTIER_EPISODES``).
    data_dir : directory of the price files (default ``volmargin_lab.data.DATA_DIR``).
    max_hours : keep only this many hours after ``open_at`` (``--quick``).

    Returns
    -------
    MarketPath with symbols ``("USD", <base assets>, <toxic assets>)``; USD is held at
    1.0 where the episode has no stablecoin file (its feed then publishes heartbeats only).

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
    series, built, resolution, close_only = _symbol_paths(name, root, per_symbol, ep.window)
    lo = max(t[0] for t, _ in series.values())
    hi = min(t[-1] for t, _ in series.values())
    if not hi > lo:
        raise DataError(f"episode {name!r}: its files do not overlap in time")
    symbols = ["USD"] + [s for s in ("WETH", "WBTC") if s in series] + [s for s in ep.extra]
    if "USD" not in series:  # held at 1.00: a path of one point a minute
        tu = np.arange(lo, hi + 60.0, 60.0)
        series["USD"] = (tu, np.ones(len(tu)))
        built["USD"] = ["no stablecoin file: held at 1.00 USD"]
        resolution["USD"], close_only["USD"] = 0, True
    rounds = {s: publish_rounds(*series[s], feed_spec(s), ep.pause_below.get(s, 0.0)) for s in symbols}
    grid = np.unique(np.concatenate([[lo, hi]] + [t[(t >= lo) & (t <= hi)] for t, _ in rounds.values()]))
    open_step = int(np.searchsorted(grid, ep.open_at))
    if open_step >= len(grid) - 1:
        raise DataError(f"episode {name!r}: open_at is after the data")
    if max_hours is not None:
        grid = grid[grid <= ep.open_at + max_hours * 3600.0]
    prices = np.stack([np.exp(np.interp(grid, series[s][0], np.log(series[s][1]))) for s in symbols], axis=1)
    ans = [on_grid(*rounds[s], grid) for s in symbols]
    answer = np.stack([a for a, _ in ans], axis=1)
    updated = np.stack([u for _, u in ans], axis=1)
    n_rounds = {s: int(((rounds[s][0] >= grid[0]) & (rounds[s][0] <= grid[-1])).sum()) for s in symbols}
    files = {s: per_symbol.get(s, []) for s in symbols}
    return MarketPath(name, tuple(symbols), grid, prices, files, resolution, close_only, open_step,
                      answer, updated, {s: built[s] for s in symbols}, n_rounds)
