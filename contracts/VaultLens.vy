# pragma version ~=0.4.3
"""
@title volmargin VaultLens
@custom:contract-name VaultLens
@license GNU Affero General Public License v3.0 only
@notice Read-only batched views beside one MarginVault (as curve's
        ControllerView beside its Controller): what the replay, the
        keeper, the risk monitor and the tests read for many accounts in
        one call. It holds no state but the vault's address and computes
        every figure with the vault's own modules (`margin`), from the
        vault's and the oracle's public getters, so its rows equal what
        the vault's `health` and `balance_of` return at the same block,
        and the risk state of the oracle's assets (`snapshot`).
        Balances are token decimals; health sums WAD USD; times Unix
        seconds.
"""

import interfaces.IMarginVault as IMarginVault
import interfaces.IRiskOracle as IRiskOracle
from .modules import margin
from .modules import asset_config

MAX_ASSETS: constant(uint256) = 8
MAX_LENS: constant(uint256) = 256
# RiskOracle.MAX_BATCH
MAX_BATCH: constant(uint256) = 16
# MarginVault.P_CAUTION_SCALE (MarginVault.A_KAPPA_AGG is asset_config.A_KAPPA_AGG)
P_CAUTION_SCALE: constant(uint256) = 10


SECONDS_PER_YEAR: constant(uint256) = 31_536_000


struct AssetSnapshot:
    asset: address
    price: uint256  # WAD USD, last accepted answer
    updated_at: uint256  # s, its feed time
    var_fast: uint256  # WAD per s
    var_slow: uint256  # WAD per s
    sigma_annual: uint256  # WAD: sigma over a year of max(var_fast, var_slow)
    h_maint: uint256  # WAD, maintenance haircut ramped to the block time
    h_target: uint256  # WAD, its target
    h_init: uint256  # WAD, initial haircut in force without the size term (RiskOracle.haircuts: never below h_maint)
    breaker: uint8  # 0 NORMAL, 1 CAUTION, 2 REDUCE_ONLY
    invalid: bool  # the last poke saw an unusable answer


struct AccountView:
    account: address
    balances: int256[MAX_ASSETS]
    health: IMarginVault.Health


vault: public(IMarginVault)


@deploy
def __init__(vault_: IMarginVault):
    """
    @param vault_ The MarginVault this lens reads.
    """
    self.vault = vault_


@external
@view
def accounts_view(accounts: DynArray[address, MAX_LENS]) -> (uint256, DynArray[AccountView, MAX_LENS]):
    """
    @notice Signed balances (token decimals, the vault's `listed` order)
            and weighted health sums (WAD USD) of up to 256 accounts in
            one call, with the block time they were computed at (seconds).
    @dev Prices every listed asset once (`risk_many`) and accrues every
         market once (`market`); scaled balances become amounts with the
         vault's own share math (`margin._to_tokens`, `shares`); reverts "oracle: stale price" /
         "oracle: invalid price" if any listed asset cannot be valued.
    """
    v: IMarginVault = self.vault
    oracle: IRiskOracle = IRiskOracle(staticcall v.oracle())
    n: uint256 = staticcall v.n_listed()
    listed: DynArray[address, MAX_ASSETS] = []
    for i: uint256 in range(n, bound=MAX_ASSETS):
        listed.append(staticcall v.listed(i))
    got: DynArray[IRiskOracle.RiskView, 16] = staticcall oracle.risk_many(listed)
    views: IRiskOracle.RiskView[MAX_ASSETS] = empty(IRiskOracle.RiskView[MAX_ASSETS])
    units: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    dep_index: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    bor_index: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    for i: uint256 in range(n, bound=MAX_ASSETS):
        a: address = listed[i]
        views[i] = got[i]
        total: uint256 = 0
        b: uint256 = 0
        ins: uint256 = 0
        dep_index[i], bor_index[i], total, b, ins = staticcall v.market(a)
        units[i] = margin._units(staticcall v.asset_decimals(a), staticcall v.asset_params(a, asset_config.A_KAPPA_AGG), total, views[i])
    caution_scale: uint256 = staticcall v.params(P_CAUTION_SCALE)
    out: DynArray[AccountView, MAX_LENS] = []
    for account: address in accounts:
        mask: uint256 = staticcall v.position_mask(account)
        bals: int256[MAX_ASSETS] = empty(int256[MAX_ASSETS])
        for i: uint256 in range(n, bound=MAX_ASSETS):
            if mask & (1 << i) != 0:
                bals[i] = margin._to_tokens(staticcall v.scaled_balances(account, listed[i]), dep_index[i], bor_index[i])
        out.append(AccountView(account=account, balances=bals, health=margin._weigh(oracle, listed, mask, bals, views, units, caution_scale)))
    return block.timestamp, out


@external
@view
def snapshot(assets_: DynArray[address, MAX_BATCH]) -> (uint256, DynArray[AssetSnapshot, MAX_BATCH]):
    """
    @notice The oracle's risk state of up to 16 assets and the block time
            (seconds) the time-dependent fields were computed at. Never
            reverts on a bad price (display and parity checks): it reads
            the oracle's `assets`, `haircuts` and `sigma`, which do not
            check prices.
    @dev Reverts "oracle: asset not listed".
    """
    oracle: IRiskOracle = IRiskOracle(staticcall self.vault.oracle())
    out: DynArray[AssetSnapshot, MAX_BATCH] = []
    for asset: address in assets_:
        h_maint: uint256 = 0
        h_init: uint256 = 0
        h_maint, h_init = staticcall oracle.haircuts(asset)
        s: IRiskOracle.AssetState = staticcall oracle.assets(asset)
        out.append(
            AssetSnapshot(
                asset=asset,
                price=s.price,
                updated_at=s.updated_at,
                var_fast=s.var_fast,
                var_slow=s.var_slow,
                sigma_annual=staticcall oracle.sigma(asset, SECONDS_PER_YEAR),
                h_maint=h_maint,
                h_target=s.h_target,
                h_init=h_init,
                breaker=s.breaker,
                invalid=s.invalid,
            )
        )
    return block.timestamp, out
