"""Simulated price paths: Merton jump-diffusion and GARCH(1,1), seeded and reproducible.

Jump-diffusion (Merton 1976, "Option pricing when underlying stock returns are
discontinuous", J. Financial Economics 3): over a step of dt years,

    log(S_{t+dt} / S_t) = (mu - sigma^2 / 2 - lambda * k) dt + sigma sqrt(dt) Z + sum_{i<=N} Y_i

with Z ~ N(0, 1), N ~ Poisson(lambda dt), Y_i ~ N(jump_mean, jump_std^2) and
k = E[e^Y] - 1 (the drift compensator, so that mu is the expected return).
``gbm_jump_paths`` draws many paths of several correlated assets at once;
``gbm_jump_path`` is the same code with one path of one asset.

GARCH(1,1) (Bollerslev 1986, "Generalized autoregressive conditional
heteroskedasticity", J. Econometrics 31): ``r_t = mu + e_t``, ``e_t = sqrt(h_t) z_t``,
``h_t = omega + alpha e_{t-1}^2 + beta h_{t-1}``; ``garch_paths`` simulates it with
``arch``'s own simulator (``arch.univariate.ConstantMean.simulate``) from the model
``volmargin_lab.calibration.fit_garch`` fitted.

Years are 31_536_000 s, as everywhere in volmargin. Prices USD per whole token.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .calibration import GarchFit

SECONDS_PER_YEAR = 31_536_000


def _per_asset(name: str, value: Any, n: int) -> np.ndarray:
    """``value`` (scalar or (n,)) as an (n,) float64 array; ValueError naming ``name`` otherwise."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim > 1 or (a.ndim == 1 and a.shape[0] != n):
        raise ValueError(f"{name} must be a number or have one entry per asset ({n}), got shape {a.shape}")
    return np.broadcast_to(a, (n,))


def _check_jump_args(s0: np.ndarray, n_steps: int, n_paths: int, dt_s: float, args: dict[str, np.ndarray]) -> None:
    if not np.all(np.isfinite(s0) & (s0 > 0)):
        raise ValueError(f"s0 must be a finite number > 0, got {s0.tolist()}")
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if n_paths < 1:
        raise ValueError(f"n_paths must be >= 1, got {n_paths}")
    if not dt_s > 0:
        raise ValueError(f"dt_s must be > 0, got {dt_s}")
    for name in ("sigma_annual", "jump_intensity_annual", "jump_std"):
        if not np.all(np.isfinite(args[name]) & (args[name] >= 0)):
            raise ValueError(f"{name} must be a finite number >= 0, got {args[name].tolist()}")
    for name in ("mu_annual", "jump_mean"):
        if not np.all(np.isfinite(args[name])):
            raise ValueError(f"{name} must be finite, got {args[name].tolist()}")


def gbm_jump_paths(
    s0: Any,
    n_steps: int,
    dt_s: float,
    sigma_annual: Any,
    mu_annual: Any = 0.0,
    jump_intensity_annual: Any = 0.0,
    jump_mean: Any = 0.0,
    jump_std: Any = 0.0,
    *,
    corr: Any = None,
    n_paths: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """Seeded Merton (1976) jump-diffusion paths of ``A`` correlated assets.

    Each step of ``dt_s`` seconds (``dt = dt_s / 31_536_000`` years) adds to asset ``i``
    the log-return ``(mu_i - sigma_i^2/2 - lambda_i k_i) dt + sigma_i sqrt(dt) W_i +
    N jump_mean_i + sqrt(N) jump_std_i Zj`` with ``k_i = exp(jump_mean_i + jump_std_i^2/2) - 1``.
    ``W = L Z`` for the Cholesky factor ``L`` of ``corr`` (``numpy.linalg.cholesky``) and
    ``Z ~ N(0, I)``. Jumps arrive together in every asset: one Poisson clock
    ``N ~ Poisson(jump_intensity_annual[0] dt)`` and one standard normal ``Zj`` per step
    and path (the sum of ``N`` normal jumps is normal with mean ``N m`` and variance ``N s^2``);
    each asset's drift is compensated with its own ``jump_intensity_annual``, so for a
    second asset whose intensity differs from the first's, ``mu`` is not exactly its
    expected return. With one asset both coincide.

    Random numbers come from ``numpy.random.Generator(PCG64(seed))`` in this order:
    ``Z`` of shape (n_paths, n_steps, A), then ``N`` and ``Zj`` of shape (n_paths, n_steps);
    equal arguments give equal paths.

    Parameters
    ----------
    s0 : float or (A,) start prices, USD per whole token; > 0.
    n_steps : number of steps; >= 1.
    dt_s : step length, seconds; > 0.
    sigma_annual : float or (A,) diffusion volatilities, annualized, >= 0 (0.8 = 80 %).
    mu_annual : float or (A,) expected returns, annualized (continuously compounded drift of E[S]).
    jump_intensity_annual : float or (A,) expected jumps per year (lambda), >= 0; the clock
        runs at the first asset's.
    jump_mean, jump_std : float or (A,) mean and standard deviation (>= 0) of the log jump size.
    corr : (A, A) correlation matrix of the diffusions (positive definite), default identity.
    n_paths : number of paths; >= 1.
    seed : seed of the PCG64 generator.

    Returns
    -------
    float64 (n_paths, n_steps + 1, A): prices in USD, ``paths[:, 0] == s0``.

    Raises
    ------
    ValueError
        Naming the offending argument (``"<name> must be ..."``) for a non-positive or
        non-finite ``s0``, ``n_steps < 1``, ``n_paths < 1``, ``dt_s <= 0``, a negative or
        non-finite ``sigma_annual``, ``jump_intensity_annual`` or ``jump_std``, a non-finite
        ``mu_annual`` or ``jump_mean``, a per-asset argument of the wrong length or a
        ``corr`` that is not an (A, A) matrix; ``numpy.linalg.LinAlgError`` for a ``corr``
        that is not positive definite.
    """
    s0_a = np.atleast_1d(np.asarray(s0, dtype=np.float64))
    if s0_a.ndim != 1:
        raise ValueError(f"s0 must be a number or a vector, got shape {s0_a.shape}")
    A = s0_a.shape[0]
    args = {name: _per_asset(name, value, A) for name, value in (
        ("sigma_annual", sigma_annual), ("mu_annual", mu_annual), ("jump_intensity_annual", jump_intensity_annual),
        ("jump_mean", jump_mean), ("jump_std", jump_std))}
    _check_jump_args(s0_a, n_steps, n_paths, dt_s, args)
    rng = np.random.Generator(np.random.PCG64(seed))
    dt = dt_s / SECONDS_PER_YEAR
    z = rng.standard_normal((n_paths, n_steps, A))
    if corr is not None:
        c = np.asarray(corr, dtype=np.float64)
        if c.shape != (A, A):
            raise ValueError(f"corr must be ({A}, {A}), got shape {c.shape}")
        # W = Z L^T, summed term by term (L is lower triangular: the zeros add nothing)
        z = (z[..., None, :] * np.linalg.cholesky(c)).sum(axis=-1)
    n_jumps = rng.poisson(float(args["jump_intensity_annual"][0]) * dt, (n_paths, n_steps))
    zj = rng.standard_normal((n_paths, n_steps))
    out = np.empty((n_paths, n_steps + 1, A))
    for i in range(A):
        sig, mu, lam, m, s = (float(args[k][i]) for k in (
            "sigma_annual", "mu_annual", "jump_intensity_annual", "jump_mean", "jump_std"))
        k = math.exp(m + 0.5 * s**2) - 1.0
        drift = (mu - 0.5 * sig**2 - lam * k) * dt
        lr = drift + sig * math.sqrt(dt) * z[..., i] + n_jumps * m + np.sqrt(n_jumps) * s * zj
        out[:, 1:, i] = s0_a[i] * np.exp(np.cumsum(lr, axis=1))
        out[:, 0, i] = s0_a[i]
    return out


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
    """One seeded Merton (1976) jump-diffusion price path: ``gbm_jump_paths`` with one path of
    one asset (same arguments, units, random draws and errors).

    Returns
    -------
    np.ndarray
        float64, shape (n_steps + 1,): prices in USD, ``path[0] == s0``.
    """
    return gbm_jump_paths(s0, n_steps, dt_s, sigma_annual, mu_annual, jump_intensity_annual, jump_mean, jump_std,
                          n_paths=1, seed=seed)[0, :, 0]


def garch_paths(fit: GarchFit, s0: float, n_steps: int, n_paths: int, seed: int) -> np.ndarray:
    """Price paths of a fitted GARCH(1,1) of log returns, simulated by ``arch``.

    Each path is one ``arch.univariate.ConstantMean(volatility=GARCH(1, 0, 1)).simulate``
    with the fitted ``(mu, omega, alpha, beta[, nu])`` in per-period units, no burn-in and
    the first conditional variance ``h_1 = fit.last_variance`` (the one-step forecast at the
    end of the fitted sample). ``z_t`` is arch's standardized Student-t (``nu`` degrees of
    freedom, unit variance) or standard normal when ``fit.nu`` is None. The paths draw in
    turn from one ``numpy.random.Generator(PCG64(seed))``, so equal arguments give equal
    paths. Column 0 is ``s0``; column ``k >= 1`` is ``s0 * exp(r_1 + ... + r_k)``.

    Parameters
    ----------
    fit : ``volmargin_lab.calibration.GarchFit`` (per-period units).
    s0 : start price, USD per whole token (> 0).
    n_steps : simulated periods, >= 1.
    n_paths : paths, >= 1.
    seed : seed of the PCG64 generator.

    Returns
    -------
    float64 (n_paths, n_steps + 1), prices in USD.

    Raises
    ------
    ValueError
        For ``s0 <= 0``, ``n_steps < 1``, ``n_paths < 1``, negative GARCH parameters,
        ``nu <= 2`` or a non-positive ``last_variance``.
    """
    from arch.univariate import GARCH, ConstantMean, Normal, StudentsT

    if not (math.isfinite(s0) and s0 > 0):
        raise ValueError(f"s0 must be a positive price, got {s0}")
    if n_steps < 1 or n_paths < 1:
        raise ValueError(f"n_steps and n_paths must be >= 1, got {n_steps}, {n_paths}")
    if fit.omega < 0 or fit.alpha < 0 or fit.beta < 0:
        raise ValueError("omega, alpha and beta must be >= 0")
    if not fit.last_variance > 0:
        raise ValueError(f"last_variance must be > 0, got {fit.last_variance}")
    if fit.nu is not None and not fit.nu > 2:
        raise ValueError(f"nu must be > 2 for a finite variance, got {fit.nu}")
    rng = np.random.Generator(np.random.PCG64(seed))
    dist = Normal(seed=rng) if fit.nu is None else StudentsT(seed=rng)
    model = ConstantMean(None, volatility=GARCH(1, 0, 1), distribution=dist)
    params = np.array([fit.mu, fit.omega, fit.alpha, fit.beta] + ([] if fit.nu is None else [fit.nu]))
    r = np.empty((n_paths, n_steps))
    for k in range(n_paths):
        sim = model.simulate(params, n_steps, burn=0, initial_value_vol=fit.last_variance)
        r[k] = sim["data"].to_numpy()
    out = np.empty((n_paths, n_steps + 1))
    out[:, 0] = s0
    out[:, 1:] = s0 * np.exp(np.cumsum(r, axis=1))
    return out
