# pragma version ~=0.4.3
"""
@title volmargin risk parameter codec
@custom:contract-name risk_params
@license GNU Affero General Public License v3.0 only
@notice Codec of the RiskOracle's per-asset parameter vector (28 entries,
        indexed by the P_* constants) in seven packed storage words and an
        eighth for the forecast entries (docs/design.md §3.6, §3.7), in the
        style of Aave's ReserveConfiguration: each field has its word, its
        bit position and its width (the M* constants: the bound an entry
        must respect to fit, checked by the oracle's `_check_params`).
        Layout:
          word 0: heartbeat | grace | ramp_up | ramp_down          (64 bits each)
          word 1: kappa (0-95) | depth (96-255)
          word 2: tau_fast | tau_slow | horizon | cooldown         (64 each)
          word 3: h0 | h_min | h_max | h_min_init                  (64 each)
          word 4: z_maint (0-71) | z_init (72-143) | dd_window (144-191) | dd_trip (192-255)
          word 5: var_min | var_max                                (128 each)
          word 6: k_jump (0-95) | r_floor (96-159) | sigma_caution (160-255)
          forecast word: f_lo | f_hi | f_step (64 each) | f_ttl (192-247) | f_mode (248-255)
        Units are each entry's (seconds, WAD, WAD per second; see the P_*
        comments in RiskOracle).
"""

# Indices into the parameter vector.
N_PARAMS: constant(uint256) = 28
P_HEARTBEAT: constant(uint256) = 0
P_GRACE: constant(uint256) = 1
P_TAU_FAST: constant(uint256) = 2
P_TAU_SLOW: constant(uint256) = 3
P_HORIZON: constant(uint256) = 4
P_Z_MAINT: constant(uint256) = 5
P_Z_INIT: constant(uint256) = 6
P_H0: constant(uint256) = 7
P_H_MIN: constant(uint256) = 8
P_H_MAX: constant(uint256) = 9
P_RAMP_UP: constant(uint256) = 10
P_RAMP_DOWN: constant(uint256) = 11
P_VAR_MIN: constant(uint256) = 12
P_VAR_MAX: constant(uint256) = 13
P_K_JUMP: constant(uint256) = 14
P_R_FLOOR: constant(uint256) = 15
P_COOLDOWN: constant(uint256) = 16
P_SIGMA_CAUTION: constant(uint256) = 17
P_KAPPA: constant(uint256) = 18
P_DEPTH: constant(uint256) = 19
P_H_MIN_INIT: constant(uint256) = 20
P_DD_WINDOW: constant(uint256) = 21
P_DD_TRIP: constant(uint256) = 22
P_F_LO: constant(uint256) = 23
P_F_HI: constant(uint256) = 24
P_F_STEP: constant(uint256) = 25
P_F_TTL: constant(uint256) = 26
P_F_MODE: constant(uint256) = 27

# Field widths (a value must be below 2**width) and positions.
M48: constant(uint256) = 2**48 - 1
M56: constant(uint256) = 2**56 - 1
M64: constant(uint256) = 2**64 - 1  # times, ramp speeds, WAD haircuts, r_floor, dd_trip, f_lo, f_hi, f_step
M72: constant(uint256) = 2**72 - 1  # z_maint, z_init
M96: constant(uint256) = 2**96 - 1  # kappa, k_jump, sigma_caution
M128: constant(uint256) = 2**128 - 1  # variances
M160: constant(uint256) = 2**160 - 1  # depth
Q1: constant(uint256) = 64  # second quarter of a word
Q2: constant(uint256) = 128  # third quarter
Q3: constant(uint256) = 192  # fourth quarter
KAPPA_BITS: constant(uint256) = 96  # also k_jump's width
SIGMA_CAUTION_SHIFT: constant(uint256) = 160
Z_BITS: constant(uint256) = 72
DD_WINDOW_SHIFT: constant(uint256) = 144
F_MODE_SHIFT: constant(uint256) = 248


@internal
@pure
def _heartbeat(w0: uint256) -> uint256:
    """
    @notice heartbeat, seconds (word 0).
    """
    return w0 & M64


@internal
@pure
def _grace(w0: uint256) -> uint256:
    """
    @notice grace, seconds (word 0).
    """
    return (w0 >> Q1) & M64


@internal
@pure
def _ramp_up(w0: uint256) -> uint256:
    """
    @notice ramp_up, WAD per second (word 0).
    """
    return (w0 >> Q2) & M64


@internal
@pure
def _ramp_down(w0: uint256) -> uint256:
    """
    @notice ramp_down, WAD per second (word 0).
    """
    return w0 >> Q3


@internal
@pure
def _kappa(w1: uint256) -> uint256:
    """
    @notice kappa, WAD (word 1).
    """
    return w1 & M96


@internal
@pure
def _depth(w1: uint256) -> uint256:
    """
    @notice depth, WAD USD (word 1).
    """
    return w1 >> KAPPA_BITS


@internal
@pure
def _f_mode(f: uint256) -> uint256:
    """
    @notice f_mode (forecast word): 0 off, 1 replace, 2 max, 3 blend.
    """
    return f >> F_MODE_SHIFT


@internal
@pure
def _unpack(w: uint256[7], f: uint256) -> uint256[N_PARAMS]:
    """
    @notice The vector of seven packed words and the forecast word (pass
            0 to leave the forecast entries 0).
    @dev Decodes each field inline with its position and width (the
         constants above, as the accessors use them; a call per field
         would cost ~1k gas a poke).
    """
    p: uint256[N_PARAMS] = empty(uint256[N_PARAMS])
    p[P_HEARTBEAT] = w[0] & M64
    p[P_GRACE] = (w[0] >> Q1) & M64
    p[P_RAMP_UP] = (w[0] >> Q2) & M64
    p[P_RAMP_DOWN] = w[0] >> Q3
    p[P_KAPPA] = w[1] & M96
    p[P_DEPTH] = w[1] >> KAPPA_BITS
    p[P_TAU_FAST] = w[2] & M64
    p[P_TAU_SLOW] = (w[2] >> Q1) & M64
    p[P_HORIZON] = (w[2] >> Q2) & M64
    p[P_COOLDOWN] = w[2] >> Q3
    p[P_H0] = w[3] & M64
    p[P_H_MIN] = (w[3] >> Q1) & M64
    p[P_H_MAX] = (w[3] >> Q2) & M64
    p[P_H_MIN_INIT] = w[3] >> Q3
    p[P_Z_MAINT] = w[4] & M72
    p[P_Z_INIT] = (w[4] >> Z_BITS) & M72
    p[P_DD_WINDOW] = (w[4] >> DD_WINDOW_SHIFT) & M48
    p[P_DD_TRIP] = w[4] >> Q3
    p[P_VAR_MIN] = w[5] & M128
    p[P_VAR_MAX] = w[5] >> Q2
    p[P_K_JUMP] = w[6] & M96
    p[P_R_FLOOR] = (w[6] >> KAPPA_BITS) & M64
    p[P_SIGMA_CAUTION] = w[6] >> SIGMA_CAUTION_SHIFT
    p[P_F_LO] = f & M64
    p[P_F_HI] = (f >> Q1) & M64
    p[P_F_STEP] = (f >> Q2) & M64
    p[P_F_TTL] = (f >> Q3) & M56
    p[P_F_MODE] = f >> F_MODE_SHIFT
    return p


@internal
@pure
def _pack(p: uint256[N_PARAMS]) -> (uint256[7], uint256):
    """
    @notice The seven words and the forecast word of a vector that passed
            the oracle's `_check_params` (every entry fits its width).
    """
    return [
        p[P_HEARTBEAT] | (p[P_GRACE] << Q1) | (p[P_RAMP_UP] << Q2) | (p[P_RAMP_DOWN] << Q3),
        p[P_KAPPA] | (p[P_DEPTH] << KAPPA_BITS),
        p[P_TAU_FAST] | (p[P_TAU_SLOW] << Q1) | (p[P_HORIZON] << Q2) | (p[P_COOLDOWN] << Q3),
        p[P_H0] | (p[P_H_MIN] << Q1) | (p[P_H_MAX] << Q2) | (p[P_H_MIN_INIT] << Q3),
        p[P_Z_MAINT] | (p[P_Z_INIT] << Z_BITS) | (p[P_DD_WINDOW] << DD_WINDOW_SHIFT) | (p[P_DD_TRIP] << Q3),
        p[P_VAR_MIN] | (p[P_VAR_MAX] << Q2),
        p[P_K_JUMP] | (p[P_R_FLOOR] << KAPPA_BITS) | (p[P_SIGMA_CAUTION] << SIGMA_CAUTION_SHIFT),
    ], p[P_F_LO] | (p[P_F_HI] << Q1) | (p[P_F_STEP] << Q2) | (p[P_F_TTL] << Q3) | (p[P_F_MODE] << F_MODE_SHIFT)
