"""Default parameters of the volmargin deployment, in one place.

Every figure is a starting default from DESIGN §3-§7 ("to be calibrated by
the stress lab, not taken as truth"). Units: WAD = 1e18 fixed point;
variances are WAD per second; rates are WAD per year; times are seconds;
USD values are WAD USD. The tuples are ordered by the contracts' P_* / A_*
indices (see ``volmargin.reference``); build them with the helpers below.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import reference as ref

WAD = ref.WAD
HOUR = 3_600
DAY = 86_400
YEAR = ref.SECONDS_PER_YEAR


def annual_vol_to_var(sigma_annual: float) -> int:
    """Variance per second (WAD) of an annualized volatility (e.g. 0.8 for 80 %)."""
    return int(sigma_annual**2 * WAD) // YEAR


def per_hour(x: float) -> int:
    """A WAD speed per second from a fraction per hour (e.g. 0.02 for 2 %/h)."""
    return int(x * WAD) // HOUR


@dataclass(frozen=True)
class TokenSpec:
    """A token of the default deployment and its feed."""

    symbol: str
    name: str
    decimals: int
    feed_description: str
    start_price_usd: float
    var_seed: int  # WAD per second
    oracle: tuple[int, ...]  # RiskOracle parameter vector (P_* order)
    rates: tuple[int, ...]  # MarginVault asset parameter vector (A_* order)


def oracle_params(
    *,
    heartbeat: int = HOUR,
    grace: int = 10 * 60,
    tau_fast: int = 12 * HOUR,
    tau_slow: int = 30 * DAY,
    horizon: int = DAY,
    z_maint: float = 3.0,
    z_init: float = 4.0,
    h0: float = 0.02,
    h_min: float = 0.10,
    h_max: float = 0.60,
    ramp_up: float = 0.02,
    ramp_down: float = 0.005,
    vol_min: float = 0.10,
    vol_max: float = 10.0,
    k_jump: float = 6.0,
    r_floor: float = 0.05,
    cooldown: int = 2 * HOUR,
    sigma_caution: float = 1.5,
    kappa: float = 0.05,
    depth_usd: float = 50e6,
) -> tuple[int, ...]:
    """RiskOracle parameter vector; defaults are DESIGN §3's ETH/BTC-like values.

    ``ramp_up``/``ramp_down`` are fractions per hour, ``vol_*`` and
    ``sigma_caution`` annualized volatilities, ``depth_usd`` USD.
    """
    p = [0] * 20
    p[ref.P_HEARTBEAT] = heartbeat
    p[ref.P_GRACE] = grace
    p[ref.P_TAU_FAST] = tau_fast
    p[ref.P_TAU_SLOW] = tau_slow
    p[ref.P_HORIZON] = horizon
    p[ref.P_Z_MAINT] = int(z_maint * WAD)
    p[ref.P_Z_INIT] = int(z_init * WAD)
    p[ref.P_H0] = int(h0 * WAD)
    p[ref.P_H_MIN] = int(h_min * WAD)
    p[ref.P_H_MAX] = int(h_max * WAD)
    p[ref.P_RAMP_UP] = per_hour(ramp_up)
    p[ref.P_RAMP_DOWN] = per_hour(ramp_down)
    p[ref.P_VAR_MIN] = annual_vol_to_var(vol_min)
    p[ref.P_VAR_MAX] = annual_vol_to_var(vol_max)
    p[ref.P_K_JUMP] = int(k_jump * WAD)
    p[ref.P_R_FLOOR] = int(r_floor * WAD)
    p[ref.P_COOLDOWN] = cooldown
    p[ref.P_SIGMA_CAUTION] = int(sigma_caution * WAD)
    p[ref.P_KAPPA] = int(kappa * WAD)
    p[ref.P_DEPTH] = int(depth_usd * WAD)
    return tuple(p)


def rate_params(
    *, base: float = 0.0, slope1: float = 0.04, slope2: float = 0.75, kink: float = 0.8, reserve_factor: float = 0.10,
    borrowable: bool = True,
) -> tuple[int, ...]:
    """MarginVault per-asset vector: kinked rate model (per year) and borrowability."""
    return (
        int(base * WAD),
        int(slope1 * WAD),
        int(slope2 * WAD),
        int(kink * WAD),
        int(reserve_factor * WAD),
        1 if borrowable else 0,
    )


def vault_params(
    *,
    close_factor: float = 0.5,
    hf_full: float = 0.95,
    min_debt_value_usd: float = 100.0,
    bonus_min: float = 0.02,
    bonus_slope: float = 0.5,
    bonus_max: float = 0.05,
    insurance_share: float = 0.10,
    liq_window: int = HOUR,
    liq_cap_usd: float = 10e6,
    liq_cap_tripped_usd: float = 2e6,
    caution_scale: float = 0.5,
) -> tuple[int, ...]:
    """MarginVault global vector (DESIGN §6, §7)."""
    return (
        int(close_factor * WAD),
        int(hf_full * WAD),
        int(min_debt_value_usd * WAD),
        int(bonus_min * WAD),
        int(bonus_slope * WAD),
        int(bonus_max * WAD),
        int(insurance_share * WAD),
        liq_window,
        int(liq_cap_usd * WAD),
        int(liq_cap_tripped_usd * WAD),
        int(caution_scale * WAD),
    )


#: Risk-steward limits (DESIGN §8): 25 % per change, one change a day per parameter.
MAX_REL_CHANGE = WAD // 4
MIN_CHANGE_DELAY = DAY

#: Chainlink USD feeds answer with 8 decimals.
FEED_DECIMALS = 8

TOKENS: tuple[TokenSpec, ...] = (
    TokenSpec(
        symbol="USD",
        name="USD Stablecoin",
        decimals=6,
        feed_description="USD / USD",
        start_price_usd=1.0,
        var_seed=annual_vol_to_var(0.02),
        oracle=oracle_params(
            heartbeat=DAY, grace=HOUR, h0=0.01, h_min=0.01, h_max=0.10, vol_min=0.01, vol_max=2.0,
            r_floor=0.02, sigma_caution=0.20, kappa=0.0,
        ),
        rates=rate_params(slope1=0.04, slope2=0.75, kink=0.8, reserve_factor=0.10),
    ),
    TokenSpec(
        symbol="WETH",
        name="Wrapped Ether",
        decimals=18,
        feed_description="ETH / USD",
        start_price_usd=2_000.0,
        var_seed=annual_vol_to_var(0.80),
        oracle=oracle_params(),
        rates=rate_params(slope1=0.03, slope2=0.80, kink=0.8, reserve_factor=0.15),
    ),
    TokenSpec(
        symbol="WBTC",
        name="Wrapped Bitcoin",
        decimals=8,
        feed_description="BTC / USD",
        start_price_usd=30_000.0,
        var_seed=annual_vol_to_var(0.65),
        oracle=oracle_params(),
        rates=rate_params(slope1=0.03, slope2=0.80, kink=0.8, reserve_factor=0.15),
    ),
)

VAULT: tuple[int, ...] = vault_params()

#: Calibration protocol v2 (``docs/calibration-protocol.md``) of the WETH and WBTC oracles, as
#: chosen by ``ape run calibrate --protocol v2 --out reports/calibration`` on 2026-11-23 18:23 UTC
#: (``reports/calibration/calibration.json``, key ``protocol_v2``; ``volmargin_lab.calibration.calibrate_v2``).
#: z_maint (dimensionless), tau_fast and tau_slow (seconds): the cheapest volatility model (h_min 0)
#: passing Kupiec and Christoffersen at 5 % on the 2018-08-14 .. 2022-12-31 daily windows (64 of 176
#: candidates passed for WETH, 75 for WBTC); h_min (fraction): the training 99 % one-day loss quantile
#: rounded up to a whole percent (WETH 13.67 % -> 14 %, WBTC 10.43 % -> 11 %); z_init = z_maint + 1;
#: h0 = 2 %. Held-out results are in the report, not here. Re-derived from the data by
#: ``tests/unitary/test_calibration.py::test_calibrated_v2_literals_rederive``.
CALIBRATED_V2: dict[str, dict[str, float]] = {
    "WETH": {"z_maint": 2.0, "z_init": 3.0, "tau_fast": 48 * HOUR, "tau_slow": 14 * DAY, "h0": 0.02, "h_min": 0.14},
    "WBTC": {"z_maint": 1.75, "z_init": 2.75, "tau_fast": 48 * HOUR, "tau_slow": 30 * DAY, "h0": 0.02, "h_min": 0.11},
}


def calibrated_oracle(symbol: str) -> tuple[int, ...]:
    """RiskOracle vector of ``symbol`` ("WETH" or "WBTC") under ``CALIBRATED_V2``: z_maint, z_init,
    tau_fast, tau_slow, h0 and h_min replaced, every other entry at its ``oracle_params`` default.

    Raises KeyError naming the known symbols for any other symbol."""
    if symbol not in CALIBRATED_V2:
        raise KeyError(f"no protocol v2 calibration for {symbol!r}; known: {', '.join(CALIBRATED_V2)}")
    c = CALIBRATED_V2[symbol]
    return oracle_params(z_maint=c["z_maint"], z_init=c["z_init"], tau_fast=int(c["tau_fast"]),
                         tau_slow=int(c["tau_slow"]), h0=c["h0"], h_min=c["h_min"])


#: Lender liquidity seeded at deployment, in whole tokens.
SEED_LIQUIDITY = {"USD": 50_000_000, "WETH": 20_000, "WBTC": 1_000}
