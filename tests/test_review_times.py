"""Times the office reads are China time, whatever the server's clock zone (issue 16, review).

A walk through a fresh install showed the roster page's 操作记录 at 07:38 for a change made
at 15:38 in China: the server ran in UTC, and the audit lines used the machine's zone.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator

import pytest

from server.office.audit_trail import Row
from server.storage.audit import Entry

# 2026-12-07 07:38:01 UTC is 15:38:01 in China.
AT_MS = int(dt.datetime(2026, 12, 7, 7, 38, 1, tzinfo=dt.UTC).timestamp() * 1000)


@pytest.fixture
def utc_server() -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_the_roster_pages_audit_lines_are_china_time(utc_server: None) -> None:
    entry = Entry(at_ms=AT_MS, actor="staff:admin", device="", action="roster_imported", detail={})
    assert entry.when == "2026-12-07 15:38:01"


def test_the_meetings_audit_trail_is_china_time(utc_server: None) -> None:
    row = Row(seq=1, at_ms=AT_MS, kind="x", name="x", actor="x", device="", summary="")
    assert row.when == "2026-12-07 15:38:01"
