"""Stress-lab policies: the static policy really is a fixed LTV / LT through the same oracle
code (checked on the exact reference), every vector is deployable, the ablations change
only what they say."""

from __future__ import annotations

import pytest

from volmargin import params as P
from volmargin import reference as ref
from volmargin.units import to_wad
from volmargin_lab.stress.policies import POLICY_NAMES, SYMBOLS, VaultModel, make_policy

WAD = ref.WAD


def _listed(vec, vol_annual, price=2_000):
    o = ref.OracleRef()
    rnd = ref.FeedRound(1, price * 10**8, 1_000, 1)
    o.list_asset("A", 8, rnd, P.annual_vol_to_var(vol_annual), list(vec), 1_000)
    return o


@pytest.mark.parametrize("sym, ltv, lt", [("WETH", 0.80, 0.825), ("WBTC", 0.73, 0.78), ("LUNA", 0.55, 0.60)])
@pytest.mark.parametrize("vol", [0.0, 0.3, 3.0])
def test_static_haircuts_are_fixed_ltv_and_lt_on_the_reference(sym, ltv, lt, vol):
    vec = make_policy("static").oracle[sym]
    o = _listed(vec, vol)
    # 1 - LTV and 1 - LT at any volatility (var_min floors the calm case)
    assert o.h_init("A") == WAD - to_wad(ltv)  # exact WAD complements
    assert o.h_maint_now("A", 1_000) == WAD - to_wad(lt)
    # a 40 % crash one hour later: no trip, haircut unchanged, the price still values
    o.poke("A", ref.FeedRound(2, 1_200 * 10**8, 4_600, 2), 4_600)
    r = o.risk("A", 4_600)
    assert r.breaker == ref.NORMAL and r.h_maint == WAD - to_wad(lt) and r.price == 1_200 * WAD
    # and a feed silent for a week still values (no staleness: Venus-like)
    assert o.risk("A", 4_600 + 7 * 86_400).price == 1_200 * WAD


def test_static_stablecoin_has_debt_weight_one_and_flat_bonus():
    pol = make_policy("static")
    o = _listed(pol.oracle["USD"], 0.02, price=1)
    assert o.h_init("A") == 0 and o.h_maint_now("A", 1_000) == 0
    v = pol.vault_model()
    assert v.bonus_min == v.bonus_max == 0.05 and v.bonus_slope == 0.0
    assert v.liq_cap >= 1e15 and v.caution_scale == 1.0


def test_dynamic_is_the_design_defaults():
    pol = make_policy("dynamic")
    for t in P.TOKENS:
        assert pol.oracle[t.symbol] == t.oracle
    assert pol.vault == P.VAULT
    assert pol.token_specs() == P.TOKENS


def test_dynamic_trips_on_the_same_crash():
    o = _listed(make_policy("dynamic").oracle["WETH"], 0.8)
    o.poke("A", ref.FeedRound(2, 1_200 * 10**8, 4_600, 2), 4_600)
    assert o.risk("A", 4_600).breaker == ref.REDUCE_ONLY


@pytest.mark.parametrize("name, changed", [
    ("dynamic-no-breakers", {ref.P_K_JUMP, ref.P_R_FLOOR, ref.P_SIGMA_CAUTION, ref.P_HEARTBEAT}),
    ("dynamic-no-ramp", {ref.P_RAMP_UP, ref.P_RAMP_DOWN}),
])
def test_ablations_change_only_their_parameters(name, changed):
    dyn, abl = make_policy("dynamic"), make_policy(name)
    assert abl.vault == dyn.vault
    for s in SYMBOLS:
        diff = {i for i, (a, b) in enumerate(zip(dyn.oracle[s], abl.oracle[s])) if a != b}
        assert diff == changed, (s, diff)


def test_calibrated_changes_only_weth_wbtc_model_parameters():
    dyn, cal = make_policy("dynamic"), make_policy("dynamic-calibrated")
    assert cal.vault == dyn.vault
    # h_min_init follows h_min (one floor, docs/design.md §4.3)
    changed = {ref.P_Z_MAINT, ref.P_Z_INIT, ref.P_TAU_FAST, ref.P_TAU_SLOW, ref.P_H_MIN, ref.P_H_MIN_INIT}
    for s in SYMBOLS:
        diff = {i for i, (a, b) in enumerate(zip(dyn.oracle[s], cal.oracle[s])) if a != b}
        if s in ("WETH", "WBTC"):
            assert diff <= changed | {ref.P_H0}, (s, diff)
            c = P.CALIBRATED_V2[s]
            v = cal.oracle[s]
            assert v[ref.P_Z_MAINT] == round(c["z_maint"] * WAD) and v[ref.P_TAU_SLOW] == c["tau_slow"]
            assert v[ref.P_Z_INIT] - v[ref.P_Z_MAINT] == WAD  # z_init = z_maint + 1
            assert abs(v[ref.P_H_MIN] - c["h_min"] * WAD) < 1e3 and v[ref.P_H0] == round(0.02 * WAD)
            assert v[ref.P_H_MIN_INIT] == v[ref.P_H_MIN]
        else:
            assert diff == set(), (s, diff)


def test_calibrated_weth_haircut_on_the_reference():
    # a calm listing: var at var_min (10 %/yr), so h_maint = max(h_min, h0 + z sqrt(var_min * 1 day))
    vec = make_policy("dynamic-calibrated").oracle["WETH"]
    c = P.CALIBRATED_V2["WETH"]
    o = _listed(vec, 0.0)
    sig = (P.annual_vol_to_var(0.10) / WAD * 86_400) ** 0.5
    assert o.h_maint_now("A", 1_000) / WAD == pytest.approx(max(c["h_min"], 0.02 + c["z_maint"] * sig), abs=1e-12)
    # a volatile listing (150 %/yr): h_init = h0 + z_init sigma_1d above the floor
    o = _listed(vec, 1.5)
    sig = (P.annual_vol_to_var(1.5) / WAD * 86_400) ** 0.5
    assert 0.02 + c["z_init"] * sig > c["h_min"]
    assert o.h_init("A") / WAD == pytest.approx(0.02 + c["z_init"] * sig, rel=1e-9)


def test_no_ramp_reaches_its_target_within_seconds():
    o = _listed(make_policy("dynamic-no-ramp").oracle["WETH"], 0.5)
    o.poke("A", ref.FeedRound(2, 2_400 * 10**8, 4_600, 2), 4_600)
    target = o.assets["A"].h_target
    assert o.h_maint_now("A", 4_610) == target


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_vector_is_deployable(name):
    pol = make_policy(name)
    for s in SYMBOLS:
        ref.check_oracle_params(list(pol.oracle[s]))
    ref.check_vault_params(list(pol.vault))
    assert set(pol.summary(SYMBOLS)["assets"]) == set(SYMBOLS)


def test_unknown_policy_and_symbol():
    with pytest.raises(KeyError, match="unknown policy 'x'; known: static, dynamic"):
        make_policy("x")
    with pytest.raises(KeyError, match="no parameters for 'DOGE'"):
        make_policy("static").oracle_model(["USD", "DOGE"])
    with pytest.raises(ValueError, match="11 entries"):
        VaultModel.from_wad((1, 2))
