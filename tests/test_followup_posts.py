"""An organ's posts on its follow-up items (server/office/followup_posts.py) and the
files they carry (server/office/attachments.py).

Files are judged by their bytes (an .exe renamed .pdf is refused, a PNG named .docx is
kept as the PNG it is, under a .png name), with their size and count checked. Any of an
item's organs posts progress dated the day of the work (not in the future); only the lead
organ replies, class A/B/C, which moves the item to 已答复 — once, and never on a closed
item. Staff posting on an organ's behalf are named on the post. Bad input is refused in
Chinese and changes nothing; files reach only the organ's own items.
tests/test_followup_posts_postgres.py runs the office tests again on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.settings import Settings
from server.office import attachments, followup, followup_posts
from server.office import followup_rules as rules
from server.office.attachments import BadFile, check_files
from server.office.meeting_forms import Invalid
from server.storage import models as m
from tests.test_followup import ACTOR, DEVICE, TABLES, add_organ, decide, now_ms
from tests.test_meetings_admin import run

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100
EXE = b"MZ\x90\x00" + b"\x00" * 200
ALL_TABLES = (*TABLES, m.followup_attachments)


def zipped(names: tuple[str, ...]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


DOCX = zipped(("[Content_Types].xml", "word/document.xml"))
XLSX = zipped(("[Content_Types].xml", "xl/workbook.xml"))


async def everything(conn: AsyncConnection) -> str:
    h = hashlib.sha256()
    for table in ALL_TABLES:
        for row in await conn.execute(select(table).order_by(*table.primary_key.columns)):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


# -- the files, pure ------------------------------------------------------------------------


def test_files_are_judged_by_their_bytes_never_their_names() -> None:
    kept = check_files([("报告.pdf", PDF), ("现场.PNG", PNG), ("照片.jpeg", JPEG), ("答复函.docx", DOCX)])
    assert [(f.filename, f.mime) for f in kept] == [
        ("报告.pdf", attachments.PDF),
        ("现场.PNG", attachments.PNG),
        ("照片.jpeg", attachments.JPEG),
        ("答复函.docx", attachments.DOCX),
    ]
    assert kept[0].sha256 == hashlib.sha256(PDF).hexdigest() and kept[0].size == len(PDF)
    assert kept[0].data == PDF
    # A PNG sent as .docx is the PNG it is, under a name that opens it as one.
    (png,) = check_files([("现场照片.docx", PNG)])
    assert (png.filename, png.mime) == ("现场照片.png", attachments.PNG)
    (named,) = check_files([("答复函", PDF)])
    assert named.filename == "答复函.pdf"
    for name, data in (
        ("setup.pdf", EXE),
        ("表格.docx", XLSX),
        ("说明.pdf", b"hello"),
        ("a.docx", b"PK\x03\x04x"),
    ):
        with pytest.raises(BadFile, match=re.escape("不是 PDF、Word（.docx）、PNG 或 JPEG 文件")):
            check_files([(name, data)])
    with pytest.raises(BadFile, match="超过 10 MB"):
        check_files([("大.pdf", PDF + b"\x00" * attachments.MAX_BYTES)])
    check_files([("刚好.pdf", PDF + b"\x00" * (attachments.MAX_BYTES - len(PDF)))])  # 10 MB exactly
    with pytest.raises(BadFile, match="空文件"):
        check_files([("空.pdf", b"")])
    with pytest.raises(BadFile, match="最多上传 5 个附件"):
        check_files([(f"{i}.pdf", PDF) for i in range(6)])
    assert len(check_files([(f"{i}.pdf", PDF) for i in range(5)])) == 5


def test_file_names_are_cleaned_and_kept_short() -> None:
    clean = attachments.clean_name
    assert clean("C:\\Users\\王\\答复函.pdf", attachments.PDF) == "答复函.pdf"
    assert clean("../../etc/passwd", attachments.PDF) == "passwd.pdf"
    assert clean('a<b>c:"d|e?f*\x00\x1f.pdf', attachments.PDF) == "abcdef.pdf"
    assert clean("  .pdf", attachments.PDF) == "附件.pdf"
    long = clean("长" * 300 + ".docx", attachments.DOCX)
    assert len(long) == attachments.MAX_NAME and long.endswith(".docx")
    assert clean("v1.2 总结", attachments.PDF) == "v1.2 总结.pdf"


# -- posts, in the office ---------------------------------------------------------------------


async def setup(conn: AsyncConnection, meeting_id: int) -> dict[str, int]:
    """Items 1 and 2 of the decision: 住建局 leads the first with 交通局 assisting; 教育局
    leads the second alone."""
    await decide(conn, meeting_id)
    body_id = int(
        (await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))).scalar_one()
    )
    lead = await add_organ(conn, body_id, "县住房和城乡建设局")
    helper = await add_organ(conn, body_id, "县交通运输局")
    other = await add_organ(conn, body_id, "县教育局")
    fi = m.followup_items
    first, second = [int(i) for i in await conn.scalars(select(fi.c.id).order_by(fi.c.id).limit(2))]
    who = {"actor": ACTOR, "device": DEVICE}
    await followup.set_organs(conn, first, lead, [helper], **who)
    await followup.set_organs(conn, second, other, [], **who)
    return {"first": first, "second": second, "lead": lead, "helper": helper, "other": other}


def organ_post(organ_id: int | None, **more: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "organ_id": organ_id,
        "text": "已完成设计招标",
        "files": (),
        "author": "",
        "on_behalf": False,
        "actor": f"organ:{organ_id}",
        "device": DEVICE,
        "now_ms": now_ms(),
    }
    args.update(more)
    return args


def test_progress_from_any_organ_and_a_reply_from_the_lead_only(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        ids = await setup(conn, meeting_id)
        day, first = dt.date(2026, 12, 10), ids["first"]
        files = check_files([("进度照片.png", PNG), ("进度.pdf", PDF)])
        at = now_ms()
        post_id = await followup_posts.post_progress(
            conn,
            first,
            done_on=day - dt.timedelta(days=3),
            today=day,
            **organ_post(ids["helper"], files=files, now_ms=at),
        )
        post = (await conn.execute(select(m.followup_posts).where(m.followup_posts.c.id == post_id))).one()
        assert (post.kind, post.organ_id, post.author, post.on_behalf) == (
            "progress",
            ids["helper"],
            "县交通运输局",
            False,
        )
        # Posted now, about work three days back: the moment is the real one, the day its own.
        assert (post.at_ms, post.work_on) == (at, dt.date(2026, 12, 7))
        stored = (
            await conn.execute(select(m.followup_attachments).order_by(m.followup_attachments.c.id))
        ).all()
        assert [(a.post_id, a.filename, a.mime, bytes(a.data)) for a in stored] == [
            (post_id, "进度照片.png", "image/png", PNG),
            (post_id, "进度.pdf", "application/pdf", PDF),
        ]
        assert stored[1].sha256 == hashlib.sha256(PDF).hexdigest() and stored[1].size == len(PDF)

        before = await everything(conn)
        with pytest.raises(Invalid) as bad:  # the assisting organ posts progress only
            await followup_posts.post_reply(conn, first, reply_class="B", **organ_post(ids["helper"]))
        assert "只有牵头承办单位可以提交答复" in bad.value.errors["organ"]
        with pytest.raises(Invalid, match="请选择本事项的承办单位"):  # not this item's organ at all
            await followup_posts.post_reply(conn, first, reply_class="B", **organ_post(ids["other"]))
        assert await everything(conn) == before

        reply_id = await followup_posts.post_reply(
            conn, first, reply_class="B", **organ_post(ids["lead"], text="列入明年计划", files=files[1:])
        )
        item = (await conn.execute(select(m.followup_items).where(m.followup_items.c.id == first))).one()
        assert (item.status, item.reply_class) == (rules.REPLIED, "B")
        reply = (await conn.execute(select(m.followup_posts).where(m.followup_posts.c.id == reply_id))).one()
        assert (reply.kind, reply.organ_id, reply.author, reply.reply_class) == (
            "reply",
            ids["lead"],
            "县住房和城乡建设局",
            "B",
        )
        assert (reply.status_from, reply.status_to) == (rules.HANDLING, rules.REPLIED)
        assert reply.work_on is None  # a reply tells of the day it was posted
        got = await followup_posts.files_of(conn, [reply_id])
        assert [f.filename for f in got[reply_id]] == ["进度.pdf"]

        before = await everything(conn)
        with pytest.raises(Invalid) as bad:
            await followup_posts.post_reply(conn, first, reply_class="A", **organ_post(ids["lead"]))
        assert "已答复" in bad.value.errors["status"]
        assert await everything(conn) == before
        # A B reply's plan runs on: progress is still taken.
        await followup_posts.post_progress(conn, first, done_on=day, today=day, **organ_post(ids["lead"]))
        await conn.execute(
            update(m.followup_items).where(m.followup_items.c.id == first).values(status=rules.CLOSED)
        )
        before = await everything(conn)
        for call in (
            followup_posts.post_progress(conn, first, done_on=day, today=day, **organ_post(ids["lead"])),
            followup_posts.post_reply(conn, first, reply_class="A", **organ_post(ids["lead"])),
        ):
            with pytest.raises(Invalid) as bad:
                await call
            assert "已办结" in bad.value.errors["status"]
        assert await everything(conn) == before

        audit = m.audit
        rows = (
            await conn.execute(select(audit).where(audit.c.action == "followup_posted").order_by(audit.c.id))
        ).all()
        details = [json.loads(r.detail) for r in rows]
        assert [(d["kind"], d["organ"]) for d in details] == [
            ("progress", "县交通运输局"),
            ("reply", "县住房和城乡建设局"),
            ("progress", "县住房和城乡建设局"),
        ]
        assert details[0]["done_on"] == "2026-12-07" and details[0]["by"] == "县交通运输局"
        assert [f["sha256"] for f in details[0]["files"]] == [
            hashlib.sha256(PNG).hexdigest(),
            hashlib.sha256(PDF).hexdigest(),
        ]
        assert rows[0].actor == f"organ:{ids['helper']}"
        status = (await conn.execute(select(audit).where(audit.c.action == "followup_status"))).all()
        assert len(status) == 1 and "（B 类）" in status[0].detail

    run(settings.database_url, fn)


def test_bad_posts_are_refused_in_chinese_and_change_nothing(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        ids = await setup(conn, meeting_id)
        day, first, lead = dt.date(2026, 12, 10), ids["first"], ids["lead"]
        before = await everything(conn)
        refusals: list[tuple[Any, str]] = [
            (
                followup_posts.post_progress(
                    conn, first, done_on=day, today=day, **organ_post(lead, text="  ")
                ),
                "请填写办理进展",
            ),
            (
                followup_posts.post_progress(
                    conn, first, done_on=day, today=day, **organ_post(lead, text="长" * 2001)
                ),
                "不超过 2000 个字",
            ),
            (
                followup_posts.post_progress(
                    conn, first, done_on=day + dt.timedelta(days=1), today=day, **organ_post(lead)
                ),
                "不能晚于今天",
            ),
            (
                followup_posts.post_progress(conn, first, done_on=day, today=day, **organ_post(None)),
                "请选择本事项的承办单位",
            ),
            (
                followup_posts.post_progress(conn, 999_999, done_on=day, today=day, **organ_post(lead)),
                "找不到这个督办事项",
            ),
            (followup_posts.post_reply(conn, first, reply_class=None, **organ_post(lead)), "请选择答复类别"),
            (followup_posts.post_reply(conn, first, reply_class="D", **organ_post(lead)), "请选择答复类别"),
            (
                followup_posts.post_reply(conn, first, reply_class="A", **organ_post(lead, text="")),
                "请填写答复内容",
            ),
            (
                followup_posts.post_reply(conn, ids["second"], reply_class="A", **organ_post(lead)),
                "请选择本事项的承办单位",
            ),
        ]
        for call, message in refusals:
            with pytest.raises(Invalid) as bad:
                await call
            assert message in "".join(bad.value.errors.values()), message
        assert await everything(conn) == before
        # 2,000 characters exactly are taken.
        await followup_posts.post_progress(
            conn, first, done_on=day, today=day, **organ_post(lead, text="长" * 2000)
        )

    run(settings.database_url, fn)


def test_staff_on_behalf_are_named_and_files_reach_their_organs_only(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        ids = await setup(conn, meeting_id)
        day, first = dt.date(2026, 12, 10), ids["first"]
        staff = organ_post(
            ids["lead"], author="chair", on_behalf=True, actor=ACTOR, files=check_files([("函.pdf", PDF)])
        )
        reply_id = await followup_posts.post_reply(conn, first, reply_class="A", **staff)
        own_id = await followup_posts.post_progress(
            conn, first, done_on=day, today=day, **organ_post(ids["helper"])
        )
        posts = {p.id: p for p in await conn.execute(select(m.followup_posts))}
        body_id = (
            await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
        ).scalar_one()
        names = await followup_posts.organ_names(conn, int(body_id))
        assert posts[reply_id].author == "chair" and posts[reply_id].on_behalf
        assert followup_posts.byline(posts[reply_id], names) == "工作人员 chair 代 县住房和城乡建设局 录入"
        assert followup_posts.byline(posts[own_id], names) == "县交通运输局"
        entry = (await conn.execute(select(m.audit).where(m.audit.c.action == "followup_posted"))).first()
        assert entry is not None and entry.actor == ACTOR
        assert "工作人员 chair 代 县住房和城乡建设局 录入提交答复" in json.loads(entry.detail)["summary"]

        (file_id,) = [f.id for f in (await followup_posts.files_of(conn, [reply_id]))[reply_id]]
        for organ_id in (ids["lead"], ids["helper"], None):  # the item's organs, and staff
            found = await followup_posts.download(conn, file_id, organ_id)
            assert found is not None and found.data == PDF and found.mime == "application/pdf"
        assert await followup_posts.download(conn, file_id, ids["other"]) is None  # another item's organ
        assert await followup_posts.download(conn, 999_999) is None

    run(settings.database_url, fn)


def test_a_progress_post_prints_the_day_of_its_work_and_when_it_was_posted() -> None:
    china = dt.timezone(dt.timedelta(hours=8))
    # 2026-12-07 00:30 in China is still 12-06 in UTC: the day is China's.
    ms = int(dt.datetime(2026, 12, 7, 0, 30, tzinfo=china).timestamp() * 1000)
    assert followup_posts.work_day(None, ms) == dt.date(2026, 12, 7)
    assert followup_posts.work_day(dt.date(2026, 11, 20), ms) == dt.date(2026, 11, 20)
    assert followup_posts.work_dated(dt.date(2026, 11, 20), ms) == ("2026-11-20", "12-07 00:30")
    # Work of last year posted this year: the moment keeps its year.
    assert followup_posts.work_dated(dt.date(2026, 12, 30), ms + 40 * 86_400_000) == (
        "2026-12-30",
        "2027-01-16 00:30",
    )
    assert followup_posts.work_dated(None, ms) == ("", "")
