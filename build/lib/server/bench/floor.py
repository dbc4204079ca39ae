"""The floor: what a bare send loop costs on this machine, measured in the same run.

A plain ``websockets`` server in a process of its own accepts as many loopback sockets
as there are phones (opened by the same load processes) and broadcasts one message of
the size the real fan-out carried; the p99 of its arrival is ``fanout_floor_ms``, the
yardstick of the fan-out target (p99 at most 3 times the floor).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import signal
import time
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve

from server.bench.common import ms, quantile, recv, run_loop
from server.bench.load import Fleet
from server.bench.procfs import listen_overflows


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
            cmd, arg = await recv(conn)
            if cmd == "count":
                conn.send(len(clients))
            elif cmd == "go":
                started = time.time_ns()
                broadcast(clients, arg)
                conn.send(started)
            else:
                break


def floor_process(conn: Connection) -> None:
    """Entry point of the floor server's process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    run_loop(_floor_main(conn))


async def measure_floor(fleet: Fleet, n: int, size: int) -> dict[str, Any]:
    """The same number of loopback sockets, one bare server process, one message."""
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=floor_process, args=(theirs,), daemon=True)
    proc.start()
    theirs.close()
    try:
        port = await recv(ours, 30)
        dropped = listen_overflows()
        await fleet.ask("floor_connect", 60 + n * 0.2, url=f"ws://127.0.0.1:{port}/")
        dropped = listen_overflows() - dropped
        ours.send(("count", None))
        connected = await recv(ours, 10)
        await asyncio.sleep(0.5)
        body = '<div id="timer" data-seq="1" hx-swap-oob="true">' + "x" * max(0, size - 60) + "</div>"
        ours.send(("go", body))
        started = await recv(ours, 30)
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
