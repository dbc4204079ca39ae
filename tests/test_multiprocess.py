"""Several server processes serve one meeting over one database and one Redis bus.

Two real `wenzheng serve` processes on two ports share the database (SQLite file or
PostgreSQL) and a Redis channel prefix of the test's own: a chair action posted to one
reaches a projector connected to the other, ratings posted to both are each counted
once, and both show the tally the database holds.

The last tests drive two :class:`server.room.meetings.Meetings` in process, with a bus the
test delivers by hand, to pin down what happens when a process commits before the bus
has brought it another process's events.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from live.commands import CheckIn, CheckInMethod, OpenCheckIn
from server.base.keys import Keys
from server.base.settings import Settings
from server.room.bus import Handler
from server.room.connection import Connection
from server.room.meetings import Meetings
from server.storage.db import create_engine
from tests.conftest import (
    CHAIR,
    REDIS_URL,
    STAFF,
    Db,
    Hall,
    Server,
    element_attrs,
    fragments,
    page_seq,
    pre_form,
    tally_of,
    until,
    ws_collect,
    ws_connect,
    ws_hello,
)

CHOICES = ("satisfied", "basic", "dissatisfied")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    """SQLite by default; ``parametrize("database_url", ["postgres"], indirect=True)`` for PG."""
    if getattr(request, "param", "sqlite") == "postgres":
        return str(request.getfixturevalue("pg_database"))
    return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"


@pytest.fixture
def pair(
    spawn: Any, redis_prefix: str, keys: Keys, meeting_id: int
) -> Iterator[tuple[Hall, Hall, Server, Server]]:
    env = {"WENZHENG_REDIS_URL": REDIS_URL, "WENZHENG_REDIS_PREFIX": redis_prefix}
    a, b = spawn(**env), spawn(**env)
    with a.client() as http_a, b.client() as http_b:
        yield Hall(http_a, keys, meeting_id), Hall(http_b, keys, meeting_id), a, b


def wait_for(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_two_processes_one_meeting(pair: tuple[Hall, Hall, Server, Server], db: Db) -> None:
    ha, hb, _, b = pair
    for hall in (ha, hb):
        health = hall.http.get("/healthz").json()
        assert health["bus"] == {"ok": True, "kind": "redis"} and health["status"] == "ok"

    # A chair action on A reaches a projector on B.
    with ws_connect(f"{b.ws_url}/ws/1/projector", hb.cookie_for("projector")) as projector:
        assert ws_hello(projector, page_seq(hb.projector()))[0] == []
        window = int(time.time() // 30)  # the hall QR on the stage changes with it
        ha.act_ok("open_checkin")
        posted = time.monotonic()
        got = ws_collect(projector, lambda ms: any('id="stage"' in m for m in ms), timeout=2)
        assert got and time.monotonic() - posted < 2, "the projector on B never heard of A's action"
        stage = fragments(got[-1])["stage"]
        assert element_attrs(got[-1], "stage")["class"] == "stage focus-checkin"
        page_stage = fragments(hb.projector())["stage"]
        if int(time.time() // 30) == window:
            assert stage == page_stage

        # Check-ins and ratings sent to A and B in turn, at once.
        deputies = [d for d, _, _ in db.deputies()][:30]
        halls = (ha, hb)
        with ThreadPoolExecutor(6) as pool:
            replies = list(pool.map(lambda i: halls[i % 2].act("check_in", deputy_id=deputies[i]), range(30)))
        assert [r.status_code for r in replies] == [200] * 30
        hb.act_ok("call_question", question_id=1)
        ha.act_ok("to_answering")
        hb.act_ok("open_rating", without_quorum="1")  # 30 of 48: past the quorum warning
        keys = {d: f"mp-{d}" for d in deputies}

        def rate(i: int, flip: int = 0) -> int:
            d = deputies[i]
            return halls[(i + flip) % 2].rate(d, 1, CHOICES[d % 3], keys[d]).status_code

        with ThreadPoolExecutor(6) as pool:
            assert list(pool.map(rate, range(30))) == [200] * 30
            # Retries of the same ballots, each to the other process: no new rows.
            assert list(pool.map(lambda i: rate(i, 1), range(0, 30, 3))) == [200] * 10

    expected = {c: sum(1 for d in deputies if CHOICES[d % 3] == c) for c in CHOICES}
    assert db.ballots(1) == expected
    counts = db.counts()
    assert counts["ballots"] == counts["receipts"] == 30
    assert db.receipts(1) == keys
    # Both consoles know how many rated, on either process, and neither knows how.
    shown = wait_for(lambda: [tally_of(h.console()) for h in halls] == [{"cast": 30}] * 2, 3)
    assert shown, [tally_of(h.console()) for h in halls]

    # A closes: its totals come from every sealed ballot, B's included.
    want = {**expected, "cast": 30}
    ha.act_ok("close_rating")
    state = db.state()
    assert state.ratings[1].result is not None
    assert {c.value: n for c, n in state.ratings[1].result.counts} == expected
    assert wait_for(lambda: all("已公布" in h.console() for h in halls), 3)
    assert [tally_of(h.console()) for h in halls] == [want, want]
    assert page_seq(ha.console()) == page_seq(hb.console()) == state.seq


# -- in process: commits racing the bus ----------------------------------------------------


class HandBus:
    """A bus the test delivers by hand: publish keeps the payloads."""

    name = "hand"
    carries = True

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def start(self, handler: Handler) -> None:
        return None

    async def publish(self, payload: str) -> None:
        self.sent.append(payload)

    async def stop(self) -> None:
        return None

    async def healthy(self) -> bool:
        return True


class FakeSocket:
    """What a projector's websocket receives."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def send_text(self, text: str) -> None:
        self.received.append(text)

    async def close(self, code: int = 1000) -> None:
        return None


async def _two_processes(settings: Settings, meeting_id: int) -> tuple[list[Meetings], FakeSocket, list[Any]]:
    keys = Keys(settings.secret_key)
    engines = [create_engine(settings.database_url) for _ in range(2)]
    processes = [Meetings(e, HandBus(), keys, "http://hall", 30) for e in engines]
    for p in processes:
        await p.room(meeting_id)
    projector = FakeSocket()
    conn = Connection(projector, "projector")  # type: ignore[arg-type]
    conn.ready = True
    processes[1].rooms[meeting_id].add(conn)
    return processes, projector, engines


async def _close(processes: list[Meetings], engines: list[Any]) -> None:
    for p in processes:
        await p.close()
    for e in engines:
        await e.dispose()


def _shows_checkin(projector: FakeSocket) -> bool:
    return any('class="stage focus-checkin"' in m for m in projector.received)


async def test_events_from_the_bus_reach_the_projector(settings: Settings, meeting_id: int) -> None:
    """The plain case: A commits, the bus delivers to B at once, B's projector updates."""
    (a, b), projector, engines = await _two_processes(settings, meeting_id)
    try:
        await a.rooms[meeting_id].runtime.submit(OpenCheckIn(), CHAIR)
        for payload in a.bus.sent:  # type: ignore[attr-defined]
            await b.on_bus(payload)
        assert await until(lambda: _shows_checkin(projector))
    finally:
        await _close([a, b], engines)


async def test_events_caught_up_in_a_commit_reach_the_projector(settings: Settings, meeting_id: int) -> None:
    """B commits before the bus brings A's events: B's projector must still show them.

    B's commit first catches up A's events from the log; the bus message that brings them
    later is then dropped as already applied, so the catch-up itself must reach the screens
    (a regression test: until commit 9af9a82 it did not).
    """
    (a, b), projector, engines = await _two_processes(settings, meeting_id)
    try:
        await a.rooms[meeting_id].runtime.submit(OpenCheckIn(), CHAIR)
        deputy_id = min(b.rooms[meeting_id].runtime.state.setup.deputies)
        await b.rooms[meeting_id].runtime.submit(CheckIn(deputy_id, CheckInMethod.STAFF), STAFF)
        assert b.rooms[meeting_id].runtime.state.checkin_open  # B's state did catch up
        for payload in a.bus.sent:  # type: ignore[attr-defined]
            await b.on_bus(payload)  # the bus message arrives late
        assert await until(lambda: _shows_checkin(projector)), "B's projector still shows the welcome screen"
    finally:
        await _close([a, b], engines)


@pytest.mark.redis
def test_the_bus_does_not_link_a_deputy_to_a_choice(
    settings: Settings, meeting_id: int, keys: Keys, redis_prefix: str
) -> None:
    import json

    import redis

    from server.web.app import create_app
    from tests.conftest import TestClient

    listener = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    pubsub = listener.pubsub()
    pubsub.subscribe(f"{redis_prefix}:events")
    assert pubsub.get_message(timeout=2) is not None  # the subscription itself
    app = create_app(dataclasses.replace(settings, redis_url=REDIS_URL, redis_prefix=redis_prefix))
    try:
        with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
            hall = Hall(client, keys, meeting_id)
            hall.act_ok("open_checkin")
            hall.act_ok("check_in", deputy_id=7)
            hall.act_ok("call_question", question_id=1)
            hall.act_ok("to_answering")
            hall.act_ok("open_rating", without_quorum="1")  # 1 of 48: past the quorum warning
            assert hall.rate(7, 1, "dissatisfied").status_code == 200
        cast = []
        while (message := pubsub.get_message(timeout=0.5)) is not None:
            if message["type"] != "message":
                continue
            payload = json.loads(message["data"])
            if "phone" in payload:  # a phone bound (server.storage.phones): who, never which phone
                assert set(payload) == {"phone", "origin"}, payload
                continue
            cast += [data for name, data in payload["events"] if name == "RatingCast"]
    finally:
        pubsub.close()
        listener.close()
    assert cast, "the ballot was never published"
    for data in cast:
        assert data.get("choice") is None or "deputy_id" not in data, f"the bus links them: {data}"


@pytest.mark.redis
@pytest.mark.slow
def test_a_phone_moved_on_one_process_is_signed_out_on_the_other(
    pair: tuple[Hall, Hall, Server, Server], db: Db, keys: Keys
) -> None:
    """One phone per card across processes: the "phone" message on the bus."""
    a, b, _, _ = pair
    deputy_id = db.deputies()[4][0]

    def send(hall: Hall, method: str, path: str, cookie: str = "", **data: str) -> Any:
        hall.http.cookies.clear()
        headers = {"cookie": f"wz_deputy={cookie}"} if cookie else {}
        reply = hall.http.request(method, path, data=data or None, headers=headers)
        hall.http.cookies.clear()
        return reply

    def cookie_of(reply: Any) -> str:
        return str(reply.headers["set-cookie"].split("wz_deputy=")[1].split(";")[0])

    link = f"/i/1/{keys.invitation(deputy_id, 1)}"
    first = cookie_of(send(a, "GET", link))
    assert "本机已退出" not in send(b, "GET", "/d/1", first).text  # B has the card loaded
    b.http.cookies.clear()
    moved = pre_form(b.http, link, link, {})  # the link opened on a second phone, confirmed on B
    second = cookie_of(moved)
    b.http.cookies.clear()
    assert wait_for(lambda: "本机已退出" in send(a, "GET", "/d/1", first).text, 5)
    assert "本机已退出" in send(b, "GET", "/d/1", first).text
    assert "本机已退出" not in send(a, "GET", "/d/1", second).text

    a.http.cookies.clear()
    release = a.http.post(
        f"/m/1/cards/{deputy_id}/release",
        data={"csrf": a.chair_headers()["x-csrf-token"]},
        headers={"cookie": a.chair_headers()["cookie"]},
    )
    assert release.status_code == 303, release.text
    assert wait_for(lambda: "本机已退出" in send(b, "GET", "/d/1", second).text, 5)
