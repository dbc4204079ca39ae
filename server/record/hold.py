"""Hold a meeting at chosen moments: commands through the one action path, each at its time.

The demo's meeting held months ago (``make run`` shows its record, results, charts and
duty records) and the record's tests run a whole meeting this way: every command goes
through :class:`~server.room.runtime.MeetingRuntime` exactly as the hall's do (decide,
apply, group commit, sealed ballots, the attendance frozen at the close), only the
runtime's clock reads the step's moment instead of the wall clock, so the log's times and
the timers' durations are those of a real sitting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from live.commands import Actor, Command
from live.events import Event
from live.state import MeetingState
from server.base.ballot_box import BallotBox
from server.room.runtime import MeetingRuntime, load_state
from server.storage.db import snapshot_read


@dataclass(frozen=True)
class Step:
    """A command, who sends it, and how long after the previous step (ms)."""

    command: Command
    actor: Actor
    after_ms: int = 1000


async def hold(
    engine: AsyncEngine,
    box: BallotBox,
    meeting_id: int,
    steps: Iterable[Step],
    start_ms: int,
    device: str = "",
) -> MeetingState:
    """Run the steps in order from ``start_ms``; a refused step raises live.refusals.Refused."""
    async with snapshot_read(engine) as conn:
        state = await load_state(conn, meeting_id)
    moment = start_ms

    async def listener(_s: MeetingState, _first: int, _events: list[Event], _local: bool) -> None:
        return None

    runtime = MeetingRuntime(engine, state, listener, box, clock=lambda: moment)
    runtime.start()
    try:
        for step in steps:
            moment += step.after_ms
            await runtime.submit(step.command, step.actor, device)
    finally:
        await runtime.stop()
    return runtime.state
