"""MarginVault deposit / withdraw / borrow / repay: each success path and each
named rejection, which leaves every balance, market and token holding as it was."""

from __future__ import annotations

import ape
import pytest

from volmargin import reference as ref

E6, E8, E18 = 10**6, 10**8, 10**18
UMAX = 2**256 - 1


def snapshot(vault, tokens, accounts_):
    """Everything a rejected action must leave untouched: stored balances and
    markets (not interest-accrued views, which move with the clock), token
    holdings and position masks."""
    return (
        tuple(vault.scaled_balances(a, t) for a in accounts_ for t in tokens),
        tuple(tuple(vault.markets(t)) for t in tokens),
        tuple(t.balanceOf(a) for a in (*accounts_, vault) for t in tokens),
        tuple(vault.position_mask(a) for a in accounts_),
    )


@pytest.fixture
def state(vault, usd, weth, wbtc, alice, bob):
    return lambda: snapshot(vault, (usd, weth, wbtc), (alice, bob))


def test_deposit_credits_account_and_pulls_tokens(vault, weth, alice):
    before = weth.balanceOf(alice)
    r = vault.deposit(weth, 3 * E18, sender=alice)
    assert vault.balance_of(alice, weth) == 3 * E18
    assert before - weth.balanceOf(alice) == 3 * E18
    ev = r.events[-1]
    assert ev.event_name == "Deposit" and ev.amount == 3 * E18 and ev.account == alice
    assert vault.position_mask(alice) == 1 << 1  # WETH is listed second


def test_deposit_on_behalf(vault, usd, alice, bob):
    vault.deposit(usd, 100 * E6, bob, sender=alice)
    assert vault.balance_of(bob, usd) == 100 * E6
    assert vault.balance_of(alice, usd) == 0


def test_deposit_first_repays_debt(vault, usd, weth, alice):
    vault.deposit(weth, E18, sender=alice)
    vault.borrow(usd, 500 * E6, sender=alice)
    vault.deposit(usd, 700 * E6, sender=alice)
    # 700 repays the 500 debt (plus a few units of interest accrued between the blocks)
    assert 200 * E6 - 100 <= vault.balance_of(alice, usd) < 200 * E6


@pytest.mark.parametrize(
    "call, reason",
    [
        (lambda v, t, a: v.deposit(t["usd"], 0, sender=a), "vault: zero amount"),
        (lambda v, t, a: v.deposit(a, 1, sender=a), "vault: asset not listed"),
        (lambda v, t, a: v.deposit(t["usd"], 1, "0x" + "00" * 20, sender=a), "vault: zero address"),
        (lambda v, t, a: v.withdraw(t["usd"], 0, sender=a), "vault: zero amount"),
        (lambda v, t, a: v.withdraw(a, 1, sender=a), "vault: asset not listed"),
        (lambda v, t, a: v.withdraw(t["weth"], E18 + 1, sender=a), "vault: insufficient balance"),
        (lambda v, t, a: v.borrow(t["usd"], 0, sender=a), "vault: zero amount"),
        (lambda v, t, a: v.borrow(a, 1, sender=a), "vault: asset not listed"),
        (lambda v, t, a: v.borrow(t["usd"], 2_000_000 * E6, sender=a), "vault: insufficient liquidity"),
        (lambda v, t, a: v.borrow(t["usd"], 1_800 * E6, sender=a), "vault: insufficient health"),
        (lambda v, t, a: v.repay(t["usd"], 0, sender=a), "vault: zero amount"),
        (lambda v, t, a: v.repay(a, 1, sender=a), "vault: asset not listed"),
        (lambda v, t, a: v.repay(t["weth"], 1, sender=a), "vault: no debt"),
    ],
)
def test_bad_input_is_named_and_loses_nothing(vault, usd, weth, alice, state, call, reason):
    vault.deposit(weth, E18, sender=alice)
    before = state()
    with ape.reverts(reason):
        call(vault, {"usd": usd, "weth": weth}, alice)
    assert state() == before


def test_withdraw_returns_tokens(vault, weth, alice):
    vault.deposit(weth, 2 * E18, sender=alice)
    before = weth.balanceOf(alice)
    r = vault.withdraw(weth, E18, sender=alice)
    assert vault.balance_of(alice, weth) == E18
    assert weth.balanceOf(alice) - before == E18
    assert r.events[-1].event_name == "Withdraw"
    vault.withdraw(weth, E18, sender=alice)
    assert vault.position_mask(alice) == 0


def test_withdraw_limited_by_liquidity(vault, usd, wbtc, alice, bob, state):
    vault.deposit(wbtc, 2 * E8, sender=alice)  # 52 WBTC deposited in all
    vault.deposit(usd, 5_000_000 * E6, sender=bob)
    vault.borrow(wbtc, 51 * E8, sender=bob)  # 1 WBTC left to lend
    _, _, deposits, borrows, _ = vault.market(wbtc)
    assert deposits - borrows < 2 * E8
    before = state()
    with ape.reverts("vault: insufficient liquidity"):
        vault.withdraw(wbtc, 2 * E8, sender=alice)
    assert state() == before
    vault.withdraw(wbtc, E8 // 2, sender=alice)


def test_withdraw_checks_health(vault, usd, weth, alice):
    vault.deposit(weth, E18, sender=alice)
    vault.borrow(usd, 1_000 * E6, sender=alice)
    with ape.reverts("vault: insufficient health"):
        vault.withdraw(weth, E18 // 2, sender=alice)
    vault.withdraw(weth, E18 // 100, sender=alice)


def test_borrow_matches_reference_limit(system, vault, usd, weth, alice, chain):
    """The largest borrow the reference allows succeeds on chain; one more unit fails."""
    vault.deposit(weth, E18, sender=alice)
    h = vault.health(alice)
    r_usd = system.oracle.risk(usd)
    # init_assets >= ceil(v * (1 + h_init)): v = amount * 1e12 (6 decimals at ~1 USD)
    # search the boundary against the reference formulas
    lo, hi = 0, h.init_assets // 10**12
    while hi - lo > 1:
        mid = (lo + hi) // 2
        v = ref.liability_value(mid, r_usd.price, 6)
        hi_ = min(r_usd.h_init + ref.size_haircut(r_usd.kappa, r_usd.depth, v), ref.WAD)
        lo, hi = (mid, hi) if ref.weighted_liability(v, hi_) <= h.init_assets else (lo, mid)
    with ape.reverts("vault: insufficient health"):
        vault.borrow(usd, lo + 1, sender=alice)
    vault.borrow(usd, lo, sender=alice)
    assert vault.balance_of(alice, usd) == -lo
    h = vault.health(alice)
    assert h.init_assets >= h.init_liabilities


def test_short_volatile_asset_through_borrow(vault, usd, weth, alice):
    """Borrowing WETH against USD is a short on the same code path."""
    vault.deposit(usd, 10_000 * E6, sender=alice)
    vault.borrow(weth, 2 * E18, sender=alice)
    assert vault.balance_of(alice, weth) == -2 * E18
    h = vault.health(alice)
    assert h.maint_liabilities > 4_000 * E18  # 2 WETH at 2,000 USD, plus the haircut


def test_borrow_draws_down_own_deposit_first(vault, usd, weth, alice):
    vault.deposit(usd, 1_000 * E6, sender=alice)
    vault.deposit(weth, E18, sender=alice)
    vault.borrow(usd, 1_500 * E6, sender=alice)
    assert vault.balance_of(alice, usd) == -500 * E6


def test_borrow_rejects_non_borrowable_asset(vault, wbtc, usd, admin, alice, state):
    vault.set_asset_param(wbtc, vault.A_BORROWABLE(), 0, sender=admin)
    vault.deposit(usd, 100_000 * E6, sender=alice)
    before = state()
    with ape.reverts("vault: asset not borrowable"):
        vault.borrow(wbtc, 1, sender=alice)
    assert state() == before


def test_repay_caps_at_debt_and_max_repays_all(vault, usd, weth, alice, bob):
    vault.deposit(weth, E18, sender=alice)
    vault.borrow(usd, 300 * E6, sender=alice)
    before = usd.balanceOf(alice)
    r = vault.repay(usd, 100 * E6, sender=alice)
    assert [e.amount for e in r.events if e.event_name == "Repay"] == [100 * E6]
    assert -200 * E6 - 100 <= vault.balance_of(alice, usd) <= -200 * E6  # plus seconds of interest
    vault.repay(usd, UMAX, alice, sender=bob)  # on behalf, max repays all
    assert vault.balance_of(alice, usd) == 0
    assert before - usd.balanceOf(alice) == 100 * E6
    assert vault.position_mask(alice) == 1 << 1


def test_interest_accrual_matches_reference(system, vault, usd, weth, alice, bob, chain):
    """Indices, totals and the insurance fund after 30 days equal the reference's accrual
    (DESIGN §2 kinked rate, reserve factor to the insurance fund)."""
    vault.deposit(weth, 100 * E18, sender=alice)
    vault.borrow(usd, 100_000 * E6, sender=alice)
    stored = ref.Market(*vault.markets(usd))
    chain.pending_timestamp += 30 * 86_400
    r = vault.deposit(usd, 1, sender=bob)  # any action accrues the market
    mirror = ref.VaultRef(oracle=ref.OracleRef(), params=list(system.vault_ref.params))
    a = str(usd.address)
    mirror.asset_params[a] = list(system.specs["USD"].rates)
    mirror.markets[a] = stored
    want, reserve = mirror.accrued(a, r.timestamp)
    got = ref.Market(*vault.markets(usd))
    assert (got.deposit_index, got.borrow_index, got.insurance) == (want.deposit_index, want.borrow_index, want.insurance)
    assert got.borrow_index > stored.borrow_index and got.deposit_index > stored.deposit_index
    assert reserve > 0 and got.insurance == stored.insurance + reserve
    ev = [e for e in r.events if e.event_name == "Accrued"][0]
    assert ev.reserve == reserve
    # the rate is below the kink (100k of 1.1M borrowed): about 4 % * 0.09 / 0.8 a year
    debt = -vault.balance_of(alice, usd)
    assert 100_000 * E6 < debt < 100_000 * E6 * 1.001


def test_stale_price_blocks_risk_but_not_deposit_or_repay(system, vault, usd, weth, alice, chain, state):
    vault.deposit(weth, E18, sender=alice)
    vault.borrow(usd, 100 * E6, sender=alice)
    chain.pending_timestamp += 3_600 + 600 + 1
    chain.mine()
    before = state()
    with ape.reverts("oracle: stale price"):
        vault.borrow(usd, E6, sender=alice)
    with ape.reverts("oracle: stale price"):
        vault.withdraw(weth, E6, sender=alice)
    assert state() == before
    vault.deposit(weth, E18, sender=alice)
    vault.repay(usd, 50 * E6, sender=alice)
    assert vault.balance_of(alice, usd) < -49 * E6


def test_invalid_price_blocks_risk_but_not_deposit_or_repay(system, vault, usd, weth, alice, admin, chain, state):
    vault.deposit(weth, E18, sender=alice)
    vault.borrow(usd, 100 * E6, sender=alice)
    chain.pending_timestamp += 60
    system.feeds["WETH"].push(-5, 0, sender=admin)
    system.oracle.poke(weth, sender=alice)
    assert system.oracle.breaker(weth) == ref.REDUCE_ONLY
    before = state()
    with ape.reverts("oracle: invalid price"):
        vault.borrow(usd, E6, sender=alice)
    assert state() == before
    vault.deposit(weth, E18, sender=alice)
    vault.repay(usd, UMAX, sender=alice)
    assert vault.balance_of(alice, usd) == 0


def test_reduce_only_blocks_risk_increase(system, vault, usd, weth, alice, chain, state):
    vault.deposit(weth, 10 * E18, sender=alice)
    vault.borrow(usd, 1_000 * E6, sender=alice)
    chain.pending_timestamp += 3_600
    system.push_price("WETH", 1_500.0)  # -25 % in an hour: a jump
    system.poke()
    assert system.oracle.breaker(weth) == ref.REDUCE_ONLY
    before = state()
    with ape.reverts("vault: asset reduce-only"):
        vault.borrow(usd, E6, sender=alice)
    with ape.reverts("vault: asset reduce-only"):
        vault.withdraw(weth, E6, sender=alice)
    assert state() == before
    vault.repay(usd, 10 * E6, sender=alice)
    vault.deposit(weth, E18, sender=alice)


@pytest.mark.parametrize(
    "mask, reason",
    [(1, "vault: withdraw paused"), (2, "vault: borrow paused")],
)
def test_paused_actions_named_and_deposits_repays_still_work(vault, usd, weth, alice, guardian, admin, state, mask, reason):
    vault.deposit(weth, E18, sender=alice)
    vault.borrow(usd, 100 * E6, sender=alice)
    vault.pause(mask, sender=guardian)
    before = state()
    with ape.reverts(reason):
        (vault.withdraw(weth, E6, sender=alice) if mask == 1 else vault.borrow(usd, E6, sender=alice))
    assert state() == before
    vault.deposit(weth, E18, sender=alice)
    vault.repay(usd, E6, sender=alice)
    vault.unpause(mask, sender=admin)
    vault.withdraw(weth, E6, sender=alice)
