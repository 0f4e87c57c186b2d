"""Exact memoization of view calls on titanoboa's EVM (the stateful test's invariants).

A call in a static context is a pure function of its inputs: the calldata and the
sender, the code of the accounts it runs, the values of the storage slots it reads
(SLOAD) and the block fields it reads (TIMESTAMP, NUMBER). ``ViewCache.call`` records,
while the EVM runs a view, every storage slot it read with the value it got, and
whether it read the block time or number; it returns the recorded outcome (the decoded
value, or the same revert) for as long as those inputs are the same: every slot read
still holds the value read (checked only for slots that an SSTORE, reverted or not,
wrote since), the same block time and number where they were read, no contract
created or destroyed. A view that reads anything else the test does not pin (an ether
balance, a block hash, the coinbase, the gas price, the origin, the chain id, transient
storage, ...) is never memoized. The contracts still compute every value they compute; unchanged
inputs only spare running the same opcodes again for the same answer.

The opcode hooks are installed once per process on titanoboa's py-evm computation
class; outside ``call`` they only note which slots an SSTORE wrote. State changed
other than by the EVM's opcodes (``boa.env`` anchors reverting, ``set_storage``,
``set_code``, deployments) is not seen: a ``ViewCache`` lives inside one such span
(one hypothesis example, inside its anchor, after the deployment).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boa
from eth.vm.stack import to_int

SLOAD, SSTORE, TIMESTAMP, NUMBER = 0x54, 0x55, 0x42, 0x43
CODE_CHANGES = (0xF0, 0xF5, 0xFF)  # CREATE, CREATE2, SELFDESTRUCT
# inputs of a call this cache does not track: a view that reads one is not memoized
UNTRACKED = (
    0x31,  # BALANCE
    0x32,  # ORIGIN
    0x3A,  # GASPRICE
    0x40,  # BLOCKHASH
    0x41,  # COINBASE
    0x44,  # PREVRANDAO
    0x45,  # GASLIMIT
    0x46,  # CHAINID
    0x47,  # SELFBALANCE
    0x48,  # BASEFEE
    0x49,  # BLOBHASH
    0x4A,  # BLOBBASEFEE
    0x5C,  # TLOAD (transient storage, which titanoboa's calls do not clear between them)
)


class _Tracker:
    """Process-wide counters the opcode hooks keep."""

    def __init__(self) -> None:
        self.tick = 0  # SSTOREs executed so far (count)
        self.written: dict[bytes, int] = {}  # account (canonical address) -> tick of its last SSTORE
        self.written_slots: dict[tuple[bytes, int], int] = {}  # (account, slot) -> tick of its last SSTORE
        self.code_epoch = 0  # CREATE, CREATE2 and SELFDESTRUCT executed so far (count)
        self.recording: _Inputs | None = None  # the inputs of the view being recorded


@dataclass
class _Inputs:
    """What one view call read."""

    accounts: set[bytes]
    slots: dict[tuple[bytes, int], int]  # (account, slot) -> the value the view read first
    time: bool = False
    number: bool = False
    untracked: bool = False


_TRACKER = _Tracker()


class _Hook:
    """An opcode wrapper: ``note`` first, then py-evm's (or titanoboa's) own opcode."""

    def __init__(self, op: Any, note: Any) -> None:
        self.op, self.note = op, note
        self.mnemonic = getattr(op, "mnemonic", "")

    def __call__(self, computation: Any) -> None:
        self.note(computation)
        self.op(computation=computation)


class _Sload(_Hook):
    """SLOAD: while a view is recorded, its slot and the value it returned."""

    def __call__(self, computation: Any) -> None:
        rec = _TRACKER.recording
        if rec is None:
            self.op(computation=computation)
            return
        address, slot = computation.msg.storage_address, to_int(computation._stack.values[-1])
        self.op(computation=computation)
        rec.accounts.add(address)
        rec.slots.setdefault((address, slot), to_int(computation._stack.values[-1]))


def _note_sstore(computation: Any) -> None:
    _TRACKER.tick += 1
    address = computation.msg.storage_address
    _TRACKER.written[address] = _TRACKER.tick
    _TRACKER.written_slots[address, to_int(computation._stack.values[-1])] = _TRACKER.tick


def _note_time(computation: Any) -> None:
    if _TRACKER.recording is not None:
        _TRACKER.recording.time = True


def _note_number(computation: Any) -> None:
    if _TRACKER.recording is not None:
        _TRACKER.recording.number = True


def _note_code(computation: Any) -> None:
    _TRACKER.code_epoch += 1


def _note_untracked(computation: Any) -> None:
    if _TRACKER.recording is not None:
        _TRACKER.recording.untracked = True


_installed: set[int] = set()


def install(env: Any = None) -> None:
    """Hook the opcodes of ``env``'s EVM (``boa.env`` by default); idempotent."""
    env = env or boa.env
    opcodes = env.evm.vm.state.computation_class.opcodes
    if id(opcodes) in _installed:
        return
    hooks = {SSTORE: _note_sstore, TIMESTAMP: _note_time, NUMBER: _note_number}
    hooks.update({op: _note_code for op in CODE_CHANGES})
    hooks.update({op: _note_untracked for op in UNTRACKED})
    for op, note in hooks.items():
        if op in opcodes:
            opcodes[op] = _Hook(opcodes[op], note)
    opcodes[SLOAD] = _Sload(opcodes[SLOAD], None)
    _installed.add(id(opcodes))


@dataclass
class _Entry:
    inputs: _Inputs
    tick: int
    code_epoch: int
    timestamp: int
    number: int
    computation: Any  # the EVM's result: .is_error, .output (return or revert data)
    value: Any = None  # the decoded return value (once decoded; for a call that returned)
    decoded: bool = False


class ViewCache:
    """Memoized view calls (see the module docstring); one per hypothesis example.

    ``verify`` (default: the environment variable ``VIEW_CACHE_VERIFY`` is set and not
    ``0``) runs every view even when its inputs are unchanged and asserts that the
    EVM returns the same bytes (or reverts with the same data) as recorded.
    """

    def __init__(self, verify: bool | None = None) -> None:
        install()
        self._entries: dict[tuple[Any, ...], _Entry] = {}
        self.verify = os.environ.get("VIEW_CACHE_VERIFY", "0") not in ("", "0") if verify is None else verify
        self.hits = 0  # calls answered from a record (count)
        self.runs = 0  # calls run on the EVM (count)

    def _fresh(self, e: _Entry) -> bool:
        """Whether every input ``e`` recorded is unchanged (see the module docstring)."""
        t = _TRACKER
        if e.code_epoch != t.code_epoch:
            return False
        if e.inputs.time and boa.env.timestamp != e.timestamp:
            return False
        if e.inputs.number and boa.env.evm.patch.block_number != e.number:
            return False
        written = t.written
        if all(written.get(a, 0) <= e.tick for a in e.inputs.accounts):
            return True
        # an account it read was written since: compare the slots that were
        written_slots, storage = t.written_slots, boa.env.evm.vm.state.get_storage
        return all(
            written_slots.get(k, 0) <= e.tick or storage(k[0], k[1]) == v for k, v in e.inputs.slots.items()
        )

    def _run(self, contract: Any, data: bytes) -> _Entry | None:
        """Run the call on the EVM, recording its inputs: the entry, or None where the
        call read something untracked (its computation is then in ``self._last``)."""
        t = _TRACKER
        outer, t.recording = t.recording, _Inputs(set(), {})
        tick, epoch = t.tick, t.code_epoch
        try:
            computation = boa.env.execute_code(
                to_address=contract.address, data=data, is_modifying=False, contract=contract
            )
        finally:
            inputs, t.recording = t.recording, outer
        if outer is not None:  # run inside another recorded call: that one read it too
            outer.accounts |= inputs.accounts
            for k, v in inputs.slots.items():
                outer.slots.setdefault(k, v)
            outer.time |= inputs.time
            outer.number |= inputs.number
            outer.untracked |= inputs.untracked
        self._last = computation
        if inputs.untracked or t.tick != tick or t.code_epoch != epoch:
            return None
        return _Entry(inputs, tick, epoch, boa.env.timestamp, boa.env.evm.patch.block_number, computation)

    def call(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` for a titanoboa contract's view function ``fn``: its value, or its
        revert raised the same way (``boa.reverts`` sees the same error)."""
        assert not fn.func_t.is_mutable, f"{fn.func_t.name} is not a view"
        data = fn.prepare_calldata(*args)
        contract = fn.contract
        key = (contract.address, data, boa.env.eoa)
        e = self._entries.get(key)
        if e is not None and self._fresh(e):
            self.hits += 1
            if self.verify:
                self._run(contract, data)
                got = self._last
                assert (got.is_error, got.output) == (e.computation.is_error, e.computation.output), (
                    f"view cache: {fn.func_t.name}{args} answered differently with unchanged inputs"
                )
        else:
            self.runs += 1
            e = self._run(contract, data)
            if e is None:  # not memoizable
                return contract.marshal_to_python(self._last, fn.func_t.return_type)
            self._entries[key] = e
        if e.computation.is_error:  # raises the same error
            return contract.marshal_to_python(e.computation, fn.func_t.return_type)
        if not e.decoded:
            e.value, e.decoded = contract.marshal_to_python(e.computation, fn.func_t.return_type), True
        return e.value
