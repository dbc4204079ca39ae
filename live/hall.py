"""The hall as it really is: leaving part-way, non-voting attendees, the end of the meeting.

Theory of operation. Staff record that a deputy who checked in left the hall part-way
(中途离会) and, later, that they came back; a deputy who left is counted neither present
(实到) nor absent, so the quorum and every base taken from those present (a vote or a
rating measured against 实到, 未按) count the deputies in the hall now. A departure is not
recorded while a vote or a rating is open: the round's base is the hall it was opened to,
and its 未按 counts whoever was there and did not vote; staff record the departure once
the round closes. A deputy who leaves gives up their place in the speaker queue.

列席人员, 旁听 citizens and the officials who answer (应询人) check in by staff; they are
listed in the meeting's setup, never count toward 应到, 实到 or the quorum and, having no
deputy id, can neither rate nor vote.

Closing the meeting (会议结束) is refused while a ballot box or a speech is open; after it,
every command is refused (live.core) and the screens say the meeting has ended.
"""

from __future__ import annotations

from live.attendance import refuse_suspended, set_presence
from live.commands import CheckInAttendee, CloseMeeting, LeaveHall, ReturnToHall
from live.events import (
    AttendeeCheckedIn,
    CheckInClosed,
    DeputyLeftHall,
    DeputyReturned,
    Event,
    FloorWithdrawn,
    MeetingClosed,
)
from live.refusals import Refused
from live.state import MeetingState, Presence
from live.timers import cleared


def _deputy(state: MeetingState, deputy_id: int) -> Presence | None:
    if deputy_id not in state.setup.deputies:
        raise Refused("unknown_deputy")
    refuse_suspended(state, deputy_id)
    return state.attendance.get(deputy_id)


def decide_leave(state: MeetingState, cmd: LeaveHall) -> list[Event]:
    presence = _deputy(state, cmd.deputy_id)
    if presence is Presence.LEFT:
        return []  # recorded already (a second click)
    if presence is not Presence.PRESENT:
        raise Refused("not_in_hall")
    if state.vote_open() or state.rating_open():
        raise Refused("leave_during_ballot")
    if state.speaking_id == cmd.deputy_id:
        raise Refused("speech_in_progress")
    events: list[Event] = [DeputyLeftHall(cmd.deputy_id)]
    if state.queue_place(cmd.deputy_id) is not None:
        events.append(FloorWithdrawn(cmd.deputy_id))
    return events


def decide_return(state: MeetingState, cmd: ReturnToHall) -> list[Event]:
    presence = _deputy(state, cmd.deputy_id)
    if presence is Presence.PRESENT:
        return []  # back already (a second click, or checked in again)
    if presence is not Presence.LEFT:
        raise Refused("not_left")
    return [DeputyReturned(cmd.deputy_id)]


def decide_attendee(state: MeetingState, cmd: CheckInAttendee) -> list[Event]:
    if cmd.attendee_id not in state.setup.attendees:
        raise Refused("unknown_attendee")
    if cmd.attendee_id in state.attendees_in:
        return []
    return [AttendeeCheckedIn(cmd.attendee_id, cmd.method)]


def decide_close(state: MeetingState, _: CloseMeeting) -> list[Event]:
    if state.vote_open() or state.rating_open():
        raise Refused("ballot_in_progress")
    if state.speaking_id is not None:
        raise Refused("speech_in_progress")
    events: list[Event] = []
    if state.checkin_open:
        events.append(CheckInClosed())
    if state.timer.role is not None:
        events.append(cleared())
    events.append(MeetingClosed())
    return events


def apply_left(state: MeetingState, e: DeputyLeftHall) -> MeetingState:
    return set_presence(state, e.deputy_id, Presence.LEFT)


def apply_returned(state: MeetingState, e: DeputyReturned) -> MeetingState:
    return set_presence(state, e.deputy_id, Presence.PRESENT)


def apply_attendee(state: MeetingState, e: AttendeeCheckedIn) -> MeetingState:
    state.attendees_in.add(e.attendee_id)
    return state


def apply_closed(state: MeetingState, _: MeetingClosed) -> MeetingState:
    state.closed = True
    return state
