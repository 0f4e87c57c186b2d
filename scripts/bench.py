"""ape run bench: throughput of the parity machinery; writes reports/bench/parity.json.

- pure_checks_per_s: risk-math cases evaluated by the batched RiskMathHarness on
  the connected chain (512 per call) and compared with volmargin.reference,
  end to end (generation, RPC, decoding, reference, comparison);
- stateful_steps_per_s: rules per second of the stateful differential test
  (contracts on titanoboa, reference beside them, invariants after each rule),
  run in one process per core (``--workers``): the examples are independent, so
  the machine's throughput is the sum; the per-worker rates are written too, and
  each worker's rules per second of its own processor time (on a machine shared
  with other work the wall rates fall; these fall less, as cores that share a
  physical core still slow each other);
- model_account_steps_per_s: volmargin.model.health_paths on 10,000 accounts
  x 3 assets.
Run on anvil for the RPC figure: `ape run bench --network ethereum:local:foundry`.
"""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

import click
import numpy as np

from volmargin.cli import ConnectedCommand, OutFile, network_option

ROOT = Path(__file__).resolve().parent.parent


def _pure(harness, seconds: float) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    from volmargin import reference as ref
    from volmargin.chain.harness import FUNCTIONS, chain_outcomes, reference_outcomes

    rnd = random.Random(1)
    names = sorted(FUNCTIONS)
    checks, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        name = names[checks // 512 % len(names)]
        arity = FUNCTIONS[name][1]
        rows = [[rnd.choice((rnd.randrange(0, 2 * ref.WAD), rnd.randrange(0, 10**30), rnd.randrange(1, 10**8)))
                 for _ in range(arity)] for _ in range(512)]
        got, want = chain_outcomes(harness, name, rows), reference_outcomes(name, rows)
        if got != want:
            raise click.ClickException(f"parity failure in {name}")
        checks += len(rows)
    return checks, time.perf_counter() - started


def _stateful(steps: int, workers: int) -> tuple[int, float, list[float], list[float]]:
    """Run the stateful differential test in ``workers`` processes at once (each deploys
    its own contracts on its own titanoboa EVM, hypothesis draws its own examples).

    Each worker is ``python -m stateful.throughput`` run from tests/ (the test's own
    import root): it reports ``ready`` once deployed, starts on a line on its stdin,
    and reports its rules and seconds as a JSON line. Returns (rules run in all, wall
    seconds from the common start to the last worker's report, rules per second of
    each worker, rules per processor second of each worker). Deployment is not
    timed. ``click.ClickException`` when a worker exits without reporting.
    """
    cmd = [sys.executable, "-m", "stateful.throughput", str(steps // workers), "40"]
    # this tree's volmargin (the reference), not whichever one the environment installed
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    procs = [subprocess.Popen(cmd, cwd=ROOT / "tests", env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
             for _ in range(workers)]
    try:
        for p in procs:
            _report(p, "ready")
        started = time.perf_counter()
        for p in procs:  # the common start
            p.stdin.write("go\n")  # type: ignore[union-attr]
            p.stdin.flush()  # type: ignore[union-attr]
        results = [json.loads(_report(p, "{")) for p in procs]
        wall = time.perf_counter() - started
    except BaseException:
        for p in procs:
            p.kill()
        raise
    finally:
        for p in procs:
            p.wait()
    return (sum(r["steps"] for r in results), wall, [r["steps"] / r["seconds"] for r in results],
            [r["steps"] / r["cpu_seconds"] for r in results])


def _report(proc: subprocess.Popen[str], start: str) -> str:
    """The next line of ``proc``'s stdout that starts with ``start`` (other output is skipped)."""
    for line in proc.stdout:  # type: ignore[union-attr]
        if line.startswith(start):
            return line
    raise click.ClickException(f"a stateful worker exited ({proc.wait()}) without reporting {start!r}; see its stderr")


def _model(accounts: int, steps: int) -> tuple[int, float]:
    from volmargin import model as M
    from volmargin import params as P
    from volmargin_lab.paths import gbm_jump_path

    specs = P.TOKENS
    params = M.OracleParams.from_wad([s.oracle for s in specs])
    seed = np.array([s.var_seed for s in specs]) / 1e18
    prices = np.stack(
        [np.ones(steps + 1)] + [gbm_jump_path(s.start_price_usd, steps, 3_600, 0.8, seed=k) for k, s in enumerate(specs[1:])],
        axis=1,
    )
    rng = np.random.default_rng(0)
    bal = np.column_stack([-rng.uniform(0, 5e4, accounts), rng.uniform(0, 20, accounts), rng.uniform(0, 1, accounts)])
    M.health_paths(bal[:10], prices[:10], params, seed, 3_600.0)  # warm up
    started = time.perf_counter()
    out = M.health_paths(bal, prices, params, seed, 3_600.0)
    elapsed = time.perf_counter() - started
    assert out.shape == (steps + 1, accounts)
    return accounts * (steps + 1), elapsed


@click.command(cls=ConnectedCommand, short_help="Parity throughput benchmark -> reports/bench/parity.json")
@network_option()
@click.option("--seconds", type=click.FloatRange(min=1), default=10.0, show_default=True,
              help="Time spent on pure checks, seconds.")
@click.option("--stateful-steps", type=click.IntRange(40), default=4_000, show_default=True,
              help="Stateful rules to run (count; 50 examples of 40 rules a worker on two cores: a rate over "
                   "10 examples moved by a third between runs with the draws).")
@click.option("--workers", type=click.IntRange(1), default=os.cpu_count() or 1, show_default="the core count",
              help="Processes running the stateful test at once (count; each on its own in-process EVM).")
@click.option("--model-steps", type=click.IntRange(1), default=2_000, show_default=True,
              help="Hourly steps of the model run (count).")
@click.option("--out", type=OutFile(), default=ROOT / "reports/bench/parity.json",
              show_default="reports/bench/parity.json",
              help="JSON file for the throughputs (no unit; per-second rates inside; folders created, "
                   "checked before any work).")
def cli(network, seconds: float, stateful_steps: int, workers: int, model_steps: int, out: Path) -> None:  # type: ignore[no-untyped-def]
    """Measure and print the three throughputs; write them with the machine's core count."""
    from ape import accounts, chain, project
    from ape.logging import logger

    logger.set_level("WARNING")
    harness = project.RiskMathHarness.deploy(sender=accounts.test_accounts[0])
    n, t = _pure(harness, seconds)
    pure = n / t
    click.echo(f"pure differential checks: {n:,} in {t:.1f} s = {pure:,.0f}/s")
    n, t, per_worker, per_cpu = _stateful(stateful_steps, workers)
    stateful = n / t
    click.echo(
        f"stateful steps:           {n:,} in {t:.1f} s = {stateful:,.1f}/s "
        f"({workers} worker process(es): {', '.join(f'{r:.1f}' for r in per_worker)}/s each; "
        f"{', '.join(f'{r:.1f}' for r in per_cpu)} per processor second)"
    )
    n, t = _model(10_000, model_steps)
    model = n / t
    click.echo(f"model account-steps:      {n:,} in {t:.2f} s = {model:,.3g}/s")
    result = {
        "pure_checks_per_s": round(pure, 1),
        "stateful_steps_per_s": round(stateful, 1),
        "stateful_workers": workers,
        "stateful_steps_per_s_per_worker": [round(r, 1) for r in per_worker],
        "stateful_steps_per_cpu_s_per_worker": [round(r, 1) for r in per_cpu],
        "model_account_steps_per_s": round(model, 1),
        "cores": os.cpu_count(),
        "network": f"{chain.provider.network.ecosystem.name}:{chain.provider.network.name}:{chain.provider.name}",
        "machine": platform.machine(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    click.echo(f"wrote {out}")
