# pragma version ~=0.4.3
"""
@title volmargin margin
@custom:contract-name margin
@license GNU Affero General Public License v3.0 only
@notice The weighted health sums of one account (docs/design.md §4,
        §5, §5.6) and the per-asset terms they need, shared by the
        MarginVault (its checks) and the VaultLens (its batched reads),
        so that both compute every sum with the same code. Values and
        sums are WAD USD, haircuts WAD, balances token decimals.
        `volmargin.reference` mirrors these functions bit for bit
        (`health_sums`, `concentration_haircut`, `tokens`).
"""

import interfaces.IRiskOracle as IRiskOracle
import interfaces.IMarginVault as IMarginVault
from . import risk_math
from . import portfolio
from . import shares
from . import leg_units

WAD: constant(uint256) = 10**18
MAX_ASSETS: constant(uint256) = 8
CAUTION: constant(uint8) = 1
REDUCE_ONLY: constant(uint8) = 2


@internal
@pure
def _to_tokens(scaled: int256, deposit_index: uint256, borrow_index: uint256) -> int256:
    """
    @notice Signed token balance of a scaled balance: a deposit (> 0)
            times the deposit index, rounded down; a borrow (< 0) times
            the borrow index, rounded up (`shares`, docs/design.md §2).
    @param scaled Scaled balance (index scale of its sign).
    @param deposit_index WAD.
    @param borrow_index WAD.
    @return Token decimals, signed.
    """
    if scaled >= 0:
        return convert(shares._to_assets_down(convert(scaled, uint256), deposit_index), int256)
    return -convert(shares._to_assets_up(convert(-scaled, uint256), borrow_index), int256)


@internal
@pure
def _units(decimals: uint256, kappa_agg: uint256, total_deposits: uint256, r: IRiskOracle.RiskView) -> uint256:
    """
    @notice One asset's valuation units for `_weigh`: its decimals (bits
            0-7) and the concentration haircut of its total deposits
            (bits 8-255, WAD): kappa_agg * sqrt(total deposit value /
            depth), docs/design.md §4.3; 0 when kappa_agg is 0.
    @param decimals Token decimals (<= 24).
    @param kappa_agg Concentration coefficient, WAD.
    @param total_deposits The asset's total deposits, token decimals
           (rounded down from the market).
    @param r The asset's risk view (price, depth).
    """
    if kappa_agg == 0:
        return leg_units._pack(decimals, 0)
    return leg_units._pack(decimals, risk_math._size_haircut(kappa_agg, r.depth, risk_math._asset_value(total_deposits, r.price, decimals)))


@internal
@view
def _weigh(
    oracle: IRiskOracle,
    listed: DynArray[address, MAX_ASSETS],
    mask: uint256,
    bals: int256[MAX_ASSETS],
    views: IRiskOracle.RiskView[MAX_ASSETS],
    units: uint256[MAX_ASSETS],
    caution_scale: uint256,
) -> IMarginVault.Health:
    """
    @notice Weighted sums over the listed assets in `mask` (docs/design.md
            §4, §5): deposits weigh v * (1 - h), borrows |v| * (1 + h);
            the initial haircut adds the size term, and for deposits the
            asset's concentration haircut; CAUTION collateral counts at
            `caution_scale` in initial health. With two or more
            correlated legs (`RiskView.correlated`), every haircut is
            first scaled by the account's portfolio scales from
            `oracle.portfolio_scales` (maintenance and initial apart,
            §5.6); otherwise no call is made.
    @dev Reverts as `oracle.portfolio_scales` (a leg it cannot value).
    @param oracle The RiskOracle of the views.
    @param listed The vault's listed assets (slot order).
    @param mask Bit i: the account's balance in listed[i] is weighed.
    @param bals Signed balances by slot, token decimals.
    @param views Risk views by slot (those in `mask` set).
    @param units By slot: decimals (bits 0-7) | concentration haircut,
           WAD (bits 8-255), as `_units`.
    @param caution_scale WAD.
    @return Maintenance and initial weighted sums, WAD USD; reduce_only
            when any weighed asset is REDUCE_ONLY.
    """
    h: IMarginVault.Health = empty(IMarginVault.Health)
    n: uint256 = len(listed)
    lam_m: uint256 = WAD
    lam_i: uint256 = WAD
    corr: uint256 = 0
    for i: uint256 in range(n, bound=MAX_ASSETS):
        if mask & (1 << i) != 0 and views[i].correlated:
            corr |= 1 << i
    if corr & unsafe_sub(corr, 1) != 0:  # two or more bits (0 wraps to all ones, & 0 is 0)
        legs: address[MAX_ASSETS] = empty(address[MAX_ASSETS])
        for i: uint256 in range(n, bound=MAX_ASSETS):
            if mask & (1 << i) != 0:
                legs[i] = listed[i]
        lam_m, lam_i = staticcall oracle.portfolio_scales(legs, bals, units)
    for i: uint256 in range(n, bound=MAX_ASSETS):
        if mask & (1 << i) != 0:
            r: IRiskOracle.RiskView = views[i]
            bal: int256 = bals[i]
            if r.breaker == REDUCE_ONLY:
                h.reduce_only = True
            h_maint: uint256 = portfolio._scaled_haircut(r.h_maint, lam_m)
            dec: uint256 = leg_units._decimals(units[i])
            if bal > 0:
                v: uint256 = risk_math._asset_value(convert(bal, uint256), r.price, dec)
                h_init: uint256 = portfolio._scaled_haircut(
                    risk_math._initial_haircut(r.h_init, r.kappa, r.depth, v, leg_units._concentration(units[i])), lam_i
                )
                h.maint_assets += risk_math._weighted_asset(v, h_maint)
                w: uint256 = risk_math._weighted_asset(v, h_init)
                if r.breaker == CAUTION:
                    w = w * caution_scale // WAD
                h.init_assets += w
            elif bal < 0:
                v: uint256 = risk_math._liability_value(convert(-bal, uint256), r.price, dec)
                h_init: uint256 = portfolio._scaled_haircut(risk_math._initial_haircut(r.h_init, r.kappa, r.depth, v, 0), lam_i)
                h.maint_liabilities += risk_math._weighted_liability(v, h_maint)
                h.init_liabilities += risk_math._weighted_liability(v, h_init)
    return h
