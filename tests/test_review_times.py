"""What a walk through a fresh install found on the office's pages (issue 16, review).

Times the office reads are China time, whatever the server's clock zone: the roster page's
操作记录 said 07:38 for a change made at 15:38 in China, the server running in UTC and the
audit lines using the machine's zone. And a fresh meeting's console showed an empty 问题列表
without a word of where the list is made.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from live.state import initial_state
from screens import render
from screens.view import View
from server.office.audit_trail import Row
from server.storage.audit import Entry
from tests.test_screens import _setup

# 2026-12-07 07:38:01 UTC is 15:38:01 in China.
AT_MS = int(dt.datetime(2026, 12, 7, 7, 38, 1, tzinfo=dt.UTC).timestamp() * 1000)


def test_the_roster_pages_audit_lines_are_china_time(utc_machine: None) -> None:
    entry = Entry(at_ms=AT_MS, actor="staff:admin", device="", action="roster_imported", detail={})
    assert entry.when == "2026-12-07 15:38:01"


def test_the_meetings_audit_trail_is_china_time(utc_machine: None) -> None:
    row = Row(seq=1, at_ms=AT_MS, kind="x", name="x", actor="x", device="", summary="")
    assert row.when == "2026-12-07 15:38:01"


def test_the_consoles_empty_question_list_says_where_it_is_made() -> None:
    """A fresh meeting's console showed a bare 问题列表 heading with nothing under it."""
    state = initial_state(dataclasses.replace(_setup(), questions=()))
    html = render.fragment("c-questions", View(state), oob=False)
    assert "尚无问题清单" in html and 'href="/m/1/review"' in html
    listed = render.fragment("c-questions", View(initial_state(_setup())), oob=False)
    assert "尚无问题清单" not in listed
