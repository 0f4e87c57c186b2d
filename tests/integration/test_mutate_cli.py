"""`ape run mutate` refuses bad arguments before it touches a contract: a bad --shard
or --resume names the option and exits 2, and no source file is rewritten."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = sorted((ROOT / "contracts").rglob("*.vy"))


def _ape_run(*args: str) -> subprocess.CompletedProcess[str]:
    ape = str(Path(sys.executable).with_name("ape"))
    return subprocess.run([ape, "run", "mutate", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--shard", "3/2"], "need 1 <= K <= N"),
        (["--shard", "0/2"], "need 1 <= K <= N"),
        (["--shard", "half"], "is not K/N"),
        (["--only", "no such mutant", "--skip-baseline"], "no mutant matches"),
        (["--resume", "/nonexistent/mutation.json", "--skip-baseline"], "--resume"),
    ],
)
def test_bad_arguments_are_refused_before_any_mutation(args, message):
    before = {p: p.read_bytes() for p in CONTRACTS}
    r = _ape_run(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert {p: p.read_bytes() for p in CONTRACTS} == before
