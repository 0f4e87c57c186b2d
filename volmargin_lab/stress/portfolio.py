"""Portfolio margin, measured before it is built (issue #14 item 1, lab side).

A cross-margin account today pays the sum of its per-asset requirements: with deposits
``dep_a`` and borrows ``bor_a`` (USD) and maintenance haircuts ``h_a``, health is
``sum(dep) - sum(bor) - sum(r)`` with ``r_a = (dep_a + bor_a) h_a`` (the weighted sums of
docs/design.md §5 written as equity minus requirement). Portfolio margin aggregates the same
per-asset requirements with correlations, as the Basel and SPAN-style aggregation of risk
charges does (``sqrt(K' rho K)``), signed by the side of each leg:

    u+ = dep * h,  u- = bor * h                         (A,) USD, per account
    R^2 = u+' rho_hi u+ + u-' rho_hi u- - 2 u+' rho_lo u-
    R   = max(floor_frac * sum(r), sqrt(max(R^2, 0)))   (<= sum(r) when every rho <= 1)

Same-signed legs (two deposits, two borrows) are joined with the *upper* bound of their
correlation, opposite-signed legs (a deposit against a borrow) with the *lower* bound, so the
offset a hedge earns is the one the stressed correlation still supports; ``floor_frac`` caps
every offset (correlations break in crashes: LUNA/UST, FTT). A pair without an estimate gets
``(rho_lo, rho_hi) = (-1, +1)``, for which the formula gives exactly ``sum(r)``: a book of
such pairs (every book without both WETH and WBTC, e.g. long-only single collateral against
USD) is margined exactly as today. The requirement is applied as a per-account scale of the
haircuts, ``lambda = R / sum(r)`` in ``[floor_frac, 1]``: every formula downstream (health,
close factor, bonus, seizure) runs unchanged on ``lambda * h``.

The pair bounds come from the *training* history only (``calibration.load_long_history``
before ``calibration.TEST_START``): Pearson correlations of non-overlapping ``H``-hour log
returns in rolling windows of ``window_days``; ``rho_fit`` over the whole training history,
``rho_lo`` / ``rho_hi`` the ``level`` / ``1 - level`` quantiles of the rolling values.

Units: USD (requirements), fractions (haircuts, correlations, ``floor_frac``), hours, days.
The formula itself is the protocol's (``volmargin.model.portfolio_scale``, held bit for bit by
``RiskOracle.portfolio_scales`` and ``volmargin.reference.portfolio``); this module adds the
fits, the per-episode matrices and the borrowing-power solver of the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from volmargin.model import correlation_bounds, portfolio_scale

#: The pair bounds of an unestimated pair: the formula then reduces to the per-asset sum.
NO_OFFSET = (-1.0, 1.0)
#: Pairs whose correlation is estimated from the long histories.
ESTIMATED_PAIRS: tuple[tuple[str, str], ...] = (("WETH", "WBTC"),)


@dataclass(frozen=True)
class PortfolioMargin:
    """Correlation bounds over ``symbols`` and the offset cap.

    rho_lo, rho_hi : (A, A) symmetric, unit diagonal, ``-1 <= rho_lo <= rho_hi <= 1``.
    floor_frac : the requirement never falls below this fraction of the per-asset sum (in [0, 1]).
    fitted : the estimates behind the bounds, for the report (``fit_pair``'s dicts by pair name).
    """

    symbols: tuple[str, ...]
    rho_lo: np.ndarray
    rho_hi: np.ndarray
    floor_frac: float
    fitted: dict[str, dict[str, float]]

    def __post_init__(self) -> None:
        A = len(self.symbols)
        for name, m in (("rho_lo", self.rho_lo), ("rho_hi", self.rho_hi)):
            if m.shape != (A, A) or not np.allclose(m, m.T) or not np.allclose(np.diag(m), 1.0):
                raise ValueError(f"{name} must be a symmetric ({A}, {A}) matrix with a unit diagonal")
        if np.any(self.rho_lo < -1.0) or np.any(self.rho_hi > 1.0) or np.any(self.rho_lo > self.rho_hi):
            raise ValueError("correlation bounds must satisfy -1 <= rho_lo <= rho_hi <= 1")
        if not 0.0 <= self.floor_frac <= 1.0:
            raise ValueError(f"floor_frac must be in [0, 1], got {self.floor_frac}")

    def scale(self, u_pos: np.ndarray, u_neg: np.ndarray) -> np.ndarray:
        """``lambda = R / sum(r)`` in ``[floor_frac, 1]`` (1 where the account has no requirement).

        u_pos, u_neg : (..., A) deposit and borrow requirements (USD, >= 0; value times haircut).
        Returns (...,)."""
        return portfolio_scale(u_pos, u_neg, self.rho_lo, self.rho_hi, self.floor_frac)

    def requirement(self, u_pos: np.ndarray, u_neg: np.ndarray) -> np.ndarray:
        """(...,) the portfolio requirement ``R`` (USD) of deposit and borrow requirements (..., A)."""
        return self.scale(u_pos, u_neg) * (np.asarray(u_pos) + np.asarray(u_neg)).sum(axis=-1)


def fit_pair(a: str, b: str, horizon_h: float, window_days: float = 30.0, level: float = 0.01,
             quick: bool = False) -> dict[str, float]:
    """Correlation of ``a`` and ``b`` from the training history: ``rho_fit`` (whole training
    history), ``rho_lo`` / ``rho_hi`` (the ``level`` and ``1 - level`` quantiles of the rolling
    ``window_days`` correlations, clipped to [-1, 1]), ``windows`` (rolling windows used),
    ``returns`` (non-overlapping ``horizon_h``-hour log returns). Training = after the burn-in,
    before ``calibration.TEST_START`` (``quick``: the quick window's training part). Raises
    ValueError for a symbol without a long history or too few returns."""
    from .. import calibration as C

    series = {}
    for s in (a, b):
        bars = C.load_long_history(s)
        t = (bars.timestamp + bars.resolution_s).astype(np.int64)
        series[s] = dict(zip(t.tolist(), bars.close.tolist()))
    lo_t, hi_t = (C.QUICK_WINDOW[0], C.QUICK_WINDOW[1]) if quick else (None, C.TEST_START)
    common = sorted(set(series[a]) & set(series[b]))
    common = [t for t in common if (lo_t is None or t >= lo_t) and t < hi_t]
    step = int(round(horizon_h * 3600))
    grid = [t for t in common if (t - common[0]) % step == 0] if common else []
    if len(grid) < 10:
        raise ValueError(f"too few common {horizon_h:g}-hour points of {a} and {b} in the training history")
    pa = np.log(np.array([series[a][t] for t in grid]))
    pb = np.log(np.array([series[b][t] for t in grid]))
    ra, rb = np.diff(pa), np.diff(pb)
    w = max(int(round(window_days * 24 / horizon_h)), 5)
    roll = np.array([np.corrcoef(ra[i: i + w], rb[i: i + w])[0, 1] for i in range(0, len(ra) - w + 1)])
    roll = roll[np.isfinite(roll)]
    return {"rho_fit": float(np.corrcoef(ra, rb)[0, 1]), "rho_lo": float(np.clip(np.quantile(roll, level), -1, 1)),
            "rho_hi": float(np.clip(np.quantile(roll, 1 - level), -1, 1)), "windows": int(len(roll)),
            "returns": int(len(ra)), "horizon_h": float(horizon_h), "window_days": float(window_days)}


@dataclass(frozen=True)
class PortfolioSpec:
    """Portfolio margin independent of an episode's symbols: ``pairs`` maps ``(a, b)`` to
    ``(rho_lo, rho_hi)`` (any other pair: ``NO_OFFSET``), ``floor_frac`` the offset cap,
    ``fitted`` the estimates behind the bounds (``fit_pair``'s dicts by "a-b")."""

    pairs: dict[tuple[str, str], tuple[float, float]]
    floor_frac: float
    fitted: dict[str, dict[str, float]]

    def margin(self, symbols: tuple[str, ...] | list[str]) -> PortfolioMargin:
        """The ``PortfolioMargin`` over ``symbols`` (pairs not among them are dropped).
        Raises ValueError for bounds outside ``-1 <= lo <= hi <= 1`` or a bad ``floor_frac``."""
        symbols = tuple(symbols)
        lo, hi = correlation_bounds(symbols, self.pairs)
        return PortfolioMargin(symbols, lo, hi, float(self.floor_frac), self.fitted)

    def summary(self) -> dict[str, Any]:
        """The bounds and fits, JSON-ready."""
        return {"floor_frac": self.floor_frac, "pairs": {f"{a}-{b}": {"rho_lo": lo, "rho_hi": hi}
                                                         for (a, b), (lo, hi) in self.pairs.items()},
                "fitted": self.fitted}


def fit_portfolio(horizon_h: float, floor_frac: float, use: str = "stressed", quick: bool = False) -> PortfolioSpec:
    """``PortfolioSpec`` with ``ESTIMATED_PAIRS`` at ``fit_pair``'s bounds over ``horizon_h``
    hours (``use`` "stressed": ``(rho_lo, rho_hi)``; "fit": ``rho_fit`` for both), every other
    pair ``NO_OFFSET``. Raises ValueError for an unknown ``use``."""
    if use not in ("stressed", "fit"):
        raise ValueError(f"use must be 'stressed' or 'fit', got {use!r}")
    pairs: dict[tuple[str, str], tuple[float, float]] = {}
    fitted: dict[str, dict[str, float]] = {}
    for a, b in ESTIMATED_PAIRS:
        f = fit_pair(a, b, horizon_h, quick=quick)
        pairs[(a, b)] = (f["rho_lo"], f["rho_hi"]) if use == "stressed" else (f["rho_fit"], f["rho_fit"])
        fitted[f"{a}-{b}"] = f
    return PortfolioSpec(pairs, float(floor_frac), fitted)


def book_borrowing_power(collateral_tokens: np.ndarray, debt_asset: np.ndarray, prices: np.ndarray,
                         h_init: np.ndarray, pm: PortfolioMargin | None, iterations: int = 60) -> np.ndarray:
    """Largest debt (whole tokens of ``debt_asset``) keeping initial health >= 0 under portfolio
    margin ``pm`` (None: per-asset sums), by bisection.

    collateral_tokens : (N, A) whole tokens (>= 0); debt_asset : (N,) column of the borrow;
    prices, h_init : (A,) USD and initial haircuts (fractions; no size term: the books of this
    study hold assets whose ``kappa`` size term is second order at their sizes).
    Initial health = sum(dep) - x p_d - lambda (sum(dep h) + x p_d h_d) with ``lambda`` from
    ``pm.scale`` (1 without ``pm``). Returns (N,)."""
    dep = collateral_tokens * prices
    n = dep.shape[0]
    rows = np.arange(n)
    pd = prices[debt_asset]

    def health(x: np.ndarray) -> np.ndarray:
        bor = np.zeros_like(dep)
        bor[rows, debt_asset] = x * pd
        up, un = dep * h_init, bor * h_init
        lam = 1.0 if pm is None else pm.scale(up, un)
        return dep.sum(axis=1) - x * pd - lam * (up.sum(axis=1) + un.sum(axis=1))

    lo, hi = np.zeros(n), dep.sum(axis=1) / pd  # equity alone bounds the debt
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        ok = health(mid) >= 0
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return lo


def scaled_haircuts(pm: PortfolioMargin, pos: np.ndarray, neg: np.ndarray, price: np.ndarray,
                    h: np.ndarray) -> np.ndarray:
    """Per-account haircuts ``lambda * h`` (shape of ``pos``) of balances ``pos``/``neg`` (..., A,
    whole tokens, >= 0) at ``price`` (USD) and haircuts ``h`` (fractions), both broadcasting
    against ``pos`` (e.g. (B, 1, A) for (B, N, A) balances, or (K, A) row by row): what the
    vault's weighted sums use under portfolio margin ``pm``."""
    u = price * h
    lam = pm.scale(pos * u, neg * u)
    return lam[..., None] * np.broadcast_to(h, np.shape(pos))
