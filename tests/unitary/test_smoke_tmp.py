import ape
def test_smoke(system, vault, usd, weth, alice, chain):
    vault.deposit(weth, 10**18, sender=alice)
    vault.borrow(usd, 100 * 10**6, sender=alice)
    assert vault.balance_of(alice, usd) == -100 * 10**6
    with ape.reverts("vault: insufficient health"):
        vault.borrow(usd, 10**6 * 10**6, sender=alice)
