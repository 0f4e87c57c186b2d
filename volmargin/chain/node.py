"""The chain a script is connected to: development node or not, its clock, and the
deployment manifest that belongs to it.

A persistent local node (``make node``: anvil on 127.0.0.1:8545) is reached through
the custom network ``ethereum:anvil`` of ``ape-config.yaml`` (Ape's ``node`` provider:
it connects to a running node and never starts one). ``ethereum:local:foundry``
starts a throwaway anvil per process and stays what the test suite uses. Another
port: ``--network ethereum:anvil:http://127.0.0.1:PORT``.

Times are Unix seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .manifest import DEPLOYMENTS_DIR, LATEST, Deployment, DeploymentError, load

#: The persistent local node's network (custom network of ape-config.yaml).
NODE_NETWORK = "ethereum:anvil"


def is_dev_chain(provider: Any) -> bool:
    """Whether ``provider`` is connected to a development chain whose test accounts
    (TEST::n, from the test mnemonic) and clock a script may use: Ape's local
    networks and forks, or any node that reports itself as anvil
    (``web3_clientVersion``, e.g. the ``ethereum:anvil`` node network)."""
    if provider.network.is_dev:
        return True
    try:
        version = str(provider.make_request("web3_clientVersion", []))
    except Exception:  # a node without the method is not a development node
        return False
    return version.lower().startswith("anvil")


class AccountError(ValueError):
    """A signer that cannot be had: unknown alias, bad test index, or a test account off a
    development chain. ``admin`` and ``keeper`` re-raise it as their own error type."""


def load_account(alias: str, dev_chain: bool, refusal: str) -> Any:
    """The signer named ``alias``: ``TEST::<n>`` (test account n of the test mnemonic; only
    when ``dev_chain``) or an ``ape accounts`` alias (its passphrase as Ape asks for it).

    ``refusal`` ends the message for a test account off a development chain, right after
    "refused" (e.g. " on ethereum:sepolia:node: sign with a named account"). Raises ``AccountError`` naming the
    alias for a refused test account, an unknown test index or an unknown alias."""
    from ape import accounts

    if alias.upper().startswith("TEST::"):
        if not dev_chain:
            raise AccountError(f"test account {alias} refused{refusal}")
        try:
            return accounts.test_accounts[int(alias.split("::", 1)[1])]
        except (ValueError, IndexError):
            raise AccountError(f"no test account {alias!r}") from None
    try:
        return accounts.load(alias)
    except Exception as exc:  # noqa: BLE001 - Ape raises its own AccountsError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AccountError(f"no account alias {alias!r} ({first}; see `ape accounts list`)") from None


def set_next_timestamp(chain: Any, timestamp: int) -> None:
    """Make the next block's time ``timestamp`` (Unix seconds) on a development chain.

    Ape's test providers (embedded chain, ``ethereum:local:foundry``) support
    ``chain.pending_timestamp``; on a node reached through the ``node`` provider
    the anvil method ``evm_setNextBlockTimestamp`` is called directly.

    Raises
    ------
    RuntimeError
        If the chain is not a development chain.
    """
    from ape.api.providers import TestProviderAPI

    provider = chain.provider
    if isinstance(provider, TestProviderAPI):
        chain.pending_timestamp = int(timestamp)
    elif is_dev_chain(provider):
        provider.make_request("evm_setNextBlockTimestamp", [int(timestamp)])
    else:
        raise RuntimeError(f"cannot move the clock of {provider.network_choice}: not a development chain")


def manifest_path(chain_id: int) -> Path:
    """The deployment manifest of chain ``chain_id``: ``deployments/<chain_id>.json``
    when it exists, else ``deployments/latest.json``."""
    keyed = DEPLOYMENTS_DIR / f"{chain_id}.json"
    return keyed if keyed.is_file() else LATEST


def load_deployment(project: Any, chain: Any, path: Path | None = None) -> Deployment:
    """The deployment of ``path`` (default ``manifest_path(chain.chain_id)``), checked
    against the connected chain.

    Raises
    ------
    DeploymentError
        As ``manifest.load``; and, in one line, when the vault or the oracle of
        the manifest has no code on the connected chain (a manifest of another
        chain, or a node restarted since the deployment).
    """
    path = path or manifest_path(chain.chain_id)
    dep = load(project, path)
    for name in ("vault", "oracle"):
        address = getattr(dep.info, name)
        if not chain.provider.get_code(address):
            raise DeploymentError(
                f"{path}: no {name} at {address} on chain {chain.chain_id} ({chain.provider.network_choice}); "
                "the manifest belongs to another chain or the node was restarted: deploy again"
            )
    return dep
