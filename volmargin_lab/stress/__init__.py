"""The stress lab (issue #5, docs/design.md §10): does volmargin lose less in a crash and lock up
less collateral in calm markets than a protocol with static parameters?

Modules: ``policies`` (static / dynamic / ablations, as parameter vectors of the same
vault), ``scenarios`` (real episodes with intrabar paths and finer files), ``population``
(seeded accounts), ``engine`` (vectorized vault simulation on ``volmargin.model`` with
oracle cadence, keeper latency, liquidator slippage and capacity, bad debt), ``metrics``,
``montecarlo`` (GBM with jumps and GARCH(1,1) paths through dask), ``onchain`` (a subset
replayed through the deployed contracts), ``report`` (tables and plots), ``run`` (the
``ape run stress`` pipeline).
"""
