"""volmargin_lab.data: the shipped price files and episodes, every DataError, resampling,
slicing and fixed-point conversion. Pure Python (no chain)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from volmargin.units import to_feed_answer, to_wad
from volmargin_lab import data
from volmargin_lab.data import (
    DATA_DIR,
    EPISODES,
    Bars,
    DataError,
    Episode,
    load_csv,
    load_episode,
    resample,
    slice_time,
)

HEADER = "timestamp,open,high,low,close,volume\n"
SHIPPED = [
    "eth_usd_2020-03_1h.csv", "btc_usd_2020-03_1h.csv", "eth_usd_calm-2019-03_1h.csv",
    "btc_usd_calm-2019-03_1h.csv", "eth_usd_2022-05_1h.csv", "btc_usd_2022-05_1h.csv",
    "luna_usdt_2022-05_1h.csv", "ust_usd_2022-05_1d.csv",
]


def _utc(s: str) -> int:
    """Unix seconds of a 'YYYY-MM-DD HH:MM' UTC time."""
    return int(datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc).timestamp())


def _write(tmp_path: Path, text: str, name: str = "bad_usd_x_1h.csv") -> Path:
    f = tmp_path / name
    f.write_text(text)
    return f


# --- the real files -------------------------------------------------------------------------


def test_data_dir_is_the_projects_prices_folder():
    assert DATA_DIR == Path(data.__file__).resolve().parent.parent / "data" / "prices"
    for name in SHIPPED:
        assert (DATA_DIR / name).is_file(), name
    # every shipped file is attributed in data/SOURCES.md
    sources = (DATA_DIR.parent / "SOURCES.md").read_text()
    for name in SHIPPED:
        assert f"### `{name}`" in sources, name


def test_data_dir_order_env_then_checkout_then_cwd(tmp_path, monkeypatch):
    checkout = Path(data.__file__).resolve().parent.parent
    # 1. $VOLMARGIN_DATA_DIR, when set and not empty
    assert data.find_data_dir({"VOLMARGIN_DATA_DIR": str(tmp_path)}) == tmp_path
    assert data.find_data_dir({"VOLMARGIN_DATA_DIR": ""}, cwd=tmp_path) == checkout / "data" / "prices"
    # 2. the checkout's data/prices when the package runs from a checkout
    assert data.find_data_dir({}, cwd=tmp_path) == checkout / "data" / "prices"
    # 3. ./data/prices under the current directory when it does not (an installed wheel)
    site = tmp_path / "site"
    (site / "volmargin_lab").mkdir(parents=True)
    monkeypatch.setattr(data, "__file__", str(site / "volmargin_lab" / "data.py"))
    assert data.find_data_dir({}, cwd=tmp_path) == tmp_path / "data" / "prices"
    monkeypatch.chdir(tmp_path)
    assert data.find_data_dir({}) == tmp_path / "data" / "prices"
    # a site folder that has data/prices but no pyproject.toml is not a checkout
    (site / "data" / "prices").mkdir(parents=True)
    assert data.find_data_dir({}, cwd=tmp_path) == tmp_path / "data" / "prices"


def test_missing_price_folder_names_the_variable(tmp_path):
    nowhere = tmp_path / "nowhere"
    with pytest.raises(DataError, match=r"x_usd_1h\.csv: no such price file \(the folder .*nowhere does not exist: "
                       r"set VOLMARGIN_DATA_DIR"):
        load_csv(nowhere / "x_usd_1h.csv")
    with pytest.raises(DataError, match=r"^episode 'eth-2020-03': the price folder .*nowhere does not exist: "
                       r"set VOLMARGIN_DATA_DIR"):
        load_episode("eth-2020-03", data_dir=nowhere)
    # a missing file in an existing folder says only that
    with pytest.raises(DataError, match=r"x_usd_1h\.csv: no such price file$"):
        load_csv(tmp_path / "x_usd_1h.csv")


def test_eth_2020_03_episode_is_the_real_crash():
    ep = load_episode("eth-2020-03")
    assert set(ep) == {"WETH", "WBTC"}
    eth, btc = ep["WETH"], ep["WBTC"]
    assert len(eth) == len(btc) == 384
    assert np.array_equal(eth.timestamp, btc.timestamp)
    assert eth.timestamp.dtype == np.int64 and eth.close.dtype == np.float64
    assert eth.timestamp[0] == _utc("2020-03-05 00:00") and eth.timestamp[-1] == _utc("2020-03-20 23:00")
    assert eth.resolution_s == 3_600 and not eth.close_only and eth.symbol == "eth" and btc.symbol == "btc"
    (i,) = np.flatnonzero(eth.timestamp == _utc("2020-03-11 23:00"))
    assert eth.close[i] == 194.57
    assert btc.close[i] == 7934.57
    days = (eth.timestamp >= _utc("2020-03-12 00:00")) & (eth.timestamp < _utc("2020-03-14 00:00"))
    assert days.sum() == 48
    assert eth.low[days].min() == 88.2
    assert eth.timestamp[days][np.argmin(eth.low[days])] == _utc("2020-03-13 02:00")
    assert btc.low[days].min() == 3850
    # OHLC consistency of the real bars
    assert np.all(eth.low <= np.minimum(eth.open, eth.close)) and np.all(eth.high >= np.maximum(eth.open, eth.close))


@pytest.mark.parametrize("name, n", [("eth-2020-03", 384), ("calm-2019-03", 744), ("luna-2022-05", 216)])
def test_every_episode_loads_aligned(name, n):
    ep = load_episode(name)
    assert set(ep) == set(EPISODES[name].files)
    assert EPISODES[name].stable_file is None and "USD" not in ep
    lengths = {len(b) for b in ep.values()}
    assert lengths == {n}
    stamps = [b.timestamp for b in ep.values()]
    assert all(np.array_equal(stamps[0], s) for s in stamps[1:])
    assert np.all(np.diff(stamps[0]) == 3_600)


def test_close_only_real_file():
    b = load_csv(DATA_DIR / "luna_usdt_2022-05_1h.csv")
    assert b.close_only and b.symbol == "luna" and b.resolution_s == 3_600 and len(b) == 144
    assert np.isnan(b.open).all() and np.isnan(b.high).all() and np.isnan(b.low).all() and np.isnan(b.volume).all()
    assert np.all(b.close > 0)
    (i,) = np.flatnonzero(b.timestamp == _utc("2022-05-07 23:00"))
    assert b.close[i] == 68.13
    assert b.close.min() == 0.00032 and b.timestamp[-1] == _utc("2022-05-12 23:00")


def test_daily_ohlc_real_file():
    b = load_csv(DATA_DIR / "ust_usd_2022-05_1d.csv")
    assert not b.close_only and b.symbol == "ust" and b.resolution_s == 86_400 and len(b) == 9
    assert b.close[0] == 0.996868 and b.low.min() == 0.133137


def test_close_only_rows_in_tmp_file(tmp_path):
    b = load_csv(_write(tmp_path, HEADER + "100,,,,5.5,\n3700,,,,4.5,\n", "luna_usdt_x_1h.csv"))
    assert b.close_only and b.symbol == "luna" and b.resolution_s == 3_600
    assert list(b.timestamp) == [100, 3700] and list(b.close) == [5.5, 4.5]
    assert np.isnan(b.open).all() and np.isnan(b.volume).all()


def test_blank_volume_is_nan_and_resolution_is_the_median(tmp_path):
    b = load_csv(_write(tmp_path, HEADER + "0,1,2,0.5,1.5,\n60,1,2,0.5,1.5,3\n120,1,2,0.5,1.5,3\n600,1,2,0.5,1,3\n"))
    assert not b.close_only and math.isnan(b.volume[0]) and b.volume[1] == 3
    assert b.resolution_s == 60


# --- every DataError ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, match",
    [
        ("", r"bad_usd_x_1h\.csv: empty file"),
        ("\n", r"bad_usd_x_1h\.csv: empty file"),
        ("a,b,c\n1,2,3\n", r"bad_usd_x_1h\.csv:1: header must be timestamp,open,high,low,close,volume"),
        ("timestamp,close\n100,1\n", r":1: header must be"),
        ("100,1,1,1,1,1\n", r":1: header must be"),
        (HEADER, r"bad_usd_x_1h\.csv: no bars"),
        (HEADER + "100,1,1,1,1,1\n100,1,1,1,1,1\n", r"bad_usd_x_1h\.csv:3: timestamp 100 not after 100"),
        (HEADER + "100,1,1,1,1,1\n200,1,1,1,1,1\n150,1,1,1,1,1\n", r":4: timestamp 150 not after 200"),
        (HEADER + "100,1,1,1,0,1\n", r"bad_usd_x_1h\.csv:2: close must be a positive number, got '0'"),
        (HEADER + "100,1,1,1,1,1\n200,1,1,1,-3,1\n", r":3: close must be a positive number, got '-3'"),
        (HEADER + "100,1,1,1,,1\n", r":2: close must be a positive number, got ''"),
        (HEADER + "100,1,1,1,nan,1\n", r":2: close must be a positive number"),
        (HEADER + "100,1,1,1,inf,1\n", r":2: close must be a positive number"),
        (HEADER + "100,1,1,1,x,1\n", r"bad_usd_x_1h\.csv:2: non-numeric field"),
        (HEADER + "1e2,1,1,1,1,1\n", r":2: non-numeric field"),
        (HEADER + "100,1,1,1\n", r":2: expected 6 fields, got 4"),
    ],
)
def test_data_errors_name_file_and_line(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        load_csv(_write(tmp_path, text))


@pytest.mark.parametrize(
    "text, match",
    [
        # the first bad line in file order is reported, whatever its kind
        (HEADER + "100,1,1,1,0,1\n200,1,1,1\n", r":2: close must be a positive number"),
        (HEADER + "100,1,1,1,1,1\n200,x,1,1,1,1\n300,1,1,1\n", r":3: non-numeric field"),
        (HEADER + "100,1,1,1,1,1\n50,x,1,1,1,1\n", r":3: non-numeric field"),  # a line parses before its checks
        (HEADER + "100,1,1,1,1,1\n100,1,1,1,0,1\n", r":3: timestamp 100 not after 100"),
        (HEADER + "100,1,1,1,1,1\n200,1,1,1,1,1,7\n", r":3: expected 6 fields, got 7"),
        # blank lines are skipped but counted
        (HEADER + "\n100,1,1,1,1,1\n\n100,1,1,1,1,1\n", r":5: timestamp 100 not after 100"),
        (HEADER + " \n", r":2: expected 6 fields, got 1"),
    ],
)
def test_first_bad_line_wins(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        load_csv(_write(tmp_path, text))


def test_numbers_parse_as_python_does(tmp_path):
    b = load_csv(_write(tmp_path, HEADER + " 100 ,0.1, 2.5 ,1e2,0.30000000000000004,\n200,,,,1e-8,7\n"))
    assert list(b.timestamp) == [100, 200] and b.timestamp.dtype == np.int64
    assert b.open[0] == 0.1 and b.high[0] == 2.5 and b.low[0] == 100.0 and b.close[0] == 0.30000000000000004
    assert b.close[1] == 1e-8 and math.isnan(b.open[1]) and b.volume[1] == 7


def test_data_error_is_a_value_error(tmp_path):
    assert issubclass(DataError, ValueError)
    with pytest.raises(ValueError):
        load_csv(_write(tmp_path, ""))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: no such price file"):
        load_csv(tmp_path / "nope.csv")


def test_unknown_episode_lists_known():
    with pytest.raises(DataError, match=r"^unknown episode 'x'; known: eth-2020-03, calm-2019-03, luna-2022-05, crash-2021-05, "
                       r"ftx-2022-11, usdc-2023-03, crash-2024-08$"):
        load_episode("x")


def test_episode_without_common_timestamps(tmp_path, monkeypatch):
    _write(tmp_path, HEADER + "0,1,1,1,1,1\n3600,1,1,1,1,1\n", "eth_usd_2020-03_1h.csv")
    _write(tmp_path, HEADER + "7200,1,1,1,1,1\n10800,1,1,1,1,1\n", "btc_usd_2020-03_1h.csv")
    with pytest.raises(DataError, match="episode 'eth-2020-03': its files share no timestamps"):
        load_episode("eth-2020-03", data_dir=tmp_path)
    # the module-level DATA_DIR is the default
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    with pytest.raises(DataError, match="share no timestamps"):
        load_episode("eth-2020-03")


def test_episode_aligns_on_the_intersection(tmp_path):
    _write(tmp_path, HEADER + "0,1,1,1,1,1\n3600,1,1,1,2,1\n7200,1,1,1,3,1\n", "eth_usd_2020-03_1h.csv")
    _write(tmp_path, HEADER + "3600,1,1,1,20,1\n7200,1,1,1,30,1\n10800,1,1,1,40,1\n", "btc_usd_2020-03_1h.csv")
    ep = load_episode("eth-2020-03", data_dir=tmp_path)
    assert list(ep["WETH"].timestamp) == list(ep["WBTC"].timestamp) == [3600, 7200]
    assert list(ep["WETH"].close) == [2, 3] and list(ep["WBTC"].close) == [20, 30]


def test_episode_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such price file"):
        load_episode("calm-2019-03", data_dir=tmp_path)


def test_episode_stable_file_must_be_the_usd_entry():
    ok = Episode("e", "d", {"WETH": "a.csv", "USD": "u.csv"}, "u.csv")
    assert ok.stable_file == ok.files["USD"]
    with pytest.raises(ValueError, match="stable_file"):
        Episode("e", "d", {"WETH": "a.csv"}, "u.csv")


# --- resample and slice ---------------------------------------------------------------------


def _bars(close_only: bool = False) -> Bars:
    t = np.array([0, 3600, 7200, 10800, 14400], dtype=np.int64)
    f = lambda *x: np.array(x, dtype=float)  # noqa: E731
    return Bars(
        t, f(1, 2, 3, 4, 5), f(2, 5, 4, 6, 7), f(0.5, 1, 2, 3, 4), f(2, 3, 4, 5, 6), f(1, 2, 3, 4, math.nan),
        close_only, "x", 3600,
    )


def test_resample_two_hours():
    r = resample(_bars(), 7_200)
    assert list(r.timestamp) == [0, 7200, 14400] and r.timestamp.dtype == np.int64
    assert list(r.open) == [1, 3, 5]
    assert list(r.high) == [5, 6, 7]
    assert list(r.low) == [0.5, 2, 4]
    assert list(r.close) == [3, 5, 6]
    assert list(r.volume[:2]) == [3, 7] and math.isnan(r.volume[2])
    assert r.resolution_s == 7_200 and r.symbol == "x" and len(r) == 3


def test_resample_buckets_follow_the_clock():
    # buckets are [k * 3h, (k + 1) * 3h): 0..7200 in the first, 10800..14400 in the second
    r = resample(_bars(), 10_800)
    assert list(r.timestamp) == [0, 10800]
    assert list(r.open) == [1, 4] and list(r.high) == [5, 7] and list(r.low) == [0.5, 3] and list(r.close) == [4, 6]


def test_resample_identity_and_real_file():
    b = _bars()
    r = resample(b, 3_600)
    for name in ("timestamp", "open", "high", "low", "close"):
        assert np.array_equal(getattr(r, name), getattr(b, name))
    eth = load_episode("eth-2020-03")["WETH"]
    day = resample(eth, 86_400)
    assert len(day) == 16 and day.resolution_s == 86_400
    (i,) = np.flatnonzero(day.timestamp == _utc("2020-03-11 00:00"))
    assert day.close[i] == 194.57
    assert day.low.min() == 88.2 and day.high.max() == eth.high.max()
    assert day.volume.sum() == pytest.approx(eth.volume.sum())


def test_resample_close_only_keeps_nan():
    b = load_csv(DATA_DIR / "luna_usdt_2022-05_1h.csv")
    r = resample(b, 86_400)
    assert r.close_only and len(r) == 6 and np.isnan(r.high).all()
    assert r.close[0] == 68.13


@pytest.mark.parametrize("res", [0, -3_600, 5_000, 1_800])
def test_resample_rejects_non_multiples(res):
    with pytest.raises(ValueError, match=f"resolution_s={res} is not a positive multiple of 3600"):
        resample(_bars(), res)


def test_slice_time_is_half_open():
    s = slice_time(_bars(), 3_600, 10_800)
    assert list(s.timestamp) == [3600, 7200] and list(s.close) == [3, 4]
    assert len(slice_time(_bars(), 20_000, 30_000)) == 0
    assert len(slice_time(_bars(), 0, 14_401)) == 5


def test_bars_rejects_ragged_columns():
    with pytest.raises(ValueError, match="Bars.close has 1 rows, timestamp has 2"):
        Bars(np.array([0, 1]), np.ones(2), np.ones(2), np.ones(2), np.ones(1), np.ones(2), False, "x", 1)


# --- fixed point ----------------------------------------------------------------------------


def test_feed_answer_and_wad():
    assert to_feed_answer(194.57) == 19_457_000_000
    assert to_feed_answer(1.0) == 100_000_000
    assert to_feed_answer(1e-8) == 1
    assert to_feed_answer(0.4e-8) == 0 and to_feed_answer(0.6e-8) == 1
    assert to_feed_answer(0.0) == 0
    assert to_feed_answer(88.2, 6) == 88_200_000
    assert to_feed_answer(np.float64(3850.0)) == 385_000_000_000
    assert to_wad(194.57) == 194_570_000_000_000_000_000
    assert to_wad(1.0) == 10**18
    assert to_wad(0.00032) == 320_000_000_000_000


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf, -math.inf, -1e-300])
def test_feed_answer_rejects_bad_prices(bad):
    with pytest.raises(ValueError, match="finite non-negative"):
        to_feed_answer(bad)
    with pytest.raises(ValueError, match="finite non-negative"):
        to_wad(bad)


def test_feed_answer_rejects_negative_decimals():
    with pytest.raises(ValueError, match="decimals must be >= 0"):
        to_feed_answer(1.0, -1)
