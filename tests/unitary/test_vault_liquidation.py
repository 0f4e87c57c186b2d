"""MarginVault.liquidate and settle_bad_debt (docs/design.md §6, §7).

Close factor, full liquidation below hf_full, the dust rule, the
health-scaled bonus, the insurance cut, the collateral cap, atomic bad-debt
settlement (insurance first, then socialized through the deposit index), the
liquidation cap per window, and every named rejection. Every action is
mirrored in ``system.vault_ref`` at its block time: each liquidation's
(repaid, seized, cut, settled) must equal the reference's to the wei, the
liquidator's token balances must move by exactly the returned amounts, and
the simple numbers are also computed by hand from the docs/design.md formulas.
"""

from __future__ import annotations

import copy

import ape
import pytest

from volmargin import reference as ref
from book import Book
from market import refresh as move, spike_then_calm
from rounding import ceil_div

E6, E8, E18 = 10**6, 10**8, 10**18
WAD = ref.WAD
UMAX = 2**256 - 1


@pytest.fixture
def book(system, chain):
    return Book(system, chain)


def open_position(book, who, weth, usd_debt, wbtc=0):
    book.deposit(who, "WETH", weth)
    if wbtc:
        book.deposit(who, "WBTC", wbtc)
    book.borrow(who, "USD", usd_debt)


@pytest.fixture
def underwater(book, system, chain, alice, oracle, weth):
    """alice: 10 WETH collateral, 15,000 USD debt; WETH then -12 % in an hour
    (1,760 USD): a jump, so WETH is REDUCE_ONLY and the tripped cap applies."""
    open_position(book, alice, 10 * E18, 15_000 * E6)
    move(system, chain, WETH=1_760.0)
    h = book.s.vault.health(alice)
    assert h.maint_assets < h.maint_liabilities
    assert oracle.breaker(weth) == ref.REDUCE_ONLY and oracle.n_tripped() == 1
    return h


# ------------------------------------------------------------------ amounts


def test_partial_liquidation_close_factor_bonus_and_insurance_cut(book, system, vault, usd, weth, alice, liquidator, underwater):
    out = book.liquidate(liquidator, alice, "USD", "WETH")
    p = book.p
    # by hand, from the oracle's haircuts at the liquidation's block (docs/design.md §5-§6)
    hw, hu = system.oracle.risk(weth).h_maint, system.oracle.risk(usd).h_maint
    debt = out["debt"]
    assets = 10 * 1_760 * WAD * (WAD - hw) // WAD
    liabilities = ceil_div(debt * 10**12 * (WAD + hu), WAD)
    assert (out["health"].maint_assets, out["health"].maint_liabilities) == (assets, liabilities)
    hf = assets * WAD // liabilities
    assert p[ref.V_HF_FULL] <= hf < WAD  # mildly unhealthy: the close factor applies
    bonus = p[ref.V_BONUS_MIN] + p[ref.V_BONUS_SLOPE] * ((liabilities - assets) * WAD // liabilities) // WAD
    assert p[ref.V_BONUS_MIN] < bonus < p[ref.V_BONUS_MAX]
    assert out["ev"].bonus == bonus
    repaid = debt * p[ref.V_CLOSE_FACTOR] // WAD  # 50 %
    assert out["repaid"] == repaid
    seize = repaid * 10**12 * (WAD + bonus) // WAD * E18 // (1_760 * WAD)
    cut = seize * bonus // (WAD + bonus) * p[ref.V_INSURANCE_SHARE] // WAD
    assert (out["seized"], out["cut"]) == (seize - cut, cut) and cut > 0
    assert vault.market(weth)[4] == cut  # the WETH insurance fund was empty (no WETH borrows)
    assert vault.balance_of(alice, weth) == 10 * E18 - seize
    assert debt - repaid <= -vault.balance_of(alice, usd) <= debt - repaid + 1  # + rounding of the scaled debt
    assert vault.liq_window_used() == repaid * 10**12  # repaid value, WAD USD
    assert not out["settled"]
    # the bonus leaves the account healthy again: a second liquidation is refused
    h = vault.health(alice)
    assert h.maint_assets > h.maint_liabilities
    book.rejects_liquidation("vault: account healthy", liquidator, (alice, usd, weth, UMAX, 0), alice)
    book.check(alice, liquidator)


def test_max_repay_limits_the_repayment(book, alice, liquidator, underwater):
    out = book.liquidate(liquidator, alice, "USD", "WETH", max_repay=1_000 * E6)
    assert out["repaid"] == 1_000 * E6 < out["debt"] // 2
    seize = 1_000 * WAD * (WAD + out["bonus"]) // WAD * E18 // (1_760 * WAD)
    assert out["seized"] + out["cut"] == seize
    book.check(alice, liquidator)


def test_min_seize_is_a_slippage_guard_at_the_wei(book, system, usd, weth, alice, liquidator, underwater, chain):
    # what the liquidation at the next block would pay out, from the reference
    trial = copy.deepcopy(book.ref)
    _, seized, _, _ = trial.liquidate(str(liquidator.address), str(alice.address), book.a("USD"), book.a("WETH"),
                                      UMAX, 0, chain.pending_timestamp)
    book.rejects_liquidation("vault: seize below minimum", liquidator, (alice, usd, weth, UMAX, seized + 1), alice)
    trial = copy.deepcopy(book.ref)
    _, seized, _, _ = trial.liquidate(str(liquidator.address), str(alice.address), book.a("USD"), book.a("WETH"),
                                      UMAX, 0, chain.pending_timestamp)
    out = book.liquidate(liquidator, alice, "USD", "WETH", min_seize=seized)  # exactly the minimum: accepted
    assert out["seized"] == seized


def test_full_liquidation_below_hf_full_with_capped_bonus(book, system, vault, usd, weth, alice, liquidator, chain):
    open_position(book, alice, 10 * E18, 15_000 * E6)
    move(system, chain, WETH=1_640.0)
    out = book.liquidate(liquidator, alice, "USD", "WETH")
    h = out["health"]
    assert h.maint_assets * WAD // h.maint_liabilities < book.p[ref.V_HF_FULL]
    assert out["repaid"] == out["debt"]  # the whole debt
    assert out["bonus"] == book.p[ref.V_BONUS_MAX]  # deep shortfall: the bonus is capped at 5 %
    assert vault.balance_of(alice, usd) == 0
    assert vault.balance_of(alice, weth) == out["col"] - (out["seized"] + out["cut"]) > 0  # no bad debt
    assert not out["settled"] and vault.position_mask(alice) == 0b010
    book.check(alice, liquidator)


@pytest.mark.parametrize(
    "col, debt, full",
    [(E18 // 10, 150 * E6, True), (134 * E18 // 1_000, 201 * E6, False)],
    ids=["rest-below-min-debt-repays-all", "rest-above-min-debt-keeps-close-factor"],
)
def test_dust_rule(book, system, alice, liquidator, chain, col, debt, full):
    """Close factor 50 %, unless the rest would be below min_debt_value (100 USD)."""
    open_position(book, alice, col, debt)
    move(system, chain, WETH=1_760.0)
    out = book.liquidate(liquidator, alice, "USD", "WETH")
    h = out["health"]
    assert book.p[ref.V_HF_FULL] <= h.maint_assets * WAD // h.maint_liabilities < WAD  # not the hf_full rule
    d = out["debt"]
    rest = d - d * book.p[ref.V_CLOSE_FACTOR] // WAD
    assert (rest * 10**12 < book.p[ref.V_MIN_DEBT_VALUE]) is full
    assert out["repaid"] == (d if full else d // 2)
    book.check(alice, liquidator)


def test_seize_capped_by_collateral_without_bad_debt(book, system, vault, usd, weth, wbtc, alice, liquidator, chain):
    """1 WETH + 0.5 WBTC against 13,100 USD: half the debt is worth more than the
    WETH, so the seizure stops at 1 WETH and the repayment is cut to what 1 WETH
    buys at the bonus; WBTC remains, so there is no bad debt."""
    open_position(book, alice, E18, 13_100 * E6, wbtc=E8 // 2)
    move(system, chain, WETH=1_760.0, WBTC=26_400.0)
    out = book.liquidate(liquidator, alice, "USD", "WETH")
    assert out["seized"] + out["cut"] == E18  # all of it
    bonus = out["bonus"]
    # repay_for_seize by hand: value / (1 + bonus), rounded up, in USD units
    assert out["repaid"] == ceil_div(1_760 * WAD * WAD // (WAD + bonus) * E6, WAD)
    assert out["repaid"] < out["debt"] // 2
    assert vault.balance_of(alice, weth) == 0 and vault.balance_of(alice, wbtc) == E8 // 2
    assert 0 <= -vault.balance_of(alice, usd) - (out["debt"] - out["repaid"]) <= 1
    assert not out["settled"] and vault.position_mask(alice) == 0b101
    book.check(alice, liquidator)


def test_short_position_liquidated_against_usd(book, system, vault, usd, weth, alice, liquidator, chain):
    """A WETH short (debt in WETH, 18 decimals) backed by USD (6 decimals): the
    liquidator repays WETH and receives USD."""
    book.deposit(alice, "USD", 10_000 * E6)
    book.borrow(alice, "WETH", 4 * E18)
    move(system, chain, WETH=2_300.0)  # +15 %: the short is under water
    out = book.liquidate(liquidator, alice, "WETH", "USD")
    h = out["health"]
    assert h.maint_assets * WAD // h.maint_liabilities < book.p[ref.V_HF_FULL]
    assert out["repaid"] == out["debt"] > 4 * E18  # all of it, interest included
    # seize by hand: repaid value (2,300 USD per WETH) * (1 + bonus), in USD units
    seize = out["repaid"] * 2_300 * WAD // E18 * (WAD + out["bonus"]) // WAD * E6 // WAD
    assert out["seized"] + out["cut"] == seize
    assert vault.market(usd)[4] >= out["cut"] > 0  # the cut is credited to the USD insurance fund
    assert vault.balance_of(alice, weth) == 0 and vault.balance_of(alice, usd) == 10_000 * E6 - seize
    book.check(alice, liquidator)


# ------------------------------------------------------------------ bad debt


def test_bad_debt_settled_atomically_and_socialized(book, system, vault, usd, weth, alice, liquidator, lender, chain):
    open_position(book, alice, 10 * E18, 15_000 * E6)
    move(system, chain, WETH=1_000.0)  # collateral 10,000 USD < debt 15,000 USD
    lender_before = vault.balance_of(lender, usd)
    vault_usd_before = usd.balanceOf(vault)
    out = book.liquidate(liquidator, alice, "USD", "WETH")
    md = out["market_d"]  # the USD market accrued to the block, before the liquidation
    # all collateral goes, the repayment buys it at the bonus, the rest is written off
    assert out["seized"] + out["cut"] == 10 * E18
    rest = out["debt"] - out["repaid"]
    ((asset, debt, covered, socialized),) = out["settled"]
    assert asset == usd.address and rest <= debt <= rest + 1  # + rounding of the scaled debt
    assert covered == md.insurance > 0  # the insurance fund (interest reserves) pays first, all of it
    assert socialized == debt - covered > 0
    deposits = md.scaled_deposits * md.deposit_index // WAD
    di = (deposits - socialized) * WAD // md.scaled_deposits  # docs/design.md §6: lower the deposit index
    m = vault.stored_market(usd)
    assert (m.deposit_index, m.insurance, m.scaled_borrows) == (di, 0, 0)
    assert vault.balance_of(alice, usd) == vault.balance_of(alice, weth) == 0
    assert vault.position_mask(alice) == 0
    # the lender (almost all of the USD deposits) bears the loss
    assert lender_before - vault.balance_of(lender, usd) == pytest.approx(socialized, rel=1e-4)
    assert usd.balanceOf(vault) - vault_usd_before == out["repaid"]
    with ape.reverts("vault: not bad debt"):
        vault.settle_bad_debt(alice, sender=liquidator)
    book.check(alice, liquidator, lender)


def test_insurance_covers_bad_debt_before_depositors(book, system, vault, usd, alice, bob, liquidator, chain):
    # a year of 80 % utilization fills the USD insurance fund with 10 % of the interest
    open_position(book, bob, 1_000 * E18, 800_000 * E6)
    move(system, chain, seconds=365 * 86_400)
    insurance = vault.market(usd)[4]
    assert insurance > 3_000 * E6
    open_position(book, alice, E18, 1_000 * E6)
    move(system, chain, WETH=500.0)
    out = book.liquidate(liquidator, alice, "USD", "WETH")
    md = out["market_d"]
    ((_, debt, covered, socialized),) = out["settled"]
    assert debt > 0 and covered == debt and socialized == 0
    m = vault.stored_market(usd)
    assert m.insurance == md.insurance - debt
    assert m.deposit_index == md.deposit_index  # depositors lose nothing
    book.check(alice, liquidator, bob)


def test_bad_debt_in_two_assets_settled_together(book, system, vault, usd, wbtc, alice, liquidator, chain):
    book.deposit(alice, "WETH", E18)
    book.borrow(alice, "USD", 1_000 * E6)
    book.borrow(alice, "WBTC", 10**5)
    move(system, chain, WETH=300.0)
    out = book.liquidate(liquidator, alice, "USD", "WETH")
    assert [s[0] for s in out["settled"]] == [usd.address, wbtc.address]
    assert vault.position_mask(alice) == 0
    book.check(alice, liquidator)


@pytest.mark.parametrize("who", ["nobody", "healthy", "underwater"])
def test_settle_bad_debt_rejects_accounts_with_collateral(book, system, vault, alice, bob, liquidator, chain, who):
    """Only an account with debt and no deposit left may be written off."""
    if who != "nobody":
        open_position(book, alice, 10 * E18, 15_000 * E6)
    if who == "underwater":
        move(system, chain, WETH=1_000.0)  # deep underwater, but WETH is still held
        assert vault.health(alice).maint_assets < vault.health(alice).maint_liabilities
    target = bob if who == "nobody" else alice
    before = book.stored(target)
    with ape.reverts("vault: not bad debt"):
        vault.settle_bad_debt(target, sender=liquidator)
    with pytest.raises(ref.Reject, match="vault: not bad debt"):
        book.ref.settle_bad_debt(str(target.address), book.now())
    assert book.stored(target) == before


# ------------------------------------------------------------------ the opening limit after a spike


def test_borrow_at_the_initial_limit_after_a_spike_is_not_liquidatable(book, system, chain, alice, liquidator,
                                                                       oracle, weth):
    """After a volatility spike the initial haircut in force is the maintenance haircut in
    force (the formula is below it): the largest USD borrow the reference allows against 10
    WETH passes on chain, one unit more is refused by name on chain and in the reference,
    and the account is healthy at once (a liquidation is refused). Under the formula alone
    (the rule before 2026-12-02) the same account could borrow more, and that borrow would
    have been liquidatable in the block that opened it."""
    book.deposit(alice, "WETH", 10 * E18)
    spike_then_calm(system, chain)
    w, now = book.a("WETH"), book.now()
    o = system.oracle_ref
    assert o.assets[w].breaker == ref.NORMAL
    h_maint, formula = o.h_maint_now(w, now), o.h_init(w)
    assert h_maint > formula + 5 * WAD // 100  # the gap the rule closes
    assert oracle.risk(weth).h_init == o.h_init_now(w, now) == h_maint
    who = str(alice.address)

    def max_borrow(vref: ref.VaultRef, t: int) -> int:
        return book.max_borrow(alice, "USD", t, 20_000 * E6, vref)  # 10 WETH are worth about 20,000 USD

    # each transaction in a block at the time its limit was found for: the haircut in force moves
    # with time (0.5 %/h: about 0.03 USD a second here)
    t = now + 12
    limit = max_borrow(book.ref, t)
    chain.pending_timestamp = t
    book.rejects("vault: insufficient health", lambda: system.vault.borrow(system.tokens["USD"], limit + 1, sender=alice),
                 lambda t: copy.deepcopy(book.ref).borrow(who, book.a("USD"), limit + 1, t), who=alice)
    t = book.now() + 1
    limit = max_borrow(book.ref, t)
    chain.pending_timestamp = t
    book.borrow(alice, "USD", limit)
    book.check(alice)
    h = system.vault.health(alice)
    assert h.init_assets >= h.init_liabilities and h.maint_assets >= h.maint_liabilities
    book.rejects_liquidation("vault: account healthy", liquidator, (alice, system.tokens["USD"], weth, UMAX, 0), alice)
    # the formula alone, as before: a larger limit, and at it the account is liquidatable
    old = copy.deepcopy(book.ref)
    old.oracle.h_init_now = lambda asset, t: old.oracle.h_init(asset)
    now = book.now()
    old.repay(who, book.a("USD"), UMAX, now)
    old_limit = max_borrow(old, now)
    assert old_limit > limit * 105 // 100
    old.borrow(who, book.a("USD"), old_limit, now)
    hm = old.health(who, now)
    assert hm.maint_assets < hm.maint_liabilities


def test_caution_collateral_counts_at_the_caution_scale(book, system, chain, alice, oracle, weth):
    """WETH -7.5 % in an hour: CAUTION by volatility alone (no trip). A WETH deposit then counts
    at caution_scale (0.5) in initial health and in full in maintenance health (docs/design.md
    §5.1, §7), by hand from the oracle's view; the largest USD borrow the reference allows passes
    on chain, and a second one above what the reference then allows is refused by name."""
    book.deposit(alice, "WETH", 10 * E18)
    move(system, chain, WETH=1_850.0)
    assert oracle.breaker(weth) == ref.CAUTION and oracle.n_tripped() == 0
    scale = book.p[ref.V_CAUTION_SCALE]
    assert 0 < scale < WAD
    r, h = oracle.risk(weth), system.vault.health(alice)
    v = ref.asset_value(10 * E18, r.price, 18)
    assert h.maint_assets == ref.weighted_asset(v, r.h_maint)
    assert h.init_assets == ref.weighted_asset(v, ref.initial_haircut(r.h_init, r.kappa, r.depth, v, 0)) * scale // WAD
    who, usd = str(alice.address), book.a("USD")
    t = book.now() + 12
    limit = book.max_borrow(alice, "USD", t, 20_000 * E6)
    assert limit > 0
    chain.pending_timestamp = t
    book.borrow(alice, "USD", limit)
    book.check(alice)
    t = book.now() + 1
    more = book.max_borrow(alice, "USD", t, 20_000 * E6)
    chain.pending_timestamp = t
    book.rejects("vault: insufficient health", lambda: system.vault.borrow(system.tokens["USD"], more + 1, sender=alice),
                 lambda now: copy.deepcopy(book.ref).borrow(who, usd, more + 1, now), who=alice)


# ------------------------------------------------------------------ rejections


REJECTIONS = [  # (case, args from (tokens, account), reason): checked in this order
    ("zero", lambda t, a: (a, t["USD"], t["WETH"], 0, 0), "vault: zero amount"),
    ("same", lambda t, a: (a, t["USD"], t["USD"], UMAX, 0), "vault: same asset"),
    ("debt-unlisted", lambda t, a: (a, a, t["WETH"], UMAX, 0), "vault: asset not listed"),
    ("col-unlisted", lambda t, a: (a, t["USD"], a, UMAX, 0), "vault: asset not listed"),
    ("no-debt-weth", lambda t, a: (a, t["WETH"], t["USD"], UMAX, 0), "vault: no debt in asset"),
    ("no-debt-wbtc", lambda t, a: (a, t["WBTC"], t["WETH"], UMAX, 0), "vault: no debt in asset"),
    ("no-col", lambda t, a: (a, t["USD"], t["WBTC"], UMAX, 0), "vault: no collateral in asset"),
    ("min-seize", lambda t, a: (a, t["USD"], t["WETH"], UMAX, 10**30), "vault: seize below minimum"),
]


def test_liquidation_rejections_lose_nothing(book, system, alice, liquidator, underwater):
    """Each bad liquidation of an unhealthy account is named and moves nothing
    (one test for the table: the underwater setup is the slow part)."""
    for case, args, reason in REJECTIONS:
        try:
            book.rejects_liquidation(reason, liquidator, args(system.tokens, alice), alice)
        except AssertionError as e:
            raise AssertionError(f"case {case}: {e}") from e
    book.liquidate(liquidator, alice, "USD", "WETH")  # and the valid one still goes through


def test_healthy_account_and_self_liquidation(book, usd, weth, alice, liquidator):
    open_position(book, alice, 10 * E18, 1_000 * E6)
    book.rejects_liquidation("vault: account healthy", liquidator, (alice, usd, weth, UMAX, 0), alice)
    book.rejects_liquidation("vault: self-liquidation", alice, (alice, usd, weth, UMAX, 0), alice)


def test_self_liquidation_refused_even_when_unhealthy(book, usd, weth, alice, underwater):
    book.rejects_liquidation("vault: self-liquidation", alice, (alice, usd, weth, UMAX, 0), alice)


def test_liquidation_paused_then_resumed(book, vault, usd, weth, alice, liquidator, guardian, admin, underwater):
    vault.pause(vault.PAUSE_LIQUIDATE(), sender=guardian)
    book.ref.paused = ref.PAUSE_LIQUIDATE
    book.rejects_liquidation("vault: liquidate paused", liquidator, (alice, usd, weth, UMAX, 0), alice)
    vault.unpause(vault.PAUSE_LIQUIDATE(), sender=admin)
    book.ref.paused = 0
    assert book.liquidate(liquidator, alice, "USD", "WETH")["repaid"] > 0


def test_stale_or_invalid_price_blocks_liquidation(book, system, usd, weth, alice, liquidator, chain, underwater):
    chain.pending_timestamp += 3_600 + 600 + 1
    chain.mine()
    book.rejects_liquidation("oracle: stale price", liquidator, (alice, usd, weth, UMAX, 0), alice)
    system.feeds["WETH"].push(-1, 0, sender=system.admin)
    system.last_rounds.pop("WETH", None)
    system.poke(["WETH"])
    book.rejects_liquidation("oracle: invalid price", liquidator, (alice, usd, weth, UMAX, 0), alice)


# ------------------------------------------------------------------ liquidation cap


def test_liquidation_cap_while_tripped(book, system, vault, usd, weth, alice, liquidator, chain, underwater):
    """WETH is REDUCE_ONLY, so P_LIQ_CAP_TRIPPED (lowered to 500 USD) is in force."""
    book.set_param(ref.V_LIQ_CAP_TRIPPED, 500 * WAD)  # first: it must stay <= P_LIQ_CAP
    book.set_param(ref.V_LIQ_CAP, 1_000 * WAD)
    book.liquidate(liquidator, alice, "USD", "WETH", max_repay=400 * E6)
    book.rejects_liquidation("vault: liquidation cap reached", liquidator, (alice, usd, weth, 101 * E6, 0), alice)
    book.liquidate(liquidator, alice, "USD", "WETH", max_repay=100 * E6)  # exactly up to the cap
    assert vault.liq_window_used() == 500 * WAD
    # a new window starts P_LIQ_WINDOW seconds later (prices refreshed; still tripped)
    move(system, chain, seconds=3_601, WETH=1_760.0)
    assert system.oracle.n_tripped() == 1
    out = book.liquidate(liquidator, alice, "USD", "WETH", max_repay=400 * E6)
    assert vault.liq_window_start() == out["now"] and vault.liq_window_used() == 400 * WAD
    book.check(alice, liquidator)


def test_liquidation_cap_when_nothing_is_tripped(book, system, vault, oracle, usd, weth, alice, liquidator, chain):
    """A gradual fall (-7.5 %, then -7 %, each under the jump threshold) makes alice
    unhealthy without tripping anything: the normal P_LIQ_CAP applies."""
    open_position(book, alice, 10 * E18, 15_000 * E6)
    move(system, chain, WETH=1_850.0)
    move(system, chain, WETH=1_720.0)
    assert oracle.n_tripped() == 0 and oracle.breaker(weth) == ref.CAUTION
    book.set_param(ref.V_LIQ_CAP_TRIPPED, 500 * WAD)
    book.set_param(ref.V_LIQ_CAP, 1_000 * WAD)
    book.liquidate(liquidator, alice, "USD", "WETH", max_repay=600 * E6)  # above the tripped cap: fine
    book.rejects_liquidation("vault: liquidation cap reached", liquidator, (alice, usd, weth, 401 * E6, 0), alice)
    book.liquidate(liquidator, alice, "USD", "WETH", max_repay=400 * E6)
    assert vault.liq_window_used() == 1_000 * WAD
    book.check(alice, liquidator)


def test_deployment_mirrors_the_first_liquidation_window(system, vault):
    """The vault opens its first liquidation-cap window at deployment; ``deploy_system`` sets the
    reference's window to the same second (it used to leave it at 0, so a Book had to patch it)."""
    start = vault.liq_window_start()
    assert start > 0 and system.vault_ref.liq_window_start == start and system.vault_ref.liq_window_used == 0
