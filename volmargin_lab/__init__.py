"""volmargin_lab: the research lab around the volmargin protocol package.

Installed with the ``lab`` extra (``pip install -e ".[lab]"``): it needs pandas, scipy,
statsmodels, arch, matplotlib and dask, which the protocol package ``volmargin`` does not.

Modules: ``data`` (historical price files and episodes), ``paths`` (simulated price
paths), ``population`` (seeded account populations), ``replay`` (the main job),
``calibration`` (haircut calibration and VaR backtests), ``stress`` (the stress lab).
"""
