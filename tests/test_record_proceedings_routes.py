"""The proceedings' pages (server/web/routes/record.py): the print view carries every figure
of the document model the DOCX is drawn from; the note is saved (audited) or refused in
Chinese with nothing stored; staff only; an unknown meeting is a Chinese 404; the Word
file downloads; the meeting's edit page links to the record."""

from __future__ import annotations

import asyncio
import html
import io
import re

from docx import Document
from sqlalchemy import select
from starlette.testclient import TestClient

from server.base.keys import Keys
from server.base.settings import Settings
from server.office import meeting_forms
from server.record.proceedings import Grid, Para
from server.record.proceedings_store import MAX_NOTE
from server.record.sitting import NAMED_TITLE, SECRET_TITLE
from server.storage import models as m
from server.storage.db import create_engine
from tests.conftest import DEMO_CHAIR
from tests.rec_proc_fixtures import NOTE, held_fixture  # noqa: F401  (the fixture ``held``)
from tests.test_record_proceedings import Held, docx_lines, the_document


def login(client: TestClient) -> None:
    reply = client.post("/login", data={"username": DEMO_CHAIR[0], "password": DEMO_CHAIR[1], "next": "/"})
    assert reply.status_code == 303


def csrf(client: TestClient, keys: Keys) -> str:
    session = keys.read_staff(client.cookies["wz_user"])
    assert session is not None
    return keys.csrf(session.sid)


def page_text(body: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded, space squeezed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", "", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


async def _chair(url: str, meeting_id: int) -> str:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = select(m.meetings.c.chair).where(m.meetings.c.id == meeting_id)
            return str((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


def chair_of(settings: Settings, meeting_id: int) -> str:
    return asyncio.run(_chair(settings.database_url, meeting_id))


async def _meeting_row(url: str, meeting_id: int) -> tuple[str, list[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            note = (
                await conn.execute(select(m.meetings.c.record_note).where(m.meetings.c.id == meeting_id))
            ).scalar_one()
            audits = (
                await conn.execute(select(m.audit.c.detail).where(m.audit.c.meeting_id == meeting_id))
            ).scalars()
            return str(note), [str(a) for a in audits]
    finally:
        await engine.dispose()


def stored(settings: Settings, meeting_id: int) -> tuple[str, list[str]]:
    return asyncio.run(_meeting_row(settings.database_url, meeting_id))


def test_the_print_view_carries_what_the_docx_does(
    settings: Settings, meeting_id: int, held: Held, client: TestClient
) -> None:
    found, lines = the_document(settings, meeting_id)
    login(client)
    reply = client.get(f"/m/{meeting_id}/record")
    assert reply.status_code == 200
    text = page_text(reply.text)
    for label, value in found.doc.facts:
        assert f"{label}： {value}" in text or f"{label}：{value}" in text
    for line in NOTE.splitlines():
        assert line in text
    for block in found.doc.blocks:
        if isinstance(block, Para):
            said = f"{block.label}：{block.text}" if block.label else block.text
            assert said in text.replace("： ", "："), said
            assert said in lines  # the same sentence in the Word file
        elif isinstance(block, Grid):
            for row in block.rows:
                assert " ".join(row) in text
                assert " | ".join(row) in lines
    # The secret vote's rounds on the page name nobody, as in the Word file.
    record, _ = held
    secret = text[text.index(SECRET_TITLE) : text.index(NAMED_TITLE)]
    assert "赞成" in secret and not any(d.name in secret for d in record.setup.deputies.values())
    for href in (f"/m/{meeting_id}/record.docx", f"/m/{meeting_id}/minutes.docx", f"/m/{meeting_id}/results"):
        assert f'href="{href}"' in reply.text
    for kind in ("satisfaction", "speaking"):
        assert f'<img src="/m/{meeting_id}/charts/{kind}.svg"' in reply.text
        assert client.get(f"/m/{meeting_id}/charts/{kind}.svg").status_code == 200
    assert "下载会议记录（Word）" in text and "生成会议纪要草稿" in text and "会议结果" in text
    # The Word file through the route, drawn in the workshop.
    docx = client.get(f"/m/{meeting_id}/record.docx")
    assert docx.status_code == 200
    assert docx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in docx.headers["content-disposition"]
    assert docx_lines(docx.content) == lines
    # The meeting's edit page links here.
    edit = client.get(f"/meetings/{meeting_id}/edit")
    assert f'href="/m/{meeting_id}/record"' in edit.text and "会议记录" in edit.text


def test_the_note_is_saved_audited_or_refused_in_chinese(
    settings: Settings, meeting_id: int, keys: Keys, client: TestClient
) -> None:
    login(client)
    token = csrf(client, keys)
    saved = client.post(
        f"/m/{meeting_id}/record",
        data={"csrf": token, "chair": " 李 明 ", "note": "  第一段。\r\n第二段。  "},
    )
    assert saved.status_code == 303
    assert saved.headers["location"].startswith(f"/m/{meeting_id}/record?saved=1")
    note, audits = stored(settings, meeting_id)
    assert note == "第一段。\n第二段。"
    assert chair_of(settings, meeting_id) == "李 明"
    assert any("会议记录说明" in a for a in audits)
    page = client.get(f"/m/{meeting_id}/record?saved=1")
    assert "已保存" in page.text and "第二段。" in page_text(page.text)
    assert "主持人：李 明" in page_text(page.text).replace("： ", "：")
    docx = client.get(f"/m/{meeting_id}/record.docx")
    assert "第二段。" in [p.text for p in Document(io.BytesIO(docx.content)).paragraphs]

    too_long = "长" * (MAX_NOTE + 1)
    refused = client.post(f"/m/{meeting_id}/record", data={"csrf": token, "note": too_long})
    assert refused.status_code == 400
    assert f"说明最多 {MAX_NOTE} 字，现有 {MAX_NOTE + 1} 字" in refused.text
    assert too_long in refused.text  # what was typed comes back to be shortened
    long_chair = client.post(f"/m/{meeting_id}/record", data={"csrf": token, "chair": "长" * 65, "note": "x"})
    # The same rule and words as the chair field of the meeting's edit page.
    assert long_chair.status_code == 400 and meeting_forms.TEXT["chair_long"] in long_chair.text
    control = client.post(f"/m/{meeting_id}/record", data={"csrf": token, "note": "坏\x07字"})
    assert control.status_code == 400 and "控制字符" in control.text
    assert stored(settings, meeting_id) == (note, audits)  # nothing stored, nothing audited
    assert chair_of(settings, meeting_id) == "李 明"

    forged = client.post(f"/m/{meeting_id}/record", data={"csrf": "forged", "note": "别人的"})
    assert forged.status_code == 403
    assert stored(settings, meeting_id)[0] == note
    lines = "长\r\n" * (MAX_NOTE // 2)  # over the limit as typed; line ends count once when stored
    assert len(lines) > MAX_NOTE
    assert client.post(f"/m/{meeting_id}/record", data={"csrf": token, "note": lines}).status_code == 303
    assert stored(settings, meeting_id)[0] == lines.replace("\r\n", "\n").strip()
    cleared = client.post(f"/m/{meeting_id}/record", data={"csrf": token, "note": ""})
    assert cleared.status_code == 303 and stored(settings, meeting_id)[0] == ""


def test_staff_only_and_an_unknown_meeting_is_a_chinese_404(
    settings: Settings, meeting_id: int, keys: Keys, client: TestClient
) -> None:
    for path in (f"/m/{meeting_id}/record", f"/m/{meeting_id}/record.docx"):
        reply = client.get(path)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login")
    assert client.post(f"/m/{meeting_id}/record", data={"note": "x"}).status_code in (303, 403)
    assert stored(settings, meeting_id)[0] == ""
    login(client)
    for path in ("/m/99999/record", "/m/99999/record.docx"):
        reply = client.get(path)
        assert reply.status_code == 404 and "找不到这次会议" in reply.text
    token = csrf(client, keys)
    reply = client.post("/m/99999/record", data={"csrf": token, "note": "x"})
    assert reply.status_code == 404 and "找不到这次会议" in reply.text
    # A meeting not yet held has a record too: nothing happened yet, and it says so.
    fresh = client.get(f"/m/{meeting_id}/record")
    assert fresh.status_code == 200 and "会议尚未结束" in fresh.text and "尚未开始" in fresh.text
