"""One phone per card (server.phones): a forwarded invitation link takes nothing over.

Each "phone" here is a cookie jar of its own, sent by hand through the in-process app:
the link binds a free card; on a second phone it is refused; the card's codes move the
binding and sign the first phone out (page, ballot and socket); staff release a card
for a new phone; a cookie from before phone bindings is adopted once. Every binding,
move and release is in the audit table with who and from which device.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.websockets import WebSocketDisconnect

from server import models as m
from server.auth import Keys
from tests.conftest import Db, Hall, TestClient
from tests.test_cards import login, roster

SIGNED_OUT = "本机已退出"
ELSEWHERE = "已在另一部手机上使用"


class Phone:
    """A phone's browser: its own cookies, its own user agent."""

    def __init__(self, client: TestClient, name: str) -> None:
        self.client, self.name, self.cookie = client, name, ""

    def _send(self, method: str, path: str, data: dict[str, str] | None = None) -> Any:
        staff = dict(self.client.cookies)  # the staff login of the same client, kept apart
        self.client.cookies.clear()
        headers = {"user-agent": f"Mozilla/5.0 ({self.name})"}
        if self.cookie:
            headers["cookie"] = f"wz_deputy={self.cookie}"
        reply = self.client.request(method, path, data=data, headers=headers, follow_redirects=False)
        found = re.search(r"wz_deputy=([^;]+)", reply.headers.get("set-cookie", ""))
        if found:
            self.cookie = found.group(1)
        self.client.cookies.clear()
        self.client.cookies.update(staff)
        return reply

    def get(self, path: str) -> Any:
        return self._send("GET", path)

    def post(self, path: str, data: dict[str, str]) -> Any:
        return self._send("POST", path, data)

    def csrf(self, keys: Keys) -> str:
        binding = keys.read_deputy(self.cookie)
        assert binding is not None
        return keys.csrf(binding.sid)

    def bound(self, meeting_id: int, name: str) -> bool:
        page = self.get(f"/d/{meeting_id}")
        assert page.status_code == 200
        return name in page.text and 'action="/d/' + str(meeting_id) + '/bind"' not in page.text

    def socket_allowed(self, meeting_id: int) -> bool:
        staff = dict(self.client.cookies)
        self.client.cookies.clear()
        try:
            with self.client.websocket_connect(
                f"/ws/{meeting_id}/deputy", headers={"cookie": f"wz_deputy={self.cookie}"}
            ):
                return True
        except WebSocketDisconnect as closed:
            assert closed.code == 1008
            return False
        finally:
            self.client.cookies.update(staff)


def audit_of(db: Db, deputy_id: int) -> list[tuple[str, str, str, dict[str, Any]]]:
    async def fn(conn: AsyncConnection) -> list[Any]:
        rows = await conn.execute(select(m.audit).order_by(m.audit.c.id))
        return [r for r in rows if json.loads(r.detail or "{}").get("deputy_id") == deputy_id]

    return [(r.action, r.actor, r.device, json.loads(r.detail)) for r in db._run(fn)]


def test_a_forwarded_link_takes_nothing_over(client: TestClient, hall: Hall, db: Db, keys: Keys) -> None:
    meeting_id = hall.meeting_id
    deputy_id, name, _, _, _, version = roster(db)[5]
    link = f"/i/{meeting_id}/{keys.invitation(deputy_id, version)}"
    mine, forwarded = Phone(client, "deputy's phone"), Phone(client, "a phone at home")

    assert mine.get(link).status_code == 303 and mine.bound(meeting_id, name)
    assert mine.get(link).status_code == 303, "opening the link again on the same phone"

    refused = forwarded.get(link)
    assert refused.status_code == 409 and ELSEWHERE in refused.text and "卡号" in refused.text
    assert forwarded.cookie == "" and "set-cookie" not in refused.headers
    assert mine.bound(meeting_id, name) and mine.socket_allowed(meeting_id)

    # Check-in and rating need the phone that holds the card: the home phone has none.
    hall.open_rating([deputy_id])
    ballot = {"question_id": "1", "choice": "satisfied", "ballot_key": "forwarded-1"}
    assert forwarded.post(f"/d/{meeting_id}/rate", {**ballot, "csrf": "x"}).status_code == 401
    assert db.counts()["receipts"] == 0

    audit = audit_of(db, deputy_id)
    assert [(a, who) for a, who, _, _ in audit] == [("phone_bound", f"deputy:{deputy_id}")]
    assert "deputy's phone" in audit[0][2] and audit[0][3]["how"] == "link"


def test_the_card_codes_move_the_binding_and_sign_the_first_phone_out(
    client: TestClient, hall: Hall, db: Db, keys: Keys
) -> None:
    meeting_id = hall.meeting_id
    deputy_id, name, _, card_no, short_code, version = roster(db)[6]
    link = f"/i/{meeting_id}/{keys.invitation(deputy_id, version)}"
    wechat, browser = Phone(client, "WeChat"), Phone(client, "the phone's browser")
    assert wechat.get(link).status_code == 303
    old_csrf = wechat.csrf(keys)

    wrong = browser.post(f"/d/{meeting_id}/bind", {"card_no": card_no, "short_code": "0000x"})
    assert wrong.status_code == 400 and wechat.bound(meeting_id, name)
    staff = dict(client.cookies)
    client.cookies.clear()
    with client.websocket_connect(
        f"/ws/{meeting_id}/deputy", headers={"cookie": f"wz_deputy={wechat.cookie}"}
    ) as live:
        live.send_json({"type": "hello", "seq": 0})
        moved = browser.post(f"/d/{meeting_id}/bind", {"card_no": card_no, "short_code": short_code})
        assert moved.status_code == 303 and browser.bound(meeting_id, name)
        with pytest.raises(WebSocketDisconnect) as closed:  # its open socket is closed, for good
            while True:
                live.receive_text()
        assert closed.value.code == 1008
    client.cookies.update(staff)

    # The first phone is out everywhere: its page, its ballots, its socket.
    page = wechat.get(f"/d/{meeting_id}")
    assert page.status_code == 200 and SIGNED_OUT in page.text and "卡号" in page.text
    questions = f"/d/{meeting_id}/questions"  # the question pages check the same, from the database
    assert wechat.get(questions).status_code == 303 and browser.get(questions).status_code == 200
    hall.open_rating([deputy_id])
    ballot = {"question_id": "1", "choice": "basic", "ballot_key": "old-phone-1", "csrf": old_csrf}
    out = wechat.post(f"/d/{meeting_id}/rate", ballot)
    assert out.status_code == 401 and SIGNED_OUT in out.text
    assert not wechat.socket_allowed(meeting_id) and browser.socket_allowed(meeting_id)
    assert db.counts()["receipts"] == 0
    ok = browser.post(
        f"/d/{meeting_id}/rate", {**ballot, "ballot_key": "new-phone-1", "csrf": browser.csrf(keys)}
    )
    assert ok.status_code == 200 and 'id="d-receipt"' in ok.text
    assert db.receipts(1) == {deputy_id: "new-phone-1"}

    actions = [(a, d.get("how")) for a, _, _, d in audit_of(db, deputy_id)]
    assert actions == [("phone_bound", "link"), ("phone_moved", "card")]


def test_staff_release_a_card_for_a_new_phone(
    client: TestClient, db: Db, keys: Keys, meeting_id: int
) -> None:
    deputy_id, name, _, _, _, version = roster(db)[7]
    link = f"/i/{meeting_id}/{keys.invitation(deputy_id, version)}"
    lost, new = Phone(client, "the lost phone"), Phone(client, "the new phone")
    assert lost.get(link).status_code == 303
    assert new.get(link).status_code == 409

    csrf = login(client, meeting_id)
    sheet = client.get(f"/m/{meeting_id}/cards").text
    card_html = sheet.split(f'id="card-{deputy_id}"')[1].split("</article>")[0]
    assert "手机：已绑定" in card_html and "解除手机绑定" in card_html
    release = f"/m/{meeting_id}/cards/{deputy_id}/release"
    assert client.post(release, data={"csrf": "wrong"}).status_code == 403
    assert lost.bound(meeting_id, name), "a refused release changes nothing"
    done = client.post(release, data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303 and f"released={deputy_id}" in done.headers["location"]
    sheet = client.get(done.headers["location"]).text
    assert "已解除手机绑定" in sheet and "手机：已解除，待新手机打开邀请链接" in sheet

    assert SIGNED_OUT in lost.get(f"/d/{meeting_id}").text
    assert new.get(link).status_code == 303 and new.bound(meeting_id, name)
    assert lost.get(link).status_code == 409, "the lost phone cannot take the card back by the link"

    audit = audit_of(db, deputy_id)
    assert [a for a, _, _, _ in audit] == ["phone_bound", "phone_released", "phone_bound"]
    assert audit[1][1] == "staff:chair"
    # The office's own list of its work on the roster page names the release, not the
    # deputies' own bindings.
    roster_audit = client.get("/bodies/1/roster")
    assert roster_audit.status_code == 200
    section = roster_audit.text.split('id="r-audit"')[1]
    assert "解除手机绑定" in section and "绑定手机</td>" not in section


def test_a_cookie_from_before_phone_bindings_is_adopted_once(
    client: TestClient, hall: Hall, db: Db, keys: Keys
) -> None:
    meeting_id = hall.meeting_id
    deputy_id, name, _, _, _, version = roster(db)[8]
    first, second = Phone(client, "legacy one"), Phone(client, "legacy two")
    first.cookie = keys.deputy_cookie(deputy_id, version)
    second.cookie = keys.deputy_cookie(deputy_id, version)
    assert first.bound(meeting_id, name), "a signed cookie of a card with no phone yet is adopted"
    assert not second.bound(meeting_id, name)
    assert SIGNED_OUT in second.get(f"/d/{meeting_id}").text
    assert first.socket_allowed(meeting_id) and not second.socket_allowed(meeting_id)


@pytest.mark.parametrize("how", ["link", "card"])
def test_a_reissued_card_frees_the_binding(
    client: TestClient, db: Db, keys: Keys, meeting_id: int, how: str
) -> None:
    deputy_id, name, _, _, _, version = roster(db)[9]
    old = Phone(client, "old")
    assert old.get(f"/i/{meeting_id}/{keys.invitation(deputy_id, version)}").status_code == 303
    csrf = login(client, meeting_id)
    reissued = client.post(f"/m/{meeting_id}/cards/{deputy_id}/reissue", data={"csrf": csrf})
    assert reissued.status_code == 303
    _, _, _, card_no, short_code, new_version = next(r for r in roster(db) if r[0] == deputy_id)
    assert new_version == version + 1
    fresh = Phone(client, "fresh")
    if how == "link":
        reply = fresh.get(f"/i/{meeting_id}/{keys.invitation(deputy_id, new_version)}")
    else:
        reply = fresh.post(f"/d/{meeting_id}/bind", {"card_no": card_no, "short_code": short_code})
    assert reply.status_code == 303 and fresh.bound(meeting_id, name)
    assert not old.bound(meeting_id, name)
