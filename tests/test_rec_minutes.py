"""The draft minutes (会议纪要, server/record/minutes.py, minutes_docx.py) of the demo meeting
held through the real action path (server/record/sitting.py), read back with python-docx:
the 议定事项 match the log (the secret vote failed and passed on its revote, with the
revote's counts; the named vote; every closed rating's grade), the attendance figures and
the chair; with a 交办 decision recorded the assigned questions are listed, without it a
【待补充】 sentence; the GB/T 9704 layout (page, margins, fonts, sizes, the red 版头) and
the draft marking; no secret choice and no participation in a secret poll.
tests/test_rec_minutes_postgres.py runs these again on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Length
from docx.text.paragraph import Paragraph

from live.setup import BodyKind, Setup
from live.state import Choice, RatingResult, Threshold, Ungraded, VoteBase, VoteMethod, VoteResult
from server.base.settings import Settings
from server.record import minutes as mn
from server.record.facts import MeetingRecord, VoteRecord, fold
from server.record.minutes_docx import RED, title_lines
from server.record.reporters import Reporter
from server.record.sitting import NAMED_TITLE, SECRET_TITLE, roster
from tests.rec_minutes_fixtures import CHAIR, docx_text, held

# The children of a w:pPr in the schema's order (ECMA-376, CT_PPr).
_PPR_ORDER = (
    "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
    "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
    "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
)
PPR_ORDER = _PPR_ORDER.split()


def east_asian(p: Paragraph) -> set[str | None]:
    return {r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in p.runs if r.text.strip()}


def sizes(p: Paragraph) -> set[float | None]:
    return {r.font.size.pt if r.font.size else None for r in p.runs if r.text.strip()}


def counts(r: RatingResult) -> str:
    return "，".join(f"{mn.GRADES[c]}{r.count(c)}票" for c in Choice)


def votes(v: VoteRecord) -> str:
    assert v.result is not None
    return f"赞成{v.result.for_votes}票，反对{v.result.against}票，弃权{v.result.abstain}票"


def paragraph_with(texts: list[str], *parts: str) -> str:
    found = [t for t in texts if all(p in t for p in parts)]
    assert len(found) == 1, (parts, found)
    return found[0]


def after(texts: list[str], heading_end: str) -> str:
    """The paragraph under the one heading that ends so."""
    (at,) = [n for n, t in enumerate(texts) if t.endswith(heading_end)]
    return texts[at + 1]


def check_decisions(record: MeetingRecord, texts: list[str]) -> None:
    """Every matter voted by its last round, every closed rating's grade, as the log says."""
    first, revote, named = record.votes
    assert first.title == SECRET_TITLE and first.result and not first.result.passed
    assert revote.round_no == 2 and revote.result and revote.result.passed
    said = after(texts, f"、会议表决通过了《{SECRET_TITLE}》")
    assert said.startswith("会议以无记名方式进行表决。")
    assert f"首次表决未获通过，经重新表决，{votes(revote)}，获得通过。" in said
    assert votes(first) not in said  # the decision is the revote's
    assert named.title == NAMED_TITLE and named.result and named.result.passed
    said = after(texts, f"、会议表决通过了《{NAMED_TITLE}》")
    assert said.startswith("会议以记名方式进行表决。") and f"{votes(named)}，获得通过。" in said
    assert "重新表决" not in said
    rated = [q for q in record.questions if q.rating is not None]
    assert len(rated) == len(record.questions) - 1  # the last was never reached
    for q in rated:
        assert q.rating is not None and q.rating.grade is not None
        said = paragraph_with(texts, q.question.title, "测评结果")
        assert f"测评结果为{mn.GRADES[q.rating.grade]}（{counts(q.rating)}）" in said
    (item,) = record.item_ratings
    assert item.result.grade is not None
    said = paragraph_with(texts, f"会议听取了{item.item.title.removeprefix('听取')}")
    assert f"测评结果为{mn.GRADES[item.result.grade]}（{counts(item.result)}）" in said
    unreached = record.questions[-1].question.title
    assert paragraph_with(texts, "未及询问", unreached)


def check_attendance(record: MeetingRecord, texts: list[str]) -> None:
    present, leave, absent = (record.with_status(s) for s in ("present", "leave", "absent"))
    assert (record.expected, len(present), len(leave), len(absent)) == (48, 45, 1, 2)
    opening = paragraph_with(texts, "现将会议议定事项纪要如下")
    assert f"会议由{CHAIR}主持" in opening
    figures = (
        f"应到代表{record.expected}人，实到{len(present)}人，请假{len(leave)}人，"
        f"缺席{len(absent)}人，符合法定人数"
    )
    assert figures in opening
    lines = {
        t.split("：", 1)[0]: t.split("：", 1)[1]
        for t in texts
        if t[:3] in ("出席：", "请假：", "缺席：", "列席：")
    }
    assert lines["请假"] == "、".join(record.name(a.deputy_id) for a in leave)
    assert lines["缺席"] == "、".join(record.name(a.deputy_id) for a in absent)
    assert lines["出席"].split("、") == [record.name(a.deputy_id) for a in present]
    respondents = {
        f"{r.title}{r.name}" for q in record.questions if q.reached for r in q.question.respondents
    }
    assert set(lines["列席"].split("、")) == respondents


def test_the_minutes_say_what_the_log_decided_and_ask_for_the_assignment(
    settings: Settings, meeting_id: int
) -> None:
    h = held(settings, meeting_id)
    texts = docx_text(h.docx)
    check_decisions(h.record, texts)
    check_attendance(h.record, texts)
    said = paragraph_with(texts, "所提问题由")
    assert said.startswith(mn.TO_COMPLETE) and "主席团研究确定交办意见" in said
    assert "交办决定（" not in "\n".join(texts)
    assert texts[0] == mn.DRAFT_NOTE
    assert "清溪镇人民代表大会主席团会议纪要" in texts
    assert any(t.startswith("〔") and t.endswith("〕第【　】期") for t in texts)
    # The headings are numbered in order: 一、 the report, 二、 the inquiry, 三、四、 the votes, 五、 交办.
    heads = [t for t in texts if t[:2] in ("一、", "二、", "三、", "四、", "五、", "六、")]
    assert [t[:2] for t in heads] == ["一、", "二、", "三、", "四、", "五、"]
    assert heads[2] == f"三、会议表决通过了《{SECRET_TITLE}》"
    # The same record as a rehearsal's, and with its report item naming a reporter (述职).
    rehearsal = replace(h.record, setup=replace(h.record.setup, rehearsal=True))
    assert mn.draft(rehearsal, chair=CHAIR, decision=None).notes == (mn.DRAFT_NOTE, mn.REHEARSAL_NOTE)
    item = h.record.item_ratings[0].item
    group = Reporter(item.id, "group", "城东代表小组", group_id=1)
    said = mn.plain_text(mn.draft(h.record, chair=CHAIR, decision=None, reporters={item.id: group}))
    assert "会议听取了城东代表小组的述职报告，并进行了满意度测评，测评结果为" in said


def test_the_issuing_organ_follows_the_body() -> None:
    assert mn.organ_of("清溪镇人民代表大会", BodyKind.CONGRESS) == "清溪镇人民代表大会主席团"
    assert (
        mn.organ_of("某县人民代表大会常务委员会", BodyKind.STANDING_COMMITTEE) == "某县人民代表大会常务委员会"
    )
    assert mn.deciding_organ(BodyKind.STANDING_COMMITTEE) == "主任会议"


def test_with_a_decision_the_minutes_list_the_questions_assigned(settings: Settings, meeting_id: int) -> None:
    h = held(settings, meeting_id, decided=True)
    texts = docx_text(h.docx)
    check_decisions(h.record, texts)
    assert mn.TO_COMPLETE not in "\n".join(texts)
    said = paragraph_with(texts, "作出交办决定")
    assert said == (
        "主席团于2026年11月30日作出交办决定（某政办〔2026〕12号），将以下4个问题列为督办事项，"
        "交有关单位办理并跟踪督办，答复期限至2027年2月28日："
    )
    titles = [q.question.title for q in h.record.questions]
    at = texts.index(said)
    assert texts[at + 1] == f"（一）{titles[0]}列为重点督办事项。"
    assert texts[at + 2 : at + 5] == [f"（{n}）{t}" for n, t in zip("二三四", titles[1:4], strict=True)]
    assert texts[at + 5] == f"“{titles[4]}”不列为督办事项，理由：已在会上答复清楚。"


def test_the_docx_is_laid_out_after_gb_t_9704_and_marked_as_a_draft(
    settings: Settings, meeting_id: int
) -> None:
    h = held(settings, meeting_id)
    doc = Document(io.BytesIO(h.docx))
    section = doc.sections[0]
    width, height, top, bottom, left, right = (
        round(Length(x).mm, 1)
        for x in (
            section.page_width, section.page_height, section.top_margin, section.bottom_margin,
            section.left_margin, section.right_margin,
        )
    )  # fmt: skip
    assert (width, height, top, left) == (210, 297, 37, 28)  # A4, 天头, 订口
    assert (width - left - right, height - top - bottom) == (156, 225)  # the text area
    paras = doc.paragraphs
    by_text = {p.text: p for p in paras}
    note = paras[0]
    assert note.text == "（草稿，请修改后按程序印发）" and note.runs[0].font.color.rgb == RED
    mark = by_text["清溪镇人民代表大会主席团会议纪要"]
    assert east_asian(mark) == {"方正小标宋简体"} and {r.font.color.rgb for r in mark.runs} == {RED}
    assert mark.alignment == 1  # centred
    number = next(p for p in paras if "第【　】期" in p.text)
    border = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert border.get(qn("w:color")) == "FF0000"  # the red line under the 版头
    title = next(p for p in paras if p.text.endswith("纪要") and p is not mark)
    assert title.text.replace("\n", "") == f"{h.record.setup.title}纪要"
    assert east_asian(title) == {"方正小标宋简体"} and sizes(title) == {22.0} and title.alignment == 1
    opening = next(p for p in paras if "现将会议议定事项纪要如下" in p.text)
    assert east_asian(opening) == {"仿宋_GB2312"} and sizes(opening) == {16.0}
    heading = next(p for p in paras if p.text.startswith("一、"))
    assert east_asian(heading) == {"黑体"} and sizes(heading) == {16.0}
    present = next(p for p in paras if p.text.startswith("出席："))
    assert present.runs[0].text == "出席：" and east_asian(present) == {"黑体", "仿宋_GB2312"}
    footer = section.footer.paragraphs[0]
    assert "PAGE" in footer._p.xml and footer.text.startswith("— ") and footer.alignment == 2  # right
    assert section.even_page_footer.paragraphs[0].alignment == 0  # even pages: left
    assert doc.settings.odd_and_even_pages_header_footer
    assert "草稿" in doc.core_properties.title
    for ppr in doc.element.body.iter(qn("w:pPr")):  # Word refuses children out of order
        found = [PPR_ORDER.index(child.tag.split("}")[1]) for child in ppr]
        assert found == sorted(found), ppr.xml
    text = "\n".join(p.text for p in paras)
    assert "【印发日期】印发" in text and "年【" not in text
    assert "定稿" not in text and "正式印发" not in text


def test_no_secret_choice_and_no_participation_in_a_secret_poll(settings: Settings, meeting_id: int) -> None:
    """A deputy's name stands only where attendance and the hall's public roles put it: the
    出席 / 请假 / 缺席 lines, and a question asked or followed up. Nothing about a secret vote
    or a rating names anyone; the member who left part-way and so took no part in the
    polls is named only among those present, as the one who stayed is."""
    h = held(settings, meeting_id)
    texts = docx_text(h.docx)
    record = h.record
    public = {record.name(q.question.asker_id) for q in record.questions if q.reached}
    public |= {record.name(d) for q in record.questions for d in q.followup_speakers}
    for deputy_id in roster(record.setup):
        name = record.name(deputy_id)
        for t in texts:
            if name not in t or t[:3] in ("出席：", "请假：", "缺席："):
                continue
            assert name in public and "提问" in t and "表决" not in t, (name, t)
    for t in texts:
        if "表决" in t:
            assert not any(record.name(d) in t for d in record.setup.deputies), t
    left = next(a for a in record.attendance if a.out_at_end)
    name = record.name(left.deputy_id)
    assert [t[:3] for t in texts if name in t] == ["出席："]
    for word in ("未按表决", "未参加", "未投票", "弃权的代表", "赞成的代表"):
        assert word not in "\n".join(texts)


# -- the pure parts ----------------------------------------------------------------------


def vote(
    round_no: int, passed: bool, for_votes: int, title: str = "关于某事项的决定", secret: bool = True
) -> VoteRecord:
    result = VoteResult(for_votes, 3, 2, 1, 48, passed)
    return VoteRecord(
        round_no, title if round_no == 1 else "", round_no, 1, None, secret, Threshold.MAJORITY,
        VoteBase.MEMBERS, VoteMethod.PHONES, 0, 1, result, True,
    )  # fmt: skip


def test_a_vote_is_said_by_its_last_closed_round() -> None:
    failed = mn.vote_matter((vote(1, False, 20),))
    assert failed is not None and failed.heading == "《关于某事项的决定》未获通过"
    assert failed.paras[0].text.endswith("赞成20票，反对3票，弃权2票，未按1人，未获通过。")
    again = mn.vote_matter((vote(1, False, 20), vote(2, True, 30)))
    assert again is not None and again.heading == "会议表决通过了《关于某事项的决定》"
    assert "首次表决未获通过，经重新表决，赞成30票" in again.paras[0].text
    unclosed = VoteRecord(
        1,
        "未完成",
        1,
        1,
        None,
        True,
        Threshold.MAJORITY,
        VoteBase.MEMBERS,
        VoteMethod.PHONES,
        0,
        None,
        None,
        False,
    )
    assert mn.vote_matter((unclosed,)) is None
    untitled = mn.vote_matter((vote(1, True, 30, title=""),))
    assert untitled is not None and "【表决事项名称】" in untitled.heading


def test_a_rating_without_a_grade_says_why() -> None:
    tally = ((Choice.SATISFIED, 3), (Choice.BASIC, 1), (Choice.DISSATISFIED, 0))
    no_quorum = RatingResult(1, tally, 48, None, Ungraded.NO_QUORUM, quorum=False)
    assert (
        mn.rating_text(no_quorum)
        == "测评开始时未达到法定人数，结果仅供参考（满意3票，基本满意1票，不满意0票）"
    )
    nothing = RatingResult(1, (), 48, None, Ungraded.NO_BALLOTS)
    assert mn.rating_text(nothing).startswith("测评无有效评价")


def test_a_long_title_breaks_before_its_parenthesis() -> None:
    long = "清溪镇第十七届人民代表大会第三次会议（年中人代会）纪要"
    assert title_lines(long) == ["清溪镇第十七届人民代表大会第三次会议", "（年中人代会）纪要"]
    assert title_lines("某镇人大代表问政会纪要") == ["某镇人大代表问政会纪要"]


def test_a_reason_typed_with_its_own_full_stop_ends_with_one() -> None:
    """A 交办 reason is typed as a sentence, often with its full stop: the draft said 。。"""
    decision = mn.Decision(
        "主席团",
        dt.date(2026, 7, 20),
        "清人大〔2026〕5号",
        None,
        (mn.AssignedItem("甲", True),),
        (("乙", "已在会上答复清楚。"), ("丙", "与第一个问题合并督办")),
    )
    matter = mn.followup_matter(fold(Setup(1, "会议", "清溪镇人民代表大会", {}, (), ()), []), decision)
    assert matter is not None
    said = [p.text for p in matter.paras]
    assert "“乙”不列为督办事项，理由：已在会上答复清楚。" in said
    assert "“丙”不列为督办事项，理由：与第一个问题合并督办。" in said
