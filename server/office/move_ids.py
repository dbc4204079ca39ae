"""Rewriting the ids inside a moved meeting's rows: events, actors, audit details.

Every id an event carries is named here, per event type, with the kind of thing it names
(:data:`EVENT_ID_FIELDS`); ``tests/test_meeting_move.py`` checks that every ``*_id`` field
of every event class is in the table, so a new event cannot slip through unmapped. Kinds:

- ``deputy``, ``attendee``, ``item``, ``question``: rows whose ids differ between
  installations, mapped through :class:`IdMap`;
- ``round``: a rating's key, a question's id or an agenda item's id negated (live/ratings.py);
- ``vote``: a vote's number within its meeting (1, 2, …), the same on both sides.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from server.office.move_format import MoveRefused

DEPUTY, ATTENDEE, ITEM, QUESTION, ROUND, VOTE = "deputy", "attendee", "item", "question", "round", "vote"

EVENT_ID_FIELDS: dict[str, dict[str, str]] = {
    "CheckInOpened": {},
    "CheckInClosed": {},
    "DeputyCheckedIn": {"deputy_id": DEPUTY},
    "DeputyOnLeave": {"deputy_id": DEPUTY},
    "AttendanceCleared": {"deputy_id": DEPUTY},
    "AttendanceAnnounced": {},
    "DeputyLeftHall": {"deputy_id": DEPUTY},
    "DeputyReturned": {"deputy_id": DEPUTY},
    "AttendeeCheckedIn": {"attendee_id": ATTENDEE},
    "MeetingClosed": {},
    "AgendaItemStarted": {"item_id": ITEM},
    "QuestionCalled": {"question_id": QUESTION},
    "PhaseChanged": {"speaker_id": DEPUTY},
    "TimerChanged": {},
    "RatingOpened": {"question_id": ROUND},
    "RatingCast": {"question_id": ROUND, "deputy_id": DEPUTY},
    "RatingClosed": {"question_id": ROUND},
    "ProjectorFocused": {},
    "FloorRequested": {"deputy_id": DEPUTY, "item_id": ITEM},
    "FloorWithdrawn": {"deputy_id": DEPUTY},
    "FloorMoved": {"deputy_id": DEPUTY},
    "FloorGranted": {"deputy_id": DEPUTY},
    "SpeechStarted": {"deputy_id": DEPUTY, "item_id": ITEM},
    "SpeechEnded": {"deputy_id": DEPUTY},
    "SpokeFor": {"deputy_id": DEPUTY},
    "BannerSet": {},
    "ProjectorModeSet": {},
    "VoteOpened": {"vote_id": VOTE, "first_id": VOTE, "item_id": ITEM},
    "VoteCast": {"vote_id": VOTE, "deputy_id": DEPUTY},
    "VoteClosed": {"vote_id": VOTE},
    "VoteAnnounced": {"vote_id": VOTE},
}

# Ids in an audit row's detail (JSON) that name rows moved with the meeting or mapped.
AUDIT_DETAIL_IDS = {
    "deputy_id": DEPUTY,
    "request_id": "leave",
    "term_id": "term",
    "session_id": "session",
    "meeting_id": "meeting",
    "body_id": "body",
    "question_id": QUESTION,  # 承诺事项 typed for a question (server/office/question_commitments.py)
    "report_id": "report",  # the progress report an agenda item takes (agenda_report_added)
}
_DEPUTY_ACTOR = re.compile(r"^deputy:(\d+)$")


@dataclass
class IdMap:
    """Source id -> target id, per kind of row."""

    ids: dict[str, dict[int, int]] = field(default_factory=dict)

    def set(self, kind: str, old: int, new: int) -> None:
        self.ids.setdefault(kind, {})[old] = new

    def of(self, kind: str, old: Any) -> Any:
        if old is None or kind == VOTE:
            return old
        if kind == ROUND:
            if not isinstance(old, int):
                raise MoveRefused(f"文件中的测评编号 {old!r} 无效。")
            return self.of(QUESTION, old) if old > 0 else -self.of(ITEM, -old)
        if not isinstance(old, int) or isinstance(old, bool) or old not in self.ids.get(kind, {}):
            raise MoveRefused(f"文件中引用了不存在的{_KIND_NAMES.get(kind, kind)}（编号 {old!r}）。")
        return self.ids[kind][old]

    def actor(self, actor: str) -> str:
        """ "deputy:17" names a deputy by id; other actors name staff by user name."""
        found = _DEPUTY_ACTOR.match(actor)
        return f"deputy:{self.of(DEPUTY, int(found.group(1)))}" if found else actor

    def event_data(self, type_name: str, raw: str) -> str:
        fields = EVENT_ID_FIELDS.get(type_name)
        if fields is None:
            raise MoveRefused(f"文件中有无法识别的事件类型“{type_name}”。")
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise MoveRefused(f"文件中的事件数据已损坏（{type_name}）。") from exc
        if not isinstance(data, dict):
            raise MoveRefused(f"文件中的事件数据已损坏（{type_name}）。")
        for name, kind in fields.items():
            if name in data:
                data[name] = self.of(kind, data[name])
        return json.dumps(data, ensure_ascii=False)

    def audit_detail(self, raw: str) -> str:
        """Ids the audit trail reads, mapped; an id of a row not moved (a suspension, a
        card's phone) stays as it was, for the record."""
        try:
            detail = json.loads(raw or "{}")
        except ValueError as exc:
            raise MoveRefused("文件中的审计记录已损坏。") from exc
        if not isinstance(detail, dict):
            return raw
        for name, kind in AUDIT_DETAIL_IDS.items():
            value = detail.get(name)
            if isinstance(value, int) and value in self.ids.get(kind, {}):
                detail[name] = self.ids[kind][value]
        return json.dumps(detail, ensure_ascii=False)

    def history(self, raw: str) -> str:
        """A submission's history names deputies as actors ("who": "deputy:17")."""
        try:
            entries = json.loads(raw or "[]")
        except ValueError as exc:
            raise MoveRefused("文件中的问题征集记录已损坏。") from exc
        if isinstance(entries, list):
            for entry in entries:
                if isinstance(entry, dict) and isinstance(entry.get("who"), str):
                    entry["who"] = self.actor(entry["who"])
        return json.dumps(entries, ensure_ascii=False)

    def deputy_list(self, raw: str) -> str:
        """Co-proposers: deputy ids, comma-separated."""
        parts = [p.strip() for p in (raw or "").split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise MoveRefused("文件中的联名代表记录已损坏。")
        return ",".join(str(self.of(DEPUTY, int(p))) for p in parts)


_KIND_NAMES = {
    DEPUTY: "代表",
    ATTENDEE: "列席人员",
    ITEM: "议程",
    QUESTION: "问题",
    "official": "应询人",
    "group": "代表小组",
    "leave": "请假记录",
    "submission": "问题征集记录",
    "report": "督办进展报告",
}
