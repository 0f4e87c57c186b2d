"""Moving the market in unit tests: advance time, push every feed, poke."""

from __future__ import annotations

from typing import Any

#: The prices of the default deployment (volmargin.params.TOKENS), USD per token.
BASE_PRICES = {"USD": 1.0, "WETH": 2_000.0, "WBTC": 30_000.0}


def refresh(system: Any, chain: Any, seconds: int = 3_600, symbols: tuple[str, ...] | None = None,
            **prices: float) -> Any:
    """Advance ``seconds``, push the feeds of ``symbols`` (default: every asset) at the
    base price unless given (USD per token), and poke those assets; returns the poke's
    receipt. Assets left out keep their last round and are not poked."""
    chain.pending_timestamp += seconds
    for sym in symbols or tuple(BASE_PRICES):
        system.push_price(sym, {**BASE_PRICES, **prices}[sym])
    return system.poke(list(symbols) if symbols else None)
