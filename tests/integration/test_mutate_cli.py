"""`ape run mutate` refuses bad arguments before it touches a contract: a bad --shard
or --resume names the option and exits 2, and no source file is rewritten."""

from __future__ import annotations

import pytest

from ape_cli import ROOT, ape_run

CONTRACTS = sorted((ROOT / "contracts").rglob("*.vy"))


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
    r = ape_run("mutate", *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert {p: p.read_bytes() for p in CONTRACTS} == before
