"""One running meeting in one server process: its state and the single path of change.

Theory of operation (ARCHITECTURE.md, "One path for every change"): every command goes
through :meth:`MeetingRuntime.submit`. A writer task takes the commands queued so far as
one batch (group commit), opens a transaction holding the meeting's write lock, first
reads any events another process committed, then decides each command in order,
applying its events, and commits the whole batch at once. Only after the commit does it
answer each sender (the receipt) and hand the events to the hub and the bus.

While a batch is being decided and committed, ``lock`` is held, and screens render only
under the same lock, so no screen ever shows a change that is not yet committed. If the
commit fails, the state is reloaded from the database and every sender in the batch is
told the change was not recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from live.commands import Actor, CloseRating, CloseVote, Command, RecordPaperRating
from live.core import apply, apply_all, decide
from live.events import Event, ProjectorModeSet
from live.refusals import Refused
from live.state import Choice, MeetingState, ProjectorMode, VoteChoice, initial_state
from server.base.ballot_box import RATING, VOTE, BallotBox
from server.room.batching import GATHER_S, next_batch
from server.room.transaction import NotPlain, batch_transaction
from server.storage import store
from server.storage.db import snapshot_read, sqlite_file
from server.storage.sqlite_log import SqliteLog

log = logging.getLogger(__name__)

T = TypeVar("T")

# Called after a commit (local=True) or after applying another process's events.
Listener = Callable[[MeetingState, int, list[Event], bool], Awaitable[None]]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class NotRecorded(Exception):
    """The database could not take the change; the sender should try again."""


@dataclass
class _Pending:
    command: Command
    actor: Actor
    device: str
    future: asyncio.Future[list[Event]] = field(repr=False)


async def load_state(conn: AsyncConnection, meeting_id: int) -> MeetingState:
    """The meeting folded from its setup and log. An open secret round has its voters and
    no split: its choices are sealed, and only the writer that closes it opens them."""
    setup = await store.load_setup(conn, meeting_id)
    state = initial_state(setup)
    for seq, event in await store.load_events(conn, meeting_id):
        apply(state, event)
        state.seq = seq
    return state


async def state_when_frozen(conn: AsyncConnection, meeting_id: int) -> MeetingState:
    """The meeting as it stood when the chair last froze the projector (after a restart,
    so a frozen projector that reloads still shows what it showed)."""
    setup = await store.load_setup(conn, meeting_id)
    events = await store.load_events(conn, meeting_id)
    frozen_at = max(
        (seq for seq, e in events if isinstance(e, ProjectorModeSet) and e.mode is ProjectorMode.FROZEN),
        default=0,
    )
    state = initial_state(setup)
    for seq, event in events:
        if seq > frozen_at:
            break
        apply(state, event)
        state.seq = seq
    return state


def _closes_a_round(batch: list[_Pending]) -> bool:
    # A paper count closes the electronic rating too (its kept ballots join the totals).
    return any(isinstance(p.command, CloseRating | CloseVote | RecordPaperRating) for p in batch)


async def _open_boxes(conn: AsyncConnection, state: MeetingState, box: BallotBox) -> list[str]:
    """Put the true totals of the open secret rounds into the state, from their sealed
    ballots, before a close is decided; returns the rounds whose box does not hold one
    ballot per receipt (which must not be closed on a wrong count)."""
    wrong: list[str] = []
    meeting_id = state.setup.meeting_id
    rating = state.current_rating()
    if rating is not None and rating.open:
        found = await store.open_box(conn, box, meeting_id, RATING, rating.question_id)
        rating.counts = {c: found.get(c.value, 0) for c in Choice}
        if sum(rating.counts.values()) != len(rating.voters):
            wrong.append(f"rating {rating.question_id}")
    vote = state.current_vote()
    if vote is not None and vote.open and vote.secret:
        found = await store.open_box(conn, box, meeting_id, VOTE, vote.vote_id)
        vote.counts = {c: found.get(c.value, 0) for c in VoteChoice}
        if sum(vote.counts.values()) != len(vote.voters):
            wrong.append(f"vote {vote.vote_id}")
    return wrong


class MeetingRuntime:
    def __init__(
        self,
        engine: AsyncEngine,
        state: MeetingState,
        listener: Listener,
        box: BallotBox,
        clock: Callable[[], int] = now_ms,
        gather_s: float = GATHER_S,
    ) -> None:
        # ``clock``: the server's time in ms; only a meeting replayed at chosen moments
        # (the demo's meeting held months ago, server/record/hold.py) passes another.
        self.clock = clock
        self.gather_s = gather_s
        self.batches = 0  # committed or refused batches, for the tests and diagnostics
        self.engine = engine
        # On a SQLite file, the hall's plain batches go through a connection of the
        # writer's own (server/room/transaction.py); closed by stop().
        path = sqlite_file(engine)
        self.sqlite_log = SqliteLog(path) if path else None
        self.state = state
        self.box = box
        self.lock = asyncio.Lock()
        self._listener = listener
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        # Bumped when the state may have changed without a new seq or a new object (a
        # failed commit's events were applied and the reload failed): what was derived
        # from the state at this seq (server.room.hub.Room.view) is then stale.
        self.generation = 0

    @property
    def meeting_id(self) -> int:
        return self.state.setup.meeting_id

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name=f"writer-{self.meeting_id}")

    async def stop(self) -> None:
        if self._writer:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if self.sqlite_log is not None:
            await self.sqlite_log.close()

    async def submit(self, command: Command, actor: Actor, device: str = "") -> list[Event]:
        """Decide, commit and publish one command; return its events after the commit.

        Raises :class:`Refused` (nothing changed) or :class:`NotRecorded`.
        """
        future: asyncio.Future[list[Event]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(command, actor, device, future))
        return await future

    async def _write_loop(self) -> None:
        started = -1.0  # when the last batch began
        while True:
            batch, started = await next_batch(self._queue, started, self.gather_s)
            self.batches += 1
            try:
                await self._commit(batch)
            except Exception:  # never let the writer die: the hall depends on it
                log.exception("writer of meeting %s", self.meeting_id)
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(NotRecorded())

    async def _commit(self, batch: list[_Pending]) -> None:
        outcomes: list[tuple[_Pending, list[Event] | Refused]] = []
        published: list[Event] = []
        caught: list[Event] = []
        async with self.lock:
            caught_first = self.state.seq + 1
            first_seq = 0
            try:
                commands = [p.command for p in batch]
                own = self.sqlite_log
                async with batch_transaction(self.engine, own, self.meeting_id, self.box, commands) as txn:
                    caught = self._apply_missed(await txn.read_after(self.state.seq))
                    first_seq = self.state.seq + 1
                    now = self.clock()
                    rows: list[tuple[Event, str, str]] = []
                    # A close fixes the totals: they come from the sealed ballots (what
                    # this process saw is not all: other processes, a restart).
                    unsound = []
                    if _closes_a_round(batch):
                        if txn.conn is None:  # a close is never a plain command
                            raise NotPlain([type(p.command).__name__ for p in batch])
                        unsound = await _open_boxes(txn.conn, self.state, self.box)
                    for p in batch:
                        try:
                            if unsound and isinstance(p.command, CloseRating | CloseVote | RecordPaperRating):
                                log.error(
                                    "meeting %s: ballot box does not match receipts: %s",
                                    self.meeting_id,
                                    unsound,
                                )
                                raise Refused("ballot_box_mismatch")
                            events = decide(self.state, p.command, p.actor, now)
                        except Refused as refusal:
                            outcomes.append((p, refusal))
                            continue
                        apply_all(self.state, events)
                        actor = f"{p.actor.role.value}:{p.actor.user or p.actor.deputy_id or ''}"
                        rows.extend((e, actor, p.device) for e in events)
                        outcomes.append((p, events))
                    if rows:
                        await txn.write(first_seq, rows, now)
                        self.state.seq = first_seq + len(rows) - 1
                        published = [e for e, _, _ in rows]
            except Exception:
                log.exception("commit failed for meeting %s; reloading", self.meeting_id)
                self.generation += 1
                await self._reload()
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(NotRecorded())
                if caught:
                    await self._listener(self.state, caught_first, caught, False)
                return
        for p, outcome in outcomes:
            if isinstance(outcome, Refused):
                p.future.set_exception(outcome)
            else:
                p.future.set_result(outcome)
        if caught:  # what other processes committed: our screens need it too
            await self._listener(self.state, caught_first, caught, False)
        if published:
            await self._listener(self.state, first_seq, published, True)

    def _apply_missed(self, missed: list[tuple[int, Event]]) -> list[Event]:
        """Apply what other processes committed since our last known seq."""
        if not missed:
            return []
        for seq, event in missed:
            apply(self.state, event)
            self.state.seq = seq
        return [e for _, e in missed]

    async def _reload(self) -> None:
        try:  # a snapshot, no write lock: the database may be what just failed
            async with snapshot_read(self.engine) as conn:
                self.state = await load_state(conn, self.meeting_id)
        except Exception:
            log.exception("reload of meeting %s failed; keeping the old state", self.meeting_id)

    async def receive_remote(self, first_seq: int, events: list[Event]) -> None:
        """Events another process committed, from the bus."""
        async with self.lock:
            if first_seq + len(events) - 1 <= self.state.seq:
                return  # already have them (caught up from the log)
            if first_seq != self.state.seq + 1:  # a gap: read the log instead
                caught = await self.refresh_locked()
                if caught is None:
                    return
                first, missed = caught
                await self._listener(self.state, first, missed, False)
                return
            apply_all(self.state, events)
            self.state.seq = first_seq + len(events) - 1
        await self._listener(self.state, first_seq, events, False)

    async def reload(self) -> None:
        """Rebuild the state from the database, setup and whole log: what a restart does.

        For a change of the meeting's setup (roster, rules, final list) made by the office
        while the meeting is loaded; the caller re-sends every screen afterwards.
        """
        async with self.lock, snapshot_read(self.engine) as conn:
            self.state = await load_state(conn, self.meeting_id)

    async def rewritten(self, change: Callable[[], Awaitable[T]]) -> T:
        """Run an office change of the log itself (a rehearsal's reset deletes it) while no
        batch of this process can commit, then rebuild the state from the database."""
        async with self.lock:
            result = await change()
            async with snapshot_read(self.engine) as conn:
                self.state = await load_state(conn, self.meeting_id)
        return result

    async def refresh(self) -> None:
        """Reload what this process may have missed (after a bus outage)."""
        async with self.lock:
            caught = await self.refresh_locked()
        if caught is not None:
            first, missed = caught
            await self._listener(self.state, first, missed, False)

    async def refresh_locked(self) -> tuple[int, list[Event]] | None:
        first = self.state.seq + 1
        async with snapshot_read(self.engine) as conn:  # no write lock needed
            missed = self._apply_missed(await store.load_events(conn, self.meeting_id, self.state.seq))
        return (first, missed) if missed else None
