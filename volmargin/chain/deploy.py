"""Deploy and drive the volmargin contracts through Ape (or titanoboa, for the stateful test).

``deploy_system`` deploys three mock tokens (USD 6 decimals, WETH 18, WBTC
8), their MockAggregator feeds (8 decimals), the RiskOracle and the
MarginVault with the defaults of ``volmargin.params``, lists the assets, and
(optionally) seeds lender liquidity. It mirrors each step in
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
    helpers' transactions (default: Ape's).
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
    last_rounds: dict[str, ref.FeedRound] = field(default_factory=dict)
    backend: Backend = field(default_factory=ApeBackend)

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
            "assets": {
                s: {
                    "token": str(self.tokens[s].address),
                    "feed": str(self.feeds[s].address),
                    "decimals": self.specs[s].decimals,
                    "oracle_params": S.ORACLE.as_dict(self.specs[s].oracle),
                    "rate_params": S.ASSET.as_dict(self.specs[s].rates),
                    "var_seed": self.specs[s].var_seed,
                }
                for s in self.tokens
            },
            "vault_params": S.VAULT.as_dict(self.vault_ref.params),
            "max_rel_change": P.MAX_REL_CHANGE,
            "min_change_delay": P.MIN_CHANGE_DELAY,
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
        ``seed_liquidity[symbol]`` whole tokens of each asset.
    """
    backend = project if isinstance(project, Backend) else ApeBackend(project)
    start_prices = start_prices or {}
    oracle = backend.deploy("RiskOracle", P.MAX_REL_CHANGE, P.MIN_CHANGE_DELAY, sender=admin)
    vault = backend.deploy("MarginVault", oracle.address, list(vault_params), P.MAX_REL_CHANGE, P.MIN_CHANGE_DELAY,
                           sender=admin)
    oracle_ref = ref.OracleRef()
    vault_ref = ref.VaultRef(oracle=oracle_ref, params=list(vault_params))
    system = System(admin, {}, {}, oracle, vault, {s.symbol: s for s in specs}, oracle_ref, vault_ref, {},
                    backend=backend)
    for spec in specs:
        _list_asset(system, spec, start_prices.get(spec.symbol, spec.start_price_usd))
    if lender is not None and seed_liquidity:
        for symbol, whole in seed_liquidity.items():
            amount = whole * 10 ** system.specs[symbol].decimals
            fund(system, lender, symbol, amount)
            r = backend.transact(vault, "deposit", system.address(symbol), amount, sender=lender)
            vault_ref.deposit(backend.address(lender), system.address(symbol), amount, r.timestamp)
    return system


def _list_asset(system: System, spec: P.TokenSpec, price: float) -> None:
    """Deploy ``spec``'s token and feed (first round at ``price``, USD per whole token) and
    list the asset in the oracle and the vault, mirrored in the reference."""
    backend, admin, sym = system.backend, system.admin, spec.symbol
    system.tokens[sym] = backend.deploy("MockERC20", spec.name, sym, spec.decimals, sender=admin)
    system.feeds[sym] = backend.deploy(
        "MockAggregator", P.FEED_DECIMALS, spec.feed_description, to_feed_answer(price, P.FEED_DECIMALS), 0, sender=admin
    )
    asset, token = system.address(sym), system.tokens[sym]
    rnd = system.feed_round(sym)
    r = backend.transact(system.oracle, "list_asset", asset, system.feeds[sym].address, spec.var_seed,
                         list(spec.oracle), sender=admin)
    system.oracle_ref.list_asset(asset, P.FEED_DECIMALS, rnd, spec.var_seed, list(spec.oracle), r.timestamp)
    # MarginVault.list_asset's fee-on-transfer probe: one whole token, pulled from the admin and returned
    backend.transact(token, "mint", backend.address(admin), 10**spec.decimals, sender=admin)
    backend.transact(token, "approve", system.vault.address, 10**spec.decimals, sender=admin)
    r = backend.transact(system.vault, "list_asset", asset, list(spec.rates), sender=admin)
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
