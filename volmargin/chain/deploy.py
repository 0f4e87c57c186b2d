"""Deploy and drive the volmargin contracts through Ape (or titanoboa, for the stateful test).

``deploy_system`` deploys three mock tokens (USD 6 decimals, WETH 18, WBTC
8), their MockAggregator feeds (8 decimals), the RiskOracle and the
MarginVault with the defaults of ``volmargin.params``, lists the assets, and
(optionally) seeds lender liquidity. Given ``addresses``, it lists existing
tokens and feeds (third-party ERC-20s, Chainlink AggregatorV3 feeds) instead
of deploying mocks for them (``volmargin.chain.config`` builds both from a
deployment config). It mirrors each step in
``volmargin.reference`` so that callers can hold the chain to the reference
from the first block. The steps go through a ``volmargin.chain.backends``
backend: Ape's (given an Ape ``project``) or titanoboa's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import params as P
from .. import reference as ref
from .. import spec as S
from ..units import to_feed_answer
from .backends import ApeBackend, Backend

@dataclass
class System:
    """Handles of a deployed volmargin system and its reference mirror.

    ``tokens``/``feeds`` map a symbol ("USD", "WETH", "WBTC") to the
    contract instance (Ape's, or titanoboa's). ``oracle_ref``/``vault_ref`` are
    the exact mirrors, keyed by token address. ``backend`` sends the driving
    helpers' transactions (default: Ape's). ``txs`` maps each deployment step
    (``oracle``, ``WETH.list_oracle``, ...) to its transaction hash (Ape only);
    ``mocks[symbol]`` is (token is a mock, feed is a mock); ``limits`` the
    risk steward's (max_rel_change WAD, min_change_delay s); ``lens`` the VaultLens
    beside the vault (batched reads).
    """

    admin: Any
    tokens: dict[str, Any]
    feeds: dict[str, Any]
    oracle: Any
    vault: Any
    specs: dict[str, P.TokenSpec]
    oracle_ref: ref.OracleRef
    vault_ref: ref.VaultRef
    gas: dict[str, int] = field(default_factory=dict)
    txs: dict[str, str] = field(default_factory=dict)
    mocks: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    limits: tuple[int, int] = (P.MAX_REL_CHANGE, P.MIN_CHANGE_DELAY)
    last_rounds: dict[str, ref.FeedRound] = field(default_factory=dict)
    backend: Backend = field(default_factory=ApeBackend)
    #: The VaultLens beside the vault (``accounts_view``, batched reads).
    lens: Any = None

    @property
    def symbols(self) -> list[str]:
        """Listed symbols, in the vault's `listed` order."""
        return list(self.tokens)

    def address(self, symbol: str) -> str:
        """Token address of ``symbol``; ``KeyError`` names the known symbols."""
        if symbol not in self.tokens:
            raise KeyError(f"unknown asset {symbol!r}; known: {', '.join(self.tokens)}")
        return str(self.tokens[symbol].address)

    def to_json(self) -> dict[str, Any]:
        """Addresses and parameters, as written to the deployment JSON."""
        return {
            "admin": str(self.admin.address),
            "oracle": str(self.oracle.address),
            "vault": str(self.vault.address),
            "lens": str(self.lens.address),
            "assets": {
                s: {
                    "token": str(self.tokens[s].address),
                    "feed": str(self.feeds[s].address),
                    "decimals": self.specs[s].decimals,
                    **({"mock_token": self.mocks[s][0], "mock_feed": self.mocks[s][1]} if s in self.mocks else {}),
                    "oracle_params": S.ORACLE.as_dict(self.specs[s].oracle),
                    "rate_params": S.ASSET.as_dict(self.specs[s].rates),
                    "var_seed": self.specs[s].var_seed,
                }
                for s in self.tokens
            },
            "vault_params": S.VAULT.as_dict(self.vault_ref.params),
            "max_rel_change": self.limits[0],
            "min_change_delay": self.limits[1],
            "units": "WAD = 1e18; variances WAD/s; rates WAD/year; times s; USD values WAD USD",
        }

    def write_json(self, path: Path) -> Path:
        """Write the deployment JSON to ``path`` (parents created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2))
        return path

    # -- driving helpers, each mirrored in the reference

    def feed_round(self, symbol: str) -> ref.FeedRound:
        """The feed's latestRoundData as a reference FeedRound (cached after a push)."""
        if symbol not in self.last_rounds:
            r = self.feeds[symbol].latestRoundData()
            self.last_rounds[symbol] = ref.FeedRound(int(r[0]), int(r[1]), int(r[3]), int(r[4]))
        return self.last_rounds[symbol]

    def push_price(self, symbol: str, usd: float, sender: Any | None = None) -> Any:
        """Push ``usd`` (USD per whole token) into the feed of ``symbol`` at block time.

        The round is read back from the receipt's AnswerUpdated event.
        """
        answer = to_feed_answer(usd, P.FEED_DECIMALS)
        receipt = self.backend.transact(self.feeds[symbol], "push", answer, 0, sender=sender or self.admin)
        ev = receipt.events[0]
        round_id = int(ev.roundId)
        self.last_rounds[symbol] = ref.FeedRound(round_id, int(ev.current), int(ev.updatedAt), round_id)
        return receipt

    def poke(self, symbols: list[str] | None = None, sender: Any | None = None) -> Any:
        """``oracle.poke_many`` for ``symbols`` (default: all), mirrored in the reference."""
        symbols = symbols or self.symbols
        rounds = {s: self.feed_round(s) for s in symbols}
        receipt = self.backend.transact(self.oracle, "poke_many", [self.address(s) for s in symbols],
                                        sender=sender or self.admin)
        for s in symbols:
            self.oracle_ref.poke(self.address(s), rounds[s], receipt.timestamp)
        return receipt


def deploy_system(
    project: Any,
    admin: Any,
    *,
    start_prices: dict[str, float] | None = None,
    specs: tuple[P.TokenSpec, ...] = P.TOKENS,
    vault_params: tuple[int, ...] = P.VAULT,
    lender: Any | None = None,
    seed_liquidity: dict[str, int] | None = None,
    addresses: dict[str, tuple[str | None, str | None]] | None = None,
    max_rel_change: int = P.MAX_REL_CHANGE,
    min_change_delay: int = P.MIN_CHANGE_DELAY,
    portfolio_floor: int = P.PORTFOLIO_FLOOR,
    correlations: dict[tuple[str, str], tuple[int, int]] | None = None,
) -> System:
    """Deploy tokens, feeds, oracle and vault; list the assets; seed liquidity.

    Parameters
    ----------
    project, admin
        Ape ``project``, or a ``volmargin.chain.backends.Backend`` (e.g.
        ``BoaBackend``), and the deployer account (gets DEFAULT_ADMIN_ROLE).
    start_prices
        USD price per whole token for each feed's first round (default:
        each spec's ``start_price_usd``).
    specs, vault_params
        Parameters (``volmargin.params``).
    lender, seed_liquidity
        If both are given, ``lender`` is minted and deposits
        ``seed_liquidity[symbol]`` whole tokens of each asset (mock tokens only).
    addresses
        ``{symbol: (token, feed)}``: existing contracts to list instead of
        deploying mocks (None for either: deploy the mock). An existing token
        must already hold one whole token of the admin for the vault's
        fee-on-transfer probe (a mock is minted it).
    max_rel_change, min_change_delay
        Risk-steward limits of both contracts (WAD; seconds).
    portfolio_floor, correlations
        Portfolio margin (docs/design.md §5.6): the oracle's floor (WAD; 1e18 leaves it off)
        and the correlation bounds ``{(symbol_a, symbol_b): (rho_lo, rho_hi)}`` (signed WAD;
        default ``params.CORRELATIONS``), set on the oracle after the listings; a pair whose
        symbols are not both among ``specs`` is skipped.
    """
    backend = project if isinstance(project, Backend) else ApeBackend(project)
    start_prices, addresses = start_prices or {}, addresses or {}
    oracle_ref = ref.OracleRef()
    vault_ref = ref.VaultRef(oracle=oracle_ref, params=list(vault_params))
    system = System(admin, {}, {}, None, None, {s.symbol: s for s in specs}, oracle_ref, vault_ref, {},
                    backend=backend, limits=(max_rel_change, min_change_delay))
    system.oracle = _step(system, "oracle", backend.deploy("RiskOracle", max_rel_change, min_change_delay, sender=admin))
    system.vault = _step(system, "vault", backend.deploy("MarginVault", system.oracle.address, list(vault_params),
                                                         max_rel_change, min_change_delay, sender=admin))
    system.lens = _step(system, "lens", backend.deploy("VaultLens", system.vault.address, sender=admin))
    # the vault opens its first liquidation-cap window at deployment (docs/design.md §7.5): so does the mirror
    vault_ref.liq_window_start = int(system.vault.liq_window_start())
    for spec in specs:
        token, feed = addresses.get(spec.symbol, (None, None))
        _list_asset(system, spec, start_prices.get(spec.symbol, spec.start_price_usd), token, feed)
    _set_portfolio(system, portfolio_floor, P.CORRELATIONS if correlations is None else correlations)
    if lender is not None and seed_liquidity:
        for symbol, whole in seed_liquidity.items():
            amount = whole * 10 ** system.specs[symbol].decimals
            fund(system, lender, symbol, amount)
            r = backend.transact(system.vault, "deposit", system.address(symbol), amount, sender=lender)
            _step(system, f"{symbol}.seed_deposit", r)
            system.vault_ref.deposit(backend.address(lender), system.address(symbol), amount, r.timestamp)
    return system


def _set_portfolio(system: System, floor: int, correlations: dict[tuple[str, str], tuple[int, int]]) -> None:
    """Set the oracle's correlation pairs (those whose symbols are both listed) and its
    portfolio floor (when below 1e18), mirrored in the reference."""
    backend, admin = system.backend, system.admin
    for (a, b), (lo, hi) in correlations.items():
        if a in system.specs and b in system.specs:
            _step(system, f"{a}-{b}.correlation", backend.transact(
                system.oracle, "set_correlation", system.address(a), system.address(b), lo, hi, sender=admin))
            system.oracle_ref.set_correlation(system.address(a), system.address(b), lo, hi)
    if floor != P.WAD:
        _step(system, "portfolio_floor", backend.transact(system.oracle, "set_portfolio_floor", floor, sender=admin))
        system.oracle_ref.set_portfolio_floor(floor)


def _step(system: System, name: str, result: Any) -> Any:
    """Record the transaction hash of a deployed contract or a receipt (Ape's) under ``name``; ``result``."""
    tx = getattr(result, "txn_hash", None)
    if tx is not None:
        system.txs[name] = tx if isinstance(tx, str) else "0x" + bytes(tx).hex()
    return result


def _list_asset(system: System, spec: P.TokenSpec, price: float, token: str | None = None,
                feed: str | None = None) -> None:
    """List ``spec``'s asset in the oracle and the vault, mirrored in the reference: the
    token and feed at ``token``/``feed`` when given, else mocks deployed here (the feed's
    first round at ``price``, USD per whole token)."""
    backend, admin, sym = system.backend, system.admin, spec.symbol
    system.mocks[sym] = (token is None, feed is None)
    system.tokens[sym] = (backend.at("MockERC20", token) if token is not None else
                          _step(system, f"{sym}.token", backend.deploy("MockERC20", spec.name, sym, spec.decimals,
                                                                       sender=admin)))
    system.feeds[sym] = (backend.at("MockAggregator", feed) if feed is not None else _step(
        system, f"{sym}.feed", backend.deploy("MockAggregator", P.FEED_DECIMALS, spec.feed_description,
                                              to_feed_answer(price, P.FEED_DECIMALS), 0, sender=admin)))
    asset, tok = system.address(sym), system.tokens[sym]
    feed_decimals = P.FEED_DECIMALS if feed is None else int(system.feeds[sym].decimals())
    rnd = system.feed_round(sym)
    r = _step(system, f"{sym}.list_oracle", backend.transact(
        system.oracle, "list_asset", asset, system.feeds[sym].address, spec.var_seed, list(spec.oracle), sender=admin))
    system.oracle_ref.list_asset(asset, feed_decimals, rnd, spec.var_seed, list(spec.oracle), r.timestamp)
    # MarginVault.list_asset's fee-on-transfer probe: one whole token, pulled from the admin and returned
    if token is None:
        _step(system, f"{sym}.probe_mint",
              backend.transact(tok, "mint", backend.address(admin), 10**spec.decimals, sender=admin))
    _step(system, f"{sym}.probe_approve",
          backend.transact(tok, "approve", system.vault.address, 10**spec.decimals, sender=admin))
    r = _step(system, f"{sym}.list_vault", backend.transact(system.vault, "list_asset", asset, list(spec.rates),
                                                            sender=admin))
    system.oracle_ref.poke(asset, rnd, r.timestamp)
    system.vault_ref.list_asset(asset, spec.decimals, list(spec.rates), r.timestamp)


def fund(system: System, account: Any, symbol: str, amount: int) -> None:
    """Mint ``amount`` (token decimals) of ``symbol`` to ``account`` and approve the vault for all."""
    backend, token = system.backend, system.tokens[symbol]
    who = backend.address(account)
    backend.transact(token, "mint", who, amount, sender=system.admin)
    if token.allowance(who, system.vault.address) < 2**255:
        backend.transact(token, "approve", system.vault.address, 2**256 - 1, sender=account)


def skip_debug_log_tracing() -> None:
    """Stop Ape from re-tracing every transaction to look for Vyper ``print`` output.

    After each transaction to a contract, Ape 0.8 traces it to show debug
    logs; on the embedded chain that costs about an eighth of a replay's time.
    volmargin's contracts never ``print``, so scripts switch it off for their
    process. Tests leave it on.

    Ape 0.8.51 has no supported switch for this: its provider wrapper
    (``ape_ethereum.provider._post_send_transaction``) calls
    ``receipt.show_debug_logs()`` after every transaction to a contract
    unconditionally (the source marks it ``TODO: Optional configuration?``);
    no ``ape-config.yaml`` key (``test``, ``ethereum``, ``foundry``), provider
    or network option reaches it, and a quieter log level does not help
    because the trace is taken before the line is logged. So the method is
    replaced on ``ReceiptAPI``, the public method that call goes through.

    Raises
    ------
    RuntimeError
        If the installed Ape no longer has ``ReceiptAPI.show_debug_logs``
        (the replacement would silently do nothing).
    """
    from ape.api.transactions import ReceiptAPI

    if not callable(getattr(ReceiptAPI, "show_debug_logs", None)):
        raise RuntimeError("ape.api.transactions.ReceiptAPI.show_debug_logs is gone: revisit skip_debug_log_tracing")
    ReceiptAPI.show_debug_logs = lambda self: None  # type: ignore[method-assign]
