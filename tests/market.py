"""Moving the market in unit tests: advance time, push every feed, poke."""

from __future__ import annotations

from typing import Any

#: The prices of the default deployment (volmargin.params.TOKENS), USD per token.
BASE_PRICES = {"USD": 1.0, "WETH": 2_000.0, "WBTC": 30_000.0}


def refresh(system: Any, chain: Any, seconds: int = 3_600, **prices: float) -> Any:
    """Advance ``seconds``, push every feed (the base price unless given, USD) and
    poke every asset; returns the poke's receipt."""
    chain.pending_timestamp += seconds
    for sym, price in {**BASE_PRICES, **prices}.items():
        system.push_price(sym, price)
    return system.poke()
