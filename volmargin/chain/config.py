"""Deployment configs: one YAML file per network (``deployments/configs/<name>.yaml``),
validated with pydantic and resolved into the on-chain vectors that ``deploy_system`` sends.

A config lists the assets (token and AggregatorV3 feed: an address, or ``mock`` on a
local network), their risk (RiskOracle) and rate (MarginVault) parameters and the
vault's parameters BY NAME in human units, the seed variance as an annual volatility,
the roles to grant, and optional seed liquidity (local networks only). A parameter the
file leaves out takes the default of ``volmargin.params`` (the asset's own
``TokenSpec`` when the symbol is one of ``params.TOKENS``, else ``oracle_params()`` and
``rate_params()``). Names, units and bounds come from ``volmargin.spec``; every vector
is held to the contract's own check before anything is sent, and a refusal carries the
contract's revert reason (docs/design.md §3-§8).

Human units, by the spec's unit of the entry:

* ``s``: seconds, or a duration ``90s``, ``10m``, ``12h``, ``30d``, ``2w``;
* ``WAD`` (fractions, multiples), ``WAD/year`` (rates per year), ``WAD USD`` (USD):
  a plain number, taken exactly (``0.1`` is 1e17, ``50e6`` USD is 5e25);
* ``WAD/s`` (speeds): a fraction with its time unit, ``0.02 per hour`` (``per second``,
  ``per minute``, ``per day``, ``per year``), rounded down to whole WAD per second as
  ``params.per_hour`` does;
* ``flag``: ``true``/``false`` or 0/1;
* ``mode`` (``f_mode``): a name of ``spec.FORECAST_MODES`` (``off``, ``replace``, ``max``, ``blend``)
  or its number 0-3.

Aliases of ``params.py``: ``vol_min``/``vol_max`` (annual volatilities, stored as the
variances ``var_min``/``var_max``, WAD/s), ``depth_usd`` (``depth``), ``base``
(``base_rate``), ``min_debt_value_usd``, ``liq_cap_usd``, ``liq_cap_tripped_usd``.

Errors: ``ConfigError``, one line naming the file and each bad field by its path
(``assets.WETH.risk.h_min: ...``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from .. import params as P
from .. import reference as ref
from .. import spec as S
from ..units import correlation_to_wad
from .admin import AdminError, to_human, to_raw
from .manifest import Address, _field_errors

#: Where the per-network configs live.
CONFIGS_DIR = Path("deployments/configs")
#: The ``network`` of a config for development chains (embedded chain, anvil).
LOCAL = "local"
#: Placeholder of a token or feed that the deployment creates (local networks only).
MOCK = "mock"

_SECONDS = {"s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "minute": 60, "minutes": 60,
            "h": 3_600, "hour": 3_600, "hours": 3_600, "d": 86_400, "day": 86_400, "days": 86_400,
            "w": 604_800, "week": 604_800, "weeks": 604_800, "y": S.SECONDS_PER_YEAR,
            "year": S.SECONDS_PER_YEAR, "years": S.SECONDS_PER_YEAR}


class ConfigError(ValueError):
    """A deployment config that cannot be deployed, in one line naming the file and the field(s)."""


# ------------------------------------------------------------------ schema (structure only)


def _address_or_mock(value: str) -> str:
    if value != MOCK and not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        raise ValueError(f"{value!r} is neither an address (0x and 40 hex digits) nor 'mock'")
    return value


#: A token or feed of a config: an address, or ``mock``.
AddressOrMock = Annotated[str, AfterValidator(_address_or_mock)]


class AssetConfig(BaseModel):
    """``assets.<SYMBOL>``: token and feed (address or ``mock``), decimals (required for a
    mock token; checked against the chain for a real one), the mock's name, feed
    description and first price (USD per whole token), the seed volatility (annual, e.g.
    0.8) and the parameters by name (``risk``: RiskOracle, ``rates``: MarginVault)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: AddressOrMock
    feed: AddressOrMock
    decimals: int | None = Field(default=None, ge=0, le=24)
    name: str | None = Field(default=None, min_length=1, max_length=25)
    feed_description: str | None = Field(default=None, max_length=64)
    start_price: float | None = Field(default=None, gt=0)
    seed_vol: float | None = Field(default=None, ge=0)
    risk: dict[str, Any] = Field(default_factory=dict)
    rates: dict[str, Any] = Field(default_factory=dict)


class GovernanceConfig(BaseModel):
    """``governance``: the risk steward's limits, given to both constructors (a fraction; a duration)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rel_change: float | str = Field(default=str(Decimal(P.MAX_REL_CHANGE) / P.WAD))
    min_change_delay: int | str = P.MIN_CHANGE_DELAY


def _default_correlations() -> dict[str, tuple[float, float]]:
    return {f"{a}-{b}": (float(Decimal(lo) / P.WAD), float(Decimal(hi) / P.WAD)) for (a, b), (lo, hi) in P.CORRELATIONS.items()}


class PortfolioConfig(BaseModel):
    """``portfolio``: portfolio margin on the oracle (docs/design.md §5.6). ``floor``: the least
    fraction of the sum of an account's per-asset requirements that offsets may leave (1 turns
    portfolio margin off); ``correlations``: ``SYMBOL-SYMBOL: [rho_lo, rho_hi]`` for pairs of this
    config's assets (every other pair: no offset). Defaults: ``params.PORTFOLIO_FLOOR`` and
    ``params.CORRELATIONS`` (pairs of assets the config lists)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    floor: float | str = Field(default=str(Decimal(P.PORTFOLIO_FLOOR) / P.WAD))
    correlations: dict[str, tuple[float, float]] = Field(default_factory=_default_correlations)


class SeedConfig(BaseModel):
    """``seed_liquidity``: ``lender`` (``TEST::<n>`` or an ``ape accounts`` alias) deposits
    ``amounts[SYMBOL]`` whole tokens of each mock token (local networks only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lender: str = "TEST::1"
    amounts: dict[str, float] = Field(default_factory=dict)


class DeployConfig(BaseModel):
    """A deployment config file. ``network``: ``local`` (development chains) or the name of a
    live network (``sepolia``); ``chain_id``: the chain it is for (required off local)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    network: str = Field(min_length=1)
    chain_id: int | None = Field(default=None, gt=0)
    assets: dict[str, AssetConfig] = Field(min_length=1, max_length=8)
    vault: dict[str, Any] = Field(default_factory=dict)
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)
    roles: dict[str, list[Address]] = Field(default_factory=dict)
    seed_liquidity: SeedConfig | None = None
    portfolio: PortfolioConfig = Field(default_factory=PortfolioConfig)


# ------------------------------------------------------------------ resolved plan


@dataclass(frozen=True)
class AssetPlan:
    """One asset as it will be deployed: its ``TokenSpec`` (vectors as on-chain integers),
    the existing token and feed addresses (None: a mock is deployed), and whether the
    file gave the decimals (to be checked against the token)."""

    spec: P.TokenSpec
    token: str | None
    feed: str | None
    decimals_given: bool


@dataclass(frozen=True)
class Plan:
    """A validated config resolved to what is sent: assets in listing order, the vault
    vector, the steward's limits (WAD; seconds), roles (name -> addresses), seed
    liquidity (lender alias; whole tokens), the file it came from (None: built-in defaults),
    and portfolio margin: the oracle's floor (WAD) and correlation bounds by pair of symbols
    (signed WAD)."""

    network: str
    chain_id: int | None
    assets: tuple[AssetPlan, ...]
    vault: S.VaultVector
    max_rel_change: int
    min_change_delay: int
    roles: dict[str, tuple[str, ...]]
    seed_lender: str | None
    seed_amounts: dict[str, int]
    source: Path | None = None
    source_sha256: str | None = None
    portfolio_floor: int = P.PORTFOLIO_FLOOR
    correlations: tuple[tuple[tuple[str, str], tuple[int, int]], ...] = tuple(P.CORRELATIONS.items())

    @property
    def correlated_pairs(self) -> tuple[tuple[str, str], ...]:
        """The (symbol, symbol) pairs the plan sets correlation bounds for."""
        return tuple(pair for pair, _ in self.correlations)

    @property
    def local(self) -> bool:
        """Whether the config is for development chains only."""
        return self.network == LOCAL

    @property
    def has_mocks(self) -> bool:
        """Whether any token or feed is a mock."""
        return any(a.token is None or a.feed is None for a in self.assets)

    def to_json(self) -> dict[str, Any]:
        """The resolved config (on-chain integers by name, addresses or ``mock``)."""
        return {
            "network": self.network,
            "chain_id": self.chain_id,
            "assets": {a.spec.symbol: _asset_json(a) for a in self.assets},
            "vault_params": S.VAULT.as_dict(self.vault),
            "max_rel_change": self.max_rel_change,
            "min_change_delay": self.min_change_delay,
            "roles": {k: list(v) for k, v in sorted(self.roles.items())},
            "seed_liquidity": {"lender": self.seed_lender, "amounts": self.seed_amounts} if self.seed_amounts else None,
            "portfolio": {"floor": self.portfolio_floor,
                          "correlations": {f"{a}-{b}": [lo, hi] for (a, b), (lo, hi) in self.correlations}},
        }

    @property
    def config_hash(self) -> str:
        """sha256 of the resolved config's canonical JSON: two files that deploy the same
        system (comments, order, units aside) have the same hash."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()

    def with_decimals(self, symbol: str, decimals: int) -> Plan:
        """The plan with ``symbol``'s token decimals set (read from the chain for a real token)."""
        assets = tuple(replace(a, spec=replace(a.spec, decimals=decimals)) if a.spec.symbol == symbol else a
                       for a in self.assets)
        return replace(self, assets=assets)


def _asset_json(a: AssetPlan) -> dict[str, Any]:
    s = a.spec
    out: dict[str, Any] = {
        "token": a.token or MOCK, "feed": a.feed or MOCK,
        "decimals": s.decimals if (a.token is None or a.decimals_given) else None,
        "oracle_params": S.ORACLE.as_dict(s.oracle), "rate_params": S.ASSET.as_dict(s.rates), "var_seed": s.var_seed,
    }
    if a.token is None:
        out["name"] = s.name
    if a.feed is None:
        out.update(feed_description=s.feed_description, start_price_usd=s.start_price_usd)
    return out


# ------------------------------------------------------------------ human units


def parse_seconds(value: Any) -> int:
    """Seconds of ``3600``, ``"90s"``, ``"12h"``, ``"30d"``; ValueError otherwise (not whole seconds)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int):
        return value
    m = re.fullmatch(r"\s*([0-9][0-9_.eE+]*)\s*([a-z]*)\s*", str(value))
    if not m or (m.group(2) and m.group(2) not in _SECONDS):
        raise ValueError(f"{value!r} is not a duration (seconds, or e.g. 90s, 10m, 12h, 30d, 2w)")
    try:
        total = Decimal(m.group(1).replace("_", "")) * _SECONDS.get(m.group(2) or "s", 1)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a duration") from None
    if total != total.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number of seconds")
    return int(total)


def _speed(row: S.Param, value: Any) -> int:
    """WAD per second of ``"0.02 per hour"`` (rounded down, as ``params.per_hour``)."""
    m = re.fullmatch(r"\s*(\S+)\s*(?:per|/)\s*([a-z]+)\s*", str(value))
    if not m or m.group(2) not in _SECONDS:
        raise ValueError(f"{value!r}: give a fraction with its time unit, e.g. '0.02 per hour' ({row.description})")
    raw = to_raw(replace(row, unit="WAD"), m.group(1))
    return raw // _SECONDS[m.group(2)]


def _vol_to_var(value: Any) -> int:
    """Variance, WAD per second, of an annual volatility (``params.annual_vol_to_var``)."""
    try:
        vol = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not an annual volatility") from None
    if not vol >= 0:
        raise ValueError(f"{value!r} is not an annual volatility")
    return P.annual_vol_to_var(vol)


def to_onchain(row: S.Param, value: Any) -> int:
    """The on-chain integer of ``value`` in ``row``'s human unit (see the module doc).
    ValueError (message without the field) for a value that is not one."""
    try:
        if row.unit == "s":
            return parse_seconds(value)
        if row.unit == "WAD/s":
            return _speed(row, value)
        if row.unit == "flag" and isinstance(value, bool):
            return int(value)
        if row.unit == "mode" and isinstance(value, str) and value.strip().lower() in S.FORECAST_MODES:
            return S.FORECAST_MODES.index(value.strip().lower())
        return to_raw(row, value)
    except AdminError as exc:
        raise ValueError(str(exc).split(": ", 1)[-1]) from None


#: File names of ``params.py`` that differ from the spec's: name -> (spec name, converter).
ALIASES: dict[str, tuple[str, Callable[[Any], int]]] = {
    "vol_min": ("var_min", _vol_to_var),
    "vol_max": ("var_max", _vol_to_var),
    "depth_usd": ("depth", lambda v: to_onchain(S.ORACLE["depth"], v)),
    "base": ("base_rate", lambda v: to_onchain(S.ASSET["base_rate"], v)),
    "min_debt_value_usd": ("min_debt_value", lambda v: to_onchain(S.VAULT["min_debt_value"], v)),
    "liq_cap_usd": ("liq_cap", lambda v: to_onchain(S.VAULT["liq_cap"], v)),
    "liq_cap_tripped_usd": ("liq_cap_tripped", lambda v: to_onchain(S.VAULT["liq_cap_tripped"], v)),
}


# ------------------------------------------------------------------ resolution


class _Errors:
    """Errors collected as ``path: message``."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, msg: str) -> None:
        self.items.append(f"{path}: {msg}")


def _vector(table: S.Table, section: str, base: list[int], given: Mapping[str, Any], errors: _Errors) -> list[int]:
    """``base`` with the file's ``given`` entries (name -> human value) applied, then held to the
    contract's check; errors named ``<section>.<name>``."""
    vec, where = list(base), {}
    for name, value in given.items():
        spec_name, convert = (ALIASES[name][0], ALIASES[name][1]) if name in ALIASES else (name, None)
        if spec_name not in table.names:
            errors.add(f"{section}.{name}", _unknown(table, name))
            continue
        if spec_name in where:
            errors.add(f"{section}.{name}", f"given twice (as {where[spec_name]} and {name})")
            continue
        where[spec_name] = name
        try:
            vec[table.index(spec_name)] = convert(value) if convert else to_onchain(table[spec_name], value)
        except ValueError as exc:
            errors.add(f"{section}.{name}", str(exc))
    if not errors.items:
        _check(table, section, vec, where, errors)
    return vec


def _unknown(table: S.Table, name: str) -> str:
    other = next((k for k, t in S.TABLES.items() if t is not table and name in t.names), None)
    section = {"oracle": "risk", "asset": "rates", "vault": "vault"}
    hint = f"; it is a {section[other]} parameter" if other else ""
    return (f"unknown {table.contract} parameter{hint}; known: {', '.join(table.names)} "
            f"(aliases: {', '.join(a for a, (n, _) in ALIASES.items() if n in table.names) or 'none'})")


def _check(table: S.Table, section: str, vec: list[int], where: dict[str, str], errors: _Errors) -> None:
    """The contract's check of ``vec``, line by line; the first failing entry of a failing line
    is named with the contract's reason and the range it must stay within."""
    for line in table.checks:
        for name, kind in line:
            if table.holds(vec, name, kind):
                continue
            row = table[name]
            lo, hi = row.lo, table.max_value(name)
            if kind == "le" and row.le is not None:
                hi = min(hi, vec[table.index(row.le)])
            if kind == "sum" and row.sum_hi is not None:
                hi = row.sum_hi - sum(vec[table.index(n)] for n in row.sum_group if n != name)
            label = where.get(name, f"{name} (default)")
            errors.add(f"{section}.{label}", f"{to_human(row, vec[row.index])} refused: {row.reason} "
                       f"({name} must stay within {to_human(row, lo)} .. {to_human(row, max(hi, lo))})")
            return


def _asset(symbol: str, cfg: AssetConfig, local: bool, network: str, errors: _Errors) -> AssetPlan | None:
    """One asset resolved; None when it has errors (recorded)."""
    path = f"assets.{symbol}"
    if not re.fullmatch(r"[A-Z0-9]{1,5}", symbol):
        errors.add(path, "a symbol is 1-5 upper-case letters or digits (MockERC20's symbol)")
    for kind in ("token", "feed"):
        if getattr(cfg, kind) == MOCK and not local:
            errors.add(f"{path}.{kind}", f"'mock' is for local networks only (this config is for {network}): "
                       "give the address")
    if cfg.token == MOCK and cfg.decimals is None:
        errors.add(f"{path}.decimals", "required for a mock token")
    base = next((t for t in P.TOKENS if t.symbol == symbol), None)
    n = len(errors.items)
    oracle = _vector(S.ORACLE, f"{path}.risk", list(base.oracle if base else P.oracle_params()), cfg.risk, errors)
    rates = _vector(S.ASSET, f"{path}.rates", list(base.rates if base else P.rate_params()), cfg.rates, errors)
    var_seed = (P.annual_vol_to_var(cfg.seed_vol) if cfg.seed_vol is not None
                else base.var_seed if base else P.annual_vol_to_var(0.8))
    if len(errors.items) > n:
        return None
    spec = P.TokenSpec(
        symbol=symbol, name=cfg.name or (base.name if base else symbol),
        decimals=cfg.decimals if cfg.decimals is not None else -1,
        feed_description=cfg.feed_description or (base.feed_description if base else f"{symbol} / USD"),
        start_price_usd=cfg.start_price or (base.start_price_usd if base else 1.0), var_seed=var_seed,
        oracle=S.ORACLE.make(oracle), rates=S.ASSET.make(rates),
    )
    return AssetPlan(spec, None if cfg.token == MOCK else cfg.token, None if cfg.feed == MOCK else cfg.feed,
                     cfg.decimals is not None)


def _governance(cfg: GovernanceConfig, errors: _Errors) -> tuple[int, int]:
    rel = delay = 0
    try:
        rel = to_onchain(S.Param("max_rel_change", 0, "", "WAD", 256, "", "steward step limit"), cfg.max_rel_change)
    except ValueError as exc:
        errors.add("governance.max_rel_change", str(exc))
    try:
        delay = parse_seconds(cfg.min_change_delay)
    except ValueError as exc:
        errors.add("governance.min_change_delay", str(exc))
    return rel, delay


def _seed(cfg: DeployConfig, local: bool, errors: _Errors) -> tuple[str | None, dict[str, int]]:
    seed = cfg.seed_liquidity
    if seed is None or not seed.amounts:
        return None, {}
    if not local:
        errors.add("seed_liquidity", f"seed liquidity is for local networks only (this config is for {cfg.network})")
        return None, {}
    out = {}
    for sym, whole in seed.amounts.items():
        a = cfg.assets.get(sym)
        if a is None:
            errors.add(f"seed_liquidity.amounts.{sym}", f"not an asset of this config ({', '.join(cfg.assets)})")
        elif a.token != MOCK:
            errors.add(f"seed_liquidity.amounts.{sym}", "seeding mints the token: only for 'mock' tokens")
        elif whole < 0 or whole != int(whole):
            errors.add(f"seed_liquidity.amounts.{sym}", f"{whole} is not a whole number of tokens >= 0")
        else:
            out[sym] = int(whole)
    return seed.lender, out


def _portfolio(cfg: DeployConfig, errors: _Errors) -> tuple[int, tuple[tuple[tuple[str, str], tuple[int, int]], ...]]:
    floor = P.PORTFOLIO_FLOOR
    try:
        floor = to_onchain(S.PORTFOLIO_FLOOR, cfg.portfolio.floor)
        ref.check_portfolio_floor(floor)
    except ValueError as exc:
        errors.add("portfolio.floor", str(exc))
    except ref.Reject as exc:
        errors.add("portfolio.floor", f"{cfg.portfolio.floor} is not in (0, 1] ({exc.reason})")
    pairs = []
    explicit = "correlations" in cfg.portfolio.model_fields_set
    for name, (lo, hi) in cfg.portfolio.correlations.items():
        path = f"portfolio.correlations.{name}"
        syms = name.split("-")
        if len(syms) != 2 or syms[0] == syms[1]:
            errors.add(path, "a pair is named SYMBOL-SYMBOL, two different assets (e.g. WETH-WBTC)")
            continue
        missing = [x for x in syms if x not in cfg.assets]
        if missing:
            if explicit:  # a default pair of assets this config does not list is skipped
                errors.add(path, f"{', '.join(missing)} not an asset of this config ({', '.join(cfg.assets)})")
            continue
        try:
            w_lo, w_hi = correlation_to_wad(lo), correlation_to_wad(hi)
            ref.check_correlation(w_lo, w_hi)
        except ValueError as exc:
            errors.add(path, str(exc))
            continue
        except ref.Reject as exc:  # both are correlations: only their order can be wrong
            errors.add(path, f"rho_lo {lo} above rho_hi {hi} ({exc.reason})")
            continue
        pairs.append(((syms[0], syms[1]), (w_lo, w_hi)))
    return floor, tuple(pairs)


def resolve(cfg: DeployConfig, source: Path | None = None, source_sha256: str | None = None) -> Plan:
    """The ``Plan`` of a validated config: defaults filled in, human units converted, every
    vector held to the contract's check. Raises ``ConfigError`` naming each bad field."""
    errors = _Errors()
    local = cfg.network == LOCAL
    if not local and cfg.chain_id is None:
        errors.add("chain_id", f"required for a live network ({cfg.network})")
    assets = [_asset(sym, a, local, cfg.network, errors) for sym, a in cfg.assets.items()]
    vault = _vector(S.VAULT, "vault", list(P.VAULT), cfg.vault, errors)
    rel, delay = _governance(cfg.governance, errors)
    lender, amounts = _seed(cfg, local, errors)
    floor, pairs = _portfolio(cfg, errors)
    roles = {}
    for role, addresses in cfg.roles.items():
        if not re.fullmatch(r"[A-Z_]+_ROLE", role):
            errors.add(f"roles.{role}", "a role name ends in _ROLE (e.g. RISK_ADMIN_ROLE, GUARDIAN_ROLE)")
        roles[role] = tuple(dict.fromkeys(addresses))
    if errors.items:
        raise ConfigError(f"{source or 'config'}: " + "; ".join(errors.items))
    return Plan(cfg.network, cfg.chain_id, tuple(a for a in assets if a is not None), S.VAULT.make(vault), rel, delay,
                roles, lender, amounts, source, source_sha256, floor, pairs)


def load_config(path: Path) -> Plan:
    """Read, validate and resolve the YAML config at ``path``.

    Raises ``ConfigError`` (one line naming the file) when it is missing, not YAML, not a
    mapping, or has a bad field (each named by its path, e.g. ``assets.WETH.feed``)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file (see {CONFIGS_DIR}/)")
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config is a mapping (network, chain_id, assets, ...), got {type(data).__name__}")
    try:
        cfg = DeployConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_field_errors(exc)}") from None
    return resolve(cfg, path, hashlib.sha256(raw).hexdigest())


def default_plan(lender: str | None = "TEST::1", seed: Mapping[str, int] | None = None) -> Plan:
    """The built-in deployment of ``volmargin.params``: mock tokens and feeds of
    ``params.TOKENS``, ``params.VAULT``, the steward's defaults, no roles, and ``seed``
    whole tokens (default ``params.SEED_LIQUIDITY``; empty for none) deposited by ``lender``."""
    seed = dict(P.SEED_LIQUIDITY if seed is None else seed)
    return Plan(LOCAL, None, tuple(AssetPlan(t, None, None, True) for t in P.TOKENS), P.VAULT, P.MAX_REL_CHANGE,
                P.MIN_CHANGE_DELAY, {}, lender if seed else None, seed if lender else {})
