"""What every ballot (a rating, a vote) checks first: its key, its deputy, a retry.

A phone whose reply was lost sends the same ballot again with the same key: that is the
same ballot, answered with the same receipt and counted once (no events). A second ballot
with another key is refused. This is checked before "is it still open", so a retry after
the chair closed the round still gets its receipt.
"""

from __future__ import annotations

from collections.abc import Mapping

from live.refusals import Refused
from live.state import MeetingState

MAX_BALLOT_KEY = 64


def is_retry(
    state: MeetingState, deputy_id: int, ballot_key: str, voters: Mapping[int, str] | None, second: Refused
) -> bool:
    """True for a retry of the same ballot (decide nothing); raises for a bad key, an
    unknown deputy, or ``second`` for a second, different ballot."""
    if not ballot_key or len(ballot_key) > MAX_BALLOT_KEY:
        raise Refused("bad_ballot_key")
    if deputy_id not in state.setup.deputies:
        raise Refused("unknown_deputy")
    previous = voters.get(deputy_id) if voters is not None else None
    if previous is None:
        return False
    if previous == ballot_key:
        return True
    raise second
