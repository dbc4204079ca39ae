"""Presence beyond the QR code: the hall network, check-ins from elsewhere, and the real
address of a phone behind a reverse proxy (server/base/presence.py, server/web/proxy.py).

Real server processes; phones are HTTP clients bound to other loopback addresses (all of
127.0.0.0/8 reaches this machine), so the server sees each one's own address.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from server.base.keys import Keys
from server.web import throttle
from tests.conftest import Db, Hall, pre_form

Clients = Callable[[str, str], httpx.Client]


@pytest.fixture
def clients() -> Iterator[Clients]:
    opened: list[httpx.Client] = []

    def make(base_url: str, address: str) -> httpx.Client:
        client = httpx.Client(
            base_url=base_url,
            transport=httpx.HTTPTransport(local_address=address),
            timeout=15,
            trust_env=False,
            follow_redirects=False,
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def shown_address(reply: httpx.Response) -> str:
    found = re.search(r'id="whoami-address">([^<]+)<', reply.text)
    assert found, reply.text[:300]
    return found.group(1)


def hall_page(keys: Keys, meeting_id: int) -> str:
    return f"/h/{meeting_id}/{keys.hall_code(meeting_id, int(time.time() // 30))}"


def check_in_phone(http: httpx.Client, hall: Hall, keys: Keys, deputy_id: int) -> httpx.Response:
    """A bound phone scans the hall QR and confirms (answered with its page: 200)."""
    page = hall_page(keys, hall.meeting_id)
    headers = hall.deputy_headers(deputy_id)
    assert http.get(f"/d/{hall.meeting_id}", headers=headers).status_code == 200  # its card's phone
    return http.post(page, headers=headers)


@pytest.mark.slow
def test_forwarded_addresses_are_believed_only_from_the_proxy(spawn: Any, clients: Clients) -> None:
    plain = spawn()
    forged = {"x-forwarded-for": "10.9.9.9", "x-forwarded-proto": "https"}
    assert shown_address(clients(plain.base_url, "127.0.0.2").get("/whoami", headers=forged)) == "127.0.0.2"

    proxied = spawn(WENZHENG_TRUSTED_PROXIES="127.0.0.1")
    proxy, phone = clients(proxied.base_url, "127.0.0.1"), clients(proxied.base_url, "127.0.0.2")
    assert shown_address(proxy.get("/whoami", headers=forged)) == "10.9.9.9"
    # The right-most address our proxy did not add itself is the client's.
    chain = {"x-forwarded-for": "203.0.113.7, 10.9.9.8, 127.0.0.1"}
    assert shown_address(proxy.get("/whoami", headers=chain)) == "10.9.9.8"
    assert shown_address(proxy.get("/whoami", headers={"x-forwarded-for": "not an address"})) == "127.0.0.1"
    assert shown_address(proxy.get("/whoami")) == "127.0.0.1"
    # Anyone else's header is ignored.
    assert shown_address(phone.get("/whoami", headers=forged)) == "127.0.0.2"


@pytest.mark.slow
def test_behind_the_proxy_one_guesser_is_throttled_not_the_hall(
    spawn: Any, clients: Clients, keys: Keys, meeting_id: int, db: Db
) -> None:
    """Per-address limits count the real address: the proxy is not one big guesser, and
    a guesser without the proxy cannot dodge them with a forged header."""
    server = spawn(WENZHENG_TRUSTED_PROXIES="127.0.0.1")
    with server.client() as staff_http:
        Hall(staff_http, keys, meeting_id).act_ok("open_checkin")
    proxy = clients(server.base_url, "127.0.0.1")
    page = hall_page(keys, meeting_id)
    roster = db.deputies()

    def guess(http: httpx.Client, n: int, headers: dict[str, str]) -> int:
        form = {"card_no": roster[1 + n % 20][1], "short_code": f"{n:08d}"}
        return pre_form(http, page, page, form, headers=headers).status_code

    guesser = {"x-forwarded-for": "10.0.0.66"}
    answers = [guess(proxy, n, guesser) for n in range(throttle.ADDRESS_FAILURES + 5)]
    assert answers[-1] == 429 and answers.count(400) <= throttle.ADDRESS_FAILURES
    # Another phone through the same proxy binds its own card.
    _, card_no, code = roster[30]
    mine = pre_form(
        proxy, page, page, {"card_no": card_no, "short_code": code}, headers={"x-forwarded-for": "10.0.0.77"}
    )
    assert mine.status_code == 303 and "wz_deputy=" in mine.headers["set-cookie"]
    # Without the proxy, a forged header changes nothing: still one address, throttled.
    direct = clients(server.base_url, "127.0.0.9")
    rotating = [
        guess(direct, n, {"x-forwarded-for": f"10.1.{n}.1"}) for n in range(throttle.ADDRESS_FAILURES + 5)
    ]
    assert rotating[-1] == 429


@pytest.mark.slow
def test_the_hall_network_refuses_check_in_from_elsewhere(
    spawn: Any, clients: Clients, keys: Keys, meeting_id: int, db: Db
) -> None:
    server = spawn()
    with server.client() as staff_http:
        hall = Hall(staff_http, keys, meeting_id)
        headers = hall.chair_headers()
        # Set through the product's own page, once the meeting has begun (it often is
        # found on the day): the hall Wi-Fi is 127.0.0.2 here.
        hall.act_ok("open_checkin")
        edit = f"/meetings/{meeting_id}/edit"
        form = {"action": "hall_networks", "csrf": headers["x-csrf-token"]}
        bad = staff_http.post(edit, data={**form, "hall_networks": "192.168.1.300/24"}, headers=headers)
        assert bad.status_code == 400 and "会场网络“192.168.1.300/24”格式不正确" in bad.text
        saved = staff_http.post(edit, data={**form, "hall_networks": "127.0.0.2"}, headers=headers)
        assert saved.status_code == 303, saved.text[:500]
        assert "127.0.0.2/32" in staff_http.get(edit, headers=headers).text
        ids = [d for d, _, _ in db.deputies()]

        home = clients(server.base_url, "127.0.0.3")
        away = check_in_phone(home, hall, keys, ids[0])
        assert away.status_code == 403 and "不在会场网络中" in away.text
        # The hall QR's page itself, and so typing a card's code, is refused there.
        shown = home.get(hall_page(keys, meeting_id))
        assert (
            shown.status_code == 403
            and "不在会场网络中" in shown.text
            and 'name="short_code"' not in shown.text
        )

        in_hall = clients(server.base_url, "127.0.0.2")
        assert check_in_phone(in_hall, hall, keys, ids[2]).status_code == 200  # answered with its page
        hall.act_ok("check_in", deputy_id=ids[0])  # staff still check a deputy in by hand
        state = db.state()
        assert state.is_present(ids[0]) and state.is_present(ids[2]) and not state.is_present(ids[1])


@pytest.mark.slow
def test_the_console_marks_check_ins_from_outside_the_halls_network(
    spawn: Any, clients: Clients, keys: Keys, meeting_id: int, db: Db
) -> None:
    """No hall network set: check-ins from elsewhere get in, and the console says so."""
    server = spawn()
    with server.client() as staff_http:
        hall = Hall(staff_http, keys, meeting_id)
        hall.act_ok("open_checkin")
        deputies = db.deputies()
        for n, address in enumerate(("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")):
            assert (
                check_in_phone(clients(server.base_url, address), hall, keys, deputies[n][0]).status_code
                == 200
            )
        console = hall.console()
        assert 'id="c-outside"' not in console
        at_home = deputies[9]
        assert (
            check_in_phone(clients(server.base_url, "127.0.1.9"), hall, keys, at_home[0]).status_code == 200
        )
        marked = re.search(r'<p class="c-outside" id="c-outside">(.*?)</p>', hall.console(), re.S)
        assert marked and "1 人" in marked.group(1) and f"（{at_home[1]}）" in marked.group(1)
        hall.act_ok("check_in", deputy_id=deputies[10][0])  # by hand: no network, no mark
        assert "1 人" in hall.console()
