"""A meeting's results as XLSX and CSV (server/record/results.py, results_files.py), read
back and checked against the record and the event log of a sitting held through the real
action path (server/record/sitting.py): attendance member by member (the one on leave, the
absent, the late one, the one who left, the one who left and came back), each rating's
counts and grade, the secret vote's two rounds as counts only, the named vote's choices,
the speaking time; the CSVs carry a BOM and read back as the XLSX does; a title typed as
a formula comes out as text."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook  # type: ignore[import-untyped]

from live import events as e
from live.state import Choice, VoteChoice
from screens import messages as msg
from server.base.settings import Settings
from server.record import results
from server.record.facts import MeetingRecord
from server.record.load import timed_events
from server.record.results_files import results_xlsx, sheet_csv
from server.record.sitting import NAMED_TITLE, SECRET_TITLE, roster
from server.storage.db import create_engine, snapshot_read
from tests.rec_results_fixtures import FORMULA_TITLE, hold_sitting

SHEETS = ["出席", "满意度测评", "表决", "记名表决", "发言时间", "述职评议"]
GRADES = {Choice.SATISFIED: "满意", Choice.BASIC: "基本满意", Choice.DISSATISFIED: "不满意"}


def workbook(record: MeetingRecord, named: Any) -> Any:
    return load_workbook(io.BytesIO(results_xlsx(results.sheets(record, named))))


def table(ws: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """(summary line, rows as dicts by header) of a sheet: the header is the bold row."""
    lines = [list(r) for r in ws.iter_rows(values_only=True)]
    at = 2 if ws.cell(row=1, column=1).value == "应到" else 0
    headers = lines[at]
    body = [dict(zip(headers, ["" if v is None else v for v in r], strict=True)) for r in lines[at + 1 :]]
    return (lines[0] if at else []), body


def log(settings: Settings, meeting_id: int) -> list[tuple[int, int, e.Event]]:
    import asyncio

    async def read() -> list[tuple[int, int, e.Event]]:
        engine = create_engine(settings.database_url)
        try:
            async with snapshot_read(engine) as conn:
                return await timed_events(conn, meeting_id)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_every_sheet_reads_back_with_the_figures_of_the_sitting(settings: Settings, meeting_id: int) -> None:
    record, named = hold_sitting(settings, meeting_id)
    book = workbook(record, named)
    assert book.sheetnames == SHEETS
    setup = record.setup

    # 出席: the totals on top, then one row per member with the status the sitting gave
    summary, rows = table(book["出席"])
    assert summary[:8] == ["应到", 48, "实到", 45, "请假", 1, "缺席", 2]
    members = roster(setup)
    on_leave, absent, late = members[-1], members[-3:-1], members[-4]
    punctual = [d for d in members[:-4] if d not in setup.on_leave]
    leaves, returns = punctual[9], punctual[10]
    by_name = {r["姓名"]: r for r in rows}
    assert len(rows) == 48 and len(by_name) == 48
    name = {d: setup.deputies[d].name for d in members}
    assert by_name[name[on_leave]]["出席情况"] == "请假" and by_name[name[on_leave]]["签到时间"] == ""
    assert [by_name[name[d]]["出席情况"] for d in absent] == ["缺席", "缺席"]
    assert by_name[name[late]]["出席情况"] == "迟到"
    assert by_name[name[leaves]]["出席情况"] == "中途离会" and by_name[name[leaves]]["返回时间"] == ""
    assert by_name[name[returns]]["出席情况"] == "中途离会" and by_name[name[returns]]["返回时间"]
    plain = set(members) - {on_leave, *absent, late, leaves, returns}
    assert {by_name[name[d]]["出席情况"] for d in plain} == {"出席"}
    # the check-in and leaving times are the log's, in China time
    events = log(settings, meeting_id)
    first_in: dict[int, int] = {}
    for _seq, at, ev in events:
        if isinstance(ev, e.DeputyCheckedIn):
            first_in.setdefault(ev.deputy_id, at)
        if isinstance(ev, e.DeputyLeftHall) and ev.deputy_id == leaves:
            assert by_name[name[leaves]]["离会时间"] == results.clock(at)
    for d, at in first_in.items():
        assert by_name[name[d]]["签到时间"] == results.clock(at)
    assert by_name[name[late]]["签到时间"] > by_name[name[punctual[-1]]]["签到时间"]

    # 满意度测评: each question's counts and grade, the agenda item's, the one never reached
    _, rows = table(book["满意度测评"])
    assert [r["序号"] for r in rows] == ["议程1", *(f"问题{q.question.position}" for q in record.questions)]
    grades = set()
    for q, row in zip(record.questions, rows[1:], strict=True):
        assert row["测评事项"] == q.question.title
        assert row["提问代表"] == record.name(q.question.asker_id)
        if q.rating is None:
            assert not q.reached and row["等次"] == "未测评" and row["满意"] == ""
            continue
        counts = [q.rating.count(c) for c in Choice]
        assert [row["满意"], row["基本满意"], row["不满意"]] == counts
        assert all(isinstance(n, int) for n in counts)
        assert row["合计"] == sum(counts) and row["基数"] == q.rating.base == 48
        assert row["基数规则"] == "以应到人数 48 为基数"
        assert abs(row["满意率"] - counts[0] / 48) < 0.0006
        assert q.rating.grade is not None and row["等次"] == GRADES[q.rating.grade]
        grades.add(row["等次"])
    assert grades == {"满意", "基本满意", "不满意"}
    assert rows[0]["测评事项"] == record.item_ratings[0].item.title
    assert rows[0]["满意"] == record.item_ratings[0].result.count(Choice.SATISFIED)
    rate_cell = book["满意度测评"]["J2"]
    assert rate_cell.number_format == "0.0%" and isinstance(rate_cell.value, float)
    ws = book["满意度测评"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.b and ws.column_dimensions["B"].width >= 40

    # 表决: every round with its counts; the secret vote's two rounds as counts only
    _, rows = table(book["表决"])
    assert [(r["表决事项"], r["轮次"], r["方式"], r["结果"]) for r in rows] == [
        (SECRET_TITLE, "第1轮", "无记名", "未通过"),
        (SECRET_TITLE, "第2轮", "无记名", "通过"),
        (NAMED_TITLE, "第1轮", "记名", "通过"),
    ]
    for v, row in zip(record.votes, rows, strict=True):
        assert v.result is not None
        assert [row["赞成"], row["反对"], row["弃权"], row["未按"], row["基数"]] == [
            v.result.for_votes, v.result.against, v.result.abstain, v.result.not_voted, v.result.base,
        ]  # fmt: skip
        assert row["通过条件"] == "全体代表过半数"
    closes = [ev for _s, _a, ev in events if isinstance(ev, e.VoteClosed)]
    assert [(c.for_votes, c.against, c.abstain) for c in closes] == [
        (r["赞成"], r["反对"], r["弃权"]) for r in rows
    ]

    # 记名表决: the named vote's choices by member, public; never a row of the secret vote
    _, rows = table(book["记名表决"])
    named_vote = record.votes[2]
    assert {r["表决事项"] for r in rows} == {NAMED_TITLE}
    assert [(r["姓名"], r["表决意见"]) for r in rows] == [
        (record.name(d), msg.VOTE_CHOICES[c]) for d, c in named_vote.named
    ]
    assert sum(r["表决意见"] == "赞成" for r in rows) == named_vote.result.for_votes  # type: ignore[union-attr]
    assert len(rows) == len([c for _d, c in named_vote.named if c in VoteChoice])
    names = {d.name for d in setup.deputies.values()}
    for title in book.sheetnames:
        for line in book[title].iter_rows(values_only=True):
            if SECRET_TITLE in line:  # a secret round appears only in the votes sheet
                assert title == "表决" and not names & set(line)

    # 发言时间: every stretch of each question, its total, the general speech
    _, rows = table(book["发言时间"])
    for q in record.questions:
        mine = [r for r in rows if r["序号"] == f"问题{q.question.position}"]
        if not q.stretches:
            assert mine == []
            continue
        parts, total = mine[:-1], mine[-1]
        assert [p["环节"] for p in parts] == [msg.PHASES[s.phase] for s in q.stretches]
        assert [p["用时（秒）"] for p in parts] == [s.duration_ms // 1000 for s in q.stretches]
        assert total["环节"] == "合计" and total["用时（秒）"] == q.spoken_ms // 1000
        assert total["用时（秒）"] == sum(p["用时（秒）"] for p in parts)
        assert total["限时（秒）"] == q.allowance_ms // 1000
        assert total["超时（秒）"] == sum(p["超时（秒）"] for p in parts)  # each part's overrun, added
    speech = [r for r in rows if str(r["序号"]).startswith("发言")]
    assert len(speech) == 1 and speech[0]["用时（秒）"] == 420 and speech[0]["限时（秒）"] == 600
    assert speech[0]["发言人"] == record.name(record.speeches[0].deputy_id)

    # 述职评议: the rated report's result belongs to the deputy of the higher congress
    _, rows = table(book["述职评议"])
    assert len(rows) == 1 and rows[0]["述职人"] == "周卫东（某某市人民代表大会代表）"
    assert rows[0]["类别"] == "上级人大代表" and rows[0]["满意"] == 27 and rows[0]["等次"] == "满意"


def _as_text(value: Any, number_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and number_format == "0.0%":
        return f"{value * 100:.1f}%"
    return str(value)


def test_each_csv_has_a_bom_and_reads_back_as_its_xlsx_sheet(settings: Settings, meeting_id: int) -> None:
    record, named = hold_sitting(settings, meeting_id)
    sheets = results.sheets(record, named)
    book = load_workbook(io.BytesIO(results_xlsx(sheets)))
    for sheet in sheets:
        data = sheet_csv(sheet)
        assert data[:3] == b"\xef\xbb\xbf", sheet.key
        lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        ws = book[sheet.title]
        expected = [[_as_text(c.value, c.number_format) for c in line] for line in ws.iter_rows()]
        width = max(len(x) for x in expected)
        padded = [line + [""] * (width - len(line)) for line in lines]
        assert padded == [[*x, *[""] * (width - len(x))] for x in expected], sheet.key
    assert "王建国" in sheet_csv(sheets[0]).decode("utf-8-sig")


def test_a_title_typed_as_a_formula_comes_out_as_text(settings: Settings, meeting_id: int) -> None:
    record, named = hold_sitting(settings, meeting_id, before="formula")
    assert record.questions[0].question.title == FORMULA_TITLE
    sheets = results.sheets(record, named)
    book = load_workbook(io.BytesIO(results_xlsx(sheets)))
    for title in ("满意度测评", "发言时间"):
        cells = [c for line in book[title].iter_rows() for c in line if c.value and "1+1" in str(c.value)]
        assert cells and all(c.value == "'=1+1" and c.data_type == "s" for c in cells), title
    text = sheet_csv(results.by_key(sheets, "ratings")).decode("utf-8-sig")  # type: ignore[arg-type]
    assert "'=1+1" in text and ",=1+1" not in text
