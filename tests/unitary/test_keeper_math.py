"""The keeper's liquidation planning and profitability test, held to the reference.

A market is built in ``volmargin.reference`` alone (no chain): the rows the keeper
would read (balances, health sums, prices) are taken from the reference mirror, the
keeper plans a liquidation, and ``VaultRef.liquidate`` with the same arguments must
repay and seize exactly what the plan says, for every (debt, collateral) pair; the
plan is the pair that gains most, and the profitability test adds up by hand.
"""

from __future__ import annotations

import copy
import itertools

import pytest

from volmargin import model
from volmargin import params as P
from volmargin import reference as ref
from volmargin.chain.keeper import (
    KeeperConfig, KeeperError, LiquidationPlan, is_bad_debt, new_rounds, plan_liquidation,
    profitability, record, retry,
)
from volmargin.chain.lens import AccountRow, AssetRow
from volmargin.units import to_feed_answer

T0 = 1_700_000_000
LENDER, ALICE, KEEPER = "0x" + "11" * 20, "0x" + "a1" * 20, "0x" + "cc" * 20
UMAX = 2**256 - 1


class Market:
    """The default deployment's assets in the reference, at whole-token prices."""

    def __init__(self) -> None:
        self.oracle = ref.OracleRef()
        self.vault = ref.VaultRef(oracle=self.oracle, params=list(P.VAULT))
        self.addr = {s.symbol: "0x" + f"{k + 1:040x}" for k, s in enumerate(P.TOKENS)}
        self.specs = {s.symbol: s for s in P.TOKENS}
        self.now, self.round = T0, 1
        for s in P.TOKENS:
            rnd = self._round(s.start_price_usd)
            self.oracle.list_asset(self.addr[s.symbol], P.FEED_DECIMALS, rnd, s.var_seed, list(s.oracle), self.now)
            self.vault.list_asset(self.addr[s.symbol], s.decimals, list(s.rates), self.now)
        for sym, whole in P.SEED_LIQUIDITY.items():
            self.vault.deposit(LENDER, self.addr[sym], whole * 10 ** self.specs[sym].decimals, self.now)

    def _round(self, usd: float) -> ref.FeedRound:
        self.round += 1
        return ref.FeedRound(self.round, to_feed_answer(usd, P.FEED_DECIMALS), self.now, self.round)

    def units(self, sym: str, whole: float) -> int:
        return int(whole * 10 ** self.specs[sym].decimals)

    def move(self, seconds: int = 3_600, **prices: float) -> None:
        """Advance time and poke every asset at the given (else its start) price."""
        self.now += seconds
        for s in P.TOKENS:
            self.oracle.poke(self.addr[s.symbol], self._round(prices.get(s.symbol, s.start_price_usd)), self.now)

    def rows(self, account: str) -> tuple[AccountRow, list[AssetRow], list[int]]:
        """What ``read_accounts`` / ``read_assets`` return for ``account`` now, and the decimals."""
        listed = self.vault.listed
        bals = tuple(self.vault.balance(account, a, self.now) for a in listed) + (0,) * (8 - len(listed))
        row = AccountRow(account, bals, self.vault.health(account, self.now))
        assets = [AssetRow(a, self.oracle.risk(a, self.now).price, 0, 0, 0, 0, 0, 0, 0, 0, False) for a in listed]
        return row, assets, [self.vault.decimals[a] for a in listed]

    def reference_liquidation(self, debt: str, col: str) -> tuple[int, int, int, list]:
        trial = copy.deepcopy(self.vault)
        return trial.liquidate(KEEPER, ALICE, debt, col, UMAX, 0, self.now)


def _check_against_reference(m: Market) -> LiquidationPlan:
    row, assets, dec = m.rows(ALICE)
    plan = plan_liquidation(row, assets, dec, m.vault.params)
    assert plan is not None
    gains = {}
    for i, j in itertools.permutations(range(len(assets)), 2):
        if row.balances[i] >= 0 or row.balances[j] <= 0:
            continue
        d, c = assets[i].asset, assets[j].asset
        repaid, seized, cut, _ = m.reference_liquidation(d, c)
        gains[(d, c)] = (ref.asset_value(seized, assets[j].price, dec[j])
                         - ref.liability_value(repaid, assets[i].price, dec[i]))
        if (d, c) == (plan.debt_asset, plan.collateral_asset):
            assert (plan.repay, plan.seized, plan.cut, plan.seize) == (repaid, seized, cut, seized + cut)
            assert plan.gain == gains[(d, c)]
            h = row.health
            assert plan.bonus == ref.bonus(h.maint_assets, h.maint_liabilities, *m.vault.params[3:6])
    assert (plan.debt_asset, plan.collateral_asset) in gains
    assert plan.gain == max(gains.values())
    return plan


def test_partial_liquidation_matches_reference():
    m = Market()
    m.vault.deposit(ALICE, m.addr["WETH"], m.units("WETH", 10), m.now)
    m.vault.borrow(ALICE, m.addr["USD"], m.units("USD", 15_000), m.now)
    m.move(WETH=1_760.0)
    plan = _check_against_reference(m)
    debt = -m.vault.balance(ALICE, m.addr["USD"], m.now)
    assert plan.repay == debt * P.VAULT[ref.V_CLOSE_FACTOR] // ref.WAD  # the close factor applies
    # the float model agrees with the exact plan to rounding
    h = m.rows(ALICE)[0].health
    b = model.bonus(h.maint_assets / 1e18, h.maint_liabilities / 1e18, P.VAULT.bonus_min / 1e18,
                    P.VAULT.bonus_slope / 1e18, P.VAULT.bonus_max / 1e18)
    assert float(b) == pytest.approx(plan.bonus / 1e18, rel=1e-12)
    seize = model.seize_amount(plan.repay / 1e6, 1.0, 1_760.0, plan.bonus / 1e18)
    assert float(seize) == pytest.approx(plan.seize / 1e18, rel=1e-9)


def test_full_liquidation_with_bad_debt_matches_reference():
    m = Market()
    m.vault.deposit(ALICE, m.addr["WETH"], m.units("WETH", 10), m.now)
    m.vault.borrow(ALICE, m.addr["USD"], m.units("USD", 15_000), m.now)
    m.move(WETH=1_000.0)
    plan = _check_against_reference(m)
    assert plan.seize == m.units("WETH", 10)  # all the collateral: the rest of the debt is settled atomically
    assert m.reference_liquidation(plan.debt_asset, plan.collateral_asset)[3]


@pytest.mark.parametrize("layout", ["two_collaterals", "two_debts"])
def test_best_pair_matches_reference(layout):
    m = Market()
    m.vault.deposit(ALICE, m.addr["WETH"], m.units("WETH", 10), m.now)
    if layout == "two_collaterals":
        m.vault.deposit(ALICE, m.addr["WBTC"], m.units("WBTC", 0.1), m.now)
        m.vault.borrow(ALICE, m.addr["USD"], m.units("USD", 16_000), m.now)
    else:
        m.vault.borrow(ALICE, m.addr["USD"], m.units("USD", 9_000), m.now)
        m.vault.borrow(ALICE, m.addr["WBTC"], m.units("WBTC", 0.2), m.now)
    m.move(WETH=1_500.0)
    row = m.rows(ALICE)[0]
    assert sum(b > 0 for b in row.balances) == (2 if layout == "two_collaterals" else 1)
    assert sum(b < 0 for b in row.balances) == (1 if layout == "two_collaterals" else 2)
    _check_against_reference(m)


def test_short_position_matches_reference():
    m = Market()
    m.vault.deposit(ALICE, m.addr["USD"], m.units("USD", 10_000), m.now)
    m.vault.borrow(ALICE, m.addr["WETH"], m.units("WETH", 4), m.now)
    m.move(WETH=2_450.0)
    plan = _check_against_reference(m)
    assert (plan.debt_asset, plan.collateral_asset) == (m.addr["WETH"], m.addr["USD"])


def test_healthy_account_has_no_plan_and_bad_debt_rows():
    m = Market()
    m.vault.deposit(ALICE, m.addr["WETH"], m.units("WETH", 10), m.now)
    m.vault.borrow(ALICE, m.addr["USD"], m.units("USD", 5_000), m.now)
    m.move()
    row, assets, dec = m.rows(ALICE)
    assert plan_liquidation(row, assets, dec, m.vault.params) is None
    assert not is_bad_debt(row)
    health = ref.Health(0, 10**18, 0, 10**18, False)
    assert is_bad_debt(AccountRow(ALICE, (-5, 0, 0, 0, 0, 0, 0, 0), health))
    assert not is_bad_debt(AccountRow(ALICE, (-5, 1, 0, 0, 0, 0, 0, 0), health))
    assert not is_bad_debt(AccountRow(ALICE, (0,) * 8, health))
    # with debt but no collateral there is no pair to liquidate: the keeper settles instead
    assert plan_liquidation(AccountRow(ALICE, (-5, 0, 0, 0, 0, 0, 0, 0), health), assets, dec, m.vault.params) is None


def test_liquidation_amounts_cap_seizure_at_the_collateral():
    health = ref.Health(50 * ref.WAD, 100 * ref.WAD, 0, 0, False)  # deep shortfall: full repayment, max bonus
    repay, seize, cut, bon = ref.liquidation_amounts(100 * 10**6, 10**16, ref.WAD, 6, 2_000 * ref.WAD, 18, health,
                                                 P.VAULT)
    assert bon == P.VAULT[ref.V_BONUS_MAX] and seize == 10**16  # 0.01 WETH = 20 USD of collateral
    assert repay == ref.repay_for_seize(seize, ref.WAD, 6, 2_000 * ref.WAD, 18, bon)
    assert cut == seize * bon // (ref.WAD + bon) * P.VAULT[ref.V_INSURANCE_SHARE] // ref.WAD


def test_profitability_by_hand():
    m = Market()
    m.vault.deposit(ALICE, m.addr["WETH"], m.units("WETH", 10), m.now)
    m.vault.borrow(ALICE, m.addr["USD"], m.units("USD", 15_000), m.now)
    m.move(WETH=1_760.0)
    plan = _check_against_reference(m)
    repaid, seized, _, _ = m.reference_liquidation(plan.debt_asset, plan.collateral_asset)
    gain = (seized * 1_760 * 10**18 // 10**18 - repaid * 10**12) / 1e18  # USD, exact prices 1,760 and 1
    gas, price, native = 300_000, 20 * 10**9, 2_000.0
    p = profitability(plan, gas, price, native, 0.0)
    assert p.gain_usd == pytest.approx(gain, rel=1e-15) and gain > 100  # ~7,200 USD repaid at a ~3 % bonus
    assert p.gas_usd == pytest.approx(300_000 * 20e-9 * 2_000)  # 12 USD
    assert p.ok and p.net_usd == pytest.approx(gain - 12.0)
    seized_usd = seized * 1_760 / 1e18
    edge = (gain - 12.0) / seized_usd  # the slippage at which the liquidation stops paying
    assert profitability(plan, gas, price, native, edge * 0.999).ok
    assert not profitability(plan, gas, price, native, edge * 1.001).ok
    assert profitability(plan, gas, price, native, 0.5).slippage_usd == pytest.approx(0.5 * seized_usd)
    # gas alone can make it unprofitable
    assert not profitability(plan, 10**9, price, native, 0.0).ok


def test_new_rounds_compare_feed_and_oracle_times():
    rows = [AssetRow("0xA", 1, 100, 0, 0, 0, 0, 0, 0, 0, False), AssetRow("0xB", 1, 200, 0, 0, 0, 0, 0, 0, 0, False)]
    assert new_rounds(rows, [100, 200]) == []
    assert new_rounds(rows, [101, 200]) == ["0xA"]
    assert new_rounds(rows, [150, 250]) == ["0xA", "0xB"]


def test_record_retry_and_config_errors():
    r = record("skip", 7, account="0xA", reason="why")
    assert set(r) == {"ts", "block", "action", "account", "assets", "amounts", "gas_used", "reason"}
    with pytest.raises(ValueError, match="unknown action"):
        record("explode", 1)
    calls, waits = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 4:
            raise ConnectionError("node down")
        return 42

    cfg = KeeperConfig(retries=5, backoff_s=0.5, backoff_cap_s=1.5)
    assert retry(flaky, cfg, waits.append) == 42
    assert waits == [0.5, 1.0, 1.5]  # doubling, capped
    waits.clear()
    with pytest.raises(ConnectionError):
        retry(lambda: (_ for _ in ()).throw(ConnectionError("down")), KeeperConfig(retries=2), waits.append)
    assert len(waits) == 2
    for bad in ({"slippage": -0.1}, {"batch": 0}, {"batch": 257}, {"native_usd": 0.0}, {"gas_price_wei": -1}):
        with pytest.raises(KeeperError):
            KeeperConfig(**bad)


def test_test_accounts_only_on_development_chains(chain):
    from volmargin.chain.keeper import keeper_account
    from volmargin.chain.node import is_dev_chain

    # `ape run keeper` decides with is_dev_chain: ethereum:local:* and anvil nodes (ethereum:anvil,
    # driven in tests/integration/test_walkthrough.py), never a remote node
    assert is_dev_chain(chain.provider)
    assert str(keeper_account(None, local=True).address) == str(keeper_account("TEST::2", local=True).address)
    for alias in (None, "TEST::2", "test::0"):
        with pytest.raises(KeeperError, match=r"development chains only \(ethereum:local:\*, an anvil node"):
            keeper_account(alias, local=False)
    with pytest.raises(KeeperError, match="no test account"):
        keeper_account("TEST::x", local=True)
    with pytest.raises(KeeperError, match="no account alias 'nobody-here'"):
        keeper_account("nobody-here", local=True)
