# pragma version ~=0.4.3
"""
@title volmargin vault parameter codec
@custom:contract-name vault_params
@license GNU Affero General Public License v3.0 only
@notice Codec of the MarginVault's global words (docs/design.md §2.6),
        in the style of Aave's ReserveConfiguration: each field has its
        word, its bit position and its width (the bound a value must
        respect to fit, checked by the vault's `_check_params`), and a
        named accessor; no other contract shifts or masks these words.
        Pure functions, no state.
        Parameter vector (P_* order, the vault's `params(i)`), four words:
          word 0: close_factor | hf_full | bonus_min | bonus_max      (64 bits each)
          word 1: bonus_slope | insurance_share | caution_scale | liq_window (64 each)
          word 2: min_debt_value (0-127) | liq_cap (128-255)
          word 3: liq_cap_tripped (0-127)
        A liquidation reads words 0-2 (word 3 only while an asset is
        REDUCE_ONLY); a health check reads word 1 only when a weighed
        asset is in CAUTION.
        Liquidation-cap window, one word: start, s (0-63) | used, WAD USD
        (64-191); the start is a block time, never 0 after deployment, so
        a new window rewrites a non-zero word.
        Core word: oracle address (0-159) | pause mask (160-162): the two
        fields every withdrawal, borrow and liquidation reads.
        Units are each entry's (WAD, WAD USD, seconds; docs/design.md §6.6).
"""

# Parameter vector order: MarginVault's public P_* constants are these.
N_PARAMS: constant(uint256) = 11
P_CLOSE_FACTOR: constant(uint256) = 0
P_HF_FULL: constant(uint256) = 1
P_MIN_DEBT_VALUE: constant(uint256) = 2
P_BONUS_MIN: constant(uint256) = 3
P_BONUS_SLOPE: constant(uint256) = 4
P_BONUS_MAX: constant(uint256) = 5
P_INSURANCE_SHARE: constant(uint256) = 6
P_LIQ_WINDOW: constant(uint256) = 7
P_LIQ_CAP: constant(uint256) = 8
P_LIQ_CAP_TRIPPED: constant(uint256) = 9
P_CAUTION_SCALE: constant(uint256) = 10

# Field widths (a value must be at most the mask) and positions.
M64: constant(uint256) = 2**64 - 1  # WAD fields, seconds
M128: constant(uint256) = 2**128 - 1  # WAD USD fields, the window's used value
Q1: constant(uint256) = 64  # second quarter of a word
Q2: constant(uint256) = 128  # third quarter
Q3: constant(uint256) = 192  # fourth quarter
ADDRESS_MASK: constant(uint256) = 2**160 - 1
PAUSED_SHIFT: constant(uint256) = 160


@internal
@pure
def _close_factor(w0: uint256) -> uint256:
    """
    @notice close_factor, WAD (word 0).
    """
    return w0 & M64


@internal
@pure
def _hf_full(w0: uint256) -> uint256:
    """
    @notice hf_full, WAD (word 0).
    """
    return (w0 >> Q1) & M64


@internal
@pure
def _bonus_min(w0: uint256) -> uint256:
    """
    @notice bonus_min, WAD (word 0).
    """
    return (w0 >> Q2) & M64


@internal
@pure
def _bonus_max(w0: uint256) -> uint256:
    """
    @notice bonus_max, WAD (word 0).
    """
    return w0 >> Q3


@internal
@pure
def _bonus_slope(w1: uint256) -> uint256:
    """
    @notice bonus_slope, WAD (word 1).
    """
    return w1 & M64


@internal
@pure
def _insurance_share(w1: uint256) -> uint256:
    """
    @notice insurance_share, WAD (word 1).
    """
    return (w1 >> Q1) & M64


@internal
@pure
def _caution_scale(w1: uint256) -> uint256:
    """
    @notice caution_scale, WAD (word 1).
    """
    return (w1 >> Q2) & M64


@internal
@pure
def _liq_window(w1: uint256) -> uint256:
    """
    @notice liq_window, seconds (word 1).
    """
    return w1 >> Q3


@internal
@pure
def _min_debt_value(w2: uint256) -> uint256:
    """
    @notice min_debt_value, WAD USD (word 2).
    """
    return w2 & M128


@internal
@pure
def _liq_cap(w2: uint256) -> uint256:
    """
    @notice liq_cap, WAD USD (word 2).
    """
    return w2 >> Q2


@internal
@pure
def _unpack(w: uint256[4]) -> uint256[N_PARAMS]:
    """
    @notice The whole vector (P_* order) from its four words.
    """
    return [
        w[0] & M64,
        (w[0] >> Q1) & M64,
        w[2] & M128,
        (w[0] >> Q2) & M64,
        w[1] & M64,
        w[0] >> Q3,
        (w[1] >> Q1) & M64,
        w[1] >> Q3,
        w[2] >> Q2,
        w[3],
        (w[1] >> Q2) & M64,
    ]


@internal
@pure
def _pack(p: uint256[N_PARAMS]) -> uint256[4]:
    """
    @notice The four words of a vector whose entries fit their fields
            (the vault's `_check_params` holds them to it; an oversized
            entry would spill into the next field).
    """
    return [
        p[P_CLOSE_FACTOR] | (p[P_HF_FULL] << Q1) | (p[P_BONUS_MIN] << Q2) | (p[P_BONUS_MAX] << Q3),
        p[P_BONUS_SLOPE] | (p[P_INSURANCE_SHARE] << Q1) | (p[P_CAUTION_SCALE] << Q2) | (p[P_LIQ_WINDOW] << Q3),
        p[P_MIN_DEBT_VALUE] | (p[P_LIQ_CAP] << Q2),
        p[P_LIQ_CAP_TRIPPED],
    ]


@internal
@pure
def _window_start(w: uint256) -> uint256:
    """
    @notice Start of the liquidation-cap window, seconds (window word).
    """
    return w & M64


@internal
@pure
def _window_used(w: uint256) -> uint256:
    """
    @notice Value repaid in the window, WAD USD (window word).
    """
    return w >> Q1


@internal
@pure
def _window(start: uint256, used: uint256) -> uint256:
    """
    @notice The window word; `used` <= liq_cap < 2**128 (the caller asserts it).
    """
    return start | (used << Q1)


@internal
@pure
def _oracle(core: uint256) -> address:
    """
    @notice The RiskOracle's address (core word).
    """
    return convert(convert(core & ADDRESS_MASK, uint160), address)


@internal
@pure
def _paused(core: uint256) -> uint256:
    """
    @notice The pause mask (core word).
    """
    return core >> PAUSED_SHIFT


@internal
@pure
def _core(oracle: address, paused: uint256) -> uint256:
    """
    @notice The core word of an oracle and a pause mask (< 8).
    """
    return convert(convert(oracle, uint160), uint256) | (paused << PAUSED_SHIFT)


@internal
@pure
def _with_paused(core: uint256, paused: uint256) -> uint256:
    """
    @notice The core word with its pause mask replaced by `paused` (< 8).
    """
    return (core & ADDRESS_MASK) | (paused << PAUSED_SHIFT)
