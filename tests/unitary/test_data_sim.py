"""volmargin.data (real files, episodes, every DataError) and volmargin.sim."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pytest

from volmargin.data import DataError, Bars, load_csv, load_episode, resample, slice_time, to_feed_answer
from volmargin.sim import gbm_jump_path

HEADER = "timestamp,open,high,low,close,volume\n"


def _utc(s: str) -> int:
    return int(datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc).timestamp())


def test_eth_2020_03_episode_is_the_real_crash():
    ep = load_episode("eth-2020-03")
    eth, btc = ep["WETH"], ep["WBTC"]
    assert len(eth) == len(btc) == 384 and eth.resolution_s == 3_600 and not eth.close_only
    i = int(np.flatnonzero(eth.timestamp == _utc("2020-03-11 23:00"))[0])
    assert eth.close[i] == 194.57
    days = (eth.timestamp >= _utc("2020-03-12 00:00")) & (eth.timestamp < _utc("2020-03-14 00:00"))
    assert eth.low[days].min() == 88.2
    assert btc.low[days].min() == 3850


def test_unknown_episode_lists_known():
    with pytest.raises(DataError, match="unknown episode 'x'; known: eth-2020-03, calm-2019-03, luna-2022-05"):
        load_episode("x")


def test_close_only_file(tmp_path):
    f = tmp_path / "luna_usdt_x_1h.csv"
    f.write_text(HEADER + "100,,,,5.5,\n3700,,,,4.5,\n")
    b = load_csv(f)
    assert b.close_only and b.symbol == "luna" and b.resolution_s == 3_600
    assert np.isnan(b.open).all() and list(b.close) == [5.5, 4.5]


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "empty file"),
        ("a,b,c\n1,2,3\n", "header must be"),
        (HEADER, "no bars"),
        (HEADER + "100,1,1,1,1,1\n100,1,1,1,1,1\n", ":3: timestamp 100 not after 100"),
        (HEADER + "100,1,1,1,0,1\n", ":2: close must be a positive number"),
        (HEADER + "100,1,1,1,x,1\n", ":2: non-numeric field"),
        (HEADER + "100,1,1,1\n", ":2: expected 6 fields"),
    ],
)
def test_data_errors_name_file_and_line(tmp_path, text, match):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(DataError, match=match):
        load_csv(f)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such price file"):
        load_csv(tmp_path / "nope.csv")


def _bars() -> Bars:
    t = np.array([0, 3600, 7200, 10800], dtype=np.int64)
    f = lambda *x: np.array(x, dtype=float)  # noqa: E731
    return Bars(t, f(1, 2, 3, 4), f(2, 5, 4, 6), f(0.5, 1, 2, 3), f(2, 3, 4, 5), f(1, 1, 1, 1), False, "x", 3600)


def test_resample_and_slice():
    r = resample(_bars(), 7_200)
    assert list(r.timestamp) == [0, 7200]
    assert list(r.open) == [1, 3] and list(r.high) == [5, 6] and list(r.low) == [0.5, 2]
    assert list(r.close) == [3, 5] and list(r.volume) == [2, 2] and r.resolution_s == 7_200
    with pytest.raises(ValueError, match="not a positive multiple"):
        resample(_bars(), 5_000)
    assert list(slice_time(_bars(), 3_600, 10_800).timestamp) == [3600, 7200]


def test_feed_answer():
    assert to_feed_answer(194.57) == 19_457_000_000
    assert to_feed_answer(1e-8) == 1
    for bad in (math.nan, -1.0, math.inf):
        with pytest.raises(ValueError, match="finite non-negative"):
            to_feed_answer(bad)


def test_gbm_is_seeded():
    a = gbm_jump_path(100.0, 50, 3_600, 0.8, seed=3)
    assert a.shape == (51,) and a[0] == 100.0
    assert np.array_equal(a, gbm_jump_path(100.0, 50, 3_600, 0.8, seed=3))
    assert not np.array_equal(a, gbm_jump_path(100.0, 50, 3_600, 0.8, seed=4))


def test_gbm_volatility_and_jumps():
    path = gbm_jump_path(100.0, 200_000, 3_600, 0.8, seed=1)
    r = np.diff(np.log(path))
    sigma = r.std() * math.sqrt(31_536_000 / 3_600)
    assert abs(sigma - 0.8) < 0.8 * 0.02
    jumpy = np.diff(np.log(gbm_jump_path(100.0, 200_000, 3_600, 0.8, 0.0, 50.0, -0.05, 0.05, seed=1)))
    kurt = lambda x: ((x - x.mean()) ** 4).mean() / x.var() ** 2  # noqa: E731
    assert kurt(r) < 3.2 < 5 < kurt(jumpy)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"s0": 0}, "s0"), ({"n_steps": 0}, "n_steps"), ({"dt_s": 0}, "dt_s"), ({"sigma_annual": -1}, "sigma_annual"),
     ({"jump_intensity_annual": -1}, "jump_intensity_annual"), ({"jump_std": -1}, "jump_std")],
)
def test_gbm_rejects_bad_arguments(kwargs, name):
    args = dict(s0=1.0, n_steps=1, dt_s=1, sigma_annual=0.1) | kwargs
    with pytest.raises(ValueError, match=f"^{name} must be"):
        gbm_jump_path(**args)
