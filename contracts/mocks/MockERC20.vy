# pragma version ~=0.4.3
"""
@title volmargin MockERC20 (development and tests only)
@custom:contract-name MockERC20
@license GNU Affero General Public License v3.0 only
@notice snekmate's ERC-20 with configurable decimals (6, 8, 18 for
        USDC-, WBTC- and WETH-like tokens). The deployer is owner and
        minter; `mint` is snekmate's minter-guarded mint.
"""

from ethereum.ercs import IERC20
implements: IERC20

from ethereum.ercs import IERC20Detailed
implements: IERC20Detailed

from snekmate.auth import ownable as ow
initializes: ow

from snekmate.tokens import erc20
initializes: erc20[ownable := ow]

exports: erc20.__interface__


@deploy
def __init__(name_: String[25], symbol_: String[5], decimals_: uint8):
    """
    @param name_ Token name.
    @param symbol_ Token symbol.
    @param decimals_ Token decimals.
    """
    ow.__init__()
    erc20.__init__(name_, symbol_, decimals_, name_, "1")
