"""Hostile tokens (issue #6 item 2), with contracts/mocks/HostileERC20.vy.

Each behaviour is either handled correctly or refused at listing with a named
error: fee-on-transfer and returns-false tokens are refused by the listing
probe (MarginVault.list_asset pulls one whole token and checks the vault's
balance rose by exactly that); no-return-value tokens and 0 / 24 decimals
work exactly; 25 decimals are refused; rebasing is shown as it is (internal
balances: a positive rebase stays in the vault, a negative one falls on the
last withdrawers; README "Hardening" says such tokens must be listed in their
wrapped, non-rebasing form); a transfer hook that re-enters deposit,
withdraw, borrow, repay, liquidate or settle_bad_debt meets Vyper's
nonreentrant lock (a bare revert), where the same call outside a transfer
gets a named answer, and nothing moves.
"""

from __future__ import annotations

import ape
import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from state import storage_roots
from volmargin import params as P
from volmargin.units import to_feed_answer

E6, E18 = 10**6, 10**18
UMAX = 2**256 - 1
WAD = 10**18
FEE, NO_RETURN, RETURN_FALSE = 1, 2, 3
PRICE = 10.0  # USD per whole hostile token


def deploy_hostile(project, system, admin, decimals=18, mode=0, fee_bps=0, oracle_only=False):
    """A HostileERC20 (in ``mode``) with a fresh 8-decimal feed at 10 USD, listed
    on the oracle; then, unless ``oracle_only``, on the vault (the admin holds
    and approves the listing probe)."""
    tok = project.HostileERC20.deploy("Hostile", "HST", decimals, sender=admin)
    feed = project.MockAggregator.deploy(8, "HST / USD", to_feed_answer(PRICE), 0, sender=admin)
    spec = P.TOKENS[1]
    system.oracle.list_asset(tok, feed, spec.var_seed, list(spec.oracle), sender=admin)
    tok.mint(admin, 10**decimals, sender=admin)
    tok.approve(system.vault, 10**decimals, sender=admin)
    if mode:
        tok.set_mode(mode, fee_bps, sender=admin)
    if not oracle_only:
        system.vault.list_asset(tok, list(spec.rates), sender=admin)
    return tok


def fund(tok, admin, vault, *who, amount):
    for a in who:
        tok.mint(a, amount, sender=admin)
        tok.approve(vault, UMAX, sender=a)


def reason_of(data: bytes) -> str:
    """The Error(string) reason of revert data ('' for a bare revert)."""
    data = bytes(data)
    if data[:4] == bytes.fromhex("08c379a0"):
        return abi_decode(["string"], data[4:])[0]
    return ""


# ------------------------------------------------------------------ listing probe


@pytest.mark.parametrize("mode,fee_bps,reason", [
    (FEE, 1, "vault: fee-on-transfer token"),
    (FEE, 100, "vault: fee-on-transfer token"),
    (RETURN_FALSE, 0, "vault: transfer failed"),
], ids=["fee-1bp", "fee-1pct", "returns-false"])
def test_refused_at_listing_with_a_named_error(project, system, admin, chain, mode, fee_bps, reason):
    """A fee-on-transfer token (even 0.01 %) and a token whose transfers return
    false are refused by the listing probe with a named error; nothing moves
    (vault, oracle, token storage) and the admin keeps the probe."""
    tok = deploy_hostile(project, system, admin, mode=mode, fee_bps=fee_bps, oracle_only=True)
    before = storage_roots(chain, [system.vault, system.oracle, tok])
    with ape.reverts(reason):
        system.vault.list_asset(tok, list(P.TOKENS[1].rates), sender=admin)
    assert storage_roots(chain, [system.vault, system.oracle, tok]) == before
    assert tok.balanceOf(admin) == E18 and system.vault.asset_slot(tok) == 0


def test_listing_probe_is_returned(project, system, admin):
    """A well-behaved token is listed and the probe (one whole token) goes back
    to the admin: the vault keeps nothing that is not accounted."""
    tok = deploy_hostile(project, system, admin, decimals=6)
    assert tok.balanceOf(admin) == E6 and tok.balanceOf(system.vault) == 0
    assert system.vault.asset_slot(tok) == 4


@pytest.mark.parametrize("decimals", [0, 24])
def test_extreme_decimals_work_exactly(project, system, admin, alice, lender, decimals):
    """0 and 24 decimals: listing (probe of 1 unit / 1e24 units), deposit,
    valuation (amount * price / 10**decimals, docs/design.md §1) and the full round
    trip are exact."""
    vault, oracle = system.vault, system.oracle
    tok = deploy_hostile(project, system, admin, decimals=decimals)
    one = 10**decimals
    fund(tok, admin, vault, alice, amount=1_000 * one)
    vault.deposit(tok, 1_000 * one, sender=alice)
    r = oracle.risk(tok)
    value = 1_000 * one * r.price // one
    assert value == 10_000 * WAD  # 1,000 tokens at 10 USD
    h = vault.health(alice)
    assert h.maint_assets == value * (WAD - r.h_maint) // WAD
    vault.borrow(system.tokens["USD"], 1_000 * E6, sender=alice)
    system.tokens["USD"].approve(vault, UMAX, sender=alice)
    vault.repay(system.tokens["USD"], UMAX, sender=alice)
    vault.withdraw(tok, 1_000 * one, sender=alice)
    assert tok.balanceOf(alice) == 1_000 * one and vault.balance_of(alice, tok) == 0
    assert tok.balanceOf(vault) == 0


def test_25_decimals_refused(project, system, admin, chain):
    """More than 24 decimals is refused at listing, named."""
    tok = deploy_hostile(project, system, admin, decimals=25, oracle_only=True)
    with ape.reverts("vault: decimals > 24"):
        system.vault.list_asset(tok, list(P.TOKENS[1].rates), sender=admin)


def test_no_return_value_token_works(project, system, admin, alice, bob):
    """A token whose transfer/transferFrom return no data (USDT style) is
    listed and every action moves exactly the amounts asked."""
    vault = system.vault
    tok = deploy_hostile(project, system, admin, mode=NO_RETURN)
    fund(tok, admin, vault, alice, bob, amount=1_000 * E18)
    vault.deposit(tok, 600 * E18, sender=alice)
    vault.deposit(system.tokens["USD"], 100_000 * E6, sender=bob)
    vault.borrow(tok, 50 * E18, sender=bob)
    vault.repay(tok, 20 * E18, sender=bob)
    vault.withdraw(tok, 100 * E18, sender=alice)
    assert tok.balanceOf(alice) == 500 * E18 and tok.balanceOf(bob) == 1_030 * E18
    assert tok.balanceOf(vault) == 470 * E18  # 600 - 50 + 20 - 100
    # plus the seconds of interest: depositors earn at most what the borrower pays
    earned, paid = vault.balance_of(alice, tok) - 500 * E18, -vault.balance_of(bob, tok) - 30 * E18
    assert 0 <= earned <= paid < E18 // 1_000


def test_returns_false_after_listing_is_refused_per_action(project, system, admin, alice, chain):
    """A token that starts returning false after listing: deposit and withdraw
    revert "vault: transfer failed" and nothing moves."""
    vault = system.vault
    tok = deploy_hostile(project, system, admin)
    fund(tok, admin, vault, alice, amount=100 * E18)
    vault.deposit(tok, 50 * E18, sender=alice)
    tok.set_mode(RETURN_FALSE, 0, sender=admin)
    for call in (lambda: vault.deposit(tok, E18, sender=alice), lambda: vault.withdraw(tok, E18, sender=alice)):
        before = storage_roots(chain, [vault, system.oracle, tok])
        with ape.reverts("vault: transfer failed"):
            call()
        assert storage_roots(chain, [vault, system.oracle, tok]) == before


def test_fee_switched_on_after_listing_is_not_detected(project, system, admin, alice):
    """What a dormant fee switch does (the probe only runs at listing): the vault
    credits the 100 tokens asked while 99 arrive, so its holdings fall short of
    what it owes by exactly the fee. A known limitation (README "Hardening"):
    the vault does not measure what arrives on deposit or repay."""
    vault = system.vault
    tok = deploy_hostile(project, system, admin)
    fund(tok, admin, vault, alice, amount=100 * E18)
    tok.set_mode(FEE, 100, sender=admin)
    vault.deposit(tok, 100 * E18, sender=alice)
    assert vault.balance_of(alice, tok) == 100 * E18
    assert tok.balanceOf(vault) == 99 * E18  # shortfall: 1 token, the 1 % fee


# ------------------------------------------------------------------ rebasing


def test_positive_rebase_surplus_stays_in_the_vault(project, system, admin, alice, bob):
    """Balances are internal (Aave style): after a +100 % rebase the vault holds
    twice what it owes; every depositor still withdraws exactly what was
    credited and the surplus stays in the vault. Nobody loses; nobody earns it."""
    vault = system.vault
    tok = deploy_hostile(project, system, admin)
    fund(tok, admin, vault, alice, bob, amount=100 * E18)
    vault.deposit(tok, 100 * E18, sender=alice)
    vault.deposit(tok, 40 * E18, sender=bob)
    tok.rebase(2 * WAD, sender=admin)
    assert tok.balanceOf(vault) == 280 * E18
    assert vault.balance_of(alice, tok) == 100 * E18  # the vault's accounting did not move
    vault.withdraw(tok, 100 * E18, sender=alice)
    vault.withdraw(tok, 40 * E18, sender=bob)
    assert tok.balanceOf(alice) == 100 * E18 and tok.balanceOf(bob) == 160 * E18  # bob's wallet rebased too
    assert tok.balanceOf(vault) == 140 * E18  # the surplus: deposited 140, rebased to 280, paid out 140


def test_negative_rebase_falls_on_the_last_withdrawers(project, system, admin, alice, bob, chain):
    """What a -50 % rebase does, exactly (the vault cannot detect it at
    listing: README says such tokens must be listed wrapped, e.g. wstETH): the
    vault still owes 200 but holds 100; the first withdrawer gets the full
    100, the last one's withdrawal fails in the token, and what was lost is
    exactly the rebase."""
    vault = system.vault
    tok = deploy_hostile(project, system, admin)
    fund(tok, admin, vault, alice, bob, amount=100 * E18)
    vault.deposit(tok, 100 * E18, sender=alice)
    vault.deposit(tok, 100 * E18, sender=bob)
    tok.rebase(WAD // 2, sender=admin)
    assert tok.balanceOf(vault) == 100 * E18
    assert vault.balance_of(alice, tok) == vault.balance_of(bob, tok) == 100 * E18
    vault.withdraw(tok, 100 * E18, sender=alice)
    assert tok.balanceOf(alice) == 100 * E18 and tok.balanceOf(vault) == 0
    with ape.reverts("hostile: insufficient balance"):
        vault.withdraw(tok, E18, sender=bob)
    assert vault.balance_of(bob, tok) == 100 * E18  # a claim the vault cannot pay


# ------------------------------------------------------------------ reentrancy


def call_data(sig: str, types: list[str], args: list) -> bytes:
    return keccak(text=sig)[:4] + abi_encode(types, args)


@pytest.fixture
def reentry(project, system, admin, alice, bob, lender):
    """A listed, borrowable hostile token with liquidity; alice has deposited
    it, bob owes some of it against USD."""
    vault, usd = system.vault, system.tokens["USD"]
    tok = deploy_hostile(project, system, admin)
    fund(tok, admin, vault, alice, bob, lender, amount=10_000 * E18)
    vault.deposit(tok, 5_000 * E18, sender=lender)
    vault.deposit(tok, 100 * E18, sender=alice)
    vault.deposit(usd, 100_000 * E6, sender=bob)
    vault.borrow(tok, 100 * E18, sender=bob)
    return tok


def payloads(system, tok, alice, bob):
    """Re-entering calls (made by the token contract) for every guarded action."""
    usd = str(system.tokens["USD"].address)
    t, a, b = str(tok.address), str(alice.address), str(bob.address)
    return {
        "deposit": call_data("deposit(address,uint256,address)", ["address", "uint256", "address"], [t, 1, t]),
        "withdraw": call_data("withdraw(address,uint256)", ["address", "uint256"], [t, 1]),
        "borrow": call_data("borrow(address,uint256)", ["address", "uint256"], [usd, 1]),
        "repay": call_data("repay(address,uint256,address)", ["address", "uint256", "address"], [t, 1, b]),
        "liquidate": call_data("liquidate(address,address,address,uint256,uint256)",
                               ["address", "address", "address", "uint256", "uint256"], [a, usd, t, 1, 0]),
        "settle_bad_debt": call_data("settle_bad_debt(address)", ["address"], [a]),
    }


OUTER = {
    "deposit": lambda v, tok, alice, bob: v.deposit(tok, E18, sender=alice),  # transferFrom
    "withdraw": lambda v, tok, alice, bob: v.withdraw(tok, E18, sender=alice),  # transfer
    "borrow": lambda v, tok, alice, bob: v.borrow(tok, E18, sender=bob),  # transfer
    "repay": lambda v, tok, alice, bob: v.repay(tok, E18, sender=bob),  # transferFrom
}


@pytest.mark.parametrize("outer", list(OUTER))
def test_reentrant_hook_reverts_the_transaction(system, admin, alice, bob, chain, reentry, outer):
    """A hook that re-enters any guarded action during the vault's token
    transfer (and bubbles the failure up) reverts the whole transaction:
    vault, oracle and token storage are exactly as before. Six re-entered
    actions per outer action."""
    vault, tok = system.vault, reentry
    for name, data in payloads(system, tok, alice, bob).items():
        tok.arm_hook(vault, data, True, sender=admin)
        before = storage_roots(chain, [vault, system.oracle, tok, *system.tokens.values()])
        with ape.reverts():
            OUTER[outer](vault, tok, alice, bob)
        after = storage_roots(chain, [vault, system.oracle, tok, *system.tokens.values()])
        assert after == before, f"{outer} re-entering {name}"


def test_reentry_meets_the_lock_and_only_the_lock(system, admin, alice, bob, chain, reentry):
    """Without bubbling, the outer deposit completes with exactly its own
    effect, and the re-entered call failed with a bare revert (Vyper's
    nonreentrant lock); fired outside a transfer, the same call gets a named
    answer (it reached the vault's logic). So it is the lock, and nothing
    else, that stops each re-entry."""
    vault, tok = system.vault, reentry
    for name, data in payloads(system, tok, alice, bob).items():
        tok.arm_hook(vault, data, False, sender=admin)
        tok.fire_hook(sender=admin)  # control: outside a transfer
        assert not tok.reentry_ok()
        outside = reason_of(tok.reentry_result())
        assert outside.startswith(("vault:", "hostile:", "erc20:")), (name, outside)
        count, held = tok.reentry_count(), tok.balanceOf(vault)
        receipt = vault.deposit(tok, E18, sender=alice)
        assert tok.reentry_count() == count + 1
        assert not tok.reentry_ok() and bytes(tok.reentry_result()) == b"", name
        # the outer action, once: one Deposit, exactly one token in (Accrued: interest to the block)
        logged = [e.event_name for e in receipt.events if e.contract_address == vault.address]
        assert [x for x in logged if x != "Accrued"] == ["Deposit"], (name, logged)
        assert tok.balanceOf(vault) == held + E18
