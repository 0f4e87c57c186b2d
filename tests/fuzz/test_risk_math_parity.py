"""Differential fuzzing of the risk math: the contracts' modules, run through the
batched RiskMathHarness, against ``volmargin.reference``.

Every case must give the same value, and revert on chain iff the reference
raises (checked uint256 arithmetic). One hypothesis example is a batch of up
to 256 cases evaluated in one call.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from volmargin import reference as ref
from volmargin.chain.harness import FUNCTIONS, chain_outcomes, reference_outcomes
from stats import STATS

WAD = ref.WAD
U256 = 2**256 - 1
EDGES = [0, 1, 2, 10**6, 10**8, 10**10, WAD - 1, WAD, WAD + 1, 10**30, 2**128, U256 - 1, U256]

anything = st.one_of(
    st.sampled_from(EDGES),
    st.integers(0, 10**40),
    st.integers(0, U256),
)
price = st.one_of(st.sampled_from([10**10, 10**18, 10**30, 1]), st.integers(10**10, 10**30))  # 1e-8 .. 1e12 USD
wad_frac = st.integers(0, 2 * WAD)
seconds = st.one_of(st.sampled_from([1, 3600, 86400, ref.SECONDS_PER_YEAR]), st.integers(1, ref.SECONDS_PER_YEAR))
variance = st.one_of(st.sampled_from([0, 1, 10**36]), st.integers(0, 10**14))
decimals = st.sampled_from([0, 6, 8, 18, 24])

# Realistic domains (the values the contracts see) mixed with arbitrary uint256s.
DOMAINS = {
    "abs_return": [price, price],
    "ewma_var": [variance, wad_frac, seconds, seconds],
    "sigma": [variance, seconds],
    "haircut": [wad_frac, st.integers(0, 10 * WAD), wad_frac, wad_frac, wad_frac],
    "ramp": [wad_frac, wad_frac, seconds, st.integers(0, 10**14), st.integers(0, 10**14)],
    "size_haircut": [wad_frac, st.integers(0, 10**30), st.integers(0, 10**30)],
    "asset_value": [st.integers(0, 10**30), price, decimals],
    "liability_value": [st.integers(0, 10**30), price, decimals],
    "weighted_asset": [st.integers(0, 10**32), wad_frac],
    "weighted_liability": [st.integers(0, 10**32), wad_frac],
    "bonus": [st.integers(0, 10**32), st.integers(0, 10**32), wad_frac, wad_frac, wad_frac],
    "borrow_rate": [wad_frac, wad_frac, wad_frac, wad_frac, st.integers(1, WAD - 1)],
    "grow_index": [st.integers(WAD, 10 * WAD), st.integers(0, 10 * WAD), seconds],
    "ewma_step": [variance, price, price, seconds, seconds, variance],
    "health_factor": [st.integers(0, 10**32), st.integers(0, 10**32)],
    # debts from dust to whales, health factors around hf_full, min debt values around the rest
    "max_repay": [st.integers(0, 10**27), price, decimals, st.integers(9 * WAD // 10, WAD), wad_frac,
                  st.integers(9 * WAD // 10, WAD), st.integers(0, 10**22)],
    "seize_amount": [st.integers(0, 10**27), price, decimals, price, decimals, st.integers(0, WAD // 5)],
    "repay_for_seize": [st.integers(0, 10**27), price, decimals, price, decimals, st.integers(0, WAD // 5)],
    "utilization": [st.integers(0, 10**30), st.integers(0, 10**30)],
    # portfolio margin (docs/design.md §5.6): shares and offsets as the oracle forms them
    "initial_haircut": [wad_frac, wad_frac, st.integers(0, 10**30), st.integers(0, 10**32), wad_frac],
    "share": [st.integers(0, 10**40), st.integers(1, 10**40)],
    "pair_term": [st.integers(0, WAD), st.integers(0, WAD), st.integers(0, 2 * WAD)],
    "portfolio_scale": [st.integers(0, WAD), st.integers(1, WAD)],
    "scaled_haircut": [wad_frac, st.integers(0, WAD)],
    "pack_pair": [st.integers(0, 2 * WAD), st.integers(0, 2 * WAD)],
    "to_tokens": [st.integers(0, 10**30), st.integers(0, 1), st.integers(WAD, 10 * WAD), st.integers(WAD, 10 * WAD)],
    # forecast volatility (docs/design.md §3.7): sigmas per year or per horizon, multiples up to 10
    "forecast_combine": [st.integers(0, 3), st.integers(0, 10**20), st.integers(0, 10**20), st.integers(0, 10 * WAD),
                         st.integers(0, 10 * WAD)],
    "forecast_within": [st.integers(0, 10**20), st.integers(0, 10**20), st.integers(0, 10 * WAD), st.integers(0, 10 * WAD)],
    "forecast_step_ok": [st.integers(0, 10**20), st.integers(0, 10**20), st.integers(0, 10 * WAD)],
    "forecast_variance": [st.integers(0, 10**20)],
}


def rows_for(name: str, min_size: int, max_size: int) -> st.SearchStrategy[list[list[int]]]:
    arity = FUNCTIONS[name][1]
    realistic = st.tuples(*DOMAINS[name]).map(list)
    arbitrary = st.lists(anything, min_size=arity, max_size=arity)
    return st.lists(st.one_of(realistic, realistic, arbitrary), min_size=min_size, max_size=max_size)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_harness_matches_reference(harness, chain, name):
    # anvil evaluates a 512-case batch in milliseconds; the embedded py-evm chain is ~15x slower
    sizes = (128, 512) if chain.provider.name == "foundry" else (16, 128)

    @given(rows=rows_for(name, *sizes))
    def check(rows):
        got = chain_outcomes(harness, name, rows)
        want = reference_outcomes(name, rows)
        for row, g, w in zip(rows, got, want):
            assert g == w, f"{name}{tuple(row)}: chain={g} reference={w}"
        STATS["pure"] += len(rows)

    check()


def test_known_values(harness):
    # dust rule (docs/design.md §6): repaying half of 150 USD would leave 75 < 100 USD, so all may go
    assert chain_outcomes(harness, "max_repay", [[150 * 10**6, WAD, 6, WAD, WAD // 2, 95 * WAD // 100, 100 * WAD]]) == [
        (True, 150 * 10**6)
    ]
    assert chain_outcomes(harness, "max_repay", [[1_000 * 10**6, WAD, 6, WAD, WAD // 2, 95 * WAD // 100, 100 * WAD]]) == [
        (True, 500 * 10**6)
    ]
    """Hand-computed values from docs/design.md §3-§4 formulas (not copied from the code)."""
    # 10 % drop: |r| = 0.1
    assert chain_outcomes(harness, "abs_return", [[200 * WAD, 180 * WAD]]) == [(True, WAD // 10)]
    # sigma over 4 s of variance 1/4 per s (0.25e18): sqrt(1) = 1
    assert chain_outcomes(harness, "sigma", [[WAD // 4, 4]]) == [(True, WAD)]
    # haircut 2 % + 3 * 5 % = 17 %, inside [10 %, 60 %]; floor and cap bind at the ends
    assert chain_outcomes(
        harness, "haircut",
        [[WAD // 50, 3 * WAD, WAD // 20, WAD // 10, 6 * WAD // 10], [0, 0, 0, WAD // 10, WAD], [WAD, 0, 0, 0, WAD // 2]],
    ) == [(True, 17 * WAD // 100), (True, WAD // 10), (True, WAD // 2)]
    # ramp from 10 % toward 30 % at 1e12 per s for 1e4 s: +1e16 = 11 %
    assert chain_outcomes(harness, "ramp", [[WAD // 10, 3 * WAD // 10, 10**4, 10**12, 0]]) == [(True, 11 * WAD // 100)]
    # 1 WBTC (8 dec) at 30,000 USD is 30,000 USD
    assert chain_outcomes(harness, "asset_value", [[10**8, 30_000 * WAD, 8]]) == [(True, 30_000 * WAD)]
    # one wei of a 6-decimal token at 1 USD rounds to 0 as an asset and up to 1e12 as a liability
    assert chain_outcomes(harness, "asset_value", [[1, WAD - 1, 6]]) == [(True, 10**12 - 1)]
    assert chain_outcomes(harness, "liability_value", [[1, WAD - 1, 6]]) == [(True, 10**12)]
    # division by zero (dt = 0) reverts
    assert chain_outcomes(harness, "ewma_var", [[1, 1, 0, 1]]) == [(False, 0)]
