"""Exact integer mirror of ``contracts/MarginVault.vy`` (docs/design.md §2, §5, §6)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .risk_math import (CAUTION, I, REDUCE_ONLY, UINT256_MAX, WAD, Reject, U, asset_value, bonus, borrow_rate,
                        grow_index, health_factor, initial_haircut, liability_value, max_repay, repay_for_seize,
                        require, seize_amount, size_haircut, utilization, weighted_asset, weighted_liability)
from .oracle import OracleRef, RiskView
from .portfolio import scaled_haircut
from .shares import to_assets_down, to_assets_up, to_shares_down, to_shares_up
from .. import spec as _S

#: market_layout.MAX_FIELD: the largest index (WAD) or scaled total a market word holds.
MARKET_FIELD_MAX = 2**128 - 1
#: market_layout.MAX_INSURANCE: the largest insurance fund (token decimals) a market word holds.
INSURANCE_MAX = 2**192 - 1

# ---------------------------------------------------------------- MarginVault.vy

# Global parameter indices (MarginVault.P_*, named V_* here) and per-asset ones (A_*),
# looked up in the spec tables by contract constant.
(
    V_CLOSE_FACTOR,
    V_HF_FULL,
    V_MIN_DEBT_VALUE,
    V_BONUS_MIN,
    V_BONUS_SLOPE,
    V_BONUS_MAX,
    V_INSURANCE_SHARE,
    V_LIQ_WINDOW,
    V_LIQ_CAP,
    V_LIQ_CAP_TRIPPED,
    V_CAUTION_SCALE,
) = _S.VAULT.indices(
    "P_CLOSE_FACTOR", "P_HF_FULL", "P_MIN_DEBT_VALUE", "P_BONUS_MIN", "P_BONUS_SLOPE", "P_BONUS_MAX",
    "P_INSURANCE_SHARE", "P_LIQ_WINDOW", "P_LIQ_CAP", "P_LIQ_CAP_TRIPPED", "P_CAUTION_SCALE",
)
VAULT_PARAM_NAMES = list(_S.VAULT.names)
A_BASE_RATE, A_SLOPE1, A_SLOPE2, A_KINK, A_RESERVE_FACTOR, A_BORROWABLE, A_SUPPLY_CAP, A_KAPPA_AGG = (
    _S.ASSET.indices(
        "A_BASE_RATE", "A_SLOPE1", "A_SLOPE2", "A_KINK", "A_RESERVE_FACTOR", "A_BORROWABLE", "A_SUPPLY_CAP",
        "A_KAPPA_AGG",
    )
)
ASSET_PARAM_NAMES = list(_S.ASSET.names)
PAUSE_WITHDRAW, PAUSE_BORROW, PAUSE_LIQUIDATE = 1, 2, 4


@dataclass
class Market:
    """MarginVault.Market."""

    deposit_index: int = WAD
    borrow_index: int = WAD
    scaled_deposits: int = 0
    scaled_borrows: int = 0
    last_accrual: int = 0
    insurance: int = 0


@dataclass(frozen=True)
class Health:
    """MarginVault.Health: weighted sums, WAD USD."""

    maint_assets: int = 0
    maint_liabilities: int = 0
    init_assets: int = 0
    init_liabilities: int = 0
    reduce_only: bool = False

    @property
    def maint(self) -> int:
        """health_maint = maint_assets - maint_liabilities (liquidatable iff < 0)."""
        return self.maint_assets - self.maint_liabilities

    @property
    def init(self) -> int:
        """health_init = init_assets - init_liabilities."""
        return self.init_assets - self.init_liabilities


def check_vault_params(p: list[int]) -> None:
    """MarginVault._check_params: the bounds of ``spec.VAULT`` (close factor in (0, 1],
    bonus bounds ordered and <= 1, insurance share and caution scale <= 1, a positive window,
    tripped cap <= cap), one ``assert`` line of the contract after the other.

    Raises Reject "vault: bad params" at the first line that fails."""
    for ok, reason in _S.VAULT.evaluate(p):
        require(ok, reason)


def check_asset_params(a: list[int]) -> None:
    """MarginVault._check_asset_params: the bounds of ``spec.ASSET`` (kink in (0, 1),
    reserve factor <= 1, borrowable a flag, base_rate + slope1 + slope2 <= 100 per year,
    supply cap < 2**40 whole tokens, kappa_agg <= 1), one ``assert`` line of the contract
    after the other.

    Raises Reject "vault: bad params" at the first line that fails."""
    for ok, reason in _S.ASSET.evaluate(a):
        require(ok, reason)


def tokens(scaled: int, m: Market) -> int:
    """margin._to_tokens: signed token balance of a scaled balance (deposits down, borrows up,
    ``shares``), with the contract's checked arithmetic (``ArithmeticError`` where it reverts)."""
    if scaled >= 0:
        return I(to_assets_down(scaled, m.deposit_index))
    return -I(to_assets_up(I(-scaled), m.borrow_index))


def concentration_haircut(kappa_agg: int, total_deposits: int, r: RiskView, decimals: int) -> int:
    """MarginVault._load's concentration haircut of one asset (docs/design.md §4.3), WAD:
    ``kappa_agg * sqrt(total deposit value / depth)``, the size term of the asset's *total*
    deposits (``total_deposits``, token decimals ``decimals``, rounded down from the market)
    valued at the view's price (rounded down); 0 when ``kappa_agg`` (WAD) or the view's
    depth is 0."""
    if kappa_agg == 0:
        return 0
    return size_haircut(kappa_agg, r.depth, asset_value(total_deposits, r.price, decimals))


def health_sums(
    balances: list[int], views: list[RiskView], decimals: list[int], caution_scale: int,
    conc: list[int] | None = None, scales: tuple[int, int] = (WAD, WAD),
) -> Health:
    """margin._weigh: the four weighted sums of docs/design.md §5, WAD USD.

    ``balances[i]`` is a signed balance in token decimals ``decimals[i]``, valued
    with the oracle view ``views[i]`` (price WAD USD, haircuts WAD, size term
    kappa/depth). Deposits weigh ``1 - h`` (rounded down), debts ``1 + h``
    (rounded up); the initial haircut adds the size term, for deposits also the
    asset's concentration haircut ``conc[i]`` (WAD, ``concentration_haircut``; None:
    all 0), and is capped at 1 (``initial_haircut``); CAUTION collateral counts
    ``caution_scale`` (WAD) in the initial sum. ``reduce_only`` is set when any given
    view is REDUCE_ONLY. ``scales``: the account's portfolio scales (lambda_maint,
    lambda_init), WAD (docs/design.md §5.6; ``OracleRef.portfolio_scales``), applied to
    every haircut as ``portfolio.scaled_haircut`` (1e18: unchanged)."""
    lam_m, lam_i = scales
    ma = ml = ia = il = 0
    reduce_only = False
    for i, (bal, r, dec) in enumerate(zip(balances, views, decimals)):
        if r.breaker == REDUCE_ONLY:
            reduce_only = True
        hm = scaled_haircut(r.h_maint, lam_m)
        if bal > 0:
            v = asset_value(bal, r.price, dec)
            hi = scaled_haircut(initial_haircut(r.h_init, r.kappa, r.depth, v, conc[i] if conc is not None else 0), lam_i)
            ma += weighted_asset(v, hm)
            w = weighted_asset(v, hi)
            if r.breaker == CAUTION:
                w = w * caution_scale // WAD
            ia += w
        elif bal < 0:
            v = liability_value(-bal, r.price, dec)
            hi = scaled_haircut(initial_haircut(r.h_init, r.kappa, r.depth, v, 0), lam_i)
            ml += weighted_liability(v, hm)
            il += weighted_liability(v, hi)
    return Health(ma, ml, ia, il, reduce_only)


def liquidation_amounts(
    debt: int, col_bal: int, debt_price: int, debt_dec: int, col_price: int, col_dec: int, h: Health,
    p: list[int] | tuple[int, ...], max_repay_: int = UINT256_MAX,
) -> tuple[int, int, int, int]:
    """MarginVault.liquidate's amounts: (repaid, seized from the account, insurance cut, bonus).

    ``debt`` (> 0) and ``col_bal`` (> 0): the account's debt and collateral, token decimals;
    prices WAD USD per whole token; ``h``: the account's health sums; ``p``: the vault's
    global parameters (``V_*`` order); ``max_repay_``: the liquidator's cap, debt token
    decimals. Repayment capped by the close factor (the whole debt below ``hf_full`` or above
    a dust remainder), bonus scaled by the shortfall, seizure capped by the collateral with
    the repayment cut to match, the insurance fund's share of the bonus (docs/design.md §6).
    Rejects "vault: dust left" where the contract does.
    """
    repay = min(
        max_repay_,
        max_repay(
            debt,
            debt_price,
            debt_dec,
            health_factor(h.maint_assets, h.maint_liabilities),
            p[V_CLOSE_FACTOR],
            p[V_HF_FULL],
            p[V_MIN_DEBT_VALUE],
        ),
    )
    if repay < debt:  # a liquidator-chosen repayment must not leave dust behind (docs/design.md §6)
        require(liability_value(debt - repay, debt_price, debt_dec) >= p[V_MIN_DEBT_VALUE], "vault: dust left")
    bon = bonus(h.maint_assets, h.maint_liabilities, p[V_BONUS_MIN], p[V_BONUS_SLOPE], p[V_BONUS_MAX])
    seize = seize_amount(repay, debt_price, debt_dec, col_price, col_dec, bon)
    if seize > col_bal:
        seize = col_bal
        repay = min(repay, repay_for_seize(seize, debt_price, debt_dec, col_price, col_dec, bon))
    cut = seize * bon // (WAD + bon) * p[V_INSURANCE_SHARE] // WAD
    return repay, seize, cut, bon


@dataclass
class VaultRef:
    """Mirror of MarginVault.vy on top of an ``OracleRef``.

    Token transfers are not modelled (the contract's token calls succeed or
    revert the whole transaction); every method takes ``now`` (block time, s).
    """

    oracle: OracleRef
    params: list[int]
    listed: list[str] = field(default_factory=list)
    decimals: dict[str, int] = field(default_factory=dict)
    asset_params: dict[str, list[int]] = field(default_factory=dict)
    markets: dict[str, Market] = field(default_factory=dict)
    scaled: dict[tuple[str, str], int] = field(default_factory=dict)
    masks: dict[str, int] = field(default_factory=dict)
    paused: int = 0
    liq_window_start: int = 0
    liq_window_used: int = 0

    # -- listing and parameters

    def list_asset(self, asset: str, decimals: int, asset_params: list[int], now: int) -> None:
        """MarginVault.list_asset (the oracle's poke is the caller's to mirror)."""
        require(asset not in self.decimals, "vault: already listed")
        require(len(self.listed) < 8, "vault: too many assets")
        check_asset_params(asset_params)
        require(decimals <= 24, "vault: decimals > 24")
        self.oracle.risk(asset, now)
        self.listed.append(asset)
        self.decimals[asset] = decimals
        self.asset_params[asset] = list(asset_params)
        self.markets[asset] = Market(last_accrual=now)

    def _listed(self, asset: str) -> None:
        require(asset in self.decimals, "vault: asset not listed")

    def bit(self, asset: str) -> int:
        """Bit of ``asset`` in a position mask."""
        return 1 << self.listed.index(asset)

    # -- interest

    def accrued(self, asset: str, now: int) -> tuple[Market, int]:
        """MarginVault._accrued: the market accrued to ``now`` and the reserve added."""
        m = replace(self.markets[asset])
        dt = U(now - m.last_accrual)
        if dt == 0:
            return m, 0
        m.last_accrual = now
        if m.scaled_borrows == 0:
            return m, 0
        a = self.asset_params[asset]
        deposits = to_assets_down(m.scaled_deposits, m.deposit_index)
        borrows = to_assets_up(m.scaled_borrows, m.borrow_index)
        rate = borrow_rate(utilization(deposits, borrows), a[A_BASE_RATE], a[A_SLOPE1], a[A_SLOPE2], a[A_KINK])
        m.borrow_index = grow_index(m.borrow_index, rate, dt)
        interest = U(to_assets_up(m.scaled_borrows, m.borrow_index) - borrows)
        reserve = interest * a[A_RESERVE_FACTOR] // WAD
        if m.scaled_deposits == 0:
            reserve = interest
        else:
            m.deposit_index += (interest - reserve) * WAD // m.scaled_deposits
        m.insurance += reserve
        return m, reserve

    def _store_market(self, asset: str, m: Market) -> None:
        """MarginVault._store_market: the bounds of the market's storage words (module
        ``market_layout``): indices and scaled totals <= MARKET_FIELD_MAX, insurance <= INSURANCE_MAX
        (token decimals)."""
        require(max(m.deposit_index, m.borrow_index, m.scaled_deposits, m.scaled_borrows) <= MARKET_FIELD_MAX,
                "vault: market out of range")
        require(m.insurance <= INSURANCE_MAX, "vault: insurance out of range")
        self.markets[asset] = m

    def _accrue(self, asset: str, now: int) -> Market:
        m, _ = self.accrued(asset, now)
        self._store_market(asset, m)
        return m

    def balance(self, account: str, asset: str, now: int) -> int:
        """MarginVault.balance_of: signed token balance accrued to ``now``."""
        m, _ = self.accrued(asset, now)
        return tokens(self.scaled.get((account, asset), 0), m)

    def totals(self, asset: str, now: int) -> tuple[int, int, int, int, int]:
        """MarginVault.market: (deposit index, borrow index, deposits, borrows, insurance)."""
        m, _ = self.accrued(asset, now)
        return (
            m.deposit_index,
            m.borrow_index,
            to_assets_down(m.scaled_deposits, m.deposit_index),
            to_assets_up(m.scaled_borrows, m.borrow_index),
            m.insurance,
        )

    def _set_balance(self, account: str, asset: str, m: Market, new_tokens: int) -> Market:
        out = replace(m)
        old = self.scaled.get((account, asset), 0)
        if old > 0:
            out.scaled_deposits = U(out.scaled_deposits - old)
        elif old < 0:
            out.scaled_borrows = U(out.scaled_borrows + old)
        new = 0
        if new_tokens > 0:
            s = to_shares_down(new_tokens, m.deposit_index)
            out.scaled_deposits += s
            new = s
        elif new_tokens < 0:
            s = to_shares_up(-new_tokens, m.borrow_index)
            out.scaled_borrows += s
            new = -s
        self.scaled[(account, asset)] = new
        mask = self.masks.get(account, 0)
        mask = mask & ~self.bit(asset) if new == 0 else mask | self.bit(asset)
        self.masks[account] = mask
        self._store_market(asset, out)
        return out

    @staticmethod
    def _available(m: Market) -> int:
        deposits = to_assets_down(m.scaled_deposits, m.deposit_index)
        borrows = to_assets_up(m.scaled_borrows, m.borrow_index)
        return 0 if borrows >= deposits else deposits - borrows

    # -- health

    def health(self, account: str, now: int, mask: int | None = None) -> Health:
        """MarginVault._health over ``mask`` (default: the account's positions)."""
        if mask is None:
            mask = self.masks.get(account, 0)
        bals: list[int] = []
        views: list[RiskView] = []
        decs: list[int] = []
        conc: list[int] = []
        legs: list[str | None] = []
        for i, asset in enumerate(self.listed):
            if not mask & (1 << i):
                continue
            m, _ = self.accrued(asset, now)
            r = self.oracle.risk(asset, now)
            bals.append(tokens(self.scaled.get((account, asset), 0), m))
            views.append(r)
            decs.append(self.decimals[asset])
            legs.append(asset)
            total = to_assets_down(m.scaled_deposits, m.deposit_index)
            conc.append(concentration_haircut(self.asset_params[asset][A_KAPPA_AGG], total, r, self.decimals[asset]))
        scales = (WAD, WAD)
        if sum(r.correlated for r in views) >= 2:  # the vault asks the oracle only then
            scales = self.oracle.portfolio_scales(legs, bals, decs, conc, now)
        return health_sums(bals, views, decs, self.params[V_CAUTION_SCALE], conc, scales)

    def health_factor(self, account: str, now: int) -> int:
        """Maintenance health factor, WAD."""
        h = self.health(account, now)
        return health_factor(h.maint_assets, h.maint_liabilities)

    def _check_risk_increase(self, account: str, asset: str, now: int) -> None:
        h = self.health(account, now, self.masks.get(account, 0) | self.bit(asset))
        require(not h.reduce_only, "vault: asset reduce-only")
        require(h.init_assets >= h.init_liabilities, "vault: insufficient health")

    # -- actions (each is atomic: on Reject the state is restored)

    def _atomic(self, fn, *args):  # type: ignore[no-untyped-def]
        snapshot = (
            {k: replace(v) for k, v in self.markets.items()},
            dict(self.scaled),
            dict(self.masks),
            self.liq_window_start,
            self.liq_window_used,
        )
        try:
            return fn(*args)
        except (Reject, ArithmeticError):
            self.markets, self.scaled, self.masks, self.liq_window_start, self.liq_window_used = snapshot
            raise

    def deposit(self, account: str, asset: str, amount: int, now: int) -> None:
        """MarginVault.deposit (never paused; refused above the supply cap, docs/design.md §2.8)."""
        self._atomic(self._deposit, account, asset, amount, now)

    def _deposit(self, account: str, asset: str, amount: int, now: int) -> None:
        require(amount > 0, "vault: zero amount")
        require(amount <= 2**255 - 1, "vault: amount too large")
        self._listed(asset)
        m = self._accrue(asset, now)
        bal = tokens(self.scaled.get((account, asset), 0), m)
        self._check_supply_cap(asset, m, self._set_balance(account, asset, m, I(bal + amount)))

    def _check_supply_cap(self, asset: str, before: Market, after: Market) -> None:
        """MarginVault._check_supply_cap: a deposit that raises the asset's scaled deposits may
        not lift its total deposits (token decimals, rounded down) above ``supply_cap`` whole
        tokens (0: no cap). Rejects "vault: supply cap reached"."""
        cap = self.asset_params[asset][A_SUPPLY_CAP]
        if cap == 0 or after.scaled_deposits <= before.scaled_deposits:
            return
        total = to_assets_down(after.scaled_deposits, after.deposit_index)
        require(total <= cap * 10 ** self.decimals[asset], "vault: supply cap reached")

    def withdraw(self, account: str, asset: str, amount: int, now: int) -> None:
        """MarginVault.withdraw."""
        self._atomic(self._withdraw, account, asset, amount, now)

    def _withdraw(self, account: str, asset: str, amount: int, now: int) -> None:
        require(self.paused & PAUSE_WITHDRAW == 0, "vault: withdraw paused")
        require(amount > 0, "vault: zero amount")
        self._listed(asset)
        m = self._accrue(asset, now)
        bal = tokens(self.scaled.get((account, asset), 0), m)
        require(bal >= I(amount), "vault: insufficient balance")
        require(amount <= self._available(m), "vault: insufficient liquidity")
        self._set_balance(account, asset, m, bal - amount)
        self._check_risk_increase(account, asset, now)

    def borrow(self, account: str, asset: str, amount: int, now: int) -> None:
        """MarginVault.borrow."""
        self._atomic(self._borrow, account, asset, amount, now)

    def _borrow(self, account: str, asset: str, amount: int, now: int) -> None:
        require(self.paused & PAUSE_BORROW == 0, "vault: borrow paused")
        require(amount > 0, "vault: zero amount")
        self._listed(asset)
        require(self.asset_params[asset][A_BORROWABLE] == 1, "vault: asset not borrowable")
        m = self._accrue(asset, now)
        bal = tokens(self.scaled.get((account, asset), 0), m)
        require(amount <= self._available(m), "vault: insufficient liquidity")
        self._set_balance(account, asset, m, I(bal - I(amount)))
        self._check_risk_increase(account, asset, now)

    def repay(self, account: str, asset: str, amount: int, now: int) -> int:
        """MarginVault.repay: returns the amount repaid (never paused)."""
        return self._atomic(self._repay, account, asset, amount, now)

    def _repay(self, account: str, asset: str, amount: int, now: int) -> int:
        require(amount > 0, "vault: zero amount")
        self._listed(asset)
        m = self._accrue(asset, now)
        bal = tokens(self.scaled.get((account, asset), 0), m)
        require(bal < 0, "vault: no debt")
        paid = min(amount, -bal)
        self._set_balance(account, asset, m, bal + paid)
        return paid

    def _use_liquidation_cap(self, repaid_value: int, now: int) -> None:
        used = self.liq_window_used
        if now >= self.liq_window_start + self.params[V_LIQ_WINDOW]:
            self.liq_window_start = now
            used = 0
        cap = self.params[V_LIQ_CAP_TRIPPED] if self.oracle.n_tripped > 0 else self.params[V_LIQ_CAP]
        used += repaid_value
        require(used <= cap, "vault: liquidation cap reached")
        self.liq_window_used = used

    def settle_if_bankrupt(self, account: str, now: int) -> list[tuple[str, int, int, int]]:
        """MarginVault._settle_if_bankrupt: [(asset, debt, covered, socialized)] written off."""
        mask = self.masks.get(account, 0)
        if mask == 0 or any(self.scaled.get((account, a), 0) > 0 for a in self.listed):
            return []
        out = []
        for i, asset in enumerate(self.listed):
            if not mask & (1 << i):
                continue
            m = self._accrue(asset, now)
            debt = -tokens(self.scaled.get((account, asset), 0), m)
            covered = min(debt, m.insurance)
            m.insurance -= covered
            loss = debt - covered
            m = self._set_balance(account, asset, m, 0)
            if loss > 0 and m.scaled_deposits > 0:
                deposits = to_assets_down(m.scaled_deposits, m.deposit_index)
                m.deposit_index = (deposits - min(loss, deposits)) * WAD // m.scaled_deposits
            self._store_market(asset, m)
            out.append((asset, debt, covered, loss))
        return out

    def settle_bad_debt(self, account: str, now: int) -> list[tuple[str, int, int, int]]:
        """MarginVault.settle_bad_debt."""

        def run() -> list[tuple[str, int, int, int]]:
            out = self.settle_if_bankrupt(account, now)
            require(bool(out), "vault: not bad debt")
            return out

        return self._atomic(run)

    def liquidate(
        self, liquidator: str, account: str, debt_asset: str, col_asset: str, max_repay_: int, min_seize: int, now: int
    ) -> tuple[int, int, int, list[tuple[str, int, int, int]]]:
        """MarginVault.liquidate: returns (repaid, seized to liquidator, insurance cut, bad debt settled)."""
        return self._atomic(self._liquidate, liquidator, account, debt_asset, col_asset, max_repay_, min_seize, now)

    def _liquidate(
        self, liquidator: str, account: str, debt_asset: str, col_asset: str, max_repay_: int, min_seize: int, now: int
    ) -> tuple[int, int, int, list[tuple[str, int, int, int]]]:
        require(self.paused & PAUSE_LIQUIDATE == 0, "vault: liquidate paused")
        require(max_repay_ > 0, "vault: zero amount")
        require(account != liquidator, "vault: self-liquidation")
        require(debt_asset != col_asset, "vault: same asset")
        self._listed(debt_asset)
        self._listed(col_asset)
        md = self._accrue(debt_asset, now)
        mc = self._accrue(col_asset, now)
        h = self.health(account, now)
        require(h.maint_assets < h.maint_liabilities, "vault: account healthy")
        debt_bal = tokens(self.scaled.get((account, debt_asset), 0), md)
        col_bal = tokens(self.scaled.get((account, col_asset), 0), mc)
        require(debt_bal < 0, "vault: no debt in asset")
        require(col_bal > 0, "vault: no collateral in asset")
        rd = self.oracle.risk(debt_asset, now)
        rc = self.oracle.risk(col_asset, now)
        dd, dc = self.decimals[debt_asset], self.decimals[col_asset]
        p = self.params
        repay, seize, cut, _ = liquidation_amounts(-debt_bal, col_bal, rd.price, dd, rc.price, dc, h, p, max_repay_)
        require(repay > 0 and seize - cut >= min_seize, "vault: seize below minimum")
        self._use_liquidation_cap(liability_value(repay, rd.price, dd), now)
        self._set_balance(account, debt_asset, md, debt_bal + repay)
        mc = self._set_balance(account, col_asset, mc, col_bal - seize)
        mc.insurance += cut
        self._store_market(col_asset, mc)
        settled = self.settle_if_bankrupt(account, now)
        return repay, seize - cut, cut, settled
