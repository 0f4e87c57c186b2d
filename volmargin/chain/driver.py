"""One episode through the deployed contracts, held step by step to a mirror (docs/design.md §10).

``run_episode`` takes a deployed ``System`` (``volmargin.chain.deploy``), the accounts'
opening balances (computed by the caller), per-step feed prices, a ``Checker`` and a
``Keeper``. It opens the accounts (collateral deposited by the admin on each account's
behalf, then the debt borrowed by the account), then for each step: sets the block time,
pushes the step's prices into the mock feeds, pokes the oracle, reads the batched views
(``volmargin.chain.lens``), hands them to the checker, lets the keeper liquidate, and
records one row.

Two configurations:

* exact (``exact_configuration``): ``ReferenceChecker`` mirrors every transaction in
  ``volmargin.reference`` and compares every number with ``==`` (prices, variances,
  sigmas, haircuts, breaker states, balances, health sums, repaid and seized amounts, the
  reasons of refused transactions); the keeper is frictionless: in the step an account
  becomes liquidatable it is liquidated, up to 8 times, largest debt against largest
  collateral by value, until the reference finds it healthy or its bad debt settled;
* model (``model_configuration``): ``ModelChecker`` runs ``volmargin.model`` beside the
  chain and compares within ``Tolerances`` (the model's stated path bounds); the keeper
  acts one step late (liquidatable at the previous view and now), once per account and
  step, on the pair a caller-given ``LiquidationRule`` picks; the same rule predicts the
  repayment and the seizure at the transaction's block time.

Units: USD per whole token for prices, whole tokens for opening balances, seconds for
times; chain values are WAD (1e18) or token decimals and are converted where named.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, NamedTuple, Protocol, Sequence

import numpy as np

from .. import model as M
from .. import params as P
from .. import reference as ref
from .deploy import System, fund
from .lens import AccountRow, AssetRow, read_accounts, read_assets
from .parity import Parity

WAD = ref.WAD
MAX_UINT256 = 2**256 - 1
#: Whole tokens of each asset minted to the liquidator and to the admin (who deposits the collateral).
FLOAT_TOKENS = 10**15
#: Liquidations per account and step of the exact configuration's frictionless keeper.
EXACT_KEEPER_ROUNDS = 8


@dataclass(frozen=True)
class Liquidation:
    """One liquidation as the checker values it: ``repaid_usd`` (USD of the debt repaid),
    ``bad_debt_usd`` (USD of each bad-debt settlement it triggered, in order), ``settled``
    (True when the account's bad debt was settled: nothing is left to liquidate)."""

    repaid_usd: float
    bad_debt_usd: tuple[float, ...] = ()
    settled: bool = False


class Checker(Protocol):
    """What ``run_episode`` tells the mirror. Addresses are checksummed strings; amounts
    token decimals; times block seconds; ``step`` counts from 1; ``index`` is the
    account's position in the borrowers."""

    parity: Parity

    def deposited(self, account: str, asset: str, amount: int, timestamp: int) -> None:
        """A deposit of ``amount`` of ``asset`` into ``account`` was mined at ``timestamp``."""

    def borrowed(self, account: str, asset: str, amount: int, timestamp: int) -> None:
        """A borrow was mined at ``timestamp``."""

    def borrow_refused(self, account: str, asset: str, amount: int, now: int, error: Exception) -> None:
        """The chain refused a borrow at block time ``now``."""

    def poked(self, receipt: Any) -> None:
        """The oracle was poked (``System.poke`` has already mirrored it in ``oracle_ref``)."""

    def check_assets(self, step: int, t_view: int, rows: list[AssetRow]) -> None:
        """Compare ``RiskOracle.snapshot`` (block time ``t_view``), one row per listed asset."""

    def check_accounts(self, step: int, t_view: int, rows: list[AccountRow]) -> None:
        """Compare ``VaultLens.accounts_view`` (block time ``t_view``), one row per borrower."""

    def liquidated(self, step: int, index: int, account: str, debt: str, col: str, receipt: Any) -> Liquidation:
        """A liquidation of ``account`` (repay ``debt``, seize ``col``) was mined."""

    def liquidation_refused(self, step: int, index: int, account: str, debt: str, col: str, now: int,
                            error: Exception) -> None:
        """The chain refused a liquidation at block time ``now``."""


#: ``pick(index, account, now)`` -> (debt symbol, collateral symbol), or None: leave the account.
Pick = Callable[[int, str, int], tuple[str, str] | None]


@dataclass(frozen=True)
class Keeper:
    """Keeper policy: ``latency`` steps an account must already have been liquidatable in
    the views before the keeper acts (0: the step it becomes liquidatable); at most
    ``rounds`` liquidations per account and step; ``pick`` chooses the pair (or stops).
    Every liquidation asks for the largest repayment the contract allows (``max_repay`` =
    2**256 - 1) and accepts any seizure (``min_seize`` = 0)."""

    pick: Pick
    latency: int = 0
    rounds: int = 1


@dataclass
class EpisodeResult:
    """What ``run_episode`` measured.

    ``rows``: one dict per step: ``step``, ``chain_time`` (s, the accounts view's block),
    per asset ``{SYM}_price`` (USD), ``{SYM}_sigma_annual``, ``{SYM}_h_maint``,
    ``{SYM}_h_init`` (fractions), ``{SYM}_breaker`` (name), then ``liquidatable`` (accounts
    the chain finds liquidatable), ``liquidations``, ``liquidation_volume_usd`` (this
    step's), ``bad_debt_usd_cum`` (USD so far). ``opened``: accounts whose borrow was mined.
    Totals are in USD as the checker values them, summed liquidation by liquidation.
    """

    rows: list[dict[str, Any]]
    parity: Parity
    opened: int = 0
    liquidations: int = 0
    liquidation_reverts: int = 0
    liquidation_volume_usd: float = 0.0
    bad_debt_usd: float = 0.0


def run_episode(
    system: System,
    chain: Any,
    borrowers: Sequence[Any],
    liquidator: Any,
    opening: np.ndarray,
    prices: Mapping[str, np.ndarray],
    step_seconds: int,
    checker: Checker,
    keeper: Keeper,
    progress: Callable[[int], Any] | None = None,
) -> EpisodeResult:
    """Open the accounts, then run every step (see the module docstring).

    Parameters
    ----------
    system, chain
        A freshly deployed ``System`` and Ape's ``chain`` (its block time is set per step).
    borrowers, liquidator
        Ape accounts: N borrowers (not the admin) and the keeper's account.
    opening
        (N, A) signed whole tokens in ``system.symbols`` order: positive columns are
        deposited, negative ones borrowed (converted with ``int(x * 10**decimals)``).
    prices
        symbol -> (T,) USD per whole token pushed into its feed at step t (NaN: no push);
        the mapping's order is the push order within a step. The oracle is poked for every
        asset each step; step t runs at block time ``t0 + t * step_seconds``, where ``t0``
        is one step after the later of the head block and the pending time.
    checker, keeper
        A configuration (``exact_configuration`` / ``model_configuration``).
    progress
        Called with 1 after each step.

    Raises
    ------
    ValueError
        Shapes that disagree, an unknown symbol, ``step_seconds <= 0``, or a keeper with
        a negative latency or fewer than one round.
    """
    steps = _validate(system, borrowers, opening, prices, step_seconds, keeper)
    result = EpisodeResult([], checker.parity)
    result.opened = _open_accounts(system, chain, borrowers, liquidator, opening, checker)
    names = [str(b.address) for b in borrowers]
    t0 = max(int(chain.blocks.head.timestamp), int(chain.pending_timestamp)) + step_seconds
    history: deque[set[int]] = deque(maxlen=keeper.latency + 1)
    for t in range(steps):
        chain.pending_timestamp = t0 + t * step_seconds
        for s, p in prices.items():
            if not np.isnan(p[t]):
                system.push_price(s, float(p[t]))
        checker.poked(system.poke())
        row, liquidatable = _observe(system, names, t + 1, checker)
        history.append(set(liquidatable))
        due = [n for n in liquidatable if len(history) == history.maxlen and all(n in h for h in history)]
        count, volume = _keep(system, chain, liquidator, names, due, t + 1, checker, keeper, result)
        row.update(liquidations=count, liquidation_volume_usd=volume, bad_debt_usd_cum=result.bad_debt_usd)
        result.rows.append(row)
        if progress is not None:
            progress(1)
    return result


def _validate(system: System, borrowers: Sequence[Any], opening: np.ndarray, prices: Mapping[str, np.ndarray],
              step_seconds: int, keeper: Keeper) -> int:
    """Number of steps T; ValueError for inconsistent inputs (see ``run_episode``)."""
    if np.shape(opening) != (len(borrowers), len(system.symbols)):
        raise ValueError(f"opening must be (borrowers, assets) = ({len(borrowers)}, {len(system.symbols)}), "
                         f"got {np.shape(opening)}")
    unknown = [s for s in prices if s not in system.symbols]
    if unknown:
        raise ValueError(f"prices for unknown symbols {unknown}; listed: {', '.join(system.symbols)}")
    lengths = {len(p) for p in prices.values()}
    if len(lengths) != 1:
        raise ValueError(f"every price series must have the same length, got {sorted(lengths)}")
    if step_seconds <= 0:
        raise ValueError(f"step_seconds must be > 0, got {step_seconds}")
    if keeper.latency < 0 or keeper.rounds < 1:
        raise ValueError(f"keeper needs latency >= 0 and rounds >= 1, got {keeper.latency}, {keeper.rounds}")
    return lengths.pop()


def _open_accounts(system: System, chain: Any, borrowers: Sequence[Any], liquidator: Any, opening: np.ndarray,
                   checker: Checker) -> int:
    """Fund the liquidator and the admin, deposit and borrow ``opening``; accounts whose borrow was mined."""
    admin, vault = system.admin, system.vault
    dec = [system.specs[s].decimals for s in system.symbols]
    for s, d in zip(system.symbols, dec):
        fund(system, liquidator, s, FLOAT_TOKENS * 10**d)
        system.tokens[s].mint(admin.address, FLOAT_TOKENS * 10**d, sender=admin)
        system.tokens[s].approve(vault.address, MAX_UINT256, sender=admin)
    opened = 0
    for n, acct in enumerate(borrowers):
        a = str(acct.address)
        for j, s in enumerate(system.symbols):
            if opening[n, j] > 0:
                amount = int(opening[n, j] * 10 ** dec[j])
                r = vault.deposit(system.address(s), amount, a, sender=admin)
                checker.deposited(a, system.address(s), amount, int(r.timestamp))
        mined = False
        for j, s in enumerate(system.symbols):
            amount = int(-opening[n, j] * 10 ** dec[j])
            if amount <= 0:
                continue
            try:
                r = vault.borrow(system.address(s), amount, sender=acct)
            except Exception as exc:  # noqa: BLE001 - a refused borrow is the checker's to judge; not opened
                checker.borrow_refused(a, system.address(s), amount, int(chain.pending_timestamp), exc)
                continue
            checker.borrowed(a, system.address(s), amount, int(r.timestamp))
            mined = True
        opened += mined
    return opened


def _observe(system: System, names: list[str], step: int, checker: Checker) -> tuple[dict[str, Any], list[int]]:
    """Read both views and hand them to the checker; the step's row so far and the indices
    of the accounts the chain finds liquidatable (maintenance assets < liabilities)."""
    addrs = [system.address(s) for s in system.symbols]
    sym_of = dict(zip(addrs, system.symbols))
    t_assets, assets = read_assets(system.lens, addrs)
    checker.check_assets(step, t_assets, assets)
    t_accounts, accounts = read_accounts(system.lens, names)
    checker.check_accounts(step, t_accounts, accounts)
    row: dict[str, Any] = {"step": step, "chain_time": t_accounts}
    for snap in assets:
        s = sym_of[str(snap.asset)]
        row[f"{s}_price"] = int(snap.price) / WAD
        row[f"{s}_sigma_annual"] = int(snap.sigma_annual) / WAD
        row[f"{s}_h_maint"] = int(snap.h_maint) / WAD
        row[f"{s}_h_init"] = int(snap.h_init) / WAD
        row[f"{s}_breaker"] = ref.BREAKER_NAMES[int(snap.breaker)]
    liquidatable = [n for n, r in enumerate(accounts) if r.health.maint_assets < r.health.maint_liabilities]
    row["liquidatable"] = len(liquidatable)
    return row, liquidatable


def _keep(system: System, chain: Any, liquidator: Any, names: list[str], due: list[int], step: int,
          checker: Checker, keeper: Keeper, result: EpisodeResult) -> tuple[int, float]:
    """Liquidate the accounts ``due`` as ``keeper`` says, adding to ``result``'s totals;
    returns the step's liquidations and their volume (USD)."""
    count, volume = 0, 0.0
    for n in due:
        for _round in range(keeper.rounds):
            now = int(chain.pending_timestamp)
            pair = keeper.pick(n, names[n], now)
            if pair is None:
                break
            debt, col = system.address(pair[0]), system.address(pair[1])
            try:
                receipt = system.vault.liquidate(names[n], debt, col, MAX_UINT256, 0, sender=liquidator)
            except Exception as exc:  # noqa: BLE001 - e.g. "vault: liquidation cap reached"; the checker judges it
                result.liquidation_reverts += 1
                checker.liquidation_refused(step, n, names[n], debt, col, now, exc)
                break
            liq = checker.liquidated(step, n, names[n], debt, col, receipt)
            count += 1
            result.liquidations += 1
            result.liquidation_volume_usd += liq.repaid_usd
            volume += liq.repaid_usd
            for usd in liq.bad_debt_usd:
                result.bad_debt_usd += usd
            if liq.settled:
                break
    return count, volume


# ------------------------------------------------------------------ exact configuration


class ReferenceChecker:
    """The exact configuration's checker: mirrors every transaction in ``system.vault_ref``
    (the oracle is mirrored by ``System.poke``) and compares every number with ``==``.

    Per step and asset 7 comparisons (price, var_fast, var_slow, sigma_annual, h_maint at
    the view's block time, h_init, breaker); per step and account one per listed asset
    (balances) and 4 health sums; per liquidation the repaid and seized amounts; per
    refused transaction whether the reference refuses it too. ``liquidator`` is the
    keeper's address (the reference needs it to liquidate).
    """

    def __init__(self, system: System, liquidator: str) -> None:
        self.system, self.liquidator = system, liquidator
        self.parity = Parity("reference")
        self.sym_of = {system.address(s): s for s in system.symbols}

    def deposited(self, account: str, asset: str, amount: int, timestamp: int) -> None:
        """Mirror a mined deposit."""
        self.system.vault_ref.deposit(account, asset, amount, timestamp)

    def borrowed(self, account: str, asset: str, amount: int, timestamp: int) -> None:
        """Mirror a mined borrow."""
        self.system.vault_ref.borrow(account, asset, amount, timestamp)

    def borrow_refused(self, account: str, asset: str, amount: int, now: int, error: Exception) -> None:
        """The reference must refuse the borrow too (tried on a copy)."""
        trial = clone_vault(self.system.vault_ref)
        refused = _refuses(lambda: trial.borrow(account, asset, amount, now))
        if not self.parity.equal(f"{account[:8]}.borrow_reverts", True, refused):
            self.parity.note(f"borrow reverted on chain only: {error}")

    def poked(self, receipt: Any) -> None:
        """Nothing to do: ``System.poke`` mirrored the poke in ``oracle_ref``."""

    def check_assets(self, step: int, t_view: int, rows: list[AssetRow]) -> None:
        """Every field of every asset against ``oracle_ref`` (exact)."""
        oref, eq = self.system.oracle_ref, self.parity.equal
        for snap in rows:
            a = str(snap.asset)
            s, st = self.sym_of[a], oref.assets[a]
            eq(f"step {step} {s}.price", int(snap.price), st.price)
            eq(f"step {step} {s}.var_fast", int(snap.var_fast), st.var_fast)
            eq(f"step {step} {s}.var_slow", int(snap.var_slow), st.var_slow)
            eq(f"step {step} {s}.sigma_annual", int(snap.sigma_annual), oref.sigma(a, ref.SECONDS_PER_YEAR))
            eq(f"step {step} {s}.h_maint", int(snap.h_maint), oref.h_maint_now(a, int(t_view)))
            eq(f"step {step} {s}.h_init", int(snap.h_init), oref.h_init_now(a, int(t_view)))
            eq(f"step {step} {s}.breaker", int(snap.breaker), st.breaker)

    def check_accounts(self, step: int, t_view: int, rows: list[AccountRow]) -> None:
        """Balances and the four health sums of every account against ``vault_ref`` (exact)."""
        vref, eq = self.system.vault_ref, self.parity.equal
        for v in rows:
            a = str(v.account)
            h = vref.health(a, t_view)
            for k, s in enumerate(self.system.symbols):
                eq(f"step {step} {a[:8]}.{s}.balance", int(v.balances[k]), vref.balance(a, self.system.address(s), t_view))
            eq(f"step {step} {a[:8]}.maint_assets", int(v.health.maint_assets), h.maint_assets)
            eq(f"step {step} {a[:8]}.maint_liabilities", int(v.health.maint_liabilities), h.maint_liabilities)
            eq(f"step {step} {a[:8]}.init_assets", int(v.health.init_assets), h.init_assets)
            eq(f"step {step} {a[:8]}.init_liabilities", int(v.health.init_liabilities), h.init_liabilities)

    def liquidated(self, step: int, index: int, account: str, debt: str, col: str, receipt: Any) -> Liquidation:
        """Mirror the liquidation; its ``Liquidation`` event must carry the reference's amounts.
        Volume and bad debt are valued at the reference oracle's prices (WAD math, then USD)."""
        vref, oref = self.system.vault_ref, self.system.oracle_ref
        repaid, seized, _cut, settled = vref.liquidate(self.liquidator, account, debt, col, MAX_UINT256, 0,
                                                       int(receipt.timestamp))
        ev = [e for e in receipt.events if e.event_name == "Liquidation"][0]
        self.parity.equal(f"step {step} {account[:8]}.repaid", int(ev.repaid), repaid)
        self.parity.equal(f"step {step} {account[:8]}.seized", int(ev.seized), seized)
        volume = ref.liability_value(repaid, oref.assets[debt].price, vref.decimals[debt]) / WAD
        bad = tuple(ref.liability_value(d, oref.assets[a].price, vref.decimals[a]) / WAD for a, d, _c, _l in settled)
        return Liquidation(volume, bad, bool(settled))

    def liquidation_refused(self, step: int, index: int, account: str, debt: str, col: str, now: int,
                            error: Exception) -> None:
        """The reference must refuse the liquidation too (tried on a copy)."""
        trial = clone_vault(self.system.vault_ref)
        refused = _refuses(lambda: trial.liquidate(self.liquidator, account, debt, col, MAX_UINT256, 0, now))
        if not self.parity.equal(f"step {step} {account[:8]}.liquidate_reverts", True, refused):
            self.parity.note(f"liquidate reverted on chain only: {error}")


def clone_vault(v: ref.VaultRef) -> ref.VaultRef:
    """A copy of a ``VaultRef`` whose actions leave ``v`` alone (the oracle is shared)."""
    return replace(v, markets={k: replace(m) for k, m in v.markets.items()}, scaled=dict(v.scaled),
                   masks=dict(v.masks))


def _refuses(action: Callable[[], Any]) -> bool:
    """True when ``action`` raises ``ref.Reject``."""
    try:
        action()
    except ref.Reject:
        return True
    return False


def largest_debt_and_collateral(vref: ref.VaultRef, account: str, addr: Mapping[str, str],
                                now: int) -> tuple[str | None, str | None]:
    """Symbols of the account's largest debt and largest deposit by value at the reference
    oracle's prices (``addr``: symbol -> token address, in listing order; ties keep the
    first); None where it has none."""
    best_debt: tuple[float, str | None] = (0.0, None)
    best_col: tuple[float, str | None] = (0.0, None)
    for s, a in addr.items():
        bal = vref.balance(account, a, now)
        v = abs(bal) * vref.oracle.assets[a].price / 10 ** vref.decimals[a]
        if bal < 0 and v > best_debt[0]:
            best_debt = (v, s)
        elif bal > 0 and v > best_col[0]:
            best_col = (v, s)
    return best_debt[1], best_col[1]


def exact_configuration(system: System, liquidator: str) -> tuple[ReferenceChecker, Keeper]:
    """Checker against ``volmargin.reference`` and the frictionless keeper: acts the step an
    account is liquidatable, up to ``EXACT_KEEPER_ROUNDS`` times, while the reference finds
    it liquidatable, repaying its largest debt against its largest collateral."""
    vref = system.vault_ref
    addr = {s: system.address(s) for s in system.symbols}

    def pick(index: int, account: str, now: int) -> tuple[str, str] | None:
        try:
            h = vref.health(account, now)
        except ref.Reject:
            return None
        if h.maint_assets >= h.maint_liabilities:
            return None
        debt, col = largest_debt_and_collateral(vref, account, addr, now)
        return None if debt is None or col is None else (debt, col)

    return ReferenceChecker(system, liquidator), Keeper(pick, latency=0, rounds=EXACT_KEEPER_ROUNDS)


# ------------------------------------------------------------------ model configuration


@dataclass(frozen=True)
class Tolerances:
    """Model-vs-chain tolerances (``volmargin.model`` docstring): ``price_rel`` relative to
    the price; ``h_maint_abs`` absolute on the haircut (the model's 1e-7 path bound);
    ``health_rel_of_gross`` times the account's gross value (USD) plus 1e-12 USD on the
    health sums; ``liquidation_rel`` relative to the predicted amount, plus one token unit."""

    price_rel: float = 1e-12
    h_maint_abs: float = 1e-7
    health_rel_of_gross: float = 1e-7
    liquidation_rel: float = 1e-6

    def as_dict(self) -> dict[str, float]:
        """The tolerances by name, JSON-ready."""
        return {"price_rel": self.price_rel, "h_maint_abs": self.h_maint_abs,
                "health_rel_of_gross": self.health_rel_of_gross, "liquidation_rel": self.liquidation_rel}


class LiquidationForecast(NamedTuple):
    """A model's liquidation: columns of the debt repaid and the collateral seized, the
    repayment (debt tokens), the seizure including the insurance cut and the cut itself
    (collateral tokens)."""

    debt: int
    collateral: int
    repaid: float
    seized: float
    insurance_cut: float


#: ``rule(balances (A,) signed whole tokens, prices (A,) USD, h_maint (A,))`` -> forecast.
LiquidationRule = Callable[[np.ndarray, np.ndarray, np.ndarray], LiquidationForecast]


def listing_model(system: System, params: M.OracleParams) -> M.OracleModel:
    """``volmargin.model``'s oracle as ``system`` listed its assets: the feeds' current
    answers (USD), their update times (s), each spec's seed variance (per second)."""
    rounds = [system.feed_round(s) for s in system.symbols]
    oracle = M.OracleModel(params, np.array([r.answer / 10**P.FEED_DECIMALS for r in rounds]),
                           np.array([system.specs[s].var_seed / 1e18 for s in system.symbols]),
                           float(max(r.updated_at for r in rounds)))
    oracle.updated_at = np.array([float(r.updated_at) for r in rounds])
    return oracle


def portfolio_matrices(system: System) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(rho_lo, rho_hi, floor) of the deployment's portfolio margin over ``system.symbols`` (from
    the oracle mirror: (A, A) fractions, unset pairs (-1, +1); floor a fraction), or None when the
    floor is 1 (portfolio margin off)."""
    o = system.oracle_ref
    if o.portfolio_floor == WAD:
        return None
    syms = system.symbols
    bounds = {(a, b): tuple(x / WAD for x in o.correlation(system.address(a), system.address(b)))
              for k, a in enumerate(syms) for b in syms[k + 1:]}
    lo, hi = M.correlation_bounds(syms, bounds)
    return lo, hi, o.portfolio_floor / WAD


class ModelChecker:
    """The model configuration's checker: ``volmargin.model`` beside the chain.

    The model oracle runs on its own from the listing (``oracle``); account balances are
    read from the chain at every view (the model keeps no interest). Per step and asset:
    price (relative), maintenance haircut in force at the view's block time (absolute),
    breaker (equal); per account: maintenance assets and liabilities (tolerance of its gross
    value) and whether it is liquidatable (equal, unless the model's health is within twice
    the tolerance of 0 with a nonzero gross value: a knife edge, counted in ``knife_edges``);
    per liquidation: repaid and seized (net of the insurance cut) against ``rule`` at the
    transaction's block time. ``caution_scale``: the vault's CAUTION deposit weight. Portfolio
    margin (docs/design.md §5.6) as the deployment set it (the oracle mirror's pairs and floor):
    each account's maintenance haircuts are scaled by ``model.portfolio_scale`` of its own book,
    in the sums and in the liquidation forecast.
    """

    def __init__(self, system: System, params: M.OracleParams, caution_scale: float, rule: LiquidationRule,
                 tolerances: Tolerances = Tolerances()) -> None:
        self.system, self.params, self.caution_scale, self.rule, self.tol = system, params, caution_scale, rule, tolerances
        self.symbols = list(system.symbols)
        self.dec = np.array([system.specs[s].decimals for s in self.symbols])
        self.oracle = listing_model(system, params)
        self.parity = Parity("model")
        self.knife_edges = 0
        self.balances = np.zeros((0, len(self.symbols)))
        self.h_view = np.zeros(len(self.symbols))
        self.portfolio = portfolio_matrices(system)
        self.lam = np.ones(0)

    def deposited(self, account: str, asset: str, amount: int, timestamp: int) -> None:
        """Nothing to mirror: balances are read from the chain."""

    def borrowed(self, account: str, asset: str, amount: int, timestamp: int) -> None:
        """Nothing to mirror: balances are read from the chain."""

    def borrow_refused(self, account: str, asset: str, amount: int, now: int, error: Exception) -> None:
        """Nothing to compare: the account only stays out of the episode (``opened`` counts)."""

    def poked(self, receipt: Any) -> None:
        """Step the model oracle with the feeds' latest rounds at the poke's block time."""
        rounds = [self.system.feed_round(s) for s in self.symbols]
        self.oracle.step(np.array([r.answer / 10**P.FEED_DECIMALS for r in rounds]),
                         np.array([float(r.updated_at) for r in rounds]), float(receipt.timestamp))

    def check_assets(self, step: int, t_view: int, rows: list[AssetRow]) -> None:
        """Price, maintenance haircut and breaker of every asset against the model."""
        o, tol = self.oracle, self.tol
        h_view = o.h_maint_now(float(t_view))
        for j, snap in enumerate(rows):
            s = self.symbols[j]
            self.parity.close(f"step {step} {s}.price", "price", int(snap.price) / 1e18, float(o.price[j]),
                              tol.price_rel * float(o.price[j]))
            self.parity.close(f"step {step} {s}.h_maint", "h_maint", int(snap.h_maint) / 1e18, float(h_view[j]),
                              tol.h_maint_abs)
            self.parity.equal(f"step {step} {s}.breaker", int(snap.breaker), int(o.breaker[j]))

    def check_accounts(self, step: int, t_view: int, rows: list[AccountRow]) -> None:
        """Maintenance sums and liquidatability of every account against the model."""
        o, p, A = self.oracle, self.params, len(self.symbols)
        self.h_view = o.h_maint_now(float(t_view))
        bal = np.array([[int(x) for x in r.balances[:A]] for r in rows], dtype=np.float64) / 10.0**self.dec
        self.balances = bal
        ma, ml, _, _ = M.weighted_health(bal, o.price, self.h_view, o.h_init_now(float(t_view)), p.kappa, p.depth, o.breaker,
                                         self.caution_scale, portfolio=self.portfolio)
        self.lam = self._scales(bal, self.h_view)
        gross = (np.abs(bal) * o.price).sum(axis=1)
        for n, r in enumerate(rows):
            tol = self.tol.health_rel_of_gross * gross[n] + 1e-12
            self.parity.close(f"step {step} account {n} maint assets", "health", r.health.maint_assets / 1e18,
                              float(ma[n]), tol)
            self.parity.close(f"step {step} account {n} maint liabilities", "health",
                              r.health.maint_liabilities / 1e18, float(ml[n]), tol)
            if gross[n] > 0 and abs(float(ma[n] - ml[n])) <= 2 * tol:
                self.knife_edges += 1
            else:
                self.parity.equal(f"step {step} account {n} liquidatable",
                                  r.health.maint_assets < r.health.maint_liabilities, bool(ma[n] < ml[n]))

    def _scales(self, bal: np.ndarray, h_maint: np.ndarray) -> np.ndarray:
        """(accounts,) each account's portfolio scale of its maintenance haircuts (1 without
        portfolio margin), for balances (accounts, A) whole tokens at the model's prices."""
        if self.portfolio is None:
            return np.ones(len(bal))
        v = np.abs(bal) * self.oracle.price
        return M.portfolio_scale(np.where(bal > 0, v, 0.0) * h_maint, np.where(bal < 0, v, 0.0) * h_maint,
                                 *self.portfolio)

    def pick(self, index: int, account: str, now: int) -> tuple[str, str]:
        """The rule's pair for the account's balances at the last view (the model keeper)."""
        f = self.rule(self.balances[index], self.oracle.price, self.h_view * self.lam[index])
        return self.symbols[int(f.debt)], self.symbols[int(f.collateral)]

    def liquidated(self, step: int, index: int, account: str, debt: str, col: str, receipt: Any) -> Liquidation:
        """The chain's ``Liquidation`` event against the rule at the block time; volume and bad
        debt (``BadDebtSettled`` events) valued at the model's prices."""
        o, addrs = self.oracle, [self.system.address(s) for s in self.symbols]
        dj, cj = addrs.index(debt), addrs.index(col)
        h = o.h_maint_now(float(receipt.timestamp))
        f = self.rule(self.balances[index], o.price, h * self._scales(self.balances[index:index + 1], h)[0])
        repaid_usd, bad = 0.0, []
        for ev in receipt.events:
            if ev.event_name == "Liquidation":
                repaid = int(ev.repaid) / 10.0 ** self.dec[dj]
                seized = int(ev.seized) / 10.0 ** self.dec[cj]
                lt = self.tol.liquidation_rel
                self.parity.close(f"step {step} account {index} repaid", "liquidation", repaid, float(f.repaid),
                                  lt * float(f.repaid) + 1.0 / 10.0 ** self.dec[dj])
                self.parity.close(f"step {step} account {index} seized", "liquidation", seized,
                                  float(f.seized - f.insurance_cut), lt * float(f.seized) + 1.0 / 10.0 ** self.dec[cj])
                repaid_usd += repaid * float(o.price[dj])
            elif ev.event_name == "BadDebtSettled":
                j = [a.lower() for a in addrs].index(str(ev.asset).lower())
                bad.append(int(ev.debt) / 10.0 ** self.dec[j] * float(o.price[j]))
        return Liquidation(repaid_usd, tuple(bad), bool(bad))

    def liquidation_refused(self, step: int, index: int, account: str, debt: str, col: str, now: int,
                            error: Exception) -> None:
        """Nothing to compare: the driver counts the revert (e.g. the liquidation cap)."""


def model_configuration(system: System, params: M.OracleParams, caution_scale: float, rule: LiquidationRule,
                        tolerances: Tolerances = Tolerances()) -> tuple[ModelChecker, Keeper]:
    """Checker against ``volmargin.model`` within ``tolerances`` and the keeper one step
    late: it liquidates an account the chain found liquidatable at the previous view and
    now, once per step, on ``rule``'s pair (largest debt against largest collateral)."""
    checker = ModelChecker(system, params, caution_scale, rule, tolerances)
    return checker, Keeper(checker.pick, latency=1, rounds=1)


__all__ = [
    "Checker", "EXACT_KEEPER_ROUNDS", "EpisodeResult", "FLOAT_TOKENS", "Keeper", "Liquidation",
    "LiquidationForecast", "LiquidationRule", "ModelChecker", "Pick", "ReferenceChecker", "Tolerances",
    "clone_vault", "exact_configuration", "largest_debt_and_collateral", "listing_model", "model_configuration",
    "run_episode",
]
