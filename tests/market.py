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


def spike_then_calm(system: Any, chain: Any, volatile_hours: int = 12, calm_hours: int = 23) -> float:
    """WETH hourly rounds alternating +5 % / -5 % for ``volatile_hours``, then flat hourly
    rounds (USD and WBTC at their base prices throughout); returns WETH's last price (USD).
    With the WETH defaults the fast variance, and the initial-haircut formula with it, falls
    at once, while the maintenance haircut in force comes down at ramp_down (0.5 %/h): 23
    calm hours leave the formula about 8 points below it, with the breaker back in NORMAL
    (docs/design.md §4.3)."""
    price = BASE_PRICES["WETH"]
    for n in range(volatile_hours):
        price = price * 1.05 if n % 2 == 0 else price / 1.05
        refresh(system, chain, WETH=price)
    for _ in range(calm_hours):
        refresh(system, chain, WETH=price)
    return price
