"""The adversary against issue 18's follow-up (督办): the organ's link, the deputy's phone,
the public page and the staff file routes.

Each test plays an attacker the design promises to stop (docs/design.md, "Probed: issue
18's follow-up") and failed before its fix. What was probed without a finding is listed
in that section.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.base.settings import Settings
from server.office import attachments
from server.storage import audit
from server.storage import models as m
from server.web.http import ATTACH_TURNS
from tests.conftest import TestClient
from tests.test_followup_posts import PDF
from tests.test_meetings_admin import run, staff_headers
from tests.test_organ_items_pages import prepare, progress


def test_posts_at_once_from_one_link_hold_their_files_in_memory_a_few_at_a_time(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    """An organ's link (printed on a notice, passed around an office) took any number of
    50 MB posts at once, each costing the process about 170 MB at its peak (measured on a
    real server: five at once took it from 110 MB to 588 MB; the 32 bodies one address may
    send at once would take gigabytes). Now each post's body is spooled to disk first and
    only ATTACH_TURNS posts at a time read their files into memory and check them; the
    others wait their turn, and every one is still written."""
    ids = prepare(settings, meeting_id, keys)
    url = f"{ids['lead_link']}/items/{ids['first']}"
    svc = client.app.state.services  # type: ignore[attr-defined]
    original, busy, most = svc.workshop.run, [0], [0]

    async def counted(fn: Any, *args: Any) -> Any:
        busy[0] += 1
        most[0] = max(most[0], busy[0])
        try:
            await asyncio.sleep(0.2)  # a check of 50 MB takes this long and more
            return await original(fn, *args)
        finally:
            busy[0] -= 1

    svc.workshop.run = counted

    async def many() -> list[int]:
        transport = httpx.ASGITransport(client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            sent = [
                http.post(url, data=progress(ids["lead_csrf"]), files=[("files", (f"{n}.pdf", PDF))])
                for n in range(ATTACH_TURNS + 3)
            ]
            return [r.status_code for r in await asyncio.gather(*sent)]

    assert client.portal is not None
    codes = client.portal.call(functools.partial(many))
    assert codes == [303] * (ATTACH_TURNS + 3)
    assert most[0] == ATTACH_TURNS


def test_a_file_name_cannot_hide_its_type_behind_invisible_characters(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    """An organ uploads a PDF named "付款通知\\u202egpj.pdf": the right-to-left override
    made every page and the saved download show it as "付款通知fdp.jpg"; zero-width and
    isolate characters hid parts of a name the same way. The kept name drops them (and
    the message that quotes a refused file's name too); visible text stays."""
    ids = prepare(settings, meeting_id, keys)
    url = f"{ids['lead_link']}/items/{ids['first']}"
    tricked = "付款通知\u202egpj.pdf"
    sent = client.post(url, data=progress(ids["lead_csrf"]), files=[("files", (tricked, PDF))])
    assert sent.status_code == 303
    page = client.get(url).text
    assert "\u202e" not in page and "付款通知gpj.pdf" in page
    link = re.search(rf'href="({re.escape(ids["lead_link"])}/files/\d+)"', page)
    assert link is not None
    got = client.get(link.group(1))
    assert got.status_code == 200 and "%E2%80%AE" not in got.headers["content-disposition"]
    assert attachments.clean_name("a\u200bb\u2066c\u2069d\ufeff.pdf", attachments.PDF) == "abcd.pdf"
    assert attachments.clean_name("\u202e.pdf", attachments.PDF) == "附件.pdf"
    assert attachments.clean_name("答复函（第2稿）.docx", attachments.DOCX) == "答复函（第2稿）.docx"
    refused = client.post(url, data=progress(ids["lead_csrf"]), files=[("files", ("坏\u202eexe.pdf", b"MZ"))])
    assert refused.status_code == 400 and "\u202e" not in refused.text and "坏exe.pdf" in refused.text


def test_every_download_of_an_attachment_says_who_took_it(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    """Attachments are scanned letters and photos: names, signatures, phone and ID numbers.
    Staff and organs downloaded them leaving no trace but an access-log line with an
    address (no user, and the organ's link redacted): nobody could say who took a copy.
    Each download is now in the audit trail with who, the file, the item and the device;
    a refused one (another organ's file) writes nothing. The roster page's list of the
    office's own work leaves them out, as it leaves out phones binding."""
    ids = prepare(settings, meeting_id, keys)
    url = f"{ids['lead_link']}/items/{ids['first']}"
    sent = client.post(url, data=progress(ids["lead_csrf"]), files=[("files", ("答复函.pdf", PDF))])
    assert sent.status_code == 303
    file_id = run(settings.database_url, _first_file)
    headers = staff_headers(client, keys)
    assert client.get(f"/followup/files/{file_id}", headers=headers).status_code == 200
    assert client.get(f"{ids['helper_link']}/files/{file_id}").status_code == 200  # assisting organ
    assert client.get(f"{ids['other_link']}/files/{file_id}").status_code == 404  # not its item
    assert client.get(f"/followup/files/{file_id}").status_code == 303  # no session: to the login

    async def downloads(conn: AsyncConnection) -> tuple[list[Any], list[str]]:
        a = m.audit
        rows = (await conn.execute(select(a).where(a.c.action == "followup_file_downloaded"))).all()
        listed = [e.action for e in await audit.entries(conn, ids["body"])]
        return list(rows), listed

    rows, listed = run(settings.database_url, downloads)
    assert [(r.actor, r.body_id) for r in rows] == [
        ("staff:chair", ids["body"]),
        (f"organ:{ids['helper']}", ids["body"]),
    ]
    details = [json.loads(r.detail) for r in rows]
    assert all(
        d["file"] == file_id and d["item"] == ids["first"] and d["name"] == "答复函.pdf" for d in details
    )
    assert [d["by"] for d in details] == ["chair", "县交通运输局"]
    assert "followup_file_downloaded" not in listed and "followup_posted" in listed


async def _first_file(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(m.followup_attachments.c.id))).scalar_one())
