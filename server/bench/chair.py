"""The chair and the screens (in the main process): a logged-in console that sends the
chair's actions over HTTP, and the console, projector and script sockets that note when a
figure (实到, 已评) first showed a value, and how much each screen was sent.

The console does what its page's script does when the operator has a name typed in the
manual check-in search: it asks ``/roster`` again after each attendance update (when the
served ``live.js`` does so), so that cost counts too."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.bench.common import BenchError, ms, quantile
from server.bench.phones import CSRF_RE

CAST_RE = re.compile(r'id="c-cast">(\d+)<')
C_PRESENT_RE = re.compile(r'id="c-present">(\d+)<')
P_PRESENT_RE = re.compile(r'id="p-present">(\d+)<')


@dataclass
class Screen:
    """A console or projector socket that remembers when a figure first reached a value."""

    name: str
    patterns: dict[str, re.Pattern[str]]
    ws: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None
    firsts: dict[tuple[str, int], int] = field(default_factory=dict)
    values: dict[str, int] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    rtts: list[int] = field(default_factory=list)  # round trips of clock probes, ns
    received: int = 0  # messages (clock probes left out)
    received_bytes: int = 0
    on_attendance: Callable[[], None] | None = None  # the console's search follows 实到

    def sent_so_far(self) -> tuple[int, int]:
        return (self.received, self.received_bytes)

    async def open(self, url: str, cookie: str) -> None:
        self.ws = await connect(
            url,
            additional_headers={"Cookie": cookie},
            compression=None,
            proxy=None,
            ping_interval=None,
            max_size=None,
            open_timeout=30,
        )
        self.reader = asyncio.create_task(self._read(self.ws))
        await self.ws.send(json.dumps({"type": "hello", "seq": -1}))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                now = time.time_ns()
                text = raw if isinstance(raw, str) else raw.decode()
                if text.startswith('{"type": "time"'):
                    with contextlib.suppress(ValueError, TypeError):
                        self.rtts.append(now - int(json.loads(text)["t0"]))
                    continue
                self.received += 1
                self.received_bytes += len(raw)
                if self.on_attendance is not None and 'id="c-attendance"' in text:
                    self.on_attendance()
                for key, pattern in self.patterns.items():
                    found = pattern.search(text)
                    if found:
                        value = int(found.group(1))
                        self.values[key] = value
                        self.firsts.setdefault((key, value), now)
                self.changed.set()

    async def probe(self, every_s: float) -> None:
        """Clock probes (the page's own heartbeat): their round trip is the server's lag."""
        while self.ws is not None:
            await self.ws.send(json.dumps({"type": "time", "t0": time.time_ns()}))
            await asyncio.sleep(every_s)

    @contextlib.asynccontextmanager
    async def probing(self, name: str, into: dict[str, Any], every_s: float = 0.05) -> AsyncIterator[None]:
        first = len(self.rtts)
        task = asyncio.create_task(self.probe(every_s))
        try:
            yield
        finally:
            task.cancel()
            rtts = self.rtts[first:]
            into[f"{name}_probe_p50_ms"] = ms(quantile(rtts, 0.5))
            into[f"{name}_probe_max_ms"] = ms(max(rtts) if rtts else None)

    async def reached(self, key: str, value: int, timeout_s: float) -> int | None:
        """When ``key`` was first shown as ``value`` (waits up to ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while (key, value) not in self.firsts:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return self.firsts[(key, value)]

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()
        self.ws = None


def console_screen() -> Screen:
    return Screen("console", {"c-present": C_PRESENT_RE, "c-cast": CAST_RE})


def projector_screen() -> Screen:
    return Screen("projector", {"p-present": P_PRESENT_RE})


def script_screen() -> Screen:
    """The chair's script at the rostrum (issue 16): a screen that only receives."""
    return Screen("script", {})


@dataclass
class Chair:
    client: httpx.AsyncClient
    meeting_id: int
    csrf: str = ""
    searches: int = 0  # roster searches the console re-asked

    async def login(self, username: str, password: str) -> None:
        r = await self.client.post("/login", data={"username": username, "password": password, "next": "/"})
        if r.status_code != 303 or "wz_user" not in self.client.cookies:
            raise BenchError(f"chair login: {r.status_code}")
        page = await self.client.get(f"/m/{self.meeting_id}/console")
        found = CSRF_RE.search(page.text)
        if page.status_code != 200 or not found:
            raise BenchError(f"console page: {page.status_code}")
        self.csrf = found.group(1)

    async def act(self, cmd: str, **fields: str | int) -> tuple[int, int]:
        """Send one console action; returns when it was sent and when the reply came (ns)."""
        data = {"cmd": cmd, **{k: str(v) for k, v in fields.items()}}
        sent = time.time_ns()
        r = await self.client.post(
            f"/m/{self.meeting_id}/act", data=data, headers={"X-CSRF-Token": self.csrf, "HX-Request": "true"}
        )
        if r.status_code != 200:
            raise BenchError(f"chair action {cmd}: {r.status_code} {r.text[:200]}")
        return sent, time.time_ns()

    def follow_search(self, query: str) -> Callable[[], None]:
        """What the console page does with a search typed: re-ask it after each attendance
        update, at most one request in flight (an update while one is pending asks nothing more)."""
        busy: list[asyncio.Task[None]] = []
        self.searches = 0

        async def ask() -> None:
            with contextlib.suppress(httpx.HTTPError):
                await self.client.get(f"/m/{self.meeting_id}/roster", params={"q": query})
                self.searches += 1

        def again() -> None:
            if busy and not busy[0].done():
                return
            busy[:] = [asyncio.create_task(ask())]

        return again
