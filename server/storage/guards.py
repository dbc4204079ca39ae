"""Guards on typing a card number and short code: against a guesser with a script.

Theory of operation (docs/design.md, "Binding by card number"). A short code has 8 digits,
so one guess at a card is right with probability 1e-8, whatever card it aims at. Three
guards keep the number of guesses small, without a lock that one person could put on
every card before check-in (card numbers run in sequence):

- per card, wrong codes earn growing delays: the first ``FREE_FAILURES`` cost nothing
  (a deputy's typo), then 5 s, 10 s, 20 s … up to 10 minutes. While a delay runs, an
  attempt at that card is refused without the code being compared, so it teaches the
  guesser nothing; the count is forgotten a day after the last wrong code, or when the
  card binds;
- per address, at most 60 wrong attempts in 10 minutes (server/web/throttle.py: plenty
  for a hall's typos behind one NAT address, far too few to guess with);
- staff see the wrong attempts on the cards page and in the audit trail, and can lock a
  card by hand: a locked card binds no new phone until they unlock it.

Typed binding also needs a valid hall code and takes only a card with no phone: both are
checked by the caller before the code is compared (server/web/routes/deputy.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import models as m

FREE_FAILURES = 3
BASE_DELAY_MS = 5_000
MAX_DELAY_MS = 10 * 60_000
FORGET_AFTER_MS = 24 * 3600_000


@dataclass(frozen=True)
class Guard:
    """What a card's guard row says; a card without a row has the default."""

    failures: int = 0
    last_failed_ms: int = 0
    last_address: str = ""
    retry_after_ms: int = 0
    locked_by: str = ""
    locked_ms: int = 0

    @property
    def locked(self) -> bool:
        return bool(self.locked_by)

    def waiting_ms(self, now_ms: int) -> int:
        """How long until an attempt at this card is looked at again (0: now)."""
        return max(0, self.retry_after_ms - now_ms)

    def current(self, now_ms: int) -> Guard:
        """The guard with an old run of wrong codes forgotten."""
        if self.failures and now_ms - self.last_failed_ms > FORGET_AFTER_MS:
            return Guard(locked_by=self.locked_by, locked_ms=self.locked_ms)
        return self


def delay_ms(failures: int) -> int:
    """The wait a card earns after ``failures`` wrong codes in a row."""
    if failures < FREE_FAILURES:
        return 0
    return int(min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** min(failures - FREE_FAILURES, 20)))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def read(conn: AsyncConnection, deputy_ids: list[int]) -> dict[int, Guard]:
    g = m.card_guards
    rows = await conn.execute(select(g).where(g.c.deputy_id.in_(deputy_ids)))
    return {
        int(r.deputy_id): Guard(
            r.failures, r.last_failed_ms, r.last_address, r.retry_after_ms, r.locked_by, r.locked_ms
        )
        for r in rows
    }


async def read_one(conn: AsyncConnection, deputy_id: int) -> Guard:
    return (await read(conn, [deputy_id])).get(deputy_id, Guard())


async def _write(conn: AsyncConnection, deputy_id: int, guard: Guard) -> None:
    g = m.card_guards
    values = {
        "failures": guard.failures,
        "last_failed_ms": guard.last_failed_ms,
        "last_address": guard.last_address[:64],
        "retry_after_ms": guard.retry_after_ms,
        "locked_by": guard.locked_by[:96],
        "locked_ms": guard.locked_ms,
    }
    done = await conn.execute(update(g).where(g.c.deputy_id == deputy_id).values(**values))
    if not done.rowcount:
        await conn.execute(insert(g).values(deputy_id=deputy_id, **values))


async def wrong_code(conn: AsyncConnection, deputy_id: int, address: str, at_ms: int) -> Guard:
    """One more wrong code at this card: the delay grows."""
    before = (await read_one(conn, deputy_id)).current(at_ms)
    failures = before.failures + 1
    guard = Guard(
        failures=failures,
        last_failed_ms=at_ms,
        last_address=address,
        retry_after_ms=at_ms + delay_ms(failures),
        locked_by=before.locked_by,
        locked_ms=before.locked_ms,
    )
    await _write(conn, deputy_id, guard)
    return guard


async def bound(conn: AsyncConnection, deputy_id: int) -> None:
    """The card bound with its right code: its run of wrong codes is over."""
    before = await read_one(conn, deputy_id)
    if before.failures or before.retry_after_ms:
        await _write(conn, deputy_id, Guard(locked_by=before.locked_by, locked_ms=before.locked_ms))


async def lock(conn: AsyncConnection, deputy_id: int, actor: str, at_ms: int) -> None:
    before = await read_one(conn, deputy_id)
    await _write(
        conn,
        deputy_id,
        Guard(
            before.failures, before.last_failed_ms, before.last_address, before.retry_after_ms, actor, at_ms
        ),
    )


async def unlock(conn: AsyncConnection, deputy_id: int) -> None:
    """Staff unlock a card: the lock and the run of wrong codes are both cleared."""
    await conn.execute(delete(m.card_guards).where(m.card_guards.c.deputy_id == deputy_id))
