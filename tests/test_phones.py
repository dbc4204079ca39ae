"""One phone per card (server.storage.phones): nobody takes a deputy's card by the back door.

Each "phone" here is a cookie jar of its own, sent by hand through the in-process app:
the link binds a free card; on a second phone it asks first, and only a confirmed move
takes the card, the first phone told at once and signed out (page, ballot and socket);
the card number and short code, typed in the hall, bind only a card with no phone; staff
release a card for a new phone; a cookie from before phone bindings is adopted once.
Every binding, move and release is in the audit table with who and from which device.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.websockets import WebSocketDisconnect

from server.base.keys import Keys
from server.storage import models as m
from tests.conftest import Db, Hall, TestClient
from tests.test_cards import login, roster

SIGNED_OUT = "本机已退出"
ELSEWHERE = "已在另一部手机上使用"
PRE = re.compile(r'name="pre" value="([0-9a-f]+)"')


def hall_code(keys: Keys, meeting_id: int) -> str:
    return keys.hall_code(meeting_id, int(time.time() // 30))


class Phone:
    """A phone's browser: its own cookies, its own user agent."""

    def __init__(self, client: TestClient, name: str) -> None:
        self.client, self.name, self.cookie, self.pre = client, name, "", ""
        self.hall = ""  # the grant of a valid hall code opened (wz_hall)

    def _send(self, method: str, path: str, data: dict[str, str] | None = None) -> Any:
        staff = dict(self.client.cookies)  # the staff login of the same client, kept apart
        self.client.cookies.clear()
        headers = {"user-agent": f"Mozilla/5.0 ({self.name})"}
        jar = [f"wz_deputy={self.cookie}"] if self.cookie else []
        jar += [f"wz_pre={self.pre}"] if self.pre else []
        jar += [f"wz_hall={self.hall}"] if self.hall else []
        if jar:
            headers["cookie"] = "; ".join(jar)
        reply = self.client.request(method, path, data=data, headers=headers, follow_redirects=False)
        for name, value in re.findall(
            r"(wz_deputy|wz_pre|wz_hall)=([^;]+)", reply.headers.get("set-cookie", "")
        ):
            if name == "wz_deputy":
                self.cookie = value
            elif name == "wz_hall":
                self.hall = value
            else:
                self.pre = value
        self.client.cookies.clear()
        self.client.cookies.update(staff)
        return reply

    def form(self, path: str, data: dict[str, str], page: str | None = None) -> Any:
        """Post a pre-session form the way the page does: with the page's token."""
        shown = self.get(page or path)
        found = PRE.search(shown.text)
        assert found, shown.text
        return self.post(path, {**data, "pre": found.group(1)})

    def type_card(self, keys: Keys, meeting_id: int, card_no: str, short_code: str) -> Any:
        """Scan the hall QR, then type the card number and short code."""
        code = hall_code(keys, meeting_id)
        return self.form(f"/h/{meeting_id}/{code}", {"card_no": card_no, "short_code": short_code})

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
        return name in page.text and 'id="bind-page"' not in page.text

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


def test_a_link_opened_on_another_phone_asks_then_moves_the_card_and_tells_the_first(
    client: TestClient, hall: Hall, db: Db, keys: Keys
) -> None:
    meeting_id = hall.meeting_id
    deputy_id, name, _, _, _, version = roster(db)[5]
    link = f"/i/{meeting_id}/{keys.invitation(deputy_id, version)}"
    mine, other = Phone(client, "deputy's phone"), Phone(client, "the browser app")

    assert mine.get(link).status_code == 303 and mine.bound(meeting_id, name)
    assert mine.get(link).status_code == 303, "opening the link again on the same phone"

    asked = other.get(link)
    assert (
        asked.status_code == 409 and "正在另一部手机上使用" in asked.text and 'id="move-here"' in asked.text
    )
    assert other.cookie == "", "opening the link alone takes nothing"
    assert mine.bound(meeting_id, name) and mine.socket_allowed(meeting_id)
    # A move needs the page's own token: a forged or cross-site form moves nothing.
    assert other.post(link, {"pre": "0" * 32}).status_code == 403
    assert other.post(link, {}).status_code == 403
    assert mine.bound(meeting_id, name) and other.cookie == ""

    staff = dict(client.cookies)
    client.cookies.clear()
    with client.websocket_connect(
        f"/ws/{meeting_id}/deputy", headers={"cookie": f"wz_deputy={mine.cookie}"}
    ) as live:
        live.send_json({"type": "hello", "seq": 0})
        moved = other.form(link, {})
        assert moved.status_code == 303 and other.bound(meeting_id, name)
        told: list[str] = []
        with pytest.raises(WebSocketDisconnect) as closed:  # told, then closed for good
            while True:
                told.append(live.receive_text())
        assert closed.value.code == 1008
        assert any(SIGNED_OUT in m and "如非本人操作" in m for m in told), told
    client.cookies.update(staff)

    # The first phone is out everywhere: its page, its ballots, its socket.
    assert SIGNED_OUT in mine.get(f"/d/{meeting_id}").text
    hall.open_rating([deputy_id])
    ballot = {"question_id": "1", "choice": "satisfied", "ballot_key": "first-phone-1", "csrf": "x"}
    assert mine.post(f"/d/{meeting_id}/rate", ballot).status_code == 401
    assert not mine.socket_allowed(meeting_id) and other.socket_allowed(meeting_id)
    assert db.counts()["receipts"] == 0

    audit = audit_of(db, deputy_id)
    assert [(a, who, d["how"]) for a, who, _, d in audit] == [
        ("phone_bound", f"deputy:{deputy_id}", "link"),
        ("phone_moved", f"deputy:{deputy_id}", "move"),
    ]
    assert "deputy's phone" in audit[0][2] and "the browser app" in audit[1][2]


def test_the_card_codes_bind_only_a_card_with_no_phone(
    client: TestClient, hall: Hall, db: Db, keys: Keys
) -> None:
    meeting_id = hall.meeting_id
    hall.act_ok("open_checkin")
    deputy_id, name, _, card_no, short_code, version = roster(db)[6]
    link = f"/i/{meeting_id}/{keys.invitation(deputy_id, version)}"
    wechat, browser = Phone(client, "WeChat"), Phone(client, "the phone's browser")
    assert wechat.get(link).status_code == 303

    # The right codes on a card that has a phone: refused, before the code is compared.
    refused = browser.type_card(keys, meeting_id, card_no, short_code)
    assert refused.status_code == 409 and ELSEWHERE in refused.text and "二维码" in refused.text
    assert browser.cookie == "" and wechat.bound(meeting_id, name) and wechat.socket_allowed(meeting_id)
    assert [a for a, _, _, _ in audit_of(db, deputy_id)] == ["phone_bound"], "no attempt was counted"

    # A card with no phone: a typo is refused, the right code binds and checks in.
    other_id, other_name, _, other_no, other_code, _ = roster(db)[10]
    phone = Phone(client, "a deputy in WeChat")
    wrong = phone.type_card(keys, meeting_id, other_no, "0" * 8 if other_code != "0" * 8 else "1" * 8)
    assert wrong.status_code == 400 and "卡号或验证码不正确" in wrong.text and phone.cookie == ""
    right = phone.type_card(keys, meeting_id, other_no, f"{other_code[:4]} {other_code[4:]}")  # as printed
    assert right.status_code == 303 and phone.bound(meeting_id, other_name)
    assert db.state().is_present(other_id)
    actions = [(a, d.get("how"), d.get("failures")) for a, _, _, d in audit_of(db, other_id)]
    assert actions == [("bind_failed", None, 1), ("phone_bound", "card", None)]


def test_typing_the_codes_needs_the_hall_code(client: TestClient, hall: Hall, db: Db, keys: Keys) -> None:
    meeting_id = hall.meeting_id
    hall.act_ok("open_checkin")
    _, _, _, card_no, short_code, _ = roster(db)[11]
    phone = Phone(client, "at home")
    page = phone.get(f"/d/{meeting_id}")
    assert 'name="short_code"' not in page.text, "no code form without the hall QR"
    form = {"card_no": card_no, "short_code": short_code}
    no_hall = phone.form(f"/d/{meeting_id}/bind", form, page=f"/h/{meeting_id}/{hall_code(keys, meeting_id)}")
    assert no_hall.status_code == 400 and "签到二维码" in no_hall.text and phone.cookie == ""
    old = keys.hall_code(meeting_id, int(time.time() // 30) - 5)
    shown = PRE.search(phone.get(f"/h/{meeting_id}/{hall_code(keys, meeting_id)}").text)
    assert shown
    phone.hall = ""  # an old code with no grant of this browser's own (Keys.hall_grant)
    stale = phone.post(f"/d/{meeting_id}/bind", {**form, "hall": old, "pre": shown.group(1)})
    assert stale.status_code == 410
    assert phone.cookie == ""
    ok = phone.form(
        f"/d/{meeting_id}/bind",
        {**form, "hall": hall_code(keys, meeting_id)},
        page=f"/h/{meeting_id}/{hall_code(keys, meeting_id)}",
    )
    assert ok.status_code == 303 and phone.cookie


def test_staff_release_a_card_for_a_new_phone(
    client: TestClient, db: Db, keys: Keys, meeting_id: int
) -> None:
    deputy_id, name, _, _, _, version = roster(db)[7]
    link = f"/i/{meeting_id}/{keys.invitation(deputy_id, version)}"
    lost, new = Phone(client, "the lost phone"), Phone(client, "the new phone")
    assert lost.get(link).status_code == 303
    assert new.get(link).status_code == 409

    csrf = login(client, meeting_id)
    sheet = client.get(f"/m/{meeting_id}/cards", params={"group": "*"}).text  # every group
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
    asked = lost.get(link)
    assert asked.status_code == 409 and lost.cookie and SIGNED_OUT in lost.get(f"/d/{meeting_id}").text

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
    client: TestClient, hall: Hall, db: Db, keys: Keys, meeting_id: int, how: str
) -> None:
    hall.act_ok("open_checkin")  # typed codes are for the hall, during check-in
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
        reply = fresh.type_card(keys, meeting_id, card_no, short_code)
    assert reply.status_code == 303 and fresh.bound(meeting_id, name)
    assert not old.bound(meeting_id, name)


def test_a_slow_typist_is_not_sent_back_to_the_projector(
    client: TestClient, hall: Hall, db: Db, keys: Keys
) -> None:
    """The hall code lasts a minute; typing a card number and 8 digits may take longer.
    The browser that opened a valid code gets a grant cookie good for the meeting's grace
    (5 minutes by default); a form without it, or with a forged or foreign one, is sent back."""
    meeting_id = hall.meeting_id
    hall.act_ok("open_checkin")
    _, name, _, card_no, short_code, _ = roster(db)[12]
    phone = Phone(client, "a slow typist")
    page = phone.get(f"/h/{meeting_id}/{hall_code(keys, meeting_id)}")
    pre = PRE.search(page.text)
    assert pre and phone.hall, "opening a valid hall code gives this browser its grant"
    assert 'name="ticket"' not in page.text, "no bearer proof in the page to copy"
    # Minutes later the code in the page's address has long expired.
    stale = keys.hall_code(meeting_id, int(time.time() // 30) - 6)
    form = {"card_no": card_no, "short_code": short_code, "pre": pre.group(1)}
    grant, phone.hall = phone.hall, ""
    assert phone.post(f"/h/{meeting_id}/{stale}", form).status_code == 410, "no grant: sent back"
    phone.hall = grant
    late = phone.post(f"/h/{meeting_id}/{stale}", form)
    assert late.status_code == 303 and phone.bound(meeting_id, name)
    # A grant older than the grace, forged, or another meeting's is no proof.
    other = Phone(client, "another")
    _, _, _, other_no, other_code, _ = roster(db)[13]
    shown = other.get(f"/h/{meeting_id}/{hall_code(keys, meeting_id)}")
    other_form = {"card_no": other_no, "short_code": other_code, "pre": PRE.search(shown.text).group(1)}  # type: ignore[union-attr]
    for bad in (
        keys.hall_grant(meeting_id, time.time() - 301),
        f"{meeting_id}.1.00000000.forged",
        keys.hall_grant(meeting_id + 1, time.time()),
        keys.hall_grant(meeting_id, time.time() + 600),
    ):
        other.hall = bad
        refused = other.post(f"/h/{meeting_id}/{stale}", other_form)
        assert refused.status_code == 410 and other.cookie == "", bad
