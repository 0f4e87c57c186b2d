"""volmargin_lab.paths.gbm_jump_path: seeding, shape, argument checks and statistics. Pure Python (no chain)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from volmargin_lab.paths import SECONDS_PER_YEAR, gbm_jump_path

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
