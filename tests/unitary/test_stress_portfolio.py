"""Portfolio margin in the lab (docs/portfolio-study.md, issue #14): the aggregation against
hand computations, the floor as a property over random books and correlations, the per-asset
limit of unestimated pairs (in the formula, the solver and the engine), the books and the
study's summary."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, strategies as st

from volmargin_lab.population import KIND_NAMES, borrowing_power, make_population
from volmargin_lab.stress.engine import Frictions
from volmargin_lab.stress.episodes import run_episode
from volmargin_lab.stress.policies import make_policy
from volmargin_lab.stress.portfolio import (NO_OFFSET, PortfolioMargin, PortfolioSpec, book_borrowing_power,
                                            fit_pair, scaled_haircuts)
from volmargin_lab.stress import portfolio_study as PS

SYMS = ("USD", "WETH", "WBTC")


def _pm(lo: float, hi: float, floor: float = 0.0) -> PortfolioMargin:
    return PortfolioSpec({("WETH", "WBTC"): (lo, hi)}, floor, {}).margin(SYMS)


def test_hedge_and_diversification_by_hand():
    pm = _pm(0.6, 0.9)
    # long WETH (requirement 10) against a WBTC borrow (requirement 8): opposite legs at rho_lo
    r = pm.requirement(np.array([0.0, 10.0, 0.0]), np.array([0.0, 0.0, 8.0]))
    assert r == pytest.approx(math.sqrt(100 + 64 - 2 * 0.6 * 80))
    # WETH and WBTC deposits (10, 8) against a USD borrow (1): same-signed at rho_hi, USD unestimated
    r = pm.requirement(np.array([0.0, 10.0, 8.0]), np.array([1.0, 0.0, 0.0]))
    assert r == pytest.approx(math.sqrt(100 + 64 + 2 * 0.9 * 80 + 1 + 2 * 1.0 * 18))
    # the floor caps the offset: a perfect hedge at rho 1 would need nothing
    assert _pm(1.0, 1.0, 0.5).requirement(np.array([0.0, 10.0, 0.0]), np.array([0.0, 0.0, 10.0])) == pytest.approx(10.0)


#: A book's per-asset requirements, signed (an account holds or owes each asset, never both).
signed_books = st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=3, max_size=3).map(np.array)


def _split(v):
    return np.maximum(v, 0.0), np.maximum(-v, 0.0)


@given(v=signed_books, lo=st.floats(-1.0, 1.0), width=st.floats(0.0, 2.0), floor=st.floats(0.0, 1.0))
def test_requirement_stays_between_the_floor_and_the_per_asset_sum(v, lo, width, floor):
    """Offsets never push a requirement below its floor fraction, nor above the per-asset sum,
    for any book and any admissible correlation bounds (issue #14, the property in the lab)."""
    hi = min(lo + width, 1.0)
    up, un = _split(v)
    total = up.sum() + un.sum()
    r = _pm(lo, hi, floor).requirement(up, un)
    assert floor * total * (1 - 1e-12) - 1e-9 <= r <= total * (1 + 1e-12) + 1e-9


@given(v=signed_books)
def test_unestimated_pairs_margin_exactly_as_today(v):
    """Every pair at (-1, +1): the requirement is the per-asset sum (the scale is 1)."""
    pm = PortfolioSpec({}, 0.5, {}).margin(SYMS)
    up, un = _split(v)
    assert pm.scale(up, un) == pytest.approx(1.0, rel=1e-9)
    assert pm.requirement(up, un) == pytest.approx(up.sum() + un.sum(), rel=1e-9)
    assert NO_OFFSET == (-1.0, 1.0)


def test_bad_bounds_are_refused():
    with pytest.raises(ValueError, match="rho_lo <= rho_hi"):
        _pm(0.9, 0.5)
    with pytest.raises(ValueError, match="floor_frac"):
        _pm(0.5, 0.9, 1.5)
    with pytest.raises(ValueError, match="symmetric"):
        PortfolioMargin(SYMS, np.eye(2), np.eye(3), 0.5, {})


def test_scaled_haircuts_row_by_row_and_batched_agree():
    pm = _pm(0.5, 0.95, 0.3)
    rng = np.random.default_rng(1)
    pos, neg = rng.uniform(0, 5, (2, 4, 3)), rng.uniform(0, 5, (2, 4, 3))
    price, h = rng.uniform(1, 10, (2, 3)), rng.uniform(0.01, 0.3, (2, 3))
    batched = scaled_haircuts(pm, pos, neg, price[:, None, :], h[:, None, :])
    for b in range(2):
        rows = scaled_haircuts(pm, pos[b], neg[b], np.repeat(price[b][None], 4, 0), np.repeat(h[b][None], 4, 0))
        np.testing.assert_allclose(batched[b], rows)
        lam = pm.scale(pos[b] * price[b] * h[b], neg[b] * price[b] * h[b])
        np.testing.assert_allclose(rows, lam[:, None] * h[b])


def test_book_solver_without_portfolio_is_the_lab_solver():
    """With no size term and no breaker, ``book_borrowing_power`` (bisection, pm None) finds the
    lab's ``population.borrowing_power``; with a hedge offset it lends more, never more than equity."""
    pop = make_population(60, 3, SYMS, book="hedged")
    prices, h = np.array([1.0, 2000.0, 30000.0]), np.array([0.01, 0.14, 0.11])
    tokens = pop.collateral_usd / prices
    lab = borrowing_power(tokens, pop.debt_asset, prices, h, np.zeros(3), np.ones(3))
    mine = book_borrowing_power(tokens, pop.debt_asset, prices, h, None)
    np.testing.assert_allclose(mine, lab, rtol=1e-9)
    hedged = book_borrowing_power(tokens, pop.debt_asset, prices, h, _pm(0.5, 0.95, 0.5))
    assert np.all(hedged > lab) and np.all(hedged * prices[pop.debt_asset] <= pop.collateral_usd.sum(axis=1))


def test_books_hold_the_study_kinds():
    h = make_population(50, 7, SYMS, book="hedged")
    d = make_population(50, 7, SYMS, book="diversified")
    lab = make_population(50, 7, SYMS)
    weth, wbtc = SYMS.index("WETH"), SYMS.index("WBTC")
    eth_long = h.kind == KIND_NAMES.index("hedge_eth_btc")
    assert eth_long.sum() == 25 and np.all(h.debt_asset[eth_long] == wbtc) and np.all(h.debt_asset[~eth_long] == weth)
    assert np.all((h.collateral_usd > 0).sum(axis=1) == 1)
    assert np.all(d.debt_asset == 0) and np.all((d.collateral_usd[:, [weth, wbtc]] > 0).all(axis=1))
    # same draws as the lab's population: leverage and total collateral
    np.testing.assert_array_equal(h.leverage, lab.leverage)
    np.testing.assert_allclose(d.collateral_usd.sum(axis=1)[lab.kind == 2], lab.collateral_usd.sum(axis=1)[lab.kind == 2])
    with pytest.raises(ValueError, match="unknown book"):
        make_population(5, 7, SYMS, book="exotic")


def test_engine_with_unestimated_pairs_equals_per_asset():
    """A portfolio spec without estimated pairs runs the same episode to the same figures as no
    portfolio at all (the engine's portfolio path reduces to the per-asset sums); a lab book
    with a portfolio policy is refused."""
    base = make_policy("dynamic")
    plain = replace(base, name="plain")
    none = replace(base, name="no-pairs", portfolio=PortfolioSpec({}, 0.5, {}))
    run = run_episode("eth-2020-03", [plain, none], 80, 7, Frictions(), max_hours=48.0, modes=("fraction",),
                      book="hedged")
    a, b = run.metrics["fraction"]["plain"], run.metrics["fraction"]["no-pairs"]
    assert a["borrows_open_usd"] == pytest.approx(b["borrows_open_usd"], rel=1e-9)
    for k in ("bad_debt_usd", "liquidation_volume_usd", "liquidations"):
        assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-6), k
    assert a["liquidations"] > 0  # the episode liquidates, so the comparison has something to compare
    with pytest.raises(ValueError, match="portfolio book"):
        run_episode("eth-2020-03", [none], 10, 7, Frictions(), max_hours=2.0)


def test_fit_pair_bounds_bracket_the_fit():
    f = fit_pair("WETH", "WBTC", 24.0)
    assert -1 <= f["rho_lo"] <= f["rho_fit"] <= f["rho_hi"] <= 1 and f["returns"] > 1000
    with pytest.raises(ValueError):
        fit_pair("WETH", "DOGE", 24.0)


def test_portfolio_summary_by_hand():
    keys = [("calm-2019-03", "hedged"), ("calm-2019-03", "diversified"), ("eth-2020-03", "hedged"),
            ("eth-2020-03", "diversified"), ("crash-2025-02", "hedged"), ("crash-2025-02", "diversified")]

    def part(bp_a, bp_p, bd_a, bd_p):
        return {"per-asset": {"bad_debt_usd": bd_a, "borrows_open_usd": 1.0, "liquidation_volume_usd": 0.0,
                              "calm_bp": bp_a},
                "portfolio": {"bad_debt_usd": bd_p, "borrows_open_usd": 1.0, "liquidation_volume_usd": 0.0,
                              "calm_bp": bp_p}}

    parts = [part(0.8, 1.0, 0, 0), part(0.8, 0.84, 0, 0), part(0, 0, 10.0, 5.0), part(0, 0, 0.0, 0.0),
             part(0, 0, 4.0, 6.0), part(0, 0, 0.0, 0.0)]
    s = PS.portfolio_summary(keys, parts, quick=True)
    assert s["hedged_calm_bp_gain"] == pytest.approx(0.25) and s["diversified_calm_bp_gain"] == pytest.approx(0.05)
    assert s["hedged_calm_bp_gain_heldout"] is None and s["bad_debt_ratio_max"] == pytest.approx(1.5)
    assert s["forecast_adopted"] is False and s["floor_frac"] == PS.FLOOR_FRAC
    parts[5] = part(0, 0, 0.0, 1.0)  # portfolio bad debt where per-asset has none: unbounded
    s = PS.portfolio_summary(keys, parts, quick=True)
    assert s["bad_debt_ratio_max"] is None and s["bad_debt_ratio_unbounded"]


def test_monte_carlo_books_and_the_per_asset_limit():
    """The Monte Carlo runs the study's books under Policy objects; a portfolio spec without
    estimated pairs gives the per-asset figures path by path, and the broken regime moves the paths."""
    from volmargin_lab.stress.montecarlo import MCConfig, fit_models, simulate_batch

    models = fit_models(quick=True, garch=False)
    cfg = MCConfig(n_paths=4, n_accounts=60, horizon_h=24, batch=4, seed=3)
    base = make_policy("dynamic")
    a, b = replace(base, name="per-asset"), replace(base, name="no-pairs", portfolio=PortfolioSpec({}, 0.5, {}))
    out = simulate_batch("gbm-jump", (a, b), 0, 4, cfg, models, Frictions(), "hedged")
    for k in ("bad_debt_usd", "borrows_usd", "liquidations"):
        np.testing.assert_allclose(out["per-asset"][k], out["no-pairs"][k], rtol=1e-6, atol=1e-6)
    broken = simulate_batch("gbm-jump", (a,), 0, 4, cfg, models, Frictions(), "hedged", rho=-0.5)
    assert out["per-asset"]["borrows_usd"].shape == (4,) and set(broken) == {"per-asset"}


def test_mc_study_summary_by_hand():
    def part(a, p):
        return {"per-asset": {"bad_debt_usd": np.array(a, float), "borrows_usd": np.ones(len(a))},
                "portfolio": {"bad_debt_usd": np.array(p, float), "borrows_usd": np.ones(len(p))}}

    keys = [("fitted", "hedged"), ("fitted", "hedged"), ("broken", "hedged")]
    parts = [part([0, 10], [0, 20]), part([0, 0], [0, 0]), part([0, 0], [0, 0])]
    s = PS.mc_study_summary(keys, parts)
    cell = s["by_regime"]["fitted"]["hedged"]
    assert cell["per-asset"]["paths"] == 4 and cell["per-asset"]["es99"] == 10.0 and cell["portfolio"]["es99"] == 20.0
    assert s["mc_es99_ratio_max"] == 2.0 and not s["mc_es99_ratio_unbounded"]
    parts[2] = part([0, 0], [0, 1])
    s = PS.mc_study_summary(keys, parts)
    assert s["mc_es99_ratio_max"] is None and s["mc_es99_ratio_unbounded"]


def test_forecast_policy_summary_by_hand():
    """The forecast policies beside per-asset margin: gains on the calm windows, frontier points
    summed over the crash episodes by split, and the largest bad-debt ratios."""
    cell = lambda bp, bd: {"bad_debt_usd": bd, "borrows_open_usd": 1.0, "liquidation_volume_usd": 0.0,  # noqa: E731
                           **({"calm_bp": bp} if bp is not None else {})}
    by = {"hedged": {
        PS.TRAIN_CALM: {"per-asset": cell(0.8, 0), "portfolio": cell(0.9, 0), "forecast": cell(0.84, 0),
                        "portfolio+forecast": cell(1.0, 0)},
        PS.TRAIN_CRASHES[0]: {"per-asset": cell(None, 10.0), "portfolio": cell(None, 10.0),
                              "forecast": cell(None, 15.0), "portfolio+forecast": cell(None, 20.0)},
        PS.HELDOUT_CRASHES[0]: {"per-asset": cell(None, 4.0), "portfolio": cell(None, 4.0),
                                "forecast": cell(None, 2.0), "portfolio+forecast": cell(None, 4.0)},
    }, "diversified": {PS.TRAIN_CALM: {"per-asset": cell(0.8, 0), "portfolio": cell(0.8, 0)}}}
    s = PS.forecast_policy_summary(by)
    assert s["mode"] == PS.FORECAST_MODE and list(s["by_book"]) == ["hedged"]  # no forecast runs: left out
    h = s["by_book"]["hedged"]
    assert h["forecast_calm_bp_gain"] == pytest.approx(0.05) and h["portfolio+forecast_calm_bp_gain"] == pytest.approx(0.25)
    assert h["forecast_calm_bp_gain_heldout"] is None
    assert h["points"]["forecast"] == {"calm_bp": 0.84, "calm_bp_heldout": None, "bad_debt_train_usd": 15.0,
                                       "bad_debt_heldout_usd": 2.0}
    assert s["forecast_bad_debt_ratio_max"] == pytest.approx(1.5)
    assert s["portfolio+forecast_bad_debt_ratio_max"] == pytest.approx(2.0)
