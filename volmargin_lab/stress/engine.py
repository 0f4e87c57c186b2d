"""Vectorized vault simulation on ``volmargin.model`` with the frictions of docs/design.md §10.

``VaultSim`` runs many independent scenarios side by side (a leading batch axis ``B``:
one real episode, or a batch of Monte Carlo paths) over ``N`` accounts and ``A`` assets.
Each step, in order:

1. **Feed cadence** (Chainlink-like): an asset's feed answer moves to the market price when
   it deviates by at least ``Frictions.deviation`` from the last answer or the last update
   is ``Frictions.feed_heartbeat_s`` old; a paused feed (``pause_below``: the market fell
   under that USD price once) never updates again. In driven mode (``feed=``) the answers,
   their ``updatedAt`` and the poke times are given (the on-chain parity run).
2. **Oracle**: ``volmargin.model.OracleModel.step`` pokes every asset (EWMA variances,
   ramped haircut, breakers), as a keeper poking every step would.
3. **Health**: maintenance sums per account (``model.weighted_health``'s formulas, batched;
   with ``screen=True`` an exact lower bound skips the accounts that cannot be liquidatable:
   at a reference step each account's weighted deposits ``A`` and borrows ``L`` are stored;
   later ``health >= A * min_a(w_a / w_a_ref) - L * max_a(v_a / v_a_ref)`` for the deposit
   weights ``w = p (1 - h)`` and borrow weights ``v = p (1 + h)``, so only accounts whose bound
   is negative are evaluated, and the references are refreshed every ``SCREEN_EVERY`` steps);
   an account holding an asset whose price is invalid or stale cannot be valued, so it
   cannot be liquidated (``RiskOracle.risk`` reverts).
4. **Keeper latency**: with ``latency_steps = 1`` a liquidation at step ``k`` needs the
   account liquidatable at ``k - 1`` (the keeper saw it) and at ``k`` (the contract checks).
5. **Liquidation** (docs/design.md §6, ``VaultRef._liquidate``): the largest debt by oracle value is
   repaid against the largest collateral; close factor, ``hf_full``, dust rule, health-scaled
   bonus, insurance cut, seizure capped by the collateral held. The liquidator takes it only
   if selling the seized collateral at the *market* price, less square-root slippage
   ``impact * sqrt(volume / depth)``, covers the repayment bought at market plus
   ``gas_usd``; otherwise it tries ``fractions`` of the maximum (never one that leaves a debt
   worth less than ``min_debt_value``: the vault refuses it with "vault: dust left"). Volume sold per step and
   asset is capped at ``capacity_per_hour * depth * step_hours`` (first come, first served in
   account order), and the vault's own per-window cap applies (lower while any asset is
   REDUCE_ONLY). ``frictionless=True`` (parity mode) takes every liquidation at its maximum.
6. **Bad debt**: an account left with debt and no deposit is settled at once (atomic with the
   liquidation): the insurance fund pays first, the rest is socialized. At the end, every
   account whose debt exceeds its collateral at market prices adds that shortfall
   (mark-to-market bad debt: accounts nobody would liquidate, or frozen by a stale feed).

Not modelled (stated in the report): interest accrual (at most ~0.5 % over a month at the
default rates), new borrowing or repayment by the accounts during the episode, price
impact of liquidations on the market path, available-liquidity limits on borrowing.

Units: prices and values USD, balances whole tokens (negative = borrowed), times seconds,
haircuts and bonuses fractions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from volmargin import model as M
from .policies import VaultModel
from .portfolio import PortfolioMargin, scaled_haircuts

NORMAL, CAUTION, REDUCE_ONLY = M.NORMAL, M.CAUTION, M.REDUCE_ONLY
#: Steps between two exact refreshes of the screening references (``VaultSim(screen=True)``).
SCREEN_EVERY = 12


def _default_depth() -> dict[str, float]:
    return {"USD": 1e9, "WETH": 100e6, "WBTC": 200e6, "LUNA": 30e6, "FTT": 10e6}


@dataclass(frozen=True)
class Frictions:
    """docs/design.md §10 assumptions, every one a named parameter (listed in the report).

    deviation : feed deviation threshold (fraction; Chainlink ETH/USD: 0.5 %).
    feed_heartbeat_s : feed heartbeat, seconds (Chainlink ETH/USD: 1 h).
    latency_steps : 0 or 1; 1 = liquidations act on the next step's state.
    gas_usd : gas cost of one liquidation, USD.
    impact : slippage of selling ``depth`` USD at once (fraction); slippage of ``v`` USD is
        ``impact * sqrt(v / depth)`` (square-root impact law, Almgren et al. 2005; Toth et al. 2011).
    depth_usd : symbol -> market depth (USD) at the opening price.
    depth_follows_price : depth scales with ``min(1, price / opening price)`` (a collapsing
        asset loses its order book in USD terms).
    capacity_per_hour : collateral liquidators can sell per hour, as a fraction of depth.
    fractions : fractions of the maximum repayment a liquidator tries, largest first.
    frictionless : every liquidatable account liquidated at its maximum (parity mode).
    """

    deviation: float = 0.005
    feed_heartbeat_s: float = 3600.0
    latency_steps: int = 1
    gas_usd: float = 20.0
    impact: float = 0.1
    depth_usd: dict[str, float] = field(default_factory=_default_depth)
    depth_follows_price: bool = True
    capacity_per_hour: float = 0.25
    fractions: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)
    frictionless: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.deviation < 1.0:
            raise ValueError(f"deviation must be in [0, 1), got {self.deviation}")
        if self.feed_heartbeat_s <= 0:
            raise ValueError(f"feed_heartbeat_s must be > 0, got {self.feed_heartbeat_s}")
        if self.latency_steps not in (0, 1):
            raise ValueError(f"latency_steps must be 0 or 1, got {self.latency_steps}")
        if self.gas_usd < 0 or self.impact < 0 or self.capacity_per_hour <= 0:
            raise ValueError("gas_usd and impact must be >= 0 and capacity_per_hour > 0")
        if not self.fractions or any(not 0 < f <= 1 for f in self.fractions):
            raise ValueError(f"fractions must be in (0, 1], got {self.fractions}")

    def depth(self, symbols: tuple[str, ...] | list[str]) -> np.ndarray:
        """(A,) depths in USD; KeyError naming a symbol without one."""
        missing = [s for s in symbols if s not in self.depth_usd]
        if missing:
            raise KeyError(f"no market depth for {', '.join(missing)}")
        return np.array([float(self.depth_usd[s]) for s in symbols])

    def as_dict(self) -> dict[str, Any]:
        """The values, for the report."""
        return {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, tuple) else v)
                for k, v in self.__dict__.items()}


@dataclass
class Feed:
    """Driven feed rounds: ``answer`` and ``updated_at`` (B, S, A), ``now`` (S,) poke times."""

    answer: np.ndarray
    updated_at: np.ndarray
    now: np.ndarray


@dataclass
class SimResult:
    """What a run produced. Series cover every step from 0 (warm-up included);
    ``open_step`` is the step the accounts opened at.

    price, h_maint, h_init, sigma, breaker : (B, S, A) oracle view after each poke.
    liq_count, liq_volume_usd, bad_debt_step_usd : (B, S) liquidations taken (count,
        repaid value at oracle prices) and bad debt settled at each step.
    borrowing_power : (B, S) USD a dollar of the opening collateral could borrow in USD
        (init-weighted collateral / collateral value / (1 + h_init of USD)); NaN where
        not tracked.
    bad_debt_settled_usd, shortfall_end_usd, insurance_usd, insurance_used_usd : (B,).
    borrows_open_usd, collateral_open_usd : (B,) at market prices at opening.
    hf_open, hf_worst, hf_end : (N,) health factors of batch 0 at opening, at the step
        with the most liquidatable accounts, and at the end (inf without debt).
    liquidatable_max : (B,) most accounts liquidatable at one step.
    skipped_unprofitable, skipped_capacity, skipped_frozen : (B,) liquidations not taken.
    """

    times: np.ndarray
    open_step: int
    price: np.ndarray
    h_maint: np.ndarray
    h_init: np.ndarray
    sigma: np.ndarray
    breaker: np.ndarray
    liq_count: np.ndarray
    liq_volume_usd: np.ndarray
    bad_debt_step_usd: np.ndarray
    borrowing_power: np.ndarray
    bad_debt_settled_usd: np.ndarray
    shortfall_end_usd: np.ndarray
    insurance_usd: np.ndarray
    insurance_used_usd: np.ndarray
    borrows_open_usd: np.ndarray
    collateral_open_usd: np.ndarray
    hf_open: np.ndarray
    hf_worst: np.ndarray
    hf_end: np.ndarray
    liquidatable_max: np.ndarray
    skipped_unprofitable: np.ndarray
    skipped_capacity: np.ndarray
    skipped_frozen: np.ndarray
    balances_end: np.ndarray
    health_log: list[np.ndarray] = field(default_factory=list)

    @property
    def bad_debt_usd(self) -> np.ndarray:
        """(B,) settled plus end-of-run shortfall, USD, before insurance."""
        return self.bad_debt_settled_usd + self.shortfall_end_usd


class VaultSim:
    """One policy over a batch of price paths; see the module docstring.

    Parameters
    ----------
    symbols : the A asset names (columns).
    oracle_params : ``model.OracleParams`` of shape (A,).
    vault : ``policies.VaultModel``.
    frictions : ``Frictions``.
    market : (B, S, A) or (S, A) market prices, USD.
    times : (S,) step times, seconds, increasing.
    var_seed : (A,) or (B, A) listing variances, per second.
    pause_below : (A,) USD; a feed stops once the market is below it (0 = never).
    feed : optional ``Feed`` (driven mode).
    track_bp : compute ``borrowing_power`` at each step up to time ``bp_until`` (seconds;
        the calm window), skipped for Monte Carlo batches.
    log_health : keep (B, N) maintenance health (USD) after every step in ``health_log``.
    screen : skip accounts that an exact lower bound proves healthy (see step 3); the result
        is the same as without it, faster for large populations.
    dtype : storage of the balances (float64; float32 halves the memory traffic of the
        per-step health product for Monte Carlo batches, liquidation arithmetic stays float64).
    portfolio : ``portfolio.PortfolioMargin`` or None: every account's maintenance haircuts are
        scaled by its portfolio factor (``portfolio.scaled_haircuts``) in health and liquidation;
        ``borrowing_power`` is then not tracked (NaN) and ``screen`` is refused (ValueError).
    forecast : (steps, assets) annual volatilities a risk keeper pushes one second after the
        oracle's poke at that step (NaN: no push), each clamped into the box the oracle accepts
        then (``OracleModel.forecast_box``), as ``ape run risk-keeper`` does; None: no keeper.
        The oracle vectors' ``f_mode`` decides how a push enters the haircuts (docs/design.md §3.7).
    """

    def __init__(
        self,
        symbols: tuple[str, ...] | list[str],
        oracle_params: M.OracleParams,
        vault: VaultModel,
        frictions: Frictions,
        market: np.ndarray,
        times: np.ndarray,
        var_seed: np.ndarray,
        pause_below: np.ndarray | None = None,
        feed: Feed | None = None,
        track_bp: bool = True,
        log_health: bool = False,
        bp_until: float = np.inf,
        dtype: Any = np.float64,
        screen: bool = False,
        portfolio: PortfolioMargin | None = None,
        forecast: np.ndarray | None = None,
    ) -> None:
        if portfolio is not None and screen:
            raise ValueError("screen=True assumes per-asset weights; it cannot run with portfolio margin")
        if portfolio is not None and tuple(portfolio.symbols) != tuple(symbols):
            raise ValueError(f"portfolio symbols {portfolio.symbols} differ from {tuple(symbols)}")
        self.portfolio = portfolio
        self.symbols = tuple(symbols)
        m = np.asarray(market, dtype=np.float64)
        self.market = m[None] if m.ndim == 2 else m
        B, S, A = self.market.shape
        if A != len(self.symbols) or oracle_params.n_assets != A:
            raise ValueError("market, symbols and oracle_params must have the same assets")
        self.times = np.asarray(times, dtype=np.float64)
        if self.times.shape != (S,) or np.any(np.diff(self.times) <= 0):
            raise ValueError("times must be (steps,) and strictly increasing")
        self.p, self.v, self.fr = oracle_params, vault, frictions
        self.forecast = None if forecast is None else np.asarray(forecast, dtype=np.float64)
        if self.forecast is not None and self.forecast.shape != (S, A):
            raise ValueError(f"forecast must be (steps, assets) = {(S, A)}, got {self.forecast.shape}")
        self.depth0 = frictions.depth(self.symbols)
        self.pause_below = np.zeros(A) if pause_below is None else np.asarray(pause_below, dtype=np.float64)
        self.feed_in = feed
        self.track_bp, self.log_health, self.bp_until = track_bp, log_health, float(bp_until)
        self.dtype = np.dtype(dtype)
        self.screen = screen
        self.B, self.S, self.A = B, S, A
        self.usd = self.symbols.index("USD") if "USD" in self.symbols else None
        if feed is not None:
            ans0, upd0, now0 = feed.answer[:, 0], feed.updated_at[:, 0], float(feed.now[0])
        else:
            ans0, upd0, now0 = self.market[:, 0].copy(), np.full((B, A), self.times[0]), float(self.times[0])
        self.answer, self.updated = ans0.copy(), upd0.copy()
        self.paused = np.zeros((B, A), dtype=bool)
        self.oracle = M.OracleModel(oracle_params, ans0, var_seed, now0)
        if feed is not None:  # the feeds' own updatedAt (listing may follow the answer by seconds)
            self.oracle.updated_at = np.array(upd0, dtype=np.float64)
        self.k = 0
        # series
        self.s_price = np.empty((B, S, A))
        self.s_hm = np.empty((B, S, A))
        self.s_hi = np.empty((B, S, A))
        self.s_sig = np.empty((B, S, A))
        self.s_brk = np.empty((B, S, A), dtype=np.int8)
        self.liq_count = np.zeros((B, S))
        self.liq_volume = np.zeros((B, S))
        self.bad_step = np.zeros((B, S))
        self.bp = np.full((B, S), np.nan)
        self._record(0)
        self.pos: np.ndarray | None = None
        self.health_log: list[np.ndarray] = []

    # ------------------------------------------------------------------ oracle

    def _record(self, k: int) -> None:
        o = self.oracle
        self.s_price[:, k] = o.price
        self.s_hm[:, k] = o.h_maint
        self.s_hi[:, k] = o.h_init_now(o.h_time)
        self.s_sig[:, k] = o.sigma_annual()
        self.s_brk[:, k] = o.breaker

    def _feed_step(self, k: int) -> float:
        if self.feed_in is not None:
            self.answer = self.feed_in.answer[:, k]
            self.updated = self.feed_in.updated_at[:, k]
            return float(self.feed_in.now[k])
        t = self.times[k]
        m = self.market[:, k]
        self.paused |= m < self.pause_below
        due = (np.abs(m / self.answer - 1.0) >= self.fr.deviation) | (t - self.updated >= self.fr.feed_heartbeat_s)
        upd = due & ~self.paused
        self.answer = np.where(upd, m, self.answer)
        self.updated = np.where(upd, t, self.updated)
        return float(t)

    def _oracle_step(self) -> float:
        self.k += 1
        now = self._feed_step(self.k)
        self.oracle.step(self.answer, self.updated, now)
        if self.forecast is not None and np.isfinite(self.forecast[self.k]).any():
            f, t = self.forecast[self.k], now + 1.0
            lo, hi = self.oracle.forecast_box(t)
            self.oracle.push_forecast(np.where(np.isfinite(f), np.minimum(np.maximum(f, lo), hi), np.nan), t)
        self._record(self.k)
        return now

    def warm_up(self, until_step: int) -> None:
        """Poke the oracle (no accounts) until step ``until_step`` (inclusive)."""
        if self.pos is not None:
            raise RuntimeError("accounts already open")
        while self.k < until_step:
            self._oracle_step()

    # ---------------------------------------------------------------- accounts

    def view(self) -> dict[str, np.ndarray]:
        """Current oracle view (B, A): price, h_maint, h_init, breaker, kappa, depth."""
        o = self.oracle
        return {"price": o.price, "h_maint": o.h_maint, "h_init": o.h_init_now(o.h_time), "breaker": o.breaker,
                "kappa": np.broadcast_to(self.p.kappa, o.price.shape), "depth": np.broadcast_to(self.p.depth, o.price.shape)}

    def open(self, balances: np.ndarray) -> None:
        """Open the accounts at the current step with signed ``balances`` (N, A) or (B, N, A)."""
        b = np.asarray(balances, dtype=np.float64)
        b = np.broadcast_to(b, (self.B,) + b.shape[-2:]) if b.ndim == 2 else b
        if b.shape[0] != self.B or b.shape[2] != self.A:
            raise ValueError(f"balances must be (accounts, {self.A}) or ({self.B}, accounts, {self.A})")
        # one (B, N, 2A) array [deposits | borrows]: health is one matmul per step
        self.split = np.ascontiguousarray(
            np.concatenate([np.maximum(b, 0.0), np.maximum(-b, 0.0)], axis=2), dtype=self.dtype
        )
        self.pos = self.split[..., : self.A]
        self.neg = self.split[..., self.A :]
        self.N = b.shape[1]
        self.open_step = self.k
        m0 = self.market[:, self.k]
        self.m_open = m0.copy()
        self.collateral0 = self.pos[0].copy()
        # size term of the opening collateral: kappa sqrt(c0 p / depth) = sq * sqrt(p)
        on = (self.p.kappa > 0) & (self.p.depth > 0)
        self.sq0 = np.where(on, self.p.kappa * np.sqrt(self.collateral0 / np.where(on, self.p.depth, 1.0)), 0.0)
        self.borrows_open = np.einsum("bna,ba->b", self.neg, m0)
        self.collateral_open = np.einsum("bna,ba->b", self.pos, m0)
        self.insurance = np.zeros(self.B)
        self.ins_used = np.zeros(self.B)
        self.settled = np.zeros(self.B)
        self.win_start = np.full(self.B, -np.inf)
        self.win_used = np.zeros(self.B)
        self.liq_prev = np.zeros(0, dtype=np.int64)
        self.liq_max = np.zeros(self.B, dtype=np.int64)
        self.skip_unprof = np.zeros(self.B, dtype=np.int64)
        self.skip_cap = np.zeros(self.B, dtype=np.int64)
        self.skip_frozen = np.zeros(self.B, dtype=np.int64)
        ma, ml = self._sums_full(self.oracle.price, self.oracle.h_maint)
        self.hf_open = M.health_factor(ma[0], ml[0])
        if self.screen:
            self._screen_ref(*self._weights(self.oracle.price, self.oracle.h_maint))
        self.hf_worst = self.hf_open.copy()
        self._bp(self.k)

    def _sums_full(self, price: np.ndarray, hm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, N) maintenance assets and liabilities (USD)."""
        if self.portfolio is not None:
            p = price[:, None, :]
            h = scaled_haircuts(self.portfolio, self.pos, self.neg, p, hm[:, None, :])
            return ((self.pos * p * np.maximum(1.0 - h, 0.0)).sum(axis=2), (self.neg * p * (1.0 + h)).sum(axis=2))
        wa, wl = self._weights(price, hm)
        return np.einsum("bna,ba->bn", self.pos, wa), np.einsum("bna,ba->bn", self.neg, wl)

    def _weights(self, price: np.ndarray, hm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(..., A) maintenance weights of deposits and of borrows (``model.maint_weights``)."""
        w = M.maint_weights(price, hm)
        return w[..., : self.A], w[..., self.A :]

    def _screen_ref(self, wa: np.ndarray, wl: np.ndarray) -> None:
        """Store the reference weights and each account's weighted deposits and borrows."""
        self.ref_wa, self.ref_wl = wa.copy(), wl.copy()
        self.ref_A = np.matmul(self.pos, wa[..., None].astype(self.dtype))[..., 0].astype(np.float64)
        self.ref_L = np.matmul(self.neg, wl[..., None].astype(self.dtype))[..., 0].astype(np.float64)
        self.ref_age = 0

    def _screened_liquidatable(self, wa: np.ndarray, wl: np.ndarray) -> np.ndarray:
        """Sorted flat indices (b * N + n) of the accounts with health < 0, evaluating exactly
        only those the bound cannot clear."""
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(self.ref_wa > 0, wa / self.ref_wa, 0.0)
            g = np.where(self.ref_wl > 0, wl / self.ref_wl, np.inf)
        fmin, gmax = f.min(axis=1), g.max(axis=1)
        if self.ref_age >= SCREEN_EVERY or np.any(fmin < 0.9) or np.any(gmax > 1.1):
            self._screen_ref(wa, wl)
            fmin, gmax = np.ones(self.B), np.ones(self.B)
        self.ref_age += 1
        bound = self.ref_A * fmin[:, None] - self.ref_L * gmax[:, None]
        maybe = np.flatnonzero(bound < 1e-6 * (self.ref_A + self.ref_L) + 1e-9)
        if not len(maybe):
            return maybe
        bi, ni = np.divmod(maybe, self.N)
        w = np.concatenate([wa, -wl], axis=-1)
        h = (self.split[bi, ni].astype(np.float64) * w[bi]).sum(axis=1)
        return maybe[h < 0]

    def _health(self, price: np.ndarray, hm: np.ndarray) -> np.ndarray:
        """(B, N) maintenance health (USD): one batched matmul over [deposits | borrows]
        (with portfolio margin: the same sums on each account's scaled haircuts)."""
        if self.portfolio is not None:
            a, li = self._sums_full(price, hm)
            return a - li
        w = M.maint_weights(price, hm)
        w[..., self.A :] *= -1.0  # borrows are stored positive in ``split``
        w = w.astype(self.dtype)
        return np.matmul(self.split, w[..., None])[..., 0]

    def _bp(self, k: int) -> None:
        if not self.track_bp or self.usd is None or self.times[k] > self.bp_until or self.portfolio is not None:
            return
        o = self.oracle
        hi0 = o.h_init_now(o.h_time)
        for b in range(self.B):
            p = o.price[b]
            dep = self.collateral0 * p
            w = np.maximum(1.0 - np.minimum(hi0[b] + self.sq0 * np.sqrt(p), 1.0), 0.0)
            scale = np.where(o.breaker[b] == CAUTION, self.v.caution_scale, 1.0)
            total = dep.sum()
            self.bp[b, k] = ((dep * w).sum(axis=0) * scale).sum() / total / (1.0 + hi0[b, self.usd]) if total > 0 else np.nan

    def step(self) -> None:
        """One step: feed, oracle, health, keeper, liquidations, bad debt."""
        if self.pos is None:
            raise RuntimeError("open() the accounts first")
        now = self._oracle_step()
        k = self.k
        o = self.oracle
        # liquidatable accounts as sorted flat indices b * N + n
        if self.screen:
            flat = self._screened_liquidatable(*self._weights(o.price, o.h_maint))
        else:
            flat = np.flatnonzero(self._health(o.price, o.h_maint) < 0)
        if o.invalid.any() and len(flat):
            bi, ni = np.divmod(flat, self.N)
            held = (self.pos[bi, ni] > 0) | (self.neg[bi, ni] > 0)
            frozen = (held & o.invalid[bi]).any(axis=1)
            self.skip_frozen += np.bincount(bi[frozen], minlength=self.B)
            flat = flat[~frozen]
        n_liq = np.bincount(flat // self.N, minlength=self.B)
        if n_liq[0] > self.liq_max[0]:
            ma, ml = self._sums_full(o.price[:1], o.h_maint[:1])
            self.hf_worst = M.health_factor(ma[0], ml[0])
        self.liq_max = np.maximum(self.liq_max, n_liq)
        cand = np.intersect1d(flat, self.liq_prev, assume_unique=True) if self.fr.latency_steps == 1 else flat
        self.liq_prev = flat
        if len(cand):
            self._liquidate(cand, now, k)
        self._bp(k)
        if self.log_health:
            self.health_log.append(self._health(o.price, o.h_maint))

    def _liquidate(self, cand: np.ndarray, now: float, k: int) -> None:
        """Liquidate the accounts at sorted flat indices ``cand`` (b * N + n)."""
        v, fr, o = self.v, self.fr, self.oracle
        bi, ni = np.divmod(cand, self.N)
        K = len(bi)
        rows = np.arange(K)
        P, Ng = self.pos[bi, ni].astype(np.float64), self.neg[bi, ni].astype(np.float64)
        pk = o.price[bi]
        hmk = o.h_maint[bi]
        if self.portfolio is not None:  # each account's own scale of the haircuts
            hmk = scaled_haircuts(self.portfolio, P, Ng, pk, hmk)
        d, c, repay, seize, bon = liquidation_amounts(P, Ng, pk, hmk, v)
        debt, col = Ng[rows, d], P[rows, c]
        pd, pc = pk[rows, d], pk[rows, c]
        ok = (repay > 0) & (col > 0) & (debt > 0) & (c != d)
        frac = np.where(ok, 1.0, 0.0)
        mk = self.market[bi, k]
        mc, md = mk[rows, c], mk[rows, d]
        depth_c = self.depth0[c] * (np.minimum(1.0, mc / self.m_open[bi, c]) if fr.depth_follows_price else 1.0)
        if not fr.frictionless:
            frac = np.zeros(K)
            for f in fr.fractions:
                net = (seize - seize * bon / (1.0 + bon) * v.insurance_share) * f
                vol = net * mc
                slip = fr.impact * np.sqrt(vol / depth_c)
                profit = vol * (1.0 - slip) - repay * f * md - fr.gas_usd
                # a chosen repayment below the maximum must not leave dust ("vault: dust left")
                no_dust = (f == 1.0) | ((debt - repay * f) * pd >= v.min_debt_value)
                frac = np.where((frac == 0) & ok & no_dust & (profit > 0), f, frac)
            self.skip_unprof += np.bincount(bi[ok & (frac == 0)], minlength=self.B)
        take = frac > 0
        repay, seize = repay * frac, np.where(frac == 1.0, seize, seize * frac)
        cut = seize * bon / (1.0 + bon) * v.insurance_share
        if not fr.frictionless and take.any():
            dt_h = (self.times[k] - self.times[k - 1]) / 3600.0
            vol = np.where(take, (seize - cut) * mc, 0.0)
            key = bi * self.A + c
            allowed = fr.capacity_per_hour * depth_c * dt_h
            within = _group_cumsum(key, vol) <= allowed
            self.skip_cap += np.bincount(bi[take & ~within], minlength=self.B)
            take &= within
        # the vault's own cap per window, on repaid value at oracle prices
        tripped = (o.breaker == REDUCE_ONLY).any(axis=1)
        reset = now >= self.win_start + v.liq_window
        self.win_start = np.where(reset, now, self.win_start)
        self.win_used = np.where(reset, 0.0, self.win_used)
        cap_b = np.where(tripped, v.liq_cap_tripped, v.liq_cap)
        rv = np.where(take, repay * pd, 0.0)
        within = self.win_used[bi] + _group_cumsum(bi, rv) <= cap_b[bi]
        self.skip_cap += np.bincount(bi[take & ~within], minlength=self.B)
        take &= within
        if not take.any():
            return
        s = np.flatnonzero(take)
        b_s, n_s, d_s, c_s = bi[s], ni[s], d[s], c[s]
        self.neg[b_s, n_s, d_s] = np.maximum(Ng[s, d_s] - repay[s], 0.0)
        self.pos[b_s, n_s, c_s] = np.maximum(P[s, c_s] - seize[s], 0.0)
        if self.screen:
            rp, rn = self.pos[b_s, n_s].astype(np.float64), self.neg[b_s, n_s].astype(np.float64)
            self.ref_A[b_s, n_s] = (rp * self.ref_wa[b_s]).sum(axis=1)
            self.ref_L[b_s, n_s] = (rn * self.ref_wl[b_s]).sum(axis=1)
        np.add.at(self.insurance, b_s, cut[s] * pc[s])
        np.add.at(self.win_used, b_s, rv[s])
        np.add.at(self.liq_count[:, k], b_s, 1.0)
        np.add.at(self.liq_volume[:, k], b_s, rv[s])
        # bad debt: debt left and no deposit (settled atomically with the liquidation)
        left_pos = self.pos[b_s, n_s].sum(axis=1)
        left_neg = self.neg[b_s, n_s]
        bankrupt = (left_pos == 0) & (left_neg.sum(axis=1) > 0)
        if bankrupt.any():
            bb, nb = b_s[bankrupt], n_s[bankrupt]
            loss = (left_neg[bankrupt] * pk[s][bankrupt]).sum(axis=1)
            per_b = np.bincount(bb, weights=loss, minlength=self.B)
            covered = np.minimum(per_b, self.insurance)
            self.insurance -= covered
            self.ins_used += covered
            self.settled += per_b
            self.bad_step[:, k] += per_b
            self.neg[bb, nb] = 0.0
            if self.screen:
                self.ref_L[bb, nb] = 0.0

    def run(self, until_step: int | None = None, progress: Callable[[int], Any] | None = None) -> SimResult:
        """Step to ``until_step`` (default: the last step) and return the result."""
        last = self.S - 1 if until_step is None else min(until_step, self.S - 1)
        while self.k < last:
            self.step()
            if progress is not None:
                progress(1)
        return self.result()

    def result(self) -> SimResult:
        """The result up to the current step."""
        if self.pos is None:
            raise RuntimeError("open() the accounts first")
        k = self.k + 1
        m = self.market[:, self.k]
        net = np.einsum("bna,ba->bn", self.pos, m) - np.einsum("bna,ba->bn", self.neg, m)
        shortfall = np.maximum(-net, 0.0).sum(axis=1)
        o = self.oracle
        ma, ml = self._sums_full(o.price[:1], o.h_maint[:1])
        return SimResult(
            times=self.times[:k], open_step=self.open_step,
            price=self.s_price[:, :k], h_maint=self.s_hm[:, :k], h_init=self.s_hi[:, :k], sigma=self.s_sig[:, :k],
            breaker=self.s_brk[:, :k], liq_count=self.liq_count[:, :k], liq_volume_usd=self.liq_volume[:, :k],
            bad_debt_step_usd=self.bad_step[:, :k], borrowing_power=self.bp[:, :k],
            bad_debt_settled_usd=self.settled.copy(), shortfall_end_usd=shortfall,
            insurance_usd=self.insurance.copy(), insurance_used_usd=self.ins_used.copy(),
            borrows_open_usd=self.borrows_open, collateral_open_usd=self.collateral_open,
            hf_open=self.hf_open, hf_worst=self.hf_worst, hf_end=M.health_factor(ma[0], ml[0]),
            liquidatable_max=self.liq_max.copy(), skipped_unprofitable=self.skip_unprof.copy(),
            skipped_capacity=self.skip_cap.copy(), skipped_frozen=self.skip_frozen.copy(),
            balances_end=self.pos - self.neg, health_log=self.health_log,
        )


def liquidation_amounts(
    deposits: np.ndarray, borrows: np.ndarray, price: np.ndarray, h_maint: np.ndarray, vault: VaultModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The keeper's choice and the contract's maximum liquidation for K accounts (docs/design.md §6,
    ``VaultRef._liquidate`` in model units).

    Parameters
    ----------
    deposits, borrows : (K, A) whole tokens (>= 0).
    price, h_maint : (K, A) oracle price (USD) and maintenance haircut in force.
    vault : ``VaultModel``.

    Returns
    -------
    (debt_col, collateral_col, repay, seize, bonus), each (K,): the debt with the largest
    value is repaid against the collateral with the largest value; ``repay`` in debt tokens
    (close factor, or all below ``hf_full`` or when the rest is dust), ``seize`` in
    collateral tokens including the insurance cut (capped by the collateral held, the
    repayment then reduced to what it buys), ``bonus`` a fraction.
    """
    rows = np.arange(deposits.shape[0])
    A = deposits.shape[1]
    # weights of the positions' values (value x weight, the reference's order of operations)
    ma = M.maint_weights(deposits * price, h_maint)[:, :A].sum(axis=1)
    ml = M.maint_weights(borrows * price, h_maint)[:, A:].sum(axis=1)
    d = np.argmax(borrows * price, axis=1)
    c = np.argmax(deposits * price, axis=1)
    repay, seize, bon = M.liquidation(
        borrows[rows, d], deposits[rows, c], price[rows, d], price[rows, c], ma, ml, vault.close_factor,
        vault.hf_full, vault.min_debt_value, vault.bonus_min, vault.bonus_slope, vault.bonus_max)
    return d, c, repay, seize, bon


def _group_cumsum(key: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sum of ``x`` within equal ``key``s, in the given order."""
    order = np.argsort(key, kind="stable")
    ks, xs = key[order], x[order]
    cs = np.cumsum(xs)
    start = np.r_[True, ks[1:] != ks[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(len(ks)), 0))
    incl = cs - (cs[first] - xs[first])
    out = np.empty_like(incl)
    out[order] = incl
    return out
