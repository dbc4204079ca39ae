"""Sockets per meeting and audience, and the fan-out of fragments to them.

Theory of operation: the runtime reports committed events; the room turns them into
topics, marks the stale fragments of each audience, and schedules a flush. A flush
renders each stale fragment once per audience (``d-me`` once per variant), joins them
into one message, and hands the same string to every socket of the audience. A send
starts at once in the flush (it almost never has to wait); a socket whose send must wait
gets a task and a bounded backlog, so one slow phone cannot hold up the hall, and a
socket that falls ``QUEUE_LIMIT`` messages behind is closed: its page reconnects and
resyncs (one socket: :mod:`server.room.connection`).

Urgent topics (a phase change, a timer) flush at once; coalesced topics (attendance,
tally) at most every ``COALESCE_S`` seconds.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from live.events import Event, ProjectorModeSet
from live.state import MeetingState, ProjectorMode
from screens import render
from screens.audiences import (
    AUDIENCES,
    SETUP,
    STAGE_NESTED,
    Audience,
    Variant,
    checked_in_clock,
    deputy_variant,
    stale,
)
from screens.topics import COALESCED, personal_deputies, topics_of
from screens.view import View
from server.room.connection import Connection
from server.room.fastsend import text_frame
from server.room.resync import Resync
from server.room.runtime import MeetingRuntime

log = logging.getLogger(__name__)

COALESCE_S = 0.25

Extras = Callable[[str, View], dict[str, Any]]


class Room:
    """The screens of one meeting in this process."""

    def __init__(
        self, runtime: MeetingRuntime, extras: Extras, on_count: Callable[[int], None] = lambda n: None
    ) -> None:
        self.runtime = runtime
        self.extras = extras
        self._on_count = on_count
        self.conns: dict[str, set[Connection]] = {name: set() for name in AUDIENCES}
        self._topics: set[str] = set()
        self._deputies: set[int] = set()
        self._flush_at: float | None = None
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._tasks: set[asyncio.Future[None]] = set()
        # The View of the state at one seq, and the deputy fragments rendered from it
        # (see :meth:`view`).
        self._view: View | None = None
        self._view_generation = -1
        self._rendered: dict[tuple[Any, ...], str] = {}
        # While the chair has frozen the projector, what it showed at that moment: a
        # projector that (re)loads then gets this, not the session as it is now.
        self.frozen: View | None = None
        self.resync = Resync()  # what a reconnecting screen missed (server/room/resync.py)

    # -- membership -------------------------------------------------------------
    def add(self, conn: Connection) -> None:
        self.conns[conn.audience].add(conn)
        self._on_count(self.count())

    def remove(self, conn: Connection) -> None:
        self.conns[conn.audience].discard(conn)
        conn.stop()
        self._on_count(self.count())

    def count(self) -> int:
        return sum(map(len, self.conns.values()))

    # -- rendering --------------------------------------------------------------
    def _render(self, audience: Audience, frag_ids: list[str], view: View, **extra: Any) -> str:
        parts = []
        for frag_id in frag_ids:
            parts.append(render.fragment(frag_id, view, oob=True, **self.extras(frag_id, view), **extra))
        return "\n".join(parts)

    def view(self) -> View:
        """The View of the runtime's state as it is now; the caller holds the runtime's lock.

        Built once per seq: the ratings answered after one group commit, and the flush
        after it, all read the same state, and a View of a 3,000-deputy meeting is not
        cheap. The state changes only under the lock, and always with its seq (a commit,
        a catch-up) or as a new object (a reload); ``generation`` covers the one other
        case, a failed commit whose reload failed too.
        """
        state = self.runtime.state
        cached = self._view
        generation = self.runtime.generation
        if (
            cached is None
            or cached.state is not state
            or cached.seq != state.seq
            or self._view_generation != generation
        ):
            cached = self._view = View(state)
            self._view_generation = generation
            self._rendered.clear()
        return cached

    def personal(self, view: View, deputy_id: int, *, oob: bool, notice: str = "") -> str:
        """The deputy's own ``d-me``. Deputies with the same variant key get the same
        bytes, so for the current :meth:`view` each key is rendered once per seq (a burst
        of ratings is a few keys: rated, at a few check-in minutes)."""
        variant = deputy_variant(view.state, deputy_id)
        checked_at = checked_in_clock(view.state, deputy_id)
        if view is not self._view:
            return self._render_personal(view, variant, checked_at, oob, notice)
        key = (variant, checked_at, oob, notice)
        html = self._rendered.get(key)
        if html is None:
            html = self._rendered[key] = self._render_personal(view, variant, checked_at, oob, notice)
        return html

    def _render_personal(self, view: View, variant: Variant, checked_at: str, oob: bool, notice: str) -> str:
        variant_name, question_id, floor, speaking = variant
        extras = self.extras("d-me", view)
        return render.fragment(
            "d-me",
            view,
            oob=oob,
            variant=variant_name,
            question_id=question_id,
            floor=floor,
            speaking=speaking,
            notice=notice,
            checked_at=checked_at,
            **extras,
        )

    def signed_out_notice(self) -> str:
        """What a phone is sent as its card moves to another phone or is released."""
        return render.fragment(
            "d-me",
            View(self.runtime.state),
            oob=True,
            variant="signed_out",
            question_id=None,
            floor=None,
            speaking=False,
            notice="",
            checked_at="",
            ballot_key="",
        )

    def projector_view(self) -> View:
        """What a projector loading now shows (the caller holds the runtime's lock)."""
        state = self.runtime.state
        return self.frozen if self.frozen and state.projector_mode is ProjectorMode.FROZEN else self.view()

    async def snapshot(self, conn: Connection) -> str:
        """All fragments of the connection's screen, as of the current seq."""
        async with self.runtime.lock:
            view = self.projector_view() if conn.audience == "projector" else self.view()
            audience = AUDIENCES[conn.audience]
            ids = [f for f in audience.fragments(view.state) if f != audience.personal]
            if conn.audience == "projector":
                ids = [f for f in ids if f not in STAGE_NESTED]
            message = self._render(audience, ids, view)
            if audience.personal and conn.deputy_id is not None:
                message += "\n" + self.personal(view, conn.deputy_id, oob=True)
            return message

    async def resync_message(self, conn: Connection, seq: int) -> str:
        """What a screen whose page last saw ``seq`` is sent on its hello: what changed
        since (or every fragment), each message rendered once for every socket that
        reconnects at the same seq (server/room/resync.py). "" when it is up to date."""
        if conn.audience == "projector":  # frozen, stage nesting, the rotating hall QR
            return await self.snapshot(conn) if seq != self.runtime.state.seq else ""
        async with self.runtime.lock:
            state = self.runtime.state
            if seq == state.seq:
                return ""
            audience = AUDIENCES[conn.audience]
            missed = self.resync.since(seq, state.seq)
            if missed is None:
                ids = [f for f in audience.fragments(state) if f != audience.personal]
                mine = True
            else:
                ids = stale(audience, state, set(missed.topics))
                mine = SETUP in missed.topics or conn.deputy_id in missed.deputies
                mine = mine or any(audience.personal in audience.topics.get(t, ()) for t in missed.topics)
            second = int(asyncio.get_running_loop().time())

            parts = []
            if ids:
                key = ("shared", conn.audience, tuple(ids))
                parts.append(
                    self.resync.rendered(
                        key, state.seq, second, lambda: self._render(audience, ids, self.view())
                    )
                )
            deputy_id = conn.deputy_id
            if audience.personal and deputy_id is not None and mine:
                # Kept per variant for this seq by the room itself, as every receipt is.
                parts.append(self.personal(self.view(), deputy_id, oob=True))
            return "\n".join(parts)

    # -- fan-out ----------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def on_events(self, state: MeetingState, first_seq: int, events: list[Event]) -> None:
        if any(isinstance(e, ProjectorModeSet) for e in events):
            frozen = state.projector_mode is ProjectorMode.FROZEN
            self.frozen = (self.frozen or View(detached(state))) if frozen else None
        topics = topics_of(events)
        deputies = personal_deputies(events)
        self.resync.note(first_seq, first_seq + len(events) - 1, topics, deputies)
        self._topics |= topics
        self._deputies |= deputies
        urgent = bool(topics - COALESCED)
        loop = asyncio.get_running_loop()
        due = loop.time() if urgent else max(loop.time(), self._last_flush + COALESCE_S)
        if self._flush_at is not None and self._flush_at <= due:
            return
        if self._flush_handle:
            self._flush_handle.cancel()
        self._flush_at = due
        self._flush_handle = loop.call_at(due, lambda: self._spawn(self.flush()))

    def resend_all(self) -> None:
        """Every fragment to every screen: the meeting's setup was reloaded."""
        self._topics.add(SETUP)
        self.resync.forget()  # the fragments changed without a seq: a hello gets them all
        self._spawn(self.flush())

    def refresh_hall_code(self) -> None:
        """The hall QR rotates without an event; re-send it to the projectors."""
        self._topics.add("hall")
        self._spawn(self.flush())

    async def flush(self) -> None:
        self._flush_at = None
        self._flush_handle = None
        self._last_flush = asyncio.get_running_loop().time()
        topics, self._topics = self._topics, set()
        deputies, self._deputies = self._deputies, set()
        if not topics and not deputies:
            return
        async with self.runtime.lock:
            view = self.view()
            sends = [send for name in AUDIENCES for send in self._messages(name, view, topics, deputies)]
        for conns, message in sends:
            frame = text_frame(message)  # framed once for every socket that can take it raw
            for conn in conns:
                if not conn.offer(message, frame):
                    self._spawn(conn.close())

    def _messages(
        self, name: str, view: View, topics: set[str], deputies: set[int]
    ) -> list[tuple[list[Connection], str]]:
        """The messages of one audience, each with the sockets that get the same string."""
        conns = [c for c in self.conns[name] if c.ready]
        if not conns:
            return []
        audience = AUDIENCES[name]
        ids = stale(audience, view.state, topics)
        hall_shown = "hall-qr" in audience.fragments(view.state)
        frozen = name == "projector" and view.state.projector_mode is ProjectorMode.FROZEN
        if "hall" in topics and hall_shown and "stage" not in ids and not frozen:
            ids.append("hall-qr")
        shared = self._render(audience, ids, view) if ids else ""
        if audience.personal is None:
            return [(conns, shared)] if shared else []
        everyone = SETUP in topics or any(audience.personal in audience.topics.get(t, ()) for t in topics)
        groups: dict[tuple[Variant, str] | None, list[Connection]] = {}
        for conn in conns:
            mine = conn.deputy_id is not None and (everyone or conn.deputy_id in deputies)
            key = (
                (deputy_variant(view.state, conn.deputy_id), checked_in_clock(view.state, conn.deputy_id))
                if mine and conn.deputy_id is not None
                else None
            )
            groups.setdefault(key, []).append(conn)
        out: list[tuple[list[Connection], str]] = []
        for key, members in groups.items():
            if key is None:
                if shared:
                    out.append((members, shared))
                continue
            deputy_id = members[0].deputy_id
            assert deputy_id is not None
            personal = self.personal(view, deputy_id, oob=True)
            out.append((members, f"{shared}\n{personal}" if shared else personal))
        return out


def detached(state: MeetingState) -> MeetingState:
    """A copy that later events cannot touch (the setup is immutable and shared)."""
    return copy.deepcopy(state, memo={id(state.setup): state.setup})


def time_reply(t0: Any, server_ms: int) -> str:
    return json.dumps({"type": "time", "t0": t0, "ts": server_ms})
