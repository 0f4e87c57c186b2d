"""Seeded populations of leveraged accounts and how they open (issue #5 item 3).

Kinds and shares (before toxic collateral): long ETH (WETH collateral, USD debt) 35 %,
long BTC 25 %, long ETH+BTC 25 % (ETH share uniform in [0.2, 0.8]), short ETH (USD
collateral, WETH debt) 15 %. Where the episode lists toxic collateral (LUNA, FTT),
``TOXIC_SHARE`` of the accounts are long that asset against USD instead. Collateral value
is log-uniform in [5k, 200k] USD ([5k, 2M] USD for toxic collateral: whales parked
FTT and LUNA in lending markets); each account draws a leverage uniform in [0.55, 0.99],
the fraction of borrowing power it uses. Random numbers: ``numpy`` PCG64 with the given seed.

Two ways to open (issue #5 item 3):

* ``"identical"``: every policy holds the same balances: each account borrows its leverage
  times the *smallest* borrowing power over the compared policies, so every position is
  one that every policy would have let it open;
* ``"fraction"``: under each policy each account borrows its leverage times *that
  policy's* borrowing power: capital efficiency and risk traded fairly.

Borrowing power (docs/design.md §5): the largest debt ``x`` (whole tokens) keeping
``health_init >= 0``, i.e. ``init_assets = p_d x (1 + h_init_d + kappa_d sqrt(p_d x / depth_d))``
solved by fixed-point iteration (the size term of a USD debt is 0). ``open_at_leverage``
opens every account at its leverage times that borrowing power (the main-job replay and the
stress lab's on-chain subset both open this way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KIND_NAMES: tuple[str, ...] = ("long_eth", "long_btc", "long_mix", "short_eth", "long_toxic", "hedge_eth_btc",
                               "hedge_btc_eth")
#: Books of ``make_population(book=...)``: the lab's mix, or the portfolio-margin study's books
#: (issue #14): ``hedged`` = half long WETH against a WBTC borrow, half long WBTC against a WETH
#: borrow; ``diversified`` = WETH and WBTC against a USD borrow (the ``long_mix`` kind).
BOOKS: tuple[str, ...] = ("lab", "hedged", "diversified")
BASE_SHARES: tuple[float, ...] = (0.35, 0.25, 0.25, 0.15)
#: Share of accounts holding the episode's toxic collateral, where there is one.
TOXIC_SHARE = 0.10
COLLATERAL_USD = (5e3, 2e5)
TOXIC_COLLATERAL_USD = (5e3, 2e6)
LEVERAGE = (0.55, 0.99)
OPEN_MODES: tuple[str, ...] = ("identical", "fraction")


@dataclass(frozen=True)
class Population:
    """Seeded accounts over the assets ``symbols``.

    ``kind`` (N,) indices into ``KIND_NAMES``; ``collateral_usd`` (N, A) USD of each
    deposit at opening; ``debt_asset`` (N,) column of the borrowed asset; ``leverage`` (N,)
    fraction of borrowing power used.
    """

    symbols: tuple[str, ...]
    kind: np.ndarray
    collateral_usd: np.ndarray
    debt_asset: np.ndarray
    leverage: np.ndarray

    def __len__(self) -> int:
        return int(self.kind.shape[0])


def make_population(n: int, seed: int, symbols: tuple[str, ...] | list[str], toxic: str | None = None,
                    book: str = "lab") -> Population:
    """``n`` seeded accounts over ``symbols`` (which must contain USD, WETH and WBTC).

    ``book`` (``BOOKS``): "lab" is the module docstring's mix (toxic collateral where given);
    "hedged" and "diversified" replace every account's kind (same random draws: collateral
    value, ETH share, leverage) and ignore ``toxic``.

    Raises
    ------
    ValueError
        ``n < 1``, a missing base symbol, a ``toxic`` symbol not in ``symbols``, an unknown ``book``.
    """
    if book not in BOOKS:
        raise ValueError(f"unknown book {book!r}; known: {', '.join(BOOKS)}")
    if n < 1:
        raise ValueError(f"accounts must be >= 1, got {n}")
    symbols = tuple(symbols)
    for s in ("USD", "WETH", "WBTC") + ((toxic,) if toxic else ()):
        if s not in symbols:
            raise ValueError(f"symbols must contain {s!r}, got {symbols}")
    col = {s: i for i, s in enumerate(symbols)}
    rng = np.random.Generator(np.random.PCG64(seed))
    shares = np.array(BASE_SHARES + (0.0,))
    if toxic:
        shares = np.r_[np.array(BASE_SHARES) * (1.0 - TOXIC_SHARE), TOXIC_SHARE]
    kind = rng.choice(len(shares), size=n, p=shares / shares.sum())  # the lab kinds (the first five)
    lo, hi = np.log(COLLATERAL_USD[0]), np.log(COLLATERAL_USD[1])
    usd = np.exp(rng.uniform(lo, hi, n))
    usd_toxic = np.exp(rng.uniform(np.log(TOXIC_COLLATERAL_USD[0]), np.log(TOXIC_COLLATERAL_USD[1]), n))
    w = rng.uniform(0.2, 0.8, n)
    lev = rng.uniform(LEVERAGE[0], LEVERAGE[1], n)
    c = np.zeros((n, len(symbols)))
    debt = np.full(n, col["USD"])
    k = kind
    c[k == 0, col["WETH"]] = usd[k == 0]
    c[k == 1, col["WBTC"]] = usd[k == 1]
    c[k == 2, col["WETH"]] = (w * usd)[k == 2]
    c[k == 2, col["WBTC"]] = ((1 - w) * usd)[k == 2]
    c[k == 3, col["USD"]] = usd[k == 3]
    debt[k == 3] = col["WETH"]
    if toxic:
        c[k == 4, col[toxic]] = usd_toxic[k == 4]
    if book == "lab":
        return Population(symbols, kind, c, debt, lev)
    c = np.zeros((n, len(symbols)))
    if book == "diversified":
        kind = np.full(n, KIND_NAMES.index("long_mix"))
        c[:, col["WETH"]], c[:, col["WBTC"]] = w * usd, (1 - w) * usd
        return Population(symbols, kind, c, np.full(n, col["USD"]), lev)
    eth_first = np.arange(n) % 2 == 0
    kind = np.where(eth_first, KIND_NAMES.index("hedge_eth_btc"), KIND_NAMES.index("hedge_btc_eth"))
    c[eth_first, col["WETH"]] = usd[eth_first]
    c[~eth_first, col["WBTC"]] = usd[~eth_first]
    return Population(symbols, kind, c, np.where(eth_first, col["WBTC"], col["WETH"]), lev)


def borrowing_power(
    collateral_tokens: np.ndarray,
    debt_asset: np.ndarray,
    prices: np.ndarray,
    h_init: np.ndarray,
    kappa: np.ndarray,
    depth: np.ndarray,
    breaker: np.ndarray | None = None,
    caution_scale: float = 1.0,
    iterations: int = 6,
    h_conc: np.ndarray | None = None,
) -> np.ndarray:
    """Largest debt (whole tokens of ``debt_asset``) each account may draw (docs/design.md §4-§5).

    Parameters
    ----------
    collateral_tokens : (N, A) whole tokens deposited (>= 0).
    debt_asset : (N,) column of the borrowed asset.
    prices, h_init, kappa, depth : (A,) oracle price (USD), initial haircut without the
        size term, size coefficient and depth (USD).
    breaker : (A,) breaker states; deposits of a CAUTION asset count ``caution_scale`` times.
    h_conc : (A,) concentration haircuts added to every deposit's initial haircut
        (``model.concentration_haircut``; docs/design.md §4.3), or None (none).

    Returns
    -------
    (N,) whole tokens; 0 where the collateral supports nothing.
    """
    from volmargin import model as M

    dep = collateral_tokens * prices
    hi = np.minimum(h_init + M.size_haircut(kappa, depth, dep) + (0.0 if h_conc is None else h_conc), 1.0)
    w = np.maximum(1.0 - hi, 0.0)
    if breaker is not None:
        w = w * np.where(np.asarray(breaker) == M.CAUTION, caution_scale, 1.0)
    init_assets = (dep * w).sum(axis=1)
    pd = prices[debt_asset]
    hd = h_init[debt_asset]
    kd, dd = kappa[debt_asset], depth[debt_asset]
    x = init_assets / (pd * (1.0 + hd))
    for _ in range(iterations):
        size = M.size_haircut(kd, dd, pd * x)
        x = init_assets / (pd * np.minimum(1.0 + hd + size, 2.0))
    return np.maximum(x, 0.0)


def open_balances(pop: Population, prices: np.ndarray, debt_tokens: np.ndarray) -> np.ndarray:
    """(N, A) signed balances (whole tokens): collateral bought at ``prices`` (USD, (A,)),
    minus ``debt_tokens`` (N,) of each account's debt asset."""
    b = pop.collateral_usd / prices
    b[np.arange(len(pop)), pop.debt_asset] -= debt_tokens
    return b


def open_at_leverage(
    pop: Population,
    prices: np.ndarray,
    h_init: np.ndarray,
    kappa: np.ndarray,
    depth: np.ndarray,
    breaker: np.ndarray | None = None,
    caution_scale: float = 1.0,
    headroom: float = 1.0,
) -> np.ndarray:
    """(N, A) signed opening balances (whole tokens): each account's collateral bought at
    ``prices`` and a debt of ``headroom * leverage * borrowing_power`` (docs/design.md §5).

    ``prices``, ``h_init``, ``kappa``, ``depth``, ``breaker``, ``caution_scale``: as
    ``borrowing_power`` (arrays of shape (A,), in ``pop.symbols`` order); ``headroom`` (0..1]
    keeps a margin below the model's borrowing power for a chain that rounds against the
    borrower.
    """
    bp = borrowing_power(pop.collateral_usd / prices, pop.debt_asset, prices, h_init, kappa, depth, breaker,
                         caution_scale)
    return open_balances(pop, prices, headroom * pop.leverage * bp)
