"""Throughput worker of `ape run bench` (scripts/bench.py): runs the stateful
differential test of ``test_vault_state_machine`` for a number of rules and
times it. Lives beside the test so that spawned worker processes can import it.
"""

from __future__ import annotations

import time

import hypothesis
from hypothesis.stateful import run_state_machine_as_test

import test_vault_state_machine as T  # type: ignore[import-not-found]


def run_steps(steps: int, per_example: int, ready, go) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """One process: deploy the stateful world, wait for the others, run ``steps`` rules."""
    T.world()
    count = {"n": 0}

    class Counted(T.VaultMachine):
        def teardown(self) -> None:
            count["n"] += max(self.steps - 1, 0)  # rules run (invariants also run after __init__)
            super().teardown()

    ready.release()
    go.wait()
    started = time.perf_counter()
    run_state_machine_as_test(
        Counted,
        settings=hypothesis.settings(
            max_examples=max(1, steps // per_example), stateful_step_count=per_example, deadline=None, database=None,
            phases=[hypothesis.Phase.generate],
        ),
    )
    return count["n"], time.perf_counter() - started
