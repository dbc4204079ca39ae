"""The draft minutes over HTTP (/m/{id}/minutes.docx): staff only, linked from the meeting's
edit page, a Chinese 404 for an unknown meeting, and a DOCX drawn in the workshop that
says it is a draft (a meeting not yet held gets its placeholders)."""

from __future__ import annotations

import io

from docx import Document

from server.base.keys import Keys
from server.record import minutes as mn
from tests.conftest import TestClient
from tests.test_meetings_admin import staff_headers

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_staff_download_the_draft_minutes_from_the_edit_page(
    client: TestClient, keys: Keys, meeting_id: int
) -> None:
    url = f"/m/{meeting_id}/minutes.docx"
    assert client.get(url).status_code == 303  # no login: to the login page
    headers = staff_headers(client, keys)
    edit = client.get(f"/meetings/{meeting_id}/edit", headers=headers).text
    assert f'<a href="{url}" id="m-minutes">会议纪要（草稿）</a>' in edit
    reply = client.get(url, headers=headers)
    assert reply.status_code == 200 and reply.headers["content-type"] == DOCX
    assert "%E8%8D%89%E7%A8%BF" in reply.headers["content-disposition"]  # 草稿 in the file's name
    doc = Document(io.BytesIO(reply.content))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == mn.DRAFT_NOTE and "（会议尚未结束，内容截至生成时）" in texts
    assert "草稿" in doc.core_properties.title
    opening = next(t for t in texts if "现将会议议定事项纪要如下" in t)
    assert "会议由【主持人】主持" in opening and "实到【　】人" in opening


def test_an_unknown_meeting_answers_404_in_chinese(client: TestClient, keys: Keys, meeting_id: int) -> None:
    reply = client.get("/m/999999/minutes.docx", headers=staff_headers(client, keys))
    assert reply.status_code == 404 and "找不到这次会议" in reply.text
