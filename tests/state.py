"""State snapshots for "a rejected call leaves everything exactly as it was".

``storage_roots`` is the exact check: the storage root of every given
contract (vault, oracle, every token, every feed). A storage root is the
hash of *all* of a contract's storage, so equal roots mean that no account
balance, position mask, market (indices, totals, insurance, last accrual),
parameter, pause mask, liquidation window, oracle asset state, breaker,
steward timestamp, role or token holding moved, including entries no test
thought of reading. One call per contract, so it is cheap enough to take
around every case of a large table. On the embedded py-evm chain it reads
the account trie directly; on a node (anvil) it asks ``eth_getProof``.

``ledger`` is the readable counterpart for scenario tests: the figures a
user cares about (balances with interest, market totals, token holdings),
decoded.
"""

from __future__ import annotations

from typing import Any, Iterable

from eth_utils import to_canonical_address


def storage_roots(chain: Any, contracts: Iterable[Any]) -> dict[str, bytes]:
    """Storage root of each contract (by address) at the head block."""
    provider = chain.provider
    backend = getattr(provider, "evm_backend", None)
    out: dict[str, bytes] = {}
    if backend is not None:  # ape's embedded py-evm chain
        account_db = backend.chain.get_vm().state._account_db
        for c in contracts:
            out[str(c.address)] = bytes(account_db._get_storage_root(to_canonical_address(str(c.address))))
        return out
    for c in contracts:  # a node: EIP-1186 proof of the account
        proof = provider.make_request("eth_getProof", [str(c.address), [], "latest"])
        out[str(c.address)] = bytes.fromhex(str(proof["storageHash"])[2:])
    return out


def changed(before: dict[str, bytes], after: dict[str, bytes], names: dict[str, str] | None = None) -> list[str]:
    """Names (or addresses) of the contracts whose storage differs."""
    names = names or {}
    return [names.get(a, a) for a in before if before[a] != after.get(a)]


def ledger(vault: Any, tokens: dict[str, Any], accounts: Iterable[Any]) -> dict[str, Any]:
    """Readable state: every account's signed balance (with interest to now)
    and token holdings per asset, each market's (deposit index, borrow
    index, deposits, borrows, insurance), the vault's holdings, the pause mask."""
    accounts = list(accounts)
    return {
        "balances": {(str(a.address), s): int(vault.balance_of(a, t)) for a in accounts for s, t in tokens.items()},
        "holdings": {(str(a.address), s): int(t.balanceOf(a)) for a in accounts for s, t in tokens.items()},
        "markets": {s: tuple(vault.market(t)) for s, t in tokens.items()},
        "vault_holdings": {s: int(t.balanceOf(vault)) for s, t in tokens.items()},
        "paused": int(vault.paused()),
    }
