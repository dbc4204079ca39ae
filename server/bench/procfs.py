"""What the kernel says about the processes: resident memory, CPU time, dropped connections.

Linux only (``/proc``). With ``--workers W`` above 1 the server is uvicorn's supervisor
and its worker children; the server's memory is then the sum over the workers (the
children of the process the bench started), without the supervisor.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def server_processes(pid: int, workers: int) -> list[int]:
    """The processes that serve: with several workers, the processes below uvicorn's
    supervisor (multiprocessing's helper processes left out); with one, the whole tree."""
    if workers <= 1:
        return descendants(pid)
    below = [p for p in descendants(pid) if p != pid and "resource_tracker" not in _cmdline(p)]
    return below or [pid]


def rss_kib(pid: int) -> int:
    """VmRSS of one process, in KiB (0 once it is gone)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def server_rss_kib(pid: int, workers: int) -> dict[int, int]:
    """VmRSS of each serving process (see :func:`server_processes`), in KiB."""
    return {p: rss_kib(p) for p in sorted(server_processes(pid, workers))}


def cpu_seconds(pids: Sequence[int]) -> float:
    """User plus system CPU time of processes (utime and stime of /proc/PID/stat)."""
    ticks = 0
    for p in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def listen_overflows() -> int:
    """The kernel's count of connections dropped because an accept queue was full."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        lines = Path("/proc/net/netstat").read_text().splitlines()
        for names, values in zip(lines[::2], lines[1::2], strict=False):
            if names.startswith("TcpExt:"):
                return int(values.split()[names.split().index("ListenOverflows")])
    return 0


def raise_open_files_limit() -> None:
    """Lift this process's soft limit on open files to the hard one: the load processes
    and the server (children inherit it) each hold several thousand sockets."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class CpuMeter:
    """CPU used by the server and by the load (phones and chair) during one phase, and
    the connections the kernel dropped meanwhile (machine-wide: on a bench host, ours)."""

    server_pid: int | None
    client_pids: list[int]
    _marks: tuple[float, float, float, int] = (0.0, 0.0, 0.0, 0)

    def _now(self) -> tuple[float, float, float, int]:
        server = cpu_seconds(descendants(self.server_pid)) if self.server_pid else 0.0
        return (time.monotonic(), server, cpu_seconds(self.client_pids), listen_overflows())

    def start(self) -> None:
        self._marks = self._now()

    def stop(self, name: str, into: dict[str, Any]) -> None:
        end = self._now()
        wall = end[0] - self._marks[0]
        into[f"{name}_wall_s"] = round(wall, 2)
        if self.server_pid:
            into[f"{name}_server_cpu_pct"] = round(100 * (end[1] - self._marks[1]) / wall, 1)
            into[f"{name}_server_cpu_s"] = round(end[1] - self._marks[1], 3)
        into[f"{name}_load_cpu_pct"] = round(100 * (end[2] - self._marks[2]) / wall, 1)
        into[f"{name}_listen_overflows"] = end[3] - self._marks[3]
