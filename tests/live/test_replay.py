"""The event log: serialisation round trip and rebuilding a meeting by replay (live/events.py).

The log drops the secret choice of a rating (RatingCast.choice), so a replayed state
equals the live one except the counts of a rating that is still open; a closed rating's
counts come back from RatingClosed.
"""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from typing import Any

import pytest

from live.commands import (
    Actor,
    AdjustTimer,
    AdvancePhase,
    AnnounceAttendance,
    CallQuestion,
    CastRating,
    CheckIn,
    CheckInMethod,
    ClearAttendance,
    CloseCheckIn,
    CloseRating,
    Command,
    MarkLeave,
    OpenCheckIn,
    OpenRating,
    PauseTimer,
    ResetTimer,
    ShowOnProjector,
    StartAgendaItem,
    StartTimer,
)
from live.core import apply, apply_all, decide
from live.events import (
    EVENT_TYPES,
    AgendaItemStarted,
    AttendanceAnnounced,
    AttendanceCleared,
    AttendeeCheckedIn,
    BannerSet,
    CheckInClosed,
    CheckInOpened,
    DeputyCheckedIn,
    DeputyLeftHall,
    DeputyOnLeave,
    DeputyReturned,
    Event,
    FloorGranted,
    FloorMoved,
    FloorRequested,
    FloorWithdrawn,
    MeetingClosed,
    PhaseChanged,
    ProjectorFocused,
    ProjectorModeSet,
    QuestionCalled,
    RatingCast,
    RatingClosed,
    RatingOpened,
    SpeechEnded,
    SpeechStarted,
    SpokeFor,
    TimerChanged,
    VoteAnnounced,
    VoteCast,
    VoteClosed,
    VoteOpened,
    from_record,
    to_data,
    to_record,
)
from live.refusals import Refused
from live.setup import TimerRole
from live.state import (
    Choice,
    FloorKind,
    Focus,
    MeetingState,
    Phase,
    Presence,
    ProjectorMode,
    Threshold,
    VoteBase,
    VoteChoice,
    VoteMethod,
    initial_state,
)
from tests.live.conftest import CHAIR, ITEM_2, Q1, Q2, STAFF, deputy, make_setup, snapshot

S, B, D = Choice.SATISFIED, Choice.BASIC, Choice.DISSATISFIED
QR, BY_HAND = CheckInMethod.HALL_QR, CheckInMethod.STAFF

SAMPLES: list[Event] = [
    CheckInOpened(),
    CheckInClosed(),
    DeputyCheckedIn(3, QR),
    DeputyCheckedIn(4, BY_HAND),
    DeputyOnLeave(5),
    AttendanceCleared(6),
    AttendanceAnnounced(expected=48, present=32, leave=3, absent=13, quorum=True),
    AttendanceAnnounced(expected=48, present=31, leave=0, absent=17, quorum=False),
    AttendanceAnnounced(expected=48, present=30, leave=2, absent=14, quorum=False, left=2),
    DeputyLeftHall(3),
    DeputyReturned(3),
    AttendeeCheckedIn(201, BY_HAND),
    MeetingClosed(),
    AgendaItemStarted(12),
    QuestionCalled(101),
    PhaseChanged(Phase.FOLLOWUP_ASK, 4),
    PhaseChanged(Phase.DONE, None),
    TimerChanged(TimerRole.ANSWERING, 300_000, True, 1_700_000_300_000, 300_000),
    TimerChanged(TimerRole.RATING, 60_000, False, 0, -12_345),
    TimerChanged(None, 0, False, 0, 0),
    RatingOpened(101),
    RatingCast(101, 3, "ballot-3", None),
    RatingClosed(101, satisfied=3, basic=2, dissatisfied=1, base=48, grade=Choice.BASIC),
    RatingClosed(102, satisfied=0, basic=0, dissatisfied=0, base=0, grade=None),
    ProjectorFocused(Focus.RESULT),
    VoteOpened(1, "决议", 1, 1, 12, True, Threshold.TWO_THIRDS, VoteBase.PRESENT, True, VoteMethod.PHONES),
    VoteOpened(2, "决议", 2, 1, None, True, Threshold.MAJORITY, VoteBase.MEMBERS, False, VoteMethod.HANDS),
    VoteCast(1, 3, "v-3", True, None),
    VoteCast(1, 4, "v-4", False, VoteChoice.AGAINST),
    VoteClosed(1, for_votes=30, against=2, abstain=3, not_voted=1, base=48, passed=False),
    VoteAnnounced(1),
    BannerSet("请将手机调至静音"),
    BannerSet(""),
    ProjectorModeSet(ProjectorMode.FROZEN),
    FloorRequested(3, FloorKind.FOLLOWUP, "补充", 12),
    FloorRequested(4, FloorKind.SPEECH, "", None),
    FloorWithdrawn(3),
    FloorMoved(4, 2),
    FloorGranted(4),
    SpeechStarted(4, 12, 2),
    SpeechEnded(4, 61_234),
    SpokeFor(2, 95_000),
]


def through_json(event: Event) -> Event:
    name, data = to_record(event)
    name, data = json.loads(json.dumps([name, data], ensure_ascii=False))
    return from_record(name, data)


def assert_same_types(a: Event, b: Event) -> None:
    """Equality alone would let "asking" pass for TimerRole.ASKING: check the types too."""
    assert type(a) is type(b)
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert type(x) is type(y), f.name


def test_samples_cover_every_event_type() -> None:
    assert {type(e).__name__ for e in SAMPLES} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_round_trip(event: Event) -> None:
    back = through_json(event)
    assert back == event
    assert_same_types(back, event)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_record_is_plain_json(event: Event) -> None:
    name, data = to_record(event)
    assert name == type(event).__name__
    assert json.loads(json.dumps(data)) == data
    assert not any(isinstance(v, StrEnum) for v in data.values())


@pytest.mark.parametrize("choice", list(Choice))
def test_record_drops_the_secret_choice(choice: Choice) -> None:
    event = RatingCast(101, 3, "ballot-3", choice)
    name, data = to_record(event)
    assert data == {"question_id": 101, "deputy_id": 3, "ballot_key": "ballot-3", "choice": None}
    assert choice.value not in json.dumps(data)
    assert from_record(name, data) == RatingCast(101, 3, "ballot-3", None)
    assert event.choice is choice  # the event itself is untouched


@pytest.mark.parametrize("choice", list(VoteChoice))
def test_record_drops_a_secret_vote_and_keeps_a_named_one(choice: VoteChoice) -> None:
    name, data = to_record(VoteCast(1, 3, "v", True, choice))
    assert name == "VoteCast" and data["choice"] is None and choice.value not in json.dumps(data)
    name, data = to_record(VoteCast(1, 3, "v", False, choice))
    assert data["choice"] == choice.value  # a named vote is on the record by name
    back = from_record(name, json.loads(json.dumps(data)))
    assert isinstance(back, VoteCast) and back.choice is choice


def test_to_data_keeps_the_choice_when_asked() -> None:
    assert to_data(RatingCast(101, 3, "k", B))["choice"] == "basic"
    assert to_data(RatingCast(101, 3, "k", B), keep_secret=False)["choice"] is None


def test_unknown_event_type_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        from_record("DeputyTeleported", {})


# --- a whole session, replayed ---

Script = list[tuple[Command, Actor, int]]


def session_script() -> Script:
    """Check-in, leave, correction, announcement, two questions with follow-ups and timers,
    Q1 rated and closed, Q2's rating still open; includes refused and idempotent commands,
    late ones for Q1 among them."""
    d = deputy
    return [
        (StartAgendaItem(ITEM_2), CHAIR, 1_000),
        (OpenCheckIn(), STAFF, 2_000),
        (CheckIn(1, QR), d(1), 2_100),
        (CheckIn(2, QR), d(2), 2_200),
        (CheckIn(2, QR), d(2), 2_250),  # retry: nothing new
        (CheckIn(3, QR), d(3), 2_300),
        (CheckIn(6, QR), d(6), 2_350),
        (CheckIn(4, BY_HAND), STAFF, 2_400),
        (MarkLeave(5), STAFF, 2_500),
        (ClearAttendance(6), STAFF, 2_600),  # checked in by mistake
        (CheckIn(6, QR), d(6), 2_700),
        (CloseCheckIn(), STAFF, 3_000),
        (AnnounceAttendance(), CHAIR, 3_100),
        (CallQuestion(Q1), CHAIR, 10_000),
        (PauseTimer(), CHAIR, 20_000),
        (AdjustTimer(30), CHAIR, 21_000),
        (StartTimer(), CHAIR, 25_000),
        (AdvancePhase(Phase.ANSWERING), CHAIR, 200_000),
        (AdjustTimer(-15), CHAIR, 210_000),
        (AdvancePhase(Phase.FOLLOWUP_ASK, 3), CHAIR, 500_000),
        (AdvancePhase(Phase.FOLLOWUP_REPLY), CHAIR, 560_000),
        (ShowOnProjector(Focus.ATTENDANCE), CHAIR, 570_000),
        (AdvancePhase(Phase.FOLLOWUP_ASK), CHAIR, 600_000),
        (AdvancePhase(Phase.FOLLOWUP_REPLY), CHAIR, 650_000),
        (OpenRating(), CHAIR, 700_000),
        (CastRating(1, Q1, S, "q1-d1"), d(1), 701_000),
        (CastRating(2, Q1, S, "q1-d2"), d(2), 702_000),
        (CastRating(2, Q1, S, "q1-d2"), d(2), 702_500),  # retry
        (CastRating(2, Q1, D, "q1-other"), d(2), 702_600),  # refused: already rated
        (CastRating(5, Q1, D, "q1-d5"), d(5), 702_700),  # refused: on leave
        (CastRating(3, Q1, B, "q1-d3"), d(3), 703_000),
        (CastRating(6, Q1, D, "q1-d6"), d(6), 704_000),
        (CallQuestion(Q2), CHAIR, 705_000),  # refused: rating in progress
        (CloseRating(), CHAIR, 790_000),
        (CallQuestion(Q1), CHAIR, 800_000),  # refused: already rated
        (CallQuestion(Q2), CHAIR, 810_000),
        (AdvancePhase(Phase.ANSWERING), CHAIR, 900_000),
        (PauseTimer(), CHAIR, 950_000),
        (ResetTimer(), CHAIR, 960_000),
        (StartTimer(), CHAIR, 970_000),
        (OpenRating(), CHAIR, 1_200_000),
        (CastRating(4, Q2, D, "q2-d4"), d(4), 1_201_000),
        (CastRating(2, Q1, S, "q1-d2"), d(2), 1_201_500),  # late retry of a Q1 ballot: same receipt
        (CastRating(4, Q1, S, "q1-d4"), d(4), 1_201_600),  # refused: Q1's rating is closed
        (CastRating(1, Q2, B, "q2-d1"), d(1), 1_202_000),
    ]


def replay(events: list[tuple[str, dict[str, Any]]]) -> MeetingState:
    state = initial_state(make_setup())
    for name, data in events:
        state = apply(state, from_record(name, data))
    return state


def run(script: Script) -> tuple[MeetingState, list[tuple[str, dict[str, Any]]], list[str]]:
    """Run the script live; return the state, the stored log and the refusal codes."""
    state = initial_state(make_setup())
    log: list[tuple[str, dict[str, Any]]] = []
    refusals: list[str] = []
    for cmd, actor, now in script:
        try:
            events = decide(state, cmd, actor, now)
        except Refused as err:
            refusals.append(err.code)
            continue
        log += [json.loads(json.dumps(to_record(e))) for e in events]
        apply_all(state, events)
    return state, log, refusals


def without_open_counts(state: MeetingState) -> MeetingState:
    """A copy where the counts of still-open ratings are blanked, as the log leaves them."""
    copy = snapshot(state)
    for r in copy.ratings.values():
        if r.open:
            r.counts = {c: 0 for c in Choice}
    return copy


def test_the_session_does_what_it_says() -> None:
    live, _, refusals = run(session_script())
    assert refusals == [
        "already_rated",
        "not_checked_in",
        "rating_in_progress",
        "question_already_rated",
        "rating_not_open",
    ]
    assert live.announcement is not None
    assert (live.announcement.present, live.announcement.leave, live.announcement.absent) == (5, 1, 0)
    r1, r2 = live.ratings[Q1], live.ratings[Q2]
    assert r1.result is not None
    assert r1.result.counts == ((S, 2), (B, 1), (D, 1))
    assert r1.result.grade is B  # 2 of 6 satisfied < half; 3 of 6 satisfied or basic
    assert r1.voters == {1: "q1-d1", 2: "q1-d2", 3: "q1-d3", 6: "q1-d6"}  # the late ballots added nobody
    assert r2.open
    assert r2.counts == {S: 0, B: 1, D: 1}
    assert (live.question_id, live.phase) == (Q2, Phase.RATING)


def test_replay_rebuilds_the_session_except_open_counts() -> None:
    live, log, _ = run(session_script())
    replayed = replay(log)
    # what the log cannot hold: the secret choices of the rating still open
    assert replayed.ratings[Q2].voters == live.ratings[Q2].voters == {4: "q2-d4", 1: "q2-d1"}
    assert replayed.ratings[Q2].counts == {S: 0, B: 0, D: 0}
    assert live.ratings[Q2].counts != replayed.ratings[Q2].counts
    # closed results come back whole, because RatingClosed carries them
    assert replayed.ratings[Q1] == live.ratings[Q1]
    assert replayed.ratings[Q1].counts == {S: 2, B: 1, D: 1}
    # and everything else is identical, down to the enum types (a str would compare equal)
    assert replayed == without_open_counts(live)
    assert type(replayed.phase) is Phase
    assert type(replayed.focus) is Focus
    assert type(replayed.timer.role) is TimerRole
    assert {type(p) for p in replayed.attendance.values()} == {Presence}


def test_replay_after_every_command() -> None:
    """verify_action: after each command, replaying the log so far gives the live state."""
    live = initial_state(make_setup())
    shadow = initial_state(make_setup())
    for cmd, actor, now in session_script():
        try:
            events = decide(live, cmd, actor, now)
        except Refused:
            events = []
        apply_all(live, events)
        for e in events:
            name, data = json.loads(json.dumps(to_record(e)))
            shadow = apply(shadow, from_record(name, data))
        assert shadow == without_open_counts(live)
        for q, r in live.ratings.items():
            assert shadow.ratings[q].voters == r.voters
            if not r.open:
                assert shadow.ratings[q].counts == r.counts
                assert shadow.ratings[q].result == r.result


def test_replay_of_a_closed_session_is_exact() -> None:
    script = [
        c for c in session_script() if not (isinstance(c[0], CastRating) and c[0].ballot_key[:2] == "q2")
    ]
    script.append((CloseRating(), CHAIR, 1_300_000))
    live, log, _ = run(script)
    assert all(not r.open for r in live.ratings.values())
    assert replay(log) == live


def test_log_holds_no_choice() -> None:
    _, log, _ = run(session_script())
    casts = [data for name, data in log if name == "RatingCast"]
    assert len(casts) == 6
    assert all(data["choice"] is None for data in casts)


def test_replaying_the_same_log_twice_gives_equal_states() -> None:
    _, log, _ = run(session_script())
    assert replay(log) == replay(log)
