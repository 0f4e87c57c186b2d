# pragma version ~=0.4.3
"""
@title volmargin market storage codec
@custom:contract-name market_layout
@license GNU Affero General Public License v3.0 only
@notice Packs and unpacks the MarginVault's stored market
        `_markets[asset]` (5 words, docs/design.md §2.6): words 0-3 hold
        deposit_index (WAD), borrow_index (WAD), scaled_deposits and
        scaled_borrows whole; word 4 packs
          bits  0-63   last_accrual, Unix seconds (< 2**64)
          bits 64-255  insurance fund, token decimals (<= MAX_INSURANCE)
        Every shift and mask of that word lives here. Pure functions, no
        state.
"""

M64: constant(uint256) = 2**64 - 1
INSURANCE_SHIFT: constant(uint256) = 64
# Largest insurance fund word 4 holds, token decimals (the vault reverts
# "vault: insurance out of range" above it).
MAX_INSURANCE: constant(uint256) = 2**192 - 1


@internal
@pure
def _last_accrual(w4: uint256) -> uint256:
    """
    @notice Time of the last accrual, Unix seconds (word 4, bits 0-63).
    """
    return w4 & M64


@internal
@pure
def _insurance(w4: uint256) -> uint256:
    """
    @notice Insurance fund, token decimals (word 4, bits 64-255).
    """
    return w4 >> INSURANCE_SHIFT


@internal
@pure
def _pack_w4(last_accrual: uint256, insurance: uint256) -> uint256:
    """
    @notice Word 4 from the last accrual (s, < 2**64) and the insurance
            fund (token decimals, <= MAX_INSURANCE).
    """
    return last_accrual | (insurance << INSURANCE_SHIFT)
