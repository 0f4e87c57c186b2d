"""Thin-collateral levers of MarginVault (docs/design.md §2.8, §4.3): the supply cap and
the concentration term, held to the reference (``VaultRef``) and to the formulas by hand.

Supply cap (per asset, whole tokens, 0 = none): a deposit that raises the asset's total
deposits may reach the cap exactly and not one wei beyond ("vault: supply cap reached");
the part of a deposit that repays debt, ``repay``, withdrawals and liquidations are never
capped, even when governance lowered the cap below the total. Concentration term (per
asset ``kappa_agg``, WAD): ``kappa_agg * sqrt(total deposit value / depth)`` added to the
initial haircut of every deposit of the asset (not of debts), to the wei, on a market
whose deposit index has grown (so that the rounding of the total is visible).
"""

from __future__ import annotations

import copy

import pytest

from volmargin import reference as ref
from book import Book
from market import refresh as move

E6, E8, E18 = 10**6, 10**8, 10**18
WAD = ref.WAD
DAY = 86_400


@pytest.fixture
def book(system, chain):
    return Book(system, chain)


def grow_index(book, chain, who, col: str, col_amount: int, debt: str, debt_amount: int, days: int = 30) -> None:
    """``who`` borrows ``debt`` against ``col`` and ``days`` pass (then every feed is
    refreshed), so that the ``debt`` market's deposit index grows off WAD at its next accrual."""
    book.deposit(who, col, col_amount)
    book.borrow(who, debt, debt_amount)
    chain.pending_timestamp += days * DAY
    move(book.s, chain, 60)


def trial_total(book, who, sym: str, amount: int, now: int) -> int:
    """Total deposits of ``sym`` (token decimals) after ``who`` deposits ``amount`` at ``now``,
    per a copy of the reference without a supply cap."""
    trial = copy.deepcopy(book.ref)
    trial.asset_params[book.a(sym)][ref.A_SUPPLY_CAP] = 0
    trial.deposit(str(who.address), book.a(sym), amount, now)
    return trial.totals(book.a(sym), now)[2]


def amount_reaching(book, who, sym: str, target: int, now: int) -> int | None:
    """Smallest deposit (token decimals) lifting the total deposits of ``sym`` to at least
    ``target`` at ``now``, or None if the total skips ``target`` (index rounding)."""
    lo, hi = 1, target
    while lo < hi:
        mid = (lo + hi) // 2
        if trial_total(book, who, sym, mid, now) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo if trial_total(book, who, sym, lo, now) == target else None


# ------------------------------------------------------------------ supply cap


def test_supply_cap_reached_exactly_then_refused(book, system, chain, vault, usd, weth, alice, bob):
    """bob may fill the WETH market to exactly its cap; one more wei is refused, and so is
    any deposit that raises the total while it sits at the cap. The deposit index has grown,
    so the total is rounded (down) from a scaled sum that is not a multiple of WAD."""
    grow_index(book, chain, alice, "USD", 1_000_000 * E6, "WETH", 200 * E18)
    amount = None
    for extra in range(10, 20):  # a cap 10-20 whole WETH above the total that a deposit can hit exactly
        cap = book.ref.totals(book.a("WETH"), book.now())[2] // E18 + extra
        book.set_asset_param("WETH", ref.A_SUPPLY_CAP, cap)
        chain.pending_timestamp += 60
        now = chain.pending_timestamp
        amount = amount_reaching(book, bob, "WETH", cap * E18, now)
        if amount is not None:
            break
    assert amount is not None and vault.asset_params(weth, ref.A_SUPPLY_CAP) == cap
    r = book.deposit(bob, "WETH", amount)
    assert r.timestamp == now
    book.check(bob)
    assert vault.market(weth)[2] == cap * E18  # exactly at the cap
    mk = book.ref.markets[book.a("WETH")]
    assert mk.deposit_index > WAD
    assert mk.scaled_deposits * mk.deposit_index % WAD != 0  # a rounded-up total would pass the cap
    # one wei more adds no scaled deposit (bob's balance is rounded down from his scaled one,
    # and re-derived rounding down): it raises nothing and passes; three wei add one unit and
    # are refused
    book.deposit(bob, "WETH", 1)
    assert book.ref.markets[book.a("WETH")].scaled_deposits == mk.scaled_deposits
    book.check(bob)
    book.rejects("vault: supply cap reached", lambda: vault.deposit(weth, 3, sender=bob),
                 lambda t: book.ref.deposit(str(bob.address), book.a("WETH"), 3, t), who=bob)
    # at the cap, alice's WETH deposit repays her WETH debt: it raises no deposit and passes
    debt = book.debt(alice, "WETH", book.now())
    book.deposit(alice, "WETH", E18)
    assert book.debt(alice, "WETH", book.now()) < debt
    book.check(alice)
    # a withdrawal makes room again
    book.withdraw(bob, "WETH", E18)
    book.deposit(bob, "WETH", E18 // 2)
    book.check(bob)
    book.set_asset_param("WETH", ref.A_SUPPLY_CAP, 0)  # 0: no cap
    book.deposit(bob, "WETH", 100 * E18)
    book.check(bob)


def test_supply_cap_never_blocks_repayment_withdrawal_or_liquidation(book, system, chain, vault, usd, weth,
                                                                       alice, bob, liquidator):
    """Governance lowers the USD and WETH caps far below their totals: new supply is refused,
    but repaying (by ``repay`` or by a deposit into the debt), withdrawing and liquidating
    all run, each to the wei of the reference."""
    book.deposit(alice, "WETH", 10 * E18)
    book.borrow(alice, "USD", 15_800 * E6)
    book.deposit(bob, "USD", 50_000 * E6)
    book.set_asset_param("USD", ref.A_SUPPLY_CAP, 1)
    book.set_asset_param("WETH", ref.A_SUPPLY_CAP, 1)
    book.rejects("vault: supply cap reached", lambda: vault.deposit(usd, E6, sender=bob),
                 lambda t: book.ref.deposit(str(bob.address), book.a("USD"), E6, t), who=bob)
    book.rejects("vault: supply cap reached", lambda: vault.deposit(weth, 1, alice, sender=bob),
                 lambda t: book.ref.deposit(str(alice.address), book.a("WETH"), 1, t), who=alice)
    # repayments: by repay, then by a deposit into the debt (the repaying part raises nothing)
    book.repay(alice, "USD", 400 * E6)
    book.deposit(bob, "USD", 400 * E6, alice)
    book.check(alice)
    debt = book.debt(alice, "USD", chain.pending_timestamp)
    # a deposit past the debt would add supply: refused as a whole
    book.rejects("vault: supply cap reached", lambda: vault.deposit(usd, debt + E6, sender=alice),
                 lambda t: book.ref.deposit(str(alice.address), book.a("USD"), debt + E6, t), who=alice)
    book.withdraw(bob, "USD", 10_000 * E6)
    book.check(bob)
    # WETH -12 %: alice is liquidatable; the liquidator repays USD and takes WETH
    move(system, chain, WETH=1_760.0)
    h = vault.health(alice)
    assert h.maint_assets < h.maint_liabilities
    out = book.liquidate(liquidator, alice, "USD", "WETH")
    assert out["repaid"] > 0 and out["seized"] > 0
    book.check(alice)
    book.repay(alice, "USD", 2**256 - 1)
    book.check(alice)


# ------------------------------------------------------------------ concentration term


def by_hand_init_assets(system, sym: str, bal: int, dec: int, kappa_agg: int, total: int) -> tuple[int, int]:
    """(initial weighted value, concentration haircut) of a deposit of ``bal`` (token
    decimals) from docs/design.md §4.3 and the oracle's view."""
    r = system.oracle.risk(system.tokens[sym])
    v = bal * r.price // 10**dec
    conc = 0 if kappa_agg == 0 else (kappa_agg * ref.isqrt(ref.asset_value(total, r.price, dec) * WAD // r.depth * WAD)
                                     + WAD - 1) // WAD
    size = 0 if r.kappa == 0 else (r.kappa * ref.isqrt(v * WAD // r.depth * WAD) + WAD - 1) // WAD
    h = min(r.h_init + size + conc, WAD)
    return v * (WAD - h) // WAD, conc


def test_concentration_term_to_the_wei(book, system, chain, vault, usd, weth, wbtc, alice, bob):
    """kappa_agg on USD (deposit index grown) and WETH: every depositor's initial health
    falls by the term of the asset's *total* deposits; debts in the asset do not carry it;
    chain == reference == the formula, for the account views and the lens."""
    grow_index(book, chain, alice, "WETH", 100 * E18, "USD", 60_000 * E6, days=3)
    book.deposit(bob, "USD", 123_456_789_123)
    book.deposit(bob, "WBTC", 2 * E8)
    h0 = vault.health(bob)
    book.set_asset_param("USD", ref.A_KAPPA_AGG, WAD // 10)
    book.set_asset_param("WETH", ref.A_KAPPA_AGG, WAD // 20)
    move(system, chain, 3_600)  # an hour of interest accrued in memory by the views
    for who in (alice, bob):
        want = book.ref.health(str(who.address), book.now())
        assert tuple(vault.health(who)) == (want.maint_assets, want.maint_liabilities, want.init_assets,
                                            want.init_liabilities, want.reduce_only)
    ts, rows = book.s.lens.accounts_view([alice, bob])
    for who, row in zip((alice, bob), rows):
        want = book.ref.health(str(who.address), ts)
        assert tuple(row[2]) == (want.maint_assets, want.maint_liabilities, want.init_assets, want.init_liabilities,
                                 want.reduce_only)
    # by hand: bob's USD deposit carries the USD term (USD has no size term), his WBTC none
    m, _ = book.ref.accrued(book.a("USD"), book.now())
    total = m.scaled_deposits * m.deposit_index // WAD
    assert m.deposit_index > WAD and m.scaled_deposits * m.deposit_index % WAD != 0
    bal_usd = vault.balance_of(bob, usd)
    w_usd, conc = by_hand_init_assets(system, "USD", bal_usd, 6, WAD // 10, total)
    w_btc, _ = by_hand_init_assets(system, "WBTC", 2 * E8, 8, 0, 0)
    assert 0 < conc < WAD // 10
    h = vault.health(bob)
    assert h.init_assets == w_usd + w_btc < h0.init_assets
    plain = copy.deepcopy(book.ref)
    for sym in ("USD", "WETH"):
        plain.asset_params[book.a(sym)][ref.A_KAPPA_AGG] = 0
    hp = plain.health(str(bob.address), book.now())
    assert (h.maint_assets, h.maint_liabilities) == (hp.maint_assets, hp.maint_liabilities)  # maintenance untouched
    assert h.init_assets < hp.init_assets
    # alice: her USD debt carries no USD term (identical without it); her WETH collateral
    # carries the WETH term (lower initial assets with it)
    a_with = tuple(vault.health(alice))
    for sym, same in (("USD", True), ("WETH", False)):
        other = copy.deepcopy(book.ref)
        other.asset_params[book.a(sym)][ref.A_KAPPA_AGG] = 0
        hw = other.health(str(alice.address), book.now())
        without = (hw.maint_assets, hw.maint_liabilities, hw.init_assets, hw.init_liabilities, hw.reduce_only)
        assert (a_with == without) is same, sym
        assert a_with[1:2] + a_with[3:] == without[1:2] + without[3:]  # debts never carry it
        if not same:
            assert a_with[2] < without[2] and a_with[0] == without[0]


def test_concentration_term_limits_borrowing_to_the_wei(book, system, chain, vault, usd, weth, bob):
    """With kappa_agg on WETH, bob's largest USD borrow is the reference's to the wei: one
    more is refused with "vault: insufficient health", and it is below what he could draw
    without the term."""
    book.deposit(bob, "WETH", 50 * E18)
    book.set_asset_param("WETH", ref.A_KAPPA_AGG, WAD // 4)
    chain.pending_timestamp += 60
    now = chain.pending_timestamp

    def can_borrow(vref, amount: int) -> bool:
        trial = copy.deepcopy(vref)
        try:
            trial.borrow(str(bob.address), book.a("USD"), amount, now)
        except ref.Reject:
            return False
        return True

    def largest(vref) -> int:
        lo, hi = 0, 100_000 * E6
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if can_borrow(vref, mid) else (lo, mid - 1)
        return lo

    best = largest(book.ref)
    without = copy.deepcopy(book.ref)
    without.asset_params[book.a("WETH")][ref.A_KAPPA_AGG] = 0
    assert 0 < best < largest(without)
    assert not can_borrow(book.ref, best + 1)
    r = book.borrow(bob, "USD", best)
    assert r.timestamp == now
    book.check(bob)
    book.rejects("vault: insufficient health", lambda: vault.borrow(usd, 1, sender=bob),
                 lambda t: book.ref.borrow(str(bob.address), book.a("USD"), 1, t), who=bob)
