# pragma version ~=0.4.3
"""
@title volmargin oracle globals codec
@custom:contract-name oracle_globals
@license GNU Affero General Public License v3.0 only
@notice Codec of the RiskOracle's one global word (docs/design.md §3.6), in
        the style of Aave's ReserveConfiguration: each field has its bit
        position, its width and a named accessor; no other contract
        shifts or masks the word. Pure functions, no state. Layout:
          bits   0-127  portfolio_floor, WAD, in (0, 1e18] (§5.6)
          bits 128-255  n_tripped: the listed assets in REDUCE_ONLY (<= 64)
        The floor is never 0, so the word never is: the first trip
        rewrites a non-zero word (2.9k gas) where a count of its own
        turned a zero slot non-zero (22.1k).
"""

FLOOR_MASK: constant(uint256) = 2**128 - 1
N_TRIPPED_SHIFT: constant(uint256) = 128
# One more (or one fewer) asset in REDUCE_ONLY: added to (or taken from) the word.
ONE_TRIPPED: constant(uint256) = 1 << N_TRIPPED_SHIFT


@internal
@pure
def _floor(w: uint256) -> uint256:
    """
    @notice portfolio_floor, WAD (bits 0-127).
    """
    return w & FLOOR_MASK


@internal
@pure
def _n_tripped(w: uint256) -> uint256:
    """
    @notice The number of listed assets in REDUCE_ONLY (bits 128-255).
    """
    return w >> N_TRIPPED_SHIFT


@internal
@pure
def _with_floor(w: uint256, floor_: uint256) -> uint256:
    """
    @notice The word with its floor replaced by `floor_` (WAD, <= 1e18 < 2**128).
    """
    return (w & ~FLOOR_MASK) | floor_
