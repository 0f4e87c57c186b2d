"""Deployment files: where ``ape run deploy`` writes addresses, and how scripts
and the console load them back.

A deployment JSON (``deployments/<chain_id>.json``, plus ``latest.json``) holds
the admin, oracle and vault addresses and, per asset symbol, the token and
feed addresses, decimals and parameters (see ``System.to_json``). A manifest
written by ``ape run deploy`` also records where and how it was deployed:
chain id, network, deployer, first block, the transaction of each step, the
compiler, the git commit, the config file and its hashes, and every parameter
as read back from the chain (``volmargin.chain.rollout``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEPLOYMENTS_DIR = Path("deployments")
LATEST = DEPLOYMENTS_DIR / "latest.json"


class DeploymentError(ValueError):
    """A deployment file that is missing or does not describe a deployment."""


#: A 20-byte address as Ape writes it: ``0x`` and 40 hex digits (checksummed or not).
Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]


class AssetInfo(BaseModel):
    """One listed asset of a deployment file (``assets.<SYMBOL>``).

    ``decimals`` are the token's decimals; ``oracle_params`` and
    ``rate_params`` map the parameter names of ``volmargin.reference``
    (``ORACLE_PARAM_NAMES``, ``ASSET_PARAM_NAMES``) to their on-chain integers
    (WAD = 1e18, variances WAD/s, rates WAD/year, times s); ``var_seed`` is
    the initial EWMA variance, WAD/s; ``mock_token``/``mock_feed``: whether the
    deployment created the token/feed as a mock (None in older files).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    token: Address
    feed: Address
    decimals: int = Field(ge=0, le=77)
    oracle_params: dict[str, int]
    rate_params: dict[str, int]
    var_seed: int = Field(ge=0)
    mock_token: bool | None = None
    mock_feed: bool | None = None


class DeploymentInfo(BaseModel):
    """The schema of a deployment file, as ``System.to_json`` writes it.

    Addresses of the admin, the RiskOracle, the MarginVault and its VaultLens; per asset
    symbol an ``AssetInfo``; the vault parameters by name
    (``VAULT_PARAM_NAMES``, WAD or seconds); the governance limits
    ``max_rel_change`` (WAD) and ``min_change_delay`` (seconds); and a line
    stating the units. Keys beyond these are kept.

    Written by ``ape run deploy`` (None in files written by ``System.write_json``):
    ``chain_id``, ``network`` (Ape's network choice), ``deployer``, ``block`` (the
    block of the first deployment transaction: event scans start there), ``txs``
    (step -> transaction hash), ``compiler`` (``{"vyper": version}``), ``git_commit``
    (with ``-dirty`` when the tree had changes), ``config_file`` and its bytes'
    sha256 ``config_sha256`` (None: the built-in defaults), ``config_hash`` (sha256
    of the resolved config, ``volmargin.chain.config.Plan.config_hash``: what
    decides whether a second run has anything to deploy), and ``read_back``: the
    parameters as read from the chain after deployment (on-chain integers).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    admin: Address
    oracle: Address
    vault: Address
    lens: Address | None = None
    assets: dict[str, AssetInfo] = Field(min_length=1)
    vault_params: dict[str, int]
    max_rel_change: int = Field(ge=0)
    min_change_delay: int = Field(ge=0)
    units: str
    chain_id: int | None = None
    network: str | None = None
    deployer: Address | None = None
    block: int | None = Field(default=None, ge=0)
    txs: dict[str, str] | None = None
    compiler: dict[str, str] | None = None
    git_commit: str | None = None
    config_file: str | None = None
    config_sha256: str | None = None
    config_hash: str | None = None
    read_back: dict[str, Any] | None = None


@dataclass
class Deployment:
    """Contract handles of a deployment loaded from its JSON.

    ``tokens``/``feeds`` map a symbol to an Ape contract instance; ``info``
    is the validated JSON (``DeploymentInfo``).
    """

    oracle: Any
    vault: Any
    tokens: dict[str, Any]
    feeds: dict[str, Any]
    info: DeploymentInfo
    #: The VaultLens beside the vault (batched reads); None in files written before it existed.
    lens: Any = None

    def symbol_of(self, asset: str) -> str:
        """Symbol of a token address or symbol (case-insensitive); ``DeploymentError`` if unknown."""
        for sym, tok in self.tokens.items():
            if asset.upper() == sym or asset.lower() == str(tok.address).lower():
                return sym
        raise DeploymentError(f"unknown asset {asset!r}; known: {', '.join(self.tokens)}")


def _field_errors(exc: ValidationError) -> str:
    """One ``field.path: message`` per error of a pydantic validation, joined by ``; ``."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in exc.errors())


def read_json(path: Path) -> DeploymentInfo:
    """The validated contents of a deployment file.

    Raises
    ------
    DeploymentError
        Naming the file: when it does not exist, is not JSON, or does not
        follow ``DeploymentInfo`` (each bad field named by its path, e.g.
        ``assets.WETH.feed``).
    """
    if not path.is_file():
        raise DeploymentError(f"{path}: no deployment file (run `ape run deploy` first)")
    try:
        return DeploymentInfo.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise DeploymentError(f"{path}: not JSON ({exc.errors()[0]['msg']})") from None
        raise DeploymentError(f"{path}: not a deployment file: {_field_errors(exc)}") from None


def load(project: Any, path: Path = LATEST) -> Deployment:
    """Attach Ape contract instances to the addresses in ``path``; ``DeploymentError`` as ``read_json``."""
    info = read_json(path)
    tokens = {s: project.MockERC20.at(a.token) for s, a in info.assets.items()}
    feeds = {s: project.MockAggregator.at(a.feed) for s, a in info.assets.items()}
    lens = project.VaultLens.at(info.lens) if info.lens else None
    return Deployment(project.RiskOracle.at(info.oracle), project.MarginVault.at(info.vault), tokens, feeds, info, lens)
