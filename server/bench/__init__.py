"""`wenzheng bench`: a hall of simulated phones against a real server, on loopback.

Unless ``--url`` is given, the bench makes a temporary data folder, a fresh database
(SQLite in that folder; ``--postgres`` a new PostgreSQL database dropped at the end;
``--database-url`` an existing one), migrates it, writes a bench meeting with N deputies
straight into the tables, and starts ``wenzheng serve`` (``--workers``, ``--redis-url``
with a random channel prefix) as a child process. The load is this one process, one
event loop: each phone holds raw keep-alive connections and a raw websocket with its
requests built once as bytes (``wire``), so that the generator costs less CPU per
operation than the server and a p99 measures the server. The chair (same process) drives
the meeting: check-in opens and every phone does the whole check-in within
``--checkin-window`` (10 s: hall page, POST answered with the page, socket reopened with hello);
the question is called, the rating opens, every phone rates within ``--rating-window``
(5 s); the chair closes the rating; then the reconnect storm (every socket dropped at once,
all back within 2 s, while the chair changes something). The database is read back (a
receipt without its row is *lost*, a second row *duplicated*), and the same phones send the
same ratings to the floor (``floor_app``) for the ratio of CPU per rating.

The exit code is 1 when anything was lost or duplicated, 2 when the run did not finish
(a phone not receipted, a storm that did not converge, a timeout), else 0. Missing a
timing target does not change it; the targets are printed and written to the JSON file
(``targets``, ``targets_met``).

Modules: ``options`` (the command line), ``meeting`` (the bench meeting), ``postgres``
(a fresh database), ``serving`` (the server process), ``phone`` (one simulated phone),
``wire`` (raw HTTP and websocket protocols), ``phones`` (one phone), ``hall`` (all the
phones), ``probe`` (loop stall, generator lag), ``chair`` (chair and screens),
``driver`` (the run), ``floor`` (the floor run; ``floor_app`` is the floor itself),
``procfs`` (memory, CPU), ``dbcheck`` (lost and duplicated), ``report`` (table, targets,
JSON), ``diagnostics`` (gc, py-spy, cProfile), ``split`` (``--split-checkin``: the whole
check-in's CPU exchange by exchange, a diagnostic without targets).

Environment (diagnostics; a plain run needs none of them): ``WENZHENG_BENCH_WINDOW_S``
(both windows, unless an option sets one), ``WENZHENG_BENCH_PROFILE``,
``WENZHENG_BENCH_PYSPY_ARGS``, ``WENZHENG_BENCH_GC`` (see ``diagnostics``),
``WENZHENG_BENCH_KEEP=1`` (keep the temporary data folder: database, server log),
``WENZHENG_BENCH_SERVE=PATH`` (the ``wenzheng`` of another install serves: a base commit).

A command, beside ``server.cli`` (which imports it); it may import every layer below.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from server.base import settings as installation  # a bare "load" would be shadowed by server.bench.load
from server.base.keys import Keys
from server.bench.common import BenchError, free_port, run_main
from server.bench.diagnostics import gc_summary, profile_summary
from server.bench.driver import Plan, drive, drive_and_dispose
from server.bench.meeting import seed
from server.bench.options import Options, from_args
from server.bench.postgres import create_database, drop_database
from server.bench.procfs import raise_open_files_limit
from server.bench.report import table, targets, targets_text, write_json
from server.bench.serving import Server, served_code, server_env, start_server, wait_healthy
from server.bench.split import split_checkin, split_table
from server.storage.db import create_engine
from server.storage.migrate import upgrade

__all__ = ["main"]


def _describe(options: Options, database_url: str) -> dict[str, Any]:
    """The scenario and the machine, for the JSON file and BENCHMARKS.md."""
    commit = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    return {
        "workers": options.workers,
        "bus": "redis" if options.redis_url else "memory",
        "database": database_url.split(":", 1)[0].split("+", 1)[0],
        "fresh_postgres_database": bool(options.postgres),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "commit": commit,
        "server_commit": served_code(),  # differs from "commit" with WENZHENG_BENCH_SERVE
    }


def main(args: argparse.Namespace) -> int:
    try:
        options = from_args(args)
    except BenchError as exc:
        print(f"wenzheng bench: {exc}", file=sys.stderr)
        return 2
    raise_open_files_limit()
    n = options.deputies
    cprofile = options.profile if options.profile.endswith(".prof") else None
    gc_log: Path | None = None
    if options.gc_mode and not options.url and options.workers == 1:
        suffix = ".freeze.json" if options.gc_mode == "freeze" else ".json"
        gc_log = Path(tempfile.mkstemp(prefix="wenzheng-bench-gc-", suffix=suffix)[1])
    tmp = Path(tempfile.mkdtemp(prefix="wenzheng-bench-"))
    server: Server | None = None
    fresh_database: str | None = None
    result: dict[str, Any] = {}
    code = 0
    try:
        if options.url:
            settings = installation.load()  # the server's own data folder: its secret signs the invitations
            base_url = options.url.rstrip("/")
            database_url = options.database_url or settings.database_url
        else:
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            if options.postgres:
                database_url = fresh_database = create_database(options.postgres)
            else:
                sqlite = f"sqlite+aiosqlite:///{tmp / 'data' / 'bench.db'}"
                database_url = options.database_url or sqlite
            env = server_env(tmp / "data", base_url, database_url, options.redis_url)
            settings = installation.load(
                env
            )  # creates the data folder and its secret before the server reads it
        upgrade(database_url)
        seeded = asyncio.run(seed(create_engine(database_url), n))
        if not options.url:
            server = start_server(port, options.workers, env, tmp / "server.log", cprofile, gc_log)
        wait_healthy(base_url, 60, server)
        described = _describe(options, database_url)
        print(
            f"wenzheng bench: {n} phones (one load process) against {base_url} "
            f"(meeting {seeded.meeting_id}, {options.workers} worker(s), {described['bus']} bus, "
            f"{described['database']}{', fresh database' if fresh_database else ''}; "
            f"check-ins within {options.checkin_window_s:g} s, ratings within {options.rating_window_s:g} s)",
            flush=True,
        )
        plan = Plan(
            base_url=base_url,
            meeting=seeded,
            keys=Keys(settings.secret_key),
            secret=settings.secret_key,
            hall_seconds=settings.hall_code_seconds,
            checkin_window_s=options.checkin_window_s,
            rating_window_s=options.rating_window_s,
            engine=create_engine(database_url),
            server=server,
            folder=tmp,
            profile=None if cprofile else options.profile or None,
        )
        result = run_main(drive_and_dispose(plan, split_checkin if options.split_checkin else drive))
        result.update(described)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        if server is not None:
            print(server.tail(), file=sys.stderr)
        code = 2
    finally:
        if server is not None:
            server.stop()
        if fresh_database is not None and options.postgres:
            try:
                drop_database(options.postgres, fresh_database)
            except Exception as exc:
                print(f"could not drop the bench database {fresh_database}: {exc!r}", file=sys.stderr)
        if options.keep:
            print(f"kept: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return _report(options, result, code, cprofile, gc_log)


def _report(
    options: Options, result: dict[str, Any], code: int, cprofile: str | None, gc_log: Path | None
) -> int:
    """Print the table and the targets, write the JSON file; the exit code."""
    if gc_log is not None:
        if result:
            with contextlib.suppress(OSError, ValueError):
                result.update(gc_summary(gc_log))
        if not os.environ.get("WENZHENG_BENCH_KEEP"):
            gc_log.unlink(missing_ok=True)
    found = []
    if result and options.split_checkin:
        print(split_table(result))
    elif result:
        print(table(result))
        found = targets(result, options.workers, result.get("database") == "postgresql")
        scenario = (
            f"{options.deputies} deputies, {options.workers} worker(s), "
            f"{result.get('bus')} bus, {result.get('database')}"
        )
        print(targets_text(found, scenario))
        profile = options.profile
        if profile.endswith(".txt") and Path(profile).exists():
            print(f"py-spy profile of the server ({profile}):")
            print(profile_summary(profile))
        if cprofile and Path(cprofile).exists():
            print(f"cProfile of the server ({cprofile}), by own time:")
            pstats.Stats(cprofile).sort_stats("tottime").print_stats(25)
        n = options.deputies
        complete = (
            result.get("checkins_receipted") == n
            and result.get("ratings_receipted") == n
            and result.get("checkin_flows_completed") == n
            and result.get("storm_converged_phones") == n
        )
        if result["lost"] or result["duplicated"]:
            code = 1
        elif not complete:
            code = 2
            print("bench incomplete: not every phone was receipted, reached or reconnected", file=sys.stderr)
    if options.json_out:
        write_json(options.json_out, result, found, code)
    return code
