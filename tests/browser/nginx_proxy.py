"""The shipped nginx site file (deploy/nginx/wenzheng.conf), run for real on loopback.

:func:`render` fills in only the file's documented placeholders (ports on 127.0.0.1, the
certificate, the upstream) and adds what a test needs around it: its own pid, logs and
temporary folders, an ``events``/``http`` wrapper (Debian's nginx.conf is not used), and
``proxy_bind 127.0.0.2`` so that nginx reaches the server from another address than the
browser's 127.0.0.1: the server can then tell the proxy from the phone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "nginx" / "wenzheng.conf"
PROXY_SOURCE = "127.0.0.2"  # nginx's address as the server sees it (the only trusted one)
START_TIMEOUT_S = 15


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if found is None:
        pytest.fail("nginx is not installed: run `bash scripts/ensure-test-deps.sh` (Debian's nginx package)")
    return found


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made by openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        ["openssl", "req", "-x509", *new_key, "-days", "2", *subject, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the shipped nginx config no longer has {old!r}: update the placeholders"
    return text.replace(old, new)


def render(
    folder: Path, *, http_port: int, https_port: int, upstream_port: int, cert: Path, key: Path
) -> str:
    """The whole nginx.conf: the shipped site file with its placeholders filled in, wrapped."""
    site = SHIPPED.read_text()
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("listen [::]:443 ssl;", ""),
        ("server_name wenzheng.example.org;", "server_name 127.0.0.1;"),
        ("/etc/ssl/certs/wenzheng.pem", str(cert)),
        ("/etc/ssl/private/wenzheng.key", str(key)),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("/var/log/nginx/wenzheng.access.log", str(folder / "access.log")),
        ("/var/log/nginx/wenzheng.error.log", str(folder / "site-error.log")),
        # Test only: the proxy connects from its own address, unlike the browser's.
        ("proxy_http_version 1.1;", f"proxy_http_version 1.1;\n    proxy_bind {PROXY_SOURCE};"),
    ):
        site = _replace(site, old, new)
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root the workers would run as nobody, who cannot enter the test's private folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n{temp}\n\n{site}\n}}\n"
    )


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


class Nginx:
    """A real nginx on the rendered config, stopped and started again at will."""

    def __init__(self, folder: Path, https_port: int) -> None:
        self.folder = folder
        self.https_port = https_port
        self.proc: subprocess.Popen[bytes] | None = None
        self.binary = nginx_binary()
        self.command = [self.binary, "-e", str(folder / "error.log"), "-p", f"{folder}/"]
        self.command += ["-c", str(folder / "nginx.conf")]

    @property
    def access_log(self) -> str:
        path = self.folder / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def start(self) -> None:
        checked = subprocess.run([*self.command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, f"nginx -t refused the shipped config:\n{checked.stderr}"
        with (self.folder / "stderr.txt").open("ab") as err:
            self.proc = subprocess.Popen(
                [*self.command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=err
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(self.https_port):
            if self.proc.poll() is not None:
                pytest.fail(f"nginx exited with {self.proc.returncode}:\n{self.error_log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"nginx did not listen in {START_TIMEOUT_S} s:\n{self.error_log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: nginx's fast shutdown, every connection (live sockets too) dropped at once."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None
        while _answers(self.https_port):
            time.sleep(0.05)


@contextlib.contextmanager
def nginx_in_front(folder: Path, *, http_port: int, https_port: int, upstream_port: int) -> Iterator[Nginx]:
    cert, key = certificate(folder)
    config = render(
        folder, http_port=http_port, https_port=https_port, upstream_port=upstream_port, cert=cert, key=key
    )
    (folder / "nginx.conf").write_text(config)
    server = Nginx(folder, https_port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
