"""Mirrored vault actions for unit tests: each action on chain and in ``system.vault_ref``.

``Book`` sends a vault action through Ape and applies the same action to the
reference mirror at the receipt's block time (Unix seconds), so that after
every step the chain's views and storage can be held to the reference
(``check``), and a rejection can be held to "named error on chain and in the
reference, nothing moved" (``rejects``, ``rejects_liquidation``). Amounts are
in token decimals; values and health sums in WAD USD (WAD = 1e18).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import ape
import pytest

from volmargin import reference as ref

#: Listed symbols in the vault's `listed` order (the default deployment, volmargin.params.TOKENS).
SYMS = ("USD", "WETH", "WBTC")
UMAX = 2**256 - 1


class Book:
    """Drives the vault and mirrors each action in ``system.vault_ref`` at the
    receipt's block time; compares the chain with the mirror.

    ``accounts``: the accounts ``check()`` and ``rejects()`` look at by default
    (the first one)."""

    def __init__(self, system: Any, chain: Any, accounts: tuple[Any, ...] = ()) -> None:
        self.s, self.v, self.chain = system, system.vault, chain
        self.accounts = list(accounts)
        self.toks = [system.tokens[x] for x in SYMS]
        self.p = system.vault_ref.params  # global parameters (V_* order)

    @property
    def ref(self) -> ref.VaultRef:
        """The reference mirror of the vault (replaced by the per-test isolation, so read it each time)."""
        return self.s.vault_ref

    def a(self, sym: str) -> str:
        """Token address of ``sym``."""
        return self.s.address(sym)

    def now(self) -> int:
        """Head block's timestamp, s."""
        return self.chain.blocks.head.timestamp

    # -- mirrored actions

    def deposit(self, who: Any, sym: str, amount: int, account: Any = None) -> Any:
        """``who`` deposits ``amount`` (token decimals) for ``account`` (default ``who``); the receipt."""
        account = account or who
        r = self.v.deposit(self.s.tokens[sym], amount, account, sender=who)
        self.ref.deposit(str(account.address), self.a(sym), amount, r.timestamp)
        return r

    def withdraw(self, who: Any, sym: str, amount: int) -> Any:
        """``who`` withdraws ``amount`` (token decimals); the receipt."""
        r = self.v.withdraw(self.s.tokens[sym], amount, sender=who)
        self.ref.withdraw(str(who.address), self.a(sym), amount, r.timestamp)
        return r

    def borrow(self, who: Any, sym: str, amount: int) -> Any:
        """``who`` borrows ``amount`` (token decimals); the receipt."""
        r = self.v.borrow(self.s.tokens[sym], amount, sender=who)
        self.ref.borrow(str(who.address), self.a(sym), amount, r.timestamp)
        return r

    def repay(self, who: Any, sym: str, amount: int, account: Any = None) -> tuple[Any, int]:
        """``who`` repays up to ``amount`` of ``account``'s debt; (receipt, amount paid), the
        Repay event's amount checked against the reference's."""
        account = account or who
        r = self.v.repay(self.s.tokens[sym], amount, account, sender=who)
        paid = self.ref.repay(str(account.address), self.a(sym), amount, r.timestamp)
        (ev,) = r.events.filter(self.v.Repay)
        assert ev.amount == paid
        return r, paid

    def set_asset_param(self, sym: str, param: int, value: int) -> Any:
        """Admin sets asset parameter ``param`` (A_* index) of ``sym``; the receipt."""
        r = self.v.set_asset_param(self.s.tokens[sym], param, value, sender=self.s.admin)
        self.ref._accrue(self.a(sym), r.timestamp)  # the contract accrues at the old rate first
        self.ref.asset_params[self.a(sym)][param] = value
        return r

    def set_param(self, param: int, value: int) -> None:
        """Admin sets global parameter ``param`` (V_* index)."""
        self.v.set_param(param, value, sender=self.s.admin)
        self.ref.params[param] = value

    def debt(self, who: Any, sym: str, now: int) -> int:
        """``who``'s debt in ``sym`` at ``now`` per the reference, token decimals (0 without debt)."""
        return -self.ref.balance(str(who.address), self.a(sym), now)

    def liquidate(self, liq: Any, who: Any, dsym: str, csym: str, max_repay: int = UMAX,
                  min_seize: int = 0) -> dict[str, Any]:
        """Liquidates on chain and in the reference; checks the static call's
        return value, the event, the liquidator's token deltas and any
        BadDebtSettled events against the reference. Returns a dict with the
        reference's view of the pre-liquidation state at the block time."""
        td, tc = self.s.tokens[dsym], self.s.tokens[csym]
        args = (who, td, tc, max_repay, min_seize)
        # the function's return value, by a static call at the head block, against the reference
        static = self.v.liquidate.call(who, td, tc, max_repay, 0, sender=liq)
        trial = copy.deepcopy(self.ref)
        want = trial.liquidate(str(liq.address), str(who.address), self.a(dsym), self.a(csym), max_repay, 0, self.now())
        assert tuple(static) == want[:2]
        d0, c0 = td.balanceOf(liq), tc.balanceOf(liq)
        r = self.v.liquidate(*args, sender=liq)
        pre = self._before_liquidation(who, dsym, csym, r.timestamp)
        repaid, seized, cut, settled = self.ref.liquidate(
            str(liq.address), str(who.address), self.a(dsym), self.a(csym), max_repay, min_seize, r.timestamp
        )
        (ev,) = r.events.filter(self.v.Liquidation)
        assert (ev.account, ev.liquidator, ev.debt_asset, ev.collateral_asset) == (
            who.address, liq.address, td.address, tc.address)
        assert (ev.repaid, ev.seized, ev.insurance_cut, ev.bonus) == (repaid, seized, cut, pre["bonus"])
        assert d0 - td.balanceOf(liq) == repaid and tc.balanceOf(liq) - c0 == seized
        bad = [(e.asset, e.debt, e.covered_by_insurance, e.socialized) for e in r.events.filter(self.v.BadDebtSettled)]
        assert bad == settled
        pre.update(r=r, ev=ev, repaid=repaid, seized=seized, cut=cut, settled=settled)
        return pre

    def _before_liquidation(self, who: Any, dsym: str, csym: str, now: int) -> dict[str, Any]:
        """The reference's health, debt, collateral, bonus and accrued debt market of ``who`` at ``now``."""
        h = self.ref.health(str(who.address), now)
        return {
            "health": h,
            "debt": self.debt(who, dsym, now),
            "col": self.ref.balance(str(who.address), self.a(csym), now),
            "bonus": ref.bonus(h.maint_assets, h.maint_liabilities, self.p[ref.V_BONUS_MIN],
                               self.p[ref.V_BONUS_SLOPE], self.p[ref.V_BONUS_MAX]),
            "market_d": self.ref.accrued(self.a(dsym), now)[0],
            "now": now,
        }

    def max_borrow(self, who: Any, sym: str, now: int, hi: int, vref: ref.VaultRef | None = None) -> int:
        """The largest borrow of ``sym`` (token decimals, below ``hi``) that ``vref`` (default the
        mirror) accepts for ``who`` at ``now`` (s): a bisection on copies, so nothing moves."""
        vref = vref or self.ref
        lo = 0
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                copy.deepcopy(vref).borrow(str(who.address), self.a(sym), mid, now)
                lo = mid
            except ref.Reject:
                hi = mid
        return lo

    # -- state

    def stored(self, who: Any, liq: Any = None) -> tuple[Any, ...]:
        """Raw storage of ``who`` and the markets, token holdings of ``who``, the
        liquidator (if given) and the vault, the oracle's stored asset states
        (snapshot less the ramped h_maint, which is a function of time), the
        liquidation-cap window: none may move on a rejection."""
        _, snap = self.s.lens.snapshot(self.toks)
        return (
            tuple(self.v.scaled_balances(who, t) for t in self.toks),
            tuple(tuple(self.v.stored_market(t)) for t in self.toks),
            tuple(t.balanceOf(u) for u in (who, liq, self.v) if u is not None for t in self.toks),
            tuple((x.price, x.updated_at, x.var_fast, x.var_slow, x.h_target, x.breaker, x.invalid) for x in snap),
            (self.v.liq_window_start(), self.v.liq_window_used()),
        )

    def views(self, who: Any) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
        """What the user sees: ``balance_of`` and ``market``, accrued to now."""
        return (
            tuple(self.v.balance_of(who, t) for t in self.toks),
            tuple(tuple(self.v.market(t)) for t in self.toks),
        )

    def ref_views(self, who: Any, now: int) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
        """``views`` per the reference at ``now``."""
        return (
            tuple(self.ref.balance(str(who.address), self.a(x), now) for x in SYMS),
            tuple(self.ref.totals(self.a(x), now) for x in SYMS),
        )

    def check(self, *who: Any) -> None:
        """Chain == the reference at the head block's time: stored markets, views
        and position masks (for ``who``, default the first of ``accounts``), and the
        liquidation-cap window."""
        now = self.now()
        for sym, t in zip(SYMS, self.toks):
            m = self.ref.markets[self.a(sym)]
            assert tuple(self.v.stored_market(t)) == (
                m.deposit_index, m.borrow_index, m.scaled_deposits, m.scaled_borrows, m.last_accrual, m.insurance
            ), sym
        for u in who or self.accounts[:1]:
            assert self.views(u) == self.ref_views(u, now), u
            assert self.v.position_mask(u) == self.ref.masks.get(str(u.address), 0)
        assert (self.v.liq_window_start(), self.v.liq_window_used()) == (self.ref.liq_window_start,
                                                                         self.ref.liq_window_used)

    def rejects(self, reason: str, chain_call: Callable[[], Any], ref_call: Callable[[int], Any] | None = None,
                who: Any = None, liq: Any = None) -> None:
        """``chain_call`` reverts with ``reason``; ``ref_call(now)`` (if given) rejects with
        the same reason; nothing moved for ``who`` (default the first of ``accounts``)
        and ``liq``: storage, token holdings, oracle state and the cap window are
        identical, and the views are the untouched reference's (identical to before
        when nothing accrues)."""
        who = who or self.accounts[0]
        before = self.stored(who, liq)
        no_interest = all(m[3] == 0 for m in before[1])
        views_before = self.views(who) if no_interest else None
        with ape.reverts(reason):
            chain_call()
        now = self.now()
        if ref_call is not None:
            with pytest.raises(ref.Reject) as e:
                ref_call(now)
            assert e.value.reason == reason
        assert self.stored(who, liq) == before
        after = self.views(who)
        assert after == self.ref_views(who, now)
        if no_interest:
            assert after == views_before

    def rejects_liquidation(self, reason: str, liq: Any, args: tuple[Any, ...], who: Any) -> None:
        """``vault.liquidate(*args)`` sent by ``liq`` is rejected with ``reason`` on chain and
        in the reference, and nothing moved (``rejects``)."""
        ref_args = [str(x.address) if hasattr(x, "address") else x for x in args]
        self.rejects(reason, lambda: self.v.liquidate(*args, sender=liq),
                     lambda now: self.ref.liquidate(str(liq.address), *ref_args, now), who=who, liq=liq)
