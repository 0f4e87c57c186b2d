"""Deployment files: where ``ape run deploy`` writes addresses, and how scripts
and the console load them back.

A deployment JSON (``deployments/<network>.json``, plus ``latest.json``) holds
the admin, oracle and vault addresses and, per asset symbol, the token and
feed addresses, decimals and parameters (see ``System.to_json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEPLOYMENTS_DIR = Path("deployments")
LATEST = DEPLOYMENTS_DIR / "latest.json"


class DeploymentError(ValueError):
    """A deployment file that is missing or does not describe a deployment."""


@dataclass
class Deployment:
    """Contract handles of a deployment loaded from its JSON.

    ``tokens``/``feeds`` map a symbol to an Ape contract instance; ``info``
    is the JSON as written.
    """

    oracle: Any
    vault: Any
    tokens: dict[str, Any]
    feeds: dict[str, Any]
    info: dict[str, Any]

    def symbol_of(self, asset: str) -> str:
        """Symbol of a token address or symbol (case-insensitive); ``DeploymentError`` if unknown."""
        for sym, tok in self.tokens.items():
            if asset.upper() == sym or asset.lower() == str(tok.address).lower():
                return sym
        raise DeploymentError(f"unknown asset {asset!r}; known: {', '.join(self.tokens)}")


def read_json(path: Path) -> dict[str, Any]:
    """The JSON of a deployment file; ``DeploymentError`` naming the file otherwise."""
    if not path.is_file():
        raise DeploymentError(f"{path}: no deployment file (run `ape run deploy` first)")
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DeploymentError(f"{path}: not JSON ({exc})") from None
    for key in ("oracle", "vault", "assets"):
        if key not in info:
            raise DeploymentError(f"{path}: missing key {key!r}")
    return info


def load(project: Any, path: Path = LATEST) -> Deployment:
    """Attach Ape contract instances to the addresses in ``path``."""
    info = read_json(path)
    tokens = {s: project.MockERC20.at(a["token"]) for s, a in info["assets"].items()}
    feeds = {s: project.MockAggregator.at(a["feed"]) for s, a in info["assets"].items()}
    return Deployment(project.RiskOracle.at(info["oracle"]), project.MarginVault.at(info["vault"]), tokens, feeds, info)
