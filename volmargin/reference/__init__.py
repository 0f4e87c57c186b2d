"""Exact integer reference of the volmargin contracts (docs/design.md §2–§7).

Every function mirrors a Vyper function bit for bit on Python ints: the same
formula, the same order of operations, the same rounding, the same checked
uint256 arithmetic (``ArithmeticError`` where Vyper reverts on overflow,
underflow or division by zero) and the same rejections (``Reject`` carrying
the contract's revert string, e.g. ``"vault: insufficient health"``).

Split along the contracts:

  * ``risk_math``: ``contracts/modules/risk_math.vy`` and ``rates.vy`` (pure functions)
  * ``shares``:    ``contracts/modules/shares.vy`` (scaled balances to amounts and back,
    the one place of the vault's rounding directions)
  * ``portfolio``: ``contracts/modules/portfolio.vy`` and ``RiskOracle.portfolio_scales``
    (portfolio margin, docs/design.md §5.6; reached as ``ref.portfolio``, not re-exported)
  * ``forecast``:  ``contracts/modules/forecast.vy`` (a risk keeper's forecast volatility,
    docs/design.md §3.7; reached as ``ref.forecast``, not re-exported)
  * ``oracle``:    ``contracts/RiskOracle.vy`` (``OracleRef``)
  * ``vault``:     ``contracts/MarginVault.vy`` (``VaultRef``)

Every public name of risk_math, shares, oracle and vault is re-exported here, so ``from volmargin import
reference as ref`` then ``ref.OracleRef``, ``ref.haircut``, ``ref.WAD`` works.
"""

from .risk_math import *  # noqa: F401,F403
from .oracle import *  # noqa: F401,F403
from .vault import *  # noqa: F401,F403
from .risk_math import Reject, require  # noqa: F401
from .shares import *  # noqa: F401,F403
from . import portfolio  # noqa: F401
from . import forecast  # noqa: F401
