"""Server-held timers (ARCHITECTURE.md, "Time").

A running timer is stored as its deadline in server milliseconds, a paused one as what is
left, so a restart changes nothing: the deadline is a fact in the event log. Screens
draw the countdown themselves from the deadline and their estimated clock offset.
The time left may go below zero: that is the overrun, counted up in red.
"""

from __future__ import annotations

from live.commands import AdjustTimer, PauseTimer, ResetTimer, StartTimer
from live.events import Event, TimerChanged
from live.refusals import Refused
from live.setup import TimerRole
from live.state import MeetingState, Timer

MAX_ADJUST_SECONDS = 3600  # a slip of the keyboard should not add a day


def fresh(state: MeetingState, role: TimerRole, now_ms: int, *, running: bool) -> TimerChanged:
    """A full timer for ``role``, started at ``now_ms`` when ``running``."""
    duration = state.setup.settings.timer_seconds[role] * 1000
    return TimerChanged(
        role=role,
        duration_ms=duration,
        running=running,
        deadline_ms=now_ms + duration if running else 0,
        remaining_ms=duration,
    )


def cleared() -> TimerChanged:
    """No timer: the question is done, nobody has the floor."""
    return TimerChanged(None, 0, False, 0, 0)


def stopped(timer: Timer, now_ms: int) -> TimerChanged:
    left = timer.left_ms(now_ms)
    return TimerChanged(timer.role, timer.duration_ms, False, 0, left)


def _require_timer(state: MeetingState) -> Timer:
    if state.timer.role is None:
        raise Refused("no_timer")
    return state.timer


def decide_start(state: MeetingState, _: StartTimer, now_ms: int) -> list[Event]:
    t = _require_timer(state)
    if t.running:
        raise Refused("timer_running")
    return [TimerChanged(t.role, t.duration_ms, True, now_ms + t.remaining_ms, t.remaining_ms)]


def decide_pause(state: MeetingState, _: PauseTimer, now_ms: int) -> list[Event]:
    t = _require_timer(state)
    if not t.running:
        raise Refused("timer_not_running")
    return [stopped(t, now_ms)]


def decide_adjust(state: MeetingState, cmd: AdjustTimer, now_ms: int) -> list[Event]:
    t = _require_timer(state)
    if cmd.seconds == 0 or abs(cmd.seconds) > MAX_ADJUST_SECONDS:
        raise Refused("bad_adjustment", limit=MAX_ADJUST_SECONDS)
    delta = cmd.seconds * 1000
    duration = max(0, t.duration_ms + delta)
    if t.running:
        return [TimerChanged(t.role, duration, True, t.deadline_ms + delta, t.remaining_ms)]
    return [TimerChanged(t.role, duration, False, 0, t.remaining_ms + delta)]


def decide_reset(state: MeetingState, _: ResetTimer, now_ms: int) -> list[Event]:
    t = _require_timer(state)
    assert t.role is not None
    return [fresh(state, t.role, now_ms, running=False)]


def apply_changed(state: MeetingState, e: TimerChanged) -> MeetingState:
    state.timer = Timer(e.role, e.duration_ms, e.running, e.deadline_ms, e.remaining_ms)
    return state
