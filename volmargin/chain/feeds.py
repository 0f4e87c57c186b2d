"""Pushing prices into a deployment's mock feeds on a development chain, and how old
each price the oracle holds is.

Shared by ``ape run feed`` and the console's ``push_price``/``risk``. Prices are USD per
whole token; feed answers carry ``params.FEED_DECIMALS`` decimals; the oracle stores
WAD USD; ages and times are seconds (docs/design.md §3, §7).

Two traps of the oracle are handled here:

* the oracle accepts a round only if its ``updatedAt`` is later than the last accepted
  one (``RiskOracle._poke``), so a second push in the same second would be dropped
  without a word: ``push`` advances the clock by one second first;
* the oracle trips a feed to REDUCE_ONLY once its answer is older than heartbeat +
  grace, while the breaker shows NORMAL until the next poke: ``ages`` reports each
  price's age and staleness, and ``keep_alive`` re-pushes the last answers of feeds
  that would otherwise outlive their heartbeat.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import params as P
from .. import spec as S
from ..reference import BREAKER_NAMES
from ..units import to_feed_answer
from .lens import read_assets
from .manifest import Deployment
from .node import set_next_timestamp

#: The oracle stores a price below 2**128 WAD ("oracle: price out of range").
MAX_PRICE_WAD = 2**128 - 1
_HEARTBEAT, _GRACE = S.ORACLE.index("heartbeat"), S.ORACLE.index("grace")


def representable_range(decimals: int = P.FEED_DECIMALS) -> tuple[float, float]:
    """(smallest, largest) USD price a feed with ``decimals`` decimals and the oracle can
    both hold: one unit of the last decimal, and 2**128 - 1 WAD."""
    return 10.0**-decimals, MAX_PRICE_WAD / 1e18


def check_path(prices: Sequence[float], decimals: int = P.FEED_DECIMALS) -> None:
    """Raise ``ValueError`` (one line, naming the first bad step, 1-based) if a price of the
    path is not finite or leaves ``representable_range``: a feed answer of 0 is a fault
    the oracle rejects, and a price over 2**128 WAD reverts the poke."""
    lo, hi = representable_range(decimals)
    for k, price in enumerate(prices, start=1):
        if not math.isfinite(price) or to_feed_answer(price, decimals) < 1 or price > hi:
            raise ValueError(
                f"price path leaves the representable range at step {k}: {price:.6g} USD "
                f"(a {decimals}-decimal feed and the oracle hold {lo:g} to {hi:.3g} USD)"
            )


@dataclass(frozen=True)
class PriceAge:
    """The oracle's view of one asset's price at block time ``now`` (Unix seconds).

    ``price_usd``: last accepted price; ``age_s``: now - its feed timestamp;
    ``max_age_s``: heartbeat + grace, beyond which the price is stale (``risk`` reverts
    "oracle: stale price" and the next poke trips REDUCE_ONLY); ``breaker``: the state's
    name as stored (it changes only on a poke); ``invalid``: the last poke saw a bad answer.
    """

    symbol: str
    price_usd: float
    age_s: int
    max_age_s: int
    breaker: str
    invalid: bool

    @property
    def stale(self) -> bool:
        """Older than heartbeat + grace."""
        return self.age_s > self.max_age_s

    def label(self) -> str:
        """``WETH 1,200 s`` plus `` STALE`` / `` INVALID`` when so."""
        flags = (" STALE" if self.stale else "") + (" INVALID" if self.invalid else "")
        return f"{self.symbol} {self.age_s:,} s{flags}"


def max_age(dep: Deployment, symbol: str) -> int:
    """Heartbeat + grace of ``symbol`` on the oracle, seconds."""
    asset = dep.tokens[symbol].address
    return int(dep.oracle.params(asset, _HEARTBEAT)) + int(dep.oracle.params(asset, _GRACE))


def ages(dep: Deployment, symbols: Iterable[str] | None = None) -> list[PriceAge]:
    """``PriceAge`` of each symbol (default: all of the deployment) at the latest block."""
    symbols = list(symbols or dep.tokens)
    now, rows = read_assets(dep.lens, [str(dep.tokens[s].address) for s in symbols])
    return [
        PriceAge(s, r.price / 1e18, now - r.updated_at, max_age(dep, s), BREAKER_NAMES[r.breaker], r.invalid)
        for s, r in zip(symbols, rows)
    ]


def check_reporter(dep: Deployment, reporter: Any, symbols: Iterable[str]) -> None:
    """Raise ``ValueError`` (one line) unless ``reporter`` may push into the feed of each of
    ``symbols``: it must hold ``REPORTER_ROLE`` of a MockAggregator-compatible feed (the feeds
    of a deployment's mocks are its deployer's; a feed deployed by someone else, as a
    third-party feed named in a config, has that party's reporters). Without this check
    the push reverts with the feed's access-control message and a call trace."""
    who = str(reporter.address)
    for sym in dict.fromkeys(symbols):
        feed = dep.feeds[sym]
        try:
            allowed = bool(feed.hasRole(feed.REPORTER_ROLE(), who))
        except Exception:  # noqa: BLE001 - a feed without the role views cannot be pushed into
            raise ValueError(f"the {sym} feed {feed.address} is not a MockAggregator-compatible feed: "
                             "prices cannot be pushed into it") from None
        if not allowed:
            raise ValueError(f"{who} may not push into the {sym} feed {feed.address}: it lacks REPORTER_ROLE "
                             "(give --reporter with an account that holds it, have the feed's admin grant it, "
                             "or --no-keep-alive to push into the one feed only)")


def push(chain: Any, dep: Deployment, symbol: str, usd: float, reporter: Any, poke: bool = True,
         at: int | None = None) -> Any:
    """Push ``usd`` (USD per whole token) into ``symbol``'s feed at block time, then poke
    the oracle (unless ``poke`` is false). Returns the push receipt.

    ``at`` (Unix seconds, development chains): the block time of the push. The push is
    never in the second of the feed's last round: if it would be (a second push within
    one second), the clock moves to one second after that round first, because the
    oracle accepts only later rounds and would drop the new answer without a word.

    Raises ``ValueError`` for a price outside ``representable_range``.
    """
    check_path([usd])
    feed = dep.feeds[symbol]
    last = int(feed.latestRoundData()[3])
    if at is not None or last >= chain.blocks.head.timestamp:
        set_next_timestamp(chain, max(at or 0, last + 1))
    receipt = feed.push(to_feed_answer(usd, P.FEED_DECIMALS), 0, sender=reporter)
    if poke:
        dep.oracle.poke(dep.tokens[symbol].address, sender=reporter)
    return receipt


def keep_alive(chain: Any, dep: Deployment, at: int, reporter: Any, skip: Sequence[str] = (),
               poke: bool = True) -> list[str]:
    """Re-push the last answer of every feed (but ``skip``) whose round would be older
    than its heartbeat at time ``at`` (Unix seconds), as a live Chainlink feed does at
    each heartbeat; poke the oracle for them unless ``poke`` is false. Returns the
    symbols re-pushed."""
    heartbeat = {s: int(dep.oracle.params(dep.tokens[s].address, _HEARTBEAT)) for s in dep.tokens}
    due = []
    for s, feed in dep.feeds.items():
        if s in skip:
            continue
        _, answer, _, updated_at, _ = feed.latestRoundData()
        if at - int(updated_at) > heartbeat[s]:
            feed.push(int(answer), 0, sender=reporter)
            due.append(s)
    if due and poke:
        dep.oracle.poke_many([dep.tokens[s].address for s in due], sender=reporter)
    return due
