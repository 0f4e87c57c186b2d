"""Roles (DESIGN §8): admin lists and sets freely, the risk admin moves a
parameter by at most max_rel_change and not within min_change_delay, the
guardian can pause but not unpause; every change logs old and new values."""

from __future__ import annotations

import ape
import pytest

from volmargin import params as P
from volmargin import reference as ref

WAD = ref.WAD
MISSING = "access_control: account is missing role"


def test_admin_sets_vault_param_freely_and_logs(vault, admin):
    old = vault.params(vault.P_CLOSE_FACTOR())
    r = vault.set_param(vault.P_CLOSE_FACTOR(), WAD, sender=admin)  # +100 %: allowed for the admin
    assert vault.params(vault.P_CLOSE_FACTOR()) == WAD
    ev = [e for e in r.events if e.event_name == "ParamChanged"][0]
    assert (ev.param, ev.old_value, ev.new_value) == (vault.P_CLOSE_FACTOR(), old, WAD)


def test_risk_admin_bounded_steps(vault, oracle, weth, risk_admin, chain):
    p = vault.P_BONUS_MAX()
    old = vault.params(p)
    with ape.reverts("steward: change too large"):
        vault.set_param(p, old * 126 // 100, sender=risk_admin)
    vault.set_param(p, old * 125 // 100, sender=risk_admin)
    with ape.reverts("steward: change too soon"):
        vault.set_param(p, old, sender=risk_admin)
    chain.pending_timestamp += P.MIN_CHANGE_DELAY
    vault.set_param(p, old, sender=risk_admin)
    # the same on the oracle, per asset
    q = oracle.P_Z_MAINT()
    z = oracle.params(weth, q)
    with ape.reverts("steward: change too large"):
        oracle.set_param(weth, q, z * 2, sender=risk_admin)
    oracle.set_param(weth, q, z * 110 // 100, sender=risk_admin)
    assert oracle.params(weth, q) == z * 110 // 100


def test_parameter_validation(vault, oracle, weth, admin):
    with ape.reverts("vault: bad params"):
        vault.set_param(vault.P_CLOSE_FACTOR(), 0, sender=admin)
    with ape.reverts("vault: unknown param"):
        vault.set_param(11, 1, sender=admin)
    with ape.reverts("vault: bad params"):
        vault.set_asset_param(weth, vault.A_KINK(), WAD, sender=admin)
    with ape.reverts("vault: unknown param"):
        vault.set_asset_param(weth, 6, 1, sender=admin)
    with ape.reverts("vault: asset not listed"):
        vault.set_asset_param(admin, 0, 1, sender=admin)
    with ape.reverts("oracle: bad params"):
        oracle.set_param(weth, oracle.P_H_MIN(), 2 * WAD, sender=admin)
    with ape.reverts("oracle: unknown param"):
        oracle.set_param(weth, 20, 1, sender=admin)
    with ape.reverts("oracle: asset not listed"):
        oracle.set_param(admin, 0, 1, sender=admin)


@pytest.mark.parametrize("who", ["guardian", "alice"])
def test_only_roles_change_parameters(vault, oracle, weth, request, who):
    caller = request.getfixturevalue(who)
    for call in (
        lambda: vault.set_param(0, 1, sender=caller),
        lambda: vault.set_asset_param(weth, 0, 1, sender=caller),
        lambda: oracle.set_param(weth, 0, 1, sender=caller),
        lambda: vault.unpause(1, sender=caller),
        lambda: vault.set_governance_bounds(WAD, 0, sender=caller),
        lambda: oracle.set_governance_bounds(WAD, 0, sender=caller),
        lambda: vault.list_asset(weth, list(P.TOKENS[1].rates), sender=caller),
        lambda: oracle.list_asset(weth, weth, 0, list(P.TOKENS[1].oracle), sender=caller),
    ):
        with ape.reverts(MISSING):
            call()


def test_guardian_pauses_admin_unpauses(vault, guardian, admin, alice):
    r = vault.pause(7, sender=guardian)
    assert vault.paused() == 7
    ev = r.events[0]
    assert (ev.old_mask, ev.new_mask) == (0, 7)
    with ape.reverts(MISSING):
        vault.unpause(7, sender=guardian)
    with ape.reverts(MISSING):
        vault.pause(1, sender=alice)
    with ape.reverts("vault: bad pause mask"):
        vault.pause(8, sender=guardian)
    with ape.reverts("vault: bad pause mask"):
        vault.unpause(0, sender=admin)
    vault.unpause(3, sender=admin)
    assert vault.paused() == 4


def test_governance_bounds(vault, admin, risk_admin):
    r = vault.set_governance_bounds(WAD // 10, 3_600, sender=admin)
    ev = r.events[0]
    assert (ev.old_max_rel_change, ev.new_max_rel_change) == (P.MAX_REL_CHANGE, WAD // 10)
    assert (vault.max_rel_change(), vault.min_change_delay()) == (WAD // 10, 3_600)
    old = vault.params(vault.P_BONUS_MAX())
    with ape.reverts("steward: change too large"):
        vault.set_param(vault.P_BONUS_MAX(), old * 115 // 100, sender=risk_admin)


def test_listing_rules(system, project, vault, oracle, weth, admin):
    with ape.reverts("oracle: already listed"):
        oracle.list_asset(weth, system.feeds["WETH"], 0, list(P.TOKENS[1].oracle), sender=admin)
    with ape.reverts("vault: already listed"):
        vault.list_asset(weth, list(P.TOKENS[1].rates), sender=admin)
    tok = project.MockERC20.deploy("Other", "OTH", 18, sender=admin)
    feed = project.MockAggregator.deploy(8, "OTH / USD", 5 * 10**8, 0, sender=admin)
    with ape.reverts("oracle: asset not listed"):
        vault.list_asset(tok, list(P.TOKENS[1].rates), sender=admin)  # the oracle must value it first
    bad = list(P.TOKENS[1].oracle)
    bad[ref.P_HEARTBEAT] = 0
    with ape.reverts("oracle: bad params"):
        oracle.list_asset(tok, feed, 0, bad, sender=admin)
    feed.push(-1, 0, sender=admin)
    with ape.reverts("oracle: invalid price"):
        oracle.list_asset(tok, feed, 0, list(P.TOKENS[1].oracle), sender=admin)
    feed.push(5 * 10**8, 0, sender=admin)
    r = oracle.list_asset(tok, feed, P.TOKENS[1].var_seed, list(P.TOKENS[1].oracle), sender=admin)
    assert r.events[-1].event_name == "AssetListed"
    vault.list_asset(tok, list(P.TOKENS[1].rates), sender=admin)
    assert vault.n_listed() == 4 and vault.asset_slot(tok) == 4
