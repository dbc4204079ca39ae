"""The adversary against what issue 16 added (the second wave's probe).

Each test plays an attacker the project's promises name (docs/design.md, RELIABILITY.md):
a guesser with a script, or a staff member holding every socket, the audit and a copy of
the database. What was probed without a finding is listed in docs/design.md ("Probed").
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator

import pytest

from server.base.keys import Keys
from server.web.throttle import PAIR_REQUESTS
from tests.conftest import Hall, TestClient
from tests.test_phones import Phone

CODE = re.compile(r'id="pair-code">(\d{6})<')


def _forced_codes(monkeypatch: pytest.MonkeyPatch, codes: list[int]) -> None:
    """The pairing codes drawn next, in order (then the last one again and again)."""
    drawn: Iterator[int] = iter(codes)
    last = codes[-1]

    def randbelow(_: int) -> int:
        return next(drawn, last)

    monkeypatch.setattr(secrets, "randbelow", randbelow)


def _asks(hall: Hall, path: str) -> tuple[str, str]:
    """An unpaired browser opens a screen page: the code it shows and its pairing cookie."""
    hall.http.cookies.clear()
    shown = hall.http.get(path)
    assert shown.status_code == 200, shown.text
    code = CODE.search(shown.text)
    assert code, shown.text
    cookie = shown.cookies.get("wz_pair")
    assert cookie
    return code.group(1), cookie


def _paired(hall: Hall, path: str, pair_cookie: str) -> bool:
    hall.http.cookies.clear()
    again = hall.http.get(path, headers={"cookie": f"wz_pair={pair_cookie}"})
    return again.status_code == 303 and "wz_screen=" in again.headers.get("set-cookie", "")


def test_a_flood_of_pairing_requests_cannot_take_the_code_staff_type(
    hall: Hall, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anyone may ask for pairing codes, as many as they like: six digits, ten minutes.
    Before, two pending requests could show the same code, and staff typing the code of
    the chair's tablet paired whichever request came first: the attacker's, as a
    projector (its hall code checks in from anywhere). A code is now unique among the
    meeting's pending requests, so what staff type pairs the screen that shows it."""
    _forced_codes(monkeypatch, [123456, 123456, 654321])
    attacker_code, attacker = _asks(hall, "/m/1/projector")
    tablet_code, tablet = _asks(hall, "/m/1/script")
    assert attacker_code == "123456"
    assert tablet_code != attacker_code
    approved = hall.http.post("/m/1/pair", data={"code": tablet_code}, headers=hall.chair_headers())
    assert approved.status_code == 200, approved.text
    assert "主持词屏" in approved.text
    assert not _paired(hall, "/m/1/projector", attacker)
    assert _paired(hall, "/m/1/script", tablet)


def test_a_code_two_requests_share_pairs_neither(hall: Hall, monkeypatch: pytest.MonkeyPatch) -> None:
    """When no free code is found (a code space flooded), the clash is refused at approval:
    staff are told the code is wrong and nobody is paired."""
    _forced_codes(monkeypatch, [123456])
    _, attacker = _asks(hall, "/m/1/projector")
    tablet_code, tablet = _asks(hall, "/m/1/script")
    refused = hall.http.post("/m/1/pair", data={"code": tablet_code}, headers=hall.chair_headers())
    assert refused.status_code == 400
    assert not _paired(hall, "/m/1/projector", attacker)
    assert not _paired(hall, "/m/1/script", tablet)


def test_one_address_cannot_flood_the_pairing_requests(hall: Hall) -> None:
    """Each unpaired page view without its pairing cookie wrote a new request: one script
    filled the meeting's code space and the table at the speed of the disk. An address
    gets PAIR_REQUESTS new requests in ten minutes; a screen that keeps its cookie is
    answered as before, and the refusal is a Chinese page, not a 500."""
    _, kept = _asks(hall, "/m/1/podium")
    for _ in range(PAIR_REQUESTS - 1):
        hall.http.cookies.clear()
        assert hall.http.get("/m/1/projector").status_code == 200
    hall.http.cookies.clear()
    flooded = hall.http.get("/m/1/projector")
    assert flooded.status_code == 429
    assert "过于频繁" in flooded.text
    hall.http.cookies.clear()
    forged = hall.http.get("/m/1/projector", headers={"cookie": "wz_pair=made-up"})
    assert forged.status_code == 429
    hall.http.cookies.clear()
    again = hall.http.get("/m/1/podium", headers={"cookie": f"wz_pair={kept}"})
    assert again.status_code == 200 and CODE.search(again.text)


# -- the check-in grace grant: probed, no finding (these hold it) --------------------------


def test_a_grant_is_for_its_meeting_its_time_and_its_signature_only(keys: Keys) -> None:
    now = time.time()
    grant = keys.hall_grant(1, now)
    assert keys.hall_grant_age(1, grant, now) == pytest.approx(0, abs=1)
    assert keys.hall_grant_age(2, grant, now) is None, "replayed in another meeting"
    meeting, _, nonce, mac = grant.split(".")
    assert keys.hall_grant_age(1, f"{meeting}.{int(now) + 3600:x}.{nonce}.{mac}", now) is None, "kept young"
    assert keys.hall_grant_age(1, keys.hall_grant(1, now + 3600), now) is None, "from the future"
    assert keys.hall_grant_age(1, f"{meeting}.{'f' * 5000}.{nonce}.{mac}", now) is None
    assert keys.hall_grant_age(1, "1.0.00000000." + "a" * 16, now) is None


def test_an_old_code_with_a_grant_never_renews_the_grant(client: TestClient, hall: Hall, keys: Keys) -> None:
    """Only a code valid now gives a grant: reopening the old link, or a refused form,
    within the grace leaves the grant as old as it was, so it cannot be kept alive."""
    mid = hall.meeting_id
    hall.act_ok("open_checkin")
    phone = Phone(client, "keeper")
    old = keys.hall_code(mid, int(time.time() // 30) - 3)
    phone.hall = keys.hall_grant(mid, time.time() - 4 * 60)
    grant = phone.hall
    page = phone.get(f"/h/{mid}/{old}")
    assert page.status_code == 200, page.text[:300]
    assert phone.hall == grant
