"""Closed meetings' records, folded once: a bounded cache keyed by meeting id and last seq.

A duty record reads every closed meeting of a body, and the phone page is opened by many
deputies at once after a session. A closed meeting's log never grows (the close is its
last event that counts), so its fold is kept, keyed by meeting id and last seq (see ``Key``): a log
that did grow (a move, a restore) misses the key and is folded afresh. Only closed
records are kept; an open meeting is folded per read (and a duty record never reads one).

What is kept is the fold without the commitments typed beside the log: they may still be
edited after the close, and the duty record does not show them.

The fold is pure Python over the whole log; measured in docs/design.md ("Duty records").
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.record.facts import MeetingRecord, fold
from server.record.load import timed_events
from server.storage import models as m
from server.storage import store

LIMIT = 256  # records kept; a demo-sized record is about a hundred kilobytes

# (database, meeting id, last seq, its commit moment): a restored or moved log that ends
# elsewhere misses, and two databases in one process (the tests) never share an entry.
Key = tuple[str, int, int, int]
_kept: OrderedDict[Key, MeetingRecord] = OrderedDict()


async def last_events(conn: AsyncConnection, meeting_ids: Collection[int]) -> dict[int, tuple[int, int]]:
    """meeting id → (seq, commit moment) of its last event."""
    if not meeting_ids:
        return {}
    ev = m.events
    last = (
        select(ev.c.meeting_id, func.max(ev.c.seq).label("seq"))
        .where(ev.c.meeting_id.in_(list(meeting_ids)))
        .group_by(ev.c.meeting_id)
        .subquery()
    )
    rows = await conn.execute(
        select(ev.c.meeting_id, ev.c.seq, ev.c.created_ms).join(
            last, (last.c.meeting_id == ev.c.meeting_id) & (last.c.seq == ev.c.seq)
        )
    )
    return {int(mid): (int(seq), int(at)) for mid, seq, at in rows}


async def closed_records(conn: AsyncConnection, meeting_ids: Collection[int]) -> dict[int, MeetingRecord]:
    """meeting id → its record, for the meetings asked that exist and have a log. Each
    fold not yet kept runs in one go on the loop; the loop gets a turn between two."""
    out: dict[int, MeetingRecord] = {}
    database = conn.engine.url.render_as_string(hide_password=True)
    for meeting_id, (seq, at_ms) in (await last_events(conn, meeting_ids)).items():
        key = (database, meeting_id, seq, at_ms)
        found = _kept.get(key)
        if found is None:
            setup = await store.load_setup(conn, meeting_id)
            found = fold(setup, await timed_events(conn, meeting_id), {})
            await asyncio.sleep(0)
            if found.closed:
                _kept[key] = found
                while len(_kept) > LIMIT:
                    _kept.popitem(last=False)
        else:
            _kept.move_to_end(key)
        out[meeting_id] = found
    return out


def clear() -> None:
    """Forget every record (tests that time a cold read)."""
    _kept.clear()
