"""Limits per client (server/limits.py): one client cannot take the server's memory.

Against real ``wenzheng serve`` processes on loopback. Linux routes all of 127.0.0.0/8
to loopback, so a client that binds its source to 127.0.0.2 is another address. The
server's memory is its resident set from /proc, sampled every few milliseconds while
the clients try; the figures go to test-artifacts/reliability/ (RELIABILITY.md).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import threading
import time
from typing import Any

import httpx
import pytest

from server.bench.procfs import raise_open_files_limit
from server.limits import (
    FRAME_MAX_BYTES,
)
from tests.conftest import Server, figures

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
