"""Cheaper bookkeeping in titanoboa's py-evm interpreter (the stateful test): the same
opcodes run with the same results; only work whose result is thrown away, or is the
same every time, is skipped.

- JUMPDEST analysis: py-evm decides whether a position is code or PUSH data afresh in
  every message (a new code stream each call). It is a function of the bytecode only,
  so the answers are shared among the code streams of the same bytecode.
- Memory expansion: py-evm prices every memory access as an expansion (two
  validations, two quadratic costs and their difference) even when the range is
  already allocated, where the cost difference is never positive and nothing is
  charged or allocated; such accesses return at once. (Memory is allocated in whole
  words and every offset and size comes off the stack, so below 2**256: the skipped
  validations cannot fail.)
- Gas of an opcode: py-evm's opcode charges its fixed gas through the computation's
  ``consume_gas``, which only hands it to the gas meter; the opcode hands it to the
  meter itself (the same meter, the same amount, the same out-of-gas error).
- Program-counter trace: titanoboa's code stream appends every executed position to a
  list that only its coverage plugin and its gas profiler read. It is kept while
  either is on; otherwise it is not written.

``speed_up`` is idempotent and process-wide (it patches titanoboa's code stream and
contract classes and py-evm's computation and opcode classes; py-evm's are shared with
any other py-evm chain in the process, which runs the same opcodes the same way).

``quiet_reverts``: titanoboa renders the full storage dump of a contract into every
reverted call's error (before the state rolls back), where only a failure's message
shows it; inside this context (a revert the test expects) it renders the contract's
name and address only.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import boa
from boa.contracts.vyper.vyper_contract import VyperContract
from boa.environment import Env
from boa.vm import py_evm
from boa.vm.gas_meters import ProfilingGasMeter
from eth.vm.computation import BaseComputation
from eth.vm.opcode import _FastOpcode

_done = False
_quiet = 0  # quiet_reverts contexts open (count)


@contextmanager
def quiet_reverts() -> Iterator[None]:
    """A reverting call inside does not dump its contract's storage (see the module docstring)."""
    global _quiet
    _quiet += 1
    try:
        yield
    finally:
        _quiet -= 1


def speed_up() -> None:
    """Install all four, and ``quiet_reverts``'s switch (see the module docstring)."""
    global _done
    if _done:
        return
    cls = py_evm.TracingCodeStream
    init = cls.__init__
    analysis: dict[bytes, tuple[set[int], set[int]]] = {}

    def __init__(self: Any, code_bytes: bytes, *args: Any, **kwargs: Any) -> None:
        init(self, code_bytes, *args, **kwargs)
        # the same bytes: the same code positions and PUSH data positions
        shared = analysis.setdefault(bytes(code_bytes), (set(), set()))
        self.valid_positions, self.invalid_positions = shared

    traced = cls.__iter__
    stop = py_evm.STOP

    def __iter__(self: Any) -> Iterator[int]:
        if Env._coverage_enabled or boa.env.get_gas_meter_class() is ProfilingGasMeter:
            yield from traced(self)
            return
        code, length = self._raw_code_bytes, self._length_cache
        while self.program_counter < length:
            opcode = code[self.program_counter]
            self.program_counter += 1
            yield opcode
        yield stop

    extend_memory = BaseComputation.extend_memory

    def _extend_memory(self: Any, start_position: int, size: int) -> None:
        if size and start_position + size > len(self._memory):
            extend_memory(self, start_position, size)

    BaseComputation.extend_memory = _extend_memory  # type: ignore[method-assign]

    # only where the computation's consume_gas is py-evm's own (it just forwards to the meter)
    owner = next(k for k in boa.env.evm.vm.state.computation_class.__mro__ if "consume_gas" in k.__dict__)
    if owner is BaseComputation:

        def _call(self: Any, computation: Any) -> Any:
            computation._gas_meter.consume_gas(self.gas_cost, self.mnemonic)
            return self.logic_fn(computation)

        _FastOpcode.__call__ = _call  # type: ignore[method-assign]
    contract_repr = VyperContract.__repr__

    def _repr(self: Any) -> str:
        if _quiet:
            return f"<{self.compiler_data.contract_path} at {self.address}>"
        return contract_repr(self)

    VyperContract.__repr__ = _repr  # type: ignore[method-assign]
    cls.__init__ = __init__  # type: ignore[method-assign]
    cls.__iter__ = __iter__  # type: ignore[method-assign]
    _done = True
