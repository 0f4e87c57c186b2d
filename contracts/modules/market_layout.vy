# pragma version ~=0.4.3
"""
@title volmargin market storage codec
@custom:contract-name market_layout
@license GNU Affero General Public License v3.0 only
@notice Packs and unpacks the MarginVault's stored market
        `_markets[asset]`, three words (docs/design.md §2.6):
          word 0: deposit_index (bits 0-127) | borrow_index (128-255), WAD
          word 1: scaled_deposits (0-127) | scaled_borrows (128-255)
          word 2: last_accrual (0-63, Unix seconds) | insurance fund
                  (64-255, token decimals)
        with the bounds that make a market fit: indices and scaled
        totals <= MAX_FIELD = 2**128 - 1 (the vault reverts "vault:
        market out of range" above it), insurance <=
        MAX_INSURANCE ("vault: insurance out of range"). Every shift and
        mask of the market's words lives here. Pure functions, no state.
"""

struct Market:
    deposit_index: uint256  # WAD
    borrow_index: uint256  # WAD
    scaled_deposits: uint256  # sum of positive scaled balances
    scaled_borrows: uint256  # sum of |negative scaled balances|
    last_accrual: uint256  # s
    insurance: uint256  # token decimals: insurance fund of this asset


M64: constant(uint256) = 2**64 - 1
M128: constant(uint256) = 2**128 - 1
HIGH_SHIFT: constant(uint256) = 128  # borrow_index, scaled_borrows
INSURANCE_SHIFT: constant(uint256) = 64
# Largest index (WAD) or scaled total the market's words hold.
MAX_FIELD: constant(uint256) = 2**128 - 1
# Largest insurance fund word 2 holds, token decimals.
MAX_INSURANCE: constant(uint256) = 2**192 - 1


@internal
@pure
def _borrow_index(w0: uint256) -> uint256:
    """
    @notice The borrow index, WAD (word 0, bits 128-255).
    """
    return w0 >> HIGH_SHIFT


@internal
@pure
def _last_accrual(w2: uint256) -> uint256:
    """
    @notice Time of the last accrual, Unix seconds (word 2, bits 0-63).
    """
    return w2 & M64


@internal
@pure
def _unpack(w: uint256[3]) -> Market:
    """
    @notice The market of the three words; each field is read with the
            position and width of its accessor.
    """
    return Market(
        deposit_index=w[0] & M128,
        borrow_index=w[0] >> HIGH_SHIFT,
        scaled_deposits=w[1] & M128,
        scaled_borrows=w[1] >> HIGH_SHIFT,
        last_accrual=w[2] & M64,
        insurance=w[2] >> INSURANCE_SHIFT,
    )


@internal
@pure
def _pack(m: Market) -> uint256[3]:
    """
    @notice The three words of a market whose fields are within the
            bounds above (the vault checks them first).
    """
    return [
        m.deposit_index | (m.borrow_index << HIGH_SHIFT),
        m.scaled_deposits | (m.scaled_borrows << HIGH_SHIFT),
        m.last_accrual | (m.insurance << INSURANCE_SHIFT),
    ]
