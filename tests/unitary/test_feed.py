"""The Chainlink-like feed and the OHLC bridge of ``volmargin_lab.feed``. Pure Python."""

from __future__ import annotations

import numpy as np
import pytest

from volmargin_lab import feed as F
from volmargin_lab.data import Bars, DataError


def _bars(o, h, lo, c, res=3600):
    n = len(c)
    f = lambda x: np.asarray(x, dtype=float)  # noqa: E731
    return Bars(np.arange(n, dtype=np.int64) * res, f(o), f(h), f(lo), f(c), np.ones(n), False, "x", res)


def test_deviation_rounds_on_a_hand_made_path():
    spec = F.FeedSpec(0.005, 3600.0)
    t = np.arange(6) * 60.0
    p = np.array([100.0, 100.3, 100.6, 100.2, 99.9, 100.0])
    rt, rp = F.publish_rounds(t, p, spec)
    # +0.3 % no; +0.6 % yes; -0.4 % from 100.6 no; -0.696 % yes; +0.1 % no
    assert rt.tolist() == [0.0, 120.0, 240.0] and rp.tolist() == [100.0, 100.6, 99.9]
    assert F.feed_vol(rt, rp) == pytest.approx(
        np.sqrt((np.log(100.6 / 100) ** 2 + np.log(99.9 / 100.6) ** 2) / 240.0 * F.YEAR_S))


def test_heartbeat_rounds_and_pause():
    spec = F.FeedSpec(0.005, 3600.0)
    t = np.arange(0.0, 4 * 3600.0 + 1, 600.0)
    rt, rp = F.publish_rounds(t, np.full(len(t), 2.0), spec)
    assert rt.tolist() == [0.0, 3600.0, 7200.0, 10800.0, 14400.0] and np.all(rp == 2.0)
    # a paused feed publishes nothing once the path is below the pause price
    p = np.array([1.0, 0.5, 0.2, 0.1, 0.05, 0.2])
    rt, rp = F.publish_rounds(np.arange(6.0), p, F.FeedSpec(0.01, 3600.0), pause_below=0.107)
    assert rp.tolist() == [1.0, 0.5, 0.2]
    ans, upd = F.on_grid(rt, rp, np.array([-5.0, 0.0, 1.5, 9.0]))
    assert ans.tolist() == [1.0, 1.0, 0.5, 0.2] and upd.tolist() == [0.0, 0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="deviation in"):
        F.FeedSpec(1.0, 60.0)
    with pytest.raises(KeyError, match="known: USD"):
        F.feed_spec("DOGE")


def test_bridge_is_seeded_and_pinned_to_every_bar():
    b = _bars([100, 104, 90], [110, 105, 92], [95, 80, 88], [104, 90, 91.5])
    for noise in (0.0, 0.75, 5.0):
        x = F.bridge_bars(b, seed=3, steps=60, noise=noise)
        assert x.shape == (3, 61)
        assert np.array_equal(x, F.bridge_bars(b, seed=3, steps=60, noise=noise))
        assert x.max(axis=1) == pytest.approx(b.high, rel=1e-12) and x.min(axis=1) == pytest.approx(b.low, rel=1e-12)
        assert x[:, 0] == pytest.approx(b.open, rel=1e-12) and x[:, -1] == pytest.approx(b.close, rel=1e-12)
    assert not np.array_equal(F.bridge_bars(b, 3, noise=0.75), F.bridge_bars(b, 4, noise=0.75))
    t, p = F.bridge_path(b, seed=3)
    assert len(t) == 3 * 60 + 1 and np.all(np.diff(t) == 60.0) and p[0] == pytest.approx(100.0)
    assert p[60] == pytest.approx(104.0) and p[-1] == pytest.approx(91.5)
    with pytest.raises(DataError, match="close-only"):
        F.bridge_bars(Bars(b.timestamp, b.open * np.nan, b.high * np.nan, b.low * np.nan, b.close, b.volume, True,
                           "x", 3600), 1)


def test_resample_and_feed_path_kinds():
    fine = _bars([1, 2, 3, 4, 5, 6], [2, 3, 9, 5, 6, 7], [0.5, 1, 2, 3, 1, 5], [2, 3, 4, 5, 6, 7], res=1800)
    h = F.resample_ohlc(fine, 3600)
    assert h.timestamp.tolist() == [0, 3600, 7200] and h.open.tolist() == [1, 3, 5]
    assert h.high.tolist() == [3, 9, 7] and h.low.tolist() == [0.5, 2, 1] and h.close.tolist() == [3, 5, 7]
    assert "5-minute closes" in F.feed_path(_bars([1], [2], [0.5], [1.5], res=300), 1)[2]
    assert "pinned bridge" in F.feed_path(h, 1)[2]


def test_feed_realism_rows_and_band():
    rows = F.feed_realism(seeds=2)
    assert len(rows) == len(F.REALISM_SPANS)
    for r in rows:
        assert {"episode", "asset", "hours", "vol_feed_hourly", "vol_feed_fine", "ratio"} <= set(r)
        assert r["ratio"] == pytest.approx(r["vol_feed_hourly"] / r["vol_feed_fine"])
        if r["hours"] >= 168:
            assert 0.8 <= r["ratio"] <= 1.25
    assert sum(r["hours"] >= 168 for r in rows) == 5
