"""kill -9 in the middle of a rating burst of 500 deputies, then start again.

A meeting of 500 deputies (server.bench.meeting, the bench's own), all checked in; the
rating opens and 500 phones rate at once over 16 connections. When about half hold a
receipt, the server is killed with SIGKILL and started again on the same port. Then:
every receipt a phone received is in the database; the phones whose reply was lost send
the same ballot again, and so do those that got one (a retry after a lost reply looks the
same to the server); each ballot counts once; the console's tally is the database's; the
rating timer keeps its deadline. The figures go to test-artifacts/reliability/.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from live.setup import DEFAULT_TIMER_SECONDS, TimerRole
from server.base.keys import Keys
from server.base.settings import Settings
from server.bench.meeting import Seeded, seed_meeting
from server.storage.db import create_engine
from tests.conftest import CHOICES, Db, Hall, element_attrs, eventually, figures, free_port, tally_of

pytestmark = pytest.mark.slow
DEPUTIES = 500
THREADS = 16


def seed(settings: Settings) -> Seeded:
    async def go() -> Seeded:
        engine = create_engine(settings.database_url)
        try:
            return await seed_meeting(engine, DEPUTIES)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def chair_of(http: httpx.Client, seeded: Seeded) -> str:
    reply = http.post(
        "/login", data={"username": seeded.chair_user, "password": seeded.chair_password, "next": "/"}
    )
    assert reply.status_code == 303, reply.text
    http.cookies.clear()
    return str(reply.cookies["wz_user"])


def rating_timer(hall: Hall) -> dict[str, str]:
    attrs = element_attrs(hall.console(), "timer")
    assert attrs.get("data-running") == "1", attrs
    return attrs


def test_kill_9_in_a_burst_of_500_ratings(settings: Settings, meeting_id: int, spawn: Any) -> None:
    seeded = seed(settings)
    mid, qid = seeded.meeting_id, seeded.question_id
    keys, db = Keys(settings.secret_key), Db(settings.database_url, seeded.meeting_id)
    port = free_port()
    server = spawn(port=port)
    http = server.client()
    cookie = chair_of(http, seeded)
    hall = Hall(http, keys, mid, cookie)
    deputies = list(seeded.deputy_ids)

    hall.act_ok("open_checkin")
    with ThreadPoolExecutor(8) as pool:
        checked = list(pool.map(lambda d: hall.act("check_in", deputy_id=d).status_code, deputies))
    assert checked == [200] * DEPUTIES
    hall.act_ok("close_checkin")
    hall.act_ok("call_question", question_id=qid)
    hall.act_ok("to_answering")
    hall.act_ok("open_rating")
    opened = time.monotonic()

    def page(d: int) -> int:  # every phone has opened its page: it is the card's phone
        return hall.http.get(f"/d/{mid}", headers=hall.deputy_headers(d)).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(page, deputies)) == {200}
    timer = rating_timer(hall)

    ballots = {d: (CHOICES[i % 3], f"burst-{d}") for i, d in enumerate(deputies)}
    receipted: dict[int, str] = {}
    lost: dict[int, str] = {}
    lock = threading.Lock()
    clients = [server.client() for _ in range(THREADS)]

    def rate(i: int, d: int) -> None:
        choice, key = ballots[d]
        data = {"question_id": str(qid), "choice": choice, "ballot_key": key}
        try:
            reply = clients[i % THREADS].post(f"/d/{mid}/rate", data=data, headers=hall.deputy_headers(d))
            ok = reply.status_code == 200 and 'id="d-receipt"' in reply.text
        except httpx.HTTPError:
            ok = False
        with lock:
            (receipted if ok else lost)[d] = key

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(rate, i, d) for i, d in enumerate(deputies)]
        while len(receipted) < DEPUTIES // 2 and time.monotonic() - started < 60:
            time.sleep(0.002)
        server.kill()
        killed_at = len(receipted)
        for f in futures:
            f.result(timeout=60)
    for c in clients:
        c.close()
    http.close()
    assert set(receipted) | set(lost) == set(deputies)
    assert 0 < len(lost) < DEPUTIES, f"the kill landed outside the burst ({len(receipted)} receipts)"

    server = spawn(port=port)
    http = server.client()
    hall = Hall(http, keys, mid, cookie)
    stored = db.receipts(qid)
    missing = [d for d, key in receipted.items() if stored.get(d) != key]
    assert not missing, f"{len(missing)} phones were told 'recorded' but their receipt is gone"
    landed_unanswered = sum(1 for d in lost if d in stored)
    counts = db.counts()
    assert counts["ballots"] == counts["receipts"] == len(stored) == sum(db.ballots(qid).values())
    console = hall.console()
    assert tally_of(console) == {"cast": len(stored)}  # how many, never how, while it is open
    after = element_attrs(console, "timer")
    assert after["data-deadline"] == timer["data-deadline"] and after["data-running"] == "1"
    # The deadline is a stored fact: the countdown goes on from where it was, it does not
    # start again with the process (the rating's 60 s would show again).
    left_s = (int(after["data-deadline"]) - time.time() * 1000) / 1000
    assert left_s < DEFAULT_TIMER_SECONDS[TimerRole.RATING] - (time.monotonic() - opened)

    # Every phone sends its ballot again: the lost replies, and (as a lost reply looks the
    # same to the server) the received ones too. Each counts once.
    with ThreadPoolExecutor(8) as pool:
        again = list(pool.map(lambda d: hall.rate(d, qid, *ballots[d]), deputies))
    refused = [r.text for r in again if r.status_code != 200 or 'id="d-receipt"' not in r.text]
    assert not refused, refused[:2]
    expected = {c: sum(1 for choice, _ in ballots.values() if choice == c) for c in CHOICES}
    assert db.ballots(qid) == expected
    assert db.receipts(qid) == {d: key for d, (_, key) in ballots.items()}
    counts = db.counts()
    assert counts["ballots"] == counts["receipts"] == DEPUTIES
    assert eventually(lambda: tally_of(hall.console()) == {"cast": DEPUTIES})
    hall.act_ok("close_rating")
    result = db.state().ratings[qid].result
    assert result is not None and {c.value: n for c, n in result.counts} == expected
    assert tally_of(hall.console()) == {**expected, "cast": DEPUTIES}
    http.close()
    figures(
        "kill-9-burst",
        deputies=DEPUTIES,
        connections=THREADS,
        receipts_when_killed=killed_at,
        receipts_before_restart=len(receipted),
        replies_lost=len(lost),
        lost_replies_that_had_landed=landed_unanswered,
        rows_found_after_restart=len(stored),
        rows_after_retries=counts["receipts"],
        timer_deadline_kept=True,
        timer_left_s_after_restart=round(left_s, 1),
    )
