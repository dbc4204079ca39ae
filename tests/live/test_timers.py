"""Server-held timers (live/timers.py): a deadline when running, the time left when not."""

from __future__ import annotations

import pytest

from live.commands import AdjustTimer, AdvancePhase, CallQuestion, Command, PauseTimer, ResetTimer, StartTimer
from live.events import TimerChanged
from live.setup import TimerRole
from live.state import MeetingState, Phase, Timer
from live.timers import MAX_ADJUST_SECONDS
from tests.live.conftest import Q1, fresh_state, refuse, refused_code, step

T0 = 1_000_000  # the server clock is arbitrary; never assume it starts at zero
ASK = 180_000


@pytest.fixture
def asking(state: MeetingState) -> MeetingState:
    """Q1 called at T0: the 3-minute asking timer runs."""
    step(state, CallQuestion(Q1), now=T0)
    return state


def test_called_question_starts_its_timer(asking: MeetingState) -> None:
    assert asking.timer == Timer(TimerRole.ASKING, ASK, True, T0 + ASK, ASK)
    assert asking.timer.left_ms(T0) == ASK
    assert asking.timer.left_ms(T0 + 1) == ASK - 1
    assert asking.timer.left_ms(T0 + ASK) == 0


# --- no timer yet ---


@pytest.mark.parametrize("cmd", [StartTimer(), PauseTimer(), AdjustTimer(10), ResetTimer()])
def test_no_timer_refused(state: MeetingState, cmd: Command) -> None:
    assert state.timer.role is None
    assert refused_code(state, cmd, now=T0) == "no_timer"


def test_no_timer_is_checked_before_the_adjustment(state: MeetingState) -> None:
    assert refused_code(state, AdjustTimer(0), now=T0) == "no_timer"


# --- pause and resume ---


def test_pause_keeps_what_is_left(asking: MeetingState) -> None:
    events = step(asking, PauseTimer(), now=T0 + 45_250)
    assert events == [TimerChanged(TimerRole.ASKING, ASK, False, 0, ASK - 45_250)]
    assert not asking.timer.running
    assert asking.timer.left_ms(T0 + 45_250) == ASK - 45_250
    assert asking.timer.left_ms(T0 + 10**9) == ASK - 45_250  # a paused timer does not run down


def test_resume_sets_a_new_deadline(asking: MeetingState) -> None:
    step(asking, PauseTimer(), now=T0 + 45_250)
    events = step(asking, StartTimer(), now=T0 + 100_000)
    left = ASK - 45_250
    assert events == [TimerChanged(TimerRole.ASKING, ASK, True, T0 + 100_000 + left, left)]
    assert asking.timer.left_ms(T0 + 100_000) == left
    assert asking.timer.left_ms(T0 + 100_000 + left) == 0


def test_many_pauses_add_up_exactly(asking: MeetingState) -> None:
    now, ran = T0, 0
    for run, wait in [(1_001, 5_000), (33, 17), (20_000, 1), (7, 60_000)]:
        now += run
        ran += run
        step(asking, PauseTimer(), now=now)
        assert asking.timer.left_ms(now) == ASK - ran
        now += wait
        step(asking, StartTimer(), now=now)
        assert asking.timer.left_ms(now) == ASK - ran
    assert asking.timer.deadline_ms == now + ASK - ran


def test_start_while_running_refused(asking: MeetingState) -> None:
    assert refused_code(asking, StartTimer(), now=T0 + 5) == "timer_running"


def test_pause_while_paused_refused(asking: MeetingState) -> None:
    step(asking, PauseTimer(), now=T0 + 5)
    assert refused_code(asking, PauseTimer(), now=T0 + 6) == "timer_not_running"


# --- overrun ---


def test_overrun_is_negative(asking: MeetingState) -> None:
    assert asking.timer.left_ms(T0 + ASK + 12_345) == -12_345


def test_pause_during_overrun_keeps_the_overrun(asking: MeetingState) -> None:
    step(asking, PauseTimer(), now=T0 + ASK + 5_000)
    assert asking.timer.remaining_ms == -5_000
    step(asking, StartTimer(), now=T0 + 900_000)
    assert asking.timer.deadline_ms == T0 + 900_000 - 5_000
    assert asking.timer.left_ms(T0 + 901_000) == -6_000


# --- adjust ---


def test_adjust_running_moves_the_deadline(asking: MeetingState) -> None:
    events = step(asking, AdjustTimer(30), now=T0 + 10_000)
    assert events == [TimerChanged(TimerRole.ASKING, ASK + 30_000, True, T0 + ASK + 30_000, ASK)]
    assert asking.timer.left_ms(T0 + 10_000) == ASK - 10_000 + 30_000
    step(asking, PauseTimer(), now=T0 + 20_000)
    assert asking.timer.remaining_ms == ASK + 30_000 - 20_000


def test_adjust_running_takes_time_away(asking: MeetingState) -> None:
    step(asking, AdjustTimer(-60), now=T0 + 10_000)
    assert asking.timer.running
    assert asking.timer.deadline_ms == T0 + ASK - 60_000
    assert asking.timer.duration_ms == ASK - 60_000


def test_adjust_running_past_zero_is_an_overrun(asking: MeetingState) -> None:
    step(asking, AdjustTimer(-200), now=T0 + 10_000)
    assert asking.timer.left_ms(T0 + 10_000) == ASK - 200_000 - 10_000
    assert asking.timer.duration_ms == 0  # never below zero


def test_adjust_paused_changes_what_is_left(asking: MeetingState) -> None:
    step(asking, PauseTimer(), now=T0 + 30_000)
    events = step(asking, AdjustTimer(-20), now=T0 + 99_999)
    assert events == [TimerChanged(TimerRole.ASKING, ASK - 20_000, False, 0, ASK - 30_000 - 20_000)]
    assert asking.timer.left_ms(T0 + 10**7) == ASK - 50_000
    step(asking, StartTimer(), now=T0 + 200_000)
    assert asking.timer.deadline_ms == T0 + 200_000 + ASK - 50_000


@pytest.mark.parametrize("seconds", [1, -1, MAX_ADJUST_SECONDS, -MAX_ADJUST_SECONDS])
def test_adjust_bounds_accepted(asking: MeetingState, seconds: int) -> None:
    step(asking, AdjustTimer(seconds), now=T0)
    assert asking.timer.left_ms(T0) == ASK + seconds * 1000


@pytest.mark.parametrize("seconds", [0, MAX_ADJUST_SECONDS + 1, -MAX_ADJUST_SECONDS - 1, 86_400])
def test_adjust_out_of_bounds_refused(asking: MeetingState, seconds: int) -> None:
    err = refuse(asking, AdjustTimer(seconds), now=T0)
    assert err.code == "bad_adjustment"
    assert err.params == {"limit": MAX_ADJUST_SECONDS}


def test_max_adjust_is_an_hour() -> None:
    assert MAX_ADJUST_SECONDS == 3600


# --- reset ---


def test_reset_running_goes_back_to_full_stopped(asking: MeetingState) -> None:
    step(asking, AdjustTimer(100), now=T0 + 1)
    events = step(asking, ResetTimer(), now=T0 + 50_000)
    assert events == [TimerChanged(TimerRole.ASKING, ASK, False, 0, ASK)]
    assert asking.timer.left_ms(T0 + 10**8) == ASK


def test_reset_paused_overrun(asking: MeetingState) -> None:
    step(asking, PauseTimer(), now=T0 + ASK + 1_000)
    step(asking, ResetTimer(), now=T0 + ASK + 2_000)
    assert asking.timer == Timer(TimerRole.ASKING, ASK, False, 0, ASK)


def test_reset_then_start(asking: MeetingState) -> None:
    step(asking, ResetTimer(), now=T0 + 5)
    step(asking, StartTimer(), now=T0 + 7_000)
    assert asking.timer.deadline_ms == T0 + 7_000 + ASK


def test_reset_uses_the_current_phases_time(asking: MeetingState) -> None:
    step(asking, AdvancePhase(Phase.ANSWERING), now=T0 + 100)
    step(asking, ResetTimer(), now=T0 + 200)
    assert asking.timer == Timer(TimerRole.ANSWERING, 300_000, False, 0, 300_000)


def test_reset_uses_the_meetings_setting() -> None:
    s = fresh_state(timer_seconds={r: 42 for r in TimerRole})
    step(s, CallQuestion(Q1), now=T0)
    step(s, AdjustTimer(-10), now=T0)
    step(s, ResetTimer(), now=T0 + 1)
    assert s.timer == Timer(TimerRole.ASKING, 42_000, False, 0, 42_000)


def test_phase_change_replaces_a_paused_timer(asking: MeetingState) -> None:
    step(asking, PauseTimer(), now=T0 + 10)
    step(asking, AdvancePhase(Phase.ANSWERING), now=T0 + 20)
    assert asking.timer == Timer(TimerRole.ANSWERING, 300_000, True, T0 + 20 + 300_000, 300_000)
