"""MockAggregator: the AggregatorV3Interface reads (latestRoundData,
getRoundData), the REPORTER_ROLE-guarded push and push_incomplete, and the
named rejections."""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak

MISSING = "access_control: account is missing role"


@pytest.fixture
def feed(project, admin):
    """A fresh 8-decimal feed whose first round is 123.45 USD at deployment time."""
    return project.MockAggregator.deploy(8, "TEST / USD", 12_345 * 10**6, 0, sender=admin)


def test_constructor_state_and_first_round(feed, admin, chain):
    ts = chain.blocks.head.timestamp  # the deployment's block
    assert (feed.decimals(), feed.description(), feed.version(), feed.latest_round()) == (8, "TEST / USD", 4, 1)
    assert tuple(feed.latestRoundData()) == (1, 12_345 * 10**6, ts, ts, 1)
    assert tuple(feed.getRoundData(1)) == (1, 12_345 * 10**6, ts, ts, 1)
    assert feed.REPORTER_ROLE() == keccak(text="REPORTER_ROLE")
    assert feed.hasRole(feed.REPORTER_ROLE(), admin) and feed.hasRole(feed.DEFAULT_ADMIN_ROLE(), admin)


def test_constructor_with_explicit_past_timestamp(project, admin, chain):
    t = chain.blocks.head.timestamp - 500
    feed = project.MockAggregator.deploy(18, "X / USD", -7, t, sender=admin)
    assert feed.decimals() == 18
    assert tuple(feed.latestRoundData()) == (1, -7, t, t, 1)  # any answer is stored as given


def test_constructor_rejects_future_timestamp(project, admin, chain):
    with ape.reverts("aggregator: timestamp in the future"):
        project.MockAggregator.deploy(8, "X / USD", 1, chain.pending_timestamp + 3_600, sender=admin)


def test_push_starts_a_new_round_and_keeps_history(feed, admin):
    r = feed.push(2_500 * 10**8, 0, sender=admin)
    assert feed.latest_round() == 2
    assert tuple(feed.latestRoundData()) == (2, 2_500 * 10**8, r.timestamp, r.timestamp, 2)
    assert feed.getRoundData(1)[1] == 12_345 * 10**6  # the previous round is kept
    (ev,) = r.events.filter(feed.AnswerUpdated)
    assert (ev.current, ev.roundId, ev.updatedAt) == (2_500 * 10**8, 2, r.timestamp)
    r3 = feed.push(2_600 * 10**8, 0, sender=admin)
    assert [tuple(feed.getRoundData(i))[:2] for i in (1, 2, 3)] == [
        (1, 12_345 * 10**6), (2, 2_500 * 10**8), (3, 2_600 * 10**8)]
    assert feed.latestRoundData()[3] == r3.timestamp


def test_push_with_explicit_timestamp(feed, admin, chain):
    past = chain.blocks.head.timestamp - 100
    feed.push(1, past, sender=admin)
    assert tuple(feed.latestRoundData())[2:4] == (past, past)
    now = chain.pending_timestamp  # exactly the block time is allowed
    r = feed.push(2, now, sender=admin)
    assert r.timestamp == now and feed.latestRoundData()[3] == now


def test_push_rejects_future_timestamp_and_changes_nothing(feed, admin, chain):
    before = tuple(feed.latestRoundData())
    with ape.reverts("aggregator: timestamp in the future"):
        feed.push(1, chain.pending_timestamp + 1, sender=admin)
    with ape.reverts("aggregator: timestamp in the future"):
        feed.push_incomplete(1, chain.pending_timestamp + 1, sender=admin)
    assert tuple(feed.latestRoundData()) == before and feed.latest_round() == 1


@pytest.mark.parametrize("answer", [0, -1, -(2**255)])
def test_push_accepts_non_positive_answers(feed, admin, answer):
    """Zero and negative answers are stored on purpose: consumers must reject them."""
    feed.push(answer, 0, sender=admin)
    assert feed.latestRoundData()[1] == answer


def test_push_incomplete_lags_answered_in_round(feed, admin):
    r = feed.push_incomplete(99 * 10**8, 0, sender=admin)
    rid, answer, started, updated, answered = feed.latestRoundData()
    assert (rid, answer, answered) == (2, 99 * 10**8, 1)
    assert started == updated == r.timestamp
    assert [e.roundId for e in r.events.filter(feed.AnswerUpdated)] == [2]
    feed.push(100 * 10**8, 0, sender=admin)  # the next complete round answers itself
    assert feed.latestRoundData()[4] == 3


def test_reporter_role_guards_both_pushes(feed, admin, alice, bob):
    before = tuple(feed.latestRoundData())
    with ape.reverts(MISSING):
        feed.push(1, 0, sender=alice)
    with ape.reverts(MISSING):
        feed.push_incomplete(1, 0, sender=alice)
    with ape.reverts(MISSING):  # nor can a non-admin hand the role out
        feed.grantRole(feed.REPORTER_ROLE(), alice, sender=bob)
    assert tuple(feed.latestRoundData()) == before
    role = feed.REPORTER_ROLE()
    feed.grantRole(role, alice, sender=admin)
    feed.push(5 * 10**8, 0, sender=alice)
    assert feed.latestRoundData()[1] == 5 * 10**8
    feed.revokeRole(role, alice, sender=admin)
    with ape.reverts(MISSING):
        feed.push(6 * 10**8, 0, sender=alice)
    assert feed.latestRoundData()[1] == 5 * 10**8


@pytest.mark.parametrize("round_id", [0, 2, 2**80 - 1])
def test_unknown_round_has_no_data(feed, round_id):
    with ape.reverts("aggregator: no data present"):
        feed.getRoundData(round_id)


def test_system_feeds_are_chainlink_like(system):
    for sym, desc, price in (("USD", "USD / USD", 1), ("WETH", "ETH / USD", 2_000), ("WBTC", "BTC / USD", 30_000)):
        f = system.feeds[sym]
        assert (f.decimals(), f.description()) == (8, desc)
        rid, answer, _, updated, answered = f.latestRoundData()
        assert (answer, answered) == (price * 10**8, rid) and updated > 0
