"""Stress-lab scenarios, populations, metrics and Monte Carlo pieces. Pure Python."""

from __future__ import annotations

import numpy as np
import pytest

from volmargin_lab.calibration import GarchFit
from volmargin_lab.data import Bars, DataError
from volmargin_lab.stress.engine import Frictions
from volmargin_lab.stress.metrics import tail_stats
from volmargin_lab.stress.montecarlo import MCConfig, PathModels, JumpFit, fit_jumps, price_paths, run_monte_carlo
from volmargin_lab.population import borrowing_power, make_population, open_at_leverage, open_balances
from volmargin_lab.data import load_csv, DATA_DIR
from volmargin_lab.feed import feed_spec, publish_rounds
from volmargin_lab.stress.scenarios import STRESS_EPISODES, load_market, utc


def _bars(o, h, lo, c, res=3600):
    n = len(c)
    f = lambda x: np.asarray(x, dtype=float)  # noqa: E731
    return Bars(np.arange(n, dtype=np.int64) * res, f(o), f(h), f(lo), f(c), np.ones(n), False, "x", res)


def test_the_oracle_sees_only_published_rounds():
    m = load_market("eth-2020-03")
    for j, s in enumerate(m.symbols):
        changed = np.r_[True, m.updated_at[1:, j] != m.updated_at[:-1, j]]
        # a new round sits at its own step, at the market path's price there; nothing else moves the answer
        k = np.flatnonzero(changed[1:]) + 1
        assert np.all(m.updated_at[k, j] == m.times[k]) and np.allclose(m.answer[k, j], m.prices[k, j], rtol=1e-12)
        assert np.all(m.answer[1:, j][~changed[1:]] == m.answer[:-1, j][~changed[1:]])
        r = m.answer[k, j] / m.answer[k - 1, j] - 1.0
        hb = np.diff(m.updated_at[:, j])[k - 1]
        assert np.all((np.abs(r) >= feed_spec(s).deviation) | (hb >= feed_spec(s).heartbeat_s))
    assert "pinned bridge" in m.built_from["WETH"][0] and m.rounds["WETH"] > 1000


def test_luna_episode_lists_luna_and_pauses_its_feed():
    m = load_market("luna-2022-05")
    assert m.symbols == ("USD", "WETH", "WBTC", "LUNA")
    assert STRESS_EPISODES["luna-2022-05"].pause_below == {"LUNA": 0.107}
    j = m.symbols.index("LUNA")
    assert m.prices[:, j].max() > 60 and m.prices[-1, j] < 0.001
    assert m.close_only["LUNA"] and not m.close_only["WETH"]
    # the paused feed: no round under 0.107 USD, the last answer stays above it
    assert m.answer[:, j].min() >= 0.107 and m.answer[-1, j] < 0.2
    assert np.all(m.prices[:, 0] == 1.0)
    assert m.times[m.open_step] >= STRESS_EPISODES["luna-2022-05"].open_at


def test_finer_files_replace_the_coarse_points_in_their_span():
    m = load_market("ftx-2022-11")
    assert m.symbols[-1] == "FTT" and m.resolution == {"WETH": 60, "WBTC": 60, "FTT": 60, "USD": 0}
    assert [b.split(":")[0] for b in m.built_from["FTT"]] == ["ftt_usdt_2022-11_1h.csv", "ftt_usdt_2022-11_1m.csv"]
    fine = load_csv(DATA_DIR / "eth_usdt_2022-11_1m.csv")
    inside = (m.times > utc("2022-11-09 00:00")) & (m.times < utc("2022-11-09 12:00"))
    assert inside.sum() > 100 and np.all(m.times[inside] % 60 == 0)
    # inside the 1-minute span the WETH market is the 1-minute closes at the step times, exactly
    i = np.searchsorted(fine.timestamp, m.times[inside] - 60)
    assert np.allclose(m.prices[inside, 1], fine.close[i], rtol=1e-12)
    # and its feed's rounds are the rounds of a feed on those closes
    rt, _ = publish_rounds(fine.timestamp + 60.0, fine.close, feed_spec("WETH"))
    up = np.unique(m.updated_at[inside, 1])
    assert np.isin(up[up > utc("2022-11-09 00:00")], rt).all()


def test_usdc_episode_has_the_stablecoin_leg():
    m = load_market("usdc-2023-03")
    assert m.prices[:, 0].min() < 0.92 and m.prices[0, 0] == pytest.approx(1.0, abs=0.01)


def test_unknown_episode_and_quick_window():
    with pytest.raises(DataError, match="unknown episode 'nope'; known: calm-2019-03"):
        load_market("nope")
    m = load_market("eth-2020-03", max_hours=5)
    assert m.times[-1] <= STRESS_EPISODES["eth-2020-03"].open_at + 5 * 3600


def test_population_is_seeded_with_the_stated_shares():
    syms = ("USD", "WETH", "WBTC", "FTT")
    a, b = make_population(5000, 3, syms, "FTT"), make_population(5000, 3, syms, "FTT")
    assert np.array_equal(a.collateral_usd, b.collateral_usd) and np.array_equal(a.leverage, b.leverage)
    share = np.bincount(a.kind, minlength=5) / 5000
    assert share == pytest.approx([0.315, 0.225, 0.225, 0.135, 0.10], abs=0.02)
    assert a.leverage.min() >= 0.55 and a.leverage.max() <= 0.99
    shorts = a.kind == 3
    assert np.all(a.debt_asset[shorts] == 1) and np.all(a.debt_asset[~shorts] == 0)
    with pytest.raises(ValueError, match="accounts must be >= 1"):
        make_population(0, 1, syms)
    with pytest.raises(ValueError, match="must contain 'LUNA'"):
        make_population(5, 1, syms, "LUNA")


def test_borrowing_power_by_hand():
    prices = np.array([1.0, 2000.0, 30000.0])
    h = np.array([0.0, 0.2, 0.25])
    kappa = np.zeros(3)
    depth = np.ones(3)
    col = np.array([[0.0, 0.5, 0.0], [0.0, 0.5, 1 / 30]])  # 1,000 USD of WETH; 1,000 of WETH + 1,000 of WBTC
    bp = borrowing_power(col, np.array([0, 0]), prices, h, kappa, depth)
    assert bp == pytest.approx([800.0, 800.0 + 750.0])
    # a WETH debt weighs 1 + h: 1,000 USD of USD collateral (h 0) borrows 1000 / 1.2 USD of WETH
    bp = borrowing_power(np.array([[1000.0, 0, 0]]), np.array([1]), prices, h, kappa, depth)
    assert bp * 2000.0 == pytest.approx([1000.0 / 1.2])
    # CAUTION halves the deposit's weight
    bp = borrowing_power(col[:1], np.array([0]), prices, h, kappa, depth, np.array([0, 1, 0]), 0.5)
    assert bp == pytest.approx([400.0])
    pop = make_population(3, 1, ("USD", "WETH", "WBTC"))
    bal = open_balances(pop, prices, np.array([1.0, 2.0, 3.0]))
    assert bal[np.arange(3), pop.debt_asset] == pytest.approx(pop.collateral_usd[np.arange(3), pop.debt_asset] / prices[pop.debt_asset] - [1.0, 2.0, 3.0])


def test_open_at_leverage_by_hand():
    prices = np.array([1.0, 2000.0, 30000.0])
    h = np.array([0.0, 0.2, 0.25])
    kappa, depth = np.zeros(3), np.ones(3)
    pop = make_population(50, 4, ("USD", "WETH", "WBTC"))
    bal = open_at_leverage(pop, prices, h, kappa, depth, headroom=0.5)
    rows = np.arange(50)
    # collateral bought at the prices; the debt is headroom x leverage x borrowing power
    bp = borrowing_power(pop.collateral_usd / prices, pop.debt_asset, prices, h, kappa, depth)
    debt = pop.collateral_usd[rows, pop.debt_asset] / prices[pop.debt_asset] - bal[rows, pop.debt_asset]
    assert debt == pytest.approx(0.5 * pop.leverage * bp)
    longs = pop.kind == 0  # long ETH: 80 % of the WETH collateral's USD value, in USD
    assert debt[longs] == pytest.approx(0.5 * pop.leverage[longs] * 0.8 * pop.collateral_usd[longs, 1])
    assert np.all(bal[rows, pop.debt_asset] < 0)
    assert np.array_equal(open_at_leverage(pop, prices, h, kappa, depth), open_balances(pop, prices, pop.leverage * bp))


def test_tail_stats_by_hand():
    x = np.r_[np.zeros(98), 10.0, 20.0]
    s = tail_stats(x)
    assert s["mean"] == pytest.approx(0.3) and s["p_positive"] == pytest.approx(0.02)
    assert s["q99"] == pytest.approx(10.1)  # linear interpolation between 10 and 20
    assert s["es99"] == pytest.approx(20.0) and s["max"] == 20.0  # k = 1: the single worst value
    with pytest.raises(ValueError, match="empty"):
        tail_stats(np.array([]))


def test_tail_stats_es_is_the_mean_of_the_worst_one_percent_when_most_paths_lose_nothing():
    # 1,000 paths, 5 with a loss: the 99 % quantile is 0, but the expected shortfall is
    # the mean of the 10 worst paths (5 losses and 5 zeros), not the mean of everything
    x = np.r_[np.zeros(995), 100.0, 200.0, 300.0, 400.0, 500.0]
    s = tail_stats(x)
    assert s["q99"] == 0.0 and s["mean"] == pytest.approx(1.5)
    assert s["es99"] == pytest.approx(1_500.0 / 10)
    # a fractional tail size weighs the boundary value: n = 150 at 99 % -> k = 1.5
    y = np.r_[np.zeros(147), 1.0, 2.0, 4.0]
    assert tail_stats(y)["es99"] == pytest.approx((4.0 + 0.5 * 2.0) / 1.5)
    with pytest.raises(ValueError, match="outside"):
        tail_stats(x, level=1.0)


def test_jump_fit_recovers_a_known_process():
    rng = np.random.Generator(np.random.PCG64(1))
    n = 200_000
    r = rng.standard_normal(n) * 0.005
    jumps = rng.random(n) < 0.002
    r[jumps] += rng.normal(-0.05, 0.02, jumps.sum())
    f = fit_jumps(r, 8760.0)
    assert f.sigma == pytest.approx(0.005 * np.sqrt(8760), rel=0.03)
    assert f.intensity == pytest.approx(0.002 * 8760, rel=0.1)
    assert f.jump_mean == pytest.approx(-0.05, abs=0.005)
    with pytest.raises(ValueError, match="at least 100"):
        fit_jumps(np.zeros(10))


def _models():
    j = JumpFit(sigma=0.8, intensity=50.0, jump_mean=-0.03, jump_std=0.03)
    return PathModels({"WETH": j, "WBTC": j}, {"WETH": None, "WBTC": None}, 0.8, {"test": True})


def test_gbm_jump_paths_are_seeded_and_correlated():
    a = price_paths(_models(), "gbm-jump", 500, 200, seed=4)
    assert a.shape == (200, 501, 3) and np.array_equal(a, price_paths(_models(), "gbm-jump", 500, 200, seed=4))
    assert np.all(a[:, :, 0] == 1.0) and np.all(a[:, 0, 1] == 2000.0)
    r = np.diff(np.log(a[:, :, 1:]), axis=1).reshape(-1, 2)
    assert np.corrcoef(r.T)[0, 1] > 0.7
    with pytest.raises(ValueError, match="unknown path model"):
        price_paths(_models(), "heston", 5, 2, seed=0)


def test_garch_price_paths_hold_usd_and_draw_each_asset():
    g = GarchFit(omega=2e-6, alpha=0.05, beta=0.9, mu=0.0, nu=6.0, periods_per_year=8_760.0, last_variance=4e-5)
    m = PathModels(_models().jumps, {"WETH": g, "WBTC": g}, 0.8, {"test": True})
    a = price_paths(m, "garch", 48, 30, seed=3)
    assert a.shape == (30, 49, 3) and np.all(a[:, :, 0] == 1.0) and np.all(a[:, 0, 1:] == [2000.0, 30000.0])
    assert np.array_equal(a, price_paths(m, "garch", 48, 30, seed=3))
    # the same model, its own seed per asset: different paths
    assert not np.allclose(a[:, 1:, 1] / 2000.0, a[:, 1:, 2] / 30000.0)


def test_monte_carlo_through_dask_is_scheduler_independent():
    cfg = MCConfig(n_paths=6, n_accounts=200, horizon_h=24, batch=4, seed=2)
    kw = dict(cfg=cfg, policies=("static", "dynamic"), models=_models(), frictions=Frictions(), which=("gbm-jump",),
              progress=False)
    a = run_monte_carlo(scheduler="synchronous", **kw)
    b = run_monte_carlo(scheduler="threads", workers=2, **kw)
    for pol in ("static", "dynamic"):
        assert a["gbm-jump"][pol]["bad_debt_usd"]["n"] == 6
        assert np.array_equal(a["gbm-jump"][pol]["samples_usd"], b["gbm-jump"][pol]["samples_usd"])
        assert a["gbm-jump"][pol]["liquidations_mean"] >= 0
    with pytest.raises(ValueError, match="n_paths must be >= 1"):
        MCConfig(n_paths=0)
