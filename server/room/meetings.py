"""The meetings this process serves: their runtimes, rooms and roster caches.

A meeting is loaded on first use (from its event log) and then kept. Locally committed
events go to the room and out on the bus; events from the bus go to the room only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any, TypeVar

import segno
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from live.events import Event, MeetingClosed
from live.state import MeetingState, ProjectorMode
from screens.view import View
from server.base.keys import DeputyBinding, Keys
from server.room.bus import Bus, setup_message
from server.room.gcpolicy import GcPolicy
from server.room.hub import Room
from server.room.phonebook import PhoneBook
from server.room.runtime import MeetingRuntime, load_state, state_when_frozen
from server.storage import models as m
from server.storage import phones, store
from server.storage.cards import Card
from server.storage.db import snapshot_read

log = logging.getLogger(__name__)

MAX_ID = 2**31
T = TypeVar("T")
POLICY_VIOLATION = 1008  # the page does not reconnect after it


@lru_cache(maxsize=64)
def qr_svg(url: str) -> str:
    return str(segno.make(url, error="m").svg_inline(omitsize=True, border=2))


class Meetings:
    def __init__(
        self,
        engine: AsyncEngine,
        bus: Bus,
        keys: Keys,
        public_url: str,
        hall_seconds: int,
        gc_policy: GcPolicy | None = None,
    ) -> None:
        self.gc_policy = gc_policy or GcPolicy()
        self.engine = engine
        self.bus = bus
        self.keys = keys
        self.public_url = public_url
        self.hall_seconds = hall_seconds
        self.origin = f"{os.getpid()}-{id(self)}"
        self.rooms: dict[int, Room] = {}
        self.cards: dict[int, Card] = {}
        self.body_of: dict[int, int] = {}
        self.book = PhoneBook(engine, bus, self.origin, self._sign_out)  # which phone holds each card
        self._loading: dict[int, asyncio.Lock] = {}
        self._tickers: list[asyncio.Task[None]] = []
        # Bumped whenever the office's records behind a page may have changed (a meeting
        # closed and its attendance froze, a setup reload, a correction): caches of such
        # reads in the web layer (server/web/absences.py) keep a value only for the
        # generation they read it in. Every process bumps its own, from its own bus.
        self.records_generation = 0

    async def room(self, meeting_id: int) -> Room:
        """The room of a meeting; raises store.MeetingNotFound."""
        room = self.rooms.get(meeting_id)
        if room is not None:
            return room
        if not 0 < meeting_id < MAX_ID:  # beyond any database's integer: no such meeting
            raise store.MeetingNotFound(meeting_id)
        lock = self._loading.setdefault(meeting_id, asyncio.Lock())
        try:
            return await self._load(meeting_id, lock)
        finally:
            self._loading.pop(meeting_id, None)

    async def _load(self, meeting_id: int, lock: asyncio.Lock) -> Room:
        async with lock:
            room = self.rooms.get(meeting_id)
            if room is not None:
                return room
            async with self.engine.connect() as conn:
                state = await load_state(conn, meeting_id)
                frozen = (
                    await state_when_frozen(conn, meeting_id)
                    if state.projector_mode is ProjectorMode.FROZEN
                    else None
                )
                body_id = (
                    await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
                ).scalar_one()
                await self._load_cards(conn, body_id)
                await conn.commit()
            self.body_of[meeting_id] = body_id
            holder: dict[str, Room] = {}

            async def listener(st: MeetingState, first_seq: int, events: list[Event], local: bool) -> None:
                if _closes(events):
                    self.records_generation += 1
                await holder["room"].on_events(st, first_seq, events)
                if local and self.bus.carries:  # the in-process bus has nobody to tell
                    await self.bus.publish(store.bus_payload(meeting_id, first_seq, events, self.origin))

            runtime = MeetingRuntime(self.engine, state, listener, self.keys.box)
            room = Room(runtime, self.extras, self._sockets_changed)
            room.frozen = View(frozen) if frozen else None
            holder["room"] = room
            runtime.start()
            self.rooms[meeting_id] = room
            self._tickers.append(asyncio.create_task(self._hall_ticker(room)))
            return room

    def _sockets_changed(self, _room_count: int) -> None:
        self.gc_policy.sockets_changed(sum(r.count() for r in self.rooms.values()))

    async def _load_cards(self, conn: Any, body_id: int) -> None:
        rows = await conn.execute(
            select(
                m.deputies.c.id, m.deputies.c.card_no, m.deputies.c.short_code, m.deputies.c.card_version
            ).where(m.deputies.c.body_id == body_id)
        )
        ids = []
        for r in rows:
            self.cards[r.id] = Card(r.id, body_id, r.card_no, r.short_code, r.card_version)
            ids.append(r.id)
        self.book.take(await phones.read_body(conn, body_id), ids)

    def phone_verdict(self, binding: DeputyBinding) -> phones.Verdict:
        """Whether this phone holds its card now (the card version is checked before)."""
        return self.book.verdict(binding, self.cards[binding.deputy_id])

    async def _sign_out(self, deputy_id: int, sid: str) -> None:
        """The card moved or was released: the phone before is told so, then stops
        hearing the card's news (its socket closes without reconnecting)."""
        for room in self.rooms.values():
            notice = None
            for conn in list(room.conns["deputy"]):
                if conn.deputy_id == deputy_id and conn.phone != sid:
                    notice = notice or room.signed_out_notice()
                    await conn.tell_and_close(notice, POLICY_VIOLATION)

    async def refresh_card(self, card: Card) -> None:
        """Take a re-issued card: links and phones bound with the old version stop working.

        Other processes hear of it on the bus ("card" messages), or they would keep
        honouring the old link until they restart. The message names the deputy and the
        new version only: the short code is a credential and stays in the database.
        """
        self._put_card(card)
        if self.bus.carries:
            message = {"card": card.deputy_id, "version": card.card_version, "origin": self.origin}
            await self.bus.publish(json.dumps(message))

    async def setup_changed(self, *, meeting_id: int | None = None, body_id: int | None = None) -> None:
        """The office changed a meeting's setup (rules, agenda, final list) or a body's
        roster or officials: every loaded meeting concerned reloads and re-sends its screens.

        Other processes hear it on the bus ("setup" messages). A reload is what a restart
        does (setup, then the whole log), so a meeting that has begun stays consistent.
        """
        await self._reload_setup(meeting_id, body_id)
        if self.bus.carries:
            await self.bus.publish(setup_message(meeting_id, body_id, self.origin))

    async def records_changed(self) -> None:
        """The office changed frozen records (an attendance correction): every process
        forgets what it read of them. A setup message naming no meeting and no body
        reloads nothing; it only moves the records generation on in the other processes."""
        self.records_generation += 1
        if self.bus.carries:
            await self.bus.publish(setup_message(None, None, self.origin))

    async def rewrite_log(self, meeting_id: int, change: Callable[[], Awaitable[T]]) -> T:
        """Run ``change``, an office transaction that rewrites the meeting's log (a
        rehearsal's reset), with this process's writer of the meeting held; then the room
        drops its state, rebuilds it from the database and re-sends every screen, and
        other processes hear a "setup" message and reload too. A page's highest seq may
        now be above the log's: its next hello differs from the current seq and gets the
        whole screen again."""
        room = self.rooms.get(meeting_id)
        self.records_generation += 1  # a rehearsal's reset reopens the meeting
        if room is None:
            result = await change()
        else:
            result = await room.runtime.rewritten(change)
            room.frozen = None
            room.resend_all()
        if self.bus.carries:
            await self.bus.publish(setup_message(meeting_id, None, self.origin))
        return result

    async def _reload_setup(self, meeting_id: int | None, body_id: int | None) -> None:
        self.records_generation += 1  # an office change: terms, sessions, a meeting's day
        if body_id is not None and body_id in self.body_of.values():
            async with snapshot_read(self.engine) as conn:  # new deputies, changed card numbers
                await self._load_cards(conn, body_id)
        for loaded_id, room in list(self.rooms.items()):
            if loaded_id == meeting_id or (body_id is not None and self.body_of.get(loaded_id) == body_id):
                await room.runtime.reload()
                room.resend_all()

    async def _on_setup_message(self, payload: str) -> None:
        try:
            d = json.loads(payload)
            meeting_id, body_id, origin = int(d["setup"]), int(d["body"]), str(d["origin"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed setup message")
            return
        if origin != self.origin:
            await self._reload_setup(meeting_id or None, body_id or None)

    def _put_card(self, card: Card) -> None:
        known = self.cards.get(card.deputy_id)
        if known is None or known.card_version < card.card_version:
            self.cards[card.deputy_id] = card

    async def _on_card_message(self, payload: str) -> None:
        try:
            d = json.loads(payload)
            deputy_id, version = int(d["card"]), int(d["version"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed card message")
            return
        known = self.cards.get(deputy_id)
        if d.get("origin") == self.origin or known is None or known.card_version >= version:
            return
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(m.deputies.c.card_no, m.deputies.c.short_code, m.deputies.c.card_version).where(
                        m.deputies.c.id == deputy_id
                    )
                )
            ).first()
            await conn.commit()
        if row is not None:
            self._put_card(Card(deputy_id, known.body_id, row.card_no, row.short_code, row.card_version))

    def card_by_number(self, meeting_id: int, card_no: str) -> Card | None:
        body_id = self.body_of.get(meeting_id)
        for card in self.cards.values():
            if card.body_id == body_id and card.card_no == card_no:
                return card
        return None

    def hall_window(self, now_s: float | None = None) -> int:
        return int((time.time() if now_s is None else now_s) // self.hall_seconds)

    def hall_url(self, meeting_id: int, window: int) -> str:
        return f"{self.public_url}/h/{meeting_id}/{self.keys.hall_code(meeting_id, window)}"

    def extras(self, frag_id: str, view: View) -> dict[str, Any]:
        if frag_id == "hall-qr" or (frag_id == "stage" and view.checkin_open):
            url = self.hall_url(view.meeting_id, self.hall_window())
            return {"hall_url": url, "hall_qr": qr_svg(url)}
        if frag_id == "d-me":
            # The default key of a ballot form; the page script gives each form its own.
            vote, rating = view.state.current_vote(), view.state.current_rating()
            if vote is not None and vote.open:
                return {"ballot_key": self.keys.ballot_key(view.meeting_id, -vote.vote_id)}
            key = self.keys.ballot_key(view.meeting_id, rating.question_id) if rating else ""
            return {"ballot_key": key}
        return {}

    async def _hall_ticker(self, room: Room) -> None:
        """Rotate the hall QR on the projectors while check-in is open."""
        shown = self.hall_window()
        while True:
            await asyncio.sleep(0.5)
            self.gc_policy.tick()
            window = self.hall_window()
            if window != shown:
                shown = window
                if room.runtime.state.checkin_open and room.conns["projector"]:
                    room.refresh_hall_code()

    async def on_bus(self, payload: str) -> None:
        if payload.startswith('{"card"'):
            await self._on_card_message(payload)
            return
        if payload.startswith('{"setup"'):
            await self._on_setup_message(payload)
            return
        if payload.startswith('{"phone"'):
            await self.book.on_message(payload, lambda deputy_id: deputy_id in self.cards)
            return
        try:
            meeting_id, first_seq, origin, events = store.parse_bus_payload(payload)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed bus message")
            return
        if origin == self.origin:
            return
        if _closes(events):  # a meeting of a body this process may show, loaded here or not
            self.records_generation += 1
        room = self.rooms.get(meeting_id)
        if room is not None:
            await room.runtime.receive_remote(first_seq, events)

    async def refresh_all(self) -> None:
        """After a bus outage: whatever was missed (events, cards, setup changes) is in
        the database, so every loaded meeting reloads as at a restart and re-sends its
        screens."""
        self.records_generation += 1
        async with snapshot_read(self.engine) as conn:
            for body_id in set(self.body_of.values()):
                await self._load_cards(conn, body_id)
        for room in list(self.rooms.values()):
            await room.runtime.reload()
            room.resend_all()

    async def close(self) -> None:
        await self.book.close()
        for task in self._tickers:
            task.cancel()
        for room in self.rooms.values():
            await room.runtime.stop()
            for conns in room.conns.values():
                for conn in list(conns):
                    with contextlib.suppress(Exception):
                        await conn.close()


def _closes(events: list[Event]) -> bool:
    """A meeting closed: its attendance froze into the records in the same commit."""
    return any(isinstance(e, MeetingClosed) for e in events)
