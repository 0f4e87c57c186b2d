"""Vectorized float64 model of the risk engine, for simulations at scale (DESIGN §9).

The same formulas as ``volmargin.reference`` (and so as the contracts), in
floating point over arrays: prices in USD, haircuts and returns as fractions,
variances per second, times in seconds, balances in whole tokens (signed).
Written against the array API subset that NumPy and CuPy share (pass
``xp=cupy`` to run on a GPU).

Agreement with the exact reference (tested in tests/unitary/test_model.py):

============================  ======================================
quantity                      tolerance
============================  ======================================
EWMA variance, sigma          relative 1e-9, absolute 2e-18 per s (two wei)
haircuts (h_maint, h_init)    absolute 1e-12 for one evaluation, 1e-9 along a 200-step path
health sums (USD)             relative 1e-9, absolute 1e-9 USD
breaker state                 equal, except where |r| is within 1e-9 of the jump threshold
============================  ======================================

The integer reference floors each division at 1e-18: on a variance of about
2e-8 per second that is a relative 5e-11 per update, which accumulates along
a path; the model carries ~16 significant digits. Over 200 hourly steps the
variances stay within 1e-9 relative and the haircuts within 1e-9 absolute.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from . import reference as ref

WAD = float(ref.WAD)
YEAR = float(ref.SECONDS_PER_YEAR)
NORMAL, CAUTION, REDUCE_ONLY = ref.NORMAL, ref.CAUTION, ref.REDUCE_ONLY


def abs_return(p0: Any, p: Any, xp: ModuleType = np) -> Any:
    """|p - p0| / p0."""
    return xp.abs(p - p0) / p0


def ewma_var(var: Any, abs_r: Any, dt: Any, tau: Any) -> Any:
    """lam * var + (1 - lam) * r^2 / dt with lam = tau / (tau + dt) (DESIGN §3); per second."""
    lam = tau / (tau + dt)
    return lam * var + (1.0 - lam) * abs_r * abs_r / dt


def sigma(var: Any, horizon: Any, xp: ModuleType = np) -> Any:
    """sqrt(var * horizon): sigma over ``horizon`` seconds (fraction)."""
    return xp.sqrt(var * horizon)


def haircut(h0: Any, z: Any, sig: Any, h_min: Any, h_max: Any, xp: ModuleType = np) -> Any:
    """clamp(h0 + z * sigma, h_min, h_max) (DESIGN §4)."""
    return xp.minimum(xp.maximum(h0 + z * sig, h_min), h_max)


def ramp(current: Any, target: Any, elapsed: Any, up: Any, down: Any, xp: ModuleType = np) -> Any:
    """Haircut in force moved toward ``target`` at most up/down per second (DESIGN §4)."""
    return xp.where(target >= current, xp.minimum(target, current + up * elapsed), xp.maximum(target, current - down * elapsed))


def size_haircut(kappa: Any, depth: Any, value: Any, xp: ModuleType = np) -> Any:
    """kappa * sqrt(value / depth); 0 where kappa or depth is 0 (DESIGN §4)."""
    safe = xp.where(depth > 0, depth, 1.0)
    return xp.where((kappa > 0) & (depth > 0), kappa * xp.sqrt(value / safe), 0.0)


def bonus(assets: Any, liabilities: Any, bonus_min: float, bonus_slope: float, bonus_max: float, xp: ModuleType = np) -> Any:
    """min(bonus_min + bonus_slope * shortfall, bonus_max), shortfall = (L - A) / L (DESIGN §6)."""
    safe = xp.where(liabilities > 0, liabilities, 1.0)
    shortfall = xp.where(liabilities > assets, (liabilities - assets) / safe, 0.0)
    return xp.minimum(bonus_min + bonus_slope * shortfall, bonus_max)


def max_repay(debt: Any, debt_price: Any, hf: Any, close_factor: float, hf_full: float, min_debt_value: float,
              xp: ModuleType = np) -> Any:
    """Close factor of the debt, or all of it below hf_full or when the rest would be dust (DESIGN §6)."""
    cap = debt * close_factor
    full = (hf < hf_full) | ((debt - cap) * debt_price < min_debt_value)
    return xp.where(full, debt, cap)


def seize_amount(repay: Any, debt_price: Any, col_price: Any, bon: Any) -> Any:
    """Collateral (whole tokens) for a repayment: repay * p_debt * (1 + bonus) / p_col."""
    return repay * debt_price * (1.0 + bon) / col_price


def weighted_health(
    balances: Any, prices: Any, h_maint: Any, h_init: Any, kappa: Any, depth: Any, breaker: Any, caution_scale: float,
    xp: ModuleType = np,
) -> tuple[Any, Any, Any, Any]:
    """Weighted sums of many accounts (DESIGN §5), USD.

    Parameters
    ----------
    balances : (accounts, assets) signed whole-token balances.
    prices, h_maint, h_init, kappa, depth, breaker : (assets,) per-asset vectors
        (``h_init`` without the size term, ``depth`` in USD).
    caution_scale : weight of CAUTION collateral in initial health.

    Returns
    -------
    (maint_assets, maint_liabilities, init_assets, init_liabilities), each (accounts,).
    """
    value = xp.abs(balances) * prices
    hi = xp.minimum(h_init + size_haircut(kappa, depth, value, xp), 1.0)
    pos = balances > 0
    neg = balances < 0
    w_asset = xp.where(pos, value, 0.0)
    w_liab = xp.where(neg, value, 0.0)
    scale = xp.where(breaker == CAUTION, caution_scale, 1.0)
    ma = xp.sum(w_asset * xp.maximum(1.0 - h_maint, 0.0), axis=-1)
    ml = xp.sum(w_liab * (1.0 + h_maint), axis=-1)
    ia = xp.sum(w_asset * xp.maximum(1.0 - hi, 0.0) * scale, axis=-1)
    il = xp.sum(w_liab * (1.0 + hi), axis=-1)
    return ma, ml, ia, il


@dataclass
class OracleParams:
    """Per-asset oracle parameters as float arrays of shape (assets,), in model units
    (seconds, fractions, variance per second, USD), built from the contracts' WAD vectors."""

    heartbeat: Any
    grace: Any
    tau_fast: Any
    tau_slow: Any
    horizon: Any
    z_maint: Any
    z_init: Any
    h0: Any
    h_min: Any
    h_max: Any
    ramp_up: Any
    ramp_down: Any
    var_min: Any
    var_max: Any
    k_jump: Any
    r_floor: Any
    cooldown: Any
    sigma_caution: Any
    kappa: Any
    depth: Any

    @classmethod
    def from_wad(cls, vectors: list[tuple[int, ...]] | list[list[int]], xp: ModuleType = np) -> "OracleParams":
        """From RiskOracle parameter vectors (one per asset, P_* order)."""
        a = np.asarray(vectors, dtype=object)
        seconds = {ref.P_HEARTBEAT, ref.P_GRACE, ref.P_TAU_FAST, ref.P_TAU_SLOW, ref.P_HORIZON, ref.P_COOLDOWN}
        cols = []
        for k in range(20):
            col = np.array([float(int(x)) for x in a[:, k]])
            cols.append(xp.asarray(col if k in seconds else col / WAD))
        return cls(*cols)


class OracleModel:
    """RiskOracle over many assets at once: one ``step`` applies one new valid round to every asset
    (same order as RiskOracle._poke: jump check on the pre-update variance, EWMA update and
    clamp, ramp of the haircut in force under the old target, retarget, breaker)."""

    def __init__(self, params: OracleParams, prices: Any, var_seed: Any, now: float, xp: ModuleType = np) -> None:
        self.p, self.xp = params, xp
        var = xp.minimum(xp.maximum(xp.asarray(var_seed, dtype=xp.float64), params.var_min), params.var_max)
        self.price = xp.asarray(prices, dtype=xp.float64)
        self.var_fast = var
        self.var_slow = xp.array(var, copy=True)
        self.updated_at = xp.full(self.price.shape, float(now))
        h = self._target(var)
        self.h_maint = h
        self.h_target = xp.array(h, copy=True)
        self.h_time = xp.full(self.price.shape, float(now))
        self.breaker = xp.zeros(self.price.shape, dtype=xp.int64)
        self.tripped_at = xp.zeros(self.price.shape)

    def _target(self, var: Any) -> Any:
        p, xp = self.p, self.xp
        return haircut(p.h0, p.z_maint, sigma(var, p.horizon, xp), p.h_min, p.h_max, xp)

    def h_init(self) -> Any:
        """Initial haircut without the size term, (assets,)."""
        p, xp = self.p, self.xp
        return haircut(p.h0, p.z_init, sigma(xp.maximum(self.var_fast, self.var_slow), p.horizon, xp), p.h_min, p.h_max, xp)

    def h_maint_now(self, now: float) -> Any:
        """Haircut in force at ``now`` (ramped lazily), (assets,)."""
        p = self.p
        return ramp(self.h_maint, self.h_target, now - self.h_time, p.ramp_up, p.ramp_down, self.xp)

    def step(self, prices: Any, now: float) -> Any:
        """A new round of every asset at time ``now`` (s); returns the jump mask (assets,)."""
        p, xp = self.p, self.xp
        prices = xp.asarray(prices, dtype=xp.float64)
        dt = now - self.updated_at
        r = abs_return(self.price, prices, xp)
        var = xp.maximum(self.var_fast, self.var_slow)
        jump = r > p.k_jump * sigma(var, dt, xp) + p.r_floor
        self.var_fast = xp.minimum(xp.maximum(ewma_var(self.var_fast, r, dt, p.tau_fast), p.var_min), p.var_max)
        self.var_slow = xp.minimum(xp.maximum(ewma_var(self.var_slow, r, dt, p.tau_slow), p.var_min), p.var_max)
        self.price = prices
        self.updated_at = xp.full(prices.shape, float(now))
        self.h_maint = ramp(self.h_maint, self.h_target, now - self.h_time, p.ramp_up, p.ramp_down, xp)
        self.h_time = xp.full(prices.shape, float(now))
        var = xp.maximum(self.var_fast, self.var_slow)
        self.h_target = self._target(var)
        # breaker (valid rounds only)
        self.tripped_at = xp.where(jump, float(now), self.tripped_at)
        may_leave = (self.breaker != REDUCE_ONLY) | (now >= self.tripped_at + p.cooldown)
        hot = sigma(var, YEAR, xp) > p.sigma_caution
        cooling = (self.tripped_at != 0) & (now < self.tripped_at + 2 * p.cooldown)
        settled = xp.where(hot | cooling, CAUTION, NORMAL)
        self.breaker = xp.where(jump, REDUCE_ONLY, xp.where(may_leave, settled, self.breaker))
        return jump


def health_paths(
    balances: Any,
    price_paths: Any,
    params: OracleParams,
    var_seed: Any,
    dt_s: float,
    caution_scale: float = 0.5,
    chunk: int = 4_096,
    xp: ModuleType = np,
) -> Any:
    """Maintenance health (USD, assets minus liabilities) of every account at every step.

    Parameters
    ----------
    balances : (accounts, assets) signed whole-token balances, held fixed.
    price_paths : (steps, assets) or (paths, steps, assets) USD prices; row 0 is the
        listing price, each later row one new round ``dt_s`` seconds after the previous.
    params : per-asset oracle parameters; ``var_seed`` (assets,) seed variances per second.
    chunk : accounts per block (bounds memory at chunk x steps floats).

    Returns
    -------
    (steps, accounts) or (paths, steps, accounts) float64 health; negative = liquidatable.
    """
    pp = xp.asarray(price_paths, dtype=xp.float64)
    if pp.ndim == 3:
        return xp.stack([health_paths(balances, pp[k], params, var_seed, dt_s, caution_scale, chunk, xp) for k in range(pp.shape[0])])
    steps = pp.shape[0]
    model = OracleModel(params, pp[0], var_seed, 0.0, xp)
    h = xp.empty((steps, pp.shape[1]))
    h[0] = model.h_maint
    for t in range(1, steps):
        model.step(pp[t], t * dt_s)
        h[t] = model.h_maint  # ramped to the step's time by the poke
    # maintenance weights per step: deposits p(1-h), borrows p(1+h)
    w_pos = pp * xp.maximum(1.0 - h, 0.0)
    w_neg = pp * (1.0 + h)
    b = xp.asarray(balances, dtype=xp.float64)
    out = xp.empty((steps, b.shape[0]))
    for k in range(0, b.shape[0], chunk):
        blk = b[k : k + chunk]
        out[:, k : k + chunk] = w_pos @ xp.maximum(blk, 0.0).T + w_neg @ xp.minimum(blk, 0.0).T
    return out
