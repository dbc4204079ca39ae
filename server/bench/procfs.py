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


def core_ticks() -> list[tuple[int, int]]:
    """Per core: (busy, total) jiffies from /proc/stat, to show whether both cores work."""
    cores = []
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("cpu") and line[3:4].isdigit():
                values = [int(v) for v in line.split()[1:]]
                idle = values[3] + (values[4] if len(values) > 4 else 0)
                cores.append((sum(values) - idle, sum(values)))
    return cores


@dataclass
class CpuMeter:
    """CPU used during one window by the server (every serving process, per process too),
    by the generator (this process: phones, chair, screens, probes), and each core."""

    server_pid: int | None
    _start: tuple[float, dict[int, float], float, list[tuple[int, int]]] = (0.0, {}, 0.0, [])

    def _now(self) -> tuple[float, dict[int, float], float, list[tuple[int, int]]]:
        server = {p: cpu_seconds([p]) for p in descendants(self.server_pid)} if self.server_pid else {}
        return (time.monotonic(), server, cpu_seconds([os.getpid()]), core_ticks())

    def start(self) -> None:
        self._start = self._now()

    def stop(self, name: str, ops: int, into: dict[str, Any]) -> None:
        """The window's figures under ``name``: CPU seconds, % of a core, ms per operation."""
        wall0, server0, gen0, cores0 = self._start
        wall1, server1, gen1, cores1 = self._now()
        wall = max(wall1 - wall0, 1e-9)
        into[f"{name}_wall_s"] = round(wall, 2)
        into[f"{name}_ops"] = ops
        gen = gen1 - gen0
        into[f"{name}_generator_cpu_s"] = round(gen, 3)
        into[f"{name}_generator_cpu_pct"] = round(100 * gen / wall, 1)
        into[f"{name}_generator_cpu_ms_per_op"] = round(1000 * gen / ops, 3) if ops else None
        if server1:
            used = {p: server1[p] - server0.get(p, 0.0) for p in server1}
            total = sum(used.values())
            into[f"{name}_server_cpu_s"] = round(total, 3)
            into[f"{name}_server_cpu_pct"] = round(100 * total / wall, 1)
            into[f"{name}_server_cpu_ms_per_op"] = round(1000 * total / ops, 3) if ops else None
            busy = sorted((v for p, v in used.items() if v > 0.01), reverse=True)
            into[f"{name}_server_cpu_pct_by_process"] = [round(100 * v / wall, 1) for v in busy]
        if cores0 and len(cores0) == len(cores1):
            into[f"{name}_core_busy_pct"] = [
                round(100 * (b1 - b0) / max(1, t1 - t0), 1)
                for (b0, t0), (b1, t1) in zip(cores0, cores1, strict=True)
            ]
