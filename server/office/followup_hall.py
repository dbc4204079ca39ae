"""What the hall did with each question, as follow-up (督办) reads it, and written answers.

The meeting's event log is the record of the hall (server/storage/store.py): a question
was *reached* when the chair called it (``QuestionCalled``), and *rated* when its rating
closed (``RatingClosed``, which carries the counts, the base and the grade that
live/rules.py ``grade`` gave under the meeting's own rule when the chair closed it). The
grade is read, never recomputed: the number present at that moment, which a base of
实到 needs, is known only to that event.

A question the hall did not reach, or that the meeting sent for a written answer (书面答复),
may have its written answer typed on the 交办 page; when the decision makes the question an
item, the answer becomes the item's first post (kind ``answer``), its author the answering
official or organ as typed, dated the decision day. An item made by hand may have one too.
A written answer for a question the decision does not make an item is refused, not
dropped: staff typed it to keep it, and only an item keeps it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.events import QuestionCalled, RatingClosed, from_record
from live.setup import BodyKind, RatingRule
from live.state import Choice, PaperCount, RatingResult, VoteMethod
from screens.view import tally_of
from server.base.days import CHINA
from server.office import followup_rules as rules
from server.office.meeting_forms import Invalid
from server.storage import models as m
from server.storage.store import settings_from_json

MAX_ANSWER = 5000
MAX_AUTHOR = 64
NOT_RATED = "未测评"
TEXT = {
    "answer": f"书面答复不超过 {MAX_ANSWER} 个字：{{title}}",
    "author": f"请填写书面答复的答复人或答复单位（不超过 {MAX_AUTHOR} 个字）：{{title}}",
    "not_item": "书面答复随督办事项保存：请把“{title}”列为督办事项，或清空它的书面答复。",
    "unknown": "书面答复所属的问题不是这次会议的问题。",
}
_TYPES = ("QuestionCalled", "RatingClosed")


@dataclass(frozen=True)
class InHall:
    """One question in the hall: called or not, and its closed rating if any."""

    called: bool = False
    result: RatingResult | None = None

    @property
    def reached(self) -> bool:
        return self.called or self.result is not None

    @property
    def label(self) -> str:
        if self.result is not None:
            return "会上已提问、已测评"
        return "会上已提问，未测评" if self.called else "会上未轮到"


@dataclass(frozen=True)
class Hall:
    rule: RatingRule
    questions: dict[int, InHall]

    def of(self, question_id: int) -> InHall:
        return self.questions.get(question_id, InHall())

    def rating_text(self, question_id: int) -> str:
        return rating_text(self.of(question_id).result, self.rule)


def _result(e: RatingClosed) -> RatingResult:
    counts = ((Choice.SATISFIED, e.satisfied), (Choice.BASIC, e.basic), (Choice.DISSATISFIED, e.dissatisfied))
    paper = (
        PaperCount(e.scrutineers, e.counters, e.kept, e.discarded) if e.method is VoteMethod.PAPER else None
    )
    return RatingResult(e.question_id, counts, e.base, e.grade, e.ungraded, e.quorum, paper)


async def hall_of(conn: AsyncConnection, meeting_id: int) -> Hall:
    """The meeting's rating rule and what the hall did with each of its questions."""
    mt, b = m.meetings, m.bodies
    meeting = (
        await conn.execute(
            select(mt.c.settings, b.c.kind).join(b, b.c.id == mt.c.body_id).where(mt.c.id == meeting_id)
        )
    ).first()
    rule = (
        settings_from_json(meeting.settings, BodyKind(meeting.kind)).rating_rule if meeting else RatingRule()
    )
    ev = m.events
    rows = await conn.execute(
        select(ev.c.type, ev.c.data)
        .where(ev.c.meeting_id == meeting_id, ev.c.type.in_(_TYPES))
        .order_by(ev.c.seq)
    )
    found: dict[int, InHall] = {}
    for type_name, data in rows:
        event = from_record(type_name, json.loads(data))
        if isinstance(event, QuestionCalled):
            was = found.get(event.question_id, InHall())
            found[event.question_id] = InHall(True, was.result)
        elif isinstance(event, RatingClosed) and event.question_id > 0:  # < 0: an agenda item's
            was = found.get(event.question_id, InHall())
            found[event.question_id] = InHall(was.called, _result(event))
    return Hall(rule, found)


def rating_text(result: RatingResult | None, rule: RatingRule) -> str:
    """Counts, the satisfaction rate over the rule's base, and the grade (等次), as one
    line for the item: "测评：满意 30，基本满意 10，不满意 2；满意率 62.5%（以应到人数 48 为基数）；
    等次：满意". A question never rated says 未测评."""
    if result is None:
        return NOT_RATED
    tally = tally_of(result, False, rule)
    counts = "，".join(f"{line.label} {line.count}" for line in tally.lines)
    satisfied = tally.lines[0].percent
    text = f"测评：{counts}；满意率 {satisfied}（{tally.rule}）；等次：{tally.verdict}"
    if tally.note:
        text += f"（{tally.note}）"
    if result.paper is not None:
        text += "；纸质计票"
    return text[:200]


def check_answers(
    questions: list[Any], chosen: Collection[int], answers: Mapping[int, tuple[str, str]]
) -> dict[int, tuple[str, str]]:
    """The written answers worth keeping, (author, text) by question: blank ones dropped,
    the others checked. Raises :class:`Invalid` naming the question."""
    titles = {int(q.id): str(q.title) for q in questions}
    kept: dict[int, tuple[str, str]] = {}
    for question_id, (author, text) in answers.items():
        text, author = _plain(text), " ".join(author.split())
        if not text:
            continue
        if question_id not in titles:
            raise Invalid({"answers": TEXT["unknown"]})
        title = titles[question_id]
        check_answer(author, text, title)
        if question_id not in chosen:
            raise Invalid({"answers": TEXT["not_item"].format(title=title)})
        kept[question_id] = (author, text)
    return kept


def _plain(text: str) -> str:
    """The answer as kept: a browser sends a textarea's line breaks as CRLF."""
    return text.replace("\r\n", "\n").strip()


def check_answer(author: str, text: str, title: str) -> None:
    """A written answer of at most MAX_ANSWER characters, with who gave it."""
    text = _plain(text)
    if len(text) > MAX_ANSWER:
        raise Invalid({"answers": TEXT["answer"].format(title=title)})
    author = " ".join(author.split())
    if text and (not author or len(author) > MAX_AUTHOR):
        raise Invalid({"answers": TEXT["author"].format(title=title)})


def start_of(day: dt.date) -> int:
    """The first millisecond of a China day: the date a post made on that day carries."""
    return int(dt.datetime.combine(day, dt.time(), CHINA).timestamp() * 1000)


async def post_answer(
    conn: AsyncConnection, body_id: int, item_id: int, author: str, text: str, day: dt.date
) -> None:
    """The written answer as the item's first post, dated ``day`` (the 交办 day); from the
    body's responsible organ of that name, when the author typed is one."""
    author = " ".join(author.split())[:MAX_AUTHOR]
    o = m.organs
    organ_id = (await conn.execute(select(o.c.id).where(o.c.body_id == body_id, o.c.name == author))).scalar()
    await conn.execute(
        insert(m.followup_posts).values(
            item_id=item_id,
            kind=rules.ANSWER,
            text=_plain(text),
            author=author,
            # From the official or organ who answered, as the page names it; the staff who
            # typed it are on the audit trail (the decision's or the item's entry).
            on_behalf=False,
            organ_id=organ_id,
            at_ms=start_of(day),
        )
    )


def answers_of(form: Mapping[str, str]) -> dict[int, tuple[str, str]]:
    """``answer_<question>`` and ``answer_by_<question>`` of the 交办 form."""
    out: dict[int, tuple[str, str]] = {}
    for key, value in form.items():
        if key.startswith("answer_") and key[7:].isdigit():
            out[int(key[7:])] = (form.get(f"answer_by_{key[7:]}", ""), value)
    return out
