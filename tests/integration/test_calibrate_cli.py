"""ape run calibrate: the CLI's answers to bad input (protocol choice and options that do
not apply to protocol v2). Nothing is written when an option is refused."""

from __future__ import annotations

import pytest

from ape_cli import ape_run


@pytest.mark.parametrize("args, message", [
    (["--protocol", "v3"], "Invalid value for '--protocol': 'v3' is not one of 'v1', 'v2'"),
    (["--protocol", "v2", "--grid", "zt"], "--grid does not apply to --protocol v2"),
    (["--protocol", "v2", "--level", "0.95", "--no-garch"], "--level, --garch do not apply to --protocol v2"),
])
def test_cli_rejects_bad_protocol_options(tmp_path, args, message):
    out = tmp_path / "out"
    r = ape_run("calibrate", "--out", str(out), *args, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert not out.exists()
