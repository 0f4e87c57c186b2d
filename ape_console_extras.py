"""Names loaded into `ape console` for volmargin.

If deployments/latest.json points at contracts that exist on the connected
chain, they are bound as `vault`, `oracle`, `usd`, `weth`, `wbtc` and
`feeds`. Otherwise call `deploy()` to deploy a fresh system and bind them.

Helpers (USD figures are plain floats; on-chain values are WAD = 1e18):
  deploy()                    deploy the full system (TEST::0 admin) and bind names
  health(account)             maintenance/initial weighted sums and health factor
  push_price(asset, usd)      push a price into an asset's mock feed and poke the oracle
  risk(asset)                 price, sigma, haircuts and breaker state of an asset
"""

from __future__ import annotations

from typing import Any


def ape_init_extras(**namespace: Any) -> dict[str, Any]:
    from ape import accounts, chain, project

    from volmargin import params as P
    from volmargin.units import to_feed_answer
    from volmargin.chain.manifest import LATEST, DeploymentError, load, read_json

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
        bind(load(project, LATEST))
        return system

    def _dep() -> Any:
        if "dep" not in state:
            raise RuntimeError("no deployment bound: call deploy() first")
        return state["dep"]

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
        """Push `usd` (USD per whole token) into the asset's feed at block time, then poke."""
        dep = _dep()
        sym = dep.symbol_of(asset)
        admin = accounts.test_accounts[0]
        dep.feeds[sym].push(to_feed_answer(usd, P.FEED_DECIMALS), 0, sender=admin)
        return dep.oracle.poke(dep.tokens[sym].address, sender=admin)

    def risk(asset: str) -> dict[str, Any]:
        """Price, annual sigma, haircuts (fractions) and breaker of an asset."""
        dep = _dep()
        a = dep.tokens[dep.symbol_of(asset)].address
        s = dep.oracle.assets(a)
        h_maint, h_init = dep.oracle.haircuts(a)
        return {
            "price_usd": s.price / 1e18,
            "sigma_annual": dep.oracle.sigma(a, 31_536_000) / 1e18,
            "h_maint": h_maint / 1e18,
            "h_init": h_init / 1e18,
            "breaker": ("NORMAL", "CAUTION", "REDUCE_ONLY")[s.breaker],
            "price_invalid": s.invalid,
        }

    try:
        info = read_json(LATEST)
    except DeploymentError:
        info = None  # nothing deployed yet: deploy() binds the names
    if info is not None and chain.provider.get_code(info.vault):
        bind(load(project, LATEST))
    ns.update(deploy=deploy, health=health, push_price=push_price, risk=risk)
    return ns
