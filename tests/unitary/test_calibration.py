"""volmargin_lab.calibration: VaR backtests (Kupiec 1995, Christoffersen 1998), haircut
exceedances along a constructed series, GARCH(1,1) fit and paths (Bollerslev 1986),
and calibration protocol v2 (quick run, literals). Pure Python (no chain)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from arch.univariate import GARCH, ConstantMean, StudentsT

from volmargin_lab import calibration as C
from volmargin import model as M
from volmargin import params as P
from volmargin import reference as ref
from volmargin import spec as S

HOUR, DAY = 3_600, 86_400
T0 = 1_600_041_600  # 2020-09-14 00:00 UTC, a multiple of a day


# ------------------------------------------------------------------ Kupiec


def test_kupiec_hand_computed():
    # x = 5 exceedances in N = 250 days at 99 %:
    # LR = -2 [245 ln 0.99 + 5 ln 0.01] + 2 [245 ln 0.98 + 5 ln 0.02]
    #    = -2 (-2.462333 - 23.025851) + 2 (-4.949663 - 19.560115) = 1.956810
    lr, p = C.kupiec_pof(5, 250, 0.99)
    assert lr == pytest.approx(1.956810, abs=1e-5)
    assert p == pytest.approx(0.16185, abs=1e-4)  # chi2(1) tail at 1.956810
    # no exceedance at all: LR = -2 N ln(1 - p) = -500 ln 0.99 = 5.025168 -> rejected at 5 %
    lr0, p0 = C.kupiec_pof(0, 250, 0.99)
    assert lr0 == pytest.approx(5.025168, abs=1e-5)
    assert p0 < 0.05
    # exactly the expected rate: LR = 0, p = 1
    assert C.kupiec_pof(10, 1000, 0.99) == pytest.approx((0.0, 1.0))


@pytest.mark.parametrize(
    "n, low, high",
    [
        # Kupiec (1995) non-rejection regions at a 5 % test size for p = 1 %, as tabulated in
        # Jorion, Value at Risk (3rd ed.), table 6-3: T = 510: 1 < x < 11; T = 1000: 4 < x < 17
        (510, 1, 11),
        (1000, 4, 17),
    ],
)
def test_kupiec_matches_jorion_nonrejection_regions(n, low, high):
    assert C.kupiec_pof(low, n, 0.99)[1] < 0.05
    assert C.kupiec_pof(low + 1, n, 0.99)[1] >= 0.05
    assert C.kupiec_pof(high - 1, n, 0.99)[1] >= 0.05
    assert C.kupiec_pof(high, n, 0.99)[1] < 0.05


def test_kupiec_jorion_255_days_upper_bound():
    # same table, T = 255: x < 7 (the upper bound; 6 passes, 7 is rejected)
    assert C.kupiec_pof(6, 255, 0.99)[1] >= 0.05
    assert C.kupiec_pof(7, 255, 0.99)[1] < 0.05


@pytest.mark.parametrize("args", [(1, 0, 0.99), (-1, 10, 0.99), (11, 10, 0.99), (1, 10, 1.0), (1, 10, 0.0)])
def test_kupiec_rejects_bad_input(args):
    with pytest.raises(ValueError):
        C.kupiec_pof(*args)


# ------------------------------------------------------------------ Christoffersen


def test_christoffersen_hand_computed():
    # 0 0 0 0 1 1 1 0 0 0: n00 = 5, n01 = 1, n10 = 1, n11 = 2
    # pi01 = 1/6, pi11 = 2/3, pi = 3/9
    # ln L0 = 6 ln(2/3) + 3 ln(1/3) = -5.728627
    # ln L1 = 5 ln(5/6) + ln(1/6) + ln(1/3) + 2 ln(2/3) = -4.612909
    # LR = 2 (ln L1 - ln L0) = 2.231436
    lr, p = C.christoffersen_ind(np.array([0, 0, 0, 0, 1, 1, 1, 0, 0, 0]))
    assert lr == pytest.approx(2.231436, abs=1e-5)
    assert p == pytest.approx(0.13523, abs=1e-4)


def test_christoffersen_equal_transition_rates_give_zero():
    # 0 0 1 1 0 0 0 1 0 0: n00 = 4, n01 = 2, n10 = 2, n11 = 1: pi01 = pi11 = pi = 1/3 -> LR = 0
    lr, p = C.christoffersen_ind(np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool))
    assert lr == pytest.approx(0.0, abs=1e-12) and p == pytest.approx(1.0)
    # no hit at all: nothing to test
    assert C.christoffersen_ind(np.zeros(100, dtype=bool)) == pytest.approx((0.0, 1.0))


def test_christoffersen_rejects_clustered_hits_not_spread_ones():
    clustered = np.zeros(1000, dtype=bool)
    for k in (100, 300, 500, 700, 900):
        clustered[k : k + 2] = True  # 5 pairs of consecutive hits
    spread = np.zeros(1000, dtype=bool)
    spread[::100] = True  # 10 isolated hits
    assert C.christoffersen_ind(clustered)[1] < 0.01
    assert C.christoffersen_ind(spread)[1] > 0.5


@pytest.mark.parametrize("hits", [np.array([1]), np.array([0, 2, 1]), np.zeros((3, 3))])
def test_christoffersen_rejects_bad_input(hits):
    with pytest.raises(ValueError):
        C.christoffersen_ind(hits)


# ------------------------------------------------------------------ exceedances


def _series(moves: dict[int, float], days: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Hourly prices from T0: 100 USD, times ``1 + moves[d]`` from hour 12 of day ``d`` on
    (each move multiplies the price level from then on)."""
    times = T0 + HOUR * np.arange(days * 24 + 1)
    level = np.ones(len(times)) * 100.0
    for d, m in moves.items():
        level[d * 24 + 12 :] *= 1.0 + m
    return level, times


def test_exceedances_known_answer_at_the_floor():
    # defaults: h0 2 %, z 3, h_min 10 %; a flat price keeps both variances at var_min
    # (10 % a year), whose one-day sigma 0.52 % puts h0 + 3 sigma = 3.6 % under the floor:
    # the haircut in force is exactly 10 % before each move
    vec = P.oracle_params()
    prices, times = _series({20: -0.15, 30: -0.05})
    hits = C.exceedances(prices, times, vec, DAY)
    assert hits.shape == (40,) and hits.dtype == bool
    assert np.flatnonzero(hits).tolist() == [20]  # the 15 % loss; the 5 % loss is covered
    win = C.haircut_windows(prices, times, vec, DAY)
    assert win.h_maint[0, :20] == pytest.approx(0.10, abs=1e-12)
    assert win.loss_long[20] == pytest.approx(0.15) and win.loss_long[30] == pytest.approx(0.05)
    assert win.h_maint[0, 21] > 0.10  # the crash raised the haircut for the next day
    assert win.start[0] == T0 and np.all(np.diff(win.start) == DAY) and win.dropped == 0


def test_exceedances_known_answer_above_the_floor_and_short_side():
    # floor 1 %: haircut = h0 + z sqrt(var_min * 1 day) = 0.02 + 3 sqrt(317097919e-18 * 86400)
    #          = 0.02 + 3 * 0.0052342 = 0.035703 before any move
    vec = P.oracle_params(h_min=0.01)
    var_min = P.annual_vol_to_var(0.10) / 1e18
    h_flat = 0.02 + 3.0 * math.sqrt(var_min * DAY)
    assert h_flat == pytest.approx(0.035703, abs=1e-6)
    for move, long_hit, short_hit in ((-0.04, True, False), (-0.03, False, False), (0.04, False, True)):
        prices, times = _series({20: move}, days=25)
        win = C.haircut_windows(prices, times, vec, DAY)
        assert win.h_maint[0, 20] == pytest.approx(h_flat, abs=1e-9)
        assert C.exceedances(prices, times, vec, DAY)[20] == long_hit
        assert C.exceedances(prices, times, vec, DAY, side="short")[20] == short_hit
        assert C.exceedances(prices, times, vec, DAY)[:20].sum() == 0


def test_exceedances_batched_parameters_and_gaps():
    prices, times = _series({10: -0.05, 20: -0.15})
    op = M.OracleParams.from_wad([P.oracle_params(), P.oracle_params(h_min=0.03)])
    hits = C.exceedances(prices, times, op, DAY)
    assert hits.shape == (2, 40)
    assert np.flatnonzero(hits[0]).tolist() == [20]
    # at a 3 % floor the calm-market haircut is 3.6 % (see above): the 5 % loss is not covered
    assert np.flatnonzero(hits[1]).tolist() == [10, 20]
    # a 5-hour hole around the end of day 9 (= start of day 10): windows 9 and 10 are dropped
    keep = (times < T0 + 10 * DAY - 2 * HOUR) | (times > T0 + 10 * DAY + 2 * HOUR)
    win = C.haircut_windows(prices[keep], times[keep], P.oracle_params(), DAY)
    assert win.dropped == 2 and len(win.start) == 38
    assert T0 + 9 * DAY not in win.start and T0 + 10 * DAY not in win.start


def test_exceedances_reject_bad_input():
    prices, times = _series({}, days=3)
    with pytest.raises(ValueError, match="side"):
        C.exceedances(prices, times, P.oracle_params(), DAY, side="both")
    with pytest.raises(ValueError, match="strictly increasing"):
        C.exceedances(prices, times[::-1], P.oracle_params(), DAY)
    with pytest.raises(ValueError, match=f"{len(S.ORACLE)} entries"):
        C.exceedances(prices, times, (1, 2, 3), DAY)
    with pytest.raises(ValueError, match="horizon_s"):
        C.exceedances(prices, times, P.oracle_params(), 0)


# ------------------------------------------------------------------ GARCH

TRUE = {"mu": 5e-4, "omega": 2e-5, "alpha": 0.10, "beta": 0.85, "nu": 6.0}


def test_fit_garch_recovers_known_parameters():
    # simulated with arch's own simulator (percent units), an independent generator
    am = ConstantMean(None)
    am.volatility = GARCH(1, 0, 1)
    am.distribution = StudentsT(seed=np.random.default_rng(2024))
    sim = am.simulate([TRUE["mu"] * 100, TRUE["omega"] * 1e4, TRUE["alpha"], TRUE["beta"], TRUE["nu"]], 20_000, burn=500)
    fit = C.fit_garch(sim["data"].to_numpy() / 100.0, 365.0)
    assert fit.alpha == pytest.approx(TRUE["alpha"], abs=0.03)
    assert fit.beta == pytest.approx(TRUE["beta"], abs=0.04)
    assert fit.omega == pytest.approx(TRUE["omega"], rel=0.5)
    assert fit.nu == pytest.approx(TRUE["nu"], abs=1.5)
    assert fit.mu == pytest.approx(TRUE["mu"], abs=3e-4)
    # unconditional variance omega / (1 - alpha - beta) = 4e-4 per day (Bollerslev 1986)
    assert fit.unconditional_variance == pytest.approx(4e-4, rel=0.25)
    assert fit.periods_per_year == 365.0 and fit.last_variance > 0


def test_fit_garch_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 100"):
        C.fit_garch(np.zeros(10), 365.0)
    with pytest.raises(ValueError, match="finite"):
        C.fit_garch(np.r_[np.zeros(200), np.nan], 365.0)
    with pytest.raises(ValueError, match="periods_per_year"):
        C.fit_garch(np.full(200, 0.01), 0.0)


# ------------------------------------------------------------------ long history


def test_load_long_history_splices_usd_then_usdt():
    b = C.load_long_history("WBTC")
    assert np.all(np.diff(b.timestamp) > 0) and np.all(b.close > 0)
    src = C.history_sources("WBTC")
    assert [s["file"] for s in src] == list(C.LONG_HISTORY["WBTC"])
    assert sum(s["bars"] for s in src) == len(b)
    assert src[0]["last_bar_utc"] < src[1]["first_bar_utc"]
    # OHLC where the USD file has it, NaN in the close-only USDT part
    n0 = src[0]["bars"]
    assert not np.isnan(b.high[:n0]).any() and np.isnan(b.high[n0:]).all()
    with pytest.raises(ValueError, match="symbol"):
        C.load_long_history("USD")


# ------------------------------------------------------------------ protocol v2 (docs/calibration-protocol.md)


def _order_statistic_floor(losses: np.ndarray, level: float) -> float:
    """Independent floor: the ceil(level * n)-th smallest loss (inverse empirical CDF), rounded
    up to a whole percent in exact rational arithmetic."""
    from fractions import Fraction

    x = sorted(float(v) for v in losses)
    k = math.ceil(Fraction(level).limit_denominator(10**6) * len(x))
    return max(0, math.ceil(Fraction(x[k - 1]) * 100)) / 100


def test_stressed_floor_is_the_99_quantile_rounded_up():
    # 0.001 .. 0.100 in random order: 99 of the 100 values are <= 0.099 -> q = 0.099 -> 10 %
    rng = np.random.default_rng(5)
    losses = rng.permutation(np.arange(1, 101) / 1000)
    floor, q = C.stressed_floor(losses)
    assert q == pytest.approx(0.099) and floor == pytest.approx(0.10)
    # a quantile that is a whole percent stays there; a hair above goes to the next percent
    assert C.stressed_floor(np.r_[np.zeros(98), 0.07, 0.5])[0] == pytest.approx(0.07)
    assert C.stressed_floor(np.r_[np.zeros(98), 0.0701, 0.5])[0] == pytest.approx(0.08)
    # rounding is up, never to nearest: 0.0601 -> 7 %
    assert C.stressed_floor(np.r_[np.zeros(98), 0.0601, 0.5])[0] == pytest.approx(0.07)
    # only gains: the floor is 0
    assert C.stressed_floor(-np.linspace(0.01, 0.1, 50))[0] == 0.0
    # heavy-tailed samples of several sizes against the order statistic computed here
    for n in (100, 250, 1601, 3000):
        x = rng.standard_t(3, n) * 0.03
        floor, q = C.stressed_floor(x)
        assert floor == pytest.approx(_order_statistic_floor(x, 0.99))
        assert floor >= q and floor - q < 0.01 + 1e-12
        assert np.mean(x <= q) >= 0.99 and np.mean(x < q) < 0.99


@pytest.mark.parametrize("bad", [np.array([]), np.array([0.1, np.nan]), np.zeros((3, 3))])
def test_stressed_floor_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        C.stressed_floor(bad)


def _row(name, passed, mean, z, tf_h, ts_d):
    return {"name": name, "passed": passed, "mean_haircut": mean, "z_maint": z, "tau_fast": tf_h * HOUR,
            "tau_slow": ts_d * DAY}


def test_select_v2_cheapest_passing_then_larger_z_then_larger_tau_slow():
    rows = [
        _row("fails-cheapest", False, 0.010, 1.5, 6, 7),
        _row("dearer", True, 0.050, 4.0, 48, 60),
        _row("tie-small-z", True, 0.040, 2.0, 48, 60),
        _row("tie-big-z-short-slow", True, 0.040, 2.5, 12, 7),
        _row("tie-big-z-long-slow", True, 0.040, 2.5, 6, 30),
    ]
    rng = np.random.default_rng(1)
    for _ in range(10):  # the answer does not depend on the order of the table
        perm = rng.permutation(len(rows))
        table = [rows[i] for i in perm]
        k, tie = C.select_v2(table)
        assert table[k]["name"] == "tie-big-z-long-slow" and tie is False
    # without the tie the cheapest passing row wins whatever its z and tau
    k, _ = C.select_v2([rows[1], {**rows[2], "mean_haircut": 0.039}, rows[3]])
    assert k == 1
    # nothing passes
    assert C.select_v2([rows[0], {**rows[1], "passed": False}]) == (None, False)
    # a tie the protocol's rules do not break is flagged (and goes to the larger tau_fast)
    twin = {**rows[4], "name": "twin", "tau_fast": 24 * HOUR}
    k, tie = C.select_v2([rows[4], twin])
    assert tie is True and k == 1


@pytest.mark.parametrize("x, n", [(0, 894), (3, 894), (9, 894), (15, 894), (25, 894), (5, 250), (12, 250),
                                  (30, 1595), (1, 100)])
def test_kupiec_one_sided_against_the_binomial_likelihood(x, n):
    from scipy.stats import binom, norm

    p = 0.01
    # LR from scipy's binomial log-pmf (the binomial coefficient cancels), signed by the direction
    lr = 2.0 * (binom.logpmf(x, n, x / n) - binom.logpmf(x, n, p))
    r = np.sign(x / n - p) * np.sqrt(max(lr, 0.0))
    lr_c, p_c = C.kupiec_pof_one_sided(x, n, 0.99)
    assert lr_c == pytest.approx(lr, rel=1e-9, abs=1e-9)
    assert p_c == pytest.approx(norm.sf(r), rel=1e-9, abs=1e-12)
    two_sided = C.kupiec_pof(x, n, 0.99)[1]
    if x / n > p:  # too many exceedances: half the two-sided tail
        assert p_c == pytest.approx(two_sided / 2, rel=1e-9)
    else:  # too few (or as many): never evidence of under-coverage
        assert p_c >= 0.5


def test_kupiec_one_sided_rejects_only_under_coverage():
    n = 894
    ps = [C.kupiec_pof_one_sided(x, n, 0.99)[1] for x in range(0, 30)]
    assert all(a >= b for a, b in zip(ps, ps[1:]))  # more exceedances, smaller p
    assert C.kupiec_pof_one_sided(0, n, 0.99)[1] > 0.5  # the two-sided test rejects 0 / 894 ...
    assert C.kupiec_pof(0, n, 0.99)[1] < 0.05  # ... the one-sided one does not
    assert C.kupiec_pof_one_sided(20, n, 0.99)[1] < 0.05  # 20 / 894 = 2.2 %: under-covering


def test_traffic_light_is_basel_1996_at_250_days():
    from scipy.stats import binom

    zones = [C.traffic_light(x, 250)["zone"] for x in range(0, 16)]
    # Basel Committee (1996), backtesting framework, Table 2: green 0-4, yellow 5-9, red 10+
    assert zones == ["green"] * 5 + ["yellow"] * 5 + ["red"] * 6
    # its Table 1 cumulative probabilities (%, two decimals) at 250 observations, 99 % coverage
    for x, pct in ((4, 89.22), (5, 95.88), (9, 99.97), (10, 99.99)):
        assert 100 * C.traffic_light(x, 250)["cumulative_probability"] == pytest.approx(pct, abs=0.006)
        assert C.traffic_light(x, 250)["cumulative_probability"] == pytest.approx(binom.cdf(x, 250, 0.01))
    assert C.traffic_light(5, 250)["per_250_days"] == 5.0


@pytest.mark.parametrize("n", [95, 144, 500, 894, 1595])
def test_traffic_light_scales_with_the_number_of_days(n):
    from scipy.stats import binom

    cdf = [binom.cdf(x, n, 0.01) for x in range(n + 1)]
    green_max = max(x for x in range(n + 1) if cdf[x] < 0.95)
    yellow_max = max(x for x in range(n + 1) if cdf[x] < 0.9999)
    for x in range(0, yellow_max + 3):
        want = "green" if x <= green_max else ("yellow" if x <= yellow_max else "red")
        assert C.traffic_light(x, n)["zone"] == want, (x, n)
    assert C.traffic_light(3, n)["per_250_days"] == pytest.approx(750 / n)


def test_traffic_light_blocks_and_bad_input():
    from scipy.stats import binom

    hits = np.zeros(600, dtype=bool)
    hits[[3, 10, 20, 30, 40, 50]] = True  # 6 in the first 250 days -> yellow
    hits[[300, 400]] = True  # 2 in the second -> green
    hits[[510, 520, 530]] = True  # 3 in the last 100 days
    starts = T0 + DAY * np.arange(600)
    blocks = C.traffic_light_blocks(hits, starts)
    assert [(b["exceedances"], b["observations"]) for b in blocks] == [(6, 250), (2, 250), (3, 100)]
    assert [b["zone"] for b in blocks[:2]] == ["yellow", "green"]
    assert blocks[2]["zone"] == ("green" if binom.cdf(3, 100, 0.01) < 0.95 else
                                 "yellow" if binom.cdf(3, 100, 0.01) < 0.9999 else "red")
    assert blocks[1]["first_window_utc"] == "2021-05-22 00:00" and blocks[2]["last_window_utc"] == "2022-05-06 00:00"
    for args in ((1, 0), (-1, 10), (11, 10)):
        with pytest.raises(ValueError):
            C.traffic_light(*args)


def test_calibrate_v2_quick_follows_the_protocol():
    res = C.calibrate_v2("WBTC", quick=True)
    table = res.details["train_table"]
    assert len(table) == 4 and all(r["h_min"] == 0.0 and r["h0"] == 0.02 for r in table)
    # the rule, restated: cheapest passing candidate on training
    passing = [r for r in table if r["passed"]]
    assert res.selected == bool(passing)
    if passing:
        cheapest = min(r["mean_haircut"] for r in passing)
        assert res.train["mean_haircut"] == cheapest
        assert (res.z_maint, res.tau_fast, res.tau_slow) == (res.train["z_maint"], res.train["tau_fast"],
                                                            res.train["tau_slow"])
    assert res.z_init == res.z_maint + 1.0 and res.h0 == 0.02
    # recompute the windows of the chosen model (h_min = 0) independently of calibrate_v2
    spec = next(t for t in P.TOKENS if t.symbol == "WBTC")
    vec = P.oracle_params(z_maint=res.z_maint, tau_fast=res.tau_fast, tau_slow=res.tau_slow, h0=0.02, h_min=0.0)
    bars = C.load_long_history("WBTC")
    t = bars.timestamp + HOUR
    t_begin, split, t_end = C.QUICK_WINDOW
    keep = (t >= t_begin - C.BURN_IN_S) & (t <= t_end)
    win = C.haircut_windows(bars.close[keep], t[keep], vec, DAY, var_seed=spec.var_seed / 1e18,
                            start=int(t[keep][0]) + C.BURN_IN_S, end=t_end)
    train, test = win.start + DAY <= split, win.start >= split
    model = win.h_maint[0]
    # floor: the ceil(0.99 n)-th smallest training loss, rounded up to a whole percent
    assert res.h_min == pytest.approx(_order_statistic_floor(win.loss_long[train], 0.99))
    assert res.train["observations"] == int(train.sum())
    assert res.train["exceedances"] == int((win.loss_long[train] > model[train]).sum())
    hits = win.loss_long[test] > model[test]
    assert res.primary["exceedances"] == int(hits.sum()) and res.primary["observations"] == 365
    assert res.primary["kupiec_p"] == pytest.approx(C.kupiec_pof(int(hits.sum()), 365, 0.99)[1])
    assert res.primary["christoffersen_p"] == pytest.approx(C.christoffersen_ind(hits)[1])
    assert res.primary_passed == (res.primary["kupiec_p"] >= 0.05 and res.primary["christoffersen_p"] >= 0.05)
    # deployed = max(floor, model); the oracle with the floor in its vector is never lower
    dep = res.deployed["primary"]
    assert dep["exceedances"] == int((win.loss_long[test] > np.maximum(res.h_min, model[test])).sum())
    assert dep["exceedances"] <= res.primary["exceedances"]
    assert res.deployed_in_oracle["primary"]["exceedances"] <= dep["exceedances"]
    assert res.deployed_in_oracle["primary"]["mean_haircut"] >= dep["mean_haircut"] - 1e-12
    assert dep["traffic_light"] == C.traffic_light(dep["exceedances"], 365)
    # quick mode never opens the confirmatory set
    assert res.confirmatory is None and "confirmatory" not in res.deployed
    # training only: the same choice, floor and training statistics
    tr = C.calibrate_v2("WBTC", quick=True, held_out=False)
    assert (tr.z_maint, tr.tau_fast, tr.tau_slow, tr.h_min) == (res.z_maint, res.tau_fast, res.tau_slow, res.h_min)
    assert tr.train == res.train and tr.primary is None and tr.deployed == {}
    # the vector for the oracle carries the floor and the opening buffer
    v = res.oracle_vector()
    assert v[ref.P_H_MIN] == int(res.h_min * 1e18) and v[ref.P_Z_INIT] == int(res.z_init * 1e18)
    assert v[ref.P_TAU_FAST] == res.tau_fast and v[ref.P_H0] == int(0.02 * 1e18)


def test_calibrate_v2_rejects_an_unknown_asset():
    with pytest.raises(ValueError, match="symbol"):
        C.calibrate_v2("DOGE", quick=True)


def test_format_xn():
    assert C.format_xn({"exceedances": 5, "observations": 894}) == "5/894"
    assert C.format_xn(None) == "n/a" and C.format_xn({}, "-") == "-"


def test_confirmatory_backtest_on_a_synthetic_daily_file(tmp_path):
    # daily closes at 100 USD, then -15 % on one day and -2 % on a later one (bar open times, UTC)
    day0 = 1_500_000_000 // DAY * DAY
    n = 200
    closes = np.full(n, 100.0)
    closes[120:] *= 0.85
    closes[170:] *= 0.98
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{day0 + i * DAY},{c},{c},{c},{c},1" for i, c in enumerate(closes)]
    (tmp_path / C.CONFIRM_FILE).write_text("\n".join(lines) + "\n")
    listing, start, end = day0 + DAY, day0 + 91 * DAY, day0 + n * DAY
    z = 2.0
    out = C.confirmatory_backtest(z, 12 * HOUR, 30 * DAY, 0.20, data_dir=tmp_path, listing=listing, start=start,
                                  end=end)
    m = out["model"]
    # windows from day 91 to the last full day: [day0 + k DAY, day0 + (k+1) DAY) for k = 91 .. n - 1
    assert m["observations"] == n - 91
    # before the drop both variances sit at var_min (10 %/yr): h = 0.02 + 2 sqrt(var_min * 1 day) < 15 %
    var_min = P.annual_vol_to_var(0.10) / 1e18
    assert 0.02 + z * math.sqrt(var_min * DAY) < 0.15
    assert m["exceedances"] == 1  # the 15 % day; the 2 % day is covered by the raised haircut
    # bar i's close is observed at day0 + (i + 1) DAY: all n fall in [listing, end]
    assert out["details"]["closes_fed"] == n and out["details"]["listing_utc"] == C._utc(listing)
    assert out["details"]["test_period"] == [C._utc(start), C._utc(end)]
    # a 20 % floor covers both drops, whether applied as max(h_min, model) or inside the oracle
    assert out["deployed"]["exceedances"] == 0 and out["deployed_in_oracle"]["exceedances"] == 0
    assert out["deployed"]["mean_haircut"] >= 0.20


@pytest.mark.parametrize("symbol", ["WETH", "WBTC"])
def test_calibrated_v2_literals_rederive(symbol):
    # params.CALIBRATED_V2 holds the figures of the protocol v2 run; re-run the protocol's
    # training steps (grid, selection, floor, z_init) on the shipped data and compare
    res = C.calibrate_v2(symbol, held_out=False)
    lit = P.CALIBRATED_V2[symbol]
    assert res.selected and not res.unresolved_tie
    got = {"z_maint": res.z_maint, "z_init": res.z_init, "tau_fast": res.tau_fast, "tau_slow": res.tau_slow,
           "h0": res.h0, "h_min": res.h_min}
    assert got == pytest.approx(lit, abs=1e-12)
    assert P.calibrated_oracle(symbol) == res.oracle_vector()
    assert res.details["train_period"] == ["2018-08-14 00:00", "2023-01-01 00:00"]
    with pytest.raises(KeyError, match="USD"):
        P.calibrated_oracle("USD")
