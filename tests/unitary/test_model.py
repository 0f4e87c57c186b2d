"""volmargin.model (float64, vectorized) against volmargin.reference (exact
integers) within the tolerances the model's docstring states."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from volmargin import model as M
from volmargin import params as P
from volmargin import reference as ref

WAD = ref.WAD
F = float(WAD)


@given(
    var=st.integers(10**6, 10**14),
    p0=st.integers(10**10, 10**30),
    move=st.floats(0.01, 10.0),
    dt=st.integers(1, ref.SECONDS_PER_YEAR),
    tau=st.integers(60, 10**8),
)
def test_ewma_and_sigma_agree(var, p0, move, dt, tau):
    p = int(p0 * move)
    r = ref.abs_return(p0, p)
    want = ref.ewma_var(var, r, dt, tau)
    got = M.ewma_var(var / F, M.abs_return(p0 / F, p / F), dt, tau)
    # the reference floors lam = tau / (tau + dt) to one wei: that error is scaled by r^2 / dt
    assert got == pytest.approx(want / F, rel=1e-9, abs=2e-18 * (1 + (r / F) ** 2 / dt))
    assert M.sigma(want / F, 86_400) == pytest.approx(ref.sigma(want, 86_400) / F, rel=1e-9, abs=1e-15)


@given(h0=st.integers(0, WAD // 10), z=st.integers(0, 6 * WAD), sig=st.integers(0, WAD),
       lo=st.integers(0, WAD // 2), span=st.integers(0, WAD // 2))
def test_haircut_agrees(h0, z, sig, lo, span):
    want = ref.haircut(h0, z, sig, lo, lo + span)
    assert M.haircut(h0 / F, z / F, sig / F, lo / F, (lo + span) / F) == pytest.approx(want / F, abs=1e-12)


@given(cur=st.integers(0, WAD), tgt=st.integers(0, WAD), el=st.integers(0, 10**6), up=st.integers(0, 10**13),
       down=st.integers(0, 10**13))
def test_ramp_agrees(cur, tgt, el, up, down):
    want = ref.ramp(cur, tgt, el, up, down)
    assert float(M.ramp(cur / F, tgt / F, el, up / F, down / F)) == pytest.approx(want / F, abs=1e-12)


def _scenario(seed: int, steps: int = 200):
    """Exact oracle over a random hourly path for WETH and WBTC, and the model beside it."""
    rng = np.random.default_rng(seed)
    specs = P.TOKENS[1:]
    start = [2_000.0, 30_000.0]
    moves = np.exp(rng.normal(0, 0.02, size=(steps, 2)) + rng.choice([0, -0.15, 0.1], p=[0.96, 0.02, 0.02], size=(steps, 2)))
    path = np.vstack([start, start * np.cumprod(moves, axis=0)])
    answers = np.round(path * 1e8).astype(np.int64)
    o = ref.OracleRef()
    t0 = 1_000_000
    for k, s in enumerate(specs):
        o.list_asset(s.symbol, 8, ref.FeedRound(1, int(answers[0, k]), t0, 1), s.var_seed, list(s.oracle), t0)
    model = M.OracleModel(M.OracleParams.from_wad([s.oracle for s in specs]), answers[0] / 1e8,
                          np.array([s.var_seed for s in specs]) / F, t0)
    return o, model, specs, answers, t0


@given(seed=st.integers(0, 10**6))
def test_oracle_model_follows_reference(seed):
    o, model, specs, answers, t0 = _scenario(seed)
    for t in range(1, answers.shape[0]):
        now = t0 + 3_600 * t
        for k, s in enumerate(specs):
            o.poke(s.symbol, ref.FeedRound(t + 1, int(answers[t, k]), now, t + 1), now)
        jump = model.step(answers[t] / 1e8, now)
        for k, s in enumerate(specs):
            st_ = o.assets[s.symbol]
            assert model.var_fast[k] == pytest.approx(st_.var_fast / F, rel=1e-7, abs=2e-18)
            assert model.var_slow[k] == pytest.approx(st_.var_slow / F, rel=1e-7, abs=2e-18)
            assert model.h_maint[k] == pytest.approx(st_.h_maint / F, abs=1e-8)
            assert model.h_target[k] == pytest.approx(st_.h_target / F, abs=1e-8)
            assert int(model.breaker[k]) == st_.breaker or _near_threshold(answers, t, k, o, s)


def _near_threshold(answers, t, k, o, s) -> bool:  # pragma: no cover - only on a knife edge
    r = abs(answers[t, k] / answers[t - 1, k] - 1)
    return bool(np.isclose(r, s.oracle[ref.P_R_FLOOR] / F, rtol=1e-9))


@given(seed=st.integers(0, 10**6))
def test_health_sums_agree_with_vault_reference(seed):
    rng = np.random.default_rng(seed)
    o, model, specs, answers, t0 = _scenario(seed, steps=1)
    usd = P.TOKENS[0]
    o.list_asset("USD", 8, ref.FeedRound(1, 10**8, t0, 1), usd.var_seed, list(usd.oracle), t0)
    v = ref.VaultRef(oracle=o, params=list(P.VAULT))
    for s in (usd, *specs):
        v.list_asset(s.symbol, s.decimals, list(s.rates), t0)
        v.deposit("lender", s.symbol, 10**9 * 10**s.decimals, t0)
    accounts = [f"a{i}" for i in range(20)]
    for a in accounts:
        v.deposit(a, "WETH", int(rng.uniform(0.1, 50) * 1e18), t0)
        v.deposit(a, "WBTC", int(rng.uniform(0.01, 2) * 1e8), t0)
        try:  # some draws borrow more than the collateral allows: the account stays unlevered
            v.borrow(a, "USD", int(rng.uniform(100, 20_000) * 1e6), t0)
        except ref.Reject as exc:
            assert exc.reason == "vault: insufficient health"
    syms = ["USD", "WETH", "WBTC"]
    bal = np.array([[v.balance(a, s, t0) / 10 ** v.decimals[s] for s in syms] for a in accounts])
    views = [o.risk(s, t0) for s in syms]
    ma, ml, ia, il = M.weighted_health(
        bal,
        np.array([r.price / F for r in views]),
        np.array([r.h_maint / F for r in views]),
        np.array([r.h_init / F for r in views]),
        np.array([r.kappa / F for r in views]),
        np.array([r.depth / F for r in views]),
        np.array([r.breaker for r in views]),
        P.VAULT[ref.V_CAUTION_SCALE] / F,
    )
    for i, a in enumerate(accounts):
        h = v.health(a, t0)
        for got, want in ((ma[i], h.maint_assets), (ml[i], h.maint_liabilities), (ia[i], h.init_assets), (il[i], h.init_liabilities)):
            assert got == pytest.approx(want / F, rel=1e-9, abs=1e-8)


def test_health_paths_shapes_and_sign():
    specs = P.TOKENS[1:]
    params = M.OracleParams.from_wad([s.oracle for s in specs])
    seed = np.array([s.var_seed for s in specs]) / F
    prices = np.array([[2_000.0, 30_000.0], [1_000.0, 15_000.0]])
    bal = np.array([[1.0, 0.0], [0.0, 0.1], [-1.0, 0.2]])  # long ETH, long BTC, short ETH against BTC
    h = M.health_paths(bal, prices, params, seed, 3_600.0)
    assert h.shape == (2, 3)
    assert (h[:, :2] > 0).all()
    assert h[1, 2] < h[0, 2]  # short ETH against BTC: both halve, net exposure shrinks
    hp = M.health_paths(bal, np.stack([prices, prices]), params, seed, 3_600.0)
    assert hp.shape == (2, 2, 3) and np.array_equal(hp[0], h)
