"""Check-in an elderly deputy can finish, over HTTP (issue 16).

The hall code rotates every 30 seconds and is good for a minute; a phone that opened a
valid one holds a grant cookie (server/base/keys.py ``hall_grant``) for the meeting's
``checkin_grace_minutes`` (5 by default, on the meeting's edit page). Past it the form is
refused with a clear message and a way back. A refused form keeps the card number typed.
A second scan after checking in says 已签到 with the time (China time); a hall link
after check-in closed says 签到已结束 and whom to ask, and binds no card.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from server.base.keys import Keys
from tests.conftest import Db, Hall, TestClient
from tests.test_cards import roster
from tests.test_phones import PRE, Phone, hall_code

CHINA = dt.timezone(dt.timedelta(hours=8))


def _stale(keys: Keys, meeting_id: int) -> str:
    """A code of three windows ago: the projector has rotated past it twice."""
    return keys.hall_code(meeting_id, int(time.time() // 30) - 3)


def _typed(phone: Phone, page_text: str, card_no: str, short_code: str) -> dict[str, str]:
    found = PRE.search(page_text)
    assert found, page_text[:500]
    return {"card_no": card_no, "short_code": short_code, "pre": found.group(1)}


def _state(hall: Hall) -> Any:
    services: Any = hall.http.app.state.services  # type: ignore[attr-defined]
    return services.meetings.rooms[hall.meeting_id].runtime.state


def test_the_grace_window_and_after_it(client: TestClient, hall: Hall, db: Db, keys: Keys) -> None:
    mid = hall.meeting_id
    hall.act_ok("open_checkin")
    _, name, _, card_no, short_code, _ = roster(db)[20]
    phone = Phone(client, "slow")
    page = phone.get(f"/h/{mid}/{hall_code(keys, mid)}")
    assert page.status_code == 200 and phone.hall
    assert "5 分钟内提交都有效" in page.text  # the page says there is no hurry
    form = _typed(phone, page.text, card_no, short_code)

    # Within the grace: a refused form keeps the card number and gives no new grant.
    grant = phone.hall
    wrong = phone.post(f"/h/{mid}/{_stale(keys, mid)}", {**form, "short_code": "00000000"})
    assert (
        wrong.status_code == 400 and f'value="{card_no}"' in wrong.text and "卡号或验证码不正确" in wrong.text
    )
    assert phone.hall == grant, "a refused form never renews the grant"
    mistyped = phone.post(f"/h/{mid}/{_stale(keys, mid)}", {**form, "card_no": "99999x"})
    assert mistyped.status_code == 400 and 'value="99999x"' in mistyped.text, "kept to be corrected"

    # Past the grace (a grant six minutes old): refused, said plainly, with a way back.
    phone.hall = keys.hall_grant(mid, time.time() - 6 * 60)
    late = phone.post(f"/h/{mid}/{_stale(keys, mid)}", form)
    assert late.status_code == 410 and phone.cookie == ""
    assert "扫码已超过 5 分钟" in late.text and "重新扫描" in late.text
    assert f'href="/d/{mid}"' in late.text
    assert not _state(hall).is_present(roster(db)[20][0])
    # Opening the projector's current code again gives a new grant, and it goes through.
    again = phone.get(f"/h/{mid}/{hall_code(keys, mid)}")
    done = phone.post(f"/h/{mid}/{_stale(keys, mid)}", _typed(phone, again.text, card_no, short_code))
    assert done.status_code == 303 and phone.bound(mid, name)
    assert _state(hall).is_present(roster(db)[20][0])


def test_the_grace_is_a_setting_of_the_meeting(client: TestClient, hall: Hall, db: Db, keys: Keys) -> None:
    mid = hall.meeting_id
    headers = hall.chair_headers()
    hall.act_ok("open_checkin")  # editable once the meeting has begun, like the hall network
    edit = f"/meetings/{mid}/edit"
    base = {"action": "hall_networks", "csrf": headers["x-csrf-token"], "hall_networks": ""}
    bad = client.post(edit, data={**base, "checkin_grace_minutes": "半小时"}, headers=headers)
    assert bad.status_code == 400 and "1 至 30 之间的整数分钟" in bad.text
    saved = client.post(edit, data={**base, "checkin_grace_minutes": "2"}, headers=headers)
    assert saved.status_code == 303, saved.text[:300]
    assert 'name="checkin_grace_minutes" value="2"' in client.get(edit, headers=headers).text
    _, _, _, card_no, short_code, _ = roster(db)[21]
    phone = Phone(client, "two minutes")
    page = phone.get(f"/h/{mid}/{hall_code(keys, mid)}")
    assert "2 分钟内提交都有效" in page.text
    form = _typed(phone, page.text, card_no, short_code)
    phone.hall = keys.hall_grant(mid, time.time() - 150)  # inside 5 minutes, past 2
    late = phone.post(f"/h/{mid}/{_stale(keys, mid)}", form)
    assert late.status_code == 410 and "扫码已超过 2 分钟" in late.text and phone.cookie == ""
    phone.hall = keys.hall_grant(mid, time.time() - 90)
    assert phone.post(f"/h/{mid}/{_stale(keys, mid)}", form).status_code == 303


def test_a_second_scan_says_checked_in_with_the_time(
    client: TestClient, hall: Hall, db: Db, keys: Keys
) -> None:
    mid = hall.meeting_id
    hall.act_ok("open_checkin")
    deputy_id, name, _, card_no, short_code, _ = roster(db)[22]
    phone = Phone(client, "twice")
    page = phone.get(f"/h/{mid}/{hall_code(keys, mid)}")
    before = dt.datetime.now(CHINA).strftime("%H:%M")
    assert (
        phone.post(
            f"/h/{mid}/{hall_code(keys, mid)}", _typed(phone, page.text, card_no, short_code)
        ).status_code
        == 303
    )
    after = dt.datetime.now(CHINA).strftime("%H:%M")
    for code in (hall_code(keys, mid), _stale(keys, mid)):  # the projector's code now, or an old link
        again = phone.get(f"/h/{mid}/{code}")
        assert again.status_code == 200 and "确认签到" not in again.text and 'id="checked-in"' in again.text
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", again.text))
        assert "已签到" in text and name in text
        assert re.search(rf"已于 ({before}|{after}) 签到", text), text
    # Even after check-in closed, the deputy's own phone says so, not 签到已结束.
    hall.act_ok("close_checkin")
    closed = phone.get(f"/h/{mid}/{hall_code(keys, mid)}")
    assert closed.status_code == 200 and 'id="checked-in"' in closed.text
    assert _state(hall).is_present(deputy_id)


def test_after_the_close_the_link_says_so_and_binds_nothing(
    client: TestClient, hall: Hall, db: Db, keys: Keys
) -> None:
    mid = hall.meeting_id
    hall.act_ok("open_checkin")
    deputy_id, name, _, card_no, short_code, _ = roster(db)[23]
    phone = Phone(client, "late")
    page = phone.get(f"/h/{mid}/{hall_code(keys, mid)}")
    form = _typed(phone, page.text, card_no, short_code)
    hall.act_ok("close_checkin")
    # The form sent after the close: told, and the card is NOT bound (the order: the
    # check-in is known to fail before the card is touched).
    sent = phone.post(f"/h/{mid}/{hall_code(keys, mid)}", form)
    assert sent.status_code == 409 and "签到已结束" in sent.text and "会务人员" in sent.text
    assert phone.cookie == "" and not phone.bound(mid, name)
    assert not _state(hall).is_present(deputy_id)
    # A hall link opened after the close, fresh or old: 签到已结束 and whom to ask, never 已过期.
    for code in (hall_code(keys, mid), _stale(keys, mid)):
        late = Phone(client, "later").get(f"/h/{mid}/{code}")
        assert late.status_code == 409 and "签到已结束" in late.text and "会务人员" in late.text
        assert "过期" not in late.text and 'name="short_code"' not in late.text
    forged = Phone(client, "forged").get(f"/h/{mid}/1.forged")
    assert forged.status_code == 400 and "二维码无效" in forged.text
    # The card is still free: the deputy's own card QR (or staff) binds it later.
    other = Phone(client, "card qr")
    hall.act_ok("open_checkin")
    again = other.get(f"/h/{mid}/{hall_code(keys, mid)}")
    assert (
        other.post(
            f"/h/{mid}/{hall_code(keys, mid)}", _typed(other, again.text, card_no, short_code)
        ).status_code
        == 303
    )


def test_a_manual_check_in_is_recorded_as_such_with_who_did_it(
    client: TestClient, hall: Hall, db: Db
) -> None:
    mid = hall.meeting_id
    headers = hall.chair_headers()
    hall.act_ok("open_checkin")
    deputy_id, name, _, card_no, _, _ = roster(db)[24]
    hall.act_ok("check_in", deputy_id=deputy_id)
    row = client.get(f"/m/{mid}/roster", params={"q": card_no}, headers=headers).text
    assert "已签到" in row and ">人工签到<" not in row, "no second click offered"
    audit = client.get(f"/m/{mid}/audit", headers=headers).text
    rows = [r for r in re.findall(r"<tr.*?</tr>", audit, re.S) if name in r and "人工签到" in r]
    assert rows and "演示主持人" in rows[0], "the audit names the staff user who did it"
    hall.act_ok("close_meeting")
    member = client.get(f"/bodies/1/deputies/{deputy_id}/attendance", headers=headers)
    assert member.status_code == 200 and "人工签到（演示主持人）" in member.text


def test_a_bound_phone_confirms_within_the_grace_too(
    client: TestClient, hall: Hall, db: Db, keys: Keys
) -> None:
    mid = hall.meeting_id
    deputy_id, name, _, card_no, short_code, _ = roster(db)[25]
    phone = Phone(client, "bound before")
    phone.type_card(keys, mid, card_no, short_code)  # check-in not open yet: bound, not checked in
    assert phone.bound(mid, name) and not _state(hall).is_present(deputy_id)
    hall.act_ok("open_checkin")
    page = phone.get(f"/h/{mid}/{hall_code(keys, mid)}")
    assert page.status_code == 200 and "确认签到" in page.text and phone.hall
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    grant, phone.hall = phone.hall, ""
    assert phone.post(f"/h/{mid}/{_stale(keys, mid)}", {"csrf": csrf.group(1)}).status_code == 410
    phone.hall = grant
    done = phone.post(f"/h/{mid}/{_stale(keys, mid)}", {"csrf": csrf.group(1)})
    assert done.status_code == 200 and _state(hall).is_present(deputy_id)  # answered with its page
    assert 'data-replace-url="/d/' in done.text
