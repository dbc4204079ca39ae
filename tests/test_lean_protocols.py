"""uvicorn's protocols as `wenzheng serve` runs them (server/web/lean_protocols.py): they
hold less per connection and behave as uvicorn's own, under a real uvicorn."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from server.cli.serve import stack_options
from server.web.lean_protocols import Gate, Inbox, LeanHttpProtocol, LeanWebSocketProtocol


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def _served(app: Starlette) -> AsyncIterator[tuple[int, uvicorn.Server]]:
    port = _port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **stack_options())
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        yield port, server
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)


async def test_a_socket_keeps_no_handshake_yet_its_app_still_reads_the_cookie() -> None:
    seen: list[Any] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            text = await websocket.receive_text()
            # After the accept, what the app needs is still in its scope.
            await websocket.send_text(f"{text}:{websocket.cookies.get('wz_deputy')}")
            if text == "bye":
                break

    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    async with (
        _served(app) as (port, server),
        websockets.connect(
            f"ws://127.0.0.1:{port}/ws", compression=None, additional_headers={"Cookie": "wz_deputy=abc"}
        ) as ws,
    ):
        for word in ("one", "two", "three"):  # in order, one at a time, as uvicorn's queue
            await ws.send(word)
        assert [await asyncio.wait_for(ws.recv(), 5) for _ in range(3)] == [
            "one:abc",
            "two:abc",
            "three:abc",
        ]
        (protocol,) = [c for c in server.server_state.connections if isinstance(c, LeanWebSocketProtocol)]
        assert "request" not in protocol.__dict__ and "response" not in protocol.__dict__
        assert isinstance(protocol.queue, Inbox) and protocol.writable.is_set()
        seen.append(dict(protocol.scope["headers"]).get(b"cookie"))
        await ws.send("bye")
        assert await asyncio.wait_for(ws.recv(), 5) == "bye:abc"
    assert seen == [b"wz_deputy=abc"]


async def test_a_keep_alive_connection_forgets_its_answered_request_and_serves_the_next() -> None:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"hello {request.query_params.get('n')}")

    app = Starlette(routes=[Route("/", hello)])
    async with _served(app) as (port, server):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n in (1, 2):
                writer.write(f"GET /?n={n} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                assert head.startswith(b"HTTP/1.1 200")
                assert await reader.readexactly(len(f"hello {n}")) == f"hello {n}".encode()
                await asyncio.sleep(0.05)
                (protocol,) = [c for c in server.server_state.connections if isinstance(c, LeanHttpProtocol)]
                assert protocol.cycle is None and protocol.scope is None  # nothing of the answered request
                assert protocol.timeout_keep_alive_task is not None  # still kept alive
        finally:
            writer.close()


async def test_pipelined_requests_are_answered_in_order() -> None:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"hello {request.query_params.get('n')}")

    app = Starlette(routes=[Route("/", hello)])
    async with _served(app) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"".join(f"GET /?n={n} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for n in (1, 2, 3)))
            for n in (1, 2, 3):
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                assert head.startswith(b"HTTP/1.1 200")
                assert await reader.readexactly(len(f"hello {n}")) == f"hello {n}".encode()
        finally:
            writer.close()


async def test_inbox_is_a_fifo_that_hands_a_cancelled_wake_up_on() -> None:
    inbox: Inbox[int] = Inbox()
    assert inbox.empty()
    first = asyncio.ensure_future(inbox.get())
    second = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait(1)
    first.cancel()  # woken, then cancelled before it ran: the item goes to the next getter
    assert await asyncio.wait_for(second, 1) == 1
    inbox.put_nowait(2)
    inbox.put_nowait(3)
    assert [await inbox.get(), inbox.get_nowait()] == [2, 3]
    with pytest.raises(asyncio.QueueEmpty):
        inbox.get_nowait()


async def test_gate_waits_until_set_and_passes_at_once_while_set() -> None:
    gate = Gate()
    waiting = asyncio.ensure_future(gate.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    gate.set()
    assert await asyncio.wait_for(waiting, 1) is True
    assert await asyncio.wait_for(gate.wait(), 1) is True
    gate.clear()
    late = asyncio.ensure_future(gate.wait())
    await asyncio.sleep(0)
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late
    assert not gate.is_set()


async def test_an_accepted_socket_lets_go_of_its_handshake_headers() -> None:
    from server.web.ws import _forget_handshake

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        return None

    scope = {"type": "websocket", "path": "/ws/1/deputy", "headers": [(b"cookie", b"wz_deputy=abc")]}
    websocket = WebSocket(scope, receive=receive, send=send)
    assert websocket.cookies == {"wz_deputy": "abc"}  # read before the accept, as live_socket does
    _forget_handshake(websocket)
    assert scope["headers"] == [] and websocket.cookies == {}  # nothing of them is kept
