"""Broadcast frames written straight to uvicorn's transports, and the fall-backs."""

from __future__ import annotations

import asyncio
import socket
from types import SimpleNamespace
from typing import Any

import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.protocol import State

from server.room.fastsend import CaptureRawSend, RawWriter, raw_writer, text_frame


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_frame_written_raw_arrives_as_the_same_text_under_uvicorn() -> None:
    found: list[bool] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        writer = raw_writer(websocket)
        found.append(writer is not None)
        assert writer is not None
        message = '<div id="timer" data-seq="7">计时 05:00</div>' * 50  # > 125 bytes: long length form
        assert writer.write(text_frame(message))
        await websocket.send_text("after")  # the ASGI path still works in between
        await websocket.receive_text()

    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)], middleware=[Middleware(CaptureRawSend)])
    port = _port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws_per_message_deflate=False
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws", compression=None) as ws:
            first = await asyncio.wait_for(ws.recv(), 5)
            assert first == '<div id="timer" data-seq="7">计时 05:00</div>' * 50
            assert await asyncio.wait_for(ws.recv(), 5) == "after"
            await ws.send("bye")
        assert found == [True]
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)


def _protocol(**overrides: Any) -> Any:
    written: list[bytes] = []
    transport = SimpleNamespace(is_closing=lambda: overrides.get("closing", False), write=written.append)
    writable = asyncio.Event()
    if not overrides.get("paused", False):
        writable.set()
    conn = SimpleNamespace(state=overrides.get("state", State.OPEN))
    return SimpleNamespace(
        close_sent=overrides.get("close_sent", False),
        conn=conn,
        writable=writable,
        transport=transport,
        written=written,
    )


async def test_the_raw_writer_refuses_whenever_asgi_must_decide() -> None:
    frame = text_frame("x")
    ok = _protocol()
    assert RawWriter(ok).write(frame) and ok.written == [frame]
    for reason in ({"paused": True}, {"closing": True}, {"close_sent": True}, {"state": State.CLOSING}):
        p = _protocol(**reason)
        assert not RawWriter(p).write(frame), reason
        assert p.written == []


def test_a_socket_from_another_server_has_no_raw_writer() -> None:
    fake = SimpleNamespace(scope={"type": "websocket"})
    assert raw_writer(fake) is None  # type: ignore[arg-type]
