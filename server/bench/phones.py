"""One simulated phone, on the raw wire of ``wire.py``: what a deputy's browser does.

1. bind (setup, not measured): GET the invitation link and follow its redirects on the
   phone's own keep-alive connection; keep ``wz_deputy``, the CSRF token and the page's
   seq; from then on every request is built once, as bytes;
2. connect: open ``/ws/{m}/deputy`` and send ``hello`` with the page's seq;
3. the whole check-in, at the phone's slot in the window: GET the hall page the QR opens,
   POST the check-in (answered with the deputy's page; from a server before December 2026,
   a 303 to it, which the phone follows), then close the old socket, open a new one and
   send ``hello`` with that page's seq; latency of the
   POST alone, and of the flow (hall page sent -> hello answered). The hall grant cookie
   the hall page sets is not sent back: the code is fresh, and the server reads the grant
   only for an expired code;
4. rate, at its slot in the rating window: POST a choice with a fresh ballot key, the
   page's CSRF header and ``HX-Request``; latency is POST sent -> 200 with 已记录.

A request whose connection the server closed (uvicorn drops idle keep-alive connections)
is sent again on a new connection, as a browser does; the outcome says so.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from urllib.parse import quote, urlsplit

from server.base.keys import Keys
from server.bench.common import BenchError, sleep_until_ns
from server.bench.wire import HttpConn, Reply, WsConn, get, handshake, header, post_head, set_cookies

CSRF_RE = re.compile(r'"X-CSRF-Token": "([^"]+)"')
BODY_SEQ_RE = re.compile(rb'<body[^>]*\bdata-seq="(\d+)"')
RECORDED = "已记录".encode()
CHECKED_IN = "已签到".encode()  # the phone's own status line on its page
CHOICES = ("satisfied", "basic", "dissatisfied")
ATTEMPTS = 3

# deputy_id, sent_ns (first attempt), received_ns, receipted, status code or error name,
# attempts, whether the request had to open a new TCP connection
Outcome = tuple[int, int, int, bool, str, int, bool]
# deputy_id, flow started, flow ended (hello answered), all four steps right, the step that
# failed or "ok", bytes the reopened socket took until its hello was answered
Flow = tuple[int, int, int, bool, str, int]


class Target:
    """Where the phones' requests go (the server, or the floor)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.url = url.rstrip("/")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.authority = parts.netloc


class Phone:
    """One deputy's phone: its cookie, its keep-alive connection, its live socket."""

    def __init__(self, index: int, total: int, deputy_id: int, token: str) -> None:
        self.index, self.total, self.deputy_id, self.token = index, total, deputy_id, token
        self.cookie = ""
        self.csrf = ""
        self.page_seq = -1
        self.http: dict[str, HttpConn] = {}  # one keep-alive connection per target
        self.ws: WsConn | None = None
        self.rx = 0  # every byte received, HTTP responses and socket frames
        self.highest = -1  # the highest seq this phone holds
        self.log: list[tuple[int, int]] = []  # (when, seq) each time ``highest`` rose
        self.new_connections = 0
        self.receipt_size = 0  # the body of the last rating receipt

    # The wire's Meter
    def saw_seq(self, seq: int, at_ns: int) -> None:
        if seq > self.highest:
            self.highest = seq
            self.log.append((at_ns, seq))

    def first_at_least(self, seq: int, since_ns: int = 0) -> int | None:
        for at, s in self.log:
            if s >= seq and at >= since_ns:
                return at
        return None

    async def _open(self, to: Target) -> HttpConn:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(lambda: HttpConn(self), to.host, to.port)
        return conn

    async def request(self, to: Target, data: bytes) -> tuple[Reply, int, bool]:
        """One request on the keep-alive connection (a new one when the server closed it);
        the reply, the attempts and whether a new connection was opened."""
        fresh = False
        for attempt in range(1, ATTEMPTS + 1):
            conn = self.http.get(to.url)
            if conn is None or conn.closed:
                conn = self.http[to.url] = await self._open(to)
                self.new_connections += 1
                fresh = True
            try:
                return await conn.request(data), attempt, fresh
            except ConnectionError:
                self.http.pop(to.url, None)
        raise ConnectionResetError("no reply after retries")

    def slot_ns(self, start_ns: int, window_s: float) -> int:
        return start_ns + int(self.index * window_s * 1e9 / self.total)

    async def bind(self, server: Target, meeting_id: int) -> None:
        """The invitation link and its redirects, then the page (setup: not measured)."""
        path = f"/i/{meeting_id}/{self.token}"
        cookies: dict[str, str] = {}
        for _ in range(6):
            cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
            (status, head, body), _, _ = await self.request(server, get(server.authority, path, cookie))
            cookies.update(set_cookies(head))
            if status in (301, 302, 303, 307):
                location = (header(head, b"location") or b"").decode()
                path = urlsplit(location).path + (
                    f"?{urlsplit(location).query}" if urlsplit(location).query else ""
                )
                continue
            if status != 200 or "wz_deputy" not in cookies:
                raise BenchError(f"invitation: {status}")
            csrf = CSRF_RE.search(body.decode())
            seq = BODY_SEQ_RE.search(body)
            if not csrf or not seq:
                raise BenchError("invitation: page without csrf or seq")
            self.cookie = f"wz_deputy={cookies['wz_deputy']}"
            self.csrf = csrf.group(1)
            self.page_seq = int(seq.group(1))
            self.saw_seq(self.page_seq, time.time_ns())
            self.new_connections = 0
            return
        raise BenchError("invitation: too many redirects")

    async def open_socket(self, server: Target, meeting_id: int, seq: int) -> WsConn:
        """A new socket and its hello; returns once the hello is answered."""
        loop = asyncio.get_running_loop()
        _, ws = await loop.create_connection(lambda: WsConn(self), server.host, server.port)
        self.ws = ws
        assert ws.transport is not None
        ws.transport.write(handshake(server.authority, f"/ws/{meeting_id}/deputy", self.cookie, server.url))
        await asyncio.wait_for(ws.opened, 60)
        ws.send_hello(seq)
        await asyncio.wait_for(ws.hello, 60)
        return ws


class Requests:
    """The requests of one phone to one target, built once (a fresh key per rating)."""

    def __init__(self, phone: Phone, to: Target, meeting_id: int, question_id: int) -> None:
        host = to.authority
        self.receipt_page = get(host, f"/d/{meeting_id}?checked_in=1", phone.cookie)
        choice = CHOICES[phone.index % len(CHOICES)]
        self.rate_body = f"question_id={question_id}&choice={choice}&ballot_key=".encode()
        extra = f"X-CSRF-Token: {phone.csrf}\r\nHX-Request: true\r\n"
        self.rate_head = post_head(
            host, f"/d/{meeting_id}/rate", phone.cookie, len(self.rate_body) + 16, extra
        )
        self.checkin_body = f"csrf={quote(phone.csrf)}".encode()
        self.host, self.meeting_id, self.cookie = host, meeting_id, phone.cookie
        self._code = ""
        self._hall: tuple[bytes, bytes] = (b"", b"")

    def hall(self, code: str) -> tuple[bytes, bytes]:
        """The hall page and the check-in POST for the hall code shown now."""
        if code != self._code:
            path = f"/h/{self.meeting_id}/{code}"
            post = post_head(self.host, path, self.cookie, len(self.checkin_body)) + self.checkin_body
            self._code, self._hall = code, (get(self.host, path, self.cookie), post)
        return self._hall

    def rating(self) -> bytes:
        return self.rate_head + self.rate_body + os.urandom(8).hex().encode()


async def check_in(
    phone: Phone, server: Target, req: Requests, keys: Keys, hall_seconds: int, start_ns: int, window_s: float
) -> tuple[Outcome, Flow]:
    """The whole check-in of one phone at its slot."""
    await sleep_until_ns(phone.slot_ns(start_ns, window_s))
    m_id = req.meeting_id
    page, post = req.hall(keys.hall_code(m_id, int(time.time() // hall_seconds)))
    began = time.time_ns()
    outcome: Outcome = (phone.deputy_id, began, began, False, "not sent", 0, False)
    step = "hall page"
    try:
        (status, _, _), _, _ = await phone.request(server, page)
        if status != 200:
            return outcome, (phone.deputy_id, began, time.time_ns(), False, f"hall page {status}", 0)
        step = "check-in"
        sent = time.time_ns()
        (status, head, body), attempts, fresh = await phone.request(server, post)
        # A bound phone is answered with its page; servers before December 2026 answered
        # with a 303 to it, which the phone follows (so the bench still drives them).
        done = (status == 200 and CHECKED_IN in body) or (status == 303 and b"checked_in=1" in head)
        outcome = (phone.deputy_id, sent, time.time_ns(), done, str(status), attempts, fresh)
        if not done:
            return outcome, (phone.deputy_id, began, time.time_ns(), False, f"check-in {status}", 0)
        if status == 303:
            step = "receipt page"
            (status, _, body), _, _ = await phone.request(server, req.receipt_page)
        seq = BODY_SEQ_RE.search(body)
        if status != 200 or not seq:
            return outcome, (phone.deputy_id, began, time.time_ns(), False, f"{step} {status}", 0)
        phone.saw_seq(int(seq.group(1)), time.time_ns())
        step = "socket"
        if phone.ws is not None:
            phone.ws.close()
        ws = await phone.open_socket(server, m_id, int(seq.group(1)))
        return outcome, (phone.deputy_id, began, time.time_ns(), True, "ok", ws.hello_rx)
    except (OSError, TimeoutError) as exc:
        failed = f"{step}: {type(exc).__name__}"
        if step == "check-in":
            outcome = (phone.deputy_id, began, time.time_ns(), False, type(exc).__name__, ATTEMPTS, True)
        return outcome, (phone.deputy_id, began, time.time_ns(), False, failed, 0)


async def rate(phone: Phone, to: Target, req: Requests, start_ns: int, window_s: float) -> Outcome:
    await sleep_until_ns(phone.slot_ns(start_ns, window_s))
    data = req.rating()
    sent = time.time_ns()
    try:
        (status, _, body), attempts, fresh = await phone.request(to, data)
    except OSError as exc:
        return (phone.deputy_id, sent, time.time_ns(), False, type(exc).__name__, ATTEMPTS, True)
    received = time.time_ns()
    phone.receipt_size = len(body)
    return (phone.deputy_id, sent, received, status == 200 and RECORDED in body, str(status), attempts, fresh)
