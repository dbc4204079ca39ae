"""An organ's posts on a follow-up item (督办): progress, and the reply that asks to close.

Theory of operation. Every post is from one of the item's organs (``organ_id``): typed
by the organ through its link, or by staff on its behalf (``on_behalf``; ``author`` is
then the staff member's user name, and :func:`byline` says "工作人员 X 代 某单位 录入"
wherever the post is shown). Any of the item's organs posts progress (text, the day of
the work, attachments); only the lead organ replies (答复: text, class A/B/C,
attachments), which moves the item 办理中 / 重新办理 → 已答复 through
:func:`server.office.followup.change_status` under the rules of followup_rules (who =
ORGAN). A closed item takes no more posts; an item already replied takes progress (a B or
C plan runs on) but no second reply until staff send it back.

Two dates on a progress post: ``at_ms`` is the moment it was posted, ``work_on`` the day
the work was done (typed by the organ; today by default, never later). Staff's and the
organ's history list posts in the order they were posted and print both dates (see
:func:`work_dated`); the public page and the progress report, which tell what was done
when, order them by the day of the work (:func:`work_day`).

The files were checked beforehand (server/office/attachments.py, in the workshop). Every
function runs in the caller's transaction, checks everything before it writes, raises
:class:`Invalid` with a Chinese message and writes the post, its files and its audit
entry together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import day_of_ms, moment_of_ms
from server.office import followup
from server.office import followup_rules as rules
from server.office.attachments import Checked, human_size
from server.office.meeting_forms import Invalid
from server.storage import audit
from server.storage import models as m

PROGRESS, REPLY = rules.PROGRESS, rules.REPLY

TEXT = {
    "text": f"请填写{{what}}，不超过 {followup.MAX_POST} 个字。",
    "future": "工作日期不能晚于今天。",
    "organ": "请选择本事项的承办单位。",
    "lead_only": "只有牵头承办单位可以提交答复；协办单位请报送办理进展。",
    "closed": "该事项已办结，不能再报送。",
    "replied": "该事项已答复，正在等待代表评价和人大办公室处理，不能重复答复。",
    "class": rules.TEXT["class"],
    "on_behalf": "工作人员 {author} 代 {organ} 录入",
    "on_behalf_unknown": "工作人员 {author} 代承办单位录入",
}


@dataclass(frozen=True)
class FileInfo:
    """An attachment as a page lists it (the bytes stay in the database)."""

    id: int
    post_id: int
    filename: str
    mime: str
    size: int
    sha256: str

    @property
    def size_text(self) -> str:
        return human_size(self.size)


async def _item_and_organ(conn: AsyncConnection, item_id: int, organ_id: int | None) -> tuple[Any, str, bool]:
    """The item, the organ's name and whether it leads; :class:`Invalid` when the organ
    is not one of the item's."""
    item = (await conn.execute(select(m.followup_items).where(m.followup_items.c.id == item_id))).first()
    if item is None:
        raise Invalid({"item": followup.TEXT["no_item"]})
    fio, o = m.followup_item_organs, m.organs
    found = (
        await conn.execute(
            select(o.c.name, fio.c.lead)
            .join(o, o.c.id == fio.c.organ_id)
            .where(fio.c.item_id == item_id, fio.c.organ_id == (organ_id or 0))
        )
    ).first()
    if found is None:
        raise Invalid({"organ": TEXT["organ"]})
    return item, str(found.name), bool(found.lead)


def _text(text: str, what: str) -> str:
    text = text.strip()
    if not text or len(text) > followup.MAX_POST:
        raise Invalid({"text": TEXT["text"].format(what=what)})
    return text


async def _attach(conn: AsyncConnection, post_id: int, files: Sequence[Checked]) -> None:
    for f in files:
        await conn.execute(
            insert(m.followup_attachments).values(
                post_id=post_id, filename=f.filename, mime=f.mime, size=f.size, sha256=f.sha256, data=f.data
            )
        )


async def _audit(
    conn: AsyncConnection,
    item: Any,
    post_id: int,
    kind: str,
    organ: str,
    files: Sequence[Checked],
    **who: Any,
) -> None:
    on_behalf, author = who.pop("on_behalf"), who.pop("author")
    what = "报送办理进展" if kind == PROGRESS else "提交答复"
    by = TEXT["on_behalf"].format(author=author, organ=organ) if on_behalf else organ
    if not on_behalf:
        who["by"] = organ  # the audit list names the organ, not its id
    await audit.record(
        conn,
        "followup_posted",
        body_id=int(item.body_id),
        item=int(item.id),
        post=post_id,
        kind=kind,
        organ=organ,
        on_behalf=on_behalf,
        files=[{"name": f.filename, "size": f.size, "sha256": f.sha256} for f in files],
        summary=f"督办事项 {item.id}：{by}{what}" + (f"，附件 {len(files)} 个" if files else ""),
        **who,
    )


async def post_progress(
    conn: AsyncConnection,
    item_id: int,
    *,
    organ_id: int | None,
    text: str,
    done_on: dt.date,
    today: dt.date,
    files: Sequence[Checked] = (),
    author: str,
    on_behalf: bool,
    actor: str,
    device: str,
    now_ms: int,
) -> int:
    """A progress post of one of the item's organs, dated ``done_on`` (not after
    ``today``, the China date). Returns the post's id."""
    item, organ, _lead = await _item_and_organ(conn, item_id, organ_id)
    if item.status == rules.CLOSED:
        raise Invalid({"status": TEXT["closed"]})
    text = _text(text, "办理进展")
    if done_on > today:
        raise Invalid({"done_on": TEXT["future"]})
    post = await conn.execute(
        insert(m.followup_posts)
        .values(
            item_id=item_id,
            kind=PROGRESS,
            text=text,
            author=(organ if not on_behalf else author)[:64],
            on_behalf=on_behalf,
            at_ms=now_ms,
            organ_id=organ_id,
            work_on=done_on,
        )
        .returning(m.followup_posts.c.id)
    )
    post_id = int(post.scalar_one())
    await _attach(conn, post_id, files)
    who = {"author": author, "on_behalf": on_behalf, "actor": actor, "device": device}
    await _audit(conn, item, post_id, PROGRESS, organ, files, done_on=done_on.isoformat(), **who)
    return post_id


async def post_reply(
    conn: AsyncConnection,
    item_id: int,
    *,
    organ_id: int | None,
    text: str,
    reply_class: str | None,
    files: Sequence[Checked] = (),
    author: str,
    on_behalf: bool,
    actor: str,
    device: str,
    now_ms: int,
) -> int:
    """The lead organ's written reply (答复), classed A/B/C: the item becomes 已答复.
    Returns the post's id."""
    item, organ, lead = await _item_and_organ(conn, item_id, organ_id)
    if not lead:
        raise Invalid({"organ": TEXT["lead_only"]})
    if item.status == rules.CLOSED:
        raise Invalid({"status": TEXT["closed"]})
    if item.status == rules.REPLIED:
        raise Invalid({"status": TEXT["replied"]})
    text = _text(text, "答复内容")
    if reply_class not in rules.CLASSES:
        raise Invalid({"reply_class": TEXT["class"]})
    post_id = await followup.change_status(
        conn,
        item_id,
        rules.REPLIED,
        text=text,
        reply_class=reply_class,
        who=rules.ORGAN,
        author=organ if not on_behalf else author,
        on_behalf=on_behalf,
        organ_id=organ_id,
        actor=actor,
        device=device,
        now_ms=now_ms,
    )
    await _attach(conn, post_id, files)
    who = {"author": author, "on_behalf": on_behalf, "actor": actor, "device": device}
    await _audit(conn, item, post_id, REPLY, organ, files, reply_class=reply_class, **who)
    return post_id


def work_day(work_on: dt.date | None, at_ms: int) -> dt.date:
    """The day a post tells of: the day of the work for progress, else the day it was posted."""
    return work_on if work_on is not None else day_of_ms(at_ms)


def work_dated(work_on: dt.date | None, at_ms: int) -> tuple[str, str]:
    """A progress post's dates as a history prints them: the day of the work, and when it
    was posted ("12-07 10:31", the year only when it differs) — ("", "") for a post
    without a day of work, which prints its moment alone."""
    if work_on is None:
        return "", ""
    moment = moment_of_ms(at_ms)
    return work_on.isoformat(), moment if moment[:4] != str(work_on.year) else moment[5:]


def byline(post: Any, organ_names: dict[int, str]) -> str:
    """Who a post is from, as every page shows it: the organ, "工作人员 X 代 某单位 录入",
    or the author (staff, a deputy's judgment)."""
    organ = organ_names.get(post.organ_id) if post.organ_id is not None else None
    if post.on_behalf:
        if organ:
            return TEXT["on_behalf"].format(author=post.author, organ=organ)
        return TEXT["on_behalf_unknown"].format(author=post.author)
    return organ or str(post.author)


async def files_of(conn: AsyncConnection, post_ids: Sequence[int]) -> dict[int, list[FileInfo]]:
    """The attachments of these posts (without their bytes), in the order they came."""
    a = m.followup_attachments
    out: dict[int, list[FileInfo]] = {int(i): [] for i in post_ids}
    if not out:
        return out
    rows = await conn.execute(
        select(a.c.id, a.c.post_id, a.c.filename, a.c.mime, a.c.size, a.c.sha256)
        .where(a.c.post_id.in_(list(out)))
        .order_by(a.c.id)
    )
    for row in rows:
        out[int(row.post_id)].append(FileInfo(*row))
    return out


async def organ_names(conn: AsyncConnection, body_id: int) -> dict[int, str]:
    o = m.organs
    rows = await conn.execute(select(o.c.id, o.c.name).where(o.c.body_id == body_id))
    return {int(i): str(n) for i, n in rows}


@dataclass(frozen=True)
class Download:
    filename: str
    mime: str
    data: bytes
    item_id: int
    body_id: int = 0


async def download(conn: AsyncConnection, attachment_id: int, organ_id: int | None = None) -> Download | None:
    """An attachment's bytes, or None when there is none; with ``organ_id``, only when
    the file is on one of that organ's items (the link reaches its own items only)."""
    a, p, fi = m.followup_attachments, m.followup_posts, m.followup_items
    stmt = (
        select(a.c.filename, a.c.mime, a.c.data, p.c.item_id, fi.c.body_id)
        .join(p, p.c.id == a.c.post_id)
        .join(fi, fi.c.id == p.c.item_id)
        .where(a.c.id == attachment_id)
    )
    if organ_id is not None:
        fio = m.followup_item_organs
        stmt = stmt.join(fio, (fio.c.item_id == p.c.item_id) & (fio.c.organ_id == organ_id))
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    return Download(str(row.filename), str(row.mime), bytes(row.data), int(row.item_id), int(row.body_id))


async def record_download(
    conn: AsyncConnection, attachment_id: int, found: Download, *, by: str, actor: str, device: str
) -> None:
    """Who took a copy of an attachment: a scanned reply or a photo may carry names, phone
    and ID numbers, so every download (staff's, an organ's through its link) is in the
    audit trail with who, when and from where, like every change."""
    await audit.record(
        conn,
        "followup_file_downloaded",
        actor=actor,
        device=device,
        body_id=found.body_id,
        item=found.item_id,
        file=attachment_id,
        name=found.filename,
        by=by,
        summary=f"督办事项 {found.item_id}：{by}下载附件“{found.filename}”",
    )
