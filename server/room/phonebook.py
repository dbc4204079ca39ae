"""Which phone holds each card, in this process: binding, moving, releasing, locking.

The policy is in :mod:`server.storage.phones` (one phone per card) and :mod:`server.storage.guards`
(typing a card number and short code). This module keeps the rows of the loaded cards in
memory, because the check is on every request of every phone, and writes every change
through one group writer (bindings that arrive together commit together), with its
audit entry in the same transaction. Other processes hear of a change on the bus
("phone" messages: who, never which phone) and read the row back.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.base.keys import DeputyBinding, same
from server.room.bus import Bus
from server.room.groupwrite import GroupWriter
from server.storage import audit, guards, phones
from server.storage.cards import Card

log = logging.getLogger(__name__)

# Namespace of PostgreSQL's two-key advisory locks for a card's guard (the meeting write
# lock uses the one-key form; the two forms never collide).
GUARD_LOCK_SPACE = 2


class Outcome(enum.Enum):
    BOUND = "bound"
    ELSEWHERE = "elsewhere"  # another phone holds the card
    LOCKED = "locked"  # staff locked the card
    WRONG = "wrong"  # a wrong short code
    WAIT = "wait"  # the card's delay after wrong codes is running: nothing was compared


SignOut = Callable[[int, str], Awaitable[None]]


class PhoneBook:
    def __init__(self, engine: AsyncEngine, bus: Bus, origin: str, sign_out: SignOut) -> None:
        self.engine = engine
        self.bus = bus
        self.origin = origin
        self._sign_out = sign_out
        self.bound: dict[int, phones.Bound] = {}
        self._writer = GroupWriter(engine, "phone bindings")

    def verdict(self, binding: DeputyBinding, card: Card) -> phones.Verdict:
        """Whether this phone holds its card now (the card version is checked before)."""
        return phones.verdict(self.bound.get(binding.deputy_id), card.card_version, binding.sid)

    def take(self, rows: dict[int, phones.Bound], deputy_ids: list[int]) -> None:
        """The rows of a body's cards, as loaded from the database."""
        for deputy_id in deputy_ids:
            if deputy_id in rows:
                self.bound[deputy_id] = rows[deputy_id]
            else:
                self.bound.pop(deputy_id, None)

    async def bind(
        self, card: Card, sid: str, how: phones.How, *, meeting_id: int, actor: str, device: str
    ) -> Outcome:
        """Bind by the invitation link (or adopt an old cookie) if the policy allows it.

        Raises :class:`server.room.runtime.NotRecorded` when the database cannot take it.
        """

        async def job(conn: AsyncConnection) -> tuple[Outcome, phones.Bound | None, phones.Bound | None]:
            if (await guards.read_one(conn, card.deputy_id)).locked:
                return Outcome.LOCKED, None, None
            return await _claim(conn, card, sid, how, meeting_id=meeting_id, actor=actor, device=device)

        outcome, before, now = await self._writer.run(job)
        await self._put(card.deputy_id, now, tell=outcome is Outcome.BOUND and before != now)
        return outcome

    async def bind_by_code(
        self, card: Card, code: str, sid: str, *, meeting_id: int, address: str, device: str
    ) -> tuple[Outcome, int]:
        """Bind by the card number and short code: the guards of :mod:`server.storage.guards`, then
        only a card with no phone. Returns the outcome and, when refused for a while, how
        many milliseconds the card waits."""
        actor = f"deputy:{card.deputy_id}"

        async def job(conn: AsyncConnection) -> tuple[Outcome, int, phones.Bound | None, phones.Bound | None]:
            if conn.dialect.name == "postgresql":  # one attempt at a card at a time, everywhere
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:space, :card)"),
                    {"space": GUARD_LOCK_SPACE, "card": card.deputy_id},
                )
            at = guards.now_ms()
            guard = (await guards.read_one(conn, card.deputy_id)).current(at)
            held = (await phones.read(conn, [card.deputy_id])).get(card.deputy_id)
            now_verdict = phones.verdict(held, card.card_version, sid)

            async def refused(reason: str, wait: int = 0) -> None:
                await audit.record(
                    conn,
                    "bind_refused",
                    actor=actor,
                    device=device,
                    body_id=card.body_id,
                    meeting_id=meeting_id,
                    deputy_id=card.deputy_id,
                    reason=reason,
                    address=address,
                    wait_s=round(wait / 1000),
                )

            if guard.locked:
                await refused("locked")
                return Outcome.LOCKED, 0, None, None
            # Before the code is compared: whether a card has a phone says nothing of its code.
            if now_verdict is phones.Verdict.ELSEWHERE:
                return Outcome.ELSEWHERE, 0, None, None
            wait = guard.waiting_ms(at)
            if wait:
                await refused("delayed", wait)
                return Outcome.WAIT, wait, None, None
            if not same(card.short_code, code):
                after = await guards.wrong_code(conn, card.deputy_id, address, at)
                await audit.record(
                    conn,
                    "bind_failed",
                    actor=actor,
                    device=device,
                    body_id=card.body_id,
                    meeting_id=meeting_id,
                    deputy_id=card.deputy_id,
                    failures=after.failures,
                    address=address,
                )
                return Outcome.WRONG, after.waiting_ms(at), None, None
            outcome, before, now = await _claim(
                conn, card, sid, phones.How.CARD, meeting_id=meeting_id, actor=actor, device=device
            )
            if outcome is Outcome.BOUND:
                await guards.bound(conn, card.deputy_id)
            return outcome, 0, before, now

        outcome, wait, before, now = await self._writer.run(job)
        if outcome is Outcome.BOUND:
            await self._put(card.deputy_id, now, tell=before != now)
        return outcome, wait

    async def release(self, card: Card, *, meeting_id: int, actor: str, device: str) -> None:
        """Staff free a card for another phone; the phone bound now is signed out."""

        async def job(conn: AsyncConnection) -> phones.Bound:
            now = await phones.release(conn, card.deputy_id, card.card_version, device)
            await audit.record(
                conn,
                "phone_released",
                actor=actor,
                device=device,
                body_id=card.body_id,
                meeting_id=meeting_id,
                deputy_id=card.deputy_id,
            )
            return now

        await self._put(card.deputy_id, await self._writer.run(job), tell=True)

    async def release_all(
        self, cards: list[Card], *, body_id: int, meeting_id: int, scope: str, actor: str, device: str
    ) -> int:
        """Staff free every card of a group or a body that a phone holds (a new meeting,
        new phones): one transaction, one audit entry with the count. Returns how many
        phones were released; each is signed out."""
        versions = {card.deputy_id: card.card_version for card in cards}

        async def job(conn: AsyncConnection) -> dict[int, phones.Bound]:
            held = await phones.read(conn, list(versions))
            freed = {}
            for deputy_id, bound in held.items():
                if bound.sid and bound.card_version == versions[deputy_id]:
                    freed[deputy_id] = await phones.release(conn, deputy_id, bound.card_version, device)
            await audit.record(
                conn,
                "phones_released",
                actor=actor,
                device=device,
                body_id=body_id,
                meeting_id=meeting_id,
                scope=scope,
                count=len(freed),
                summary=f"{scope}：{len(freed)} 部手机",
            )
            return freed

        freed = await self._writer.run(job)
        for deputy_id, now in freed.items():
            await self._put(deputy_id, now, tell=True)
        return len(freed)

    async def set_lock(self, card: Card, locked: bool, *, meeting_id: int, actor: str, device: str) -> None:
        """Staff lock a card against any new phone, or unlock it (which also forgets its
        wrong codes). The phone it has, if any, keeps it."""

        async def job(conn: AsyncConnection) -> None:
            if locked:
                await guards.lock(conn, card.deputy_id, actor, guards.now_ms())
            else:
                await guards.unlock(conn, card.deputy_id)
            await audit.record(
                conn,
                "card_locked" if locked else "card_unlocked",
                actor=actor,
                device=device,
                body_id=card.body_id,
                meeting_id=meeting_id,
                deputy_id=card.deputy_id,
            )

        await self._writer.run(job)

    async def _put(self, deputy_id: int, bound: phones.Bound | None, *, tell: bool) -> None:
        held = self.bound.get(deputy_id)
        if bound is None:
            self.bound.pop(deputy_id, None)
        else:
            self.bound[deputy_id] = bound
            if held is not None and held.sid and held.sid != bound.sid:
                await self._sign_out(deputy_id, bound.sid)
        if tell and self.bus.carries:  # the sid stays in the database: it names a phone
            await self.bus.publish(json.dumps({"phone": deputy_id, "origin": self.origin}))

    async def on_message(self, payload: str, known: Callable[[int], bool]) -> None:
        """A "phone" message from another process: read the card's row back."""
        try:
            d = json.loads(payload)
            deputy_id, origin = int(d["phone"]), str(d["origin"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed phone message")
            return
        if origin == self.origin or not known(deputy_id):
            return
        async with self.engine.connect() as conn:
            bound = (await phones.read(conn, [deputy_id])).get(deputy_id)
            await conn.commit()
        await self._put(deputy_id, bound, tell=False)

    async def close(self) -> None:
        await self._writer.close()


async def _claim(
    conn: AsyncConnection, card: Card, sid: str, how: phones.How, *, meeting_id: int, actor: str, device: str
) -> tuple[Outcome, phones.Bound | None, phones.Bound | None]:
    ok, before, now = await phones.claim(conn, card.deputy_id, card.card_version, sid, device, how)
    if not ok:
        return Outcome.ELSEWHERE, before, now
    if before != now:
        moved = before is not None and before.card_version == card.card_version and bool(before.sid)
        await audit.record(
            conn,
            "phone_moved" if moved else "phone_bound",
            actor=actor,
            device=device,
            body_id=card.body_id,
            meeting_id=meeting_id,
            deputy_id=card.deputy_id,
            how=how.value,
        )
    return Outcome.BOUND, before, now
