"""The efficient frontier of docs/frontier-protocol-v2.md (v1: docs/frontier-protocol.md): static
and dynamic margin swept over their risk knobs, crash bad debt against calm borrowing power, the
selection rule with its training checks, and the verdict.

Every grid point is a policy of ``policies.make_policy_from(family, **knobs)``, run through the
lab's episode runner (``episodes.run_episode``, ``fraction`` opening: every account at the same
fraction of its own policy's borrowing power, the lab's frictions) on the training and held-out
episodes, as dask tasks of the stress run's graph (``run.py``). The dynamic family's stressed
floor ``h_min`` is re-derived per horizon from the training part of the long hourly history.
Then: the eligible points in the rule's order (``eligible``), the training checks of the first
``max_walk`` of them (``walk_checks``: identical openings on the training crashes, coverage on the
training history), the chosen point (the first that passes), and its held-out checks
(``check_chosen``: identical openings on every crash, coverage on the held-out history).

Units: USD (bad debt, liquidation volume), fractions (haircuts, borrowing power per USD of
collateral, LT/LTV), hours (``horizon_h``), seconds (times).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from volmargin import model as M
from volmargin import spec as S
from .engine import Frictions
from .episodes import run_episode
from .policies import KNOB_ASSETS, STATIC_AAVE_LT, STATIC_LTV_LT, Policy, make_policy, make_policy_from, \
    static_grid_point

#: The protocol this module implements (docs/frontier-protocol-v2.md).
PROTOCOL = 2
#: docs/frontier-protocol-v2.md "Split".
TRAIN_CRASHES: tuple[str, ...] = ("eth-2020-03", "crash-2021-05", "luna-2022-05", "ftx-2022-11")
#: The held-out crashes no version of the lab ran before protocol v2 (reported apart as well).
UNSEEN_CRASHES: tuple[str, ...] = ("crash-2024-12", "crash-2025-02")
HELDOUT_CRASHES: tuple[str, ...] = ("usdc-2023-03", "crash-2024-08") + UNSEEN_CRASHES
TRAIN_CALM = "calm-2019-03"
HELDOUT_CALM = "calm-2023-09"
#: The target of the goal: at least this calm borrowing power gain over the static Aave point.
GOAL_GAIN = 0.10
#: Quantile level of the re-derived stressed floor and of the coverage test.
FLOOR_LEVEL = 0.99
#: The floor is rounded up to this step (fraction).
FLOOR_STEP = 0.005
#: The most eligible points the selection rule checks on the training data (protocol v2, rule 3).
MAX_WALK = 12
#: Thin collateral whose floor the dynamic grid sweeps (``toxic_floors``).
TOXIC_ASSETS: tuple[str, ...] = ("LUNA", "FTT")
#: Knobs of a dynamic point's ``params`` that describe the grid but are not policy knobs.
_DESCRIPTIVE = ("gap", "buffer", "toxic_floor")


@dataclass(frozen=True)
class FrontierConfig:
    """The grids and the population of one frontier run (docs/frontier-protocol-v2.md "Grids").

    static_lt : WETH liquidation thresholds (fractions; must contain ``STATIC_AAVE_LT``).
    z_maint, gaps (z_init = z_maint + gap), horizons_h (hours), buffers (h_min_init = h_min +
    buffer, fractions; only 0 runs while the oracle has no ``h_min_init``), toxic_floors (``h_min``
    of LUNA and FTT, fractions): the dynamic grid. max_walk: eligible points checked by the rule.
    extra_axes : further dynamic grid axes, knob name -> values (any ``make_policy_from`` knob).
    accounts : accounts per episode; chunk : grid points per dask task; max_hours : hours after
    opening simulated (None: whole episodes).
    """

    static_lt: tuple[float, ...] = tuple(round(0.70 + 0.025 * k, 3) for k in range(9))
    z_maint: tuple[float, ...] = (2.0, 2.5, 3.0, 3.5)
    gaps: tuple[float, ...] = (0.5, 1.0)
    horizons_h: tuple[float, ...] = (4.0, 8.0, 12.0, 16.0, 24.0)
    buffers: tuple[float, ...] = (0.0, 0.02)
    toxic_floors: tuple[float, ...] = (0.30, 0.40)
    extra_axes: dict[str, tuple[float, ...]] = field(default_factory=dict)
    accounts: int = 400
    chunk: int = 6
    max_hours: float | None = None
    max_walk: int = MAX_WALK
    train_crashes: tuple[str, ...] = TRAIN_CRASHES
    heldout_crashes: tuple[str, ...] = HELDOUT_CRASHES
    train_calm: str = TRAIN_CALM
    heldout_calm: str = HELDOUT_CALM
    unseen_crashes: tuple[str, ...] = UNSEEN_CRASHES

    @property
    def episodes(self) -> tuple[str, ...]:
        """Every episode the frontier runs: calm windows first, then crashes."""
        return (self.train_calm, self.heldout_calm) + self.train_crashes + self.heldout_crashes

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready copy, with the grid axes actually run (``buffers_run``)."""
        return {**asdict(self), "buffers_run": list(active_buffers(self)), "initial_floor_lever": has_initial_floor(),
                "protocol": PROTOCOL}


#: ``--quick``: 2 static and 2 dynamic points, 24 h after opening, 100 accounts.
QUICK_FRONTIER = FrontierConfig(static_lt=(0.775, STATIC_AAVE_LT), z_maint=(2.0,), gaps=(1.0,), horizons_h=(4.0, 24.0),
                                buffers=(0.0,), toxic_floors=(0.30,), accounts=100, chunk=4, max_hours=24.0,
                                max_walk=2)


def has_initial_floor() -> bool:
    """Whether the oracle vector has a separate initial floor (``h_min_init``)."""
    return "h_min_init" in S.ORACLE.names


def active_buffers(cfg: FrontierConfig) -> tuple[float, ...]:
    """The buffers that run: all of ``cfg.buffers`` with an initial-floor lever, else only 0."""
    return tuple(cfg.buffers) if has_initial_floor() else tuple(b for b in cfg.buffers if b == 0.0) or (0.0,)


def bonus_floor(bonus_max: float) -> float:
    """Smallest floor on the ``FLOOR_STEP`` grid strictly above ``bonus_max / (1 + bonus_max)``
    (fraction): below it a liquidation lowers the account's health (docs/design.md §6)."""
    b = bonus_max / (1.0 + bonus_max)
    return (math.floor(b / FLOOR_STEP + 1e-9) + 1) * FLOOR_STEP


def training_floors(horizons_h: tuple[float, ...], quick: bool = False) -> dict[float, dict[str, dict[str, float]]]:
    """Stressed floor per horizon (hours) and asset: ``{H: {symbol: {"q", "h_min", "windows"}}}``.

    ``q`` is the 99 % quantile (``calibration.stressed_floor``) of the long-side loss over
    non-overlapping ``H`` windows of the training history (``load_long_history``, after the
    burn-in and before ``calibration.TEST_START``; ``--quick``: its quick training window);
    ``h_min`` is ``q`` rounded up to ``FLOOR_STEP``, then raised to ``bonus_floor`` of the
    dynamic vault's ``bonus_max`` where below. Raises DataError for missing history files."""
    from .. import calibration as C

    bonus = make_policy("dynamic-calibrated").vault_model().bonus_max
    lo = bonus_floor(bonus)
    out: dict[float, dict[str, dict[str, float]]] = {}
    for s in KNOB_ASSETS:
        bars = C.load_long_history(s)
        times = (bars.timestamp + bars.resolution_s).astype(np.int64)
        start, end = int(times[0]) + C.BURN_IN_S, C.TEST_START
        if quick:
            start, end = C.QUICK_WINDOW[0], C.QUICK_WINDOW[1]
        op = make_policy("dynamic-calibrated").oracle[s]
        # the losses need no oracle history: it runs only over the windows
        keep = (times >= start - int(max(horizons_h) * 3600)) & (times <= end + int(max(horizons_h) * 3600))
        for h in horizons_h:
            win = C.haircut_windows(bars.close[keep], times[keep], op, int(h * 3600), start=start, end=end)
            _, q = C.stressed_floor(win.loss_long, FLOOR_LEVEL)
            hm = math.ceil(q / FLOOR_STEP - 1e-9) * FLOOR_STEP
            out.setdefault(h, {})[s] = {"q": q, "h_min": round(max(hm, lo), 6), "windows": int(len(win.start)),
                                        "bonus_floor_binds": hm < lo}
    return out


def grid_points(cfg: FrontierConfig, floors: dict[float, dict[str, dict[str, float]]]) -> list[dict[str, Any]]:
    """Every grid point as ``{"family", "name", "params"}``: the static family over
    ``cfg.static_lt`` (``static_grid_point``), then the dynamic family over z_maint x horizon x
    gap x buffer x each extra axis; ``params`` holds the knobs of ``make_policy_from`` plus
    ``gap``, ``buffer`` and ``toxic_floor`` (the ``h_min`` of ``TOXIC_ASSETS``, carried in the
    ``h_min`` dict). Raises ValueError when the static Aave point is not in the grid."""
    if not any(abs(lt - STATIC_AAVE_LT) < 1e-9 for lt in cfg.static_lt):
        raise ValueError(f"the static grid must contain the Aave point LT {STATIC_AAVE_LT}")
    pts: list[dict[str, Any]] = []
    for lt in cfg.static_lt:
        p = static_grid_point(lt)
        pts.append({"family": "static", "name": f"static LT {p['lt']:.3f}", "params": p})
    extra = [{}]
    for k, vals in cfg.extra_axes.items():
        extra = [{**e, k: v} for e in extra for v in vals]
    for h in cfg.horizons_h:
        h_min = {s: floors[h][s]["h_min"] for s in KNOB_ASSETS}
        for z in cfg.z_maint:
            for g in cfg.gaps:
                for b in active_buffers(cfg):
                    for t in cfg.toxic_floors:
                        for e in extra:
                            p: dict[str, Any] = {"z_maint": z, "z_init": round(z + g, 6), "horizon_h": h,
                                                 "h_min": {**h_min, **{s: t for s in TOXIC_ASSETS}},
                                                 "gap": g, "buffer": b, "toxic_floor": t, **e}
                            if has_initial_floor():
                                p["h_min_init"] = {s: round(v + b, 6) for s, v in h_min.items()}
                            tail = "".join(f",{k}={v:g}" for k, v in e.items())
                            pts.append({"family": "dynamic", "params": p,
                                        "name": f"dynamic z={z:g} H={h:g}h gap={g:g} buf={b:g} tox={t:g}{tail}"})
    for fam in ("static", "dynamic"):  # an unknown knob fails here, not inside a task
        policy_of(next(p for p in pts if p["family"] == fam))
    return pts


def policy_of(point: dict[str, Any]) -> Policy:
    """The ``Policy`` of a grid point (``grid_points`` entry), named by the point."""
    knobs = {k: v for k, v in point["params"].items() if k not in _DESCRIPTIVE}
    return make_policy_from(point["family"], name=point["name"], **knobs)


_KEEP = ("bad_debt_usd", "liquidation_volume_usd", "liquidations", "calm_borrowing_power", "borrows_open_usd")


def episode_task(episode: str, points: list[dict[str, Any]], accounts: int, seed: int, fr: Frictions,
                 max_hours: float | None, modes: tuple[str, ...] = ("fraction",)) -> dict[str, dict[str, Any]]:
    """One dask task: ``points`` on ``episode`` through ``run_episode``; returns
    ``{mode: {point name: {bad_debt_usd, liquidation_volume_usd, liquidations, calm_borrowing_power,
    borrows_open_usd}}}`` (USD, count, fraction). ``identical`` uses the smallest borrowing
    power over ``points``."""
    run = run_episode(episode, [policy_of(p) for p in points], accounts, seed, fr, max_hours=max_hours, modes=modes)
    return {m: {n: {k: x[k] for k in _KEEP} for n, x in d.items()} for m, d in run.metrics.items()}


def frontier_tasks(cfg: FrontierConfig, points: list[dict[str, Any]], seed: int, fr: Frictions) -> list[Any]:
    """dask.delayed ``episode_task`` s: every episode of ``cfg`` x chunks of ``cfg.chunk`` points."""
    import dask

    chunks = [points[i: i + cfg.chunk] for i in range(0, len(points), cfg.chunk)]
    return [dask.delayed(episode_task)(e, c, cfg.accounts, seed, fr, cfg.max_hours)
            for e in cfg.episodes for c in chunks]


def frontier_table(cfg: FrontierConfig, points: list[dict[str, Any]], parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``frontier`` rows from ``frontier_tasks``' outputs (same order): per point ``family``,
    ``name``, ``params``, ``calm_borrowing_power`` (training calm window),
    ``calm_borrowing_power_heldout``, ``bad_debt_usd_train`` / ``_heldout`` (sums over the crash
    episodes, USD; ``bad_debt_usd_unseen`` over ``cfg.unseen_crashes``, a part of the held-out
    sum), ``liquidation_volume_usd`` (all crash episodes, USD, with ``_train`` and ``_heldout``)
    and ``bad_debt_by_episode``."""
    n_chunks = len(parts) // len(cfg.episodes)
    by_ep: dict[str, dict[str, dict[str, Any]]] = {}
    for i, e in enumerate(cfg.episodes):
        by_ep[e] = {}
        for part in parts[i * n_chunks: (i + 1) * n_chunks]:
            by_ep[e].update(part["fraction"])
    rows = []
    for p in points:
        n = p["name"]

        def tot(eps: tuple[str, ...], key: str) -> float:
            return float(sum(by_ep[e][n][key] for e in eps))

        rows.append({
            "family": p["family"], "name": n, "params": p["params"],
            "calm_borrowing_power": by_ep[cfg.train_calm][n]["calm_borrowing_power"],
            "calm_borrowing_power_heldout": by_ep[cfg.heldout_calm][n]["calm_borrowing_power"],
            "bad_debt_usd_train": tot(cfg.train_crashes, "bad_debt_usd"),
            "bad_debt_usd_heldout": tot(cfg.heldout_crashes, "bad_debt_usd"),
            "bad_debt_usd_unseen": tot(tuple(e for e in cfg.unseen_crashes if e in cfg.heldout_crashes),
                                       "bad_debt_usd"),
            "liquidation_volume_usd": tot(cfg.train_crashes + cfg.heldout_crashes, "liquidation_volume_usd"),
            "liquidation_volume_usd_train": tot(cfg.train_crashes, "liquidation_volume_usd"),
            "liquidation_volume_usd_heldout": tot(cfg.heldout_crashes, "liquidation_volume_usd"),
            "bad_debt_by_episode": {e: by_ep[e][n]["bad_debt_usd"] for e in cfg.train_crashes + cfg.heldout_crashes},
        })
    return rows


def static_point(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The static Aave point's row (WETH LT 0.825); ValueError when missing."""
    for r in rows:
        if r["family"] == "static" and abs(r["params"]["lt"] - STATIC_AAVE_LT) < 1e-9:
            return r
    raise ValueError("no static Aave point in the frontier table")


def gain(row: dict[str, Any], static: dict[str, Any], key: str = "calm_borrowing_power") -> float:
    """Calm borrowing power gain of ``row`` over ``static`` (fraction: row / static - 1) on the
    training calm window (``key`` = ``calm_borrowing_power_heldout``: the held-out one)."""
    return row[key] / static[key] - 1.0


def eligible(rows: list[dict[str, Any]], static: dict[str, Any]) -> list[dict[str, Any]]:
    """Rules 1 and 2 of docs/frontier-protocol-v2.md: the dynamic rows with a training calm gain
    of at least ``GOAL_GAIN`` over ``static`` and ``bad_debt_usd_train`` <= ``static``'s, ordered by
    training bad debt (ascending), then larger training calm borrowing power, then table order.
    NaN borrowing power is never eligible; no held-out figure is read."""
    ok = [r for r in rows if r["family"] == "dynamic" and r["calm_borrowing_power"] is not None
          and math.isfinite(r["calm_borrowing_power"]) and gain(r, static) >= GOAL_GAIN
          and r["bad_debt_usd_train"] <= static["bad_debt_usd_train"]]
    return sorted(ok, key=lambda r: (r["bad_debt_usd_train"], -r["calm_borrowing_power"]))  # stable: table order


def chosen_name(walk: list[dict[str, Any]] | None) -> str | None:
    """Rule 3: the first point of the walk that passed its training checks (None: none did)."""
    return next((w["name"] for w in walk or [] if w["passed"]), None)


def ratio(a: float, b: float) -> float:
    """``a / b``; 0 when both are 0, inf when only ``b`` is."""
    if b == 0:
        return 0.0 if a == 0 else math.inf
    return a / b


def coverage_asset(point: dict[str, Any], symbol: str, quick: bool = False, period: str = "heldout") -> dict[str, Any]:
    """Coverage of ``point``'s maintenance haircut of ``symbol`` (floor included) at its horizon
    on the held-out or the training history: ``exceedances``, ``observations``,
    ``kupiec_p_one_sided`` (the criterion with ``christoffersen_p``), ``kupiec_p`` (two-sided,
    reported), ``mean_haircut`` (fraction), ``horizon_h``, ``period``, ``passed`` (both criterion
    p-values >= 0.05). ``period`` "heldout": windows starting at or after
    ``calibration.TEST_START``; "train": windows after the burn-in that end before it
    (``--quick``: the quick window's split). Raises ValueError for a symbol without a long
    history or an unknown period."""
    if period not in ("heldout", "train"):
        raise ValueError(f"period must be 'heldout' or 'train', got {period!r}")
    from volmargin import params as P
    from .. import calibration as C

    pol = policy_of(point)
    bars = C.load_long_history(symbol)
    times = (bars.timestamp + bars.resolution_s).astype(np.int64)
    prices = bars.close
    split = C.TEST_START
    if quick:
        t0, split, t1 = C.QUICK_WINDOW
        keep = (times >= t0 - C.BURN_IN_S) & (times <= t1)
        prices, times = prices[keep], times[keep]
    h_s = int(pol.oracle[symbol][S.ORACLE.index("horizon")])
    seed = next(t for t in P.TOKENS if t.symbol == symbol).var_seed / 1e18
    op = M.OracleParams.from_wad([pol.oracle[symbol]])
    win = C.haircut_windows(prices, times, op, h_s, var_seed=seed, start=int(times[0]) + C.BURN_IN_S)
    test = win.start >= split if period == "heldout" else win.start + h_s <= split
    hits = win.loss_long[test] > win.h_maint[0, test]
    x, n = int(hits.sum()), int(hits.size)
    _, p1 = C.kupiec_pof_one_sided(x, n, FLOOR_LEVEL)
    _, p2 = C.kupiec_pof(x, n, FLOOR_LEVEL)
    _, pc = C.christoffersen_ind(hits)
    return {"horizon_h": h_s / 3600, "period": period, "exceedances": x, "observations": n,
            "kupiec_p_one_sided": p1, "kupiec_p": p2,
            "christoffersen_p": pc, "mean_haircut": float(win.h_maint[0, test].mean()),
            "passed": bool(p1 >= C.TEST_SIZE and pc >= C.TEST_SIZE)}


def _identical_task(cfg: FrontierConfig, episode: str, static: dict[str, Any], point: dict[str, Any], seed: int,
                    fr: Frictions) -> Any:
    """dask.delayed ``episode_task`` of the static Aave point and ``point`` on ``episode`` with the
    lab's ``identical`` opening over the two (named "static point" and "chosen point")."""
    import dask

    pts = [{"family": p["family"], "params": p["params"], "name": n}
           for p, n in ((static, "static point"), (point, "chosen point"))]
    return dask.delayed(episode_task)(episode, pts, cfg.accounts, seed, fr, cfg.max_hours, ("identical",))


def _identical_bad_debt(d: dict[str, Any]) -> dict[str, float]:
    """``{"static", "chosen"}`` bad debt (USD) of one ``_identical_task`` output."""
    return {"static": d["identical"]["static point"]["bad_debt_usd"],
            "chosen": d["identical"]["chosen point"]["bad_debt_usd"]}


def walk_checks(cfg: FrontierConfig, static: dict[str, Any], cands: list[dict[str, Any]], seed: int, fr: Frictions,
                quick: bool, scheduler: str | None, workers: int | None) -> list[dict[str, Any]]:
    """Rule 3 of docs/frontier-protocol-v2.md on the first ``cfg.max_walk`` of ``cands``
    (``eligible``'s order), as one dask computation; training data only. Per point: ``name``,
    ``calm_bp_gain`` (fraction), ``bad_debt_usd_train`` (USD), ``identical_train`` (``{episode:
    {"static", "chosen"}}`` bad debt, USD, with identical openings on every training crash),
    ``identical_ok`` (chosen <= static on each), ``coverage_train`` (``{symbol: coverage_asset(...,
    period="train")}``), ``coverage_ok`` and ``passed`` (both). The chosen point is the first
    that passed (``chosen_name``)."""
    import dask

    from .montecarlo import compute

    walk = cands[: cfg.max_walk]
    tasks = []
    for c in walk:
        tasks += [_identical_task(cfg, e, static, c, seed, fr) for e in cfg.train_crashes]
        tasks += [dask.delayed(coverage_asset)(c, s, quick, "train") for s in KNOB_ASSETS]
    done = compute(tasks, scheduler, workers)
    per = len(cfg.train_crashes) + len(KNOB_ASSETS)
    out = []
    for i, c in enumerate(walk):
        d = done[i * per: (i + 1) * per]
        idt = {e: _identical_bad_debt(x) for e, x in zip(cfg.train_crashes, d)}
        cov = dict(zip(KNOB_ASSETS, d[len(cfg.train_crashes):]))
        i_ok = all(x["chosen"] <= x["static"] for x in idt.values())
        c_ok = all(x["passed"] for x in cov.values())
        out.append({"name": c["name"], "calm_bp_gain": gain(c, static), "bad_debt_usd_train": c["bad_debt_usd_train"],
                    "identical_train": idt, "identical_ok": i_ok, "coverage_train": cov, "coverage_ok": c_ok,
                    "passed": i_ok and c_ok})
    return out


def check_chosen(cfg: FrontierConfig, static: dict[str, Any], chosen: dict[str, Any], seed: int, fr: Frictions,
                 quick: bool, scheduler: str | None, workers: int | None,
                 known: dict[str, dict[str, float]] | None = None
                 ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Any]]]:
    """The chosen point's held-out checks, as one dask computation: identical openings (bad debt,
    USD, of the static Aave point and the chosen point with the lab's ``identical`` opening over
    the two, ``{episode: {"static", "chosen"}}`` for every crash episode, training and held-out)
    and the coverage test on the held-out history (``{symbol: coverage_asset(...)}``).
    ``known``: identical openings already run for this point (the walk's ``identical_train``),
    reused instead of run again."""
    import dask

    from .montecarlo import compute

    known = known or {}
    eps = tuple(e for e in cfg.train_crashes + cfg.heldout_crashes if e not in known)
    tasks = [_identical_task(cfg, e, static, chosen, seed, fr) for e in eps]
    tasks += [dask.delayed(coverage_asset)(chosen, s, quick) for s in KNOB_ASSETS]
    done = compute(tasks, scheduler, workers)
    ran = {e: _identical_bad_debt(d) for e, d in zip(eps, done)}
    identical = {e: known[e] if e in known else ran[e] for e in cfg.train_crashes + cfg.heldout_crashes}
    return identical, dict(zip(KNOB_ASSETS, done[len(eps):]))


def identical_openings(cfg: FrontierConfig, static: dict[str, Any], point: dict[str, Any], episodes: tuple[str, ...],
                       seed: int, fr: Frictions, scheduler: str | None, workers: int | None
                       ) -> dict[str, dict[str, float]]:
    """Bad debt (USD) of the static Aave point and ``point`` with identical openings on each of
    ``episodes`` under frictions ``fr`` (e.g. ``Frictions(frictionless=True)``: every liquidation
    at its maximum, to tell a thin cushion from slow liquidations): ``{episode: {"static", "chosen"}}``."""
    from .montecarlo import compute

    done = compute([_identical_task(cfg, e, static, point, seed, fr) for e in episodes], scheduler, workers)
    return {e: _identical_bad_debt(d) for e, d in zip(episodes, done)}


def frontier_verdict(rows: list[dict[str, Any]], walk: list[dict[str, Any]] | None,
                     identical: dict[str, dict[str, float]] | None,
                     coverage: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """The verdict keys of docs/frontier-protocol-v2.md: ``protocol``, ``static_point``,
    ``eligible`` (how many points rules 1-2 admit), ``walk`` (``walk_checks``' output), ``chosen``
    (the first point of ``walk`` that passed; None when none did), ``calm_bp_gain`` (chosen /
    static calm borrowing power - 1, training calm window), ``calm_bp_gain_heldout``,
    ``bad_debt_train_ratio``, ``bad_debt_heldout_ratio`` and ``bad_debt_unseen_ratio`` (chosen /
    static, 0 when both 0, inf when only static is 0), ``identical_openings`` (``check_chosen``)
    and ``identical_ok`` (chosen <= static on every episode), ``coverage`` (held-out) and
    ``coverage_passed``, ``frontier_goal_met``."""
    st = static_point(rows)
    name = chosen_name(walk)
    ch = next((r for r in rows if r["name"] == name), None) if name else None
    out: dict[str, Any] = {"protocol": PROTOCOL, "static_point": _brief(st), "eligible": len(eligible(rows, st)),
                           "walk": walk, "chosen": _brief(ch) if ch else None}
    keys = ("calm_bp_gain", "calm_bp_gain_heldout", "bad_debt_train_ratio", "bad_debt_heldout_ratio",
            "bad_debt_unseen_ratio", "identical_openings", "identical_ok", "coverage", "coverage_passed")
    if ch is None:
        out.update({k: None for k in keys})
        out["frontier_goal_met"] = False
        return out
    out["calm_bp_gain"] = gain(ch, st)
    out["calm_bp_gain_heldout"] = gain(ch, st, "calm_borrowing_power_heldout")
    out["bad_debt_train_ratio"] = ratio(ch["bad_debt_usd_train"], st["bad_debt_usd_train"])
    out["bad_debt_heldout_ratio"] = ratio(ch["bad_debt_usd_heldout"], st["bad_debt_usd_heldout"])
    out["bad_debt_unseen_ratio"] = ratio(ch.get("bad_debt_usd_unseen", 0.0), st.get("bad_debt_usd_unseen", 0.0))
    out["identical_openings"] = identical
    out["identical_ok"] = None if identical is None else all(x["chosen"] <= x["static"] for x in identical.values())
    out["coverage"] = coverage
    out["coverage_passed"] = None if coverage is None else all(x["passed"] for x in coverage.values())
    out["frontier_goal_met"] = bool(
        out["calm_bp_gain"] >= GOAL_GAIN and out["calm_bp_gain_heldout"] >= GOAL_GAIN
        and out["bad_debt_train_ratio"] <= 1.0 and out["bad_debt_heldout_ratio"] <= 1.0
        and out["identical_ok"] is True and out["coverage_passed"] is True)
    return out


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r.get(k) for k in ("family", "name", "params", "calm_borrowing_power", "calm_borrowing_power_heldout",
                                  "bad_debt_usd_train", "bad_debt_usd_heldout", "bad_debt_usd_unseen",
                                  "liquidation_volume_usd")}


def needed(rows: list[dict[str, Any]], static: dict[str, Any]) -> dict[str, Any]:
    """What the frontier shows: the largest calm borrowing power gain of any dynamic point
    with no more training bad debt than ``static`` (``best_gain_at_static_bad_debt``), and the
    least training bad debt of any dynamic point reaching the goal gain
    (``least_bad_debt_at_goal_gain``, None when none reaches it, with its bad debt minus
    ``static``'s per episode, ``excess_over_static_by_episode``); USD, fractions. Read after the
    rule, held-out figures included (a diagnostic, never a choice): ``points_meeting_totals``,
    the dynamic points with the goal gain on both calm windows and no more training *and*
    held-out bad debt than ``static`` (0: the goal is out of the grid's reach, whatever the
    rule), ``least_heldout_at_goal_gain`` (the least held-out bad debt among the points at the
    goal gain, USD) and ``max_gain_no_worse_by_episode`` (per crash episode, the largest
    training calm gain of any point of either family with no more bad debt there than
    ``static``, with its name). ``rows`` need ``bad_debt_by_episode`` (``frontier_table``'s rows)."""
    dyn = [r for r in rows if r["family"] == "dynamic" and r["calm_borrowing_power"] is not None]
    ok = [r["calm_borrowing_power"] / static["calm_borrowing_power"] - 1 for r in dyn
          if r["bad_debt_usd_train"] <= static["bad_debt_usd_train"]]
    rich = [r for r in dyn if r["calm_borrowing_power"] / static["calm_borrowing_power"] - 1 >= GOAL_GAIN]
    best = min(rich, key=lambda r: r["bad_debt_usd_train"]) if rich else None
    meet = [r for r in rich if gain(r, static, "calm_borrowing_power_heldout") >= GOAL_GAIN
            and r["bad_debt_usd_train"] <= static["bad_debt_usd_train"]
            and r["bad_debt_usd_heldout"] <= static["bad_debt_usd_heldout"]]
    per_ep: dict[str, dict[str, Any]] = {}
    for e, sx in static["bad_debt_by_episode"].items():
        fit = [r for r in rows if r["calm_borrowing_power"] is not None and math.isfinite(r["calm_borrowing_power"])
               and r["bad_debt_by_episode"][e] <= sx]
        top = max(fit, key=lambda r: r["calm_borrowing_power"])  # the static point itself always fits
        per_ep[e] = {"gain": gain(top, static), "point": top["name"]}
    return {"best_gain_at_static_bad_debt": max(ok) if ok else None,
            "points_meeting_totals": len(meet),
            "least_heldout_at_goal_gain": min((r["bad_debt_usd_heldout"] for r in rich), default=None),
            "max_gain_no_worse_by_episode": per_ep,
            "least_bad_debt_at_goal_gain": None if best is None else {
                "name": best["name"], "bad_debt_usd_train": best["bad_debt_usd_train"],
                "bad_debt_usd_heldout": best["bad_debt_usd_heldout"],
                "calm_bp_gain": best["calm_borrowing_power"] / static["calm_borrowing_power"] - 1,
                "excess_over_static_by_episode": {e: x - static["bad_debt_by_episode"][e]
                                                  for e, x in best["bad_debt_by_episode"].items()}}}


def static_aave_matches_lab() -> bool:
    """Whether the static grid's Aave point is the lab's ``static`` policy (same vectors)."""
    a = make_policy("static")
    b = policy_of({"family": "static", "name": "x", "params": static_grid_point(STATIC_AAVE_LT)})
    return a.oracle == b.oracle and a.vault == b.vault and STATIC_LTV_LT["WETH"][1] == STATIC_AAVE_LT
