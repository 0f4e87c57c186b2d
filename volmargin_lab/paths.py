"""Simulated price paths: geometric Brownian motion with log-normal jumps.

Merton (1976), "Option pricing when underlying stock returns are
discontinuous", J. Financial Economics 3: over a step of dt years,

    log(S_{t+dt} / S_t) = (mu - sigma^2 / 2 - lambda * k) dt + sigma sqrt(dt) Z + sum_{i<=N} Y_i

with Z ~ N(0, 1), N ~ Poisson(lambda dt), Y_i ~ N(jump_mean, jump_std^2) and
k = E[e^Y] - 1 (the drift compensator, so that mu is the expected return).
Years are 31_536_000 s, as everywhere in volmargin.
"""

from __future__ import annotations

import math

import numpy as np

SECONDS_PER_YEAR = 31_536_000


def gbm_jump_path(
    s0: float,
    n_steps: int,
    dt_s: int,
    sigma_annual: float,
    mu_annual: float = 0.0,
    jump_intensity_annual: float = 0.0,
    jump_mean: float = 0.0,
    jump_std: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """A seeded Merton (1976) jump-diffusion price path.

    Each step of ``dt_s`` seconds (``dt = dt_s / 31_536_000`` years) adds the
    log-return ``(mu - sigma^2/2 - lambda k) dt + sigma sqrt(dt) Z + sum of N
    jumps``, with ``Z ~ N(0, 1)``, ``N ~ Poisson(lambda dt)``, each log jump
    ``~ N(jump_mean, jump_std^2)`` and ``k = exp(jump_mean + jump_std^2 / 2) - 1``.
    Random numbers come from ``numpy.random.Generator(PCG64(seed))``, so equal
    arguments give equal paths.

    Parameters
    ----------
    s0 : float
        Start price, USD per whole token; > 0.
    n_steps : int
        Number of steps; >= 1.
    dt_s : int
        Step length, seconds; > 0.
    sigma_annual : float
        Diffusion volatility, annualized (31_536_000 s per year), >= 0; 0.8 = 80 %.
    mu_annual : float
        Expected return, annualized (continuously compounded drift of E[S]).
    jump_intensity_annual : float
        Expected number of jumps per year (lambda); >= 0.
    jump_mean : float
        Mean of the log jump size (e.g. -0.05 = about a 5 % drop).
    jump_std : float
        Standard deviation of the log jump size; >= 0.
    seed : int
        Seed of the PCG64 generator.

    Returns
    -------
    np.ndarray
        float64, shape (n_steps + 1,): prices in USD, ``path[0] == s0``.

    Raises
    ------
    ValueError
        Naming the offending argument (``"<name> must be ..."``) for a
        non-positive or non-finite ``s0``, ``n_steps < 1``, ``dt_s <= 0``, a
        negative or non-finite ``sigma_annual``, ``jump_intensity_annual`` or
        ``jump_std``, or a non-finite ``mu_annual`` or ``jump_mean``.
    """
    if not (math.isfinite(s0) and s0 > 0):
        raise ValueError(f"s0 must be a finite number > 0, got {s0}")
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if dt_s <= 0:
        raise ValueError(f"dt_s must be > 0, got {dt_s}")
    for name, value in (("sigma_annual", sigma_annual), ("jump_intensity_annual", jump_intensity_annual),
                        ("jump_std", jump_std)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    for name, value in (("mu_annual", mu_annual), ("jump_mean", jump_mean)):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
    rng = np.random.Generator(np.random.PCG64(seed))
    dt = dt_s / SECONDS_PER_YEAR
    k = np.exp(jump_mean + 0.5 * jump_std**2) - 1.0
    drift = (mu_annual - 0.5 * sigma_annual**2 - jump_intensity_annual * k) * dt
    diffusion = sigma_annual * np.sqrt(dt) * rng.standard_normal(n_steps)
    n_jumps = rng.poisson(jump_intensity_annual * dt, n_steps)
    # the sum of n i.i.d. normal jumps is normal with mean n*m and variance n*s^2
    jumps = n_jumps * jump_mean + np.sqrt(n_jumps) * jump_std * rng.standard_normal(n_steps)
    log_path = np.concatenate([[0.0], np.cumsum(drift + diffusion + jumps)])
    return s0 * np.exp(log_path)
