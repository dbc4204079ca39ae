"""The office's heavy work (QR codes, DOCX, XLSX, reading an uploaded file) away from the hall.

Why processes and not threads. QR codes (segno), python-docx and openpyxl are pure
Python: in a thread they hold the GIL, and the event loop that answers the hall gets it
back only every few milliseconds, once per system call it makes, so a request that
needs a dozen of them waits for a dozen slices (measured: docs/design.md, "The office
never freezes the hall"). A worker process has a GIL of its own; it also runs at a lower
priority (``nice``), so on a small machine the hall's process wins the CPU.

The pool is started on first use (a spawned interpreter, not a fork of a process that
holds threads and sockets) and kept until :meth:`Workshop.close`. The functions run there
must be module-level and their arguments and results picklable.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

NICE = 10  # below the hall's process, which stays at 0


def _lower_priority() -> None:
    """Run below the hall. Linux shares the CPU between sessions first (autogroups) and
    applies nice only inside one, so a worker in the server's session, however nice,
    takes the session's turn while the server waits for it (measured: /healthz 300-700 ms
    on a busy 2-core machine while QR codes were drawn). A session of its own, niced."""
    with contextlib.suppress(OSError):
        os.setsid()
    with contextlib.suppress(OSError):  # Linux with autogroups only
        Path("/proc/self/autogroup").write_text(f"{NICE}\n")
    with contextlib.suppress(OSError):  # not allowed here: still off the loop, only not lower
        os.nice(NICE)


def workers() -> int:
    """At most two, and one less than the cores when there are more than two."""
    cores = os.cpu_count() or 1
    return max(1, min(2, cores - 1 if cores > 2 else cores))


class Workshop:
    def __init__(self, size: int | None = None) -> None:
        self.size = size or workers()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
            )
        return self._pool

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args)`` in a worker process; the loop waits without working. A pool
        whose worker died (killed for memory, say) is replaced, and the work tried once
        more, so one lost worker does not refuse every later export."""
        for attempt in (1, 2):
            pool = self._executor()
            try:
                return await asyncio.wrap_future(pool.submit(fn, *args, **kwargs))
            except BrokenProcessPool:
                if self._pool is pool:
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
