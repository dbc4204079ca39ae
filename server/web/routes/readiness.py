"""The console's readiness panel: `wenzheng check`'s lines on the console before check-in.

The console page never waits for it: the panel is a placeholder in the session fragment
(screens/templates/fragments/c-session.html) that asks this route once it is on screen,
and only while check-in has never been opened and no question or agenda item has begun;
the first live update of that fragment after either no longer holds it, and it is gone.

The lines are computed off the loop (readiness runs its probes in threads, each with a
timeout) and kept for ``CACHE_SECONDS``: consoles reloading, or every console of a hall
opening at once, share one computation. The console uses the offline profile: a hall
server usually has no internet, and what cannot hold there (no time server, no backup
yet) is shown as 注意 with what to do, never hidden; `wenzheng check` without
``--offline`` is the stricter look for the office's server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from screens import messages as msg
from server.base import days
from server.office import readiness
from server.office.readiness import Level, Line
from server.storage.store import MeetingNotFound
from server.web.http import Services, message_page, page, require_staff, services

log = logging.getLogger(__name__)
CACHE_SECONDS = 30.0
AGAIN_SECONDS = 5.0
OFFLINE = True  # the console's profile (see above)


@dataclass
class Cache:
    """The last lines and when they were computed; one computation at a time."""

    lines: list[Line] = field(default_factory=list)
    at: float = float("-inf")
    clock: str = ""  # when, in China time, for the panel
    running: asyncio.Task[list[Line]] | None = None

    async def get(self, svc: Services, fresh: bool = False) -> list[Line]:
        """The lines; ``fresh`` (the panel's 重新检查) asks again once they are 5 s old."""
        if time.monotonic() - self.at < (AGAIN_SECONDS if fresh else CACHE_SECONDS):
            return self.lines
        if self.running is None or self.running.done():
            self.running = asyncio.create_task(self._compute(svc))
        # shield: a console closed mid-check does not cancel it for the others waiting
        return await asyncio.shield(self.running)

    async def _compute(self, svc: Services) -> list[Line]:
        try:
            found = await readiness.check(
                readiness.from_settings(svc.settings), offline=OFFLINE, engine=svc.engine
            )
        except Exception as exc:  # a check that broke must not break the console
            log.exception("readiness check failed")
            found = [
                Line(
                    "检查",
                    Level.WARN,
                    f"检查本身出错（{type(exc).__name__}）",
                    "在服务器上运行 wenzheng check。",
                )
            ]
        self.lines, self.at = found, time.monotonic()
        self.clock = datetime.now(days.CHINA).strftime("%H:%M:%S")
        return found


def cache_of(request: Request) -> Cache:
    state = request.app.state
    if not hasattr(state, "readiness"):
        state.readiness = Cache()
    found: Cache = state.readiness
    return found


async def panel(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    try:
        state = (await services(request).meetings.room(meeting_id)).runtime.state
    except MeetingNotFound:
        return message_page(msg.edge("no_meeting"), 404)
    if state.checkin_open or state.checkin_ended or state.closed:
        return HTMLResponse("")  # check-in has begun: the panel has nothing more to say
    cache = cache_of(request)
    lines = await cache.get(services(request), fresh=request.query_params.get("again") == "1")
    return page("_readiness", lines=lines, Level=Level, clock=cache.clock, meeting_id=meeting_id)
