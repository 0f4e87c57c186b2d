"""Function table of the RiskMathHarness test contract and its reference mirror.

``FUNCTIONS[name] = (fn_id, arity, reference_callable)``: the harness
evaluates ``fn_id`` on uint256[8] argument rows (trailing ones ignored); the
reference callable takes the first ``arity`` arguments. A case "rejects" in
the reference when it raises ``ArithmeticError`` (Vyper's checked
arithmetic), which the harness reports as ``ok = False``.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

from . import reference as ref


def _ewma_step(var: int, p0: int, p: int, dt: int, tau: int, var_max: int) -> int:
    return ref.clamp(ref.ewma_var(var, ref.abs_return(p0, p), dt, tau), 0, var_max)


#: Differential checks done in this process, by kind ("pure", "stateful"); the
#: test session prints it (tests/conftest.py).
STATS: Counter[str] = Counter()

FUNCTIONS: dict[str, tuple[int, int, Callable[..., int]]] = {
    "abs_return": (0, 2, ref.abs_return),
    "ewma_var": (1, 4, ref.ewma_var),
    "sigma": (2, 2, ref.sigma),
    "haircut": (3, 5, ref.haircut),
    "ramp": (4, 5, ref.ramp),
    "size_haircut": (5, 3, ref.size_haircut),
    "asset_value": (6, 3, ref.asset_value),
    "liability_value": (7, 3, ref.liability_value),
    "weighted_asset": (8, 2, ref.weighted_asset),
    "weighted_liability": (9, 2, ref.weighted_liability),
    "bonus": (10, 5, ref.bonus),
    "borrow_rate": (11, 5, ref.borrow_rate),
    "grow_index": (12, 3, ref.grow_index),
    "ewma_step": (13, 6, _ewma_step),
    "health_factor": (14, 2, ref.health_factor),
    "max_repay": (15, 7, ref.max_repay),
    "seize_amount": (16, 6, ref.seize_amount),
    "repay_for_seize": (17, 6, ref.repay_for_seize),
    "utilization": (18, 2, ref.utilization),
}
N_ARGS = 8


def reference_outcomes(name: str, rows: Sequence[Sequence[int]]) -> list[tuple[bool, int]]:
    """(ok, value) per row from the reference, as the harness reports them."""
    _, arity, fn = FUNCTIONS[name]
    out: list[tuple[bool, int]] = []
    for row in rows:
        try:
            out.append((True, fn(*row[:arity])))
        except ArithmeticError:
            out.append((False, 0))
    return out


def pad(row: Sequence[int]) -> list[int]:
    """A uint256[8] argument row."""
    return list(row) + [0] * (N_ARGS - len(row))


def chain_outcomes(harness: object, name: str, rows: Sequence[Sequence[int]]) -> list[tuple[bool, int]]:
    """(ok, value) per row from the deployed harness (one call per 512 rows)."""
    fn_id = FUNCTIONS[name][0]
    out: list[tuple[bool, int]] = []
    for k in range(0, len(rows), 512):
        res = harness.batch(fn_id, [pad(r) for r in rows[k : k + 512]])  # type: ignore[attr-defined]
        out.extend((bool(o.ok), int(o.value)) for o in res)
    return out
