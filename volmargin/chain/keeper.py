"""A keeper for a live volmargin deployment: pokes the oracle, liquidates, settles bad debt.

One *round* (``Keeper.run_round``):

1. **poke**: for every listed asset whose feed has a round newer than the one the
   RiskOracle last accepted (the feed's ``latestRoundData`` ``updatedAt`` against the
   oracle's stored ``updated_at``), one ``poke_many`` for all of them (docs/design.md §3, §4, §7);
2. **scan**: the vault's ``Deposit`` and ``Borrow`` logs from the deployment block on,
   incrementally, add their accounts to the in-memory set (an account needs one of the
   two to hold a position);
3. **read**: ``read_accounts`` in batches of up to 256; accounts without any balance
   leave the set until a new log names them;
4. **act** on each account with maintenance assets below maintenance liabilities
   (docs/design.md §5): ``settle_bad_debt`` if it has debt and no collateral left,
   otherwise ``liquidate`` on the (debt, collateral) pair that pays the liquidator most,
   only when the gain exceeds the gas cost plus a slippage allowance (docs/design.md §6).

The amounts of a liquidation are those of ``MarginVault.liquidate``, computed by the exact
reference's ``liquidation_amounts`` (the function ``VaultRef.liquidate`` uses: ``max_repay``,
``bonus``, ``seize_amount``, ``repay_for_seize``) from the balances, health sums and prices
the lens views return.

Every action or refusal is one JSON line (``record``): ``ts`` (Unix seconds), ``block``,
``action`` (``poke`` / ``liquidate`` / ``settle`` / ``skip`` / ``error``), ``account``,
``assets`` (symbols), ``amounts`` (token decimals; ``*_usd`` in USD), ``gas_used`` and
``reason`` (the revert string on a revert). Reads and gas estimates are retried with a
capped exponential backoff; a revert is never retried and never ends the round.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

from eth_utils import keccak, to_checksum_address

from .. import reference as ref
from .lens import AccountRow, AssetRow, read_accounts, read_assets, require_lens
from .manifest import Deployment

UINT256_MAX = 2**256 - 1
#: Most accounts ``MarginVault.accounts_view`` reads in one call (MAX_LENS).
MAX_LENS = 256
ACTIONS = ("poke", "liquidate", "settle", "skip", "error")
#: Vault events whose first indexed topic is an account that may hold a position.
ACCOUNT_EVENTS = ("Deposit(address,address,uint256,address)", "Borrow(address,address,uint256)")

Emit = Callable[[dict[str, Any]], None]


class KeeperError(RuntimeError):
    """A keeper that cannot start: no price for the native asset, an unusable option."""


@dataclass(frozen=True)
class KeeperConfig:
    """Tuning of a keeper.

    ``slippage``: fraction of the seized collateral's USD value set aside for selling it
    (also the tolerance of the ``min_seize`` guard); ``gas_price_wei``: price used for the
    profitability test and sent with each transaction (None: the node's gas price);
    ``native_usd``: USD per whole native token (None: the oracle's price of
    ``native_symbol``); ``batch``: accounts per ``read_accounts`` call (1..256);
    ``from_block``: first block scanned for accounts (None: the manifest's ``block``, else
    0); ``log_chunk``: blocks per ``eth_getLogs`` call; ``retries``, ``backoff_s``,
    ``backoff_cap_s``: attempts of a failing read and its doubling delay in seconds;
    ``gas_margin``: gas limit sent = estimate x this.
    """

    slippage: float = 0.01
    gas_price_wei: int | None = None
    native_usd: float | None = None
    native_symbol: str = "WETH"
    batch: int = MAX_LENS
    from_block: int | None = None
    log_chunk: int = 10_000
    retries: int = 3
    backoff_s: float = 0.5
    backoff_cap_s: float = 30.0
    gas_margin: float = 1.25

    def __post_init__(self) -> None:
        if not 0 <= self.slippage:
            raise KeeperError(f"slippage must be >= 0, got {self.slippage}")
        if not 1 <= self.batch <= MAX_LENS:
            raise KeeperError(f"batch must be in 1..{MAX_LENS}, got {self.batch}")
        if self.native_usd is not None and not self.native_usd > 0:
            raise KeeperError(f"native USD price must be > 0, got {self.native_usd}")
        if self.gas_price_wei is not None and self.gas_price_wei < 0:
            raise KeeperError(f"gas price must be >= 0, got {self.gas_price_wei}")


# ------------------------------------------------------------------ liquidation math


@dataclass(frozen=True)
class LiquidationPlan:
    """What ``MarginVault.liquidate(account, debt, collateral, max_uint, 0)`` does now.

    ``repay`` (debt token decimals), ``seize`` (collateral token decimals, taken from the
    account), ``cut`` (its insurance share), ``seized`` = seize - cut (to the liquidator),
    ``bonus`` (WAD); ``repaid_value`` and ``seized_value``: WAD USD at the oracle's
    prices (liability rounding up, asset rounding down); ``gain``: seized_value -
    repaid_value, WAD USD.
    """

    account: str
    debt_asset: str
    collateral_asset: str
    repay: int
    seize: int
    cut: int
    seized: int
    bonus: int
    repaid_value: int
    seized_value: int

    @property
    def gain(self) -> int:
        """Liquidator's gain at oracle prices before gas and slippage, WAD USD."""
        return self.seized_value - self.repaid_value


def plan_liquidation(
    row: AccountRow, assets: list[AssetRow], decimals: list[int], params: list[int] | tuple[int, ...],
) -> LiquidationPlan | None:
    """The (debt, collateral) pair of an unhealthy account that gains the liquidator most.

    ``row``: the account from ``read_accounts``; ``assets``: ``read_assets`` rows in the
    vault's ``listed`` order (same order as ``row.balances``); ``decimals``: token
    decimals in that order. None when the account is healthy (maint assets >= maint
    liabilities) or has no (debt, collateral) pair with a non-zero repayment.
    """
    h = row.health
    if h.maint_assets >= h.maint_liabilities:
        return None
    best: LiquidationPlan | None = None
    n = len(assets)
    for i in range(n):
        if row.balances[i] >= 0:
            continue
        for j in range(n):
            if row.balances[j] <= 0:
                continue
            pd, pc, dd, dc = assets[i].price, assets[j].price, decimals[i], decimals[j]
            debt, col = -row.balances[i], row.balances[j]
            repay, seize, cut, bon = ref.liquidation_amounts(debt, col, pd, dd, pc, dc, h, params)
            if repay == 0 or seize <= cut:
                continue
            plan = LiquidationPlan(row.account, assets[i].asset, assets[j].asset, repay, seize, cut, seize - cut, bon,
                                   ref.liability_value(repay, pd, dd), ref.asset_value(seize - cut, pc, dc))
            if best is None or plan.gain > best.gain:
                best = plan
    return best


@dataclass(frozen=True)
class Profit:
    """Profitability of a liquidation, USD: ``gain_usd`` (seized minus repaid value),
    ``gas_usd`` (gas x gas price x native price), ``slippage_usd`` (slippage x seized
    value), ``net_usd`` = gain - gas - slippage; ``ok`` when ``net_usd`` > 0."""

    gain_usd: float
    gas_usd: float
    slippage_usd: float

    @property
    def net_usd(self) -> float:
        return self.gain_usd - self.gas_usd - self.slippage_usd

    @property
    def ok(self) -> bool:
        return self.net_usd > 0


def profitability(plan: LiquidationPlan, gas: int, gas_price_wei: int, native_usd: float, slippage: float) -> Profit:
    """Whether ``plan`` pays: its gain (WAD USD, converted to USD) against the gas cost
    (``gas`` units x ``gas_price_wei`` wei per unit, at ``native_usd`` USD per whole
    native token of 18 decimals) plus ``slippage`` (fraction) of the seized value."""
    return Profit(
        gain_usd=plan.gain / ref.WAD,
        gas_usd=gas * gas_price_wei / 1e18 * native_usd,
        slippage_usd=slippage * plan.seized_value / ref.WAD,
    )


def is_bad_debt(row: AccountRow) -> bool:
    """Debt outstanding and no collateral left (no positive balance): what
    ``MarginVault.settle_bad_debt`` writes off (docs/design.md §6)."""
    return any(b < 0 for b in row.balances) and not any(b > 0 for b in row.balances)


def new_rounds(assets: list[AssetRow], feed_updated_at: list[int]) -> list[str]:
    """Assets whose feed reports a round newer than the oracle's accepted one: the feed's
    ``updatedAt`` (seconds) after the oracle's stored ``updated_at``; same order as
    ``assets``."""
    return [a.asset for a, t in zip(assets, feed_updated_at) if t > a.updated_at]


# ------------------------------------------------------------------ plumbing


def revert_reason(exc: BaseException) -> str | None:
    """The revert string of a contract revert raised by Ape (None for any other error)."""
    from ape.exceptions import ContractLogicError

    if isinstance(exc, ContractLogicError):
        return str(exc.revert_message or exc) or "reverted"
    return None


def retry(fn: Callable[[], Any], config: KeeperConfig, sleep: Callable[[float], None] = time.sleep) -> Any:
    """``fn()``, retried ``config.retries`` times on errors other than a revert, waiting
    ``backoff_s`` x 2**k seconds (at most ``backoff_cap_s``) between attempts. Re-raises
    the last error, or a revert at once."""
    for k in range(config.retries + 1):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - any RPC failure is worth another try
            if revert_reason(exc) is not None or k == config.retries:
                raise
            sleep(min(config.backoff_cap_s, config.backoff_s * 2**k))
    raise AssertionError("unreachable")


def json_writer(*streams: TextIO) -> Emit:
    """An ``Emit`` writing each record as one JSON line to every stream, flushed."""

    def emit(record: dict[str, Any]) -> None:
        line = json.dumps(record, default=str)
        for s in streams:
            s.write(line + "\n")
            s.flush()

    return emit


@dataclass
class RoundStats:
    """One round: its block, the actions by name, accounts read, seconds taken, and how
    many of its stages (head, poke, scan, read) failed (RPC errors, not account reverts)."""

    block: int
    actions: Counter[str] = field(default_factory=Counter)
    accounts: int = 0
    seconds: float = 0.0
    failed_stages: int = 0


def record(action: str, block: int, *, account: str | None = None, assets: list[str] | None = None,
           amounts: dict[str, Any] | None = None, gas_used: int | None = None, reason: str | None = None,
           **extra: Any) -> dict[str, Any]:
    """One log line: every field present (None when it does not apply), ``ts`` in Unix seconds."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    return {"ts": round(time.time(), 3), "block": block, "action": action, "account": account, "assets": assets,
            "amounts": amounts, "gas_used": gas_used, "reason": reason, **extra}


# ------------------------------------------------------------------ the keeper


class Keeper:
    """Keeps one deployment: oracle fresh, unhealthy accounts liquidated, bad debt settled.

    ``dep``: the deployment (``manifest.load``); ``sender``: the signing Ape account;
    ``emit``: where the JSON records go (``json_writer``); ``chain``: Ape's chain manager
    (default ``ape.chain``); ``sleep``: used by the read retries. The account set, the
    last scanned block and the tokens already approved live in memory.

    Raises ``DeploymentError`` when an asset the vault lists is missing from the
    deployment file, ``KeeperError`` when no native price is given and
    ``config.native_symbol`` is not listed.
    """

    def __init__(self, dep: Deployment, sender: Any, config: KeeperConfig, emit: Emit, chain: Any = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if chain is None:
            from ape import chain as ape_chain

            chain = ape_chain
        self.dep, self.sender, self.config, self.emit_json = dep, sender, config, emit
        self.chain, self.sleep = chain, sleep
        self.vault, self.oracle, self.lens = dep.vault, dep.oracle, require_lens(dep.lens)
        self.listed = [to_checksum_address(str(self.vault.listed(i))) for i in range(int(self.vault.n_listed()))]
        self.symbols = [dep.symbol_of(a) for a in self.listed]  # DeploymentError if one is not in the file
        self.decimals = [int(dep.info.assets[s].decimals) for s in self.symbols]
        self.feeds = [dep.feeds[s] for s in self.symbols]
        if config.native_usd is None and config.native_symbol not in self.symbols:
            raise KeeperError(f"no price for the native asset: {config.native_symbol} is not listed; give --native-usd")
        start = config.from_block
        if start is None:
            start = int((dep.info.model_extra or {}).get("block") or 0)
        self.scanned = start - 1  # last block whose logs are in ``accounts``
        self.accounts: set[str] = set()
        self.approved: set[str] = set()
        self.poked: dict[str, int] = {}  # asset -> feed updatedAt (s) of the round last poked
        self._assets: list[AssetRow] | None = None  # this round's asset rows when no poke changed them
        self.topics = ["0x" + keccak(text=sig).hex() for sig in ACCOUNT_EVENTS]
        self.block = 0

    # -- helpers

    def _retry(self, fn: Callable[[], Any]) -> Any:
        return retry(fn, self.config, self.sleep)

    def symbol(self, asset: str) -> str:
        """Symbol of a listed token address."""
        return self.symbols[self.listed.index(to_checksum_address(asset))]

    def head(self) -> int:
        """Number of the chain's latest block (retried)."""
        return int(self._retry(lambda: self.chain.blocks.head.number))

    def emit(self, stats: RoundStats, action: str, **fields: Any) -> None:
        """Write one record and count it in ``stats``."""
        stats.actions[action] += 1
        self.emit_json(record(action, stats.block, **fields))

    def _tx(self, gas: int | None = None) -> dict[str, Any]:
        kw: dict[str, Any] = {"sender": self.sender}
        if self.config.gas_price_wei is not None:
            kw["gas_price"] = self.config.gas_price_wei
        if gas is not None:
            kw["gas_limit"] = int(gas * self.config.gas_margin)
        return kw

    def gas_price(self) -> int:
        """Wei per gas unit: the configured price, else the node's (retried)."""
        if self.config.gas_price_wei is not None:
            return self.config.gas_price_wei
        return int(self._retry(lambda: self.chain.provider.gas_price))

    def native_usd(self, assets: list[AssetRow]) -> float:
        """USD per whole native token: the configured price, else the oracle's price of ``native_symbol``."""
        if self.config.native_usd is not None:
            return self.config.native_usd
        return assets[self.symbols.index(self.config.native_symbol)].price / ref.WAD

    # -- the round

    def run_round(self) -> RoundStats:
        """Poke, scan, read, act (module docstring). Never raises on an RPC error or a
        revert: each failed stage or account is one ``error`` record, and
        ``stats.actions["error"]`` counts them."""
        t0 = time.perf_counter()
        stats = RoundStats(self.block)
        try:
            self.block = stats.block = self.head()
        except Exception as exc:  # noqa: BLE001
            stats.failed_stages += 1
            self.emit(stats, "error", reason=f"head: {revert_reason(exc) or _one_line(exc)}")
            return stats
        self._stage(stats, "poke", lambda: self.poke(stats))
        self._stage(stats, "scan", self.scan)
        got = self._stage(stats, "read", self.read)
        if got is not None:
            assets, params, rows = got
            stats.accounts = len(rows)
            for row in rows:
                self.act(row, assets, params, stats)
        stats.seconds = time.perf_counter() - t0
        return stats

    def _stage(self, stats: RoundStats, name: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - logged, the round goes on
            stats.failed_stages += 1
            self.emit(stats, "error", reason=f"{name}: {revert_reason(exc) or _one_line(exc)}")
            return None

    def poke(self, stats: RoundStats) -> list[str]:
        """``poke_many`` the assets whose feed has a new round; returns their symbols.

        A round is poked once: a round the oracle refuses (non-positive, incomplete) leaves
        its stored ``updated_at`` behind the feed's, and poking it again would re-trip the
        breaker and restart its cooldown (docs/design.md §7).
        """
        self._assets = None
        _, assets = self._retry(lambda: read_assets(self.lens, self.listed))
        updated = [int(self._retry(lambda f=f: f.latestRoundData()[3])) for f in self.feeds]
        feed_time = dict(zip(self.listed, updated))
        todo = [a for a in new_rounds(assets, updated) if feed_time[a] > self.poked.get(a, 0)]
        if not todo:
            self._assets = assets
            return []
        syms = [self.symbol(a) for a in todo]
        receipt = self.oracle.poke_many(todo, **self._tx())
        self.poked.update({a: feed_time[a] for a in todo})
        amounts = {self.symbol(a.asset): {"oracle_updated_at": a.updated_at, "feed_updated_at": feed_time[a.asset]}
                   for a in assets if a.asset in todo}
        self.emit(stats, "poke", assets=syms, amounts=amounts, gas_used=int(receipt.gas_used), tx=str(receipt.txn_hash))
        return syms

    def scan(self) -> int:
        """Add the accounts of ``Deposit``/``Borrow`` logs after the last scanned block up to
        the round's block; returns how many accounts are new."""
        before = len(self.accounts)
        web3 = self.chain.provider.web3
        lo = self.scanned + 1
        while lo <= self.block:
            hi = min(self.block, lo + self.config.log_chunk - 1)
            flt = {"address": str(self.vault.address), "fromBlock": lo, "toBlock": hi, "topics": [self.topics]}
            for log in self._retry(lambda flt=flt: web3.eth.get_logs(flt)):
                self.accounts.add(to_checksum_address(bytes(log["topics"][1])[-20:]))
            self.scanned, lo = hi, hi + 1
        return len(self.accounts) - before

    def read(self) -> tuple[list[AssetRow], list[int], list[AccountRow]]:
        """Asset rows (``listed`` order; the poke stage's when it poked nothing), the vault's
        global parameters (``V_*`` order) and the rows of every known account, read in
        batches of ``config.batch``."""
        assets = self._assets
        if assets is None:
            _, assets = self._retry(lambda: read_assets(self.lens, self.listed))
        params = [int(self._retry(lambda i=i: self.vault.params(i))) for i in range(ref.V_INSURANCE_SHARE + 1)]
        accounts = sorted(self.accounts)
        rows: list[AccountRow] = []
        for k in range(0, len(accounts), self.config.batch):
            batch = accounts[k:k + self.config.batch]
            rows += self._retry(lambda batch=batch: read_accounts(self.lens, batch))[1]
        return assets, params, rows

    def act(self, row: AccountRow, assets: list[AssetRow], params: list[int], stats: RoundStats) -> None:
        """Settle or liquidate one account if it is unhealthy; forget it if it holds nothing.
        Any failure is one ``error`` record naming the account."""
        if not any(row.balances):
            self.accounts.discard(row.account)
            return
        if row.health.maint_assets >= row.health.maint_liabilities:
            return
        try:
            if is_bad_debt(row):
                self.settle(row, stats)
            else:
                self.liquidate(row, assets, params, stats)
        except Exception as exc:  # noqa: BLE001 - one bad account never stops the round
            self.emit(stats, "error", account=row.account, reason=revert_reason(exc) or _one_line(exc))

    def liquidate(self, row: AccountRow, assets: list[AssetRow], params: list[int], stats: RoundStats) -> None:
        """Plan, price and (when it pays) send the liquidation of one unhealthy account.

        ``max_repay`` is 2**256 - 1 (the contract repays its own maximum, so interest
        accrued since the read cannot leave dust) and ``min_seize`` the planned seizure
        less ``config.slippage``. The record's ``amounts``: the plan (``repay``, ``seize``,
        ``insurance_cut``, ``seized``, ``bonus``, ``repaid_usd``, ``seized_usd``), the gas
        estimate and profitability (``gain_usd``, ``gas_usd``, ``slippage_usd``,
        ``net_usd``); after the transaction ``repaid``, ``seized``, ``insurance_cut`` and
        ``bonus`` are the Liquidation event's, ``settled`` its BadDebtSettled events.
        """
        plan = plan_liquidation(row, assets, self.decimals, params)
        if plan is None:
            self.emit(stats, "skip", account=row.account, reason="no debt and collateral pair to liquidate")
            return
        syms = [self.symbol(plan.debt_asset), self.symbol(plan.collateral_asset)]
        if plan.account == to_checksum_address(str(self.sender.address)):
            self.emit(stats, "skip", account=row.account, assets=syms, reason="self-liquidation")
            return
        min_seize = int(plan.seized * max(0.0, 1.0 - self.config.slippage))
        args = (plan.account, plan.debt_asset, plan.collateral_asset, UINT256_MAX, min_seize)
        self.approve(plan.debt_asset)
        try:
            gas = int(self._retry(lambda: self.vault.liquidate.estimate_gas_cost(*args, sender=self.sender)))
        except Exception as exc:  # noqa: BLE001
            self.emit(stats, "error", account=row.account, assets=syms, amounts=_plan_amounts(plan),
                      reason=revert_reason(exc) or _one_line(exc), stage="estimate")
            return
        profit = profitability(plan, gas, self.gas_price(), self.native_usd(assets), self.config.slippage)
        amounts = {**_plan_amounts(plan), "gas_estimate": gas, "gain_usd": profit.gain_usd,
                   "gas_usd": profit.gas_usd, "slippage_usd": profit.slippage_usd, "net_usd": profit.net_usd}
        if not profit.ok:
            self.emit(stats, "skip", account=row.account, assets=syms, amounts=amounts,
                      reason=f"unprofitable: gain {profit.gain_usd:.2f} USD <= gas {profit.gas_usd:.2f} USD"
                             f" + slippage {profit.slippage_usd:.2f} USD")
            return
        receipt = self.vault.liquidate(*args, **self._tx(gas))
        (ev,) = [e for e in receipt.events if e.event_name == "Liquidation"]
        amounts.update(repaid=int(ev.repaid), seized=int(ev.seized), bonus=int(ev.bonus),
                       insurance_cut=int(ev.insurance_cut), settled=self._settled(receipt))
        self.emit(stats, "liquidate", account=row.account, assets=syms, amounts=amounts,
                  gas_used=int(receipt.gas_used), tx=str(receipt.txn_hash))

    def settle(self, row: AccountRow, stats: RoundStats) -> None:
        """``settle_bad_debt`` for an account with debt and no collateral."""
        syms = [s for s, b in zip(self.symbols, row.balances) if b < 0]
        try:
            estimate = self.vault.settle_bad_debt.estimate_gas_cost
            gas = int(self._retry(lambda: estimate(row.account, sender=self.sender)))
        except Exception as exc:  # noqa: BLE001
            self.emit(stats, "error", account=row.account, assets=syms, reason=revert_reason(exc) or _one_line(exc),
                      stage="estimate")
            return
        receipt = self.vault.settle_bad_debt(row.account, **self._tx(gas))
        self.emit(stats, "settle", account=row.account, assets=syms, amounts={"settled": self._settled(receipt)},
                  gas_used=int(receipt.gas_used), tx=str(receipt.txn_hash))

    def _settled(self, receipt: Any) -> dict[str, dict[str, int]]:
        """The receipt's ``BadDebtSettled`` events by symbol (token decimals)."""
        return {self.symbol(str(e.asset)): {"debt": int(e.debt), "covered_by_insurance": int(e.covered_by_insurance),
                                            "socialized": int(e.socialized)}
                for e in receipt.events if e.event_name == "BadDebtSettled"}

    def approve(self, asset: str) -> None:
        """Let the vault pull ``asset`` from the keeper (one unlimited approval per token)."""
        if asset in self.approved:
            return
        token = self.dep.tokens[self.symbol(asset)]
        owner = str(self.sender.address)
        if int(self._retry(lambda: token.allowance(owner, str(self.vault.address)))) < 2**255:
            token.approve(str(self.vault.address), UINT256_MAX, **self._tx())
        self.approved.add(asset)


def _plan_amounts(plan: LiquidationPlan) -> dict[str, Any]:
    return {"repay": plan.repay, "seize": plan.seize, "insurance_cut": plan.cut, "seized": plan.seized,
            "bonus": plan.bonus, "repaid_usd": plan.repaid_value / ref.WAD, "seized_usd": plan.seized_value / ref.WAD}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:300]}"


# ------------------------------------------------------------------ the process


#: Where a keeper may sign with a test account (``volmargin.chain.node.is_dev_chain``).
_TEST_ONLY = "test accounts are for development chains only (ethereum:local:*, an anvil node such as ethereum:anvil)"


def keeper_account(alias: str | None, local: bool) -> Any:
    """The signing account: an ``ape accounts`` alias (unlocked for autosign, passphrase
    from ``APE_ACCOUNTS_<alias>_PASSPHRASE`` or a prompt), or ``TEST::<index>`` when ``local``
    (a development chain, ``volmargin.chain.node.is_dev_chain``: ``ethereum:local:*`` or an
    anvil node such as ``ethereum:anvil``); None means ``TEST::2`` there. Raises
    ``KeeperError`` for a test account elsewhere, an unknown alias or test index
    (``volmargin.chain.node.load_account``)."""
    from .node import AccountError, load_account

    if alias is None:
        if not local:
            raise KeeperError(f"give --account ALIAS ({_TEST_ONLY})")
        alias = "TEST::2"
    try:
        acct = load_account(alias, local, f": {_TEST_ONLY}")
    except AccountError as exc:
        raise KeeperError(str(exc)) from None
    if hasattr(acct, "set_autosign"):
        acct.set_autosign(True)
    return acct


@dataclass
class _Stop:
    """Set by SIGINT/SIGTERM: the loop finishes its round and stops."""

    requested: bool = False
    signum: int | None = None

    def __call__(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second signal: stop now
            raise KeyboardInterrupt
        self.requested, self.signum = True, signum


def _wait(seconds: float, stop: _Stop, sleep: Callable[[float], None]) -> None:
    end = time.monotonic() + seconds
    while not stop.requested and (left := end - time.monotonic()) > 0:
        sleep(min(0.2, left))


def run(keeper: Keeper, *, interval: float = 0.0, once: bool = False, max_rounds: int | None = None,
        handle_signals: bool = True, poll_s: float = 1.0, sleep: Callable[[float], None] = time.sleep,
        ) -> dict[str, Any]:
    """Run rounds until SIGINT/SIGTERM (or one round with ``once``, or ``max_rounds``).

    ``interval`` > 0: a round every ``interval`` seconds; 0: a round on every new block,
    polled every ``poll_s`` seconds. After a round with errors the next waits
    ``backoff_s`` x 2**n seconds (n failed rounds in a row, at most ``backoff_cap_s``).
    A signal lets the current round finish (a second one interrupts it). Returns the
    summary, also emitted as the last JSON line (``{"ts", "block", "summary"}``): rounds,
    actions by name, accounts known, mean and last round seconds, the stopping signal.
    """
    stop = _Stop()
    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)} if handle_signals else {}
    totals: Counter[str] = Counter()
    rounds, failed, seconds, last = 0, 0, 0.0, RoundStats(keeper.block)
    try:
        while not stop.requested:
            if not once and interval <= 0 and rounds and not failed:
                try:
                    if keeper.head() <= last.block:
                        _wait(poll_s, stop, sleep)
                        continue
                except Exception:  # noqa: BLE001 - the round logs it
                    pass
            last = keeper.run_round()
            rounds, seconds = rounds + 1, seconds + last.seconds
            totals.update(last.actions)
            failed = failed + 1 if last.failed_stages else 0
            if once or (max_rounds is not None and rounds >= max_rounds):
                break
            cfg = keeper.config
            _wait(min(cfg.backoff_cap_s, cfg.backoff_s * 2 ** (failed - 1)) if failed else interval, stop, sleep)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    summary = {"rounds": rounds, "actions": {a: totals[a] for a in ACTIONS}, "accounts": len(keeper.accounts),
               "round_s_mean": seconds / rounds if rounds else 0.0, "round_s_last": last.seconds,
               "accounts_last_round": last.accounts,
               "stopped_by": signal.Signals(stop.signum).name if stop.signum else None}
    keeper.emit_json({"ts": round(time.time(), 3), "block": keeper.block, "summary": summary})
    return summary
