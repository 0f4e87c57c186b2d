"""MarginVault.liquidate and settle_bad_debt: close factor, full liquidation
below hf_full, dust rule, health-scaled bonus, insurance cut, collateral cap,
atomic bad-debt settlement, the liquidation cap, and every named rejection.
Amounts are checked against volmargin.reference's formulas (DESIGN §6)."""

from __future__ import annotations

import ape
import pytest

from volmargin import reference as ref

E6, E18 = 10**6, 10**18
UMAX = 2**256 - 1
WAD = ref.WAD


def _stored(vault, tokens, accounts_):
    return (
        tuple(vault.scaled_balances(a, t) for a in accounts_ for t in tokens),
        tuple(tuple(vault.markets(t)) for t in tokens),
        tuple(t.balanceOf(a) for a in (*accounts_, vault) for t in tokens),
    )


def _liq(receipt):
    """(repaid, seized to the liquidator) from the Liquidation event."""
    ev = [e for e in receipt.events if e.event_name == "Liquidation"][0]
    return ev.repaid, ev.seized


def _crash(system, chain, weth_price):
    chain.pending_timestamp += 3_600
    for sym, price in (("USD", 1.0), ("WBTC", 30_000.0), ("WETH", weth_price)):
        system.push_price(sym, price)
    system.poke()


@pytest.fixture
def underwater(system, vault, usd, weth, alice, chain):
    """alice: 10 WETH collateral, 15,000 USD debt; then WETH -12 % (to 1,760 USD)."""
    vault.deposit(weth, 10 * E18, sender=alice)
    vault.borrow(usd, 15_000 * E6, sender=alice)
    _crash(system, chain, 1_760.0)
    h = vault.health(alice)
    assert h.maint_assets < h.maint_liabilities
    return h


def test_partial_liquidation_close_factor_and_bonus(system, vault, usd, weth, alice, liquidator, underwater):
    h = underwater
    hf = ref.health_factor(h.maint_assets, h.maint_liabilities)
    assert hf >= system.vault_ref.params[ref.V_HF_FULL]  # mildly unhealthy: close factor applies
    debt = -vault.balance_of(alice, usd)
    col = vault.balance_of(alice, weth)
    p = system.vault_ref.params
    bonus = ref.bonus(h.maint_assets, h.maint_liabilities, p[ref.V_BONUS_MIN], p[ref.V_BONUS_SLOPE], p[ref.V_BONUS_MAX])
    assert p[ref.V_BONUS_MIN] < bonus <= p[ref.V_BONUS_MAX]
    ins_before = vault.markets(weth).insurance
    usd_before, weth_before = usd.balanceOf(liquidator), weth.balanceOf(liquidator)
    r = vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator)
    repaid, seized = _liq(r)
    # close factor 50 % of the debt (to the wei, with a few seconds of interest)
    assert abs(repaid - debt // 2) <= 10
    ev = [e for e in r.events if e.event_name == "Liquidation"][0]
    # the bonus at the liquidation's block differs from the one a block earlier only
    # through the seconds of haircut ramp in between
    assert abs(ev.bonus - bonus) < 10**15
    bonus = ev.bonus
    weth_price = system.oracle.risk(weth).price
    usd_price = system.oracle.risk(usd).price
    seize = ref.seize_amount(repaid, usd_price, 6, weth_price, 18, bonus)
    cut = seize * bonus // (WAD + bonus) * p[ref.V_INSURANCE_SHARE] // WAD
    assert seized == seize - cut and cut > 0
    assert usd_before - usd.balanceOf(liquidator) == repaid
    assert weth.balanceOf(liquidator) - weth_before == seized
    assert vault.markets(weth).insurance == ins_before + cut
    assert vault.balance_of(alice, weth) == col - seize
    assert ev.insurance_cut == cut


def test_full_liquidation_below_hf_full(system, vault, usd, weth, alice, liquidator, chain):
    vault.deposit(weth, 10 * E18, sender=alice)
    vault.borrow(usd, 15_000 * E6, sender=alice)
    _crash(system, chain, 1_640.0)  # hf well below 0.95, collateral still covers debt + bonus
    h = vault.health(alice)
    assert ref.health_factor(h.maint_assets, h.maint_liabilities) < system.vault_ref.params[ref.V_HF_FULL]
    debt = -vault.balance_of(alice, usd)
    repaid, _ = _liq(vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator))
    assert abs(repaid - debt) <= 10  # the whole debt (plus seconds of interest)
    assert -10 <= vault.balance_of(alice, usd) <= 0
    assert vault.balance_of(alice, weth) > 0  # collateral left, no bad debt


def test_max_repay_limits_repayment(vault, usd, weth, alice, liquidator, underwater):
    repaid, seized = _liq(vault.liquidate(alice, usd, weth, 1_000 * E6, 0, sender=liquidator))
    assert repaid == 1_000 * E6 and seized > 0


def test_dust_rule_repays_everything():
    """Below min_debt_value after a close-factor repayment, the whole debt may go."""
    # 150 USD of debt at 1 USD: half would leave 75 < 100 USD
    assert ref.max_repay(150 * E6, WAD, 6, WAD, WAD // 2, 95 * WAD // 100, 100 * WAD) == 150 * E6
    assert ref.max_repay(1_000 * E6, WAD, 6, WAD, WAD // 2, 95 * WAD // 100, 100 * WAD) == 500 * E6


def test_dust_rule_on_chain(system, vault, usd, weth, alice, liquidator, chain):
    vault.deposit(weth, E18 // 10, sender=alice)  # 0.1 WETH = 200 USD
    vault.borrow(usd, 150 * E6, sender=alice)
    _crash(system, chain, 1_760.0)
    h = vault.health(alice)
    assert h.maint_assets < h.maint_liabilities
    debt = -vault.balance_of(alice, usd)
    repaid, _ = _liq(vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator))
    assert abs(repaid - debt) <= 10  # not half: the rest would have been dust


def test_bad_debt_settled_atomically(system, vault, usd, weth, alice, liquidator, lender, chain):
    vault.deposit(weth, 10 * E18, sender=alice)
    vault.borrow(usd, 15_000 * E6, sender=alice)
    _crash(system, chain, 1_000.0)  # collateral 10,000 USD < debt 15,000 USD
    di_before = vault.markets(usd).deposit_index
    lender_before = vault.balance_of(lender, usd)
    r = vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator)
    assert vault.balance_of(alice, weth) == 0
    assert vault.balance_of(alice, usd) == 0 and vault.position_mask(alice) == 0
    ev = [e for e in r.events if e.event_name == "BadDebtSettled"]
    assert len(ev) == 1 and ev[0].debt > 0
    assert ev[0].covered_by_insurance + ev[0].socialized == ev[0].debt
    assert ev[0].socialized > 0  # the insurance fund is nearly empty on a fresh vault
    # socialized loss lowers the deposit index: lenders bear it, about loss / deposits
    assert vault.markets(usd).deposit_index < di_before
    assert vault.balance_of(lender, usd) < lender_before
    with ape.reverts("vault: not bad debt"):
        vault.settle_bad_debt(alice, sender=liquidator)


def test_insurance_covers_bad_debt_first(system, vault, usd, weth, alice, bob, liquidator, admin, chain):
    # fund the USD insurance fund through interest reserves: bob borrows a lot for a year
    vault.deposit(weth, 1_000 * E18, sender=bob)
    vault.borrow(usd, 800_000 * E6, sender=bob)
    chain.pending_timestamp += 365 * 86_400
    vault.deposit(usd, 1, sender=bob)
    insurance = vault.markets(usd).insurance
    assert insurance > 1_000 * E6
    vault.deposit(weth, E18, sender=alice)
    # prices are stale after a year: refresh them, then borrow and crash
    _crash(system, chain, 2_000.0)
    vault.borrow(usd, 1_500 * E6, sender=alice)
    _crash(system, chain, 1_000.0)
    di_before = vault.markets(usd).deposit_index
    ins_before = vault.markets(usd).insurance
    r = vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator)
    ev = [e for e in r.events if e.event_name == "BadDebtSettled"][0]
    assert ev.socialized == 0 and ev.covered_by_insurance == ev.debt > 0
    # the fund pays the debt (this transaction's accrual adds a small reserve first)
    ins_after = vault.markets(usd).insurance
    assert ins_before - ev.debt <= ins_after <= ins_before - ev.debt + 50 * E6
    assert vault.markets(usd).deposit_index >= di_before  # depositors lose nothing


def test_settle_bad_debt_after_collateral_seized(system, vault, usd, weth, wbtc, alice, liquidator, chain):
    """settle_bad_debt writes off an account with debt and no deposit left."""
    vault.deposit(weth, E18, sender=alice)
    vault.borrow(usd, 1_000 * E6, sender=alice)
    vault.borrow(wbtc, 10**5, sender=alice)  # a second debt
    _crash(system, chain, 300.0)
    # the first liquidation takes all WETH against USD and settles both debts atomically
    r = vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator)
    settled = {e.asset for e in r.events if e.event_name == "BadDebtSettled"}
    assert settled == {usd.address, wbtc.address}
    assert vault.position_mask(alice) == 0


@pytest.mark.parametrize(
    "args, reason",
    [
        (lambda t, a: (a, t["usd"], t["weth"], 0, 0), "vault: zero amount"),
        (lambda t, a: (a, t["usd"], t["usd"], UMAX, 0), "vault: same asset"),
        (lambda t, a: (a, a, t["weth"], UMAX, 0), "vault: asset not listed"),
        (lambda t, a: (a, t["weth"], t["usd"], UMAX, 0), "vault: no debt in asset"),
        (lambda t, a: (a, t["usd"], t["wbtc"], UMAX, 0), "vault: no collateral in asset"),
        (lambda t, a: (a, t["usd"], t["weth"], UMAX, 10**30), "vault: seize below minimum"),
    ],
)
def test_liquidation_rejections(vault, usd, weth, wbtc, alice, liquidator, underwater, args, reason):
    t = {"usd": usd, "weth": weth, "wbtc": wbtc}
    before = _stored(vault, (usd, weth, wbtc), (alice, liquidator))
    with ape.reverts(reason):
        vault.liquidate(*args(t, alice), sender=liquidator)
    assert _stored(vault, (usd, weth, wbtc), (alice, liquidator)) == before


def test_healthy_account_and_self_liquidation(vault, usd, weth, alice, liquidator):
    vault.deposit(weth, 10 * E18, sender=alice)
    vault.borrow(usd, 1_000 * E6, sender=alice)
    with ape.reverts("vault: account healthy"):
        vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator)
    with ape.reverts("vault: self-liquidation"):
        vault.liquidate(alice, usd, weth, UMAX, 0, sender=alice)


def test_liquidation_paused(vault, usd, weth, alice, liquidator, guardian, admin, underwater):
    vault.pause(4, sender=guardian)
    with ape.reverts("vault: liquidate paused"):
        vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator)
    vault.unpause(4, sender=admin)
    vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator)


def test_liquidation_cap_per_window(system, vault, usd, weth, alice, liquidator, admin, chain, underwater):
    """The -12 % hour tripped WETH's breaker, so the lower cap is in force."""
    assert system.oracle.n_tripped() == 1
    vault.set_param(vault.P_LIQ_CAP_TRIPPED(), 500 * E18, sender=admin)
    vault.set_param(vault.P_LIQ_CAP(), 1_000 * E18, sender=admin)
    vault.liquidate(alice, usd, weth, 400 * E6, 0, sender=liquidator)
    with ape.reverts("vault: liquidation cap reached"):
        vault.liquidate(alice, usd, weth, 200 * E6, 0, sender=liquidator)
    vault.liquidate(alice, usd, weth, 90 * E6, 0, sender=liquidator)
    assert 490 * E18 <= vault.liq_window_used() <= 500 * E18
    # a new window starts after P_LIQ_WINDOW seconds
    chain.pending_timestamp += 3_601
    for sym, price in (("USD", 1.0), ("WBTC", 30_000.0), ("WETH", 1_760.0)):
        system.push_price(sym, price)
    system.poke()
    vault.liquidate(alice, usd, weth, 400 * E6, 0, sender=liquidator)
