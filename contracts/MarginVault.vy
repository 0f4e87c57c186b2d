# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title volmargin MarginVault
@custom:contract-name MarginVault
@license GNU Affero General Public License v3.0 only
@notice Cross-margin accounts with one signed balance per listed asset
        (docs/design.md §2, Mango v4 style): positive = deposit earning the
        deposit rate, negative = borrow. Health is weighted with the
        volatility-driven haircuts of the RiskOracle (§4, §5), scaled by
        the oracle's portfolio scales when two or more legs are correlated
        (§5.6; the `margin` module, shared with the VaultLens); unhealthy
        accounts are liquidated with a close factor, a dust rule and a
        health-scaled bonus (§6); an account left with debt and no
        collateral is settled against the insurance fund and then
        socialized, atomically (§6). Amounts are in token decimals;
        prices, haircuts, indices and rates are WAD (1e18 = 1.0); USD
        values are WAD USD; times are Unix seconds. Every rejection is a
        revert reason prefixed `vault:` (or `access_control:`,
        `steward:`, `oracle:` from the module or contract that rejects).
        Deposits and repayments are never paused; a deposit may be
        refused by the asset's supply cap (docs/design.md §2.8).
        `volmargin.reference.VaultRef` mirrors this contract bit for bit.
"""

from ethereum.ercs import IERC165
implements: IERC165

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

from snekmate.auth.interfaces import IAccessControl
implements: IAccessControl

from snekmate.auth import access_control
initializes: access_control
exports: access_control.__interface__

import interfaces.IRiskOracle as IRiskOracle
import interfaces.IMarginVault as IMarginVault
implements: IMarginVault
from .modules import risk_math
from .modules import rates
from .modules import steward
from .modules import margin
from .modules import asset_config
from .modules import market_layout
from .modules import shares
from .modules import vault_params
initializes: steward[access_control := access_control]
exports: (
    steward.max_rel_change,
    steward.min_change_delay,
    steward.last_change,
    steward.set_governance_bounds,
)

WAD: constant(uint256) = 10**18
# Largest amount one deposit may credit, token decimals (a signed balance is int256).
MAX_AMOUNT: constant(uint256) = 2**255 - 1
MAX_ASSETS: constant(uint256) = 8

RISK_ADMIN_ROLE: public(constant(bytes32)) = keccak256("RISK_ADMIN_ROLE")
GUARDIAN_ROLE: public(constant(bytes32)) = keccak256("GUARDIAN_ROLE")

# Pause switches (bit mask). Deposits and repayments have none.
PAUSE_WITHDRAW: public(constant(uint256)) = 1
PAUSE_BORROW: public(constant(uint256)) = 2
PAUSE_LIQUIDATE: public(constant(uint256)) = 4
PAUSE_ALL: constant(uint256) = 7

# Global parameters (indices into `params`). The order is the `vault_params`
# codec's, which packs the vector into `_params`.
N_PARAMS: constant(uint256) = vault_params.N_PARAMS
P_CLOSE_FACTOR: public(constant(uint256)) = vault_params.P_CLOSE_FACTOR  # 0, WAD: share of one debt a liquidator may repay
P_HF_FULL: public(constant(uint256)) = vault_params.P_HF_FULL  # 1, WAD: health factor under which the whole debt may be repaid
P_MIN_DEBT_VALUE: public(constant(uint256)) = vault_params.P_MIN_DEBT_VALUE  # 2, WAD USD: smallest debt a liquidation may leave
P_BONUS_MIN: public(constant(uint256)) = vault_params.P_BONUS_MIN  # 3, WAD: liquidation bonus at zero shortfall
P_BONUS_SLOPE: public(constant(uint256)) = vault_params.P_BONUS_SLOPE  # 4, WAD: bonus added per unit of shortfall
P_BONUS_MAX: public(constant(uint256)) = vault_params.P_BONUS_MAX  # 5, WAD: bonus cap
P_INSURANCE_SHARE: public(constant(uint256)) = vault_params.P_INSURANCE_SHARE  # 6, WAD: share of the bonus paid to the insurance fund
P_LIQ_WINDOW: public(constant(uint256)) = vault_params.P_LIQ_WINDOW  # 7, s: liquidation cap window
P_LIQ_CAP: public(constant(uint256)) = vault_params.P_LIQ_CAP  # 8, WAD USD: repaid value per window
P_LIQ_CAP_TRIPPED: public(constant(uint256)) = vault_params.P_LIQ_CAP_TRIPPED  # 9, WAD USD: the same while any asset is REDUCE_ONLY
P_CAUTION_SCALE: public(constant(uint256)) = vault_params.P_CAUTION_SCALE  # 10, WAD: weight of CAUTION collateral in initial health

# Per-asset parameters (indices into `asset_params`).
# The order is the `asset_config` codec's, which packs the vector into `_cfg`.
N_ASSET_PARAMS: constant(uint256) = asset_config.N_PARAMS
A_BASE_RATE: public(constant(uint256)) = asset_config.A_BASE_RATE  # 0, WAD per year
A_SLOPE1: public(constant(uint256)) = asset_config.A_SLOPE1  # 1, WAD per year
A_SLOPE2: public(constant(uint256)) = asset_config.A_SLOPE2  # 2, WAD per year
A_KINK: public(constant(uint256)) = asset_config.A_KINK  # 3, WAD utilization
A_RESERVE_FACTOR: public(constant(uint256)) = asset_config.A_RESERVE_FACTOR  # 4, WAD share of interest to the insurance fund
A_BORROWABLE: public(constant(uint256)) = asset_config.A_BORROWABLE  # 5, 1 if the asset may be borrowed, else 0
A_SUPPLY_CAP: public(constant(uint256)) = asset_config.A_SUPPLY_CAP  # 6, whole tokens: most total deposits a deposit may reach (0: no cap)
A_KAPPA_AGG: public(constant(uint256)) = asset_config.A_KAPPA_AGG  # 7, WAD: concentration coefficient on the asset's total deposits


event AssetListed:
    asset: indexed(address)
    decimals: uint256
    borrowable: bool


event Deposit:
    account: indexed(address)
    asset: indexed(address)
    amount: uint256
    caller: address


event Withdraw:
    account: indexed(address)
    asset: indexed(address)
    amount: uint256


event Borrow:
    account: indexed(address)
    asset: indexed(address)
    amount: uint256


event Repay:
    account: indexed(address)
    asset: indexed(address)
    amount: uint256
    caller: address


event Liquidation:
    account: indexed(address)
    liquidator: indexed(address)
    debt_asset: address
    collateral_asset: address
    repaid: uint256
    seized: uint256
    bonus: uint256
    insurance_cut: uint256


event BadDebtSettled:
    account: indexed(address)
    asset: indexed(address)
    debt: uint256
    covered_by_insurance: uint256
    socialized: uint256


event Accrued:
    asset: indexed(address)
    borrow_index: uint256
    deposit_index: uint256
    reserve: uint256


event PauseChanged:
    old_mask: uint256
    new_mask: uint256
    caller: address


# The oracle's address | the pause mask (getters `oracle`, `paused`; module `vault_params`).
_core: uint256
listed: public(DynArray[address, MAX_ASSETS])
# Packed per-asset configuration (getters `asset_slot`, `asset_decimals`,
# `asset_params`), bounded by `_check_asset_params` and the listing checks;
# layout and field accessors in the `asset_config` module (slot, decimals,
# borrowable, kink, reserve_factor, kappa_agg, supply_cap | base_rate,
# slope1, slope2).
_cfg: HashMap[address, uint256[2]]
# Packed markets, three words (getter `stored_market`; layout, bounds and
# accessors in the `market_layout` module): indices, scaled totals, and
# last_accrual | insurance ("vault: market out of range" / "vault:
# insurance out of range" above a field).
_markets: HashMap[address, uint256[3]]
# The global parameter vector in four words (getter `params`; layout, widths and
# accessors in the `vault_params` module, bounded by `_check_params`).
_params: uint256[4]
# account => asset => signed scaled balance (deposit index scale if > 0, borrow index scale if < 0)
scaled_balances: public(HashMap[address, HashMap[address, int256]])
# Liquidation-cap window: start, s | value repaid in it, WAD USD (getters
# `liq_window_start`, `liq_window_used`; module `vault_params`).
_window: uint256


@deploy
def __init__(oracle_: IRiskOracle, params_: uint256[N_PARAMS], max_rel_change_: uint256, min_change_delay_: uint256):
    """
    @notice Deploys the vault; the deployer gets DEFAULT_ADMIN_ROLE.
    @param oracle_ The RiskOracle that prices and haircuts every asset.
    @param params_ Global parameters, indexed by the P_* constants.
    @param max_rel_change_ Risk-steward step limit, WAD.
    @param min_change_delay_ Risk-steward delay, seconds.
    """
    access_control.__init__()
    steward.__init__(max_rel_change_, min_change_delay_)
    self._check_params(params_)
    self._core = vault_params._core(oracle_.address, 0)
    self._params = vault_params._pack(params_)
    self._window = vault_params._window(block.timestamp, 0)


# ---------------------------------------------------------------- parameters


@internal
@pure
def _check_params(p: uint256[N_PARAMS]):
    # one assert, one revert string: the vault is close to the EIP-170 code size limit
    # the widths are the `vault_params` fields' (the entries without a bound of their own)
    assert p[P_CLOSE_FACTOR] > 0 and p[P_CLOSE_FACTOR] <= WAD and p[P_BONUS_MIN] <= p[P_BONUS_MAX] and max(p[P_BONUS_MAX], max(p[P_INSURANCE_SHARE], p[P_CAUTION_SCALE])) <= WAD and p[P_LIQ_WINDOW] > 0 and max(p[P_HF_FULL], max(p[P_BONUS_SLOPE], p[P_LIQ_WINDOW])) <= vault_params.M64 and max(p[P_MIN_DEBT_VALUE], p[P_LIQ_CAP]) <= vault_params.M128 and p[P_LIQ_CAP_TRIPPED] <= p[P_LIQ_CAP], "vault: bad params"


@internal
@pure
def _check_asset_params(a: uint256[N_ASSET_PARAMS]):
    # one assert, one revert string, for every bound: the vault is close to the EIP-170 code size limit
    assert a[A_KINK] > 0 and a[A_KINK] < WAD and a[A_RESERVE_FACTOR] <= WAD and a[A_BORROWABLE] <= 1 and max(a[A_BASE_RATE], max(a[A_SLOPE1], a[A_SLOPE2])) <= 100 * WAD and a[A_BASE_RATE] + a[A_SLOPE1] + a[A_SLOPE2] <= 100 * WAD and a[A_SUPPLY_CAP] <= asset_config.MAX_SUPPLY_CAP and a[A_KAPPA_AGG] <= WAD, "vault: bad params"


@internal
def _pull(asset: address, amount: uint256):
    """
    @dev Pulls `amount` of `asset` from the caller. Reverts "vault:
         transfer failed" if the token returns false.
    """
    assert extcall IERC20(asset).transferFrom(msg.sender, self, amount, default_return_value=True), "vault: transfer failed"


@internal
def _send(asset: address, amount: uint256):
    """
    @dev Sends `amount` of `asset` to the caller. Reverts "vault:
         transfer failed" if the token returns false.
    """
    assert extcall IERC20(asset).transfer(msg.sender, amount, default_return_value=True), "vault: transfer failed"


@internal
def _probe_transfer(asset: address, decimals: uint256):
    """
    @dev Listing-time fee-on-transfer check: pulls 10**decimals units
         from the caller, requires the vault's balance to rise by exactly
         that, and returns them. Reverts "vault: fee-on-transfer token",
         "vault: transfer failed", or the token's own error.
    """
    probe: uint256 = 10**decimals
    before: uint256 = staticcall IERC20(asset).balanceOf(self)
    self._pull(asset, probe)
    assert staticcall IERC20(asset).balanceOf(self) == before + probe, "vault: fee-on-transfer token"
    self._send(asset, probe)


@internal
@view
def _slot(asset: address) -> uint256:
    return asset_config._slot(self._cfg[asset][0])


@internal
@view
def _decimals(asset: address) -> uint256:
    return asset_config._decimals(self._cfg[asset][0])


@internal
def _store_cfg(asset: address, slot: uint256, decimals: uint256, a: uint256[N_ASSET_PARAMS]):
    """
    @dev Packs the configuration of an asset whose parameters passed
         `_check_asset_params` (`asset_config`).
    """
    self._cfg[asset] = asset_config._pack(slot, decimals, a)


@internal
@view
def _load_market(asset: address) -> market_layout.Market:
    return market_layout._unpack(self._markets[asset])


@internal
def _store_market(asset: address, m: market_layout.Market):
    assert max(max(m.deposit_index, m.borrow_index), max(m.scaled_deposits, m.scaled_borrows)) <= market_layout.MAX_FIELD, "vault: market out of range"
    assert m.insurance <= market_layout.MAX_INSURANCE, "vault: insurance out of range"
    self._markets[asset] = market_layout._pack(m)


@internal
@view
def _oracle() -> IRiskOracle:
    return IRiskOracle(vault_params._oracle(self._core))


@external
@view
def oracle() -> address:
    """
    @notice The RiskOracle that prices and haircuts every asset.
    """
    return vault_params._oracle(self._core)


@external
@view
def paused() -> uint256:
    """
    @notice The pause mask: PAUSE_WITHDRAW (1) | PAUSE_BORROW (2) | PAUSE_LIQUIDATE (4).
    """
    return vault_params._paused(self._core)


@external
@view
def params(i: uint256) -> uint256:
    """
    @notice One global parameter (P_* index), in its unit (WAD, WAD USD, seconds).
    @dev Reverts (out-of-bounds index, no reason) for i >= 11.
    """
    return vault_params._unpack(self._params)[i]


@external
@view
def liq_window_start() -> uint256:
    """
    @notice Start of the current liquidation-cap window, Unix seconds.
    """
    return vault_params._window_start(self._window)


@external
@view
def liq_window_used() -> uint256:
    """
    @notice Value repaid by liquidations in the window that starts at `liq_window_start`, WAD USD.
    """
    return vault_params._window_used(self._window)


@external
@view
def asset_slot(asset: address) -> uint256:
    """
    @notice 1-based position of `asset` in `listed` (0: not listed).
    """
    return self._slot(asset)


@external
@view
def asset_decimals(asset: address) -> uint256:
    """
    @notice Token decimals of a listed asset (0 if not listed).
    """
    return self._decimals(asset)


@external
@view
def asset_params(asset: address, i: uint256) -> uint256:
    """
    @notice One per-asset parameter (A_* index; 0 if not listed).
    """
    return asset_config._unpack_params(self._cfg[asset])[i]


@external
@view
def stored_market(asset: address) -> market_layout.Market:
    """
    @notice The stored market of an asset (indices WAD, scaled totals,
            last accrual s, insurance fund token decimals), not accrued
            to now (see `market`).
    """
    return self._load_market(asset)


@external
def list_asset(asset: address, asset_params_: uint256[N_ASSET_PARAMS]):
    """
    @notice Lists a token already listed on the oracle. DEFAULT_ADMIN_ROLE.
    @dev Reverts "vault: already listed", "vault: too many assets",
         "vault: bad params", "vault: decimals > 24", "oracle: ..." (the
         oracle must value the asset), "vault: fee-on-transfer token".
         Fee-on-transfer probe: pulls one whole token (10**decimals
         units; 1 unit at 0 decimals) from the caller with
         `transferFrom`, requires the vault's `balanceOf` to rise by
         exactly that amount, and sends it back: the caller must hold
         and approve the probe. Reverts "vault: transfer failed" if a
         transfer returns false.
    @param asset ERC-20 token address (decimals read from the token).
    @param asset_params_ Rate model, borrowability, supply cap and
           concentration coefficient, indexed by A_*.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert self._slot(asset) == 0, "vault: already listed"
    assert len(self.listed) < MAX_ASSETS, "vault: too many assets"
    self._check_asset_params(asset_params_)
    decimals: uint256 = convert(staticcall IERC20Detailed(asset).decimals(), uint256)
    assert decimals <= 24, "vault: decimals > 24"
    extcall self._oracle().poke(asset)
    r: IRiskOracle.RiskView = staticcall self._oracle().risk(asset)
    assert r.price > 0, "oracle: invalid price"
    self._probe_transfer(asset, decimals)
    self.listed.append(asset)
    self._store_cfg(asset, len(self.listed), decimals, asset_params_)
    self._store_market(
        asset,
        market_layout.Market(deposit_index=WAD, borrow_index=WAD, scaled_deposits=0, scaled_borrows=0, last_accrual=block.timestamp, insurance=0),
    )
    log AssetListed(asset=asset, decimals=decimals, borrowable=asset_params_[A_BORROWABLE] == 1)


@external
def set_param(param: uint256, new_value: uint256):
    """
    @notice Changes one global parameter (P_* index).
    @dev DEFAULT_ADMIN_ROLE freely, RISK_ADMIN_ROLE within the steward
         limits. Reverts "vault: unknown param", "vault: bad params",
         "steward: change too large", "steward: change too soon",
         "access_control: account is missing role".
    @param param P_* index.
    @param new_value New value in the parameter's unit.
    """
    assert param < N_PARAMS, "vault: unknown param"
    p: uint256[N_PARAMS] = vault_params._unpack(self._params)
    steward._authorize_change(empty(address), param, p[param], new_value)
    p[param] = new_value
    self._check_params(p)
    self._params = vault_params._pack(p)


@external
def set_asset_param(asset: address, param: uint256, new_value: uint256):
    """
    @notice Changes one per-asset parameter (A_* index); accrues first
            so that the old rate applies up to now. A supply cap below
            the asset's total deposits is accepted: it refuses further
            deposits and withdraws nothing.
    @dev As `set_param`; also "vault: asset not listed".
    """
    assert self._slot(asset) != 0, "vault: asset not listed"
    assert param < N_ASSET_PARAMS, "vault: unknown param"
    a: uint256[N_ASSET_PARAMS] = asset_config._unpack_params(self._cfg[asset])
    steward._authorize_change(asset, param, a[param], new_value)
    a[param] = new_value
    self._check_asset_params(a)
    self._accrue(asset)
    self._store_cfg(asset, self._slot(asset), self._decimals(asset), a)


@internal
def _set_paused(actions: uint256, on: bool):
    """
    @dev Sets (`on`) or clears the switches of `actions` in the core word.
         Reverts "vault: bad pause mask".
    """
    assert actions != 0 and actions & PAUSE_ALL == actions, "vault: bad pause mask"
    core: uint256 = self._core
    old: uint256 = vault_params._paused(core)
    new: uint256 = old & ~actions
    if on:
        new = old | actions
    self._core = vault_params._with_paused(core, new)
    log PauseChanged(old_mask=old, new_mask=new, caller=msg.sender)


@external
def pause(actions: uint256):
    """
    @notice Pauses withdrawals (1), borrows (2) and/or liquidations (4).
            GUARDIAN_ROLE or DEFAULT_ADMIN_ROLE. Deposits and repayments
            cannot be paused.
    @dev Reverts "vault: bad pause mask", "access_control: account is missing role".
    @param actions Bit mask of PAUSE_* switches to set.
    """
    if not access_control.hasRole[access_control.DEFAULT_ADMIN_ROLE][msg.sender]:
        access_control._check_role(GUARDIAN_ROLE, msg.sender)
    self._set_paused(actions, True)


@external
def unpause(actions: uint256):
    """
    @notice Clears pause switches. DEFAULT_ADMIN_ROLE only (a guardian
            cannot unpause).
    @dev Reverts "vault: bad pause mask", "access_control: account is missing role".
    @param actions Bit mask of PAUSE_* switches to clear.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_paused(actions, False)


# ---------------------------------------------------------------- interest


@internal
@view
def _accrued(asset: address) -> (market_layout.Market, uint256):
    """
    @dev The market with interest accrued to now, and the reserve added
         to the insurance fund by this accrual (docs/design.md §2).
    """
    m: market_layout.Market = self._load_market(asset)
    dt: uint256 = block.timestamp - m.last_accrual
    if dt == 0:
        return m, 0
    m.last_accrual = block.timestamp
    if m.scaled_borrows == 0:
        return m, 0
    a: uint256[N_ASSET_PARAMS] = asset_config._unpack_params(self._cfg[asset])
    deposits: uint256 = shares._to_assets_down(m.scaled_deposits, m.deposit_index)
    borrows: uint256 = shares._to_assets_up(m.scaled_borrows, m.borrow_index)
    rate: uint256 = rates._borrow_rate(
        rates._utilization(deposits, borrows), a[A_BASE_RATE], a[A_SLOPE1], a[A_SLOPE2], a[A_KINK]
    )
    m.borrow_index = rates._grow_index(m.borrow_index, rate, dt)
    interest: uint256 = shares._to_assets_up(m.scaled_borrows, m.borrow_index) - borrows
    reserve: uint256 = interest * a[A_RESERVE_FACTOR] // WAD
    if m.scaled_deposits == 0:
        reserve = interest
    else:
        m.deposit_index += (interest - reserve) * WAD // m.scaled_deposits
    m.insurance += reserve
    return m, reserve


@internal
def _accrue(asset: address) -> market_layout.Market:
    m: market_layout.Market = empty(market_layout.Market)
    reserve: uint256 = 0
    old_index: uint256 = market_layout._borrow_index(self._markets[asset][0])
    old_time: uint256 = market_layout._last_accrual(self._markets[asset][2])
    m, reserve = self._accrued(asset)
    if m.last_accrual != old_time:
        self._store_market(asset, m)
        if m.borrow_index != old_index:
            log Accrued(asset=asset, borrow_index=m.borrow_index, deposit_index=m.deposit_index, reserve=reserve)
    return m


@external
@view
def position_mask(account: address) -> uint256:
    """
    @notice Bit i set iff `account`'s balance of listed[i] is non-zero.
    @dev From the balances themselves, one read per listed asset (a stored
         mask cost a new slot, 22.1k gas, on an account's first deposit);
         a health check builds the same mask in its own pass.
    """
    mask: uint256 = 0
    i: uint256 = 0
    for asset: address in self.listed:
        if self.scaled_balances[account][asset] != 0:
            mask |= 1 << i
        i += 1
    return mask


@internal
def _set_balance(account: address, asset: address, m: market_layout.Market, new_tokens: int256) -> market_layout.Market:
    """
    @dev Re-derives the scaled balance of `account` from a new signed
         token balance (deposits round down, borrows round up) and
         updates the market totals (an account's positions are its
         non-zero balances: no mask is stored). Returns the market to
         store.
    """
    out: market_layout.Market = m
    old: int256 = self.scaled_balances[account][asset]
    if old > 0:
        out.scaled_deposits -= convert(old, uint256)
    elif old < 0:
        out.scaled_borrows -= convert(-old, uint256)
    new: int256 = 0
    if new_tokens > 0:
        s: uint256 = shares._to_shares_down(convert(new_tokens, uint256), m.deposit_index)
        out.scaled_deposits += s
        new = convert(s, int256)
    elif new_tokens < 0:
        s: uint256 = shares._to_shares_up(convert(-new_tokens, uint256), m.borrow_index)
        out.scaled_borrows += s
        new = -convert(s, int256)
    self.scaled_balances[account][asset] = new
    self._store_market(asset, out)
    return out


# ---------------------------------------------------------------- health


@internal
@view
def _health_views(account: address, extra: uint256) -> (IMarginVault.Health, IRiskOracle.RiskView[MAX_ASSETS]):
    """
    @dev Weighted sums of `account` over the listed assets it holds (a
         non-zero balance) and those of `extra` (bit i: listed[i]), and
         the risk views they used (by slot; empty for the others). One
         pass over `listed` reads each balance, accrues the markets
         weighed (interest to now), and keeps their decimals (bits 0-7)
         with the concentration haircut (bits 8-255, WAD, docs/design.md
         §4.3: kappa_agg * sqrt(total deposit value / depth), 0 when
         kappa_agg is 0); one oracle call values them; the caution scale
         is read only when one of them is in CAUTION (it weighs CAUTION
         collateral only). Reverts "oracle: stale price" / "oracle:
         invalid price" when one of them cannot be valued.
    """
    listed_: DynArray[address, MAX_ASSETS] = self.listed
    views: IRiskOracle.RiskView[MAX_ASSETS] = empty(IRiskOracle.RiskView[MAX_ASSETS])
    bals: int256[MAX_ASSETS] = empty(int256[MAX_ASSETS])
    # config word 0 of each asset (`asset_config`), replaced below by `margin._units`
    units: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    deposits: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    held: DynArray[address, MAX_ASSETS] = []
    mask: uint256 = extra
    for i: uint256 in range(len(listed_), bound=MAX_ASSETS):
        asset: address = listed_[i]
        scaled: int256 = self.scaled_balances[account][asset]
        if scaled != 0:
            mask |= 1 << i
        if mask & (1 << i) != 0:
            m: market_layout.Market = empty(market_layout.Market)
            reserve: uint256 = 0
            m, reserve = self._accrued(asset)
            bals[i] = margin._to_tokens(scaled, m.deposit_index, m.borrow_index)
            deposits[i] = shares._to_assets_down(m.scaled_deposits, m.deposit_index)
            units[i] = self._cfg[asset][0]
            held.append(asset)
    caution_scale: uint256 = 0
    if len(held) != 0:
        # one oracle call for every weighed asset
        got: DynArray[IRiskOracle.RiskView, 16] = staticcall self._oracle().risk_many(held)
        j: uint256 = 0
        for k: uint256 in range(len(listed_), bound=MAX_ASSETS):
            if mask & (1 << k) != 0:
                views[k] = got[j]
                j += 1
                w0: uint256 = units[k]
                units[k] = margin._units(asset_config._decimals(w0), asset_config._kappa_agg(w0), deposits[k], views[k])
                if views[k].breaker == margin.CAUTION:
                    caution_scale = vault_params._caution_scale(self._params[1])
    return margin._weigh(self._oracle(), listed_, mask, bals, views, units, caution_scale), views


@internal
@view
def _health(account: address, extra: uint256) -> IMarginVault.Health:
    """
    @dev Weighted sums of `account` over the assets it holds and those of `extra`.
    """
    h: IMarginVault.Health = empty(IMarginVault.Health)
    views: IRiskOracle.RiskView[MAX_ASSETS] = empty(IRiskOracle.RiskView[MAX_ASSETS])
    h, views = self._health_views(account, extra)
    return h


@external
@view
def health(account: address) -> IMarginVault.Health:
    """
    @notice Maintenance and initial weighted sums of an account, WAD USD.
    @dev health_maint = maint_assets - maint_liabilities; the account is
         liquidatable iff it is negative. Reverts "oracle: stale price"
         / "oracle: invalid price" if a held asset cannot be valued.
    """
    return self._health(account, 0)


@external
@view
def health_factor(account: address) -> uint256:
    """
    @notice Maintenance health factor, WAD (>= 1e18 safe; max uint256
            without debt).
    """
    h: IMarginVault.Health = self._health(account, 0)
    return risk_math._health_factor(h.maint_assets, h.maint_liabilities)


@external
@view
def balance_of(account: address, asset: address) -> int256:
    """
    @notice Signed balance with interest to now, token decimals
            (positive = deposit, negative = borrow).
    """
    m: market_layout.Market = empty(market_layout.Market)
    reserve: uint256 = 0
    m, reserve = self._accrued(asset)
    return margin._to_tokens(self.scaled_balances[account][asset], m.deposit_index, m.borrow_index)


@external
@view
def market(asset: address) -> (uint256, uint256, uint256, uint256, uint256):
    """
    @notice (deposit_index WAD, borrow_index WAD, total deposits, total
            borrows, insurance fund), token decimals, accrued to now.
    """
    m: market_layout.Market = empty(market_layout.Market)
    reserve: uint256 = 0
    m, reserve = self._accrued(asset)
    return (
        m.deposit_index,
        m.borrow_index,
        shares._to_assets_down(m.scaled_deposits, m.deposit_index),
        shares._to_assets_up(m.scaled_borrows, m.borrow_index),
        m.insurance,
    )


# ---------------------------------------------------------------- actions


@internal
@view
def _listed(asset: address):
    assert self._slot(asset) != 0, "vault: asset not listed"


@internal
def _credit(asset: address, amount: uint256, account: address, repay: bool) -> uint256:
    """
    @dev The body of `deposit` (`repay` False: the whole amount, held to
         the supply cap) and `repay` (True: at most the debt): raises
         `account`'s balance and pulls the tokens from the caller.
         Returns the amount pulled, token decimals. Reverts as `deposit`
         and `repay`.
    """
    assert amount > 0, "vault: zero amount"
    if not repay:
        assert amount <= MAX_AMOUNT, "vault: amount too large"
        assert account != empty(address), "vault: zero address"
    self._listed(asset)
    m: market_layout.Market = self._accrue(asset)
    bal: int256 = margin._to_tokens(self.scaled_balances[account][asset], m.deposit_index, m.borrow_index)
    paid: uint256 = amount
    if repay:
        assert bal < 0, "vault: no debt"
        paid = min(amount, convert(-bal, uint256))
    after: market_layout.Market = self._set_balance(account, asset, m, bal + convert(paid, int256))
    if not repay:
        # Supply cap (whole tokens; 0: none), Aave v3 style: only a deposit that raises the
        # scaled deposits is held to it, so the part that repays debt always passes; total
        # deposits (rounded down) in whole tokens rounded up, so that the cap may be reached
        # exactly (docs/design.md §2.8).
        w0: uint256 = self._cfg[asset][0]
        cap: uint256 = asset_config._supply_cap(w0)
        if cap != 0 and after.scaled_deposits > m.scaled_deposits:
            total: uint256 = shares._to_assets_down(after.scaled_deposits, after.deposit_index)
            assert risk_math._liability_value(total, 1, asset_config._decimals(w0)) <= cap, "vault: supply cap reached"
    self._pull(asset, paid)
    return paid


@external
@nonreentrant
def deposit(asset: address, amount: uint256, account: address = msg.sender):
    """
    @notice Deposits `amount` of `asset` into `account` (repaying its debt
            in that asset first, if any). Never paused; refused when the
            deposit would lift the asset's total deposits above its
            supply cap (docs/design.md §2.8).
    @dev Reverts "vault: zero amount", "vault: amount too large" (over
         2**255 - 1), "vault: asset not listed", "vault: zero address",
         "vault: supply cap reached", or the token's transfer error.
    @param asset Listed token.
    @param amount Token decimals, > 0; pulled from the caller.
    @param account Credited account (default: the caller).
    """
    self._credit(asset, amount, account, False)
    log Deposit(account=account, asset=asset, amount=amount, caller=msg.sender)


@internal
def _draw(asset: address, amount: uint256, borrow: bool):
    """
    @dev The body of `withdraw` (`borrow` False: only from a deposit) and
         `borrow` (True: a borrowable asset, a deposit of it drawn first):
         lowers the caller's balance by `amount`, checks the liquidity and
         the caller's initial health, and sends the tokens. Reverts as
         `withdraw` and `borrow`.
    """
    assert amount > 0, "vault: zero amount"
    self._listed(asset)
    if borrow:
        assert asset_config._borrowable(self._cfg[asset][0]) == 1, "vault: asset not borrowable"
    m: market_layout.Market = self._accrue(asset)
    bal: int256 = margin._to_tokens(self.scaled_balances[msg.sender][asset], m.deposit_index, m.borrow_index)
    if not borrow:
        assert bal > 0 and convert(bal, uint256) >= amount, "vault: insufficient balance"
    # available liquidity: total deposits (rounded down) less total borrows (rounded up)
    deposits: uint256 = shares._to_assets_down(m.scaled_deposits, m.deposit_index)
    borrows: uint256 = shares._to_assets_up(m.scaled_borrows, m.borrow_index)
    assert borrows < deposits and amount <= deposits - borrows, "vault: insufficient liquidity"
    self._set_balance(msg.sender, asset, m, bal - convert(amount, int256))
    # the action lowers health: initial health >= 0 and no REDUCE_ONLY asset involved (docs/design.md §5, §7)
    h: IMarginVault.Health = self._health(msg.sender, 1 << (self._slot(asset) - 1))
    assert not h.reduce_only, "vault: asset reduce-only"
    assert h.init_assets >= h.init_liabilities, "vault: insufficient health"
    self._send(asset, amount)


@external
@nonreentrant
def withdraw(asset: address, amount: uint256):
    """
    @notice Withdraws `amount` of the caller's deposit of `asset`.
    @dev Reverts "vault: withdraw paused", "vault: zero amount",
         "vault: asset not listed", "vault: insufficient balance",
         "vault: insufficient liquidity", "vault: asset reduce-only",
         "vault: insufficient health", "oracle: stale price",
         "oracle: invalid price".
    @param asset Listed token.
    @param amount Token decimals, > 0, at most the deposit.
    """
    assert vault_params._paused(self._core) & PAUSE_WITHDRAW == 0, "vault: withdraw paused"
    self._draw(asset, amount, False)
    log Withdraw(account=msg.sender, asset=asset, amount=amount)


@external
@nonreentrant
def borrow(asset: address, amount: uint256):
    """
    @notice Borrows `amount` of `asset` against the caller's account
            (drawing down a deposit of the same asset first). Borrowing
            a volatile asset is a short position on the same path.
    @dev Reverts "vault: borrow paused", "vault: zero amount",
         "vault: asset not listed", "vault: asset not borrowable",
         "vault: insufficient liquidity", "vault: asset reduce-only",
         "vault: insufficient health", "oracle: stale price",
         "oracle: invalid price".
    @param asset Listed, borrowable token.
    @param amount Token decimals, > 0.
    """
    assert vault_params._paused(self._core) & PAUSE_BORROW == 0, "vault: borrow paused"
    self._draw(asset, amount, True)
    log Borrow(account=msg.sender, asset=asset, amount=amount)


@external
@nonreentrant
def repay(asset: address, amount: uint256, account: address = msg.sender) -> uint256:
    """
    @notice Repays up to `amount` of `account`'s debt in `asset`; pays
            at most the debt (max_value(uint256) repays all). Never paused,
            never capped (docs/design.md §2.8).
    @dev Reverts "vault: zero amount", "vault: asset not listed",
         "vault: no debt", or the token's transfer error.
    @param asset Listed token.
    @param amount Token decimals, > 0.
    @param account Account whose debt is repaid (default: the caller).
    @return The amount repaid, token decimals.
    """
    paid: uint256 = self._credit(asset, amount, account, True)
    log Repay(account=account, asset=asset, amount=paid, caller=msg.sender)
    return paid


@internal
def _use_liquidation_cap(repaid_value: uint256, w1: uint256, w2: uint256):
    """
    @dev Global cascade limit (docs/design.md §7): repaid value per window, lower
         while any asset is REDUCE_ONLY. `w1`, `w2`: parameter words 1 and 2
         (window; cap). The window is one word (`vault_params`): used <= cap
         < 2**128 fits its field.
    """
    w: uint256 = self._window
    start: uint256 = vault_params._window_start(w)
    used: uint256 = vault_params._window_used(w)
    if block.timestamp >= start + vault_params._liq_window(w1):
        start = block.timestamp
        used = 0
    cap: uint256 = vault_params._liq_cap(w2)
    if staticcall self._oracle().n_tripped() > 0:
        cap = self._params[3]  # liq_cap_tripped, alone in word 3
    used += repaid_value
    assert used <= cap, "vault: liquidation cap reached"
    self._window = vault_params._window(start, used)


@internal
def _settle_if_bankrupt(account: address) -> bool:
    """
    @dev If the account has debt and no deposit left, writes every debt
         off: the insurance fund of the asset covers what it can, the
         rest lowers that asset's deposit index (docs/design.md §6).
    """
    # one pass over the balances: any deposit ends it, the debts make the mask
    mask: uint256 = 0
    i: uint256 = 0
    for asset: address in self.listed:
        bal: int256 = self.scaled_balances[account][asset]
        if bal > 0:
            return False
        if bal != 0:
            mask |= 1 << i
        i += 1
    if mask == 0:
        return False
    i = 0
    for asset: address in self.listed:
        if mask & (1 << i) != 0:
            m: market_layout.Market = self._accrue(asset)
            debt: uint256 = convert(-margin._to_tokens(self.scaled_balances[account][asset], m.deposit_index, m.borrow_index), uint256)
            covered: uint256 = min(debt, m.insurance)
            m.insurance -= covered
            loss: uint256 = debt - covered
            m = self._set_balance(account, asset, m, 0)
            if loss > 0 and m.scaled_deposits > 0:
                deposits: uint256 = shares._to_assets_down(m.scaled_deposits, m.deposit_index)
                m.deposit_index = (deposits - min(loss, deposits)) * WAD // m.scaled_deposits
            self._store_market(asset, m)
            log BadDebtSettled(account=account, asset=asset, debt=debt, covered_by_insurance=covered, socialized=loss)
        i += 1
    return True


@external
@nonreentrant
def liquidate(
    account: address, debt_asset: address, collateral_asset: address, max_repay: uint256, min_seize: uint256
) -> (uint256, uint256):
    """
    @notice Repays part of an unhealthy account's debt in `debt_asset`
            and takes `collateral_asset` at a discount (docs/design.md §6). If
            this leaves the account with debt and no deposit, the debt
            is settled in the same transaction (insurance fund first,
            then socialized).
    @dev Repayment is capped by close_factor of the debt (the whole debt
         below hf_full or when the rest would be under min_debt_value),
         and the seizure by the account's collateral. Bonus =
         min(bonus_min + bonus_slope * shortfall, bonus_max); a share of
         it goes to the insurance fund. Reverts "vault: liquidate paused",
         "vault: zero amount", "vault: self-liquidation",
         "vault: same asset", "vault: asset not listed",
         "vault: account healthy", "vault: no debt in asset",
         "vault: no collateral in asset", "vault: dust left" (a max_repay
         that would leave a debt below min_debt_value), "vault: seize below minimum",
         "vault: liquidation cap reached", "oracle: stale price",
         "oracle: invalid price".
    @param account The unhealthy account.
    @param debt_asset Asset repaid.
    @param collateral_asset Asset seized.
    @param max_repay Most the liquidator will repay, debt token decimals.
    @param min_seize Least collateral the liquidator accepts, collateral
           token decimals (slippage guard).
    @return (repaid, seized to the liquidator), token decimals.
    """
    assert vault_params._paused(self._core) & PAUSE_LIQUIDATE == 0, "vault: liquidate paused"
    assert max_repay > 0, "vault: zero amount"
    assert account != msg.sender, "vault: self-liquidation"
    assert debt_asset != collateral_asset, "vault: same asset"
    self._listed(debt_asset)
    self._listed(collateral_asset)
    md: market_layout.Market = self._accrue(debt_asset)
    mc: market_layout.Market = self._accrue(collateral_asset)
    h: IMarginVault.Health = empty(IMarginVault.Health)
    views: IRiskOracle.RiskView[MAX_ASSETS] = empty(IRiskOracle.RiskView[MAX_ASSETS])
    h, views = self._health_views(account, 0)
    assert h.maint_assets < h.maint_liabilities, "vault: account healthy"
    debt_bal: int256 = margin._to_tokens(self.scaled_balances[account][debt_asset], md.deposit_index, md.borrow_index)
    col_bal: int256 = margin._to_tokens(self.scaled_balances[account][collateral_asset], mc.deposit_index, mc.borrow_index)
    assert debt_bal < 0, "vault: no debt in asset"
    assert col_bal > 0, "vault: no collateral in asset"
    # both are held (non-zero balances), so the health check priced them
    pd: uint256 = views[self._slot(debt_asset) - 1].price
    # parameter words 0 (close factor, hf_full, bonus bounds), 1 (bonus slope,
    # insurance share, window) and 2 (min debt value, cap): module `vault_params`
    w0: uint256 = self._params[0]
    w1: uint256 = self._params[1]
    w2: uint256 = self._params[2]
    pc: uint256 = views[self._slot(collateral_asset) - 1].price
    dd: uint256 = self._decimals(debt_asset)
    dc: uint256 = self._decimals(collateral_asset)

    debt: uint256 = convert(-debt_bal, uint256)
    repay: uint256 = min(
        max_repay,
        risk_math._max_repay(
            debt,
            pd,
            dd,
            risk_math._health_factor(h.maint_assets, h.maint_liabilities),
            vault_params._close_factor(w0),
            vault_params._hf_full(w0),
            vault_params._min_debt_value(w2),
        ),
    )
    if repay < debt:
        # a liquidator-chosen repayment must not leave dust behind (docs/design.md §6)
        assert risk_math._liability_value(debt - repay, pd, dd) >= vault_params._min_debt_value(w2), "vault: dust left"
    bonus: uint256 = risk_math._bonus(h.maint_assets, h.maint_liabilities, vault_params._bonus_min(w0), vault_params._bonus_slope(w1), vault_params._bonus_max(w0))
    seize: uint256 = risk_math._seize_amount(repay, pd, dd, pc, dc, bonus)
    if seize > convert(col_bal, uint256):
        seize = convert(col_bal, uint256)
        repay = min(repay, risk_math._repay_for_seize(seize, pd, dd, pc, dc, bonus))
    cut: uint256 = seize * bonus // (WAD + bonus) * vault_params._insurance_share(w1) // WAD
    assert repay > 0 and seize - cut >= min_seize, "vault: seize below minimum"
    self._use_liquidation_cap(risk_math._liability_value(repay, pd, dd), w1, w2)

    self._set_balance(account, debt_asset, md, debt_bal + convert(repay, int256))
    mc = self._set_balance(account, collateral_asset, mc, col_bal - convert(seize, int256))
    mc.insurance += cut
    self._store_market(collateral_asset, mc)
    self._settle_if_bankrupt(account)

    self._pull(debt_asset, repay)
    self._send(collateral_asset, seize - cut)
    log Liquidation(
        account=account,
        liquidator=msg.sender,
        debt_asset=debt_asset,
        collateral_asset=collateral_asset,
        repaid=repay,
        seized=seize - cut,
        bonus=bonus,
        insurance_cut=cut,
    )
    return repay, seize - cut


@external
@nonreentrant
def settle_bad_debt(account: address):
    """
    @notice Writes off the debt of an account that has debt and no
            deposit left (insurance fund first, then socialized by
            lowering the deposit index). Anyone may call.
    @dev Reverts "vault: not bad debt".
    @param account The bankrupt account.
    """
    assert self._settle_if_bankrupt(account), "vault: not bad debt"


@external
@view
def n_listed() -> uint256:
    """
    @notice Number of listed assets.
    """
    return len(self.listed)
