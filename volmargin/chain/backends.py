"""Where ``deploy_system`` deploys and transacts: Ape, or titanoboa's in-process EVM.

Both backends run the same contract sources; ``volmargin.chain.deploy`` holds the
one sequence of deployment steps and calls a backend for each contract
deployment and transaction. A transaction returns a receipt with ``timestamp``
(the block's Unix time, s) and ``events`` (decoded logs, fields by attribute).

``BoaBackend`` imports titanoboa (the ``test`` extra) when it is built, never at
module import.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class Backend(ABC):
    """Deploys contracts by name and sends transactions from an account."""

    @abstractmethod
    def deploy(self, name: str, *args: Any, sender: Any) -> Any:
        """Deploy contract ``name`` (e.g. ``"RiskOracle"``) with constructor ``args``; the instance."""

    @abstractmethod
    def transact(self, contract: Any, method: str, *args: Any, sender: Any) -> Any:
        """Send ``contract.method(*args)`` from ``sender``; a receipt (``timestamp``, ``events``).

        A revert raises the backend's own error."""

    @abstractmethod
    def address(self, account: Any) -> str:
        """Checksummed address of ``account`` (an account object of this backend)."""

    @abstractmethod
    def at(self, name: str, address: str) -> Any:
        """The contract at ``address`` (already deployed, e.g. a third-party token or feed)
        through the interface of contract ``name`` (e.g. ``"MockERC20"`` for an ERC-20)."""


class ApeBackend(Backend):
    """Ape: ``project.NAME.deploy(...)``; a transaction's receipt is Ape's ``ReceiptAPI``.

    ``project`` is needed only to deploy."""

    def __init__(self, project: Any = None) -> None:
        self.project = project

    def deploy(self, name: str, *args: Any, sender: Any) -> Any:
        """``project.NAME.deploy(*args, sender=sender)``; ``AttributeError`` for an unknown contract."""
        return getattr(self.project, name).deploy(*args, sender=sender)

    def transact(self, contract: Any, method: str, *args: Any, sender: Any) -> Any:
        """``contract.method(*args, sender=sender)``: Ape's receipt."""
        return getattr(contract, method)(*args, sender=sender)

    def address(self, account: Any) -> str:
        """``str(account.address)``."""
        return str(account.address)

    def at(self, name: str, address: str) -> Any:
        """``project.NAME.at(address)``."""
        return getattr(self.project, name).at(address)


@dataclass(frozen=True)
class BoaReceipt:
    """What a titanoboa transaction left: block time (s), decoded logs, the return value."""

    timestamp: int
    events: list[Any]
    return_value: Any


class BoaBackend(Backend):
    """titanoboa: contracts compiled from ``contracts`` (the directory of ``.vy``
    sources, searched recursively by file name) with ``boa.load_partial``, each
    compiled once per backend; accounts are addresses (``boa.env.generate_address``).

    ``ModuleNotFoundError`` when titanoboa is not installed (the ``test`` extra)."""

    def __init__(self, contracts: Path) -> None:
        import boa  # the test extra: imported only when a titanoboa backend is made

        self._boa = boa
        self.contracts = Path(contracts)
        self._factories: dict[str, Any] = {}
        # the sources import `interfaces.X` from the project root (the folder above `contracts`):
        # search there whatever the working directory (titanoboa otherwise searches only the
        # working directory and sys.path, so a process started elsewhere could not compile)
        boa.interpret.set_search_paths([str(self.contracts.resolve().parent)])

    def _factory(self, name: str) -> Any:
        if name not in self._factories:
            sources = sorted(self.contracts.rglob(f"{name}.vy"))
            if not sources:
                raise FileNotFoundError(f"no {name}.vy under {self.contracts}")
            self._factories[name] = self._boa.load_partial(str(sources[0]))
        return self._factories[name]

    def deploy(self, name: str, *args: Any, sender: Any) -> Any:
        """Deploy ``name`` from ``sender``; ``FileNotFoundError`` when no source has that name."""
        return self._factory(name).deploy(*args, sender=sender)

    def transact(self, contract: Any, method: str, *args: Any, sender: Any) -> BoaReceipt:
        """Call ``contract.method(*args)`` from ``sender``; the block time, logs and return value."""
        value = getattr(contract, method)(*args, sender=sender)
        return BoaReceipt(self._boa.env.timestamp, contract.get_logs(), value)

    def address(self, account: Any) -> str:
        """An account is its address: ``str(account)``."""
        return str(account)

    def at(self, name: str, address: str) -> Any:
        """``name``'s factory at ``address``."""
        return self._factory(name).at(address)
