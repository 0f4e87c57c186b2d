"""Risk policies compared by the stress lab: one vault, different parameter vectors.

Every policy is a set of ``RiskOracle`` parameter vectors (one per asset, built with
``volmargin.params.oracle_params``) plus one ``MarginVault`` vector (``vault_params``):
the same contracts and the same ``volmargin.model`` code run all of them (issue #5 item 2).

* ``static``: Aave-v3-like published parameters, held fixed. A loan-to-value ``LTV`` and a
  liquidation threshold ``LT`` become ``h_init = 1 - LTV`` and ``h_maint = 1 - LT`` through
  ``h0 = h_min = 1 - LT``, ``h_max = 1 - LTV``, ``z_maint = 0``, ``z_init = 100``: the
  initial haircut ``clamp(h0 + 100 sigma_H, h_min, h_max)`` sits at ``h_max`` because the
  variance floor ``var_min`` (10 % a year) keeps ``100 sigma_H >= 0.52 > LT - LTV``
  (checked against ``volmargin.reference`` in ``tests/unitary/test_stress_policies.py``).
  No size term (``kappa = 0``), breakers off (``k_jump`` 1e6, ``r_floor`` 1,000 %,
  ``sigma_caution`` 1,000 %/yr, a ten-year ``heartbeat`` so a stale feed keeps valuing, as
  Venus' LUNA market did), a flat 5 % bonus, no liquidation cap, CAUTION scale 1.
  Stablecoin haircut 0 (debt weight 1). Sources: Aave v3 Ethereum market parameters
  (WETH LTV 80 % / LT 82.5 % / bonus 5 %; WBTC 73 % / 78 % / 5 %); LUNA and FTT never had
  an Aave market: 55 % / 60 % is Venus' LUNA collateral factor (May 2022), used for both.
* ``dynamic``: the docs/design.md §3-§7 defaults of ``volmargin.params.TOKENS`` / ``VAULT``; the
  toxic assets (LUNA, FTT) get the same defaults with a 30 % floor ``h_min`` and a thin
  governance depth (``TOXIC_DEPTH_USD``) so that the §4 size term bites.
* ``dynamic-no-breakers``: ``dynamic`` with the §7 breakers off (as in ``static``).
* ``dynamic-no-ramp``: ``dynamic`` with the §4 ramp off (``ramp_up = ramp_down`` =
  1,000 per hour, within the packing width of the contract: the maintenance haircut
  reaches its target within seconds).
* ``dynamic-calibrated``: ``dynamic`` with WETH and WBTC at calibration protocol v2
  (``docs/calibration-protocol.md``; ``volmargin.params.CALIBRATED_V2`` /
  ``calibrated_oracle``: z_maint, z_init = z_maint + 1, tau_fast, tau_slow and the stressed
  floor h_min); the stablecoin and the toxic assets keep their ``dynamic`` vectors.

Units: WAD vectors as in ``volmargin.params``; ``VaultModel`` fields as fractions, USD and
seconds (``volmargin.model`` units).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from volmargin import model as M
from volmargin import params as P
from volmargin import reference as ref
from volmargin import spec as S
from .portfolio import PortfolioSpec

WAD = ref.WAD
TEN_YEARS = 10 * 365 * P.DAY

#: Symbols the stress lab knows: the deployed three and the toxic collateral of 2022.
SYMBOLS: tuple[str, ...] = ("USD", "WETH", "WBTC", "LUNA", "FTT")
DECIMALS: dict[str, int] = {"USD": 6, "WETH": 18, "WBTC": 8, "LUNA": 6, "FTT": 18}
TOXIC: frozenset[str] = frozenset({"LUNA", "FTT"})

#: Static (published-like) parameters: symbol -> (LTV, LT), fractions.
STATIC_LTV_LT: dict[str, tuple[float, float]] = {
    "USD": (1.0, 1.0),
    "WETH": (0.80, 0.825),
    "WBTC": (0.73, 0.78),
    "LUNA": (0.55, 0.60),
    "FTT": (0.55, 0.60),
}
#: Static liquidation bonus (fraction), flat.
STATIC_BONUS = 0.05

#: Governance depth (USD) of the §4 size term for the toxic assets under the dynamic policies.
TOXIC_DEPTH_USD: dict[str, float] = {"LUNA": 20e6, "FTT": 5e6}
#: Floor of the toxic assets' haircut under the dynamic policies (fraction).
TOXIC_H_MIN = 0.30

POLICY_NAMES: tuple[str, ...] = ("static", "dynamic", "dynamic-no-breakers", "dynamic-no-ramp", "dynamic-calibrated")

#: Assets whose oracle vectors ``dynamic-calibrated`` takes from ``volmargin.params.calibrated_oracle``.
CALIBRATED: tuple[str, ...] = ("WETH", "WBTC")

_BREAKERS_OFF = {"k_jump": 1e6, "r_floor": 10.0, "sigma_caution": 10.0, "heartbeat": TEN_YEARS}


@dataclass(frozen=True)
class VaultModel:
    """MarginVault global parameters in model units (fractions, USD, seconds)."""

    close_factor: float
    hf_full: float
    min_debt_value: float
    bonus_min: float
    bonus_slope: float
    bonus_max: float
    insurance_share: float
    liq_window: float
    liq_cap: float
    liq_cap_tripped: float
    caution_scale: float

    @classmethod
    def from_wad(cls, v: tuple[int, ...]) -> VaultModel:
        """From a ``volmargin.params.vault_params`` vector (WAD, seconds, WAD USD)."""
        if len(v) != len(ref.VAULT_PARAM_NAMES):
            raise ValueError(f"a vault vector has {len(ref.VAULT_PARAM_NAMES)} entries, got {len(v)}")
        f = [x / WAD for x in v]
        f[ref.V_LIQ_WINDOW] = float(v[ref.V_LIQ_WINDOW])
        return cls(*f)


@dataclass(frozen=True)
class Policy:
    """A named parameter set: ``oracle[symbol]`` RiskOracle vectors, ``vault`` MarginVault vector,
    and optionally portfolio margin (``portfolio.PortfolioSpec``; None: per-asset margin) and a
    risk keeper's forecast volatility (``forecast``: the ``f_mode`` name of ``spec.FORECAST_MODES``
    its vectors carry; the stress engine then pushes ``volmargin_lab.forecast.keeper_forecasts``)."""

    name: str
    description: str
    oracle: dict[str, tuple[int, ...]]
    vault: tuple[int, ...]
    portfolio: PortfolioSpec | None = None
    forecast: str | None = None

    def with_forecast(self, mode: str, name: str, description: str) -> "Policy":
        """This policy with a risk keeper pushing the study's GARCH forecast (docs/design.md §3.7),
        entered by ``mode`` (a name of ``spec.FORECAST_MODES`` but "off"), as ``name``. The
        forecast's bounds stay those of the vectors (``f_lo``, ``f_hi``, ``f_step``, ``f_ttl``).
        Raises ValueError for an unknown mode or "off"."""
        if mode not in S.FORECAST_MODES or mode == "off":
            raise ValueError(f"forecast mode must be one of {', '.join(S.FORECAST_MODES[1:])}, got {mode!r}")
        i, k = S.ORACLE.index("f_mode"), S.FORECAST_MODES.index(mode)
        oracle = {s: tuple(k if j == i else x for j, x in enumerate(v)) for s, v in self.oracle.items()}
        return replace(self, name=name, description=description, oracle=oracle, forecast=mode)

    def portfolio_deployment(self) -> tuple[int, dict[tuple[str, str], tuple[int, int]]]:
        """The oracle's portfolio margin for this policy, as ``deploy_system`` takes it: the floor
        (WAD; 1e18, off, without a ``portfolio``) and the pairs' bounds (signed WAD, rounded to
        the nearest wei; none without a ``portfolio``)."""
        if self.portfolio is None:
            return WAD, {}
        return (round(self.portfolio.floor_frac * WAD),
                {pair: (round(lo * WAD), round(hi * WAD)) for pair, (lo, hi) in self.portfolio.pairs.items()})

    def oracle_model(self, symbols: tuple[str, ...] | list[str], xp: Any = np) -> M.OracleParams:
        """``OracleParams`` of ``symbols`` (in that order), arrays of shape (assets,).

        Raises KeyError naming an unknown symbol."""
        for s in symbols:
            if s not in self.oracle:
                raise KeyError(f"policy {self.name!r} has no parameters for {s!r}; known: {', '.join(self.oracle)}")
        return M.OracleParams.from_wad([self.oracle[s] for s in symbols], xp)

    def vault_model(self) -> VaultModel:
        """The vault vector in model units."""
        return VaultModel.from_wad(self.vault)

    def token_specs(self, symbols: tuple[str, ...] = ("USD", "WETH", "WBTC")) -> tuple[P.TokenSpec, ...]:
        """``volmargin.params.TokenSpec`` of the deployable symbols with this policy's oracle
        vectors (for ``volmargin.chain.deploy.deploy_system``); KeyError for a non-deployable one."""
        base = {t.symbol: t for t in P.TOKENS}
        return tuple(replace(base[s], oracle=self.oracle[s]) for s in symbols)

    def summary(self, symbols: tuple[str, ...] | list[str] = ("USD", "WETH", "WBTC")) -> dict[str, Any]:
        """Human-readable parameters (fractions, hours, annualized vols) for the report."""
        out: dict[str, Any] = {"description": self.description, "assets": {}, "vault": {}}
        for s in symbols:
            if s not in self.oracle:
                continue
            p = self.oracle[s]
            out["assets"][s] = {
                "h0": p[ref.P_H0] / WAD, "h_min": p[ref.P_H_MIN] / WAD, "h_max": p[ref.P_H_MAX] / WAD,
                "z_maint": p[ref.P_Z_MAINT] / WAD, "z_init": p[ref.P_Z_INIT] / WAD,
                "tau_fast_h": p[ref.P_TAU_FAST] / 3600, "tau_slow_d": p[ref.P_TAU_SLOW] / 86400,
                "horizon_h": p[ref.P_HORIZON] / 3600,
                "ramp_up_per_h": p[ref.P_RAMP_UP] * 3600 / WAD, "ramp_down_per_h": p[ref.P_RAMP_DOWN] * 3600 / WAD,
                "k_jump": p[ref.P_K_JUMP] / WAD, "r_floor": p[ref.P_R_FLOOR] / WAD,
                "sigma_caution": p[ref.P_SIGMA_CAUTION] / WAD, "heartbeat_h": p[ref.P_HEARTBEAT] / 3600,
                "kappa": p[ref.P_KAPPA] / WAD, "depth_usd": p[ref.P_DEPTH] / WAD,
            }
        v = self.vault_model()
        out["vault"] = {k: getattr(v, k) for k in v.__dataclass_fields__}
        return out


def _dynamic_vectors() -> dict[str, tuple[int, ...]]:
    out = {t.symbol: t.oracle for t in P.TOKENS}
    for s in sorted(TOXIC):
        out[s] = P.oracle_params(h_min=TOXIC_H_MIN, depth_usd=TOXIC_DEPTH_USD[s])
    return out


def _static_vector(ltv: float, lt: float) -> tuple[int, ...]:
    # 1 - LT and 1 - LTV in decimal (1 - 0.8 is 0.19999999999999996 in floats): exact WAD complements
    hm, hi = round(1.0 - lt, 12), round(1.0 - ltv, 12)
    # the stablecoin keeps its tighter variance bounds so that sigma stays meaningful on display
    return P.oracle_params(
        h0=hm, h_min=hm, h_max=hi, z_maint=0.0, z_init=100.0, kappa=0.0, ramp_up=1e3, ramp_down=1e3,
        **_BREAKERS_OFF,
    )


def _with(vectors: dict[str, tuple[int, ...]], **changes: float) -> dict[str, tuple[int, ...]]:
    idx = {k: S.ORACLE.index(k) for k in ("k_jump", "r_floor", "sigma_caution", "heartbeat", "ramp_up", "ramp_down")}
    out = {}
    for s, v in vectors.items():
        w = list(v)
        for k, x in changes.items():
            if k == "heartbeat":
                w[idx[k]] = int(x)
            elif k in ("ramp_up", "ramp_down"):
                w[idx[k]] = P.per_hour(x)
            else:
                w[idx[k]] = int(x * WAD)
        out[s] = S.ORACLE.make(w)
    return out


def make_policy(name: str) -> Policy:
    """The policy called ``name`` (one of ``POLICY_NAMES``).

    Raises
    ------
    KeyError
        For an unknown name; the message lists the known ones.
    """
    dyn = _dynamic_vectors()
    if name == "static":
        vec = {s: _static_vector(*STATIC_LTV_LT[s]) for s in SYMBOLS}
        vault = P.vault_params(
            bonus_min=STATIC_BONUS, bonus_slope=0.0, bonus_max=STATIC_BONUS, liq_cap_usd=1e15,
            liq_cap_tripped_usd=1e15, caution_scale=1.0,
        )
        return Policy(name, "Aave-v3-like fixed LTV / LT / 5 % bonus, no breakers, no cap", vec, vault)
    if name == "dynamic":
        return Policy(name, "docs/design.md defaults: volatility haircuts, ramp, breakers, size term", dyn, P.VAULT)
    if name == "dynamic-no-breakers":
        return Policy(name, "dynamic with the circuit breakers off (stale feeds keep valuing)",
                      _with(dyn, **_BREAKERS_OFF), P.VAULT)
    if name == "dynamic-no-ramp":
        return Policy(name, "dynamic with the maintenance ramp off (haircut jumps to target)",
                      _with(dyn, ramp_up=1e3, ramp_down=1e3), P.VAULT)
    if name == "dynamic-calibrated":
        vec = {**dyn, **{s: P.calibrated_oracle(s) for s in CALIBRATED}}
        return Policy(name, "dynamic with WETH/WBTC at calibration protocol v2 (z, tau, stressed floor, z_init = z + 1)",
                      vec, P.VAULT)
    raise KeyError(f"unknown policy {name!r}; known: {', '.join(POLICY_NAMES)}")


#: Families ``make_policy_from`` builds, and the assets whose oracle vectors a family's knobs change.
FAMILIES: tuple[str, ...] = ("static", "dynamic")
KNOB_ASSETS: tuple[str, ...] = ("WETH", "WBTC")
#: The static Aave point (WETH LT) and WBTC's scaling to its own Aave point (LTV 73 %, LT 78 %).
STATIC_AAVE_LT = 0.825
LT_GAP = 0.025


def _to_wad_entry(unit: str, x: float) -> int:
    """One vector entry from a knob value in model units (the WAD taken off the spec unit:
    seconds for ``s``, a fraction or multiple for ``WAD``, USD for ``WAD USD``, per second for
    ``WAD/s`` and ``WAD/year`` per year, 0/1 for ``flag``)."""
    if unit in ("s", "flag", "mode"):
        return int(round(x))
    return int(round(x * WAD))


def _knob_vectors(vectors: dict[str, tuple[int, ...]], vault: tuple[int, ...], knobs: dict[str, Any],
                  assets: tuple[str, ...]) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    """Apply named knobs: an entry of ``spec.ORACLE`` to the oracle vectors of ``assets`` (a value)
    or of the symbols named (``{symbol: value}``, any symbol of ``vectors``), an entry of ``spec.VAULT`` to the vault vector; ``horizon_h``
    is the oracle ``horizon`` in hours. Raises KeyError naming an unknown knob and the known ones."""
    out = {s: list(v) for s, v in vectors.items()}
    vlt = list(vault)
    for name, val in knobs.items():
        if name == "horizon_h":
            name, val = "horizon", ({s: 3600.0 * x for s, x in val.items()} if isinstance(val, dict) else 3600.0 * val)
        if name in S.ORACLE.names:
            row = S.ORACLE[name]
            targets = tuple(val) if isinstance(val, dict) else assets
            for s in targets:
                if s not in out:
                    raise KeyError(f"knob {name!r}: unknown symbol {s!r}; known: {', '.join(out)}")
                x = val[s] if isinstance(val, dict) else val
                out[s][row.index] = _to_wad_entry(row.unit, float(x))
        elif name in S.VAULT.names:
            row = S.VAULT[name]
            vlt[row.index] = _to_wad_entry(row.unit, float(val))
        else:
            raise KeyError(f"unknown knob {name!r}; known: horizon_h, {', '.join(S.ORACLE.names + S.VAULT.names)}")
    return {s: S.ORACLE.make(v) for s, v in out.items()}, S.VAULT.make(vlt)


def static_grid_point(lt: float) -> dict[str, float]:
    """The static family's knobs at WETH liquidation threshold ``lt`` (fraction):
    LTV = LT - 2.5 points; WBTC scaled to its Aave point (LT x 0.78 / 0.825, LTV x 0.73 / 0.80),
    so that ``lt`` = 0.825 gives Aave's WETH 80/82.5 and WBTC 73/78 exactly."""
    lt = round(lt, 6)
    ltv = round(lt - LT_GAP, 6)
    (aw_ltv, aw_lt), (ab_ltv, ab_lt) = STATIC_LTV_LT["WETH"], STATIC_LTV_LT["WBTC"]
    return {"lt": lt, "ltv": ltv, "lt_wbtc": round(lt * ab_lt / aw_lt, 6), "ltv_wbtc": round(ltv * ab_ltv / aw_ltv, 6)}


def make_policy_from(family: str, name: str | None = None, **knobs: Any) -> Policy:
    """One policy of ``family`` ("static" or "dynamic") from named knobs (model units).

    * ``static``: ``lt`` and ``ltv`` (WETH), ``lt_wbtc`` and ``ltv_wbtc`` (fractions; the
      ``static`` policy's values where omitted); every other symbol as ``static``. With no
      knobs it equals ``make_policy("static")``.
    * ``dynamic``: base ``dynamic-calibrated``; any ``volmargin.spec.ORACLE`` entry (``z_maint``,
      ``z_init``, ``h_min``, ``horizon`` in seconds or ``horizon_h`` in hours, and any entry the
      contracts gain, e.g. an initial floor, by its spec name) applies to WETH and WBTC, a
      ``{symbol: value}`` dict to the symbols it names (the toxic assets' floor too); any ``volmargin.spec.VAULT`` entry applies to the vault.

    ``name`` defaults to the family and the knobs. Raises KeyError for an unknown family, knob or symbol,
    ValueError for a static ``ltv`` above ``lt``."""
    if family not in FAMILIES:
        raise KeyError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    label = name or family + "(" + ", ".join(f"{k}={_fmt_knob(v)}" for k, v in knobs.items()) + ")"
    if family == "static":
        base = make_policy("static")
        k = dict(knobs)
        pairs = {"WETH": (k.pop("ltv", STATIC_LTV_LT["WETH"][0]), k.pop("lt", STATIC_LTV_LT["WETH"][1])),
                 "WBTC": (k.pop("ltv_wbtc", STATIC_LTV_LT["WBTC"][0]), k.pop("lt_wbtc", STATIC_LTV_LT["WBTC"][1]))}
        vec = dict(base.oracle)
        for s, (ltv, lt) in pairs.items():
            if ltv > lt:
                raise ValueError(f"{s}: LTV {ltv} above LT {lt}")
            vec[s] = _static_vector(float(ltv), float(lt))
        vec, vault = _knob_vectors(vec, base.vault, k, KNOB_ASSETS)
        return Policy(label, f"static family: WETH {pairs['WETH'][0]:.3f}/{pairs['WETH'][1]:.3f}, "
                      f"WBTC {pairs['WBTC'][0]:.3f}/{pairs['WBTC'][1]:.3f}", vec, vault)
    base = make_policy("dynamic-calibrated")
    vec, vault = _knob_vectors(dict(base.oracle), base.vault, knobs, KNOB_ASSETS)
    return Policy(label, "dynamic family (dynamic-calibrated base) with knobs on WETH and WBTC", vec, vault)


def _fmt_knob(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ",".join(f"{s}:{x:g}" for s, x in v.items()) + "}"
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)
