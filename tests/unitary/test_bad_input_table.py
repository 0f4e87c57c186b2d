"""Bad-input table (issue #6 item 1): every external state-changing function
of MarginVault, RiskOracle and MockAggregator x {zero amount, 1 wei, max
uint256, unlisted asset, wrong account, paused action, stale price,
non-positive price, insufficient health, insufficient liquidity, caller
without role}.

The table is keyed by the functions of the contracts' ABIs: a test fails
when a function has no entry (or an entry misses a category), so a new
function cannot be left out silently. Each cell is one of

- ``Rejects(reason, ...)``: the call reverts with exactly that reason, and
  the storage root of every contract (vault, oracle, all tokens and feeds;
  see tests/state.py) is unchanged: no balance, index, total, insurance
  fund, breaker state, pause mask, role or token holding moved;
- ``Accepts(...)``: the input is valid by design (a 1 wei deposit, a repay of
  max uint256 meaning "all", a deposit under a pause or a stale price) and
  the case asserts its exact effect;
- ``NA(reason)``: the category does not apply to the function, with why.

World (module fixture): alice holds 10 WETH and owes 8,000 USD (healthy);
carol holds 1 WBTC and owes 24,000 USD and is underwater after WBTC -8.5 %;
bob holds nothing; SPARE is a token listed on the oracle but not the vault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import ape
import pytest

from state import changed, storage_roots
from volmargin import params as P
from volmargin import reference as ref
from volmargin.units import to_feed_answer

E6, E8, E18 = 10**6, 10**8, 10**18
UMAX = 2**256 - 1
ZERO = "0x" + "00" * 20
HOUR = 3_600
STALE = HOUR + 10 * 60 + 1  # WETH/WBTC heartbeat + grace + 1 s
CATEGORIES = (
    "zero_amount", "one_wei", "max_uint256", "unlisted_asset", "wrong_account", "paused_action",
    "stale_price", "non_positive_price", "insufficient_health", "insufficient_liquidity", "caller_without_role",
)
MISSING_ROLE = "access_control: account is missing role"
ADMIN_ROLE = b"\x00" * 32


@dataclass(frozen=True)
class Rejects:
    """Reverts with ``reason``; every storage root unchanged."""

    reason: str
    call: Callable[[Any], Any]
    setup: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Accepts:
    """Valid by design; ``check(w, call_result)`` asserts the exact effect
    (``before`` runs first and its result is passed as ``w.before``)."""

    call: Callable[[Any], Any]
    check: Callable[[Any, Any], None]
    setup: Callable[[Any], Any] | None = None
    before: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class NA:
    """The category does not apply; ``reason`` says why."""

    reason: str


# ------------------------------------------------------------------ world


class World:
    """Handles used by the table's lambdas."""

    def __init__(self, system, chain, project, accounts, admin, guardian, risk_admin, liquidator, alice, bob):
        self.s, self.chain, self.project = system, chain, project
        self.lender = accounts[1]
        self.vault, self.oracle = system.vault, system.oracle
        self.usd, self.weth, self.wbtc = (system.tokens[x] for x in ("USD", "WETH", "WBTC"))
        self.admin, self.guardian, self.risk_admin, self.liquidator = admin, guardian, risk_admin, liquidator
        self.alice, self.bob, self.carol = alice, bob, accounts[7]
        self.risk_keeper = accounts[10]  # RISK_KEEPER_ROLE (conftest's risk_keeper)
        self.before: Any = None

    def stale(self) -> None:
        """Moves time past WETH's and WBTC's heartbeat + grace."""
        self.chain.pending_timestamp += STALE

    def zero_price(self, sym: str) -> None:
        self.s.feeds[sym].push(0, 0, sender=self.admin)
        self.oracle.poke(self.s.tokens[sym], sender=self.admin)

    def contracts(self) -> list[Any]:
        return [self.vault, self.oracle, *self.s.tokens.values(), *self.s.feeds.values(), self.spare, self.spare_feed]


@pytest.fixture(scope="module")
def w(system, chain, project, accounts, admin, guardian, risk_admin, liquidator, alice, bob):
    w = World(system, chain, project, accounts, admin, guardian, risk_admin, liquidator, alice, bob)
    vault, carol = w.vault, w.carol
    for sym, amount in (("USD", 10_000_000 * E6), ("WETH", 10_000 * E18), ("WBTC", 1_000 * E8)):
        system.tokens[sym].mint(carol, amount, sender=admin)
        system.tokens[sym].approve(vault, UMAX, sender=carol)
    vault.deposit(w.weth, 10 * E18, sender=alice)
    vault.borrow(w.usd, 8_000 * E6, sender=alice)
    vault.deposit(w.wbtc, E8, sender=carol)
    vault.borrow(w.usd, 24_000 * E6, sender=carol)
    # one hour later, every feed fresh; WBTC -8.5 %: below the jump threshold
    # (6 sigma_1h + 5 % = 9.2 %), enough to put carol under water
    chain.pending_timestamp += HOUR
    for sym, usd in (("USD", 1.0), ("WETH", 2_000.0), ("WBTC", 27_450.0)):
        system.push_price(sym, usd)
    system.poke()
    h = vault.health(carol)
    assert h.maint_assets < h.maint_liabilities, "carol must be liquidatable"
    h = vault.health(alice)
    assert h.init_assets > h.init_liabilities, "alice must be healthy"
    assert w.oracle.n_tripped() == 0
    # SPARE: listed on the oracle (fresh feed), not on the vault; the admin holds the listing probe
    w.spare = project.MockERC20.deploy("Spare", "SPR", 18, sender=admin)
    w.spare_feed = project.MockAggregator.deploy(8, "SPR / USD", to_feed_answer(5.0), 0, sender=admin)
    spec = P.TOKENS[1]
    w.oracle.list_asset(w.spare, w.spare_feed, spec.var_seed, list(spec.oracle), sender=admin)
    w.spare.mint(admin, E18, sender=admin)
    w.spare.approve(vault, E18, sender=admin)
    w.spare.mint(alice, E18, sender=admin)
    w.spare.approve(vault, UMAX, sender=alice)
    return w


# ------------------------------------------------------------------ helpers for the cells


def bal(w, who, tok) -> int:
    return int(w.vault.balance_of(who, tok))


def snapshot_of(who_tok):
    """``before`` for an Accepts: (vault balance, wallet) of (account, token)."""
    return lambda w: (bal(w, who_tok(w)[0], who_tok(w)[1]), int(who_tok(w)[1].balanceOf(who_tok(w)[0])))


def credits(delta_vault: int, delta_wallet: int, who_tok):
    def check(w, _result):
        who, tok = who_tok(w)
        v0, t0 = w.before
        assert bal(w, who, tok) - v0 == delta_vault
        assert int(tok.balanceOf(who)) - t0 == delta_wallet

    return check


def debt_snapshot(w):
    """``before`` for a repay: (alice's USD balance, her USD wallet, head time)."""
    return bal(w, w.alice, w.usd), int(w.usd.balanceOf(w.alice)), w.chain.blocks.head.timestamp


def interest_bound(w, debt: int, since: int, receipt) -> int:
    """Most interest ``|debt|`` can accrue from ``since`` to the receipt's block:
    at the highest rate the USD model allows (base + slope1 + slope2), plus 1 wei."""
    r = P.TOKENS[0].rates
    return -debt * (r[0] + r[1] + r[2]) * (receipt.timestamp - since) // (ref.SECONDS_PER_YEAR * ref.WAD) + 1


def repays(amount: int):
    """alice's wallet pays exactly ``amount`` (the Repay event says so too) and
    her USD debt falls by ``amount``, less at most the interest accrued between
    the read and the block; never by more (rounding favours the vault)."""

    def check(w, receipt):
        debt, wallet, since = w.before
        (ev,) = receipt.events.filter(w.vault.Repay)
        assert ev.amount == amount
        assert wallet - int(w.usd.balanceOf(w.alice)) == amount
        fall = bal(w, w.alice, w.usd) - debt
        assert amount - interest_bound(w, debt, since, receipt) <= fall <= amount

    return check


def repaid_all(w, receipt):
    """max uint256 repays the whole debt with interest to the block, and pulls exactly that."""
    debt, wallet, since = w.before
    (ev,) = receipt.events.filter(w.vault.Repay)
    assert bal(w, w.alice, w.usd) == 0
    assert -debt <= ev.amount <= -debt + interest_bound(w, debt, since, receipt)
    assert wallet - int(w.usd.balanceOf(w.alice)) == ev.amount


def cap_at_total(w, tok) -> None:
    """The admin sets ``tok``'s supply cap to its total deposits, whole tokens (the total
    must be a whole number of tokens: no interest accrued on it)."""
    total = int(w.vault.market(tok)[2])
    unit = 10 ** int(w.vault.asset_decimals(tok))
    assert total % unit == 0
    w.vault.set_asset_param(tok, ref.A_SUPPLY_CAP, total // unit, sender=w.admin)


def pause_all(w):
    w.vault.pause(7, sender=w.guardian)


ALICE_WETH = lambda w: (w.alice, w.weth)  # noqa: E731


def access_control_entries(contract: str) -> dict[str, dict[str, Any]]:
    """snekmate's exported access-control functions, the same on every contract."""
    c = lambda w: getattr(w, {"MarginVault": "vault", "RiskOracle": "oracle"}.get(contract, "feed"))  # noqa: E731
    no_amount = NA("no amount argument")
    no_asset = NA("no asset argument")
    no_price = NA("reads no price")
    no_pause = NA("role management has no pause switch (a pause must not lock governance)")
    no_health = NA("touches no account")
    return {
        "grantRole": dict(
            zero_amount=no_amount, one_wei=no_amount, max_uint256=no_amount, unlisted_asset=no_asset,
            wrong_account=NA("any account may be granted a role; only the caller is checked"),
            paused_action=no_pause, stale_price=no_price, non_positive_price=no_price,
            insufficient_health=no_health, insufficient_liquidity=no_health,
            caller_without_role=[
                Rejects(MISSING_ROLE, lambda w: c(w).grantRole(ADMIN_ROLE, w.alice, sender=w.alice)),
                Rejects(MISSING_ROLE, lambda w: c(w).grantRole(ADMIN_ROLE, w.guardian, sender=w.guardian)),
            ],
        ),
        "revokeRole": dict(
            zero_amount=no_amount, one_wei=no_amount, max_uint256=no_amount, unlisted_asset=no_asset,
            wrong_account=NA("revoking from an account without the role is a no-op by snekmate's design"),
            paused_action=no_pause, stale_price=no_price, non_positive_price=no_price,
            insufficient_health=no_health, insufficient_liquidity=no_health,
            caller_without_role=Rejects(MISSING_ROLE, lambda w: c(w).revokeRole(ADMIN_ROLE, w.admin, sender=w.risk_admin)),
        ),
        "renounceRole": dict(
            zero_amount=no_amount, one_wei=no_amount, max_uint256=no_amount, unlisted_asset=no_asset,
            wrong_account=Rejects(
                "access_control: can only renounce roles for itself",
                lambda w: c(w).renounceRole(ADMIN_ROLE, w.admin, sender=w.alice),
            ),
            paused_action=no_pause, stale_price=no_price, non_positive_price=no_price,
            insufficient_health=no_health, insufficient_liquidity=no_health,
            caller_without_role=NA("renouncing needs no role: it only ever removes the caller's own"),
        ),
        "set_role_admin": dict(
            zero_amount=no_amount, one_wei=no_amount, max_uint256=no_amount, unlisted_asset=no_asset,
            wrong_account=NA("no account argument"),
            paused_action=no_pause, stale_price=no_price, non_positive_price=no_price,
            insufficient_health=no_health, insufficient_liquidity=no_health,
            caller_without_role=Rejects(
                MISSING_ROLE, lambda w: c(w).set_role_admin(ADMIN_ROLE, ADMIN_ROLE, sender=w.guardian)
            ),
        ),
    }


def governance_bounds_entry(contract: str) -> dict[str, Any]:
    c = lambda w: getattr(w, {"MarginVault": "vault", "RiskOracle": "oracle"}[contract])  # noqa: E731
    admin_free = NA("DEFAULT_ADMIN_ROLE (the timelock) sets the steward bounds freely; no value is invalid")
    return dict(
        zero_amount=admin_free, one_wei=admin_free, max_uint256=admin_free, unlisted_asset=NA("no asset argument"),
        wrong_account=NA("no account argument"), paused_action=NA("governance has no pause switch"),
        stale_price=NA("reads no price"), non_positive_price=NA("reads no price"),
        insufficient_health=NA("touches no account"), insufficient_liquidity=NA("touches no account"),
        caller_without_role=[
            Rejects(MISSING_ROLE, lambda w: c(w).set_governance_bounds(0, 0, sender=w.risk_admin)),
            Rejects(MISSING_ROLE, lambda w: c(w).set_governance_bounds(0, 0, sender=w.guardian)),
        ],
    )


def _list_spare(w, params=None, sender=None):
    return w.vault.list_asset(w.spare, list(params or P.TOKENS[1].rates), sender=sender or w.admin)


def _rates(**kw):
    r = list(P.TOKENS[1].rates)
    for k, v in kw.items():
        r[{"base": 0, "kink": 3, "borrowable": 5}[k]] = v
    return r


def _oracle_params(**kw):
    p = list(P.TOKENS[1].oracle)
    for k, v in kw.items():
        p[getattr(ref, f"P_{k.upper()}")] = v
    return p


def _new_feed(w, answer=to_feed_answer(5.0), updated_at=0, decimals=8):
    return w.project.MockAggregator.deploy(decimals, "NEW / USD", answer, updated_at, sender=w.admin)


def _new_token(w):
    return w.project.MockERC20.deploy("New", "NEW", 18, sender=w.admin)


def _list_on_oracle(w, feed, token=None, params=None):
    return w.oracle.list_asset(token or _new_token(w), feed, P.TOKENS[1].var_seed, params or list(P.TOKENS[1].oracle),
                               sender=w.admin)


N = NA  # brevity in the table
NO_AMOUNT, NO_ASSET, NO_ROLE_NEEDED = N("no amount argument"), N("no asset argument"), N("permissionless")
NO_PRICE = N("reads no price")


def realized(w) -> int:
    """WETH's realized sigma per year, WAD."""
    return w.oracle.sigma(w.weth, ref.SECONDS_PER_YEAR)


def forecast_bound(w, param: int) -> int:
    """The largest (P_F_HI) or least (P_F_LO) WETH forecast the oracle accepts now, WAD per year
    (rounded inward)."""
    m = w.oracle.params(w.weth, param)
    return m * realized(w) // E18 if param == ref.P_F_HI else -(-m * realized(w) // E18)


def forecast_on(w) -> bool:
    """The admin turns WETH's forecast mode on (replace)."""
    w.oracle.set_param(w.weth, ref.P_F_MODE, ref.forecast.MODE_REPLACE, sender=w.admin)
    return True


def push_realized(w) -> bool:
    w.oracle.push_forecast(w.weth, realized(w), sender=w.risk_keeper)
    return True


def after_heartbeat(w) -> bool:
    """The next block a heartbeat later (the feeds stay fresh: heartbeat + grace)."""
    w.chain.pending_timestamp += w.oracle.params(w.weth, ref.P_HEARTBEAT)
    return True


def pushed(w, sigma: int, r) -> None:
    """WETH's forecast is ``sigma``, pushed in this block and in use."""
    assert tuple(w.oracle.forecast_of(w.weth)) == (sigma, r.timestamp, True)

TABLE: dict[str, dict[str, Any]] = {
    # ---------------------------------------------------------- MarginVault: user actions
    "MarginVault.deposit": dict(
        zero_amount=Rejects("vault: zero amount", lambda w: w.vault.deposit(w.usd, 0, sender=w.alice)),
        one_wei=[
            Accepts(lambda w: w.vault.deposit(w.weth, 1, sender=w.alice), credits(1, -1, ALICE_WETH),
                    before=snapshot_of(ALICE_WETH)),
            # one wei above a supply cap set at the total (docs/design.md §2.8)
            Rejects("vault: supply cap reached", lambda w: w.vault.deposit(w.weth, 1, sender=w.alice),
                    setup=lambda w: cap_at_total(w, w.weth)),
        ],
        # amount > 2**255 - 1 cannot be a token balance; the vault must name it (see the report: currently a
        # bare revert from convert(amount, int256))
        max_uint256=[
            Rejects("vault: amount too large", lambda w: w.vault.deposit(w.usd, UMAX, sender=w.alice)),
            # a scaled total beyond its 128-bit field in the market's storage word (module market_layout)
            Rejects("vault: market out of range", lambda w: w.vault.deposit(w.weth, 2**129, sender=w.alice),
                    setup=lambda w: w.s.tokens["WETH"].mint(w.alice, 2**129, sender=w.admin)),
        ],
        unlisted_asset=Rejects("vault: asset not listed", lambda w: w.vault.deposit(w.spare, E18, sender=w.alice)),
        wrong_account=Rejects("vault: zero address", lambda w: w.vault.deposit(w.usd, E6, ZERO, sender=w.alice)),
        paused_action=Accepts(lambda w: w.vault.deposit(w.weth, E18, sender=w.alice), credits(E18, -E18, ALICE_WETH),
                              setup=pause_all, before=snapshot_of(ALICE_WETH)),
        stale_price=Accepts(lambda w: w.vault.deposit(w.weth, E18, sender=w.alice), credits(E18, -E18, ALICE_WETH),
                            setup=World.stale, before=snapshot_of(ALICE_WETH)),
        non_positive_price=Accepts(lambda w: w.vault.deposit(w.weth, E18, sender=w.alice),
                                   credits(E18, -E18, ALICE_WETH), setup=lambda w: w.zero_price("WETH"),
                                   before=snapshot_of(ALICE_WETH)),
        insufficient_health=N("a deposit only raises health"),
        insufficient_liquidity=N("a deposit only adds liquidity"),
        caller_without_role=NO_ROLE_NEEDED,
    ),
    "MarginVault.withdraw": dict(
        zero_amount=Rejects("vault: zero amount", lambda w: w.vault.withdraw(w.weth, 0, sender=w.alice)),
        one_wei=Rejects("vault: insufficient balance", lambda w: w.vault.withdraw(w.wbtc, 1, sender=w.alice)),
        # more than any balance: "insufficient balance" (see the report: currently a bare revert)
        max_uint256=Rejects("vault: insufficient balance", lambda w: w.vault.withdraw(w.weth, UMAX, sender=w.alice)),
        unlisted_asset=Rejects("vault: asset not listed", lambda w: w.vault.withdraw(w.spare, 1, sender=w.alice)),
        # bob has no position: he cannot take alice's deposit
        wrong_account=Rejects("vault: insufficient balance", lambda w: w.vault.withdraw(w.weth, E18, sender=w.bob)),
        paused_action=Rejects("vault: withdraw paused", lambda w: w.vault.withdraw(w.weth, 1, sender=w.alice),
                              setup=lambda w: w.vault.pause(1, sender=w.guardian)),
        stale_price=Rejects("oracle: stale price", lambda w: w.vault.withdraw(w.weth, 1, sender=w.alice),
                            setup=World.stale),
        non_positive_price=Rejects("oracle: invalid price", lambda w: w.vault.withdraw(w.weth, 1, sender=w.alice),
                                   setup=lambda w: w.zero_price("WETH")),
        insufficient_health=Rejects("vault: insufficient health",
                                    lambda w: w.vault.withdraw(w.weth, 9 * E18, sender=w.alice)),
        # bob shorts 1,005 of the 1,010 WETH deposited; the lender cannot take 1,000 back
        insufficient_liquidity=Rejects(
            "vault: insufficient liquidity", lambda w: w.vault.withdraw(w.weth, 1_000 * E18, sender=w.lender),
            setup=lambda w: (w.vault.deposit(w.usd, 5_000_000 * E6, sender=w.bob),
                             w.vault.borrow(w.weth, 1_005 * E18, sender=w.bob)),
        ),
        caller_without_role=NO_ROLE_NEEDED,
    ),
    "MarginVault.borrow": dict(
        zero_amount=Rejects("vault: zero amount", lambda w: w.vault.borrow(w.usd, 0, sender=w.alice)),
        # 1 wei of debt without collateral is still debt
        one_wei=Rejects("vault: insufficient health", lambda w: w.vault.borrow(w.usd, 1, sender=w.bob)),
        max_uint256=Rejects("vault: insufficient liquidity", lambda w: w.vault.borrow(w.usd, UMAX, sender=w.alice)),
        unlisted_asset=Rejects("vault: asset not listed", lambda w: w.vault.borrow(w.spare, 1, sender=w.alice)),
        wrong_account=N("borrows only against the caller's own account (bob without collateral: the 1 wei case)"),
        paused_action=Rejects("vault: borrow paused", lambda w: w.vault.borrow(w.usd, 1, sender=w.alice),
                              setup=lambda w: w.vault.pause(2, sender=w.guardian)),
        stale_price=Rejects("oracle: stale price", lambda w: w.vault.borrow(w.usd, 1, sender=w.alice),
                            setup=World.stale),
        non_positive_price=Rejects("oracle: invalid price", lambda w: w.vault.borrow(w.usd, 1, sender=w.alice),
                                   setup=lambda w: w.zero_price("WETH")),
        insufficient_health=Rejects("vault: insufficient health",
                                    lambda w: w.vault.borrow(w.usd, 20_000 * E6, sender=w.alice)),
        insufficient_liquidity=Rejects("vault: insufficient liquidity",
                                       lambda w: w.vault.borrow(w.wbtc, 52 * E8, sender=w.alice)),
        caller_without_role=NO_ROLE_NEEDED,
    ),
    "MarginVault.repay": dict(
        zero_amount=Rejects("vault: zero amount", lambda w: w.vault.repay(w.usd, 0, sender=w.alice)),
        one_wei=[
            Accepts(lambda w: w.vault.repay(w.usd, 1, sender=w.alice), repays(1), before=debt_snapshot),
            # a supply cap below the total never blocks a repayment (docs/design.md §2.8)
            Accepts(lambda w: w.vault.repay(w.usd, 1, sender=w.alice), repays(1),
                    setup=lambda w: w.vault.set_asset_param(w.usd, ref.A_SUPPLY_CAP, 1, sender=w.admin),
                    before=debt_snapshot),
        ],
        max_uint256=Accepts(lambda w: w.vault.repay(w.usd, UMAX, sender=w.alice), repaid_all,
                            before=debt_snapshot),
        unlisted_asset=Rejects("vault: asset not listed", lambda w: w.vault.repay(w.spare, 1, sender=w.alice)),
        wrong_account=[
            Rejects("vault: no debt", lambda w: w.vault.repay(w.usd, E6, w.bob, sender=w.alice)),
            Rejects("vault: no debt", lambda w: w.vault.repay(w.weth, 1, sender=w.alice)),  # a deposit is no debt
        ],
        paused_action=Accepts(lambda w: w.vault.repay(w.usd, E6, sender=w.alice), repays(E6),
                              setup=pause_all, before=debt_snapshot),
        stale_price=Accepts(lambda w: w.vault.repay(w.usd, E6, sender=w.alice), repays(E6),
                            setup=World.stale, before=debt_snapshot),
        non_positive_price=Accepts(lambda w: w.vault.repay(w.usd, E6, sender=w.alice), repays(E6),
                                   setup=lambda w: w.zero_price("USD"), before=debt_snapshot),
        insufficient_health=N("a repayment only raises health"),
        insufficient_liquidity=N("a repayment only adds liquidity"),
        caller_without_role=NO_ROLE_NEEDED,
    ),
    "MarginVault.liquidate": dict(
        zero_amount=Rejects("vault: zero amount",
                            lambda w: w.vault.liquidate(w.carol, w.usd, w.wbtc, 0, 0, sender=w.liquidator)),
        # 1 wei of USD buys 0 satoshi: the slippage guard refuses it
        one_wei=Rejects("vault: seize below minimum",
                        lambda w: w.vault.liquidate(w.carol, w.usd, w.wbtc, 1, 1, sender=w.liquidator)),
        max_uint256=Rejects("vault: seize below minimum",
                            lambda w: w.vault.liquidate(w.carol, w.usd, w.wbtc, UMAX, UMAX, sender=w.liquidator)),
        unlisted_asset=[
            Rejects("vault: asset not listed",
                    lambda w: w.vault.liquidate(w.carol, w.spare, w.wbtc, E6, 0, sender=w.liquidator)),
            Rejects("vault: asset not listed",
                    lambda w: w.vault.liquidate(w.carol, w.usd, w.spare, E6, 0, sender=w.liquidator)),
        ],
        wrong_account=[
            Rejects("vault: self-liquidation",
                    lambda w: w.vault.liquidate(w.carol, w.usd, w.wbtc, E6, 0, sender=w.carol)),
            Rejects("vault: no debt in asset",
                    lambda w: w.vault.liquidate(w.carol, w.weth, w.wbtc, E6, 0, sender=w.liquidator)),
            Rejects("vault: no collateral in asset",
                    lambda w: w.vault.liquidate(w.carol, w.usd, w.weth, E6, 0, sender=w.liquidator)),
            Rejects("vault: same asset",
                    lambda w: w.vault.liquidate(w.carol, w.usd, w.usd, E6, 0, sender=w.liquidator)),
        ],
        paused_action=Rejects("vault: liquidate paused",
                              lambda w: w.vault.liquidate(w.carol, w.usd, w.wbtc, E6, 0, sender=w.liquidator),
                              setup=lambda w: w.vault.pause(4, sender=w.guardian)),
        stale_price=Rejects("oracle: stale price",
                            lambda w: w.vault.liquidate(w.carol, w.usd, w.wbtc, E6, 0, sender=w.liquidator),
                            setup=World.stale),
        non_positive_price=Rejects("oracle: invalid price",
                                   lambda w: w.vault.liquidate(w.carol, w.usd, w.wbtc, E6, 0, sender=w.liquidator),
                                   setup=lambda w: w.zero_price("WBTC")),
        insufficient_health=Rejects("vault: account healthy",
                                    lambda w: w.vault.liquidate(w.alice, w.usd, w.weth, E6, 0, sender=w.liquidator)),
        # the per-window cascade cap is the liquidity limit of liquidations (docs/design.md §7)
        insufficient_liquidity=Rejects(
            "vault: liquidation cap reached",
            lambda w: w.vault.liquidate(w.carol, w.usd, w.wbtc, 12_000 * E6, 0, sender=w.liquidator),
            setup=lambda w: (w.vault.set_param(ref.V_LIQ_CAP_TRIPPED, 1_000 * E18, sender=w.admin),
                             w.vault.set_param(ref.V_LIQ_CAP, 1_000 * E18, sender=w.admin)),
        ),
        caller_without_role=NO_ROLE_NEEDED,
    ),
    "MarginVault.settle_bad_debt": dict(
        zero_amount=NO_AMOUNT, one_wei=NO_AMOUNT, max_uint256=NO_AMOUNT, unlisted_asset=NO_ASSET,
        wrong_account=[
            Rejects("vault: not bad debt", lambda w: w.vault.settle_bad_debt(w.bob, sender=w.liquidator)),
            Rejects("vault: not bad debt", lambda w: w.vault.settle_bad_debt(ZERO, sender=w.liquidator)),
        ],
        paused_action=N("no pause switch: settlement only writes off debt that has no collateral behind it"),
        stale_price=N("values nothing: it needs only 'no deposit left', not a price"),
        non_positive_price=N("values nothing: it needs only 'no deposit left', not a price"),
        # under water but still holding collateral: liquidation first
        insufficient_health=Rejects("vault: not bad debt",
                                    lambda w: w.vault.settle_bad_debt(w.carol, sender=w.liquidator)),
        insufficient_liquidity=N("moves no tokens"),
        caller_without_role=NO_ROLE_NEEDED,
    ),
    # ---------------------------------------------------------- MarginVault: governance
    "MarginVault.list_asset": dict(
        zero_amount=Rejects("vault: bad params", lambda w: _list_spare(w, _rates(kink=0))),
        one_wei=N("no amount argument (the probe of one whole token is the hostile-token tests' business)"),
        max_uint256=Rejects("vault: bad params", lambda w: _list_spare(w, _rates(borrowable=UMAX))),
        unlisted_asset=Rejects("oracle: asset not listed",
                               lambda w: w.vault.list_asset(_new_token(w), list(P.TOKENS[1].rates), sender=w.admin)),
        wrong_account=Rejects("vault: already listed",
                              lambda w: w.vault.list_asset(w.weth, list(P.TOKENS[1].rates), sender=w.admin)),
        paused_action=N("listing has no pause switch"),
        stale_price=Rejects("oracle: invalid price", lambda w: _list_spare(w), setup=World.stale),
        non_positive_price=Rejects("oracle: invalid price", lambda w: _list_spare(w),
                                   setup=lambda w: w.spare_feed.push(-1, 0, sender=w.admin)),
        insufficient_health=N("touches no account"),
        insufficient_liquidity=N("touches no market"),
        caller_without_role=[
            Rejects(MISSING_ROLE, lambda w: _list_spare(w, sender=w.risk_admin)),
            Rejects(MISSING_ROLE, lambda w: _list_spare(w, sender=w.alice)),
        ],
    ),
    "MarginVault.set_param": dict(
        zero_amount=Rejects("vault: bad params", lambda w: w.vault.set_param(ref.V_CLOSE_FACTOR, 0, sender=w.admin)),
        one_wei=Rejects("steward: change too large", lambda w: w.vault.set_param(ref.V_CLOSE_FACTOR, 1, sender=w.risk_admin)),
        max_uint256=[
            Rejects("vault: bad params", lambda w: w.vault.set_param(ref.V_CLOSE_FACTOR, UMAX, sender=w.admin)),
            # the entries without a bound of their own are held to their packed field (module vault_params)
            Rejects("vault: bad params", lambda w: w.vault.set_param(ref.V_HF_FULL, UMAX, sender=w.admin)),
            Rejects("vault: bad params", lambda w: w.vault.set_param(ref.V_LIQ_CAP, 2**128, sender=w.admin)),
            Rejects("vault: unknown param", lambda w: w.vault.set_param(UMAX, 1, sender=w.admin)),
        ],
        unlisted_asset=N("global parameters have no asset"),
        wrong_account=N("no account argument"),
        paused_action=N("governance has no pause switch"),
        stale_price=NO_PRICE, non_positive_price=NO_PRICE,
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=[
            Rejects(MISSING_ROLE, lambda w: w.vault.set_param(ref.V_CLOSE_FACTOR, 4 * 10**17, sender=w.guardian)),
            Rejects(MISSING_ROLE, lambda w: w.vault.set_param(ref.V_CLOSE_FACTOR, 4 * 10**17, sender=w.alice)),
        ],
    ),
    "MarginVault.set_asset_param": dict(
        zero_amount=Rejects("vault: bad params", lambda w: w.vault.set_asset_param(w.usd, ref.A_KINK, 0, sender=w.admin)),
        # the base rate is 0: a risk admin cannot move it at all, not even by 1 wei; nor can it
        # turn on a supply cap (0: none) by a single whole token
        one_wei=[
            Rejects("steward: change too large",
                    lambda w: w.vault.set_asset_param(w.usd, ref.A_BASE_RATE, 1, sender=w.risk_admin)),
            Rejects("steward: change too large",
                    lambda w: w.vault.set_asset_param(w.usd, ref.A_SUPPLY_CAP, 1, sender=w.risk_admin)),
        ],
        max_uint256=[
            Rejects("vault: bad params", lambda w: w.vault.set_asset_param(w.usd, ref.A_BORROWABLE, UMAX, sender=w.admin)),
            Rejects("vault: bad params", lambda w: w.vault.set_asset_param(w.usd, ref.A_SUPPLY_CAP, UMAX, sender=w.admin)),
            Rejects("vault: bad params", lambda w: w.vault.set_asset_param(w.usd, ref.A_KAPPA_AGG, UMAX, sender=w.admin)),
            # each rate is bounded alone before the sum (issue #15 item 6: once a bare overflow revert)
            Rejects("vault: bad params", lambda w: w.vault.set_asset_param(w.usd, ref.A_BASE_RATE, UMAX, sender=w.admin)),
            Rejects("vault: bad params", lambda w: w.vault.set_asset_param(w.usd, ref.A_SLOPE1, UMAX, sender=w.admin)),
            Rejects("vault: bad params", lambda w: w.vault.set_asset_param(w.usd, ref.A_SLOPE2, UMAX, sender=w.admin)),
            Rejects("vault: unknown param", lambda w: w.vault.set_asset_param(w.usd, UMAX, 1, sender=w.admin)),
        ],
        unlisted_asset=Rejects("vault: asset not listed",
                               lambda w: w.vault.set_asset_param(w.spare, ref.A_SLOPE1, 1, sender=w.admin)),
        wrong_account=N("no account argument"),
        paused_action=N("governance has no pause switch"),
        stale_price=NO_PRICE, non_positive_price=NO_PRICE,
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=[
            Rejects(MISSING_ROLE, lambda w: w.vault.set_asset_param(w.usd, ref.A_SLOPE1, 4 * 10**16, sender=w.guardian)),
            Rejects(MISSING_ROLE, lambda w: w.vault.set_asset_param(w.usd, ref.A_SLOPE1, 4 * 10**16, sender=w.alice)),
        ],
    ),
    "MarginVault.pause": dict(
        zero_amount=Rejects("vault: bad pause mask", lambda w: w.vault.pause(0, sender=w.guardian)),
        one_wei=Accepts(lambda w: w.vault.pause(1, sender=w.guardian), lambda w, r: w.vault.paused() == 1 or
                        pytest.fail("mask 1 pauses withdrawals")),
        max_uint256=Rejects("vault: bad pause mask", lambda w: w.vault.pause(UMAX, sender=w.guardian)),
        unlisted_asset=NO_ASSET, wrong_account=N("no account argument"),
        paused_action=Accepts(lambda w: w.vault.pause(3, sender=w.guardian),
                              lambda w, r: w.vault.paused() == 7 or pytest.fail("pausing twice is idempotent"),
                              setup=pause_all),
        stale_price=NO_PRICE, non_positive_price=NO_PRICE,
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=[
            Rejects(MISSING_ROLE, lambda w: w.vault.pause(1, sender=w.risk_admin)),
            Rejects(MISSING_ROLE, lambda w: w.vault.pause(1, sender=w.alice)),
        ],
    ),
    "MarginVault.unpause": dict(
        zero_amount=Rejects("vault: bad pause mask", lambda w: w.vault.unpause(0, sender=w.admin)),
        one_wei=N("mask 1 is a valid switch (test_governance covers unpausing)"),
        max_uint256=Rejects("vault: bad pause mask", lambda w: w.vault.unpause(UMAX, sender=w.admin)),
        unlisted_asset=NO_ASSET, wrong_account=N("no account argument"),
        paused_action=N("unpausing is the way out of a pause"),
        stale_price=NO_PRICE, non_positive_price=NO_PRICE,
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=[
            Rejects(MISSING_ROLE, lambda w: w.vault.unpause(7, sender=w.guardian), setup=pause_all),
            Rejects(MISSING_ROLE, lambda w: w.vault.unpause(7, sender=w.risk_admin), setup=pause_all),
        ],
    ),
    "MarginVault.set_governance_bounds": governance_bounds_entry("MarginVault"),
    # ---------------------------------------------------------- RiskOracle
    "RiskOracle.poke": dict(
        zero_amount=NO_AMOUNT, one_wei=NO_AMOUNT,
        # the largest answer a feed can give (max int256; once an arithmetic-overflow revert):
        # out of range, a bad answer like any other (docs/design.md §7.2)
        max_uint256=Accepts(lambda w: w.oracle.poke(w.weth, sender=w.bob),
                            lambda w, r: ([e.reason for e in r.events.filter(w.oracle.BreakerChanged)]
                                          == [ref.REASON_OUT_OF_RANGE] and w.oracle.assets(w.weth).invalid)
                            or pytest.fail("max int256 answer: REDUCE_ONLY (out of range) and invalid"),
                            setup=lambda w: w.s.feeds["WETH"].push(2**255 - 1, 0, sender=w.admin)),
        unlisted_asset=[
            Rejects("oracle: asset not listed", lambda w: w.oracle.poke(w.alice, sender=w.bob)),
            Rejects("oracle: asset not listed", lambda w: w.oracle.poke(ZERO, sender=w.bob)),
        ],
        wrong_account=NO_ROLE_NEEDED,
        paused_action=N("the oracle has no pause"),
        # a bad answer never reverts a poke: it trips the breaker and invalidates the price
        stale_price=Accepts(lambda w: w.oracle.poke(w.weth, sender=w.bob),
                            lambda w, r: (w.oracle.breaker(w.weth) == 2 and w.oracle.assets(w.weth).invalid)
                            or pytest.fail("stale: REDUCE_ONLY and invalid"), setup=World.stale),
        non_positive_price=Accepts(lambda w: w.oracle.poke(w.weth, sender=w.bob),
                                   lambda w, r: (w.oracle.breaker(w.weth) == 2 and w.oracle.assets(w.weth).invalid)
                                   or pytest.fail("zero answer: REDUCE_ONLY and invalid"),
                                   setup=lambda w: w.s.feeds["WETH"].push(0, 0, sender=w.admin)),
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=NO_ROLE_NEEDED,
    ),
    "RiskOracle.poke_many": dict(
        zero_amount=Accepts(lambda w: w.oracle.poke_many([], sender=w.bob),
                            lambda w, r: len(r.events) == 0 or pytest.fail("an empty batch logs nothing")),
        one_wei=NO_AMOUNT, max_uint256=NO_AMOUNT,
        unlisted_asset=Rejects("oracle: asset not listed",
                               lambda w: w.oracle.poke_many([w.weth, w.alice], sender=w.bob)),
        wrong_account=NO_ROLE_NEEDED, paused_action=N("the oracle has no pause"),
        stale_price=N("as poke, per asset"), non_positive_price=N("as poke, per asset"),
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=NO_ROLE_NEEDED,
    ),
    "RiskOracle.list_asset": dict(
        zero_amount=[
            Rejects("oracle: zero address", lambda w: _list_on_oracle(w, ZERO)),
            Rejects("oracle: bad params", lambda w: _list_on_oracle(w, w.spare_feed, params=_oracle_params(heartbeat=0))),
        ],
        one_wei=N("no amount argument; a var seed of 1 wei is clamped to var_min by design"),
        max_uint256=[
            Rejects("oracle: bad params",
                    lambda w: _list_on_oracle(w, w.spare_feed, params=_oracle_params(var_max=UMAX))),
            Rejects("oracle: price out of range", lambda w: _list_on_oracle(w, _new_feed(w, answer=2**255 - 1))),
            # the price's field (asset_state word 1): one unit of the answer above 2**128 - 1 WAD
            Rejects("oracle: price out of range",
                    lambda w: _list_on_oracle(w, _new_feed(w, answer=(2**128 - 1) // 10**10 + 1))),
        ],
        unlisted_asset=N("listing is how an asset becomes listed"),
        wrong_account=Rejects("oracle: already listed", lambda w: _list_on_oracle(w, w.spare_feed, token=w.weth)),
        paused_action=N("the oracle has no pause"),
        stale_price=Rejects("oracle: stale price", lambda w: _list_on_oracle(w, _new_feed(w, updated_at=1))),
        non_positive_price=[
            Rejects("oracle: invalid price", lambda w: _list_on_oracle(w, _new_feed(w, answer=0))),
            Rejects("oracle: invalid price", lambda w: _list_on_oracle(w, _new_feed(w, answer=-1))),
        ],
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=Rejects(MISSING_ROLE, lambda w: w.oracle.list_asset(
            w.alice, w.spare_feed, 0, list(P.TOKENS[1].oracle), sender=w.risk_admin)),
    ),
    "RiskOracle.set_param": dict(
        zero_amount=Rejects("oracle: bad params", lambda w: w.oracle.set_param(w.weth, ref.P_HEARTBEAT, 0, sender=w.admin)),
        # USD's kappa is 0: a risk admin cannot move it, not even by 1 wei
        one_wei=Rejects("steward: change too large",
                        lambda w: w.oracle.set_param(w.usd, ref.P_KAPPA, 1, sender=w.risk_admin)),
        max_uint256=[
            Rejects("oracle: bad params", lambda w: w.oracle.set_param(w.weth, ref.P_H_MAX, UMAX, sender=w.admin)),
            Rejects("oracle: unknown param", lambda w: w.oracle.set_param(w.weth, UMAX, 1, sender=w.admin)),
        ],
        unlisted_asset=Rejects("oracle: asset not listed", lambda w: w.oracle.set_param(w.alice, ref.P_HEARTBEAT, 1, sender=w.admin)),
        wrong_account=N("no account argument"), paused_action=N("the oracle has no pause"),
        stale_price=NO_PRICE, non_positive_price=NO_PRICE,
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=[
            Rejects(MISSING_ROLE, lambda w: w.oracle.set_param(w.weth, ref.P_GRACE, 700, sender=w.guardian)),
            Rejects(MISSING_ROLE, lambda w: w.oracle.set_param(w.weth, ref.P_GRACE, 700, sender=w.alice)),
        ],
    ),
    "RiskOracle.set_correlation": dict(
        # the USD-WETH pair has no offset: a risk admin cannot create one (a steward step from 0)
        zero_amount=Rejects("steward: change too large",
                            lambda w: w.oracle.set_correlation(w.usd, w.weth, 0, 0, sender=w.risk_admin)),
        one_wei=[
            Rejects("oracle: bad correlation", lambda w: w.oracle.set_correlation(w.weth, w.wbtc, 0, E18 + 1, sender=w.admin)),
            Rejects("oracle: bad correlation", lambda w: w.oracle.set_correlation(w.weth, w.wbtc, -E18 - 1, 0, sender=w.admin)),
            Rejects("oracle: bad correlation", lambda w: w.oracle.set_correlation(w.weth, w.wbtc, 1, 0, sender=w.admin)),
        ],
        max_uint256=[
            Rejects("oracle: bad correlation",
                    lambda w: w.oracle.set_correlation(w.weth, w.wbtc, 0, 2**255 - 1, sender=w.admin)),
            Rejects("oracle: bad correlation",
                    lambda w: w.oracle.set_correlation(w.weth, w.wbtc, -2**255, 0, sender=w.admin)),
        ],
        unlisted_asset=[
            Rejects("oracle: asset not listed", lambda w: w.oracle.set_correlation(w.alice, w.weth, 0, 0, sender=w.admin)),
            Rejects("oracle: same asset", lambda w: w.oracle.set_correlation(w.weth, w.weth, 0, 0, sender=w.admin)),
        ],
        wrong_account=N("no account argument"), paused_action=N("the oracle has no pause"),
        stale_price=NO_PRICE, non_positive_price=NO_PRICE,
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=[
            Rejects(MISSING_ROLE, lambda w: w.oracle.set_correlation(w.weth, w.wbtc, 0, E18, sender=w.guardian)),
            Rejects(MISSING_ROLE, lambda w: w.oracle.set_correlation(w.weth, w.wbtc, 0, E18, sender=w.alice)),
        ],
    ),
    "RiskOracle.push_forecast": dict(
        # every cell but the first runs with the forecast mode on (replace): FORECAST_ON
        zero_amount=Rejects("oracle: forecast out of bounds", lambda w: w.oracle.push_forecast(w.weth, 0, sender=w.risk_keeper),
                            setup=forecast_on),
        one_wei=[
            Rejects("oracle: forecast off", lambda w: w.oracle.push_forecast(w.weth, realized(w), sender=w.risk_keeper)),
            Rejects("oracle: forecast out of bounds",
                    lambda w: w.oracle.push_forecast(w.weth, forecast_bound(w, ref.P_F_HI) + 1, sender=w.risk_keeper),
                    setup=forecast_on),
            Accepts(lambda w: w.oracle.push_forecast(w.weth, forecast_bound(w, ref.P_F_HI), sender=w.risk_keeper),
                    lambda w, r: pushed(w, forecast_bound(w, ref.P_F_HI), r), setup=forecast_on),
            # a second push within the heartbeat, then one past it but 1 wei beyond the step from the live push
            Rejects("oracle: forecast too soon", lambda w: w.oracle.push_forecast(w.weth, realized(w), sender=w.risk_keeper),
                    setup=lambda w: forecast_on(w) and push_realized(w)),
            Rejects("oracle: forecast step too large",
                    lambda w: w.oracle.push_forecast(w.weth, realized(w) * 3 // 2 + 1, sender=w.risk_keeper),
                    setup=lambda w: forecast_on(w) and push_realized(w) and after_heartbeat(w)),
        ],
        max_uint256=Rejects("oracle: forecast out of bounds",
                            lambda w: w.oracle.push_forecast(w.weth, UMAX, sender=w.risk_keeper), setup=forecast_on),
        unlisted_asset=Rejects("oracle: asset not listed",
                               lambda w: w.oracle.push_forecast(w.alice, E18, sender=w.risk_keeper)),
        wrong_account=N("no account argument"), paused_action=N("the oracle has no pause"),
        # a forecast is of the volatility; the breaker answers for the price
        stale_price=NO_PRICE, non_positive_price=NO_PRICE,
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=[
            Rejects(MISSING_ROLE, lambda w: w.oracle.push_forecast(w.weth, realized(w), sender=w.risk_admin), setup=forecast_on),
            Rejects(MISSING_ROLE, lambda w: w.oracle.push_forecast(w.weth, realized(w), sender=w.alice), setup=forecast_on),
        ],
    ),
    "RiskOracle.set_portfolio_floor": dict(
        zero_amount=Rejects("oracle: bad params", lambda w: w.oracle.set_portfolio_floor(0, sender=w.admin)),
        one_wei=[
            Rejects("oracle: bad params", lambda w: w.oracle.set_portfolio_floor(E18 + 1, sender=w.admin)),
            # the floor was set at deployment: a risk admin may not move it within the delay
            Rejects("steward: change too soon", lambda w: w.oracle.set_portfolio_floor(E18 // 2 + 1, sender=w.risk_admin)),
        ],
        max_uint256=Rejects("oracle: bad params", lambda w: w.oracle.set_portfolio_floor(UMAX, sender=w.admin)),
        unlisted_asset=N("no asset argument"), wrong_account=N("no account argument"),
        paused_action=N("the oracle has no pause"), stale_price=NO_PRICE, non_positive_price=NO_PRICE,
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=[
            Rejects(MISSING_ROLE, lambda w: w.oracle.set_portfolio_floor(E18, sender=w.guardian)),
            Rejects(MISSING_ROLE, lambda w: w.oracle.set_portfolio_floor(E18, sender=w.alice)),
        ],
    ),
    "RiskOracle.set_governance_bounds": governance_bounds_entry("RiskOracle"),
    # ---------------------------------------------------------- MockAggregator (the test feed)
    "MockAggregator.push": dict(
        zero_amount=Accepts(lambda w: w.feed.push(0, 0, sender=w.admin),
                            lambda w, r: w.feed.latestRoundData()[1] == 0 or pytest.fail("zero accepted on purpose")),
        one_wei=N("any answer is accepted on purpose: the feed simulates faults"),
        max_uint256=Rejects("aggregator: timestamp in the future", lambda w: w.feed.push(1, UMAX, sender=w.admin)),
        unlisted_asset=NO_ASSET, wrong_account=N("no account argument"), paused_action=N("a feed has no pause"),
        stale_price=N("the feed is the price source"), non_positive_price=N("accepted on purpose (zero_amount case)"),
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=Rejects(MISSING_ROLE, lambda w: w.feed.push(1, 0, sender=w.alice)),
    ),
    "MockAggregator.push_incomplete": dict(
        zero_amount=N("any answer is accepted on purpose: the feed simulates faults"),
        one_wei=N("any answer is accepted on purpose"),
        max_uint256=Rejects("aggregator: timestamp in the future",
                            lambda w: w.feed.push_incomplete(1, UMAX, sender=w.admin)),
        unlisted_asset=NO_ASSET, wrong_account=N("no account argument"), paused_action=N("a feed has no pause"),
        stale_price=N("the feed is the price source"), non_positive_price=N("accepted on purpose"),
        insufficient_health=N("touches no account"), insufficient_liquidity=N("touches no market"),
        caller_without_role=Rejects(MISSING_ROLE, lambda w: w.feed.push_incomplete(1, 0, sender=w.alice)),
    ),
}
for _contract in ("MarginVault", "RiskOracle", "MockAggregator"):
    for _fn, _entry in access_control_entries(_contract).items():
        TABLE[f"{_contract}.{_fn}"] = _entry

#: ABI functions without a table entry, and why. Empty: every function has one.
EXEMPT: dict[str, str] = {}


def _cases() -> list[Any]:
    out = []
    for fn, entry in TABLE.items():
        for cat in CATEGORIES:
            cell = entry.get(cat)
            for i, case in enumerate(cell if isinstance(cell, list) else [cell]):
                if isinstance(case, (Rejects, Accepts)):
                    out.append(pytest.param(fn, case, id=f"{fn}-{cat}-{i}"))
    return out


CASES = _cases()


# ------------------------------------------------------------------ tests


def test_table_covers_every_abi_function_and_category(project):
    """The table's keys are exactly the non-view functions of the three ABIs
    (minus the justified EXEMPT list), and every entry fills all eleven
    categories with a case or a reasoned NA: a new function fails here."""
    abi_fns = {
        f"{name}.{f.name}"
        for name in ("MarginVault", "RiskOracle", "MockAggregator")
        for f in getattr(project, name).contract_type.abi
        if f.type == "function" and f.stateMutability not in ("view", "pure")
    }
    assert abi_fns - set(EXEMPT) == set(TABLE), (
        f"missing from the table: {sorted(abi_fns - set(TABLE) - set(EXEMPT))}; "
        f"not in the ABI: {sorted(set(TABLE) - abi_fns)}"
    )
    for fn, entry in TABLE.items():
        assert set(entry) == set(CATEGORIES), (fn, set(CATEGORIES) ^ set(entry))
        for cat, cell in entry.items():
            for case in cell if isinstance(cell, list) else [cell]:
                assert isinstance(case, (Rejects, Accepts, NA)), (fn, cat)
                if isinstance(case, NA):
                    assert case.reason.strip(), (fn, cat)
    assert len(CASES) >= 100


@pytest.mark.parametrize("fn,case", CASES)
def test_bad_input(w, system, project, fn, case):
    """One cell of the table: a Rejects case reverts with its named reason and
    every contract's storage root (vault, oracle, tokens, feeds) is unchanged;
    an Accepts case succeeds with exactly the effect its check states."""
    w.feed = system.feeds["WETH"]
    if case.setup is not None:
        case.setup(w)
    if isinstance(case, Accepts):
        w.before = case.before(w) if case.before else None
        result = case.call(w)
        case.check(w, result)
        return
    contracts = w.contracts()
    before = storage_roots(w.chain, contracts)
    with ape.reverts(case.reason):
        case.call(w)
    after = storage_roots(w.chain, contracts)
    names = {str(c.address): getattr(c.contract_type, "name", "?") for c in contracts}
    assert before == after, f"{fn}: storage moved in {changed(before, after, names)}"
