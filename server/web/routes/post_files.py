"""Reading a follow-up post's form with its attachments (multipart), and sending one back.

Only the post paths take a body this big (server/web/limits.py ATTACH_PATH: five files
of 10 MB); every other form stays at 256 KiB. Here each file is read at most one byte
past its limit, so an oversized one is refused on its size alone; judging the type by
its bytes and hashing run in the workshop (server/office/attachments.py). At most
:data:`server.web.http.ATTACH_TURNS` posts hold their files in memory at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from server.base.days import BadDay, parse_day
from server.office import attachments, followup_posts
from server.office.followup_posts import Download
from server.office.meeting_forms import Invalid
from server.web.http import MAX_FORM_FIELD, services

MAX_FIELDS = 20
MAX_PART = 64 * 1024  # a text field: 2,000 characters are 6 KB of UTF-8
FAILED = "提交失败，请重新选择附件后再试。"
# A post as read: its text fields and its files (name, bytes), or a Chinese refusal.
Posted = tuple[dict[str, str], list[tuple[str, bytes]]] | str


@contextlib.asynccontextmanager
async def posted(request: Request) -> AsyncIterator[Posted]:
    """The form's text fields and its files (name, bytes), or a Chinese refusal; the post
    is handled inside the ``async with``.

    The body is parsed first, each file spooled to a temporary file on disk (Starlette
    keeps 1 MB of each in memory), so a slow upload holds no turn. Only then the post
    waits for one of :data:`server.web.http.ATTACH_TURNS` turns and reads its files into
    memory, where they stay until the post is written: 50 MB of files cost the process
    about 3.5 times that at its peak (the bytes, the copy sent to the workshop and the
    one it sends back; measured 170 MB), so twenty posts at once from one link took
    gigabytes. Posts past the turns wait their turn with their files on disk.
    """
    try:
        # More than we take, so that six files get "at most five" rather than a failure.
        form = await request.form(
            max_files=2 * attachments.MAX_FILES, max_fields=MAX_FIELDS, max_part_size=MAX_PART
        )
    except Exception as bad:
        refusal = attachments.TEXT["count"] if "files" in str(bad).lower() else FAILED
    else:
        refusal = ""
    if refusal:
        yield refusal
        return
    try:  # closed on every way out: the files are temporary files
        async with services(request).attachment_turns:
            yield await _read(form)
    finally:
        await form.close()


async def _read(form: FormData) -> Posted:
    fields: dict[str, str] = {}
    files: list[tuple[str, bytes]] = []
    for key, value in form.multi_items():
        if isinstance(value, str):
            if len(value) > MAX_FORM_FIELD:
                return FAILED
            fields[key] = value
        elif isinstance(value, UploadFile) and value.filename:  # no file chosen: an empty part
            if len(files) == attachments.MAX_FILES:
                return attachments.TEXT["count"]
            data = await value.read(attachments.MAX_BYTES + 1)
            try:
                attachments.check_size(value.filename, len(data))
            except attachments.BadFile as refused:
                return str(refused)
            files.append((value.filename, data))
    return fields, files


def done_on_of(raw: str, day: dt.date) -> dt.date:
    """The typed day of the work; today when left empty."""
    if not raw.strip():
        return day
    try:
        return parse_day(raw, "工作日期")
    except BadDay as bad:
        raise Invalid({"done_on": str(bad)}) from None


async def write_post(
    conn: AsyncConnection, item_id: int, kind: str, fields: dict[str, str], day: dt.date, **common: Any
) -> None:
    """The post a form asked for: progress (dated by its ``done_on`` field) or a reply
    (classed by ``reply_class``); the organ's page and staff's on-behalf form both send
    ``kind`` this way. ``common``: who, the text, the files (followup_posts)."""
    if kind == followup_posts.PROGRESS:
        done_on = done_on_of(fields.get("done_on", ""), day)
        await followup_posts.post_progress(conn, item_id, done_on=done_on, today=day, **common)
    elif kind == followup_posts.REPLY:
        cls = fields.get("reply_class") or None
        await followup_posts.post_reply(conn, item_id, reply_class=cls, **common)
    else:
        raise Invalid({"kind": "请选择报送办理进展还是答复。"})


def file_response(found: Download) -> Response:
    """The stored file, as a download under its own name (RFC 5987 for Chinese names),
    of its stored type; never shown inline (the security headers add ``nosniff``)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in found.filename
    )
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(found.filename, safe='')}"
    headers = {"content-disposition": disposition, "cache-control": "private, no-store"}
    return Response(found.data, media_type=found.mime, headers=headers)


def post_form(day: dt.date, view: Any) -> dict[str, Any]:
    """What the post forms need: today (the default and latest day of the work), the
    limits they state, and the item's organs (``view``: an item view, or None)."""
    return {
        "today": day.isoformat(),
        "max_files": attachments.MAX_FILES,
        "max_mb": attachments.MAX_BYTES // (1024 * 1024),
        "organs": list(view.organs) if view is not None else [],
        "accept": ".pdf,.docx,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg",
    }
