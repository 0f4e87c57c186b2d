# pragma version ~=0.4.3
"""
@title volmargin risk steward
@custom:contract-name steward
@license GNU Affero General Public License v3.0 only
@notice Bounded parameter changes (docs/design.md §8, after Aave's risk
        stewards). DEFAULT_ADMIN_ROLE (meant for a timelock) may set any
        valid value; RISK_ADMIN_ROLE may move a parameter by at most
        `max_rel_change` of its current value, and not within
        `min_change_delay` seconds of that parameter's previous change.
        Every change is logged with its old and new value.
"""

from snekmate.auth import access_control
uses: access_control

WAD: constant(uint256) = 10**18
RISK_ADMIN_ROLE: constant(bytes32) = keccak256("RISK_ADMIN_ROLE")


event ParamChanged:
    key: indexed(address)
    param: indexed(uint256)
    old_value: uint256
    new_value: uint256


event GovernanceBoundsChanged:
    old_max_rel_change: uint256
    new_max_rel_change: uint256
    old_min_change_delay: uint256
    new_min_change_delay: uint256


# WAD: largest relative change per step for RISK_ADMIN_ROLE
max_rel_change: public(uint256)
# seconds between two changes of one parameter by RISK_ADMIN_ROLE
min_change_delay: public(uint256)
# key (asset, or the zero address for global parameters) => param => time
last_change: public(HashMap[address, HashMap[uint256, uint256]])


@deploy
def __init__(max_rel_change_: uint256, min_change_delay_: uint256):
    """
    @param max_rel_change_ WAD, e.g. 0.25e18 for 25 % per change.
    @param min_change_delay_ Seconds.
    """
    self.max_rel_change = max_rel_change_
    self.min_change_delay = min_change_delay_


@internal
def _authorize_change(key: address, param: uint256, old_value: uint256, new_value: uint256):
    """
    @notice Checks the caller may move `param` of `key` from `old_value`
            to `new_value`, records the time and logs the change.
    @dev Reverts "access_control: account is missing role",
         "steward: change too large", "steward: change too soon".
    """
    if not access_control.hasRole[access_control.DEFAULT_ADMIN_ROLE][msg.sender]:
        access_control._check_role(RISK_ADMIN_ROLE, msg.sender)
        diff: uint256 = max(old_value, new_value) - min(old_value, new_value)
        assert diff * WAD <= old_value * self.max_rel_change, "steward: change too large"
        assert block.timestamp >= self.last_change[key][param] + self.min_change_delay, "steward: change too soon"
    self.last_change[key][param] = block.timestamp
    log ParamChanged(key=key, param=param, old_value=old_value, new_value=new_value)


@external
def set_governance_bounds(max_rel_change_: uint256, min_change_delay_: uint256):
    """
    @notice Sets the risk-steward limits. DEFAULT_ADMIN_ROLE.
    @dev Reverts "access_control: account is missing role".
    @param max_rel_change_ WAD, e.g. 0.25e18 for 25 % per change.
    @param min_change_delay_ Seconds between two changes of one parameter.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    log GovernanceBoundsChanged(
        old_max_rel_change=self.max_rel_change,
        new_max_rel_change=max_rel_change_,
        old_min_change_delay=self.min_change_delay,
        new_min_change_delay=min_change_delay_,
    )
    self.max_rel_change = max_rel_change_
    self.min_change_delay = min_change_delay_
