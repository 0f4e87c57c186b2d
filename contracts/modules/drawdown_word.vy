# pragma version ~=0.4.3
"""
@title volmargin drawdown reference codec
@custom:contract-name drawdown_word
@license GNU Affero General Public License v3.0 only
@notice Codec of the RiskOracle's drawdown reference (docs/design.md §7.8),
        one storage word per asset: ref_price (bits 0-191, WAD USD, an
        accepted price, so <= asset_state.PRICE_MAX) | ref_time (192-255,
        feed time, seconds). The empty word: no reference yet.
"""

PRICE_MASK: constant(uint256) = 2**192 - 1
TIME_SHIFT: constant(uint256) = 192


@internal
@pure
def _ref_price(w: uint256) -> uint256:
    """
    @notice The reference price, WAD USD (0: none yet).
    """
    return w & PRICE_MASK


@internal
@pure
def _ref_time(w: uint256) -> uint256:
    """
    @notice The reference's feed time, seconds.
    """
    return w >> TIME_SHIFT


@internal
@pure
def _pack(ref_price: uint256, ref_time: uint256) -> uint256:
    """
    @notice The word of a reference: an accepted price (WAD USD, < 2**192) and its feed time (s).
    """
    return ref_price | (ref_time << TIME_SHIFT)
