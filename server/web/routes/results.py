"""A meeting's results: the staff page and its downloads, and the public page once closed.

Staff (``require_staff``, as the other staff pages): ``/m/{id}/results`` shows every sheet
of server/record/results.py as a table, with the charts (``/m/{id}/charts/{kind}.svg``)
and the downloads: ``/m/{id}/results.xlsx`` (one sheet per kind) and
``/m/{id}/results/{sheet}.csv`` (UTF-8 with a BOM). Files are drawn in the workshop, off
the loop.

Public (no login): ``/m/{id}/live/results`` once the meeting is closed and is not a
rehearsal, else a Chinese 404 page. Counts only (server/record/results_public.py). The
page may be opened by the thousand when the office shares the link: a closed meeting's
results no longer change, so each process reads them at most every 30 s per meeting
(server/web/ttl_cache.py), kept on the app's state.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from screens import messages as msg
from server.record import results, results_files
from server.record.load import held_meeting
from server.record.reporters import reporters
from server.record.results_public import PublicResults, public_results
from server.storage.db import snapshot_read
from server.storage.store import MeetingNotFound
from server.web.http import message_page, page, require_staff, services
from server.web.ttl_cache import TtlCache

NO_SHEET = (
    "没有这张结果表。可下载的有：出席、满意度测评、表决、发言时间、述职评议（有记名表决时还有记名表决）。"
)
NOT_PUBLIC = "这次会议的结果尚未公布：会议结束后才能查看。"
CACHE_CONTROL = "public, max-age=0, s-maxage=30"
STAFF_CHARTS = (
    ("satisfaction", "各问题满意度测评结果（满意、基本满意、不满意票数）"),
    ("votes", "各轮表决结果（赞成、反对、弃权、未按票数）"),
    ("speaking", "各问题发言用时与限时"),
)
PUBLIC_CHARTS = STAFF_CHARTS[:2]


async def _sheets(request: Request, meeting_id: int) -> tuple[str, bool, list[results.Sheet]] | None:
    """(title, closed, sheets), or None for an unknown meeting."""
    async with snapshot_read(services(request).engine) as conn:
        try:
            held = await held_meeting(conn, meeting_id)
        except MeetingNotFound:
            return None
        named = await reporters(conn, meeting_id)
    record = held.record
    return record.setup.title, record.closed, results.sheets(record, named)


def _attachment(data: bytes, media_type: str, plain: str, name: str) -> Response:
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=media_type, headers={"content-disposition": disposition})


async def results_page(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    async with snapshot_read(services(request).engine) as conn:
        try:
            held = await held_meeting(conn, meeting_id)
        except MeetingNotFound:
            return message_page(msg.edge("no_meeting"), 404)
        named = await reporters(conn, meeting_id)
    record = held.record
    setup = record.setup
    return page(
        "results",
        meeting_id=meeting_id,
        title=setup.title,
        body_name=setup.body_name,
        when=msg.schedule_line(setup.held_on, setup.starts_at, setup.place),
        closed=record.closed,
        rehearsal=held.rehearsal,
        sheets=results.sheets(record, named),
        charts=STAFF_CHARTS,
        user=session,
    )


async def results_xlsx(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    found = await _sheets(request, meeting_id)
    if found is None:
        return message_page(msg.edge("no_meeting"), 404)
    title, _closed, sheets = found
    data = await services(request).workshop.run(results_files.results_xlsx, sheets)
    name = results_files.filename(title, "", "xlsx")
    return _attachment(data, results_files.XLSX, f"results-{meeting_id}.xlsx", name)


async def results_csv(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    key = str(request.path_params["sheet"])
    back = {"back": f"/m/{meeting_id}/results", "back_label": "返回会议结果"}
    if key not in results.SHEET_KEYS:
        return message_page(NO_SHEET, 404, title="找不到页面", **back)
    found = await _sheets(request, meeting_id)
    if found is None:
        return message_page(msg.edge("no_meeting"), 404)
    title, _closed, sheets = found
    sheet = results.by_key(sheets, key)
    if sheet is None:  # 记名表决 without a named vote
        return message_page("这次会议没有记名表决。", 404, title="找不到页面", **back)
    data = await services(request).workshop.run(results_files.sheet_csv, sheet)
    name = results_files.filename(title, sheet.title, "csv")
    return _attachment(data, results_files.CSV, f"results-{meeting_id}-{key}.csv", name)


def _public_cache(request: Request) -> TtlCache[PublicResults]:
    state = request.app.state
    cache: TtlCache[PublicResults] | None = getattr(state, "public_results", None)
    if cache is None:
        cache = TtlCache()
        state.public_results = cache
    return cache


async def public_page(request: Request) -> Response:
    """The results for anyone, once the meeting is closed; never for a rehearsal."""
    meeting_id = int(request.path_params["meeting_id"])
    engine = services(request).engine

    async def read() -> PublicResults | None:
        async with snapshot_read(engine) as conn:
            try:
                held = await held_meeting(conn, meeting_id)
            except MeetingNotFound:
                return None
        if held.rehearsal or held.record.setup.rehearsal or not held.record.closed:
            return None  # not kept: the page appears the moment the meeting closes
        return public_results(held.record)

    shown = await _public_cache(request).get(meeting_id, read)
    if shown is None:
        return message_page(
            NOT_PUBLIC, 404, title="找不到页面", back=f"/m/{meeting_id}/live", back_label="返回会议直播"
        )
    response = page("results_public", r=shown, charts=PUBLIC_CHARTS)
    response.headers["cache-control"] = CACHE_CONTROL
    return response
