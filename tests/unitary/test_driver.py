"""The episode driver (volmargin.chain.driver) and its parity counter (volmargin.chain.parity):
the counter's arithmetic by hand, the driver's input checks, and a few steps of the exact
configuration on the embedded chain, where every number must equal the reference."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from volmargin import model as M
from volmargin import params as P
from volmargin import reference as ref
from volmargin.chain.deploy import deploy_system
from volmargin.chain.driver import Keeper, exact_configuration, listing_model, run_episode
from volmargin.chain.parity import Parity
from volmargin_lab.population import borrowing_power

SYMS = ("USD", "WETH", "WBTC")


def test_parity_counts_exact_comparisons_and_keeps_the_first_examples():
    p = Parity("reference", max_examples=2)
    assert p.equal("a", 5, 5) and p.equal("t", (1, 2), (1, 2))
    assert not p.equal("b", 5, 6)
    assert not p.equal("c", True, False)
    assert not p.equal("d", 1, 2)
    assert (p.checks, p.mismatches) == (5, 3)
    assert p.examples == ["b: chain=5 reference=6", "c: chain=True reference=False"]
    p.note("one more")
    assert len(p.examples) == 2


def test_parity_tolerance_comparisons_track_the_worst_error_over_tolerance():
    p = Parity("model")
    assert p.close("x", "price", 100.5, 100.0, 1.0)
    assert p.close("y", "price", 99.75, 100.0, 1.0)
    assert not p.close("z", "health", 3.0, 1.0, 0.5)
    assert not p.close("n", "health", math.nan, 1.0, 0.5)  # NaN never passes
    assert p.close("e", "breaker", 2.0, 2.0, 0.0)  # a zero tolerance counts, with no ratio
    assert (p.checks, p.mismatches) == (5, 2)
    assert p.worst["price"] == pytest.approx(0.5) and p.worst["health"] == pytest.approx(4.0)
    assert p.worst["breaker"] == 0.0
    assert p.examples[0] == "z: chain=3.0 model=1.0 tol=0.5"


def test_driver_refuses_inconsistent_inputs():
    system = SimpleNamespace(symbols=list(SYMS))
    keeper = Keeper(lambda n, a, t: None)
    prices = {"WETH": np.ones(3)}
    with pytest.raises(ValueError, match=r"opening must be \(borrowers, assets\) = \(2, 3\)"):
        run_episode(system, None, [1, 2], None, np.zeros((2, 2)), prices, 3600, None, keeper)
    with pytest.raises(ValueError, match="unknown symbols"):
        run_episode(system, None, [1], None, np.zeros((1, 3)), {"DOGE": np.ones(3)}, 3600, None, keeper)
    with pytest.raises(ValueError, match="same length"):
        run_episode(system, None, [1], None, np.zeros((1, 3)), {"WETH": np.ones(3), "USD": np.ones(2)}, 3600,
                    None, keeper)
    with pytest.raises(ValueError, match="step_seconds"):
        run_episode(system, None, [1], None, np.zeros((1, 3)), prices, 0, None, keeper)
    with pytest.raises(ValueError, match="latency >= 0 and rounds >= 1"):
        run_episode(system, None, [1], None, np.zeros((1, 3)), prices, 3600, None, Keeper(keeper.pick, rounds=0))


def _opening(system, leverage):
    """Two WETH longs against USD at ``leverage`` of the model's borrowing power, and one
    account with no debt."""
    params = M.OracleParams.from_wad([system.specs[s].oracle for s in SYMS])
    o = listing_model(system, params)
    col = np.array([[0.0, 10.0, 0.0], [0.0, 4.0, 0.0], [500.0, 0.0, 0.0]])
    bp = borrowing_power(col, np.zeros(3, dtype=int), o.price, o.h_init(), params.kappa, params.depth)
    col[:2, 0] = -np.array(leverage) * bp[:2]
    return col


def _run(project, chain, accounts, latency):
    admin, lender, liquidator = accounts[0], accounts[1], accounts[2]
    system = deploy_system(project, admin, start_prices={"USD": 1.0, "WETH": 2000.0, "WBTC": 30000.0}, lender=lender,
                           seed_liquidity=P.SEED_LIQUIDITY)
    checker, keeper = exact_configuration(system, str(liquidator.address))
    keeper = Keeper(keeper.pick, latency=latency, rounds=keeper.rounds)
    weth = np.array([1960.0, 1900.0, 1840.0, 1780.0, 1720.0])
    prices = {"WETH": weth, "WBTC": np.full(5, 30000.0), "USD": np.array([1.0, np.nan, np.nan, np.nan, np.nan])}
    borrowers = [accounts[7], accounts[8], accounts[9]]
    result = run_episode(system, chain, borrowers, liquidator, _opening(system, [0.97, 0.6]), prices, 3600, checker,
                         keeper)
    return system, borrowers, result


def test_exact_configuration_holds_every_number_to_the_reference(project, chain, accounts):
    system, borrowers, result = _run(project, chain, accounts, latency=0)
    p = result.parity
    assert p.mismatches == 0, p.examples
    assert result.opened == 2  # the third account has no debt
    # per step: 3 assets x 7 fields + 3 accounts x (3 balances + 4 health sums); 2 per liquidation
    assert p.checks == 5 * (3 * 7 + 3 * 7) + 2 * result.liquidations
    assert result.liquidations >= 1 and result.liquidation_reverts == 0
    assert [r["step"] for r in result.rows] == [1, 2, 3, 4, 5]
    assert sum(r["liquidations"] for r in result.rows) == result.liquidations
    assert sum(r["liquidation_volume_usd"] for r in result.rows) == pytest.approx(result.liquidation_volume_usd)
    assert [r["WETH_price"] for r in result.rows] == pytest.approx([1960, 1900, 1840, 1780, 1720])
    first = next(r["step"] for r in result.rows if r["liquidations"])
    assert result.rows[first - 1]["liquidatable"] >= 1
    # the frictionless keeper left nobody liquidatable
    vref, now = system.vault_ref, int(chain.pending_timestamp)
    for b in borrowers:
        h = vref.health(str(b.address), now)
        assert h.maint_assets >= h.maint_liabilities
    assert system.oracle_ref.assets[system.address("USD")].breaker == ref.NORMAL


def test_keeper_latency_delays_the_first_liquidation_by_one_step(project, chain, accounts):
    _, _, now = _run(project, chain, accounts, latency=0)
    _, _, late = _run(project, chain, accounts, latency=1)
    assert late.parity.mismatches == 0, late.parity.examples
    first_now = next(r["step"] for r in now.rows if r["liquidations"])
    first_late = next(r["step"] for r in late.rows if r["liquidations"])
    assert first_late == first_now + 1


def test_model_configuration_follows_portfolio_margin(project, chain, accounts):
    """The default deployment has portfolio margin on (WETH-WBTC at (0.34, 0.98), floor 0.5): a
    hedged book (long WETH, borrowing WBTC at 99 % of its per-asset borrowing power) has a
    portfolio scale below 1, and the model configuration's checker, which applies the
    deployment's pairs and floor through ``model.portfolio_scale``, agrees with the chain on its
    sums, its liquidatability and its liquidations as WETH falls (no mismatch)."""
    from volmargin.chain.driver import model_configuration
    from volmargin_lab.stress.onchain import TOLERANCES, liquidation_rule
    from volmargin_lab.stress.policies import VaultModel

    admin, lender, liquidator = accounts[0], accounts[1], accounts[2]
    system = deploy_system(project, admin, start_prices={"USD": 1.0, "WETH": 2000.0, "WBTC": 30000.0}, lender=lender,
                           seed_liquidity=P.SEED_LIQUIDITY)
    params = M.OracleParams.from_wad([system.specs[s].oracle for s in SYMS])
    vm = VaultModel.from_wad(tuple(P.VAULT))
    checker, keeper = model_configuration(system, params, vm.caution_scale, liquidation_rule(vm), TOLERANCES)
    assert checker.portfolio is not None and checker.portfolio[2] == 0.5
    o = checker.oracle
    col = np.array([[0.0, 10.0, 0.0], [0.0, 10.0, 0.0]])
    bp = borrowing_power(col, np.array([2, 0]), o.price, o.h_init(), params.kappa, params.depth)
    col[0, 2], col[1, 0] = -0.99 * bp[0], -0.9 * bp[1]  # hedged (WBTC borrow), and long WETH against USD
    weth = np.array([1960.0, 1900.0, 1840.0, 1780.0, 1720.0, 1660.0])
    prices = {"WETH": weth, "WBTC": np.full(6, 30000.0), "USD": np.array([1.0] + [np.nan] * 5)}
    result = run_episode(system, chain, [accounts[7], accounts[8]], liquidator, col, prices, 3600, checker, keeper)
    p = result.parity
    assert p.mismatches == 0, p.examples
    assert result.opened == 2
    assert checker.lam[0] < 1.0 and checker.lam[1] == 1.0  # only the hedged book is offset
    assert result.liquidations >= 1
