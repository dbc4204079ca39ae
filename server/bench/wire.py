"""The phones' wire: raw HTTP/1.1 keep-alive connections and raw websocket clients.

A full HTTP client per phone (httpx) and a full websocket client (``websockets``) cost
more CPU per request than the server spends answering it, so their p99 measured the
client. These two asyncio protocols do the least a phone's browser must: send bytes that
were built beforehand, find the end of each response (status line, ``Content-Length`` or
chunked), and, on a socket, split the server's frames, answer pings, and note the highest
``data-seq`` a message carried and when. Every byte received is counted for the phone
(bytes on the air).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from typing import Protocol, cast

SEQ_RE = re.compile(rb'data-seq="(\d+)"')
HELLO_SEQ_RE = re.compile(rb'"seq": ?(-?\d+)')
CRLF2 = b"\r\n\r\n"

# status, head (status line and headers), body
Reply = tuple[int, bytes, bytes]


class Meter(Protocol):
    """Who counts the bytes and keeps the seqs: the phone (or a probe)."""

    rx: int

    def saw_seq(self, seq: int, at_ns: int) -> None: ...


class HttpConn(asyncio.Protocol):
    """One keep-alive connection: one request in flight at a time, as a page's fetches are."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[Reply] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass of it

    def data_received(self, data: bytes) -> None:
        self.meter.rx += len(data)
        self.buf += data
        if self.waiter is not None:
            self._complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionResetError("closed by the server"))

    def _complete(self) -> None:
        buf = self.buf
        end = buf.find(CRLF2)
        if end < 0:
            return
        head = bytes(buf[:end])
        start = end + 4
        at = head.find(b"\r\ncontent-length: ")
        if at < 0:
            at = head.lower().find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r", at + 2)
            total = start + int(head[head.index(b":", at) + 1 : stop if stop > 0 else len(head)])
            if len(buf) < total:
                return
            body = bytes(buf[start:total])
        elif b"chunked" in head.lower():
            parsed = _chunked(buf, start)
            if parsed is None:
                return
            body, total = parsed
        else:
            body, total = b"", start
        del buf[:total]
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((int(head[9:12]), head, body))

    def request(self, data: bytes) -> asyncio.Future[Reply]:
        """Send one pre-built request; the future gets its reply."""
        if self.closed or self.transport is None:
            raise ConnectionResetError("connection closed")
        waiter: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.waiter = waiter
        self.transport.write(data)
        return waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _chunked(buf: bytearray, at: int) -> tuple[bytes, int] | None:
    """A chunked body starting at ``at``: the body and where it ends, or None (incomplete)."""
    parts: list[bytes] = []
    while True:
        eol = buf.find(b"\r\n", at)
        if eol < 0:
            return None
        size = int(bytes(buf[at:eol]).split(b";")[0], 16)
        if size == 0:
            end = buf.find(CRLF2, eol)
            return (b"".join(parts), end + 4) if end >= 0 else None
        if len(buf) < eol + 2 + size + 2:
            return None
        parts.append(bytes(buf[eol + 2 : eol + 2 + size]))
        at = eol + 2 + size + 2


def client_frame(payload: bytes, opcode: int = 1) -> bytes:
    """A masked client frame (clients must mask; the key is random, as RFC 6455 asks)."""
    n = len(payload)
    key = os.urandom(4)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    if n:
        mask = int.from_bytes((key * (n // 4 + 1))[:n], "big")
        payload = (int.from_bytes(payload, "big") ^ mask).to_bytes(n, "big")
    return header + key + payload


def hello_frame(seq: int) -> bytes:
    return client_frame(b'{"type": "hello", "seq": %d}' % seq)


CLOSE_FRAME_BODY = (1001).to_bytes(2, "big")  # going away: the page was left


class WsConn(asyncio.Protocol):
    """A raw websocket client: the handshake reply, then server frames (never masked)."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.hello: asyncio.Future[int] = loop.create_future()
        self.rx = 0  # bytes this socket received (handshake reply included)
        self.consumed = 0  # bytes read as a whole handshake reply or frame
        self.hello_rx = 0  # bytes up to and including the hello reply
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass of it

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for future in (self.opened, self.hello):
            if not future.done():
                future.set_exception(ConnectionResetError("socket closed"))

    def data_received(self, data: bytes) -> None:
        self.meter.rx += len(data)
        self.rx += len(data)
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(CRLF2)
            if end < 0:
                return
            if buf[9:12] != b"101":
                if not self.opened.done():
                    self.opened.set_exception(
                        ConnectionRefusedError(bytes(buf[:12]).decode(errors="replace"))
                    )
                self.close()
                return
            del buf[: end + 4]
            self.consumed += end + 4
            self.upgraded = True
            if not self.opened.done():
                self.opened.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            length, header = buf[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, header = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, header = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < header + length:
                break
            opcode = buf[pos] & 0x0F
            payload = bytes(buf[pos + header : pos + header + length])
            pos += header + length
            self.consumed += header + length
            self._frame(opcode, payload)
        if pos:
            del buf[:pos]

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode in (0, 1):
            if payload[:1] == b"{":
                if b'"hello"' in payload and not self.hello.done():
                    found = HELLO_SEQ_RE.search(payload)
                    seq = int(found.group(1)) if found else -1
                    self.hello_rx = self.consumed
                    self.meter.saw_seq(seq, time.time_ns())
                    self.hello.set_result(seq)
                return
            seqs = SEQ_RE.findall(payload)
            if seqs:
                self.meter.saw_seq(max(map(int, seqs)), time.time_ns())
        elif opcode == 9 and self.transport is not None:  # ping: pong with its payload
            self.transport.write(client_frame(payload, 10))
        elif opcode == 8:
            self.close()

    def send_hello(self, seq: int) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(hello_frame(seq))

    def close(self) -> None:
        """A page left: a close frame, then the connection goes."""
        if self.transport is not None and not self.closed:
            self.transport.write(client_frame(CLOSE_FRAME_BODY, 8))
            self.transport.close()

    def drop(self) -> None:
        """The Wi-Fi went: the connection is gone without a word."""
        if self.transport is not None:
            self.transport.abort()


def handshake(host: str, path: str, cookie: str, origin: str) -> bytes:
    """A websocket handshake, built once per phone."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: d2VuemhlbmctYmVuY2gtMQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\nCookie: {cookie}\r\n\r\n"
    ).encode()


def get(host: str, path: str, cookie: str = "", extra: str = "") -> bytes:
    cookie_line = f"Cookie: {cookie}\r\n" if cookie else ""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{cookie_line}{extra}\r\n".encode()


def post_head(host: str, path: str, cookie: str, length: int, extra: str = "") -> bytes:
    """The head of a form POST whose body length is known (a fresh key keeps its length)."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n{extra}\r\n"
    ).encode()


def header(head: bytes, name: bytes) -> bytes | None:
    """One header's value (``name`` in lower case); only for binding and redirects."""
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def set_cookies(head: bytes) -> dict[str, str]:
    found = {}
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"set-cookie":
            pair = value.strip().split(b";", 1)[0].decode()
            name, _, v = pair.partition("=")
            found[name.strip()] = v.strip()  # sent back as it came (quoted or not)
    return found
