"""MockAggregator: AggregatorV3Interface reads and the role-guarded push."""

from __future__ import annotations

import ape


def test_push_and_read(system, admin, chain):
    feed = system.feeds["WETH"]
    assert feed.decimals() == 8 and feed.description() == "ETH / USD"
    first = feed.latest_round()
    r = feed.push(2_500 * 10**8, 0, sender=admin)
    rid, answer, started, updated, answered = feed.latestRoundData()
    assert (rid, answer, answered) == (first + 1, 2_500 * 10**8, first + 1)
    assert started == updated == r.timestamp
    assert tuple(feed.getRoundData(first)) [1] == 2_000 * 10**8
    ev = r.events[0]
    assert (ev.current, ev.roundId, ev.updatedAt) == (2_500 * 10**8, first + 1, r.timestamp)


def test_push_explicit_timestamp_and_incomplete(system, admin, chain):
    feed = system.feeds["WETH"]
    t = chain.blocks.head.timestamp - 100
    feed.push(1, t, sender=admin)
    assert feed.latestRoundData()[3] == t
    feed.push_incomplete(2, 0, sender=admin)
    rid, _, _, _, answered = feed.latestRoundData()
    assert answered == rid - 1


def test_rejections(system, admin, alice, chain):
    feed = system.feeds["WETH"]
    with ape.reverts("access_control: account is missing role"):
        feed.push(1, 0, sender=alice)
    with ape.reverts("access_control: account is missing role"):
        feed.push_incomplete(1, 0, sender=alice)
    with ape.reverts("aggregator: timestamp in the future"):
        feed.push(1, chain.pending_timestamp + 10_000, sender=admin)
    with ape.reverts("aggregator: no data present"):
        feed.getRoundData(10**6)
