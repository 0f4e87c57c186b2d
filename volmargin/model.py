"""Vectorized float64 model of the risk engine, for simulations at scale (docs/design.md §9).

The formulas of ``volmargin.reference`` (and so of the contracts) in floating
point over arrays. Units: prices and values in USD, haircuts, returns, rates
and bonuses as fractions (0.1 = 10 %), variances per second, times in
seconds, balances in whole tokens (signed: negative = borrowed). Convert a
WAD integer with ``x / 1e18`` and a token amount with ``amount / 10**decimals``.

Every function takes an ``xp`` array namespace (default NumPy) and uses only
what NumPy and CuPy share (``asarray``, ``where``, ``maximum``, ``minimum``,
``sqrt``, ``abs``, ``sum``, ``matmul``, ``zeros``, ``empty``,
``concatenate``, ``isfinite``), so ``xp=cupy`` runs it on a GPU; a test runs
the whole module through a namespace that exposes only that list.

Agreement with the exact integer reference
-------------------------------------------
"bound" is what tests/unitary/test_model.py asserts on hypothesis draws;
"measured" is the worst error of a seeded sweep,
``python scripts/bench_model.py --tolerance`` (20,000 draws per function,
200 books of 100 accounts, 100 hourly paths of 200 steps over USD/WETH/WBTC
with seed volatilities 2-150 % and 3 % of steps jumping -20 % or +15 %).

==========================  ===========================  ==============================
quantity                    measured (worst)             bound (asserted)
==========================  ===========================  ==============================
abs_return                  abs 5.6e-16                  abs 1e-15 (float cancellation
                                                         in p - p0)
ewma_var (one update)       abs 1.0 wei/s, 0 beyond      rel 1e-12 + (2 + r^2/dt) wei/s
                            the reference's floors       (lam floored to a wei)
sigma                       rel 3.1e-16                  rel 1e-12 + 2 wei
haircut, ramp               abs 3.3e-16                  abs 1e-15
size_haircut                abs 4.2e-14                  abs 1e-13 + rel 1e-12
                                                         (value/depth >= 1e-10)
health sums, one            rel 8.6e-16 of gross value   rel 1e-12 of gross + 1e-12 USD
 evaluation (4 sums)        (gross = sum |v_i|)
bonus, health_factor        abs 1.7e-16, rel 5e-15       rel 1e-12 + 1e-15
max_repay, seize_amount     rel 6e-16 beyond the         rel 1e-12 + 1 token unit
                            reference's floors           + 3 wei USD / price
liquidation (repay, seize)  not in the sweep             as max_repay / seize_amount,
 against VaultRef.liquidate                              seize + the repayment's bound
                                                         in collateral units
borrow_rate, grow_index     rel 1.7e-13, 3.1e-11         rel 1e-12 + 5 wei; rel 1e-12
                                                         + 3 wei * (dt + 2)
OracleModel, 200 steps
  var_fast, var_slow        abs 97 wei/s (rel 2.6e-7     abs (new rounds + 2) wei/s
                            for a 1-2 % vol stablecoin)  + rel 1e-12
  h_maint, h_target         abs 1.2e-9                   abs 1e-7
  breaker, tripped_at       equal (0 of 60,000)          equal
health_paths, 200 steps     rel 1.1e-9 of gross value    rel 1e-7 of gross + 1e-12 USD
==========================  ===========================  ==============================

One evaluation agrees to float64 precision, up to the reference's own
roundings (a wei per division). Along a path the variances are looser: the
integer reference floors the variance to one wei (1e-18 per s) at every
update and the EWMA carries that floor with weight ``lam``, so after ``n``
new rounds it sits up to ``min(n, 1 + tau/dt)`` wei below the exact value;
the model keeps ~16 digits and does not reproduce that floor. Relative to a
variance near a stablecoin's 1 % floor (3e6 wei/s) that is up to 6e-5; the
haircut moves by ``z * sigma_H * dvar / (2 var)`` (5e-8 at worst for the
default parameters, hence the 1e-7 bound) and health along a path by that
times the gross value. Breaker decisions (``r > k_jump * sigma_dt + r_floor``,
``sigma_y > sigma_caution``) can only differ within that relative distance
of a threshold; the tests detect such knife edges on the exact integers (none
occurred) and otherwise compare states exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields, make_dataclass
from types import ModuleType
from typing import Any

import numpy as np

from . import params as P
from . import reference as ref
from . import spec as S

WAD = float(ref.WAD)
YEAR = float(ref.SECONDS_PER_YEAR)
NORMAL, CAUTION, REDUCE_ONLY = ref.NORMAL, ref.CAUTION, ref.REDUCE_ONLY
#: Largest price (USD) and |return| (fraction) the oracle accepts (``ref.MAX_PRICE``,
#: ``ref.MAX_ABS_RETURN``; docs/design.md §7.2).
MAX_PRICE_USD = (ref.MAX_PRICE - 1) / WAD
MAX_ABS_RETURN = ref.MAX_ABS_RETURN / WAD
DEFAULT_CAUTION_SCALE = P.VAULT[ref.V_CAUTION_SCALE] / WAD


def _f(x: Any, xp: ModuleType) -> Any:
    """``x`` as a float64 array of ``xp``."""
    return xp.asarray(x, dtype=xp.float64)


# ----------------------------------------------------------------- risk math


def abs_return(p0: Any, p: Any, xp: ModuleType = np) -> Any:
    """|p - p0| / p0 (``reference.abs_return``)."""
    p0, p = _f(p0, xp), _f(p, xp)
    return xp.abs(p - p0) / p0


def ewma_var(var: Any, abs_r: Any, dt: Any, tau: Any, xp: ModuleType = np) -> Any:
    """lam * var + (1 - lam) * r^2 / dt with lam = tau / (tau + dt), per second (docs/design.md §3)."""
    var, abs_r, dt, tau = _f(var, xp), _f(abs_r, xp), _f(dt, xp), _f(tau, xp)
    # 1 - lam computed as dt / (tau + dt): no cancellation when dt << tau
    return (tau * var + abs_r * abs_r) / (tau + dt)


def sigma(var: Any, horizon: Any, xp: ModuleType = np) -> Any:
    """sqrt(var * horizon): sigma over ``horizon`` seconds (fraction)."""
    return xp.sqrt(_f(var, xp) * horizon)


def haircut(h0: Any, z: Any, sig: Any, h_min: Any, h_max: Any, xp: ModuleType = np) -> Any:
    """clamp(h0 + z * sigma, h_min, h_max) (docs/design.md §4)."""
    return xp.minimum(xp.maximum(_f(h0, xp) + _f(z, xp) * sig, h_min), h_max)


def ramp(current: Any, target: Any, elapsed: Any, up: Any, down: Any, xp: ModuleType = np) -> Any:
    """Haircut in force moved toward ``target`` by at most ``up``/``down`` per second (docs/design.md §4)."""
    current, target, elapsed = _f(current, xp), _f(target, xp), _f(elapsed, xp)
    return xp.where(
        target >= current,
        xp.minimum(target, current + up * elapsed),
        xp.maximum(target, current - down * elapsed),
    )


def size_haircut(kappa: Any, depth: Any, value: Any, xp: ModuleType = np) -> Any:
    """kappa * sqrt(value / depth), ``depth`` in USD; 0 where kappa or depth is 0 (docs/design.md §4)."""
    kappa, depth, value = _f(kappa, xp), _f(depth, xp), _f(value, xp)
    on = (kappa > 0) & (depth > 0)
    return xp.where(on, kappa * xp.sqrt(value / xp.where(on, depth, 1.0)), 0.0)


def concentration_haircut(kappa_agg: Any, depth: Any, total_deposits: Any, xp: ModuleType = np) -> Any:
    """kappa_agg * sqrt(total_deposits / depth): the size term of an asset's *total* deposits
    (USD), added to the initial haircut of every deposit of the asset (docs/design.md §4.3;
    ``reference.concentration_haircut``). Shapes broadcast, e.g. (assets,); 0 where
    ``kappa_agg`` or ``depth`` is 0."""
    return size_haircut(kappa_agg, depth, total_deposits, xp)


def health_factor(assets: Any, liabilities: Any, xp: ModuleType = np) -> Any:
    """assets / liabilities; +inf without debt (the reference's ``UINT256_MAX``)."""
    a, li = _f(assets, xp), _f(liabilities, xp)
    return xp.where(li > 0, a / xp.where(li > 0, li, 1.0), math.inf)


def correlation_bounds(symbols: Sequence[str], bounds: Mapping[tuple[str, str], tuple[float, float]],
                       xp: ModuleType = np) -> tuple[Any, Any]:
    """(rho_lo, rho_hi), each (A, A) over ``symbols``: unit diagonal, each pair of ``bounds``
    (``{(a, b): (lo, hi)}``, fractions) in both triangles, every other pair (-1, +1), no offset
    (docs/design.md §5.6); pairs naming a symbol outside ``symbols`` are dropped."""
    A = len(symbols)
    lo, hi = -np.ones((A, A)), np.ones((A, A))
    np.fill_diagonal(lo, 1.0)
    for (a, b), (x_lo, x_hi) in bounds.items():
        if a in symbols and b in symbols:
            i, j = symbols.index(a), symbols.index(b)
            lo[i, j] = lo[j, i] = x_lo
            hi[i, j] = hi[j, i] = x_hi
    return xp.asarray(lo), xp.asarray(hi)


def portfolio_scale(u_pos: Any, u_neg: Any, rho_lo: Any, rho_hi: Any, floor: float, xp: ModuleType = np) -> Any:
    """Portfolio scale ``lambda = R / S`` of each account's haircuts (docs/design.md §5.6;
    ``reference.portfolio.portfolio_scales``, exact there, float64 here).

    With per-asset requirements ``u+`` (deposits) and ``u-`` (borrows), value times haircut,
    and their sum ``S``: ``R^2 = u+' rho_hi u+ + u-' rho_hi u- - 2 u+' rho_lo u-`` (the upper
    correlation bound joins same-signed legs, the lower one opposite-signed legs), and
    ``lambda = clamp(sqrt(max(R^2, 0)) / S, floor, 1)``; 1 where ``S`` is 0. Computed on the
    shares ``u / S``, so no square over- or underflows.

    u_pos, u_neg : (..., assets) USD (>= 0; at most one of the two non-zero per asset).
    rho_lo, rho_hi : (assets, assets) symmetric, unit diagonal, -1 <= rho_lo <= rho_hi <= 1;
        a pair at (-1, +1) has no offset (a book of such pairs gets lambda = 1 exactly).
    floor : the least lambda, in (0, 1] (1: portfolio margin off).
    Returns (...,) float64."""
    up, un = _f(u_pos, xp), _f(u_neg, xp)
    lo, hi = _f(rho_lo, xp), _f(rho_hi, xp)
    total = (up + un).sum(axis=-1)
    d = xp.where(total > 0, total, 1.0)[..., None]
    xpos, xneg = up / d, un / d
    q = (xp.einsum("...a,ab,...b->...", xpos, hi, xpos) + xp.einsum("...a,ab,...b->...", xneg, hi, xneg)
         - 2.0 * xp.einsum("...a,ab,...b->...", xpos, lo, xneg))
    lam = xp.where(total > 0, xp.sqrt(xp.maximum(q, 0.0)), 1.0)
    return xp.clip(lam, float(floor), 1.0)


def weighted_health(
    balances: Any,
    prices: Any,
    h_maint: Any,
    h_init: Any,
    kappa: Any,
    depth: Any,
    breaker: Any = None,
    caution_scale: float = DEFAULT_CAUTION_SCALE,
    xp: ModuleType = np,
    *,
    kappa_agg: Any = None,
    total_deposits: Any = None,
    portfolio: tuple[Any, Any, float] | None = None,
) -> tuple[Any, Any, Any, Any]:
    """Weighted sums of many accounts at once (docs/design.md §5; ``VaultRef.health``), USD.

    Parameters
    ----------
    balances : (accounts, assets) signed balances in whole tokens (no decimals).
    prices, h_maint, h_init, kappa, depth : (assets,) USD price, haircut in force,
        initial haircut *without* the size term, size coefficient and depth (USD).
    breaker : (assets,) breaker states or None (all NORMAL); deposits of a CAUTION
        asset count ``caution_scale`` times in the initial sums.
    kappa_agg : (assets,) concentration coefficients, or None (no concentration term):
        every deposit's initial haircut adds ``concentration_haircut(kappa_agg, depth,
        total_deposits)`` (docs/design.md §4.3).
    total_deposits : (assets,) the vault's total deposits of each asset, USD; None: the
        deposits of ``balances`` (the book is the whole vault).
    portfolio : (rho_lo, rho_hi, floor) of the oracle's portfolio margin (docs/design.md
        §5.6; ``portfolio_scale``), or None (off): each account's maintenance and initial
        haircuts are scaled by the ``portfolio_scale`` of its own requirements.

    Returns
    -------
    (maint_assets, maint_liabilities, init_assets, init_liabilities), each (accounts,).
    health_maint = maint_assets - maint_liabilities; liquidatable iff < 0.
    """
    b = _f(balances, xp)
    prices, h_maint, h_init = _f(prices, xp), _f(h_maint, xp), _f(h_init, xp)
    dep = xp.maximum(b, 0.0) * prices  # deposit values
    bor = xp.maximum(-b, 0.0) * prices  # borrow values
    # the size term depends on each position's value: elementwise
    size = size_haircut(kappa, depth, dep + bor, xp)
    hi = xp.minimum(h_init + size, 1.0)
    hd = hi  # deposits' initial haircut
    if kappa_agg is not None:
        total = xp.sum(dep, axis=0) if total_deposits is None else _f(total_deposits, xp)
        hd = xp.minimum(h_init + size + concentration_haircut(kappa_agg, depth, total, xp), 1.0)
    if portfolio is not None:
        lo, up, floor = portfolio
        lam_m = portfolio_scale(dep * h_maint, bor * h_maint, lo, up, floor, xp)[..., None]
        lam_i = portfolio_scale(dep * hd, bor * hi, lo, up, floor, xp)[..., None]
        h_maint, hi, hd = h_maint * lam_m, hi * lam_i, hd * lam_i
    ma = xp.sum(dep * xp.maximum(1.0 - h_maint, 0.0), axis=-1)
    ml = xp.sum(bor * (1.0 + h_maint), axis=-1)
    w_init = xp.maximum(1.0 - hd, 0.0)
    if breaker is not None:
        w_init = w_init * xp.where(xp.asarray(breaker) == CAUTION, float(caution_scale), 1.0)
    ia = xp.sum(dep * w_init, axis=-1)
    il = xp.sum(bor * (1.0 + hi), axis=-1)
    return ma, ml, ia, il


def bonus(assets: Any, liabilities: Any, bonus_min: Any, bonus_slope: Any, bonus_max: Any, xp: ModuleType = np) -> Any:
    """min(bonus_min + bonus_slope * shortfall, bonus_max), shortfall = (L - A) / L (docs/design.md §6)."""
    a, li = _f(assets, xp), _f(liabilities, xp)
    short = xp.where(li > a, (li - a) / xp.where(li > 0, li, 1.0), 0.0)
    return xp.minimum(bonus_min + bonus_slope * short, bonus_max)


def max_repay(
    debt: Any, debt_price: Any, hf: Any, close_factor: Any, hf_full: Any, min_debt_value: Any, xp: ModuleType = np
) -> Any:
    """Largest repayment of one debt (whole tokens): ``close_factor`` of it, or all of it
    when ``hf < hf_full`` or when the rest would be worth less than ``min_debt_value`` USD."""
    debt, hf = _f(debt, xp), _f(hf, xp)
    cap = debt * close_factor
    full = (hf < hf_full) | ((debt - cap) * debt_price < min_debt_value)
    return xp.where(full, debt, cap)


def seize_amount(repay: Any, debt_price: Any, col_price: Any, bon: Any, xp: ModuleType = np) -> Any:
    """Collateral (whole tokens) bought by a repayment: repay * p_debt * (1 + bonus) / p_col."""
    return _f(repay, xp) * debt_price * (1.0 + _f(bon, xp)) / col_price


def repay_for_seize(seize: Any, debt_price: Any, col_price: Any, bon: Any, xp: ModuleType = np) -> Any:
    """Repayment (whole debt tokens) that buys ``seize`` collateral: inverse of ``seize_amount``."""
    return _f(seize, xp) * col_price / (1.0 + _f(bon, xp)) / debt_price


def liquidation(
    debt: Any,
    collateral: Any,
    debt_price: Any,
    col_price: Any,
    maint_assets: Any,
    maint_liabilities: Any,
    close_factor: Any,
    hf_full: Any,
    min_debt_value: Any,
    bonus_min: Any,
    bonus_slope: Any,
    bonus_max: Any,
    xp: ModuleType = np,
) -> tuple[Any, Any, Any]:
    """The largest liquidation of one debt against one collateral (docs/design.md §6;
    ``VaultRef._liquidate`` with the liquidator asking for the maximum).

    The repayment is ``max_repay`` at the health factor ``maint_assets / maint_liabilities``,
    the bonus ``bonus`` of the same sums, the collateral seized ``seize_amount`` of that
    repayment; when it exceeds the collateral held, the whole collateral is seized and the
    repayment cut to ``repay_for_seize`` of it. The seizure includes the insurance cut.

    Parameters
    ----------
    debt, collateral : (...) the account's debt and collateral balances, whole tokens (>= 0).
    debt_price, col_price : (...) oracle prices, USD per whole token (> 0).
    maint_assets, maint_liabilities : (...) the account's maintenance sums, USD.
    close_factor, hf_full, bonus_min, bonus_slope, bonus_max : vault parameters, fractions.
    min_debt_value : USD; a rest of debt worth less is repaid in full.

    Returns
    -------
    (repay, seize, bonus), broadcast shape: repayment in debt tokens, seizure in collateral
    tokens, bonus a fraction. Raises nothing; a zero debt gives a zero repayment.
    """
    hf = health_factor(maint_assets, maint_liabilities, xp)
    repay = max_repay(debt, debt_price, hf, close_factor, hf_full, min_debt_value, xp)
    bon = bonus(maint_assets, maint_liabilities, bonus_min, bonus_slope, bonus_max, xp)
    seize = seize_amount(repay, debt_price, col_price, bon, xp)
    col = _f(collateral, xp)
    capped = seize > col
    repay = xp.where(capped, xp.minimum(repay, repay_for_seize(col, debt_price, col_price, bon, xp)), repay)
    return repay, xp.where(capped, col, seize), bon


def utilization(deposits: Any, borrows: Any, xp: ModuleType = np) -> Any:
    """borrows / deposits capped at 1; 0 without deposits."""
    d, b = _f(deposits, xp), _f(borrows, xp)
    return xp.where(d > 0, xp.minimum(b / xp.where(d > 0, d, 1.0), 1.0), 0.0)


def borrow_rate(u: Any, base: Any, slope1: Any, slope2: Any, kink: Any, xp: ModuleType = np) -> Any:
    """Kinked rate per year: base + slope1 min(u, kink)/kink + slope2 max(u - kink, 0)/(1 - kink)."""
    u = _f(u, xp)
    return base + slope1 * xp.minimum(u, kink) / kink + slope2 * xp.maximum(u - kink, 0.0) / (1.0 - kink)


def grow_index(index: Any, rate_per_year: Any, dt: Any, xp: ModuleType = np) -> Any:
    """index * (1 + rate * dt / year): one accrual of ``dt`` seconds (simple, as the contract)."""
    return _f(index, xp) * (1.0 + _f(rate_per_year, xp) / YEAR * dt)


# ------------------------------------------------------------------ oracle


class _OracleParamsMethods:
    """Methods of ``OracleParams`` (its fields are generated from ``spec.ORACLE``)."""

    #: Indices of the entries kept as they are (seconds, unit "s", and choices, unit "mode"); every
    #: other entry is WAD and divided by 1e18.
    _UNSCALED = frozenset(r.index for r in S.ORACLE if r.unit in ("s", "mode"))

    @classmethod
    def from_wad(cls, vectors: Any, xp: ModuleType = np) -> Any:
        """From RiskOracle parameter vectors (one per asset, ``P_*`` order, WAD / seconds): an
        ``OracleParams`` of float arrays of shape (assets,). Raises ValueError for a vector
        whose length is not ``len(spec.ORACLE)``."""
        rows = [[int(x) for x in v] for v in vectors]
        if any(len(r) != len(S.ORACLE) for r in rows):
            raise ValueError(f"an oracle parameter vector has {len(S.ORACLE)} entries")
        cols = []
        for k in range(len(S.ORACLE)):
            col = np.array([float(r[k]) if k in cls._UNSCALED else r[k] / WAD for r in rows])
            cols.append(xp.asarray(col, dtype=xp.float64))
        return cls(*cols)

    @property
    def n_assets(self) -> int:
        """Number of assets (length of every array)."""
        return int(getattr(self, S.ORACLE.names[0]).shape[0])

    def to(self, xp: ModuleType) -> Any:
        """The same parameters as arrays of another namespace (e.g. ``cupy``)."""
        return type(self)(*(xp.asarray(getattr(self, f.name), dtype=xp.float64) for f in fields(self)))


#: Per-asset RiskOracle parameters as float arrays of shape (assets,), in model units (seconds;
#: fractions; variances per second; ``ramp_*`` per second; ``depth`` USD): one field per entry
#: of ``spec.ORACLE``, in index order (``heartbeat``, ``grace``, ... ``depth``).
OracleParams: Any = make_dataclass(
    "OracleParams",
    [(name, Any) for name in S.ORACLE.names],
    bases=(_OracleParamsMethods,),
    namespace={
        "__module__": __name__,
        "__doc__": "Per-asset RiskOracle parameters as float arrays of shape (assets,), in model units "
        "(seconds; fractions; variances per second; ``ramp_*`` per second; ``depth`` USD); fields: spec.ORACLE.",
    },
)


class OracleModel:
    """RiskOracle over many assets (and optionally many paths) at once.

    State arrays have the shape of the listing prices: (assets,), or
    (paths, assets) to run many scenarios side by side; parameters broadcast
    over the last axis. ``step`` applies one feed answer to every asset in the
    order of ``RiskOracle._poke`` / ``OracleRef.poke``:

    1. validity: price > 0, finite and at most ``MAX_PRICE_USD``, ``0 < updated_at
       <= now``, not stale (``now - updated_at <= heartbeat + grace``) and, for a new
       round, ``|r| <= MAX_ABS_RETURN``; an invalid answer marks the asset invalid,
       trips it to REDUCE_ONLY and changes nothing else;
    2. a new round (``updated_at`` after the last accepted one): jump check
       ``|r| > k_jump * sigma_dt + r_floor`` on the pre-update variance, the
       drawdown check (``dd_trip > 0``: the reference ``ref_price``/``ref_time``
       moves to the round when unset or ``dd_window`` old, the round trips when
       ``|p - ref_price| / ref_price > dd_trip`` and then becomes the reference),
       then both EWMA updates with ``lam = tau / (tau + dt)``, clamped to
       ``[var_min, var_max]``; an old round skips this step;
    3. the haircut in force is ramped to ``now`` under the old target, then the
       target is recomputed from ``max(var_fast, var_slow)``;
    4. breaker: a jump or a drawdown trips (REDUCE_ONLY, ``tripped_at = now``); otherwise, unless
       tripped and still cooling down, CAUTION if ``sigma_y > sigma_caution`` or a
       trip is less than two cooldowns old, else NORMAL.

    A risk keeper's forecast volatility (docs/design.md §3.7) enters through ``push_forecast``
    (``OracleRef.push_forecast``): while one is live the haircut targets use ``_sigma_h``; a valid
    step at or after ``f_ttl`` past the push (or with ``f_mode`` 0) clears it before retargeting.
    """

    def __init__(
        self, params: OracleParams, prices: Any, var_seed: Any, now: float, xp: ModuleType = np
    ) -> None:
        """List every asset at ``now`` with feed answers ``prices`` updated at ``now``
        and seed variances ``var_seed`` (per second), as ``OracleRef.list_asset``."""
        self.p, self.xp = params, xp
        price = _f(prices, xp)
        zeros = xp.zeros(price.shape, dtype=xp.float64)
        var = xp.minimum(xp.maximum(zeros + _f(var_seed, xp), params.var_min), params.var_max)
        self.price = price + zeros
        self.updated_at = zeros + float(now)
        self.var_fast = var
        self.var_slow = var + 0.0
        self.f_sigma = zeros + 0.0  # the live push, annual sigma (fraction per year)
        self.f_time = zeros + 0.0  # its time (s; 0: never pushed)
        self.f_live = xp.zeros(price.shape, dtype=bool)
        self._pushed = False  # any push accepted yet (skips the forecast arithmetic until then)
        self.h_maint = self._target(var)
        self.h_target = self.h_maint + 0.0
        self.h_time = zeros + float(now)
        self.breaker = xp.zeros(price.shape, dtype=xp.int64)
        self.tripped_at = zeros + 0.0
        self.invalid = xp.zeros(price.shape, dtype=bool)
        self.ref_price = zeros + 0.0  # drawdown reference (USD; 0: none yet)
        self.ref_time = zeros + 0.0  # its feed time (s)

    def _drawdown(self, new: Any, prices: Any, times: Any) -> Any:
        """The drawdown test of the new rounds ``new`` (``OracleRef._drawdown``, docs/design.md
        §7.8); moves ``ref_price``/``ref_time`` and returns where it trips (off where dd_trip is 0)."""
        p, xp = self.p, self.xp
        on = new & (_f(p.dd_trip, xp) > 0)
        move = on & ((self.ref_price == 0) | (times - self.ref_time >= p.dd_window))
        rp = xp.where(move, prices, self.ref_price)
        rt = xp.where(move, times, self.ref_time)
        tripped = on & (abs_return(xp.where(on, rp, 1.0), xp.where(on, prices, 1.0), xp) > p.dd_trip)
        self.ref_price = xp.where(tripped, prices, rp)
        self.ref_time = xp.where(tripped, times, rt)
        return tripped

    def _sigma_h(self, var: Any) -> Any:
        """Sigma over the horizon that the haircuts use (``OracleRef._sigma_h``, docs/design.md
        §3.7): the realized one, or where a forecast is live (and ``f_mode`` != 0) the pushed
        sigma's variance clamped to [var_min, var_max] over the horizon, clipped to
        [f_lo, f_hi] times the realized one and entered by ``f_mode`` (1 replace, 2 max, 3 blend)."""
        p, xp = self.p, self.xp
        sr = sigma(var, p.horizon, xp)
        if not self._pushed:  # no push ever: the realized sigma (no forecast arithmetic)
            return sr
        mode = _f(p.f_mode, xp) + xp.zeros(sr.shape, dtype=xp.float64)
        vf = xp.minimum(xp.maximum(self.f_sigma * self.f_sigma / YEAR, p.var_min), p.var_max)
        f = xp.minimum(xp.maximum(sigma(vf, p.horizon, xp), p.f_lo * sr), p.f_hi * sr)
        mixed = xp.where(mode == 1, f, xp.where(mode == 2, xp.maximum(sr, f), 0.5 * (sr + f)))
        return xp.where(self.f_live & (mode != 0), mixed, sr)

    def _target(self, var: Any) -> Any:
        p, xp = self.p, self.xp
        return haircut(p.h0, p.z_maint, self._sigma_h(var), p.h_min, p.h_max, xp)

    def forecast_box(self, now: float) -> tuple[Any, Any]:
        """(lo, hi), state-shaped, fractions per year: the pushes ``push_forecast`` accepts at
        ``now`` (``volmargin.chain.risk_keeper.plan_push``'s box): [f_lo, f_hi] times the realized
        annual sigma, narrowed to within ``f_step`` of a live push. A keeper clamps its forecast
        into it; lo > hi where none fits."""
        p, xp = self.p, self.xp
        sr = sigma(self.var, YEAR, xp)
        live = self.f_live & (now < self.f_time + p.f_ttl)
        lo, hi = p.f_lo * sr, p.f_hi * sr
        d = p.f_step * self.f_sigma
        return xp.where(live, xp.maximum(lo, self.f_sigma - d), lo), xp.where(live, xp.minimum(hi, self.f_sigma + d), hi)

    def push_forecast(self, sigma_annual: Any, now: float) -> Any:
        """A risk keeper's push of ``sigma_annual`` (fraction per year, state-shaped; NaN: no
        push for that asset) at ``now`` (s), as ``OracleRef.push_forecast``: accepted where the
        mode is on, a heartbeat has passed since the last push, the value lies within [f_lo, f_hi]
        times the realized annual sigma and, while a push is live, within ``f_step`` of it; there
        the maintenance haircut is ramped to ``now`` and both targets retargeted. Returns the
        accepted mask; elsewhere nothing changes."""
        p, xp = self.p, self.xp
        s = _f(sigma_annual, xp) + xp.zeros(self.price.shape, dtype=xp.float64)
        lo, hi = self.forecast_box(now)  # the multiples of the realized sigma and the step from a live push
        ok = xp.isfinite(s) & (_f(p.f_mode, xp) != 0) & (now - self.f_time >= p.heartbeat) & (lo <= s) & (s <= hi)
        self.h_maint = xp.where(ok, self.h_maint_now(now), self.h_maint)
        self.h_time = xp.where(ok, float(now), self.h_time)
        self.f_sigma = xp.where(ok, s, self.f_sigma)
        self.f_time = xp.where(ok, float(now), self.f_time)
        self.f_live = self.f_live | ok
        self._pushed = True
        self.h_target = xp.where(ok, self._target(self.var), self.h_target)
        return ok

    @property
    def var(self) -> Any:
        """max(var_fast, var_slow), per second."""
        return self.xp.maximum(self.var_fast, self.var_slow)

    def sigma_annual(self) -> Any:
        """Annualized sigma (display and CAUTION regime)."""
        return sigma(self.var, YEAR, self.xp)

    def h_init(self) -> Any:
        """The initial-haircut formula without the size term, the oracle's cached ``h_init``
        (``OracleRef.h_init``), fraction, state-shaped. The one in force is ``h_init_now``."""
        p, xp = self.p, self.xp
        floor = xp.maximum(_f(p.h_min, xp), _f(p.h_min_init, xp))
        return haircut(p.h0, p.z_init, self._sigma_h(self.var), floor, p.h_max, xp)

    def h_init_now(self, now: Any) -> Any:
        """Initial haircut in force at ``now`` (s, scalar or state-shaped) without the size
        term, fraction, state-shaped: ``h_init``, or the maintenance haircut in force where
        that is higher (``OracleRef.h_init_now``, ``RiskOracle.risk``; docs/design.md §4.3)."""
        return self.xp.maximum(self.h_init(), self.h_maint_now(now))

    def h_maint_now(self, now: Any) -> Any:
        """Maintenance haircut in force at ``now``, ramped lazily (``OracleRef.h_maint_now``)."""
        p = self.p
        return ramp(self.h_maint, self.h_target, now - self.h_time, p.ramp_up, p.ramp_down, self.xp)

    @property
    def n_tripped(self) -> int:
        """Assets in REDUCE_ONLY (``OracleRef.n_tripped``)."""
        return int(self.xp.sum(self.breaker == REDUCE_ONLY))

    def step(self, prices: Any, times: Any, now: Any = None) -> Any:
        """Apply one feed answer per asset.

        Parameters
        ----------
        prices : state-shaped USD answers (NaN or <= 0 = invalid answer).
        times : the answers' ``updatedAt`` (s), scalar or state-shaped.
        now : time of the poke (s), default ``times`` (a poke right at the update).

        Returns
        -------
        bool array, True where the asset tripped (jump, drawdown or invalid answer).
        """
        p, xp = self.p, self.xp
        prices = _f(prices, xp)
        times = _f(times, xp) + xp.zeros(prices.shape, dtype=xp.float64)
        now = times if now is None else _f(now, xp) + xp.zeros(prices.shape, dtype=xp.float64)
        valid = (
            (prices > 0)
            & xp.isfinite(prices)
            & (prices <= MAX_PRICE_USD)
            & (times > 0)
            & (times <= now)
            & (now - times <= p.heartbeat + p.grace)
        )
        new = valid & (times > self.updated_at)
        r = abs_return(self.price, xp.where(new, prices, self.price), xp)
        valid = valid & ~(new & (r > MAX_ABS_RETURN))
        new = new & valid
        r = xp.where(new, r, 0.0)
        dt = xp.where(new, times - self.updated_at, 1.0)
        jump = new & (r > p.k_jump * sigma(self.var, dt, xp) + p.r_floor)
        drawdown = self._drawdown(new, prices, times)
        vf = xp.minimum(xp.maximum(ewma_var(self.var_fast, r, dt, p.tau_fast, xp), p.var_min), p.var_max)
        vs = xp.minimum(xp.maximum(ewma_var(self.var_slow, r, dt, p.tau_slow, xp), p.var_min), p.var_max)
        self.var_fast = xp.where(new, vf, self.var_fast)
        self.var_slow = xp.where(new, vs, self.var_slow)
        self.price = xp.where(new, prices, self.price)
        self.updated_at = xp.where(new, times, self.updated_at)
        self.invalid = ~valid
        ramped = ramp(self.h_maint, self.h_target, now - self.h_time, p.ramp_up, p.ramp_down, xp)
        self.h_maint = xp.where(valid, ramped, self.h_maint)
        self.h_time = xp.where(valid, now, self.h_time)
        expired = valid & self.f_live & ((_f(p.f_mode, xp) == 0) | (now >= self.f_time + p.f_ttl))
        self.f_live = self.f_live & ~expired
        var = self.var
        self.h_target = xp.where(valid, self._target(var), self.h_target)
        trip = jump | drawdown | ~valid
        may_leave = (self.breaker != REDUCE_ONLY) | (now >= self.tripped_at + p.cooldown)
        hot = sigma(var, YEAR, xp) > p.sigma_caution
        cooling = (self.tripped_at != 0) & (now < self.tripped_at + 2.0 * p.cooldown)
        settled = xp.where(hot | cooling, CAUTION, NORMAL)
        self.breaker = xp.where(trip, REDUCE_ONLY, xp.where(may_leave, settled, self.breaker)).astype(xp.int64)
        self.tripped_at = xp.where(trip, now, self.tripped_at)
        return trip


# ---------------------------------------------------------------- simulation


def maint_weights(prices: Any, h_maint: Any, xp: ModuleType = np) -> Any:
    """Per-step maintenance weights (..., 2 * assets): deposits count p (1 - h), borrows p (1 + h).

    ``health = concat(max(b, 0), min(b, 0)) @ weights`` for a balance row ``b``.
    ``prices`` are USD per whole token, (..., assets) broadcasting with ``h_maint``; given
    positions' USD values instead, the halves are their weighted values (USD), rounded as
    ``weighted_health`` and the reference (value first, then weight).
    """
    prices, h = _f(prices, xp), _f(h_maint, xp)
    return xp.concatenate([prices * xp.maximum(1.0 - h, 0.0), prices * (1.0 + h)], axis=-1)


def oracle_paths(
    price_paths: Any,
    params: OracleParams,
    var_seed: Any,
    dt_s: float = 3_600.0,
    times: Any = None,
    t0: float = 0.0,
    xp: ModuleType = np,
) -> tuple[Any, Any, Any]:
    """Run ``OracleModel`` along price paths: row 0 lists, each later row is one round.

    ``price_paths``: (steps, assets) or (paths, steps, assets); row ``t`` is
    answered and poked at ``times[t]`` (default ``t0 + t * dt_s``). All paths
    advance together, one vectorized step per row.

    Returns (prices, h_maint, breaker) as the oracle reports them after each
    row, each shaped like ``price_paths`` (an invalid answer keeps the last
    accepted price).
    """
    pp = _f(price_paths, xp)
    if pp.ndim not in (2, 3):
        raise ValueError("price_paths must be (steps, assets) or (paths, steps, assets)")
    steps = pp.shape[-2]
    if times is None:
        t = [t0 + k * float(dt_s) for k in range(steps)]
    else:
        t = [float(x) for x in times]  # a list, NumPy or CuPy vector
        if len(t) != steps:
            raise ValueError("times must have one entry per step")
    model = OracleModel(params, pp[..., 0, :], var_seed, t[0], xp)
    price = xp.empty(pp.shape, dtype=xp.float64)
    h = xp.empty(pp.shape, dtype=xp.float64)
    brk = xp.empty(pp.shape, dtype=xp.int64)
    price[..., 0, :], h[..., 0, :], brk[..., 0, :] = model.price, model.h_maint, model.breaker
    for k in range(1, steps):
        model.step(pp[..., k, :], t[k])
        price[..., k, :], h[..., k, :], brk[..., k, :] = model.price, model.h_maint, model.breaker
    return price, h, brk


def health_paths(
    balances: Any,
    price_paths: Any,
    params: OracleParams,
    var_seed: Any,
    dt_s: float = 3_600.0,
    *,
    times: Any = None,
    t0: float = 0.0,
    chunk: int = 256,
    out: Any = None,
    xp: ModuleType = np,
) -> Any:
    """Maintenance health (USD, weighted assets minus weighted liabilities) of every
    account at every step of every path; negative = liquidatable.

    Parameters
    ----------
    balances : (accounts, assets) signed balances in whole tokens, held fixed.
    price_paths : (steps, assets) or (paths, steps, assets) USD feed answers; row 0
        lists the assets, each later row is one new round ``dt_s`` seconds later
        (or at ``times[t]``), poked at once (see ``oracle_paths``).
    params, var_seed : per-asset oracle parameters and seed variances (per second).
    chunk : rows (path-steps) per matrix product. The work never builds an
        (accounts, steps, assets) array: besides the result it holds the
        (rows, 2 * assets) weights and the (2 * assets, accounts) split balances.
    out : optional preallocated C-contiguous float64 result (e.g. a ``numpy.memmap``
        for results larger than memory).

    Returns
    -------
    (steps, accounts) or (paths, steps, accounts) float64 health.
    """
    b = _f(balances, xp)
    pp = _f(price_paths, xp)
    if b.ndim != 2 or b.shape[1] != pp.shape[-1]:
        raise ValueError("balances must be (accounts, assets) with the paths' assets")
    price, h, _ = oracle_paths(pp, params, var_seed, dt_s, times, t0, xp)
    w = maint_weights(price, h, xp).reshape(-1, 2 * b.shape[1])  # (rows, 2A)
    bt = xp.concatenate([xp.maximum(b, 0.0), xp.minimum(b, 0.0)], axis=1).T.copy()  # (2A, accounts)
    shape = pp.shape[:-1] + (b.shape[0],)
    if out is None:
        out = xp.empty(shape, dtype=xp.float64)
    elif tuple(out.shape) != shape:
        raise ValueError(f"out must have shape {shape}")
    flat = out.reshape(-1, b.shape[0])
    rows = w.shape[0]
    step = max(1, int(chunk))
    for k in range(0, rows, step):
        xp.matmul(w[k : k + step], bt, out=flat[k : k + step])
    return out
