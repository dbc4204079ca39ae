"""``wenzheng bench --split-checkin``: where the whole check-in's CPU goes, exchange by
exchange (a diagnostic; it checks no target).

The whole check-in is three exchanges: the hall page, the check-in POST (answered with the
deputy's page) and the socket reopened with its hello; before December 2026 the POST was
answered with a 303 to the page, a fourth exchange, still measured against such a server
(``WENZHENG_BENCH_SERVE``). The standard run
measures them together; here every phone does the first exchange within the check-in
window, then every phone the second, and so on, each in a window of its own, so the
server's CPU over each window divided by the phones is that exchange's cost. The screens
are open as in the standard run (the console follows a typed search), so the POST's
figure carries its share of their updates, as a check-in does in a hall. The server's
idle CPU (keep-alive pings of every socket, the hall's timers) is measured first and
printed beside: it is in every window.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from server.bench.chair import Chair, console_screen, projector_screen, script_screen
from server.bench.common import BenchError, sleep_until_ns
from server.bench.driver import LEAD_NS, Plan, _memory, _open_screens
from server.bench.hall import Hall
from server.bench.phones import BODY_SEQ_RE, Phone, Requests, Target
from server.bench.procfs import CpuMeter
from server.bench.report import table

EXCHANGES = ("hall_page", "checkin_post", "receipt_page", "socket")

SPLIT_TABLE = (
    ("split_idle_server_cpu_pct", "server CPU, idle (1 core = 100)", "%"),
    *((f"split_{n}_server_cpu_ms", f"server CPU per {n.replace('_', ' ')}", "ms") for n in EXCHANGES),
    ("split_sum_server_cpu_ms", "the exchanges together", "ms"),
    ("split_idle_share_ms", "  of which idle CPU, per exchange", "ms"),
)


def split_table(result: dict[str, Any]) -> str:
    return table(result, SPLIT_TABLE)


async def _paced(phones: list[Phone], window_s: float, job: Callable[[Phone], Awaitable[None]]) -> None:
    start = time.time_ns() + LEAD_NS
    await asyncio.gather(*(_at(start + int(p.index * window_s * 1e9 / len(phones)), job, p) for p in phones))


async def _at(at_ns: int, job: Callable[[Phone], Awaitable[None]], phone: Phone) -> None:
    await sleep_until_ns(at_ns)
    await job(phone)


async def split_checkin(plan: Plan) -> dict[str, Any]:
    target = Target(plan.base_url)
    hall = Hall(target, plan.meeting, plan.keys, plan.hall_seconds)
    meter = CpuMeter(plan.server.proc.pid if plan.server else None)
    console, projector, script = console_screen(), projector_screen(), script_screen()
    client = httpx.AsyncClient(base_url=plan.base_url, trust_env=False, timeout=60)
    chair = Chair(client, plan.meeting.meeting_id)
    result: dict[str, Any] = {"clients": len(hall.phones)}
    try:
        await _open_screens(plan, chair, console, projector, script, result)
        await _memory(plan, hall, result)
        await chair.act("open_checkin")
        requests = {p.index: r for p, r in zip(hall.phones, hall.requests, strict=True)}
        seqs: dict[int, int] = {}
        meeting_id = plan.meeting.meeting_id

        def hall_code() -> str:
            return plan.keys.hall_code(meeting_id, int(time.time() // plan.hall_seconds))

        def reqs(phone: Phone) -> Requests:
            return requests[phone.index]

        async def hall_page(phone: Phone) -> None:
            (status, _, _), _, _ = await phone.request(target, reqs(phone).hall(hall_code())[0])
            if status != 200:
                raise BenchError(f"hall page: {status}")

        async def checkin_post(phone: Phone) -> None:
            (status, _, body), _, _ = await phone.request(target, reqs(phone).hall(hall_code())[1])
            if status == 200 and (seq := BODY_SEQ_RE.search(body)):
                seqs[phone.index] = int(seq.group(1))  # answered with the page itself
            elif status != 303:
                raise BenchError(f"check-in: {status}")

        async def receipt_page(phone: Phone) -> None:
            if phone.index in seqs:
                return  # no receipt page to load: the POST answered with it
            (status, _, body), _, _ = await phone.request(target, reqs(phone).receipt_page)
            seq = BODY_SEQ_RE.search(body)
            if status != 200 or not seq:
                raise BenchError(f"receipt page: {status}")
            seqs[phone.index] = int(seq.group(1))

        async def socket(phone: Phone) -> None:
            if phone.ws is not None:
                phone.ws.close()
            await phone.open_socket(target, meeting_id, seqs[phone.index])

        jobs = {
            "hall_page": hall_page,
            "checkin_post": checkin_post,
            "receipt_page": receipt_page,
            "socket": socket,
        }
        meter.start()
        await asyncio.sleep(2.0)
        meter.stop("split_idle", 0, result)
        idle = result.get("split_idle_server_cpu_pct")
        result["split_idle_server_cpu_pct"] = idle
        total = 0.0
        for name in EXCHANGES:
            if name == "receipt_page" and len(seqs) == len(hall.phones):
                result["split_receipt_page_server_cpu_ms"] = None  # the POST answered with the page
                continue
            meter.start()
            await _paced(hall.phones, plan.checkin_window_s, jobs[name])
            meter.stop(f"split_{name}", len(hall.phones), result)
            cost = result.get(f"split_{name}_server_cpu_ms_per_op")
            result[f"split_{name}_server_cpu_ms"] = cost
            total += cost or 0.0
        result["split_sum_server_cpu_ms"] = round(total, 3)
        if idle is not None:
            per_window_s = plan.checkin_window_s + LEAD_NS / 1e9
            result["split_idle_share_ms"] = round(idle / 100 * per_window_s * 1000 / len(hall.phones), 3)
        return result
    finally:
        for screen in (console, projector, script):
            await screen.close()
        await chair.client.aclose()
        hall.close()
