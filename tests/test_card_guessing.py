"""Nobody takes a deputy's card by guessing its short code (server/storage/guards.py).

The attacker is the strongest the promise names: a script on a keep-alive connection,
in the hall or watching the stream (it has a valid hall code and the page's form token),
card numbers in sequence. Against a real server process it tries as fast as it can, and:

- a card with a phone is never taken, not even with its right code;
- from one address, at most ``ADDRESS_FAILURES`` codes are compared per window; past that
  every attempt is refused unread, so the odds of a hit stay hopeless (the figures file
  gives the guesses a day and the chance of one hit);
- a card under a delay is refused unread: even its right code does not bind it then;
- nobody else is locked out: a deputy on another address binds at once, and staff see the
  attempts on the cards page and in the audit trail and can lock or unlock a card.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from server.base.keys import Keys
from server.storage import guards
from server.web import throttle
from tests.conftest import Db, Hall, figures, pre_form

ATTACKER, DEPUTY = "127.0.0.2", "127.0.0.3"


@pytest.fixture
def clients() -> Iterator[Callable[[str, str], httpx.Client]]:
    """HTTP clients from other loopback addresses (all of 127.0.0.0/8 is this machine)."""
    opened: list[httpx.Client] = []

    def make(base_url: str, address: str) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=address)
        client = httpx.Client(
            base_url=base_url, transport=transport, timeout=15, trust_env=False, follow_redirects=False
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def hall_code(keys: Keys, meeting_id: int) -> str:
    return keys.hall_code(meeting_id, int(time.time() // 30))


@pytest.mark.slow
def test_a_script_guessing_codes_takes_no_card(
    spawn: Any, keys: Keys, meeting_id: int, db: Db, clients: Callable[[str, str], httpx.Client]
) -> None:
    client_from = clients
    server = spawn()
    roster = db.deputies()
    with server.client() as staff_http:
        staff = Hall(staff_http, keys, meeting_id)
        staff.act_ok("open_checkin")
        # A deputy whose phone is bound and checked in: the attacker's first target.
        bound_id, bound_no, bound_code = roster[0]
        staff.deputy_page(bound_id)
        staff.act_ok("check_in", deputy_id=bound_id)

        attacker = client_from(server.base_url, ATTACKER)
        code = hall_code(keys, meeting_id)
        page = f"/h/{meeting_id}/{code}"
        token = re.search(r'name="pre" value="([0-9a-f]+)"', attacker.get(page).text)
        assert token, "the attacker gets the form like anyone in the hall"

        def guess(card_no: str, short_code: str) -> httpx.Response:
            data = {"card_no": card_no, "short_code": short_code, "pre": token.group(1)}
            return attacker.post(f"/h/{meeting_id}/{hall_code(keys, meeting_id)}", data=data)

        # 1. The bound card, with its right code: taken away from nobody.
        right_on_bound = guess(bound_no, bound_code)
        assert right_on_bound.status_code == 409 and "wz_deputy=" not in right_on_bound.headers.get(
            "set-cookie", ""
        )
        assert "本机已退出" not in staff.deputy_page(bound_id)

        # 2. The flood: card numbers in sequence, codes counted up, as fast as it goes.
        targets = [card_no for _, card_no, _ in roster[1:31]]
        answers: dict[int, int] = {}
        started = time.monotonic()
        tries = 0
        while time.monotonic() - started < 6 and tries < 600:
            reply = guess(targets[tries % len(targets)], f"{tries:08d}")
            answers[reply.status_code] = answers.get(reply.status_code, 0) + 1
            assert "wz_deputy=" not in reply.headers.get("set-cookie", ""), "a guess bound a card"
            tries += 1
        elapsed = time.monotonic() - started
        compared = answers.get(400, 0)
        assert compared <= throttle.ADDRESS_FAILURES, answers
        assert answers.get(429, 0) >= tries - throttle.ADDRESS_FAILURES - len(targets), answers
        assert set(answers) <= {400, 429}, answers

        # 3. A card in its delay is refused unread, even with its right code (from a
        # fresh address: the address throttle is not what stops it here).
        victim_id, victim_no, victim_code = roster[40]
        second = client_from(server.base_url, "127.0.0.5")
        for n in range(guards.FREE_FAILURES + 1):
            wrong = pre_form(second, page, page, {"card_no": victim_no, "short_code": f"9{n:07d}"})
            assert wrong.status_code in (400, 429), wrong.status_code
        unread = pre_form(second, page, page, {"card_no": victim_no, "short_code": victim_code})
        assert unread.status_code == 429 and "秒后再试" in unread.text
        assert "wz_deputy=" not in unread.headers.get("set-cookie", ""), (
            "the right code during the delay bound it"
        )

        # 4. Nobody else is locked out: a deputy on another address binds their own card.
        deputy = client_from(server.base_url, DEPUTY)
        _, own_no, own_code = roster[45]
        mine = pre_form(deputy, page, page, {"card_no": own_no, "short_code": own_code})
        assert mine.status_code == 303 and "wz_deputy=" in mine.headers["set-cookie"]

        # 5. Staff see it: the cards page and the audit trail name the attempts and the
        # address; unlocking the victim's card lets its deputy in.
        csrf = staff.chair_headers()["x-csrf-token"]
        cards = staff_http.get(f"/m/{meeting_id}/cards?group=*", headers=staff.chair_headers()).text
        victim_card = cards.split(f'id="card-{victim_id}"')[1].split("</article>")[0]
        assert "验证码错误" in victim_card and "127.0.0.5" in victim_card
        trail = staff_http.get(f"/m/{meeting_id}/audit.csv", headers=staff.chair_headers()).text
        assert trail.count("验证码错误") >= compared and f"来自 {ATTACKER}" in trail
        lock = staff_http.post(
            f"/m/{meeting_id}/cards/{victim_id}/unlock", data={"csrf": csrf}, headers=staff.chair_headers()
        )
        assert lock.status_code == 303
        rescued = pre_form(
            client_from(server.base_url, "127.0.0.6"),
            page,
            page,
            {"card_no": victim_no, "short_code": victim_code},
        )
        assert rescued.status_code == 303, rescued.text[:500]

    per_day = throttle.ADDRESS_FAILURES * 86400 / throttle.ADDRESS_WINDOW_S
    figures(
        "card-guessing",
        attempts=tries,
        seconds=round(elapsed, 1),
        answers=answers,
        codes_compared=compared,
        guesses_per_address_per_day=int(per_day),
        chance_of_a_hit_per_address_per_day=f"{per_day / 10**8:.1e}",
    )


@pytest.mark.slow
def test_staff_lock_a_card_against_any_new_phone(
    spawn: Any, keys: Keys, meeting_id: int, db: Db, clients: Callable[[str, str], httpx.Client]
) -> None:
    client_from = clients
    server = spawn()
    deputy_id, card_no, short_code = db.deputies()[12]
    with server.client() as staff_http:
        staff = Hall(staff_http, keys, meeting_id)
        staff.act_ok("open_checkin")
        headers = staff.chair_headers()
        locked = staff_http.post(
            f"/m/{meeting_id}/cards/{deputy_id}/lock", data={"csrf": headers["x-csrf-token"]}, headers=headers
        )
        assert locked.status_code == 303
        page = f"/h/{meeting_id}/{hall_code(keys, meeting_id)}"
        phone = client_from(server.base_url, DEPUTY)
        refused = pre_form(phone, page, page, {"card_no": card_no, "short_code": short_code})
        assert refused.status_code == 423 and "锁定" in refused.text
        link = phone.get(f"/i/{meeting_id}/{keys.invitation(deputy_id, 1)}")
        assert link.status_code == 423 and "wz_deputy=" not in link.headers.get("set-cookie", "")
        sheet = staff_http.get(f"/m/{meeting_id}/cards?group=*", headers=headers).text
        assert "已锁定：不能绑定新手机" in sheet.split(f'id="card-{deputy_id}"')[1].split("</article>")[0]
        staff_http.post(
            f"/m/{meeting_id}/cards/{deputy_id}/unlock",
            data={"csrf": headers["x-csrf-token"]},
            headers=headers,
        )
        assert phone.get(f"/i/{meeting_id}/{keys.invitation(deputy_id, 1)}").status_code == 303
    trail = [row for row in staff_http_trail(server, staff) if "代表证" in row]
    assert any("锁定代表证" in row for row in trail) and any("解锁代表证" in row for row in trail)


def staff_http_trail(server: Any, staff: Hall) -> list[str]:
    with server.client() as http:
        return http.get(f"/m/{staff.meeting_id}/audit.csv", headers=staff.chair_headers()).text.splitlines()
