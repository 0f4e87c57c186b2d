"""The parity counter: every comparison of a number the chain reports with its mirror.

A mirror is ``volmargin.reference`` (exact: integers must be equal) or ``volmargin.model``
(float64: within a stated tolerance, docs/design.md §2). ``Parity`` counts the comparisons
and the mismatches, keeps the first ``max_examples`` mismatches as text, and, for tolerance
comparisons, the worst error over tolerance per kind of number (1.0 = at the tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Parity:
    """Counts of chain-vs-mirror comparisons.

    ``mirror`` names the other side in the examples (``"reference"`` or ``"model"``);
    ``checks`` and ``mismatches`` count comparisons; ``examples`` holds the first
    ``max_examples`` mismatches; ``worst[kind]`` is the largest ``|chain - mirror| / tol``
    seen by ``close`` for that kind (0.0 where ``tol`` is 0).
    """

    mirror: str = "reference"
    max_examples: int = 20
    checks: int = 0
    mismatches: int = 0
    examples: list[str] = field(default_factory=list)
    worst: dict[str, float] = field(default_factory=dict)

    def note(self, text: str) -> None:
        """Keep ``text`` as an example (while fewer than ``max_examples`` are kept)."""
        if len(self.examples) < self.max_examples:
            self.examples.append(text)

    def equal(self, what: str, chain: Any, mirror: Any) -> bool:
        """Count one exact comparison (``==``; ints, bools, tuples); True when equal."""
        self.checks += 1
        if chain == mirror:
            return True
        self.mismatches += 1
        self.note(f"{what}: chain={chain!r} {self.mirror}={mirror!r}")
        return False

    def close(self, what: str, kind: str, chain: float, mirror: float, tol: float) -> bool:
        """Count one tolerance comparison: ``|chain - mirror| <= tol`` (same units, e.g. USD,
        whole tokens, fractions); updates ``worst[kind]``. NaN never passes. True when within."""
        self.checks += 1
        err = abs(chain - mirror)
        self.worst[kind] = max(self.worst.get(kind, 0.0), err / tol if tol > 0 else 0.0)
        if err <= tol:
            return True
        self.mismatches += 1
        self.note(f"{what}: chain={chain!r} {self.mirror}={mirror!r} tol={tol:.3g}")
        return False


__all__ = ["Parity"]
