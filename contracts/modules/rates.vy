# pragma version ~=0.4.3
"""
@title volmargin interest-rate math
@custom:contract-name rates
@license GNU Affero General Public License v3.0 only
@notice Kinked utilization rate model and per-second index accrual
        (docs/design.md §2). Pure functions on WAD fixed point; mirrored bit
        for bit by `volmargin.reference`.
"""

WAD: constant(uint256) = 10**18
SECONDS_PER_YEAR: constant(uint256) = 31_536_000


@internal
@pure
def _utilization(deposits: uint256, borrows: uint256) -> uint256:
    """
    @notice Utilization borrows / deposits, capped at 1.
    @param deposits Total deposits, token decimals.
    @param borrows Total borrows, token decimals.
    @return Utilization, WAD (0 when there are no deposits).
    """
    if deposits == 0:
        return 0
    return min(borrows * WAD // deposits, WAD)


@internal
@pure
def _borrow_rate(u: uint256, base: uint256, slope1: uint256, slope2: uint256, kink: uint256) -> uint256:
    """
    @notice rate(u) = base + slope1 * min(u, kink) / kink
            + slope2 * max(u - kink, 0) / (1 - kink) (docs/design.md §2).
    @param u Utilization, WAD.
    @param base Base rate, WAD per year.
    @param slope1 Rate added up to the kink, WAD per year.
    @param slope2 Rate added from the kink to full utilization, WAD per year.
    @param kink Kink utilization, WAD, in (0, 1).
    @return Borrow rate, WAD per year.
    """
    rate: uint256 = base + slope1 * min(u, kink) // kink
    if u > kink:
        rate += slope2 * (u - kink) // (WAD - kink)
    return rate


@internal
@pure
def _grow_index(index: uint256, rate_per_year: uint256, dt: uint256) -> uint256:
    """
    @notice Borrow index after dt seconds of simple interest at the
            per-second rate rate_per_year / 31_536_000, rounded up
            (borrowers never pay less).
    @param index Borrow index, WAD.
    @param rate_per_year Borrow rate, WAD per year.
    @param dt Elapsed seconds.
    @return New borrow index, WAD.
    """
    rate_s: uint256 = rate_per_year // SECONDS_PER_YEAR
    return index + (index * rate_s * dt + WAD - 1) // WAD
