"""Shared fixtures: role-named accounts (as in yearn v3) and a deployed system.

Hypothesis profiles: ``ci`` (default, fits the CI budget), ``deep``
(select with ``HYPOTHESIS_PROFILE=deep``) and ``mutation`` (the quick first pass of
``ape run mutate``).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

from stats import STATS

# Batches of hundreds of cases per example are the point of the harness tests:
# hypothesis's size health checks would flag them.
_SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.large_base_example, HealthCheck.data_too_large,
             HealthCheck.too_slow]
settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=_SUPPRESS)
settings.register_profile("deep", max_examples=5_000, deadline=None, suppress_health_check=_SUPPRESS)
# `ape run mutate`: a first pass with a quarter of ci's examples, then ci's count for a mutant
# that survived it; no shrinking (a mutant is killed by any failure, and shrinking a failing
# stateful run or a 512-case batch takes minutes)
_NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]
settings.register_profile("mutation", max_examples=10, deadline=None, suppress_health_check=_SUPPRESS, phases=_NO_SHRINK)
settings.register_profile("mutation-full", max_examples=40, deadline=None, suppress_health_check=_SUPPRESS,
                          phases=_NO_SHRINK)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    """Tests marked ``anvil`` run a script process against the test's own node: they are
    collected only when that node is anvil (``--network ethereum:local:foundry``, the second
    pass of ``make test``) and deselected on the embedded chain, where no process can share it."""
    if "foundry" in str(config.getoption("network", default="") or ""):
        return
    keep = [i for i in items if i.get_closest_marker("anvil") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i.get_closest_marker("anvil") is not None])
        items[:] = keep


def pytest_terminal_summary(terminalreporter):
    """Print how many differential checks this session made against the reference."""
    if STATS:
        terminalreporter.write_line(
            f"differential checks against volmargin.reference: {STATS['pure']:,} pure cases, "
            f"{STATS['stateful']:,} stateful steps (hypothesis profile {settings._current_profile})"
        )


@pytest.fixture(scope="session")
def admin(accounts):
    """DEFAULT_ADMIN_ROLE holder and deployer."""
    return accounts[0]


@pytest.fixture(scope="session")
def lender(accounts):
    """Seeds liquidity."""
    return accounts[1]


@pytest.fixture(scope="session")
def liquidator(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def guardian(accounts):
    """GUARDIAN_ROLE holder (pause only)."""
    return accounts[3]


@pytest.fixture(scope="session")
def risk_admin(accounts):
    """RISK_ADMIN_ROLE holder (bounded parameter changes)."""
    return accounts[4]


@pytest.fixture(scope="session")
def risk_keeper(accounts):
    """RISK_KEEPER_ROLE holder on the oracle (pushes forecast volatilities, docs/design.md §3.7)."""
    return accounts[10]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def harness(project, admin):
    """The batched risk-math harness (tests only)."""
    return project.RiskMathHarness.deploy(sender=admin)


@pytest.fixture(scope="module")
def system(project, admin, lender, guardian, risk_admin, risk_keeper, alice, bob, liquidator):
    """A full deployment with default parameters (volmargin.params): USD (6 dec),
    WETH (18), WBTC (8) listed, 1M USD / 1,000 WETH / 50 WBTC of lender
    liquidity, roles granted, and alice, bob and the liquidator funded and
    approved, the risk keeper's role granted (the forecast mode stays off). Each test runs isolated (ape's chain isolation per test)."""
    from volmargin.chain.deploy import deploy_system, fund

    s = deploy_system(
        project, admin, lender=lender, seed_liquidity={"USD": 1_000_000, "WETH": 1_000, "WBTC": 50}
    )
    s.vault.grantRole(s.vault.GUARDIAN_ROLE(), guardian, sender=admin)
    s.vault.grantRole(s.vault.RISK_ADMIN_ROLE(), risk_admin, sender=admin)
    s.oracle.grantRole(s.oracle.RISK_ADMIN_ROLE(), risk_admin, sender=admin)
    s.oracle.grantRole(s.oracle.RISK_KEEPER_ROLE(), risk_keeper, sender=admin)
    for who in (alice, bob, liquidator):
        for sym, whole in (("USD", 10_000_000), ("WETH", 10_000), ("WBTC", 1_000)):
            fund(s, who, sym, whole * 10 ** s.specs[sym].decimals)
    return s


@pytest.fixture
def usd(system):
    return system.tokens["USD"]


@pytest.fixture
def weth(system):
    return system.tokens["WETH"]


@pytest.fixture
def wbtc(system):
    return system.tokens["WBTC"]


@pytest.fixture
def vault(system):
    return system.vault


@pytest.fixture
def oracle(system):
    return system.oracle


@pytest.fixture
def lens(system):
    return system.lens


@pytest.fixture(autouse=True)
def _isolate_reference(request):
    """Ape rolls the chain back after each test; roll the module's reference
    mirrors (system.oracle_ref / system.vault_ref) back with it."""
    if "system" not in request.fixturenames:
        yield
        return
    import copy

    s = request.getfixturevalue("system")
    saved = copy.deepcopy((s.oracle_ref, s.vault_ref, s.last_rounds))
    yield
    s.oracle_ref, s.vault_ref, s.last_rounds = copy.deepcopy(saved)
    s.vault_ref.oracle = s.oracle_ref
