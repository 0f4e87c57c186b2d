"""volmargin_lab.paths: the jump-diffusion generator (one path and many correlated paths) and the
GARCH(1,1) paths simulated by arch: seeding, shape, argument checks and statistics. Pure Python (no chain)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from volmargin_lab.calibration import GarchFit
from volmargin_lab.paths import SECONDS_PER_YEAR, garch_paths, gbm_jump_path, gbm_jump_paths

HOUR = 3_600


def _annualized_sigma(path: np.ndarray, dt_s: int) -> float:
    r = np.diff(np.log(path))
    return float(r.std(ddof=1) * math.sqrt(SECONDS_PER_YEAR / dt_s))


def test_shape_start_and_positivity():
    p = gbm_jump_path(100.0, 50, HOUR, 0.8, 0.1, 20.0, -0.1, 0.05, seed=3)
    assert p.shape == (51,) and p.dtype == np.float64
    assert p[0] == 100.0 and np.all(p > 0) and np.all(np.isfinite(p))
    assert gbm_jump_path(2.5, 1, 1, 0.0).shape == (2,)


def test_same_seed_same_path_other_seed_other_path():
    a = gbm_jump_path(100.0, 500, HOUR, 0.8, jump_intensity_annual=30.0, jump_mean=-0.05, jump_std=0.05, seed=3)
    b = gbm_jump_path(100.0, 500, HOUR, 0.8, jump_intensity_annual=30.0, jump_mean=-0.05, jump_std=0.05, seed=3)
    c = gbm_jump_path(100.0, 500, HOUR, 0.8, jump_intensity_annual=30.0, jump_mean=-0.05, jump_std=0.05, seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_seed_is_pcg64_standard_normals():
    # without jumps the path is s0 * exp(cumsum(drift + sigma sqrt(dt) Z)) with Z from PCG64(seed)
    sigma, n, seed = 0.6, 100, 11
    dt = HOUR / SECONDS_PER_YEAR
    z = np.random.Generator(np.random.PCG64(seed)).standard_normal(n)
    expected = 50.0 * np.exp(np.r_[0.0, np.cumsum(-0.5 * sigma**2 * dt + sigma * math.sqrt(dt) * z)])
    np.testing.assert_allclose(gbm_jump_path(50.0, n, HOUR, sigma, seed=seed), expected, rtol=1e-12)


def test_zero_volatility_is_deterministic_drift():
    p = gbm_jump_path(100.0, 365, 86_400, 0.0, mu_annual=0.05, seed=9)
    np.testing.assert_allclose(p, 100.0 * np.exp(0.05 * np.arange(366) * 86_400 / SECONDS_PER_YEAR), rtol=1e-12)
    assert p[-1] == pytest.approx(100.0 * math.exp(0.05 * 365 * 86_400 / SECONDS_PER_YEAR))


@pytest.mark.parametrize("sigma, dt_s", [(0.8, HOUR), (0.3, 300), (1.5, 86_400)])
def test_estimated_sigma_matches_input(sigma, dt_s):
    n = 200_000
    est = _annualized_sigma(gbm_jump_path(100.0, n, dt_s, sigma, seed=1), dt_s)
    # standard error of a sample standard deviation is sigma / sqrt(2 (n - 1)); allow 5 of them
    assert abs(est - sigma) < 5 * sigma / math.sqrt(2 * (n - 1))


def test_drift_compensator_keeps_expected_return():
    # E[S_T] = s0 * exp(mu T) with jumps too (k compensates the jumps' mean)
    mu, T_steps = 0.2, 24 * 30
    finals = np.array([
        gbm_jump_path(1.0, T_steps, HOUR, 0.5, mu, 40.0, -0.03, 0.04, seed=s)[-1] for s in range(2_000)
    ])
    T = T_steps * HOUR / SECONDS_PER_YEAR
    se = finals.std(ddof=1) / math.sqrt(len(finals))
    assert abs(finals.mean() - math.exp(mu * T)) < 5 * se


def test_jumps_fatten_tails_and_add_their_variance():
    n, lam, m, s = 200_000, 50.0, -0.05, 0.05
    plain = np.diff(np.log(gbm_jump_path(100.0, n, HOUR, 0.8, seed=1)))
    jumpy = np.diff(np.log(gbm_jump_path(100.0, n, HOUR, 0.8, 0.0, lam, m, s, seed=1)))

    def kurt(x: np.ndarray) -> float:
        return float(((x - x.mean()) ** 4).mean() / x.var() ** 2)

    assert abs(kurt(plain) - 3.0) < 0.1
    assert kurt(jumpy) > 5.0
    # per-step variance of a compound Poisson jump: lambda dt (m^2 + s^2)
    dt = HOUR / SECONDS_PER_YEAR
    expected_var = 0.8**2 * dt + lam * dt * (m**2 + s**2)
    assert jumpy.var() == pytest.approx(expected_var, rel=0.05)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"s0": 0.0}, "s0"),
        ({"s0": -1.0}, "s0"),
        ({"s0": math.nan}, "s0"),
        ({"n_steps": 0}, "n_steps"),
        ({"dt_s": 0}, "dt_s"),
        ({"dt_s": -60}, "dt_s"),
        ({"sigma_annual": -0.1}, "sigma_annual"),
        ({"sigma_annual": math.nan}, "sigma_annual"),
        ({"jump_intensity_annual": -1.0}, "jump_intensity_annual"),
        ({"jump_std": -1.0}, "jump_std"),
        ({"mu_annual": math.inf}, "mu_annual"),
        ({"jump_mean": math.nan}, "jump_mean"),
    ],
)
def test_rejects_bad_arguments_by_name(kwargs, name):
    args = dict(s0=1.0, n_steps=1, dt_s=1, sigma_annual=0.1) | kwargs
    with pytest.raises(ValueError, match=f"^{name} must be"):
        gbm_jump_path(**args)


# ------------------------------------------------------------ many paths, several assets


def test_one_path_is_the_first_of_many():
    # the single-path call is the vectorized generator with one path of one asset: same draws
    args = (100.0, 300, HOUR, 0.8, 0.1, 30.0, -0.05, 0.05)
    many = gbm_jump_paths(*args, n_paths=1, seed=5)
    assert many.shape == (1, 301, 1)
    assert np.array_equal(many[0, :, 0], gbm_jump_path(*args, seed=5))


def test_many_paths_shape_seed_and_start():
    kw = dict(mu_annual=[0.0, 0.1], jump_intensity_annual=[40.0, 40.0], jump_mean=[-0.03, -0.05],
              jump_std=[0.03, 0.04], corr=[[1.0, 0.6], [0.6, 1.0]], n_paths=50)
    a = gbm_jump_paths([2000.0, 30000.0], 200, HOUR, [0.8, 0.6], seed=4, **kw)
    assert a.shape == (50, 201, 2) and a.dtype == np.float64
    assert np.all(a[:, 0] == [2000.0, 30000.0]) and np.all(a > 0)
    assert np.array_equal(a, gbm_jump_paths([2000.0, 30000.0], 200, HOUR, [0.8, 0.6], seed=4, **kw))
    assert not np.array_equal(a, gbm_jump_paths([2000.0, 30000.0], 200, HOUR, [0.8, 0.6], seed=5, **kw))


def test_correlation_and_common_jumps():
    rho, n = 0.7, 200_000
    a = gbm_jump_paths([1.0, 1.0], n, HOUR, [0.8, 0.4], corr=[[1.0, rho], [rho, 1.0]], seed=2)
    r = np.diff(np.log(a[0]), axis=0)
    # standard error of a correlation estimate is (1 - rho^2) / sqrt(n); allow 5 of them
    assert abs(np.corrcoef(r.T)[0, 1] - rho) < 5 * (1 - rho**2) / math.sqrt(n)
    assert r[:, 1].std() / r[:, 0].std() == pytest.approx(0.5, rel=0.01)
    # jumps without diffusion: both assets jump at the same steps, sizes from one normal
    j = gbm_jump_paths([1.0, 1.0], 5_000, HOUR, 0.0, jump_intensity_annual=[500.0, 500.0], jump_mean=[-0.1, -0.2],
                       jump_std=[0.02, 0.04], seed=3)
    rj = np.diff(np.log(j[0]), axis=0)
    drift = np.median(rj, axis=0)  # most steps do not jump: the compensator (-lambda k) dt alone
    jumped = np.abs(rj - drift) > 1e-9
    assert 0.02 < jumped[:, 0].mean() < 0.1 and np.array_equal(jumped[:, 0], jumped[:, 1])
    # asset 1's log jump law is twice asset 0's (mean and std): twice the same jump
    np.testing.assert_allclose(rj[jumped[:, 0], 1] - drift[1], 2.0 * (rj[jumped[:, 0], 0] - drift[0]), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"n_paths": 0}, "n_paths"), ({"sigma_annual": [0.1, 0.2, 0.3]}, "sigma_annual"),
     ({"corr": [[1.0]]}, "corr"), ({"s0": [1.0, -1.0]}, "s0")],
)
def test_many_paths_reject_bad_arguments_by_name(kwargs, name):
    args = dict(s0=[1.0, 2.0], n_steps=1, dt_s=1, sigma_annual=0.1) | kwargs
    with pytest.raises(ValueError, match=f"^{name} must be"):
        gbm_jump_paths(**args)


# ------------------------------------------------------------------ GARCH(1,1) by arch


def _fit(nu: float | None, last_variance: float) -> GarchFit:
    return GarchFit(omega=2e-5, alpha=0.05, beta=0.90, mu=0.0, nu=nu, periods_per_year=365.0,
                    last_variance=last_variance)


def test_garch_paths_shape_seed_and_start():
    fit = _fit(6.0, 4e-4)
    a = garch_paths(fit, 2_000.0, 49, 300, seed=7)
    assert a.shape == (300, 50) and a.dtype == np.float64
    assert np.all(a[:, 0] == 2_000.0) and np.all(a > 0)
    assert np.array_equal(a, garch_paths(fit, 2_000.0, 49, 300, seed=7))
    assert not np.array_equal(a, garch_paths(fit, 2_000.0, 49, 300, seed=8))
    with pytest.raises(ValueError):
        garch_paths(fit, -1.0, 5, 5, seed=0)
    with pytest.raises(ValueError):
        garch_paths(fit, 1.0, 0, 5, seed=0)
    with pytest.raises(ValueError):
        garch_paths(_fit(2.0, 4e-4), 1.0, 5, 5, seed=0)


def test_garch_paths_are_arch_simulations():
    # path k is arch's simulation with the fitted parameters, h_1 = last_variance, drawing after path k - 1
    from arch.univariate import GARCH, ConstantMean, StudentsT

    fit = GarchFit(omega=3e-6, alpha=0.08, beta=0.9, mu=1e-4, nu=5.0, periods_per_year=8_760.0, last_variance=2e-5)
    rng = np.random.Generator(np.random.PCG64(9))
    am = ConstantMean(None, volatility=GARCH(1, 0, 1), distribution=StudentsT(seed=rng))
    want = [am.simulate([1e-4, 3e-6, 0.08, 0.9, 5.0], 20, burn=0, initial_value_vol=2e-5) for _ in range(3)]
    got = garch_paths(fit, 50.0, 20, 3, seed=9)
    for k in range(3):
        np.testing.assert_allclose(np.diff(np.log(got[k])), want[k]["data"].to_numpy(), rtol=1e-9, atol=1e-15)
        assert want[k]["volatility"].iloc[0] ** 2 == pytest.approx(2e-5, rel=1e-12)


@pytest.mark.parametrize("nu", [None, 8.0])
def test_garch_paths_stationary_and_conditional_variance(nu):
    # alpha + beta = 0.95: unconditional variance omega / (1 - alpha - beta) = 4e-4 per period
    # (Bollerslev 1986); started there, every period's return variance stays 4e-4
    fit = _fit(nu, 4e-4)
    r = np.diff(np.log(garch_paths(fit, 100.0, 200, 5_000, seed=11)), axis=1)
    assert r.var() == pytest.approx(4e-4, rel=0.05)
    assert r[:, -20:].var() == pytest.approx(4e-4, rel=0.08)
    # started at ten times that: E[r_1^2] = h_1 = 4e-3, E[r_2^2] = omega + (alpha + beta) h_1 = 3.82e-3
    hot = np.diff(np.log(garch_paths(_fit(nu, 4e-3), 100.0, 2, 40_000, seed=12)), axis=1)
    assert np.mean(hot[:, 0] ** 2) == pytest.approx(4e-3, rel=0.04)
    assert np.mean(hot[:, 1] ** 2) == pytest.approx(3.82e-3, rel=0.06)
