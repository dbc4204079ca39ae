"""One simulated phone: what a deputy's browser page does, over the real protocol.

1. bind: GET the invitation link (sets ``wz_deputy``), follow it to the page, read the
   CSRF token and the page's seq from it;
2. connect: open ``/ws/{m}/deputy`` with the cookie and send ``hello``; every message
   received from then on is logged with its arrival time and its highest ``data-seq``;
3. check in: at its slot in the window, POST the hall code (the QR code of the hall,
   computed with the server's secret); latency is POST sent -> 303 received;
4. rate: at its slot in the rating window, POST a choice with a fresh ballot key (as the
   page script does per form); latency is POST sent -> 200 with 已记录.

A POST that fails on the wire is retried with the same form, as the page does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.base.keys import Keys
from server.bench.common import sleep_until_ns

SEQ_RE = re.compile(r'data-seq="(\d+)"')
CSRF_RE = re.compile(r'"X-CSRF-Token": "([^"]+)"')
BODY_SEQ_RE = re.compile(r'<body[^>]*\bdata-seq="(\d+)"')
RECORDED = "已记录"
CHOICES = ("satisfied", "basic", "dissatisfied")
ATTEMPTS = 3  # a reply lost on the wire is retried with the same form, as the page does


@dataclass(frozen=True)
class PhoneSpec:
    index: int  # 0..N-1 over all processes: the phone's slot in the window
    deputy_id: int
    token: str  # the invitation token


@dataclass(frozen=True)
class ProcessSpec:
    base_url: str
    meeting_id: int
    secret: str
    hall_seconds: int
    total: int
    phones: tuple[PhoneSpec, ...]


# deputy_id, sent_ns (first attempt), received_ns, receipted, status code or error name, attempts
# and whether the request had to open a new TCP connection (the server closed the idle one)
Outcome = tuple[int, int, int, bool, str, int, bool]


def _local_port(r: httpx.Response) -> int | None:
    stream = r.extensions.get("network_stream")
    address = stream.get_extra_info("client_addr") if stream is not None else None
    return int(address[1]) if address else None


class Phone:
    """One deputy's phone: its own cookies, HTTP connection and live socket."""

    def __init__(self, spec: ProcessSpec, me: PhoneSpec) -> None:
        self.spec = spec
        self.me = me
        self.client = httpx.AsyncClient(
            base_url=spec.base_url,
            trust_env=False,
            timeout=httpx.Timeout(60.0),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"User-Agent": f"wenzheng-bench phone {me.index}"},
        )
        self.csrf = ""
        self.page_seq = -1
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.hello = asyncio.Event()
        self.log: list[tuple[int, int, int]] = []  # received_ns, highest data-seq, length
        self.local_port: int | None = None  # of the HTTP connection last used
        self.floor_ns: int | None = None

    async def bind(self) -> str | None:
        m_id = self.spec.meeting_id
        r = await self.client.get(f"/i/{m_id}/{self.me.token}", follow_redirects=True)
        if r.status_code != 200 or "wz_deputy" not in self.client.cookies:
            return f"invitation: {r.status_code}"
        csrf = CSRF_RE.search(r.text)
        seq = BODY_SEQ_RE.search(r.text)
        if not csrf or not seq:
            return "invitation: page without csrf or seq"
        self.csrf, self.page_seq = csrf.group(1), int(seq.group(1))
        self.local_port = _local_port(r)
        return None

    async def connect(self) -> None:
        ws_base = self.spec.base_url.replace("http", "ws", 1)
        cookie = self.client.cookies.get("wz_deputy") or ""
        self.ws = await connect(
            f"{ws_base}/ws/{self.spec.meeting_id}/deputy",
            additional_headers={"Cookie": f"wz_deputy={cookie}"},
            compression=None,
            proxy=None,
            ping_interval=None,
            max_size=None,
            open_timeout=60,
        )
        self.reader = asyncio.create_task(self._read(self.ws))
        await self.ws.send(json.dumps({"type": "hello", "seq": self.page_seq}))
        await asyncio.wait_for(self.hello.wait(), 60)

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                now = time.time_ns()
                text = raw if isinstance(raw, str) else raw.decode()
                if text.startswith("{"):
                    with contextlib.suppress(ValueError):
                        if json.loads(text).get("type") == "hello":
                            self.hello.set()
                    continue
                seqs = SEQ_RE.findall(text)
                self.log.append((now, max(map(int, seqs)) if seqs else -1, len(text)))

    def _slot_ns(self, start_ns: int, window_s: float) -> int:
        return start_ns + int(self.me.index * window_s * 1e9 / self.spec.total)

    async def _post(
        self, url: str, data: dict[str, str], headers: dict[str, str], done: Callable[[httpx.Response], bool]
    ) -> Outcome:
        """POST until a reply comes (a lost connection is retried with the same form)."""
        sent = time.time_ns()
        status = ""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                r = await self.client.post(url, data=data, headers=headers)
            except httpx.TransportError as exc:
                status = type(exc).__name__
                continue
            received = time.time_ns()
            before, self.local_port = self.local_port, _local_port(r)
            fresh = attempt > 1 or before != self.local_port
            return (self.me.deputy_id, sent, received, done(r), str(r.status_code), attempt, fresh)
        return (self.me.deputy_id, sent, time.time_ns(), False, status, ATTEMPTS, True)

    async def check_in(self, keys: Keys, start_ns: int, window_s: float) -> Outcome:
        await sleep_until_ns(self._slot_ns(start_ns, window_s))
        m_id = self.spec.meeting_id
        code = keys.hall_code(m_id, int(time.time() // self.spec.hall_seconds))
        return await self._post(
            f"/h/{m_id}/{code}",
            {"csrf": self.csrf},
            {},
            lambda r: r.status_code == 303 and "checked_in=1" in r.headers.get("location", ""),
        )

    async def rate(self, question_id: int, start_ns: int, window_s: float) -> Outcome:
        await sleep_until_ns(self._slot_ns(start_ns, window_s))
        form = {
            "question_id": str(question_id),
            "choice": CHOICES[self.me.index % len(CHOICES)],
            "ballot_key": secrets.token_hex(8),  # what the page script does per form
        }
        headers = {"X-CSRF-Token": self.csrf, "HX-Request": "true"}
        return await self._post(
            f"/d/{self.spec.meeting_id}/rate",
            form,
            headers,
            lambda r: r.status_code == 200 and RECORDED in r.text,
        )

    def first_at_least(self, seq: int) -> tuple[int, int] | None:
        """When this socket first got a message carrying ``seq`` or later, and its length."""
        for received, highest, length in self.log:
            if highest >= seq:
                return received, length
        return None

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()
        self.ws = None

    async def floor_connect(self, url: str) -> ClientConnection:
        """A socket to the floor server (see ``floor.py``) that notes its first message."""
        ws = await connect(
            url, compression=None, proxy=None, ping_interval=None, max_size=None, open_timeout=60
        )

        async def first() -> None:
            with contextlib.suppress(ConnectionClosed):
                await ws.recv()
                self.floor_ns = time.time_ns()

        self.reader = asyncio.create_task(first())
        return ws
