"""Real parts for the readiness tests: an SNTP server on loopback answering with a chosen
clock offset, and an HTTPS server with a self-signed certificate.

Both are the real protocols on real sockets (UDP, TLS), each in a thread for the test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NTP_EPOCH = 2_208_988_800
PACKET = struct.Struct("!B B b b 11I")


def _ntp(t: float) -> tuple[int, int]:
    return int(t + NTP_EPOCH), int(((t + NTP_EPOCH) % 1) * 2**32)


@contextlib.contextmanager
def sntp_server(offset: float, stratum: int = 2, answer: bool = True) -> Iterator[str]:
    """An SNTP server on 127.0.0.1 whose clock is ``offset`` seconds from ours; yields
    "127.0.0.1:port". ``answer=False``: it reads requests and never replies."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            if not answer or len(data) < PACKET.size:
                continue
            asked = PACKET.unpack(data[: PACKET.size])
            now = time.time() + offset
            flags = (0 << 6) | (4 << 3) | 4  # version 4, mode 4 (server)
            reply = PACKET.pack(
                flags, stratum, 4, -20, 0, 0, 0, *_ntp(now - 60), asked[13], asked[14], *_ntp(now), *_ntp(now)
            )
            sock.sendto(reply, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        sock.close()


def closed_udp_port() -> str:
    """A loopback UDP port nothing listens on (the kernel answers port unreachable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _Health(http.server.BaseHTTPRequestHandler):
    body = b'{"status": "ok", "database": {"ok": true}, "bus": {"ok": true}}'

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


class _Other(_Health):
    body = b"<html>nginx welcome</html>"


@contextlib.contextmanager
def http_server(tls_folder: Path | None = None, wenzheng_like: bool = True) -> Iterator[str]:
    """A plain HTTP(S) server on loopback answering /healthz; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health if wenzheng_like else _Other)
    scheme = "http"
    if tls_folder is not None:
        cert, key = self_signed(tls_folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(2)
