"""Running the project's `ape run` scripts from tests, as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ape_run(script: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """``ape run SCRIPT ARGS`` from the repository root with this venv's ape; output captured
    as text; ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
    ape_bin = Path(sys.executable).parent / "ape"
    return subprocess.run([str(ape_bin), "run", script, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
