"""`wenzheng bench`: a hall of simulated phones against a real server, on loopback.

Theory of operation. Unless ``--url`` is given, the bench makes a temporary data folder,
migrates a fresh database, writes a bench meeting with N deputies straight into the
tables (:func:`seed_meeting`), and starts ``wenzheng serve`` as a child process. The load
comes from ``--processes`` OS processes (multiprocessing, spawn), each owning N/processes
phones; a phone is an ``httpx.AsyncClient`` with its own cookie jar and connection and
one ``websockets`` connection, exactly what a browser page would open:

1. bind: GET the invitation link (sets ``wz_deputy``), follow it to the page, read the
   CSRF token and the page's seq from it;
2. connect: open ``/ws/{m}/deputy`` with the cookie and send ``hello``; every message
   received from then on is logged with its arrival time and its highest ``data-seq``;
3. check in: at a start time the main process picks, phone ``g`` of N POSTs the hall
   code at ``start + g * window / N`` (all offered within the window); latency is
   POST sent -> 303 received;
4. rate: the chair (the main process: a logged-in HTTP client, a console socket and a
   projector socket) calls the question, moves to answering and opens the rating; the
   phones rate within the window; latency is POST sent -> 200 with 已记录;
5. fan-out: for ``open_rating``, ``timer_adjust`` (the ``fanout_*`` figures) and
   ``close_rating``, each phone reports when its socket first received a message with
   the seq that action committed, measured from the chair's POST;
6. floor: a bare websockets server in its own process sends one message of the same
   size to as many loopback sockets, opened by the same phone processes.

All processes run on one machine and share ``time.time_ns()``, so a time taken in one
process can be subtracted from a time taken in another. At the end the database is
read back: a receipt that has no row is *lost*, a second row for one deputy and
question is *duplicated*. The exit code is 1 when either is non-zero, 2 when the run
did not finish (a phone not receipted, a timeout), else 0.

Besides the figures asked for, each phase records what explains them: CPU of the server
and of the load (``/proc``), clock probes over the console socket (the server's event
loop stalls), the load processes' own loop lag (is the load generator saturated?),
connections the kernel dropped, new TCP connections, and the writer's group commits as
read back from the log.

Environment (diagnostics; a plain run needs none of them):

- ``WENZHENG_BENCH_WINDOW_S``: the window for check-ins and for ratings (default 2 s);
- ``WENZHENG_BENCH_PROFILE=FILE``: ``.svg``/``.txt``/``.json`` records the server with
  py-spy during the load (flame graph, collapsed stacks, speedscope; more py-spy flags
  in ``WENZHENG_BENCH_PYSPY_ARGS``, e.g. ``--native``); ``.prof`` runs it under cProfile;
- ``WENZHENG_BENCH_GC=1``: times the server's garbage collections (a gc callback);
  ``=freeze`` also freezes the survivors of each full collection (an experiment);
- ``WENZHENG_BENCH_KEEP=1``: keep the temporary data folder (database, server log).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import itertools
import json
import math
import multiprocessing as mp
import os
import pstats
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from live.setup import BodyKind
from live.setup import Settings as MeetingSettings
from server import models as m
from server.auth import Keys, hash_password
from server.db import create_engine
from server.migrate import upgrade
from server.settings import load
from server.store import settings_to_json

DEFAULT_WINDOW_S = 2.0
GROUP_SIZE = 50
SEQ_RE = re.compile(r'data-seq="(\d+)"')
CSRF_RE = re.compile(r'"X-CSRF-Token": "([^"]+)"')
BODY_SEQ_RE = re.compile(r'<body[^>]*\bdata-seq="(\d+)"')
CAST_RE = re.compile(r'id="c-cast">(\d+)<')
C_PRESENT_RE = re.compile(r'id="c-present">(\d+)<')
P_PRESENT_RE = re.compile(r'id="p-present">(\d+)<')
RECORDED = "已记录"
CHOICES = ("satisfied", "basic", "dissatisfied")
JSON_KEYS = (
    "clients",
    "checkin_p50_ms",
    "checkin_p99_ms",
    "rating_p50_ms",
    "rating_p99_ms",
    "tally_lag_ms",
    "fanout_p50_ms",
    "fanout_p99_ms",
    "fanout_floor_ms",
    "rss_kib_per_client",
    "lost",
    "duplicated",
)


class BenchError(RuntimeError):
    """The run could not go on (a timeout, a refused chair action, a dead process)."""


# -- numbers -----------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(ns: float | None) -> float | None:
    return None if ns is None else round(ns / 1e6, 1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _sleep_until_ns(at_ns: int) -> Coroutine[Any, Any, None]:
    return asyncio.sleep(max(0.0, (at_ns - time.time_ns()) / 1e9))


# -- the bench meeting ---------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    meeting_id: int
    question_id: int
    deputy_ids: tuple[int, ...]
    chair_user: str
    chair_password: str


async def seed_meeting(engine: AsyncEngine, n: int) -> Seeded:
    """A meeting of its own body with ``n`` deputies, one question and a chair user."""
    tag = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    now = int(time.time() * 1000)
    password = secrets.token_urlsafe(12)
    chair = f"bench-chair-{tag}"
    async with engine.begin() as conn:

        async def add(table: Any, **values: Any) -> int:
            key = (await conn.execute(insert(table).values(**values))).inserted_primary_key
            assert key is not None
            return int(key[0])

        body_id = await add(m.bodies, name=f"压力测试人大 {tag}", kind=BodyKind.CONGRESS.value)
        group_ids = [
            await add(m.groups, body_id=body_id, name=f"第{pos + 1}代表小组", position=pos)
            for pos in range(max(1, math.ceil(n / GROUP_SIZE)))
        ]
        rows = [
            {
                "body_id": body_id,
                "group_id": group_ids[i // GROUP_SIZE],
                "name": f"代表{i + 1:04d}",
                "card_no": f"B{i + 1:05d}",
                "short_code": f"{secrets.randbelow(10**4):04d}",
                "card_version": 1,
                "phone": "",
                "notes": "",
            }
            for i in range(n)
        ]
        await conn.execute(insert(m.deputies), rows)
        deputy_ids = tuple(
            int(d)
            for d in (
                await conn.execute(
                    select(m.deputies.c.id).where(m.deputies.c.body_id == body_id).order_by(m.deputies.c.id)
                )
            ).scalars()
        )
        official_id = await add(
            m.officials, body_id=body_id, name="测试局长", title="局长", organisation="压力测试局"
        )
        meeting_id = await add(
            m.meetings,
            body_id=body_id,
            kind="inquiry",
            title=f"压力测试问政会 {tag}",
            settings=settings_to_json(MeetingSettings()),
            created_ms=now,
        )
        await add(m.agenda_items, meeting_id=meeting_id, position=1, kind="inquiry", title="问政")
        question_id = await add(
            m.questions,
            meeting_id=meeting_id,
            position=1,
            title="压力测试问题：老旧小区改造进度如何？",
            text="",
            asker_id=deputy_ids[0],
            group_id=group_ids[0],
        )
        await conn.execute(
            insert(m.question_respondents).values(
                question_id=question_id, official_id=official_id, position=0
            )
        )
        await conn.execute(
            insert(m.users).values(
                username=chair,
                display_name="压力测试主持人",
                password_hash=hash_password(password),
                roles="chair",
                created_ms=now,
            )
        )
    return Seeded(meeting_id, question_id, deputy_ids, chair, password)


# -- the phones (in the load processes) ------------------------------------------------


@dataclass(frozen=True)
class PhoneSpec:
    index: int  # 0..N-1 over all processes: the phone's slot in the window
    deputy_id: int
    token: str  # the invitation token


@dataclass(frozen=True)
class ProcessSpec:
    base_url: str
    meeting_id: int
    secret: str
    hall_seconds: int
    total: int
    phones: tuple[PhoneSpec, ...]


# deputy_id, sent_ns (first attempt), received_ns, receipted, status code or error name, attempts
# and whether the request had to open a new TCP connection (the server closed the idle one)
Outcome = tuple[int, int, int, bool, str, int, bool]
ATTEMPTS = 3  # a reply lost on the wire is retried with the same form, as the page does


def _local_port(r: httpx.Response) -> int | None:
    stream = r.extensions.get("network_stream")
    address = stream.get_extra_info("client_addr") if stream is not None else None
    return int(address[1]) if address else None


class Phone:
    """One deputy's phone: its own cookies, HTTP connection and live socket."""

    def __init__(self, spec: ProcessSpec, me: PhoneSpec) -> None:
        self.spec = spec
        self.me = me
        self.client = httpx.AsyncClient(
            base_url=spec.base_url,
            trust_env=False,
            timeout=httpx.Timeout(60.0),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"User-Agent": f"wenzheng-bench phone {me.index}"},
        )
        self.csrf = ""
        self.page_seq = -1
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.hello = asyncio.Event()
        self.log: list[tuple[int, int, int]] = []  # received_ns, highest data-seq, length
        self.local_port: int | None = None  # of the HTTP connection last used
        self.floor_ns: int | None = None

    async def bind(self) -> str | None:
        m_id = self.spec.meeting_id
        r = await self.client.get(f"/i/{m_id}/{self.me.token}", follow_redirects=True)
        if r.status_code != 200 or "wz_deputy" not in self.client.cookies:
            return f"invitation: {r.status_code}"
        csrf = CSRF_RE.search(r.text)
        seq = BODY_SEQ_RE.search(r.text)
        if not csrf or not seq:
            return "invitation: page without csrf or seq"
        self.csrf, self.page_seq = csrf.group(1), int(seq.group(1))
        self.local_port = _local_port(r)
        return None

    async def connect(self) -> None:
        ws_base = self.spec.base_url.replace("http", "ws", 1)
        cookie = self.client.cookies.get("wz_deputy") or ""
        self.ws = await connect(
            f"{ws_base}/ws/{self.spec.meeting_id}/deputy",
            additional_headers={"Cookie": f"wz_deputy={cookie}"},
            compression=None,
            proxy=None,
            ping_interval=None,
            max_size=None,
            open_timeout=60,
        )
        self.reader = asyncio.create_task(self._read(self.ws))
        await self.ws.send(json.dumps({"type": "hello", "seq": self.page_seq}))
        await asyncio.wait_for(self.hello.wait(), 60)

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                now = time.time_ns()
                text = raw if isinstance(raw, str) else raw.decode()
                if text.startswith("{"):
                    with contextlib.suppress(ValueError):
                        if json.loads(text).get("type") == "hello":
                            self.hello.set()
                    continue
                seqs = SEQ_RE.findall(text)
                self.log.append((now, max(map(int, seqs)) if seqs else -1, len(text)))

    def _slot_ns(self, start_ns: int, window_s: float) -> int:
        return start_ns + int(self.me.index * window_s * 1e9 / self.spec.total)

    async def _post(
        self, url: str, data: dict[str, str], headers: dict[str, str], done: Callable[[httpx.Response], bool]
    ) -> Outcome:
        """POST until a reply comes (a lost connection is retried with the same form)."""
        sent = time.time_ns()
        status = ""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                r = await self.client.post(url, data=data, headers=headers)
            except httpx.TransportError as exc:
                status = type(exc).__name__
                continue
            received = time.time_ns()
            before, self.local_port = self.local_port, _local_port(r)
            fresh = attempt > 1 or before != self.local_port
            return (self.me.deputy_id, sent, received, done(r), str(r.status_code), attempt, fresh)
        return (self.me.deputy_id, sent, time.time_ns(), False, status, ATTEMPTS, True)

    async def check_in(self, keys: Keys, start_ns: int, window_s: float) -> Outcome:
        await _sleep_until_ns(self._slot_ns(start_ns, window_s))
        m_id = self.spec.meeting_id
        code = keys.hall_code(m_id, int(time.time() // self.spec.hall_seconds))
        return await self._post(
            f"/h/{m_id}/{code}",
            {"csrf": self.csrf},
            {},
            lambda r: r.status_code == 303 and "checked_in=1" in r.headers.get("location", ""),
        )

    async def rate(self, question_id: int, start_ns: int, window_s: float) -> Outcome:
        await _sleep_until_ns(self._slot_ns(start_ns, window_s))
        form = {
            "question_id": str(question_id),
            "choice": CHOICES[self.me.index % len(CHOICES)],
            "ballot_key": secrets.token_hex(8),  # what the page script does per form
        }
        headers = {"X-CSRF-Token": self.csrf, "HX-Request": "true"}
        return await self._post(
            f"/d/{self.spec.meeting_id}/rate",
            form,
            headers,
            lambda r: r.status_code == 200 and RECORDED in r.text,
        )

    def first_at_least(self, seq: int) -> tuple[int, int] | None:
        for received, highest, length in self.log:
            if highest >= seq:
                return received, length
        return None

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()
        self.ws = None

    async def floor_connect(self, url: str) -> ClientConnection:
        ws = await connect(
            url, compression=None, proxy=None, ping_interval=None, max_size=None, open_timeout=60
        )

        async def first() -> None:
            with contextlib.suppress(ConnectionClosed):
                await ws.recv()
                self.floor_ns = time.time_ns()

        self.reader = asyncio.create_task(first())
        return ws


async def _bounded(limit: int, jobs: Sequence[Callable[[], Coroutine[Any, Any, Any]]]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        async with gate:
            try:
                return await job()
            except Exception as exc:
                return f"{type(exc).__name__}: {exc}"

    return list(await asyncio.gather(*(one(j) for j in jobs)))


async def _recv(conn: Connection, timeout: float | None = None) -> Any:
    """Receive from a pipe without blocking the event loop (and without threads)."""
    if not conn.poll():
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def on_ready() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(conn.fileno(), on_ready)
        try:
            await asyncio.wait_for(ready, timeout)
        except TimeoutError:
            raise BenchError(f"no answer within {timeout:.0f} s") from None
        finally:
            loop.remove_reader(conn.fileno())
    return conn.recv()


async def _phones_main(spec: ProcessSpec, conn: Connection) -> None:
    keys = Keys(spec.secret)
    phones = [Phone(spec, p) for p in spec.phones]
    floor: list[ClientConnection] = []
    try:
        while True:
            cmd, arg = await _recv(conn)
            if cmd == "stop":
                break
            try:
                reply = await _phones_do(cmd, arg, phones, keys, floor)
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            conn.send(reply)
    finally:
        await asyncio.gather(*(p.close() for p in phones), return_exceptions=True)
        await asyncio.gather(*(p.client.aclose() for p in phones), return_exceptions=True)
        for ws in floor:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)


@contextlib.contextmanager
def _loop_lag(every_s: float = 0.01) -> Iterator[list[int]]:
    """How late this process's own event loop wakes up (ns): is the load itself saturated?"""
    lags: list[int] = []

    async def watch() -> None:
        while True:
            before = time.monotonic_ns()
            await asyncio.sleep(every_s)
            lags.append(time.monotonic_ns() - before - int(every_s * 1e9))

    task = asyncio.create_task(watch())
    try:
        yield lags
    finally:
        task.cancel()


async def _phones_do(
    cmd: str, arg: dict[str, Any], phones: list[Phone], keys: Keys, floor: list[ClientConnection]
) -> dict[str, Any]:
    if cmd == "bind":
        errors = await _bounded(32, [p.bind for p in phones])
        return {"errors": [e for e in errors if e]}
    if cmd == "connect":
        results = await _bounded(64, [p.connect for p in phones])
        # The phones live until the end: keep the load's own full collections short.
        gc.collect()
        gc.freeze()
        return {"errors": [e for e in results if e]}
    if cmd == "check_in":
        with _loop_lag() as lags:
            outcomes = await asyncio.gather(
                *(p.check_in(keys, arg["start_ns"], arg["window_s"]) for p in phones)
            )
        return {"outcomes": outcomes, "lags": lags}
    if cmd == "rate":
        with _loop_lag() as lags:
            outcomes = await asyncio.gather(
                *(p.rate(arg["question_id"], arg["start_ns"], arg["window_s"]) for p in phones)
            )
        return {"outcomes": outcomes, "lags": lags}
    if cmd == "seen":  # when did each socket first get a message carrying seq >= arg["seq"]?
        deadline = time.monotonic() + arg["timeout_s"]
        while time.monotonic() < deadline and not all(p.first_at_least(arg["seq"]) for p in phones):
            await asyncio.sleep(0.02)
        return {"seen": [p.first_at_least(arg["seq"]) for p in phones]}
    if cmd == "close":
        await asyncio.gather(*(p.close() for p in phones))
        return {}
    if cmd == "floor_connect":

        async def one(p: Phone) -> None:
            floor.append(await p.floor_connect(arg["url"]))

        results = await _bounded(64, [functools.partial(one, p) for p in phones])
        return {"errors": [e for e in results if e]}
    if cmd == "floor_seen":
        deadline = time.monotonic() + arg["timeout_s"]
        while time.monotonic() < deadline and not all(p.floor_ns for p in phones):
            await asyncio.sleep(0.02)
        return {"seen": [p.floor_ns for p in phones]}
    raise BenchError(f"unknown command {cmd}")


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """uvloop when it is there (it comes with uvicorn[standard]): less client CPU."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def phones_process(spec: ProcessSpec, conn: Connection) -> None:
    """Entry point of one load process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when to stop
    _run_loop(_phones_main(spec, conn))


# -- the floor: a bare websockets server ----------------------------------------------------


async def _floor_main(conn: Connection) -> None:
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async with serve(handler, "127.0.0.1", 0, compression=None, ping_interval=None) as server:
        conn.send(next(iter(server.sockets)).getsockname()[1])
        while True:
            cmd, arg = await _recv(conn)
            if cmd == "count":
                conn.send(len(clients))
            elif cmd == "go":
                started = time.time_ns()
                broadcast(clients, arg)
                conn.send(started)
            else:
                break


def floor_process(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _run_loop(_floor_main(conn))


# -- the server --------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
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


def tree_rss_kib(pid: int) -> int:
    """VmRSS of a process and all its descendants (uvicorn's workers), in KiB."""
    total = 0
    for p in _descendants(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


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


@dataclass
class CpuMeter:
    """CPU used by the server and by the load (phones and chair) during one phase, and
    the connections the kernel dropped meanwhile (machine-wide: on a bench host, ours)."""

    server_pid: int | None
    client_pids: list[int]
    _marks: tuple[float, float, float, int] = (0.0, 0.0, 0.0, 0)

    def _now(self) -> tuple[float, float, float, int]:
        server = cpu_seconds(_descendants(self.server_pid)) if self.server_pid else 0.0
        return (time.monotonic(), server, cpu_seconds(self.client_pids), listen_overflows())

    def start(self) -> None:
        self._marks = self._now()

    def stop(self, name: str, into: dict[str, Any]) -> None:
        end = self._now()
        wall = end[0] - self._marks[0]
        into[f"{name}_wall_s"] = round(wall, 2)
        if self.server_pid:
            into[f"{name}_server_cpu_pct"] = round(100 * (end[1] - self._marks[1]) / wall, 1)
        into[f"{name}_load_cpu_pct"] = round(100 * (end[2] - self._marks[2]) / wall, 1)
        into[f"{name}_listen_overflows"] = end[3] - self._marks[3]


def _wenzheng_command() -> list[str]:
    script = Path(sys.executable).with_name("wenzheng")
    return [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    log_path: Path

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: uvicorn and its workers
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


# Diagnostics only (WENZHENG_BENCH_PROFILE=*.prof, WENZHENG_BENCH_GC=1): the same
# ``wenzheng serve``, run under cProfile and/or with a gc callback that times every
# collection. uvicorn re-raises SIGTERM after its graceful shutdown; a Python handler
# turns that into SystemExit so that both files get written.
_INSTRUMENTED_SERVE = """
import gc, json, signal, sys, time
cprofile, gc_log, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
def _bye(*_):
    raise SystemExit(0)
signal.signal(signal.SIGTERM, _bye)
pauses, started = [], [0]
freeze = gc_log.endswith(".freeze.json")  # the experiment: survivors of a full collection are frozen
def _gc(phase, info):
    if phase == "start":
        started[0] = time.time_ns()
    else:
        pauses.append((started[0], info["generation"], time.time_ns() - started[0], info["collected"]))
        if freeze and info["generation"] == 2:
            gc.freeze()
if gc_log != "-":
    gc.callbacks.append(_gc)
from server.cli import main
profile = None
if cprofile != "-":
    import cProfile
    profile = cProfile.Profile()
try:
    profile.runcall(main, argv) if profile else main(argv)
finally:
    if profile:
        profile.dump_stats(cprofile)
    if gc_log != "-":
        with open(gc_log, "w") as f:
            json.dump(pauses, f)
"""


def gc_summary(path: Path) -> dict[str, Any]:
    """Collections of the server's garbage collector, and how long they stopped it."""
    pauses = json.loads(path.read_text())
    out: dict[str, Any] = {}
    for gen in (0, 1, 2):
        mine = [p[2] for p in pauses if p[1] == gen]
        out[f"gc_gen{gen}_count"] = len(mine)
        out[f"gc_gen{gen}_total_ms"] = ms(sum(mine))
        out[f"gc_gen{gen}_max_ms"] = ms(max(mine, default=0))
    return out


def start_server(
    port: int,
    workers: int,
    env: dict[str, str],
    log_path: Path,
    cprofile: str | None = None,
    gc_log: Path | None = None,
) -> Server:
    """``wenzheng serve`` in a session of its own (instrumented only when asked)."""
    serve = ["serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    if cprofile or gc_log:  # one worker runs in this very process
        extra = [cprofile or "-", str(gc_log) if gc_log else "-"]
        command = [sys.executable, "-c", _INSTRUMENTED_SERVE, *extra, *serve]
    else:
        command = [*_wenzheng_command(), *serve]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Server(proc, log_path)


def wait_healthy(base_url: str, timeout_s: float, server: Server | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base_url, trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline:
            if server is not None and server.proc.poll() is not None:
                raise BenchError(f"the server exited ({server.proc.returncode}):\n{server.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/healthz").status_code == 200:
                    return
            time.sleep(0.2)
    raise BenchError(f"{base_url}/healthz not healthy within {timeout_s:.0f} s")


# -- the chair and the screens (in the main process) -----------------------------------------


@dataclass
class Screen:
    """A console or projector socket that remembers when a figure first reached a value."""

    name: str
    patterns: dict[str, re.Pattern[str]]
    ws: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None
    firsts: dict[tuple[str, int], int] = field(default_factory=dict)
    values: dict[str, int] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    rtts: list[int] = field(default_factory=list)  # round trips of clock probes, ns

    async def open(self, url: str, cookie: str) -> None:
        self.ws = await connect(
            url,
            additional_headers={"Cookie": cookie},
            compression=None,
            proxy=None,
            ping_interval=None,
            max_size=None,
            open_timeout=30,
        )
        self.reader = asyncio.create_task(self._read(self.ws))
        await self.ws.send(json.dumps({"type": "hello", "seq": -1}))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                now = time.time_ns()
                text = raw if isinstance(raw, str) else raw.decode()
                if text.startswith('{"type": "time"'):
                    with contextlib.suppress(ValueError, TypeError):
                        self.rtts.append(now - int(json.loads(text)["t0"]))
                    continue
                for key, pattern in self.patterns.items():
                    found = pattern.search(text)
                    if found:
                        value = int(found.group(1))
                        self.values[key] = value
                        self.firsts.setdefault((key, value), now)
                self.changed.set()

    async def probe(self, every_s: float) -> None:
        """Clock probes (the page's own heartbeat): their round trip is the server's lag."""
        while self.ws is not None:
            await self.ws.send(json.dumps({"type": "time", "t0": time.time_ns()}))
            await asyncio.sleep(every_s)

    @contextlib.asynccontextmanager
    async def probing(self, name: str, into: dict[str, Any], every_s: float = 0.05) -> AsyncIterator[None]:
        first = len(self.rtts)
        task = asyncio.create_task(self.probe(every_s))
        try:
            yield
        finally:
            task.cancel()
            rtts = self.rtts[first:]
            into[f"{name}_probe_p50_ms"] = ms(quantile(rtts, 0.5))
            into[f"{name}_probe_max_ms"] = ms(max(rtts) if rtts else None)

    async def reached(self, key: str, value: int, timeout_s: float) -> int | None:
        """When ``key`` was first shown as ``value`` (waits up to ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while (key, value) not in self.firsts:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return self.firsts[(key, value)]

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()


@dataclass
class Chair:
    client: httpx.AsyncClient
    meeting_id: int
    csrf: str = ""

    async def login(self, username: str, password: str) -> None:
        r = await self.client.post("/login", data={"username": username, "password": password, "next": "/"})
        if r.status_code != 303 or "wz_user" not in self.client.cookies:
            raise BenchError(f"chair login: {r.status_code}")
        page = await self.client.get(f"/m/{self.meeting_id}/console")
        found = CSRF_RE.search(page.text)
        if page.status_code != 200 or not found:
            raise BenchError(f"console page: {page.status_code}")
        self.csrf = found.group(1)

    async def act(self, cmd: str, **fields: str | int) -> tuple[int, int]:
        """Send one console action; returns when it was sent and when the reply came (ns)."""
        data = {"cmd": cmd, **{k: str(v) for k, v in fields.items()}}
        sent = time.time_ns()
        r = await self.client.post(
            f"/m/{self.meeting_id}/act", data=data, headers={"X-CSRF-Token": self.csrf, "HX-Request": "true"}
        )
        if r.status_code != 200:
            raise BenchError(f"chair action {cmd}: {r.status_code} {r.text[:200]}")
        return sent, time.time_ns()


class Fleet:
    """The load processes and their pipes."""

    def __init__(self, specs: list[ProcessSpec]) -> None:
        ctx = mp.get_context("spawn")
        self.procs: list[Any] = []
        self.pipes: list[Connection] = []
        for spec in specs:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=phones_process, args=(spec, theirs), daemon=True)
            proc.start()
            theirs.close()
            self.procs.append(proc)
            self.pipes.append(ours)

    async def ask(self, cmd: str, within_s: float, **arg: Any) -> list[dict[str, Any]]:
        for pipe in self.pipes:
            pipe.send((cmd, arg))
        replies = [await _recv(pipe, within_s) for pipe in self.pipes]
        errors = [r["error"] for r in replies if "error" in r]
        if errors:
            raise BenchError(f"{cmd}: {errors[0]}")
        return replies

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(Exception):
                pipe.send(("stop", {}))
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)


@dataclass
class Plan:
    base_url: str
    meeting: Seeded
    keys: Keys
    secret: str
    hall_seconds: int
    processes: int
    window_s: float
    engine: AsyncEngine
    server: Server | None
    profile: str | None = None


@contextlib.contextmanager
def _py_spy(pid: int | None, out: str | None) -> Iterator[None]:
    """Record the server with py-spy while the block runs (when asked to)."""
    if pid is None or not out:
        yield
        return
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    fmt = {".txt": "raw", ".json": "speedscope"}.get(Path(out).suffix, "flamegraph")
    # --nonblocking: never pause the server to sample it (pausing it changes the latencies
    # it is recorded under); --threads: tell the event loop from the database threads.
    # --native needs the pauses, so it drops --nonblocking.
    extra = os.environ.get("WENZHENG_BENCH_PYSPY_ARGS", "").split()
    command = [exe, "record", "--pid", str(pid), "--subprocesses", "--threads", *extra]
    if "--native" not in extra:
        command.append("--nonblocking")
    command += ["--rate", "250", "--format", fmt, "-o", out]
    with tempfile.TemporaryFile() as log:
        spy = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        time.sleep(1.0)
        try:
            yield
        finally:
            spy.send_signal(signal.SIGINT)
            try:
                spy.wait(60)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()
            if not Path(out).exists():
                log.seek(0)
                print(
                    f"py-spy wrote no profile:\n{log.read().decode(errors='replace')[-2000:]}",
                    file=sys.stderr,
                )


def profile_summary(path: str, top: int = 20) -> str:
    """Where the event loop thread was busy, from py-spy's collapsed stacks (``.txt``).

    py-spy leaves out idle samples (a thread waiting in epoll or on a lock), so the
    samples of the thread that runs ``Runner.run`` are the event loop's busy time.
    """
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")[1:]  # the first names the process
        if len(frames) < 2 or not count.isdigit():
            continue
        frames = frames[1:]  # after the thread name
        kind = "event loop" if any(f.startswith("Runner.run") for f in frames) else "other threads"
        threads[kind] += int(count)
        if kind != "event loop":
            continue
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            anywhere[frame] += int(count)
    if not total:
        return "  (no samples)"
    lines = [f"  busy samples: {dict(threads)}; event loop, own time:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
    lines.append("  including callees:")
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in anywhere.most_common(top * 3)]
    return "\n".join(lines)


def _load_lag(name: str, replies: list[dict[str, Any]], into: dict[str, Any]) -> None:
    lags = [lag for r in replies for lag in r["lags"]]
    into[f"{name}_load_loop_lag_p99_ms"] = ms(quantile(lags, 0.99))
    into[f"{name}_load_loop_lag_max_ms"] = ms(max(lags) if lags else None)


def _latencies(outcomes: list[Outcome]) -> list[float]:
    return [o[2] - o[1] for o in outcomes if o[3]]


async def _fanout(plan: Plan, fleet: Fleet, chair: Chair, cmd: str, **fields: str | int) -> dict[str, Any]:
    sent, replied = await chair.act(cmd, **fields)
    async with plan.engine.connect() as conn:
        seq = (
            await conn.execute(
                select(func.max(m.events.c.seq)).where(m.events.c.meeting_id == plan.meeting.meeting_id)
            )
        ).scalar_one()
        await conn.commit()
    replies = await fleet.ask("seen", 60, seq=int(seq), timeout_s=20)
    seen = [s for r in replies for s in r["seen"]]
    got = [s for s in seen if s is not None]
    lags = [received - sent for received, _ in got]
    return {
        "seq": int(seq),
        "reply": replied - sent,
        "received": len(got),
        "p50": quantile(lags, 0.5),
        "p99": quantile(lags, 0.99),
        "max": max(lags) if lags else None,
        "bytes": max((length for _, length in got), default=0),
    }


async def drive(plan: Plan) -> dict[str, Any]:
    n = len(plan.meeting.deputy_ids)
    meeting_id = plan.meeting.meeting_id
    server_pid = plan.server.proc.pid if plan.server else None
    tokens = [plan.keys.invitation(d, 1) for d in plan.meeting.deputy_ids]
    specs = [
        ProcessSpec(
            plan.base_url,
            meeting_id,
            plan.secret,
            plan.hall_seconds,
            n,
            tuple(PhoneSpec(g, plan.meeting.deputy_ids[g], tokens[g]) for g in range(k, n, plan.processes)),
        )
        for k in range(plan.processes)
    ]
    result: dict[str, Any] = {
        "clients": n,
        "processes": plan.processes,
        "window_s": plan.window_s,
        "offered_per_s": round(n / plan.window_s, 1),
    }
    fleet = Fleet(specs)
    meter = CpuMeter(server_pid, [*(p.pid for p in fleet.procs), os.getpid()])
    console = Screen("console", {"c-present": C_PRESENT_RE, "c-cast": CAST_RE})
    projector = Screen("projector", {"p-present": P_PRESENT_RE})
    chair_http = httpx.AsyncClient(base_url=plan.base_url, trust_env=False, timeout=60)
    screen_http = httpx.AsyncClient(base_url=plan.base_url, trust_env=False, timeout=60)
    slack = 30 + n * 0.05  # seconds a phase may take beyond its window before it is a failure
    try:
        # Phones open their invitation link; the chair logs in; the projector is paired.
        await fleet.ask("bind", 60 + n * 0.2)
        chair = Chair(chair_http, meeting_id)
        await chair.login(plan.meeting.chair_user, plan.meeting.chair_password)
        screen = plan.keys.screen_cookie(meeting_id, "projector")
        r = await screen_http.get(
            f"/m/{meeting_id}/projector", params={"screen": screen}, follow_redirects=True
        )
        if r.status_code != 200:
            raise BenchError(f"projector page: {r.status_code}")
        ws_base = plan.base_url.replace("http", "ws", 1)
        await console.open(
            f"{ws_base}/ws/{meeting_id}/console", f"wz_user={chair_http.cookies.get('wz_user')}"
        )
        await projector.open(
            f"{ws_base}/ws/{meeting_id}/projector", f"wz_screen={screen_http.cookies.get('wz_screen')}"
        )
        await asyncio.sleep(0.5)

        # Every phone opens its socket: the server's memory before and after.
        rss_before = tree_rss_kib(server_pid) if server_pid else None
        meter.start()
        await fleet.ask("connect", 60 + n * 0.2)
        meter.stop("connect_phase", result)
        await asyncio.sleep(1.0)
        rss_after = tree_rss_kib(server_pid) if server_pid else None
        if rss_before is not None and rss_after is not None:
            result["server_rss_kib_before"] = rss_before
            result["server_rss_kib_after"] = rss_after
            result["rss_kib_per_client"] = round((rss_after - rss_before) / n, 1)
        else:
            result["rss_kib_per_client"] = None

        with _py_spy(server_pid, plan.profile):
            # Check-in: every phone POSTs the hall code within the window.
            await chair.act("open_checkin")
            start = time.time_ns() + 500_000_000
            asyncio.get_running_loop().call_later((start - time.time_ns()) / 1e9, meter.start)
            async with console.probing("checkin_phase", result):
                replies = await fleet.ask(
                    "check_in", plan.window_s + slack, start_ns=start, window_s=plan.window_s
                )
            meter.stop("checkin_phase", result)
            checkins: list[Outcome] = [o for r in replies for o in r["outcomes"]]
            _load_lag("checkin_phase", replies, result)
            ok = [o for o in checkins if o[3]]
            lat = _latencies(checkins)
            last_receipt = max((o[2] for o in ok), default=time.time_ns())
            result["checkins_receipted"] = len(ok)
            result["checkin_statuses"] = dict(Counter(o[4] for o in checkins))
            result["checkin_retried"] = sum(1 for o in checkins if o[5] > 1)
            result["checkin_new_connections"] = sum(1 for o in checkins if o[6])
            result["checkin_p50_ms"] = ms(quantile(lat, 0.5))
            result["checkin_p99_ms"] = ms(quantile(lat, 0.99))
            result["checkin_max_ms"] = ms(max(lat) if lat else None)
            if ok:
                span = (last_receipt - min(o[1] for o in ok)) / 1e9
                result["checkin_per_s"] = round(len(ok) / span, 1) if span > 0 else None
            shown = await projector.reached("p-present", len(ok), 30)
            result["projector_lag_ms"] = ms(shown - last_receipt) if shown else None
            shown = await console.reached("c-present", len(ok), 30)
            result["console_checkin_lag_ms"] = ms(shown - last_receipt) if shown else None

            # The chair calls the question, the answer comes, the rating opens.
            await chair.act("call_question", question_id=plan.meeting.question_id)
            await chair.act("to_answering")
            opened = await _fanout(plan, fleet, chair, "open_rating")
            result["open_rating_fanout_p50_ms"] = ms(opened["p50"])
            result["open_rating_fanout_p99_ms"] = ms(opened["p99"])
            start = time.time_ns() + 500_000_000
            asyncio.get_running_loop().call_later((start - time.time_ns()) / 1e9, meter.start)
            async with console.probing("rating_phase", result):
                replies = await fleet.ask(
                    "rate",
                    plan.window_s + slack,
                    question_id=plan.meeting.question_id,
                    start_ns=start,
                    window_s=plan.window_s,
                )
            meter.stop("rating_phase", result)
            ratings: list[Outcome] = [o for r in replies for o in r["outcomes"]]
            _load_lag("rating_phase", replies, result)
            ok_r = [o for o in ratings if o[3]]
            lat = _latencies(ratings)
            last_receipt = max((o[2] for o in ok_r), default=time.time_ns())
            result["ratings_receipted"] = len(ok_r)
            result["rating_statuses"] = dict(Counter(o[4] for o in ratings))
            result["rating_retried"] = sum(1 for o in ratings if o[5] > 1)
            result["rating_new_connections"] = sum(1 for o in ratings if o[6])
            result["rating_p50_ms"] = ms(quantile(lat, 0.5))
            result["rating_p99_ms"] = ms(quantile(lat, 0.99))
            result["rating_max_ms"] = ms(max(lat) if lat else None)
            if ok_r:
                span = (last_receipt - min(o[1] for o in ok_r)) / 1e9
                result["rating_per_s"] = round(len(ok_r) / span, 1) if span > 0 else None
            shown = await console.reached("c-cast", len(ok_r), 30)
            result["tally_lag_ms"] = ms(shown - last_receipt) if shown else None

            # Fan-out: one chair action, every phone's socket.
            adjusted = await _fanout(plan, fleet, chair, "timer_adjust", seconds=30)
            result["fanout_received"] = adjusted["received"]
            result["fanout_p50_ms"] = ms(adjusted["p50"])
            result["fanout_p99_ms"] = ms(adjusted["p99"])
            result["fanout_max_ms"] = ms(adjusted["max"])
            result["fanout_bytes"] = adjusted["bytes"]
            result["fanout_action_reply_ms"] = ms(adjusted["reply"])
            closed = await _fanout(plan, fleet, chair, "close_rating")
            result["close_rating_fanout_p50_ms"] = ms(closed["p50"])
            result["close_rating_fanout_p99_ms"] = ms(closed["p99"])
            result["close_rating_received"] = closed["received"]

        await fleet.ask("close", 60)
        await console.close()
        await projector.close()
        result.update(await _floor(fleet, n, max(64, int(adjusted["bytes"]))))
        for kind, name in (("DeputyCheckedIn", "checkin"), ("RatingCast", "rating")):
            batches = await commit_batches(plan.engine, meeting_id, kind)
            result.update({f"{name}_commit_{k}": v for k, v in batches.items()})
        result.update(
            await check_database(plan.engine, meeting_id, plan.meeting.question_id, checkins, ratings)
        )
        return result
    finally:
        await console.close()
        await projector.close()
        await chair_http.aclose()
        await screen_http.aclose()
        fleet.stop()


async def _floor(fleet: Fleet, n: int, size: int) -> dict[str, Any]:
    """The same number of loopback sockets, one bare server process, one message."""
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=floor_process, args=(theirs,), daemon=True)
    proc.start()
    theirs.close()
    try:
        port = await _recv(ours, 30)
        dropped = listen_overflows()
        await fleet.ask("floor_connect", 60 + n * 0.2, url=f"ws://127.0.0.1:{port}/")
        dropped = listen_overflows() - dropped
        ours.send(("count", None))
        connected = await _recv(ours, 10)
        await asyncio.sleep(0.5)
        body = '<div id="timer" data-seq="1" hx-swap-oob="true">' + "x" * max(0, size - 60) + "</div>"
        ours.send(("go", body))
        started = await _recv(ours, 30)
        replies = await fleet.ask("floor_seen", 60, timeout_s=20)
        lags = [s - started for r in replies for s in r["seen"] if s is not None]
        return {
            "fanout_floor_ms": ms(quantile(lags, 0.99)),
            "fanout_floor_p50_ms": ms(quantile(lags, 0.5)),
            "fanout_floor_received": len(lags),
            "fanout_floor_connected": connected,
            "floor_connect_listen_overflows": dropped,
        }
    finally:
        with contextlib.suppress(Exception):
            ours.send(("stop", None))
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)


async def commit_batches(engine: AsyncEngine, meeting_id: int, kind: str) -> dict[str, Any]:
    """The writer's group commits, read back from the log: one batch shares one ``created_ms``."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(m.events.c.created_ms, func.count())
                .where(m.events.c.meeting_id == meeting_id, m.events.c.type == kind)
                .group_by(m.events.c.created_ms)
                .order_by(m.events.c.created_ms)
            )
        ).all()
        await conn.commit()
    sizes = [int(n) for _, n in rows]
    gaps = [float(b - a) for (a, _), (b, _) in itertools.pairwise(rows)]
    return {
        "batches": len(rows),
        "batch_mean": round(sum(sizes) / len(sizes), 1) if sizes else None,
        "batch_max": max(sizes, default=None),
        "gap_p50_ms": quantile(gaps, 0.5),
        "gap_max_ms": max(gaps, default=None),
    }


async def check_database(
    engine: AsyncEngine,
    meeting_id: int,
    question_id: int,
    checkins: list[Outcome],
    ratings: list[Outcome],
) -> dict[str, Any]:
    """Lost: a receipt with no row. Duplicated: more than one row per deputy."""
    async with engine.connect() as conn:
        checked = Counter(
            int(json.loads(data)["deputy_id"])
            for data in (
                await conn.execute(
                    select(m.events.c.data).where(
                        m.events.c.meeting_id == meeting_id, m.events.c.type == "DeputyCheckedIn"
                    )
                )
            ).scalars()
        )
        cast = Counter(
            int(json.loads(data)["deputy_id"])
            for data in (
                await conn.execute(
                    select(m.events.c.data).where(
                        m.events.c.meeting_id == meeting_id, m.events.c.type == "RatingCast"
                    )
                )
            ).scalars()
        )
        receipts = Counter(
            (
                await conn.execute(
                    select(m.rating_receipts.c.deputy_id).where(
                        m.rating_receipts.c.meeting_id == meeting_id,
                        m.rating_receipts.c.question_id == question_id,
                    )
                )
            ).scalars()
        )
        ballots = (
            await conn.execute(
                select(func.count()).where(
                    m.rating_ballots.c.meeting_id == meeting_id, m.rating_ballots.c.question_id == question_id
                )
            )
        ).scalar_one()
        await conn.commit()
    got_checkin = {o[0] for o in checkins if o[3]}
    got_rating = {o[0] for o in ratings if o[3]}
    receipt_rows = sum(receipts.values())
    lost = {
        "checkin": len(got_checkin - set(checked)),
        "rating_receipt": len(got_rating - set(receipts)),
        "rating_event": len(got_rating - set(cast)),
        "ballot": max(0, receipt_rows - ballots),
    }
    duplicated = {
        "checkin": sum(c - 1 for c in checked.values() if c > 1),
        "rating_receipt": sum(c - 1 for c in receipts.values() if c > 1),
        "rating_event": sum(c - 1 for c in cast.values() if c > 1),
        "ballot": max(0, ballots - receipt_rows),
    }
    return {
        "lost": sum(lost.values()),
        "duplicated": sum(duplicated.values()),
        "lost_by_kind": lost,
        "duplicated_by_kind": duplicated,
        "db_checkins": sum(checked.values()),
        "db_rating_receipts": receipt_rows,
        "db_rating_ballots": int(ballots),
    }


# -- the command -----------------------------------------------------------------------


def _table(result: dict[str, Any]) -> str:
    labels = [
        ("clients", "phones (deputies)", ""),
        ("offered_per_s", "offered check-ins / ratings per second", "/s"),
        ("checkins_receipted", "check-ins receipted", ""),
        ("checkin_p50_ms", "check-in receipt p50", "ms"),
        ("checkin_p99_ms", "check-in receipt p99", "ms"),
        ("checkin_per_s", "check-in receipts per second", "/s"),
        ("checkin_new_connections", "check-ins that opened a new connection", ""),
        ("projector_lag_ms", "projector shows all, after last receipt", "ms"),
        ("ratings_receipted", "ratings receipted", ""),
        ("rating_p50_ms", "rating receipt p50", "ms"),
        ("rating_p99_ms", "rating receipt p99", "ms"),
        ("rating_per_s", "rating receipts per second", "/s"),
        ("tally_lag_ms", "console tally complete, after last receipt", "ms"),
        ("fanout_p50_ms", "fan-out (timer_adjust) p50", "ms"),
        ("fanout_p99_ms", "fan-out (timer_adjust) p99", "ms"),
        ("fanout_floor_ms", "floor: bare websockets broadcast p99", "ms"),
        ("open_rating_fanout_p99_ms", "fan-out (open_rating) p99", "ms"),
        ("close_rating_fanout_p99_ms", "fan-out (close_rating) p99", "ms"),
        ("rss_kib_per_client", "server RSS per socket", "KiB"),
        ("checkin_phase_server_cpu_pct", "server CPU, check-in phase (1 core = 100)", "%"),
        ("checkin_phase_load_cpu_pct", "load CPU, check-in phase (1 core = 100)", "%"),
        ("checkin_phase_probe_max_ms", "server loop stall, check-in (probe max)", "ms"),
        ("checkin_phase_load_loop_lag_p99_ms", "load processes' loop lag p99, check-in", "ms"),
        ("rating_phase_server_cpu_pct", "server CPU, rating phase", "%"),
        ("rating_phase_load_cpu_pct", "load CPU, rating phase", "%"),
        ("rating_phase_probe_max_ms", "server loop stall, rating (probe max)", "ms"),
        ("rating_phase_load_loop_lag_p99_ms", "load processes' loop lag p99, rating", "ms"),
        ("checkin_commit_batches", "check-in commits (group commit batches)", ""),
        ("checkin_commit_gap_max_ms", "longest gap between check-in commits", "ms"),
        ("gc_gen2_count", "server full garbage collections", ""),
        ("gc_gen2_total_ms", "server full garbage collections, total", "ms"),
        ("gc_gen2_max_ms", "server full garbage collection, longest", "ms"),
        ("lost", "lost receipts", ""),
        ("duplicated", "duplicated rows", ""),
    ]
    lines = []
    for key, label, unit in labels:
        if key not in result:
            continue
        value = result[key]
        shown = "n/a" if value is None else f"{value}{(' ' + unit) if unit else ''}"
        lines.append(f"  {label:<46}{shown}")
    return "\n".join(lines)


def _window(args: argparse.Namespace) -> float:
    raw = getattr(args, "window", None) or os.environ.get("WENZHENG_BENCH_WINDOW_S")
    return float(raw) if raw else DEFAULT_WINDOW_S


def main(args: argparse.Namespace) -> int:
    n = int(args.deputies)
    processes = max(1, min(int(args.processes), n))
    if n < 1:
        print("--deputies must be at least 1", file=sys.stderr)
        return 2
    profile = os.environ.get("WENZHENG_BENCH_PROFILE", "")
    cprofile = profile if profile.endswith(".prof") else None
    gc_log = tmp_gc = None
    gc_mode = os.environ.get("WENZHENG_BENCH_GC", "")
    if gc_mode and not args.url and int(args.workers) == 1:
        suffix = ".freeze.json" if gc_mode == "freeze" else ".json"
        tmp_gc = gc_log = Path(tempfile.mkstemp(prefix="wenzheng-bench-gc-", suffix=suffix)[1])
    tmp = Path(tempfile.mkdtemp(prefix="wenzheng-bench-"))
    server: Server | None = None
    result: dict[str, Any] = {}
    code = 0
    try:
        if args.url:
            settings = load()  # the server's own data folder: its secret signs the invitations
            base_url = str(args.url).rstrip("/")
            database_url = args.database_url or settings.database_url
        else:
            port = _free_port()
            base_url = f"http://127.0.0.1:{port}"
            env = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
            env.update(
                WENZHENG_DATA_DIR=str(tmp / "data"),
                WENZHENG_DATABASE_URL=args.database_url or f"sqlite+aiosqlite:///{tmp / 'data' / 'bench.db'}",
                WENZHENG_PUBLIC_URL=base_url,
                WENZHENG_REDIS_PREFIX=f"bench-{secrets.token_hex(4)}",
            )
            if args.redis_url:
                env["WENZHENG_REDIS_URL"] = args.redis_url
            settings = load(env)  # creates the data folder and its secret before the server reads it
            database_url = settings.database_url
        upgrade(database_url)
        engine = create_engine(database_url)
        seeded = asyncio.run(_seed(engine, n))
        if not args.url:
            server = start_server(port, int(args.workers), env, tmp / "server.log", cprofile, gc_log)
        wait_healthy(base_url, 60, server)
        print(
            f"wenzheng bench: {n} phones in {processes} processes against {base_url} "
            f"(meeting {seeded.meeting_id}, {args.workers} worker(s), "
            f"{'redis' if args.redis_url else 'memory'} bus, {database_url.split(':', 1)[0]})",
            flush=True,
        )
        plan = Plan(
            base_url=base_url,
            meeting=seeded,
            keys=Keys(settings.secret_key),
            secret=settings.secret_key,
            hall_seconds=settings.hall_code_seconds,
            processes=processes,
            window_s=_window(args),
            engine=engine,
            server=server,
            profile=None if cprofile else profile or None,
        )
        result = asyncio.run(_drive_and_dispose(plan))
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        if server is not None:
            print(server.tail(), file=sys.stderr)
        code = 2
    finally:
        if server is not None:
            server.stop()
        if os.environ.get("WENZHENG_BENCH_KEEP"):
            print(f"kept: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if result and tmp_gc is not None:
        with contextlib.suppress(OSError, ValueError):
            result.update(gc_summary(tmp_gc))
        tmp_gc.unlink(missing_ok=True)
    if result:
        print(_table(result))
        if profile.endswith(".txt") and Path(profile).exists():
            print(f"py-spy profile of the server ({profile}):")
            print(profile_summary(profile))
        if cprofile and Path(cprofile).exists():
            print(f"cProfile of the server ({cprofile}), by own time:")
            pstats.Stats(cprofile).sort_stats("tottime").print_stats(25)
        complete = (
            result.get("checkins_receipted") == n
            and result.get("ratings_receipted") == n
            and result.get("fanout_received") == n
        )
        if result["lost"] or result["duplicated"]:
            code = 1
        elif not complete:
            code = 2
            print("bench incomplete: not every phone was receipted or reached", file=sys.stderr)
    if args.json_out:
        ordered = {k: result.get(k) for k in JSON_KEYS}
        ordered.update({k: v for k, v in result.items() if k not in ordered})
        ordered["exit_code"] = code
        Path(args.json_out).write_text(json.dumps(ordered, ensure_ascii=False, indent=2) + "\n")
    return code


async def _seed(engine: AsyncEngine, n: int) -> Seeded:
    try:
        return await seed_meeting(engine, n)
    finally:
        await engine.dispose()


async def _drive_and_dispose(plan: Plan) -> dict[str, Any]:
    try:
        return await drive(plan)
    finally:
        await plan.engine.dispose()
