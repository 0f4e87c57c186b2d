# pragma version ~=0.4.3
"""
@title volmargin share math
@custom:contract-name shares
@license GNU Affero General Public License v3.0 only
@notice Conversions between scaled balances ("shares") and token
        amounts at a WAD index (docs/design.md §2), as Morpho's
        SharesMathLib: every place of the MarginVault, the `margin`
        module and the VaultLens where a scaled balance becomes an amount
        or back goes through these four functions. Rounding always
        favours the vault: a deposit's amount and a deposit's shares
        round down (the depositor gets the smaller balance, so the
        deposits never promise more than the vault holds), a borrow's
        amount and a borrow's shares round up (the borrower owes the
        larger debt, so no debt is ever forgiven by rounding). Amounts
        in token decimals; indices WAD; shares in index scale.
        `volmargin.reference.shares` mirrors them bit for bit.
"""

WAD: constant(uint256) = 10**18


@internal
@pure
def _to_assets_down(shares: uint256, index: uint256) -> uint256:
    """
    @notice shares * index / WAD rounded down: deposit balances and totals.
    @param shares Scaled amount.
    @param index WAD.
    @return Token decimals.
    """
    return shares * index // WAD


@internal
@pure
def _to_assets_up(shares: uint256, index: uint256) -> uint256:
    """
    @notice shares * index / WAD rounded up: borrow balances and totals.
    @param shares Scaled amount.
    @param index WAD.
    @return Token decimals.
    """
    return (shares * index + WAD - 1) // WAD


@internal
@pure
def _to_shares_down(assets: uint256, index: uint256) -> uint256:
    """
    @notice assets * WAD / index rounded down: a deposit's scaled balance.
    @param assets Token decimals.
    @param index WAD, > 0.
    @return Scaled amount.
    """
    return assets * WAD // index


@internal
@pure
def _to_shares_up(assets: uint256, index: uint256) -> uint256:
    """
    @notice assets * WAD / index rounded up: a borrow's scaled balance.
    @param assets Token decimals.
    @param index WAD, > 0.
    @return Scaled amount.
    """
    return (assets * WAD + index - 1) // index
