"""Every time a user reads is China time (UTC+8), whatever zone the server's machine is in.

Issue 16: a 14:38 check-in read 06:39:13 in the audit trail of a server whose TZ was UTC.
These tests set TZ=UTC in the process (``time.tzset``) and read the hours the pages and
exports show; a scan of the sources keeps the machine's zone out of every formatter.
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from server.base import days
from server.office.attendance_history import Mark
from server.office.audit_trail import Row
from server.storage import audit
from server.storage import models as m
from server.web.routes.cards import _clock
from tests.conftest import Db, Hall

ROOT = Path(__file__).resolve().parent.parent
# 2026-07-15 06:38:13 UTC is 14:38:13 in Beijing.
AT_MS = 1784097493_000
CHINA_SECOND = "2026-07-15 14:38:13"


def test_every_formatter_reads_china_time(utc_machine: None) -> None:
    assert days.second_of_ms(AT_MS) == CHINA_SECOND
    assert days.moment_of_ms(AT_MS) == "2026-07-15 14:38"
    assert days.short_moment_of_ms(AT_MS) == "07-15 14:38"
    assert days.clock_of_ms(AT_MS) == "14:38"
    # The audit trail page and its CSV/XLSX, the roster page's recent changes, the cards
    # page's failed-code time, the attendance record.
    row = Row(seq=1, at_ms=AT_MS, kind="DeputyCheckedIn", name="代表签到", actor="", device="", summary="")
    assert row.when == CHINA_SECOND and row.cells()[1] == CHINA_SECOND
    entry = audit.Entry(at_ms=AT_MS, actor="staff:wang", device="", action="member_added", detail={})
    assert entry.when == CHINA_SECOND
    assert _clock(AT_MS) == "07-15 14:38"
    mark = Mark(status="present", checked_in_ms=AT_MS, left_ms=AT_MS, returned_ms=AT_MS, corrected_ms=AT_MS)
    assert (mark.checked_in_at, mark.left_at, mark.returned_at) == ("14:38", "14:38", "14:38")
    assert mark.corrected_at == "2026-07-15 14:38"


def _china_second(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000 + 8 * 3600))


def test_the_audit_trail_and_its_exports_show_china_time(utc_machine: None, hall: Hall, db: Db) -> None:
    hall.act_ok("open_checkin")
    hall.act_ok("check_in", deputy_id=1)

    async def last_event(conn: Any) -> Any:
        return (await conn.execute(select(m.events).order_by(m.events.c.seq.desc()).limit(1))).one()

    event = db._run(last_event)
    shown = _china_second(event.created_ms)
    utc = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(event.created_ms / 1000))
    assert shown != utc

    page = hall.http.get(f"/m/{hall.meeting_id}/audit", headers=hall.chair_headers())
    assert page.status_code == 200
    cells = re.search(rf'<tr id="event-{event.seq}"><td>{event.seq}</td><td>([^<]*)</td>', page.text)
    assert cells and cells.group(1) == shown, (cells and cells.group(1), shown)

    reply = hall.http.get(f"/m/{hall.meeting_id}/audit.csv", headers=hall.chair_headers())
    table = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert next(r for r in table if r[0] == str(event.seq))[1] == shown

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    xlsx = hall.http.get(f"/m/{hall.meeting_id}/audit.xlsx", headers=hall.chair_headers())
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    found = [r for r in sheet.iter_rows(values_only=True) if str(r[0]) == str(event.seq)]
    assert found and found[0][1] == shown


# What reads the machine's zone: Python's local time, a naive datetime, the browser's zone.
_LOCAL_ZONE = [
    re.compile(r"\btime\.(localtime|ctime|asctime|mktime)\("),
    re.compile(r"\btime\.strftime\((?![^)]*time\.gmtime)"),
    re.compile(r"\bfromtimestamp\([^,()]*(\([^()]*\))?[^,()]*\)"),  # no zone argument
    re.compile(r"\bdatetime\.now\(\)|\bdt\.datetime\.now\(\)|\.astimezone\(\)"),
    re.compile(r"\.(getHours|getMinutes|getDate|getMonth|getFullYear|getDay)\(|toLocale\w*String\("),
]


def test_no_user_facing_time_uses_the_machines_zone() -> None:
    """server/bench is left out: its stamps name benchmark files for developers."""
    sources = [
        p
        for folder in ("live", "screens", "server")
        for p in (ROOT / folder).rglob("*")
        if p.suffix in (".py", ".js", ".html") and "bench" not in p.parts and "vendor" not in p.parts
    ]
    assert len(sources) > 50
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in sources
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if any(rule.search(line) for rule in _LOCAL_ZONE)
    ]
    assert not found, "format times with server.base.days (China time):\n" + "\n".join(found)
