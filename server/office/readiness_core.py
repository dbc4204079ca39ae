"""What the readiness lines are made of (server/office/readiness.py runs them): a line and
its level, the thresholds, the installation looked at, and a thread for blocking probes.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
MIB = 1024 * 1024
GIB = 1024 * MIB


class Level(StrEnum):
    OK = "通过"
    WARN = "注意"
    FAIL = "未通过"


@dataclass(frozen=True)
class Line:
    name: str
    level: Level
    text: str
    todo: str = ""  # what to do, for a line that does not pass


@dataclass(frozen=True)
class Limits:
    """The thresholds; tests pass their own."""

    timeout: float = 2.0  # seconds, each probe
    clock_warn: float = 1.0  # seconds of offset
    clock_fail: float = 5.0
    disk_warn: int = 2 * GIB  # free bytes in the data folder
    disk_fail: int = 200 * MIB
    backup_warn_days: float = 1.0
    backup_fail_days: float = 7.0
    timedatectl: str | None = field(default_factory=lambda: shutil.which("timedatectl"))


@dataclass(frozen=True)
class Installation:
    """What the checks look at, read from the environment without writing anything."""

    database_url: str
    data_dir: Path
    secret_key: str | None
    secret_source: str  # where the key came from, for the line (never the key)
    public_url: str | None  # None: WENZHENG_PUBLIC_URL is not set
    lan: bool  # served to other machines (WENZHENG_HOST not loopback, or several workers)
    workers: int | None  # None: WENZHENG_WORKERS is not a positive whole number
    redis_url: str | None
    ntp_server: str
    secret_unreadable: str = ""  # why the key file could not be read (another user's file)


# -- running blocking probes without waiting for them past their time ------------------


async def in_thread(fn: Callable[..., T], *args: object, timeout: float) -> T:
    """``fn(*args)`` in a daemon thread of its own; TimeoutError after ``timeout`` seconds.

    Not the loop's executor: a stuck name lookup there would hold ``asyncio.run`` at its
    end (it waits for the executor's threads) and the command would not exit.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(setter: Callable[[Any], None], value: object) -> None:
        if not done.done():
            setter(value)

    def deliver(setter: Callable[[Any], None], value: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
            loop.call_soon_threadsafe(settle, setter, value)

    def run() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # handed to the awaiting coroutine
            deliver(done.set_exception, exc)
        else:
            deliver(done.set_result, result)

    threading.Thread(target=run, name="wenzheng-check", daemon=True).start()
    return await asyncio.wait_for(done, timeout)


def short(exc: BaseException) -> str:
    """The first line of an error (a driver's own error when SQLAlchemy wraps one)."""
    inner = getattr(exc, "orig", None) or exc
    first = (str(inner).strip().splitlines() or [type(inner).__name__])[0]
    return first[:200]
