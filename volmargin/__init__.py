"""volmargin: a margin vault whose haircuts follow realized volatility.

Modules:
  reference  exact integer mirror of the contracts (DESIGN §2-§7)
  params     default parameters of every contract, in one place
  data       historical price files and episodes
  sim        simulated price paths (GBM with jumps)
  system     deploy and drive the contracts through Ape
  replay     replay a historical episode through the deployed system
"""

__version__ = "0.1.0"
