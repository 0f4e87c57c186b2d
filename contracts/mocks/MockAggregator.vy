# pragma version ~=0.4.3
"""
@title volmargin MockAggregator (development and tests only)
@custom:contract-name MockAggregator
@license GNU Affero General Public License v3.0 only
@notice An AggregatorV3Interface feed that scripts push real or
        simulated prices into. Answers carry `decimals` decimals (8 like
        Chainlink's USD feeds by default); timestamps are Unix seconds.
        Only holders of REPORTER_ROLE may push.
"""

from ethereum.ercs import IERC165
implements: IERC165

from snekmate.auth.interfaces import IAccessControl
implements: IAccessControl

from snekmate.auth import access_control
initializes: access_control
exports: access_control.__interface__

import interfaces.IAggregatorV3 as IAggregatorV3
implements: IAggregatorV3

import interfaces.IMockAggregator as IMockAggregator
implements: IMockAggregator

REPORTER_ROLE: public(constant(bytes32)) = keccak256("REPORTER_ROLE")


struct Round:
    answer: int256
    started_at: uint256
    updated_at: uint256
    answered_in_round: uint80


event AnswerUpdated:
    current: indexed(int256)
    roundId: indexed(uint256)
    updatedAt: uint256


decimals: public(uint8)
description: public(String[64])
version: public(uint256)
latest_round: public(uint80)
rounds: HashMap[uint80, Round]


@deploy
def __init__(decimals_: uint8, description_: String[64], answer: int256, updated_at: uint256):
    """
    @notice Deploys the feed with a first round; the deployer gets
            DEFAULT_ADMIN_ROLE and REPORTER_ROLE.
    @param decimals_ Decimals of every answer (8 for Chainlink USD feeds).
    @param description_ e.g. "ETH / USD".
    @param answer First answer, `decimals_` decimals.
    @param updated_at First round's timestamp, Unix seconds (0: now).
    """
    access_control.__init__()
    access_control._grant_role(REPORTER_ROLE, msg.sender)
    self.decimals = decimals_
    self.description = description_
    self.version = 4
    self._push(answer, updated_at, False)


@internal
def _push(answer: int256, updated_at: uint256, incomplete: bool):
    ts: uint256 = updated_at
    if ts == 0:
        ts = block.timestamp
    assert ts <= block.timestamp, "aggregator: timestamp in the future"
    round_id: uint80 = self.latest_round + 1
    answered: uint80 = round_id
    if incomplete:
        answered = round_id - 1
    self.rounds[round_id] = Round(answer=answer, started_at=ts, updated_at=ts, answered_in_round=answered)
    self.latest_round = round_id
    log AnswerUpdated(current=answer, roundId=convert(round_id, uint256), updatedAt=ts)


@external
def push(answer: int256, updated_at: uint256):
    """
    @notice Starts a new round with `answer` at `updated_at`.
    @dev REPORTER_ROLE. Reverts "aggregator: timestamp in the future".
         Zero and negative answers are accepted on purpose: they are
         the faults that consumers must reject.
    @param answer Price with `decimals` decimals.
    @param updated_at Unix seconds, not after the block time (0: now).
    """
    access_control._check_role(REPORTER_ROLE, msg.sender)
    self._push(answer, updated_at, False)


@external
def push_incomplete(answer: int256, updated_at: uint256):
    """
    @notice Starts a round whose answeredInRound lags its roundId, the
            Chainlink signature of an incomplete round. REPORTER_ROLE.
    """
    access_control._check_role(REPORTER_ROLE, msg.sender)
    self._push(answer, updated_at, True)


@internal
@view
def _round(round_id: uint80) -> (uint80, int256, uint256, uint256, uint80):
    r: Round = self.rounds[round_id]
    assert r.updated_at != 0, "aggregator: no data present"
    return round_id, r.answer, r.started_at, r.updated_at, r.answered_in_round


@external
@view
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice (roundId, answer, startedAt, updatedAt, answeredInRound).
    """
    return self._round(self.latest_round)


@external
@view
def getRoundData(_roundId: uint80) -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice Historical round; reverts "aggregator: no data present".
    """
    return self._round(_roundId)
