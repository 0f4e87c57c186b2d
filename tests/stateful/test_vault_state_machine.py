"""Stateful differential test: the deployed vault and oracle against the reference.

A hypothesis ``RuleBasedStateMachine`` drives deposits, withdrawals, borrows,
repayments, price moves (including jumps, slides of sub-threshold rounds and
out-of-range answers), time warps (including stale gaps), oracle parameter
changes (initial floor, drawdown trip), pokes, liquidations, bad-debt settlement and pauses, plus a directed crash
(position near its limit, price drop, keeper) that reaches liquidation and
insurance-funded bad debt far more often than random rules do. Every rule runs on the
contracts and on ``volmargin.reference``: the chain must revert iff the
reference rejects, with the same reason, and return the same values. After
every rule, all on-chain state (balances, health sums, indices, totals,
insurance funds, oracle state, breaker states) must equal the reference's,
and the invariants hold: token holdings cover net deposits, and a liquidator
never receives more collateral than the bonus allows.

The contracts run in titanoboa's in-process EVM (same sources, same compiler
as Ape's build): Ape's per-transaction cost would allow a few steps per second.
They are deployed by ``volmargin.chain.deploy.deploy_system``, as everywhere
else, through its titanoboa backend. The invariants read the chain through
``view_cache.ViewCache``: a view whose inputs (the storage slots it read, the block
time) are unchanged since it last ran answers what it answered then, without running
its opcodes again; ``VIEW_CACHE_VERIFY=1`` runs them anyway and asserts the same
bytes. ``boa_speed`` trims py-evm's bookkeeping (same opcodes, same results).
"""

from __future__ import annotations

import copy
import gc
from functools import lru_cache
from pathlib import Path
from typing import Any

import boa
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from volmargin import params as P
from volmargin import reference as ref
from volmargin.chain.backends import BoaBackend
from volmargin.chain.deploy import deploy_system, fund
from volmargin.units import to_feed_answer
from stats import STATS
from boa_speed import quiet_reverts, speed_up
from view_cache import ViewCache

ROOT = Path(__file__).resolve().parents[2]
WAD = ref.WAD
UMAX = 2**256 - 1
USERS = ("alice", "bob", "carol")
SYMBOLS = ("USD", "WETH", "WBTC")
START = {spec.symbol: spec.start_price_usd for spec in P.TOKENS}  # USD per whole token
# lender liquidity, whole tokens: small enough that utilization and liquidity limits are reachable
LIQUIDITY = {"USD": 200_000, "WETH": 100, "WBTC": 5}


def _round(feed, view) -> ref.FeedRound:  # type: ignore[no-untyped-def]
    """The feed's latest round, read with ``view`` (a ``ViewCache.call``)."""
    r = view(feed.latestRoundData)
    return ref.FeedRound(r[0], r[1], r[3], r[4])


@lru_cache(maxsize=1)
def world() -> dict[str, Any]:
    """Deploy once (``deploy_system`` on titanoboa, mirrored in the reference): tokens,
    feeds, oracle, vault, lender liquidity; then a guardian and funded, approved users
    and liquidator."""
    speed_up()
    admin = boa.env.generate_address("admin")
    boa.env.eoa = admin
    lender = boa.env.generate_address("lender")
    system = deploy_system(BoaBackend(ROOT / "contracts"), admin, lender=lender, seed_liquidity=LIQUIDITY)
    guardian = boa.env.generate_address("guardian")
    system.vault.grantRole(system.vault.GUARDIAN_ROLE(), guardian)
    risk_keeper = boa.env.generate_address("risk_keeper")
    system.oracle.grantRole(system.oracle.RISK_KEEPER_ROLE(), risk_keeper)
    users = {u: boa.env.generate_address(u) for u in USERS}
    liquidator = boa.env.generate_address("liquidator")
    for who in (*users.values(), liquidator):
        for sym in SYMBOLS:
            fund(system, who, sym, 10**30)
    # the deployment's objects (compiled contracts, the compiler's ASTs) live as long as the
    # process: the collector stops scanning them after every few thousand allocations
    gc.collect()
    gc.freeze()
    return dict(
        admin=admin, guardian=guardian, risk_keeper=risk_keeper, oracle=system.oracle, vault=system.vault, lens=system.lens, tokens=system.tokens,
        feeds=system.feeds, users=users, liquidator=liquidator, lender=lender, oref=system.oracle_ref,
        vref=system.vault_ref,
    )


@pytest.fixture(scope="module", autouse=True)
def _deployed_world():
    """Deploy before the first example: titanoboa's pytest plugin rolls every
    hypothesis example back, which would take a world deployed inside one with it."""
    world()


amounts = st.one_of(
    st.sampled_from([0, 1]),
    st.integers(1, 10**4),
    st.floats(0.001, 2.0).map(lambda x: x),  # fraction of a "unit" position, scaled per asset below
)
UNIT = {"USD": 20_000 * 10**6, "WETH": 5 * 10**18, "WBTC": 10**7}


def scaled(symbol: str, a: int | float) -> int:
    """A token amount: raw wei for ints, a multiple of a unit position for floats."""
    return int(a * UNIT[symbol]) if isinstance(a, float) else int(a)


class VaultMachine(RuleBasedStateMachine):
    """Chain and reference side by side; one instance per hypothesis example."""

    def __init__(self) -> None:
        super().__init__()
        w = world()
        self.w = w
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        self.oref = copy.deepcopy(w["oref"])
        self.vref = copy.deepcopy(w["vref"])
        self.vref.oracle = self.oref
        self.vault, self.oracle = w["vault"], w["oracle"]
        self.addr = {s: str(w["tokens"][s].address) for s in SYMBOLS}
        self.prices = dict(START)
        self.steps = 0
        self.last_reason: str | None = None
        # the invariants' view calls, run again only when what they read changed
        self.views = ViewCache()

    def teardown(self) -> None:
        before = STATS["stateful"]
        STATS["stateful"] += max(self.steps - 1, 0)
        if settings._current_profile == "deep" and STATS["stateful"] // 10_000 > before // 10_000:
            # progress of the long run (`make deep` runs pytest with -s)
            print(f"\n[deep] {STATS['stateful']:,} stateful steps, every invariant held so far", flush=True)
        self.anchor.__exit__(None, None, None)

    # -- the differential harness

    @property
    def now(self) -> int:
        return boa.env.timestamp

    def mirror(self, what: str, reference_call, chain_call):  # type: ignore[no-untyped-def]
        """Run both sides: the chain reverts (with the same reason) iff the reference rejects."""
        self.last_reason = None
        try:
            expected = reference_call()
        except ref.Reject as exc:
            self.last_reason = exc.reason
            event(f"{what}: {exc.reason}")
            with boa.reverts(exc.reason), quiet_reverts():
                chain_call()
            return None
        except ArithmeticError:
            event(f"{what}: overflow")
            with boa.reverts(), quiet_reverts():
                chain_call()
            return None
        event(f"{what}: ok")
        got = chain_call()
        return expected, got

    # -- rules

    @rule(user=st.sampled_from(USERS), sym=st.sampled_from(SYMBOLS), a=amounts)
    def deposit(self, user: str, sym: str, a: int | float) -> None:
        who, amount = self.w["users"][user], scaled(sym, a)
        before = self.w["tokens"][sym].balanceOf(who)

        def chain() -> None:
            with boa.env.prank(who):
                self.vault.deposit(self.addr[sym], amount)

        a = self.addr[sym]
        scaled_before = self.vref.markets[a].scaled_deposits
        out = self.mirror("deposit", lambda: self.vref.deposit(str(who), a, amount, self.now), chain)
        # deposits are never refused for a valid amount: not by price faults, breakers or pauses;
        # the one exception is the supply cap (docs/design.md §2.8)
        assert (out is not None) == (amount > 0) or self.last_reason == "vault: supply cap reached"
        if out is not None:
            assert before - self.w["tokens"][sym].balanceOf(who) == amount
            cap = self.vref.asset_params[a][ref.A_SUPPLY_CAP]
            m = self.vref.markets[a]
            if cap and m.scaled_deposits > scaled_before:  # a deposit that added supply stays under the cap
                assert self.vault.market(a)[2] <= cap * 10 ** self.vref.decimals[a]

    @rule(user=st.sampled_from(USERS), sym=st.sampled_from(SYMBOLS), a=amounts)
    def withdraw(self, user: str, sym: str, a: int | float) -> None:
        who, amount = self.w["users"][user], scaled(sym, a)

        def chain() -> None:
            with boa.env.prank(who):
                self.vault.withdraw(self.addr[sym], amount)

        self.mirror("withdraw", lambda: self.vref.withdraw(str(who), self.addr[sym], amount, self.now), chain)

    @rule(user=st.sampled_from(USERS), sym=st.sampled_from(SYMBOLS), a=amounts)
    def borrow(self, user: str, sym: str, a: int | float) -> None:
        who, amount = self.w["users"][user], scaled(sym, a)

        def chain() -> None:
            with boa.env.prank(who):
                self.vault.borrow(self.addr[sym], amount)

        self.mirror("borrow", lambda: self.vref.borrow(str(who), self.addr[sym], amount, self.now), chain)

    @rule(
        user=st.sampled_from(USERS),
        col=st.sampled_from(SYMBOLS),
        debt=st.sampled_from(SYMBOLS),
        size=st.floats(0.05, 2.0),
        leverage=st.one_of(st.floats(0.5, 0.999), st.floats(0.9, 1.05)),
    )
    def open_position(self, user: str, col: str, debt: str, size: float, leverage: float) -> None:
        """Deposit collateral, then borrow a fraction of the borrowing power the
        reference reports (above 1: must be refused for insufficient health)."""
        self.deposit(user, col, size)
        who = str(self.w["users"][user])
        try:
            h = self.vref.health(who, self.now)
            r = self.oref.risk(self.addr[debt], self.now)
        except ref.Reject:
            return
        room = h.init_assets - h.init_liabilities
        if room <= 0:
            return
        dec = self.vref.decimals[self.addr[debt]]
        amount = int(room * leverage * 10**dec * WAD // (r.price * (WAD + r.h_init)))
        self.borrow(user, debt, max(amount, 1))

    @rule(user=st.sampled_from(USERS), sym=st.sampled_from(SYMBOLS), a=st.one_of(amounts, st.just(UMAX)))
    def repay(self, user: str, sym: str, a: int | float) -> None:
        who, amount = self.w["users"][user], scaled(sym, a) if a != UMAX else UMAX

        def chain() -> int:
            with boa.env.prank(who):
                return self.vault.repay(self.addr[sym], amount)

        in_debt = self.vref.balance(str(who), self.addr[sym], self.now) < 0
        out = self.mirror("repay", lambda: self.vref.repay(str(who), self.addr[sym], amount, self.now), chain)
        # repayments are never refused while there is debt
        assert (out is not None) == (amount > 0 and in_debt)
        if out is not None:
            assert out[0] == out[1]  # the amount repaid

    @rule(
        sym=st.sampled_from(("WETH", "WBTC")),
        move=st.one_of(
            st.floats(0.9, 1.1), st.floats(0.4, 1.8), st.sampled_from([0.05, 0.5, 0.7, 0.8, 0.85, 0.9, 1.15, 1.3, 2.5])
        ),
        fault=st.integers(0, 15),
        dt=st.integers(1, 3_600),
    )
    def move_price(self, sym: str, move: float, fault: int, dt: int) -> None:
        """After dt seconds, push a new price (a jump when the move is large), now
        and then a non-positive answer (fault 0: 0, fault 1: -1), and poke every asset."""
        boa.env.time_travel(seconds=dt)
        self.prices[sym] = max(self.prices[sym] * move, 1e-6)
        answer = {0: 0, 1: -1}.get(fault, to_feed_answer(self.prices[sym]))
        self.w["feeds"][sym].push(answer, 0)
        self.poke_all()

    @rule(
        sym=st.sampled_from(("WETH", "WBTC")),
        answer=st.sampled_from([10**40, (2**128 - 1) // 10**10 + 1, 2**255 - 1]),
    )
    def absurd_answer(self, sym: str, answer: int) -> None:
        """A feed answer out of range (1e40, one unit above 2**128 - 1 WAD after scaling, max
        int256): an unusable round that trips the breaker, never an overflow (docs/design.md §7.2)."""
        boa.env.time_travel(seconds=60)
        self.w["feeds"][sym].push(answer, 0)
        self.poke_all()

    def _set_param(self, sym: str, param: int, value: int) -> None:
        """The admin's set_param on both sides: the chain reverts iff the reference rejects."""
        self.mirror(
            "set_param",
            lambda: self.oref.set_param(self.addr[sym], param, value, self.now),
            lambda: self.oracle.set_param(self.addr[sym], param, value, sender=self.w["admin"]),
        )

    @rule(
        sym=st.sampled_from(SYMBOLS),
        change=st.one_of(
            st.tuples(st.just(ref.P_H_MIN_INIT), st.sampled_from([0, 5, 12, 20, 35, 70]).map(lambda x: x * WAD // 100)),
            st.tuples(st.just(ref.P_DD_WINDOW), st.sampled_from([0, 600, 3_600, 6 * 3_600, 86_400])),
            st.tuples(st.just(ref.P_DD_TRIP), st.sampled_from([0, 3, 8, 15]).map(lambda x: x * WAD // 100)),
        ),
    )
    def set_oracle_param(self, sym: str, change: tuple[int, int]) -> None:
        """Governance moves the initial floor h_min_init (70 % is above h_max: refused) or the
        drawdown trip's window and threshold (docs/design.md §4.3, §7.8)."""
        self._set_param(sym, *change)

    @rule(
        pair=st.sampled_from([("WETH", "WBTC"), ("USD", "WETH"), ("WBTC", "USD"), ("WETH", "WETH")]),
        bounds=st.one_of(
            st.sampled_from([(-100, 100), (34, 98), (0, 0), (90, 100), (-100, -100), (100, 100), (60, 40)]),
            st.tuples(st.integers(-101, 101), st.integers(-101, 101)),
        ),
        floor=st.sampled_from([None, 0, 1, 30, 50, 100, 101]),
    )
    def set_portfolio(self, pair: tuple[str, str], bounds: tuple[int, int], floor: int | None) -> None:
        """Governance sets a pair's correlation bounds (percent; outside [-1, 1], rho_lo above
        rho_hi or the same asset twice: refused) and the portfolio floor (percent; 0 and above
        100 refused), docs/design.md §5.6; the chain reverts iff the reference rejects."""
        a, b = self.addr[pair[0]], self.addr[pair[1]]
        lo, hi = bounds[0] * WAD // 100, bounds[1] * WAD // 100
        self.mirror("set_correlation", lambda: self.oref.set_correlation(a, b, lo, hi),
                    lambda: self.oracle.set_correlation(a, b, lo, hi, sender=self.w["admin"]))
        if floor is not None:
            f = floor * WAD // 100
            self.mirror("set_portfolio_floor", lambda: self.oref.set_portfolio_floor(f),
                        lambda: self.oracle.set_portfolio_floor(f, sender=self.w["admin"]))

    @rule(
        sym=st.sampled_from(SYMBOLS),
        mode=st.sampled_from([None, 0, 1, 2, 3]),
        pct=st.one_of(st.sampled_from([0, 49, 50, 100, 150, 300, 301]), st.integers(0, 400)),
    )
    def push_forecast(self, sym: str, mode: int | None, pct: int) -> None:
        """Governance sets the forecast mode (off, replace, max, blend) when ``mode`` says so,
        then the risk keeper pushes ``pct`` % of the realized sigma (docs/design.md §3.7): out of
        [50 %, 300 %], within a heartbeat of the last push, beyond 50 % of a live push, or with
        the mode off, refused; the chain reverts iff the reference rejects."""
        if mode is not None:
            self._set_param(sym, ref.P_F_MODE, mode)
        a = self.addr[sym]
        sigma = self.oracle.sigma(a, ref.SECONDS_PER_YEAR) * pct // 100
        self.mirror("push_forecast", lambda: self.oref.push_forecast(a, sigma, self.now),
                    lambda: self.oracle.push_forecast(a, sigma, sender=self.w["risk_keeper"]))

    @rule(
        sym=st.sampled_from(("WETH", "WBTC")),
        step=st.sampled_from([0.98, 0.985, 1.02]),
        rounds=st.integers(2, 12),
        dt=st.sampled_from([300, 900, 1_800]),
        arm=st.sampled_from([None, (1_800, 5), (6 * 3_600, 10)]),
    )
    def slide(self, sym: str, step: float, rounds: int, dt: int, arm: tuple[int, int] | None) -> None:
        """A slide as a 0.5 %-deviation feed publishes it (FTT 2022-11): ``rounds`` moves of
        1.5-2 %, each far below the jump test, after arming the drawdown trip (window s,
        threshold %) when ``arm`` says so (docs/design.md §7.8)."""
        if arm is not None:
            self._set_param(sym, ref.P_DD_WINDOW, arm[0])
            self._set_param(sym, ref.P_DD_TRIP, arm[1] * WAD // 100)
        for _ in range(rounds):
            self.move_price(sym, step, 2, dt)

    @rule(sym=st.sampled_from(SYMBOLS))
    def refresh_feed(self, sym: str) -> None:
        """A heartbeat round at the same price."""
        self.w["feeds"][sym].push(to_feed_answer(self.prices[sym]), 0)

    @rule()
    def poke_all(self) -> None:
        rounds = {s: _round(self.w["feeds"][s], self.views.call) for s in SYMBOLS}
        self.oracle.poke_many([self.addr[s] for s in SYMBOLS])
        for s in SYMBOLS:
            self.oref.poke(self.addr[s], rounds[s], self.now)

    @rule(seconds=st.one_of(st.integers(1, 3_600), st.sampled_from([4_201, 86_400, 3 * 86_400])))
    def warp(self, seconds: int) -> None:
        """Let time pass (beyond heartbeat + grace the prices go stale)."""
        boa.env.time_travel(seconds=seconds)

    @rule(
        user=st.sampled_from(USERS),
        pair=st.sampled_from([(d, c) for d in SYMBOLS for c in SYMBOLS if d != c] + [("USD", "USD")]),
        a=st.one_of(st.just(UMAX), amounts),
    )
    def liquidate(self, user: str, pair: tuple[str, str], a: int | float) -> None:
        self._liquidate(user, pair, a)

    @rule(user=st.sampled_from(USERS))
    def keeper(self, user: str) -> None:
        """A keeper liquidates the account's largest debt against its largest collateral."""
        who = str(self.w["users"][user])
        best: dict[int, tuple[int, str]] = {}
        for s in SYMBOLS:
            bal = self.vref.balance(who, self.addr[s], self.now)
            value = abs(bal) * self.oref.assets[self.addr[s]].price // 10 ** self.vref.decimals[self.addr[s]]
            side = 1 if bal > 0 else -1 if bal < 0 else 0
            if side and value > best.get(side, (-1, ""))[0]:
                best[side] = (value, s)
        if 1 in best and -1 in best:
            self._liquidate(user, (best[-1][1], best[1][1]), UMAX)

    def _liquidate(self, user: str, pair: tuple[str, str], a: int | float) -> None:
        debt, col = pair
        who, liq = self.w["users"][user], self.w["liquidator"]
        max_repay = a if a == UMAX else scaled(debt, a)
        tok_d, tok_c = self.w["tokens"][debt], self.w["tokens"][col]
        before = (tok_d.balanceOf(liq), tok_c.balanceOf(liq))
        p_debt = self.oref.assets[self.addr[debt]].price
        p_col = self.oref.assets[self.addr[col]].price

        def chain():  # type: ignore[no-untyped-def]
            with boa.env.prank(liq):
                return self.vault.liquidate(who, self.addr[debt], self.addr[col], max_repay, 0)

        out = self.mirror(
            "liquidate",
            lambda: self.vref.liquidate(str(liq), str(who), self.addr[debt], self.addr[col], max_repay, 0, self.now),
            chain,
        )
        if out is None:
            return
        (repaid, seized, _cut, settled), got = out
        if settled:
            event("liquidate: settled bad debt")
        assert tuple(got) == (repaid, seized)
        if debt != col:
            assert before[0] - tok_d.balanceOf(liq) == repaid
            assert tok_c.balanceOf(liq) - before[1] == seized
        # a liquidator never gets more than the maximum bonus allows (value in USD, WAD)
        bonus_max = self.vref.params[ref.V_BONUS_MAX]
        repaid_value = repaid * p_debt // 10 ** self.vref.decimals[self.addr[debt]]
        seized_value = seized * p_col // 10 ** self.vref.decimals[self.addr[col]]
        assert seized_value <= repaid_value * (WAD + bonus_max) // WAD + 1

    @rule(
        user=st.sampled_from(USERS),
        col=st.sampled_from(("WETH", "WBTC")),
        debt=st.sampled_from(SYMBOLS),
        drop=st.sampled_from([0.85, 0.7, 0.5, 0.2]),
        wait=st.integers(60, 3_000),
    )
    def crash(self, user: str, col: str, debt: str, drop: float, wait: int) -> None:
        """A directed path through liquidation to bad debt, which random rules seldom reach:
        open a position near its limit, let ``wait`` seconds of interest feed the insurance
        funds (inside the heartbeat, so prices stay fresh), move ``col`` by ``drop`` and let
        the keeper liquidate; the liquidation that exhausts the collateral settles the bad
        debt, insurance fund first (docs/design.md §6)."""
        if col == debt:
            return
        self.open_position(user, col, debt, 1.0, 0.99)
        boa.env.time_travel(seconds=wait)
        self.move_price(col, drop, 2, 1)
        self.keeper(user)

    @rule(user=st.sampled_from(USERS))
    def settle(self, user: str) -> None:
        who = self.w["users"][user]
        self.mirror("settle", lambda: self.vref.settle_bad_debt(str(who), self.now), lambda: self.vault.settle_bad_debt(who))

    @rule(
        sym=st.sampled_from(SYMBOLS),
        cap=st.sampled_from([None, 0.0, 0.5, 1.0, 1.001, 1.2, 3.0]),
        kappa_agg=st.sampled_from([0, WAD // 100, WAD // 20, WAD // 4, WAD]),
    )
    def thin_collateral(self, sym: str, cap: float | None, kappa_agg: int) -> None:
        """The admin sets one asset's supply cap (whole tokens: ``cap`` times its total
        deposits, at least 1; 0.0: none; None: unchanged) and concentration coefficient
        (docs/design.md §2.8, §4.3). A cap below the total refuses new supply only: repayments
        and liquidations keep running (the invariants and the other rules hold them)."""
        a = self.addr[sym]
        dec = self.vref.decimals[a]
        settings_ = [(ref.A_KAPPA_AGG, kappa_agg)]
        if cap is not None:
            total = self.vref.totals(a, self.now)[2]
            settings_.append((ref.A_SUPPLY_CAP, 0 if cap == 0.0 else max(1, int(total * cap) // 10**dec)))
        for param, value in settings_:
            self.vault.set_asset_param(a, param, value, sender=self.w["admin"])
            self.vref._accrue(a, self.now)  # the contract accrues at the old parameters first
            self.vref.asset_params[a][param] = value
            assert self.vault.asset_params(a, param) == value
        event(f"thin collateral: cap {cap}, kappa_agg {kappa_agg}")

    @rule(actions=st.sampled_from([1, 2, 4, 7]), mode=st.integers(0, 3))
    def pause(self, actions: int, mode: int) -> None:
        """Guardian pauses (mode 0) or admin unpauses (modes 1-3)."""
        if mode:
            self.vault.unpause(actions, sender=self.w["admin"])
            self.vref.paused &= ~actions
        else:
            self.vault.pause(actions, sender=self.w["guardian"])
            self.vref.paused |= actions

    # -- state equality and invariants after every rule

    @invariant()
    def oracle_matches(self) -> None:
        self.steps += 1  # invariants run once after __init__, then once per rule
        view = self.views.call
        assert view(self.oracle.n_tripped) == self.oref.n_tripped
        for s in SYMBOLS:
            c = view(self.oracle.assets, self.addr[s])
            r = self.oref.assets[self.addr[s]]
            assert (c.price, c.updated_at, c.var_fast, c.var_slow) == (r.price, r.updated_at, r.var_fast, r.var_slow)
            assert (c.h_maint, c.h_target, c.h_time) == (r.h_maint, r.h_target, r.h_time)
            assert (c.breaker, c.tripped_at, c.invalid, c.forecast) == (r.breaker, r.tripped_at, r.invalid, r.forecast)
            assert tuple(view(self.oracle.forecast_of, self.addr[s])) == self.oref.forecast_of(self.addr[s])
            assert view(self.oracle.haircuts, self.addr[s])[1] == self.oref.h_init_now(self.addr[s], self.now)
            assert tuple(view(self.oracle.drawdown_ref, self.addr[s])) == self.oref.dd_ref.get(self.addr[s], (0, 0))

    @invariant()
    def vault_matches(self) -> None:
        now, view = self.now, self.views.call
        for s in SYMBOLS:
            a = self.addr[s]
            assert tuple(view(self.vault.market, a)) == self.vref.totals(a, now)
            _di, _bi, deposits, borrows, insurance = self.vref.totals(a, now)
            # token holdings cover deposits net of borrows plus the insurance fund
            assert view(self.w["tokens"][s].balanceOf, self.vault.address) >= deposits - borrows + insurance
        users = [self.w["users"][u] for u in USERS]
        # the lens prices every listed asset first, in listing order: it reverts with the
        # first asset the reference cannot value
        reason = None
        for s in SYMBOLS:
            try:
                self.oref.risk(self.addr[s], now)
            except ref.Reject as exc:
                reason = exc.reason
                break
        if reason is not None:
            with boa.reverts(reason), quiet_reverts():
                view(self.w["lens"].accounts_view, users)
            for who in users:
                for s in SYMBOLS:
                    assert view(self.vault.balance_of, who, self.addr[s]) == self.vref.balance(str(who), self.addr[s], now)
            return
        ts, rows = view(self.w["lens"].accounts_view, users)
        assert ts == now
        for who, row in zip(users, rows):
            assert tuple(row[1][:3]) == tuple(self.vref.balance(str(who), self.addr[s], now) for s in SYMBOLS)
            want = self.vref.health(str(who), now)
            assert tuple(row[2]) == (
                want.maint_assets, want.maint_liabilities, want.init_assets, want.init_liabilities, want.reduce_only
            )


TestVaultStateMachine = VaultMachine.TestCase
# max_examples comes from the loaded hypothesis profile (tests/conftest.py: ci or deep)
TestVaultStateMachine.settings = settings(stateful_step_count=40, deadline=None)
