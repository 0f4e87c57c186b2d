"""Role matrix (issue #6 item 5): every privileged function of MarginVault,
RiskOracle and MockAggregator x every role (admin, risk admin, guardian, risk
keeper, an account without a role). docs/design.md §8: the admin (a timelock)
lists, sets bounds, unpauses and manages roles; the risk admin changes risk
parameters within the steward's bounds; the guardian only pauses; the risk
keeper only pushes forecast volatilities (§3.7). An allowed cell
succeeds with its effect; a refused cell reverts "access_control: account is
missing role" and moves no storage anywhere. Then the steward's bounds at
the wei: a change beyond max_rel_change or inside min_change_delay reverts
by name, one exactly at the bound passes.
"""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak

from state import storage_roots
from volmargin import params as P
from volmargin import reference as ref
from volmargin.units import to_feed_answer

WAD = 10**18
DAY = 86_400
MISSING_ROLE = "access_control: account is missing role"
GUARDIAN_ROLE = keccak(text="GUARDIAN_ROLE")
RISK_ADMIN_ROLE = keccak(text="RISK_ADMIN_ROLE")
ROLES = ("admin", "risk_admin", "guardian", "risk_keeper", "alice")
#: Non-view functions anyone may call (each has its own tests), not part of the matrix.
PERMISSIONLESS = {
    "MarginVault.deposit", "MarginVault.withdraw", "MarginVault.borrow", "MarginVault.repay",
    "MarginVault.liquidate", "MarginVault.settle_bad_debt", "RiskOracle.poke", "RiskOracle.poke_many",
    # only ever removes the caller's own role
    "MarginVault.renounceRole", "RiskOracle.renounceRole", "MockAggregator.renounceRole",
}


@pytest.fixture(scope="module")
def spare(project, system, admin):
    """A token with a fresh feed, listed on the oracle only; the admin holds and
    approves the vault's listing probe."""
    tok = project.MockERC20.deploy("Spare", "SPR", 18, sender=admin)
    feed = project.MockAggregator.deploy(8, "SPR / USD", to_feed_answer(5.0), 0, sender=admin)
    system.oracle.list_asset(tok, feed, P.TOKENS[1].var_seed, list(P.TOKENS[1].oracle), sender=admin)
    tok.mint(admin, WAD, sender=admin)
    tok.approve(system.vault, WAD, sender=admin)
    return tok


def _new_asset(s, project):
    tok = project.MockERC20.deploy("New", "NEW", 18, sender=s.admin)
    feed = project.MockAggregator.deploy(8, "NEW / USD", to_feed_answer(2.0), 0, sender=s.admin)
    return tok, feed


def _after_delay(c) -> bool:
    """Move the next block past the steward's delay (for parameters the deployment set)."""
    c["chain"].pending_timestamp = c["chain"].pending_timestamp + P.MIN_CHANGE_DELAY
    return True


# cell: (setup(s, ctx) -> args, call(s, ctx, args, sender), effect(s, ctx, args) -> bool), allowed roles
MATRIX = {
    "MarginVault.list_asset": (
        lambda s, c: c["spare"],
        lambda s, c, a, who: s.vault.list_asset(a, list(P.TOKENS[1].rates), sender=who),
        lambda s, c, a: s.vault.asset_slot(a) == 4,
        {"admin"},
    ),
    "MarginVault.set_param": (
        lambda s, c: P.VAULT.close_factor * 5 // 4,  # close factor +25 %
        lambda s, c, a, who: s.vault.set_param(ref.V_CLOSE_FACTOR, a, sender=who),
        lambda s, c, a: s.vault.params(ref.V_CLOSE_FACTOR) == a,
        {"admin", "risk_admin"},
    ),
    "MarginVault.set_asset_param": (
        lambda s, c: P.TOKENS[0].rates[1] * 5 // 4,  # USD slope1 +25 %
        lambda s, c, a, who: s.vault.set_asset_param(s.tokens["USD"], ref.A_SLOPE1, a, sender=who),
        lambda s, c, a: s.vault.asset_params(s.tokens["USD"], ref.A_SLOPE1) == a,
        {"admin", "risk_admin"},
    ),
    "MarginVault.pause": (
        lambda s, c: 1,
        lambda s, c, a, who: s.vault.pause(a, sender=who),
        lambda s, c, a: s.vault.paused() == 1,
        {"admin", "guardian"},
    ),
    "MarginVault.unpause": (
        lambda s, c: s.vault.pause(7, sender=s.admin) and 7,
        lambda s, c, a, who: s.vault.unpause(a, sender=who),
        lambda s, c, a: s.vault.paused() == 0,
        {"admin"},
    ),
    "MarginVault.set_governance_bounds": (
        lambda s, c: (WAD // 5, 2 * DAY),
        lambda s, c, a, who: s.vault.set_governance_bounds(*a, sender=who),
        lambda s, c, a: (s.vault.max_rel_change(), s.vault.min_change_delay()) == a,
        {"admin"},
    ),
    "RiskOracle.list_asset": (
        lambda s, c: _new_asset(s, c["project"]),
        lambda s, c, a, who: s.oracle.list_asset(a[0], a[1], P.TOKENS[1].var_seed, list(P.TOKENS[1].oracle),
                                                 sender=who),
        lambda s, c, a: s.oracle.assets(a[0]).feed == a[1].address,
        {"admin"},
    ),
    "RiskOracle.set_param": (
        lambda s, c: P.TOKENS[1].oracle[ref.P_GRACE] * 5 // 4,
        lambda s, c, a, who: s.oracle.set_param(s.tokens["WETH"], ref.P_GRACE, a, sender=who),
        lambda s, c, a: s.oracle.params(s.tokens["WETH"], ref.P_GRACE) == a,
        {"admin", "risk_admin"},
    ),
    # the deployment set the WETH-WBTC pair and the floor: a risk admin waits out the delay first
    "RiskOracle.set_correlation": (
        lambda s, c: _after_delay(c) and (WAD * 30 // 100, WAD * 985 // 1000),  # offsets 1.30 (-3 %), 0.015 (-25 %)
        lambda s, c, a, who: s.oracle.set_correlation(s.tokens["WETH"], s.tokens["WBTC"], *a, sender=who),
        lambda s, c, a: tuple(s.oracle.correlation(s.tokens["WETH"], s.tokens["WBTC"])) == a,
        {"admin", "risk_admin"},
    ),
    "RiskOracle.set_portfolio_floor": (
        lambda s, c: _after_delay(c) and P.PORTFOLIO_FLOOR * 5 // 4,
        lambda s, c, a, who: s.oracle.set_portfolio_floor(a, sender=who),
        lambda s, c, a: s.oracle.portfolio_floor() == a,
        {"admin", "risk_admin"},
    ),
    # the forecast mode is off at deployment: the admin turns it on (replace) first
    "RiskOracle.push_forecast": (
        lambda s, c: (s.oracle.set_param(s.tokens["WETH"], ref.P_F_MODE, ref.forecast.MODE_REPLACE, sender=s.admin)
                      and s.oracle.sigma(s.tokens["WETH"], ref.SECONDS_PER_YEAR)),
        lambda s, c, a, who: s.oracle.push_forecast(s.tokens["WETH"], a, sender=who),
        lambda s, c, a: tuple(s.oracle.forecast_of(s.tokens["WETH"]))[::2] == (a, True),
        {"risk_keeper"},
    ),
    "RiskOracle.set_governance_bounds": (
        lambda s, c: (WAD // 5, 2 * DAY),
        lambda s, c, a, who: s.oracle.set_governance_bounds(*a, sender=who),
        lambda s, c, a: (s.oracle.max_rel_change(), s.oracle.min_change_delay()) == a,
        {"admin"},
    ),
    "MockAggregator.push": (
        lambda s, c: to_feed_answer(2_001.0),
        lambda s, c, a, who: s.feeds["WETH"].push(a, 0, sender=who),
        lambda s, c, a: s.feeds["WETH"].latestRoundData()[1] == a,
        {"admin"},  # the deployer holds REPORTER_ROLE
    ),
    "MockAggregator.push_incomplete": (
        lambda s, c: to_feed_answer(2_001.0),
        lambda s, c, a, who: s.feeds["WETH"].push_incomplete(a, 0, sender=who),
        lambda s, c, a: s.feeds["WETH"].latestRoundData()[1] == a,
        {"admin"},
    ),
}
for _c in ("MarginVault", "RiskOracle", "MockAggregator"):
    _h = {"MarginVault": lambda s: s.vault, "RiskOracle": lambda s: s.oracle,
          "MockAggregator": lambda s: s.feeds["WETH"]}[_c]
    MATRIX[f"{_c}.grantRole"] = (
        lambda s, c: c["bob"],
        lambda s, c, a, who, h=_h: h(s).grantRole(GUARDIAN_ROLE, a, sender=who),
        lambda s, c, a, h=_h: h(s).hasRole(GUARDIAN_ROLE, a),
        {"admin"},
    )
    MATRIX[f"{_c}.revokeRole"] = (
        lambda s, c, h=_h: h(s).grantRole(GUARDIAN_ROLE, c["bob"], sender=s.admin) and c["bob"],
        lambda s, c, a, who, h=_h: h(s).revokeRole(GUARDIAN_ROLE, a, sender=who),
        lambda s, c, a, h=_h: not h(s).hasRole(GUARDIAN_ROLE, a),
        {"admin"},
    )
    MATRIX[f"{_c}.set_role_admin"] = (
        lambda s, c: RISK_ADMIN_ROLE,
        lambda s, c, a, who, h=_h: h(s).set_role_admin(GUARDIAN_ROLE, a, sender=who),
        lambda s, c, a, h=_h: h(s).getRoleAdmin(GUARDIAN_ROLE) == a,
        {"admin"},
    )

CELLS = [pytest.param(fn, role, id=f"{fn}-{role}") for fn in MATRIX for role in ROLES]


def test_matrix_covers_every_privileged_function(project):
    """Every non-view ABI function is in the matrix or in the justified
    permissionless list: a new privileged function fails here."""
    abi_fns = {
        f"{name}.{f.name}"
        for name in ("MarginVault", "RiskOracle", "MockAggregator")
        for f in getattr(project, name).contract_type.abi
        if f.type == "function" and f.stateMutability not in ("view", "pure")
    }
    assert abi_fns - PERMISSIONLESS == set(MATRIX), sorted(abi_fns - PERMISSIONLESS ^ set(MATRIX))


@pytest.mark.parametrize("fn,role", CELLS)
def test_role_cell(system, project, chain, spare, admin, risk_admin, guardian, risk_keeper, alice, bob, request, fn,
                   role):
    """One cell: an allowed role's call succeeds with its effect; any other
    role is refused with the missing-role error and no storage moves."""
    setup, call, effect, allowed = MATRIX[fn]
    ctx = {"spare": spare, "project": project, "bob": bob, "chain": chain}
    who = request.getfixturevalue(role)
    args = setup(system, ctx)
    if role in allowed:
        call(system, ctx, args, who)
        assert effect(system, ctx, args), f"{fn} by {role}: no effect"
        return
    contracts = [system.vault, system.oracle, *system.tokens.values(), *system.feeds.values(), spare]
    before = storage_roots(chain, contracts)
    with ape.reverts(MISSING_ROLE):
        call(system, ctx, args, who)
    assert storage_roots(chain, contracts) == before


SETTERS = {
    "vault.set_param": (lambda s: s.vault.params(ref.V_CLOSE_FACTOR), lambda s, v, who: s.vault.set_param(ref.V_CLOSE_FACTOR, v, sender=who)),
    "vault.set_asset_param": (
        lambda s: s.vault.asset_params(s.tokens["USD"], ref.A_SLOPE1),
        lambda s, v, who: s.vault.set_asset_param(s.tokens["USD"], ref.A_SLOPE1, v, sender=who),
    ),
    "oracle.set_param": (
        lambda s: s.oracle.params(s.tokens["WETH"], ref.P_Z_MAINT),
        lambda s, v, who: s.oracle.set_param(s.tokens["WETH"], ref.P_Z_MAINT, v, sender=who),
    ),
    "oracle.set_portfolio_floor": (
        lambda s: s.oracle.portfolio_floor(),
        lambda s, v, who: s.oracle.set_portfolio_floor(v, sender=who),
    ),
    # the two offsets of a pair (docs/design.md §5.6): same-sign 1 - rho_hi, opposite-sign 1 + rho_lo
    "oracle.set_correlation.same_sign": (
        lambda s: WAD - s.oracle.correlation(s.tokens["WETH"], s.tokens["WBTC"])[1],
        lambda s, v, who: s.oracle.set_correlation(s.tokens["WETH"], s.tokens["WBTC"],
                                                   s.oracle.correlation(s.tokens["WETH"], s.tokens["WBTC"])[0], WAD - v,
                                                   sender=who),
    ),
    "oracle.set_correlation.opposite_sign": (
        lambda s: WAD + s.oracle.correlation(s.tokens["WETH"], s.tokens["WBTC"])[0],
        lambda s, v, who: s.oracle.set_correlation(s.tokens["WETH"], s.tokens["WBTC"], v - WAD,
                                                   s.oracle.correlation(s.tokens["WETH"], s.tokens["WBTC"])[1],
                                                   sender=who),
    ),
}
#: Set by the deployment through the steward: the risk admin's first change waits out the delay.
SET_AT_DEPLOYMENT = {"oracle.set_portfolio_floor", "oracle.set_correlation.same_sign", "oracle.set_correlation.opposite_sign"}


@pytest.mark.parametrize("setter", list(SETTERS))
@pytest.mark.parametrize("direction", [1, -1], ids=["up", "down"])
def test_steward_bounds_at_the_wei(system, chain, risk_admin, setter, direction):
    """For the risk admin: one wei beyond max_rel_change (25 %) is refused,
    exactly 25 % passes; a second change inside min_change_delay (1 day) is
    refused even if tiny, one second after the delay it passes. Refusals
    move no storage."""
    get, put = SETTERS[setter]
    contracts = [system.vault, system.oracle]
    if setter in SET_AT_DEPLOYMENT:
        chain.pending_timestamp = chain.pending_timestamp + P.MIN_CHANGE_DELAY
    old = get(system)
    step = old * P.MAX_REL_CHANGE // WAD
    before = storage_roots(chain, contracts)
    with ape.reverts("steward: change too large"):
        put(system, old + direction * (step + 1), risk_admin)
    assert storage_roots(chain, contracts) == before
    r = put(system, old + direction * step, risk_admin)
    assert get(system) == old + direction * step
    new = get(system)
    before = storage_roots(chain, contracts)
    with ape.reverts("steward: change too soon"):
        put(system, new + direction, risk_admin)
    assert storage_roots(chain, contracts) == before
    chain.pending_timestamp = r.timestamp + P.MIN_CHANGE_DELAY - 1
    with ape.reverts("steward: change too soon"):
        put(system, new + direction, risk_admin)
    chain.pending_timestamp = r.timestamp + P.MIN_CHANGE_DELAY
    put(system, new + direction, risk_admin)
    assert get(system) == new + direction


def test_guardian_cannot_unpause_or_change_parameters(system, chain, guardian, admin):
    """The guardian pauses everything, then cannot undo it nor touch any
    parameter or bound: only the admin unpauses."""
    v, o = system.vault, system.oracle
    v.pause(7, sender=guardian)
    before = storage_roots(chain, [v, o])
    for call in (
        lambda: v.unpause(1, sender=guardian),
        lambda: v.set_param(ref.V_CLOSE_FACTOR, P.VAULT.close_factor, sender=guardian),
        lambda: v.set_asset_param(system.tokens["USD"], 1, P.TOKENS[0].rates[1], sender=guardian),
        lambda: o.set_param(system.tokens["WETH"], ref.P_GRACE, 600, sender=guardian),
        lambda: v.set_governance_bounds(WAD, 0, sender=guardian),
        lambda: v.grantRole(RISK_ADMIN_ROLE, guardian, sender=guardian),
    ):
        with ape.reverts(MISSING_ROLE):
            call()
    assert storage_roots(chain, [v, o]) == before and v.paused() == 7
    v.unpause(7, sender=admin)
    assert v.paused() == 0
