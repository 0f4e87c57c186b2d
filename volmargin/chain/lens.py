"""Decoding of the batched read views of the ``VaultLens`` (``snapshot``, ``accounts_view``).

Ape's struct decoding is the slow part of a large batched read, so the raw
return data is decoded with eth-abi into plain dataclasses. Units: WAD for
prices, haircuts and sigmas, WAD per second for variances, WAD USD for health
sums, token decimals for balances, Unix seconds for times (docs/design.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address

from .. import reference as ref
from .manifest import DeploymentError

_HEALTH = "(uint256,uint256,uint256,uint256,bool)"
_ACCOUNTS_VIEW = ["uint256", f"(address,int256[8],{_HEALTH})[]"]
_SNAPSHOT = ["uint256", "(address,uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint8,bool)[]"]


@dataclass(frozen=True)
class AccountRow:
    """One account from ``VaultLens.accounts_view``.

    ``balances``: signed token amounts (token decimals) in the vault's
    ``listed`` order; ``health``: weighted sums, WAD USD.
    """

    account: str
    balances: tuple[int, ...]
    health: ref.Health


@dataclass(frozen=True)
class AssetRow:
    """One asset from ``VaultLens.snapshot`` (WAD; variances WAD/s; seconds)."""

    asset: str
    price: int
    updated_at: int
    var_fast: int
    var_slow: int
    sigma_annual: int
    h_maint: int
    h_target: int
    h_init: int
    breaker: int
    invalid: bool


def read_accounts(lens: Any, accounts: list[str]) -> tuple[int, list[AccountRow]]:
    """``lens.accounts_view`` (a ``VaultLens``) decoded with eth-abi (Ape's struct decoding
    is the slow part of a large batched read). Returns (block time, rows)."""
    raw = lens.accounts_view(accounts, decode=False)
    ts, rows = abi_decode(_ACCOUNTS_VIEW, bytes(raw))
    return int(ts), [AccountRow(to_checksum_address(a), tuple(b), ref.Health(*h)) for a, b, h in rows]


def require_lens(lens: Any) -> Any:
    """``lens`` itself; raises ``DeploymentError`` when it is None (a deployment file written
    before the lens existed)."""
    if lens is None:
        raise DeploymentError("the deployment file names no VaultLens (written before the lens existed): "
                              "redeploy with `ape run deploy`")
    return lens


def read_assets(lens: Any, assets: list[str]) -> tuple[int, list[AssetRow]]:
    """``lens.snapshot`` (a ``VaultLens``: the oracle's risk state of each asset) decoded
    with eth-abi. Returns (block time, rows).

    Raises ``DeploymentError`` when ``lens`` is None (``require_lens``)."""
    raw = require_lens(lens).snapshot(assets, decode=False)
    ts, rows = abi_decode(_SNAPSHOT, bytes(raw))
    return int(ts), [AssetRow(to_checksum_address(r[0]), *r[1:]) for r in rows]
