"""What a closed meeting adds to duty records, folded once, kept, and folded off the loop.

:func:`facts_of` reduces a meeting's record (server/record/facts.py) to the facts a duty
record shows, by deputy: the questions asked (with the asking time), the follow-ups, the
speeches, every closed NAMED vote round's choices, and the agenda items' rating results (a
述职评议 result belongs to whoever reported). Nothing of a secret round or of who rated:
a :class:`MeetingFacts` holds no more than the public record of the hall.

Kept. A closed meeting's log never grows, so its facts are kept in a bounded cache keyed
by the database, the meeting id, its last seq and that event's commit moment: a restored
or moved log that ends elsewhere misses, and two databases in one process (the tests)
never share an entry. Only closed meetings are kept (a duty record reads no other).

Off the loop. Folding a whole log is pure Python (20-80 ms for the demo meeting): the web
face passes a ``runner`` that folds the missing meetings in a worker process
(server/office/workshop.py) with :func:`facts_in_worker`, which opens the database itself
(a Setup does not pickle; the facts do). Without a runner the fold runs in the caller.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.state import Choice, Phase
from screens.messages import VOTE_CHOICES
from server.record.facts import MeetingRecord, fold
from server.record.load import timed_events
from server.storage import models as m
from server.storage import store

LIMIT = 2048  # meetings kept; the facts of one are a few kilobytes
GRADES = {Choice.SATISFIED: "满意", Choice.BASIC: "基本满意", Choice.DISSATISFIED: "不满意"}


@dataclass(frozen=True)
class Asked:
    """A question the deputy asked in the hall, with his or her asking time."""

    title: str
    spoken_ms: int


@dataclass(frozen=True)
class FollowUp:
    """A follow-up (追问) the deputy asked on a question, with its speaking time."""

    question: str
    spoken_ms: int


@dataclass(frozen=True)
class SpeechLine:
    item: str
    nth: int
    spoken_ms: int


@dataclass(frozen=True)
class NamedRound:
    """A closed named (记名) vote round: its choices by deputy (赞成 / 反对 / 弃权)."""

    title: str
    round_no: int
    choices: dict[int, str]


@dataclass(frozen=True)
class ItemResult:
    """An agenda item's rating result (a 述职评议 when the item names who reported)."""

    title: str
    grade: str  # 满意 / 基本满意 / 不满意, 未评定等次, or 未测评
    counts: str  # "满意 30，基本满意 10，不满意 5"; "" when never rated


@dataclass(frozen=True)
class MeetingFacts:
    meeting_id: int
    last_seq: int
    last_ms: int
    closed: bool
    asked: dict[int, tuple[Asked, ...]] = field(default_factory=dict)
    followups: dict[int, tuple[FollowUp, ...]] = field(default_factory=dict)
    speeches: dict[int, tuple[SpeechLine, ...]] = field(default_factory=dict)
    named: tuple[NamedRound, ...] = ()
    items: dict[int, ItemResult] = field(default_factory=dict)


def facts_of(meeting_id: int, record: MeetingRecord, last_seq: int, last_ms: int) -> MeetingFacts:
    asked: dict[int, list[Asked]] = {}
    followups: dict[int, list[FollowUp]] = {}
    for q in record.questions:
        if q.reached and q.question.asker_id is not None:
            spoken = sum(
                s.duration_ms
                for s in q.stretches
                if s.phase is Phase.ASKING and s.speaker_id == q.question.asker_id
            )
            asked.setdefault(q.question.asker_id, []).append(Asked(q.question.title, spoken))
        for s in q.stretches:
            if s.phase is Phase.FOLLOWUP_ASK and s.speaker_id is not None:
                followups.setdefault(s.speaker_id, []).append(FollowUp(q.question.title, s.duration_ms))
    titles = {i.id: i.title for i in record.setup.agenda}
    speeches: dict[int, list[SpeechLine]] = {}
    for sp in record.speeches:
        item = titles.get(sp.item_id, "") if sp.item_id is not None else ""
        speeches.setdefault(sp.deputy_id, []).append(SpeechLine(item, sp.nth, sp.spoken_ms))
    named = tuple(
        NamedRound(
            v.title or next((r.title for r in record.rounds_of(v.first_id) if r.title), ""),
            v.round_no,
            {who: VOTE_CHOICES[choice] for who, choice in v.named},
        )
        for v in record.votes
        if not v.secret and v.result is not None  # a secret round says nothing of anyone
    )
    items = {i.id: ItemResult(i.title, "未测评", "") for i in record.setup.agenda}
    for rated in record.item_ratings:
        result = rated.result
        grade = GRADES[result.grade] if result.grade is not None else "未评定等次"
        counts = "，".join(f"{name} {result.count(c)}" for c, name in GRADES.items())
        items[rated.item.id] = ItemResult(rated.item.title, grade, counts)
    return MeetingFacts(
        meeting_id,
        last_seq,
        last_ms,
        record.closed,
        {k: tuple(v) for k, v in asked.items()},
        {k: tuple(v) for k, v in followups.items()},
        {k: tuple(v) for k, v in speeches.items()},
        named,
        items,
    )


# -- reading, kept ----------------------------------------------------------------------

Runner = Callable[[list[int]], Awaitable[dict[int, MeetingFacts]]]
Key = tuple[str, int, int, int]  # (database, meeting id, last seq, its commit moment)
_kept: OrderedDict[Key, MeetingFacts] = OrderedDict()


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


async def read_facts(conn: AsyncConnection, meeting_ids: Collection[int]) -> dict[int, MeetingFacts]:
    """Fold each meeting here and now (no cache)."""
    out: dict[int, MeetingFacts] = {}
    for meeting_id, (seq, at_ms) in (await last_events(conn, meeting_ids)).items():
        setup = await store.load_setup(conn, meeting_id)
        events = await timed_events(conn, meeting_id)
        last_seq, last_ms = (events[-1][0], events[-1][1]) if events else (seq, at_ms)
        out[meeting_id] = facts_of(meeting_id, fold(setup, events, {}), last_seq, last_ms)
        await asyncio.sleep(0)  # in the caller's loop: a turn for others between two folds
    return out


def facts_in_worker(database_url: str, meeting_ids: list[int]) -> dict[int, MeetingFacts]:
    """:func:`read_facts` in a worker process, with a connection of its own."""
    from server.storage.db import create_engine, snapshot_read

    async def go() -> dict[int, MeetingFacts]:
        engine = create_engine(database_url)
        try:
            async with snapshot_read(engine) as conn:
                return await read_facts(conn, meeting_ids)
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def closed_facts(
    conn: AsyncConnection, meeting_ids: Collection[int], runner: Runner | None = None
) -> dict[int, MeetingFacts]:
    """meeting id → its facts, for the meetings asked that exist and have a log; the
    closed ones are kept."""
    database = conn.engine.url.render_as_string(hide_password=True)
    out: dict[int, MeetingFacts] = {}
    missing: list[int] = []
    for meeting_id, (seq, at_ms) in (await last_events(conn, meeting_ids)).items():
        key = (database, meeting_id, seq, at_ms)
        found = _kept.get(key)
        if found is None:
            missing.append(meeting_id)
        else:
            _kept.move_to_end(key)
            out[meeting_id] = found
    if missing:
        fresh = await runner(missing) if runner else await read_facts(conn, missing)
        for meeting_id, facts in fresh.items():
            out[meeting_id] = facts
            if facts.closed:
                _kept[(database, meeting_id, facts.last_seq, facts.last_ms)] = facts
                while len(_kept) > LIMIT:
                    _kept.popitem(last=False)
    return out


def clear() -> None:
    """Forget every meeting's facts (a benchmark that times a cold read)."""
    _kept.clear()
