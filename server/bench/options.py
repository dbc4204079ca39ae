"""What a run is asked to do: the command line and the bench's environment, checked once.

The standard scenario of issue 3 is the default: 3,000 deputies, one server process, the
embedded SQLite database, check-ins offered within 10 s and ratings within 5 s.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from server.bench.common import BenchError

STANDARD_DEPUTIES = 3000
CHECKIN_WINDOW_S = 10.0
RATING_WINDOW_S = 5.0
# --postgres without a value: the local server the test suite uses (user postgres, trust auth)
LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class Options:
    deputies: int
    workers: int  # server worker processes
    url: str | None  # drive a server that is already running
    database_url: str | None  # an existing database, used as it is
    postgres: str | None  # a PostgreSQL server: the bench makes a fresh database there and drops it
    redis_url: str | None
    json_out: str | None
    checkin_window_s: float
    rating_window_s: float
    profile: str = ""  # WENZHENG_BENCH_PROFILE
    gc_mode: str = ""  # WENZHENG_BENCH_GC
    keep: bool = False  # WENZHENG_BENCH_KEEP
    split_checkin: bool = False  # --split-checkin: a diagnostic run (server/bench/split.py)


def _window(given: float | None, default: float) -> float:
    """An option given wins; else WENZHENG_BENCH_WINDOW_S (both windows); else the default."""
    if given is not None:
        return float(given)
    raw = os.environ.get("WENZHENG_BENCH_WINDOW_S")
    return float(raw) if raw else default


def from_args(args: argparse.Namespace) -> Options:
    """The options of ``wenzheng bench`` (see ``server/cli/__init__.py``), checked."""
    deputies = int(getattr(args, "deputies", None) or STANDARD_DEPUTIES)
    if deputies < 1:
        raise BenchError("--deputies must be at least 1")
    workers = int(getattr(args, "workers", 1) or 1)
    url = getattr(args, "url", None)
    database_url = getattr(args, "database_url", None)
    postgres = getattr(args, "postgres", None)
    redis_url = getattr(args, "redis_url", None)
    if getattr(args, "processes", None) is not None:
        raise BenchError("--processes is gone: the load is one process of raw connections (issue 20)")
    if postgres and database_url:
        raise BenchError("--postgres makes a database of its own: give it or --database-url, not both")
    if postgres and url:
        raise BenchError("--postgres needs the bench to start the server: not with --url")
    if postgres and not postgres.startswith("postgresql"):
        raise BenchError(f"--postgres wants a postgresql+asyncpg:// server address, not {postgres}")
    if workers > 1 and not redis_url and not url:
        raise BenchError("--workers above 1 needs --redis-url (the workers share events through Redis)")
    options = Options(
        deputies=deputies,
        workers=workers,
        url=url,
        database_url=database_url,
        postgres=postgres,
        redis_url=redis_url,
        json_out=getattr(args, "json_out", None),
        checkin_window_s=_window(getattr(args, "checkin_window", None), CHECKIN_WINDOW_S),
        rating_window_s=_window(getattr(args, "rating_window", None), RATING_WINDOW_S),
        profile=os.environ.get("WENZHENG_BENCH_PROFILE", ""),
        gc_mode=os.environ.get("WENZHENG_BENCH_GC", ""),
        keep=bool(os.environ.get("WENZHENG_BENCH_KEEP")),
        split_checkin=bool(getattr(args, "split_checkin", False)),
    )
    if options.checkin_window_s < 0 or options.rating_window_s < 0:
        raise BenchError("a window cannot be negative")
    return options
