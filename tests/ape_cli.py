"""Running the project's `ape run` scripts from tests, as a user would."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ape_run(script: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """``ape run SCRIPT ARGS`` from the repository root with this venv's ape; output captured
    as text; ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
    ape_bin = Path(sys.executable).parent / "ape"
    return subprocess.run([str(ape_bin), "run", script, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def anvil_node(*args: str, accounts: int = 10) -> Iterator[int]:
    """An anvil on a free port with the test mnemonic of ape-config.yaml (so that TEST::n are its
    unlocked accounts) and ``args`` (e.g. ``--chain-id 11155111``); yields the port, stops it after."""
    import socket
    import time

    import yaml

    mnemonic = yaml.safe_load((ROOT / "ape-config.yaml").read_text())["test"]["mnemonic"]
    port = free_port()
    proc = subprocess.Popen(["anvil", "--host", "127.0.0.1", "--port", str(port), "--mnemonic", mnemonic,
                             "--accounts", str(accounts), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
