"""Governance (docs/design.md §8): DEFAULT_ADMIN_ROLE lists assets, sets any valid
parameter and unpauses; RISK_ADMIN_ROLE moves a parameter by at most
max_rel_change (25 %) and not within min_change_delay (1 day) of that
parameter's previous change; GUARDIAN_ROLE only pauses. Every change logs
its old and new value; every invalid vector is refused by name and leaves
the parameters as they were."""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak

from volmargin import params as P
from volmargin import reference as ref
from volmargin import spec as S

WAD = ref.WAD
DAY = 86_400
MISSING = "access_control: account is missing role"
ZERO = "0x" + "00" * 20


def vault_params(vault):
    return [vault.params(i) for i in range(len(S.VAULT))]


def asset_params(vault, token):
    return [vault.asset_params(token, i) for i in range(len(S.ASSET))]


def oracle_params(oracle, token):
    return [oracle.params(token, i) for i in range(len(S.ORACLE))]


def changed(receipt, contract):
    return [(e.key, e.param, e.old_value, e.new_value) for e in receipt.events.filter(contract.ParamChanged)]


# ------------------------------------------------------------------ roles


def test_roles_of_the_deployment(system, vault, oracle, admin, guardian, risk_admin, alice):
    assert vault.GUARDIAN_ROLE() == keccak(text="GUARDIAN_ROLE")
    assert vault.RISK_ADMIN_ROLE() == oracle.RISK_ADMIN_ROLE() == keccak(text="RISK_ADMIN_ROLE")
    admin_role = vault.DEFAULT_ADMIN_ROLE()
    assert vault.hasRole(admin_role, admin) and oracle.hasRole(admin_role, admin)
    assert vault.hasRole(vault.GUARDIAN_ROLE(), guardian) and not vault.hasRole(admin_role, guardian)
    assert vault.hasRole(vault.RISK_ADMIN_ROLE(), risk_admin) and oracle.hasRole(oracle.RISK_ADMIN_ROLE(), risk_admin)
    assert not any(c.hasRole(r, alice) for c in (vault, oracle) for r in (admin_role, vault.RISK_ADMIN_ROLE()))
    assert (vault.max_rel_change(), vault.min_change_delay()) == (P.MAX_REL_CHANGE, P.MIN_CHANGE_DELAY)
    assert (oracle.max_rel_change(), oracle.min_change_delay()) == (WAD // 4, DAY)


@pytest.mark.parametrize("who", ["alice", "guardian", "risk_admin"])
def test_only_the_admin_lists_assets_and_sets_bounds(project, system, vault, oracle, admin, request, who):
    caller = request.getfixturevalue(who)
    tok = project.MockERC20.deploy("Other", "OTH", 18, sender=admin)
    feed = project.MockAggregator.deploy(8, "OTH / USD", 5 * 10**8, 0, sender=admin)
    for call in (
        lambda: oracle.list_asset(tok, feed, 0, list(P.TOKENS[1].oracle), sender=caller),
        lambda: vault.list_asset(tok, list(P.TOKENS[1].rates), sender=caller),
        lambda: vault.set_governance_bounds(WAD, 0, sender=caller),
        lambda: oracle.set_governance_bounds(WAD, 0, sender=caller),
        lambda: vault.unpause(1, sender=caller),
    ):
        with ape.reverts(MISSING):
            call()
    assert oracle.n_listed() == vault.n_listed() == 3
    assert (vault.max_rel_change(), oracle.min_change_delay()) == (P.MAX_REL_CHANGE, DAY)


@pytest.mark.parametrize("who", ["alice", "guardian"])
def test_only_admin_or_risk_admin_change_parameters(vault, oracle, weth, request, who):
    caller = request.getfixturevalue(who)
    vp, ap, op = vault_params(vault), asset_params(vault, weth), oracle_params(oracle, weth)
    for call in (
        lambda: vault.set_param(ref.V_BONUS_MAX, vp[ref.V_BONUS_MAX] + 1, sender=caller),
        lambda: vault.set_asset_param(weth, ref.A_SLOPE1, ap[ref.A_SLOPE1] + 1, sender=caller),
        lambda: oracle.set_param(weth, ref.P_Z_MAINT, op[ref.P_Z_MAINT] + 1, sender=caller),
    ):
        with ape.reverts(MISSING):
            call()
    assert (vault_params(vault), asset_params(vault, weth), oracle_params(oracle, weth)) == (vp, ap, op)


# ------------------------------------------------------------------ pause


def test_guardian_pauses_admin_unpauses(vault, guardian, admin, risk_admin, alice):
    r = vault.pause(vault.PAUSE_WITHDRAW(), sender=guardian)
    (ev,) = r.events.filter(vault.PauseChanged)
    assert (ev.old_mask, ev.new_mask, ev.caller) == (0, 1, guardian.address)
    r = vault.pause(vault.PAUSE_BORROW(), sender=guardian)  # switches accumulate
    (ev,) = r.events.filter(vault.PauseChanged)
    assert (ev.old_mask, ev.new_mask) == (1, 3) and vault.paused() == 3
    vault.pause(vault.PAUSE_LIQUIDATE(), sender=admin)  # the admin may pause too
    assert vault.paused() == 7
    for who in (alice, risk_admin):
        with ape.reverts(MISSING):
            vault.pause(1, sender=who)
    for who in (guardian, risk_admin, alice):  # only the admin unpauses
        with ape.reverts(MISSING):
            vault.unpause(7, sender=who)
    assert vault.paused() == 7
    r = vault.unpause(vault.PAUSE_WITHDRAW() | vault.PAUSE_LIQUIDATE(), sender=admin)
    (ev,) = r.events.filter(vault.PauseChanged)
    assert (ev.old_mask, ev.new_mask, ev.caller) == (7, 2, admin.address) and vault.paused() == 2
    vault.unpause(3, sender=admin)  # clearing an already clear switch is harmless
    assert vault.paused() == 0


@pytest.mark.parametrize("mask", [0, 8, 9, 15, 2**255])
def test_bad_pause_mask(vault, guardian, admin, alice, mask):
    for call in (lambda: vault.pause(mask, sender=guardian), lambda: vault.unpause(mask, sender=admin)):
        with ape.reverts("vault: bad pause mask"):
            call()
    with ape.reverts(MISSING):  # the role is checked before the mask
        vault.pause(mask, sender=alice)
    assert vault.paused() == 0


# ------------------------------------------------------------------ risk steward


def test_risk_admin_moves_a_vault_param_within_25_percent_once_a_day(vault, risk_admin, chain):
    p = ref.V_BONUS_MAX
    old = vault.params(p)
    assert old == 5 * WAD // 100
    up = old * 125 // 100  # exactly +25 %
    with ape.reverts("steward: change too large"):
        vault.set_param(p, up + 1, sender=risk_admin)
    r = vault.set_param(p, up, sender=risk_admin)
    assert changed(r, vault) == [(ZERO, p, old, up)]  # global parameters use the zero key
    assert vault.params(p) == up and vault.last_change(ZERO, p) == r.timestamp
    # the next change of the same parameter must wait min_change_delay (to the second)
    chain.pending_timestamp = r.timestamp + DAY - 1
    with ape.reverts("steward: change too soon"):
        vault.set_param(p, old, sender=risk_admin)
    assert chain.pending_timestamp == r.timestamp + DAY
    down = up * 75 // 100  # exactly -25 %
    r = vault.set_param(p, down, sender=risk_admin)
    assert changed(r, vault) == [(ZERO, p, up, down)]


def test_delay_is_per_parameter_and_per_key(vault, oracle, usd, weth, risk_admin):
    vault.set_param(ref.V_BONUS_MAX, vault.params(ref.V_BONUS_MAX) * 11 // 10, sender=risk_admin)
    vault.set_param(ref.V_BONUS_MIN, vault.params(ref.V_BONUS_MIN) * 11 // 10, sender=risk_admin)  # other param
    s = vault.asset_params(usd, ref.A_SLOPE1)
    r = vault.set_asset_param(usd, ref.A_SLOPE1, s * 12 // 10, sender=risk_admin)
    assert changed(r, vault) == [(usd.address, ref.A_SLOPE1, s, s * 12 // 10)]  # keyed by the asset
    vault.set_asset_param(weth, ref.A_SLOPE1, vault.asset_params(weth, ref.A_SLOPE1) * 12 // 10, sender=risk_admin)
    with ape.reverts("steward: change too soon"):
        vault.set_asset_param(usd, ref.A_SLOPE1, s, sender=risk_admin)
    # the oracle's steward is separate from the vault's
    z = oracle.params(weth, ref.P_Z_MAINT)
    r = oracle.set_param(weth, ref.P_Z_MAINT, z * 11 // 10, sender=risk_admin)
    assert changed(r, oracle) == [(weth.address, ref.P_Z_MAINT, z, z * 11 // 10)]
    assert oracle.last_change(weth, ref.P_Z_MAINT) == r.timestamp


def test_risk_admin_bounds_on_asset_and_oracle_params(vault, oracle, usd, weth, risk_admin, chain):
    ap = asset_params(vault, usd)
    s = ap[ref.A_SLOPE2]
    with ape.reverts("steward: change too large"):
        vault.set_asset_param(usd, ref.A_SLOPE2, s * 125 // 100 + 1, sender=risk_admin)
    with ape.reverts("steward: change too large"):  # a zero parameter cannot be moved by the steward
        vault.set_asset_param(usd, ref.A_BASE_RATE, 1, sender=risk_admin)
    with ape.reverts("steward: change too large"):  # nor can it switch borrowability (a 100 % change)
        vault.set_asset_param(usd, ref.A_BORROWABLE, 0, sender=risk_admin)
    assert asset_params(vault, usd) == ap
    op = oracle_params(oracle, weth)
    z = op[ref.P_Z_INIT]
    with ape.reverts("steward: change too large"):
        oracle.set_param(weth, ref.P_Z_INIT, z * 2, sender=risk_admin)
    with ape.reverts("steward: change too large"):
        oracle.set_param(weth, ref.P_Z_INIT, z * 75 // 100 - 1, sender=risk_admin)
    assert oracle_params(oracle, weth) == op
    r = oracle.set_param(weth, ref.P_Z_INIT, z * 75 // 100, sender=risk_admin)
    with ape.reverts("steward: change too soon"):
        oracle.set_param(weth, ref.P_Z_INIT, z * 80 // 100, sender=risk_admin)
    chain.pending_timestamp = r.timestamp + DAY
    oracle.set_param(weth, ref.P_Z_INIT, z * 80 // 100, sender=risk_admin)
    assert oracle.params(weth, ref.P_Z_INIT) == z * 80 // 100


def test_risk_admin_change_must_still_be_valid(vault, oracle, weth, admin, risk_admin):
    """A change inside the steward's bounds that breaks the vector's rules is
    still refused by name, and nothing changes."""
    vault.set_param(ref.V_BONUS_MIN, 45 * WAD // 1_000, sender=admin)  # 4.5 % <= bonus_max 5 %
    with ape.reverts("vault: bad params"):  # -20 % of bonus_max: allowed step, but under bonus_min
        vault.set_param(ref.V_BONUS_MAX, 4 * WAD // 100, sender=risk_admin)
    assert vault.params(ref.V_BONUS_MAX) == 5 * WAD // 100
    oracle.set_param(weth, ref.P_H_MIN, WAD // 2, sender=admin)  # h_min 50 % <= h_max 60 %
    with ape.reverts("oracle: bad params"):
        oracle.set_param(weth, ref.P_H_MAX, 48 * WAD // 100, sender=risk_admin)
    assert oracle.params(weth, ref.P_H_MAX) == 6 * WAD // 10


def test_admin_is_unbounded_but_starts_the_delay(vault, oracle, weth, admin, risk_admin):
    old = vault.params(ref.V_CLOSE_FACTOR)
    r = vault.set_param(ref.V_CLOSE_FACTOR, WAD, sender=admin)  # +100 %
    assert changed(r, vault) == [(ZERO, ref.V_CLOSE_FACTOR, old, WAD)]
    r = vault.set_param(ref.V_CLOSE_FACTOR, WAD // 5, sender=admin)  # -80 %, at once
    assert changed(r, vault) == [(ZERO, ref.V_CLOSE_FACTOR, WAD, WAD // 5)]
    with ape.reverts("steward: change too soon"):  # an admin change counts as the previous one
        vault.set_param(ref.V_CLOSE_FACTOR, WAD // 5 + 1, sender=risk_admin)
    hb = oracle.params(weth, ref.P_HEARTBEAT)
    r = oracle.set_param(weth, ref.P_HEARTBEAT, hb * 10, sender=admin)
    assert changed(r, oracle) == [(weth.address, ref.P_HEARTBEAT, hb, hb * 10)]
    assert vault.params(ref.V_CLOSE_FACTOR) == WAD // 5 and oracle.params(weth, ref.P_HEARTBEAT) == hb * 10


def test_set_governance_bounds(vault, oracle, weth, admin, risk_admin, chain):
    for c in (vault, oracle):
        r = c.set_governance_bounds(WAD // 10, 3_600, sender=admin)
        (ev,) = r.events.filter(c.GovernanceBoundsChanged)
        assert (ev.old_max_rel_change, ev.new_max_rel_change, ev.old_min_change_delay, ev.new_min_change_delay) == (
            WAD // 4, WAD // 10, DAY, 3_600)
        assert (c.max_rel_change(), c.min_change_delay()) == (WAD // 10, 3_600)
    old = vault.params(ref.V_BONUS_MAX)
    with ape.reverts("steward: change too large"):  # 15 % > the new 10 %
        vault.set_param(ref.V_BONUS_MAX, old * 115 // 100, sender=risk_admin)
    r = vault.set_param(ref.V_BONUS_MAX, old * 110 // 100, sender=risk_admin)
    chain.pending_timestamp = r.timestamp + 3_600  # the new, shorter delay
    vault.set_param(ref.V_BONUS_MAX, old, sender=risk_admin)
    z = oracle.params(weth, ref.P_Z_MAINT)
    with ape.reverts("steward: change too large"):
        oracle.set_param(weth, ref.P_Z_MAINT, z * 115 // 100, sender=risk_admin)


# ------------------------------------------------------------------ validation


BAD_VAULT = [  # (param, value from the current vector) -> "vault: bad params"
    (ref.V_CLOSE_FACTOR, lambda p: 0),
    (ref.V_CLOSE_FACTOR, lambda p: WAD + 1),
    (ref.V_BONUS_MIN, lambda p: p[ref.V_BONUS_MAX] + 1),
    (ref.V_BONUS_MAX, lambda p: p[ref.V_BONUS_MIN] - 1),
    (ref.V_BONUS_MAX, lambda p: WAD + 1),
    (ref.V_INSURANCE_SHARE, lambda p: WAD + 1),
    (ref.V_CAUTION_SCALE, lambda p: WAD + 1),
    (ref.V_LIQ_WINDOW, lambda p: 0),
    (ref.V_LIQ_CAP_TRIPPED, lambda p: p[ref.V_LIQ_CAP] + 1),
    (ref.V_LIQ_CAP, lambda p: p[ref.V_LIQ_CAP_TRIPPED] - 1),
]
BAD_ASSET = [
    (ref.A_KINK, 0),
    (ref.A_KINK, WAD),
    (ref.A_RESERVE_FACTOR, WAD + 1),
    (ref.A_BORROWABLE, 2),
    (ref.A_SLOPE2, 100 * WAD),  # base + slope1 + slope2 > 100 (10,000 %/yr)
    (ref.A_SUPPLY_CAP, 2**40),  # whole tokens, 40 bits of the configuration word
    (ref.A_KAPPA_AGG, WAD + 1),
]
BAD_ORACLE = [
    (ref.P_HEARTBEAT, lambda p: 0),
    (ref.P_TAU_FAST, lambda p: 0),
    (ref.P_TAU_SLOW, lambda p: 0),
    (ref.P_HORIZON, lambda p: 0),
    (ref.P_HORIZON, lambda p: ref.SECONDS_PER_YEAR + 1),
    (ref.P_H_MIN, lambda p: p[ref.P_H_MAX] + 1),
    (ref.P_H_MAX, lambda p: WAD + 1),
    (ref.P_H0, lambda p: WAD + 1),
    (ref.P_Z_MAINT, lambda p: p[ref.P_Z_INIT] + 1),
    (ref.P_Z_INIT, lambda p: p[ref.P_Z_MAINT] - 1),
    (ref.P_VAR_MIN, lambda p: p[ref.P_VAR_MAX] + 1),
    (ref.P_VAR_MAX, lambda p: 10**36 + 1),
]


def test_vault_bad_params_named_and_unchanged(vault, weth, admin):
    before = vault_params(vault)
    for param, value in BAD_VAULT:
        v = value(before)
        ref_vec = list(before)
        ref_vec[param] = v
        with pytest.raises(ref.Reject, match="vault: bad params"):  # the reference agrees
            ref.check_vault_params(ref_vec)
        with ape.reverts("vault: bad params"):
            vault.set_param(param, v, sender=admin)
    assert vault_params(vault) == before
    ap = asset_params(vault, weth)
    for param, v in BAD_ASSET:
        with ape.reverts("vault: bad params"):
            vault.set_asset_param(weth, param, v, sender=admin)
    assert asset_params(vault, weth) == ap
    # the edges are valid
    vault.set_param(ref.V_CLOSE_FACTOR, WAD, sender=admin)
    vault.set_param(ref.V_LIQ_CAP_TRIPPED, before[ref.V_LIQ_CAP], sender=admin)
    vault.set_asset_param(weth, ref.A_KINK, WAD - 1, sender=admin)
    assert vault.params(ref.V_CLOSE_FACTOR) == WAD and vault.asset_params(weth, ref.A_KINK) == WAD - 1
    vault.set_asset_param(weth, ref.A_SUPPLY_CAP, 2**40 - 1, sender=admin)
    vault.set_asset_param(weth, ref.A_KAPPA_AGG, WAD, sender=admin)
    assert (vault.asset_params(weth, ref.A_SUPPLY_CAP), vault.asset_params(weth, ref.A_KAPPA_AGG)) == (2**40 - 1, WAD)
    assert vault.asset_params(weth, ref.A_KINK) == WAD - 1  # the neighbours in the packed word are intact


def test_oracle_bad_params_named_and_unchanged(oracle, weth, admin):
    before = oracle_params(oracle, weth)
    for param, value in BAD_ORACLE:
        v = value(before)
        ref_vec = list(before)
        ref_vec[param] = v
        with pytest.raises(ref.Reject, match="oracle: bad params"):
            ref.check_oracle_params(ref_vec)
        with ape.reverts("oracle: bad params"):
            oracle.set_param(weth, param, v, sender=admin)
    assert oracle_params(oracle, weth) == before
    oracle.set_param(weth, ref.P_Z_MAINT, before[ref.P_Z_INIT], sender=admin)  # z_maint == z_init is valid
    assert oracle.params(weth, ref.P_Z_MAINT) == before[ref.P_Z_INIT]


def test_unknown_params_and_unlisted_assets(vault, oracle, weth, admin, alice):
    for who in (admin, alice):  # the index is checked before the role
        with ape.reverts("vault: unknown param"):
            vault.set_param(len(S.VAULT), 1, sender=who)
        with ape.reverts("vault: unknown param"):
            vault.set_asset_param(weth, len(S.ASSET), 1, sender=who)
        with ape.reverts("oracle: unknown param"):
            oracle.set_param(weth, len(S.ORACLE), 1, sender=who)
        with ape.reverts("vault: asset not listed"):
            vault.set_asset_param(alice, ref.A_BASE_RATE, 1, sender=who)
        with ape.reverts("oracle: asset not listed"):
            oracle.set_param(alice, ref.P_HEARTBEAT, 1, sender=who)


# ------------------------------------------------------------------ listing


def test_oracle_listing_rules(project, system, oracle, weth, admin, chain):
    spec = list(P.TOKENS[1].oracle)
    with ape.reverts("oracle: already listed"):
        oracle.list_asset(weth, system.feeds["WETH"], 0, spec, sender=admin)
    tok = project.MockERC20.deploy("Other", "OTH", 18, sender=admin)
    feed = project.MockAggregator.deploy(8, "OTH / USD", 5 * 10**8, 0, sender=admin)
    with ape.reverts("oracle: zero address"):
        oracle.list_asset(ZERO, feed, 0, spec, sender=admin)
    with ape.reverts("oracle: zero address"):
        oracle.list_asset(tok, ZERO, 0, spec, sender=admin)
    bad = list(spec)
    bad[ref.P_HEARTBEAT] = 0
    with ape.reverts("oracle: bad params"):
        oracle.list_asset(tok, feed, 0, bad, sender=admin)
    feed19 = project.MockAggregator.deploy(19, "OTH / USD", 5 * 10**19, 0, sender=admin)
    with ape.reverts("oracle: feed decimals > 18"):
        oracle.list_asset(tok, feed19, 0, spec, sender=admin)
    for push in (lambda: feed.push(-1, 0, sender=admin), lambda: feed.push_incomplete(5 * 10**8, 0, sender=admin)):
        push()
        with ape.reverts("oracle: invalid price"):
            oracle.list_asset(tok, feed, 0, spec, sender=admin)
    old = chain.blocks.head.timestamp - spec[ref.P_HEARTBEAT] - spec[ref.P_GRACE] - 1
    feed.push(5 * 10**8, old, sender=admin)
    with ape.reverts("oracle: stale price"):
        oracle.list_asset(tok, feed, 0, spec, sender=admin)
    assert oracle.n_listed() == 3
    r = feed.push(5 * 10**8, 0, sender=admin)
    r = oracle.list_asset(tok, feed, 0, spec, sender=admin)  # a zero seed is clamped to var_min
    (ev,) = r.events.filter(oracle.AssetListed)
    assert (ev.asset, ev.feed, ev.price, ev.var_seed) == (tok.address, feed.address, 5 * WAD, spec[ref.P_VAR_MIN])
    s = oracle.assets(tok)
    assert (s.var_fast, s.var_slow, s.breaker, s.tripped_at, s.invalid, s.h_time) == (
        spec[ref.P_VAR_MIN], spec[ref.P_VAR_MIN], ref.NORMAL, 0, False, r.timestamp)
    assert s.h_maint == s.h_target == spec[ref.P_H_MIN]  # 10 % a year is under the floor
    assert oracle.n_listed() == 4 and oracle.listed(3) == tok.address


def _new_asset(project, oracle, admin, decimals=18, name="N", vault=None):
    tok = project.MockERC20.deploy(name, name, decimals, sender=admin)
    feed = project.MockAggregator.deploy(8, f"{name} / USD", 5 * 10**8, 0, sender=admin)
    oracle.list_asset(tok, feed, P.TOKENS[1].var_seed, list(P.TOKENS[1].oracle), sender=admin)
    if vault is not None:  # the vault's fee-on-transfer probe at listing: one whole token, returned
        tok.mint(admin, 10**decimals, sender=admin)
        tok.approve(vault, 10**decimals, sender=admin)
    return tok


def test_vault_listing_rules(project, system, vault, oracle, weth, admin):
    rates = list(P.TOKENS[1].rates)
    with ape.reverts("vault: already listed"):
        vault.list_asset(weth, rates, sender=admin)
    tok = project.MockERC20.deploy("Other", "OTH", 18, sender=admin)
    with ape.reverts("oracle: asset not listed"):  # the oracle must value it first
        vault.list_asset(tok, rates, sender=admin)
    big = _new_asset(project, oracle, admin, decimals=25, name="BIG")
    with ape.reverts("vault: decimals > 24"):
        vault.list_asset(big, rates, sender=admin)
    tok = _new_asset(project, oracle, admin, name="N4", vault=vault)
    bad = list(rates)
    bad[ref.A_KINK] = 0
    with ape.reverts("vault: bad params"):
        vault.list_asset(tok, bad, sender=admin)
    assert vault.n_listed() == 3 and vault.asset_slot(tok) == 0
    nb = list(rates)
    nb[ref.A_BORROWABLE] = 0
    r = vault.list_asset(tok, nb, sender=admin)
    (ev,) = r.events.filter(vault.AssetListed)
    assert (ev.asset, ev.decimals, ev.borrowable) == (tok.address, 18, False)
    assert vault.n_listed() == 4 and vault.asset_slot(tok) == 4 and vault.listed(3) == tok.address
    assert tok.balanceOf(vault) == 0 and tok.balanceOf(admin) == 10**18  # the listing probe went back
    assert asset_params(vault, tok) == nb
    assert tuple(vault.stored_market(tok)) == (WAD, WAD, 0, 0, r.timestamp, 0)
    # up to eight assets
    for i in range(5, 9):
        vault.list_asset(_new_asset(project, oracle, admin, name=f"N{i}", vault=vault), rates, sender=admin)
    assert vault.n_listed() == 8
    with ape.reverts("vault: too many assets"):
        vault.list_asset(big, rates, sender=admin)


def test_thin_collateral_levers_admin_on_steward_within_bounds(chain, vault, weth, admin, risk_admin, guardian, alice):
    """Supply cap and kappa_agg (docs/design.md §2.8, §4.3): off (0) by default; only the
    admin can turn them on (from 0 any step is too large for the steward); once on, the risk
    admin moves them by at most 25 % a day, like every other parameter; a guardian or a user
    cannot set them. The packed neighbours (reserve factor, rates) do not move."""
    ap = asset_params(vault, weth)
    assert (ap[ref.A_SUPPLY_CAP], ap[ref.A_KAPPA_AGG]) == (0, 0)
    for param, on in ((ref.A_SUPPLY_CAP, 10_000), (ref.A_KAPPA_AGG, WAD // 20)):
        with ape.reverts("steward: change too large"):
            vault.set_asset_param(weth, param, on, sender=risk_admin)
        for who in (guardian, alice):
            with ape.reverts("access_control: account is missing role"):
                vault.set_asset_param(weth, param, on, sender=who)
        vault.set_asset_param(weth, param, on, sender=admin)
    chain.pending_timestamp += 86_400 + 1
    vault.set_asset_param(weth, ref.A_SUPPLY_CAP, 7_500, sender=risk_admin)  # -25 %
    with ape.reverts("steward: change too large"):
        vault.set_asset_param(weth, ref.A_KAPPA_AGG, WAD // 20 * 5 // 4 + 1, sender=risk_admin)
    vault.set_asset_param(weth, ref.A_KAPPA_AGG, WAD // 20 * 5 // 4, sender=risk_admin)  # +25 %
    with ape.reverts("steward: change too soon"):
        vault.set_asset_param(weth, ref.A_SUPPLY_CAP, 7_000, sender=risk_admin)
    want = list(ap)
    want[ref.A_SUPPLY_CAP], want[ref.A_KAPPA_AGG] = 7_500, WAD // 20 * 5 // 4
    assert asset_params(vault, weth) == want
