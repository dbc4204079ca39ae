"""Limits per client (server/web/limits.py): one client cannot take the server's memory.

Against real ``wenzheng serve`` processes on loopback. Linux routes all of 127.0.0.0/8
to loopback, so a client that binds its source to 127.0.0.2 is another address. The
server's memory is its resident set from /proc, sampled every few milliseconds while
the clients try; the figures go to test-artifacts/reliability/ (RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from server.base.keys import Keys
from server.base.settings import Settings, load
from server.bench.meeting import seed_meeting
from server.bench.procfs import raise_open_files_limit
from server.storage.db import create_engine
from server.web.limits import (
    BODY_MAX_BYTES,
    FRAME_MAX_BYTES,
    Policy,
    Slot,
    Table,
    address_key,
)
from tests.conftest import ROOT, Hall, Server, figures

pytestmark = pytest.mark.slow
MIB = 1024 * 1024
OTHER = "127.0.0.2"


@pytest.fixture(autouse=True)
def _many_files() -> None:
    raise_open_files_limit()  # the server inherits it


# -- the server's memory -------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


class Peak:
    """The highest resident set of ``pid`` while the block runs, sampled every 2 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = rss_mib(pid)
        self.peak = self.before
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.002)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def server_pid(server: Server) -> int:
    assert server.proc is not None
    return server.proc.pid


# -- a websocket client by hand: frames as large as an attacker likes ----------------------


def raw_handshake(server: Server, path: str, source: str = "127.0.0.1") -> tuple[socket.socket, int]:
    """A socket after its upgrade request, and the status the server answered."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, f"no answer to the upgrade: {head!r}"
        head += chunk
    return sock, int(head.split(b" ", 2)[1])


def text_frame_header(length: int) -> bytes:
    """A client's masked text frame announcing ``length`` bytes (64-bit length)."""
    return bytes([0x81, 0x80 | 127]) + length.to_bytes(8, "big") + os.urandom(4)


def close_code(sock: socket.socket) -> int | None:
    """The code of the server's close frame; None if the connection ended without one."""
    data = b""
    with contextlib.suppress(OSError):
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    while len(data) >= 2:
        opcode, length = data[0] & 0x0F, data[1] & 0x7F
        start = 2 + (2 if length == 126 else 8 if length == 127 else 0)
        if length >= 126:
            length = int.from_bytes(data[2:start], "big")
        payload = data[start : start + length]
        if opcode == 0x8:
            return int.from_bytes(payload[:2], "big")
        data = data[start + length :]
    return None


# -- the transport: a message longer than a few KiB is never read ---------------------------


@pytest.mark.parametrize("size", [64 * 1024, 16 * MIB])
def test_a_large_frame_is_closed_1009_at_the_transport(meeting_id: int, spawn: Any, size: int) -> None:
    server = spawn()
    sock, status = raw_handshake(server, f"/ws/{meeting_id}/public")
    with sock:
        assert status == 101
        sock.sendall(text_frame_header(size) + b"x" * 1024)  # the header says it all
        assert close_code(sock) == 1009
    sock, status = raw_handshake(server, f"/ws/{meeting_id}/public")
    with sock:  # just under the limit: the app answers (too long for it), the socket stays
        payload = b"x" * (FRAME_MAX_BYTES - 8)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        sock.sendall(bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + mask + masked)
        sock.settimeout(5)
        reply = sock.recv(4096)
        assert reply[0] == 0x81 and "消息过长" in json.loads(reply[2:].decode())["message"]


def test_clients_sending_16_mib_frames_leave_the_memory_flat(meeting_id: int, spawn: Any) -> None:
    """The issue's attack, and more: 12 sockets each send a whole 16 MiB frame at once."""
    server = spawn()
    pid = server_pid(server)
    clients = 12
    outcome: list[tuple[int, float]] = []  # (bytes the kernel took, seconds until closed)
    lock = threading.Lock()
    ready = threading.Barrier(clients)

    def attack() -> None:
        sock, status = raw_handshake(server, f"/ws/{meeting_id}/public")
        with sock:
            assert status == 101
            ready.wait()
            started, sent = time.monotonic(), 0
            try:
                sock.sendall(text_frame_header(16 * MIB))
                chunk = b"x" * 65536
                while sent < 16 * MIB:
                    sent += sock.send(chunk)
            except OSError:
                pass  # the server closed it
            close_code(sock)  # wait for the end: EOF or reset
            with lock:
                outcome.append((sent, time.monotonic() - started))

    time.sleep(1)  # let the server settle after its start
    with Peak(pid) as peak:
        threads = [threading.Thread(target=attack) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        time.sleep(0.5)
    after = rss_mib(pid)
    assert len(outcome) == clients
    slowest = max(s for _, s in outcome)
    figures(
        "limits_frames",
        clients=clients,
        frame_mib=16,
        rss_before_mib=round(peak.before, 1),
        rss_peak_mib=round(peak.peak, 1),
        rss_after_mib=round(after, 1),
        most_bytes_taken_by_the_kernel=max(b for b, _ in outcome),
        closed_within_s=round(slowest, 2),
    )
    assert peak.peak - peak.before < 16, "one frame's worth of memory, at most, for all of them"
    assert slowest < 10, "the server closed every socket itself; none was held until the client left"
    assert httpx.get(f"{server.base_url}/healthz", timeout=5, trust_env=False).status_code == 200


# -- sockets per address, per phone ---------------------------------------------------------


async def open_socket(
    server: Server, path: str, source: str = "127.0.0.1", cookie: str | None = None
) -> ClientConnection | int:
    """An open socket, or the HTTP status that refused the upgrade."""
    try:
        return await connect(
            f"{server.ws_url}{path}",
            additional_headers={"Cookie": cookie} if cookie else None,
            local_addr=(source, 0),
            compression=None,
            open_timeout=20,
            close_timeout=2,
            proxy=None,
            max_size=None,
        )
    except InvalidStatus as refused:
        return refused.response.status_code


async def open_many(
    server: Server, paths: list[str], source: str = "127.0.0.1", cookies: list[str] | None = None
) -> tuple[list[ClientConnection], list[int], float]:
    """Open them all at once (200 in flight): the sockets, the refusals' statuses, seconds."""
    gate = asyncio.Semaphore(200)

    async def one(i: int) -> ClientConnection | int:
        async with gate:
            return await open_socket(server, paths[i], source, cookies[i] if cookies else None)

    started = time.monotonic()
    results = await asyncio.gather(*(one(i) for i in range(len(paths))))
    took = time.monotonic() - started
    return [r for r in results if not isinstance(r, int)], [r for r in results if isinstance(r, int)], took


async def hello(ws: ClientConnection, timeout: float = 20) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "hello", "seq": -1}))
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.recv()
            if isinstance(message, str) and message.startswith("{"):
                reply: dict[str, Any] = json.loads(message)
                if reply.get("type") == "hello":
                    return reply


async def hears(ws: ClientConnection, text: str, timeout: float = 20) -> bool:
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.recv()
            if isinstance(message, str) and text in message:
                return True


async def close_all(sockets: list[ClientConnection]) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def test_one_address_flooding_public_sockets_is_refused_past_its_cap(
    meeting_id: int, spawn: Any, keys: Keys
) -> None:
    server = spawn()
    pid = server_pid(server)
    cap = load().ws_per_address
    public = f"/ws/{meeting_id}/public"

    async def go() -> dict[str, Any]:
        before = rss_mib(pid)
        flood, other = await asyncio.gather(
            open_many(server, [public] * 1500),
            open_many(server, [public] * 50, source=OTHER),
        )
        held, refused, took = flood
        others, others_refused, _ = other
        peak = rss_mib(pid)
        try:
            assert len(held) == cap, (len(held), len(refused))
            assert refused == [429] * (1500 - cap)
            assert len(others) == 50 and not others_refused, "another address is not affected"
            # The sockets already open keep working: hello, and the next broadcast.
            assert {(await hello(ws))["type"] for ws in held + others} == {"hello"}
            with httpx.Client(base_url=server.base_url, trust_env=False, timeout=15) as http:
                Hall(http, keys, meeting_id).act_ok("banner", text="休会十分钟")
            heard = await asyncio.gather(*(hears(ws, "休会十分钟") for ws in held + others))
            assert all(heard)
        finally:
            await close_all(held + others)
        return {
            "attempts": 1500,
            "seconds": round(took, 2),
            "accepted": len(held),
            "refused_429": len(refused),
            "other_address_accepted": len(others),
            "rss_before_mib": round(before, 1),
            "rss_with_the_held_sockets_mib": round(peak, 1),
        }

    figures("limits_public_flood", **asyncio.run(go()))


def test_handshakes_from_one_address_are_rate_limited(meeting_id: int, spawn: Any) -> None:
    server = spawn(WENZHENG_WS_CONNECT_BURST="20", WENZHENG_WS_CONNECT_RATE="5")
    public = f"/ws/{meeting_id}/public"

    async def go() -> None:
        accepted, statuses = 0, []
        started = time.monotonic()
        for _ in range(40):  # one at a time, closed at once: only the rate can refuse them
            result = await open_socket(server, public)
            if isinstance(result, int):
                statuses.append(result)
            else:
                accepted += 1
                await result.close()
        took = time.monotonic() - started
        assert 20 <= accepted <= 20 + 5 * took + 1, (accepted, took)
        assert statuses and set(statuses) == {429}
        await asyncio.sleep(0.5)
        result = await open_socket(server, public)  # the bucket refills
        assert not isinstance(result, int)
        await result.close()

    asyncio.run(go())


def test_a_hall_of_phones_behind_one_address_all_connect_and_reconnect(
    settings: Settings, meeting_id: int, spawn: Any, keys: Keys
) -> None:
    phones = 300

    async def seed() -> tuple[int, tuple[int, ...]]:
        engine = create_engine(settings.database_url)
        try:
            seeded = await seed_meeting(engine, phones)
        finally:
            await engine.dispose()
        return seeded.meeting_id, seeded.deputy_ids

    mid, deputies = asyncio.run(seed())
    server = spawn()
    hall = Hall(httpx.Client(), keys, mid)
    cookies = [f"wz_deputy={hall.deputy_cookie(d)}" for d in deputies]
    deputy_path = [f"/ws/{mid}/deputy"] * phones

    async def go() -> dict[str, Any]:
        # The address is already at its cap for anonymous sockets...
        public, _, _ = await open_many(server, [f"/ws/{mid}/public"] * 150)
        assert len(public) == load().ws_per_address
        try:
            # ...and the whole hall opens its phones at once, then again after a Wi-Fi drop.
            first, refused, took = await open_many(server, deputy_path, cookies=cookies)
            assert not refused and len(first) == phones
            assert {(await hello(ws))["type"] for ws in first} == {"hello"}
            for ws in first:
                ws.transport.abort()  # no close frame: the network went away
            again, refused_again, took_again = await open_many(server, deputy_path, cookies=cookies)
            assert not refused_again and len(again) == phones
            assert {(await hello(ws))["type"] for ws in again} == {"hello"}
            await close_all(again)
        finally:
            await close_all(public)
        return {
            "phones": phones,
            "public_sockets_of_that_address": len(public),
            "first_s": round(took, 2),
            "reconnect_s": round(took_again, 2),
        }

    figures("limits_hall_of_phones", **asyncio.run(go()))
    hall.http.close()


def test_a_phones_newest_socket_wins_and_its_handshakes_are_rate_limited(
    meeting_id: int, spawn: Any, keys: Keys
) -> None:
    server = spawn()
    hall = Hall(httpx.Client(), keys, meeting_id)
    path = f"/ws/{meeting_id}/deputy"
    per_phone = load().ws_per_phone

    def cookie(deputy_id: int) -> str:
        return f"wz_deputy={hall.deputy_cookie(deputy_id)}"

    async def go() -> None:
        sockets: list[ClientConnection] = []
        for _ in range(per_phone + 2):
            ws = await open_socket(server, path, cookie=cookie(1))
            assert not isinstance(ws, int)
            assert (await hello(ws))["type"] == "hello"
            sockets.append(ws)
        for ws in sockets[:2]:  # closed for the newer ones, and told not to come back
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(5):
                    while True:
                        await ws.recv()
            assert ws.close_code == 1008
        for ws in sockets[2:]:
            assert (await hello(ws))["type"] == "hello"
        await close_all(sockets)

        # Another phone loops on reconnecting: 10 handshakes at once, then one per 2 s.
        started, outcomes = time.monotonic(), []
        for _ in range(15):
            outcome = await open_socket(server, path, cookie=cookie(2))
            outcomes.append(outcome if isinstance(outcome, int) else 101)
            if not isinstance(outcome, int):
                await outcome.close()
        took = time.monotonic() - started
        accepted = outcomes.count(101)
        assert 10 <= accepted <= 10 + 0.5 * took + 1, (outcomes, took)
        assert set(outcomes) <= {101, 429} and (429 in outcomes or took > 9)

    asyncio.run(go())
    hall.http.close()


# -- pure parts ------------------------------------------------------------------------------


def test_a_table_counts_opens_and_refills_its_bucket() -> None:
    table = Table(Policy(open=2, burst=3, per_second=1))
    slots = [Slot(None) for _ in range(5)]  # type: ignore[arg-type]
    assert [table.admit("a", s, 0.0) for s in slots[:3]] == [True, True, False]  # open cap
    assert table.admit("b", slots[3], 0.0), "another key has its own"
    table.release("a", slots[0])
    assert table.admit("a", slots[0], 0.0)  # third token
    table.release("a", slots[0])
    assert not table.admit("a", slots[0], 0.5), "the bucket is empty"
    assert table.admit("a", slots[0], 1.0), "one token a second"


def test_forgotten_keys_do_not_pile_up() -> None:
    table = Table(Policy(open=5, burst=5, per_second=1))
    for i in range(10_000):
        slot = Slot(None)  # type: ignore[arg-type]
        assert table.admit(i, slot, float(i))
        table.release(i, slot)
    assert len(table.entries) < 2100


def test_addresses_are_keyed_by_host_and_ipv6_by_its_64() -> None:
    def key(host: str) -> str:
        return address_key({"client": (host, 1234)})

    assert key("10.0.0.1") == "10.0.0.1"
    assert key("2001:db8:1:2:aaaa::1") == key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert key("2001:db8:1:3::1") != key("2001:db8:1:2::1")
    assert key("::ffff:10.0.0.1") == "10.0.0.1"
    assert address_key({"client": None}) == ""


def test_the_limits_are_settings_documented_in_the_readme(tmp_path: Any) -> None:
    names = ("WENZHENG_WS_PER_ADDRESS", "WENZHENG_WS_CONNECT_BURST", "WENZHENG_WS_CONNECT_RATE")
    names += ("WENZHENG_WS_PER_PHONE",)
    readme = (ROOT / "README.md").read_text()
    base = {"WENZHENG_DATA_DIR": str(tmp_path), "WENZHENG_SECRET_KEY": "k"}
    for name in names:
        assert f"| `{name}` |" in readme, name
        with pytest.raises(ValueError, match=name):
            load({**base, name: "0"})
        with pytest.raises(ValueError, match=name):
            load({**base, name: "many"})
    raised = load({**base, "WENZHENG_WS_PER_ADDRESS": "5000", "WENZHENG_WS_CONNECT_RATE": "2.5"})
    assert (raised.ws_per_address, raised.ws_connect_rate) == (5000, 2.5)


# -- HTTP: bodies ---------------------------------------------------------------------------


def raw_request(server: Server, head: str, body: bytes = b"", source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0))
    sock.sendall(head.encode() + b"\r\n" + body)
    return sock


def status_of(sock: socket.socket) -> int | None:
    """The status the server has answered so far; None when it has not answered yet."""
    sock.setblocking(False)
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return None
    finally:
        sock.setblocking(True)
    return int(data.split(b" ", 2)[1]) if data else None


def answered(sock: socket.socket) -> int | None:
    sock.settimeout(10)
    data = sock.recv(4096)
    return int(data.split(b" ", 2)[1]) if data else None


def form_head(length: int | None, content_type: str = "application/x-www-form-urlencoded") -> str:
    size = f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n"
    return f"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n{size}"


def test_request_bodies_are_capped_before_the_app_reads_them(meeting_id: int, spawn: Any, keys: Keys) -> None:
    server = spawn()
    pid = server_pid(server)
    multipart = "multipart/form-data; boundary=b"
    with raw_request(server, form_head(50 * MIB, multipart), b"--b\r\n") as sock:
        assert answered(sock) == 413, "50 fields of 1 MiB would be parsed otherwise"
    with raw_request(server, form_head(BODY_MAX_BYTES + 1)) as sock:
        assert answered(sock) == 413
    with raw_request(server, form_head(None), b"5\r\nx=abc\r\n") as sock:
        assert answered(sock) == 411

    # Slow anonymous forms from one address: a few run, the rest wait for nothing.
    held: list[socket.socket] = []
    with Peak(pid) as peak:
        try:
            for _ in range(1000):
                held.append(raw_request(server, form_head(60_000), b"u" * 59_000))
            time.sleep(3)  # every refusal has been answered by now
            statuses = [status_of(s) for s in held]
            # Meanwhile a phone of that address and another address are served.
            hall = Hall(httpx.Client(base_url=server.base_url, trust_env=False, timeout=10), keys, meeting_id)
            phone = hall.http.post(
                f"/d/{meeting_id}/floor", data={"kind": "speech"}, headers=hall.deputy_headers(1)
            )
            transport = httpx.HTTPTransport(local_address=OTHER)
            with httpx.Client(base_url=server.base_url, transport=transport, trust_env=False) as other:
                bind = other.post(f"/d/{meeting_id}/bind", data={"card_no": "0", "code": "x"})
            hall.http.close()
        finally:
            for s in held:
                s.close()
    time.sleep(0.5)
    waiting = statuses.count(None)
    figures(
        "limits_slow_forms",
        connections=1000,
        body_bytes_sent_each=59_000,
        running=waiting,
        refused_429=statuses.count(429),
        rss_before_mib=round(peak.before, 1),
        rss_peak_mib=round(peak.peak, 1),
        rss_after_mib=round(rss_mib(pid), 1),
    )
    assert waiting == 32 and statuses.count(429) == 1000 - 32, statuses
    assert phone.status_code != 429 and bind.status_code == 403  # no form token: answered, not throttled
    assert peak.peak - peak.before < 30, "without the limit: 75 KiB a connection, 73 MB for these"


def test_failed_logins_at_once_hash_two_at_a_time(spawn: Any) -> None:
    """Argon2 takes 64 MiB a hash: a dozen failed logins sent at once by an anonymous
    client once took the server from 89 MB to 475 MB. They wait their turn now."""
    server = spawn()
    pid = server_pid(server)
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=60) as warm:
        warm.post("/login", data={"username": "nobody", "password": "x"})  # the dummy hash, once
    sent = 12

    def fail(n: int) -> int:
        with httpx.Client(base_url=server.base_url, trust_env=False, timeout=60) as http:
            return http.post("/login", data={"username": f"guess{n}", "password": "wrong"}).status_code

    with Peak(pid) as peak, ThreadPoolExecutor(sent) as pool:
        answers = list(pool.map(fail, range(sent)))
    figures(
        "limits_argon2",
        logins_at_once=sent,
        rss_before_mib=round(peak.before, 1),
        rss_peak_mib=round(peak.peak, 1),
        answers=sorted(set(answers)),
    )
    assert answers == [401] * sent
    assert peak.peak - peak.before < 2 * 64 + 40, f"{peak.peak - peak.before:.0f} MiB for {sent} logins"
