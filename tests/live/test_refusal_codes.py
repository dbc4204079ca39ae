"""Every refusal code the core can give is known here and exercised by a test.

The codes are read from live/*.py with ``ast`` (every ``Refused("...")``), so a new code
added to the core without a test makes this fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

from live.refusals import Refused

HERE = Path(__file__).resolve().parent
LIVE = HERE.parents[1] / "live"

EXPECTED: dict[str, set[str]] = {
    "attendance": {
        "unknown_deputy",
        "checkin_already_open",
        "checkin_not_open",
        "already_present",
        "suspended",
    },
    "core": {"not_allowed", "meeting_closed"},
    "hall": {
        "unknown_deputy",
        "not_in_hall",
        "leave_during_ballot",
        "speech_in_progress",
        "not_left",
        "unknown_attendee",
        "ballot_in_progress",
    },
    "questions": {
        "unknown_agenda_item",
        "rating_in_progress",
        "unknown_question",
        "question_already_rated",
        "no_question",
        "bad_phase_move",
        "unknown_deputy",
        "speaker_only_for_followup",
        "speaker_not_present",
        "no_result_yet",
        "no_announcement",
        "vote_in_progress",
        "no_vote",
        "speech_in_progress",
        "no_speech",
    },
    "ratings": {
        "no_question",
        "rating_in_progress",
        "rating_not_yet",
        "rating_not_open",
        "already_rated",
        "not_checked_in",
        "vote_in_progress",
        "no_agenda_item",
        "question_in_progress",
        "item_already_rated",
        "rating_no_quorum",
        "bad_rating_counts",
        "rating_counts_exceed_present",
        "paper_tellers_needed",
    },
    "ballots": {"bad_ballot_key", "unknown_deputy"},  # every rating and vote checks these first
    "timers": {"no_timer", "timer_running", "timer_not_running", "bad_adjustment"},
    "projector": {"banner_too_long"},
    "speakers": {
        "unknown_deputy",
        "not_checked_in_floor",
        "floor_before_agenda",
        "no_question_for_followup",
        "speech_during_question",
        "subject_too_long",
        "already_queued",
        "floor_request_cap",
        "not_queued",
        "bad_queue_place",
        "speech_in_progress",
        "ballot_in_progress",
        "question_in_progress",
        "no_speech",
    },
    "votes": {
        "vote_in_progress",
        "rating_in_progress",
        "bad_vote_title",
        "unknown_vote",
        "already_voted",
        "vote_not_open",
        "not_checked_in_vote",
        "no_vote",
        "vote_not_closed",
        "bad_vote_method",
        "bad_vote_counts",
        "vote_counts_exceed_present",
        "vote_no_quorum",
    },
}

TEST_FILE_FOR = {
    "attendance": "test_attendance.py",
    "core": "test_hall.py",  # not_allowed is also asserted there
    "hall": "test_hall.py",
    "questions": "test_questions.py",
    "ratings": "test_ratings.py",
    "ballots": "test_ratings.py",  # the checks every ballot makes first, tested on ratings
    "timers": "test_timers.py",
    "votes": "test_votes.py",
    "projector": "test_projector.py",
    "speakers": "test_speakers.py",
}


def codes_in(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Refused"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            value = node.args[0].value
            assert isinstance(value, str)
            found.add(value)
    return found


def test_every_refusal_in_live_is_a_literal_code() -> None:
    for path in LIVE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Refused":
                assert node.args, path.name
                assert isinstance(node.args[0], ast.Constant), path.name
                assert isinstance(node.args[0].value, str), path.name


def test_the_core_gives_exactly_the_known_codes() -> None:
    actual = {p.stem: codes_in(p) for p in LIVE.glob("*.py") if codes_in(p)}
    assert actual == EXPECTED


def test_each_code_is_asserted_in_its_modules_test_file() -> None:
    for module, codes in EXPECTED.items():
        text = (HERE / TEST_FILE_FOR[module]).read_text(encoding="utf-8")
        for code in codes:
            assert f'"{code}"' in text, f"{code} of live/{module}.py is not tested"


def test_refused_carries_code_and_params() -> None:
    err = Refused("bad_adjustment", limit=3600)
    assert err.code == "bad_adjustment"
    assert err.params == {"limit": 3600}
    assert str(err) == "bad_adjustment"
    assert repr(err) == "Refused('bad_adjustment', {'limit': 3600})"
