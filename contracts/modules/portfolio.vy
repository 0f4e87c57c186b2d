# pragma version ~=0.4.3
"""
@title volmargin portfolio margin
@custom:contract-name portfolio
@license GNU Affero General Public License v3.0 only
@notice Correlation offsets between the per-asset requirements of one
        account (docs/design.md §5.6). An account's per-asset
        requirements are u_i = v_i * h_i (value times haircut, WAD USD);
        today's margin charges their sum S. Portfolio margin charges
            R = max(floor * S, sqrt(S^2 - 2 sum_{i<j} u_i u_j c_ij))
        where c_ij is the pair's offset: 1 - rho_hi for two legs of the
        same sign (two deposits, two borrows), 1 + rho_lo for a deposit
        against a borrow. This is sqrt(u' rho u) at the worst matrix in
        the box [rho_lo, rho_hi] (the upper bound for same-signed legs,
        the lower for opposite-signed ones), so R is never below the
        requirement of any positive semi-definite correlation matrix in
        the box; a pair left at (-1, +1) has offset 0 and an account of
        such pairs pays exactly S. R is applied as a scale
        lambda = R / S in [floor, 1] of every haircut of the account, so
        that health, close factor, bonus and seizure run unchanged.
        This module holds the pair word's codec and the arithmetic;
        `volmargin.reference.portfolio` mirrors it bit for bit.
        Correlations are WAD (1e18 = 1.0), signed; offsets, shares and
        lambda WAD, unsigned. Every rounding raises lambda (never favours
        the account).
"""

WAD: constant(uint256) = 10**18
WAD_I: constant(int256) = 10**18
M128: constant(uint256) = 2**128 - 1


# ---------------------------------------------------------------- pair word
# One storage word per pair: bits 0-127 the same-sign offset 1 - rho_hi,
# bits 128-255 the opposite-sign offset 1 + rho_lo, each WAD in [0, 2e18].
# The empty word is the pair (-1, +1): no offset.


@internal
@pure
def _pack_pair(rho_lo: int256, rho_hi: int256) -> uint256:
    """
    @notice The pair word of correlation bounds -1 <= rho_lo <= rho_hi <= 1.
    @dev The caller checks the bounds ("vault: bad correlation").
    @param rho_lo Lower bound, WAD, signed.
    @param rho_hi Upper bound, WAD, signed.
    @return (1 - rho_hi) | (1 + rho_lo) << 128, WAD fields.
    """
    return convert(WAD_I - rho_hi, uint256) | convert(WAD_I + rho_lo, uint256) << 128


@internal
@pure
def _offset_key(higher: address, opposite: bool) -> uint256:
    """
    @notice The risk steward's parameter key of one of a pair's offsets
            (the steward's asset key is the pair's lower address): the
            higher address << 8, | 1 for the opposite-sign offset, | 0 for
            the same-sign one.
    """
    key: uint256 = convert(higher, uint256) << 8
    if opposite:
        key |= 1
    return key


@internal
@pure
def _same_offset(w: uint256) -> uint256:
    """
    @notice Offset of two legs of the same sign, 1 - rho_hi, WAD in [0, 2e18].
    """
    return w & M128


@internal
@pure
def _opposite_offset(w: uint256) -> uint256:
    """
    @notice Offset of a deposit against a borrow, 1 + rho_lo, WAD in [0, 2e18].
    """
    return w >> 128


@internal
@pure
def _offset(w: uint256, same_sign: bool) -> uint256:
    """
    @notice The pair's offset for two legs: `_same_offset` when both are
            deposits or both borrows, else `_opposite_offset`.
    """
    if same_sign:
        return w & M128
    return w >> 128


@internal
@pure
def _rho_lo(w: uint256) -> int256:
    """
    @notice Lower correlation bound of a pair word, WAD, signed.
    """
    return convert(w >> 128, int256) - WAD_I


@internal
@pure
def _rho_hi(w: uint256) -> int256:
    """
    @notice Upper correlation bound of a pair word, WAD, signed.
    """
    return WAD_I - convert(w & M128, int256)


# ---------------------------------------------------------------- arithmetic


@internal
@pure
def _share(u: uint256, total: uint256) -> uint256:
    """
    @notice One requirement's share of the account's sum, u * 1e18 / S,
            WAD, rounded down (a smaller share is a smaller offset).
    @param u Requirement, WAD USD.
    @param total Sum S of the account's requirements, WAD USD, > 0.
    """
    return u * WAD // total


@internal
@pure
def _pair_term(x_i: uint256, x_j: uint256, offset: uint256) -> uint256:
    """
    @notice x_i * x_j * c_ij, WAD (a fraction of S^2), rounded down at
            each step: (x_i * x_j // 1e18) * c // 1e18.
    @param x_i Share of leg i, WAD (<= 1e18).
    @param x_j Share of leg j, WAD (<= 1e18).
    @param offset The pair's offset for these signs, WAD (<= 2e18).
    """
    return x_i * x_j // WAD * offset // WAD


@internal
@pure
def _scale(reduction: uint256, floor_: uint256) -> uint256:
    """
    @notice lambda = R / S = clamp(sqrt(1 - 2 * reduction), floor, 1),
            WAD, the square root rounded up; 1 - 2 * reduction below 0
            (bounds no correlation matrix satisfies) gives the floor.
    @param reduction Sum of `_pair_term` over the account's pairs, WAD.
    @param floor_ Least lambda, WAD (the vault's portfolio_floor, in (0, 1e18]).
    @return lambda, WAD in [floor, 1e18].
    """
    q: uint256 = 0
    if 2 * reduction < WAD:
        q = (WAD - 2 * reduction) * WAD
    s: uint256 = isqrt(q)
    if s * s < q:
        s += 1
    return min(max(s, floor_), WAD)


@internal
@pure
def _scaled_haircut(h: uint256, lam: uint256) -> uint256:
    """
    @notice A haircut under the account's portfolio scale, h * lambda,
            WAD, rounded up (lambda = 1e18 returns h exactly).
    @param h Haircut, WAD.
    @param lam lambda, WAD (<= 1e18).
    """
    return (h * lam + WAD - 1) // WAD
