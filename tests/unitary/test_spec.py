"""The parameter spec (``volmargin.spec``) held against the deployed contracts.

Every entry of the three tables (RiskOracle's per-asset vector, MarginVault's
global and per-asset vectors): its index is the contract's public constant; its
bounds are the contract's, value by value: the end points of the range the table
allows are accepted and the values just outside are refused with the table's
reason, both on chain (``set_param`` / ``set_asset_param`` by the admin, which
runs the whole vector through the contract's check) and in the reference
(``check_*_params``); an accepted value reads back unchanged through the packed
storage. The table's check lines follow the contract's ``assert`` lines, and the
named vectors of ``volmargin.params`` are the positional ones.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import ape
import pytest

from volmargin import model as M
from volmargin import params as P
from volmargin import reference as ref
from volmargin import spec as S

ROOT = Path(__file__).resolve().parents[2]
UMAX = S.UINT256_MAX
WETH = 1  # index of WETH in P.TOKENS
#: The reference's check of each table and the name prefix of its index constants.
REF_CHECK: dict[str, tuple[Callable[[list[int]], None], str]] = {
    "oracle": (ref.check_oracle_params, "P_"),
    "vault": (ref.check_vault_params, "V_"),
    "asset": (ref.check_asset_params, "A_"),
}
ENTRIES = [(key, r.name) for key, t in S.TABLES.items() for r in t]
#: The vectors the ``system`` fixture deploys (WETH's for the per-asset ones).
DEPLOYED = {"oracle": P.TOKENS[WETH].oracle, "vault": P.VAULT, "asset": P.TOKENS[WETH].rates}


def _contract(key: str, oracle: Any, vault: Any) -> Any:
    return oracle if key == "oracle" else vault


def _on_chain(key: str, oracle: Any, vault: Any, token: Any) -> tuple[Callable[[int], int], Callable[..., Any]]:
    """(read entry i, set entry i to v as ``sender``) of the vector ``key`` (per-asset ones: of ``token``)."""
    if key == "oracle":
        return (lambda i: oracle.params(token, i)), (lambda i, v, sender: oracle.set_param(token, i, v, sender=sender))
    if key == "asset":
        return ((lambda i: vault.asset_params(token, i)),
                (lambda i, v, sender: vault.set_asset_param(token, i, v, sender=sender)))
    return (lambda i: vault.params(i)), (lambda i, v, sender: vault.set_param(i, v, sender=sender))


def _edges(t: S.Table, name: str, base: list[int]) -> list[tuple[int, bool]]:
    """(value, accepted) at both ends of the range of ``name`` with the rest of ``base`` fixed:
    refused values first (they leave the chain as it was), then the accepted ones."""
    lo, hi = t.interval(name, base)
    assert lo <= hi and lo <= base[t.index(name)] <= hi
    refused = ([(lo - 1, False)] if lo > 0 else []) + ([(hi + 1, False)] if hi < UMAX else [])
    return refused + [(lo, True), (hi, True)]


# ------------------------------------------------------------------ indices and names


@pytest.mark.parametrize("key", list(S.TABLES))
def test_indices_are_the_contract_constants(oracle, vault, key):
    t, (_, prefix) = S.TABLES[key], REF_CHECK[key]
    c = _contract(key, oracle, vault)
    for r in t:
        assert getattr(c, r.constant)() == r.index, r.name
        assert getattr(ref, prefix + r.constant[2:]) == r.index, r.name  # the reference's derived constant
    names = {"oracle": ref.ORACLE_PARAM_NAMES, "vault": ref.VAULT_PARAM_NAMES, "asset": ref.ASSET_PARAM_NAMES}[key]
    assert names == list(t.names) == list(t.vector._fields)
    assert [r.index for r in t] == list(range(len(t)))


@pytest.mark.parametrize("key", list(S.TABLES))
def test_check_lines_follow_the_contract_asserts(key):
    """The table's check lines are the contract's ``assert`` lines, in order: line i names
    the constants of its terms (and nothing else) and gives their reason."""
    t = S.TABLES[key]
    src = (ROOT / "contracts" / f"{t.contract}.vy").read_text()
    body = re.search(rf"def {t.check_function}\(.*?\n((?:    .*\n|\s*\n)+)", src)
    assert body is not None
    asserts = [ln.strip() for ln in body.group(1).splitlines() if ln.strip().startswith("assert")]
    assert len(asserts) == len(t.checks)
    prefix = t.rows[0].constant[:2]
    for line, src_line in zip(t.checks, asserts):
        named = set()
        for name, kind in line:
            r = t[name]
            named.add(r.constant)
            if kind == "le" and r.le is not None:
                named.add(t[r.le].constant)
            if kind == "sum":
                named |= {t[n].constant for n in r.sum_group}
        assert set(re.findall(rf"\b{prefix}[A-Z0-9_]+\b", src_line)) == named, src_line
        assert src_line.endswith(f'"{t[line[0][0]].reason}"'), src_line


@pytest.mark.parametrize("key", list(S.TABLES))
def test_every_accepted_value_fits_its_storage_field(key):
    t = S.TABLES[key]
    for r in t:
        assert 0 < r.bits <= 256 and t.max_value(r.name) <= 2**r.bits - 1, r.name


# ------------------------------------------------------------------ bounds, value by value


@pytest.mark.parametrize("key,name", ENTRIES, ids=[f"{k}.{n}" for k, n in ENTRIES])
def test_bounds_on_chain_and_in_the_reference(oracle, vault, weth, admin, key, name):
    t, (check, _) = S.TABLES[key], REF_CHECK[key]
    r = t[name]
    read, write = _on_chain(key, oracle, vault, weth)
    base = list(DEPLOYED[key])  # on chain: test_named_vectors_are_the_positional_ones
    check(base)
    for value, accepted in _edges(t, name, base):
        vec = list(base)
        vec[r.index] = value
        if accepted:
            check(vec)
            write(r.index, value, admin)
            assert read(r.index) == value  # and back out of the packed storage
        else:
            with pytest.raises(ref.Reject) as e:
                check(vec)
            assert e.value.reason == r.reason
            with ape.reverts(r.reason):
                write(r.index, value, admin)
            assert read(r.index) == base[r.index]


# ------------------------------------------------------------------ named vectors


def test_named_vectors_are_the_positional_ones(oracle, vault, weth):
    pairs = [(S.ORACLE, P.TOKENS[WETH].oracle), (S.ASSET, P.TOKENS[WETH].rates), (S.VAULT, P.VAULT)]
    pairs += [(S.ORACLE, tk.oracle) for tk in P.TOKENS] + [(S.ASSET, tk.rates) for tk in P.TOKENS]
    for t, v in pairs:
        assert isinstance(v, t.vector) and isinstance(v, tuple)
        assert t.make(list(v)) == v == tuple(v) and t.as_dict(list(v)) == v._asdict()
        for r in t:
            assert getattr(v, r.name) == v[r.index]
    # by name == by position == on chain
    chain_vectors = {
        "oracle": [oracle.params(weth, i) for i in range(len(S.ORACLE))],
        "asset": [vault.asset_params(weth, i) for i in range(len(S.ASSET))],
        "vault": [vault.params(i) for i in range(len(S.VAULT))],
    }
    for key, v in (("oracle", P.TOKENS[WETH].oracle), ("asset", P.TOKENS[WETH].rates), ("vault", P.VAULT)):
        assert chain_vectors[key] == list(v)
        assert {n: chain_vectors[key][S.TABLES[key].index(n)] for n in S.TABLES[key].names} == v._asdict()
    with pytest.raises(ValueError, match=f"{len(S.ORACLE)} entries, got 22"):
        S.ORACLE.make([0] * 22)
    with pytest.raises(KeyError, match="known: heartbeat"):
        S.ORACLE.index("haircut")


def test_builders_set_each_entry_by_name():
    o = P.oracle_params(heartbeat=7, cooldown=9, kappa=0.5, depth_usd=3.0)
    assert (o.heartbeat, o[ref.P_COOLDOWN], o.kappa, o[ref.P_DEPTH]) == (7, 9, ref.WAD // 2, 3 * ref.WAD)
    # one floor unless asked (h_min_init = h_min), the drawdown trip off
    assert (o.h_min_init, o.dd_trip) == (o.h_min, 0)
    o = P.oracle_params(h_min=0.1, h_min_init=0.15, dd_window=600, dd_trip=0.2)
    assert (o[ref.P_H_MIN_INIT], o.dd_window, o[ref.P_DD_TRIP]) == (15 * ref.WAD // 100, 600, ref.WAD // 5)
    a = P.rate_params(kink=0.5, borrowable=False)
    assert (a.kink, a[ref.A_BORROWABLE]) == (ref.WAD // 2, 0)
    v = P.vault_params(liq_window=11, min_debt_value_usd=2.0)
    assert (v.liq_window, v[ref.V_MIN_DEBT_VALUE]) == (11, 2 * ref.WAD)


def test_model_oracle_params_follow_the_table():
    v = P.TOKENS[WETH].oracle
    op = M.OracleParams.from_wad([v])
    assert [f for f in op.__dataclass_fields__] == list(S.ORACLE.names)
    for r in S.ORACLE:
        expected = float(v[r.index]) if r.unit == "s" else v[r.index] / ref.WAD
        assert getattr(op, r.name)[0] == expected, r.name


def test_vector_lengths_are_the_abis(project):
    """The fixed-size arrays of the contracts' ABIs have the tables' lengths (IRiskOracle's
    ``list_asset`` is held to RiskOracle's by the compiler, through ``implements``)."""

    def array_types(contract_type: Any, method: str) -> list[str]:
        abi = [a for a in contract_type.abi if getattr(a, "name", None) == method or a.type == method]
        return [i.type for a in abi for i in a.inputs if i.type.startswith("uint256[")]

    oracle_vec, vault_vec, asset_vec = (f"uint256[{len(t)}]" for t in (S.ORACLE, S.VAULT, S.ASSET))
    assert array_types(project.RiskOracle.contract_type, "list_asset") == [oracle_vec]
    assert array_types(project.MarginVault.contract_type, "constructor") == [vault_vec]
    assert array_types(project.MarginVault.contract_type, "list_asset") == [asset_vec]
