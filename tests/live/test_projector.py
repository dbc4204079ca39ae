"""The chair's announcement line and the projector's mode (live/projector.py)."""

from __future__ import annotations

from live.commands import SetBanner, SetProjectorMode
from live.events import BannerSet, ProjectorModeSet
from live.state import MeetingState, ProjectorMode
from tests.live.conftest import STAFF, deputy, refused_code, step


def test_a_banner_is_one_line_and_can_be_removed(state: MeetingState) -> None:
    assert step(state, SetBanner("  请各位代表\n将手机调至静音 ")) == [BannerSet("请各位代表 将手机调至静音")]
    assert state.banner == "请各位代表 将手机调至静音"
    assert step(state, SetBanner("请各位代表 将手机调至静音")) == [], "the same text again changes nothing"
    assert refused_code(state, SetBanner("长" * 61)) == "banner_too_long"
    assert step(state, SetBanner("长" * 60)) == [BannerSet("长" * 60)]
    assert step(state, SetBanner("")) == [BannerSet("")]
    assert state.banner == ""


def test_blank_freeze_and_back(state: MeetingState) -> None:
    assert step(state, SetProjectorMode(ProjectorMode.BLANK)) == [ProjectorModeSet(ProjectorMode.BLANK)]
    assert step(state, SetProjectorMode(ProjectorMode.BLANK)) == []
    step(state, SetProjectorMode(ProjectorMode.FROZEN))
    assert state.projector_mode is ProjectorMode.FROZEN
    step(state, SetProjectorMode(ProjectorMode.NORMAL))
    assert state.projector_mode is ProjectorMode.NORMAL


def test_only_the_chair_drives_the_projector(state: MeetingState) -> None:
    assert refused_code(state, SetBanner("x"), STAFF) == "not_allowed"
    assert refused_code(state, SetProjectorMode(ProjectorMode.BLANK), deputy(1)) == "not_allowed"
