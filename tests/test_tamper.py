"""Deputy A cannot act as deputy B: not with an edited cookie, a cookie signed with
another key, B's CSRF token, B's id in the form, or an edited invitation link; and a
staff cookie with roles written in gets no further than the login page.
"""

from __future__ import annotations

import base64
import json

from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from server.base.keys import Keys
from tests.conftest import CHAIR_ROLES, Db, Hall, TestClient, staff_login

A, B = 2, 3


def resigned_payload(cookie: str, payload: object) -> str:
    """Someone else's payload under the original signature: the edit an attacker makes."""
    _, signature = cookie.rsplit(".", 1)
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=")
    return f"{body.decode()}.{signature}"


def test_deputy_a_cannot_rate_as_deputy_b(hall: Hall, db: Db, keys: Keys) -> None:
    hall.open_rating((A, B))
    a = hall.deputy_headers(A)
    hall.deputy_page(A)
    a_cookie = hall.deputy_cookie(A)
    b_sid = keys.read_deputy(hall.deputy_cookie(B)).sid  # type: ignore[union-attr]
    ballot = {"question_id": "1", "choice": "dissatisfied", "ballot_key": "tamper-1"}
    edited = resigned_payload(a_cookie, [B, 1, b_sid])
    foreign = URLSafeSerializer("another installation's key", salt="deputy-cookie").dumps([B, 1, b_sid])
    before = db.counts()
    for cookie, token, status in (
        (edited, keys.csrf(b_sid), 401),
        (foreign, keys.csrf(b_sid), 401),
        (a_cookie, keys.csrf(b_sid), 403),  # A's cookie with B's token
        (a_cookie[:-2] + ("AA" if not a_cookie.endswith("AA") else "BB"), a["x-csrf-token"], 401),
    ):
        reply = hall.http.post(
            "/d/1/rate", data=ballot, headers={"cookie": f"wz_deputy={cookie}", "x-csrf-token": token}
        )
        assert reply.status_code == status, (status, reply.text)
    assert db.counts() == before

    # B's id in A's form changes nothing: the deputy is the cookie's, never the form's.
    reply = hall.http.post("/d/1/rate", data={**ballot, "deputy_id": str(B)}, headers=a)
    assert reply.status_code == 200 and 'id="d-receipt"' in reply.text
    assert db.receipts(1) == {A: "tamper-1"}


def test_an_edited_invitation_link_binds_nobody(client: TestClient, keys: Keys, db: Db) -> None:
    token = keys.invitation(A, 1)
    for bad in (
        resigned_payload(token, [B, 1]),
        URLSafeSerializer("another installation's key", salt="invitation").dumps([B, 1]),
        # A changed character inside the signature (the last one may only carry base64's
        # padding bits, and then decodes to the same signature).
        token[:-5] + ("x" if token[-5] != "x" else "y") + token[-4:],
    ):
        reply = client.get(f"/i/1/{bad}")
        assert reply.status_code == 404 and "邀请链接无效" in reply.text
        assert "set-cookie" not in reply.headers
    assert db.counts()["events"] == 0


def test_a_staff_cookie_with_roles_written_in_is_refused(client: TestClient, keys: Keys) -> None:
    chair = staff_login(client)
    assert client.get("/admin/users", headers={"cookie": f"wz_user={chair}"}).status_code == 200
    forged = URLSafeTimedSerializer("another installation's key", salt="staff-session").dumps(
        {"u": 1, "n": "chair", "r": ["admin", "chair", "staff"], "s": "x", "i": 0}
    )
    for cookie in (forged, chair[:-3] + ("abc" if not chair.endswith("abc") else "xyz")):
        reply = client.get("/admin/users", headers={"cookie": f"wz_user={cookie}"})
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login"), reply.text


def test_unpaired_screens_show_no_hall_code(hall: Hall, keys: Keys) -> None:
    """The projector shows the hall QR; a browser that was not paired sees only a code."""
    import time

    hall.act_ok("open_checkin")
    code = keys.hall_code(1, int(time.time() // 30))
    assert code in hall.projector(), "the paired projector shows the hall code"
    for path, cookie in (
        ("/m/1/projector", ""),
        ("/m/1/projector", f"wz_screen={keys.screen_cookie(1, 'podium')}"),
        ("/m/1/projector", f"wz_screen={keys.screen_cookie(2, 'projector')}"),
        (
            "/m/1/projector",
            "wz_screen=" + resigned_payload(keys.screen_cookie(2, "projector"), [1, "projector", "x"]),
        ),
        ("/m/1/podium", ""),
        ("/m/1/live", ""),
    ):
        hall.http.cookies.clear()
        page = hall.http.get(path, headers={"cookie": cookie} if cookie else {})
        assert page.status_code == 200
        assert code not in page.text and "/h/1/" not in page.text, (path, cookie)
        if path != "/m/1/live":
            assert 'id="pair-code"' in page.text, (path, cookie)


def test_a_signed_staff_cookie_with_an_impossible_user_id_is_no_session(
    client: TestClient, keys: Keys
) -> None:
    """Only the server signs these, but an id past any integer column must not reach a query."""
    for user_id in (2**63, 2**31, 0, -1):
        cookie = keys.staff_cookie(user_id, "chair", CHAIR_ROLES)
        reply = client.get("/admin/users", headers={"cookie": f"wz_user={cookie}"})
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login"), user_id
