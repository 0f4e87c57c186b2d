"""Default parameters of the volmargin deployment, in one place.

Every figure is a starting default from docs/design.md §3-§7 ("to be calibrated by
the stress lab, not taken as truth"). Units: WAD = 1e18 fixed point;
variances are WAD per second; rates are WAD per year; times are seconds;
USD values are WAD USD. The vectors are the named tuples of ``volmargin.spec``
(``OracleVector``, ``AssetVector``, ``VaultVector``), ordered by the contracts'
P_* / A_* indices; build them with the helpers below.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import reference as ref
from . import spec as S
from .units import to_wad

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
    oracle: S.OracleVector  # RiskOracle parameter vector (P_* order)
    rates: S.AssetVector  # MarginVault asset parameter vector (A_* order)


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
    h_min_init: float | None = None,
    dd_window: int = DAY,
    dd_trip: float = 0.0,
    f_lo: float = 0.5,
    f_hi: float = 3.0,
    f_step: float = 0.5,
    f_ttl: int = 2 * DAY,
    f_mode: str = "off",
) -> S.OracleVector:
    """RiskOracle parameter vector (``spec.ORACLE``); defaults are docs/design.md §3's ETH/BTC-like values.

    Times are seconds; ``z_*``, ``h*``, ``k_jump``, ``r_floor`` and ``kappa`` fractions or
    multiples (stored WAD); ``ramp_up``/``ramp_down`` fractions per hour (stored WAD per
    second); ``vol_*`` and ``sigma_caution`` annualized volatilities (stored as variances WAD
    per second, and WAD); ``depth_usd`` USD (stored WAD USD). ``h_min_init`` is the separate
    floor of the initial haircut (fraction; None: ``h_min``, today's single floor; the floor in
    force is max(h_min, h_min_init), docs/design.md §4.3); ``dd_window`` (seconds) and ``dd_trip``
    (fraction; 0 turns the test off, the default) configure the drawdown trip (docs/design.md §7.8).
    ``f_lo``, ``f_hi`` (multiples of the realized volatility), ``f_step`` (a fraction), ``f_ttl``
    (seconds) and ``f_mode`` (one of ``spec.FORECAST_MODES``) bound a risk keeper's forecast
    volatility (docs/design.md §3.7); the default mode "off" leaves the haircuts to the realized
    volatility: the forecast study (docs/forecast-study.md) did not adopt it. The bounds are those
    of that study. Raises ValueError for an unknown ``f_mode``.
    """
    if f_mode not in S.FORECAST_MODES:
        raise ValueError(f"f_mode must be one of {', '.join(S.FORECAST_MODES)}, got {f_mode!r}")
    return S.OracleVector(
        heartbeat=heartbeat,
        grace=grace,
        tau_fast=tau_fast,
        tau_slow=tau_slow,
        horizon=horizon,
        z_maint=to_wad(z_maint),
        z_init=to_wad(z_init),
        h0=to_wad(h0),
        h_min=to_wad(h_min),
        h_max=to_wad(h_max),
        ramp_up=per_hour(ramp_up),
        ramp_down=per_hour(ramp_down),
        var_min=annual_vol_to_var(vol_min),
        var_max=annual_vol_to_var(vol_max),
        k_jump=to_wad(k_jump),
        r_floor=to_wad(r_floor),
        cooldown=cooldown,
        sigma_caution=to_wad(sigma_caution),
        kappa=to_wad(kappa),
        depth=to_wad(depth_usd),
        h_min_init=to_wad(h_min if h_min_init is None else h_min_init),
        dd_window=dd_window,
        dd_trip=to_wad(dd_trip),
        f_lo=to_wad(f_lo),
        f_hi=to_wad(f_hi),
        f_step=to_wad(f_step),
        f_ttl=int(f_ttl),
        f_mode=S.FORECAST_MODES.index(f_mode),
    )


def rate_params(
    *, base: float = 0.0, slope1: float = 0.04, slope2: float = 0.75, kink: float = 0.8, reserve_factor: float = 0.10,
    borrowable: bool = True, supply_cap: int = 0, kappa_agg: float = 0.0,
) -> S.AssetVector:
    """MarginVault per-asset vector (``spec.ASSET``): kinked rate model (``base``, ``slope*``
    per year, stored WAD per year; ``kink`` and ``reserve_factor`` fractions, stored WAD),
    borrowability (stored as a 0/1 flag), the supply cap (whole tokens, stored as is; 0: no
    cap; docs/design.md §2.8) and the concentration coefficient ``kappa_agg`` (a fraction,
    stored WAD; 0: no concentration term; docs/design.md §4.3). Both thin-collateral levers
    are off by default."""
    return S.AssetVector(
        base_rate=to_wad(base),
        slope1=to_wad(slope1),
        slope2=to_wad(slope2),
        kink=to_wad(kink),
        reserve_factor=to_wad(reserve_factor),
        borrowable=1 if borrowable else 0,
        supply_cap=int(supply_cap),
        kappa_agg=to_wad(kappa_agg),
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
) -> S.VaultVector:
    """MarginVault global vector (``spec.VAULT``; docs/design.md §6, §7): fractions stored WAD,
    ``*_usd`` USD stored WAD USD, ``liq_window`` seconds."""
    return S.VaultVector(
        close_factor=to_wad(close_factor),
        hf_full=to_wad(hf_full),
        min_debt_value=to_wad(min_debt_value_usd),
        bonus_min=to_wad(bonus_min),
        bonus_slope=to_wad(bonus_slope),
        bonus_max=to_wad(bonus_max),
        insurance_share=to_wad(insurance_share),
        liq_window=liq_window,
        liq_cap=to_wad(liq_cap_usd),
        liq_cap_tripped=to_wad(liq_cap_tripped_usd),
        caution_scale=to_wad(caution_scale),
    )


#: Portfolio margin (docs/design.md §5.6; RiskOracle.set_portfolio_floor, set_correlation).
#: No offset takes an account's requirement below half the sum of its per-asset requirements
#: (WAD): the floor of the lab's portfolio study (docs/portfolio-study.md).
PORTFOLIO_FLOOR: int = to_wad(0.5)
#: Correlation bounds (rho_lo, rho_hi), signed WAD, by pair of symbols; every other pair is
#: (-1, +1), no offset. WETH-WBTC: the 1 % and 99 % quantiles of rolling 30-day correlations of
#: daily log returns over the training history (before 2023-01-01), 0.3499 and 0.9761
#: (``volmargin_lab.stress.portfolio.fit_pair("WETH", "WBTC", 24)``, the oracles' 24 h horizon),
#: rounded outward to whole percents (0.34, 0.98): a lower rho_lo and a higher rho_hi give
#: smaller offsets.
CORRELATIONS: dict[tuple[str, str], tuple[int, int]] = {("WETH", "WBTC"): (to_wad(0.34), to_wad(0.98))}

#: Risk-steward limits (docs/design.md §8): 25 % per change, one change a day per parameter.
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

VAULT: S.VaultVector = vault_params()

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


def calibrated_oracle(symbol: str) -> S.OracleVector:
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
