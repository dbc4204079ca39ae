"""The load processes: each owns a share of the phones and obeys commands over a pipe.

The main process holds a :class:`Fleet` (one pipe per load process) and sends the same
command to every process: ``bind``, ``connect``, ``check_in``, ``rate``, ``seen`` (when
did each socket first get a given seq?), ``close``, ``floor_connect``, ``floor_seen``,
``stop``. Each process answers with a dict; ``{"error": ...}`` ends the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import multiprocessing as mp
import signal
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection

from server.base.keys import Keys
from server.bench.common import BenchError, recv, run_loop
from server.bench.phone import Phone, ProcessSpec


async def _bounded(limit: int, jobs: Sequence[Callable[[], Coroutine[Any, Any, Any]]]) -> list[Any]:
    """Run the jobs, ``limit`` at a time; an exception becomes its message."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        async with gate:
            try:
                return await job()
            except Exception as exc:
                return f"{type(exc).__name__}: {exc}"

    return list(await asyncio.gather(*(one(j) for j in jobs)))


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


async def _do(
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


async def _serve_commands(spec: ProcessSpec, conn: Connection) -> None:
    keys = Keys(spec.secret)
    phones = [Phone(spec, p) for p in spec.phones]
    floor: list[ClientConnection] = []
    try:
        while True:
            cmd, arg = await recv(conn)
            if cmd == "stop":
                break
            try:
                reply = await _do(cmd, arg, phones, keys, floor)
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            conn.send(reply)
    finally:
        await asyncio.gather(*(p.close() for p in phones), return_exceptions=True)
        await asyncio.gather(*(p.client.aclose() for p in phones), return_exceptions=True)
        for ws in floor:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)


def phones_process(spec: ProcessSpec, conn: Connection) -> None:
    """Entry point of one load process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when to stop
    run_loop(_serve_commands(spec, conn))


class Fleet:
    """The load processes and their pipes (in the main process)."""

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

    @property
    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.procs]

    async def ask(self, cmd: str, within_s: float, **arg: Any) -> list[dict[str, Any]]:
        """The same command to every process; their replies (any error ends the run)."""
        for pipe in self.pipes:
            pipe.send((cmd, arg))
        replies = [await recv(pipe, within_s) for pipe in self.pipes]
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
