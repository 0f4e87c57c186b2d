"""MarginVault deposit / withdraw / borrow / repay (docs/design.md §2, §5, §7).

Every success path and every named rejection. Each action is mirrored in
``system.vault_ref`` at its block time, so after every step the chain's
views (``balance_of``, ``market``) equal the reference's; a rejection must
carry the named reason on chain *and* in the reference, and leave storage,
token holdings and the oracle state exactly as they were ("a user who sends
bad input gets a named error and loses nothing"). Where a number is simple,
it is also computed by hand from the docs/design.md formulas.
"""

from __future__ import annotations

import copy

import ape
import pytest

from volmargin import params as P
from volmargin import reference as ref
from book import Book
from market import refresh
from rounding import ceil_div

E6, E8, E18 = 10**6, 10**8, 10**18
WAD = ref.WAD
UMAX = 2**256 - 1
YEAR = ref.SECONDS_PER_YEAR
ZERO = "0x" + "00" * 20


@pytest.fixture
def book(system, chain, alice, bob):
    return Book(system, chain, (alice, bob))


def test_reference_mirror_in_sync_after_deployment(book, lender, usd, weth, wbtc, vault):
    book.check(book.accounts[0], book.accounts[1], lender)
    assert [vault.balance_of(lender, t) for t in (usd, weth, wbtc)] == [1_000_000 * E6, 1_000 * E18, 50 * E8]




def push_raw(system, sym, answer, incomplete=False):
    """Push a raw answer (possibly invalid) and make system.poke read it back."""
    feed = system.feeds[sym]
    (feed.push_incomplete if incomplete else feed.push)(answer, 0, sender=system.admin)
    system.last_rounds.pop(sym, None)


# ------------------------------------------------------------------ deposit


def test_deposit_credits_caller_pulls_tokens_and_logs(book, vault, weth, alice):
    t_before, v_before = weth.balanceOf(alice), weth.balanceOf(vault)
    r = book.deposit(alice, "WETH", 3 * E18)
    assert vault.balance_of(alice, weth) == 3 * E18
    assert vault.scaled_balances(alice, weth) == 3 * E18  # deposit index is still exactly 1.0
    assert t_before - weth.balanceOf(alice) == 3 * E18
    assert weth.balanceOf(vault) - v_before == 3 * E18
    assert vault.market(weth)[2] == 1_003 * E18  # the lender's 1,000 WETH + 3
    assert vault.position_mask(alice) == 0b010  # WETH is the second listed asset
    (ev,) = r.events.filter(vault.Deposit)
    assert (ev.account, ev.asset, ev.amount, ev.caller) == (alice.address, weth.address, 3 * E18, alice.address)
    book.check()


def test_deposit_on_behalf_credits_the_account_and_pulls_from_caller(book, vault, usd, alice, bob):
    a_before, b_before = usd.balanceOf(alice), usd.balanceOf(bob)
    r = book.deposit(alice, "USD", 100 * E6, account=bob)
    assert vault.balance_of(bob, usd) == 100 * E6
    assert vault.balance_of(alice, usd) == 0 and vault.position_mask(alice) == 0
    assert a_before - usd.balanceOf(alice) == 100 * E6 and usd.balanceOf(bob) == b_before
    (ev,) = r.events.filter(vault.Deposit)
    assert (ev.account, ev.caller, ev.amount) == (bob.address, alice.address, 100 * E6)
    book.check(alice, bob)


def test_deposit_repays_existing_debt_first(book, system, vault, usd, alice, chain):
    """alice owes 500 USD for 30 days, then deposits 700 USD: the deposit pays the
    debt with its interest and only the rest becomes a deposit. By hand (docs/design.md §2):
    u = 500 / 1,000,000, rate = slope1 * u / kink, borrow index = 1 + rate_s * dt."""
    book.deposit(alice, "WETH", E18)
    r1 = book.borrow(alice, "USD", 500 * E6)
    chain.pending_timestamp += 30 * 86_400  # deposits need no price: stale feeds do not matter
    r2 = book.deposit(alice, "USD", 700 * E6)
    dt = r2.timestamp - r1.timestamp
    rates = P.TOKENS[0].rates
    u = 500 * E6 * WAD // (1_000_000 * E6)
    rate_s = (rates[ref.A_SLOPE1] * u // rates[ref.A_KINK]) // YEAR
    debt = ceil_div(500 * E6 * (WAD + rate_s * dt), WAD)
    assert debt > 500 * E6  # interest did accrue
    reserve = (debt - 500 * E6) * rates[ref.A_RESERVE_FACTOR] // WAD
    di = WAD + (debt - 500 * E6 - reserve) * WAD // (1_000_000 * E6)  # the lender earned the rest
    # the 200-odd USD left become a deposit at index di (scaled down, rounded down)
    left = 700 * E6 - debt
    assert vault.balance_of(alice, usd) == (left * WAD // di) * di // WAD
    assert left - 1 <= vault.balance_of(alice, usd) <= left
    _, _, _, borrows, insurance = vault.market(usd)
    assert borrows == 0 and vault.stored_market(usd).scaled_borrows == 0
    assert insurance == reserve
    assert vault.position_mask(alice) == 0b011  # USD deposit + WETH deposit
    book.check()


def test_deposit_smaller_than_debt_leaves_a_smaller_debt(book, vault, usd, alice, bob):
    book.deposit(alice, "WETH", E18)
    book.borrow(alice, "USD", 500 * E6)
    debt = -vault.balance_of(alice, usd)
    r = book.deposit(bob, "USD", 200 * E6, account=alice)  # on behalf
    assert -vault.balance_of(alice, usd) == pytest.approx(debt - 200 * E6, abs=2)
    assert vault.balance_of(alice, usd) < 0 and vault.balance_of(bob, usd) == 0
    (ev,) = r.events.filter(vault.Deposit)
    assert (ev.account, ev.caller, ev.amount) == (alice.address, bob.address, 200 * E6)
    book.check(alice, bob)


# ------------------------------------------------------------------ withdraw


def test_withdraw_returns_tokens_and_clears_position(book, vault, weth, alice):
    book.deposit(alice, "WETH", 2 * E18)
    t_before, v_before = weth.balanceOf(alice), weth.balanceOf(vault)
    r = book.withdraw(alice, "WETH", E18)
    assert vault.balance_of(alice, weth) == E18
    assert weth.balanceOf(alice) - t_before == E18 and v_before - weth.balanceOf(vault) == E18
    (ev,) = r.events.filter(vault.Withdraw)
    assert (ev.account, ev.asset, ev.amount) == (alice.address, weth.address, E18)
    book.withdraw(alice, "WETH", E18)
    assert vault.balance_of(alice, weth) == 0 and vault.position_mask(alice) == 0
    assert vault.market(weth)[2] == 1_000 * E18
    book.check()


def test_withdraw_limited_by_liquidity(book, vault, wbtc, alice, bob):
    book.deposit(alice, "WBTC", 2 * E8)  # 52 WBTC deposited in all
    book.deposit(bob, "USD", 5_000_000 * E6)
    book.borrow(bob, "WBTC", 51 * E8)  # 1 WBTC left to lend
    _, _, deposits, borrows, _ = vault.market(wbtc)
    assert deposits - borrows < 2 * E8
    book.rejects(
        "vault: insufficient liquidity",
        lambda: vault.withdraw(wbtc, 2 * E8, sender=alice),
        lambda now: book.ref.withdraw(str(alice.address), book.a("WBTC"), 2 * E8, now),
    )
    book.withdraw(alice, "WBTC", E8 // 2)
    book.check()


def _limit(book, method, account, sym, hi):
    """Largest amount the reference accepts for ``method`` at the next block time."""
    now = book.chain.pending_timestamp
    lo = 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        trial = copy.deepcopy(book.ref)
        try:
            getattr(trial, method)(str(account.address), book.a(sym), mid, now)
            lo = mid
        except ref.Reject as e:
            assert e.reason == "vault: insufficient health"
            hi = mid
    return lo


def test_withdraw_up_to_the_health_limit(book, vault, weth, alice):
    """The largest withdrawal the reference allows goes through; one wei more is
    'vault: insufficient health' and changes nothing."""
    book.deposit(alice, "WETH", E18)
    book.borrow(alice, "USD", 1_000 * E6)
    lim = _limit(book, "withdraw", alice, "WETH", E18)
    assert 0 < lim < E18 // 2
    book.rejects(
        "vault: insufficient health",
        lambda: vault.withdraw(weth, lim + 1, sender=alice),
        lambda now: book.ref.withdraw(str(alice.address), book.a("WETH"), lim + 1, now),
    )
    lim = _limit(book, "withdraw", alice, "WETH", E18)  # one second later
    book.withdraw(alice, "WETH", lim)
    h = vault.health(alice)
    assert h.init_assets >= h.init_liabilities
    book.check()


# ------------------------------------------------------------------ borrow


def test_borrow_transfers_tokens_and_logs(book, vault, usd, alice):
    book.deposit(alice, "WETH", E18)
    t_before = usd.balanceOf(alice)
    r = book.borrow(alice, "USD", 500 * E6)
    assert vault.balance_of(alice, usd) == -500 * E6
    assert vault.scaled_balances(alice, usd) == -500 * E6
    assert usd.balanceOf(alice) - t_before == 500 * E6
    assert vault.market(usd)[3] == 500 * E6
    assert vault.position_mask(alice) == 0b011
    (ev,) = r.events.filter(vault.Borrow)
    assert (ev.account, ev.asset, ev.amount) == (alice.address, usd.address, 500 * E6)
    book.check()


def test_borrow_up_to_the_health_limit(book, system, vault, usd, weth, alice):
    """Hand-computed initial-health boundary (docs/design.md §4-§5): one WETH weighs
    v * (1 - h_init - size term); a USD debt weighs ceil(v * (1 + h_init_usd))."""
    book.deposit(alice, "WETH", E18)
    rw, ru = system.oracle.risk(weth), system.oracle.risk(usd)
    v = 2_000 * WAD
    h_w = rw.h_init + ceil_div(rw.kappa * ref.isqrt(v * WAD // rw.depth * WAD), WAD)
    init_assets = v * (WAD - h_w) // WAD
    assert vault.health(alice).init_assets == init_assets
    assert ru.kappa == 0  # no size term on the stablecoin
    # largest x (USD units) with ceil(ceil(x * 1e12) * (1 + h) / 1e18) <= init_assets
    x = init_assets * WAD // (WAD + ru.h_init) // 10**12
    while ceil_div(x * 10**12 * (WAD + ru.h_init), WAD) > init_assets:
        x -= 1
    while ceil_div((x + 1) * 10**12 * (WAD + ru.h_init), WAD) <= init_assets:
        x += 1
    assert x == _limit(book, "borrow", alice, "USD", 2_000 * E6)
    book.rejects(
        "vault: insufficient health",
        lambda: vault.borrow(usd, x + 1, sender=alice),
        lambda now: book.ref.borrow(str(alice.address), book.a("USD"), x + 1, now),
    )
    book.borrow(alice, "USD", x)
    assert vault.balance_of(alice, usd) == -x
    h = vault.health(alice)
    assert 0 <= h.init_assets - h.init_liabilities < 2 * 10**12
    book.check()


def test_short_weth_against_usd(book, system, vault, usd, weth, alice, chain):
    """Borrowing a volatile asset is a short on the same path; its liability
    weighs (1 + h_maint) and grows when the price rises."""
    book.deposit(alice, "USD", 10_000 * E6)
    before = weth.balanceOf(alice)
    r = book.borrow(alice, "WETH", 2 * E18)
    assert [e.amount for e in r.events.filter(vault.Borrow)] == [2 * E18]
    assert vault.balance_of(alice, weth) == -2 * E18
    assert weth.balanceOf(alice) - before == 2 * E18
    h = vault.health(alice)
    hu, hw = system.oracle.risk(usd).h_maint, system.oracle.risk(weth).h_maint
    assert h.maint_assets == 10_000 * WAD * (WAD - hu) // WAD
    assert h.maint_liabilities == ceil_div(4_000 * WAD * (WAD + hw), WAD)
    refresh(system, chain, WETH=2_100.0)  # +5 %: under the jump threshold
    assert system.oracle.breaker(weth) != ref.REDUCE_ONLY
    h2 = vault.health(alice)
    hw2 = system.oracle.risk(weth).h_maint
    debt = -vault.balance_of(alice, weth)
    assert h2.maint_liabilities == ceil_div(ceil_div(debt * 2_100 * WAD, E18) * (WAD + hw2), WAD)
    assert h2.maint_liabilities > h.maint_liabilities
    book.check()


def test_borrow_draws_down_own_deposit_first(book, vault, usd, alice):
    book.deposit(alice, "USD", 1_000 * E6)
    book.deposit(alice, "WETH", E18)
    book.borrow(alice, "USD", 1_500 * E6)
    assert vault.balance_of(alice, usd) == -500 * E6
    assert vault.scaled_balances(alice, usd) == -500 * E6
    book.check()


def test_borrow_rejects_non_borrowable_asset(book, vault, wbtc, alice):
    book.deposit(alice, "USD", 100_000 * E6)
    book.set_asset_param("WBTC", vault.A_BORROWABLE(), 0)
    book.rejects(
        "vault: asset not borrowable",
        lambda: vault.borrow(wbtc, 1, sender=alice),
        lambda now: book.ref.borrow(str(alice.address), book.a("WBTC"), 1, now),
    )
    book.set_asset_param("WBTC", vault.A_BORROWABLE(), 1)
    book.borrow(alice, "WBTC", E8)
    assert vault.balance_of(alice, wbtc) == -E8
    book.check()


# ------------------------------------------------------------------ repay


def test_repay_partial_then_capped_at_debt(book, vault, usd, alice):
    book.deposit(alice, "WETH", E18)
    book.borrow(alice, "USD", 300 * E6)
    before = usd.balanceOf(alice)
    r, paid = book.repay(alice, "USD", 100 * E6)
    assert paid == 100 * E6
    (ev,) = r.events.filter(vault.Repay)
    assert (ev.account, ev.asset, ev.caller) == (alice.address, usd.address, alice.address)
    debt = -vault.balance_of(alice, usd)
    assert 200 * E6 <= debt <= 200 * E6 + 10  # plus seconds of interest
    r, paid = book.repay(alice, "USD", 1_000 * E6)  # more than the debt: pays the debt only
    assert 200 * E6 <= paid <= 200 * E6 + 10
    assert vault.balance_of(alice, usd) == 0 and vault.position_mask(alice) == 0b010
    assert before - usd.balanceOf(alice) == 100 * E6 + paid
    book.check()


def test_repay_max_uint_on_behalf_repays_all(book, vault, usd, alice, bob):
    book.deposit(alice, "WETH", E18)
    book.borrow(alice, "USD", 300 * E6)
    a_before, b_before = usd.balanceOf(alice), usd.balanceOf(bob)
    r, paid = book.repay(bob, "USD", UMAX, account=alice)
    assert 300 * E6 <= paid <= 300 * E6 + 10
    assert vault.balance_of(alice, usd) == 0 and vault.balance_of(bob, usd) == 0
    assert usd.balanceOf(alice) == a_before and b_before - usd.balanceOf(bob) == paid
    (ev,) = r.events.filter(vault.Repay)
    assert (ev.account, ev.caller, ev.amount) == (alice.address, bob.address, paid)
    assert vault.market(usd)[3] == 0
    book.check(alice, bob)


def test_repay_short_in_weth(book, vault, weth, alice):
    book.deposit(alice, "USD", 10_000 * E6)
    book.borrow(alice, "WETH", 2 * E18)
    _, paid = book.repay(alice, "WETH", UMAX)
    assert 2 * E18 <= paid < 2 * E18 + 10**12
    assert vault.balance_of(alice, weth) == 0
    book.check()


# ------------------------------------------------------------------ bad input


BAD_INPUT = {  # action: [(asset, amount, account, reason)]; alice holds 1 WETH
    "deposit": [
        ("USD", 0, None, "vault: zero amount"),
        ("unlisted", 1, None, "vault: asset not listed"),  # alice's own address as the "token"
        ("USD", 1, "zero", "vault: zero address"),
    ],
    "withdraw": [
        ("USD", 0, None, "vault: zero amount"),
        ("unlisted", 1, None, "vault: asset not listed"),
        ("WETH", E18 + 1, None, "vault: insufficient balance"),
        ("WBTC", 1, None, "vault: insufficient balance"),
    ],
    "borrow": [
        ("USD", 0, None, "vault: zero amount"),
        ("unlisted", 1, None, "vault: asset not listed"),
        ("USD", 1_000_000 * E6 + 1, None, "vault: insufficient liquidity"),
        ("USD", 1_800 * E6, None, "vault: insufficient health"),
        ("WETH", E18 + E18 // 2, None, "vault: insufficient health"),  # draws the deposit down, then -0.5
    ],
    "repay": [
        ("USD", 0, None, "vault: zero amount"),
        ("unlisted", 1, None, "vault: asset not listed"),
        ("WETH", 1, None, "vault: no debt"),  # a deposit is no debt
        ("USD", 1, None, "vault: no debt"),
        ("USD", 1, "zero", "vault: no debt"),
    ],
}


@pytest.mark.parametrize("action", list(BAD_INPUT))
def test_bad_input_is_named_and_loses_nothing(book, system, vault, alice, action):
    """Every bad input of one action: the named reason on chain and in the
    reference, and nothing moved (one test per action: each case is checked
    in turn on the same state, which a rejection must leave untouched)."""
    book.deposit(alice, "WETH", E18)
    for sym, amount, account, reason in BAD_INPUT[action]:
        token = alice if sym == "unlisted" else system.tokens[sym]
        asset = str(alice.address) if sym == "unlisted" else book.a(sym)
        extra = [ZERO] if account == "zero" else []
        who = ZERO if account == "zero" else str(alice.address)
        ref_call = None  # the reference keys accounts by address and has no zero-address check
        if reason != "vault: zero address":
            ref_call = lambda now, f=getattr(book.ref, action), w=who, a=asset, x=amount: f(w, a, x, now)  # noqa: E731
        try:
            book.rejects(reason, lambda: getattr(vault, action)(token, amount, *extra, sender=alice), ref_call)
        except AssertionError as e:
            raise AssertionError(f"{action}({sym}, {amount}, {account}): {e}") from e
    book.check()


def test_deposit_without_allowance_loses_nothing(book, system, vault, usd, accounts):
    """A caller that never approved the vault gets the token's named error."""
    carol = accounts[7]
    system.tokens["USD"].mint(carol, 50 * E6, sender=system.admin)
    book.rejects("erc20: insufficient allowance", lambda: vault.deposit(usd, 50 * E6, sender=carol), who=carol)
    assert usd.balanceOf(carol) == 50 * E6


# ------------------------------------------------------------------ oracle states


def test_stale_price_blocks_withdraw_and_borrow_not_deposit_or_repay(book, system, vault, usd, weth, alice, chain):
    book.deposit(alice, "WETH", E18)
    book.borrow(alice, "USD", 100 * E6)
    chain.pending_timestamp += 3_600 + 600 + 1  # WETH heartbeat + grace, nothing pushed
    chain.mine()
    book.rejects(
        "oracle: stale price",
        lambda: vault.borrow(usd, E6, sender=alice),
        lambda now: book.ref.borrow(str(alice.address), book.a("USD"), E6, now),
    )
    book.rejects(
        "oracle: stale price",
        lambda: vault.withdraw(weth, E6, sender=alice),
        lambda now: book.ref.withdraw(str(alice.address), book.a("WETH"), E6, now),
    )
    book.deposit(alice, "WETH", E18)
    _, paid = book.repay(alice, "USD", 50 * E6)
    assert paid == 50 * E6
    refresh(system, chain, seconds=1)  # a fresh round makes the price usable again
    book.borrow(alice, "USD", E6)
    book.check()


@pytest.mark.parametrize("answer", [0, -1])
def test_invalid_price_blocks_withdraw_and_borrow_not_deposit_or_repay(book, system, vault, usd, weth, alice, chain, answer):
    book.deposit(alice, "WETH", E18)
    book.borrow(alice, "USD", 100 * E6)
    chain.pending_timestamp += 60
    push_raw(system, "WETH", answer)
    r = system.poke(["WETH"])
    assert system.oracle.breaker(weth) == ref.REDUCE_ONLY and system.oracle.assets(weth).invalid
    assert [e.reason for e in r.events.filter(system.oracle.BreakerChanged)] == [ref.REASON_NON_POSITIVE]
    book.rejects(
        "oracle: invalid price",
        lambda: vault.borrow(usd, E6, sender=alice),
        lambda now: book.ref.borrow(str(alice.address), book.a("USD"), E6, now),
    )
    book.rejects(
        "oracle: invalid price",
        lambda: vault.withdraw(weth, E6, sender=alice),
        lambda now: book.ref.withdraw(str(alice.address), book.a("WETH"), E6, now),
    )
    book.deposit(alice, "WETH", E18)
    book.repay(alice, "USD", UMAX)
    assert vault.balance_of(alice, usd) == 0
    book.check()


def test_reduce_only_blocks_risk_increase_with_that_asset_only(book, system, vault, usd, weth, wbtc, alice, bob, chain):
    book.deposit(alice, "WETH", 10 * E18)
    book.borrow(alice, "USD", 1_000 * E6)
    book.deposit(bob, "USD", 100_000 * E6)
    refresh(system, chain, WETH=1_500.0)  # -25 % in an hour: a jump
    assert system.oracle.breaker(weth) == ref.REDUCE_ONLY and not system.oracle.assets(weth).invalid
    A, B = str(alice.address), str(bob.address)
    book.rejects(
        "vault: asset reduce-only",
        lambda: vault.borrow(usd, 1, sender=alice),
        lambda now: book.ref.borrow(A, book.a("USD"), 1, now),
    )
    book.rejects(
        "vault: asset reduce-only",
        lambda: vault.withdraw(weth, 1, sender=alice),
        lambda now: book.ref.withdraw(A, book.a("WETH"), 1, now),
    )
    book.rejects(  # opening a WETH short touches the tripped asset too
        "vault: asset reduce-only",
        lambda: vault.borrow(weth, E18, sender=bob),
        lambda now: book.ref.borrow(B, book.a("WETH"), E18, now),
        who=bob,
    )
    book.borrow(bob, "WBTC", E8)  # an account without WETH is unaffected
    book.withdraw(bob, "USD", 1_000 * E6)
    book.deposit(alice, "WETH", E18)  # deposits and repayments always work
    book.repay(alice, "USD", 10 * E6)
    assert -E8 - 10 <= vault.balance_of(bob, wbtc) <= -E8  # plus seconds of interest
    book.check(alice, bob)


# ------------------------------------------------------------------ pauses


@pytest.mark.parametrize(
    "mask, reason", [(1, "vault: withdraw paused"), (2, "vault: borrow paused"), (4, "vault: liquidate paused")]
)
def test_paused_action_is_named_while_deposit_and_repay_work(
    book, vault, usd, weth, alice, liquidator, guardian, admin, mask, reason
):
    book.deposit(alice, "WETH", E18)
    book.borrow(alice, "USD", 100 * E6)
    r = vault.pause(mask, sender=guardian)
    book.ref.paused = mask
    (ev,) = r.events.filter(vault.PauseChanged)
    assert (ev.old_mask, ev.new_mask, ev.caller) == (0, mask, guardian.address)
    A = str(alice.address)
    call, ref_call = {
        1: (lambda: vault.withdraw(weth, E6, sender=alice), lambda now: book.ref.withdraw(A, book.a("WETH"), E6, now)),
        2: (lambda: vault.borrow(usd, E6, sender=alice), lambda now: book.ref.borrow(A, book.a("USD"), E6, now)),
        4: (
            lambda: vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator),
            lambda now: book.ref.liquidate(str(liquidator.address), A, book.a("USD"), book.a("WETH"), UMAX, 0, now),
        ),
    }[mask]
    book.rejects(reason, call, ref_call)
    # the other actions are not paused
    book.deposit(alice, "WETH", E18)
    book.repay(alice, "USD", E6)
    if mask != 1:
        book.withdraw(alice, "WETH", E6)
    if mask != 2:
        book.borrow(alice, "USD", E6)
    vault.unpause(mask, sender=admin)
    book.ref.paused = 0
    if mask == 1:
        book.withdraw(alice, "WETH", E6)
    elif mask == 2:
        book.borrow(alice, "USD", E6)
    else:  # liquidation works again: the healthy account is now refused for its health
        with ape.reverts("vault: account healthy"):
            vault.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator)
    book.check()


def test_pause_all_still_allows_deposit_and_repay(book, vault, usd, weth, alice, bob, guardian):
    book.deposit(alice, "WETH", E18)
    book.borrow(alice, "USD", 100 * E6)
    vault.pause(7, sender=guardian)
    book.ref.paused = 7
    book.rejects("vault: withdraw paused", lambda: vault.withdraw(weth, 0, sender=alice))  # pause is checked first
    book.rejects("vault: borrow paused", lambda: vault.borrow(usd, 0, sender=alice))
    book.deposit(bob, "USD", 10 * E6, account=alice)
    book.repay(bob, "USD", UMAX, account=alice)
    assert vault.balance_of(alice, usd) == 0
    book.check()


# ------------------------------------------------------------------ interest


def test_interest_above_kink_by_hand_and_by_reference(book, system, vault, usd, alice, bob, lender, chain):
    """900,000 of 1,000,000 USD borrowed (u = 0.9 > kink 0.8) for 30 days.
    docs/design.md §2 by hand: rate = slope1 + slope2 * (u - kink) / (1 - kink) = 41.5 %/yr,
    borrow index = 1 + rate_s * dt (rounded up), reserve = 10 % of the interest
    to the insurance fund, the rest raises the deposit index."""
    book.deposit(alice, "WETH", 1_000 * E18)
    r1 = book.borrow(alice, "USD", 900_000 * E6)
    chain.pending_timestamp += 30 * 86_400
    chain.mine()
    dt = book.now() - r1.timestamp
    a = P.TOKENS[0].rates
    rate = a[ref.A_SLOPE1] + a[ref.A_SLOPE2] * (9 * WAD // 10 - a[ref.A_KINK]) // (WAD - a[ref.A_KINK])
    assert rate == 415 * WAD // 1_000
    assert rate == ref.borrow_rate(ref.utilization(1_000_000 * E6, 900_000 * E6), *a[:4])
    bi = WAD + ceil_div(WAD * (rate // YEAR) * dt, WAD)
    assert bi == ref.grow_index(WAD, rate, dt)
    interest = ceil_div(900_000 * E6 * bi, WAD) - 900_000 * E6
    reserve = interest * a[ref.A_RESERVE_FACTOR] // WAD
    di = WAD + (interest - reserve) * WAD // (1_000_000 * E6)
    # about 41.5 % * 30/365 of 900k = 30.7k USD of interest
    assert 30_600 * E6 < interest < 30_800 * E6
    assert tuple(vault.market(usd)) == (
        di, bi, 1_000_000 * E6 * di // WAD, 900_000 * E6 + interest, reserve
    )
    assert vault.balance_of(alice, usd) == -(900_000 * E6 + interest)
    assert vault.balance_of(lender, usd) == 1_000_000 * E6 * di // WAD  # the depositor earned
    assert vault.balance_of(lender, usd) - 1_000_000 * E6 == pytest.approx(interest - reserve, abs=2)
    book.check(alice, lender)
    # the next action stores the accrual and logs it
    r2 = book.deposit(bob, "USD", 1)
    (ev,) = r2.events.filter(vault.Accrued)
    m = vault.stored_market(usd)
    assert (ev.borrow_index, ev.deposit_index) == (m.borrow_index, m.deposit_index)
    assert ev.reserve == m.insurance > 0 and m.last_accrual == r2.timestamp
    book.check()


def test_interest_below_kink_and_idle_markets(book, vault, usd, wbtc, alice, bob, chain):
    book.deposit(alice, "WETH", 100 * E18)
    r1 = book.borrow(alice, "USD", 100_000 * E6)  # u = 0.1
    chain.pending_timestamp += 365 * 86_400
    r2 = book.deposit(bob, "WBTC", E8)  # accrues WBTC only: no borrows, no interest
    assert not list(r2.events.filter(vault.Accrued))
    m = vault.stored_market(wbtc)
    assert (m.deposit_index, m.borrow_index, m.insurance, m.last_accrual) == (WAD, WAD, 0, r2.timestamp)
    r3 = book.deposit(bob, "USD", 1)
    a = P.TOKENS[0].rates
    rate = a[ref.A_SLOPE1] * (WAD // 10) // a[ref.A_KINK]  # 0.5 %/yr below the kink
    assert rate == 5 * WAD // 1_000
    bi = WAD + (rate // YEAR) * (r3.timestamp - r1.timestamp)
    assert vault.stored_market(usd).borrow_index == bi
    assert -vault.balance_of(alice, usd) == pytest.approx(100_000 * E6 * 1.005, rel=1e-4)
    book.check()


def test_rate_change_accrues_at_the_old_rate_first(book, system, vault, usd, alice, chain):
    book.deposit(alice, "WETH", 100 * E18)
    r1 = book.borrow(alice, "USD", 100_000 * E6)
    chain.pending_timestamp += 10 * 86_400
    old = vault.asset_params(usd, ref.A_SLOPE1)
    r2 = book.set_asset_param("USD", ref.A_SLOPE1, 2 * old)
    (ev,) = r2.events.filter(vault.Accrued)
    bi1 = WAD + (old * (WAD // 10) // P.TOKENS[0].rates[ref.A_KINK] // YEAR) * (r2.timestamp - r1.timestamp)
    assert ev.borrow_index == bi1 == vault.stored_market(usd).borrow_index
    chain.pending_timestamp += 10 * 86_400
    chain.mine()
    m = vault.stored_market(usd)
    d = m.scaled_deposits * m.deposit_index // WAD
    b = ceil_div(m.scaled_borrows * m.borrow_index, WAD)
    rate2 = 2 * old * (b * WAD // d) // P.TOKENS[0].rates[ref.A_KINK]
    assert vault.market(usd)[1] == bi1 + ceil_div(bi1 * (rate2 // YEAR) * (book.now() - r2.timestamp), WAD)
    book.check()
