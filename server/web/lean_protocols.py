"""uvicorn's protocols, holding less per connected phone (issue 20: at most 25 KiB each).

A phone in the hall holds two connections for hours: a keep-alive HTTP connection (its
check-in and ratings) and its websocket. Measured with tracemalloc, most of what uvicorn
keeps per connection is the leftover of a request that is over:

- an idle keep-alive connection keeps its last request: the request-response cycle, its
  scope, its header list and an ``asyncio.Event`` (whose empty ``deque`` alone is about
  600 bytes). :class:`LeanHttpProtocol` lets go of them once the response is complete
  (the next request builds its own anyway), after waking anything still waiting on that
  cycle, which then hears ``http.disconnect`` as it would when the connection closed; and
  its queue of pipelined requests is made only when a client pipelines (:class:`Pipeline`).
- a websocket keeps the handshake's parsed request and response (two ``Headers`` with a
  dict and a list each) for its whole life (the request also in the frame of websockets'
  parser generator), and an ``asyncio.Queue`` (four deques) and an
  ``asyncio.Event`` that never hold more than a message or a waiter at a time.
  :class:`LeanWebSocketProtocol` drops the handshake once accepted and uses
  :class:`Inbox` and :class:`Gate`, which allocate nothing until there is something to
  hold.

Behaviour is uvicorn's own: the subclasses only replace containers with ones of the same
interface and drop references uvicorn never reads again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Generic, TypeVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

T = TypeVar("T")


class Inbox(Generic[T]):
    """The part of ``asyncio.Queue`` uvicorn's websocket uses (unbounded, FIFO), holding
    a plain list instead of four deques: it never holds more than a message or two."""

    __slots__ = ("_getters", "_items")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._getters: list[asyncio.Future[None]] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        self._wake_next()

    def get_nowait(self) -> T:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def get(self) -> T:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = []
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                self._forget(getter)
                # Woken and cancelled at once: hand the wake-up on (as asyncio.Queue does).
                if self._items and not getter.cancelled():
                    self._wake_next()
                raise
            self._forget(getter)
        return self._items.pop(0)

    def _forget(self, getter: asyncio.Future[None]) -> None:
        if self._getters is not None and getter in self._getters:
            self._getters.remove(getter)
            if not self._getters:
                self._getters = None

    def _wake_next(self) -> None:
        for getter in self._getters or ():
            if not getter.done():
                getter.set_result(None)
                return


class Gate:
    """``asyncio.Event`` without a deque per instance: a list of waiters made only while
    someone waits (uvicorn's ``writable`` is almost always set)."""

    __slots__ = ("_open", "_waiters")

    def __init__(self) -> None:
        self._open = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._open

    def set(self) -> None:
        if self._open:
            return
        self._open = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> bool:
        if self._open:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol without the handshake kept for the socket's life."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Gate()  # type: ignore[assignment]
        self.writable.set()

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and "response" in self.__dict__:
            # Read only while answering the handshake (uvicorn's send and handle_connect).
            del self.response
            request = self.__dict__.pop("request", None)
            if request is not None:
                # websockets' parser keeps the request in its generator's frame for the
                # socket's life; its headers are in the scope already (copied by uvicorn).
                request.headers.clear()


class Pipeline:
    """The part of ``deque`` uvicorn's HTTP protocol uses for pipelined requests, made
    only when a client pipelines (an empty deque is about 600 bytes; phones never do)."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: deque[Any] | None = None

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items) if self._items is not None else 0

    def appendleft(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.appendleft(item)

    def pop(self) -> Any:
        if self._items is None:
            raise IndexError("pop from an empty pipeline")
        item = self._items.pop()
        if not self._items:
            self._items = None
        return item


class LeanHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that forgets a request once its response is complete."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pipeline = Pipeline()  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = self.cycle
        if cycle is None or not cycle.response_complete or self.pipeline or self.transport.is_closing():
            return
        # A task still waiting on this cycle hears http.disconnect now (its response is
        # over), rather than when the connection closes, as uvicorn would tell it.
        cycle.message_event.set()
        self.cycle = None  # type: ignore[assignment]
        self.scope = None  # type: ignore[assignment]
        self.headers = None  # type: ignore[assignment]
        self.url = b""
