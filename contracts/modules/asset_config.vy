# pragma version ~=0.4.3
"""
@title volmargin asset configuration codec
@custom:contract-name asset_config
@license GNU Affero General Public License v3.0 only
@notice Packs and unpacks the MarginVault's per-asset configuration
        `_cfg[asset]` (2 words, docs/design.md §2.6). Every shift and
        mask of that layout lives here; the vault reads and writes its
        fields only through these functions. Pure functions, no state.
        Word 0 (`w0`):
          bits   0-7    slot: 1-based position in `listed`, 0 if not listed (<= 8)
          bits   8-15   token decimals (<= 24)
          bits  16-23   borrowable flag (0 or 1)
          bits  24-87   kink, WAD (< WAD < 2**64)
          bits  88-151  reserve_factor, WAD (<= WAD < 2**64)
          bits 152-215  kappa_agg, WAD (<= WAD < 2**64)
          bits 216-255  supply_cap, whole tokens (<= MAX_SUPPLY_CAP)
        Word 1 (`w1`):
          bits   0-79   base_rate, WAD per year (< 2**80)
          bits  80-159  slope1, WAD per year (< 2**80)
          bits 160-255  slope2, WAD per year (< 2**96)
        The vault's `_check_asset_params` keeps each rate <= 100 WAD
        (< 2**67), so every rate fits its field. Packing assumes each
        value fits its field (an oversized value would spill into the
        next one); unpacking is exact. One accessor per field; the
        parameter vector (A_* order, the vault's `asset_params`) is
        unpacked and packed whole by `_unpack_params` and `_pack`.
"""

M8: constant(uint256) = 2**8 - 1
M64: constant(uint256) = 2**64 - 1
M80: constant(uint256) = 2**80 - 1

# word 0 field offsets (bits)
DECIMALS_SHIFT: constant(uint256) = 8
BORROWABLE_SHIFT: constant(uint256) = 16
KINK_SHIFT: constant(uint256) = 24
RESERVE_FACTOR_SHIFT: constant(uint256) = 88
KAPPA_AGG_SHIFT: constant(uint256) = 152
SUPPLY_CAP_SHIFT: constant(uint256) = 216
# word 1 field offsets (bits)
SLOPE1_SHIFT: constant(uint256) = 80
SLOPE2_SHIFT: constant(uint256) = 160

# Largest supply cap the 40-bit field holds, whole tokens.
MAX_SUPPLY_CAP: constant(uint256) = 2**40 - 1

# Per-asset parameter vector order: MarginVault's public A_* constants
# (and `asset_params(asset, i)`) are these.
N_PARAMS: constant(uint256) = 8
A_BASE_RATE: constant(uint256) = 0
A_SLOPE1: constant(uint256) = 1
A_SLOPE2: constant(uint256) = 2
A_KINK: constant(uint256) = 3
A_RESERVE_FACTOR: constant(uint256) = 4
A_BORROWABLE: constant(uint256) = 5
A_SUPPLY_CAP: constant(uint256) = 6
A_KAPPA_AGG: constant(uint256) = 7


@internal
@pure
def _slot(w0: uint256) -> uint256:
    """
    @notice 1-based position of the asset in `listed` (bits 0-7; 0: not listed).
    """
    return w0 & M8


@internal
@pure
def _decimals(w0: uint256) -> uint256:
    """
    @notice Token decimals (bits 8-15).
    """
    return (w0 >> DECIMALS_SHIFT) & M8


@internal
@pure
def _borrowable(w0: uint256) -> uint256:
    """
    @notice Borrowable flag, 1 or 0 (bits 16-23).
    """
    return (w0 >> BORROWABLE_SHIFT) & M8


@internal
@pure
def _kink(w0: uint256) -> uint256:
    """
    @notice Kink utilization, WAD (bits 24-87).
    """
    return (w0 >> KINK_SHIFT) & M64


@internal
@pure
def _reserve_factor(w0: uint256) -> uint256:
    """
    @notice Share of interest paid to the insurance fund, WAD (bits 88-151).
    """
    return (w0 >> RESERVE_FACTOR_SHIFT) & M64


@internal
@pure
def _kappa_agg(w0: uint256) -> uint256:
    """
    @notice Concentration coefficient on the total deposits, WAD (bits 152-215).
    """
    return (w0 >> KAPPA_AGG_SHIFT) & M64


@internal
@pure
def _supply_cap(w0: uint256) -> uint256:
    """
    @notice Most total deposits a deposit may reach, whole tokens
            (bits 216-255; 0: no cap).
    """
    return w0 >> SUPPLY_CAP_SHIFT


@internal
@pure
def _base_rate(w1: uint256) -> uint256:
    """
    @notice Borrow rate at zero utilization, WAD per year (word 1, bits 0-79).
    """
    return w1 & M80


@internal
@pure
def _slope1(w1: uint256) -> uint256:
    """
    @notice Rate added up to the kink, WAD per year (word 1, bits 80-159).
    """
    return (w1 >> SLOPE1_SHIFT) & M80


@internal
@pure
def _slope2(w1: uint256) -> uint256:
    """
    @notice Rate added from the kink to full utilization, WAD per year
            (word 1, bits 160-255).
    """
    return w1 >> SLOPE2_SHIFT


@internal
@pure
def _unpack_params(w: uint256[2]) -> uint256[N_PARAMS]:
    """
    @notice The parameter vector of a configuration, in A_* order: each
            entry is the field its accessor above reads (written out
            here, not called: one call instead of eight keeps the vault
            under the EIP-170 code size limit).
    @param w The two configuration words.
    @return base_rate, slope1, slope2 (WAD per year), kink,
            reserve_factor (WAD), borrowable (flag), supply_cap (whole
            tokens), kappa_agg (WAD).
    """
    a: uint256[N_PARAMS] = empty(uint256[N_PARAMS])
    a[A_BASE_RATE] = w[1] & M80
    a[A_SLOPE1] = (w[1] >> SLOPE1_SHIFT) & M80
    a[A_SLOPE2] = w[1] >> SLOPE2_SHIFT
    a[A_KINK] = (w[0] >> KINK_SHIFT) & M64
    a[A_RESERVE_FACTOR] = (w[0] >> RESERVE_FACTOR_SHIFT) & M64
    a[A_BORROWABLE] = (w[0] >> BORROWABLE_SHIFT) & M8
    a[A_KAPPA_AGG] = (w[0] >> KAPPA_AGG_SHIFT) & M64
    a[A_SUPPLY_CAP] = w[0] >> SUPPLY_CAP_SHIFT
    return a


@internal
@pure
def _pack(slot: uint256, decimals: uint256, a: uint256[N_PARAMS]) -> uint256[2]:
    """
    @notice The two configuration words of an asset, the inverse of
            `_slot`, `_decimals` and `_unpack_params` for values within
            their fields (the vault's `_check_asset_params` and listing
            checks keep them there; a larger one would spill into the
            next field).
    @param slot 1-based position in `listed` (<= 8).
    @param decimals Token decimals (<= 24).
    @param a Parameter vector, A_* order.
    @return [word 0, word 1].
    """
    return [
        slot | (decimals << DECIMALS_SHIFT) | (a[A_BORROWABLE] << BORROWABLE_SHIFT) | (a[A_KINK] << KINK_SHIFT)
        | (a[A_RESERVE_FACTOR] << RESERVE_FACTOR_SHIFT) | (a[A_KAPPA_AGG] << KAPPA_AGG_SHIFT)
        | (a[A_SUPPLY_CAP] << SUPPLY_CAP_SHIFT),
        a[A_BASE_RATE] | (a[A_SLOPE1] << SLOPE1_SHIFT) | (a[A_SLOPE2] << SLOPE2_SHIFT),
    ]
