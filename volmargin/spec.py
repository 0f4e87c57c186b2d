"""The contracts' parameter vectors, one table each (docs/design.md §3-§8).

Three vectors configure a deployment:

  * ``ORACLE``: RiskOracle's per-asset vector of 28 entries (``P_*`` constants of
    ``contracts/RiskOracle.vy``), packed into 9 storage words;
  * ``VAULT``:  MarginVault's global vector of 11 entries (``P_*`` constants of
    ``contracts/MarginVault.vy``, ``V_*`` in ``volmargin.reference``), one word each;
  * ``ASSET``:  MarginVault's per-asset vector of 8 entries (``A_*`` constants): rate
    model, borrowability, supply cap and concentration coefficient, packed with the
    asset's slot and decimals into 2 words.

Each entry is a ``Param`` row: its name, index, contract constant, unit, width of
its field in the packed storage, the bounds the contract enforces and the revert
reason it gives when one is broken. Everything else is derived from these tables:
the reference's index constants and checks (``volmargin.reference``), the default
vectors (``volmargin.params``), the model's ``OracleParams`` (``volmargin.model``),
and the named vector types ``OracleVector``, ``VaultVector`` and ``AssetVector``:
``NamedTuple`` s, so that ``v.tau_fast`` and ``v[P_TAU_FAST]`` are the same entry
and a vector still passes wherever a plain tuple of ints does.

Units: ``s`` seconds; ``WAD`` 1e18 fixed point (a fraction or a multiple);
``WAD/s`` WAD per second; ``WAD/year`` WAD per year; ``WAD USD`` USD value in WAD;
``flag`` 0 or 1; ``mode`` one of a few numbered choices (``f_mode``: ``FORECAST_MODES``); ``tokens`` whole tokens (``10**decimals`` token units each). This module imports nothing from the rest of the package.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

#: Contract constants the bounds refer to (RiskOracle.vy, MarginVault.vy, risk_math.vy).
WAD = 10**18
SECONDS_PER_YEAR = 31_536_000
UINT256_MAX = 2**256 - 1
#: Upper bound of any variance, WAD per second (RiskOracle.VAR_CAP).
VAR_CAP = 10**36

#: Kinds of bound: ``lo`` (value >= row.lo), ``hi`` (value <= row.hi), ``le`` (value <= the
#: entry named row.le), ``sum`` (sum of row.sum_group <= row.sum_hi).
Kind = Literal["lo", "hi", "le", "sum"]


@dataclass(frozen=True)
class Param:
    """One entry of a parameter vector.

    ``lo`` and ``hi`` are the inclusive bounds the contract puts on the entry alone
    (``lo == 0`` and ``hi == UINT256_MAX`` mean no check beyond uint256); ``le`` names
    an entry this one must not exceed; ``sum_group``/``sum_hi`` bound the sum of a group
    of entries. ``bits`` is the width of the entry's field in the contract's packed
    storage (256: a whole word)."""

    name: str
    index: int
    constant: str  # the contract's public constant, e.g. "P_TAU_FAST"
    unit: str
    bits: int
    reason: str  # the contract's revert reason when a bound is broken
    description: str
    lo: int = 0
    hi: int = UINT256_MAX
    le: str | None = None
    sum_group: tuple[str, ...] = ()
    sum_hi: int | None = None

    def bounds(self) -> tuple[Kind, ...]:
        """The kinds of bound the contract checks on this entry, in ``lo, hi, le, sum`` order."""
        out: list[Kind] = []
        if self.lo > 0:
            out.append("lo")
        if self.hi < UINT256_MAX:
            out.append("hi")
        if self.le is not None:
            out.append("le")
        if self.sum_hi is not None:
            out.append("sum")
        return tuple(out)


#: One condition of a contract check: (entry name, kind of bound).
Term = tuple[str, Kind]


@dataclass(frozen=True)
class Table:
    """A parameter vector: its rows in index order, and the contract's check of it as
    ``checks``, one tuple of terms per ``assert`` line of the contract, in the contract's
    order (a line holds when all of its terms hold)."""

    contract: str  # e.g. "RiskOracle"
    check_function: str  # e.g. "_check_params"
    rows: tuple[Param, ...]
    checks: tuple[tuple[Term, ...], ...]
    vector: type = field(compare=False)  # the NamedTuple type of the vector
    _by_name: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {r.name: r for r in self.rows})
        _validate(self)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Param]:
        return iter(self.rows)

    def __getitem__(self, name: str) -> Param:
        """The row of entry ``name``; KeyError naming the known entries otherwise."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.contract} has no parameter {name!r}; known: {', '.join(self.names)}") from None

    @property
    def names(self) -> tuple[str, ...]:
        """Entry names in index order."""
        return tuple(r.name for r in self.rows)

    def index(self, name: str) -> int:
        """Index of entry ``name`` (KeyError if unknown)."""
        return self[name].index

    def indices(self, *constants: str) -> tuple[int, ...]:
        """Indices of the entries whose contract constants are ``constants`` (e.g. "P_HEARTBEAT");
        KeyError for an unknown constant."""
        by_const = {r.constant: r.index for r in self.rows}
        missing = [c for c in constants if c not in by_const]
        if missing:
            raise KeyError(f"{self.contract} has no constant {', '.join(missing)}")
        return tuple(by_const[c] for c in constants)

    def make(self, values: Sequence[int]) -> Any:
        """The named vector (``self.vector``) of a positional one; ValueError on a wrong length."""
        if len(values) != len(self.rows):
            raise ValueError(f"a {self.contract} vector has {len(self.rows)} entries, got {len(values)}")
        return self.vector(*values)

    def as_dict(self, values: Sequence[int]) -> dict[str, int]:
        """``{name: value}`` of a positional vector, in index order; ValueError on a wrong length."""
        return self.make(values)._asdict()

    def holds(self, values: Sequence[int], name: str, kind: Kind) -> bool:
        """Whether bound ``kind`` of entry ``name`` holds in the positional vector ``values``."""
        r = self[name]
        v = values[r.index]
        if kind == "lo":
            return v >= r.lo
        if kind == "hi":
            return v <= r.hi
        if kind == "le" and r.le is not None:
            return v <= values[self.index(r.le)]
        if kind == "sum" and r.sum_hi is not None:
            return sum(values[self.index(n)] for n in r.sum_group) <= r.sum_hi
        raise ValueError(f"{self.contract}.{name} has no {kind!r} bound")

    def evaluate(self, values: Sequence[int]) -> Iterator[tuple[bool, str]]:
        """(holds, revert reason) of each ``assert`` line of the contract's check, in its
        order; lazy, so that a caller stopping at the first failure evaluates what the
        contract evaluates."""
        for line in self.checks:
            yield all(self.holds(values, n, k) for n, k in line), self[line[0][0]].reason

    def interval(self, name: str, values: Sequence[int]) -> tuple[int, int]:
        """The inclusive range of entry ``name`` the contract accepts while every other entry
        keeps its value in ``values`` (which must pass the check). Its end points are the
        entry's own bounds narrowed by each ``le`` relation and sum it takes part in."""
        r = self[name]
        lo, hi = r.lo, r.hi
        if r.le is not None:
            hi = min(hi, values[self.index(r.le)])
        lo = max([lo] + [values[o.index] for o in self.rows if o.le == name])
        if r.sum_hi is not None:
            others = sum(values[self.index(n)] for n in r.sum_group if n != name)
            hi = min(hi, r.sum_hi - others)
        return lo, hi

    def max_value(self, name: str) -> int:
        """The largest value entry ``name`` can ever hold in a vector that passes the check
        (its own bound, an ``le`` target's largest value, its sum bound)."""
        r = self[name]
        hi = r.hi
        if r.le is not None:
            hi = min(hi, self.max_value(r.le))
        if r.sum_hi is not None:
            hi = min(hi, r.sum_hi)
        return hi


def _validate(t: Table) -> None:
    """The table is consistent: indices 0..n-1 in order, relations name known entries, and
    ``checks`` holds every bound of every row exactly once. Raises ValueError otherwise."""
    if [r.index for r in t.rows] != list(range(len(t.rows))):
        raise ValueError(f"{t.contract}: indices must be 0..{len(t.rows) - 1} in order")
    names = {r.name for r in t.rows}
    for r in t.rows:
        if (r.le is not None and r.le not in names) or not set(r.sum_group) <= names:
            raise ValueError(f"{t.contract}.{r.name}: a relation names an unknown entry")
    # a sum bound is checked once, under the first entry of its group
    expected = sorted(
        (r.name, k) for r in t.rows for k in r.bounds() if k != "sum" or r.sum_group[0] == r.name
    )
    checked = sorted(term for line in t.checks for term in line)
    if checked != expected:
        raise ValueError(f"{t.contract}.{t.check_function}: checks {checked} != bounds {expected}")
    for line in t.checks:
        if len({t._by_name[n].reason for n, _ in line}) != 1:
            raise ValueError(f"{t.contract}: one assert line, one reason")
    if list(t.vector._fields) != [r.name for r in t.rows]:
        raise ValueError(f"{t.contract}: the vector type's fields are not the rows' names")


def _vector_type(typename: str, names: Sequence[str], doc: str) -> type:
    """A NamedTuple of ints named ``typename`` with ``names`` as fields."""
    t: Any = NamedTuple(typename, [(n, int) for n in names])  # type: ignore[misc]
    t.__module__ = __name__
    t.__doc__ = doc
    return t


def _rows(prefix: str, reason: str, specs: Sequence[tuple[Any, ...]]) -> tuple[Param, ...]:
    """Rows from (name, unit, bits, description, bounds) tuples, indexed in order; the
    contract constant is ``prefix`` + the upper-cased name."""
    return tuple(
        Param(name, i, prefix + name.upper(), unit, bits, reason, desc, **bounds)
        for i, (name, unit, bits, desc, bounds) in enumerate(specs)
    )


# ------------------------------------------------------------------ RiskOracle

_U48, _U56, _U64, _U96, _U160 = 2**48 - 1, 2**56 - 1, 2**64 - 1, 2**96 - 1, 2**160 - 1
#: RiskOracle.MAX_F_MULTIPLE: the largest forecast multiple or step, WAD.
MAX_F_MULTIPLE = 10 * WAD
#: How a live forecast enters the haircuts (RiskOracle's f_mode; module ``forecast``'s MODE_*).
FORECAST_MODES: tuple[str, ...] = ("off", "replace", "max", "blend")
_ORACLE_ROWS = _rows("P_", "oracle: bad params", (
    ("heartbeat", "s", 64, "expected feed update interval", {"lo": 1, "hi": _U64}),
    ("grace", "s", 64, "tolerated delay beyond the heartbeat", {"hi": _U64}),
    ("tau_fast", "s", 64, "fast EWMA time constant", {"lo": 1, "hi": _U64}),
    ("tau_slow", "s", 64, "slow EWMA time constant", {"lo": 1, "hi": _U64}),
    ("horizon", "s", 64, "liquidation horizon H", {"lo": 1, "hi": SECONDS_PER_YEAR}),
    ("z_maint", "WAD", 72, "sigma multiple for h_maint", {"le": "z_init"}),
    ("z_init", "WAD", 72, "sigma multiple for h_init", {"hi": 100 * WAD}),
    ("h0", "WAD", 64, "base haircut", {"hi": WAD}),
    ("h_min", "WAD", 64, "haircut floor (stressed floor)", {"le": "h_max"}),
    ("h_max", "WAD", 64, "haircut cap", {"hi": WAD}),
    ("ramp_up", "WAD/s", 64, "tightening speed of h_maint", {"hi": _U64}),
    ("ramp_down", "WAD/s", 64, "loosening speed of h_maint", {"hi": _U64}),
    ("var_min", "WAD/s", 128, "variance floor", {"le": "var_max"}),
    ("var_max", "WAD/s", 128, "variance cap", {"hi": VAR_CAP}),
    ("k_jump", "WAD", 96, "jump threshold in sigma_dt", {"hi": _U96}),
    ("r_floor", "WAD", 64, "jump threshold floor (simple return)", {"hi": _U64}),
    ("cooldown", "s", 64, "minimum time in REDUCE_ONLY after a trip", {"hi": _U64}),
    ("sigma_caution", "WAD", 96, "annual sigma above which CAUTION", {"hi": _U96}),
    ("kappa", "WAD", 96, "size haircut coefficient", {"hi": _U96}),
    ("depth", "WAD USD", 160, "market depth for the size haircut", {"hi": _U160}),
    ("h_min_init", "WAD", 64, "floor of h_init (in force: max(h_min, h_min_init))", {"le": "h_max"}),
    ("dd_window", "s", 48, "drawdown window", {"hi": _U48}),
    ("dd_trip", "WAD", 64, "drawdown that trips REDUCE_ONLY (0: off)", {"hi": _U64}),
    ("f_lo", "WAD", 64, "least multiple of the realized sigma a forecast may have", {"le": "f_hi"}),
    ("f_hi", "WAD", 64, "largest multiple of the realized sigma a forecast may have", {"hi": MAX_F_MULTIPLE}),
    ("f_step", "WAD", 64, "largest relative change of one push from the live one", {"hi": MAX_F_MULTIPLE}),
    ("f_ttl", "s", 56, "life of a forecast push (expiry)", {"hi": _U56}),
    ("f_mode", "mode", 8, "how a live forecast enters the haircuts: 0 off, 1 replace, 2 max, 3 blend", {"hi": 3}),
))

OracleVector: Any = _vector_type(
    "OracleVector", [r.name for r in _ORACLE_ROWS],
    "RiskOracle per-asset parameter vector (P_* order; s, WAD, WAD/s, WAD USD: see spec.ORACLE).",
)

#: RiskOracle's per-asset vector. Storage (module ``risk_params``): word 0 heartbeat | grace |
#: ramp_up | ramp_down (64 bits each); 1 kappa (96) | depth (160); 2 tau_fast | tau_slow | horizon |
#: cooldown (64 each); 3 h0 | h_min | h_max | h_min_init (64 each); 4 z_maint (72) | z_init (72) |
#: dd_window (48) | dd_trip (64); 5 var_min | var_max (128 each); 6 k_jump (96) | r_floor (64) |
#: sigma_caution (96); and ``_fparams`` f_lo | f_hi | f_step (64 each) | f_ttl (56) | f_mode (8),
#: read by a poke only while a forecast is live (docs/design.md §3.7).
#: ``checks`` mirrors ``_check_params`` line by line: one ``assert`` (one revert string, to keep
#: the oracle under the EIP-170 code size limit), its terms in the contract's order.
ORACLE = Table("RiskOracle", "_check_params", _ORACLE_ROWS, (
    (("heartbeat", "lo"), ("tau_fast", "lo"), ("tau_slow", "lo"), ("horizon", "lo"), ("h_min", "le"),
     ("h_min_init", "le"), ("h_max", "hi"), ("h0", "hi"), ("z_maint", "le"), ("var_min", "le"),
     ("var_max", "hi"), ("horizon", "hi"), ("z_init", "hi"), ("heartbeat", "hi"), ("grace", "hi"),
     ("ramp_up", "hi"), ("ramp_down", "hi"), ("tau_fast", "hi"), ("tau_slow", "hi"), ("cooldown", "hi"),
     ("kappa", "hi"), ("depth", "hi"), ("k_jump", "hi"), ("r_floor", "hi"), ("sigma_caution", "hi"),
     ("dd_window", "hi"), ("dd_trip", "hi"), ("f_lo", "le"), ("f_hi", "hi"), ("f_step", "hi"),
     ("f_ttl", "hi"), ("f_mode", "hi")),
), OracleVector)

# ------------------------------------------------------------------ MarginVault: global

_U128 = 2**128 - 1
_VAULT_ROWS = _rows("P_", "vault: bad params", (
    ("close_factor", "WAD", 64, "share of one debt a liquidator may repay", {"lo": 1, "hi": WAD}),
    ("hf_full", "WAD", 64, "health factor under which the whole debt may be repaid", {"hi": _U64}),
    ("min_debt_value", "WAD USD", 128, "smallest debt a liquidation may leave", {"hi": _U128}),
    ("bonus_min", "WAD", 64, "liquidation bonus at zero shortfall", {"le": "bonus_max"}),
    ("bonus_slope", "WAD", 64, "bonus added per unit of shortfall", {"hi": _U64}),
    ("bonus_max", "WAD", 64, "bonus cap", {"hi": WAD}),
    ("insurance_share", "WAD", 64, "share of the bonus paid to the insurance fund", {"hi": WAD}),
    ("liq_window", "s", 64, "liquidation cap window", {"lo": 1, "hi": _U64}),
    ("liq_cap", "WAD USD", 128, "repaid value per window", {"hi": _U128}),
    ("liq_cap_tripped", "WAD USD", 128, "repaid value per window while any asset is REDUCE_ONLY",
     {"le": "liq_cap"}),
    ("caution_scale", "WAD", 64, "weight of CAUTION collateral in initial health", {"hi": WAD}),
))

VaultVector: Any = _vector_type(
    "VaultVector", [r.name for r in _VAULT_ROWS],
    "MarginVault global parameter vector (P_* order of MarginVault, V_* in the reference; see spec.VAULT).",
)

#: MarginVault's global vector. Storage (module ``vault_params``): word 0 close_factor | hf_full |
#: bonus_min | bonus_max (64 bits each); 1 bonus_slope | insurance_share | caution_scale | liq_window
#: (64 each); 2 min_debt_value | liq_cap (128 each); 3 liq_cap_tripped (128). The entries without a
#: bound of their own are held to their field's width. ``checks`` mirrors ``_check_params`` line by
#: line: one ``assert`` (one revert string, to keep the vault under the EIP-170 code size limit),
#: its terms in the contract's order.
VAULT = Table("MarginVault", "_check_params", _VAULT_ROWS, (
    (("close_factor", "lo"), ("close_factor", "hi"), ("bonus_min", "le"), ("bonus_max", "hi"),
     ("insurance_share", "hi"), ("caution_scale", "hi"), ("liq_window", "lo"), ("hf_full", "hi"),
     ("bonus_slope", "hi"), ("liq_window", "hi"), ("min_debt_value", "hi"), ("liq_cap", "hi"),
     ("liq_cap_tripped", "le")),
), VaultVector)

# ------------------------------------------------------------------ MarginVault: per asset

_RATES = ("base_rate", "slope1", "slope2")
_U40 = 2**40 - 1
# each rate alone first (a max-uint rate gets the named revert, not an overflow of the sum), then the sum
_RATE_SUM = {"hi": 100 * WAD, "sum_group": _RATES, "sum_hi": 100 * WAD}
_ASSET_ROWS = _rows("A_", "vault: bad params", (
    ("base_rate", "WAD/year", 80, "borrow rate at zero utilization", _RATE_SUM),
    ("slope1", "WAD/year", 80, "rate added from zero utilization up to the kink", _RATE_SUM),
    ("slope2", "WAD/year", 96, "rate added from the kink up to full utilization", _RATE_SUM),
    ("kink", "WAD", 64, "utilization where slope2 takes over", {"lo": 1, "hi": WAD - 1}),
    ("reserve_factor", "WAD", 64, "share of interest to the insurance fund", {"hi": WAD}),
    ("borrowable", "flag", 8, "1 if the asset may be borrowed, else 0", {"hi": 1}),
    ("supply_cap", "tokens", 40, "most total deposits a deposit may reach (0: no cap)", {"hi": _U40}),
    ("kappa_agg", "WAD", 64, "concentration coefficient on the asset's total deposits", {"hi": WAD}),
))

AssetVector: Any = _vector_type(
    "AssetVector", [r.name for r in _ASSET_ROWS],
    "MarginVault per-asset vector (A_* order; WAD/year, WAD, flag, whole tokens: see spec.ASSET).",
)

#: MarginVault's per-asset vector. Storage (``_cfg``): word 0 slot (8 bits) | decimals (8) |
#: borrowable (8) | kink (64) | reserve_factor (64) | kappa_agg (64) | supply_cap (40); word 1
#: base_rate (80) | slope1 (80) | slope2 (96). ``checks`` mirrors ``_check_asset_params``: one
#: ``assert`` (one revert string, for the code size limit), its terms in the contract's order.
#: ``supply_cap`` 0 and ``kappa_agg`` 0 (the defaults) turn the thin-collateral levers off
#: (docs/design.md §2.8, §4.3).
ASSET = Table("MarginVault", "_check_asset_params", _ASSET_ROWS, (
    (("kink", "lo"), ("kink", "hi"), ("reserve_factor", "hi"), ("borrowable", "hi"), ("base_rate", "hi"),
     ("slope1", "hi"), ("slope2", "hi"), ("base_rate", "sum"),
     ("supply_cap", "hi"), ("kappa_agg", "hi")),
), AssetVector)

#: RiskOracle's portfolio floor (``set_portfolio_floor``, docs/design.md §5.6), a single global
#: value outside the per-asset vector: the least scale of an account's haircuts, 1 (WAD) turning
#: portfolio margin off. Stored unpacked (``portfolio_floor``).
PORTFOLIO_FLOOR = Param("portfolio_floor", 0, "PORTFOLIO_FLOOR_PARAM", "WAD", 256, "oracle: bad params",
                        "least portfolio scale of an account's haircuts (1: portfolio margin off)", lo=1, hi=WAD)

#: The three tables by vector name.
TABLES: dict[str, Table] = {"oracle": ORACLE, "vault": VAULT, "asset": ASSET}
