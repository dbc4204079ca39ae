"""Broadcast frames encoded once and written straight to each socket's transport.

Why: going through ASGI, every socket of a broadcast re-encoded and re-framed the same
message and walked four layers of ``send``; for 3,000 phones that was most of the
fan-out's cost above a bare send loop (BENCHMARKS.md). When the server is uvicorn with
its websockets-sansio protocol (our ``wenzheng serve``), a broadcast message is framed
once here and the frame bytes are written to each open, writable transport, the same
way ``websockets.broadcast`` does. Anything else — another server, a socket that is
closing or whose buffer is full, a negotiated extension — takes the ordinary ASGI send,
which knows how to wait.

:class:`CaptureRawSend` is the ASGI middleware that remembers the server's own ``send``
for each websocket, before Starlette wraps it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from websockets.frames import Frame, Opcode
from websockets.protocol import State

try:  # uvicorn is our server; the fast path is simply off without it
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]

RAW_SEND = "wenzheng.raw_send"


class CaptureRawSend:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    # A plain function returning the next app's coroutine: no frame of its own held for
    # the hours a phone's socket lives (server/web/lean_protocols.py, issue 20).
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
        return self.app(scope, receive, send)


def text_frame(message: str) -> bytes:
    """One unmasked, unfragmented server text frame."""
    return bytes(Frame(Opcode.TEXT, message.encode()).serialize(mask=False, extensions=[]))


class RawWriter:
    """Writes ready frames to one uvicorn websocket, or says it cannot right now."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    def write(self, frame: bytes) -> bool:
        p = self._protocol
        if p.close_sent or p.conn.state is not State.OPEN or not p.writable.is_set():
            return False
        if p.transport.is_closing():
            return False
        p.transport.write(frame)
        return True


def raw_writer(websocket: WebSocket) -> RawWriter | None:
    """A direct writer for this socket, or None when only ASGI can send to it."""
    send = websocket.scope.get(RAW_SEND)
    protocol = getattr(send, "__self__", None)
    if WebSocketsSansIOProtocol is None or not isinstance(protocol, WebSocketsSansIOProtocol):
        return None
    if protocol.conn.extensions:  # e.g. permessage-deflate: frames differ per socket
        return None
    return RawWriter(protocol)
