"""The run itself, in this one process: the screens open, the phones bind and connect
(memory per phone), check-in opens and every phone does the whole check-in within its
window, the question is called and every phone rates within the rating window, the chair
closes the rating (bytes per phone over the whole question), the reconnect storm, the
database read back, and the floor.

Every figure of a window comes with the CPU the server and this process (the generator:
phones, chair, screens, probes) spent in it, per operation.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.exceptions import InvalidStatus

from server.base.keys import Keys
from server.bench.chair import Chair, Screen, console_screen, projector_screen, script_screen
from server.bench.common import BenchError, ms, quantile
from server.bench.dbcheck import check_database, commit_batches, last_seq
from server.bench.diagnostics import py_spy
from server.bench.floor import measure_floor
from server.bench.hall import Hall
from server.bench.meeting import Seeded
from server.bench.phones import Flow, Outcome, Target
from server.bench.probe import StallProbe, loop_lag
from server.bench.procfs import CpuMeter, server_rss_kib
from server.bench.serving import Server

LEAD_NS = 500_000_000  # a burst starts this long after the phones are told
STORM_SPREAD_S = 2.0  # every phone is back within this long after the drop
STORM_ACT_AFTER_S = 0.5  # the chair's change, this long into the storm


@dataclass
class Plan:
    base_url: str
    meeting: Seeded
    keys: Keys
    secret: str
    hall_seconds: int
    checkin_window_s: float
    rating_window_s: float
    engine: AsyncEngine
    server: Server | None
    folder: Path
    profile: str | None = None


def _latencies(name: str, pairs: list[tuple[int, int]], into: dict[str, Any]) -> None:
    lat = [b - a for a, b in pairs]
    into[f"{name}_p50_ms"] = ms(quantile(lat, 0.5))
    into[f"{name}_p99_ms"] = ms(quantile(lat, 0.99))
    into[f"{name}_max_ms"] = ms(max(lat) if lat else None)


def _burst(name: str, outcomes: list[Outcome], into: dict[str, Any]) -> int:
    """The figures of the check-in POSTs or the ratings; returns the time of the last receipt."""
    ok = [o for o in outcomes if o[3]]
    into[f"{name}s_receipted"] = len(ok)
    into[f"{name}_statuses"] = dict(Counter(o[4] for o in outcomes))
    into[f"{name}_retried"] = sum(1 for o in outcomes if o[5] > 1)
    into[f"{name}_new_connections"] = sum(1 for o in outcomes if o[6])
    _latencies(name, [(o[1], o[2]) for o in ok], into)
    last = max((o[2] for o in ok), default=time.time_ns())
    if ok:
        span = (last - min(o[1] for o in ok)) / 1e9
        into[f"{name}_per_s"] = round(len(ok) / span, 1) if span > 0 else None
    return last


def _flows(flows: list[Flow], into: dict[str, Any]) -> int:
    ok = [f for f in flows if f[3]]
    into["checkin_flows_completed"] = len(ok)
    failed = Counter(f[4] for f in flows if not f[3])
    into["checkin_flow_failures"] = dict(failed)
    _latencies("checkin_flow", [(f[1], f[2]) for f in ok], into)
    sizes = [f[5] for f in ok]
    into["reconnect_bytes_mean"] = round(sum(sizes) / len(sizes)) if sizes else None
    into["reconnect_bytes_max"] = max(sizes, default=None)
    return len(ok)


async def _fanout(plan: Plan, hall: Hall, chair: Chair, cmd: str, **fields: str | int) -> dict[str, Any]:
    """One chair action; when each phone first held the seq it committed."""
    sent, _ = await chair.act(cmd, **fields)
    seq = await last_seq(plan.engine, plan.meeting.meeting_id)
    seen = await hall.seen(seq, 0, 20)
    lags = [s - sent for s in seen if s is not None]
    return {
        "seq": seq,
        "received": len(lags),
        "p50": ms(quantile(lags, 0.5)),
        "p99": ms(quantile(lags, 0.99)),
        "last": max((s for s in seen if s is not None), default=None),
    }


# The manual check-in search the console has typed: a group of the bench meeting, so the
# answer has the most rows a search shows (30).
SEARCH = "第1代表小组"


async def _open_screens(
    plan: Plan, chair: Chair, console: Screen, projector: Screen, script: Screen, into: dict[str, Any]
) -> None:
    """As in a hall: the chair logs in and opens the console socket (a search typed in it);
    the projector and the chair's script tablet are paired and opened. A server without the
    script view (before issue 16) refuses its socket: the run goes on without it."""
    meeting_id = plan.meeting.meeting_id
    await chair.login(plan.meeting.chair_user, plan.meeting.chair_password)
    screen = plan.keys.screen_cookie(meeting_id, "projector")
    async with httpx.AsyncClient(base_url=plan.base_url, trust_env=False, timeout=60) as screen_http:
        r = await screen_http.get(
            f"/m/{meeting_id}/projector", params={"screen": screen}, follow_redirects=True
        )
        if r.status_code != 200:
            raise BenchError(f"projector page: {r.status_code}")
        screen_cookie = screen_http.cookies.get("wz_screen")
        # The console page's own script decides whether a typed search follows attendance.
        js = await screen_http.get("/static/live.js")
        follows = js.status_code == 200 and "c-roster" in js.text
    ws_base = plan.base_url.replace("http", "ws", 1)
    if follows:
        console.on_attendance = chair.follow_search(SEARCH)
    into["console_search_follows_attendance"] = follows
    await console.open(f"{ws_base}/ws/{meeting_id}/console", f"wz_user={chair.client.cookies.get('wz_user')}")
    await projector.open(f"{ws_base}/ws/{meeting_id}/projector", f"wz_screen={screen_cookie}")
    try:
        tablet = plan.keys.screen_cookie(meeting_id, "script")
        await script.open(f"{ws_base}/ws/{meeting_id}/script", f"wz_screen={tablet}")
        into["script_screen"] = True
    except InvalidStatus:
        into["script_screen"] = False


def _screens_sent(
    screens: list[Screen], name: str, marks: list[tuple[int, int]], into: dict[str, Any]
) -> None:
    """Messages and bytes each screen was sent during a phase (from ``marks``, taken at its start)."""
    for screen, (count, size) in zip(screens, marks, strict=True):
        into[f"{name}_{screen.name}_messages"] = screen.received - count
        into[f"{name}_{screen.name}_kib"] = round((screen.received_bytes - size) / 1024, 1)


async def _memory(plan: Plan, hall: Hall, into: dict[str, Any]) -> None:
    """Bind every phone (which also loads the meeting in every worker), let go of the
    binding's connections; the server's memory then, and again once every phone holds a
    keep-alive HTTP connection and a socket: the difference is what connections cost."""
    server = plan.server

    def rss() -> int:
        return sum(server_rss_kib(server.proc.pid, server.workers).values()) if server else 0

    unbound = rss()
    errors = await hall.bind()
    into["bind_errors"] = len(errors)
    if errors:
        raise BenchError(f"binding: {errors[0]}")
    hall.drop_http()
    await asyncio.sleep(0.5)
    before = rss()
    errors = await hall.connect()
    into["connect_errors"] = len(errors)
    if errors:
        raise BenchError(f"sockets: {errors[0]}")
    errors = await hall.hold_connections()
    into["hold_errors"] = len(errors)
    await asyncio.sleep(0.5)
    if not server:
        into["rss_kib_per_phone"] = None
        return
    after = server_rss_kib(server.proc.pid, server.workers)
    n = len(hall.phones)
    into["server_rss_kib_before"] = before
    into["server_rss_kib_after"] = sum(after.values())
    into["server_rss_processes"] = len(after)
    into["rss_kib_per_phone"] = round((sum(after.values()) - before) / n, 1)
    into["bind_rss_kib_per_phone"] = round((before - unbound) / n, 1)  # binding itself, for the curious


def _at(start_ns: int, meter: CpuMeter, probe: StallProbe, marks: dict[str, int]) -> None:
    """Start the CPU meter and the stall probe's window when the burst starts."""

    def go() -> None:
        meter.start()
        marks["probe"] = probe.mark()

    asyncio.get_running_loop().call_later(max(0.0, (start_ns - time.time_ns()) / 1e9), go)


async def drive(plan: Plan) -> dict[str, Any]:
    n = len(plan.meeting.deputy_ids)
    question = plan.meeting.question_id
    server_pid = plan.server.proc.pid if plan.server else None
    result: dict[str, Any] = {
        "clients": n,
        "checkin_window_s": plan.checkin_window_s,
        "rating_window_s": plan.rating_window_s,
        "checkin_offered_per_s": round(n / plan.checkin_window_s, 1) if plan.checkin_window_s else None,
        "rating_offered_per_s": round(n / plan.rating_window_s, 1) if plan.rating_window_s else None,
    }
    target = Target(plan.base_url)
    hall = Hall(target, plan.meeting, plan.keys, plan.hall_seconds)
    meter = CpuMeter(server_pid)
    meeting_id = plan.meeting.meeting_id
    probe = StallProbe(target, meeting_id, plan.keys.screen_cookie(meeting_id, "projector"))
    console, projector, script = console_screen(), projector_screen(), script_screen()
    screens = [console, projector, script]
    chair = Chair(
        httpx.AsyncClient(base_url=plan.base_url, trust_env=False, timeout=60), plan.meeting.meeting_id
    )
    marks: dict[str, int] = {}
    try:
        await _open_screens(plan, chair, console, projector, script, result)
        await asyncio.sleep(0.5)
        await _memory(plan, hall, result)
        # The phones live until the end: keep the generator's own full collections short.
        gc.collect()
        gc.freeze()
        probe.start()
        # Under every window: the server with every phone connected and nothing to do but
        # the stall probe's 100 clock probes a second (counted in every window's CPU).
        meter.start()
        await asyncio.sleep(1.0)
        meter.stop("idle", 0, result)

        with py_spy(server_pid, plan.profile):
            # The whole check-in: every phone within the check-in window.
            await chair.act("open_checkin")
            rx_question = hall.rx()
            start = time.time_ns() + LEAD_NS
            _at(start, meter, probe, marks)
            sent = [s.sent_so_far() for s in screens]
            searches = chair.searches
            with loop_lag("checkin_phase", result):
                checkins, flows = await hall.check_in(start, plan.checkin_window_s)
            meter.stop("checkin_phase", sum(1 for f in flows if f[3]), result)
            probe.since(marks["probe"], "checkin_phase", result)
            _screens_sent(screens, "checkin_phase", sent, result)
            result["checkin_phase_console_searches"] = chair.searches - searches
            last = _burst("checkin", checkins, result)
            _flows(flows, result)
            shown = await projector.reached("p-present", result["checkins_receipted"], 30)
            result["projector_lag_ms"] = ms(shown - last) if shown else None

            # The chair calls the question, the answer comes, the rating opens.
            called = await _fanout(plan, hall, chair, "call_question", question_id=question)
            result["call_question_fanout_p99_ms"] = called["p99"]
            answered = await _fanout(plan, hall, chair, "to_answering")
            result["fanout_received"] = answered["received"]
            result["fanout_p50_ms"], result["fanout_p99_ms"] = answered["p50"], answered["p99"]
            opened = await _fanout(plan, hall, chair, "open_rating", without_quorum=1)
            result["open_rating_fanout_p99_ms"] = opened["p99"]

            start = time.time_ns() + LEAD_NS
            _at(start, meter, probe, marks)
            sent = [s.sent_so_far() for s in screens]
            with loop_lag("rating_phase", result):
                ratings = await hall.rate(target, hall.requests, start, plan.rating_window_s)
            meter.stop("rating_phase", sum(1 for o in ratings if o[3]), result)
            probe.since(marks["probe"], "rating_phase", result)
            _screens_sent(screens, "rating_phase", sent, result)
            last = _burst("rating", ratings, result)
            result["rating_receipt_bytes"] = max(p.receipt_size for p in hall.phones)
            shown = await console.reached("c-cast", result["ratings_receipted"], 30)
            result["tally_lag_ms"] = ms(shown - last) if shown else None

            closed = await _fanout(plan, hall, chair, "close_rating")
            result["close_rating_fanout_p99_ms"] = closed["p99"]
            result["close_rating_received"] = closed["received"]
            question_bytes = [b - a for a, b in zip(rx_question, hall.rx(), strict=True)]
            result["question_kib_per_phone_mean"] = round(sum(question_bytes) / n / 1024, 1)
            result["question_kib_per_phone_max"] = round(max(question_bytes) / 1024, 1)

            # The reconnect storm: the hall's Wi-Fi drops and comes back.
            async def change() -> int:
                await chair.act("close_checkin")  # every phone's page shows check-in closed
                return await last_seq(plan.engine, plan.meeting.meeting_id)

            mark = probe.mark()
            meter.start()
            with loop_lag("storm", result):
                result.update(await hall.storm(STORM_SPREAD_S, change, STORM_ACT_AFTER_S))
            meter.stop("storm", n, result)
            probe.since(mark, "storm", result)
            stalls = [result.get(f"{w}_loop_stall_ms") for w in ("checkin_phase", "rating_phase", "storm")]
            result["loop_stall_ms"] = max((s for s in stalls if s is not None), default=None)

        await probe.stop()
        for screen in screens:
            await screen.close()
        hall.close()
        for kind, name in (("DeputyCheckedIn", "checkin"), ("RatingCast", "rating")):
            batches = await commit_batches(plan.engine, plan.meeting.meeting_id, kind)
            result.update({f"{name}_commit_{k}": v for k, v in batches.items()})
        result.update(await check_database(plan.engine, plan.meeting.meeting_id, question, checkins, ratings))
        result.update(
            await measure_floor(
                hall, plan.secret, plan.folder / "floor", result["rating_receipt_bytes"], plan.rating_window_s
            )
        )
        ours, floor = result.get("rating_phase_server_cpu_ms_per_op"), result.get("floor_cpu_ms_per_rating")
        result["floor_ratio"] = round(ours / floor, 2) if ours and floor else None
        return result
    finally:
        await probe.stop()
        for screen in screens:
            await screen.close()
        await chair.client.aclose()
        hall.close()


async def drive_and_dispose(
    plan: Plan, run: Callable[[Plan], Awaitable[dict[str, Any]]] = drive
) -> dict[str, Any]:
    """``run`` (the standard run, or ``--split-checkin``'s), then the bench's engine let go."""
    try:
        return await run(plan)
    finally:
        await plan.engine.dispose()
