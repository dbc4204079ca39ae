"""The results of a closed meeting for the public page (``/m/{id}/live/results``).

Pure, like :mod:`server.record.results`, but it keeps less: attendance as counts, each
question with its asking deputy and the officials as the projector announced them, the
ratings and the vote rounds as counts and results. No list of persons of any kind: no
attendance names, no named vote's choices, no card number, no phone. Only the vote
rounds announced in the hall are shown (the live page showed those and no others).
"""

from __future__ import annotations

from dataclasses import dataclass

from live.state import RatingResult
from screens import messages as msg
from screens.view import tally_of
from server.record.facts import MeetingRecord
from server.record.results import NOT_REACHED, officials, verdict, vote_rule, vote_verdict


@dataclass(frozen=True)
class Count:
    label: str
    count: int
    percent: str  # "56.3%" over the rule's base; "—" without one


@dataclass(frozen=True)
class Rated:
    """A question or an agenda item and its rating as announced."""

    label: str  # 问题 3, 议程 1
    title: str
    asker: str  # 李明（第一代表小组）; "" for an agenda item
    officials: str
    counts: tuple[Count, ...]  # empty when never rated
    rule: str  # 以应到人数 48 为基数
    verdict: str  # 满意 … or 仅供参考 / 无有效评价 / 未测评
    grade_key: str  # satisfied / basic / dissatisfied / none: the colour
    note: str


@dataclass(frozen=True)
class Round:
    title: str
    round_label: str  # 第2轮; "" for a vote that had a single round
    secret: str  # 无记名 / 记名
    method: str
    rule: str
    base: int
    for_votes: int
    against: int
    abstain: int
    not_voted: int
    verdict: str
    passed: bool


@dataclass(frozen=True)
class PublicResults:
    meeting_id: int
    title: str
    body_name: str
    schedule: str
    expected: int
    present: int
    leave: int
    absent: int
    questions: tuple[Rated, ...]
    items: tuple[Rated, ...]
    votes: tuple[Round, ...]


def _rated(record: MeetingRecord, label: str, title: str, result: RatingResult | None, **extra: str) -> Rated:
    if result is None:
        counts: tuple[Count, ...] = ()
        rule = note = ""
    else:
        tally = tally_of(result, False, record.setup.settings.rating_rule)
        counts = tuple(Count(line.label, line.count, line.percent) for line in tally.lines)
        rule, note = tally.rule, tally.note
    key = result.grade.value if result is not None and result.grade is not None else "none"
    return Rated(
        label=label,
        title=title,
        asker=extra.get("asker", ""),
        officials=extra.get("officials", ""),
        counts=counts,
        rule=rule,
        verdict=verdict(result),
        grade_key=key if verdict(result) in msg.CHOICES.values() else "none",
        note=extra.get("note", "") or note,
    )


def public_results(record: MeetingRecord) -> PublicResults:
    setup = record.setup
    questions = []
    for q in record.questions:
        deputy = setup.deputies.get(q.question.asker_id) if q.question.asker_id is not None else None
        group = q.question.group or (deputy.group if deputy else "")
        asker = f"{deputy.name}（{group}）" if deputy and group else (deputy.name if deputy else "")
        questions.append(
            _rated(
                record,
                f"问题 {q.question.position}",
                q.question.title,
                q.rating,
                asker=asker,
                officials=officials(q.question),
                note="" if q.reached else NOT_REACHED,
            )
        )
    items = tuple(
        _rated(record, f"议程 {r.item.position}", r.item.title, r.result) for r in record.item_ratings
    )
    votes = tuple(
        Round(
            title=v.title,
            # 第1轮 only when a revote stands beside it
            round_label=f"第{v.round_no}轮" if len(record.rounds_of(v.first_id)) > 1 else "",
            secret="无记名" if v.secret else "记名",
            method=msg.VOTE_METHODS[v.method],
            rule=vote_rule(record, v),
            base=v.result.base,
            for_votes=v.result.for_votes,
            against=v.result.against,
            abstain=v.result.abstain,
            not_voted=v.result.not_voted,
            verdict=vote_verdict(v),
            passed=v.result.passed,
        )
        for v in record.votes
        if v.result is not None and v.announced
    )
    return PublicResults(
        meeting_id=setup.meeting_id,
        title=setup.title,
        body_name=setup.body_name,
        schedule=msg.schedule_line(setup.held_on, setup.starts_at, setup.place),
        expected=record.expected,
        present=len(record.with_status("present")),
        leave=len(record.with_status("leave")),
        absent=len(record.with_status("absent")),
        questions=tuple(questions),
        items=items,
        votes=votes,
    )
