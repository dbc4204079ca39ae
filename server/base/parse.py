"""Untrusted input to typed values and commands, at the edge; anything else is refused.

Every value a person can type or edit in a form, a query string or a path goes through
this module before it reaches the rules or a query: ids, integers with bounds, dates and
times, shares, texts with length limits. The value parsers at the top return ``None``
for anything they do not take, and the caller refuses it with its own Chinese message
(400) before anything is written. What they do not take, and why:

- digits other than ASCII 0-9: ``str.isdigit()`` admits "²" and "①", which ``int()``
  then refuses (a 500), and ``int()`` itself takes "٣" and "１", which no page sends;
- signs other than one leading "-", inner spaces, "_" separators, "0x", exponents;
- an id past nine digits (a path id is as long, ``server/web/app.py``): SQLite overflows past
  2**63 and PostgreSQL's integer past 2**31; and any integer past ten digits, so a
  number of 4,301 digits never meets Python's int-conversion limit;
- a time outside 2000-2099, or one that is not on the calendar (Feb 30, 24:00), which
  would otherwise overflow when it is turned into milliseconds or shown again;
- control characters in a text (NUL, ESC, DEL, C1): PostgreSQL refuses NUL in a text
  column (an error, not an answer), and nobody types the others.

Below them, each chair or staff action is one row: the name the page sends, the
command it makes, and its fields with their types. :class:`BadInput` names the field
that was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from fractions import Fraction
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
    CheckInAttendee,
    CheckInMethod,
    ClearAttendance,
    CloseCheckIn,
    CloseMeeting,
    CloseRating,
    CloseVote,
    Command,
    EndSpeech,
    GrantFloor,
    LeaveHall,
    MarkLeave,
    MoveFloor,
    OpenCheckIn,
    OpenItemRating,
    OpenRating,
    OpenVote,
    PauseTimer,
    RecordCountedVote,
    RecordPaperRating,
    RequestFloor,
    ResetTimer,
    ReturnToHall,
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
from server.base.days import CHINA  # the hall's clock: deadlines are typed and shown in it

MAX_INT = 10**9
INTEGER = re.compile(r"-?[0-9]{1,10}")  # ASCII digits only: str.isdigit() admits "²"
DIGITS = re.compile(r"[0-9]{1,9}")
ID_MAX = 999_999_999  # nine digits, like a path id: within every database's integer
MAX_IDS = 500  # ids in one list field (an order, co-proposers): more than any body has
E = TypeVar("E", Focus, Choice, VoteChoice, Threshold, VoteBase, VoteMethod, ProjectorMode, FloorKind)
MAX_VOTE_COUNT = 100_000  # more than any body has members: a typo, not a count
MOMENT = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[ T]([0-9]{1,2}):([0-9]{1,2})")
YEARS = range(2000, 2100)
SHARE = re.compile(
    r"(?:([0-9]{1,3})\s*/\s*([0-9]{1,3})|([0-9]{1,3}(?:\.[0-9]{1,4})?)\s*%|([0-9](?:\.[0-9]{1,6})?))"
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # a text may keep tabs and line breaks
HEX_WINDOW = re.compile(r"[0-9a-f]{1,12}")  # a hall code's window: 30 s steps, for a million years
PAIR_CODE = re.compile(r"[0-9]{6}")


class BadInput(ValueError):
    def __init__(self, code: str, field: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.field = field


# -- single values: the value, or None ------------------------------------------------------


def integer(raw: str | None, low: int, high: int) -> int | None:
    """An integer in ASCII digits (one leading "-" at most, spaces around) from low to high."""
    text = (raw or "").strip()
    if not INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def row_id(raw: str | None) -> int | None:
    """A row's id as a page sends it: 1 to 999,999,999, ASCII digits, no sign."""
    text = (raw or "").strip()
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= ID_MAX else None


def row_ids(raw: str | None) -> list[int] | None:
    """Ids separated by commas (ASCII or full-width), blanks skipped; None if one is not an id."""
    parts = [p.strip() for p in (raw or "").replace("，", ",").split(",")]
    parts = [p for p in parts if p]
    if len(parts) > MAX_IDS:
        return None
    ids = [row_id(p) for p in parts]
    return None if None in ids else [i for i in ids if i is not None]


def suffixed_ids(names: Iterable[str], prefix: str) -> list[int] | None:
    """The ids of checkboxes named ``<prefix><id>``, in order; None if one such id is bad.

    A name whose rest is not ASCII digits is another field (``co_cards`` beside ``co_7``)
    and is left alone; digits that are no id ("pick_0", "pick_" and 4,301 nines) refuse
    the whole form.
    """
    found: list[int] = []
    for name in names:
        rest = name[len(prefix) :] if name.startswith(prefix) else ""
        if rest and rest.isascii() and rest.isdigit():
            value = row_id(rest)
            if value is None or len(found) >= MAX_IDS:
                return None
            found.append(value)
    return found


def moment(raw: str | None) -> int | None:
    """ "2026-06-01 18:00" (or the browser's "2026-06-01T18:00"), China time, to epoch ms;
    None unless it is a real minute of the years 2000 to 2099."""
    found = MOMENT.fullmatch((raw or "").strip())
    if not found:
        return None
    year, month, day, hour, minute = (int(x) for x in found.groups())
    if year not in YEARS:
        return None
    try:
        when = datetime(year, month, day, hour, minute, tzinfo=CHINA)
    except ValueError:  # Feb 30, month 13, 24:00
        return None
    return int(when.astimezone(UTC).timestamp()) * 1000


def moment_text(ms: int | None) -> str:
    """The inverse of :func:`moment`; "" for none, or for a time no page could have sent."""
    if ms is None:
        return ""
    try:
        return datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d %H:%M")
    except (ValueError, OverflowError, OSError):
        return ""


def share(raw: str | None) -> Fraction | None:
    """ "1/2", "50%", "0.5" → Fraction(1, 2); None unless 0 < share <= 1."""
    found = SHARE.fullmatch((raw or "").strip())
    if not found:
        return None
    a, b, percent, decimal = found.groups()
    if a is not None:
        if int(b) == 0:
            return None
        value = Fraction(int(a), int(b))
    elif percent is not None:
        value = Fraction(percent) / 100
    else:
        value = Fraction(decimal)
    return value if 0 < value <= 1 else None


def text(raw: str | None, max_length: int, *, lines: bool = False) -> str | None:
    """The text without the spaces around it, at most ``max_length`` characters and no
    control characters (tabs and line breaks only where ``lines``); None otherwise."""
    value = (raw or "").strip()
    if len(value) > max_length or CONTROL.search(value):
        return None
    if not lines and ("\n" in value or "\r" in value):
        return None
    return value


def hex_window(raw: str) -> int | None:
    """The window of a hall code ("1b2e3f.<mac>"): lower-case hex, at most twelve digits."""
    return int(raw, 16) if HEX_WINDOW.fullmatch(raw) else None


def pair_code(raw: str | None) -> str | None:
    """The six digits a screen shows for pairing."""
    value = (raw or "").strip()
    return value if PAIR_CODE.fullmatch(value) else None


# -- the chair's and the phones' commands ---------------------------------------------------


def _int(form: Mapping[str, str], name: str, *, required: bool = True) -> int | None:
    raw = form.get(name) or ""
    if not raw.strip():
        if required:
            raise BadInput("bad_field", name)
        return None
    value = integer(raw, -MAX_INT, MAX_INT)
    if value is None:
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


def _text(form: Mapping[str, str], name: str) -> str:
    """A one-line text of a command; its length is a rule of the meeting (live/)."""
    raw = form.get(name, "")
    if text(raw, len(raw)) is None:
        raise BadInput("bad_field", name)
    return raw


def _count(form: Mapping[str, str], name: str) -> int:
    value = _req(form, name)
    if not 0 <= value <= MAX_VOTE_COUNT:
        raise BadInput("bad_field", name)
    return value


def _open_vote(f: Mapping[str, str]) -> OpenVote:
    return OpenVote(
        title=_text(f, "title"),
        secret=_flag(f, "secret") if "secret" in f else True,
        threshold=_enum(f, "threshold", Threshold) if f.get("threshold") else Threshold.MAJORITY,
        base=_enum(f, "base", VoteBase) if f.get("base") else VoteBase.MEMBERS,
        live=_flag(f, "live"),
        revote_of=_int(f, "revote_of", required=False),
    )


def _counted_vote(f: Mapping[str, str]) -> RecordCountedVote:
    return RecordCountedVote(
        title=_text(f, "title"),
        method=_enum(f, "method", VoteMethod),
        for_votes=_count(f, "for"),
        against=_count(f, "against"),
        abstain=_count(f, "abstain"),
        threshold=_enum(f, "threshold", Threshold) if f.get("threshold") else Threshold.MAJORITY,
        base=_enum(f, "base", VoteBase) if f.get("base") else VoteBase.MEMBERS,
        revote_of=_int(f, "revote_of", required=False),
    )


def _paper_rating(f: Mapping[str, str]) -> RecordPaperRating:
    keep = f.get("keep_electronic", "")
    if keep not in ("keep", "discard"):  # no default: the record must say what was chosen
        raise BadInput("bad_field", "keep_electronic")
    return RecordPaperRating(
        satisfied=_count(f, "satisfied"),
        basic=_count(f, "basic"),
        dissatisfied=_count(f, "dissatisfied"),
        scrutineers=_text(f, "scrutineers"),
        counters=_text(f, "counters"),
        keep_electronic=keep == "keep",
    )


ACTIONS: dict[str, Callable[[Mapping[str, str]], Command]] = {
    "open_checkin": lambda f: OpenCheckIn(),
    "close_checkin": lambda f: CloseCheckIn(),
    "announce_attendance": lambda f: AnnounceAttendance(),
    "check_in": lambda f: CheckIn(_req(f, "deputy_id"), CheckInMethod.STAFF),
    "mark_leave": lambda f: MarkLeave(_req(f, "deputy_id")),
    "clear_attendance": lambda f: ClearAttendance(_req(f, "deputy_id")),
    "leave_hall": lambda f: LeaveHall(_req(f, "deputy_id")),
    "return_to_hall": lambda f: ReturnToHall(_req(f, "deputy_id")),
    "attendee_check_in": lambda f: CheckInAttendee(_req(f, "attendee_id"), CheckInMethod.STAFF),
    "close_meeting": lambda f: CloseMeeting(),
    "start_agenda": lambda f: StartAgendaItem(_req(f, "item_id")),
    "call_question": lambda f: CallQuestion(_req(f, "question_id")),
    "to_answering": lambda f: AdvancePhase(Phase.ANSWERING),
    "followup_ask": lambda f: AdvancePhase(Phase.FOLLOWUP_ASK, _int(f, "speaker_id", required=False)),
    "followup_reply": lambda f: AdvancePhase(Phase.FOLLOWUP_REPLY),
    "open_rating": lambda f: OpenRating(_flag(f, "without_quorum")),
    "open_item_rating": lambda f: OpenItemRating(_flag(f, "without_quorum")),
    "close_rating": lambda f: CloseRating(),
    "paper_rating": _paper_rating,
    "timer_start": lambda f: StartTimer(),
    "timer_pause": lambda f: PauseTimer(),
    "timer_adjust": lambda f: AdjustTimer(_req(f, "seconds")),
    "timer_reset": lambda f: ResetTimer(),
    "show": lambda f: ShowOnProjector(_enum(f, "focus", Focus)),
    "floor_add": lambda f: RequestFloor(
        _req(f, "deputy_id"), _enum(f, "kind", FloorKind), _text(f, "subject")
    ),
    "floor_remove": lambda f: WithdrawFloor(_req(f, "deputy_id")),
    "floor_move": lambda f: MoveFloor(_req(f, "deputy_id"), _req(f, "place")),
    "floor_grant": lambda f: GrantFloor(_req(f, "deputy_id")),
    "speech_end": lambda f: EndSpeech(),
    "banner": lambda f: SetBanner(_text(f, "text")),
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
    return RequestFloor(deputy_id, _enum(form, "kind", FloorKind), _text(form, "subject"))
