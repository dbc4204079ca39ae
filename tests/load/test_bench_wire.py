"""The bench's raw wire, without a server: what it reads must be what a server sent.

A response split anywhere must come out whole; a frame split anywhere must be read once;
the seq a phone holds must be the highest one its socket carried; pings are answered.
"""

from __future__ import annotations

import asyncio

from server.bench.wire import HttpConn, WsConn, client_frame, hello_frame, set_cookies


class Phone:
    """The wire's meter: bytes received and the seqs seen."""

    def __init__(self) -> None:
        self.rx = 0
        self.seqs: list[int] = []

    def saw_seq(self, seq: int, at_ns: int) -> None:
        self.seqs.append(seq)


class Transport(asyncio.Transport):
    """Keeps what the client wrote (the wire under test writes only through it)."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True


def _unmask(frame: bytes) -> tuple[int, bytes]:
    """What a server reads from a client frame (the opcode and the unmasked payload)."""
    assert frame[1] & 0x80, "client frames must be masked"
    n, at = frame[1] & 0x7F, 2
    if n == 126:
        n, at = int.from_bytes(frame[2:4], "big"), 4
    key, body = frame[at : at + 4], frame[at + 4 : at + 4 + n]
    return frame[0] & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(body))


def _server_frame(payload: bytes, opcode: int = 1) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    return bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big") + payload


def test_a_response_split_anywhere_comes_out_whole() -> None:
    async def run() -> None:
        phone = Phone()
        conn = HttpConn(phone)
        conn.connection_made(Transport())
        body = "<p>已记录</p>".encode() * 50
        raw = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\ncontent-type: text/html\r\n\r\n" % len(body) + body
        for cut in (1, 17, len(raw) - 1):
            future = conn.request(b"GET / HTTP/1.1\r\n\r\n")
            conn.data_received(raw[:cut])
            assert not future.done()
            conn.data_received(raw[cut:])
            status, head, got = await future
            assert (status, got) == (200, body) and b"content-type" in head
        chunked = b"HTTP/1.1 303 See Other\r\nlocation: /d/1\r\ntransfer-encoding: chunked\r\n\r\n"
        chunked += b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        future = conn.request(b"POST / HTTP/1.1\r\n\r\n")
        for i in range(len(chunked)):  # one byte at a time
            conn.data_received(chunked[i : i + 1])
        assert (await future)[0::2] == (303, b"hello world")
        assert phone.rx == 3 * len(raw) + len(chunked)
        future = conn.request(b"GET / HTTP/1.1\r\n\r\n")
        conn.connection_lost(None)  # the server closed the idle connection: the phone sends again
        assert isinstance(future.exception(), ConnectionResetError) and conn.closed

    asyncio.run(run())


def test_the_socket_keeps_the_highest_seq_and_answers_pings() -> None:
    async def run() -> None:
        phone = Phone()
        ws = WsConn(phone)
        transport = Transport()
        ws.connection_made(transport)
        handshake = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n"
        snapshot = ('<div id="a" data-seq="41">' + "页" * 100 + '</div><div data-seq="42"></div>').encode()
        stream = (
            handshake
            + _server_frame(snapshot)
            + _server_frame(b'{"type": "hello", "seq": 42}')
            + _server_frame(b"are you there", 9)
            + _server_frame(b'<div data-seq="43"></div>')
        )
        for i in range(0, len(stream), 7):  # frames cut at odd places
            ws.data_received(stream[i : i + 7])
        assert ws.opened.done() and await ws.hello == 42
        assert phone.seqs == [42, 42, 43]  # the snapshot's highest, the hello's, the update's
        assert ws.hello_rx == len(stream) - 2 - len(b"are you there") - 2 - len(b'<div data-seq="43"></div>')
        assert phone.rx == ws.rx == len(stream)
        assert _unmask(bytes(transport.written)) == (10, b"are you there")  # the pong

    asyncio.run(run())


def test_a_refused_handshake_fails_the_socket() -> None:
    async def run() -> None:
        ws = WsConn(Phone())
        ws.connection_made(Transport())
        ws.data_received(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
        assert isinstance(ws.opened.exception(), ConnectionRefusedError)

    asyncio.run(run())


def test_client_frames_are_masked_and_read_back() -> None:
    assert _unmask(hello_frame(17)) == (1, b'{"type": "hello", "seq": 17}')
    long = "好".encode() * 100  # 300 bytes: the 16-bit length
    assert _unmask(client_frame(long)) == (1, long)
    assert _unmask(client_frame(b"", 8)) == (8, b"")


def test_set_cookie_values_go_back_as_they_came() -> None:
    head = b'HTTP/1.1 303 See Other\r\nset-cookie: wz_deputy="a.b"; HttpOnly; Path=/\r\nSet-Cookie: x=1\r\n'
    assert set_cookies(head) == {"wz_deputy": '"a.b"', "x": "1"}
