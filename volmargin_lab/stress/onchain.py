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

Units: USD, whole tokens, seconds; chain values converted from WAD / token decimals.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from volmargin import model as M
from volmargin import params as P
from volmargin import reference as ref
from volmargin.units import to_feed_answer

from ..data import load_episode
from volmargin.chain.deploy import deploy_system, fund
from volmargin.chain.lens import read_accounts, read_assets
from .engine import liquidation_amounts
from .policies import make_policy
from ..population import borrowing_power, make_population, open_balances
from .scenarios import utc, utc_str

SYMS: tuple[str, ...] = ("USD", "WETH", "WBTC")
TOL_PRICE = 1e-12
TOL_HAIRCUT = 1e-7
TOL_HEALTH = 1e-7
TOL_LIQ = 1e-6


class _Check:
    def __init__(self) -> None:
        self.checks = 0
        self.mismatches = 0
        self.examples: list[str] = []
        self.worst: dict[str, float] = {}

    def close(self, what: str, kind: str, chain: float, model: float, tol: float) -> None:
        self.checks += 1
        err = abs(chain - model)
        self.worst[kind] = max(self.worst.get(kind, 0.0), err / tol if tol > 0 else 0.0)
        if not err <= tol:
            self.mismatches += 1
            if len(self.examples) < 20:
                self.examples.append(f"{what}: chain={chain!r} model={model!r} tol={tol:.3g}")

    def equal(self, what: str, chain: Any, model: Any) -> None:
        self.checks += 1
        if chain != model:
            self.mismatches += 1
            if len(self.examples) < 20:
                self.examples.append(f"{what}: chain={chain!r} model={model!r}")


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

    # the feeds answer with 8 decimals: the model sees exactly what the chain sees
    def answer(sym: str, i: int) -> float:
        return to_feed_answer(close(sym, i), P.FEED_DECIMALS) / 10**P.FEED_DECIMALS

    system = deploy_system(project, admin, start_prices={s: close(s, i0) for s in SYMS},
                           specs=pol.token_specs(SYMS), vault_params=pol.vault, lender=lender,
                           seed_liquidity=P.SEED_LIQUIDITY)
    vault = system.vault
    addr = {s: system.address(s) for s in SYMS}
    dec = np.array([system.specs[s].decimals for s in SYMS])
    op = pol.oracle_model(SYMS)
    vm = pol.vault_model()
    rounds = {s: system.feed_round(s) for s in SYMS}
    oracle = M.OracleModel(op, np.array([answer(s, i0) for s in SYMS]),
                           np.array([system.specs[s].var_seed / 1e18 for s in SYMS]),
                           float(max(r.updated_at for r in rounds.values())))
    oracle.updated_at = np.array([float(rounds[s].updated_at) for s in SYMS])

    # --- open the population at the model's borrowing power
    pop = make_population(n_accounts, seed, SYMS)
    p0 = oracle.price.copy()
    bp = borrowing_power(pop.collateral_usd / p0, pop.debt_asset, p0, oracle.h_init(), op.kappa, op.depth,
                         oracle.breaker, vm.caution_scale)
    target = open_balances(pop, p0, 0.995 * pop.leverage * bp)
    for s in SYMS:
        fund(system, liquidator, s, 10**15 * 10 ** system.specs[s].decimals)
        system.tokens[s].mint(admin.address, 10**15 * 10 ** system.specs[s].decimals, sender=admin)
        system.tokens[s].approve(vault.address, 2**256 - 1, sender=admin)
    opened = 0
    for n, acct in enumerate(borrowers):
        for j, s in enumerate(SYMS):
            if target[n, j] > 0:
                vault.deposit(addr[s], int(target[n, j] * 10 ** dec[j]), acct.address, sender=admin)
        j = int(pop.debt_asset[n])
        amount = int(-target[n, j] * 10 ** dec[j])
        if amount > 0:
            try:
                vault.borrow(addr[SYMS[j]], amount, sender=acct)
                opened += 1
            except Exception:  # noqa: BLE001 - a refused borrow only shrinks the subset; counted
                pass

    chk = _Check()
    liq_prev: set[str] = set()
    knife = 0
    n_liq = 0
    liq_usd = 0.0
    bad_usd = 0.0
    reverts = 0
    names = [str(b.address) for b in borrowers]
    t_base = max(int(chain.blocks.head.timestamp), int(chain.pending_timestamp)) + 3600
    for k in range(1, steps + 1):
        i = i0 + k
        chain.pending_timestamp = t_base + (k - 1) * 3600
        for s in SYMS:
            system.push_price(s, close(s, i))
        receipt = system.poke(list(SYMS))
        now = float(receipt.timestamp)
        upd = np.array([float(system.feed_round(s).updated_at) for s in SYMS])
        oracle.step(np.array([answer(s, i) for s in SYMS]), upd, now)

        t_view, snaps = read_assets(system.oracle, [addr[s] for s in SYMS])
        h_view = oracle.h_maint_now(float(t_view))
        for j, snap in enumerate(snaps):
            s = SYMS[j]
            chk.close(f"bar {k} {s}.price", "price", int(snap.price) / 1e18, float(oracle.price[j]),
                      TOL_PRICE * float(oracle.price[j]))
            chk.close(f"bar {k} {s}.h_maint", "h_maint", int(snap.h_maint) / 1e18, float(h_view[j]), TOL_HAIRCUT)
            chk.equal(f"bar {k} {s}.breaker", int(snap.breaker), int(oracle.breaker[j]))

        t_acc, rows = read_accounts(vault, names)
        h_acc = oracle.h_maint_now(float(t_acc))
        bal = np.array([[int(x) for x in r.balances[: len(SYMS)]] for r in rows], dtype=np.float64) / 10.0**dec
        ma, ml, _, _ = M.weighted_health(bal, oracle.price, h_acc, oracle.h_init(), op.kappa, op.depth,
                                         oracle.breaker, vm.caution_scale)
        gross = (np.abs(bal) * oracle.price).sum(axis=1)
        liq_now: set[str] = set()
        for n, r in enumerate(rows):
            tol = TOL_HEALTH * gross[n] + 1e-12
            c_ma, c_ml = r.health.maint_assets / 1e18, r.health.maint_liabilities / 1e18
            chk.close(f"bar {k} account {n} maint assets", "health", c_ma, float(ma[n]), tol)
            chk.close(f"bar {k} account {n} maint liabilities", "health", c_ml, float(ml[n]), tol)
            chain_liq = r.health.maint_assets < r.health.maint_liabilities
            if gross[n] > 0 and abs(float(ma[n] - ml[n])) <= 2 * tol:
                knife += 1
            else:
                chk.equal(f"bar {k} account {n} liquidatable", chain_liq, bool(ma[n] < ml[n]))
            if chain_liq:
                liq_now.add(names[n])

        # the model's keeper, one bar late
        for n, name in enumerate(names):
            if name not in liq_now or name not in liq_prev:
                continue
            b = bal[n : n + 1]
            d, c, _, _, _ = liquidation_amounts(np.maximum(b, 0), np.maximum(-b, 0), oracle.price[None], h_acc[None], vm)
            dj, cj = int(d[0]), int(c[0])
            try:
                rc = vault.liquidate(name, addr[SYMS[dj]], addr[SYMS[cj]], 2**256 - 1, 0, sender=liquidator)
            except Exception:  # noqa: BLE001 - e.g. "vault: liquidation cap reached"; counted
                reverts += 1
                continue
            h_tx = oracle.h_maint_now(float(rc.timestamp))
            _, _, rep, seize, bon = liquidation_amounts(np.maximum(b, 0), np.maximum(-b, 0), oracle.price[None],
                                                        h_tx[None], vm)
            cut = seize * bon / (1.0 + bon) * vm.insurance_share
            for ev in rc.events:
                if ev.event_name == "Liquidation":
                    repaid = int(ev.repaid) / 10.0 ** dec[dj]
                    seized = int(ev.seized) / 10.0 ** dec[cj]
                    chk.close(f"bar {k} account {n} repaid", "liquidation", repaid, float(rep[0]),
                              TOL_LIQ * float(rep[0]) + 1.0 / 10.0 ** dec[dj])
                    chk.close(f"bar {k} account {n} seized", "liquidation", seized, float(seize[0] - cut[0]),
                              TOL_LIQ * float(seize[0]) + 1.0 / 10.0 ** dec[cj])
                    n_liq += 1
                    liq_usd += repaid * float(oracle.price[dj])
                elif ev.event_name == "BadDebtSettled":
                    j = SYMS.index(next(s for s in SYMS if addr[s].lower() == str(ev.asset).lower()))
                    bad_usd += int(ev.debt) / 10.0 ** dec[j] * float(oracle.price[j])
        liq_prev = liq_now
        if progress is not None:
            progress(1)

    return {
        "policy": policy,
        "episode": episode,
        "first_bar_utc": utc_str(ts[i0]),
        "steps": steps,
        "accounts": n_accounts,
        "opened": opened,
        "checks": chk.checks,
        "mismatches": chk.mismatches,
        "examples": chk.examples,
        "worst_error_over_tolerance": chk.worst,
        "knife_edges": knife,
        "liquidations": n_liq,
        "liquidation_reverts": reverts,
        "liquidation_volume_usd": liq_usd,
        "bad_debt_usd": bad_usd,
        "tolerances": {"price_rel": TOL_PRICE, "h_maint_abs": TOL_HAIRCUT, "health_rel_of_gross": TOL_HEALTH,
                       "liquidation_rel": TOL_LIQ},
        "wall_seconds": round(time.time() - t_wall, 1),
    }


__all__ = ["replay_subset", "SYMS", "TOL_PRICE", "TOL_HAIRCUT", "TOL_HEALTH", "TOL_LIQ", "ref"]
