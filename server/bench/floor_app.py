"""The rating floor: the least a server on our stack must do to answer one rating.

A Starlette app served by uvicorn with the settings ``wenzheng serve`` uses, in a process
of its own, that takes exactly the request the bench's phones send
(``POST /d/{meeting_id}/rate``, urlencoded ``question_id``/``choice``/``ballot_key``,
cookie ``wz_deputy``, header ``X-CSRF-Token``) and does a rating's essential work:

- parse the form (the same urlencoded parsing and the same :func:`parse_rating`),
- verify the signed deputy cookie and the CSRF token derived from it (the same
  :class:`~server.base.keys.Keys`, the same secret; no card or phone lookups),
- one insert per rating into SQLite in a folder of its own, through the server's engine
  (SQLAlchemy async, aiosqlite, WAL, ``synchronous=FULL``), committed in groups by the
  server's own rule: the ratings that arrive while one commit runs are inserted and
  committed together next, at most every ``GATHER_S`` (:mod:`server.room.batching`), so
  the floor's commits per rating are the server's,
- answer 200 with a receipt of ``receipt_size`` bytes only after its commit.

The server's CPU per rating divided by this app's, measured in the same run, is how far
our rating path is from the floor (issue 20 aims for at most 2x).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from server.base.keys import Keys
from server.base.parse import BadInput, parse_rating
from server.room.batching import next_batch
from server.storage.db import create_engine

SECRET_ENV = "WENZHENG_FLOOR_SECRET"  # not on the command line, where `ps` shows it
RECORDED = "已记录"  # what the bench's phone looks for in a rating's reply
MAX_BODY = 4096
START_TIMEOUT_S = 30.0

metadata = MetaData()
ratings = Table(
    "floor_ratings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("question_id", Integer, nullable=False),
    Column("deputy_id", Integer, nullable=False),
    Column("choice", String, nullable=False),
    Column("ballot_key", String, nullable=False),
    # One ballot per deputy per question, as the real table: a retry inserts nothing.
    UniqueConstraint("question_id", "deputy_id"),
)


class GroupCommit:
    """Inserts from concurrent requests, committed together: one writer task takes every
    row queued while the previous commit ran and commits them in one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[None]]] = asyncio.Queue()
        self.commits = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.engine.dispose()

    async def insert(self, row: dict[str, Any]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self.queue.put((row, done))
        await done

    async def _run(self) -> None:
        started = -1.0
        while True:
            batch, started = await next_batch(self.queue, started)
            try:
                async with self.engine.begin() as conn:
                    stmt = sqlite_insert(ratings).on_conflict_do_nothing()
                    await conn.execute(stmt, [row for row, _ in batch])
                self.commits += 1
            except Exception as failed:  # every waiter hears it; the loop goes on
                for _, done in batch:
                    if not done.done():
                        done.set_exception(failed)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)


@dataclass(frozen=True)
class Floor:
    keys: Keys
    writer: GroupCommit
    receipt: bytes


def _receipt(size: int) -> bytes:
    head = f'<div id="my-rating" class="recorded">{RECORDED}</div>'.encode()
    return head + b" " * max(0, size - len(head))


async def _read_form(request: Request) -> dict[str, str] | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=20))
    except (UnicodeDecodeError, ValueError):
        return None


def build_app(floor: Floor) -> Starlette:
    async def rate(request: Request) -> Response:
        binding = floor.keys.read_deputy(request.cookies.get("wz_deputy"))
        if binding is None:
            return PlainTextResponse("未绑定", 401)
        form = await _read_form(request)
        if form is None:
            return PlainTextResponse("请求有误", 400)
        token = request.headers.get("x-csrf-token") or form.get("csrf")
        if not floor.keys.check_csrf(binding.sid, token):
            return PlainTextResponse("请求已过期，请刷新页面", 403)
        try:
            command = parse_rating(form, binding.deputy_id)
        except BadInput:
            return PlainTextResponse("请求有误", 400)
        await floor.writer.insert(
            {
                "question_id": command.question_id,
                "deputy_id": command.deputy_id,
                "choice": command.choice.value,
                "ballot_key": command.ballot_key,
            }
        )
        return Response(floor.receipt, media_type="text/html")

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with floor.writer.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        floor.writer.start()
        try:
            yield
        finally:
            await floor.writer.stop()

    routes = [
        Route("/d/{meeting_id:int}/rate", rate, methods=["POST"]),
        Route("/healthz", healthz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def serve(secret: str, folder: Path, receipt_size: int, sock: socket.socket) -> None:
    """Run the floor on ``sock`` with the http/ws settings of ``wenzheng serve``."""
    import uvicorn

    from server.cli.serve import stack_options

    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'floor.sqlite3'}")
    app = build_app(Floor(Keys(secret), GroupCommit(engine), _receipt(receipt_size)))
    config = uvicorn.Config(app, log_level="warning", **stack_options())
    uvicorn.Server(config).run(sockets=[sock])


@dataclass
class FloorServer:
    """The floor's process, listening at ``url``."""

    url: str
    pid: int
    _proc: asyncio.subprocess.Process

    async def stop(self) -> None:
        if self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()


async def start_floor(secret: str, folder: Path, receipt_size: int) -> FloorServer:
    """Start the floor in a process of its own; return once it answers ``/healthz``."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.bench.floor_app",
        "--folder",
        str(folder),
        "--receipt-size",
        str(receipt_size),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, SECRET_ENV: secret},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT_S)
        if not line.startswith(b"PORT "):
            raise RuntimeError(f"floor app did not start: {line!r}")
        url = f"http://127.0.0.1:{int(line.split()[1])}"
        await asyncio.wait_for(_until_healthy(url), START_TIMEOUT_S)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    return FloorServer(url, proc.pid, proc)


async def _until_healthy(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    while True:
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: floor\r\nConnection: close\r\n\r\n")
            status = await reader.readline()
            writer.close()
            if b" 200 " in status:
                return
        await asyncio.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the rating floor (server/bench/floor_app.py)")
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--receipt-size", type=int, required=True)
    args = parser.parse_args(argv)
    secret = os.environ.get(SECRET_ENV)
    if not secret:
        print(f"错误：需要环境变量 {SECRET_ENV}", file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # The parent learns the port from this line; then it waits for /healthz.
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    serve(secret, args.folder, args.receipt_size, sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
