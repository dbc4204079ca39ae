"""The progress report to the next session in the office (server/office/followup_report.py,
followup_report_docx.py): items seeded through the office's own functions (a 交办 decision,
replies of classes A, B and C, one closed, one sent back for 重新办理, one overdue, a
deputy's objection), the counts saved with the report (exactly the contract's keys), the
DOCX read back with python-docx (the overview as edited, the counts paragraph, one section
per item in order, the table's rows and cells, the fonts and the page), the checks that
refuse a report and write nothing, and an earlier report rebuilt as of its making.
tests/test_followup_report_postgres.py runs these again on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import time
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import chinese_day, day_of_ms, today
from server.base.settings import Settings
from server.office import followup, followup_posts
from server.office import followup_report as report
from server.office import followup_rules as rules
from server.office.followup_report_docx import report_docx
from server.office.followup_report_items import gather
from server.office.meeting_forms import Invalid
from server.storage import models as m
from tests.test_followup import ACTOR, DEVICE, add_organ, digest, question_ids
from tests.test_meetings_admin import run

# What the seed below leaves: five items, the sixth question closed with a reason.
EXPECTED = {
    "total": 5,
    "closed": 1,  # the first: an A reply, then closed
    "open": 4,
    "overdue": 2,  # the fourth (重新办理) and the fifth (no reply) wait past their deadline
    "class_a": 2,  # the first and the fourth (its A reply was sent back)
    "class_b": 1,  # the second
    "class_c": 1,  # the third
    "redo": 1,
    "objected": 1,  # a deputy does not agree to close the second
}
STATUS_CELLS = ["已办结", "已答复", "已答复", "重新办理（逾期）", "办理中（逾期）"]
CLASS_CELLS = ["A", "B", "C", "A", "—"]
T0 = int(time.time() * 1000) - 60_000  # the seed; the report is made a little after


async def seed(conn: AsyncConnection, meeting_id: int) -> list[int]:
    """The meeting's decision four months ago (so the replies were due a month ago) and
    the items' histories, through the office's functions; returns the items' ids."""
    qs = await question_ids(conn, meeting_id)
    common: dict[str, Any] = {"actor": ACTOR, "device": DEVICE}
    await followup.record_decision(
        conn, meeting_id, organ="主任会议", decided_on=rules.add_months(today(), -4),
        document_no="清溪人大常办〔2026〕3号", reply_months=3, chosen=qs[:5], priority=qs[:1],
        reasons={qs[5]: "已在会上答复清楚"}, now_ms=T0, **common,
    )  # fmt: skip
    fi = m.followup_items
    items = [int(i) for i in await conn.scalars(select(fi.c.id).order_by(fi.c.id))]
    body_id = int((await conn.execute(select(fi.c.body_id).where(fi.c.id == items[0]))).scalar_one())
    roads, water = await add_organ(conn, body_id, "县交通运输局"), await add_organ(conn, body_id, "县水务局")
    await followup.set_organs(conn, items[0], roads, [water], **common)
    await followup.set_organs(conn, items[1], water, [], **common)
    await followup.add_commitment(conn, items[0], "年底前完成城东路口改造", now_ms=T0, **common)
    await followup.add_commitment(conn, items[0], "每月向代表通报进度", now_ms=T0, **common)
    # A progress post staff typed for the organ (the organ's own posts are another helper's).
    await conn.execute(
        insert(m.followup_posts).values(
            item_id=items[0], kind="progress", text="路口渠化方案已完成设计。", author="chair",
            on_behalf=True, organ_id=roads, at_ms=T0,
        )
    )  # fmt: skip

    async def status(n: int, to: str, cls: str | None = None, text: str = "") -> None:
        await followup.change_status(
            conn, items[n], to, text=text, reply_class=cls, author="chair", now_ms=T0, **common
        )

    await status(0, rules.REPLIED, "A", "路口已改造完成。")
    await status(0, rules.CLOSED)
    await status(1, rules.REPLIED, "B", "已列入明年计划。")
    await status(2, rules.REPLIED, "C", "受资金限制，待以后解决。")
    await status(3, rules.REPLIED, "A", "已答复。")
    await status(3, rules.REDO, text="代表不满意：答复未回应核心问题。")
    reply = (
        await conn.execute(
            select(m.followup_posts.c.id).where(
                m.followup_posts.c.item_id == items[1], m.followup_posts.c.kind == "reply"
            )
        )
    ).scalar_one()
    deputies = [int(d) for d in await conn.scalars(select(m.deputies.c.id).order_by(m.deputies.c.id))]
    for deputy, verdict, objects in zip(
        deputies, ("satisfied", "satisfied", "dissatisfied"), (False, False, True), strict=False
    ):
        await conn.execute(
            insert(m.followup_judgments).values(
                item_id=items[1], reply_post_id=reply, deputy_id=deputy, verdict=verdict,
                objects=objects, reason="计划太远" if objects else "", at_ms=T0,
            )
        )  # fmt: skip
    fi_ = m.followup_items  # the hall's rating, as the decision snapshots it from the tallies
    await conn.execute(
        update(fi_).where(fi_.c.id == items[1]).values(rating_text="测评：满意 20，基本满意 5，不满意 3")
    )
    return items


async def body_of(conn: AsyncConnection, meeting_id: int) -> int:
    return int(
        (await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))).scalar_one()
    )


async def make(conn: AsyncConnection, body_id: int, **change: Any) -> tuple[int, report.Report]:
    args: dict[str, Any] = {
        "title": report.DEFAULT_TITLE,
        "overview": "概述第一段。\n概述第二段。",
        "meeting_ids": [],
        "dated": dt.date(2026, 12, 20),
        "actor": ACTOR,
        "device": DEVICE,
        "now_ms": T0 + 1_000,
    }
    args.update(change)
    return await report.make_report(conn, body_id, **args)


def text_of(doc: Any) -> list[str]:
    return [p.text for p in doc.paragraphs]


def test_the_report_counts_the_items_and_saves_them(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        items = await seed(conn, meeting_id)
        body_id = await body_of(conn, meeting_id)
        gathered = await gather(conn, body_id, [], T0 + 1_000)
        assert [i.id for i in gathered] == items
        assert report.counts_of(gathered) == EXPECTED
        offered = report.default_overview("清溪县人大常委会", [], EXPECTED, today())
        assert "共交办 5 项，已办结 1 项，正在办理 4 项，其中逾期 2 项" in offered
        assert "答复 A 类 2 项、B 类 1 项、C 类 1 项" in offered
        report_id, made = await make(conn, body_id)
        row = (await conn.execute(select(m.followup_reports))).one()
        assert row.id == report_id and row.body_id == body_id and row.made_by == "chair"
        assert row.overview == "概述第一段。\n概述第二段。" and row.title == report.DEFAULT_TITLE
        saved = json.loads(row.counts)
        assert list(saved) == list(report.COUNT_KEYS) and saved == EXPECTED
        assert all(type(v) is int for v in saved.values())
        assert made.counts == EXPECTED
        entry = (await conn.execute(select(m.audit).where(m.audit.c.action == "followup_report_made"))).one()
        detail = json.loads(entry.detail)
        assert entry.body_id == body_id and detail["report"] == report_id and detail["dated"] == "2026-12-20"
        listed = await report.saved_reports(conn, body_id)
        assert [(s.id, s.dated, s.meetings) for s in listed] == [(report_id, dt.date(2026, 12, 20), ())]

    run(settings.database_url, fn)


def test_the_docx_has_the_overview_counts_one_section_per_item_and_the_table(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> tuple[list[int], report.Report]:
        items = await seed(conn, meeting_id)
        _, made = await make(conn, await body_of(conn, meeting_id))
        return items, made

    items, made = run(settings.database_url, fn)
    doc = Document(io.BytesIO(report_docx(made)))
    paragraphs = text_of(doc)
    assert paragraphs[0] == report.DEFAULT_TITLE and paragraphs[1] == "（2026年12月20日）"
    assert "概述第一段。" in paragraphs and "概述第二段。" in paragraphs  # as edited, line by line
    counts = next(p for p in paragraphs if p.startswith("总体情况："))
    assert (
        "共交办 5 项，已办结 1 项，正在办理 4 项，其中逾期 2 项、重新办理 1 项；"
        "答复 A 类 2 项、B 类 1 项、C 类 1 项；代表不同意办结 1 项。"
    ) in counts
    # One section per item, in order, headed 一、二、… with the item's title.
    heads = [p for p in paragraphs if p[:2] in ("一、", "二、", "三、", "四、", "五、", "六、")]
    assert [h[:2] for h in heads] == ["一、", "二、", "三、", "四、", "五、"]
    assert [h[2:].removesuffix("（重点督办）") for h in heads] == [i.title for i in made.items]
    assert heads[0].endswith("（重点督办）") and not heads[1].endswith("（重点督办）")
    starts = [paragraphs.index(h) for h in heads] + [len(paragraphs)]
    sections = ["\n".join(paragraphs[a:b]) for a, b in itertools.pairwise(starts)]
    first = sections[0]
    assert "1. 年底前完成城东路口改造" in first and "2. 每月向代表通报进度" in first
    assert "承办单位：县交通运输局（牵头）、县水务局（协办）" in first
    assert "县交通运输局（chair 代为录入），办理进展：路口渠化方案已完成设计。" in first
    assert first.index("办理进展") < first.index("答复（A 类）") < first.index("状态改为“已办结”")
    assert "办理状态：已办结，最近一次答复为 A 类（已解决或基本解决）。" in first
    assert "代表评价：代表尚未对当前答复作出评价。" in first
    assert "满意 2 人，基本满意 0 人，不满意 1 人；1 人不同意办结" in sections[1]
    assert "会上满意度测评：满意 20，基本满意 5，不满意 3" in sections[1]
    # Made by the decision from a question the hall never rated: the snapshot says so.
    assert "会上满意度测评：未测评" in first
    assert "逾期未答复" in sections[3] and "逾期未答复" in sections[4] and "逾期" not in sections[1]
    assert "状态改为“重新办理”：代表不满意" in sections[3]
    assert "尚未答复，暂无代表评价" in sections[4] and "承办单位：未指定" in sections[4]
    asker = made.items[0].asker
    assert asker and f"提问代表：{asker}" in first
    # The table of all items: a header row and one row per item, in the same order.
    table = doc.tables[0]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["序号", "问题", "提问代表", "承办单位", "状态", "答复类别", "代表评价"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert [r[1] for r in rows[1:]] == [i.title for i in made.items]
    assert [r[4] for r in rows[1:]] == STATUS_CELLS and [r[5] for r in rows[1:]] == CLASS_CELLS
    assert rows[2][6] == "满意 2\n基本满意 0\n不满意 1\n不同意办结 1" and rows[1][6] == "—"
    assert rows[1][3] == "县交通运输局（牵头）、县水务局（协办）" and rows[1][2] == asker
    # The page and the fonts an office expects (GB/T 9704).
    section = doc.sections[0]
    page = ("page_width", "page_height", "top_margin", "bottom_margin", "left_margin", "right_margin")
    assert [round(getattr(section, side).mm) for side in page] == [210, 297, 37, 35, 28, 26]

    def east_asia(p: Any) -> str:
        return str(p.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")))

    assert east_asia(doc.paragraphs[0]) == "方正小标宋简体" and doc.paragraphs[0].runs[0].font.size == Pt(22)
    body = doc.paragraphs[paragraphs.index("概述第一段。")]
    assert east_asia(body) == "仿宋_GB2312" and body.runs[0].font.size == Pt(16)
    assert body.paragraph_format.line_spacing == Pt(28)
    assert east_asia(doc.paragraphs[paragraphs.index(heads[0])]) == "黑体"
    assert "PAGE" in section.footer.paragraphs[0]._p.xml
    assert items  # seeded


def test_a_report_is_refused_in_chinese_and_writes_nothing(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        body_id = await body_of(conn, meeting_id)
        with pytest.raises(Invalid, match="没有督办事项"):
            await make(conn, body_id)  # no item yet
        await seed(conn, meeting_id)
        mt = m.meetings

        async def meeting_of(body: int, title: str) -> int:
            stmt = (
                insert(mt).values(body_id=body, kind="inquiry", title=title, created_ms=T0).returning(mt.c.id)
            )
            return int((await conn.execute(stmt)).scalar_one())

        bare_id = await meeting_of(body_id, "没有督办事项的会议")
        other = await conn.execute(
            insert(m.bodies).values(name="别的机构", kind="congress").returning(m.bodies.c.id)
        )
        foreign = await meeting_of(int(other.scalar_one()), "别处的会议")
        before = await digest(conn), await conn.scalar(select(m.followup_reports.c.id))
        for change, message in [
            ({"meeting_ids": [bare_id]}, "所选范围内没有督办事项"),
            ({"meeting_ids": [foreign]}, "所选会议不属于本机构"),
            ({"meeting_ids": [meeting_id, 999_999]}, "所选会议不属于本机构"),
            ({"title": "  "}, "请填写报告标题"),
            ({"title": "题" * 201}, "不超过 200 个字"),
            ({"overview": ""}, "请填写概述"),
            ({"overview": "述" * 1501}, "不超过 1500 个字"),
        ]:
            with pytest.raises(Invalid) as bad:
                await make(conn, body_id, **change)
            assert message in "".join(bad.value.errors.values()), change
        assert (await digest(conn), await conn.scalar(select(m.followup_reports.c.id))) == before
        with pytest.raises(Invalid, match="找不到这个机构"):
            await make(conn, 999_999)
        # The meeting's own items only, when it is chosen; the title at its limit is fine.
        _, made = await make(conn, body_id, meeting_ids=[meeting_id], title="题" * 200)
        assert made.counts["total"] == 5

    run(settings.database_url, fn)


def test_an_earlier_report_is_rebuilt_as_of_its_making(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> tuple[report.Report, report.Report | None, int]:
        items = await seed(conn, meeting_id)
        body_id = await body_of(conn, meeting_id)
        report_id, made = await make(conn, body_id, meeting_ids=[meeting_id], dated=dt.date(2027, 1, 5))
        later: dict[str, Any] = {"actor": ACTOR, "device": DEVICE, "now_ms": T0 + 5_000}
        await followup.change_status(
            conn, items[4], rules.REPLIED, text="已答复。", reply_class="B", author="chair", **later
        )
        await followup.change_status(
            conn, items[1], rules.CLOSED, text="计划已落实到预算。", author="chair", **later
        )
        await followup.add_commitment(conn, items[2], "后来补记的承诺", **later)
        await followup.create_item(
            conn, body_id, title="后来新建的事项", assigned_on=today(), meeting_id=meeting_id, **later
        )
        now = await gather(conn, body_id, [meeting_id], T0 + 6_000)
        assert report.counts_of(now) != EXPECTED and len(now) == 6  # today's data did change
        return made, await report.rebuild(conn, body_id, report_id), body_id

    made, again, body_id = run(settings.database_url, fn)
    assert again is not None
    assert again.counts == made.counts == EXPECTED
    assert report.counts_of(again.items) == EXPECTED  # recounted as of its making: the same
    assert again.items == made.items and again.dated == dt.date(2027, 1, 5)
    assert again.title == made.title and again.overview == made.overview
    assert text_of(Document(io.BytesIO(report_docx(again)))) == text_of(
        Document(io.BytesIO(report_docx(made)))
    )

    async def missing(conn: AsyncConnection) -> Any:
        return await report.rebuild(conn, body_id + 1, 1), await report.rebuild(conn, body_id, 999)

    assert run(settings.database_url, missing) == (None, None)


def test_progress_prints_by_the_day_of_its_work_and_a_second_download_reads_the_columns(
    settings: Settings, meeting_id: int
) -> None:
    """A progress post stands in the report at the day of its work (posted later, it says
    when); the status still follows posting order. The scope and date are the row's own
    (the audit entry gone, a second download prints the same), and the rebuild leaves out
    a post made after the report even when its work is older than the report."""
    day = day_of_ms(T0)
    posts: dict[str, Any] = {"author": "", "on_behalf": False, "actor": ACTOR, "device": DEVICE}

    async def fn(conn: AsyncConnection) -> tuple[report.Report, report.Report | None, list[Any], Any]:
        items = await seed(conn, meeting_id)
        body_id = await body_of(conn, meeting_id)
        water = (await conn.execute(select(m.organs.c.id).where(m.organs.c.name == "县水务局"))).scalar_one()

        async def progress(text: str, back: int, at_ms: int) -> None:
            await followup_posts.post_progress(
                conn, items[1], organ_id=water, text=text, done_on=day - dt.timedelta(days=back),
                today=day, now_ms=at_ms, **posts,
            )  # fmt: skip

        await progress("现场复核完成。", 2, T0 + 100)
        await progress("方案论证完成。", 20, T0 + 200)
        report_id, made = await make(conn, body_id, meeting_ids=[meeting_id], dated=dt.date(2027, 1, 5))
        await progress("后来补报的早先工作。", 30, T0 + 5_000)
        fr, a = m.followup_reports, m.audit
        row = (await conn.execute(select(fr.c.scope, fr.c.dated).where(fr.c.id == report_id))).one()
        await conn.execute(a.delete().where(a.c.action == "followup_report_made"))
        now = await gather(conn, body_id, [meeting_id], T0 + 6_000)
        return made, await report.rebuild(conn, body_id, report_id), now, row

    made, again, now, row = run(settings.database_url, fn)
    assert (json.loads(row.scope), row.dated) == ({"meetings": [meeting_id]}, dt.date(2027, 1, 5))
    assert again is not None and again.dated == dt.date(2027, 1, 5) and again.items == made.items
    second = made.items[1]
    assert [(p.kind, p.text) for p in second.posts] == [
        ("progress", "方案论证完成。"),
        ("progress", "现场复核完成。"),
        ("reply", "已列入明年计划。"),
    ]
    assert (second.status, second.reply_class) == (rules.REPLIED, "B")
    assert now[1].posts[0].text == "后来补报的早先工作。"  # today's read has it, first
    paragraphs = text_of(Document(io.BytesIO(report_docx(again))))
    assert paragraphs == text_of(Document(io.BytesIO(report_docx(made))))
    worked = chinese_day(day - dt.timedelta(days=20))
    assert f"{worked}，县水务局，办理进展（{chinese_day(day)}报送）：方案论证完成。" in paragraphs
    assert not any("后来补报" in p for p in paragraphs)
    # A post typed the day of its work says nothing more (the seed's, staff's on behalf).
    assert any(p.endswith("办理进展：路口渠化方案已完成设计。") for p in paragraphs)


def test_a_moved_copy_whose_meetings_are_elsewhere_rebuilds_without_items(
    settings: Settings, meeting_id: int
) -> None:
    """A report copied here by a meeting move, its scope's meetings all on the other
    installation: it is not taken for "the whole body" (that would print this body's items
    under the report's title); its DOCX prints the saved figures and no item."""

    async def fn(conn: AsyncConnection) -> tuple[list[report.Saved], report.Report | None, int]:
        await seed(conn, meeting_id)
        body_id = await body_of(conn, meeting_id)
        fr = m.followup_reports
        made = await conn.execute(
            insert(fr).values(
                body_id=body_id, title="外来报告", overview="概述。", counts=json.dumps(EXPECTED),
                made_by="wang", made_at_ms=T0 + 1_000, scope=report.scope_json([], elsewhere=2),
                dated=dt.date(2026, 12, 20),
            ).returning(fr.c.id)
        )  # fmt: skip
        copy_id = int(made.scalar_one())
        return (
            await report.saved_reports(conn, body_id),
            await report.rebuild(conn, body_id, copy_id),
            copy_id,
        )

    saved, again, copy_id = run(settings.database_url, fn)
    (copy,) = [s for s in saved if s.id == copy_id]
    assert (copy.meetings, copy.elsewhere, copy.dated) == ((), 2, dt.date(2026, 12, 20))
    assert again is not None and again.items == () and again.counts == EXPECTED
    assert report.scope_of("not json") == ((), 0) and report.scope_of('{"meetings": [3, "x"]}') == ((3,), 0)
