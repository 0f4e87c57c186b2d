"""Exact mirror of ``contracts/modules/forecast.vy`` (docs/design.md §3.7): the forecast word's
codec and how a pushed forecast volatility enters the haircuts.

A risk keeper pushes an annual sigma (WAD). While it is live the haircuts use the forecast over
the horizon, clamped to ``[f_lo, f_hi]`` times the realized sigma (each bound rounded down),
entered by the mode: replace, max, or blend (the mean, rounded up); mode off uses the realized
sigma alone. Sigmas and multiples are WAD ints, times Unix seconds.
"""

from __future__ import annotations

from .risk_math import SECONDS_PER_YEAR, WAD, U

M64 = 2**64 - 1
M128 = 2**128 - 1
#: forecast.MODE_*: how a live forecast enters the haircuts (the oracle's f_mode).
MODE_OFF, MODE_REPLACE, MODE_MAX, MODE_BLEND = 0, 1, 2, 3
#: forecast.MAX_SIGMA: the largest pushed sigma, WAD per year.
MAX_SIGMA = 2**128 - 1


def pack(sigma: int, pushed_at: int) -> int:
    """forecast._pack: ``sigma | pushed_at << 128`` (sigma WAD per year <= MAX_SIGMA, time s)."""
    return sigma | (pushed_at << 128)


def sigma_of(w: int) -> int:
    """forecast._sigma: the pushed sigma of forecast word ``w``, WAD per year."""
    return w & M128


def pushed_at(w: int) -> int:
    """forecast._pushed_at: the push time of forecast word ``w``, s (0: never pushed)."""
    return (w >> 128) & M64


def variance(sigma: int) -> int:
    """forecast._variance: ``sigma**2 // (1e18 * 31,536,000)``, WAD per second, of an annual
    sigma (WAD, <= MAX_SIGMA)."""
    return U(sigma * sigma) // (WAD * SECONDS_PER_YEAR)


def within(sigma: int, sigma_r: int, f_lo: int, f_hi: int) -> bool:
    """forecast._within: ``f_lo * sigma_r <= sigma * 1e18 <= f_hi * sigma_r`` (exact)."""
    return U(f_lo * sigma_r) <= U(sigma * WAD) <= U(f_hi * sigma_r)


def step_ok(prev: int, sigma: int, f_step: int) -> bool:
    """forecast._step_ok: ``|sigma - prev| * 1e18 <= f_step * prev`` (exact)."""
    return U(abs(sigma - prev) * WAD) <= U(f_step * prev)


def box(sigma_r: int, f_lo: int, f_hi: int, f_step: int, live: int | None) -> tuple[int, int]:
    """The pushes (WAD per year) that ``within`` and, while a push ``live`` (WAD per year; None:
    none live) is in force, ``step_ok`` accept, as an inclusive range (lo, hi): ``within``'s
    products solved exactly, ``[ceil(f_lo * sigma_r / 1e18), f_hi * sigma_r // 1e18]``, narrowed to
    ``live`` +- ``f_step * live // 1e18``. lo > hi where no push fits."""
    lo, hi = -(-U(f_lo * sigma_r) // WAD), U(f_hi * sigma_r) // WAD
    if live is not None:
        d = U(f_step * live) // WAD
        lo, hi = max(lo, live - d), min(hi, live + d)
    return lo, hi


def combine(mode: int, sigma_r: int, sigma_f: int, f_lo: int, f_hi: int) -> int:
    """forecast._combine: the sigma over the horizon the haircuts use (WAD): ``sigma_r`` for
    MODE_OFF, else ``f = clamp(sigma_f, f_lo * sigma_r // 1e18, f_hi * sigma_r // 1e18)`` and
    ``f`` (replace), ``max(sigma_r, f)`` (max) or ``ceil((sigma_r + f) / 2)`` (blend)."""
    if mode == MODE_OFF:
        return sigma_r
    f = min(max(sigma_f, U(f_lo * sigma_r) // WAD), U(f_hi * sigma_r) // WAD)
    if mode == MODE_REPLACE:
        return f
    if mode == MODE_MAX:
        return max(sigma_r, f)
    return U(sigma_r + f + 1) // 2
