"""Simulated price paths: geometric Brownian motion with log-normal jumps.

Merton (1976), "Option pricing when underlying stock returns are
discontinuous", J. Financial Economics 3: over a step of dt years,

    log(S_{t+dt} / S_t) = (mu - sigma^2 / 2 - lambda * k) dt + sigma sqrt(dt) Z + sum_{i<=N} Y_i

with Z ~ N(0, 1), N ~ Poisson(lambda dt), Y_i ~ N(jump_mean, jump_std^2) and
k = E[e^Y] - 1 (the drift compensator, so that mu is the expected return).
Years are 31_536_000 s, as everywhere in volmargin.
"""

from __future__ import annotations

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
    """A seeded Merton jump-diffusion price path.

    Parameters
    ----------
    s0 : start price, USD (> 0).
    n_steps : number of steps (>= 1).
    dt_s : step length, seconds (> 0).
    sigma_annual : diffusion volatility, annualized (>= 0; 0.8 = 80 %).
    mu_annual : expected return, annualized.
    jump_intensity_annual : expected number of jumps per year (>= 0).
    jump_mean, jump_std : mean and standard deviation (>= 0) of the log jump size.
    seed : seed of the PCG64 generator.

    Returns
    -------
    float64 array of shape (n_steps + 1,): the path, starting at ``s0``.

    Raises
    ------
    ValueError naming the offending argument.
    """
    if not s0 > 0:
        raise ValueError(f"s0 must be > 0, got {s0}")
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if dt_s <= 0:
        raise ValueError(f"dt_s must be > 0, got {dt_s}")
    if sigma_annual < 0:
        raise ValueError(f"sigma_annual must be >= 0, got {sigma_annual}")
    if jump_intensity_annual < 0:
        raise ValueError(f"jump_intensity_annual must be >= 0, got {jump_intensity_annual}")
    if jump_std < 0:
        raise ValueError(f"jump_std must be >= 0, got {jump_std}")
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
