"""Is this machine's clock right? One SNTP request (RFC 4330) and the system's own word.

Timers are held by the server and shown on phones and the projector against its clock;
a clock minutes off makes every deadline, check-in window and record time wrong by as
much. ``offset`` asks one time server once over UDP and returns the clock's offset from
it; ``system_synchronised`` reads ``timedatectl`` (systemd reports the kernel's
synchronised flag, whichever daemon keeps the time: systemd-timesyncd, chrony or ntpd).

Both are blocking and bounded by their timeouts; callers run them in a thread.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import time

NTP_PORT = 123
NTP_EPOCH = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
# 48 bytes: flags, stratum, poll, precision, root delay, root dispersion, reference id,
# then four timestamps of two words each: reference, originate, receive, transmit.
PACKET = struct.Struct("!B B b b 11I")
CLIENT_FLAGS = (0 << 6) | (4 << 3) | 3  # no leap warning, version 4, mode 3 (client)


class NoTime(Exception):
    """No usable answer from the time server (Chinese, for the check's line)."""


def split_server(server: str) -> tuple[str, int]:
    """``host`` or ``host:port`` (``[v6]:port`` for IPv6)."""
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else NTP_PORT
    if server.count(":") == 1:
        host, port = server.split(":")
        return host, int(port)
    return server, NTP_PORT


def to_ntp(t: float) -> tuple[int, int]:
    seconds = t + NTP_EPOCH
    return int(seconds), int((seconds % 1) * 2**32)


def from_ntp(seconds: int, fraction: int) -> float:
    return seconds - NTP_EPOCH + fraction / 2**32


def offset(server: str, timeout: float) -> float:
    """This clock's offset in seconds from ``server`` (positive: the server is ahead)."""
    try:
        host, port = split_server(server)
    except ValueError as exc:
        raise NoTime(f"时间服务器地址无法解析：{server}") from exc
    try:
        family, kind, proto, _, where = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    except (OSError, UnicodeError) as exc:
        raise NoTime(f"找不到时间服务器 {host}（{exc}）") from exc
    with socket.socket(family, kind, proto) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(where)  # connected: only this server's datagrams come back
            sent = time.time()
            sent_ntp = to_ntp(sent)
            sock.send(PACKET.pack(CLIENT_FLAGS, 0, 0, 0, *([0] * 9), *sent_ntp))
            deadline = time.monotonic() + timeout
            while True:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                data = sock.recv(512)
                received = time.time()
                if len(data) >= PACKET.size:
                    words = PACKET.unpack(data[: PACKET.size])
                    if (words[9], words[10]) == sent_ntp:  # the answer to this very request
                        break
                if time.monotonic() >= deadline:
                    raise TimeoutError
        except TimeoutError as exc:
            raise NoTime(f"时间服务器 {server} 在 {timeout:g} 秒内没有应答") from exc
        except OSError as exc:
            raise NoTime(f"时间服务器 {server} 无法访问（{exc.strerror or exc}）") from exc
    flags, stratum = words[0], words[1]
    if flags & 0x07 not in (4, 5) or stratum == 0 or (flags >> 6) == 3:
        raise NoTime(f"时间服务器 {server} 的应答不可用（未同步或拒绝服务）")
    server_received = from_ntp(words[11], words[12])
    server_sent = from_ntp(words[13], words[14])
    return ((server_received - sent) + (server_sent - received)) / 2


def system_synchronised(timedatectl: str | None, timeout: float) -> bool | None:
    """``timedatectl``'s NTPSynchronized: True, False, or None when it cannot tell."""
    if timedatectl is None:
        return None
    try:
        done = subprocess.run(
            [timedatectl, "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    answer = done.stdout.strip()
    if done.returncode != 0 or answer not in ("yes", "no"):
        return None  # e.g. a container without systemd
    return answer == "yes"
