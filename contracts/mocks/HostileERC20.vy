# pragma version ~=0.4.3
"""
@title volmargin HostileERC20 (tests only)
@custom:contract-name HostileERC20
@license GNU Affero General Public License v3.0 only
@notice An ERC-20 that misbehaves on demand, for the hardening tests
        (issue #6 item 2). One contract, one mode switch:
        - MODE_NORMAL (0): a plain ERC-20 returning true.
        - MODE_FEE (1): each transfer delivers `amount - amount * fee_bps
          / 10_000`; the fee is burned (fee-on-transfer).
        - MODE_NO_RETURN (2): transfer and transferFrom move the tokens
          and return no data (USDT style).
        - MODE_RETURN_FALSE (3): transfer and transferFrom move nothing
          and return false (ZRX style).
        Independently of the mode:
        - any `decimals` (0 to 255) at deployment;
        - rebasing: balances are shares times `multiplier` (WAD, 1e18 at
          deployment) that the owner sets at will (`rebase`), as stETH
          or AMPL balances move without transfers;
        - a reentrant hook (ERC-777 `tokensToSend` style): when armed,
          every transfer and transferFrom first calls `hook_target` with
          `hook_payload` (once per transaction, not recursively), records
          the outcome (`reentry_count`, `reentry_ok`, `reentry_result`)
          and, if `hook_bubble`, reverts with the callee's revert data
          when the call failed.
        Amounts are in token units (`decimals`); the multiplier is WAD.
"""

WAD: constant(uint256) = 10**18
MODE_NORMAL: public(constant(uint256)) = 0
MODE_FEE: public(constant(uint256)) = 1
MODE_NO_RETURN: public(constant(uint256)) = 2
MODE_RETURN_FALSE: public(constant(uint256)) = 3


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256


event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


name: public(String[32])
symbol: public(String[8])
decimals: public(uint8)
owner: public(address)
mode: public(uint256)
fee_bps: public(uint256)
multiplier: public(uint256)  # WAD: balance = shares * multiplier / WAD
shares: public(HashMap[address, uint256])
total_shares: public(uint256)
allowance: public(HashMap[address, HashMap[address, uint256]])

hook_target: public(address)
hook_payload: public(Bytes[1024])
hook_bubble: public(bool)
in_hook: bool
reentry_count: public(uint256)
reentry_ok: public(bool)
reentry_result: public(Bytes[512])


@deploy
def __init__(name_: String[32], symbol_: String[8], decimals_: uint8):
    """
    @notice Deploys in MODE_NORMAL with multiplier 1e18; the deployer is
            owner (mints, switches modes, rebases, arms the hook).
    @param name_ Token name.
    @param symbol_ Token symbol.
    @param decimals_ Token decimals (any, 0 to 255).
    """
    self.name = name_
    self.symbol = symbol_
    self.decimals = decimals_
    self.owner = msg.sender
    self.multiplier = WAD


@internal
@view
def _only_owner():
    assert msg.sender == self.owner, "hostile: not owner"


@external
def mint(to: address, amount: uint256):
    """
    @notice Mints `amount` tokens (at the current multiplier) to `to`. Owner.
    @param to Receiver.
    @param amount Token units.
    """
    self._only_owner()
    s: uint256 = amount * WAD // self.multiplier
    self.shares[to] += s
    self.total_shares += s
    log Transfer(sender=empty(address), receiver=to, value=amount)


@external
def set_mode(mode_: uint256, fee_bps_: uint256):
    """
    @notice Switches the transfer behaviour (MODE_*) and the fee. Owner.
    @param mode_ One of MODE_NORMAL, MODE_FEE, MODE_NO_RETURN, MODE_RETURN_FALSE.
    @param fee_bps_ Fee of MODE_FEE, basis points (at most 10,000).
    """
    self._only_owner()
    assert mode_ <= MODE_RETURN_FALSE and fee_bps_ <= 10_000, "hostile: bad mode"
    self.mode = mode_
    self.fee_bps = fee_bps_


@external
def rebase(multiplier_: uint256):
    """
    @notice Rebases every balance to shares * multiplier_ / 1e18. Owner.
    @param multiplier_ WAD, > 0 (2e18 doubles every balance).
    """
    self._only_owner()
    assert multiplier_ > 0, "hostile: bad multiplier"
    self.multiplier = multiplier_


@external
def arm_hook(target: address, payload: Bytes[1024], bubble: bool):
    """
    @notice Arms the reentrant hook: each later transfer/transferFrom
            first calls `target` with `payload`. Owner.
    @param target Contract to re-enter (e.g. the vault).
    @param payload Full calldata (selector and arguments).
    @param bubble Revert the transfer with the callee's revert data when
           the reentrant call fails.
    """
    self._only_owner()
    self.hook_target = target
    self.hook_payload = payload
    self.hook_bubble = bubble


@external
def disarm_hook():
    """
    @notice Disarms the hook. Owner.
    """
    self._only_owner()
    self.hook_target = empty(address)


@external
def fire_hook() -> bool:
    """
    @notice Makes the armed hook's call now, outside any transfer (the
            control experiment for the reentrancy tests); records it as
            a transfer would.
    @return Whether the call succeeded.
    """
    self._hook()
    return self.reentry_ok


@internal
def _hook():
    target: address = self.hook_target
    if target == empty(address) or self.in_hook:
        return
    self.in_hook = True
    ok: bool = False
    res: Bytes[512] = b""
    ok, res = raw_call(target, self.hook_payload, max_outsize=512, revert_on_failure=False)
    self.in_hook = False
    self.reentry_count += 1
    self.reentry_ok = ok
    self.reentry_result = res
    if self.hook_bubble and not ok:
        raw_revert(res)


@internal
def _move(sender: address, receiver: address, amount: uint256) -> bool:
    if self.mode == MODE_RETURN_FALSE:
        return False
    self._hook()
    m: uint256 = self.multiplier
    out: uint256 = (amount * WAD + m - 1) // m  # the sender pays the rounding
    assert self.shares[sender] >= out, "hostile: insufficient balance"
    received: uint256 = amount
    if self.mode == MODE_FEE:
        received = amount - amount * self.fee_bps // 10_000
    into: uint256 = received * WAD // m
    self.shares[sender] -= out
    self.shares[receiver] += into
    self.total_shares -= out - into
    log Transfer(sender=sender, receiver=receiver, value=received)
    return True


@internal
def _answer(ok: bool) -> Bytes[32]:
    if self.mode == MODE_NO_RETURN:
        return b""
    return abi_encode(ok)


@external
@raw_return
def transfer(to: address, amount: uint256) -> Bytes[32]:
    """
    @notice Moves `amount` from the caller to `to` as the mode says.
    @return ABI-encoded bool, or no data at all in MODE_NO_RETURN.
    """
    return self._answer(self._move(msg.sender, to, amount))


@external
@raw_return
def transferFrom(owner_: address, to: address, amount: uint256) -> Bytes[32]:
    """
    @notice Moves `amount` from `owner_` to `to` against the caller's
            allowance, as the mode says.
    @return ABI-encoded bool, or no data at all in MODE_NO_RETURN.
    """
    if self.mode != MODE_RETURN_FALSE:
        allowed: uint256 = self.allowance[owner_][msg.sender]
        if allowed != max_value(uint256):
            assert allowed >= amount, "hostile: insufficient allowance"
            self.allowance[owner_][msg.sender] = allowed - amount
    return self._answer(self._move(owner_, to, amount))


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Sets the caller's allowance for `spender`.
    @return True.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
@view
def balanceOf(account: address) -> uint256:
    """
    @notice Balance at the current multiplier, token units.
    """
    return self.shares[account] * self.multiplier // WAD


@external
@view
def totalSupply() -> uint256:
    """
    @notice Total supply at the current multiplier, token units.
    """
    return self.total_shares * self.multiplier // WAD
