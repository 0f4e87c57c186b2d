"""The chain layer: deploy the contracts through Ape (or titanoboa), decode their batched read
views, read and write deployment manifests, and the function table of the test harness.

Modules: ``deploy`` (``deploy_system``, ``System``: deploy and drive the contracts beside
``volmargin.reference``), ``backends`` (``ApeBackend``, ``BoaBackend``: where ``deploy`` sends
its transactions), ``lens`` (``read_assets``, ``read_accounts``), ``manifest``
(deployment files), ``harness`` (``RiskMathHarness`` function table), ``keeper`` (oracle
pokes, liquidations and bad-debt settlement on a live deployment: ``ape run keeper``).
"""
