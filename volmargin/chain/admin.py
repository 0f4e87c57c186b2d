"""Operating a deployment: pause switches, bounded parameter changes through the risk
steward, listing an asset, and roles (docs/design.md §7, §8).

Shared by ``ape run admin`` and the console (``pause``, ``set_param``, ...). Every
action is checked before anything is sent, in the order the contract checks it, and
refused with the contract's own revert reason (``AdminError``, one line), so that a
refused change costs no transaction. Values are given in human units: fractions and
multiples for WAD entries (``0.25`` = 0.25e18), seconds for times, per-second or
per-year figures for variances and rates, USD for WAD USD entries, 0/1 for flags.
Times are Unix seconds (block time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import params as P
from .. import reference as ref
from .. import spec as S
from ..units import correlation_to_wad
from .manifest import Deployment
from .node import AccountError, is_dev_chain, load_account

WAD = S.WAD
ZERO_ADDRESS = "0x" + "00" * 20

#: Pause switches of MarginVault by action name (deposits and repayments have none).
PAUSE_ACTIONS: dict[str, int] = {
    "withdraw": ref.PAUSE_WITHDRAW,
    "borrow": ref.PAUSE_BORROW,
    "liquidate": ref.PAUSE_LIQUIDATE,
}

#: What MarginVault.list_asset does with the admin's tokens, said before listing.
PROBE_NOTICE = (
    "listing pulls one whole token (10**decimals units) from the admin with transferFrom as a "
    "fee-on-transfer probe and sends it straight back: the admin must hold it and approve the vault for it"
)


class AdminError(ValueError):
    """An administrative action refused before sending, in one line (the contract's
    revert reason first where the contract would revert)."""


# ------------------------------------------------------------------ accounts and roles


def resolve_account(alias: str, provider: Any) -> Any:
    """The signer named ``alias``: ``TEST::<n>`` (test account n, development chains
    only) or an ``ape accounts`` alias (``volmargin.chain.node.load_account``). Raises
    ``AdminError`` for an unknown alias, a bad index, or a test account on any other chain."""
    try:
        return load_account(alias, is_dev_chain(provider),
                            f" on {provider.network_choice}: sign with a named account (ape accounts list)")
    except AccountError as exc:
        raise AdminError(str(exc)) from None


def contract_roles(contract: Any) -> dict[str, bytes]:
    """The roles ``contract`` defines, ``{name: id}``: every view without inputs that
    returns one bytes32 and is named ``*_ROLE`` (DEFAULT_ADMIN_ROLE, RISK_ADMIN_ROLE, ...)."""
    names = [a.name for a in contract.contract_type.view_methods
             if a.name.endswith("_ROLE") and not a.inputs and [o.type for o in a.outputs] == ["bytes32"]]
    return {n: bytes(getattr(contract, n)()) for n in sorted(names)}


def _contracts(dep: Deployment, on: str) -> list[tuple[str, Any]]:
    """(label, contract) of ``on``: "oracle", "vault" or "both"."""
    table = {"oracle": [("oracle", dep.oracle)], "vault": [("vault", dep.vault)],
             "both": [("oracle", dep.oracle), ("vault", dep.vault)]}
    if on not in table:
        raise AdminError(f"unknown contract {on!r}; known: oracle, vault, both")
    return table[on]


def _holds(contract: Any, role_name: str, account: Any) -> bool:
    return bool(contract.hasRole(getattr(contract, role_name)(), account))


def _require_any_role(label: str, contract: Any, account: Any, *role_names: str) -> str:
    """The first of ``role_names`` ``account`` holds on ``contract``; ``AdminError`` with the
    contract's reason otherwise."""
    for name in role_names:
        if _holds(contract, name, account):
            return name
    raise AdminError(f"access_control: account is missing role ({account.address} holds none of "
                     f"{', '.join(role_names)} on the {label})")


def change_role(dep: Deployment, grant: bool, role_name: str, account: str, sender: Any,
                on: str = "both", receipts: dict[str, Any] | None = None) -> list[str]:
    """Grant (``grant``) or revoke ``role_name`` for ``account`` on the oracle, the vault
    or both (each that defines the role). The sender must hold the role's admin role.
    Returns one line per contract: what was sent, or why nothing was needed; each
    receipt goes into ``receipts`` (when given) under the contract's label.

    Raises ``AdminError`` if no chosen contract defines the role, or the sender lacks
    its admin role ("access_control: account is missing role")."""
    targets = [(lbl, c, contract_roles(c)) for lbl, c in _contracts(dep, on)]
    targets = [(lbl, c, roles) for lbl, c, roles in targets if role_name in roles] or _no_role(role_name, targets)
    for lbl, c, roles in targets:
        admin_role = bytes(c.getRoleAdmin(roles[role_name]))
        if not c.hasRole(admin_role, sender):
            raise AdminError(f"access_control: account is missing role ({sender.address} does not hold the admin "
                             f"role of {role_name} on the {lbl})")
    out = []
    for lbl, c, roles in targets:
        held = bool(c.hasRole(roles[role_name], account))
        if held == grant:
            out.append(f"{lbl}: {account} {'already holds' if grant else 'does not hold'} {role_name}; nothing sent")
            continue
        receipt = (c.grantRole if grant else c.revokeRole)(roles[role_name], account, sender=sender)
        if receipts is not None:
            receipts[lbl] = receipt
        out.append(f"{lbl}: {'granted' if grant else 'revoked'} {role_name} {'to' if grant else 'from'} {account}")
    return out


def _no_role(role_name: str, targets: list[tuple[str, Any, dict[str, bytes]]]) -> list[Any]:
    known = "; ".join(f"{lbl}: {', '.join(roles)}" for lbl, _, roles in targets)
    raise AdminError(f"unknown role {role_name!r}; known roles ({known})")


# ------------------------------------------------------------------ pause


def pause_mask(actions: Sequence[str]) -> int:
    """The PAUSE_* bit mask of action names (``withdraw``, ``borrow``, ``liquidate``, or
    ``all``); ``AdminError`` for none or an unknown name."""
    if not actions:
        raise AdminError(f"name at least one action: {', '.join(PAUSE_ACTIONS)} or all")
    mask = 0
    for a in actions:
        key = a.strip().lower()
        if key == "all":
            mask |= sum(PAUSE_ACTIONS.values())
        elif key in PAUSE_ACTIONS:
            mask |= PAUSE_ACTIONS[key]
        else:
            raise AdminError(f"unknown action {a!r}; known: {', '.join(PAUSE_ACTIONS)}, all "
                             "(deposits and repayments cannot be paused)")
    return mask


def mask_names(mask: int) -> str:
    """``withdraw, borrow`` for a mask; ``nothing`` for 0."""
    return ", ".join(n for n, bit in PAUSE_ACTIONS.items() if mask & bit) or "nothing"


def pause(dep: Deployment, actions: Sequence[str], sender: Any) -> tuple[int, int]:
    """Pause ``actions`` on the vault (GUARDIAN_ROLE or DEFAULT_ADMIN_ROLE). Returns
    (old mask, new mask); ``AdminError`` for bad names or a missing role."""
    mask = pause_mask(actions)
    _require_any_role("vault", dep.vault, sender, "DEFAULT_ADMIN_ROLE", "GUARDIAN_ROLE")
    old = int(dep.vault.paused())
    dep.vault.pause(mask, sender=sender)
    return old, int(dep.vault.paused())


def unpause(dep: Deployment, actions: Sequence[str], sender: Any) -> tuple[int, int]:
    """Clear the pause of ``actions`` (DEFAULT_ADMIN_ROLE only: a guardian cannot
    unpause). Returns (old mask, new mask); ``AdminError`` as ``pause``."""
    mask = pause_mask(actions)
    _require_any_role("vault", dep.vault, sender, "DEFAULT_ADMIN_ROLE")
    old = int(dep.vault.paused())
    dep.vault.unpause(mask, sender=sender)
    return old, int(dep.vault.paused())


# ------------------------------------------------------------------ parameters and units


def find_param(name: str) -> tuple[str, S.Param]:
    """(table key, row) of the parameter ``name`` in ``volmargin.spec`` (``oracle``:
    per-asset RiskOracle; ``asset``: per-asset MarginVault; ``vault``: global
    MarginVault); ``AdminError`` listing the names otherwise."""
    for key, table in S.TABLES.items():
        if name in table.names:
            return key, table[name]
    known = "; ".join(f"{k}: {', '.join(t.names)}" for k, t in S.TABLES.items())
    raise AdminError(f"unknown parameter {name!r}; known ({known})")


def unit_scale(unit: str) -> int:
    """Integer per human unit: 1 for seconds, flags, modes and whole tokens (a supply cap), WAD
    for every WAD-based unit."""
    return 1 if unit in ("s", "flag", "mode", "tokens") else WAD


def to_raw(row: S.Param, value: Any) -> int:
    """The on-chain integer of ``value`` given in ``row``'s human unit (``0.25`` for a
    WAD fraction, ``3600`` for seconds). ``AdminError`` if it is not a number, is
    negative, or is finer than one on-chain unit."""
    try:
        d = Decimal(str(value).strip().replace("_", ""))
    except InvalidOperation:
        raise AdminError(f"{row.name}: {value!r} is not a number") from None
    raw = d * unit_scale(row.unit)
    if not d.is_finite() or raw < 0 or raw != raw.to_integral_value():
        raise AdminError(f"{row.name}: {value} is not a non-negative multiple of one on-chain unit "
                         f"({row.unit}, 1 = {unit_scale(row.unit)})")
    return int(raw)


def to_human(row: S.Param, raw: int) -> str:
    """``raw`` in ``row``'s human unit, exact (``0.25``, ``3600``)."""
    if raw == S.UINT256_MAX:
        return "max"
    d = Decimal(raw) / unit_scale(row.unit)
    text = format(d.normalize(), "f") if d == d.to_integral_value() or abs(d) >= Decimal("1e-6") else f"{d:.6e}"
    return text


def parse_settings(pairs: Sequence[str]) -> dict[str, str]:
    """``["heartbeat=3600", "h_min=0.1"]`` -> ``{"heartbeat": "3600", "h_min": "0.1"}``;
    ``AdminError`` for an entry without ``=``."""
    out = {}
    for p in pairs:
        name, sep, value = p.partition("=")
        if not sep:
            raise AdminError(f"{p!r}: write NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def _asset_address(dep: Deployment, asset: str) -> str:
    """Token address of a manifest symbol, or ``asset`` itself when it is an address."""
    if asset.startswith("0x") and len(asset) == 42:
        return asset
    from .manifest import DeploymentError

    try:
        return str(dep.tokens[dep.symbol_of(asset)].address)
    except DeploymentError as exc:
        raise AdminError(str(exc)) from None


def _utc(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class ParamChange:
    """A planned change of one parameter, checked as the contract will check it.

    Values are on-chain integers (``current``, ``new``, the allowed range ``lo``..``hi``
    for this sender now: the spec's bound given the other entries, narrowed by the
    steward's ``max_rel_change`` for a RISK_ADMIN_ROLE sender); ``earliest``: block time
    from which the steward allows the change; ``role``: the sender's governing role
    (None: neither); ``refusal``: the contract's revert reason and why, or None."""

    table: str
    row: S.Param
    asset: str | None
    label: str
    current: int
    new: int
    lo: int
    hi: int
    now: int
    earliest: int
    role: str | None
    refusal: str | None = None
    lines: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        """Human lines: what changes, from what, the allowed range and the earliest time."""
        h = lambda v: to_human(self.row, v)  # noqa: E731
        unit = f"{self.row.unit}, {self.row.description}"
        when = "now" if self.earliest <= self.now else f"{_utc(self.earliest)} (in {self.earliest - self.now:,} s)"
        who = self.role or "no governing role"
        return [
            f"{self.label}.{self.row.name} ({unit}): current {h(self.current)}, new {h(self.new)}",
            f"allowed for this sender ({who}): {h(self.lo)} .. {h(self.hi)}; earliest change: {when}",
        ]


def _vector(dep: Deployment, table: str, asset: str | None) -> list[int]:
    """The on-chain vector of ``table`` (of ``asset`` for per-asset tables)."""
    n = len(S.TABLES[table])
    if table == "oracle":
        return [int(dep.oracle.params(asset, i)) for i in range(n)]
    if table == "asset":
        return [int(dep.vault.asset_params(asset, i)) for i in range(n)]
    return [int(dep.vault.params(i)) for i in range(n)]


def _oracle_lists(dep: Deployment, asset: str) -> bool:
    """Whether the oracle lists ``asset`` (its state has a feed)."""
    return int(str(dep.oracle.assets(asset).feed), 16) != 0


def _target(dep: Deployment, table: str, asset: str | None) -> tuple[Any, str, str | None]:
    """(contract, label, steward key) of a change; ``AdminError`` as the contract's listing checks."""
    if table == "vault":
        if asset is not None:
            raise AdminError("vault parameters are global: give no asset")
        return dep.vault, "vault", ZERO_ADDRESS
    if asset is None:
        raise AdminError(f"{table} parameters are per asset: give the asset")
    if table == "oracle":
        if not _oracle_lists(dep, asset):
            raise AdminError("oracle: asset not listed")
        return dep.oracle, "oracle", asset
    if int(dep.vault.asset_slot(asset)) == 0:
        raise AdminError("vault: asset not listed")
    return dep.vault, "vault", asset


def plan_param(chain: Any, dep: Deployment, name: str, value: Any, sender: Any,
               asset: str | None = None) -> ParamChange:
    """Check a change of parameter ``name`` (``volmargin.spec``) to ``value`` (human
    units) by ``sender`` as the contract will: role, steward bound and delay, then the
    parameter check. ``refusal`` carries the contract's revert reason if it would revert.

    Raises ``AdminError`` for an unknown name, a bad value or asset (not a refusal)."""
    table, row = find_param(name)
    address = _asset_address(dep, asset) if asset is not None else None
    contract, label, key = _target(dep, table, address)
    if address is not None:
        label = f"{label}[{asset}]"
    values = _vector(dep, table, address)
    current, new = values[row.index], to_raw(row, value)
    now = int(chain.blocks.head.timestamp)
    lo, hi = S.TABLES[table].interval(name, values)
    role = _governing_role(contract, sender)
    earliest = now
    if role == "RISK_ADMIN_ROLE":
        step = current * int(contract.max_rel_change()) // WAD
        lo, hi = max(lo, current - step), min(hi, current + step)
        earliest = max(now, int(contract.last_change(key, row.index)) + int(contract.min_change_delay()))
    plan = ParamChange(table, row, address, label, current, new, lo, hi, now, earliest, role)
    plan.refusal = _refusal(plan, values, contract)
    return plan


def _governing_role(contract: Any, sender: Any) -> str | None:
    """The role by which ``sender`` may change ``contract``'s parameters: DEFAULT_ADMIN_ROLE
    (freely), RISK_ADMIN_ROLE (through the steward's bounds), or None."""
    return ("DEFAULT_ADMIN_ROLE" if _holds(contract, "DEFAULT_ADMIN_ROLE", sender)
            else "RISK_ADMIN_ROLE" if _holds(contract, "RISK_ADMIN_ROLE", sender) else None)


def _steward_refusal(contract: Any, role: str | None, key: str, steps: list[tuple[int, int, int]], now: int,
                     what: str) -> str | None:
    """``steward._authorize_change``'s revert reason for a sender of governing ``role`` moving each
    (param, current, new) of ``steps`` under ``key`` at block time ``now`` (``what`` names them in
    the message), in the contract's order; None when every step passes."""
    if role is None:
        return "access_control: account is missing role (neither DEFAULT_ADMIN_ROLE nor RISK_ADMIN_ROLE)"
    if role != "RISK_ADMIN_ROLE":
        return None
    rel, delay = int(contract.max_rel_change()), int(contract.min_change_delay())
    for param, current, new in steps:
        if abs(new - current) * WAD > current * rel:
            return f"steward: change too large (a risk admin moves {what} by at most {rel / WAD:.0%} of its current value)"
        earliest = int(contract.last_change(key, param)) + delay
        if now < earliest:
            return f"steward: change too soon (next change of {what} from {_utc(earliest)})"
    return None


def _refusal(plan: ParamChange, values: list[int], contract: Any) -> str | None:
    """The contract's revert reason for ``plan`` (with the numbers behind it), or None."""
    row = plan.row
    steward = _steward_refusal(contract, plan.role, plan.asset or ZERO_ADDRESS, [(row.index, plan.current, plan.new)],
                               plan.now, row.name)
    if steward is not None:
        return steward
    candidate = list(values)
    candidate[row.index] = plan.new
    for ok, reason in S.TABLES[plan.table].evaluate(candidate):
        if not ok:
            return f"{reason} ({row.name} must stay within {to_human(row, plan.lo)} .. {to_human(row, plan.hi)})"
    return None


def set_param(chain: Any, dep: Deployment, name: str, value: Any, sender: Any,
              asset: str | None = None) -> tuple[ParamChange, Any]:
    """Plan (``plan_param``) and, unless refused, send the change. Returns (plan, receipt).

    Raises ``AdminError`` with the contract's reason when the plan is refused (nothing sent)."""
    plan = plan_param(chain, dep, name, value, sender, asset)
    if plan.refusal:
        raise AdminError(f"refused before sending: {plan.refusal}")
    if plan.table == "oracle":
        receipt = dep.oracle.set_param(plan.asset, plan.row.index, plan.new, sender=sender)
    elif plan.table == "asset":
        receipt = dep.vault.set_asset_param(plan.asset, plan.row.index, plan.new, sender=sender)
    else:
        receipt = dep.vault.set_param(plan.row.index, plan.new, sender=sender)
    return plan, receipt


# ------------------------------------------------------------------ portfolio margin


@dataclass
class PortfolioChange:
    """A planned change of the oracle's portfolio margin (docs/design.md §5.6), checked as
    ``RiskOracle.set_correlation`` / ``set_portfolio_floor`` will check it (the bounds, then
    the steward on each value it bounds: the pair's two offsets, or the floor): ``args`` are the
    call's on-chain arguments, ``lines`` what changes, ``refusal`` the contract's revert reason
    and why, or None."""

    function: str
    args: tuple[Any, ...]
    lines: list[str]
    refusal: str | None = None


def plan_correlation(chain: Any, dep: Deployment, asset_a: str, asset_b: str, rho_lo: Any, rho_hi: Any,
                     sender: Any) -> PortfolioChange:
    """Check setting the correlation bounds of two assets (symbols or addresses) to ``rho_lo``,
    ``rho_hi`` (numbers in [-1, 1]) by ``sender`` as the oracle will: both listed, two different
    assets, ``rho_lo <= rho_hi``, then the steward on both offsets (``1 - rho_hi``, ``1 + rho_lo``).

    Raises ``AdminError`` for an unknown asset or a value that is not a correlation (not a refusal)."""
    o = dep.oracle
    a, b = _asset_address(dep, asset_a), _asset_address(dep, asset_b)
    try:
        lo, hi = correlation_to_wad(rho_lo), correlation_to_wad(rho_hi)
    except ValueError as exc:
        raise AdminError(f"rho: {exc}") from None
    cur_lo, cur_hi = (int(x) for x in o.correlation(a, b))
    lines = [f"correlation {asset_a}-{asset_b}: current ({cur_lo / WAD:g}, {cur_hi / WAD:g}), "
             f"new ({lo / WAD:g}, {hi / WAD:g}); offsets same-sign {(WAD - cur_hi) / WAD:g} -> {(WAD - hi) / WAD:g}, "
             f"opposite-sign {(WAD + cur_lo) / WAD:g} -> {(WAD + lo) / WAD:g}"]
    plan = PortfolioChange("set_correlation", (a, b, lo, hi), lines)
    try:
        ref.require(_oracle_lists(dep, a) and _oracle_lists(dep, b), "oracle: asset not listed")
        ref.require(a.lower() != b.lower(), "oracle: same asset")
        ref.check_correlation(lo, hi)
    except ref.Reject as exc:
        plan.refusal = exc.reason + (f" (rho_lo {lo / WAD:g} above rho_hi {hi / WAD:g})" if lo > hi else "")
        return plan
    # the steward's key and params of the pair (RiskOracle.set_correlation): its storage order
    key, other = ref.portfolio.pair_key(a, b)
    param = int(other, 16) << 8
    role = _governing_role(o, sender)
    plan.refusal = _steward_refusal(o, role, key, [(param, WAD - cur_hi, WAD - hi), (param | 1, WAD + cur_lo, WAD + lo)],
                                    int(chain.blocks.head.timestamp), "each offset of the pair")
    lines.append(f"sender's role: {role or 'none'}")
    return plan


def plan_portfolio_floor(chain: Any, dep: Deployment, value: Any, sender: Any) -> PortfolioChange:
    """Check setting the oracle's portfolio floor to ``value`` (a fraction in (0, 1]; 1 turns
    portfolio margin off) by ``sender`` as the oracle will: the bound, then the steward.

    Raises ``AdminError`` for a value that is not a number (not a refusal)."""
    o = dep.oracle
    new = to_raw(S.PORTFOLIO_FLOOR, value)
    current = int(o.portfolio_floor())
    plan = PortfolioChange("set_portfolio_floor", (new,),
                           [f"portfolio floor: current {current / WAD:g}, new {new / WAD:g}"])
    try:
        ref.check_portfolio_floor(new)
    except ref.Reject as exc:
        plan.refusal = f"{exc.reason} (the floor must be in (0, 1], got {new / WAD:g})"
        return plan
    role = _governing_role(o, sender)
    plan.refusal = _steward_refusal(o, role, ZERO_ADDRESS, [(int(o.PORTFOLIO_FLOOR_PARAM()), current, new)],
                                    int(chain.blocks.head.timestamp), "the floor")
    plan.lines.append(f"sender's role: {role or 'none'}")
    return plan


def send_portfolio_change(dep: Deployment, plan: PortfolioChange, sender: Any) -> Any:
    """Send a checked ``PortfolioChange``; the receipt. ``AdminError`` when the plan is refused
    (nothing sent)."""
    if plan.refusal:
        raise AdminError(f"refused before sending: {plan.refusal}")
    return getattr(dep.oracle, plan.function)(*plan.args, sender=sender)


# ------------------------------------------------------------------ listing


@dataclass
class Listing:
    """A planned listing: token and feed addresses, token decimals, the oracle and rate
    vectors (on-chain integers), the seed variance (WAD per second), and whether the
    oracle already lists the token (then only the vault step is sent)."""

    token: Any
    feed: Any
    decimals: int
    oracle_params: Any
    rate_params: Any
    var_seed: int
    on_oracle: bool


def _vectors(dep: Deployment, like: str | None, settings: Mapping[str, Any]) -> tuple[Any, Any]:
    """Oracle and rate vectors: those of the listed asset ``like`` (default: the
    ``volmargin.params`` defaults) with ``settings`` (name -> human value) applied."""
    if like is not None:
        a = _asset_address(dep, like)
        oracle, rates = _vector(dep, "oracle", a), _vector(dep, "asset", a)
    else:
        oracle, rates = list(P.oracle_params()), list(P.rate_params())
    for name, value in settings.items():
        table, row = find_param(name)
        if table == "vault":
            raise AdminError(f"{name} is a global vault parameter, not an asset's")
        (oracle if table == "oracle" else rates)[row.index] = to_raw(row, value)
    for table, vec in (("oracle", oracle), ("asset", rates)):
        failed = next((reason for ok, reason in S.TABLES[table].evaluate(vec) if not ok), None)
        if failed:
            raise AdminError(f"refused before sending: {failed} (the {table} vector fails the contract's check)")
    return S.ORACLE.make(oracle), S.ASSET.make(rates)


def plan_listing(project: Any, chain: Any, dep: Deployment, token: str, feed: str, sender: Any,
                 settings: Mapping[str, Any] | None = None, like: str | None = None,
                 vol: float = 0.8) -> Listing:
    """Check listing ``token`` with price ``feed`` as both contracts will (roles, vectors,
    feed decimals and freshness, token decimals, the probe's balance). ``vol``: annual
    volatility of the seed variance. Raises ``AdminError`` with the contract's reason."""
    for lbl, c in _contracts(dep, "both"):
        _require_any_role(lbl, c, sender, "DEFAULT_ADMIN_ROLE")
    oracle_vec, rate_vec = _vectors(dep, like, settings or {})
    tok, agg = project.MockERC20.at(token), project.MockAggregator.at(feed)
    if int(dep.vault.asset_slot(token)) != 0:
        raise AdminError("refused before sending: vault: already listed")
    if int(dep.vault.n_listed()) >= 8:
        raise AdminError("refused before sending: vault: too many assets")
    on_oracle = _oracle_lists(dep, token)
    decimals = int(tok.decimals())
    if decimals > 24:
        raise AdminError("refused before sending: vault: decimals > 24")
    if not on_oracle:
        _check_feed(chain, agg, oracle_vec)
    probe = 10**decimals
    if int(tok.balanceOf(sender)) < probe:
        raise AdminError(f"refused before sending: the admin holds {int(tok.balanceOf(sender))} units of {token}; "
                         f"the fee-on-transfer probe needs {probe} (one whole token)")
    return Listing(tok, agg, decimals, oracle_vec, rate_vec, P.annual_vol_to_var(vol), on_oracle)


def _check_feed(chain: Any, agg: Any, oracle_vec: Any) -> None:
    """The oracle's listing checks of a feed: decimals <= 18, a valid and fresh answer."""
    if int(agg.decimals()) > 18:
        raise AdminError("refused before sending: oracle: feed decimals > 18")
    round_id, answer, _, updated_at, answered_in = (int(x) for x in agg.latestRoundData())
    now = int(chain.blocks.head.timestamp)
    if answer <= 0 or updated_at == 0 or answered_in < round_id or updated_at > now:
        raise AdminError("refused before sending: oracle: invalid price")
    if now - updated_at > oracle_vec.heartbeat + oracle_vec.grace:
        raise AdminError(f"refused before sending: oracle: stale price (the feed's answer is {now - updated_at:,} s old)")


def list_asset(dep: Deployment, plan: Listing, sender: Any) -> list[str]:
    """Send a planned listing: ``oracle.list_asset`` (unless already listed there), the
    probe's approval if the allowance is short, ``vault.list_asset``. Returns one line per
    transaction sent."""
    out = []
    if not plan.on_oracle:
        dep.oracle.list_asset(plan.token.address, plan.feed.address, plan.var_seed, list(plan.oracle_params), sender=sender)
        out.append(f"oracle: listed {plan.token.address} with feed {plan.feed.address}")
    probe = 10**plan.decimals
    if int(plan.token.allowance(sender, dep.vault.address)) < probe:
        plan.token.approve(dep.vault.address, probe, sender=sender)
        out.append(f"token: approved the vault for the probe ({probe} units)")
    dep.vault.list_asset(plan.token.address, list(plan.rate_params), sender=sender)
    out.append(f"vault: listed {plan.token.address} (slot {int(dep.vault.asset_slot(plan.token.address))})")
    return out
