"""The forecast-volatility backtest (docs/forecast-study.md, issue #14 item 2): the keeper's
rolling fit sees no future return, the on-chain bounds by hand, the modes, and the adoption
rule on hand-made results."""

from __future__ import annotations

import numpy as np
import pytest

from volmargin_lab import forecast as FC


def test_rolling_fit_uses_only_past_returns():
    rng = np.random.default_rng(5)
    r = rng.standard_t(5, 260) * 0.03
    a = FC.rolling_garch_sigma(r, window=150, refit=30)
    r2 = r.copy()
    r2[200:] *= 4.0  # a different future
    b = FC.rolling_garch_sigma(r2, window=150, refit=30)
    assert np.all(np.isnan(a[:149])) and np.all(np.isfinite(a[149:])) and np.all(a[149:] > 0)
    np.testing.assert_array_equal(a[:200], b[:200])
    assert not np.allclose(a[200:], b[200:])
    with pytest.raises(ValueError, match="at least 150"):
        FC.rolling_garch_sigma(r[:100], window=150)


def test_bounded_push_by_hand():
    got = FC.bounded_push(np.array([np.nan, 0.02, 0.05, 0.005, np.nan, 0.02]), max_step=0.5)
    want = [np.nan, 0.02, 0.03, 0.015, 0.015, 0.02]
    np.testing.assert_allclose(got, want, equal_nan=True)


def test_modes_clip_to_multiples_of_the_realized_volatility():
    sr = np.array([0.04, 0.04, 0.04, 0.04])
    pushed = np.array([np.nan, 0.01, 0.06, 0.5])  # none yet, below 0.5x, inside, above 3x
    np.testing.assert_allclose(FC.combine("replace", sr, pushed), [0.04, 0.02, 0.06, 0.12])
    np.testing.assert_allclose(FC.combine("max", sr, pushed), [0.04, 0.04, 0.06, 0.12])
    np.testing.assert_allclose(FC.combine("blend", sr, pushed), [0.04, 0.03, 0.05, 0.08])
    np.testing.assert_allclose(FC.combine("realized", sr, pushed), sr)
    # a compromised keeper pushing 0 cuts the volatility by at most M_LO
    assert np.all(FC.combine("replace", sr, np.zeros(4)) >= FC.M_LO * sr)
    with pytest.raises(ValueError, match="unknown mode"):
        FC.combine("median", sr, pushed)


def _res(train, held):
    """{floor: {period: {mode: (passed, mean haircut)}}} -> backtest-like dicts (floor 'none')."""
    def block(d):
        return {m: {"passed": p, "mean_haircut": h} for m, (p, h) in d.items()}
    return {"none": {"train": block(train), "heldout": block(held)}}


def test_adoption_rule_by_hand():
    train = {"realized": (True, 0.15), "replace": (True, 0.12), "max": (True, 0.16), "blend": (True, 0.13)}
    win = {"realized": (True, 0.15), "replace": (True, 0.14), "max": (True, 0.16), "blend": (True, 0.13)}
    lose = {"realized": (True, 0.13), "replace": (True, 0.14), "max": (True, 0.16), "blend": (True, 0.12)}
    assert FC.adoption({"WETH": _res(train, win), "WBTC": _res(train, win)}) == {"candidate": "replace", "adopted": True}
    # the candidate is fixed on training: blend doing better held out does not rescue replace
    assert FC.adoption({"WETH": _res(train, win), "WBTC": _res(train, lose)}) == {"candidate": "replace",
                                                                                 "adopted": False}
    # the realized volatility failing held out while the candidate passes is a win too
    fail = {**lose, "realized": (False, 0.10)}
    assert FC.adoption({"WETH": _res(train, fail), "WBTC": _res(train, win)})["adopted"] is True
    none_pass = {m: (False, h) for m, (_, h) in train.items()}
    assert FC.adoption({"WETH": _res(none_pass, win)}) == {"candidate": None, "adopted": False}


def test_quick_backtest_structure():
    r = FC.backtest("WETH", quick=True)
    assert r["windows"] > 300
    for floor in ("none", "default"):
        for period in ("train", "heldout"):
            block = r[floor][period]
            assert set(block) == {"realized", *FC.MODES}
            for x in block.values():
                assert 0 <= x["exceedances"] <= x["observations"] and x["observations"] > 100
    # the default floor only raises haircuts
    for period in ("train", "heldout"):
        for m in block:
            assert r["default"][period][m]["mean_haircut"] >= r["none"][period][m]["mean_haircut"] - 1e-12


def test_keeper_forecasts_push_at_each_day_start_only():
    """``keeper_forecasts`` places each day's value at the first step at or after its 00:00 UTC
    push, NaN elsewhere and for symbols without a long history (given series: no fit)."""
    from volmargin_lab.forecast import keeper_forecasts

    day = 86_400
    t0 = 1_700_006_400  # 2023-11-15 00:00 UTC
    series = {"WETH": (np.array([t0, t0 + day, t0 + 2 * day]), np.array([0.5, 0.6, 0.7])),
              "WBTC": (np.array([t0 + day]), np.array([0.4]))}
    times = t0 - 1_800 + np.arange(60) * 3_600.0  # hourly steps from 23:30 the day before
    out = keeper_forecasts(["USD", "WETH", "WBTC"], times, series)
    assert np.isnan(out[:, 0]).all()
    (k,) = np.flatnonzero(np.isfinite(out[:, 2]))
    assert times[k] == t0 + day + 1_800 and out[k, 2] == 0.4
    ks = np.flatnonzero(np.isfinite(out[:, 1]))
    assert times[ks].tolist() == [t0 + 1_800, t0 + day + 1_800, t0 + 2 * day + 1_800]
    assert out[ks, 1].tolist() == [0.5, 0.6, 0.7]
