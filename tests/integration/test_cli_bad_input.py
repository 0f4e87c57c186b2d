"""Bad command lines for every ``ape run`` script: one line naming the problem, a
non-zero exit, no traceback, nothing written, and no time spent before the refusal.

Each row of ``ROWS`` is run as a user would (``ape run ...`` in a subprocess, through
tests/ape_cli.py), several at once: every ``ape run`` pays a few seconds of start-up.
Placeholders in a row's arguments are filled per row: ``{out}`` a path that does not
exist yet (an output folder or file), ``{file}`` an existing file, ``{dir}`` an existing
folder, ``{fake}`` a well-formed deployment manifest whose addresses hold no code,
``{garbage}`` a file that is neither JSON nor YAML, ``{bad_csv}`` a CSV with the wrong
header, ``{bad_param}`` a deployment config naming an unknown vault parameter, ``{missing}``
a path that does not exist.

The second half walks every option of every command in-process: ``--help`` must state
each option's default (or that it is required, or that it is a flag) and its unit.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from ape_cli import ROOT, ape_run

#: Refusals must come before any work. Unloaded, each row takes 2-5 s (Python and Ape start-up), a
#: replay of eth-2020-03 about 3 minutes; the bound leaves room for a busy machine (seconds).
EARLY_S = 60.0
#: ``ape run`` processes at once (each is mostly Python start-up).
PARALLEL = 4
#: A folder that cannot be created (``/proc`` refuses new entries even to root).
UNCREATABLE = "/proc/volmargin-cli-test/out"


@dataclass(frozen=True)
class Row:
    """``ape run ARGV`` must exit with ``rc`` and print one ``Error:`` line holding every
    string of ``names`` (the bad argument, and what is wrong with it)."""

    argv: tuple[str, ...]
    rc: int
    names: tuple[str, ...]

    @property
    def id(self) -> str:
        return " ".join(self.argv)[:90]


def _row(argv: str, rc: int, *names: str) -> Row:
    return Row(tuple(argv.split("|")), rc, names)


ROWS: tuple[Row, ...] = (
    # replay (the first two rows were formerly in test_replay.py)
    _row("replay|--episode|nope|--out|{out}", 2, "--episode", "unknown episode 'nope'"),
    _row("replay|--episode|eth-2020-03|--accounts|0|--out|{out}", 2, "--accounts", "0 is not in the range"),
    _row(f"replay|--episode|eth-2020-03|--out|{UNCREATABLE}", 2, "--out", f"cannot create {UNCREATABLE}"),
    _row("replay|--episode|eth-2020-03|--out|{file}", 2, "--out", "is a file, not a folder"),
    _row("replay|--episode|eth-2020-03|--seed|-1|--out|{out}", 2, "--seed", "-1 is not in the range x>=0"),
    _row("replay|--network|ethereum:nope|--episode|eth-2020-03|--out|{out}", 2, "--network",
         "No network in 'ethereum' named 'nope'. Options: anvil"),
    # stress (the first five were formerly in test_stress.py)
    _row("stress|--out|{out}|--episodes|eth-2020-03,nope", 2, "--episodes", "unknown episode 'nope'"),
    _row("stress|--out|{out}|--policies|static,greedy", 2, "--policies", "unknown policy 'greedy'"),
    _row("stress|--out|{out}|--paths|0", 2, "--paths", "0"),
    _row("stress|--out|{out}|--accounts|-5", 2, "--accounts", "-5"),
    _row("stress|--out|{out}|--seed|x", 2, "--seed", "'x'"),
    _row("stress|--out|{file}/sub|--quick", 2, "--out", "is a file, not a folder"),
    # calibrate (the first five were formerly test_calibrate_cli.py)
    _row("calibrate|--out|{out}|--protocol|v3", 2, "Invalid value for '--protocol': 'v3' is not 'v2'"),
    _row("calibrate|--out|{out}|--protocol|v1", 2, "Invalid value for '--protocol': 'v1' is not 'v2'"),
    _row("calibrate|--out|{out}|--protocol|v2|--grid|zt", 2, "No such option: --grid"),
    _row("calibrate|--out|{out}|--level|0.95", 2, "No such option: --level"),
    _row("calibrate|--out|{out}|--no-garch", 2, "No such option: --no-garch"),
    _row(f"calibrate|--out|{UNCREATABLE}|--quick", 2, "--out", "cannot create"),
    _row("calibrate|--out|{out}|--asset|DOGE", 2, "--asset", "'DOGE' is not one of"),
    # feed
    _row("feed|--deployment|{fake}|--asset|DOGE|--gbm", 2, "--asset", "unknown asset 'DOGE'; known: WETH"),
    _row("feed|--deployment|{garbage}|--asset|WETH|--gbm", 1, "--deployment", "{garbage}", "not JSON"),
    _row("feed|--deployment|{fake}|--asset|WETH|--gbm", 1, "--deployment", "no vault at"),
    _row("feed|--deployment|{fake}|--asset|WETH|--csv|{missing}", 2, "--csv", "does not exist"),
    _row("feed|--deployment|{fake}|--asset|WETH|--csv|{bad_csv}", 1, "--csv", "header must be"),
    _row("feed|--deployment|{fake}|--asset|WETH|--gbm|--steps|0", 2, "--steps", "0 is not in the range"),
    # gas, bench, bench_model
    _row(f"gas|--out|{UNCREATABLE}/gas.json", 2, "--out", "cannot create"),
    _row("gas|--out|{dir}", 2, "--out", "is a folder, not a file"),
    _row("bench|--workers|0", 2, "--workers", "0 is not in the range"),
    _row("bench|--out|{file}/parity.json", 2, "--out", "is a file, not a folder"),
    _row("bench_model|--accounts|-3", 2, "--accounts", "-3 is not in the range"),
    _row("bench_model|--xp|nope", 2, "--xp", "no array module 'nope'"),
    _row(f"bench_model|--out|{UNCREATABLE}/model.json", 2, "--out", "cannot create"),
    # mutate (the first five were formerly test_mutate_cli.py); the --out row also
    # names no mutant, so that a missing check could never plant one
    _row("mutate|--shard|3/2", 2, "--shard", "need 1 <= K <= N"),
    _row("mutate|--shard|0/2", 2, "--shard", "need 1 <= K <= N"),
    _row("mutate|--shard|half", 2, "--shard", "is not K/N"),
    _row("mutate|--only|no such mutant|--skip-baseline", 2, "--only", "no mutant matches"),
    _row("mutate|--resume|/nonexistent/mutation.json|--skip-baseline", 2, "--resume", "does not exist"),
    _row("mutate|--resume|{garbage}|--skip-baseline|--only|no such mutant", 2, "--resume",
         "is not a mutation.json"),
    _row(f"mutate|--out|{UNCREATABLE}/m.json|--only|no such mutant|--skip-baseline", 2, "--out", "cannot create"),
    # monitor (the first was formerly in test_monitor_page.py)
    _row("monitor|--html|{out}|--deployment|{missing}", 1, "--deployment", "{missing}", "no deployment file"),
    _row("monitor|--html|{out}|--from-replay|{missing}", 2, "--from-replay", "does not exist"),
    _row("monitor|--html|{file}|--from-replay|{dir}", 2, "--html", "is a file, not a folder"),
    _row("monitor|--html|{out}|--watch|0", 2, "--watch", "0 is not in the range"),
    # admin
    _row("admin|--account|TEST::99|pause|borrow", 1, "--account", "no test account 'TEST::99'"),
    _row("admin|--account|TEST::0|--deployment|{garbage}|pause|all", 1, "--deployment", "{garbage}", "not JSON"),
    _row("admin|--network|ethereum:nope|--account|TEST::0|pause|all", 2, "--network", "named 'nope'"),
    # deploy
    _row("deploy|--config|{missing}|--out|{out}", 2, "--config", "{missing}", "does not exist"),
    _row("deploy|--config|{garbage}|--out|{out}", 1, "{garbage}: not YAML at line 1, column 10"),
    _row("deploy|--config|{bad_param}|--out|{out}", 1, "{bad_param}: vault.close_factr: unknown MarginVault parameter"),
    _row("deploy|--config|{bad_param}|--lender|TEST::1|--out|{out}", 1,
         "--lender and --no-liquidity are for the default deployment"),
    _row("deploy|--out|{dir}", 2, "--out", "is a folder, not a file"),
    _row(f"deploy|--out|{UNCREATABLE}.json", 2, "--out", "cannot create"),
    # keeper (--once: a keeper that failed to refuse would not run on)
    _row("keeper|--once|--interval|-1|--log|{out}", 2, "--interval", "-1.0 is not in the range x>=0"),
    _row("keeper|--once|--slippage|-1|--log|{out}", 2, "--slippage", "-1.0 is not in the range x>=0"),
    _row("keeper|--once|--deployment|{missing}|--log|{out}", 2, "--deployment", "{missing}", "does not exist"),
    _row("keeper|--once|--deployment|{garbage}|--log|{out}", 2, "--deployment", "{garbage}", "not JSON"),
    _row("keeper|--once|--account|TEST::99|--deployment|{fake}|--log|{out}", 2, "--account",
         "no test account 'TEST::99'"),
    _row("keeper|--once|--deployment|{fake}|--log|{dir}", 2, "--log", "is a folder, not a file"),
    _row("keeper|--once|--deployment|{fake}|--log|{out}", 2, "--deployment", "{fake}: no vault at"),
    _row("keeper|--once|--deployment|{fake}|--native-usd|0|--log|{out}", 2, "--native-usd", "0 is not in the range"),
    # risk-keeper (--dry-run: one that failed to refuse would still send nothing)
    _row("risk-keeper|--dry-run|--days|100", 2, "--days", "100 is not in the range x>=101"),
    _row("risk-keeper|--dry-run|--deployment|{missing}", 2, "--deployment", "{missing}", "does not exist"),
    _row("risk-keeper|--dry-run|--deployment|{garbage}", 2, "--deployment", "{garbage}", "not JSON"),
    _row("risk-keeper|--dry-run|--account|TEST::99|--deployment|{fake}", 2, "--account", "no test account 'TEST::99'"),
    _row("risk-keeper|--dry-run|--deployment|{fake}", 2, "--deployment", "{fake}: no vault at"),
)


@dataclass
class Outcome:
    """One row's run: the process (a ``TimeoutExpired`` when it ran past ``2 * EARLY_S``),
    its wall seconds, and the row's folder before and after."""

    proc: subprocess.CompletedProcess[str] | subprocess.TimeoutExpired
    seconds: float
    before: dict[str, bytes]
    after: dict[str, bytes]
    names: tuple[str, ...]


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file and folder under ``folder``: relative path -> contents (b"/" for a folder)."""
    return {str(p.relative_to(folder)): (b"/" if p.is_dir() else p.read_bytes()) for p in sorted(folder.rglob("*"))}


def _fixtures(folder: Path) -> dict[str, str]:
    """Create the placeholder files of one row in ``folder``; their paths by placeholder."""
    a = lambda n: f"0x{n:040x}"  # noqa: E731
    fake = {"admin": a(1), "oracle": a(2), "vault": a(3), "vault_params": {}, "max_rel_change": 0,
            "min_change_delay": 0, "units": "test",
            "assets": {"WETH": {"token": a(4), "feed": a(5), "decimals": 18, "oracle_params": {},
                                "rate_params": {}, "var_seed": 1}}}
    (folder / "dir").mkdir()
    (folder / "file.txt").write_text("an existing file\n")
    (folder / "fake.json").write_text(json.dumps(fake))
    (folder / "garbage.json").write_text("{not json")
    (folder / "bad.csv").write_text("a,b\n1,2\n")
    (folder / "bad_param.yaml").write_text("network: local\nvault:\n  close_factr: 0.5\n"
                                           "assets:\n  USD: {token: mock, feed: mock, decimals: 6}\n")
    names = {"out": "out", "file": "file.txt", "dir": "dir", "fake": "fake.json", "garbage": "garbage.json",
             "bad_csv": "bad.csv", "bad_param": "bad_param.yaml", "missing": "none.json"}
    return {k: str(folder / v) for k, v in names.items()}


def _run(row: Row, folder: Path) -> Outcome:
    paths = _fixtures(folder)
    argv = [x.format(**paths) for x in row.argv]
    before = _tree(folder)
    started = time.perf_counter()
    try:
        proc: subprocess.CompletedProcess[str] | subprocess.TimeoutExpired = ape_run(*argv, timeout=int(2 * EARLY_S))
    except subprocess.TimeoutExpired as exc:  # a refusal that came too late (or never)
        proc = exc
    seconds = time.perf_counter() - started
    return Outcome(proc, seconds, before, _tree(folder), tuple(n.format(**paths) for n in row.names))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[Row, Outcome]:
    """Every row run, ``PARALLEL`` at a time; the contract sources must be untouched after all."""
    contracts = {p: p.read_bytes() for p in sorted((ROOT / "contracts").rglob("*.vy"))}
    folders = [tmp_path_factory.mktemp("row") for _ in ROWS]
    with ThreadPoolExecutor(PARALLEL) as pool:
        done = dict(zip(ROWS, pool.map(_run, ROWS, folders)))
    assert {p: p.read_bytes() for p in contracts} == contracts, "a mutant was left in contracts/"
    return done


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_command_line_is_refused_in_one_line(outcomes, row):
    o = outcomes[row]
    assert not isinstance(o.proc, subprocess.TimeoutExpired), f"still running after {o.seconds:.0f} s"
    text = o.proc.stdout + o.proc.stderr
    assert o.proc.returncode == row.rc, text
    assert "Traceback" not in text, text
    errors = [ln for ln in o.proc.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "Error:" not in o.proc.stdout, text
    for name in o.names:
        assert name in errors[0], (name, errors[0])
    lines = [ln for ln in o.proc.stderr.splitlines() if ln.strip()]
    if row.rc == 2:  # refused while parsing the command line, before the command's body ran
        assert [ln.split()[0] for ln in lines] == ["Usage:", "Try", "Error:"], text
    else:  # refused by the command's first checks: the one line is all there is
        assert lines == errors, text
    assert o.after == o.before, "something was written"
    assert o.seconds < EARLY_S, f"refused after {o.seconds:.1f} s"


# ------------------------------------------------------------------ --help


#: Words that state an option's unit; "no unit" for names, paths and seeds.
UNIT = re.compile(r"\b(USD|WAD|gwei|seconds?|hours?|days?|fractions?|count)\b|%|(?<!')\bs\b|\bno unit\b",
                  re.IGNORECASE)


def _commands() -> list[tuple[str, click.Command]]:
    """(``ape run`` name, command) of every script and of every subcommand of a group."""
    out: list[tuple[str, click.Command]] = []
    for path in sorted((ROOT / "scripts").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"_script_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out.append((path.stem, module.cli))
        if isinstance(module.cli, click.Group):
            out += [(f"{path.stem} {n}", c) for n, c in module.cli.commands.items()]
    return out


COMMANDS = _commands()


def test_every_script_is_checked():
    names = {n.split()[0] for n, _ in COMMANDS}
    assert {"replay", "stress", "calibrate", "feed", "gas", "bench", "bench_model", "mutate", "monitor",
            "admin", "deploy", "keeper", "risk-keeper"} <= names
    assert names <= {r.argv[0] for r in ROWS}, "a command without a bad-input row"


@pytest.mark.parametrize("name, command", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_help_states_default_and_unit_of_every_option(name, command):
    ctx = click.Context(command, info_name=name)
    missing = []
    for opt in command.params:
        if not isinstance(opt, click.Option) or opt.hidden:
            continue
        record = opt.get_help_record(ctx)
        text = " ".join(record) if record else ""
        if not (opt.help or "").strip():
            missing.append(f"{opt.opts[0]}: no help")
            continue
        if opt.is_flag and not opt.secondary_opts:
            continue  # a flag is off unless given: no default or unit to state
        if not (opt.required or re.search(r"\bdefault\b", text, re.IGNORECASE)):
            missing.append(f"{opt.opts[0]}: no default in {text!r}")
        if not UNIT.search(opt.help or ""):
            missing.append(f"{opt.opts[0]}: no unit in {opt.help!r}")
    assert not missing, missing
