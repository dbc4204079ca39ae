"""Two workers on Redis, and Redis is restarted mid-session (SIGKILL, then started again).

While Redis is down the processes cannot hear each other: the chair acts on A, deputies
rate on A and on B, and every ballot answered with a receipt must be in the database.
When Redis is back, every screen connected to either process must show the true state
within 5 s: its fragments (the snapshot it had plus every message since) equal a fresh
page load, the page's seq is the last one in the event log, and the tally is the
database's. Redis here is a server of the test's own on its own port, so the shared one
is never touched.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.base.keys import Keys
from tests.conftest import (
    CHOICES,
    Db,
    Hall,
    Server,
    eventually,
    figures,
    fragments,
    free_port,
    page_seq,
    ws_connect,
    ws_hello,
)
from tests.test_ws import PAGE_FRAGMENTS, page_of

pytestmark = [pytest.mark.redis, pytest.mark.slow]
CONVERGE_S = 5.0


class OwnRedis:
    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (`make test` installs it)", pytrace=False)
        self.binary, self.port, self.folder = binary, free_port(), folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.proc = subprocess.Popen(
            args, cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    client.close()
                    return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def bus_ok(server: Server) -> bool:
    try:
        return bool(httpx.get(f"{server.base_url}/healthz", timeout=2, trust_env=False).json()["bus"]["ok"])
    except (httpx.HTTPError, ValueError, KeyError):
        return False


class Screen:
    """One live screen: what it shows is its last snapshot plus every message since."""

    def __init__(
        self, stack: contextlib.ExitStack, server: Server, hall: Hall, audience: str, deputy: int
    ) -> None:
        self.server, self.hall, self.audience, self.deputy = server, hall, audience, deputy
        cookie = hall.cookie_for(audience, deputy)
        self.ws = stack.enter_context(ws_connect(f"{server.ws_url}/ws/{hall.meeting_id}/{audience}", cookie))
        page = self.page()
        html, reply = ws_hello(self.ws, page_seq(page))
        assert html == [] and reply["seq"] == page_seq(page)
        self.shown = fragments(page)
        self.seq = page_seq(page)

    def page(self) -> str:
        if self.audience == "deputy":
            return self.hall.deputy_page(self.deputy)
        return page_of(self.hall, self.audience)

    def receive(self, for_s: float) -> None:
        deadline = time.monotonic() + for_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.ws.recv(timeout=left)
            except TimeoutError:
                return
            if isinstance(message, str) and not message.startswith("{"):
                self.shown.update(fragments(message))
                self.seq = max([self.seq, *(int(s) for s in _seqs(message))])

    def differences(self, true_seq: int) -> list[str]:
        page = self.page()
        fresh = fragments(page)
        wrong = [f for f in PAGE_FRAGMENTS[self.audience] if self.shown.get(f) != fresh.get(f)]
        if page_seq(page) != true_seq:
            wrong.append(f"page seq {page_seq(page)} != log {true_seq}")
        if self.seq != true_seq:
            wrong.append(f"screen seq {self.seq} != log {true_seq}")
        return wrong


def _seqs(message: str) -> list[str]:
    import re

    return re.findall(r'data-seq="(\d+)"', message)


def test_redis_restarted_mid_session(
    spawn: Any, own_redis: OwnRedis, keys: Keys, db: Db, meeting_id: int, redis_prefix: str
) -> None:
    env = {"WENZHENG_REDIS_URL": own_redis.url, "WENZHENG_REDIS_PREFIX": redis_prefix}
    a, b = spawn(**env), spawn(**env)
    with a.client() as http_a, b.client() as http_b:
        ha, hb = Hall(http_a, keys, meeting_id), Hall(http_b, keys, meeting_id)
        deputies = [d for d, _, _ in db.deputies()][:30]
        ha.open_rating(deputies)
        assert eventually(lambda: page_seq(hb.console()) == page_seq(ha.console())), (
            "the bus never brought them"
        )

        stack = contextlib.ExitStack()
        screens = [
            Screen(stack, server, hall, audience, deputies[0])
            for server, hall in ((a, ha), (b, hb))
            for audience in ("projector", "console", "deputy", "public")
        ]
        try:
            own_redis.kill()
            down = time.monotonic()
            while bus_ok(a) or bus_ok(b):
                assert time.monotonic() - down < 10, "the servers never noticed Redis was gone"
                time.sleep(0.05)

            # While Redis is down: ratings on both processes, and the chair moves on on A.
            receipted: dict[int, str] = {}
            for i, d in enumerate(deputies[:20]):
                hall, key = (ha if i % 2 else hb), f"redis-{d}"
                reply = hall.rate(d, 1, CHOICES[i % 3], key)
                assert reply.status_code == 200 and 'id="d-receipt"' in reply.text, reply.text
                receipted[d] = key
            ha.act_ok("close_rating")
            late = hb.rate(deputies[25], 1, "basic", "redis-late")  # B has not heard of the close
            assert late.status_code == 409, "B decides on the log, not on what it last heard"
            ha.act_ok("call_question", question_id=2)
            ha.act_ok("to_answering")
            for s in screens:
                s.receive(0.05)

            true_seq = db.state().seq
            stale = [f"{s.server.port}/{s.audience}" for s in screens if s.differences(true_seq)]
            assert any(str(b.port) in name for name in stale), "B's screens never missed anything"

            own_redis.start()
            back = time.monotonic()
            pending = {id(s): s for s in screens}
            while pending:
                for s in list(pending.values()):
                    s.receive(0.1)
                    if not s.differences(true_seq):
                        pending.pop(id(s))
                waited = time.monotonic() - back
                if waited > CONVERGE_S:
                    wrong = {
                        f"{s.server.port}/{s.audience}": s.differences(true_seq) for s in pending.values()
                    }
                    pytest.fail(f"not converged {waited:.1f} s after Redis returned: {json.dumps(wrong)}")
            converged = time.monotonic() - back
        finally:
            stack.close()

        assert db.receipts(1) == receipted, "every receipted ballot is in the database, once"
        expected = {c: sum(1 for i in range(20) if CHOICES[i % 3] == c) for c in CHOICES}
        assert db.ballots(1) == expected
        result = db.state().ratings[1].result
        assert result is not None and {c.value: n for c, n in result.counts} == expected
        for hall in (ha, hb):
            assert page_seq(hall.console()) == true_seq
        figures(
            "redis-restart",
            ballots_during_outage=len(receipted),
            receipts_found=len(db.receipts(1)),
            screens=len(screens),
            stale_screens_before=len(stale),
            converged_s=round(converged, 2),
            limit_s=CONVERGE_S,
        )
