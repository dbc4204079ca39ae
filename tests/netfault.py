"""A TCP proxy on loopback that can lose the network, as a phone in the hall does.

Put it between a browser (or any client) and a real server; then

- ``drop_replies()``: requests still reach the server, nothing comes back (the phone's
  Wi-Fi dies after it sent its ballot: the ballot lands, the receipt is lost);
- ``cut()``: every open connection is reset and new ones are refused (the phone is off
  the network: nothing leaves it);
- ``restore()``: the network is back.

Nothing is mocked: the server sees real connections come and go.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator


def _reset(sock: socket.socket) -> None:
    """Close with RST, not FIN: the way a connection dies when the network goes."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        # A close alone waits for the other thread blocked in recv() on this socket.
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.mode = "pass"  # pass | drop_replies | cut
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "cut":
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, reply: bool) -> None:
        try:
            while data := src.recv(65536):
                if self.mode == "cut":
                    break
                if reply and self.mode == "drop_replies":
                    continue
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _reset(src)
            _reset(dst)

    def drop_replies(self) -> None:
        self.mode = "drop_replies"

    def cut(self) -> None:
        self.mode = "cut"
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            _reset(client)
            _reset(upstream)

    def restore(self) -> None:
        self.mode = "pass"

    def close(self) -> None:
        self._stopped = True
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()


@contextlib.contextmanager
def fault_proxy(target_port: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy(target_port)
    try:
        yield proxy
    finally:
        proxy.close()
