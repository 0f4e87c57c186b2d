"""ape run calibrate: the CLI's answers to bad input (protocol choice and options that do
not apply to protocol v2). Nothing is written when an option is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _ape_run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    ape_bin = Path(sys.executable).parent / "ape"
    return subprocess.run([str(ape_bin), "run", "calibrate", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args, message", [
    (["--protocol", "v3"], "Invalid value for '--protocol': 'v3' is not one of 'v1', 'v2'"),
    (["--protocol", "v2", "--grid", "zt"], "--grid does not apply to --protocol v2"),
    (["--protocol", "v2", "--level", "0.95", "--no-garch"], "--level, --garch do not apply to --protocol v2"),
])
def test_cli_rejects_bad_protocol_options(tmp_path, args, message):
    out = tmp_path / "out"
    r = _ape_run("--out", str(out), *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert not out.exists()
