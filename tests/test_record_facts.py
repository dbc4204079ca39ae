"""The record of a held meeting (server/record/facts.py, load.py, hold.py, sitting.py).

The demo meeting is held through the real action path (MeetingRuntime, at chosen moments)
by the sitting the demo itself holds; the record folded from the stored log is then checked
against the log read raw, event by event, not against figures written here.
tests/test_record_facts_postgres.py runs these again on PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from live.setup import TimerRole
from live.state import Choice, Phase, VoteChoice
from server.base.keys import Keys
from server.base.settings import Settings
from server.record import sitting as script
from server.record.facts import MeetingRecord
from server.record.load import held_meeting, meeting_record
from server.storage import models as m
from server.storage.db import create_engine, snapshot_read

START_MS = 1_750_000_000_000  # 2025-06-15 23:06 China time: a sitting long before the tests run


async def held(settings: Settings, meeting_id: int) -> tuple[MeetingRecord, list[Any]]:
    """Hold the sitting on the demo meeting; the record and the raw log (type, data, ms)."""
    engine = create_engine(settings.database_url)
    try:
        await script.hold_sitting(engine, Keys(settings.secret_key).box, meeting_id, START_MS)
        async with snapshot_read(engine) as conn:
            record = await meeting_record(conn, meeting_id)
            ev = m.events
            rows = await conn.execute(
                select(ev.c.type, ev.c.data, ev.c.created_ms)
                .where(ev.c.meeting_id == meeting_id)
                .order_by(ev.c.seq)
            )
            log = [(str(t), json.loads(d), int(ms)) for t, d, ms in rows]
    finally:
        await engine.dispose()
    return record, log


def of(log: list[Any], name: str) -> list[tuple[dict[str, Any], int]]:
    return [(data, ms) for t, data, ms in log if t == name]


async def test_attendance_matches_the_log_and_the_frozen_records(settings: Settings, meeting_id: int) -> None:
    record, log = await held(settings, meeting_id)
    checked_in = {d["deputy_id"]: ms for d, ms in of(log, "DeputyCheckedIn")}
    on_leave = {d["deputy_id"] for d, _ in of(log, "DeputyOnLeave")}
    ((announced, announced_ms),) = of(log, "AttendanceAnnounced")
    assert record.expected == announced["expected"] == len(record.setup.deputies)
    present = record.with_status("present")
    assert {a.deputy_id for a in present} == set(checked_in)
    assert {a.deputy_id: a.checked_in_ms for a in present} == checked_in
    assert {a.deputy_id for a in record.with_status("leave")} == on_leave and len(on_leave) == 1
    assert len(record.with_status("absent")) == record.expected - len(checked_in) - len(on_leave) == 2
    assert [a.deputy_id for a in record.late] == [d for d, ms in checked_in.items() if ms > announced_ms]
    left = {d["deputy_id"] for d, _ in of(log, "DeputyLeftHall")}
    returned = {d["deputy_id"] for d, _ in of(log, "DeputyReturned")}
    assert {a.deputy_id for a in record.left} == left and len(left) == 2
    assert {a.deputy_id for a in record.attendance if a.out_at_end} == left - returned
    assert record.closed and record.closed_ms == of(log, "MeetingClosed")[0][1]
    # The frozen records the close wrote say the same (server/storage/attendance.py).
    engine = create_engine(settings.database_url)
    try:
        async with snapshot_read(engine) as conn:
            ar = m.attendance_records
            frozen = dict(
                (int(d), str(s))
                for d, s in await conn.execute(
                    select(ar.c.deputy_id, ar.c.status).where(ar.c.meeting_id == meeting_id)
                )
            )
    finally:
        await engine.dispose()
    assert frozen == {a.deputy_id: a.status for a in record.attendance}


async def test_questions_have_their_times_followups_and_ratings(settings: Settings, meeting_id: int) -> None:
    record, log = await held(settings, meeting_id)
    called = [d["question_id"] for d, _ in of(log, "QuestionCalled")]
    assert [q.question.id for q in record.questions if q.reached] == called
    assert len(called) == len(record.questions) - 1  # the last is never reached
    last = record.questions[-1]
    assert not last.reached and last.stretches == () and last.rating is None
    closes = {d["question_id"]: d for d, _ in of(log, "RatingClosed")}
    changes = [(d["phase"], d["speaker_id"], ms) for d, ms in of(log, "PhaseChanged")]
    seconds = dict(record.setup.settings.timer_seconds)
    for q in record.questions[:-1]:
        close = closes[q.question.id]
        assert q.rating is not None
        assert (
            q.rating.count(Choice.SATISFIED),
            q.rating.count(Choice.BASIC),
            q.rating.count(Choice.DISSATISFIED),
        ) == (
            close["satisfied"],
            close["basic"],
            close["dissatisfied"],
        )
        assert q.rating.base == close["base"] and (q.rating.grade or None) == close["grade"]
        assert [s.phase for s in q.stretches] == [
            Phase.ASKING,
            Phase.ANSWERING,
            Phase.FOLLOWUP_ASK,
            Phase.FOLLOWUP_REPLY,
        ]
        asking = q.stretches[0]
        assert asking.speaker_id == q.question.asker_id
        assert asking.allowance_ms == seconds[TimerRole.ASKING] * 1000
        # Each stretch runs from its PhaseChanged to the next one (the rating's opening).
        starts = [ms for _, _, ms in changes]
        for s in q.stretches:
            i = starts.index(s.start_ms)
            assert s.end_ms == starts[i + 1] and s.duration_ms == starts[i + 1] - starts[i]
        assert q.followup_speakers == (q.stretches[2].speaker_id,)
        assert q.followup_speakers[0] != q.question.asker_id
        assert q.spoken_ms == sum(s.duration_ms for s in q.stretches)
    grades = {q.rating.grade for q in record.questions if q.rating}
    assert grades == {Choice.SATISFIED, Choice.BASIC, Choice.DISSATISFIED}
    (item_rating,) = record.item_ratings
    assert (
        item_rating.item.kind == "report" and closes[-item_rating.item.id]["base"] == item_rating.result.base
    )


async def test_votes_keep_rounds_counts_and_only_named_choices(settings: Settings, meeting_id: int) -> None:
    record, log = await held(settings, meeting_id)
    closed = {d["vote_id"]: d for d, _ in of(log, "VoteClosed")}
    first, revote, named = record.votes
    assert (first.round_no, revote.round_no, revote.first_id) == (1, 2, first.vote_id)
    assert first.title == revote.title == script.SECRET_TITLE and first.secret and revote.secret
    assert record.rounds_of(first.vote_id) == (first, revote)
    for v in record.votes:
        assert v.result is not None and v.announced
        c = closed[v.vote_id]
        assert (v.result.for_votes, v.result.against, v.result.abstain, v.result.not_voted) == (
            c["for_votes"],
            c["against"],
            c["abstain"],
            c["not_voted"],
        )
        assert v.result.passed is c["passed"]
    assert not first.result.passed and revote.result.passed  # type: ignore[union-attr]
    # The named vote's choices are on the record, as the log keeps them; a secret one's never.
    casts = {d["deputy_id"]: d["choice"] for d, _ in of(log, "VoteCast") if d["vote_id"] == named.vote_id}
    assert dict((d, c.value) for d, c in named.named) == casts and named.result is not None
    assert Counter(c for _, c in named.named)[VoteChoice.FOR] == named.result.for_votes
    assert first.named == () and revote.named == ()
    secret_casts = [d for d, _ in of(log, "VoteCast") if d["vote_id"] != named.vote_id]
    assert secret_casts and all(d.get("choice") is None for d in secret_casts)


async def test_nothing_in_the_record_ties_a_deputy_to_a_secret_poll(
    settings: Settings, meeting_id: int
) -> None:
    """The deputy who left before the votes did not vote in the secret rounds, the others
    did: nothing the record holds about any deputy may tell them apart on that."""
    record, _ = await held(settings, meeting_id)
    setup = record.setup
    members = script.roster(setup)
    punctual = [d for d in members[:-4] if d not in setup.on_leave]
    leaves, voter = punctual[9], punctual[8]
    text = repr(record)
    for v in record.votes:
        if v.secret:
            assert f"deputy_id={leaves}" not in repr(v) and f"deputy_id={voter}" not in repr(v)
            assert v.named == ()
    for q in record.questions:
        assert q.rating is None or "voters" not in repr(q.rating)
    assert "ballot_key" not in text and "RatingCast" not in text


async def test_a_meeting_that_never_ran_has_an_empty_record(settings: Settings, meeting_id: int) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with snapshot_read(engine) as conn:
            info = await held_meeting(conn, meeting_id)
    finally:
        await engine.dispose()
    r = info.record
    assert r.opened_ms is None and not r.closed and r.votes == () and r.speeches == ()
    assert all(not q.reached for q in r.questions)
    assert {a.status for a in r.attendance} == {"absent"} and not info.rehearsal


async def test_the_speech_and_the_banner(settings: Settings, meeting_id: int) -> None:
    record, log = await held(settings, meeting_id)
    (speech,) = record.speeches
    ((ended, _),) = of(log, "SpeechEnded")
    ((started, started_ms),) = of(log, "SpeechStarted")
    assert (speech.deputy_id, speech.spoken_ms, speech.start_ms) == (
        started["deputy_id"],
        ended["spoken_ms"],
        started_ms,
    )
    assert speech.allowance_ms == record.setup.settings.timer_seconds[TimerRole.SPEECH_FIRST] * 1000
    assert [b.text for b in record.banners] == [script.BANNER]


def test_a_sitting_needs_a_roster() -> None:
    from live.setup import Setup

    with pytest.raises(ValueError):
        script.sitting(Setup(1, "t", "b", {}, (), ()))
