"""Check-in, leave and the attendance announcement (DOMAIN.md, "Attendance").

A deputy is present (实到), on leave (请假) or neither, which is absent (缺席). A deputy
checks in through the hall QR code only while check-in is open; staff can check a
deputy in by hand at any time, and that is recorded as such. Checking in twice is not
an error: the second time changes nothing and the receipt is the same. A check-in by QR
keeps the address block it came from, so the console can mark the few that came from
outside the block most of the hall uses (the QR code is visible on a televised session).

A suspended deputy (暂停执行代表职务) is not expected (应到) and may not check in, be put on
leave, rate, vote or ask for the floor. A deputy who left part-way (中途离会, live.hall)
and checks in again is back in the hall: that is a return, not a second check-in.
"""

from __future__ import annotations

from live.commands import (
    AnnounceAttendance,
    CheckIn,
    CheckInMethod,
    ClearAttendance,
    CloseCheckIn,
    MarkLeave,
    OpenCheckIn,
)
from live.events import (
    AttendanceAnnounced,
    AttendanceCleared,
    CheckInClosed,
    CheckInOpened,
    DeputyCheckedIn,
    DeputyOnLeave,
    DeputyReturned,
    Event,
    ProjectorFocused,
)
from live.refusals import Refused
from live.rules import has_quorum, quorum_needed
from live.state import Announcement, Focus, MeetingState, Presence

MAX_NETWORK = 64


def _known(state: MeetingState, deputy_id: int) -> None:
    if deputy_id not in state.setup.deputies:
        raise Refused("unknown_deputy")
    refuse_suspended(state, deputy_id)


def refuse_suspended(state: MeetingState, deputy_id: int) -> None:
    """A suspended deputy takes no part: no check-in, leave, rating, vote or floor."""
    if state.is_suspended(deputy_id):
        raise Refused("suspended")


def quorum_now(state: MeetingState) -> bool:
    return has_quorum(state.setup.settings.quorum_rule, state.expected, state.present_count)


def quorum_figures(state: MeetingState) -> dict[str, object]:
    """应到 / 实到 / 需 N 人, for a refusal that says why (screens.messages)."""
    rule = state.setup.settings.quorum_rule
    return {
        "expected": state.expected,
        "present": state.present_count,
        "needed": quorum_needed(rule, state.expected),
    }


def decide_open(state: MeetingState, _: OpenCheckIn) -> list[Event]:
    if state.checkin_open:
        raise Refused("checkin_already_open")
    return [CheckInOpened(), ProjectorFocused(Focus.CHECKIN)]


def decide_close(state: MeetingState, _: CloseCheckIn) -> list[Event]:
    if not state.checkin_open:
        raise Refused("checkin_not_open")
    return [CheckInClosed()]


def decide_check_in(state: MeetingState, cmd: CheckIn, now_ms: int) -> list[Event]:
    _known(state, cmd.deputy_id)
    if state.is_present(cmd.deputy_id):
        return []  # already checked in (a retry, even after closing): the same receipt
    if cmd.method is CheckInMethod.HALL_QR and not state.checkin_open:
        raise Refused("checkin_not_open")
    if state.attendance.get(cmd.deputy_id) is Presence.LEFT:
        return [DeputyReturned(cmd.deputy_id)]  # back after leaving part-way
    network = cmd.network[:MAX_NETWORK] if cmd.method is CheckInMethod.HALL_QR else ""
    return [DeputyCheckedIn(cmd.deputy_id, cmd.method, network, at_ms=now_ms)]


def decide_leave(state: MeetingState, cmd: MarkLeave) -> list[Event]:
    _known(state, cmd.deputy_id)
    current = state.attendance.get(cmd.deputy_id)
    if current in (Presence.PRESENT, Presence.LEFT):  # came, even if gone again
        raise Refused("already_present")
    if current is Presence.LEAVE:
        return []
    return [DeputyOnLeave(cmd.deputy_id)]


def decide_clear(state: MeetingState, cmd: ClearAttendance) -> list[Event]:
    _known(state, cmd.deputy_id)
    if cmd.deputy_id not in state.attendance:
        return []
    return [AttendanceCleared(cmd.deputy_id)]


def decide_announce(state: MeetingState, _: AnnounceAttendance) -> list[Event]:
    quorum = has_quorum(state.setup.settings.quorum_rule, state.expected, state.present_count)
    figures = AttendanceAnnounced(
        expected=state.expected,
        present=state.present_count,
        leave=state.leave_count,
        absent=state.absent_count,
        quorum=quorum,
        left=state.left_count,
    )
    return [figures, ProjectorFocused(Focus.ATTENDANCE)]


def set_presence(state: MeetingState, deputy_id: int, presence: Presence | None) -> MeetingState:
    """Move a deputy to ``presence`` (None: absent), keeping the counts in step."""
    old = state.attendance.get(deputy_id)
    if old is not None:
        _count(state, old, -1)
    if presence is None:
        state.attendance.pop(deputy_id, None)
    else:
        state.attendance[deputy_id] = presence
        _count(state, presence, 1)
    return state


def _count(state: MeetingState, presence: Presence, delta: int) -> None:
    if presence is Presence.PRESENT:
        state.present_count += delta
    elif presence is Presence.LEAVE:
        state.leave_count += delta
    else:
        state.left_count += delta


def apply_opened(state: MeetingState, _: CheckInOpened) -> MeetingState:
    state.checkin_open = True
    state.checkin_ended = False
    return state


def apply_closed(state: MeetingState, _: CheckInClosed) -> MeetingState:
    state.checkin_open = False
    state.checkin_ended = True
    return state


def apply_checked_in(state: MeetingState, e: DeputyCheckedIn) -> MeetingState:
    if e.network:
        state.checkin_networks[e.deputy_id] = e.network
    if e.at_ms:
        state.checked_in_ms[e.deputy_id] = e.at_ms
    return set_presence(state, e.deputy_id, Presence.PRESENT)


def apply_on_leave(state: MeetingState, e: DeputyOnLeave) -> MeetingState:
    return set_presence(state, e.deputy_id, Presence.LEAVE)


def apply_cleared(state: MeetingState, e: AttendanceCleared) -> MeetingState:
    state.checkin_networks.pop(e.deputy_id, None)
    state.checked_in_ms.pop(e.deputy_id, None)
    return set_presence(state, e.deputy_id, None)


def apply_announced(state: MeetingState, e: AttendanceAnnounced) -> MeetingState:
    state.announcement = Announcement(e.expected, e.present, e.leave, e.absent, e.quorum, e.left)
    return state
