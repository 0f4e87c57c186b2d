"""ape run mutate: plant bugs in the risk math and the vault, one at a time, and
check that the differential suite kills each of them.

Each mutant is one textual edit of a contract (flipped rounding, `<` for `<=`,
a dropped ramp, a wrong decimals scaling, a missing breaker check, ...). For
each, the contract is rewritten in place, the differential suite runs (the
stateful test on titanoboa first, then the harness fuzz on anvil, then the
liquidation and oracle-breaker unit tests; the first failure stops it), and the original source is restored, whatever happens. A mutant
is killed when the suite fails. Prints a table and writes
reports/bench/mutation.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import click

from volmargin.cli import Command, InFile, OutFile

ROOT = Path(__file__).resolve().parent.parent


class Mutant(NamedTuple):
    """Replace the single occurrence of ``old`` by ``new`` in ``path``."""

    name: str
    path: str
    old: str
    new: str


M, O, V = "contracts/modules/risk_math.vy", "contracts/RiskOracle.vy", "contracts/MarginVault.vy"
R = "contracts/modules/rates.vy"
PF, MG = "contracts/modules/portfolio.vy", "contracts/modules/margin.vy"
FC = "contracts/modules/forecast.vy"
AS, RP = "contracts/modules/asset_state.vy", "contracts/modules/risk_params.vy"
DW = "contracts/modules/drawdown_word.vy"
SH, AC, ML = "contracts/modules/shares.vy", "contracts/modules/asset_config.vy", "contracts/modules/market_layout.vy"
VP = "contracts/modules/vault_params.vy"
OG = "contracts/modules/oracle_globals.vy"

MUTANTS: tuple[Mutant, ...] = (
    Mutant("haircut rounds down", M, "(z * sigma + WAD - 1) // WAD", "z * sigma // WAD"),
    Mutant("liability value rounds down", M, "return (amount * price + unit - 1) // unit", "return amount * price // unit"),
    Mutant("weighted liability rounds down", M, "return (val * (WAD + haircut) + WAD - 1) // WAD", "return val * (WAD + haircut) // WAD"),
    Mutant("ewma weight flipped", M, "lam: uint256 = tau * WAD // (tau + dt)", "lam: uint256 = dt * WAD // (tau + dt)"),
    Mutant("ewma drops the 1/dt", M, "(abs_r * abs_r // WAD) // dt) // WAD", "(abs_r * abs_r // WAD)) // WAD"),
    Mutant("sigma ignores horizon", M, "return isqrt(var * horizon * WAD)", "return isqrt(var * WAD)"),
    Mutant("ramp dropped (jumps to target)", M, "return min(target, current + up * elapsed)", "return target"),
    Mutant("ramp-down unbounded", M, "if current - target <= step:", "if current - target <= step + WAD:"),
    Mutant("size term dropped", M, "return (kappa * isqrt(val * WAD // depth * WAD) + WAD - 1) // WAD", "return 0"),
    Mutant("asset value wrong decimals", M, "return amount * price // 10**decimals", "return amount * price // 10**(decimals + 1)"),
    Mutant("bonus cap ignored", M, "return min(bonus_min + bonus_slope * shortfall // WAD, bonus_max)", "return bonus_min + bonus_slope * shortfall // WAD"),
    Mutant("hf_full comparison flipped", M, "if health_factor < hf_full:", "if health_factor > hf_full:"),
    Mutant("dust rule off", M, "< min_debt_value:", "< 0:"),
    Mutant("seize ignores bonus", M, "return val * (WAD + bonus) // WAD * 10**col_decimals // col_price", "return val * 10**col_decimals // col_price"),
    Mutant("borrow index rounds down", R, "return index + (index * rate_s * dt + WAD - 1) // WAD", "return index + index * rate_s * dt // WAD"),
    Mutant("kink slope2 dropped", R, "rate += slope2 * (u - kink) // (WAD - kink)", "rate += 0"),
    Mutant("jump check uses <", O, "jump = abs_r > p[P_K_JUMP]", "jump = abs_r < p[P_K_JUMP]"),
    Mutant("stale check missing in risk()", O, '<= asset_state._valid_until(st1), "oracle: stale price"', '<= max_value(uint256), "oracle: stale price"'),
    Mutant("negative answer accepted", O, "    if answer <= 0:\n        return 0, updated_at, REASON_NON_POSITIVE", "    if answer < 0:\n        return 0, updated_at, REASON_NON_POSITIVE"),
    Mutant("slow variance not clamped", O, "risk_math._ewma_var(s.var_slow, abs_r, dt, p[P_TAU_SLOW]), var_min, var_max", "risk_math._ewma_var(s.var_slow, abs_r, dt, p[P_TAU_SLOW]), 0, max_value(uint256)"),
    Mutant("cooldown ignored", O, "if s.breaker != REDUCE_ONLY or now >= s.tripped_at + cooldown:", "if True:"),
    # feed intake range (docs/design.md §7.2)
    Mutant("price range unchecked", O, "    if convert(answer, uint256) > MAX_PRICE // scale:\n        return 0, updated_at, REASON_OUT_OF_RANGE\n", ""),
    Mutant("return range checked after the square", O, "            if abs_r > MAX_ABS_RETURN:\n                reason = REASON_OUT_OF_RANGE", "            if abs_r > max_value(uint256):\n                reason = REASON_OUT_OF_RANGE"),
    # initial floor (docs/design.md §4.3)
    Mutant("h_init floored by h_min only", O, "max(p[P_H_MIN], p[P_H_MIN_INIT]), p[P_H_MAX]", "p[P_H_MIN], p[P_H_MAX]"),
    Mutant("h_init floored by h_min_init only", O, "max(p[P_H_MIN], p[P_H_MIN_INIT]), p[P_H_MAX]", "p[P_H_MIN_INIT], p[P_H_MAX]"),
    Mutant("h_min_init above h_max accepted", O, "p[P_H_MIN_INIT] <= p[P_H_MAX] and ", ""),
    # drawdown trip (docs/design.md §7.8)
    Mutant("drawdown compares with <", O, "tripped: bool = risk_math._abs_return(ref_price, price) > trip", "tripped: bool = risk_math._abs_return(ref_price, price) < trip"),
    Mutant("drawdown reference never moved", O, "if ref_price == 0 or updated_at - ref_time >= window:", "if ref_price == 0:"),
    Mutant("drawdown ignores its window", O, "if ref_price == 0 or updated_at - ref_time >= window:", "if True:"),
    Mutant("drawdown reference kept on a trip", O, "    if tripped:\n        ref_price = price\n        ref_time = updated_at\n", ""),
    Mutant("drawdown does not trip", O, "    elif drawdown:\n        s = self._trip(asset, s, REASON_DRAWDOWN)\n", ""),
    Mutant("liquidatable at zero health", V, "assert h.maint_assets < h.maint_liabilities, \"vault: account healthy\"", "assert h.maint_assets <= h.maint_liabilities, \"vault: account healthy\""),
    Mutant("reduce-only not enforced", V, 'assert not h.reduce_only, "vault: asset reduce-only"', "pass"),
    Mutant("initial health uses >", V, 'assert h.init_assets >= h.init_liabilities, "vault: insufficient health"', 'assert h.init_assets + 10**18 >= h.init_liabilities, "vault: insufficient health"'),
    Mutant("deposit shares round up", V, "s: uint256 = shares._to_shares_down(convert(new_tokens, uint256), m.deposit_index)",
           "s: uint256 = shares._to_shares_up(convert(new_tokens, uint256), m.deposit_index)"),
    Mutant("reserve factor ignored", V, "reserve: uint256 = interest * a[A_RESERVE_FACTOR] // WAD", "reserve: uint256 = 0"),
    Mutant("insurance not used for bad debt", V, "covered: uint256 = min(debt, m.insurance)", "covered: uint256 = 0"),
    Mutant("caution scale ignored", MG, "w = w * caution_scale // WAD", "w = w"),
    # thin-collateral levers (docs/design.md §2.8, §4.3)
    Mutant("supply cap compared with <", V, "asset_config._decimals(w0)) <= cap, \"vault: supply cap reached\"",
           "asset_config._decimals(w0)) < cap, \"vault: supply cap reached\""),
    Mutant("supply cap applied to a repaying deposit", V, "if cap != 0 and after.scaled_deposits > m.scaled_deposits:",
           "if cap != 0:"),
    # the deposit's cap check after a repayment too, with no scaled deposits before: any total over
    # the cap refuses the repayment
    Mutant("supply cap applied to repay", V, "    if not repay:\n        # Supply cap",
           "    if True:\n        m.scaled_deposits = 0\n        # Supply cap"),
    Mutant("supply cap total rounds up", V, "total: uint256 = shares._to_assets_down(after.scaled_deposits, after.deposit_index)",
           "total: uint256 = shares._to_assets_up(after.scaled_deposits, after.deposit_index)"),
    Mutant("concentration term dropped", MG, "risk_math._initial_haircut(r.h_init, r.kappa, r.depth, v, leg_units._concentration(units[i]))",
           "risk_math._initial_haircut(r.h_init, r.kappa, r.depth, v, 0)"),
    Mutant("concentration term on debts too", MG, "risk_math._initial_haircut(r.h_init, r.kappa, r.depth, v, 0), lam_i)",
           "risk_math._initial_haircut(r.h_init, r.kappa, r.depth, v, units[i] >> 8), lam_i)"),
    Mutant("concentration total rounds up", V, "deposits[i] = shares._to_assets_down(m.scaled_deposits, m.deposit_index)",
           "deposits[i] = shares._to_assets_up(m.scaled_deposits, m.deposit_index)"),
    # portfolio margin (docs/design.md §5.6)
    Mutant("portfolio share rounds up", PF, "return u * WAD // total", "return (u * WAD + total - 1) // total"),
    Mutant("portfolio square root rounds down", PF, "    if s * s < q:\n        s += 1\n", ""),
    Mutant("portfolio floor ignored", PF, "return min(max(s, floor_), WAD)", "return min(s, WAD)"),
    Mutant("portfolio reduction counted once", PF, "    if 2 * reduction < WAD:\n        q = (WAD - 2 * reduction) * WAD",
           "    if reduction < WAD:\n        q = (WAD - reduction) * WAD"),
    Mutant("opposite legs joined with rho_hi", PF, "    if same_sign:\n        return w & M128\n    return w >> 128",
           "    return w & M128"),
    Mutant("scaled haircut rounds down", PF, "return (h * lam + WAD - 1) // WAD", "return h * lam // WAD"),
    Mutant("portfolio scale skips maintenance", MG, "h_maint: uint256 = portfolio._scaled_haircut(r.h_maint, lam_m)",
           "h_maint: uint256 = r.h_maint"),
    Mutant("initial scale from maintenance requirements", O,
           "ui[i] = v * risk_math._initial_haircut(r.h_init, r.kappa, r.depth, v, conc) // WAD",
           "ui[i] = v * r.h_maint // WAD"),
    Mutant("pair count kept on a reset", O, "    elif old != 0 and new == 0:\n        self._state[a][3] -= asset_state.ONE_PAIR\n"
           "        self._state[b][3] -= asset_state.ONE_PAIR\n", ""),
    Mutant("uncorrelated legs left out of the sum", O, "        sm += um[i]\n        si += ui[i]\n",
           "        if r.correlated:\n            sm += um[i]\n            si += ui[i]\n"),
    # storage codecs (issue #15)
    Mutant("state codec: breaker read one bit off", AS, "breaker=convert((w[3] >> BREAKER_SHIFT) & BREAKER_MASK, uint8),",
           "breaker=convert((w[3] >> (BREAKER_SHIFT + 1)) & BREAKER_MASK, uint8),"),
    Mutant("state codec: h_target and h_init swapped", AS, "h_target=(w[3] >> H_TARGET_SHIFT) & HAIRCUT_MASK,",
           "h_target=(w[3] >> H_INIT_SHIFT) & HAIRCUT_MASK,"),
    Mutant("params codec: grace read from the heartbeat", RP, "    return (w0 >> Q1) & M64\n", "    return w0 & M64\n"),
    Mutant("params codec: dd_window not packed", RP, " | (p[P_DD_WINDOW] << DD_WINDOW_SHIFT)", ""),
    Mutant("params codec: r_floor width unchecked", O, "and p[P_R_FLOOR] <= risk_params.M64 and", "and"),
    Mutant("state codec: deadline without the grace", O, "risk_params._heartbeat(w0) + risk_params._grace(w0))\n",
           "risk_params._heartbeat(w0))\n"),
    Mutant("state codec: deadline not packed", AS, " | (min(s.updated_at + max_age, TIME_MASK) << VALID_UNTIL_SHIFT),", ","),
    Mutant("risk() skips the ramp", O, "    if s.h_maint != s.h_target:\n        w0: uint256 = self._params[asset][0]\n",
           "    if False:\n        w0: uint256 = self._params[asset][0]\n"),
    Mutant("globals codec: tripped count read one bit off", OG, "    return w >> N_TRIPPED_SHIFT\n",
           "    return w >> (N_TRIPPED_SHIFT + 1)\n"),
    Mutant("trip not counted", O, "        self._globals += oracle_globals.ONE_TRIPPED\n", "        pass\n"),
    Mutant("drawdown codec: reference time dropped", DW, "return ref_price | (ref_time << TIME_SHIFT)", "return ref_price"),
    # forecast volatility (docs/design.md §3.7)
    Mutant("forecast lower bound ignored", FC, "f: uint256 = min(max(sigma_f, f_lo * sigma_r // WAD), f_hi * sigma_r // WAD)",
           "f: uint256 = min(sigma_f, f_hi * sigma_r // WAD)"),
    Mutant("forecast blend rounds down", FC, "return (sigma_r + f + 1) // 2", "return (sigma_r + f) // 2"),
    Mutant("forecast max mode replaces", FC, "return max(sigma_r, f)", "return f"),
    Mutant("forecast lower push bound strict", FC, "return f_lo * sigma_r <= sigma * WAD and", "return f_lo * sigma_r < sigma * WAD and"),
    Mutant("forecast step bound skipped", O, "if s.forecast and now < forecast._pushed_at(w) + p[P_F_TTL]:", "if False:"),
    Mutant("forecast never expires", O, "now >= forecast._pushed_at(self._forecast[asset]) + p[P_F_TTL]",
           "now >= forecast._pushed_at(self._forecast[asset]) + p[P_F_TTL] + 10**9"),
    Mutant("forecast too-soon check off", O, "assert now - forecast._pushed_at(w) >= p[P_HEARTBEAT]",
           "assert now - forecast._pushed_at(w) >= 0"),
    Mutant("initial haircut ignores the forecast", O, "    if accepted or expired:\n        h_init = new_init\n",
           "    if accepted or expired:\n        h_init = self._targets(risk_math._sigma(var, p[P_HORIZON]), p)[1]\n"),
    Mutant("forecast bit dropped on store", AS, " | (live << FORECAST_SHIFT)\n", "\n"),
    # share math and storage codecs (docs/design.md §2, §2.6)
    Mutant("borrow shares round down", SH, "return (assets * WAD + index - 1) // index", "return assets * WAD // index"),
    Mutant("borrow amounts round down", SH, "return (shares * index + WAD - 1) // WAD", "return shares * index // WAD"),
    Mutant("config decimals read one bit off", AC, "return (w0 >> DECIMALS_SHIFT) & M8", "return (w0 >> (DECIMALS_SHIFT + 1)) & M8"),
    Mutant("insurance read one bit off", ML, "insurance=w[2] >> INSURANCE_SHIFT,", "insurance=w[2] >> (INSURANCE_SHIFT + 1),"),
    Mutant("market codec: scaled borrows not packed", ML, "m.scaled_deposits | (m.scaled_borrows << HIGH_SHIFT),", "m.scaled_deposits,"),
    Mutant("market range check off", V, "<= market_layout.MAX_FIELD, \"vault: market out of range\"",
           "<= max_value(uint256), \"vault: market out of range\""),
    # the vault's global words (module vault_params)
    Mutant("vault params codec: hf_full read from the close factor", VP, "    return (w0 >> Q1) & M64\n", "    return w0 & M64\n"),
    Mutant("vault params codec: liq_cap_tripped not packed", VP, "        p[P_LIQ_CAP_TRIPPED],\n", "        0,\n"),
    Mutant("vault params codec: USD widths unchecked", V, " and max(p[P_MIN_DEBT_VALUE], p[P_LIQ_CAP]) <= vault_params.M128", ""),
    Mutant("liquidation window forgets the repaid value", VP, "    return start | (used << Q1)\n", "    return start\n"),
    Mutant("pause mask dropped by the core word", VP, "    return (core & ADDRESS_MASK) | (paused << PAUSED_SHIFT)\n",
           "    return core & ADDRESS_MASK\n"),
    Mutant("caution scale never read", V, "                caution_scale = vault_params._caution_scale(self._params[1])\n",
           "                pass\n"),
    # the initial haircut in force (docs/design.md §4.3)
    Mutant("initial haircut below the maintenance haircut in risk()", O, "h_init=max(h_init, h_maint),", "h_init=h_init,"),
    Mutant("haircuts() shows the formula alone", O, "return h_maint, max(h_init, h_maint)", "return h_maint, h_init"),
    Mutant("set_param keeps the old target", O,
           "    # and keep the cached h_init equal to the live formula\n    s.h_target, h_init = self._targets(self._sigma_h(asset, s, p), p)\n",
           "    # and keep the cached h_init equal to the live formula\n    h_init = self._targets(self._sigma_h(asset, s, p), p)[1]\n"),
)

SUITE = [
    # cheapest first: the stateful test compiles the sources itself (titanoboa), so a
    # mutant it kills costs no Ape build and no anvil start
    [sys.executable, "-m", "pytest", "tests/stateful", "-x", "-q", "-p", "no:ape", "-p", "no:cacheprovider"],
    # ape's compile cache does not follow imported modules: force the rebuild
    ["ape", "compile", "--force"],
    ["ape", "test", "tests/fuzz/test_risk_math_parity.py", "tests/integration/test_foundry.py", "-x", "-q", "-p", "no:cacheprovider",
     "--network", "ethereum:local:foundry"],
    # unit tests that hold every step to the reference, for what the random suites reach
    # seldom: liquidations and bad-debt settlement ("insurance not used for bad debt" once
    # survived the stateful and fuzz stages), and the oracle's variance clamps and breakers
    # ("slow variance not clamped" did: the stateful test never runs a month of calm)
    # and the thin-collateral levers to the wei (a supply cap reached exactly, a concentration
    # term on a grown deposit index), which the random suites reach seldom; portfolio
    # margin's oracle view and floor against the reference; the forecast's bounds at the wei; and
    # every parameter's bounds on chain and in the reference (a storage codec's field width);
    # the bad-input table, whose rows are the only draws that reach a range check ("market range
    # check off" survived every other stage on 9d520b6: only that table deposits 2^129 wei);
    # the liquidation file also holds the CAUTION scale's unit test ("caution scale never read"
    # survived every stage on d0debf8: only the stateful test's random draws had reached it)
    ["ape", "test", "tests/unitary/test_vault_liquidation.py", "tests/unitary/test_oracle_breakers.py",
     "tests/unitary/test_vault_thin_collateral.py", "tests/unitary/test_portfolio_margin.py",
     "tests/unitary/test_oracle_forecast.py", "tests/unitary/test_spec.py",
     "tests/unitary/test_bad_input_table.py", "-x", "-q", "-p", "no:cacheprovider"],
]
STAGES = ("stateful", "compile", "fuzz", "liquidation, oracle, thin-collateral, portfolio, forecast, bounds and bad-input unit tests")


def _shard(text: str) -> tuple[int, int]:
    """Parse --shard K/N (1 <= K <= N)."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not K/N, e.g. 1/2", param_hint="--shard") from None
    if not 1 <= k <= n:
        raise click.BadParameter(f"{text!r}: need 1 <= K <= N", param_hint="--shard")
    return k, n


def _resume(ctx: click.Context, param: click.Parameter, value: Path | None) -> tuple[Path, dict[str, Any]] | None:
    """``--resume``: (the file, its killed mutants by name) from the mutation.json of an
    interrupted run; ``click.BadParameter`` when the file is not one."""
    if value is None:
        return None
    try:
        rows = json.loads(value.read_text())["mutants"]
        return value, {r["mutant"]: r for r in rows if r["killed"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise click.BadParameter(f"{value} is not a mutation.json of `ape run mutate` "
                                 f"({type(exc).__name__}: {exc})") from None


def run_suite(timeout: int, profile: str = "ci") -> tuple[bool, str]:
    """Run the differential suite under a hypothesis profile; (passed, last line of output)."""
    env = dict(os.environ, HYPOTHESIS_PROFILE=profile)
    for stage, cmd in zip(STAGES, SUITE):
        try:
            p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"{stage} ({profile}): timeout after {timeout}s"
        lines = [ln for ln in (p.stdout + p.stderr).strip().splitlines() if ln.strip()]
        if p.returncode != 0:
            return False, f"{stage} ({profile}): " + (lines[-1] if lines else f"exit {p.returncode}")
    return True, "suite passed"


@click.command(cls=Command, short_help="Plant bugs one at a time and check the differential suite kills each")
@click.option("--only", default=None, show_default="all mutants",
              help="Run only mutants whose name contains this text (no unit).")
@click.option("--timeout", type=click.IntRange(10), default=900, show_default=True, help="Seconds per suite command.")
@click.option("--out", type=OutFile(), default=ROOT / "reports/bench/mutation.json",
              show_default="reports/bench/mutation.json",
              help="JSON file of the results, rewritten after every mutant (no unit; seconds per mutant inside; "
                   "folders created, checked before any mutant is planted).")
@click.option("--shard", default="1/1", show_default=True, callback=lambda ctx, param, v: _shard(v),
              help="K/N: run every N-th mutant starting at the K-th (1-based; no unit), e.g. two clones of the "
                   "repository running 1/2 and 2/2 at once.")
@click.option("--skip-baseline", is_flag=True, help="Do not first check that the suite passes without mutants.")
@click.option("--resume", type=InFile(), default=None, callback=_resume, show_default="run every chosen mutant",
              help="A mutation.json of an interrupted run (no unit): its killed mutants are kept, not run again.")
def cli(only: str | None, timeout: int, out: Path, shard: tuple[int, int], skip_baseline: bool,
        resume: tuple[Path, dict[str, Any]] | None) -> None:
    """Apply each mutant, run the suite, restore the source; exit 1 if any survives.

    The JSON is rewritten after every mutant, so an interrupted run keeps what it measured.
    """
    k, n = shard
    chosen = [m for i, m in enumerate(MUTANTS) if (only is None or only in m.name) and i % n == k - 1]
    if not chosen:
        raise click.BadParameter(f"no mutant matches {only!r} in shard {k}/{n}", param_hint="--only/--shard")
    if not skip_baseline:
        clean, why = run_suite(timeout)
        if not clean:
            raise click.ClickException(f"the suite fails without mutants ({why}); fix that first")
    rows: list[dict[str, object]] = []
    if resume is not None:
        resume_path, done = resume
        rows = [done[m.name] for m in chosen if m.name in done]
        chosen = [m for m in chosen if m.name not in done]
        click.echo(f"resuming: {len(rows)} mutants already killed in {resume_path}")
    planned = len(rows) + len(chosen)
    out.parent.mkdir(parents=True, exist_ok=True)
    for m in chosen:
        path = ROOT / m.path
        original = path.read_text()
        if original.count(m.old) != 1:
            raise click.ClickException(f"mutant {m.name!r}: expected one occurrence in {m.path}, found {original.count(m.old)}")
        started = time.time()
        try:
            path.write_text(original.replace(m.old, m.new))
            # quick pass first (most mutants die in it); a survivor gets ci's example count
            passed, why = run_suite(timeout, "mutation")
            if passed:
                passed, why = run_suite(timeout, "mutation-full")
        finally:
            path.write_text(original)
        rows.append({"mutant": m.name, "file": m.path, "killed": not passed, "by": why, "seconds": round(time.time() - started, 1)})
        click.echo(f"{'KILLED ' if not passed else 'SURVIVED'} {m.name:38s} {rows[-1]['seconds']:>6}s  {why[:80]}")
        out.write_text(json.dumps({"shard": f"{k}/{n}", "mutants": rows, "killed": sum(bool(r["killed"]) for r in rows),
                                   "total": len(rows), "planned": planned}, indent=2))
    # leave the build matching the restored sources
    subprocess.run(SUITE[1], cwd=ROOT, capture_output=True, check=False)
    survivors = [r["mutant"] for r in rows if not r["killed"]]
    click.echo(f"{len(rows) - len(survivors)}/{len(rows)} mutants killed; wrote {out}")
    if survivors:
        click.echo(f"survivors (add a test): {', '.join(survivors)}", err=True)
        sys.exit(1)
