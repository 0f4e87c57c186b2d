"""Monte Carlo bad-debt distribution per policy (issue #5 item 5), through dask.

Two path models, both fitted to the long hourly histories of
``volmargin_lab.calibration.load_long_history`` (WETH, WBTC; USD held at 1):

* ``gbm-jump``: Merton (1976) jump-diffusion with correlated assets
  (``volmargin_lab.paths.gbm_jump_paths``). Hourly log returns beyond ``JUMP_THRESHOLD`` robust
  standard deviations (median absolute deviation x 1.4826) are jumps: their yearly count is
  the intensity, their mean and standard deviation the log-jump law; the rest give the
  diffusion volatility and the ETH/BTC correlation. Jumps arrive together in both assets
  (one Poisson clock at WETH's intensity, the same standard normal for both sizes).
* ``garch``: ``volmargin_lab.calibration.fit_garch`` (GARCH(1,1), Student-t) per asset on the
  hourly log returns, paths simulated by ``arch`` (``volmargin_lab.paths.garch_paths``) from the
  fitted ``last_variance``. The agreed interface draws one asset at a time: the two assets' GARCH
  paths are independent (stated in the report).

Each path starts at the default listing prices, lists the oracle with the model's
starting variance, opens the seeded population (every account at its leverage times its
policy's borrowing power: the fair comparison) and runs ``horizon_h`` hourly steps through
``engine.VaultSim`` with the episode frictions. Paths are independent: batches of
``batch`` paths are dask tasks, seeded by (seed, model, batch index), so the result does not
depend on the scheduler. Local default: ``dask`` processes; ``scheduler=ADDRESS`` uses a
``distributed.Client`` (a cluster).

Units: USD, seconds, fractions; volatilities annualized over 31,536,000 s.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from volmargin import params as P
from .engine import Frictions, VaultSim
from .metrics import tail_stats
from .policies import Policy, make_policy
from .portfolio import book_borrowing_power
from ..paths import garch_paths, gbm_jump_paths
from ..population import borrowing_power, make_population, open_balances

YEAR_S = 31_536_000.0
HOURS_PER_YEAR = YEAR_S / 3600.0
JUMP_THRESHOLD = 4.0
MC_SYMBOLS: tuple[str, ...] = ("USD", "WETH", "WBTC")
MODELS: tuple[str, ...] = ("gbm-jump", "garch")


@dataclass(frozen=True)
class JumpFit:
    """Merton jump-diffusion of one asset: ``sigma`` (annual diffusion vol), ``intensity``
    (jumps per year), ``jump_mean``/``jump_std`` (log jump law), ``mu`` (annual drift, set to 0)."""

    sigma: float
    intensity: float
    jump_mean: float
    jump_std: float
    mu: float = 0.0

    @property
    def annual_var(self) -> float:
        """Total variance per year: sigma^2 + intensity (jump_mean^2 + jump_std^2)."""
        return self.sigma**2 + self.intensity * (self.jump_mean**2 + self.jump_std**2)


def fit_jumps(log_returns: np.ndarray, periods_per_year: float = HOURS_PER_YEAR) -> JumpFit:
    """Threshold estimate of a jump-diffusion from per-period log returns (see module docstring).

    Raises ValueError for fewer than 100 finite returns."""
    r = np.asarray(log_returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 100:
        raise ValueError(f"need at least 100 finite returns, got {r.size}")
    med = np.median(r)
    robust = 1.4826 * np.median(np.abs(r - med))
    jump = np.abs(r - med) > JUMP_THRESHOLD * robust
    diff = r[~jump]
    sigma = float(diff.std(ddof=1) * math.sqrt(periods_per_year))
    years = r.size / periods_per_year
    js = r[jump]
    return JumpFit(
        sigma=sigma,
        intensity=float(js.size / years),
        jump_mean=float(js.mean()) if js.size else 0.0,
        jump_std=float(js.std(ddof=1)) if js.size > 1 else 0.0,
    )


@dataclass
class PathModels:
    """Fitted models: ``jumps[sym]``, ``garch[sym]`` (``calibration.GarchFit`` or None),
    ``rho`` (ETH/BTC diffusion correlation), ``source`` (what they were fitted on),
    ``s0[sym]`` start prices (USD)."""

    jumps: dict[str, JumpFit]
    garch: dict[str, Any]
    rho: float
    source: dict[str, Any]
    s0: dict[str, float] = field(default_factory=lambda: {t.symbol: t.start_price_usd for t in P.TOKENS})

    def describe(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {
            "gbm_jump": {s: asdict(j) for s, j in self.jumps.items()},
            "rho_eth_btc": self.rho,
            "garch": {s: (g.to_dict() if g is not None else None) for s, g in self.garch.items()},
            "start_prices_usd": self.s0,
            "source": self.source,
        }


def fit_models(quick: bool = False, garch: bool = True) -> PathModels:
    """Fit both path models to the long hourly histories (``calibration.load_long_history``).

    ``quick``: the last 2,000 hourly returns only (for the GARCH fit too). ``garch=False``
    skips the GARCH fit. Raises ``volmargin_lab.data.DataError`` for missing files and
    ImportError when ``volmargin_lab.calibration`` is absent."""
    from .. import calibration as C

    rets: dict[str, np.ndarray] = {}
    stamps: dict[str, np.ndarray] = {}
    source: dict[str, Any] = {"quick": quick}
    for s in ("WETH", "WBTC"):
        bars = C.load_long_history(s)
        lr = np.diff(np.log(bars.close))
        ok = np.diff(bars.timestamp) == 3600  # hourly returns only (gaps are not one period)
        lr, ts = lr[ok], bars.timestamp[1:][ok]
        if quick:
            lr, ts = lr[-2000:], ts[-2000:]
        rets[s], stamps[s] = lr, ts
        source[s] = {"returns": int(lr.size), "first_utc": int(ts[0]), "last_utc": int(ts[-1]),
                     "files": list(C.LONG_HISTORY[s])}
    jumps = {s: fit_jumps(r) for s, r in rets.items()}
    common, ie, ib = np.intersect1d(stamps["WETH"], stamps["WBTC"], return_indices=True)
    a, b = rets["WETH"][ie], rets["WBTC"][ib]
    keep = (np.abs(a - np.median(a)) < 4 * 1.4826 * np.median(np.abs(a - np.median(a)))) & (
        np.abs(b - np.median(b)) < 4 * 1.4826 * np.median(np.abs(b - np.median(b)))
    )
    rho = float(np.corrcoef(a[keep], b[keep])[0, 1])
    fits = {s: (C.fit_garch(r, HOURS_PER_YEAR) if garch else None) for s, r in rets.items()}
    return PathModels(jumps, fits, rho, source)


def price_paths(models: PathModels, model: str, n_steps: int, n_paths: int, seed: int,
                dt_s: float = 3600.0) -> np.ndarray:
    """(n_paths, n_steps + 1, 3) prices (USD) over MC_SYMBOLS, USD held at 1, WETH and WBTC from
    ``volmargin_lab.paths``: ``"gbm-jump"`` correlated jump-diffusions with a common jump clock
    (``paths.gbm_jump_paths``, ``dt_s`` seconds a step), ``"garch"`` independent GARCH(1,1)
    paths per asset (``paths.garch_paths``, one period a step, seeded ``seed * 7 + asset``).

    Raises ValueError for an unknown ``model``."""
    out = np.ones((n_paths, n_steps + 1, len(MC_SYMBOLS)))
    risky = ("WETH", "WBTC")
    if model == "gbm-jump":
        j = [models.jumps[s] for s in risky]
        out[..., 1:] = gbm_jump_paths(
            [models.s0[s] for s in risky], n_steps, dt_s, [x.sigma for x in j], [x.mu for x in j],
            [x.intensity for x in j], [x.jump_mean for x in j], [x.jump_std for x in j],
            corr=[[1.0, models.rho], [models.rho, 1.0]], n_paths=n_paths, seed=seed)
    elif model == "garch":
        for i, s in enumerate(risky):
            out[:, :, i + 1] = garch_paths(models.garch[s], models.s0[s], n_steps, n_paths, seed * 7 + i)
    else:
        raise ValueError(f"unknown path model {model!r}; known: {', '.join(MODELS)}")
    return out


def _start_var(models: PathModels, model: str) -> np.ndarray:
    v = [P.TOKENS[0].var_seed / 1e18]
    for s in ("WETH", "WBTC"):
        if model == "garch":
            g = models.garch[s]
            v.append(g.last_variance / 3600.0)
        else:
            v.append(models.jumps[s].annual_var / YEAR_S)
    return np.array(v)


@dataclass(frozen=True)
class MCConfig:
    """Monte Carlo size: ``n_paths`` per model, ``n_accounts``, ``horizon_h`` hourly steps,
    ``batch`` paths per dask task, ``seed``."""

    n_paths: int = 1000
    n_accounts: int = 10_000
    horizon_h: int = 168
    batch: int = 25
    seed: int = 7

    def __post_init__(self) -> None:
        for k in ("n_paths", "n_accounts", "horizon_h", "batch"):
            if getattr(self, k) < 1:
                raise ValueError(f"{k} must be >= 1, got {getattr(self, k)}")


def simulate_batch(
    model: str, policies: tuple[str | Policy, ...], index: int, size: int, cfg: MCConfig, models: PathModels,
    frictions: Frictions, book: str = "lab", rho: float | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """One dask task: ``size`` paths of ``model`` (seeded by ``cfg.seed``, model, ``index``)
    through every policy (a ``make_policy`` name or a ``Policy``, keyed by its name). ``book``
    (``population.BOOKS``): "lab" opens the lab's population with ``population.borrowing_power``;
    "hedged" / "diversified" open the portfolio study's books with
    ``portfolio.book_borrowing_power`` under each policy's margin. ``rho`` replaces the fitted
    WETH-WBTC diffusion correlation (a regime). Returns policy -> {"bad_debt_usd", "borrows_usd",
    "liquidations"} (size,)."""
    seed = cfg.seed * 1_000_003 + MODELS.index(model) * 10_007 + index
    paths = price_paths(models if rho is None else replace(models, rho=rho), model, cfg.horizon_h, size, seed)
    times = np.arange(cfg.horizon_h + 1) * 3600.0
    pop = make_population(cfg.n_accounts, cfg.seed, MC_SYMBOLS, book=book)
    p0 = paths[0, 0]
    tokens = pop.collateral_usd / p0
    var0 = _start_var(models, model)
    out: dict[str, dict[str, np.ndarray]] = {}
    for p in policies:
        pol = p if isinstance(p, Policy) else make_policy(p)
        pm = pol.portfolio.margin(MC_SYMBOLS) if pol.portfolio else None
        sim = VaultSim(MC_SYMBOLS, pol.oracle_model(MC_SYMBOLS), pol.vault_model(), frictions, paths, times, var0,
                       track_bp=False, dtype=np.float32, screen=pm is None, portfolio=pm)
        v = sim.view()
        if book == "lab":
            bp = borrowing_power(tokens, pop.debt_asset, v["price"][0], v["h_init"][0], v["kappa"][0], v["depth"][0],
                                 v["breaker"][0], pol.vault_model().caution_scale)
        else:
            bp = book_borrowing_power(tokens, pop.debt_asset, v["price"][0], v["h_init"][0], pm)
        sim.open(open_balances(pop, p0, pop.leverage * bp))
        res = sim.run()
        out[pol.name] = {"bad_debt_usd": res.bad_debt_usd, "borrows_usd": res.borrows_open_usd,
                         "liquidations": res.liq_count.sum(axis=1)}
    return out


def mc_tasks(
    cfg: MCConfig, policies: tuple[str, ...], models: PathModels, frictions: Frictions,
    which: tuple[str, ...] = MODELS,
) -> tuple[list[Any], list[str]]:
    """The dask tasks of a Monte Carlo (one per model and batch) and the model of each."""
    import dask

    tasks, keys = [], []
    for model in which:
        for i, start in enumerate(range(0, cfg.n_paths, cfg.batch)):
            size = min(cfg.batch, cfg.n_paths - start)
            tasks.append(dask.delayed(simulate_batch)(model, tuple(policies), i, size, cfg, models, frictions))
            keys.append(model)
    return tasks, keys


def mc_collect(parts: list[Any], keys: list[str], policies: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """model -> policy -> statistics (``tail_stats`` of the bad debt in USD and in percent of the
    opening borrows, mean liquidations per path) and the samples, from the tasks' results."""
    out: dict[str, dict[str, Any]] = {}
    for model in dict.fromkeys(keys):
        mine = [p for p, k in zip(parts, keys) if k == model]
        out[model] = {}
        for name in policies:
            bad = np.concatenate([p[name]["bad_debt_usd"] for p in mine])
            borrows = np.concatenate([p[name]["borrows_usd"] for p in mine])
            liq = np.concatenate([p[name]["liquidations"] for p in mine])
            pct = 100.0 * bad / np.where(borrows > 0, borrows, 1.0)
            out[model][name] = {
                "bad_debt_usd": tail_stats(bad),
                "bad_debt_pct_of_borrows": tail_stats(pct),
                "liquidations_mean": float(liq.mean()),
                "borrows_open_usd_mean": float(borrows.mean()),
                "samples_usd": bad,
                "samples_pct": pct,
            }
    return out


def compute(tasks: list[Any], scheduler: str | None = None, workers: int | None = None, progress: bool = True) -> list[Any]:
    """Compute dask ``tasks``: None = local processes (``workers``, default one per CPU),
    "threads" / "synchronous" = those local schedulers, anything else = the address of a
    ``dask.distributed`` scheduler. Shows a progress bar unless ``progress`` is False."""
    import dask

    if scheduler in (None, "processes", "threads", "synchronous"):
        kw: dict[str, Any] = {"scheduler": scheduler or "processes"}
        if kw["scheduler"] != "synchronous":
            kw["num_workers"] = workers
        if progress:
            from dask.diagnostics import ProgressBar

            with ProgressBar():
                return list(dask.compute(*tasks, **kw))
        return list(dask.compute(*tasks, **kw))
    from distributed import Client, progress as dprogress

    with Client(scheduler) as client:
        futures = client.compute(tasks)
        if progress:
            dprogress(futures)
        return list(client.gather(futures))


def run_monte_carlo(
    cfg: MCConfig,
    policies: tuple[str, ...],
    models: PathModels,
    frictions: Frictions,
    which: tuple[str, ...] = MODELS,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """Every (model, batch) as a dask task (``compute``); returns ``mc_collect``'s dict."""
    tasks, keys = mc_tasks(cfg, policies, models, frictions, which)
    return mc_collect(compute(tasks, scheduler, workers, progress), keys, tuple(policies))
