"""Names loaded into `ape console` for volmargin.

On start, the deployment manifest of the connected chain
(deployments/<chain id>.json, else deployments/latest.json; another file:
VOLMARGIN_DEPLOYMENT=PATH ape console ...) is bound as `vault`, `oracle`,
`usd`, `weth`, `wbtc` and `feeds` when its contracts exist on that chain.
Otherwise call `deploy()` to deploy a fresh system and bind them.

Helpers (USD figures are plain floats; on-chain values are WAD = 1e18; times s):
  deploy()                         deploy the full system (TEST::0 admin) and bind names
  health(account)                  maintenance/initial weighted sums and health factor
  push_price(asset, usd)           push a price into an asset's mock feed and poke the oracle
  risk(asset)                      price, its age, sigma, haircuts and breaker (by name) of an asset
  pause(*actions) / unpause(*actions)        withdraw, borrow, liquidate or all
  set_param(name, value, asset=None)         a volmargin.spec parameter in human units, via the steward
  grant_role(role, account, on="both") / revoke_role(...)
  list_asset(token, feed, like=None, vol=0.8, **settings)
Admin helpers take `sender=` (an account or an `ape accounts` alias); on a development
chain it defaults to the test account that deployed the manifest. They share their
checks with `ape run admin` (volmargin.chain.admin) and refuse with the contract's reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: Environment variable naming the manifest the console binds (default: the connected chain's).
DEPLOYMENT_ENV = "VOLMARGIN_DEPLOYMENT"


def ape_init_extras(**namespace: Any) -> dict[str, Any]:
    from ape import accounts, chain, project

    from volmargin import params as P
    from volmargin.chain import admin as A
    from volmargin.chain import feeds as F
    from volmargin.chain.manifest import LATEST, DeploymentError
    from volmargin.chain.node import is_dev_chain, load_deployment, manifest_path

    ns: dict[str, Any] = {}
    state: dict[str, Any] = {}

    def bind(dep: Any) -> None:
        state["dep"] = dep
        names = dict(vault=dep.vault, oracle=dep.oracle, feeds=dep.feeds, **{s.lower(): t for s, t in dep.tokens.items()})
        ns.update(names)
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:  # called from a running console: bind the names there too
            shell.user_ns.update(names)

    def deploy() -> Any:
        """Deploy the full system with lender liquidity; write deployments/latest.json."""
        from volmargin.chain.deploy import deploy_system

        system = deploy_system(project, accounts.test_accounts[0], lender=accounts.test_accounts[1],
                               seed_liquidity=P.SEED_LIQUIDITY)
        system.write_json(LATEST)
        bind(load_deployment(project, chain, LATEST))
        return system

    def _dep() -> Any:
        if "dep" not in state:
            raise RuntimeError("no deployment bound: call deploy() first")
        return state["dep"]

    def _sender(sender: Any) -> Any:
        """``sender`` as an account: an alias string resolved as `ape run admin --account`
        does; None = the test account that deployed the manifest (development chains)."""
        if isinstance(sender, str):
            return A.resolve_account(sender, chain.provider)
        if sender is not None:
            return sender
        admin = _dep().info.admin
        if is_dev_chain(chain.provider):
            for acct in accounts.test_accounts:
                if acct.address == admin:
                    return acct
        raise A.AdminError(f"give sender= (the manifest's admin {admin} is no test account here)")

    def health(account: Any) -> dict[str, float]:
        """Weighted sums (USD) and maintenance health factor of `account`."""
        v = _dep().vault
        h = v.health(account)
        hf = v.health_factor(account)
        return {
            "maint_assets_usd": h.maint_assets / 1e18,
            "maint_liabilities_usd": h.maint_liabilities / 1e18,
            "init_assets_usd": h.init_assets / 1e18,
            "init_liabilities_usd": h.init_liabilities / 1e18,
            "health_factor": float("inf") if hf == 2**256 - 1 else hf / 1e18,
            "liquidatable": h.maint_assets < h.maint_liabilities,
        }

    def push_price(asset: str, usd: float) -> Any:
        """Push `usd` (USD per whole token) into the asset's feed at block time, then poke.
        A second push within the feed's last second moves the clock one second on first."""
        dep = _dep()
        return F.push(chain, dep, dep.symbol_of(asset), usd, accounts.test_accounts[0])

    def risk(asset: str) -> dict[str, Any]:
        """Price (USD), its age and the oldest it may be (s, heartbeat + grace), annual sigma,
        haircuts (fractions) and breaker (by name, as last poked) of an asset."""
        dep = _dep()
        sym = dep.symbol_of(asset)
        a = dep.tokens[sym].address
        (age,) = F.ages(dep, [sym])
        h_maint, h_init = dep.oracle.haircuts(a)
        return {
            "price_usd": age.price_usd,
            "age_s": age.age_s,
            "max_age_s": age.max_age_s,
            "stale": age.stale,
            "sigma_annual": dep.oracle.sigma(a, 31_536_000) / 1e18,
            "h_maint": h_maint / 1e18,
            "h_init": h_init / 1e18,
            "breaker": age.breaker,
            "price_invalid": age.invalid,
        }

    def pause(*actions: str, sender: Any = None) -> str:
        """Pause vault actions (withdraw, borrow, liquidate, all); returns what is paused."""
        return A.mask_names(A.pause(_dep(), list(actions), _sender(sender))[1])

    def unpause(*actions: str, sender: Any = None) -> str:
        """Clear vault pauses (DEFAULT_ADMIN_ROLE); returns what stays paused."""
        return A.mask_names(A.unpause(_dep(), list(actions), _sender(sender))[1])

    def set_param(name: str, value: Any, asset: str | None = None, sender: Any = None) -> Any:
        """Set a volmargin.spec parameter (human units) through the steward; prints the check first."""
        dep, who = _dep(), _sender(sender)
        plan = A.plan_param(chain, dep, name, value, who, asset)
        print("\n".join(plan.describe()))
        return A.set_param(chain, dep, name, value, who, asset)[1]

    def grant_role(role: str, account: Any, on: str = "both", sender: Any = None) -> None:
        """Grant a role (by name) on the oracle, the vault or both."""
        print("\n".join(A.change_role(_dep(), True, role, str(getattr(account, "address", account)), _sender(sender), on)))

    def revoke_role(role: str, account: Any, on: str = "both", sender: Any = None) -> None:
        """Revoke a role (by name) on the oracle, the vault or both."""
        print("\n".join(A.change_role(_dep(), False, role, str(getattr(account, "address", account)), _sender(sender), on)))

    def list_asset(token: str, feed: str, like: str | None = None, vol: float = 0.8, sender: Any = None,
                   **settings: Any) -> None:
        """List a token with its feed (parameters of `like`, or the defaults, with `settings`
        by name in human units). Pulls one whole token from the sender as a fee-on-transfer probe."""
        print(f"note: {A.PROBE_NOTICE}")
        who = _sender(sender)
        plan = A.plan_listing(project, chain, _dep(), token, feed, who, settings, like, vol)
        print("\n".join(A.list_asset(_dep(), plan, who)))

    chosen = os.environ.get(DEPLOYMENT_ENV)
    if chosen:  # the file the user named: bound, or one line saying why not
        try:
            bind(load_deployment(project, chain, Path(chosen)))
            print(f"volmargin: bound the deployment of {chosen}")
        except DeploymentError as exc:
            print(f"volmargin: {DEPLOYMENT_ENV}: {exc}")
    for path in () if chosen else dict.fromkeys((manifest_path(chain.chain_id), LATEST)):
        try:
            bind(load_deployment(project, chain, path))
            print(f"volmargin: bound the deployment of {path}")
            break
        except DeploymentError:
            continue  # not this chain's: try the next, else deploy() binds the names
    ns.update(deploy=deploy, health=health, push_price=push_price, risk=risk, pause=pause, unpause=unpause,
              set_param=set_param, grant_role=grant_role, revoke_role=revoke_role, list_asset=list_asset)
    return ns
