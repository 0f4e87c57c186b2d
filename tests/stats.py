"""Differential checks counted in this test process; the session prints them (tests/conftest.py)."""

from __future__ import annotations

from collections import Counter

#: Checks against volmargin.reference by kind: "pure" (risk-math cases of the batched
#: harness, tests/fuzz) and "stateful" (rules of the stateful test, tests/stateful).
STATS: Counter[str] = Counter()
