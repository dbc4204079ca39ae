"""Every action through the real runtime, checked against the database (verify_action).

Each chair, staff or deputy command goes through :meth:`MeetingRuntime.submit`, the one
path of change. After it returns (the commit is done), a fresh fold of the event log
(``load_state``) must equal the runtime's state in every field that matters, and the
rows it wrote must be exactly the events it returned. A refusal must leave both the
database and the state untouched. Ratings are checked for idempotence and secrecy.
"""

from __future__ import annotations

import asyncio
import secrets

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from live.commands import (
    AdjustTimer,
    AdvancePhase,
    AnnounceAttendance,
    CallQuestion,
    CastRating,
    CheckIn,
    CheckInMethod,
    ClearAttendance,
    CloseCheckIn,
    CloseRating,
    MarkLeave,
    OpenCheckIn,
    OpenRating,
    PauseTimer,
    ResetTimer,
    ShowOnProjector,
    StartAgendaItem,
    StartTimer,
)
from live.events import DeputyCheckedIn, from_record
from live.refusals import Refused
from live.state import Choice, Focus, Phase, Presence
from server.storage import models as m
from tests.conftest import CHAIR, STAFF, Rig, deputy, meaningful, receipt_deputies


async def check_in_all(rig: Rig, deputies: list[int]) -> None:
    for d in deputies:
        await rig.verify(CheckIn(d, CheckInMethod.STAFF), STAFF)


async def to_rating(rig: Rig, question_id: int) -> None:
    await rig.verify(CallQuestion(question_id))
    await rig.verify(AdvancePhase(Phase.ANSWERING))
    # Few present: the rating opens past the console's quorum warning (issue 16).
    await rig.verify(OpenRating(without_quorum=True))


# -- attendance --------------------------------------------------------------------------


async def test_attendance_actions(rig: Rig) -> None:
    ids = sorted(rig.state.setup.deputies)
    a, b, c, d = ids[:4]
    unknown = max(ids) + 1000

    await rig.refuse(CheckIn(a, CheckInMethod.HALL_QR), deputy(a), "checkin_not_open")
    await rig.refuse(CloseCheckIn(), CHAIR, "checkin_not_open")
    await rig.refuse(OpenCheckIn(), deputy(a), "not_allowed")

    events = await rig.verify(OpenCheckIn(), STAFF)
    assert rig.state.checkin_open and rig.state.focus is Focus.CHECKIN and len(events) == 2
    await rig.refuse(OpenCheckIn(), CHAIR, "checkin_already_open")

    # A deputy checks in by the hall code, only for itself, only by the hall code.
    await rig.verify(CheckIn(a, CheckInMethod.HALL_QR), deputy(a))
    await rig.unchanged(CheckIn(a, CheckInMethod.HALL_QR), deputy(a))  # a retry: the same receipt
    await rig.refuse(CheckIn(b, CheckInMethod.HALL_QR), deputy(a), "not_allowed")
    await rig.refuse(CheckIn(a, CheckInMethod.STAFF), deputy(a), "not_allowed")
    await rig.refuse(CheckIn(b, CheckInMethod.HALL_QR), STAFF, "not_allowed")
    await rig.refuse(CheckIn(unknown, CheckInMethod.STAFF), STAFF, "unknown_deputy")

    # Staff check in by hand; the log says so.
    await rig.verify(CheckIn(b, CheckInMethod.STAFF), STAFF)
    stored = await rig.stored_since(rig.state.seq - 1)
    assert stored[-1][1] == from_record("DeputyCheckedIn", {"deputy_id": b, "method": "staff"})

    await rig.verify(MarkLeave(c), STAFF)
    await rig.unchanged(MarkLeave(c), STAFF)
    await rig.refuse(MarkLeave(a), STAFF, "already_present")
    await rig.refuse(MarkLeave(d), deputy(d), "not_allowed")
    await rig.verify(ClearAttendance(b), STAFF)
    await rig.unchanged(ClearAttendance(d), CHAIR)
    assert rig.state.attendance == {a: Presence.PRESENT, c: Presence.LEAVE}
    assert (rig.state.present_count, rig.state.leave_count) == (1, 1)

    await rig.refuse(AnnounceAttendance(), STAFF, "not_allowed")  # the chair announces
    await rig.verify(AnnounceAttendance())
    assert rig.state.announcement is not None and rig.state.announcement.present == 1
    assert rig.state.focus is Focus.ATTENDANCE

    await rig.verify(CloseCheckIn(), CHAIR)
    await rig.refuse(CheckIn(d, CheckInMethod.HALL_QR), deputy(d), "checkin_not_open")
    await rig.verify(CheckIn(d, CheckInMethod.STAFF), STAFF)  # staff may after closing
    await rig.unchanged(CheckIn(a, CheckInMethod.HALL_QR), deputy(a))  # a late retry is still fine

    events = await rig.counts()
    assert events["events"] == rig.state.seq


# -- the agenda, a question, the timer ---------------------------------------------------


async def test_question_and_timer_actions(rig: Rig) -> None:
    setup = rig.state.setup
    q1, q2 = setup.questions[0], setup.questions[1]
    item = setup.agenda[-1]
    asker = q1.asker_id
    assert asker is not None
    other = next(d for d in sorted(setup.deputies) if d != asker)

    await rig.refuse(AdvancePhase(Phase.ANSWERING), CHAIR, "no_question")
    await rig.refuse(StartTimer(), CHAIR, "no_timer")
    await rig.refuse(ShowOnProjector(Focus.QUESTION), CHAIR, "no_question")
    await rig.refuse(ShowOnProjector(Focus.ATTENDANCE), CHAIR, "no_announcement")
    await rig.refuse(StartAgendaItem(10**6), CHAIR, "unknown_agenda_item")
    await rig.refuse(StartAgendaItem(item.id), STAFF, "not_allowed")

    await rig.verify(StartAgendaItem(item.id))
    await rig.unchanged(StartAgendaItem(item.id))
    assert rig.state.agenda_item_id == item.id

    await rig.refuse(CallQuestion(10**6), CHAIR, "unknown_question")
    await rig.verify(CallQuestion(q1.id))
    assert (rig.state.question_id, rig.state.phase, rig.state.speaker_id) == (q1.id, Phase.ASKING, asker)
    assert rig.state.timer.running and rig.state.timer.deadline_ms > 0

    # The timer: every change is a stored fact, reloaded identically.
    await rig.refuse(StartTimer(), CHAIR, "timer_running")
    await rig.verify(PauseTimer())
    assert not rig.state.timer.running
    await rig.refuse(PauseTimer(), CHAIR, "timer_not_running")
    paused = rig.state.timer.remaining_ms
    await rig.verify(AdjustTimer(30))
    assert rig.state.timer.remaining_ms == paused + 30_000
    await rig.refuse(AdjustTimer(0), CHAIR, "bad_adjustment")
    await rig.refuse(AdjustTimer(3601), CHAIR, "bad_adjustment")
    await rig.refuse(AdjustTimer(10), STAFF, "not_allowed")
    await rig.verify(StartTimer())
    deadline = rig.state.timer.deadline_ms
    await rig.verify(AdjustTimer(-60))
    assert rig.state.timer.deadline_ms == deadline - 60_000
    await rig.verify(ResetTimer())
    assert not rig.state.timer.running and rig.state.timer.remaining_ms == rig.state.timer.duration_ms

    await rig.refuse(AdvancePhase(Phase.FOLLOWUP_REPLY), CHAIR, "bad_phase_move")
    await rig.refuse(AdvancePhase(Phase.ANSWERING, speaker_id=asker), CHAIR, "speaker_only_for_followup")
    await rig.refuse(OpenRating(), CHAIR, "rating_not_yet")
    await rig.verify(AdvancePhase(Phase.ANSWERING))
    await rig.refuse(AdvancePhase(Phase.FOLLOWUP_ASK, speaker_id=other), CHAIR, "speaker_not_present")
    await rig.refuse(AdvancePhase(Phase.FOLLOWUP_ASK, speaker_id=10**6), CHAIR, "unknown_deputy")
    await rig.verify(CheckIn(other, CheckInMethod.STAFF), STAFF)
    await rig.verify(AdvancePhase(Phase.FOLLOWUP_ASK, speaker_id=other))
    assert rig.state.speaker_id == other
    await rig.verify(AdvancePhase(Phase.FOLLOWUP_REPLY))
    await rig.verify(AdvancePhase(Phase.FOLLOWUP_ASK))  # defaults to the asker
    assert rig.state.speaker_id == asker
    await rig.verify(AdvancePhase(Phase.FOLLOWUP_REPLY))

    await rig.verify(ShowOnProjector(Focus.WELCOME))
    await rig.unchanged(ShowOnProjector(Focus.WELCOME))
    await rig.refuse(ShowOnProjector(Focus.RESULT), CHAIR, "no_result_yet")
    await rig.verify(ShowOnProjector(Focus.QUESTION))

    await rig.refuse(OpenRating(), CHAIR, "rating_no_quorum")  # nobody is present
    await rig.verify(OpenRating(without_quorum=True))
    assert rig.state.phase is Phase.RATING and rig.state.rating_open()
    await rig.refuse(OpenRating(), CHAIR, "rating_in_progress")
    await rig.refuse(CallQuestion(q2.id), CHAIR, "rating_in_progress")
    await rig.refuse(StartAgendaItem(setup.agenda[0].id), CHAIR, "rating_in_progress")
    await rig.verify(CloseRating())
    await rig.refuse(CloseRating(), CHAIR, "rating_not_open")
    await rig.refuse(CallQuestion(q1.id), CHAIR, "question_already_rated")
    await rig.verify(ShowOnProjector(Focus.RESULT))
    await rig.verify(CallQuestion(q2.id))


# -- ratings -----------------------------------------------------------------------------


async def test_rating_actions_idempotent_and_secret(rig: Rig) -> None:
    setup = rig.state.setup
    q1, q2 = setup.questions[0].id, setup.questions[1].id
    ids = sorted(setup.deputies)
    present, absent = ids[:10], ids[10]
    await check_in_all(rig, present)
    await rig.refuse(
        CastRating(present[0], q1, Choice.SATISFIED, "k0"), deputy(present[0]), "rating_not_open"
    )
    await to_rating(rig, q1)

    keys: dict[int, str] = {}
    for i, d in enumerate(present[:8]):
        keys[d] = f"key-{d}-{secrets.token_hex(4)}"
        choice = (Choice.SATISFIED, Choice.BASIC, Choice.DISSATISFIED)[i % 3]
        await rig.verify(CastRating(d, q1, choice, keys[d]), deputy(d))
    assert rig.state.current_rating() is not None
    assert rig.state.current_rating().counts == {  # type: ignore[union-attr]
        Choice.SATISFIED: 3,
        Choice.BASIC: 3,
        Choice.DISSATISFIED: 2,
    }

    d0 = present[0]
    # A retry after a lost reply (same key) adds nothing; a second, different ballot is refused.
    await rig.unchanged(CastRating(d0, q1, Choice.SATISFIED, keys[d0]), deputy(d0))
    await rig.unchanged(CastRating(d0, q1, Choice.DISSATISFIED, keys[d0]), deputy(d0))
    await rig.refuse(CastRating(d0, q1, Choice.DISSATISFIED, "another-key"), deputy(d0), "already_rated")
    await rig.refuse(CastRating(absent, q1, Choice.SATISFIED, "k-absent"), deputy(absent), "not_checked_in")
    await rig.refuse(CastRating(present[8], q1, Choice.SATISFIED, "k"), deputy(present[9]), "not_allowed")
    await rig.refuse(CastRating(present[8], q1, Choice.SATISFIED, "k"), CHAIR, "not_allowed")
    await rig.refuse(CastRating(present[8], q2, Choice.SATISFIED, "k"), deputy(present[8]), "rating_not_open")
    await rig.refuse(
        CastRating(present[8], q1, Choice.SATISFIED, "x" * 65), deputy(present[8]), "bad_ballot_key"
    )

    async with rig.check.connect() as conn:
        receipts = await receipt_deputies(conn, rig.meeting_id, q1)
        columns = {
            t: {c["name"] for c in await conn.run_sync(lambda s, t=t: sa_inspect(s).get_columns(t))}
            for t in ("rating_tallies", "rating_receipts")
        }
        event_data = (
            (await conn.execute(select(m.events.c.data).where(m.events.c.type == "RatingCast")))
            .scalars()
            .all()
        )
        await conn.rollback()
    assert receipts == keys
    # The ballot table cannot say who; the receipt table and the log cannot say what.
    # No row per ballot: totals per choice, which name nobody and have no order to betray.
    assert columns["rating_tallies"] == {"meeting_id", "question_id", "choice", "n"}
    assert "choice" not in columns["rating_receipts"] and "deputy_id" in columns["rating_receipts"]
    assert event_data and all('"choice": null' in d for d in event_data)
    counts = await rig.counts()
    assert counts["ballots"] == counts["receipts"] == 8

    await rig.verify(CloseRating())
    result = rig.state.ratings[q1].result
    assert result is not None and result.cast == 8 and result.base == len(setup.deputies)
    await rig.unchanged(CastRating(d0, q1, Choice.SATISFIED, keys[d0]), deputy(d0))  # retry after close
    await rig.refuse(
        CastRating(present[8], q1, Choice.SATISFIED, "late"), deputy(present[8]), "rating_not_open"
    )

    # The next question: a form still showing the previous one never counts here.
    await to_rating(rig, q2)
    await rig.refuse(
        CastRating(present[8], q1, Choice.SATISFIED, "late2"), deputy(present[8]), "rating_not_open"
    )
    await rig.verify(CastRating(present[8], q2, Choice.BASIC, "q2-key"), deputy(present[8]))
    await rig.verify(CloseRating())
    counts = await rig.counts()
    assert counts["ballots"] == counts["receipts"] == 9


async def test_a_quiet_writer_commits_each_command_at_once(rig: Rig) -> None:
    """One command at a time, as a quiet hall sends them: none waits for company."""
    rig.runtime.gather_s = 60.0  # were a lone command held to gather others, this would time out
    ids = sorted(rig.state.setup.deputies)[:5]
    batches = rig.runtime.batches
    for d in ids:
        await asyncio.wait_for(rig.verify(CheckIn(d, CheckInMethod.STAFF), STAFF), 20)
    assert rig.runtime.batches == batches + len(ids)


async def test_a_busy_writer_gathers_what_arrives_while_it_commits(rig: Rig) -> None:
    """Commands that queue while a batch commits wait for the next one to fill: under load
    one commit serves many (batching.GATHER_S), and each is still committed exactly once."""
    rig.runtime.gather_s = 1.0
    a, b, c, d = sorted(rig.state.setup.deputies)[:4]
    batches, commits = rig.runtime.batches, len(rig.published)
    first = asyncio.create_task(rig.runtime.submit(CheckIn(a, CheckInMethod.STAFF), STAFF))
    while not rig.runtime.lock.locked():  # the first batch is being decided and committed
        await asyncio.sleep(0)
    second = asyncio.create_task(rig.runtime.submit(CheckIn(b, CheckInMethod.STAFF), STAFF))
    await first
    await asyncio.sleep(0.1)  # within the gathering time: these join the second's batch
    rest = [rig.runtime.submit(CheckIn(x, CheckInMethod.STAFF), STAFF) for x in (c, d)]
    await asyncio.gather(second, *rest)
    assert rig.runtime.batches == batches + 2
    assert len(rig.published) == commits + 2
    assert {e.deputy_id for e in rig.published[-1][1] if isinstance(e, DeputyCheckedIn)} == {b, c, d}
    assert meaningful(await rig.fresh()) == meaningful(rig.state)


async def test_group_commit_of_concurrent_ballots(rig: Rig) -> None:
    """Many submits at once: batched commits, contiguous seqs, every ballot once."""
    setup = rig.state.setup
    q1 = setup.questions[0].id
    ids = sorted(setup.deputies)
    await asyncio.gather(*(rig.runtime.submit(CheckIn(d, CheckInMethod.STAFF), STAFF) for d in ids))
    assert meaningful(await rig.fresh()) == meaningful(rig.state)
    await to_rating(rig, q1)
    first = rig.state.seq
    commits_before = len(rig.published)

    choices = list(Choice)
    keys = {d: f"k{d}" for d in ids}
    ballots = [CastRating(d, q1, choices[d % 3], keys[d]) for d in ids]
    retries = [CastRating(d, q1, choices[d % 3], keys[d]) for d in ids[:10]]
    results = await asyncio.gather(
        *(rig.runtime.submit(c, deputy(c.deputy_id)) for c in ballots + retries), return_exceptions=True
    )
    assert not [r for r in results if isinstance(r, BaseException)]
    assert sum(len(r) for r in results if isinstance(r, list)) == len(ids)
    assert rig.state.seq == first + len(ids)
    commits = len(rig.published) - commits_before
    assert 1 <= commits < len(ids), f"{commits} commits for {len(ids)} ballots: no group commit"

    stored = await rig.stored_since(first)
    assert [s for s, _ in stored] == list(range(first + 1, first + 1 + len(ids)))
    counts = await rig.counts()
    assert counts["ballots"] == counts["receipts"] == len(ids)
    assert meaningful(await rig.fresh()) == meaningful(rig.state)
    expected = {c: sum(1 for d in ids if choices[d % 3] is c) for c in Choice}
    assert rig.state.ratings[q1].counts == expected
    await rig.verify(CloseRating())
    result = rig.state.ratings[q1].result
    assert result is not None and dict(result.counts) == expected


async def test_a_refusal_in_a_batch_spoils_nothing(rig: Rig) -> None:
    """Refused and accepted commands in one batch: only the accepted ones are written."""
    ids = sorted(rig.state.setup.deputies)
    good = [rig.runtime.submit(CheckIn(d, CheckInMethod.STAFF), STAFF) for d in ids[:5]]
    bad = [rig.runtime.submit(CheckIn(d, CheckInMethod.HALL_QR), deputy(d)) for d in ids[5:8]]
    results = await asyncio.gather(*good, *bad, return_exceptions=True)
    assert all(isinstance(r, list) and len(r) == 1 for r in results[:5])
    assert all(isinstance(r, Refused) and r.code == "checkin_not_open" for r in results[5:])
    assert rig.state.present_count == 5
    assert (await rig.counts())["events"] == rig.state.seq == 5
    assert meaningful(await rig.fresh()) == meaningful(rig.state)
