"""Command-line conventions of the ``ape run`` scripts: output paths checked before any
work, errors in one line, and a network option whose help states its default.

Every script that writes files takes its output through ``OutDir`` (a folder) or
``OutFile`` (one file). Both are checked while the command line is parsed, before a
chain is connected or anything is computed: a path that is an existing file (for a
folder) or folder (for a file), or whose folder cannot be created or written, is
refused as ``Error: Invalid value for '--out': ...`` with exit status 2. Nothing is
created at that point; the script creates the folder (and its parents) when it writes.

The command classes ``Command``, ``ConnectedCommand`` (Ape's
``ConnectedProviderCommand``) and ``Group`` print every ``click`` error on one line:
messages that span lines (Ape's list of known networks after an unknown
``--network``) are joined.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import click
from ape.cli import ConnectedProviderCommand
from ape.cli import network_option as _ape_network_option

__all__ = ["Command", "ConnectedCommand", "Group", "InFile", "OutDir", "OutFile", "folder_problem", "network_option",
           "one_line"]

#: Help of ``--network``: its default and the place to find the choices.
NETWORK_HELP = ("Network to connect to, ecosystem:network:provider (see `ape networks list`) (no unit) "
                "[default: Ape's default, the embedded local test chain].")


def one_line(message: str) -> str:
    """``message`` on one line: its non-empty lines joined, a line after one ending in
    ``:`` ``.`` or ``;`` by a space, list items (Ape's "Options:" list) by ``, ``."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    if not lines:
        return message
    out = lines[0]
    for ln in lines[1:]:
        out += (" " if out.endswith((":", ".", ";")) else ", ") + ln
    return out


class _OneLineErrors:
    """Mixin for ``click.Command`` classes: a ``click.ClickException`` raised while the
    command line is parsed or the command runs leaves with its message on one line."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)  # type: ignore[misc]
        except click.ClickException as exc:
            exc.message = one_line(exc.message)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except click.ClickException as exc:
            exc.message = one_line(exc.message)
            raise


class Command(_OneLineErrors, click.Command):
    """A ``click.Command`` (no chain) whose errors print on one line."""


class ConnectedCommand(_OneLineErrors, ConnectedProviderCommand):
    """Ape's ``ConnectedProviderCommand`` (connects to ``--network`` for the run) whose
    errors print on one line."""


class Group(_OneLineErrors, click.Group):
    """A ``click.Group`` whose errors, and those of its subcommands, print on one line."""

    command_class = Command


def network_option(**kwargs: Any) -> Callable[[Any], Any]:
    """Ape's ``network_option`` with a help that states the default (``NETWORK_HELP``)."""
    kwargs.setdefault("help", NETWORK_HELP)
    return _ape_network_option(**kwargs)


def _nearest_existing(path: Path) -> tuple[Path, Path | None]:
    """(nearest existing ancestor of ``path``, or ``path`` itself; the first missing
    component below it, None when ``path`` exists)."""
    path = Path(os.path.abspath(path))
    missing = None
    while not path.exists() and path != path.parent:
        missing, path = path, path.parent
    return path, missing


def folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot be used as an output folder, or None when it can.

    It can when it is an existing writable folder, or when it does not exist and its
    nearest existing ancestor is a folder in which the next missing component can be
    created. The check creates that component and removes it again, and creates and
    removes a nameless temporary file in an existing folder: nothing is left behind.
    """
    base, missing = _nearest_existing(path)
    if not base.is_dir():
        return f"{base} is a file, not a folder" if base == Path(os.path.abspath(path)) else \
            f"cannot create {path}: {base} is a file, not a folder"
    try:
        if missing is None:
            with tempfile.TemporaryFile(dir=base):
                pass
        else:
            os.mkdir(missing)
            os.rmdir(missing)
    except OSError as exc:
        what = f"cannot write in {path}" if missing is None else f"cannot create {path}"
        return f"{what} ({exc.strerror or errno.errorcode.get(exc.errno or 0, 'error')})"
    return None


class OutDir(click.ParamType):
    """An output folder (``pathlib.Path``), checked at parse time by ``folder_problem``
    (not created: the script creates it when it writes)."""

    name = "folder"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if str(value).strip() == "":
            self.fail("empty path", param, ctx)
        problem = folder_problem(path)
        if problem:
            self.fail(problem, param, ctx)
        return path


class OutFile(click.ParamType):
    """An output file (``pathlib.Path``): not an existing folder, writable if it exists,
    and its folder usable by ``folder_problem`` (the script creates the folder when it writes)."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if str(value).strip() == "" or str(value).endswith(("/", os.sep)):
            self.fail(f"{value!r} is not a file name", param, ctx)
        if path.is_dir():
            self.fail(f"{path} is a folder, not a file", param, ctx)
        problem = folder_problem(path.parent)
        if problem:
            self.fail(problem, param, ctx)
        if path.exists() and not os.access(path, os.W_OK):
            self.fail(f"{path} is not writable", param, ctx)
        return path


def InFile(**kwargs: Any) -> click.Path:  # noqa: N802 (a parameter type, named like one)
    """An input file that must exist and be readable (``pathlib.Path``); ``kwargs`` go to
    ``click.Path``."""
    return click.Path(exists=True, dir_okay=False, readable=True, path_type=Path, **kwargs)


def signer_and_deployment(account_alias: str | None, deployment_path: Path | None) -> tuple[Any, Any, Path]:
    """(signing account, ``Deployment``, the manifest's path) of a script run against a live deployment on the
    connected chain: ``--account`` through ``volmargin.chain.keeper.keeper_account`` (TEST::n only
    on a development chain, TEST::2 by default there) and ``--deployment`` (default
    ``deployments/<chain id>.json``) through ``volmargin.chain.node.load_deployment`` (the vault
    and oracle must have code here). Raises ``click.BadParameter`` naming the option."""
    from ape import chain, project

    from volmargin.chain import keeper as K
    from volmargin.chain.manifest import DEPLOYMENTS_DIR, DeploymentError
    from volmargin.chain.node import is_dev_chain, load_deployment

    path = deployment_path or DEPLOYMENTS_DIR / f"{chain.chain_id}.json"
    try:
        sender = K.keeper_account(account_alias, is_dev_chain(chain.provider))
    except K.KeeperError as exc:
        raise click.BadParameter(str(exc), param_hint="--account") from None
    try:
        dep = load_deployment(project, chain, path)  # the vault and oracle must have code on this chain
    except DeploymentError as exc:
        raise click.BadParameter(str(exc), param_hint="--deployment") from None
    return sender, dep, path
