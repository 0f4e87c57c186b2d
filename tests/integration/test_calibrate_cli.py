"""ape run calibrate: the CLI's answers to bad input (protocol v2 is the only protocol; protocol
v1 and its options were removed). Nothing is written when an option is refused."""

from __future__ import annotations

import pytest

from ape_cli import ape_run


@pytest.mark.parametrize("args, message", [
    (["--protocol", "v3"], "Invalid value for '--protocol': 'v3' is not 'v2'"),
    (["--protocol", "v1"], "Invalid value for '--protocol': 'v1' is not 'v2'"),
    (["--protocol", "v2", "--grid", "zt"], "No such option: --grid"),
    (["--level", "0.95"], "No such option: --level"),
    (["--no-garch"], "No such option: --no-garch"),
])
def test_cli_rejects_bad_protocol_options(tmp_path, args, message):
    out = tmp_path / "out"
    r = ape_run("calibrate", "--out", str(out), *args, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert not out.exists()
