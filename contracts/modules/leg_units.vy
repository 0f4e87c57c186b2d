# pragma version ~=0.4.3
"""
@title volmargin valuation-units codec
@custom:contract-name leg_units
@license GNU Affero General Public License v3.0 only
@notice Codec of the word in which the vault hands the oracle one leg's
        valuation units (`RiskOracle.portfolio_scales`, `margin._weigh`):
        token decimals (bits 0-7, <= 24) | the concentration haircut of
        the asset's total deposits (bits 8-255, WAD, docs/design.md §4.3).
"""

DECIMALS_MASK: constant(uint256) = 2**8 - 1
CONCENTRATION_SHIFT: constant(uint256) = 8


@internal
@pure
def _pack(decimals: uint256, concentration: uint256) -> uint256:
    """
    @notice The units word of token decimals (<= 24) and a concentration haircut (WAD).
    """
    return decimals | (concentration << CONCENTRATION_SHIFT)


@internal
@pure
def _decimals(u: uint256) -> uint256:
    """
    @notice Token decimals of a units word.
    """
    return u & DECIMALS_MASK


@internal
@pure
def _concentration(u: uint256) -> uint256:
    """
    @notice Concentration haircut of a units word, WAD.
    """
    return u >> CONCENTRATION_SHIFT
