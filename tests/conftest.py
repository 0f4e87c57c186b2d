"""Shared fixtures: role-named accounts (as in yearn v3) and a deployed system.

Hypothesis profiles: ``ci`` (default, fits the CI budget) and ``deep``
(select with ``HYPOTHESIS_PROFILE=deep``).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile(
    "deep", max_examples=5_000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
def alice(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def harness(project, admin):
    """The batched risk-math harness (tests only)."""
    return project.RiskMathHarness.deploy(sender=admin)
