"""Throughput worker of `ape run bench` (scripts/bench.py): runs the stateful
differential test of ``test_vault_state_machine`` for a number of rules and
times it, in a process of its own.

Run from the ``tests`` directory (where the tests import their helpers from) as
``python -m stateful.throughput STEPS PER_EXAMPLE``: the worker deploys the
stateful world (not timed), writes ``ready`` on a line of stdout, waits for a
line on stdin (the common start of all workers), runs ``STEPS`` rules in
examples of ``PER_EXAMPLE`` rules and writes ``{"steps": rules run, "seconds":
time taken, "cpu_seconds": processor time taken}`` as one JSON line (the
processor time tells how much of the wall time went to this worker on a shared
machine).
"""

from __future__ import annotations

import json
import sys
import time

import hypothesis
from hypothesis.stateful import run_state_machine_as_test

from . import test_vault_state_machine as T


def run_steps(steps: int, per_example: int) -> tuple[int, float, float]:
    """Run ``steps`` rules (rounded down to whole examples of ``per_example``, at least
    one example) on the deployed world; (rules run, wall seconds, processor seconds)."""
    count = {"n": 0}

    class Counted(T.VaultMachine):
        def teardown(self) -> None:
            count["n"] += max(self.steps - 1, 0)  # rules run (invariants also run after __init__)
            super().teardown()

    started, cpu = time.perf_counter(), time.process_time()
    run_state_machine_as_test(
        Counted,
        settings=hypothesis.settings(
            max_examples=max(1, steps // per_example), stateful_step_count=per_example, deadline=None, database=None,
            phases=[hypothesis.Phase.generate],
        ),
    )
    return count["n"], time.perf_counter() - started, time.process_time() - cpu


def main(argv: list[str]) -> None:
    """``STEPS PER_EXAMPLE``: deploy, ``ready``, wait for stdin, run, the JSON line."""
    steps, per_example = int(argv[0]), int(argv[1])
    T.world()
    print("ready", flush=True)
    sys.stdin.readline()
    n, seconds, cpu = run_steps(steps, per_example)
    print(json.dumps({"steps": n, "seconds": seconds, "cpu_seconds": cpu}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
