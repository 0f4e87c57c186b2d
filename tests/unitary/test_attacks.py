"""Economic attacks (issue #6 item 4): each scenario computes the attacker's
profit and shows it is <= 0, or that the attack is refused by name.

- First-depositor / donation inflation: the vault never reads its token
  balance for accounting, so a donation moves no index.
- Dust: a liquidation never leaves a debt worth less than min_debt_value.
- Self-liquidation: refused by name; liquidating one's own account from a
  second address moves the bonus from one pocket to the other and pays the
  insurance cut: the two pockets together lose exactly that cut.
- Bad-debt front-running: the liquidation that exhausts the collateral
  settles the bad debt in the same transaction.
- Rounding extraction: many tiny deposits / withdrawals / borrows /
  repayments never leave the user with more than they started with.
"""

from __future__ import annotations

import ape
import pytest

from volmargin import params as P
from volmargin.units import to_feed_answer
from market import refresh as move

E6, E18 = 10**6, 10**18
WAD = 10**18
UMAX = 2**256 - 1
HOUR = 3_600
MIN_DEBT_VALUE = P.VAULT.min_debt_value  # WAD USD




def test_donation_does_not_inflate_a_fresh_market(project, system, admin, alice, bob):
    """The classic first-depositor attack on a freshly listed market: the
    attacker deposits 1 wei, then donates 1,000,000 tokens straight to the
    vault, hoping the victim's deposit rounds down to nothing. The indices and
    totals do not move (the vault does not read its balance), the victim is
    credited every wei and withdraws it all, and the attacker's profit is
    minus the donation."""
    v = system.vault
    tok = project.MockERC20.deploy("Fresh", "FRS", 18, sender=admin)
    feed = project.MockAggregator.deploy(8, "FRS / USD", to_feed_answer(1.0), 0, sender=admin)
    system.oracle.list_asset(tok, feed, P.TOKENS[1].var_seed, list(P.TOKENS[1].oracle), sender=admin)
    tok.mint(admin, E18, sender=admin)
    tok.approve(v, E18, sender=admin)
    v.list_asset(tok, list(P.TOKENS[1].rates), sender=admin)
    for who in (alice, bob):
        tok.mint(who, 2_000_000 * E18, sender=admin)
        tok.approve(v, UMAX, sender=who)
    start = tok.balanceOf(alice)
    v.deposit(tok, 1, sender=alice)
    market = tuple(v.market(tok))
    tok.transfer(v, 1_000_000 * E18, sender=alice)  # the donation
    assert tuple(v.market(tok)) == market == (WAD, WAD, 1, 0, 0)
    v.deposit(tok, 1_000 * E18 + 7, sender=bob)
    assert v.balance_of(bob, tok) == 1_000 * E18 + 7
    v.withdraw(tok, 1_000 * E18 + 7, sender=bob)
    assert tok.balanceOf(bob) == 2_000_000 * E18
    v.withdraw(tok, 1, sender=alice)
    profit = tok.balanceOf(alice) - start
    assert profit == -1_000_000 * E18


@pytest.fixture
def debtor(system, chain, alice):
    """alice: 1 WETH, owes 1,400 USD; WETH then falls 4 % an hour (no jump) to
    1,700 USD: health factor just under 1 (partial liquidations apply)."""
    v = system.vault
    v.deposit(system.tokens["WETH"], E18, sender=alice)
    v.borrow(system.tokens["USD"], 1_400 * E6, sender=alice)
    for p in (1_920.0, 1_843.0, 1_770.0, 1_700.0):
        move(system, chain, WETH=p)
    h = v.health(alice)
    assert h.maint_assets < h.maint_liabilities
    return alice


def debt_value(v, who, usd) -> int:
    return -v.balance_of(who, usd) * WAD // E6  # USD at 1.00


def test_close_factor_liquidation_leaves_no_dust(system, debtor, liquidator):
    """A liquidation at the largest repayment allowed leaves either no debt or
    at least min_debt_value (100 USD) of it."""
    v, usd, weth = system.vault, system.tokens["USD"], system.tokens["WETH"]
    v.liquidate(debtor, usd, weth, UMAX, 0, sender=liquidator)
    left = debt_value(v, debtor, usd)
    assert left == 0 or left >= MIN_DEBT_VALUE


def test_liquidator_chosen_repay_cannot_leave_dust(system, chain, bob, liquidator):
    """The liquidator picks max_repay. bob (0.1 WETH, owes 140 USD) falls under
    hf_full when WETH goes to 1,500 USD, so the whole debt may be repaid;
    repaying all but 1 wei must not leave a 1-wei debt behind: the liquidation
    either refuses by name or leaves no debt / at least min_debt_value."""
    v, usd, weth = system.vault, system.tokens["USD"], system.tokens["WETH"]
    v.deposit(weth, E18 // 10, sender=bob)
    v.borrow(usd, 140 * E6, sender=bob)
    for p in (1_850.0, 1_710.0, 1_580.0, 1_500.0):
        move(system, chain, WETH=p)
    assert v.health_factor(bob) < P.VAULT.hf_full  # below hf_full: liquidatable in full
    debt = -v.balance_of(bob, usd)
    try:
        v.liquidate(bob, usd, weth, debt - 1, 0, sender=liquidator)
    except ape.exceptions.ContractLogicError as e:
        assert str(e).startswith("vault:") and "healthy" not in str(e), e  # a named refusal is acceptable
        return
    left = debt_value(v, bob, usd)
    assert left == 0 or left >= MIN_DEBT_VALUE, f"dust left behind: {-v.balance_of(bob, usd)} wei of USD"


def test_self_liquidation_refused_and_second_address_gains_nothing(system, chain, debtor, bob):
    """alice cannot liquidate herself (named). Liquidating her from bob, an
    address she also controls, moves the bonus from one pocket to the other:
    alice's WETH position falls by `seized + cut`, bob receives `seized`; USD
    is a wash (bob pays what alice's debt falls by, less the second of
    interest). Together the two pockets lose exactly the insurance cut."""
    v, usd, weth = system.vault, system.tokens["USD"], system.tokens["WETH"]
    with ape.reverts("vault: self-liquidation"):
        v.liquidate(debtor, usd, weth, UMAX, 0, sender=debtor)

    def pockets(tok):
        return v.balance_of(debtor, tok) + tok.balanceOf(debtor) + tok.balanceOf(bob)

    usd0, weth0 = pockets(usd), pockets(weth)
    r = v.liquidate(debtor, usd, weth, UMAX, 0, sender=bob)
    (ev,) = r.events.filter(v.Liquidation)
    assert ev.insurance_cut > 0 and ev.bonus > 0
    assert pockets(weth) - weth0 == -ev.insurance_cut  # WETH earns no interest here: exact
    assert -E6 // 100 <= pockets(usd) - usd0 <= 0  # at most a second of interest on the debt
    price = system.oracle.risk(weth).price
    profit_usd_wad = (pockets(weth) - weth0) * price // E18 + (pockets(usd) - usd0) * WAD // E6
    assert profit_usd_wad < 0


def test_bad_debt_settled_in_the_liquidation_transaction(system, chain, alice, liquidator, lender):
    """WETH halves in an hour under alice (1 WETH, 1,500 USD debt): the
    liquidation that takes her last WETH also writes off the rest of her debt
    in the same transaction (insurance first, then the USD deposit index), so
    no depositor can withdraw at the old index between the two; after it,
    alice owes nothing and the lender's loss is the socialized amount."""
    v, usd, weth = system.vault, system.tokens["USD"], system.tokens["WETH"]
    v.deposit(weth, E18, sender=alice)
    v.borrow(usd, 1_500 * E6, sender=alice)
    move(system, chain, WETH=1_000.0)  # a jump: REDUCE_ONLY, liquidations still allowed (tripped cap)
    lender0 = v.balance_of(lender, usd)
    index0 = v.market(usd)[0]
    r = v.liquidate(alice, usd, weth, UMAX, 0, sender=liquidator)
    names = [e.event_name for e in r.events if e.contract_address == v.address]
    assert "Liquidation" in names and "BadDebtSettled" in names
    (bd,) = r.events.filter(v.BadDebtSettled)
    assert bd.socialized > 0 and bd.debt == bd.covered_by_insurance + bd.socialized
    assert v.balance_of(alice, usd) == 0 and v.balance_of(alice, weth) == 0 and v.position_mask(alice) == 0
    assert v.market(usd)[0] < index0
    loss = lender0 - v.balance_of(lender, usd)
    assert 0 < loss <= bd.socialized  # the lender bears (his share of) the socialized part
    with ape.reverts("vault: not bad debt"):
        v.settle_bad_debt(alice, sender=liquidator)  # nothing left to settle later


def test_many_tiny_operations_extract_nothing(system, chain, alice, bob, lender):
    """After a year of interest the USD indices are far from 1.0. bob (WETH
    collateral, which earns nothing here) then makes 12 rounds of 1-3 wei
    deposits, full withdrawals, 1-2 wei borrows and max repayments of USD:
    after every operation his USD wallet plus his USD position in the vault
    is never above where it started (rounding favours the vault)."""
    v, usd, weth = system.vault, system.tokens["USD"], system.tokens["WETH"]
    v.deposit(weth, 10 * E18, sender=alice)
    v.borrow(usd, 10_000 * E6, sender=alice)
    v.deposit(weth, E18, sender=bob)
    move(system, chain, 365 * 86_400)
    di, bi = v.market(usd)[:2]
    assert di > WAD and bi > WAD and di % 10**12 and bi % 10**12  # indices with odd digits

    def total():
        return usd.balanceOf(bob) + v.balance_of(bob, usd)

    start = worst = total()
    for i in range(12):
        v.deposit(usd, 1 + i % 3, sender=bob)
        worst = max(worst, total())
        b = v.balance_of(bob, usd)
        if b > 0:
            v.withdraw(usd, b, sender=bob)
            worst = max(worst, total())
        v.borrow(usd, 1 + i % 2, sender=bob)
        worst = max(worst, total())
        v.repay(usd, UMAX, sender=bob)
        worst = max(worst, total())
    assert worst <= start
    assert total() < start  # the vault kept the rounding
