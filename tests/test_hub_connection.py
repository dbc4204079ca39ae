"""A socket's sends keep their order, and a socket that stops reading is dropped."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from starlette.websockets import WebSocket

from server.room.connection import QUEUE_LIMIT, Connection


class SlowSocket:
    """Takes bytes at once until ``stall`` is set; then waits for ``gate``."""

    def __init__(self) -> None:
        self.got: list[str] = []
        self.stall = False
        self.gate = asyncio.Event()

    async def send_text(self, text: str) -> None:
        if self.stall:
            await self.gate.wait()
        self.got.append(text)


def connection(sock: Any) -> Connection:
    return Connection(cast(WebSocket, sock), "deputy", 1)


async def test_sends_that_never_wait_are_done_in_place() -> None:
    sock = SlowSocket()
    conn = connection(sock)
    for i in range(5):
        assert conn.offer(f"m{i}")
    assert sock.got == [f"m{i}" for i in range(5)]  # no await in between
    assert conn.sending is None


async def test_a_waiting_send_keeps_later_messages_in_order() -> None:
    sock = SlowSocket()
    conn = connection(sock)
    conn.offer("a")
    sock.stall = True
    conn.offer("b")  # has to wait
    conn.offer("c")
    conn.offer("d")
    assert sock.got == ["a"] and conn.sending is not None
    sock.stall = False
    sock.gate.set()
    await asyncio.wait_for(conn.sending, 2)
    assert sock.got == ["a", "b", "c", "d"]
    conn.offer("e")
    assert sock.got[-1] == "e"


async def test_a_socket_too_far_behind_is_refused() -> None:
    sock = SlowSocket()
    sock.stall = True
    conn = connection(sock)
    assert conn.offer("first")
    accepted = [conn.offer(f"m{i}") for i in range(QUEUE_LIMIT + 5)]
    assert accepted.count(True) == QUEUE_LIMIT and accepted[-1] is False
    conn.stop()
    assert not conn.backlog and conn.sending is None


async def test_a_broken_socket_is_marked_and_left_alone() -> None:
    class Gone:
        async def send_text(self, text: str) -> None:
            raise ConnectionResetError

    conn = connection(Gone())
    assert conn.offer("x")
    assert conn.broken
    assert conn.offer("y")  # ignored: its endpoint tears it down
