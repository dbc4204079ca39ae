"""The record's charts (server/record/charts.py) and their routes (server/web/routes/charts.py),
on a whole sitting of the demo meeting held through the real action path."""

from __future__ import annotations

import asyncio
import io
import pickle
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import update

from server.base.settings import Settings
from server.record import chart_draw, charts
from server.record.facts import MeetingRecord
from server.storage import models as m
from server.storage.db import create_engine
from tests.conftest import DEMO_CHAIR, DEMO_DEPUTIES, TestClient
from tests.rec_charts_fixtures import held, record_of

SVG_NS = "{http://www.w3.org/2000/svg}"
A4_WIDTH = round(16 / 2.54 * charts.DPI)  # 16 cm at 200 dpi


def texts(svg: bytes) -> list[str]:
    """Every text of the SVG, in document order (each line of a label is its own)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("width") == "100%" and root.get("height") is None and root.get("viewBox")
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


def shows_label(found: list[str], label: str) -> bool:
    """The label, wrapped over lines that follow each other (or cut with "…")."""
    joined = "".join(found)
    return label in joined or any(t.endswith("…") and label.startswith(t[:-1]) for t in found)


def shows_count(found: list[str], n: int, name: str) -> bool:
    """A count on its segment, or named after the bar ("不满意1") when the segment is narrow."""
    return str(n) in found or any(f"{name}{n}" in t.split() for t in found)


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        assert im.format == "PNG"
        return im.size


@pytest.fixture
def record(settings: Settings, meeting_id: int) -> MeetingRecord:
    return held(settings, meeting_id)


def test_the_charts_of_a_sitting_show_its_labels_and_counts(record: MeetingRecord) -> None:
    sat = charts.satisfaction_rows(record)
    rated = [q for q in record.questions if q.rating is not None]
    assert len(rated) == 5 and len(sat) == 5 + len(record.item_ratings)
    found = texts(charts.satisfaction_chart(sat, "svg"))
    assert {"满意", "基本满意", "不满意"} <= set(found)
    for q in rated:
        assert shows_label(found, q.question.title), q.question.title
    for label, *counts in sat:
        assert shows_label(found, label)
        for n, name in zip(counts, ("满意", "基本满意", "不满意"), strict=True):
            assert n == 0 or shows_count(found, n, name), (label, name, n)
    # the figures are the record's: the rating's counts, which the hall closed
    first = rated[0].rating
    assert first is not None
    assert sat[0][1:] == tuple(first.count(c) for c in charts.Choice)
    assert sum(first.count(c) for c in charts.Choice) == first.cast

    rounds = charts.vote_rows(record)
    assert [label.rpartition("（")[2] for label, *_ in rounds] == [
        "第1轮，未通过）",
        "第2轮，通过）",
        "第1轮，通过）",
    ]
    found = texts(charts.votes_chart(rounds, "svg"))
    for v, (label, *counts) in zip(record.votes, rounds, strict=True):
        assert v.result is not None and shows_label(found, label)
        assert counts == [v.result.for_votes, v.result.against, v.result.abstain, v.result.not_voted]
        for n, name in zip(counts, ("赞成", "反对", "弃权", "未按"), strict=True):
            assert n == 0 or shows_count(found, n, name), (label, name, n)

    spoken = charts.speaking_rows(record)
    assert len(spoken) == 5  # the sixth question was never reached
    found = texts(charts.speaking_chart(spoken, "svg"))
    for label, seconds, allowed in spoken:
        assert shows_label(found, label)
        assert f"{charts.duration(seconds)} / 限时{charts.duration(allowed)}" in found
    assert any(seconds > allowed for _, seconds, allowed in spoken), "the sitting runs over somewhere"

    # all three at once, as a DOCX asks the workshop: the rows travel (pickled), the record does not
    rows = pickle.loads(pickle.dumps(charts.meeting_rows(record)))
    assert rows == {"satisfaction": sat, "votes": rounds, "speaking": spoken}
    for kind, png in charts.draw_all(rows, "png").items():
        width, height = png_size(png)
        assert abs(width - A4_WIDTH) <= 2, kind
        assert 300 < height < 2000, (kind, height)  # a few rows: a third of a page at most


def test_an_empty_meeting_gives_charts_saying_no_data(settings: Settings, meeting_id: int) -> None:
    record = record_of(settings, meeting_id)  # the demo meeting, never held
    assert charts.satisfaction_rows(record) == [] and charts.vote_rows(record) == []
    for kind in ("satisfaction", "votes", "speaking", "attendance"):
        assert texts(charts.CHARTS[kind]([], "svg")) == [charts.EMPTY], kind
        width, height = png_size(charts.CHARTS[kind]([], "png"))
        assert abs(width - A4_WIDTH) <= 2 and height < 300
    # rows that count nothing say so too
    assert texts(charts.satisfaction_chart([("1. 无人测评", 0, 0, 0)], "svg")) == [charts.EMPTY]


def test_no_title_puts_markup_into_the_svg() -> None:
    title = '<script>alert("x")</script>]]><![CDATA[ & $x$ <a href="javascript:1">'
    svg = charts.satisfaction_chart([(title, 3, 2, 1)], "svg")
    root = ET.fromstring(svg)  # well-formed: the title did not break out of its text
    assert not [e for e in root.iter() if e.tag.rpartition("}")[2] in ("script", "a", "foreignObject")]
    assert b"<script" not in svg and b"]]><![CDATA[" not in svg
    assert shows_label(texts(svg), title[:20])
    votes = charts.votes_chart([(title, 1, 1, 1, 1)], "svg")
    assert b"<script" not in votes
    ET.fromstring(votes)


def test_long_labels_wrap_and_are_cut_after_two_lines() -> None:
    assert chart_draw.wrap("短标题", 10) == ["短标题"]
    lines = chart_draw.wrap("关于" * 40, 20)
    assert len(lines) == 2 and lines[1].endswith("…")
    assert all(chart_draw.width(line) <= 20 for line in lines)
    assert chart_draw.wrap("a b  c", 20) == ["a b c"]
    assert (
        charts.duration(0) == "0秒" and charts.duration(600) == "10分" and charts.duration(605) == "10分05秒"
    )


def test_attendance_rows_count_each_meeting_of_the_body() -> None:
    from server.office.attendance_history import Grid, Mark, Meeting

    meetings = [Meeting(1, "第一次", None, None, None), Meeting(2, "第二次", None, None, None)]
    marks = {
        (10, 1): Mark("present"),
        (11, 1): Mark("present", late=True),
        (12, 1): Mark("leave", leave_approved=True),
        (13, 1): Mark("leave"),  # leave not approved: absent
        (10, 2): Mark("absent"),
    }
    rows = charts.attendance_rows(Grid(meetings, [], marks))
    assert rows == [("第一次", 4, 2, 1, 1), ("第二次", 1, 0, 0, 1)]
    found = texts(charts.attendance_chart(rows, "svg"))
    assert "应到4" in " ".join(found) and {"实到", "请假", "缺席"} <= set(found)


# -- the routes ---------------------------------------------------------------------------


def login(client: TestClient) -> None:
    reply = client.post("/login", data={"username": DEMO_CHAIR[0], "password": DEMO_CHAIR[1], "next": "/"})
    assert reply.status_code == 303


def set_rehearsal(settings: Settings, meeting_id: int) -> None:
    async def go() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    update(m.meetings).where(m.meetings.c.id == meeting_id).values(rehearsal=True)
                )
        finally:
            await engine.dispose()

    asyncio.run(go())


def is_svg(reply: object) -> list[str]:
    assert getattr(reply, "status_code", None) == 200
    headers = reply.headers  # type: ignore[attr-defined]
    assert headers["content-type"].startswith("image/svg+xml")
    assert headers["x-content-type-options"] == "nosniff"
    assert "script-src" not in headers["content-security-policy"].split(",")[0]
    return texts(reply.content)  # type: ignore[attr-defined]


@pytest.fixture
def held_client(settings: Settings, meeting_id: int) -> Iterator[tuple[TestClient, MeetingRecord, int]]:
    from server.web.app import create_app

    record = held(settings, meeting_id)  # before the app loads anything
    with TestClient(create_app(settings), raise_server_exceptions=False, follow_redirects=False) as c:
        yield c, record, meeting_id


def test_routes_before_the_close(client: TestClient, meeting_id: int) -> None:
    for kind in ("satisfaction", "votes", "speaking"):
        # staff only: to the login page
        reply = client.get(f"/m/{meeting_id}/charts/{kind}.svg")
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login")
        # the public: nothing until the meeting is closed
        reply = client.get(f"/m/{meeting_id}/live/charts/{kind}.svg")
        assert reply.status_code == 404 and "会议结束后" in reply.text
    login(client)
    assert is_svg(client.get(f"/m/{meeting_id}/charts/satisfaction.svg")) == [charts.EMPTY]
    assert client.get(f"/m/{meeting_id}/charts/pie.svg").status_code == 404
    assert client.get(f"/m/{meeting_id}/charts/attendance.svg").status_code == 404
    assert client.get("/m/999999/charts/votes.svg").status_code == 404
    assert client.get("/bodies/999999/charts/attendance.svg").status_code == 404
    assert client.get(f"/m/{meeting_id}/live/charts/votes.svg").status_code == 404


def test_routes_after_the_close(
    held_client: tuple[TestClient, MeetingRecord, int], settings: Settings
) -> None:
    client, record, meeting_id = held_client
    title = record.questions[0].question.title
    # public once closed, the same chart as staff get; drawn once, then from the cache
    public = client.get(f"/m/{meeting_id}/live/charts/satisfaction.svg")
    assert shows_label(is_svg(public), title)
    cache = client.app.state.services.charts  # type: ignore[attr-defined]
    assert cache.reads == 1
    assert client.get(f"/m/{meeting_id}/live/charts/satisfaction.svg").content == public.content
    assert cache.reads == 1
    assert client.get(f"/m/{meeting_id}/live/charts/pie.svg").status_code == 404
    assert client.get(f"/m/{meeting_id}/charts/votes.svg").status_code == 303
    login(client)
    assert client.get(f"/m/{meeting_id}/charts/satisfaction.svg").content == public.content
    votes = is_svg(client.get(f"/m/{meeting_id}/charts/votes.svg"))
    assert shows_label(votes, record.votes[0].title)
    speaking = is_svg(client.get(f"/m/{meeting_id}/live/charts/speaking.svg"))
    assert shows_label(speaking, title)
    # the body's attendance: this meeting, 48 expected, as frozen at the close
    body = client.get(f"/meetings/{meeting_id}/edit")
    assert body.status_code == 200
    found = re.search(r'href="/bodies/(\d+)', body.text)
    assert found
    attendance = is_svg(client.get(f"/bodies/{found.group(1)}/charts/attendance.svg"))
    present = len(record.with_status("present"))
    assert f"应到{DEMO_DEPUTIES}" in " ".join(attendance) and str(present) in attendance
    assert shows_label(attendance, record.setup.title)
    # the body's attendance page shows it under its grid
    page = client.get(f"/bodies/{found.group(1)}/attendance")
    assert f'<img src="/bodies/{found.group(1)}/charts/attendance.svg"' in page.text
    client.cookies.clear()
    assert client.get(f"/bodies/{found.group(1)}/charts/attendance.svg").status_code == 303
    # a rehearsal is never public, closed or not
    set_rehearsal(settings, meeting_id)
    assert client.get(f"/m/{meeting_id}/live/charts/satisfaction.svg").status_code == 404


def test_without_the_cjk_font_the_log_says_so_and_charts_still_render(tmp_path: Path) -> None:
    """The font is looked up once per process, so a process of its own without it."""
    script = (
        "import sys\n"
        "from server.record import chart_draw, charts\n"
        f"chart_draw.FONT_FILES = ({str(tmp_path / 'none.ttc')!r},)\n"
        "png = charts.satisfaction_chart([('满意度', 1, 2, 3)], 'png')\n"
        "sys.stdout.write(str(len(png)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert int(done.stdout) > 1000
    assert "no CJK font" in done.stderr and "fonts-wqy-microhei" in done.stderr


def test_svg_stays_small(record: MeetingRecord) -> None:
    """Text kept as text, no dotted hatch: a few tens of KB for a phone, not hundreds."""
    for kind, rows in charts.meeting_rows(record).items():
        assert len(charts.CHARTS[kind](rows, "svg")) < 50_000, kind
    assert len(charts.votes_chart([("a", 1, 1, 1, 1)] * 5, "svg")) < 50_000


def test_the_server_process_does_not_load_matplotlib() -> None:
    """Rows are built in the server, charts drawn in the workshop: only there is matplotlib."""
    script = (
        "import sys\n"
        "import server.web.app, server.web.routes.charts, server.record.charts\n"
        "sys.stdout.write(str('matplotlib' in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout == "False", done.stderr[-2000:]


def test_a_long_history_keeps_the_latest_meetings_on_one_page() -> None:
    from server.office.attendance_history import Grid, Mark, Meeting

    meetings = [Meeting(i, f"第{i}次会议", None, None, None) for i in range(1, 31)]
    marks = {(10, i): Mark("present") for i in range(1, 31)}
    rows = charts.attendance_rows(Grid(meetings, [], marks))
    assert [r[0] for r in rows] == [f"第{i}次会议" for i in range(31 - charts.MAX_MEETINGS, 31)]
    _, height = png_size(charts.attendance_chart(rows, "png"))
    assert height / charts.DPI < 24.7 / 2.54  # the A4 text block's height
