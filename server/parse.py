"""Untrusted form input to typed commands, at the edge; anything else is refused.

Each chair or staff action is one row: the name the page sends, the command it makes,
and its fields with their types. :class:`BadInput` names the field that was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from live.commands import (
    AdjustTimer,
    AdvancePhase,
    AnnounceAttendance,
    AnnounceVote,
    CallQuestion,
    CastRating,
    CastVote,
    CheckIn,
    CheckInMethod,
    ClearAttendance,
    CloseCheckIn,
    CloseRating,
    CloseVote,
    Command,
    EndSpeech,
    GrantFloor,
    MarkLeave,
    MoveFloor,
    OpenCheckIn,
    OpenItemRating,
    OpenRating,
    OpenVote,
    PauseTimer,
    RecordCountedVote,
    RequestFloor,
    ResetTimer,
    SetBanner,
    SetProjectorMode,
    ShowOnProjector,
    StartAgendaItem,
    StartTimer,
    WithdrawFloor,
)
from live.state import (
    Choice,
    FloorKind,
    Focus,
    Phase,
    ProjectorMode,
    Threshold,
    VoteBase,
    VoteChoice,
    VoteMethod,
)

MAX_INT = 10**9
INTEGER = re.compile(r"-?[0-9]{1,10}")  # ASCII digits only: str.isdigit() admits "²"
E = TypeVar("E", Focus, Choice, VoteChoice, Threshold, VoteBase, VoteMethod, ProjectorMode, FloorKind)
MAX_VOTE_COUNT = 100_000  # more than any body has members: a typo, not a count


class BadInput(ValueError):
    def __init__(self, code: str, field: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.field = field


def _int(form: Mapping[str, str], name: str, *, required: bool = True) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        if required:
            raise BadInput("bad_field", name)
        return None
    if not INTEGER.fullmatch(raw):
        raise BadInput("bad_field", name)
    value = int(raw)
    if abs(value) > MAX_INT:
        raise BadInput("bad_field", name)
    return value


def _req(form: Mapping[str, str], name: str) -> int:
    value = _int(form, name)
    assert value is not None
    return value


def _enum(form: Mapping[str, str], name: str, kind: type[E]) -> E:
    try:
        return kind(form.get(name, ""))
    except ValueError:
        raise BadInput("bad_field", name) from None


def _flag(form: Mapping[str, str], name: str) -> bool:
    raw = form.get(name, "")
    if raw not in ("", "0", "1"):
        raise BadInput("bad_field", name)
    return raw == "1"


def _count(form: Mapping[str, str], name: str) -> int:
    value = _req(form, name)
    if not 0 <= value <= MAX_VOTE_COUNT:
        raise BadInput("bad_field", name)
    return value


def _open_vote(f: Mapping[str, str]) -> OpenVote:
    return OpenVote(
        title=f.get("title", ""),
        secret=_flag(f, "secret") if "secret" in f else True,
        threshold=_enum(f, "threshold", Threshold) if f.get("threshold") else Threshold.MAJORITY,
        base=_enum(f, "base", VoteBase) if f.get("base") else VoteBase.MEMBERS,
        live=_flag(f, "live"),
        revote_of=_int(f, "revote_of", required=False),
    )


def _counted_vote(f: Mapping[str, str]) -> RecordCountedVote:
    return RecordCountedVote(
        title=f.get("title", ""),
        method=_enum(f, "method", VoteMethod),
        for_votes=_count(f, "for"),
        against=_count(f, "against"),
        abstain=_count(f, "abstain"),
        threshold=_enum(f, "threshold", Threshold) if f.get("threshold") else Threshold.MAJORITY,
        base=_enum(f, "base", VoteBase) if f.get("base") else VoteBase.MEMBERS,
        revote_of=_int(f, "revote_of", required=False),
    )


ACTIONS: dict[str, Callable[[Mapping[str, str]], Command]] = {
    "open_checkin": lambda f: OpenCheckIn(),
    "close_checkin": lambda f: CloseCheckIn(),
    "announce_attendance": lambda f: AnnounceAttendance(),
    "check_in": lambda f: CheckIn(_req(f, "deputy_id"), CheckInMethod.STAFF),
    "mark_leave": lambda f: MarkLeave(_req(f, "deputy_id")),
    "clear_attendance": lambda f: ClearAttendance(_req(f, "deputy_id")),
    "start_agenda": lambda f: StartAgendaItem(_req(f, "item_id")),
    "call_question": lambda f: CallQuestion(_req(f, "question_id")),
    "to_answering": lambda f: AdvancePhase(Phase.ANSWERING),
    "followup_ask": lambda f: AdvancePhase(Phase.FOLLOWUP_ASK, _int(f, "speaker_id", required=False)),
    "followup_reply": lambda f: AdvancePhase(Phase.FOLLOWUP_REPLY),
    "open_rating": lambda f: OpenRating(),
    "open_item_rating": lambda f: OpenItemRating(),
    "close_rating": lambda f: CloseRating(),
    "timer_start": lambda f: StartTimer(),
    "timer_pause": lambda f: PauseTimer(),
    "timer_adjust": lambda f: AdjustTimer(_req(f, "seconds")),
    "timer_reset": lambda f: ResetTimer(),
    "show": lambda f: ShowOnProjector(_enum(f, "focus", Focus)),
    "floor_add": lambda f: RequestFloor(
        _req(f, "deputy_id"), _enum(f, "kind", FloorKind), f.get("subject", "")
    ),
    "floor_remove": lambda f: WithdrawFloor(_req(f, "deputy_id")),
    "floor_move": lambda f: MoveFloor(_req(f, "deputy_id"), _req(f, "place")),
    "floor_grant": lambda f: GrantFloor(_req(f, "deputy_id")),
    "speech_end": lambda f: EndSpeech(),
    "banner": lambda f: SetBanner(f.get("text", "")),
    "projector_mode": lambda f: SetProjectorMode(_enum(f, "mode", ProjectorMode)),
    "open_vote": _open_vote,
    "close_vote": lambda f: CloseVote(),
    "announce_vote": lambda f: AnnounceVote(),
    "record_vote": _counted_vote,
}


def parse_action(form: Mapping[str, str]) -> Command:
    factory = ACTIONS.get(form.get("cmd", ""))
    if factory is None:
        raise BadInput("unknown_command")
    return factory(form)


def _ballot_key(form: Mapping[str, str]) -> str:
    key = (form.get("ballot_key") or "").strip()
    if not key or len(key) > 64 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in key):
        raise BadInput("bad_field", "ballot_key")
    return key


def parse_rating(form: Mapping[str, str], deputy_id: int) -> CastRating:
    choice = _enum(form, "choice", Choice)
    return CastRating(deputy_id, _req(form, "question_id"), choice, _ballot_key(form))


def parse_vote(form: Mapping[str, str], deputy_id: int) -> CastVote:
    choice = _enum(form, "choice", VoteChoice)
    return CastVote(deputy_id, _req(form, "vote_id"), choice, _ballot_key(form))


def parse_floor(form: Mapping[str, str], deputy_id: int) -> RequestFloor | WithdrawFloor:
    """A deputy's own request for the floor, or its withdrawal, from the phone."""
    if form.get("action") == "withdraw":
        return WithdrawFloor(deputy_id)
    return RequestFloor(deputy_id, _enum(form, "kind", FloorKind), form.get("subject", ""))
