"""Risk monitor: a static HTML view of a live deployment, a finished replay or a stress run.

Three pages share one Jinja2 template (autoescaped: every string is HTML-escaped)
and matplotlib plots saved as PNG files beside ``index.html``:

- live (``take_snapshot`` + ``write_live_page``): per asset the price (USD), the
  EWMA volatilities fast and slow (annualized), the maintenance haircut in force
  and its target, the initial haircut, the circuit-breaker state by name, the
  number of trips (entries into REDUCE_ONLY, from ``BreakerChanged`` events) and
  the price's age; per account (found from the vault's ``Deposit``/``Borrow``
  events) the collateral value, debt value and maintenance health factor, lowest
  first, liquidatable ones highlighted; the recent ``Liquidation`` and
  ``BadDebtSettled`` events. Each snapshot is appended to ``history.json`` so that
  the haircut and volatility plots cover every snapshot seen so far.
- replay (``write_replay_page``): from the main job's ``summary.json`` and
  ``steps.csv`` (``volmargin_lab.replay.write_outputs``).
- stress (``write_stress_page``): from the stress lab's ``summary.json``.

Units on the pages: USD for prices and values, fractions shown as percent for
haircuts and volatilities, seconds for ages, block time (UTC) for the time axis.
Contract integers are WAD = 1e18 (docs/design.md §1); haircuts docs/design.md §4,
health docs/design.md §5, breakers docs/design.md §7.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import jinja2  # noqa: E402
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from volmargin import model  # noqa: E402
from volmargin import reference as ref  # noqa: E402
from volmargin.chain.lens import AssetRow, read_accounts, read_assets  # noqa: E402
from volmargin.chain.manifest import Deployment  # noqa: E402

WAD = 10**18
#: Events of each kind kept on the page (most recent).
RECENT_EVENTS = 20
#: Snapshots kept in ``history.json`` (oldest dropped first).
MAX_HISTORY = 5_000
#: Accounts listed in the live table (lowest health first); the histogram uses all.
MAX_ACCOUNT_ROWS = 200
#: Maximum accounts per ``accounts_view`` call (the lens's ``MAX_LENS``).
LENS_BATCH = 256
HISTORY_FILE = "history.json"


class MonitorError(ValueError):
    """Input the monitor cannot use (a missing or malformed summary, history or directory)."""


# ---------------------------------------------------------------- snapshot of a live deployment


@dataclass(frozen=True)
class AssetView:
    """One asset of a snapshot. USD for ``price``; fractions (0.1 = 10 %) for
    haircuts and annualized volatilities; seconds for ``age_s`` (block time minus
    the price's ``updated_at``); ``max_age_s``: heartbeat + grace, the age past which
    the oracle rejects the price as stale; ``trips``: entries into REDUCE_ONLY seen in events."""

    symbol: str
    address: str
    price: float
    sigma_fast: float
    sigma_slow: float
    sigma_annual: float
    h_maint: float
    h_target: float
    h_init: float
    breaker: str
    trips: int
    age_s: int
    max_age_s: int
    invalid: bool

    @property
    def unusable(self) -> str | None:
        """Why the oracle rejects this price now (``invalid price``, ``stale price``), else None."""
        if self.invalid:
            return "invalid price"
        return "stale price" if self.age_s > self.max_age_s else None


@dataclass(frozen=True)
class AccountView:
    """One account: collateral and debt at oracle prices (USD), the maintenance
    health factor (``inf`` without debt) and whether it can be liquidated now
    (weighted maintenance assets below liabilities, docs/design.md §5)."""

    account: str
    collateral_usd: float
    debt_usd: float
    health_factor: float
    liquidatable: bool


@dataclass
class EventLog:
    """What the vault's and oracle's events have told so far, scanned up to ``next_block - 1``.

    ``accounts``: every account credited by ``Deposit`` or charged by ``Borrow``;
    ``trips``: entries into REDUCE_ONLY per asset address; ``liquidations`` and
    ``bad_debts``: the ``RECENT_EVENTS`` most recent, oldest first, amounts in
    whole tokens of the asset named in the row.
    """

    vault: str
    next_block: int = 0
    accounts: list[str] = field(default_factory=list)
    trips: dict[str, int] = field(default_factory=dict)
    liquidations: list[dict[str, Any]] = field(default_factory=list)
    bad_debts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Snapshot:
    """The risk state of a deployment at one block: ``time`` is the block time
    (Unix seconds); ``accounts_error`` is set (and ``accounts`` empty) when the
    vault's lens reverts, e.g. on a stale price."""

    network: str
    chain_id: int
    block: int
    time: int
    vault: str
    assets: list[AssetView]
    accounts: list[AccountView]
    accounts_seen: int
    liquidations: list[dict[str, Any]]
    bad_debts: list[dict[str, Any]]
    accounts_error: str | None = None


def _symbol(dep: Deployment, address: str) -> str:
    """The manifest's symbol of a token address, else the address itself."""
    for sym, tok in dep.tokens.items():
        if str(tok.address).lower() == address.lower():
            return sym
    return address


def _decimals(dep: Deployment, address: str) -> int:
    """Token decimals from the manifest, else from the vault."""
    sym = _symbol(dep, address)
    if sym in dep.info.assets:
        return dep.info.assets[sym].decimals
    return int(dep.vault.asset_decimals(address))


def _whole(dep: Deployment, address: str, amount: int) -> float:
    """A token amount (token decimals) in whole tokens."""
    return int(amount) / 10 ** _decimals(dep, address)


def start_block(dep: Deployment) -> int:
    """First block to scan for events: the manifest's ``block`` (the deployment's block) if it has one, else 0."""
    extra = dep.info.model_extra or {}
    try:
        return max(0, int(extra.get("block") or 0))
    except (TypeError, ValueError):
        return 0


def _range(event: Any, first: int, last: int) -> Iterable[Any]:
    """Logs of one event type in blocks ``first..last`` (inclusive)."""
    return event.range(first, last + 1)


def _liquidation_row(dep: Deployment, log: Any) -> dict[str, Any]:
    a = log.event_arguments
    debt, col = str(a["debt_asset"]), str(a["collateral_asset"])
    return {
        "block": int(log.block_number), "tx": str(log.transaction_hash), "account": str(a["account"]),
        "liquidator": str(a["liquidator"]), "debt_asset": _symbol(dep, debt), "collateral_asset": _symbol(dep, col),
        "repaid": _whole(dep, debt, a["repaid"]), "seized": _whole(dep, col, a["seized"]),
        "bonus": int(a["bonus"]) / WAD, "insurance_cut": _whole(dep, col, a["insurance_cut"]),
    }


def _bad_debt_row(dep: Deployment, log: Any) -> dict[str, Any]:
    a = log.event_arguments
    asset = str(a["asset"])
    return {
        "block": int(log.block_number), "tx": str(log.transaction_hash), "account": str(a["account"]),
        "asset": _symbol(dep, asset), "debt": _whole(dep, asset, a["debt"]),
        "covered_by_insurance": _whole(dep, asset, a["covered_by_insurance"]),
        "socialized": _whole(dep, asset, a["socialized"]),
    }


def scan_events(dep: Deployment, log: EventLog, head: int) -> EventLog:
    """Extend ``log`` with the events of blocks ``log.next_block..head`` (inclusive).

    Reads ``Deposit``/``Borrow`` (accounts), ``Liquidation``/``BadDebtSettled``
    (kept: the ``RECENT_EVENTS`` most recent) from the vault and
    ``BreakerChanged`` from the oracle (a trip is a change into REDUCE_ONLY from
    another state; re-trips that only restart the cooldown are not counted).
    Returns ``log``, mutated, with ``next_block = head + 1``. Provider errors
    (e.g. a log range the RPC refuses) propagate.
    """
    first = log.next_block
    if head < first:
        return log
    seen = set(log.accounts)
    for event in (dep.vault.Deposit, dep.vault.Borrow):
        for ev in _range(event, first, head):
            acct = str(ev.event_arguments["account"])
            if acct not in seen:
                seen.add(acct)
                log.accounts.append(acct)
    for ev in _range(dep.oracle.BreakerChanged, first, head):
        a = ev.event_arguments
        if int(a["new_state"]) == ref.REDUCE_ONLY and int(a["old_state"]) != ref.REDUCE_ONLY:
            key = str(a["asset"])
            log.trips[key] = log.trips.get(key, 0) + 1
    log.liquidations = (log.liquidations + [_liquidation_row(dep, e) for e in _range(dep.vault.Liquidation, first, head)])
    log.bad_debts = log.bad_debts + [_bad_debt_row(dep, e) for e in _range(dep.vault.BadDebtSettled, first, head)]
    log.liquidations = log.liquidations[-RECENT_EVENTS:]
    log.bad_debts = log.bad_debts[-RECENT_EVENTS:]
    log.next_block = head + 1
    return log


def asset_view(row: AssetRow, symbol: str, trips: int, now: int, max_age: int) -> AssetView:
    """An ``AssetRow`` (WAD, WAD/s variances) in display units at block time ``now`` (s);
    ``max_age``: the asset's heartbeat + grace (s)."""
    year = float(ref.SECONDS_PER_YEAR)
    return AssetView(
        symbol=symbol, address=row.asset, price=row.price / WAD,
        sigma_fast=float(model.sigma(row.var_fast / WAD, year)), sigma_slow=float(model.sigma(row.var_slow / WAD, year)),
        sigma_annual=row.sigma_annual / WAD, h_maint=row.h_maint / WAD, h_target=row.h_target / WAD,
        h_init=row.h_init / WAD, breaker=ref.BREAKER_NAMES.get(row.breaker, str(row.breaker)), trips=trips,
        age_s=int(now) - int(row.updated_at), max_age_s=int(max_age), invalid=bool(row.invalid),
    )


def account_views(dep: Deployment, listed: Sequence[str], prices: dict[str, float],
                  accounts: Sequence[str]) -> list[AccountView]:
    """Collateral, debt (USD at ``prices``, USD per whole token by address) and
    health factor of ``accounts``, lowest health first (accounts with no
    position left out). ``listed``: the vault's ``listed`` order of the balances.
    Raises ape's ``ContractLogicError`` when the lens reverts (stale or invalid price)."""
    scale = np.array([10.0 ** _decimals(dep, a) for a in listed])
    px = np.array([prices[a] for a in listed])
    out: list[AccountView] = []
    for i in range(0, len(accounts), LENS_BATCH):
        _, rows = read_accounts(dep.lens, list(accounts[i:i + LENS_BATCH]))
        for row in rows:
            bal = np.array(row.balances[: len(listed)], dtype=float) / scale
            col, debt = float(np.maximum(bal, 0) @ px), float(np.maximum(-bal, 0) @ px)
            if col == 0 and debt == 0:
                continue
            h = row.health
            hf = float(model.health_factor(h.maint_assets, h.maint_liabilities))
            out.append(AccountView(row.account, col, debt, hf, h.maint_assets < h.maint_liabilities))
    out.sort(key=lambda a: (a.health_factor, -a.debt_usd))
    return out


def _max_age(dep: Deployment, asset: str) -> int:
    """heartbeat + grace of ``asset`` on the oracle (s): older prices are stale."""
    return int(dep.oracle.params(asset, ref.P_HEARTBEAT)) + int(dep.oracle.params(asset, ref.P_GRACE))


def take_snapshot(dep: Deployment, chain: Any, log: EventLog | None = None) -> tuple[Snapshot, EventLog]:
    """Read the risk state of the deployment ``dep`` on the chain Ape is connected to.

    ``log`` carries the events already scanned (``--watch`` passes the previous
    one back, so each interval reads only new blocks); a fresh one starts at
    ``start_block(dep)``. Returns the snapshot and the updated event log.
    Raises ``MonitorError`` when the vault has no code on this chain.
    """
    vault = str(dep.vault.address)
    if not chain.provider.get_code(vault):
        raise MonitorError(f"no contract at the vault address {vault} on chain {chain.chain_id}")
    if log is None or log.vault.lower() != vault.lower():
        log = EventLog(vault=vault, next_block=start_block(dep))
    head = int(chain.blocks.height)
    log = scan_events(dep, log, head)
    listed = [str(dep.vault.listed(i)) for i in range(int(dep.vault.n_listed()))]
    now, rows = read_assets(dep.lens, listed)
    assets = [asset_view(r, _symbol(dep, r.asset), log.trips.get(r.asset, 0), now, _max_age(dep, r.asset))
              for r in rows]
    # the lens reverts ("oracle: stale price" / "invalid price") when any listed price is unusable:
    # say which instead of calling it (Ape prints a call trace for every revert)
    bad = [f"{a.symbol} {a.unusable}" for a in assets if a.unusable]
    error, accounts = ("; ".join(bad) or None), []
    if not bad:
        try:
            accounts = account_views(dep, listed, {a.address: a.price for a in assets}, log.accounts)
        except Exception as exc:  # ape's ContractLogicError and provider errors alike
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    snap = Snapshot(
        network=str(chain.provider.network.name), chain_id=int(chain.chain_id), block=head, time=now, vault=vault,
        assets=assets, accounts=accounts, accounts_seen=len(log.accounts), liquidations=list(log.liquidations),
        bad_debts=list(log.bad_debts), accounts_error=error,
    )
    return snap, log


# ---------------------------------------------------------------- history.json


def _history_point(snap: Snapshot) -> dict[str, Any]:
    return {
        "block": snap.block, "time": snap.time,
        "liquidatable": sum(a.liquidatable for a in snap.accounts),
        "assets": {a.symbol: {k: getattr(a, k) for k in ("price", "sigma_fast", "sigma_slow", "h_maint", "h_target",
                                                          "h_init", "breaker")} for a in snap.assets},
    }


def load_history(path: Path) -> dict[str, Any]:
    """The contents of a ``history.json`` (``{"vault", "chain_id", "points", "events"}``),
    or an empty history when the file does not exist. ``MonitorError`` if it is not such a file."""
    if not path.is_file():
        return {"vault": None, "chain_id": None, "points": [], "events": None}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise MonitorError(f"{path}: not a monitor history ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("points"), list):
        raise MonitorError(f"{path}: not a monitor history (no 'points' list)")
    return data


def record(history: dict[str, Any], snap: Snapshot, log: EventLog) -> dict[str, Any]:
    """Append ``snap`` to ``history`` (restarted if it belongs to another vault or
    chain; a snapshot of the same block replaces the previous point) and keep
    the event log in it. Returns ``history``, mutated."""
    if (history.get("vault") or "").lower() != snap.vault.lower() or history.get("chain_id") != snap.chain_id:
        history.update(vault=snap.vault, chain_id=snap.chain_id, points=[])
    points = history["points"]
    if points and points[-1]["block"] == snap.block:
        points.pop()
    points.append(_history_point(snap))
    del points[:-MAX_HISTORY]
    history["events"] = asdict(log)
    return history


def event_log_from(history: dict[str, Any]) -> EventLog | None:
    """The event log kept in a history (``None`` if it has none or it is malformed)."""
    ev = history.get("events")
    try:
        return EventLog(**ev) if isinstance(ev, dict) else None
    except TypeError:
        return None


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename, so a
    reader (a refreshing browser) never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_history(path: Path, history: dict[str, Any]) -> None:
    """Write ``history`` to ``path`` atomically (JSON)."""
    _write_atomic(path, lambda p: p.write_text(json.dumps(history, indent=1)))


# ---------------------------------------------------------------- formatting


def fmt_usd(x: float) -> str:
    """USD with thousands separators and cents: ``1,760.00``; below 1 USD six significant digits."""
    if not math.isfinite(x):
        return "n/a"
    return f"{x:,.2f}" if abs(x) >= 1 or x == 0 else f"{x:.6g}"


def fmt_pct(x: float) -> str:
    """A fraction as percent with two decimals: 0.1234 -> ``12.34 %``."""
    return "n/a" if not math.isfinite(x) else f"{100 * x:.2f} %"


def fmt_hf(x: float) -> str:
    """A health factor with three decimals; ``no debt`` for infinity."""
    return "no debt" if math.isinf(x) else f"{x:.3f}"


def fmt_age(seconds: int) -> str:
    """Seconds, with a readable form beside them for an hour or more: ``7,200 s (2.0 h)``."""
    if seconds >= 86400:
        return f"{seconds:,} s ({seconds / 86400:.1f} d)"
    if seconds >= 3600:
        return f"{seconds:,} s ({seconds / 3600:.1f} h)"
    return f"{seconds:,} s"


def fmt_num(x: Any) -> str:
    """A number for a table: integers with separators, floats with 4 significant digits."""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        return "n/a" if not math.isfinite(x) else f"{x:,.4g}"
    return str(x)


def utc(ts: float) -> str:
    """Unix seconds as ``YYYY-MM-DD HH:MM:SS UTC``."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def short(addr: str) -> str:
    """An address shortened for a table: ``0x1234…abcd``."""
    return addr if len(addr) < 14 else f"{addr[:6]}…{addr[-4:]}"


# ---------------------------------------------------------------- page model and template


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and an optional CSS class (``num``, ``ok``, ``warn``, ``bad``)."""

    text: str
    cls: str = ""
    title: str = ""


@dataclass
class Table:
    """A table of a page: header texts, rows of cells, a CSS class per row (``bad``: highlighted)."""

    headers: list[str]
    rows: list[list[Cell]]
    row_cls: list[str] = field(default_factory=list)
    caption: str = ""


@dataclass
class Section:
    """A titled part of a page: notes (paragraphs), tables, then images (file name, alt text)."""

    title: str
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Page:
    """A whole page: title, one-line subtitle, key figures (label, value), sections;
    ``refresh`` (seconds) adds a meta refresh."""

    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    refresh: int | None = None


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{% if page.refresh %}<meta http-equiv="refresh" content="{{ page.refresh }}">{% endif %}
<title>{{ page.title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #1b1f24; max-width: 1200px; }
h1 { font-size: 1.5em; margin-bottom: 0.1em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccd; }
p.sub { color: #555; margin-top: 0; } p.note { color: #333; max-width: 60em; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(14em, 1fr)); gap: 0.4em 1.2em; }
dl.facts div { background: #f3f5f8; padding: 0.4em 0.6em; border-radius: 4px; }
dt { font-size: 0.8em; color: #555; } dd { margin: 0; font-weight: 600; font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.9em; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3em; }
th, td { border: 1px solid #d0d5dd; padding: 0.25em 0.6em; } th { background: #eef1f5; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.ok { color: #116329; font-weight: 600; } td.warn { color: #9a6700; font-weight: 600; }
td.bad { color: #b42318; font-weight: 600; } tr.bad td { background: #fde8e7; } td.none { color: #777; font-style: italic; }
img { max-width: 100%; border: 1px solid #e3e6ea; margin: 0.4em 0; display: block; }
</style>
</head>
<body>
<h1>{{ page.title }}</h1>
<p class="sub">{{ page.subtitle }}</p>
{% if page.facts %}<dl class="facts">{% for k, v in page.facts %}<div><dt>{{ k }}</dt><dd>{{ v }}</dd></div>{% endfor %}</dl>{% endif %}
{% for s in page.sections %}
<h2>{{ s.title }}</h2>
{% for n in s.notes %}<p class="note">{{ n }}</p>
{% endfor %}
{% for t in s.tables %}
<table>{% if t.caption %}<caption>{{ t.caption }}</caption>{% endif %}
<thead><tr>{% for h in t.headers %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% if not t.rows %}<tr><td colspan="{{ t.headers|length }}" class="none">none</td></tr>{% endif %}
{% for row in t.rows %}<tr{% if t.row_cls and t.row_cls[loop.index0] %} class="{{ t.row_cls[loop.index0] }}"{% endif %}>{% for c in row %}<td{% if c.cls %} class="{{ c.cls }}"{% endif %}{% if c.title %} title="{{ c.title }}"{% endif %}>{{ c.text }}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table>
{% endfor %}
{% for src, alt in s.images %}<img src="{{ src }}" alt="{{ alt }}">
{% endfor %}
{% endfor %}
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def render(page: Page) -> str:
    """The HTML of ``page``; every string is escaped by Jinja2's autoescape."""
    return _ENV.from_string(_TEMPLATE).render(page=page)


def write_page(page: Page, out_dir: Path) -> Path:
    """Write ``out_dir/index.html`` atomically; returns its path. Every image the
    page names must already be in ``out_dir`` (``MonitorError`` otherwise)."""
    missing = [src for s in page.sections for src, _ in s.images if not (out_dir / src).is_file()]
    if missing:
        raise MonitorError(f"{out_dir}: images missing for the page: {', '.join(missing)}")
    path = out_dir / "index.html"
    _write_atomic(path, lambda p: p.write_text(render(page), encoding="utf-8"))
    return path


def _num(text: str, cls: str = "") -> Cell:
    return Cell(text, f"num {cls}".strip())


_BREAKER_CLS = {"NORMAL": "ok", "CAUTION": "warn", "REDUCE_ONLY": "bad"}


def _breaker(name: str) -> Cell:
    return Cell(name, _BREAKER_CLS.get(name, ""))


# ---------------------------------------------------------------- plots


def _save(fig: Any, path: Path) -> str:
    """Save a matplotlib figure as PNG atomically and close it; returns the file name."""
    fig.tight_layout()
    _write_atomic(path, lambda p: fig.savefig(p, dpi=90, format="png"))
    plt.close(fig)
    return path.name


def _date_axis(ax: Any) -> None:
    """Concise UTC date labels on the x axis."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(axis="x", labelsize=7)


def plot_asset_series(times: Sequence[Any], series: dict[str, dict[str, Sequence[float]]], ylabel: str,
                      path: Path, title: str) -> str:
    """One panel per asset, one line per label, values as percent (fractions in).

    ``times``: x values (datetimes), length T; ``series[symbol][label]``: T
    fractions. Writes ``path`` (PNG) and returns its file name.
    """
    n = max(1, len(series))
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.0 * rows), squeeze=False, sharex=True)
    styles = ["-", "--", ":", "-."]
    marker = "o" if len(times) < 30 else None
    for ax, (sym, lines) in zip(axes.ravel(), series.items()):
        for k, (label, values) in enumerate(lines.items()):
            ax.plot(times, 100 * np.asarray(values, dtype=float), styles[k % 4], marker=marker, ms=3, label=label)
        ax.set_title(sym)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        _date_axis(ax)
    for ax in axes.ravel()[len(series):]:
        ax.set_visible(False)
    fig.suptitle(title)
    return _save(fig, path)


def plot_health(hfs: Sequence[float], path: Path) -> str:
    """Histogram of maintenance health factors of accounts with debt (log-spaced
    bins, clipped to [0.25, 20]); the liquidation line at 1. Writes ``path``."""
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    x = np.asarray([h for h in hfs if math.isfinite(h)], dtype=float)
    if x.size:
        x = np.clip(x, 0.25, 20.0)
        bins = np.geomspace(max(0.25, x.min() * 0.95), max(1.2, x.max() * 1.05), 30)
        below = x < 1.0
        ax.hist([x[below], x[~below]], bins=bins, stacked=True, color=["tab:red", "tab:blue"],
                label=["liquidatable (< 1)", "healthy"])
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator([0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20]))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no account with debt", ha="center", va="center", transform=ax.transAxes)
    ax.axvline(1.0, color="black", lw=1)
    ax.set_xlabel("maintenance health factor (log scale, clipped to 0.25..20)")
    ax.set_ylabel("accounts")
    ax.set_title("Health distribution")
    return _save(fig, path)


def _times(ts: Iterable[float]) -> list[datetime]:
    return [datetime.fromtimestamp(float(t), tz=timezone.utc) for t in ts]


def plot_history(points: list[dict[str, Any]], out_dir: Path) -> list[tuple[str, str]]:
    """``haircuts.png`` and ``sigma.png`` from history points (every snapshot so far); returns (file, alt) pairs."""
    times = _times(p["time"] for p in points)
    symbols = list(points[-1]["assets"]) if points else []

    def col(sym: str, key: str) -> list[float]:
        return [p["assets"].get(sym, {}).get(key, math.nan) for p in points]

    h = {s: {"h_maint in force": col(s, "h_maint"), "h_maint target": col(s, "h_target"), "h_init": col(s, "h_init")}
         for s in symbols}
    sg = {s: {"sigma fast": col(s, "sigma_fast"), "sigma slow": col(s, "sigma_slow")} for s in symbols}
    return [
        (plot_asset_series(times, h, "haircut, %", out_dir / "haircuts.png", "Haircuts per asset (block time, UTC)"),
         "haircuts per asset over the snapshots"),
        (plot_asset_series(times, sg, "annualized sigma, %", out_dir / "sigma.png", "EWMA volatility per asset"),
         "annualized volatility per asset over the snapshots"),
    ]


# ---------------------------------------------------------------- live page


def _asset_table(assets: list[AssetView]) -> Table:
    rows = [[
        Cell(a.symbol, title=a.address), _num(fmt_usd(a.price)), _num(fmt_pct(a.sigma_fast)), _num(fmt_pct(a.sigma_slow)),
        _num(fmt_pct(a.h_maint)), _num(fmt_pct(a.h_target)), _num(fmt_pct(a.h_init)), _breaker(a.breaker),
        _num(fmt_num(a.trips)), _num(fmt_age(a.age_s)),
        Cell(a.unusable.upper(), "bad", f"oracle rejects it: older than {a.max_age_s:,} s or invalid") if a.unusable
        else Cell("ok", "ok", f"usable until {a.max_age_s:,} s old"),
    ] for a in assets]
    headers = ["asset", "price USD", "sigma fast (annual)", "sigma slow (annual)", "h_maint in force",
               "h_maint target", "h_init", "breaker", "trips", "price age", "feed"]
    return Table(headers, rows, [], "Assets (haircuts and volatilities in percent; age at the block's time)")


def _account_table(accounts: list[AccountView]) -> Table:
    shown = accounts[:MAX_ACCOUNT_ROWS]
    rows = [[Cell(a.account), _num(fmt_usd(a.collateral_usd)), _num(fmt_usd(a.debt_usd)),
             _num(fmt_hf(a.health_factor), "bad" if a.liquidatable else ""),
             Cell("LIQUIDATABLE", "bad") if a.liquidatable else Cell("")] for a in shown]
    cap = f"Accounts with a position, lowest health first ({len(shown)} of {len(accounts)} shown)"
    return Table(["account", "collateral USD", "debt USD", "health factor", ""], rows,
                 ["bad" if a.liquidatable else "" for a in shown], cap)


def _liquidation_table(rows: list[dict[str, Any]]) -> Table:
    body = [[_num(fmt_num(r["block"])), Cell(short(r["account"]), title=r["account"]),
             Cell(short(r["liquidator"]), title=r["liquidator"]),
             _num(f"{fmt_num(r['repaid'])} {r['debt_asset']}"), _num(f"{fmt_num(r['seized'])} {r['collateral_asset']}"),
             _num(fmt_pct(r["bonus"])), _num(f"{fmt_num(r['insurance_cut'])} {r['collateral_asset']}"),
             Cell(short(r["tx"]), title=r["tx"])] for r in reversed(rows)]
    return Table(["block", "account", "liquidator", "repaid", "seized", "bonus", "insurance cut", "tx"], body, [],
                 f"Recent liquidations (newest first, at most {RECENT_EVENTS}; whole tokens)")


def _bad_debt_table(rows: list[dict[str, Any]]) -> Table:
    body = [[_num(fmt_num(r["block"])), Cell(short(r["account"]), title=r["account"]), Cell(r["asset"]),
             _num(fmt_num(r["debt"])), _num(fmt_num(r["covered_by_insurance"])), _num(fmt_num(r["socialized"])),
             Cell(short(r["tx"]), title=r["tx"])] for r in reversed(rows)]
    return Table(["block", "account", "asset", "debt", "covered by insurance", "socialized", "tx"], body, [],
                 f"Bad debt settled (newest first, at most {RECENT_EVENTS}; whole tokens of the asset)")


def live_page(snap: Snapshot, points: list[dict[str, Any]], images: list[tuple[str, str]],
              refresh: int | None = None) -> Page:
    """The page model of a live snapshot (``points``: the history, for the count shown)."""
    debtors = [a for a in snap.accounts if a.debt_usd > 0]
    lowest = fmt_hf(debtors[0].health_factor) if debtors else "no debt"
    liq = sum(a.liquidatable for a in snap.accounts)
    facts = [
        ("block", f"{snap.block:,}"), ("block time", utc(snap.time)),
        ("accounts with a position", f"{len(snap.accounts):,} (of {snap.accounts_seen:,} seen)"),
        ("liquidatable now", f"{liq:,}"), ("lowest health factor", lowest),
        ("collateral USD", fmt_usd(sum(a.collateral_usd for a in snap.accounts))),
        ("debt USD", fmt_usd(sum(a.debt_usd for a in snap.accounts))), ("snapshots in history", f"{len(points):,}"),
    ]
    acct_notes = ([f"Accounts unavailable: the vault's lens cannot value them ({snap.accounts_error})."]
                  if snap.accounts_error else [])
    sections = [
        Section("Assets", tables=[_asset_table(snap.assets)], images=images[:2],
                notes=["Trips count entries into REDUCE_ONLY (BreakerChanged events since the deployment block)."]),
        Section("Accounts", notes=acct_notes, tables=[_account_table(snap.accounts)], images=images[2:]),
        Section("Liquidations and bad debt", tables=[_liquidation_table(snap.liquidations),
                                                     _bad_debt_table(snap.bad_debts)]),
    ]
    sub = f"network {snap.network} (chain id {snap.chain_id}), vault {snap.vault}"
    if refresh:
        sub += f"; refreshed every {refresh} s"
    return Page("volmargin risk monitor", sub, facts, sections, refresh)


def write_live_page(snap: Snapshot, out_dir: Path, log: EventLog | None = None, refresh: int | None = None) -> Path:
    """Record ``snap`` in ``out_dir/history.json`` (with ``log``, the event log to
    resume from), redraw the plots (``haircuts.png``, ``sigma.png``,
    ``health.png``) and write ``out_dir/index.html``; ``refresh`` (s) adds a
    meta refresh. Returns the page's path. ``MonitorError`` for a malformed history."""
    out_dir.mkdir(parents=True, exist_ok=True)
    hist_path = out_dir / HISTORY_FILE
    history = record(load_history(hist_path), snap, log or EventLog(vault=snap.vault))
    save_history(hist_path, history)
    images = plot_history(history["points"], out_dir)
    hfs = [a.health_factor for a in snap.accounts if a.debt_usd > 0]
    images.append((plot_health(hfs, out_dir / "health.png"), "histogram of account health factors"))
    return write_page(live_page(snap, history["points"], images, refresh), out_dir)


# ---------------------------------------------------------------- replay page


def _asset_symbols(steps: pd.DataFrame) -> list[str]:
    return [c[: -len("_price")] for c in steps.columns if c.endswith("_price")]


def _replay_asset_table(summary: dict[str, Any], steps: pd.DataFrame) -> Table:
    last = steps.iloc[-1]
    rows = []
    for sym in _asset_symbols(steps):
        a = summary.get("assets", {}).get(sym, {})
        states = a.get("steps_in_breaker_state", {})
        rows.append([
            Cell(sym), _num(fmt_usd(float(last[f"{sym}_price"]))), _num(fmt_pct(float(last[f"{sym}_sigma_annual"]))),
            _num(fmt_pct(float(last[f"{sym}_h_maint"]))), _num(fmt_pct(float(last[f"{sym}_h_init"]))),
            _breaker(str(last[f"{sym}_breaker"])),
            _num(f"{fmt_pct(a.get('sigma_annual_min', math.nan))} .. {fmt_pct(a.get('sigma_annual_max', math.nan))}"),
            _num(f"{fmt_pct(a.get('haircut_maint_min', math.nan))} .. {fmt_pct(a.get('haircut_maint_max', math.nan))}"),
            _num(" / ".join(fmt_num(int(states.get(n, 0))) for n in ref.BREAKER_NAMES.values())),
        ])
    headers = ["asset", "last price USD", "last sigma (annual)", "last h_maint", "last h_init", "last breaker",
               "sigma range", "h_maint range", "steps NORMAL / CAUTION / REDUCE_ONLY"]
    return Table(headers, rows, [], "Assets at the last step, and over the replay")


def _plot_replay(steps: pd.DataFrame, out_dir: Path) -> list[tuple[str, str]]:
    times = list(pd.to_datetime(steps["bar_time"], unit="s", utc=True))
    syms = _asset_symbols(steps)
    h = {s: {"h_maint": steps[f"{s}_h_maint"], "h_init": steps[f"{s}_h_init"]} for s in syms}
    sg = {s: {"sigma annual": steps[f"{s}_sigma_annual"]} for s in syms}
    images = [
        (plot_asset_series(times, h, "haircut, %", out_dir / "haircuts.png", "Haircuts per asset (bar time, UTC)"),
         "haircuts per asset over the replay"),
        (plot_asset_series(times, sg, "annualized sigma, %", out_dir / "sigma.png", "Oracle volatility per asset"),
         "annualized volatility per asset over the replay"),
    ]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 3.2))
    for s in syms:
        p = steps[f"{s}_price"].astype(float)
        ax1.plot(times, p / p.iloc[0], label=s)
    ax1.set_title("Prices (relative to the first step)")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.bar(times, steps["liquidations"], width=(times[1] - times[0]) if len(times) > 1 else 0.02, label="liquidations")
    ax2.plot(times, steps["liquidatable"], color="tab:red", lw=1, label="liquidatable accounts")
    ax2.set_title("Liquidations per step")
    ax2.legend(fontsize=8)
    for ax in (ax1, ax2):
        _date_axis(ax)
    images.append((_save(fig, out_dir / "activity.png"), "prices and liquidations per step"))
    return images


def replay_page(summary: dict[str, Any], steps: pd.DataFrame, images: list[tuple[str, str]]) -> Page:
    """The page model of a finished replay (``summary.json`` dict, ``steps.csv`` frame)."""
    s = summary
    facts = [
        ("steps", f"{s.get('steps', len(steps)):,} bars of {s.get('bar_seconds', 0):,} s"),
        ("accounts", fmt_num(s.get("accounts", "n/a"))), ("liquidations", fmt_num(s.get("liquidations", "n/a"))),
        ("liquidation volume USD", fmt_usd(float(s.get("liquidation_volume_usd", math.nan)))),
        ("bad debt USD", fmt_usd(float(s.get("bad_debt_usd", math.nan)))),
        ("breaker trips", fmt_num(s.get("breaker_trips", "n/a"))),
        ("parity checks / mismatches", f"{fmt_num(s.get('parity_checks', 'n/a'))} / {fmt_num(s.get('parity_mismatches', 'n/a'))}"),
        ("wall time", f"{fmt_num(s.get('wall_seconds', 'n/a'))} s"),
    ]
    ins = s.get("insurance_fund", {})
    ins_table = Table(["asset", "insurance fund (whole tokens)"], [[Cell(k), _num(fmt_num(v))] for k, v in ins.items()],
                      [], "Insurance fund at the end")
    sections = [
        Section("Assets", tables=[_replay_asset_table(s, steps)], images=images[:2]),
        Section("Activity", tables=[ins_table] if ins else [], images=images[2:]),
        Section("Simplifications", notes=[str(x) for x in s.get("simplifications", [])]),
    ]
    title = f"volmargin replay: {s.get('episode', '?')}"
    return Page(title, str(s.get("description", "")), facts, sections)


def write_replay_page(summary: dict[str, Any], steps: pd.DataFrame | list[dict[str, Any]], out_dir: Path) -> Path:
    """Write ``out_dir/index.html`` and its plots for a finished replay.

    ``summary``: the dict of ``summary.json`` (``volmargin_lab.replay``);
    ``steps``: the rows of ``steps.csv`` as a DataFrame or a list of dicts (one
    per bar: ``bar_time`` Unix seconds, per asset ``<SYM>_price`` USD,
    ``_sigma_annual``/``_h_maint``/``_h_init`` fractions, ``_breaker`` name;
    ``liquidatable``, ``liquidations``). Returns the page's path.
    ``MonitorError`` when there are no steps or a column is missing.
    """
    frame = steps if isinstance(steps, pd.DataFrame) else pd.DataFrame(steps)
    if frame.empty:
        raise MonitorError("replay has no steps")
    need = {"bar_time", "liquidations", "liquidatable"} | {
        f"{s}_{k}" for s in _asset_symbols(frame) for k in ("sigma_annual", "h_maint", "h_init", "breaker")}
    if missing := sorted(need - set(frame.columns)):
        raise MonitorError(f"steps lack the column(s) {', '.join(missing)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_page(replay_page(summary, frame, _plot_replay(frame, out_dir)), out_dir)


def read_replay(run_dir: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """``summary.json`` and ``steps.csv`` of a replay output folder; ``MonitorError`` naming a missing or bad file."""
    summary = read_summary(run_dir)
    path = run_dir / "steps.csv"
    if not path.is_file():
        raise MonitorError(f"{path}: no such file (a replay writes summary.json and steps.csv)")
    try:
        return summary, pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise MonitorError(f"{path}: not a steps table ({exc})") from None


def read_summary(run_dir: Path) -> dict[str, Any]:
    """``run_dir/summary.json`` as a dict; ``MonitorError`` if missing or not a JSON object."""
    path = run_dir / "summary.json"
    if not path.is_file():
        raise MonitorError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MonitorError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise MonitorError(f"{path}: not a summary (a JSON object expected)")
    return data


# ---------------------------------------------------------------- stress page


def _policies(summary: dict[str, Any]) -> list[str]:
    return list(summary.get("policies", {}))


def _episode_frame(summary: dict[str, Any], key: str) -> pd.DataFrame:
    """episodes x policies of one per-policy figure (``episodes[e].policies[p][key]``)."""
    eps = summary.get("episodes", {})
    return pd.DataFrame({e: {p: v.get(key, math.nan) for p, v in d.get("policies", {}).items()} for e, d in eps.items()}).T


def _grouped_bars(frame: pd.DataFrame, ylabel: str, title: str, path: Path) -> str:
    fig, ax = plt.subplots(figsize=(12, 3.6))
    if frame.empty or not np.nanmax(np.abs(frame.to_numpy(dtype=float)), initial=0.0) > 0:
        ax.text(0.5, 0.5, "no data" if frame.empty else "zero everywhere", ha="center", va="center",
                transform=ax.transAxes)
    else:
        frame.plot.bar(ax=ax, rot=0, width=0.8)
        ax.legend(fontsize=7, ncols=min(5, len(frame.columns)))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


def _pivot_table(frame: pd.DataFrame, fmt: Callable[[float], str], caption: str, flag_positive: bool = False) -> Table:
    """episodes x policies as a table; with ``flag_positive`` cells above 0 are marked ``bad``."""
    rows = [[Cell(str(ep))] + [_num(fmt(float(v)), "bad" if flag_positive and float(v) > 0 else "") for v in row]
            for ep, row in zip(frame.index, frame.to_numpy())]
    return Table(["episode"] + [str(c) for c in frame.columns], rows, [], caption)


def _stress_episode_tables(summary: dict[str, Any]) -> list[Table]:
    return [
        _pivot_table(_episode_frame(summary, "bad_debt_usd"), fmt_usd, "Bad debt USD (before insurance)", True),
        _pivot_table(_episode_frame(summary, "liquidations"), lambda x: fmt_num(int(x)) if math.isfinite(x) else "n/a",
                     "Liquidations"),
        _pivot_table(_episode_frame(summary, "calm_borrowing_power"), lambda x: f"{x:.4f}",
                     "Calm borrowing power (USD borrowable per USD of collateral)"),
    ]


def _monte_carlo_table(summary: dict[str, Any]) -> Table:
    rows = []
    for model_name, pols in summary.get("monte_carlo", {}).get("results", {}).items():
        for pol, v in pols.items():
            bd = v.get("bad_debt_usd", {})
            rows.append([Cell(model_name), Cell(pol)] + [_num(fmt_usd(float(bd.get(k, math.nan))))
                                                         for k in ("mean", "q99", "es99", "max")]
                        + [_num(fmt_pct(float(bd.get("p_positive", math.nan)))),
                           _num(fmt_num(v.get("liquidations_mean", math.nan)))])
    return Table(["model", "policy", "mean bad debt USD", "q99", "ES99", "max", "paths with bad debt",
                  "liquidations (mean)"], rows, [], "Monte Carlo, bad debt per path")


def _onchain_table(summary: dict[str, Any]) -> Table:
    rows = [[Cell(p), Cell(str(v.get("episode", ""))), _num(fmt_num(v.get("steps", 0))), _num(fmt_num(v.get("accounts", 0))),
             _num(fmt_num(v.get("checks", 0))), _num(fmt_num(v.get("mismatches", 0)), "bad" if v.get("mismatches") else "ok"),
             _num(fmt_num(v.get("liquidations", 0)))] for p, v in summary.get("onchain", {}).items()]
    return Table(["policy", "episode", "steps", "accounts", "checks", "outside tolerance", "liquidations"], rows, [],
                 "On-chain parity of the model with the contracts")


def _verdict_notes(summary: dict[str, Any]) -> list[str]:
    v = summary.get("verdict", {})
    if not v:
        return []
    notes = [f"Crash goal (dynamic never more bad debt than static): {'met' if v.get('crash_goal_met') else 'NOT met'}."]
    gain = v.get("calm_borrowing_power_gain")
    if gain is not None:
        notes.append(f"Calm-market borrowing power of dynamic vs static in {v.get('calm_month', '?')}: "
                     f"{100 * float(gain):+.1f} % (goal +10 %): {'met' if v.get('calm_goal_met') else 'NOT met'}.")
    return notes


def stress_page(summary: dict[str, Any], images: list[tuple[str, str]]) -> Page:
    """The page model of a stress run (its ``summary.json`` dict)."""
    wall = summary.get("wall_seconds", math.nan)
    wall = wall.get("total", math.nan) if isinstance(wall, dict) else wall
    facts = [("quick", fmt_num(bool(summary.get("quick")))),
             ("seed", fmt_num(summary.get("seed", "n/a"))),
             ("accounts per episode", fmt_num(summary.get("accounts_per_episode", "n/a"))),
             ("policies", ", ".join(_policies(summary))), ("episodes", fmt_num(len(summary.get("episodes", {})))),
             ("wall time", f"{fmt_num(float(wall))} s")]
    pol_rows = [[Cell(p), Cell(str(d.get("description", "")))] for p, d in summary.get("policies", {}).items()]
    sections = [
        Section("Verdict", notes=_verdict_notes(summary)),
        Section("Policies", tables=[Table(["policy", "description"], pol_rows)]),
        Section("Crash episodes", notes=["Each account opened at the same fraction of its policy's borrowing power."],
                tables=_stress_episode_tables(summary), images=images[:2]),
        Section("Monte Carlo", tables=[_monte_carlo_table(summary)], images=images[2:]),
        Section("On-chain parity", tables=[_onchain_table(summary)]),
    ]
    sub = f"policies through real crashes and simulated markets; generated by `{summary.get('command', '?')}`"
    return Page("volmargin stress lab", sub, facts, sections)


def write_stress_page(summary: dict[str, Any], out_dir: Path) -> Path:
    """Write ``out_dir/index.html`` and its plots (``stress_bad_debt.png``,
    ``stress_borrowing_power.png``, ``stress_monte_carlo.png``) for a stress run.

    ``summary``: the dict of the stress lab's ``summary.json`` (bad debt in
    USD, percentages of borrows in percent, borrowing power as a fraction).
    Sections whose keys are absent are left empty. Returns the page's path.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    mc = {m: {p: v.get("bad_debt_usd", {}).get("es99", math.nan) for p, v in pols.items()}
          for m, pols in summary.get("monte_carlo", {}).get("results", {}).items()}
    images = [
        (_grouped_bars(_episode_frame(summary, "bad_debt_usd"), "USD", "Bad debt per episode and policy",
                       out_dir / "stress_bad_debt.png"), "bad debt per episode and policy"),
        (_grouped_bars(_episode_frame(summary, "calm_borrowing_power"), "fraction of collateral",
                       "Calm borrowing power per episode and policy", out_dir / "stress_borrowing_power.png"),
         "calm borrowing power per episode and policy"),
        (_grouped_bars(pd.DataFrame(mc).T, "USD", "Monte Carlo: 99 % expected shortfall of bad debt",
                       out_dir / "stress_monte_carlo.png"), "Monte Carlo expected shortfall per model and policy"),
    ]
    return write_page(stress_page(summary, images), out_dir)
