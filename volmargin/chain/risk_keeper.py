"""The risk keeper's side of the chain (docs/design.md §3.7): the daily history it fits on,
read from the asset's own feed; the box the oracle will accept the next push in; the push.

The forecast itself (GARCH on that history) is the caller's: ``scripts/risk-keeper.py`` passes
``volmargin_lab.forecast.next_day_sigma``, so this package does not depend on ``arch``.

Units: volatilities are annualized (a fraction per year as a float, WAD per year as an int, the
unit of ``RiskOracle.push_forecast``); prices USD per whole token; times Unix seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import reference as ref
from ..reference import forecast as fc
from .. import spec as S
from .manifest import Deployment

DAY = 86_400
WAD = ref.WAD
_F_MODE, _F_LO, _F_HI, _F_STEP, _F_TTL, _HEARTBEAT = S.ORACLE.indices(
    "P_F_MODE", "P_F_LO", "P_F_HI", "P_F_STEP", "P_F_TTL", "P_HEARTBEAT")


class RiskKeeperError(ValueError):
    """A bad argument or a deployment the risk keeper cannot work with (one line)."""


@dataclass(frozen=True)
class History:
    """Daily closes of one feed: ``times`` (n,) Unix seconds of each day's last round, oldest
    first, and ``prices`` (n,) USD; ``rounds`` the number of rounds read."""

    times: np.ndarray
    prices: np.ndarray
    rounds: int


def feed_history(feed: Any, days: int, max_rounds: int = 100_000) -> History:
    """The last round of each UTC day over the ``days`` days before the feed's latest round
    (that day included), walking ``getRoundData`` back from ``latestRoundData`` until a round is
    older, missing (a reverting ``getRoundData``: the feed's first round, or a Chainlink phase
    boundary), incomplete or non-positive, or ``max_rounds`` were read.

    Raises RiskKeeperError for ``days`` < 1 or a feed whose latest answer is not positive."""
    if days < 1:
        raise RiskKeeperError(f"days must be at least 1, got {days}")
    scale = 10.0 ** -int(feed.decimals())
    rid, answer, _, updated, answered = (int(x) for x in feed.latestRoundData())
    if answer <= 0:
        raise RiskKeeperError(f"the feed's latest answer is {answer}: not a price")
    start = updated - days * DAY
    closes: dict[int, tuple[int, float]] = {}
    n = 0
    while n < max_rounds and answer > 0 and answered >= rid and updated >= start:
        day = updated // DAY
        if day not in closes:  # walking back: the first round seen of a day is its last
            closes[day] = (updated, answer * scale)
        n += 1
        if rid <= 1:
            break
        try:
            rid, answer, _, updated, answered = (int(x) for x in feed.getRoundData(rid - 1))
        except Exception:  # noqa: BLE001 - "no data present": the history ends here
            break
    days_sorted = sorted(closes)
    return History(np.array([closes[d][0] for d in days_sorted], dtype=np.int64),
                   np.array([closes[d][1] for d in days_sorted], dtype=np.float64), n)


@dataclass
class PushPlan:
    """What one push may be, checked as the oracle checks it (``RiskOracle.push_forecast``).

    ``refusal`` names why nothing can be pushed now (the oracle's reason and what it means; every
    refusal is independent of the value), None otherwise; then ``[lo, hi]`` (WAD per year) is the
    box the oracle accepts now: the realized sigma's ``[f_lo, f_hi]`` multiples narrowed by
    ``f_step`` around a live push (``forecast.box``). ``choose`` sets ``forecast`` (the keeper's
    number, a fraction per year) and ``sigma`` (WAD per year, what is pushed: the forecast clamped
    into the box; ``clipped`` when that moved it)."""

    asset: str
    mode: str
    sigma_realized: int
    lo: int = 0
    hi: int = 0
    live: bool = False
    refusal: str | None = None
    forecast: float | None = None
    sigma: int = 0
    clipped: bool = False

    def choose(self, forecast: float) -> None:
        """Clamp ``forecast`` (a fraction per year) into the box as ``sigma``. Raises RiskKeeperError
        for a forecast that is not a finite number >= 0, or on a refused plan."""
        if self.refusal:
            raise RiskKeeperError(self.refusal)
        if not (isinstance(forecast, (int, float)) and np.isfinite(forecast) and forecast >= 0):
            raise RiskKeeperError(f"the forecast must be a finite volatility >= 0, got {forecast!r}")
        want = int(round(forecast * WAD))
        self.forecast, self.sigma = float(forecast), min(max(want, self.lo), self.hi)
        self.clipped = self.sigma != want

    def record(self) -> dict[str, Any]:
        """The JSON fields of the plan (volatilities as fractions per year)."""
        return {"asset": self.asset, "mode": self.mode, "forecast": self.forecast,
                "sigma_realized": self.sigma_realized / WAD, "box": [self.lo / WAD, self.hi / WAD],
                "sigma": self.sigma / WAD, "clipped": self.clipped, "live_push": self.live, "refusal": self.refusal}


def plan_push(dep: Deployment, symbol: str, now: int, sender: Any) -> PushPlan:
    """Check a push for ``symbol`` by ``sender`` at block time ``now`` as the oracle will: the role,
    the mode, a heartbeat since the last push, and the box of the realized sigma's multiples and,
    while a push is live, of the step from it (``forecast.box``: empty is a refusal too). No
    refusal depends on the value pushed, so the keeper checks before it fits anything.

    Raises RiskKeeperError for an unknown symbol."""
    if symbol not in dep.tokens:
        raise RiskKeeperError(f"unknown asset {symbol!r}; known: {', '.join(dep.tokens)}")
    o, a = dep.oracle, dep.tokens[symbol].address
    p = {k: int(o.params(a, k)) for k in (_F_MODE, _F_LO, _F_HI, _F_STEP, _F_TTL, _HEARTBEAT)}
    sigma_r = int(o.sigma(a, ref.SECONDS_PER_YEAR))
    mode = S.FORECAST_MODES[p[_F_MODE]] if p[_F_MODE] < len(S.FORECAST_MODES) else str(p[_F_MODE])
    plan = PushPlan(symbol, mode, sigma_r)
    if not o.hasRole(o.RISK_KEEPER_ROLE(), sender):
        plan.refusal = f"access_control: account is missing role (RISK_KEEPER_ROLE on the oracle, {sender})"
        return plan
    if p[_F_MODE] == fc.MODE_OFF:
        plan.refusal = ("oracle: forecast off (f_mode is 0; the admin turns it on: "
                        f"`ape run admin set-param f_mode 1 --asset {symbol}`)")
        return plan
    last_sigma, last_time, _in_use = (int(x) for x in o.forecast_of(a))
    if now - last_time < p[_HEARTBEAT]:
        plan.refusal = f"oracle: forecast too soon (last push at {last_time}, next from {last_time + p[_HEARTBEAT]})"
        return plan
    plan.live = bool(o.assets(a).forecast) and now < last_time + p[_F_TTL]
    plan.lo, plan.hi = fc.box(sigma_r, p[_F_LO], p[_F_HI], p[_F_STEP], last_sigma if plan.live else None)
    if plan.lo > plan.hi:
        plan.refusal = ("oracle: forecast step too large (no value is within f_step of the live push "
                        f"{last_sigma / WAD:g} and within [f_lo, f_hi] of the realized {sigma_r / WAD:g}; "
                        f"the live push expires at {last_time + p[_F_TTL]})")
    return plan


def send_push(dep: Deployment, plan: PushPlan, sender: Any) -> Any:
    """Send a checked ``PushPlan`` whose value was chosen; its receipt. RiskKeeperError when the
    plan is refused (nothing sent)."""
    if plan.refusal:
        raise RiskKeeperError(plan.refusal)
    return dep.oracle.push_forecast(dep.tokens[plan.asset].address, plan.sigma, sender=sender)


def run_once(dep: Deployment, symbols: list[str], sender: Any, forecaster: Callable[[np.ndarray], float], days: int,
             now: int, emit: Callable[[dict[str, Any]], None], dry_run: bool = False) -> int:
    """One keeper run: for each symbol, the plan (a refusal is a skip: nothing is fitted), then
    the feed's daily history over ``days`` days, the ``forecaster``'s annual volatility of its
    closes clamped into the plan's box, and (unless ``dry_run``) the push. One record per asset
    to ``emit``: ``action`` "push", "plan" (dry run), "skip" (the oracle would refuse: its
    reason) or "error" (the history cannot be fitted: why). Returns the number of errors."""
    errors = 0
    for sym in symbols:
        plan = plan_push(dep, sym, now, sender)
        if plan.refusal:
            emit({**plan.record(), "action": "skip"})
            continue
        try:
            hist = feed_history(dep.feeds[sym], days)
            plan.choose(float(forecaster(hist.prices)))
        except (RiskKeeperError, ValueError) as exc:
            emit({"asset": sym, "action": "error", "error": str(exc)})
            errors += 1
            continue
        rec = {**plan.record(), "days": int(len(hist.prices)), "rounds": hist.rounds}
        if dry_run:
            emit({**rec, "action": "plan"})
        else:
            rc = send_push(dep, plan, sender)
            ev = rc.decode_logs(dep.oracle.ForecastPushed)[0]
            emit({**rec, "action": "push", "tx": str(rc.txn_hash), "gas_used": int(rc.gas_used),
                  "h_target": int(ev.h_target) / WAD})
    return errors


def json_line(record: dict[str, Any]) -> str:
    """One JSON line (sorted keys)."""
    return json.dumps(record, sort_keys=True)


__all__ = ["History", "PushPlan", "RiskKeeperError", "feed_history", "json_line", "plan_push", "run_once", "send_push"]
