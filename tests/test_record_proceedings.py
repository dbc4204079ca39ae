"""The proceedings (server/record/proceedings.py, proceedings_docx.py, proceedings_store.py):
the demo meeting held through the real action path (server/record/hold.py + sitting.py),
its DOCX read back with python-docx and its print view read as text, every figure checked
against the event log the sitting left (or the MeetingRecord folded from it), never typed
in here; secrecy; the marks of a rehearsal and of a meeting not yet closed."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from collections.abc import Iterator
from typing import TypeVar

from docx import Document
from docx.oxml.ns import qn

from live import events as e
from live.setup import RatingRule
from live.state import Choice, PaperCount, RatingResult, Ungraded, VoteChoice
from screens import messages as msg
from server.base.days import chinese_day, day_of_ms, moment_of_ms
from server.base.settings import Settings
from server.record.facts import MeetingRecord, TimedEvent, fold
from server.record.proceedings import (
    FIGURES,
    Figure,
    Heading,
    Para,
    clock,
    duration,
    proceedings,
    rating_paras,
)
from server.record.proceedings_docx import proceedings_docx, proceedings_docx_drawn
from server.record.proceedings_store import RecordPage, gather
from server.record.reporters import Reporter
from server.record.sitting import BANNER, NAMED_TITLE, SECRET_TITLE
from server.storage.db import create_engine, snapshot_read
from tests.rec_proc_fixtures import CHAIR, NOTE, held_fixture  # noqa: F401  (the fixture ``held``)

Held = tuple[MeetingRecord, list[TimedEvent]]
T = TypeVar("T")


async def _gather(settings: Settings, meeting_id: int) -> RecordPage:
    engine = create_engine(settings.database_url)
    try:
        async with snapshot_read(engine) as conn:
            return await gather(conn, meeting_id, 0)
    finally:
        await engine.dispose()


def docx_lines(data: bytes) -> list[str]:
    """The document's text in reading order: each paragraph, then each table row's cells
    joined by " | " (python-docx lists tables apart: walk the body's children)."""
    doc = Document(io.BytesIO(data))
    lines: list[str] = []
    tables = iter(doc.tables)
    paragraphs = iter(doc.paragraphs)
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(next(paragraphs).text)
        elif child.tag == qn("w:tbl"):
            for row in next(tables).rows:
                lines.append(" | ".join(c.text for c in row.cells))
    return [line for line in lines if line.strip()]


def section(lines: list[str], start: str, stop: re.Pattern[str]) -> list[str]:
    """The lines from the one that starts with ``start`` up to the next matching ``stop``."""
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    rest = lines[first + 1 :]
    end = next((i for i, line in enumerate(rest) if stop.match(line)), len(rest))
    return lines[first : first + 1 + end]


HEAD = re.compile(r"^[一二三四五六七八九十]+、")
SUB = re.compile(r"^（[一二三四五六七八九十]+）|^[一二三四五六七八九十]+、")


def events_of(log: list[TimedEvent], kind: type[T]) -> Iterator[tuple[int, T]]:
    return ((at, ev) for _, at, ev in log if isinstance(ev, kind))


def the_document(settings: Settings, meeting_id: int) -> tuple[RecordPage, list[str]]:
    found = asyncio.run(_gather(settings, meeting_id))
    return found, docx_lines(proceedings_docx_drawn(found.doc, found.chart_rows))


def test_the_docx_reads_back_with_the_figures_of_the_log(
    settings: Settings, meeting_id: int, held: Held
) -> None:
    record, log = held
    found, lines = the_document(settings, meeting_id)
    text = "\n".join(lines)
    setup = record.setup
    name = {d: setup.deputies[d].name for d in setup.deputies}
    # The particulars, the chair, the note before the body.
    assert lines[0] == "会议记录" and lines[1] == setup.title
    opened = log[0][1]
    assert f"会议时间：{chinese_day(day_of_ms(opened))} {clock(opened)[:5]} 开始" in text
    assert f"主持人：{CHAIR}" in lines and f"会议地点：{setup.place}" in lines
    first_head = lines.index("一、出席情况")
    for line in NOTE.splitlines():
        assert lines.index(line) < first_head
    assert not found.doc.marks  # held and closed, not a rehearsal

    # Attendance, from the log: who checked in, who was put on leave, the rest absent.
    checked = {ev.deputy_id: at for at, ev in events_of(log, e.DeputyCheckedIn)}
    leave = {ev.deputy_id for _, ev in events_of(log, e.DeputyOnLeave)}
    absent = [d for d in setup.deputies if d not in checked and d not in leave and d not in setup.suspended]
    assert leave and len(absent) == 2
    assert (
        f"人数：应到 {record.expected} 人，实到 {len(checked)} 人，"
        f"请假 {len(leave)} 人，缺席 {len(absent)} 人。" in lines
    )
    assert f"请假：{'、'.join(name[d] for d in leave)}" in lines
    absent_line = next(line for line in lines if line.startswith("缺席："))
    assert sorted(absent_line.removeprefix("缺席：").split("、")) == sorted(name[d] for d in absent)
    announced_at = next(at for at, _ in events_of(log, e.AttendanceAnnounced))
    late = [d for d, at in checked.items() if at > announced_at]
    assert late
    assert f"迟到：{'、'.join(f'{name[d]}（{clock(checked[d])} 签到）' for d in late)}" in lines
    left = {ev.deputy_id: at for at, ev in events_of(log, e.DeputyLeftHall)}
    back = {ev.deputy_id: at for at, ev in events_of(log, e.DeputyReturned)}
    left_line = next(line for line in lines if line.startswith("中途离会："))
    for d, at in left.items():
        then = f"{clock(back[d])} 返回" if d in back else "未返回"
        assert f"{name[d]}（{clock(at)} 离会，{then}）" in left_line

    # Each question: its timed parts as the log has them, its follow-ups, its rating.
    called = {ev.question_id: at for at, ev in events_of(log, e.QuestionCalled)}
    closes = {ev.question_id: ev for _, ev in events_of(log, e.RatingClosed)}
    rule = setup.settings.rating_rule
    for n, qr in enumerate(record.questions, 1):
        q = qr.question
        part = section(lines, f"（{'一二三四五六'[n - 1]}）{q.title}", SUB)
        assert (
            f"提问代表：{name[q.asker_id or 0]}（{q.group or setup.deputies[q.asker_id or 0].group}）" in part
        )
        assert all(r.name in part[2] and r.title in part[2] for r in q.respondents)
        if q.id not in called:
            assert "询问情况：会上未及询问。" in part
            assert not any(line.startswith("满意度测评：") for line in part)
            continue
        assert part[3].startswith(f"询问时间：{clock(called[q.id])} 开始")
        rows = [line for line in part if line.count(" | ") == 6][1:]  # the head row first
        assert len(rows) == len(qr.stretches) == 4
        assert rows[0].split(" | ")[2] == clock(called[q.id])  # the asking starts as it is called
        for row, s in zip(rows, qr.stretches, strict=True):
            cells = row.split(" | ")
            assert cells[2:6] == [
                clock(s.start_ms),
                clock(s.end_ms),
                duration(s.allowance_ms),
                duration(s.duration_ms),
            ]
            over = s.duration_ms - s.allowance_ms
            assert cells[6] == (duration(over) if over >= 1000 else "—")
        changes = [at for _, at, ev in log if isinstance(ev, e.PhaseChanged) and called[q.id] <= at]
        assert [s.end_ms for s in qr.stretches][:3] == changes[1:4]  # each part ends at the next phase
        assert f"追问代表：{'、'.join(name[d] for d in qr.followup_speakers)}" in part
        closed = closes[q.id]
        counts = (
            f"满意 {closed.satisfied} 票（{closed.satisfied * 100 / closed.base:.1f}%），"
            f"基本满意 {closed.basic} 票（{closed.basic * 100 / closed.base:.1f}%），"
            f"不满意 {closed.dissatisfied} 票（{closed.dissatisfied * 100 / closed.base:.1f}%）"
        )
        total = closed.satisfied + closed.basic + closed.dissatisfied
        base_words = msg.DENOMINATOR_RULES[rule.denominator].format(base=closed.base)
        assert f"满意度测评：{counts}；共 {total} 票，{base_words}。" in part
        assert closed.grade is not None and f"测评等次：{msg.CHOICES[closed.grade]}" in part
    grades = {c.grade for c in closes.values() if c.question_id > 0}
    assert len(grades) == 3  # the sitting gives the questions different grades
    assert "测评规则：以应到人数为基数计算各项比率" in text

    # The report item's rating.
    item_close = next(c for c in closes.values() if c.question_id < 0)
    item = setup.agenda_item(-item_close.question_id)
    assert item is not None
    ratings = section(lines, "四、", HEAD)
    assert f"（一）{item.title}" in ratings and f"满意 {item_close.satisfied} 票" in ratings[2]

    # The votes: the secret one failed, then its revote passed; the named one with names.
    opened_votes = [ev for _, ev in events_of(log, e.VoteOpened)]
    closed_votes = {ev.vote_id: ev for _, ev in events_of(log, e.VoteClosed)}
    votes = section(lines, "五、表决", HEAD)
    secret = section(votes, f"（一）{SECRET_TITLE}", SUB)
    rounds = [v for v in opened_votes if v.secret]
    assert len(rounds) == 2 and rounds[1].round_no == 2
    results = [line for line in secret if line.startswith("表决结果：")]
    for result, opened_round in zip(results, rounds, strict=True):
        c = closed_votes[opened_round.vote_id]
        assert result.startswith(
            f"表决结果：赞成 {c.for_votes} 票，反对 {c.against} 票，"
            f"弃权 {c.abstain} 票，未按 {c.not_voted} 票"
        )
        assert (result.count("；通过") == 1) is c.passed
    assert [closed_votes[r.vote_id].passed for r in rounds] == [False, True]
    assert any(line.startswith("第一轮：无记名表决（只记票数）") for line in secret)
    assert any(line.startswith("第二轮（重新表决）：无记名表决（只记票数）") for line in secret)
    named = section(votes, f"（二）{NAMED_TITLE}", SUB)
    casts = [ev for _, ev in events_of(log, e.VoteCast) if not ev.secret]
    assert casts
    for choice in VoteChoice:
        who = [name[c.deputy_id] for c in casts if c.choice is choice]
        line = next(x for x in named if x.startswith(f"{msg.VOTE_CHOICES[choice]}（"))
        assert line.startswith(f"{msg.VOTE_CHOICES[choice]}（{len(who)} 人）：")
        assert sorted(line.split("：")[1].split("、")) == sorted(who)

    # The speech, the banner and the attendance announcement.
    started = next(ev for _, ev in events_of(log, e.SpeechStarted))
    ended = next(ev for _, ev in events_of(log, e.SpeechEnded))
    speech = next(line for line in section(lines, "六、代表发言", HEAD) if name[started.deputy_id] in line)
    assert duration(ended.spoken_ms) in speech
    banner_at = next(at for at, ev in events_of(log, e.BannerSet) if ev.text)
    assert f"{clock(banner_at)} | 大屏字幕 | {BANNER}" in lines
    announced = next(ev for _, ev in events_of(log, e.AttendanceAnnounced))
    assert (
        f"{clock(announced_at)} | 宣布出席情况 | 应到 {announced.expected} 人，实到 {announced.present} 人"
        in text
    )


def test_no_secret_choice_and_no_one_who_took_part_in_a_secret_poll(
    settings: Settings, meeting_id: int, held: Held
) -> None:
    """Names appear only where the record is public: attendance, who asked, who followed up,
    who spoke, and a named vote's choices. A secret vote's section and every rating name
    nobody, so no list of the secret polls' voters exists anywhere."""
    record, log = held
    _, lines = the_document(settings, meeting_id)
    names = {d.name for d in record.setup.deputies.values()}
    secret_voters = {ev.deputy_id for _, ev in events_of(log, e.VoteCast) if ev.secret}
    assert len(secret_voters) > 40
    secret = section(lines, f"（一）{SECRET_TITLE}", SUB)
    assert not any(n in line for line in secret for n in names)
    for line in lines:
        if line.startswith(("满意度测评：", "测评等次：", "表决结果：")):
            assert not any(n in line for n in names), line
    named = section(lines, f"（二）{NAMED_TITLE}", SUB)
    public = {
        record.name(a.deputy_id) for a in record.attendance if a.status != "present" or a.late or a.left
    }
    public |= {record.name(q.question.asker_id) for q in record.questions}
    public |= {record.name(d) for q in record.questions for d in q.followup_speakers}
    public |= {record.name(s.deputy_id) for s in record.speeches}
    seen = {n for line in lines if line not in named for n in names if n in line}
    assert seen <= public, seen - public
    assert len(seen) < len(secret_voters) / 2
    # Nothing of a ballot's key or receipt reaches the document either.
    data = proceedings_docx(proceedings(record))
    body = Document(io.BytesIO(data)).element.xml
    assert not any(ev.ballot_key in body for _, ev in events_of(log, e.VoteCast))


def test_the_marks_of_a_meeting_not_yet_closed_and_of_a_rehearsal(held: Held) -> None:
    record, log = held
    closed_at = next(i for i, (_, _, ev) in enumerate(log) if isinstance(ev, e.MeetingClosed))
    called = next(i for i, (_, _, ev) in enumerate(log) if isinstance(ev, e.QuestionCalled))
    running = fold(record.setup, log[: called + 3])  # the first question asked, not rated
    as_of = log[called + 2][1]
    doc = proceedings(running, as_of_ms=as_of)
    assert doc.marks == (f"会议尚未结束：本记录截至 {moment_of_ms(as_of)}。",)
    assert ("会议时间", f"{chinese_day(day_of_ms(log[0][1]))} {clock(log[0][1])[:5]} 开始") in doc.facts
    assert Para("未测评", "满意度测评") in doc.blocks
    not_yet = [a for a in running.attendance if a.status == "absent"]
    assert Para("、".join(running.name(a.deputy_id) for a in not_yet), "未签到") in doc.blocks
    assert not any(isinstance(b, Para) and b.label == "缺席" for b in doc.blocks)
    rehearsal = fold(dataclasses.replace(record.setup, rehearsal=True), log[: closed_at + 1])
    marks = proceedings(rehearsal).marks
    assert len(marks) == 1 and marks[0].startswith("彩排") and "不是会议记录" in marks[0]
    lines = docx_lines(proceedings_docx(proceedings(rehearsal)))
    assert lines[2] == marks[0]


def test_a_rating_without_quorum_is_for_reference_and_a_paper_count_names_its_tellers() -> None:
    counts = ((Choice.SATISFIED, 10), (Choice.BASIC, 5), (Choice.DISSATISFIED, 3))
    unofficial = RatingResult(1, counts, 48, None, Ungraded.NO_QUORUM, quorum=False)
    paras = rating_paras(unofficial, RatingRule())
    assert paras[0].text.startswith(
        "满意 10 票（20.8%），基本满意 5 票（10.4%），不满意 3 票（6.2%）；共 18 票"
    )
    assert paras[1].label == "测评等次" and "仅供参考" in paras[1].text and "不评定等次" in paras[1].text
    paper = RatingResult(1, counts, 48, Choice.BASIC, paper=PaperCount("张三、李四", "王五", kept=4))
    lines = [p.text for p in rating_paras(paper, RatingRule())]
    assert lines[1] == "基本满意"
    assert "监票人：张三、李四" in lines[2] and "计票人：王五" in lines[2] and "含电子票 4 张" in lines[2]
    assert rating_paras(None, RatingRule()) == [Para("未测评", "满意度测评")]


def test_a_rated_report_names_who_reported_and_an_unrated_one_says_so(held: Held) -> None:
    record, _ = held
    rated = record.item_ratings[0]
    unrated = next(i for i in record.setup.agenda if i.id not in {r.item.id for r in record.item_ratings})
    named = {
        rated.item.id: Reporter(rated.item.id, "higher", "陈立", congress="某某市人民代表大会"),
        unrated.id: Reporter(unrated.id, "group", "城东代表小组", group_id=1),
    }
    blocks = proceedings(record, reporters=named).blocks
    at = blocks.index(Heading(f"（一）{rated.item.title}", 2))
    assert blocks[at + 1] == Para("陈立（某某市人民代表大会代表）", "述职人")
    counts = blocks[at + 2]
    satisfied = rated.result.count(Choice.SATISFIED)
    assert isinstance(counts, Para) and counts.text.startswith(f"满意 {satisfied} 票")
    later = blocks.index(Heading(f"（二）{unrated.title}", 2))
    assert blocks[later + 1 : later + 3] == (Para("城东代表小组", "述职人"), Para("未测评", "满意度测评"))


def test_the_charts_of_satisfaction_and_speaking_time_are_in_the_docx_and_on_the_page(
    settings: Settings, meeting_id: int, held: Held
) -> None:
    record, _ = held
    found = asyncio.run(_gather(settings, meeting_id))
    assert set(found.chart_rows) == {"satisfaction", "speaking"}
    rated = [q for q in record.questions if q.rating] + list(record.item_ratings)
    assert len(found.chart_rows["satisfaction"]) == len(rated)
    assert [r[1] for r in found.chart_rows["speaking"]] == [
        q.spoken_ms // 1000 for q in record.questions if q.reached
    ]
    doc = Document(io.BytesIO(proceedings_docx_drawn(found.doc, found.chart_rows)))
    pictures = doc.inline_shapes
    assert len(pictures) == 2
    assert all(abs(p.width.mm - 150) < 1 for p in pictures)  # within the text's 156 mm
    texts = [p.text for p in doc.paragraphs]
    assert all(caption in texts for _, caption in FIGURES)
    nothing = proceedings(dataclasses.replace(record, questions=(), item_ratings=()), charts=())
    assert not any(isinstance(b, Figure) for b in nothing.blocks)
