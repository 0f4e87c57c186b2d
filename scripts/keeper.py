"""ape run keeper: keep a live volmargin deployment (oracle pokes, liquidations, bad-debt settlement).

A long-running process: on every new block (or every --interval seconds) it pokes the
assets whose feed has a new round, reads every account found in the vault's Deposit and
Borrow logs, liquidates the unhealthy ones when the liquidation pays for its gas and
slippage, and settles bad debt. One JSON line per action or refusal goes to stdout (and
to --log FILE). SIGINT/SIGTERM finish the current round and print a summary line.
See volmargin/chain/keeper.py for the round and the record fields.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click
from ape.cli import verbosity_option

from volmargin.cli import ConnectedCommand, InFile, OutFile, network_option


def _json_stdout():  # type: ignore[no-untyped-def]
    """A text stream on the process's stdout for the JSON lines; file descriptor 1 itself
    then points at stderr, so that whatever else is printed (ape-foundry prints the call
    trace of every revert to ``sys.stdout``, bound at its import) stays off the JSON stream."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    return out


@click.command(cls=ConnectedCommand, short_help="Poke, liquidate and settle on a live deployment")
@network_option()
# stdout carries the JSON lines: Ape's INFO lines (e.g. "Connecting to ... node") stay off it
@verbosity_option(default="WARNING", show_default=True,
                  help="Level of Ape's own log lines on stderr (no unit): ERROR, WARNING, SUCCESS, INFO or DEBUG.")
@click.option("--deployment", "deployment_path", type=InFile(), default=None,
              show_default="deployments/<chain id>.json of the connected chain", help="Deployment manifest (no unit).")
@click.option("--account", "account_alias", default=None,
              show_default="TEST::2 on a development chain, required elsewhere",
              help="Signer (no unit): an `ape accounts` alias (passphrase from APE_ACCOUNTS_<alias>_PASSPHRASE or a "
                   "prompt), or on a development chain (ethereum:local:*, an anvil node such as ethereum:anvil) also "
                   "TEST::<index>; test accounts are refused elsewhere.")
@click.option("--interval", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Seconds between rounds; 0: a round on every new block (polled each second).")
@click.option("--once", is_flag=True, help="Run one round, print the summary and exit 0.")
@click.option("--slippage", type=click.FloatRange(min=0), default=0.01, show_default=True,
              help="Fraction of the seized collateral's USD value a liquidation must also cover (selling "
                   "it); also the min_seize tolerance.")
@click.option("--gas-price-gwei", type=click.FloatRange(min=0), default=None, show_default="the node's gas price",
              help="Gas price in gwei for the profitability test, sent with each transaction.")
@click.option("--native-usd", type=click.FloatRange(min=0, min_open=True), default=None,
              show_default="the oracle's WETH price", help="USD per whole native token (gas cost in USD).")
@click.option("--from-block", type=click.IntRange(min=0), default=None,
              show_default="the deployment file's block, else 0",
              help="First block scanned for accounts (no unit: a block number).")
@click.option("--batch", type=click.IntRange(1, 256), default=256, show_default=True,
              help="Accounts per read_accounts call, count.")
@click.option("--log", "log_path", type=OutFile(), default=None, show_default="none: stdout only",
              help="Also append the JSON lines to this file (no unit).")
def cli(network, deployment_path: Path | None, account_alias: str | None, interval: float, once: bool,  # type: ignore[no-untyped-def]
        slippage: float, gas_price_gwei: float | None, native_usd: float | None, from_block: int | None,
        batch: int, log_path: Path | None) -> None:
    """Keep the deployment: poke, liquidate when it pays, settle bad debt.

    One JSON line per action or refusal on stdout (Ape's own log lines: -v, default
    WARNING here). Amounts in token decimals, *_usd in USD, gas in units.
    """
    from volmargin.chain import keeper as K
    from volmargin.chain.deploy import skip_debug_log_tracing
    from volmargin.chain.manifest import DeploymentError
    from volmargin.cli import signer_and_deployment

    skip_debug_log_tracing()
    sender, dep, path = signer_and_deployment(account_alias, deployment_path)
    gas_price = None if gas_price_gwei is None else int(round(gas_price_gwei * 10**9))
    with contextlib.ExitStack() as stack:
        streams = [stack.enter_context(_json_stdout())]
        try:
            config = K.KeeperConfig(slippage=slippage, gas_price_wei=gas_price, native_usd=native_usd,
                                    from_block=from_block, batch=batch)
            keeper = K.Keeper(dep, sender, config, K.json_writer(*streams))
        except (K.KeeperError, DeploymentError) as exc:
            raise click.BadParameter(str(exc), param_hint="--deployment/--native-usd") from None
        except Exception as exc:  # noqa: BLE001 - an unreachable node or a wrong address: one line
            why = " ".join(str(exc).split())[:300]
            raise click.ClickException(f"cannot start the keeper on {path}: {why}") from None
        if log_path is not None:  # opened (created) only once the keeper can start
            try:
                log_path.parent.mkdir(parents=True, exist_ok=True)
                streams.append(stack.enter_context(log_path.open("a")))
            except OSError as exc:
                raise click.BadParameter(f"{log_path}: {exc.strerror}", param_hint="--log") from None
            keeper.emit_json = K.json_writer(*streams)
        K.run(keeper, interval=interval, once=once)
