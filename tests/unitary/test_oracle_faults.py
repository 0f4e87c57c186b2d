"""Oracle faults (issue #6 item 3) seen from the vault: a feed stale beyond
its heartbeat (poked, and a feed that simply stops), zero and negative
answers, an incomplete round, a 50 % one-round jump, a flash spike that
reverts next round, feed decimals other than 8.

For each: the breaker reacts as docs/design.md §7 says (REDUCE_ONLY on a bad or
jumping price, a cooldown, CAUTION while cooling, NORMAL after); no action
values anything at a stale or non-positive price (withdraw, borrow,
liquidate and the health view revert with the oracle's named error, and
nothing moves); deposits and repayments keep working, with exact effects.
tests/unitary/test_oracle_breakers.py holds the breaker's arithmetic at
the wei; here the question is what the vault lets through.
"""

from __future__ import annotations

import ape
import pytest

from state import storage_roots
from volmargin import params as P
from volmargin.units import to_feed_answer

E6, E18 = 10**6, 10**18
WAD = 10**18
HOUR = 3_600
NORMAL, CAUTION, REDUCE_ONLY = 0, 1, 2
HEARTBEAT_GRACE = HOUR + 10 * 60  # WETH
COOLDOWN = 2 * HOUR


@pytest.fixture
def positions(system, alice, bob):
    """alice: 10 WETH, owes 8,000 USD (healthy); bob: 100,000 USD deposited."""
    v, usd, weth = system.vault, system.tokens["USD"], system.tokens["WETH"]
    v.deposit(weth, 10 * E18, sender=alice)
    v.borrow(usd, 8_000 * E6, sender=alice)
    v.deposit(usd, 100_000 * E6, sender=bob)
    return v


def fault_stale_poked(system, chain):
    chain.pending_timestamp += HEARTBEAT_GRACE + 1
    system.oracle.poke(system.tokens["WETH"], sender=system.admin)


def fault_feed_stops(system, chain):
    chain.pending_timestamp += HEARTBEAT_GRACE + 1  # nobody pokes: the stored price ages out


def fault_answer(answer, incomplete=False):
    def fault(system, chain):
        feed = system.feeds["WETH"]
        (feed.push_incomplete if incomplete else feed.push)(answer, 0, sender=system.admin)
        system.oracle.poke(system.tokens["WETH"], sender=system.admin)

    return fault


FAULTS = {
    # fault: (how, reason every valuing action gives, breaker after)
    "stale-poked": (fault_stale_poked, "oracle: invalid price", REDUCE_ONLY),
    "feed-stops": (fault_feed_stops, "oracle: stale price", NORMAL),  # no poke yet: the breaker has not looked
    "zero": (fault_answer(0), "oracle: invalid price", REDUCE_ONLY),
    "negative": (fault_answer(-to_feed_answer(2_000.0)), "oracle: invalid price", REDUCE_ONLY),
    "incomplete-round": (fault_answer(to_feed_answer(2_000.0), incomplete=True), "oracle: invalid price", REDUCE_ONLY),
    # out of range (docs/design.md §7.2): once an arithmetic-overflow revert of the poke
    "answer-1e40": (fault_answer(10**40), "oracle: invalid price", REDUCE_ONLY),
    "above-2**128-WAD": (fault_answer((2**128 - 1) // 10**10 + 1), "oracle: invalid price", REDUCE_ONLY),
    "max-int256": (fault_answer(2**255 - 1), "oracle: invalid price", REDUCE_ONLY),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_bad_price_values_nothing_but_deposits_and_repays_work(system, chain, positions, alice, bob, liquidator, fault):
    """Under each bad-price fault on WETH: the breaker is as docs/design.md §7 says;
    withdraw, borrow, liquidate and the health view revert with the oracle's
    named reason and move nothing; a deposit and a repayment go through with
    exactly their amounts."""
    how, reason, breaker = FAULTS[fault]
    v, o = positions, system.oracle
    usd, weth = system.tokens["USD"], system.tokens["WETH"]
    how(system, chain)
    assert o.breaker(weth) == breaker
    contracts = [v, o, *system.tokens.values(), *system.feeds.values()]
    for call in (
        lambda: v.withdraw(weth, 1, sender=alice),
        lambda: v.borrow(usd, 1, sender=alice),
        lambda: v.borrow(weth, 1, sender=bob),  # a short of WETH must value it too
        lambda: v.liquidate(alice, usd, weth, E6, 0, sender=liquidator),
    ):
        before = storage_roots(chain, contracts)
        with ape.reverts(reason):
            call()
        assert storage_roots(chain, contracts) == before
    with ape.reverts(reason):
        v.health(alice)
    # deposits and repayments keep working, exactly
    held = weth.balanceOf(v)
    v.deposit(weth, E18, sender=alice)
    assert weth.balanceOf(v) == held + E18 and v.balance_of(alice, weth) == 11 * E18
    wallet = usd.balanceOf(alice)
    r = v.repay(usd, 1_000 * E6, sender=alice)
    assert r.events.filter(v.Repay)[0].amount == 1_000 * E6 and wallet - usd.balanceOf(alice) == 1_000 * E6
    # bob's USD, which the fault does not touch, still comes out: only WETH is refused
    v.withdraw(usd, 1_000 * E6, sender=bob)


def test_feed_that_stops_then_resumes(system, chain, positions, alice):
    """A feed that stops (the LUNA feed, May 2022): after heartbeat + grace the
    price is refused even without a poke; the first poke trips REDUCE_ONLY;
    when the feed resumes, the asset stays REDUCE_ONLY until the cooldown has
    passed and a fresh valid price arrives, then CAUTION while cooling, then
    NORMAL, and alice can borrow again."""
    v, o, usd, weth = positions, system.oracle, system.tokens["USD"], system.tokens["WETH"]
    chain.pending_timestamp += HEARTBEAT_GRACE + 1
    with ape.reverts("oracle: stale price"):
        v.borrow(usd, 1, sender=alice)
    o.poke(weth, sender=alice)
    assert o.breaker(weth) == REDUCE_ONLY and o.n_tripped() == 1
    system.push_price("WETH", 2_000.0)  # the feed resumes
    o.poke(weth, sender=alice)
    assert o.breaker(weth) == REDUCE_ONLY  # cooldown not over
    with ape.reverts("vault: asset reduce-only"):
        v.borrow(usd, 1, sender=alice)
    chain.pending_timestamp += COOLDOWN
    for sym in ("USD", "WETH"):
        system.push_price(sym, {"USD": 1.0, "WETH": 2_000.0}[sym])
    o.poke(weth, sender=alice)
    assert o.breaker(weth) == CAUTION and o.n_tripped() == 0  # cooling: trip + 2 cooldowns
    v.borrow(usd, E6, sender=alice)
    chain.pending_timestamp += COOLDOWN
    for sym in ("USD", "WETH"):
        system.push_price(sym, {"USD": 1.0, "WETH": 2_000.0}[sym])
    o.poke(weth, sender=alice)
    assert o.breaker(weth) == NORMAL


def test_fifty_percent_jump_trips_and_blocks_risk_increase(system, chain, positions, alice, bob):
    """WETH +50 % in one round: the price is valid (positive, fresh) so it is
    recorded, but the jump trips REDUCE_ONLY: alice cannot borrow against the
    jumped collateral nor withdraw it, bob cannot short it; deposits and
    repayments work; after the cooldown and a fresh round the breaker leaves
    REDUCE_ONLY for CAUTION, where the raised haircut still holds the borrow back."""
    v, o, usd, weth = positions, system.oracle, system.tokens["USD"], system.tokens["WETH"]
    chain.pending_timestamp += HOUR
    system.push_price("WETH", 3_000.0)
    o.poke(weth, sender=bob)
    assert o.breaker(weth) == REDUCE_ONLY and o.assets(weth).price == 3_000 * WAD
    contracts = [v, o, *system.tokens.values()]
    for call in (lambda: v.borrow(usd, 1_000 * E6, sender=alice), lambda: v.withdraw(weth, 1, sender=alice),
                 lambda: v.borrow(weth, E18, sender=bob)):
        before = storage_roots(chain, contracts)
        with ape.reverts("vault: asset reduce-only"):
            call()
        assert storage_roots(chain, contracts) == before
    v.deposit(weth, E18, sender=alice)
    v.repay(usd, 100 * E6, sender=alice)
    chain.pending_timestamp += COOLDOWN
    system.push_price("USD", 1.0)
    system.push_price("WETH", 3_000.0)
    o.poke(weth, sender=bob)
    assert o.breaker(weth) == CAUTION
    # no longer refused as reduce-only, but CAUTION collateral counts at half weight and the
    # jump raised the haircut: the borrow now meets the health check instead
    with ape.reverts("vault: insufficient health"):
        v.borrow(usd, 100 * E6, sender=alice)


def test_flash_spike_that_reverts_next_round_lends_nothing(system, chain, positions, alice, bob):
    """WETH spikes +50 % for one round and reverts the next (a manipulated or
    glitching feed): the spike trips REDUCE_ONLY, so no borrow is ever made
    against the spiked value; the reversal is a jump too and restarts the
    cooldown; alice's debt and every market are as before the spike."""
    v, o, usd, weth = positions, system.oracle, system.tokens["USD"], system.tokens["WETH"]
    debt0 = v.balance_of(alice, usd)
    chain.pending_timestamp += HOUR
    system.push_price("WETH", 3_000.0)
    r1 = o.poke(weth, sender=bob)
    assert o.breaker(weth) == REDUCE_ONLY
    with ape.reverts("vault: asset reduce-only"):
        v.borrow(usd, 10_000 * E6, sender=alice)  # would be within the spiked borrowing power
    chain.pending_timestamp += 60
    system.push_price("WETH", 2_000.0)
    r2 = o.poke(weth, sender=bob)
    assert o.breaker(weth) == REDUCE_ONLY and o.assets(weth).tripped_at == r2.timestamp > r1.timestamp
    with ape.reverts("vault: asset reduce-only"):
        v.borrow(usd, 1, sender=alice)
    assert -debt0 <= -v.balance_of(alice, usd) <= -debt0 + E6  # only interest moved her debt


@pytest.mark.parametrize("decimals", [0, 6, 18])
def test_feed_decimals_other_than_8(project, system, admin, chain, decimals):
    """A feed with 0, 6 or 18 decimals is scaled to the same WAD price (12.5 USD)."""
    tok = project.MockERC20.deploy("F", "F", 18, sender=admin)
    answer = 25 * 10**decimals // 2 if decimals else 12  # 0 decimals cannot say 12.5: 12 USD
    feed = project.MockAggregator.deploy(decimals, "F / USD", answer, 0, sender=admin)
    system.oracle.list_asset(tok, feed, P.TOKENS[1].var_seed, list(P.TOKENS[1].oracle), sender=admin)
    want = 12 * WAD if decimals == 0 else 25 * WAD // 2
    assert system.oracle.risk(tok).price == want


def test_feed_decimals_above_18_refused(project, system, admin):
    """A feed with 19 decimals is refused at listing, named."""
    tok = project.MockERC20.deploy("F", "F", 18, sender=admin)
    feed = project.MockAggregator.deploy(19, "F / USD", 10**19, 0, sender=admin)
    with ape.reverts("oracle: feed decimals > 18"):
        system.oracle.list_asset(tok, feed, P.TOKENS[1].var_seed, list(P.TOKENS[1].oracle), sender=admin)
