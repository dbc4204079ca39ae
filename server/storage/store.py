"""Reading a meeting from the database and appending its events.

``load_setup`` builds the fixed part of a meeting (:class:`live.setup.Setup`);
``load_events`` and ``append_events`` read and write the event log. The choice of a secret
ballot is never in the log (see :mod:`live.events`): it is sealed in ``sealed_ballots``
(server/base/ballot_box.py), and a round's totals are written to ``rating_tallies`` or
``vote_tallies`` once, when it closes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.events import Event, RatingCast, RatingClosed, VoteCast, VoteClosed, from_record, to_record
from live.setup import (
    DEFAULT_TIMER_SECONDS,
    Attendee,
    AttendeeKind,
    BodyKind,
    Denominator,
    Deputy,
    Question,
    Quorum,
    RatingRule,
    Respondent,
    Settings,
    Setup,
    TimerRole,
)
from live.state import Choice, VoteChoice
from server.base.ballot_box import RATING, VOTE, BallotBox
from server.base.days import today
from server.storage import attendance, members
from server.storage import models as m
from server.storage.agenda import agenda_items
from server.storage.agenda import report_summary as report_summary  # read here by the office


class MeetingNotFound(LookupError):
    pass


def settings_to_json(s: Settings) -> str:
    return json.dumps(
        {
            "body_kind": s.body_kind.value,
            "rating_rule": {
                "denominator": s.rating_rule.denominator.value,
                "satisfied_share": str(s.rating_rule.satisfied_share),
                "basic_share": str(s.rating_rule.basic_share),
                "min_ballots": s.rating_rule.min_ballots,
            },
            "timer_seconds": {k.value: v for k, v in s.timer_seconds.items()},
            "warn_seconds": s.warn_seconds,
            "floor_requests_per_item": s.floor_requests_per_item,
            "hall_networks": list(s.hall_networks),
            "checkin_grace_minutes": s.checkin_grace_minutes,
            "script": dict(s.script),
        },
        ensure_ascii=False,
    )


def settings_from_json(raw: str, body_kind: BodyKind) -> Settings:
    d: dict[str, Any] = json.loads(raw or "{}")
    rule = d.get("rating_rule", {})
    timers = dict(DEFAULT_TIMER_SECONDS)
    timers.update({TimerRole(k): int(v) for k, v in d.get("timer_seconds", {}).items()})
    return Settings(
        body_kind=BodyKind(d.get("body_kind", body_kind.value)),
        rating_rule=RatingRule(
            denominator=Denominator(rule.get("denominator", Denominator.MEMBERS.value)),
            satisfied_share=Fraction(rule.get("satisfied_share", "1/2")),
            basic_share=Fraction(rule.get("basic_share", "1/2")),
            min_ballots=int(rule.get("min_ballots", 0)),  # 0: off (issue 16)
        ),
        timer_seconds=MappingProxyType(timers),
        warn_seconds=int(d.get("warn_seconds", 30)),
        floor_requests_per_item=int(d.get("floor_requests_per_item", 2)),
        hall_networks=tuple(str(n) for n in d.get("hall_networks", ())),
        checkin_grace_minutes=int(d.get("checkin_grace_minutes", 5)),
        script=MappingProxyType({str(k): str(v) for k, v in d.get("script", {}).items()}),
    )


def body_quorum(rules: str) -> Quorum | None:
    """The quorum rule a body sets for itself in ``bodies.rules`` (server/office/body_rules.py)."""
    try:
        wanted = json.loads(rules or "{}").get("quorum")
        return Quorum(wanted) if wanted else None
    except (ValueError, AttributeError):
        return None


async def load_setup(conn: AsyncConnection, meeting_id: int) -> Setup:
    meeting = (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).first()
    if meeting is None:
        raise MeetingNotFound(meeting_id)
    body = (await conn.execute(select(m.bodies).where(m.bodies.c.id == meeting.body_id))).one()
    group_names = {
        g.id: g.name
        for g in await conn.execute(
            select(m.groups.c.id, m.groups.c.name).where(m.groups.c.body_id == body.id)
        )
    }
    day = meeting.held_on or today()
    on_day = await members.on_day(conn, body.id, day)
    deputy_rows = await conn.execute(
        select(m.deputies.c.id, m.deputies.c.name, m.deputies.c.group_id, m.deputies.c.card_no)
        .where(m.deputies.c.body_id == body.id)
        .order_by(m.deputies.c.id)
    )
    roster = {
        d.id: Deputy(d.id, d.name, group_names.get(d.group_id, ""), d.card_no)
        for d in deputy_rows
        if d.id in on_day.members
    }
    agenda = await agenda_items(conn, meeting_id)
    respondents: dict[int, list[Respondent]] = {}
    rows = await conn.execute(
        select(m.question_respondents.c.question_id, m.officials.c.name, m.officials.c.title)
        .join(m.officials, m.officials.c.id == m.question_respondents.c.official_id)
        .join(m.questions, m.questions.c.id == m.question_respondents.c.question_id)
        .where(m.questions.c.meeting_id == meeting_id)
        .order_by(m.question_respondents.c.position)
    )
    for r in rows:
        respondents.setdefault(r.question_id, []).append(Respondent(r.name, r.title))
    qs = tuple(
        Question(
            q.id,
            q.position,
            q.title,
            q.asker_id,
            tuple(respondents.get(q.id, ())),
            group_names.get(q.group_id, "") if q.group_id else "",
        )
        for q in await conn.execute(
            select(m.questions).where(m.questions.c.meeting_id == meeting_id).order_by(m.questions.c.position)
        )
    )
    return Setup(
        meeting_id=meeting_id,
        attendees=MappingProxyType(await _attendees(conn, meeting_id)),
        on_leave=await _approved_leave(conn, meeting_id),
        title=meeting.title,
        body_name=body.name,
        deputies=MappingProxyType(roster),
        agenda=agenda,
        questions=qs,
        settings=replace(
            settings_from_json(meeting.settings, BodyKind(body.kind)), quorum=body_quorum(body.rules)
        ),
        suspended=on_day.suspended,
        rehearsal=bool(meeting.rehearsal),
        held_on=day.isoformat(),
        starts_at=meeting.starts_at,
        place=meeting.place,
    )


async def _attendees(conn: AsyncConnection, meeting_id: int) -> dict[int, Attendee]:
    """The meeting's non-voting attendees (列席, 旁听, 应询人), in the order listed."""
    kinds = {k.value: k for k in AttendeeKind}
    rows = await conn.execute(
        select(m.attendees).where(m.attendees.c.meeting_id == meeting_id).order_by(m.attendees.c.id)
    )
    return {a.id: Attendee(a.id, a.name, kinds[a.kind], a.organisation) for a in rows if a.kind in kinds}


async def _approved_leave(conn: AsyncConnection, meeting_id: int) -> frozenset[int]:
    """Deputies whose leave for this meeting was approved: they start the meeting on leave."""
    rows = await conn.execute(
        select(m.leave_requests.c.deputy_id).where(
            m.leave_requests.c.meeting_id == meeting_id, m.leave_requests.c.status == "approved"
        )
    )
    return frozenset(r.deputy_id for r in rows)


async def load_events(conn: AsyncConnection, meeting_id: int, after_seq: int = 0) -> list[tuple[int, Event]]:
    rows = await conn.execute(
        select(m.events.c.seq, m.events.c.type, m.events.c.data)
        .where(m.events.c.meeting_id == meeting_id, m.events.c.seq > after_seq)
        .order_by(m.events.c.seq)
    )
    return [(r.seq, from_record(r.type, json.loads(r.data))) for r in rows]


async def open_box(
    conn: AsyncConnection, box: BallotBox, meeting_id: int, kind: str, round_id: int
) -> Counter[str]:
    """A round's totals per choice value: its sealed ballots opened, plus any totals it
    had before ballots were sealed (a round open across the upgrade to sealed ballots)."""
    sealed = m.sealed_ballots
    rows = await conn.execute(
        select(sealed.c.sealed).where(
            sealed.c.meeting_id == meeting_id, sealed.c.kind == kind, sealed.c.round_id == round_id
        )
    )
    counts = box.count(meeting_id, kind, round_id, (bytes(r.sealed) for r in rows))
    table, key = (m.rating_tallies, "question_id") if kind == RATING else (m.vote_tallies, "vote_id")
    for choice, n in await conn.execute(
        select(table.c.choice, table.c.n).where(table.c.meeting_id == meeting_id, table.c[key] == round_id)
    ):
        counts[str(choice)] += int(n)
    return counts


async def _close_box(
    conn: AsyncConnection, meeting_id: int, kind: str, round_id: int, totals: dict[str, int]
) -> None:
    """A round closed: its totals are written once and its sealed ballots deleted, in the
    transaction of the close (so no total ever moves with a single receipt)."""
    table, key = (m.rating_tallies, "question_id") if kind == RATING else (m.vote_tallies, "vote_id")
    where = (table.c.meeting_id == meeting_id, table.c[key] == round_id)
    await conn.execute(delete(table).where(*where))
    rows = [
        {"meeting_id": meeting_id, key: round_id, "choice": c, "n": n} for c, n in sorted(totals.items()) if n
    ]
    if rows:
        await conn.execute(insert(table), rows)
    sealed = m.sealed_ballots
    await conn.execute(
        delete(sealed).where(
            sealed.c.meeting_id == meeting_id, sealed.c.kind == kind, sealed.c.round_id == round_id
        )
    )


def carries_secret(event: Event) -> bool:
    """A ballot whose choice is sealed apart from the voter, and travels without it."""
    return isinstance(event, RatingCast) or (isinstance(event, VoteCast) and event.secret)


@dataclass
class LogRows:
    """The rows a batch of events inserts: the log, the receipts and the sealed choices.
    ``plain``: nothing else to write (no close of a round or of the meeting)."""

    events: list[dict[str, Any]]
    receipts: list[dict[str, Any]]
    vote_receipts: list[dict[str, Any]]
    sealed: list[dict[str, Any]]
    plain: bool


# Events whose rows are more than the inserts of :func:`log_rows`: append_events writes the
# rest only for a batch that is not ``plain``, so an event missing here loses its extra
# rows on every path (and the tests of closes fail), not only on the SQLite writer's.
CLOSES: tuple[type[Event], ...] = (RatingClosed, VoteClosed)


def log_rows(
    meeting_id: int,
    first_seq: int,
    batch: Sequence[tuple[Event, str, str]],
    now_ms: int,
    box: BallotBox,
) -> LogRows:
    """The rows of events (each with its actor and device) numbered from ``first_seq``.

    A secret ballot's receipt goes to its receipts table and its choice, sealed, to
    ``sealed_ballots`` (server/base/ballot_box.py).
    """
    rows: list[dict[str, Any]] = []
    receipts: list[dict[str, Any]] = []
    vote_receipts: list[dict[str, Any]] = []
    sealed: list[dict[str, Any]] = []
    plain = True
    for offset, (event, actor, device) in enumerate(batch):
        type_name, data = to_record(event)
        rows.append(
            {
                "meeting_id": meeting_id,
                "seq": first_seq + offset,
                "type": type_name,
                "data": json.dumps(data, ensure_ascii=False),
                "actor": actor,
                "device": device[:200],
                "created_ms": now_ms,
            }
        )
        if isinstance(event, RatingCast):
            assert event.choice is not None, "a new ballot always has its choice"
            receipts.append(
                {
                    "meeting_id": meeting_id,
                    "question_id": event.question_id,
                    "deputy_id": event.deputy_id,
                    "ballot_key": event.ballot_key,
                }
            )
            seal = box.seal(meeting_id, RATING, event.question_id, event.choice)
            sealed.append(
                {"meeting_id": meeting_id, "kind": RATING, "round_id": event.question_id, "sealed": seal}
            )
        elif isinstance(event, VoteCast):
            assert event.choice is not None, "a new vote always has its choice"
            vote_receipts.append(
                {
                    "meeting_id": meeting_id,
                    "vote_id": event.vote_id,
                    "deputy_id": event.deputy_id,
                    "ballot_key": event.ballot_key,
                }
            )
            if event.secret:  # a named vote's choice is in the log, by name
                seal = box.seal(meeting_id, VOTE, event.vote_id, event.choice)
                sealed.append(
                    {"meeting_id": meeting_id, "kind": VOTE, "round_id": event.vote_id, "sealed": seal}
                )
        elif isinstance(event, CLOSES) or type_name == attendance.CLOSED:
            plain = False
    return LogRows(rows, receipts, vote_receipts, sealed, plain)


async def append_events(
    conn: AsyncConnection,
    meeting_id: int,
    first_seq: int,
    batch: Sequence[tuple[Event, str, str]],
    now_ms: int,
    box: BallotBox,
) -> None:
    """Insert events (each with its actor and device) numbered from ``first_seq``: the rows
    of :func:`log_rows`, and the close of a round writes its totals (server/base/ballot_box.py)."""
    written = log_rows(meeting_id, first_seq, batch, now_ms, box)
    await conn.execute(insert(m.events), written.events)
    if written.receipts:
        await conn.execute(insert(m.rating_receipts), written.receipts)
    if written.vote_receipts:
        await conn.execute(insert(m.vote_receipts), written.vote_receipts)
    if written.sealed:
        await conn.execute(insert(m.sealed_ballots), written.sealed)
    if written.plain:  # the one place that says which events need more than inserts
        return
    # by name: the record is frozen with the close
    if any(r["type"] == attendance.CLOSED for r in written.events):
        await attendance.freeze(conn, meeting_id, now_ms)
    for event, _, _ in batch:
        if isinstance(event, RatingClosed):
            totals = {
                Choice.SATISFIED: event.satisfied,
                Choice.BASIC: event.basic,
                Choice.DISSATISFIED: event.dissatisfied,
            }
            await _close_box(
                conn, meeting_id, RATING, event.question_id, {c.value: n for c, n in totals.items()}
            )
        elif isinstance(event, VoteClosed):
            votes = {
                VoteChoice.FOR: event.for_votes,
                VoteChoice.AGAINST: event.against,
                VoteChoice.ABSTAIN: event.abstain,
            }
            await _close_box(conn, meeting_id, VOTE, event.vote_id, {c.value: n for c, n in votes.items()})


def bus_payload(meeting_id: int, first_seq: int, events: Sequence[Event], origin: str) -> str:
    """What other processes receive: the events as stored, without secret choices.

    The bus may be watched by whoever can reach Redis, so a rating travels as a receipt
    only; nobody needs the split of an open round but the writer that closes it, which
    opens the sealed ballots (:func:`open_box`).
    """
    return json.dumps(
        {
            "meeting": meeting_id,
            "first_seq": first_seq,
            "origin": origin,
            "events": [list(to_record(e)) for e in events],
        },
        ensure_ascii=False,
    )


def parse_bus_payload(raw: str | bytes) -> tuple[int, int, str, list[Event]]:
    d = json.loads(raw)
    return (
        int(d["meeting"]),
        int(d["first_seq"]),
        str(d["origin"]),
        [from_record(t, x) for t, x in d["events"]],
    )
