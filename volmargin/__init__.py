"""volmargin: a margin vault whose haircuts follow realized volatility.

The protocol package, what an integrator installs (runtime dependencies: the Ape
stack and NumPy). Modules:

  reference  exact integer mirror of the contracts (docs/design.md §2-§7), split into
             ``risk_math``, ``oracle`` and ``vault`` like the contracts
  model      vectorized float64 model of the same formulas (NumPy, or CuPy)
  spec       the contracts' parameter vectors, one table each (index, unit, storage
             width, bounds, revert reason) and their named tuple types
  params     default parameters of every contract, in one place
  units      conversions between human numbers and fixed-point integers
  chain      deploy and drive the contracts through Ape, decode their views
  cli        conventions of the ``ape run`` scripts: output paths checked at parse time,
             one-line errors

The research lab (price data, populations, stress tests, calibration) is the separate
package ``volmargin_lab``, installed with the ``lab`` extra.
"""

__version__ = "0.1.0"
