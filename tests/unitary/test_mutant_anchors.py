"""Every mutant of ``ape run mutate`` (scripts/mutate.py) still applies: its anchor text occurs
exactly once in its file, and its replacement changes it. A contract edit that moves an
anchor fails here at once, instead of at the mutant's turn in a long mutation run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_script_mutate", ROOT / "scripts" / "mutate.py")
mutate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutate)


def test_mutant_names_are_unique():
    names = [m.name for m in mutate.MUTANTS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("m", mutate.MUTANTS, ids=[m.name for m in mutate.MUTANTS])
def test_anchor_occurs_once(m):
    src = (ROOT / m.path).read_text()
    assert src.count(m.old) == 1, f"{m.name}: anchor found {src.count(m.old)} times in {m.path}"
    assert m.new != m.old
