"""ape run admin: operate a deployment (pause, parameters, portfolio margin, listing, roles).

    ape run admin --network NET --account ALIAS SUBCOMMAND ...

Signs with a named Ape account (``ape accounts list``); a test account (TEST::n)
only on development chains. Reads the deployment from its manifest
(--deployment, default deployments/<chain id>.json, else deployments/latest.json).
Every action is checked before sending and refused with the contract's own
reason (one line, non-zero exit), so a refused change costs no transaction. The
logic is volmargin.chain.admin, which the console's helpers call too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from volmargin.cli import Group, network_option

_ROLE_HELP = "Role by name: DEFAULT_ADMIN_ROLE, RISK_ADMIN_ROLE, GUARDIAN_ROLE (vault), any *_ROLE the contracts define."


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group(cls=Group, short_help="Pause, set parameters, list assets, manage roles")
@network_option()
@click.option("--account", "account_alias", required=True,
              help="Signer (no unit): an `ape accounts` alias, or TEST::<n> on development chains only.")
@click.option("--deployment", "deployment_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              show_default="deployments/<chain id>.json, else deployments/latest.json",
              help="Deployment manifest (no unit).")
@click.pass_context
def cli(ctx: click.Context, provider: Any, account_alias: str, deployment_path: Path | None) -> None:
    """Operate a volmargin deployment; each subcommand checks before it sends."""
    from ape import chain, project
    from ape.logging import logger

    from volmargin.chain.admin import AdminError, resolve_account
    from volmargin.chain.deploy import skip_debug_log_tracing
    from volmargin.chain.manifest import DeploymentError
    from volmargin.chain.node import load_deployment

    logger.set_level("WARNING")
    ctx.with_resource(provider.network.use_provider(provider))
    skip_debug_log_tracing()
    try:
        sender = resolve_account(account_alias, chain.provider)
    except AdminError as exc:
        raise click.ClickException(f"--account: {exc}") from None
    try:
        dep = load_deployment(project, chain, deployment_path)
    except DeploymentError as exc:
        raise click.ClickException(f"--deployment: {exc}") from None
    ctx.obj = {"sender": sender, "dep": dep, "chain": chain, "project": project}


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call an admin function; its refusals become one-line click errors."""
    from volmargin.chain.admin import AdminError

    try:
        return fn(*args, **kwargs)
    except AdminError as exc:
        raise _fail(exc) from None


@cli.command()
@click.argument("actions", nargs=-1, required=True)
@click.pass_obj
def pause(obj: dict[str, Any], actions: tuple[str, ...]) -> None:
    """Pause ACTIONS on the vault: withdraw, borrow, liquidate, or all (deposits and
    repayments cannot be paused). GUARDIAN_ROLE or DEFAULT_ADMIN_ROLE."""
    from volmargin.chain import admin as A

    old, new = _run(A.pause, obj["dep"], list(actions), obj["sender"])
    click.echo(f"paused: {A.mask_names(new)} (was: {A.mask_names(old)})")


@cli.command()
@click.argument("actions", nargs=-1, required=True)
@click.pass_obj
def unpause(obj: dict[str, Any], actions: tuple[str, ...]) -> None:
    """Clear the pause of ACTIONS (withdraw, borrow, liquidate, all). DEFAULT_ADMIN_ROLE only."""
    from volmargin.chain import admin as A

    old, new = _run(A.unpause, obj["dep"], list(actions), obj["sender"])
    click.echo(f"paused: {A.mask_names(new)} (was: {A.mask_names(old)})")


@cli.command("set-param")
@click.argument("name")
@click.argument("value")
@click.option("--asset", default=None, show_default="none: a vault-wide parameter",
              help="Asset symbol or token address (no unit), for per-asset parameters (oracle and vault rate model).")
@click.option("--dry-run", is_flag=True, help="Show the check and send nothing.")
@click.pass_obj
def set_param(obj: dict[str, Any], name: str, value: str, asset: str | None, dry_run: bool) -> None:
    """Set parameter NAME (a volmargin.spec name: heartbeat, h_min, close_factor, kink, ...) to
    VALUE in human units: fractions and multiples for WAD entries (0.25), seconds for times,
    per-second / per-year figures for variances / rates, USD for WAD USD entries, 0/1 for flags.

    Shows the current value, the range this signer may set now (the spec's bound, narrowed by
    the steward's max_rel_change for a RISK_ADMIN_ROLE signer) and the earliest time of the
    change before sending; a value the contract would refuse is refused with its reason."""
    from volmargin.chain import admin as A

    plan = _run(A.plan_param, obj["chain"], obj["dep"], name, value, obj["sender"], asset)
    _check_then_send(plan.describe(), plan.refusal, dry_run,
                     lambda: A.set_param(obj["chain"], obj["dep"], name, value, obj["sender"], asset),
                     f"set {plan.label}.{name} = {A.to_human(plan.row, plan.new)}")


def _check_then_send(lines: list[str], refusal: str | None, dry_run: bool, send: Any, done: str) -> None:
    """Print a plan's lines; refuse with its reason, or stop on --dry-run, or send and say ``done``."""
    for line in lines:
        click.echo(line)
    if refusal:
        raise click.ClickException(f"refused before sending: {refusal}")
    if dry_run:
        click.echo("dry run: nothing sent")
        return
    _run(send)
    click.echo(done)


def _send_portfolio(obj: dict[str, Any], plan: Any, dry_run: bool) -> None:
    from volmargin.chain import admin as A

    _check_then_send(plan.lines, plan.refusal, dry_run, lambda: A.send_portfolio_change(obj["dep"], plan, obj["sender"]),
                     f"sent {plan.function}")


@cli.command("set-correlation")
@click.argument("asset_a")
@click.argument("asset_b")
@click.argument("rho_lo")
@click.argument("rho_hi")
@click.option("--dry-run", is_flag=True, help="Show the check and send nothing.")
@click.pass_obj
def set_correlation(obj: dict[str, Any], asset_a: str, asset_b: str, rho_lo: str, rho_hi: str, dry_run: bool) -> None:
    """Set the correlation bounds of ASSET_A and ASSET_B (symbols or token addresses) for
    portfolio margin (docs/design.md §5.6): RHO_LO <= RHO_HI, both in [-1, 1] (no unit); -1 1
    removes every offset of the pair. A RISK_ADMIN_ROLE signer moves each offset (1 - rho_hi,
    1 + rho_lo) by at most max_rel_change, once per min_change_delay, and cannot create one."""
    from volmargin.chain import admin as A

    plan = _run(A.plan_correlation, obj["chain"], obj["dep"], asset_a, asset_b, rho_lo, rho_hi, obj["sender"])
    _send_portfolio(obj, plan, dry_run)


@cli.command("set-portfolio-floor")
@click.argument("value")
@click.option("--dry-run", is_flag=True, help="Show the check and send nothing.")
@click.pass_obj
def set_portfolio_floor(obj: dict[str, Any], value: str, dry_run: bool) -> None:
    """Set the portfolio floor to VALUE, a fraction in (0, 1] (no unit): no correlation offset
    lowers an account's requirement below VALUE times the sum of its per-asset requirements;
    1 turns portfolio margin off."""
    from volmargin.chain import admin as A

    plan = _run(A.plan_portfolio_floor, obj["chain"], obj["dep"], value, obj["sender"])
    _send_portfolio(obj, plan, dry_run)


@cli.command("list-asset")
@click.argument("token")
@click.argument("feed")
@click.option("--like", default=None, show_default="the volmargin.params defaults",
              help="Start from the parameters of this listed asset (symbol or address; no unit).")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", show_default="none",
              help="Override one oracle or rate parameter by its volmargin.spec name, in human units as for "
                   "set-param: fractions, seconds, USD (repeatable).")
@click.option("--vol", type=click.FloatRange(min=0), default=0.8, show_default=True,
              help="Annualized volatility of the seed variance, fraction a year (0.8 = 80 %).")
@click.pass_obj
def list_asset(obj: dict[str, Any], token: str, feed: str, like: str | None, settings: tuple[str, ...],
               vol: float) -> None:
    """List TOKEN (address) on the oracle with price FEED (an AggregatorV3 address, USD) and on
    the vault. Listing pulls one whole token from the admin as a fee-on-transfer probe and
    returns it: the admin must hold it; the approval is sent here if missing. DEFAULT_ADMIN_ROLE."""
    from volmargin.chain import admin as A

    click.echo(f"note: {A.PROBE_NOTICE}")
    plan = _run(A.plan_listing, obj["project"], obj["chain"], obj["dep"], token, feed, obj["sender"],
                _run(A.parse_settings, settings), like, vol)
    for line in _run(A.list_asset, obj["dep"], plan, obj["sender"]):
        click.echo(line)


def _role_command(grant: bool) -> Any:
    @click.argument("role")
    @click.argument("account")
    @click.option("--on", "on", type=click.Choice(["oracle", "vault", "both"]), default="both", show_default=True,
                  help="Contract(s) to change (no unit); with both, each that defines the role.")
    @click.pass_obj
    def command(obj: dict[str, Any], role: str, account: str, on: str) -> None:
        from volmargin.chain import admin as A

        for line in _run(A.change_role, obj["dep"], grant, role, account, obj["sender"], on):
            click.echo(line)

    command.__doc__ = f"{'Grant' if grant else 'Revoke'} ROLE {'to' if grant else 'from'} ACCOUNT (address). {_ROLE_HELP}"
    return command


cli.command("grant-role")(_role_command(True))
cli.command("revoke-role")(_role_command(False))
