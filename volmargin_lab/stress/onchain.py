"""A subset of the stress lab replayed through the deployed contracts, held to the model.

The rest of the lab runs on ``volmargin.model``; this module shows, on the chain Ape is
connected to, that the model's numbers are the contracts' numbers within the model's
stated tolerances (``volmargin.model`` docstring). For one policy it deploys the system
with that policy's parameter vectors (``policies.Policy.token_specs`` / ``vault``), opens a
seeded population at its leverage times the model's borrowing power, then for each hourly
bar of the subset (closes of ``volmargin_lab.data.load_episode``, pushed into the feeds and
poked, as the main-job replay does) compares:

* every asset: oracle price (relative ``TOL_PRICE``), maintenance haircut in force at the
  view's block time (absolute ``TOL_HAIRCUT`` = the model's 1e-7 path bound), breaker state
  (equal);
* every account: maintenance assets and liabilities (``TOL_HEALTH`` of the account's gross
  value plus 1e-12 USD: the model's path bound) and whether it is liquidatable (equal, unless
  its health is within the tolerance of 0: a knife edge, counted apart);
* every liquidation: the model's keeper (``engine.liquidation_amounts``, with keeper latency:
  liquidatable at the previous bar and now) picks debt and collateral and predicts the
  repayment and the seizure at the transaction's block time; the chain's ``Liquidation``
  event must agree within ``TOL_LIQ`` relative plus one token unit.

The model keeps no interest: account balances are read from the chain at every bar (the
interest accrued over a bar is below 1e-5 of a debt at the default rates); the oracle model
runs on its own along the whole subset from the listing.

This is the model configuration of ``volmargin.chain.driver`` (``model_configuration``):
the driver opens the accounts and runs the bars; this module supplies the policy, the
population, the prices and the liquidation rule of ``engine.liquidation_amounts``.

Units: USD, whole tokens, seconds; chain values converted from WAD / token decimals.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from volmargin import params as P
from volmargin import reference as ref
from volmargin.chain.deploy import deploy_system
from volmargin.chain.driver import LiquidationForecast, LiquidationRule, Tolerances, model_configuration, run_episode

from ..data import load_episode
from ..population import make_population, open_at_leverage
from .engine import liquidation_amounts
from .policies import VaultModel, make_policy
from .scenarios import utc, utc_str

SYMS: tuple[str, ...] = ("USD", "WETH", "WBTC")
TOLERANCES = Tolerances()
TOL_PRICE = TOLERANCES.price_rel
TOL_HAIRCUT = TOLERANCES.h_maint_abs
TOL_HEALTH = TOLERANCES.health_rel_of_gross
TOL_LIQ = TOLERANCES.liquidation_rel
#: The subset opens at this fraction of leverage times the model's borrowing power.
OPEN_HEADROOM = 0.995


def liquidation_rule(vm: VaultModel) -> LiquidationRule:
    """``engine.liquidation_amounts`` for one account as the driver's ``LiquidationRule``:
    balances (A,) signed whole tokens, prices (A,) USD, h_maint (A,) -> the pair, the
    repayment (debt tokens), the seizure and its insurance cut (collateral tokens)."""

    def rule(balances: np.ndarray, prices: np.ndarray, h_maint: np.ndarray) -> LiquidationForecast:
        b = balances[None]
        d, c, repay, seize, bon = liquidation_amounts(np.maximum(b, 0), np.maximum(-b, 0), prices[None],
                                                      h_maint[None], vm)
        cut = seize * bon / (1.0 + bon) * vm.insurance_share
        return LiquidationForecast(int(d[0]), int(c[0]), repay[0], seize[0], cut[0])

    return rule


def replay_subset(
    project: Any,
    chain: Any,
    accounts: Any,
    policy: str,
    *,
    episode: str = "eth-2020-03",
    start: str = "2020-03-12 06:00",
    steps: int = 24,
    n_accounts: int = 30,
    seed: int = 7,
    progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Replay ``steps`` hourly bars of ``episode`` from ``start`` (UTC) under ``policy`` on the
    connected chain and compare with the model (see the module docstring).

    Returns a JSON-ready dict: ``checks``, ``mismatches``, ``examples``, ``worst`` (largest
    error / tolerance per kind), ``knife_edges``, ``liquidations``, ``bad_debt_usd``,
    ``tolerances``, ``opened``, ``wall_seconds``.

    Raises
    ------
    KeyError for an unknown policy; ``volmargin_lab.data.DataError`` for a bad episode;
    ValueError when ``start`` is not a bar of the episode, there are too few bars after it,
    or too few test accounts.
    """
    t_wall = time.time()
    pol = make_policy(policy)
    bars = load_episode(episode)
    ts = bars["WETH"].timestamp
    hit = np.flatnonzero(ts == utc(start))
    if hit.size == 0:
        raise ValueError(f"start {start!r} is not a bar of episode {episode!r}")
    i0 = int(hit[0])
    if i0 + steps >= len(ts):
        raise ValueError(f"episode {episode!r} has only {len(ts) - i0 - 1} bars after {start}")
    ta = accounts.test_accounts
    if len(ta) < n_accounts + 3:
        raise ValueError(f"needs {n_accounts + 3} test accounts, have {len(ta)}")
    admin, lender, liquidator = ta[0], ta[1], ta[2]
    borrowers = [ta[3 + k] for k in range(n_accounts)]

    def close(sym: str, i: int) -> float:
        return 1.0 if sym == "USD" else float(bars[sym].close[i])

    floor, pairs = pol.portfolio_deployment()
    system = deploy_system(project, admin, start_prices={s: close(s, i0) for s in SYMS},
                           specs=pol.token_specs(SYMS), vault_params=pol.vault, lender=lender,
                           seed_liquidity=P.SEED_LIQUIDITY, portfolio_floor=floor, correlations=pairs)
    op, vm = pol.oracle_model(SYMS), pol.vault_model()
    checker, keeper = model_configuration(system, op, vm.caution_scale, liquidation_rule(vm), TOLERANCES)
    # the population opens at the model's borrowing power, on the feeds' answers (8 decimals)
    o = checker.oracle
    opening = open_at_leverage(make_population(n_accounts, seed, SYMS), o.price.copy(), o.h_init_now(o.h_time), op.kappa,
                               op.depth, o.breaker, vm.caution_scale, headroom=OPEN_HEADROOM)
    prices = {s: np.array([close(s, i0 + k) for k in range(1, steps + 1)]) for s in SYMS}
    res = run_episode(system, chain, borrowers, liquidator, opening, prices, 3600, checker, keeper, progress)
    chk = res.parity
    return {
        "policy": policy,
        "episode": episode,
        "first_bar_utc": utc_str(ts[i0]),
        "steps": steps,
        "accounts": n_accounts,
        "opened": res.opened,
        "checks": chk.checks,
        "mismatches": chk.mismatches,
        "examples": chk.examples,
        "worst_error_over_tolerance": chk.worst,
        "knife_edges": checker.knife_edges,
        "liquidations": res.liquidations,
        "liquidation_reverts": res.liquidation_reverts,
        "liquidation_volume_usd": res.liquidation_volume_usd,
        "bad_debt_usd": res.bad_debt_usd,
        "tolerances": TOLERANCES.as_dict(),
        "wall_seconds": round(time.time() - t_wall, 1),
    }


__all__ = ["replay_subset", "liquidation_rule", "SYMS", "OPEN_HEADROOM", "TOL_PRICE", "TOL_HAIRCUT", "TOL_HEALTH",
           "TOL_LIQ", "ref"]
