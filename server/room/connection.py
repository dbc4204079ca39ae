"""One screen's socket in a room: sends that start at once, and a bounded backlog.

A send starts in the caller (:mod:`server.room.eager`); one that has to wait gets a task
and a backlog, so one slow phone cannot hold up the hall, and a socket that falls
``QUEUE_LIMIT`` messages behind is refused more: the hub closes it, and its page
reconnects and resyncs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass

from starlette.websockets import WebSocket

from server.room import eager
from server.room.fastsend import RawWriter

QUEUE_LIMIT = 64


@dataclass(eq=False, slots=True)
class Connection:
    """One screen's socket. Sends start at once in the caller (:mod:`server.room.eager`);
    a send that has to wait, and whatever is offered meanwhile, goes to a task in order.

    Held for hours per phone, so it keeps little: slots, and a backlog made only when a
    send has to wait (an empty deque is about 600 bytes; issue 20).
    """

    websocket: WebSocket
    audience: str
    deputy_id: int | None = None
    phone: str = ""  # a deputy's phone (server.storage.phones): signed out when its card moves
    ready: bool = False
    raw: RawWriter | None = None
    backlog: deque[str] | None = None
    sending: asyncio.Future[None] | None = None
    broken: bool = False

    def offer(self, message: str, frame: bytes | None = None) -> bool:
        """Send or queue ``message``; False when this socket is too far behind.

        ``frame`` is the message already framed for a broadcast (:mod:`server.room.fastsend`).
        """
        if self.broken:
            return True  # the socket's own endpoint is tearing it down
        if frame is not None and self.sending is None and self.raw is not None and self.raw.write(frame):
            return True
        if self.sending is not None:
            if self.backlog is None:
                self.backlog = deque()
            if len(self.backlog) >= QUEUE_LIMIT:
                return False
            self.backlog.append(message)
            return True
        try:
            waiting = eager.start(self.websocket.send_text(message))
        except Exception:
            self.broken = True
            return True
        if waiting is not None:
            self.sending = asyncio.ensure_future(self._drain(waiting))
        return True

    async def _drain(self, first: asyncio.Task[None]) -> None:
        try:
            await first
            while self.backlog:
                await self.websocket.send_text(self.backlog.popleft())
        except Exception:
            self.broken = True
        finally:
            self.sending = None
            self.backlog = None

    def stop(self) -> None:
        if self.sending is not None:
            self.sending.cancel()
            self.sending = None
        self.backlog = None

    async def tell_and_close(self, message: str, code: int) -> None:
        """Send a last message after whatever is on its way, then close (a signed-out phone
        is told why before its socket goes)."""
        if self.sending is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self.sending), 2)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.send_text(message), 2)
        await self.close(code)

    async def close(self, code: int = 1013) -> None:
        """Close the socket; 1013 (try again later) makes the page reconnect, 1008 not."""
        self.stop()
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code)
