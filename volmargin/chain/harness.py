"""Function table of the RiskMathHarness test contract and its reference mirror.

``FUNCTIONS[name] = (fn_id, arity, reference_callable)``: the harness
evaluates ``fn_id`` on uint256[8] argument rows (trailing ones ignored); the
reference callable takes the first ``arity`` arguments. A case "rejects" in
the reference when it raises ``ArithmeticError`` (Vyper's checked
arithmetic), which the harness reports as ``ok = False``.
"""

from __future__ import annotations

from typing import Callable, Sequence

from .. import reference as ref


def _ewma_step(var: int, p0: int, p: int, dt: int, tau: int, var_max: int) -> int:
    return ref.clamp(ref.ewma_var(var, ref.abs_return(p0, p), dt, tau), 0, var_max)


def _pack_pair(lo_shifted: int, hi_shifted: int) -> int:
    # the harness takes the bounds shifted by 1e18 (uint256 arguments); int256 conversion rejects >= 2**255
    return ref.portfolio.pack_pair(ref.I(lo_shifted) - ref.WAD, ref.I(hi_shifted) - ref.WAD)


def _to_tokens(magnitude: int, negative: int, deposit_index: int, borrow_index: int) -> int:
    # |scaled| and its sign as uint256 arguments (int256 conversion rejects >= 2**255); the int256
    # result comes back as its two's-complement bits
    scaled = -ref.I(magnitude) if negative == 1 else ref.I(magnitude)
    return ref.tokens(scaled, ref.Market(deposit_index, borrow_index)) % 2**256


FUNCTIONS: dict[str, tuple[int, int, Callable[..., int]]] = {
    "abs_return": (0, 2, ref.abs_return),
    "ewma_var": (1, 4, ref.ewma_var),
    "sigma": (2, 2, ref.sigma),
    "haircut": (3, 5, ref.haircut),
    "ramp": (4, 5, ref.ramp),
    "size_haircut": (5, 3, ref.size_haircut),
    "asset_value": (6, 3, ref.asset_value),
    "liability_value": (7, 3, ref.liability_value),
    "weighted_asset": (8, 2, ref.weighted_asset),
    "weighted_liability": (9, 2, ref.weighted_liability),
    "bonus": (10, 5, ref.bonus),
    "borrow_rate": (11, 5, ref.borrow_rate),
    "grow_index": (12, 3, ref.grow_index),
    "ewma_step": (13, 6, _ewma_step),
    "health_factor": (14, 2, ref.health_factor),
    "max_repay": (15, 7, ref.max_repay),
    "seize_amount": (16, 6, ref.seize_amount),
    "repay_for_seize": (17, 6, ref.repay_for_seize),
    "utilization": (18, 2, ref.utilization),
    "initial_haircut": (19, 5, ref.initial_haircut),
    "share": (20, 2, ref.portfolio.share),
    "pair_term": (21, 3, ref.portfolio.pair_term),
    "portfolio_scale": (22, 2, ref.portfolio.scale),
    "scaled_haircut": (23, 2, ref.portfolio.scaled_haircut),
    "pack_pair": (24, 2, _pack_pair),
    "to_tokens": (25, 4, _to_tokens),
    "forecast_combine": (26, 5, ref.forecast.combine),
    "forecast_within": (27, 4, lambda *a: int(ref.forecast.within(*a))),
    "forecast_step_ok": (28, 3, lambda *a: int(ref.forecast.step_ok(*a))),
    "forecast_variance": (29, 1, ref.forecast.variance),
}
N_ARGS = 8


def reference_outcomes(name: str, rows: Sequence[Sequence[int]]) -> list[tuple[bool, int]]:
    """(ok, value) per row from the reference, as the harness reports them."""
    _, arity, fn = FUNCTIONS[name]
    out: list[tuple[bool, int]] = []
    for row in rows:
        try:
            out.append((True, fn(*row[:arity])))
        except ArithmeticError:
            out.append((False, 0))
    return out


def pad(row: Sequence[int]) -> list[int]:
    """A uint256[8] argument row."""
    return list(row) + [0] * (N_ARGS - len(row))


def chain_outcomes(harness: object, name: str, rows: Sequence[Sequence[int]]) -> list[tuple[bool, int]]:
    """(ok, value) per row from the deployed harness (one ``eth_call`` per 512 rows).

    The call is encoded and decoded with faster-eth-abi (eth-abi compiled with mypyc:
    the same codec, 4x faster on this batch) and sent through the harness's provider
    (``batch(uint8,uint256[8][])`` returns ``(bool,uint256)[]``): Ape's own argument
    conversion and struct decoding cost more than the EVM work for a 512-row batch,
    and eth-abi's pure-Python encoding of the 4,096 words took 60 % of a check.

    ``rows``: any number of rows of at most 8 uint256 arguments each (zero-padded).
    Raises Ape's ``ProviderError`` with the node's message when the node answers
    the call with an error (the harness's ``batch`` itself never reverts on a row)."""
    from eth_utils import keccak
    from faster_eth_abi import decode, encode
    from web3 import HTTPProvider

    fn_id = FUNCTIONS[name][0]
    selector = keccak(text="batch(uint8,uint256[8][])")[:4]
    address = harness.address  # type: ignore[attr-defined]
    provider = harness.provider  # type: ignore[attr-defined]
    # a JSON-RPC node (anvil) gets the request itself through Ape's provider, which raises
    # the node's error: web3.eth.call's request and result formatters (hex validation of
    # 131 kB of calldata) cost a third of a check. The embedded py-evm chain's tester
    # provider takes only formatted requests.
    json_rpc = isinstance(provider.web3.provider, HTTPProvider)
    out: list[tuple[bool, int]] = []
    for k in range(0, len(rows), 512):
        data = selector + encode(["uint8", "uint256[8][]"], [fn_id, [pad(r) for r in rows[k : k + 512]]])
        if json_rpc:
            reply = provider.make_request("eth_call", [{"to": address, "data": "0x" + data.hex()}, "latest"])
            raw = bytes.fromhex(reply[2:])
        else:
            raw = bytes(provider.web3.eth.call({"to": address, "data": data}))
        (res,) = decode(["(bool,uint256)[]"], raw)
        out.extend((bool(ok), int(value)) for ok, value in res)
    return out
