"""The floor of a rating, measured in the same run: the same phones send the same rating
requests (fresh ballot keys) within the same window to ``floor_app`` (a minimal ASGI app on
the same stack, in a process of its own, that does a rating's essential work: parse the
form, check the signed cookie and the CSRF token, one insert in a group commit, a receipt
of the same size). Its CPU per rating is the yardstick: ratio = ours / floor. Each phone
opens its connection to the floor before the window, as it holds its connection to the
server from its check-in; if the server had closed some (``rating_new_connections``),
ours paid for opening them and the floor did not.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from pathlib import Path
from typing import Any

from server.bench.common import ms, quantile
from server.bench.hall import Hall
from server.bench.phones import Requests, Target
from server.bench.procfs import cpu_seconds, descendants

LEAD_NS = 500_000_000


async def measure_floor(
    hall: Hall, secret: str, folder: Path, receipt_size: int, window_s: float
) -> dict[str, Any]:
    try:
        start_floor = importlib.import_module("server.bench.floor_app").start_floor
    except (ImportError, AttributeError):
        return {"floor_available": False}
    folder.mkdir(parents=True, exist_ok=True)
    try:
        floor = await start_floor(secret, folder, receipt_size)
    except Exception as exc:  # the run's own figures stand without the floor
        return {"floor_available": False, "floor_error": f"{type(exc).__name__}: {exc}"}
    try:
        to = Target(str(floor.url))
        m = hall.meeting
        requests = [Requests(p, to, m.meeting_id, m.question_id) for p in hall.phones]
        # As on the server, where every phone still holds the connection of its check-in.
        errors = await hall.hold_connections(to)
        if errors:
            return {"floor_available": False, "floor_error": errors[0]}
        pids = descendants(int(floor.pid))
        start = time.time_ns() + LEAD_NS
        before: tuple[float, float] = (0.0, 0.0)

        def mark() -> None:
            nonlocal before
            before = (cpu_seconds(pids), time.monotonic())

        asyncio.get_running_loop().call_later((start - time.time_ns()) / 1e9, mark)
        outcomes = await hall.rate(to, requests, start, window_s)
        cpu, wall = cpu_seconds(pids) - before[0], time.monotonic() - before[1]
        ok = [o for o in outcomes if o[3] or o[4] == "200"]
        lat = [o[2] - o[1] for o in ok]
        return {
            "floor_available": True,
            "floor_ratings": len(ok),
            "floor_receipted_with_marker": sum(1 for o in outcomes if o[3]),
            "floor_cpu_s": round(cpu, 3),
            "floor_cpu_pct": round(100 * cpu / wall, 1) if wall > 0 else None,
            "floor_cpu_ms_per_rating": round(1000 * cpu / len(ok), 3) if ok else None,
            "floor_p50_ms": ms(quantile(lat, 0.5)),
            "floor_p99_ms": ms(quantile(lat, 0.99)),
        }
    finally:
        hall.drop_http()
        await floor.stop()
