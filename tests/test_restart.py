"""kill -9 a real server mid-timer and mid-rating; what was receipted must survive.

The reply is the receipt (ARCHITECTURE.md): a deputy's phone shows "recorded" only after
the commit, so every rating answered with 200 must be in the database after a crash,
the console must show the tally the database holds, a running timer's deadline is a
stored fact a restart does not move, and the session carries on (the rating closes).
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from server.base.keys import Keys
from server.base.settings import Settings
from tests.conftest import (
    WENZHENG,
    Db,
    Hall,
    Server,
    element_attrs,
    eventually,
    free_port,
    server_env,
    tally_of,
)

pytestmark = pytest.mark.slow
CHOICES = ("satisfied", "basic", "dissatisfied")


def timer_on(console: str) -> dict[str, str]:
    attrs = element_attrs(console, "timer")
    assert attrs, "no timer on the console"
    return attrs


def login(server: Server, keys: Keys) -> tuple[httpx.Client, str]:
    http = server.client()
    response = http.post(
        "/login", data={"username": "chair", "password": "wenzheng-demo", "next": "/m/1/console"}
    )
    assert response.status_code == 303, response.text
    cookie = response.cookies["wz_user"]
    session = keys.read_staff(cookie)
    assert session is not None and "chair" in session.roles
    console = http.get("/m/1/console", headers={"cookie": f"wz_user={cookie}"})
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', console.text)
    assert token and token.group(1) == keys.csrf(session.sid), "the page carries the session's CSRF token"
    http.cookies.clear()
    return http, cookie


def test_kill_9_mid_timer_and_mid_rating(settings: Settings, spawn: Any) -> None:
    demo = subprocess.run(
        [str(WENZHENG), "demo"],
        env=server_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    assert "会议编号 1" in demo.stdout
    keys = Keys(settings.secret_key)
    db = Db(settings.database_url, 1)
    port = free_port()  # the same port across restarts, as in the hall
    server = spawn(port=port)

    http, staff_cookie = login(server, keys)
    hall = Hall(http, keys, 1, staff_cookie)
    deputies = [d for d, _, _ in db.deputies()][:32]
    hall.act_ok("open_checkin")
    with ThreadPoolExecutor(4) as pool:
        assert all(
            r.status_code == 200 for r in pool.map(lambda d: hall.act("check_in", deputy_id=d), deputies[1:])
        )
    code = keys.hall_code(1, int(time.time() // 30))
    by_qr = http.post(f"/h/1/{code}", headers=hall.deputy_headers(deputies[0]))
    assert by_qr.status_code == 200 and "已签到" in by_qr.text, by_qr.text  # answered with its page
    hall.act_ok("close_checkin")
    hall.act_ok("call_question", question_id=1)
    asking = timer_on(hall.console())
    assert asking["data-running"] == "1" and int(asking["data-deadline"]) > time.time() * 1000

    # -- crash 1: mid-timer ---------------------------------------------------------------
    server.kill()
    http.close()
    server = spawn(port=port)
    http = server.client()
    hall = Hall(http, keys, 1, staff_cookie)  # the session cookie outlives the process
    after = timer_on(hall.console())
    assert after["data-deadline"] == asking["data-deadline"] and after["data-running"] == "1"
    assert db.state().present_count == len(deputies)

    hall.act_ok("to_answering")
    hall.act_ok("open_rating")
    rating_timer = timer_on(hall.console())
    assert rating_timer["data-running"] == "1"

    # -- ratings, and crash 2 in the middle of them ------------------------------------------
    ballots = {d: (CHOICES[d % 3], f"key{d}x{i}") for i, d in enumerate(deputies)}
    receipted: dict[int, tuple[str, str]] = {}
    unanswered: dict[int, tuple[str, str]] = {}
    lock = threading.Lock()

    def rate(d: int, pause: float = 0.0) -> None:
        choice, key = ballots[d]
        try:
            response = hall.rate(d, 1, choice, key)
        except httpx.HTTPError:
            with lock:
                unanswered[d] = ballots[d]
            return
        with lock:
            if response.status_code == 200 and 'id="d-receipt"' in response.text:
                receipted[d] = ballots[d]
            else:
                unanswered[d] = ballots[d]
        time.sleep(pause)

    first, rest = deputies[:10], deputies[10:]
    for d in first:
        rate(d)
    assert set(receipted) == set(first)
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(rate, d, 0.03) for d in rest]
        deadline = time.monotonic() + 10
        while len(receipted) < len(first) + 6 and time.monotonic() < deadline:
            time.sleep(0.005)
        server.kill()
        for f in futures:
            f.result(timeout=30)
    http.close()
    assert len(receipted) >= len(first) + 6
    assert set(receipted) | set(unanswered) == set(deputies)

    server = spawn(port=port)
    http = server.client()
    hall = Hall(http, keys, 1, staff_cookie)

    # Every receipt survived, each ballot exactly once, and nothing was made up.
    stored = db.receipts(1)
    for d, (_, key) in receipted.items():
        assert stored.get(d) == key, f"deputy {d} was told 'recorded' but the receipt is gone"
    assert set(stored) <= set(deputies)
    counts = db.counts()
    assert counts["ballots"] == counts["receipts"] == len(stored)
    in_db = db.ballots(1)
    for choice in CHOICES:
        assert in_db[choice] >= sum(1 for c, _ in receipted.values() if c == choice)
    console = hall.console()
    assert tally_of(console) == {"cast": len(stored)}  # how many, never how, while it is open
    assert timer_on(console)["data-deadline"] == rating_timer["data-deadline"]
    assert timer_on(console)["data-running"] == "1"

    # The phones that got no answer send the same ballot again: same receipt or a new one.
    for d in sorted(unanswered):
        choice, key = unanswered[d]
        response = hall.rate(d, 1, choice, key)
        assert response.status_code == 200 and 'id="d-receipt"' in response.text, response.text
    expected = {c: sum(1 for d in deputies if CHOICES[d % 3] == c) for c in CHOICES}
    assert db.ballots(1) == expected
    assert db.receipts(1) == {d: key for d, (_, key) in ballots.items()}
    assert eventually(lambda: tally_of(hall.console()) == {"cast": len(deputies)})

    # The session carries on: the rating closes with what the database holds.
    hall.act_ok("close_rating")
    state = db.state()
    result = state.ratings[1].result
    assert result is not None and {c.value: n for c, n in result.counts} == expected
    console = hall.console()
    assert "已公布" in console and tally_of(console) == {**expected, "cast": len(deputies)}
    # A late retry after the close is answered and adds nothing.
    d = deputies[0]
    assert hall.rate(d, 1, *ballots[d]).status_code == 200
    assert db.counts()["ballots"] == len(deputies)
    http.close()
