"""The record's charts as SVG, for staff and, once the meeting is closed, for everyone.

``/m/{id}/charts/{kind}.svg`` (staff) and ``/m/{id}/live/charts/{kind}.svg`` (public:
404 until the meeting is closed, and always for a rehearsal), kind in satisfaction,
votes, speaking; ``/bodies/{id}/charts/attendance.svg`` (staff): attendance over the
body's meetings. Drawn in the workshop (matplotlib is pure Python and slow enough to
stall the hall). A closed meeting's chart never changes, so it is kept in a small cache
(keyed with the moment it closed) and a crowd opening the public page costs one drawing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from screens import messages as msg
from server.record import chart_sources, charts
from server.storage.db import snapshot_read
from server.web.http import message_page, require_staff, services

SVG = "image/svg+xml"
NOT_YET = "会议结束后才公布图表。"
NO_CHART = "没有这种图表。"
# An SVG opened on its own is a document: it may style itself (matplotlib writes style
# attributes) but never run script nor fetch anything.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _svg(data: bytes, public: bool) -> Response:
    """The SVG answer; X-Content-Type-Options: nosniff comes with every answer (app.py)."""
    return Response(
        data,
        media_type=SVG,
        headers={
            "cache-control": "public, max-age=600" if public else "private, no-cache",
            "content-security-policy": SVG_POLICY,
        },
    )


async def _meeting_chart(request: Request, public: bool) -> Response:
    svc = services(request)
    meeting_id, kind = int(request.path_params["meeting_id"]), str(request.path_params["kind"])
    if kind not in chart_sources.MEETING_KINDS:
        return message_page(NO_CHART, 404)
    async with snapshot_read(svc.engine) as conn:
        found = await chart_sources.standing(conn, meeting_id)
    if found is None:
        return message_page(msg.edge("no_meeting"), 404)
    if public and not found.public:
        return message_page(NOT_YET, 404, title="找不到页面")

    async def draw() -> bytes:
        async with snapshot_read(svc.engine) as conn:
            rows = await chart_sources.meeting_rows(conn, meeting_id, kind)
        return await svc.workshop.run(charts.CHARTS[kind], rows, "svg")

    if found.closed_ms is None:
        return _svg(await draw(), public=False)
    data = await svc.charts.get((meeting_id, found.closed_ms, kind), draw)
    assert data is not None  # draw never answers None
    return _svg(data, public)


async def meeting_chart(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    return await _meeting_chart(request, public=False)


async def public_chart(request: Request) -> Response:
    return await _meeting_chart(request, public=True)


async def attendance_chart(request: Request) -> Response:
    """Not cached: a body's meetings go on, and staff correct attendance records."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    svc = services(request)
    async with snapshot_read(svc.engine) as conn:
        found = await chart_sources.attendance_rows(conn, int(request.path_params["body_id"]))
    if found is None:
        return message_page(msg.edge("no_body"), 404, back="/bodies", back_label="返回机构列表")
    data = await svc.workshop.run(charts.attendance_chart, found, "svg")
    return _svg(data, public=False)
