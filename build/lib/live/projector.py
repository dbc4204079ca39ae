"""What the chair does to the projector itself, beyond choosing its view (live.questions).

A one-line announcement across the bottom of the screen (e.g. "请各位代表将手机调至静音"),
and the projector's mode: blank (a black screen, for a break or a video) or frozen (it
keeps showing what it shows while the session goes on, e.g. a result being discussed).
Both are facts in the log like everything else, so every projector, and a projector
that reloads, agrees.
"""

from __future__ import annotations

from live.commands import SetBanner, SetProjectorMode
from live.events import BannerSet, Event, ProjectorModeSet
from live.refusals import Refused
from live.state import MeetingState

MAX_BANNER = 60  # one line across a 1920-pixel screen at a size read from 20 m


def decide_banner(state: MeetingState, cmd: SetBanner) -> list[Event]:
    text = " ".join(cmd.text.split())  # one line: no line breaks, no runs of spaces
    if len(text) > MAX_BANNER:
        raise Refused("banner_too_long")
    return [] if text == state.banner else [BannerSet(text)]


def decide_mode(state: MeetingState, cmd: SetProjectorMode) -> list[Event]:
    return [] if cmd.mode is state.projector_mode else [ProjectorModeSet(cmd.mode)]


def apply_banner(state: MeetingState, e: BannerSet) -> MeetingState:
    state.banner = e.text
    return state


def apply_mode(state: MeetingState, e: ProjectorModeSet) -> MeetingState:
    state.projector_mode = e.mode
    return state
