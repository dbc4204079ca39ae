"""The same core scenario against PostgreSQL (ARCHITECTURE.md: "the same tests pass on both").

Each test gets a database of its own (``wz_test_<random>``, created through asyncpg on
the ``postgres`` database and dropped afterwards) by overriding the ``database_url``
fixture; everything else (migrations, the demo, the runtime, the app) is the real path.
"""

from __future__ import annotations

import asyncio

import pytest

from live.commands import (
    AdvancePhase,
    AnnounceAttendance,
    CallQuestion,
    CastRating,
    CheckIn,
    CheckInMethod,
    CloseCheckIn,
    CloseRating,
    OpenCheckIn,
    OpenRating,
)
from live.events import Event
from live.state import Choice, MeetingState, Phase
from server.base.keys import Keys
from server.base.settings import Settings
from server.room.runtime import MeetingRuntime, load_state
from server.storage.db import create_engine
from tests import test_actions
from tests.conftest import (
    CHAIR,
    STAFF,
    Db,
    Hall,
    Rig,
    TestClient,
    ballot_counts,
    deputy,
    meaningful,
    plain_engine,
    table_counts,
    tally_of,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database


# The verify_action tests of test_actions.py, collected here once more: on PostgreSQL.
test_attendance_actions_on_postgres = test_actions.test_attendance_actions
test_question_and_timer_actions_on_postgres = test_actions.test_question_and_timer_actions
test_rating_actions_on_postgres = test_actions.test_rating_actions_idempotent_and_secret
test_group_commit_on_postgres = test_actions.test_group_commit_of_concurrent_ballots


async def test_core_scenario(rig: Rig) -> None:
    assert rig.runtime.engine.dialect.name == "postgresql"
    setup = rig.state.setup
    ids = sorted(setup.deputies)
    question = setup.questions[0].id

    await rig.verify(OpenCheckIn())
    await rig.verify(CheckIn(ids[0], CheckInMethod.HALL_QR), deputy(ids[0]))
    await asyncio.gather(*(rig.runtime.submit(CheckIn(d, CheckInMethod.STAFF), STAFF) for d in ids[1:]))
    assert meaningful(await rig.fresh()) == meaningful(rig.state)
    await rig.verify(CloseCheckIn())
    await rig.verify(AnnounceAttendance())
    assert rig.state.announcement is not None and rig.state.announcement.present == len(ids)

    await rig.verify(CallQuestion(question))
    await rig.verify(AdvancePhase(Phase.ANSWERING))
    await rig.verify(OpenRating())
    choices = list(Choice)
    ballots = [CastRating(d, question, choices[d % 3], f"k{d}") for d in ids]
    await asyncio.gather(*(rig.runtime.submit(b, deputy(b.deputy_id)) for b in ballots + ballots[:7]))
    counts = await rig.counts()
    assert counts["ballots"] == counts["receipts"] == len(ids)
    assert meaningful(await rig.fresh()) == meaningful(rig.state)

    await rig.verify(CloseRating())
    async with rig.check.connect() as conn:
        stored = await ballot_counts(conn, rig.meeting_id, question, rig.runtime.box)
        await conn.rollback()
    result = rig.state.ratings[question].result
    assert result is not None
    assert {c.value: n for c, n in result.counts} == stored
    assert sum(stored.values()) == len(ids)
    assert meaningful(await rig.fresh()) == meaningful(rig.state)


async def test_two_writers_share_one_meeting(settings: Settings, meeting_id: int) -> None:
    """Two runtimes (as two processes would have) write at once; the advisory lock orders them."""
    engines = [create_engine(settings.database_url) for _ in range(2)]
    check = plain_engine(settings.database_url)
    seen: list[list[tuple[int, list[Event]]]] = [[], []]
    runtimes = []
    for i, engine in enumerate(engines):
        async with engine.connect() as conn:
            state = await load_state(conn, meeting_id)
            await conn.rollback()

        async def listener(_: MeetingState, first: int, events: list[Event], local: bool, i: int = i) -> None:
            seen[i].append((first, events))

        runtime = MeetingRuntime(engine, state, listener, Keys(settings.secret_key).box)
        runtime.start()
        runtimes.append(runtime)
    try:
        a, b = runtimes
        ids = sorted(a.state.setup.deputies)
        await a.submit(OpenCheckIn(), CHAIR)
        jobs = [(a if i % 2 else b).submit(CheckIn(d, CheckInMethod.STAFF), STAFF) for i, d in enumerate(ids)]
        results = await asyncio.gather(*jobs)
        assert sum(len(r) for r in results) == len(ids)
        await a.refresh()
        await b.refresh()
        async with check.connect() as conn:
            counts = await table_counts(conn, meeting_id)
            fresh = await load_state(conn, meeting_id)
            await conn.rollback()
        assert counts["events"] == fresh.seq == 2 + len(ids)
        assert meaningful(a.state) == meaningful(b.state) == meaningful(fresh)
        assert fresh.present_count == len(ids)
    finally:
        for runtime in runtimes:
            await runtime.stop()
        for engine in engines:
            await engine.dispose()
        await check.dispose()


def test_http_scenario(client: TestClient, hall: Hall, db: Db) -> None:
    health = client.get("/healthz").json()
    assert health["database"] == {"ok": True, "dialect": "postgresql"}
    deputies = [d for d, _, _ in db.deputies()][:12]
    hall.act_ok("open_checkin")
    for d in deputies:
        hall.act_ok("check_in", deputy_id=d)
    hall.act_ok("call_question", question_id=1)
    hall.act_ok("to_answering")
    hall.act_ok("open_rating", without_quorum="1")  # 12 of 48: past the quorum warning
    choices = ("satisfied", "basic", "dissatisfied")
    for d in deputies:
        key = f"key-{d}"
        assert hall.rate(d, 1, choices[d % 3], key).status_code == 200
        assert hall.rate(d, 1, choices[d % 3], key).status_code == 200  # the retry
    expected = {c: sum(1 for d in deputies if choices[d % 3] == c) for c in choices}
    assert db.ballots(1) == expected
    assert tally_of(hall.console()) == {"cast": len(deputies)}  # how many, never how, while open
    hall.act_ok("close_rating")
    assert tally_of(hall.console()) == {**expected, "cast": len(deputies)}
    runtime = client.app.state.services.meetings.rooms[1].runtime  # type: ignore[attr-defined]
    assert meaningful(runtime.state) == meaningful(db.state())
    counts = db.counts()
    assert counts["ballots"] == counts["receipts"] == len(deputies)


def test_an_out_of_range_meeting_id_is_a_404(client: TestClient) -> None:
    response = client.get("/d/3000000000")
    assert response.status_code == 404
