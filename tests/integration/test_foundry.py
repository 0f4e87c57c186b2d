"""End-to-end lifecycle held to the reference; runs on the embedded chain and,
in `make test`, on anvil (ethereum:local:foundry) too.

alice borrows against WETH, the price falls, the oracle's haircuts widen, the
liquidator takes part of her debt, the price collapses and a second
liquidation exhausts her collateral and settles the bad debt atomically.
Every balance and health sum is compared with volmargin.reference.
"""

from __future__ import annotations

import ape

from volmargin import reference as ref
from volmargin.chain.lens import read_accounts, read_assets


def _sync_check(system, accounts_):
    ts, rows = read_accounts(system.lens, [str(a) for a in accounts_])
    for row in rows:
        want = system.vault_ref.health(row.account, ts)
        assert row.health == want
        for k, sym in enumerate(system.symbols):
            assert row.balances[k] == system.vault_ref.balance(row.account, system.address(sym), ts)
    ts, assets = read_assets(system.lens, [system.address(s) for s in system.symbols])
    for a in assets:
        st = system.oracle_ref.assets[a.asset]
        assert (a.price, a.var_fast, a.var_slow, a.breaker) == (st.price, st.var_fast, st.var_slow, st.breaker)
        assert a.h_maint == system.oracle_ref.h_maint_now(a.asset, ts)
    return rows


def test_lifecycle_matches_reference(system, vault, weth, usd, alice, liquidator, chain):
    vref = system.vault_ref
    a = str(alice.address)
    r = vault.deposit(weth, 10 * 10**18, sender=alice)
    vref.deposit(a, str(weth.address), 10 * 10**18, r.timestamp)
    r = vault.borrow(usd, 15_000 * 10**6, sender=alice)
    vref.borrow(a, str(usd.address), 15_000 * 10**6, r.timestamp)
    _sync_check(system, [alice])

    # an hour later, WETH -12 %: haircuts widen, alice becomes liquidatable
    chain.pending_timestamp += 3600
    for sym, price in (("WETH", 1760.0), ("WBTC", 30_000.0), ("USD", 1.0)):
        system.push_price(sym, price)
    system.poke()
    (row,) = _sync_check(system, [alice])
    assert row.health.maint_assets < row.health.maint_liabilities

    usd_before = usd.balanceOf(liquidator)
    weth_before = weth.balanceOf(liquidator)
    r = vault.liquidate(alice, usd, weth, 2**256 - 1, 0, sender=liquidator)
    repaid, seized, cut, settled = vref.liquidate(
        str(liquidator.address), a, str(usd.address), str(weth.address), 2**256 - 1, 0, r.timestamp
    )
    assert settled == []
    assert usd_before - usd.balanceOf(liquidator) == repaid
    assert weth.balanceOf(liquidator) - weth_before == seized
    assert cut > 0
    _sync_check(system, [alice])

    # WETH collapses to 100 USD: the next liquidation exhausts the collateral and settles
    chain.pending_timestamp += 3600
    for sym, price in (("WETH", 100.0), ("WBTC", 30_000.0), ("USD", 1.0)):
        system.push_price(sym, price)
    system.poke()
    r = vault.liquidate(alice, usd, weth, 2**256 - 1, 0, sender=liquidator)
    repaid, seized, cut, settled = vref.liquidate(
        str(liquidator.address), a, str(usd.address), str(weth.address), 2**256 - 1, 0, r.timestamp
    )
    assert [s[0] for s in settled] == [str(usd.address)]
    events = [e for e in r.events if e.event_name == "BadDebtSettled"]
    assert len(events) == 1 and int(events[0].debt) == settled[0][1]
    assert vault.position_mask(alice) == 0
    (row,) = _sync_check(system, [alice])
    assert row.balances == (0,) * 8
    assert system.oracle_ref.assets[str(weth.address)].breaker == ref.REDUCE_ONLY  # -94 % is a jump


def test_bad_input_loses_nothing(system, vault, weth, usd, alice, chain):
    """A reverted borrow leaves the account, the market and the tokens as they were."""
    vault.deposit(weth, 10**18, sender=alice)
    before = (vault.balance_of(alice, usd), vault.balance_of(alice, weth), vault.market(usd), usd.balanceOf(alice))
    with ape.reverts("vault: insufficient health"):
        vault.borrow(usd, 5_000 * 10**6, sender=alice)
    with ape.reverts("vault: zero amount"):
        vault.borrow(usd, 0, sender=alice)
    with ape.reverts("vault: asset not listed"):
        vault.deposit(alice, 1, sender=alice)
    after = (vault.balance_of(alice, usd), vault.balance_of(alice, weth), vault.market(usd), usd.balanceOf(alice))
    assert after == before
