"""volmargin.model (float64, vectorized) against volmargin.reference (exact
integers), within the bounds stated in the model's docstring.

Pure Python: imports nothing from ape; runs with ``-p no:ape``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import assume, given, reject
from hypothesis import strategies as st

from volmargin import model as M
from volmargin import params as P
from volmargin import reference as ref

WAD = ref.WAD
F = float(WAD)
HOUR, DAY, YEAR = 3_600, 86_400, ref.SECONDS_PER_YEAR
T0 = 1_700_000_000
SYMS = [s.symbol for s in P.TOKENS]

# The bounds of the model's docstring.
REL = 1e-12  # one evaluation, relative
WEI = 1e-18
H_PATH = 1e-7  # haircuts along a path, absolute
HEALTH_PATH = 1e-7  # health along a path, relative to the gross value


def close(got: float, want: float, rel: float = REL, abs_: float = 2 * WEI) -> bool:
    return abs(float(got) - want) <= rel * abs(want) + abs_


# ------------------------------------------------------------- risk math


@given(p0=st.integers(10**14, 10**24), move=st.floats(0.2, 5.0))
def test_abs_return_agrees(p0, move):
    p = max(1, int(p0 * move))
    want = ref.abs_return(p0, p) / F
    # floats carry p0 and p to 1e-16 relative: |p - p0| / p0 loses that much absolutely
    assert close(M.abs_return(p0 / F, p / F), want, abs_=1e-15)


@given(var=st.integers(10**5, 10**14), r=st.integers(0, 2 * WAD), dt=st.integers(1, 30 * DAY), tau=st.integers(60, 10**8))
def test_ewma_var_agrees(var, r, dt, tau):
    want = ref.ewma_var(var, r, dt, tau) / F
    # the reference floors lam = tau / (tau + dt) to a wei: (1 - lam) gains up to 1e-18, times r^2 / dt
    assert close(M.ewma_var(var / F, r / F, dt, tau), want, abs_=WEI * (2 + (r / F) ** 2 / dt))


@given(var=st.integers(0, 10**14), horizon=st.integers(1, YEAR))
def test_sigma_agrees(var, horizon):
    want = ref.sigma(var, horizon) / F
    assert close(M.sigma(var / F, horizon), want)


@given(h0=st.integers(0, WAD // 10), z=st.integers(0, 6 * WAD), sig=st.integers(0, WAD),
       lo=st.integers(0, WAD // 2), span=st.integers(0, WAD // 2))
def test_haircut_agrees(h0, z, sig, lo, span):
    want = ref.haircut(h0, z, sig, lo, lo + span) / F
    assert abs(float(M.haircut(h0 / F, z / F, sig / F, lo / F, (lo + span) / F)) - want) <= 1e-15


@given(cur=st.integers(0, WAD), tgt=st.integers(0, WAD), el=st.integers(0, 10**7), up=st.integers(0, 10**14),
       down=st.integers(0, 10**14))
def test_ramp_agrees(cur, tgt, el, up, down):
    want = ref.ramp(cur, tgt, el, up, down) / F
    assert abs(float(M.ramp(cur / F, tgt / F, el, up / F, down / F)) - want) <= 1e-15


@given(kappa=st.integers(0, WAD), depth_usd=st.floats(1e5, 1e10), frac=st.floats(1e-10, 10.0))
def test_size_haircut_agrees(kappa, depth_usd, frac):
    depth = int(depth_usd * F)
    val = int(depth * frac)
    want = ref.size_haircut(kappa, depth, val) / F
    # the reference floors value/depth to 1e-18 before its isqrt: <= 5e-14 at value/depth >= 1e-10
    assert abs(float(M.size_haircut(kappa / F, depth / F, val / F)) - want) <= 1e-13 + REL * want


@given(kappa=st.integers(0, WAD), val=st.integers(0, 10**30))
def test_size_haircut_off_without_depth(kappa, val):
    assert ref.size_haircut(kappa, 0, val) == 0 == float(M.size_haircut(kappa / F, 0.0, val / F))
    assert ref.size_haircut(0, 10**25, val) == 0 == float(M.size_haircut(0.0, 1e7, val / F))


@given(a=st.integers(0, 10**30), li=st.integers(0, 10**30), bmin=st.integers(0, WAD // 10),
       slope=st.integers(0, 2 * WAD), bmax=st.integers(0, WAD // 4))
def test_bonus_and_health_factor_agree(a, li, bmin, slope, bmax):
    want = ref.bonus(a, li, bmin, slope, bmax) / F
    assert close(M.bonus(a / F, li / F, bmin / F, slope / F, bmax / F), want, abs_=1e-15)
    hf = ref.health_factor(a, li)
    got = float(M.health_factor(a / F, li / F))
    assert (got == math.inf) if hf == ref.UINT256_MAX else close(got, hf / F, abs_=1e-15)


@given(debt=st.integers(1, 10**27), dec=st.sampled_from([6, 8, 18]), price=st.integers(10**14, 10**23),
       hf=st.integers(0, 2 * WAD), cf=st.integers(1, WAD), min_debt=st.integers(0, 10**21))
def test_max_repay_agrees(debt, dec, price, hf, cf, min_debt):
    hf_full = 95 * WAD // 100
    assume(abs(hf - hf_full) > 10**4)  # float compare within 1e-14 of the threshold
    cap = debt * cf // WAD
    rest = ref.liability_value(debt - cap, price, dec)
    assume(abs(rest - min_debt) > 1e-9 * max(rest, min_debt) + 10)  # dust rule knife edge
    want = ref.max_repay(debt, price, dec, hf, cf, hf_full, min_debt)
    got = float(M.max_repay(debt / 10**dec, price / F, hf / F, cf / F, hf_full / F, min_debt / F)) * 10**dec
    assert abs(got - want) <= REL * want + 1  # the reference floors the cap to one token unit


@given(repay=st.integers(0, 10**27), dd=st.sampled_from([6, 8, 18]), cd=st.sampled_from([6, 8, 18]),
       pd=st.integers(10**14, 10**23), pc=st.integers(10**14, 10**23), bon=st.integers(0, WAD // 4))
def test_seize_amount_agrees(repay, dd, cd, pd, pc, bon):
    want = ref.seize_amount(repay, pd, dd, pc, cd, bon)
    got = float(M.seize_amount(repay / 10**dd, pd / F, pc / F, bon / F)) * 10**cd
    # the reference floors twice in WAD USD (a wei of USD each) and once in token units
    assert abs(got - want) <= REL * want + 1 + 3 * 10**cd / pc
    back = ref.repay_for_seize(want, pd, dd, pc, cd, bon)
    got_back = float(M.repay_for_seize(want / 10**cd, pd / F, pc / F, bon / F)) * 10**dd
    assert abs(got_back - back) <= REL * back + 1 + 3 * 10**dd / pd


@given(col_sym=st.sampled_from(["WETH", "WBTC"]), col_usd=st.floats(1e3, 1e6), lev=st.floats(0.5, 0.99),
       drop=st.floats(0.3, 0.9), cf=st.floats(0.1, 1.0), hf_full=st.floats(0.5, 1.0),
       min_debt=st.floats(0.0, 5e3), bmin=st.floats(0.0, 0.1), slope=st.floats(0.0, 2.0), bmax=st.floats(0.0, 0.25))
def test_liquidation_agrees_with_vault_reference(col_sym, col_usd, lev, drop, cf, hf_full, min_debt, bmin, slope,
                                                 bmax):
    """M.liquidation against VaultRef.liquidate asking for the maximum: a USD debt against
    WETH or WBTC collateral, liquidatable after one price drop."""
    params = list(P.vault_params(close_factor=cf, hf_full=hf_full, min_debt_value_usd=min_debt, bonus_min=bmin,
                                 bonus_slope=slope, bonus_max=max(bmin, bmax), liq_cap_usd=1e15,
                                 liq_cap_tripped_usd=1e15))
    o = ref.OracleRef()
    v = ref.VaultRef(oracle=o, params=params)
    spec = {s.symbol: s for s in P.TOKENS}
    start = {s.symbol: round(s.start_price_usd * 1e8) for s in P.TOKENS}
    for s in P.TOKENS:
        rnd = ref.FeedRound(1, start[s.symbol], T0, 1)
        o.list_asset(s.symbol, P.FEED_DECIMALS, rnd, s.var_seed, list(s.oracle), T0)
        o.poke(s.symbol, rnd, T0)
        v.list_asset(s.symbol, s.decimals, list(s.rates), T0)
        v.deposit("lender", s.symbol, P.SEED_LIQUIDITY[s.symbol] * 10**s.decimals, T0)
    dc, dd = spec[col_sym].decimals, spec["USD"].decimals
    v.deposit("a", col_sym, int(col_usd / spec[col_sym].start_price_usd * 10**dc), T0)
    h0 = v.health("a", T0)
    try:  # lev of what the initial sums allow
        v.borrow("a", "USD", int(lev * h0.init_assets / F / 1.1 * 10**dd), T0)
    except ref.Reject:  # the reference refuses this opening borrow: the example has no position to liquidate
        reject()
    now = T0 + HOUR
    for s in P.TOKENS:
        ans = round(start[s.symbol] * (drop if s.symbol == col_sym else 1.0))
        o.poke(s.symbol, ref.FeedRound(2, ans, now, 2), now)
    h = v.health("a", now)
    assume(h.maint_assets < h.maint_liabilities)
    rd, rc = o.risk("USD", now), o.risk(col_sym, now)
    debt, col = -v.balance("a", "USD", now), v.balance("a", col_sym, now)
    p = v.params
    hf = ref.health_factor(h.maint_assets, h.maint_liabilities)
    assume(abs(hf - p[ref.V_HF_FULL]) > 1e-9 * F)  # float compare at the full-liquidation threshold
    cap = debt * p[ref.V_CLOSE_FACTOR] // WAD
    rest = ref.liability_value(debt - cap, rd.price, dd)
    assume(abs(rest - p[ref.V_MIN_DEBT_VALUE]) > 1e-9 * max(rest, p[ref.V_MIN_DEBT_VALUE]) + 10)  # dust rule edge
    bon = ref.bonus(h.maint_assets, h.maint_liabilities, *p[ref.V_BONUS_MIN: ref.V_BONUS_MAX + 1])
    uncapped = ref.seize_amount(ref.max_repay(debt, rd.price, dd, hf, *p[ref.V_CLOSE_FACTOR: ref.V_MIN_DEBT_VALUE + 1]),
                                rd.price, dd, rc.price, dc, bon)
    assume(abs(uncapped - col) > 1e-9 * col + 10)  # seizure capped by the collateral: knife edge
    repay, seized, cut, _ = v.liquidate("keeper", "a", "USD", col_sym, debt, 0, now)
    got_repay, got_seize, got_bon = (float(x) for x in M.liquidation(
        debt / 10**dd, col / 10**dc, rd.price / F, rc.price / F, h.maint_assets / F, h.maint_liabilities / F,
        *(x / F for x in p[ref.V_CLOSE_FACTOR: ref.V_BONUS_MAX + 1])))
    assert close(got_bon, bon / F, abs_=1e-15)
    # the reference floors the repayment (or rounds up what the collateral buys) and the seizure;
    # the seizure also carries the repayment's rounding, converted to collateral units
    tol_repay = 1 + 3 * 10**dd / rd.price
    carried = tol_repay / 10**dd * rd.price * (1.0 + bon / F) / rc.price * 10**dc
    assert abs(got_repay * 10**dd - repay) <= REL * repay + tol_repay
    assert abs(got_seize * 10**dc - (seized + cut)) <= REL * (seized + cut) + 1 + 3 * 10**dc / rc.price + carried
    assert (uncapped > col) == (seized + cut == col)


@given(d=st.integers(0, 10**30), b=st.integers(0, 10**30), base=st.integers(0, WAD // 10),
       s1=st.integers(0, WAD // 5), s2=st.integers(0, 3 * WAD), kink=st.integers(WAD // 10, WAD - WAD // 20),
       index=st.integers(WAD, 3 * WAD), dt=st.integers(0, YEAR))
def test_rates_agree(d, b, base, s1, s2, kink, index, dt):
    u = ref.utilization(d, b)
    assert close(M.utilization(d / F, b / F), u / F)
    rate = ref.borrow_rate(u, base, s1, s2, kink)
    assert close(M.borrow_rate(u / F, base / F, s1 / F, s2 / F, kink / F), rate / F, abs_=5 * WEI)
    want = ref.grow_index(index, rate, dt)
    # the reference floors the rate per second to one wei: index * dt * 1e-18 at most
    assert abs(float(M.grow_index(index / F, rate / F, dt)) - want / F) <= REL * want / F + (dt + 2) * WEI * 3


# ----------------------------------------------------- weighted health sums


def _assert_sums(got: tuple, hs: list[ref.Health], gross: np.ndarray, rel: float, abs_usd: float) -> None:
    for i, h in enumerate(hs):
        for g, w in zip(got, (h.maint_assets, h.maint_liabilities, h.init_assets, h.init_liabilities)):
            assert abs(float(g[i]) - w / F) <= rel * gross[i] + abs_usd, (i, float(g[i]), w / F)


def _random_views(rng: np.random.Generator, n_assets: int, h_init_max: int) -> list[ref.RiskView]:
    """``n_assets`` random oracle views (WAD prices over 14 decades, haircuts, size terms on
    about half the assets, a depth of 0 on about a quarter, every breaker state)."""
    return [
        ref.RiskView(
            price=int(rng.integers(1, 10**6)) * 10 ** int(rng.integers(8, 14)),
            h_maint=int(rng.integers(0, WAD)),
            h_init=int(rng.integers(0, h_init_max)),
            kappa=int(rng.integers(0, WAD // 5)) * int(rng.integers(0, 2)),
            depth=int(rng.uniform(1e5, 1e9) * F) * int(rng.integers(0, 4) > 0),
            breaker=int(rng.integers(0, 3)),
        )
        for _ in range(n_assets)
    ]


@given(
    seed=st.integers(0, 2**32 - 1),
    n_assets=st.integers(1, 6),
    caution_scale=st.integers(0, WAD),
)
def test_weighted_health_agrees_with_reference_sums(seed, n_assets, caution_scale):
    rng = np.random.default_rng(seed)
    decs = [int(d) for d in rng.choice([6, 8, 18], n_assets)]
    views = _random_views(rng, n_assets, WAD)
    accounts = 30
    bal = [
        [int(rng.uniform(-1e6, 1e6) * 10**d) * int(rng.integers(0, 3) > 0) for d in decs] for _ in range(accounts)
    ]
    want = [ref.health_sums(row, views, decs, caution_scale) for row in bal]
    b = np.array([[x / 10**d for x, d in zip(row, decs)] for row in bal])
    col = lambda k: np.array([getattr(r, k) / F for r in views])  # noqa: E731
    got = M.weighted_health(b, col("price"), col("h_maint"), col("h_init"), col("kappa"), col("depth"),
                            np.array([r.breaker for r in views]), caution_scale / F)
    gross = np.abs(b) @ col("price")
    _assert_sums(got, want, gross, REL, 1e-12)


@given(
    seed=st.integers(0, 2**32 - 1),
    n_assets=st.integers(1, 6),
    caution_scale=st.integers(0, WAD),
)
def test_weighted_health_concentration_term_agrees_with_reference(seed, n_assets, caution_scale):
    """kappa_agg and the vault's total deposits (docs/design.md §4.3): the model's optional
    concentration arguments against ``reference.health_sums`` with
    ``reference.concentration_haircut`` per asset; deposits carry the term, debts do not."""
    rng = np.random.default_rng(seed)
    decs = [int(d) for d in rng.choice([6, 8, 18], n_assets)]
    views = _random_views(rng, n_assets, WAD // 2)
    kappa_agg = [int(rng.integers(0, WAD // 4)) * int(rng.integers(0, 3) > 0) for _ in range(n_assets)]
    totals = [int(rng.uniform(0, 1e7) * 10**d) for d in decs]  # token decimals
    conc = [ref.concentration_haircut(k, t, r, d) for k, t, r, d in zip(kappa_agg, totals, views, decs)]
    bal = [[int(rng.uniform(-1e6, 1e6) * 10**d) * int(rng.integers(0, 3) > 0) for d in decs] for _ in range(30)]
    want = [ref.health_sums(row, views, decs, caution_scale, conc) for row in bal]
    b = np.array([[x / 10**d for x, d in zip(row, decs)] for row in bal])
    col = lambda k: np.array([getattr(r, k) / F for r in views])  # noqa: E731
    total_usd = np.array([t / 10**d for t, d in zip(totals, decs)]) * col("price")
    args = (b, col("price"), col("h_maint"), col("h_init"), col("kappa"), col("depth"),
            np.array([r.breaker for r in views]), caution_scale / F)
    got = M.weighted_health(*args, kappa_agg=np.array(kappa_agg) / F, total_deposits=total_usd)
    gross = np.abs(b) @ col("price")
    _assert_sums(got, want, gross, REL, 1e-12)
    # no kappa_agg: the sums without the term; debts never carry it
    off = M.weighted_health(*args)
    assert np.array_equal(got[3], off[3]) and np.array_equal(got[0], off[0]) and np.array_equal(got[1], off[1])
    assert np.all(got[2] <= off[2])
    # total_deposits omitted: the book's own deposits
    book = (np.maximum(b, 0.0) * col("price")).sum(axis=0)
    default = M.weighted_health(*args, kappa_agg=np.array(kappa_agg) / F)
    explicit = M.weighted_health(*args, kappa_agg=np.array(kappa_agg) / F, total_deposits=book)
    assert all(np.array_equal(x, y) for x, y in zip(default, explicit))


@given(
    seed=st.integers(0, 2**32 - 1),
    n_assets=st.integers(2, 5),
    floor=st.integers(1, 100),
)
def test_weighted_health_portfolio_margin_agrees_with_reference(seed, n_assets, floor):
    """Portfolio margin (docs/design.md §5.6): the model's ``portfolio=(rho_lo, rho_hi, floor)``
    against ``reference.health_sums`` with the reference oracle's ``portfolio_scales`` on random
    books, random pair bounds (some pairs left at (-1, +1)) and a random floor; with the floor at
    1 the model's sums are those without portfolio margin."""
    rng = np.random.default_rng(seed)
    decs = [int(d) for d in rng.choice([6, 8, 18], n_assets)]
    views = _random_views(rng, n_assets, WAD // 2)
    names = [f"0x{i + 1:040x}" for i in range(n_assets)]
    lo, hi = -np.ones((n_assets, n_assets)), np.ones((n_assets, n_assets))
    np.fill_diagonal(lo, 1.0)
    pairs = {}
    for i in range(n_assets):
        for j in range(i + 1, n_assets):
            if rng.integers(0, 3) > 0:
                a, b = sorted(int(x) for x in rng.integers(-100, 101, 2))
                pairs[ref.portfolio.pair_key(names[i], names[j])] = ref.portfolio.pack_pair(a * WAD // 100, b * WAD // 100)
                lo[i, j] = lo[j, i] = a / 100
                hi[i, j] = hi[j, i] = b / 100
    views = [ref.RiskView(*[getattr(r, f) for f in ("price", "h_maint", "h_init", "kappa", "depth", "breaker")],
                          ref.portfolio.correlated(x, pairs)) for r, x in zip(views, names)]
    bal = [[int(rng.uniform(-1e6, 1e6) * 10**d) * int(rng.integers(0, 3) > 0) for d in decs] for _ in range(30)]
    want = []
    for row in bal:
        legs = [x if b != 0 else None for x, b in zip(names, row)]
        rv = [r if b != 0 else None for r, b in zip(views, row)]
        scales = ref.portfolio.portfolio_scales(legs, row, decs, [0] * n_assets, rv, pairs, floor * WAD // 100)
        want.append(ref.health_sums(row, views, decs, WAD, None, scales))
    b = np.array([[x / 10**d for x, d in zip(row, decs)] for row in bal])
    col = lambda k: np.array([getattr(r, k) / F for r in views])  # noqa: E731
    args = (b, col("price"), col("h_maint"), col("h_init"), col("kappa"), col("depth"), None, 1.0)
    got = M.weighted_health(*args, portfolio=(lo, hi, floor / 100))
    gross = np.abs(b) @ col("price")
    _assert_sums(got, want, gross, REL, 1e-12)
    off, one = M.weighted_health(*args), M.weighted_health(*args, portfolio=(lo, hi, 1.0))
    assert all(np.array_equal(x, y) for x, y in zip(off, one))


def test_concentration_haircut_values():
    """kappa_agg * sqrt(total / depth), 0 where kappa_agg or depth is 0; the reference's to
    float precision: 5 % at 2 M of 50 M USD is 1 point, at 50 M 5 points."""
    got = M.concentration_haircut(np.array([0.05, 0.05, 0.0, 0.05]), np.array([50e6, 50e6, 50e6, 0.0]),
                                  np.array([2e6, 50e6, 50e6, 50e6]))
    assert np.allclose(got, [0.01, 0.05, 0.0, 0.0], rtol=0, atol=1e-15)
    r = ref.RiskView(price=2_000 * WAD, h_maint=0, h_init=0, kappa=0, depth=50_000_000 * WAD, breaker=0)
    assert ref.concentration_haircut(WAD // 20, 1_000 * 10**18, r, 18) == WAD // 100  # 2 M USD of WETH
    assert ref.concentration_haircut(0, 10**30, r, 18) == 0


# ------------------------------------------------------------ oracle paths


def _oracle_vectors(draw_params: dict) -> list[tuple[int, ...]]:
    """The default per-token oracle vectors with drawn breaker and EWMA settings."""
    out = []
    for s in P.TOKENS:
        p = list(s.oracle)
        for k, v in draw_params.items():
            p[k] = v if k != ref.P_R_FLOOR or s.symbol != "USD" else v // 2
        out.append(tuple(p))
    return out


oracle_settings = st.fixed_dictionaries({
    ref.P_TAU_FAST: st.integers(HOUR, 2 * DAY),
    ref.P_TAU_SLOW: st.integers(5 * DAY, 60 * DAY),
    ref.P_K_JUMP: st.integers(3 * WAD, 10 * WAD),
    ref.P_R_FLOOR: st.integers(WAD // 50, WAD // 10),
    ref.P_COOLDOWN: st.integers(10 * 60, 6 * HOUR),
    ref.P_SIGMA_CAUTION: st.integers(WAD // 20, 2 * WAD),
})


def _path_events(rng: np.random.Generator, steps: int, heartbeats: list[int]):
    """A random feed history for the three tokens: per step the poke time and, per
    asset, (answer with 8 decimals, updatedAt). Updates, repeated rounds, jumps,
    stale and non-positive answers."""
    start = np.array([s.start_price_usd for s in P.TOKENS])
    vol = np.array([0.002, 0.015, 0.012])
    price = start.copy()
    upd = [T0] * 3
    now = T0
    events = []
    for _ in range(steps):
        now += int(rng.choice([60, 600, HOUR, HOUR, HOUR, 2 * HOUR]))
        row = []
        for k in range(3):
            u = rng.random()
            if u < 0.05:  # jump
                price[k] *= float(rng.choice([0.6, 0.8, 1.25, 1.5]))
            elif k == 0:  # the stablecoin mean-reverts
                price[k] = 1.0 + 0.5 * (price[k] - 1.0) + rng.normal(0, vol[k])
            else:
                price[k] *= math.exp(rng.normal(0, vol[k]))
            ans = max(1, round(price[k] * 1e8))
            e = rng.random()
            if e < 0.08:  # the feed did not update: same round as before
                row.append((None, upd[k]))
                continue
            if e < 0.10:  # stale answer
                row.append((ans, now - heartbeats[k] - 3_600))
                continue
            if e < 0.12:  # non-positive answer
                row.append((-ans if rng.random() < 0.5 else 0, now))
                continue
            upd[k] = now
            row.append((ans, now))
        events.append((now, row))
    return start, events


def _knife(o: ref.OracleRef, sym: str, ans: int, upd: int, now: int) -> bool:
    """True when the reference's jump decision for this answer is within 1e-6
    of its threshold (the model's variance may differ by that much)."""
    s, p = o.assets[sym], o.params[sym]
    if ans is None or ans <= 0 or upd <= s.updated_at or now - upd > p[ref.P_HEARTBEAT] + p[ref.P_GRACE]:
        return False
    r = ref.abs_return(s.price, ans * 10**10)
    thr = p[ref.P_K_JUMP] * ref.sigma(max(s.var_fast, s.var_slow), upd - s.updated_at) // WAD + p[ref.P_R_FLOOR]
    return abs(r - thr) <= 1e-6 * thr


def _caution_knife(o: ref.OracleRef, sym: str) -> bool:
    s, p = o.assets[sym], o.params[sym]
    sy, sc = ref.sigma(max(s.var_fast, s.var_slow), YEAR), p[ref.P_SIGMA_CAUTION]
    return abs(sy - sc) <= 1e-6 * sc


def _listed(rng: np.random.Generator, vectors: list[tuple[int, ...]], vols, steps: int):
    """The three tokens listed at T0 with ``vectors`` and seed volatilities ``vols`` in the reference
    and the model, and a random feed history of ``steps`` steps: (reference, model, first answers
    with 8 decimals, events of ``_path_events``)."""
    seeds = [P.annual_vol_to_var(v) for v in vols]
    start, events = _path_events(rng, steps, [v[ref.P_HEARTBEAT] + v[ref.P_GRACE] for v in vectors])
    o = ref.OracleRef()
    answers = [round(x * 1e8) for x in start]
    for sym, ans, vs, vec in zip(SYMS, answers, seeds, vectors):
        o.list_asset(sym, 8, ref.FeedRound(1, ans, T0, 1), vs, list(vec), T0)
    model = M.OracleModel(M.OracleParams.from_wad(vectors), np.array(answers) / 1e8, np.array(seeds) / F, T0)
    return o, model, answers, events


@given(seed=st.integers(0, 2**32 - 1), settings_=oracle_settings, vols=st.tuples(*[st.floats(0.02, 1.5)] * 3))
def test_oracle_model_follows_reference(seed, settings_, vols):
    rng = np.random.default_rng(seed)
    vectors = _oracle_vectors(settings_)
    o, model, answers, events = _listed(rng, vectors, vols, 200)
    rounds = [1, 1, 1]
    last = list(answers)
    n_new = [0, 0, 0]
    trusted = [True, True, True]  # breaker compared exactly until a knife edge (none expected)
    h_err = 0.0
    for now, row in events:
        prices, times = [], []
        for k, (sym, (ans, upd)) in enumerate(zip(SYMS, row)):
            if ans is None:
                ans = last[k]
            else:
                rounds[k] += 1
            if _knife(o, sym, ans, upd, now):
                trusted[k] = False
            if ans > 0 and upd > o.assets[sym].updated_at and now - upd <= vectors[k][ref.P_HEARTBEAT] + vectors[k][ref.P_GRACE]:
                n_new[k] += 1
            o.poke(sym, ref.FeedRound(rounds[k], ans, upd, rounds[k]), now)
            last[k] = ans
            prices.append(ans / 1e8)
            times.append(upd)
        tripped = model.step(np.array(prices), np.array(times, dtype=float), now)
        for k, sym in enumerate(SYMS):
            s = o.assets[sym]
            assert model.price[k] == pytest.approx(s.price / F, rel=1e-15)
            assert model.updated_at[k] == s.updated_at and model.h_time[k] == s.h_time
            assert bool(model.invalid[k]) == s.invalid
            floor = (n_new[k] + 2) * WEI  # the reference floors the variance to a wei per update
            assert close(model.var_fast[k], s.var_fast / F, abs_=floor)
            assert close(model.var_slow[k], s.var_slow / F, abs_=floor)
            h_err = max(h_err, abs(model.h_maint[k] - s.h_maint / F), abs(model.h_target[k] - s.h_target / F))
            assert abs(model.h_maint[k] - s.h_maint / F) <= H_PATH
            assert abs(model.h_target[k] - s.h_target / F) <= H_PATH
            trusted[k] = trusted[k] and not _caution_knife(o, sym)
            if trusted[k]:
                assert int(model.breaker[k]) == s.breaker, (now, sym)
                assert model.tripped_at[k] == s.tripped_at
                assert bool(tripped[k]) == (s.breaker == ref.REDUCE_ONLY and s.tripped_at == now)
        if all(trusted):
            assert model.n_tripped == o.n_tripped
    assert h_err <= H_PATH


@given(seed=st.integers(0, 2**32 - 1), modes=st.tuples(*[st.integers(0, 3)] * 3), vols=st.tuples(*[st.floats(0.05, 1.5)] * 3))
def test_oracle_model_follows_reference_with_forecasts(seed, modes, vols):
    """A risk keeper's pushes (docs/design.md §3.7) in the model and the reference side by side:
    every few steps a push of 0.3-3.5 times the realized sigma per asset, under each asset's mode;
    the model accepts a push iff the reference does (away from a bound by 1e-9), and the haircut
    targets, the ramped haircut and the initial haircut stay within the model's path tolerance
    through pushes, pokes and expiries (f_ttl 6 h here, so that pushes expire along the path)."""
    rng = np.random.default_rng(seed)
    vectors = []
    for vec, mode in zip(_oracle_vectors({}), modes):
        v = list(vec)
        v[ref.P_F_MODE], v[ref.P_F_TTL] = mode, 6 * HOUR
        vectors.append(tuple(v))
    o, model, answers, events = _listed(rng, vectors, vols, 120)
    rounds, last, pushed = [1, 1, 1], list(answers), 0
    for step, (now, row) in enumerate(events):
        prices, times = [], []
        for k, (sym, (ans, upd)) in enumerate(zip(SYMS, row)):
            ans = last[k] if ans is None else ans
            rounds[k] += row[k][0] is not None
            o.poke(sym, ref.FeedRound(rounds[k], ans, upd, rounds[k]), now)
            last[k] = ans
            prices.append(ans / 1e8)
            times.append(upd)
        model.step(np.array(prices), np.array(times, dtype=float), now)
        if step % 3 == 2:  # the keeper pushes a second after the poke
            t = now + 1
            mult = rng.uniform(0.3, 3.5, size=3)
            sig = [ref.sigma(max(o.assets[s].var_fast, o.assets[s].var_slow), YEAR) * m for s, m in zip(SYMS, mult)]
            acc = model.push_forecast(np.array(sig) / F, t)
            for k, sym in enumerate(SYMS):
                try:
                    o.push_forecast(sym, int(sig[k]), t)
                    want = True
                    pushed += 1
                except ref.Reject:
                    want = False
                sr = ref.sigma(max(o.assets[sym].var_fast, o.assets[sym].var_slow), YEAR)
                edges = [vectors[k][ref.P_F_LO] * sr / F, vectors[k][ref.P_F_HI] * sr / F]
                if all(abs(sig[k] - e) > 1e-9 * e for e in edges):
                    assert bool(acc[k]) == want, (step, sym, mult[k])
        for k, sym in enumerate(SYMS):
            s = o.assets[sym]
            assert bool(model.f_live[k]) == s.forecast
            assert abs(model.h_target[k] - s.h_target / F) <= H_PATH
            assert abs(model.h_maint[k] - s.h_maint / F) <= H_PATH
            assert abs(model.h_init()[k] - o.h_init(sym) / F) <= H_PATH
            # one second after the poke: at or after the keeper's push, if any
            assert abs(model.h_init_now(now + 1)[k] - o.h_init_now(sym, int(now) + 1) / F) <= H_PATH
    assert pushed > 0 or not any(modes)


def test_breaker_cycle_matches_reference():
    """A jump trips, the asset stays REDUCE_ONLY for a cooldown, is CAUTION until two
    cooldowns have passed, then NORMAL; an invalid answer trips at once."""
    vec = P.oracle_params(cooldown=2 * HOUR, sigma_caution=20.0)
    o = ref.OracleRef()
    o.list_asset("X", 8, ref.FeedRound(1, 2_000 * 10**8, T0, 1), P.annual_vol_to_var(0.5), list(vec), T0)
    model = M.OracleModel(M.OracleParams.from_wad([vec]), [2_000.0], [P.annual_vol_to_var(0.5) / F], T0)
    seen = []
    price = 2_000.0
    for k in range(1, 12):
        now = T0 + k * HOUR
        price = price * 0.7 if k == 2 else price * 1.001
        ans = round(price * 1e8) if k != 9 else 0
        o.poke("X", ref.FeedRound(k + 1, ans, now, k + 1), now)
        model.step([ans / 1e8], now)
        assert int(model.breaker[0]) == o.assets["X"].breaker
        seen.append(int(model.breaker[0]))
    R, C, N = ref.REDUCE_ONLY, ref.CAUTION, ref.NORMAL
    assert seen == [N, R, R, C, C, N, N, N, R, R, C]


# ---------------------------------------------- health against the vault reference


def _vault_population(seed: int, vols: tuple, caution: tuple, hours: int):
    """A VaultRef with three listed assets (as deploy_system lists them, without a
    chain), 25 accounts that deposit and borrow, then ``hours`` hourly rounds."""
    rng = np.random.default_rng(seed)
    vectors = []
    for s, c in zip(P.TOKENS, caution):
        p = list(s.oracle)
        p[ref.P_SIGMA_CAUTION] = int(c * F)
        vectors.append(tuple(p))
    seeds = [P.annual_vol_to_var(v) for v in vols]
    o = ref.OracleRef()
    v = ref.VaultRef(oracle=o, params=list(P.VAULT))
    start = [round(s.start_price_usd * 1e8) for s in P.TOKENS]
    for s, ans, vs, vec in zip(P.TOKENS, start, seeds, vectors):
        rnd = ref.FeedRound(1, ans, T0, 1)
        o.list_asset(s.symbol, P.FEED_DECIMALS, rnd, vs, list(vec), T0)
        o.poke(s.symbol, rnd, T0)  # MarginVault.list_asset pokes
        v.list_asset(s.symbol, s.decimals, list(s.rates), T0)
    for s in P.TOKENS:
        v.deposit("lender", s.symbol, P.SEED_LIQUIDITY[s.symbol] * 10**s.decimals, T0)
    model = M.OracleModel(M.OracleParams.from_wad(vectors), np.array(start) / 1e8, np.array(seeds) / F, T0)
    model.step(np.array(start) / 1e8, T0)  # the listing pokes
    accounts = [f"a{i}" for i in range(25)]
    scale = {"USD": 1e4, "WETH": 5.0, "WBTC": 0.3}
    t = T0
    for a in accounts:
        for s in P.TOKENS:
            if rng.random() < 0.7:
                v.deposit(a, s.symbol, int(rng.uniform(0, 2) * scale[s.symbol] * 10**s.decimals) + 1, t)
        for s in P.TOKENS:
            if rng.random() < 0.5:
                try:  # some draws ask more than the collateral allows
                    v.borrow(a, s.symbol, int(rng.uniform(0, 1.5) * scale[s.symbol] * 10**s.decimals) + 1, t)
                except ref.Reject as exc:
                    assert exc.reason in ("vault: insufficient health", "vault: asset reduce-only")
    prices = np.array(start) / 1e8
    for k in range(1, hours + 1):
        now = T0 + k * HOUR
        prices = prices * np.exp(rng.normal(0, [0.0005, 0.02, 0.015]))
        ans = [round(x * 1e8) for x in prices]
        for s, a_ in zip(P.TOKENS, ans):
            o.poke(s.symbol, ref.FeedRound(k + 1, a_, now, k + 1), now)
        model.step(np.array(ans) / 1e8, now)
    return o, v, model, accounts, T0 + hours * HOUR


@given(seed=st.integers(0, 2**32 - 1), vols=st.tuples(*[st.floats(0.02, 2.0)] * 3),
       caution=st.tuples(*[st.floats(0.05, 2.0)] * 3), hours=st.integers(0, 24), later=st.integers(0, HOUR + 600))
def test_health_sums_agree_with_vault_reference(seed, vols, caution, hours, later):
    o, v, model, accounts, t_end = _vault_population(seed, vols, caution, hours)
    now = t_end + later  # the haircut in force keeps ramping between pokes
    decs = [s.decimals for s in P.TOKENS]
    bal_int = [[v.balance(a, s, now) for s in SYMS] for a in accounts]
    bal = np.array([[x / 10**d for x, d in zip(row, decs)] for row in bal_int])
    views = [o.risk(s, now) for s in SYMS]
    want = [v.health(a, now) for a in accounts]
    gross = np.abs(bal) @ np.array([r.price / F for r in views])
    # 1. the reference oracle's views: one evaluation
    col = lambda k: np.array([getattr(r, k) / F for r in views])  # noqa: E731
    got = M.weighted_health(bal, col("price"), col("h_maint"), col("h_init"), col("kappa"), col("depth"),
                            np.array([r.breaker for r in views]), P.VAULT[ref.V_CAUTION_SCALE] / F)
    _assert_sums(got, want, gross, REL, 1e-12)
    # 2. the model oracle's views: the path tolerance
    assert [int(x) for x in model.breaker] == [r.breaker for r in views]
    p = model.p
    got = M.weighted_health(bal, model.price, model.h_maint_now(now), model.h_init_now(now), p.kappa, p.depth,
                            model.breaker, P.VAULT[ref.V_CAUTION_SCALE] / F)
    _assert_sums(got, want, gross, HEALTH_PATH, 1e-12)


def _fixed_book(rng: np.random.Generator, n: int):
    """Signed integer balances (token decimals) of ``n`` accounts: long, short, mixed."""
    scale = [2e4, 10.0, 0.6]
    return [
        [int(rng.uniform(-1, 1.5) * sc * 10**s.decimals) * int(rng.random() < 0.8) for sc, s in zip(scale, P.TOKENS)]
        for _ in range(n)
    ]


@given(seed=st.integers(0, 2**32 - 1), vols=st.tuples(*[st.floats(0.05, 1.5)] * 3))
def test_health_paths_agree_with_reference_along_a_path(seed, vols):
    rng = np.random.default_rng(seed)
    steps = 200
    vectors = [s.oracle for s in P.TOKENS]
    seeds = [P.annual_vol_to_var(v) for v in vols]
    moves = np.exp(rng.normal(0, [0.0005, 0.02, 0.015], size=(steps - 1, 3))
                   + rng.choice([0.0, -0.2, 0.15], p=[0.97, 0.02, 0.01], size=(steps - 1, 3)))
    path = np.vstack([[1.0, 2_000.0, 30_000.0], [1.0, 2_000.0, 30_000.0] * np.cumprod(moves, axis=0)])
    answers = np.maximum(np.round(path * 1e8), 1).astype(np.int64)
    times = T0 + HOUR * np.arange(steps)
    book = _fixed_book(rng, 40)
    decs = [s.decimals for s in P.TOKENS]
    bal = np.array([[x / 10**d for x, d in zip(row, decs)] for row in book])
    got = M.health_paths(bal, answers / 1e8, M.OracleParams.from_wad(vectors), np.array(seeds) / F, times=times)
    assert got.shape == (steps, len(book))
    o = ref.OracleRef()
    for sym, vec, vs, a in zip(SYMS, vectors, seeds, answers[0]):
        o.list_asset(sym, 8, ref.FeedRound(1, int(a), T0, 1), vs, list(vec), T0)
    worst = 0.0
    for t in range(steps):
        now = int(times[t])
        if t:
            for k, sym in enumerate(SYMS):
                o.poke(sym, ref.FeedRound(t + 1, int(answers[t, k]), now, t + 1), now)
        views = [o.risk(s, now) for s in SYMS]
        prices = np.array([r.price / F for r in views])
        for i, row in enumerate(book):
            h = ref.health_sums(row, views, decs, 0)
            gross = float(np.abs(bal[i]) @ prices)
            err = abs(got[t, i] - h.maint / F)
            worst = max(worst, err / max(gross, 1e-300))
            assert err <= HEALTH_PATH * gross + 1e-12, (t, i)
    assert worst <= HEALTH_PATH


def test_health_paths_batches_chunks_and_out():
    rng = np.random.default_rng(7)
    specs = P.TOKENS
    params = M.OracleParams.from_wad([s.oracle for s in specs])
    seed = np.array([s.var_seed for s in specs]) / F
    start = np.array([s.start_price_usd for s in specs])
    paths = start * np.exp(np.cumsum(rng.normal(0, [0.0, 0.02, 0.015], size=(4, 50, 3)), axis=1))
    bal = rng.normal(0, 1, size=(333, 3)) * [1e4, 5, 0.3]
    one = M.health_paths(bal, paths[0], params, seed)
    assert one.shape == (50, 333)
    many = M.health_paths(bal, paths, params, seed, chunk=17)
    assert many.shape == (4, 50, 333)
    for k in range(4):
        np.testing.assert_allclose(many[k], M.health_paths(bal, paths[k], params, seed, chunk=10**6), rtol=1e-13,
                                   atol=1e-9)
    out = np.full((4, 50, 333), np.nan)
    assert M.health_paths(bal, paths, params, seed, chunk=1, out=out) is out
    np.testing.assert_allclose(out, many, rtol=1e-13, atol=1e-9)
    # row by row it is the snapshot function on the oracle's state
    price, h, brk = M.oracle_paths(paths[1], params, seed)
    ma, ml, _, _ = M.weighted_health(bal, price[30], h[30], h[30], params.kappa, params.depth)
    np.testing.assert_allclose(many[1, 30], ma - ml, rtol=1e-12, atol=1e-9)
    with pytest.raises(ValueError):
        M.health_paths(bal[:, :2], paths, params, seed)


def test_health_paths_signs():
    specs = P.TOKENS[1:]
    params = M.OracleParams.from_wad([s.oracle for s in specs])
    seed = np.array([s.var_seed for s in specs]) / F
    prices = np.array([[2_000.0, 30_000.0], [1_000.0, 15_000.0]])
    bal = np.array([[1.0, 0.0], [0.0, 0.1], [-1.0, 0.2]])  # long ETH, long BTC, short ETH against BTC
    h = M.health_paths(bal, prices, params, seed)
    assert (h[:, :2] > 0).all()
    assert h[1, 2] < h[0, 2]  # both halve: the net exposure shrinks


# --------------------------------------------------------- array namespace


XP_FUNCTIONS = (
    "asarray where maximum minimum sqrt abs sum matmul zeros empty concatenate isfinite float64 int64"
).split()  # all of them exist in CuPy with NumPy's signature


def test_runs_on_the_shared_array_api_subset():
    """The model touches nothing of ``xp`` outside the NumPy/CuPy common list above."""
    xp = SimpleNamespace(**{k: getattr(np, k) for k in XP_FUNCTIONS})
    specs = P.TOKENS
    params = M.OracleParams.from_wad([s.oracle for s in specs], xp=xp)
    seed = np.array([s.var_seed for s in specs]) / F
    rng = np.random.default_rng(1)
    paths = np.array([s.start_price_usd for s in specs]) * np.exp(
        np.cumsum(rng.normal(0, 0.02, size=(2, 30, 3)), axis=1))
    paths[0, 5, 1] = np.nan  # an invalid answer
    bal = rng.normal(0, 1, size=(20, 3)) * [1e4, 5, 0.3]
    got = M.health_paths(bal, paths, params, seed, xp=xp)
    np.testing.assert_array_equal(got, M.health_paths(bal, paths, M.OracleParams.from_wad([s.oracle for s in specs]),
                                                      seed))
    model = M.OracleModel(params, paths[:, 0], seed, 1.0, xp=xp)
    model.step(paths[:, 1], 3_601.0)
    model.h_init(), model.h_init_now(4_000.0), model.h_maint_now(4_000.0), model.sigma_annual(), model.n_tripped
    M.weighted_health(bal, paths[0, 0], model.h_maint[0], model.h_init()[0], params.kappa, params.depth,
                      model.breaker[0], 0.5, xp=xp)
    for fn, args in [
        (M.abs_return, (1.0, 2.0)), (M.ewma_var, (1e-8, 0.01, 60, 3600)), (M.sigma, (1e-8, 3600)),
        (M.haircut, (0.02, 3.0, 0.05, 0.1, 0.6)), (M.ramp, (0.1, 0.2, 60, 1e-5, 1e-6)),
        (M.size_haircut, (0.05, 5e7, 1e6)), (M.health_factor, (1.0, 0.0)), (M.bonus, (1.0, 2.0, 0.02, 0.5, 0.05)),
        (M.max_repay, (1.0, 10.0, 0.9, 0.5, 0.95, 100.0)), (M.seize_amount, (1.0, 1.0, 2.0, 0.05)),
        (M.repay_for_seize, (1.0, 1.0, 2.0, 0.05)), (M.utilization, (1.0, 0.5)),
        (M.liquidation, (900.0, 1.0, 1.0, 1000.0, 800.0, 900.0, 0.5, 0.95, 100.0, 0.02, 0.5, 0.05)),
        (M.borrow_rate, (0.9, 0.0, 0.04, 0.75, 0.8)), (M.grow_index, (1.0, 0.05, 3600)),
    ]:
        fn(*args, xp=xp)


def test_invalid_answers_trip_and_freeze():
    specs = P.TOKENS[1:]
    params = M.OracleParams.from_wad([s.oracle for s in specs])
    model = M.OracleModel(params, [2_000.0, 30_000.0], [s.var_seed / F for s in specs], T0)
    before = (model.var_fast.copy(), model.h_maint.copy(), model.price.copy())
    tripped = model.step([np.nan, -1.0], T0 + HOUR)
    assert tripped.all() and model.invalid.all() and (model.breaker == ref.REDUCE_ONLY).all()
    for a, b in zip(before, (model.var_fast, model.h_maint, model.price)):
        np.testing.assert_array_equal(a, b)
    assert model.n_tripped == 2
    stale = model.step([2_000.0, 30_000.0], T0 + HOUR, now=T0 + 3 * HOUR)  # updatedAt too old
    assert stale.all()


def test_out_of_range_answers_trip_and_freeze_as_in_the_reference():
    """An answer of 1e40 at 8 decimals (1e32 USD: above the price range), just above
    2**128 - 1 WAD and the largest int256 answer: invalid in the
    model as in the reference (docs/design.md §7.2); a +1 % round is accepted by both."""
    spec = P.TOKENS[1]
    vec = list(spec.oracle)
    for usd, answer, valid in ((1e32, 10**40, False), (2**128 / 1e18 * 1.000001, (2**128 - 1) // 10**10 + 1, False),
                               (2**255 / 1e8, 2**255 - 1, False), (2_000.0 * 1.01, 2_020 * 10**8, True)):
        model = M.OracleModel(M.OracleParams.from_wad([vec]), [2_000.0], [spec.var_seed / F], T0)
        o = ref.OracleRef()
        o.list_asset("A", 8, ref.FeedRound(1, 2_000 * 10**8, T0, 1), spec.var_seed, vec, T0)
        tripped = model.step([usd], T0 + HOUR)
        o.poke("A", ref.FeedRound(2, answer, T0 + HOUR, 2), T0 + HOUR)
        assert bool(model.invalid[0]) == o.assets["A"].invalid == (not valid)
        assert bool(tripped[0]) == (not valid) and model.breaker[0] == o.assets["A"].breaker
        assert model.price[0] == pytest.approx(o.assets["A"].price / F, rel=1e-15)
