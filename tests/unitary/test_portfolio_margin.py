"""Portfolio margin (issue #14 item 1, docs/design.md §5.6): the oracle's correlation pairs
and floor, its ``portfolio_scales`` against the exact reference, and the vault's health under
it. The default deployment sets the WETH-WBTC pair at (0.34, 0.98) and the floor at 0.5
(``volmargin.params``); every other pair has no offset.

Properties held on chain and in the reference:

- ``portfolio_scales`` equals ``reference.portfolio.portfolio_scales`` bit for bit, and lies in
  ``[floor, 1]`` for any requirements and bounds;
- no account's requirement (value minus maintenance-weighted value) falls below ``floor`` times
  its per-asset requirement (the same book with the floor at 1), up to one wei per leg;
- a long-only single-collateral account, and any book whose pairs have no offset, is margined
  exactly as with portfolio margin off;
- a hedged book (WETH deposit, WBTC borrow) may borrow more than per-asset margin allows.
"""

from __future__ import annotations

import copy

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from book import Book
from volmargin import params as P
from volmargin import reference as ref
from volmargin.reference import portfolio as pf

WAD = ref.WAD
ZERO = "0x" + "00" * 20
E6, E8, E18 = 10**6, 10**8, 10**18


def _per_asset(vref: ref.VaultRef) -> ref.VaultRef:
    """A copy of the reference with portfolio margin off (floor 1e18)."""
    twin = copy.deepcopy(vref)
    twin.oracle.portfolio_floor = WAD
    return twin


def _requirement(h: ref.Health, vref: ref.VaultRef, who: str, now: int) -> int:
    """Maintenance requirement of ``who``: value of deposits less borrows (WAD USD) minus
    the maintenance health, i.e. ``sum(v h)`` over its legs (with the weights' rounding)."""
    value = 0
    for asset in vref.listed:
        bal = vref.balance(who, asset, now)
        if bal:
            r = vref.oracle.risk(asset, now)
            dec = vref.decimals[asset]
            value += ref.asset_value(bal, r.price, dec) if bal > 0 else -ref.liability_value(-bal, r.price, dec)
    return value - h.maint


# ---------------------------------------------------------------- the pair word and the scale (reference)

rhos = st.integers(-WAD, WAD)


@given(a=rhos, b=rhos)
def test_pair_word_round_trips_and_the_empty_word_is_no_offset(a, b):
    lo, hi = min(a, b), max(a, b)
    w = pf.pack_pair(lo, hi)
    assert pf.rho_bounds(w) == (lo, hi)
    assert pf.offset(w, True) == WAD - hi and pf.offset(w, False) == WAD + lo
    assert pf.rho_bounds(pf.NO_PAIR) == (-WAD, WAD)
    assert pf.offset(pf.NO_PAIR, True) == pf.offset(pf.NO_PAIR, False) == 0


reqs = st.lists(st.tuples(st.booleans(), st.integers(0, 10**30), st.integers(0, 10**30)), min_size=1, max_size=8)


@given(legs=reqs, floor=st.integers(1, WAD), data=st.data())
@settings(max_examples=300)
def test_reference_scale_lies_between_the_floor_and_one(legs, floor, data):
    """Any requirements on any sides and any bounds (even a box no correlation matrix
    satisfies): floor <= lambda <= 1, so R = lambda S is never below floor x S."""
    names = [f"0x{i + 1:040x}" for i in range(len(legs))]
    pairs = {}
    for i in range(len(legs)):
        for j in range(i + 1, len(legs)):
            a, b = data.draw(rhos), data.draw(rhos)
            pairs[pf.pair_key(names[i], names[j])] = pf.pack_pair(min(a, b), max(a, b))
    borrows, um, ui = zip(*legs)
    lam_m, lam_i = pf.scales(names, borrows, um, ui, pairs, floor)
    assert floor <= lam_m <= WAD and floor <= lam_i <= WAD


@given(legs=reqs, floor=st.integers(1, WAD))
def test_no_offset_pairs_give_exactly_one(legs, floor):
    """Every pair at (-1, +1): lambda is exactly 1 (the per-asset sum)."""
    names = [f"0x{i + 1:040x}" for i in range(len(legs))]
    pairs = {pf.pair_key(names[i], names[j]): pf.pack_pair(-WAD, WAD)
             for i in range(len(legs)) for j in range(i + 1, len(legs))}
    borrows, um, ui = zip(*legs)
    assert pf.scales(names, borrows, um, ui, pairs, floor) == (WAD, WAD)


def test_scale_of_a_perfect_hedge_and_of_two_independent_legs():
    """Hand-computed: two equal opposite legs with rho_lo = 1 offset completely (the floor
    binds); two equal same-signed legs with rho_hi = 0 give sqrt(1/2), rounded up."""
    a, b = "0x" + "11" * 20, "0x" + "22" * 20
    hedge = {pf.pair_key(a, b): pf.pack_pair(WAD, WAD)}
    assert pf.scales([a, b], [False, True], [10**20, 10**20], [1, 1], hedge, WAD // 4) == (WAD // 4, WAD // 4)
    indep = {pf.pair_key(a, b): pf.pack_pair(0, 0)}
    lam, _ = pf.scales([a, b], [False, False], [10**20, 10**20], [0, 0], indep, 1)
    assert lam == 707_106_781_186_547_525  # ceil(sqrt(0.5) * 1e18)
    # a leg not named (no pair) still counts in the sum: a third of it unpaired, rho 0 on the rest
    lam3, _ = pf.scales([a, b, None], [False, False, False], [10**20] * 3, [0] * 3, indep, 1)
    assert lam3 == 881_917_103_688_196_865  # ceil(sqrt(1 - 2 x 111..110e-18) * 1e18), shares floored to 1/3


# ---------------------------------------------------------------- on chain


def test_default_deployment_sets_the_pair_and_the_floor(system):
    o = system.oracle
    weth, wbtc, usd = (system.address(s) for s in ("WETH", "WBTC", "USD"))
    lo, hi = P.CORRELATIONS[("WETH", "WBTC")]
    assert tuple(o.correlation(weth, wbtc)) == tuple(o.correlation(wbtc, weth)) == (lo, hi)
    assert tuple(o.correlation(usd, weth)) == (-WAD, WAD)
    assert o.portfolio_floor() == P.PORTFOLIO_FLOOR
    assert system.oracle_ref.correlation(weth, wbtc) == (lo, hi)


def test_set_correlation_logs_the_bounds_and_both_steward_changes(system, admin):
    o = system.oracle
    weth, wbtc = system.address("WETH"), system.address("WBTC")
    r = o.set_correlation(wbtc, weth, WAD // 5, WAD * 9 // 10, sender=admin)
    a, b = pf.pair_key(weth, wbtc)
    (ev,) = r.events.filter(o.CorrelationSet)
    assert (ev.asset_a, ev.asset_b, ev.rho_lo, ev.rho_hi) == (a, b, WAD // 5, WAD * 9 // 10)
    changes = [(e.key, e.param, e.old_value, e.new_value) for e in r.events.filter(o.ParamChanged)]
    lo0, hi0 = P.CORRELATIONS[("WETH", "WBTC")]
    param = int(b, 16) << 8
    assert changes == [(a, param, WAD - hi0, WAD // 10), (a, param | 1, WAD + lo0, WAD * 12 // 10)]


def test_a_risk_admin_cannot_create_an_offset(system, chain, risk_admin):
    """From (-1, +1) both offsets are 0: any step is infinitely large for the steward."""
    o = system.oracle
    chain.pending_timestamp = chain.pending_timestamp + P.MIN_CHANGE_DELAY
    with ape.reverts("steward: change too large"):
        o.set_correlation(system.address("USD"), system.address("WETH"), -WAD, WAD - 1, sender=risk_admin)


@pytest.fixture
def pairs_set(system, admin):
    """Bounds for every pair of the three assets (extreme ones included) and the floor at 0.3,
    on chain and in a copy of the oracle's reference (returned)."""
    o, oref = system.oracle, copy.deepcopy(system.oracle_ref)
    for (x, y), (lo, hi) in {("USD", "WETH"): (-WAD, -WAD // 2), ("USD", "WBTC"): (WAD, WAD),
                             ("WETH", "WBTC"): (WAD * 34 // 100, WAD * 98 // 100)}.items():
        o.set_correlation(system.address(x), system.address(y), lo, hi, sender=admin)
        oref.set_correlation(system.address(x), system.address(y), lo, hi)
    o.set_portfolio_floor(WAD * 3 // 10, sender=admin)
    oref.set_portfolio_floor(WAD * 3 // 10)
    return oref


@given(bals=st.lists(st.integers(-(10**30), 10**30), min_size=8, max_size=8),
       slots=st.lists(st.sampled_from(["USD", "WETH", "WBTC", None]), min_size=8, max_size=8),
       conc=st.lists(st.integers(0, WAD // 10), min_size=8, max_size=8))
@settings(max_examples=60)
def test_portfolio_scales_on_chain_equal_the_reference_and_respect_the_floor(system, chain, pairs_set, bals, slots,
                                                                             conc):
    """Any legs in any of the 8 slots (the zero address: no leg), any signed balances and
    concentration haircuts: the oracle's scales equal the reference's bit for bit and lie in
    [floor, 1]."""
    o, oref = system.oracle, pairs_set
    legs = [system.address(s) if s else ZERO for s in slots]
    decs = [system.specs[s].decimals if s else 0 for s in slots]
    units = [d | c << 8 for d, c in zip(decs, conc)]
    got = tuple(o.portfolio_scales(legs, bals, units))
    want = oref.portfolio_scales([system.address(s) if s else None for s in slots], bals, decs, conc,
                                 chain.pending_timestamp)
    assert got == want
    assert all(oref.portfolio_floor <= x <= WAD for x in got)


def test_long_only_single_collateral_is_margined_as_today(system, chain, alice):
    """WETH deposit against a USD borrow: the USD-WETH pair has no offset, so the health is
    exactly the per-asset one, on chain and in the reference."""
    book = Book(system, chain, (alice,))
    book.deposit(alice, "WETH", 10 * E18)
    book.borrow(alice, "USD", 12_000 * E6)
    h = system.vault.health(alice)
    now = book.now()
    per_asset = _per_asset(book.ref).health(str(alice.address), now)
    assert tuple(h)[:4] == (per_asset.maint_assets, per_asset.maint_liabilities, per_asset.init_assets,
                            per_asset.init_liabilities)
    book.check()


def test_hedged_book_borrows_more_than_per_asset_margin_allows(system, chain, alice):
    """WETH deposit, WBTC borrow: the largest borrow per-asset margin allows (found on the
    reference) passes on chain with 3 % more; the requirement stays at or above the floor
    (0.5) times the per-asset requirement; chain and reference agree throughout."""
    book = Book(system, chain, (alice,))
    book.deposit(alice, "WETH", 10 * E18)
    who, now = str(alice.address), book.now()
    per_asset = book.max_borrow(alice, "WBTC", now, 10 * E8, _per_asset(book.ref))
    portfolio = book.max_borrow(alice, "WBTC", now, 10 * E8)
    assert portfolio > per_asset * 103 // 100
    book.borrow(alice, "WBTC", per_asset * 103 // 100)
    book.check()
    h_chain = system.vault.health(alice)
    now = book.now()
    h = book.ref.health(who, now)
    assert tuple(h_chain)[:4] == (h.maint_assets, h.maint_liabilities, h.init_assets, h.init_liabilities)
    twin = _per_asset(book.ref)
    r_pf, r_pa = _requirement(h, book.ref, who, now), _requirement(twin.health(who, now), twin, who, now)
    assert r_pf < r_pa
    assert r_pf * WAD >= P.PORTFOLIO_FLOOR * r_pa - 2 * WAD


books = st.lists(st.tuples(st.sampled_from(["USD", "WETH", "WBTC"]), st.floats(-1.0, 1.0)), min_size=1, max_size=3)
UNIT = {"USD": 30_000 * E6, "WETH": 10 * E18, "WBTC": E8}


@given(book_=books, lo=st.integers(-100, 100), hi=st.integers(-100, 100), floor=st.integers(1, 100))
@settings(max_examples=200, deadline=None)
def test_requirement_never_below_the_floor_fraction_in_the_reference(system, book_, lo, hi, floor):
    """Random books (positions set directly in a copy of the reference) and random WETH-WBTC
    bounds and floor: the maintenance requirement is at least floor x the per-asset one (one
    wei of rounding per leg), and at most the per-asset one."""
    vref = copy.deepcopy(system.vault_ref)
    now = max(m.last_accrual for m in vref.markets.values())
    who = "0x" + "ab" * 20
    vref.oracle.set_correlation(system.address("WETH"), system.address("WBTC"), min(lo, hi) * WAD // 100,
                                max(lo, hi) * WAD // 100)
    vref.oracle.set_portfolio_floor(floor * WAD // 100)
    for sym, x in book_:
        if int(x * UNIT[sym]) != 0:
            vref._set_balance(who, system.address(sym), vref.markets[system.address(sym)], int(x * UNIT[sym]))
    twin = _per_asset(vref)
    r_pf = _requirement(vref.health(who, now), vref, who, now)
    r_pa = _requirement(twin.health(who, now), twin, who, now)
    n = len(book_)
    assert floor * r_pa // 100 - 2 * n <= r_pf <= r_pa + 2 * n


def test_correlated_flag_follows_the_pairs_with_an_offset(system, admin):
    """``RiskView.correlated`` is set while an asset has a pair with an offset: cleared when its
    only pair returns to (-1, +1), set again by a new offset, and kept while another pair still
    has one; the chain's views equal the reference's."""
    o, oref = system.oracle, copy.deepcopy(system.oracle_ref)
    usd, weth, wbtc = (system.address(s) for s in ("USD", "WETH", "WBTC"))

    def flags():
        got = tuple(bool(o.risk(a).correlated) for a in (usd, weth, wbtc))
        assert got == tuple(pf.correlated(a, oref.pairs) for a in (usd, weth, wbtc))
        return got

    assert flags() == (False, True, True)
    for a, b, lo, hi, want in ((weth, wbtc, -WAD, WAD, (False, False, False)),
                               (usd, weth, 0, WAD // 2, (True, True, False)),
                               (weth, wbtc, WAD // 2, WAD, (True, True, True)),
                               (usd, weth, -WAD, WAD, (False, True, True))):
        o.set_correlation(a, b, lo, hi, sender=admin)
        oref.set_correlation(a, b, lo, hi)
        assert flags() == want
