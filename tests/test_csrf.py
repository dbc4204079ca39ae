"""Every cookie-authenticated change needs the CSRF token of its session.

The routes come from the app itself: a POST route added later is tested here at once,
or the test fails until it is listed as one that needs no token (and says why). Each is
sent with a valid cookie of the right kind (staff with every role, a bound phone) and
the form a real page would send, but without the token, and then with the token of
another session: the answer is 403 and no table of the database changes.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from server.base.keys import Keys
from server.base.settings import Settings
from server.storage import models as m
from tests.conftest import CHAIR_ROLES, Db, Hall, TestClient

# No session to forge a request from: the credentials are in the form itself.
NO_SESSION = {
    "/login": "the password is the proof; a failed login changes nothing but the throttle",
    # No cookie: the organ's link is the credential. Its forms carry a token derived from
    # the link (Keys.organ_form) and must come from our origin: tests/test_organ_items_pages.py.
    "/o/{token}/items/{item_id:int}": "an organ's link, with its own form token and origin check",
}
# Forms a phone sends before it has a session: the token is the pre-session cookie's own
# value (server/web/http.py, ``pre_ok``), shown on the page that holds the form.
PRE_SESSION: dict[str, dict[str, str]] = {
    "/d/{meeting_id:int}/bind": {"card_no": "{card_no}", "short_code": "{short_code}", "hall": "{code}"},
    "/i/{meeting_id:int}/{token}": {},  # move the card to this phone (the link, confirmed)
}
# A change made by a form a real page sends, so that only the token is missing.
FORMS: dict[str, dict[str, str]] = {
    "/logout": {},
    "/account/password": {"old": "wenzheng-demo", "new": "a-new-password-1", "again": "a-new-password-1"},
    "/admin/users": {"username": "mallory", "display_name": "M", "roles": "admin"},
    "/admin/users/{user_id:int}/password": {},
    "/admin/users/{user_id:int}/roles": {"roles": "chair"},
    "/bodies/{body_id:int}/roster/preview": {},
    "/bodies/{body_id:int}/roster/confirm": {"token": "x"},
    "/bodies/{body_id:int}/officials/preview": {},
    "/bodies/{body_id:int}/officials/confirm": {"token": "x"},
    "/bodies/{body_id:int}/officials/{official_id:int}": {"name": "改名", "title": "局长"},
    "/bodies/{body_id:int}/organs": {"name": "伪造的单位"},
    "/bodies/{body_id:int}/organs/preview": {},
    "/bodies/{body_id:int}/organs/confirm": {"token": "x"},
    "/bodies/{body_id:int}/organs/{organ_id:int}": {"name": "改名"},
    "/bodies/{body_id:int}/organs/{organ_id:int}/revoke": {},
    "/bodies/{body_id:int}/deputies/{deputy_id:int}": {"name": "改名", "card_no": "9999"},
    "/bodies/new": {"name": "伪造的机构", "kind": "congress", "level": "county"},
    "/bodies/{body_id:int}/edit": {"name": "被改的机构", "kind": "congress", "level": "town", "quorum": ""},
    "/bodies/{body_id:int}/terms": {"number": "18", "starts_on": "2040-01-01"},
    "/bodies/{body_id:int}/terms/{term_id:int}": {"number": "17", "starts_on": "2000-01-01"},
    "/bodies/{body_id:int}/terms/{term_id:int}/sessions": {"number": ""},
    "/meetings/new": {
        "title": "伪造的会议",
        "body": "1",
        "kind": "inquiry",
        "held_on": "2030-01-01",
        "session": "new",
    },
    "/bodies/{body_id:int}/roster/by-election": {
        "name": "伪造代表",
        "group": "城东代表小组",
        "card_no": "9001",
        "starts_on": "2026-01-01",
    },
    "/bodies/{body_id:int}/deputies/{deputy_id:int}/end": {
        "ends_on": "2099-01-01",
        "reason": "resigned",
        "organ": "伪造机关",
        "document": "伪造文号",
    },
    "/bodies/{body_id:int}/deputies/{deputy_id:int}/suspend": {
        "starts_on": "2099-01-01",
        "reason": "伪造",
        "organ": "伪造机关",
    },
    "/bodies/{body_id:int}/deputies/{deputy_id:int}/suspensions/{suspension_id:int}/end": {
        "ends_on": "2099-01-01"
    },
    "/meetings/{meeting_id:int}/edit": {"title": "被改的标题"},
    "/m/{meeting_id:int}/record": {"chair": "被改的主持人", "note": "被改的会议记录说明"},
    "/meetings/{meeting_id:int}/clone": {"title": "复制"},
    "/meetings/{meeting_id:int}/rehearsal": {},
    "/meetings/{meeting_id:int}/rehearsal/reset": {},
    "/bodies/{body_id:int}/presidium": {"term": "1", "member_3": "1", "exec_3": "1"},
    "/m/{meeting_id:int}/reviewers": {"action": "grant", "deputy": "3"},
    "/m/{meeting_id:int}/followup": {
        "organ": "主席团",
        "decided_on": "2026-06-01",
        "document_no": "伪造文号",
        "reply_months": "3",
        **{f"item_{i}": "1" for i in range(1, 7)},
    },
    "/bodies/{body_id:int}/followup": {
        "title": "伪造的督办事项",
        "assigned_on": "2026-06-01",
        "reply_months": "3",
    },
    "/followup/{item_id:int}": {"action": "commitment", "text": "伪造的承诺"},
    "/m/{meeting_id:int}/act": {"cmd": "open_checkin"},
    "/m/{meeting_id:int}/pair": {"code": "123456"},
    "/m/{meeting_id:int}/script/edit": {"answer": "伪造的主持词{应询人}"},
    "/m/{meeting_id:int}/cards/release-phones": {"scope": "all"},
    "/m/{meeting_id:int}/cards/{deputy_id:int}/reissue": {},
    "/m/{meeting_id:int}/cards/{deputy_id:int}/release": {},
    "/m/{meeting_id:int}/cards/{deputy_id:int}/lock": {},
    "/m/{meeting_id:int}/cards/{deputy_id:int}/unlock": {},
    "/m/{meeting_id:int}/review": {"action": "approve", "id": "1"},
    "/d/{meeting_id:int}/questions": {"action": "submit", "title": "伪造的问题", "text": "x"},
    "/d/{meeting_id:int}/leave": {"action": "ask", "reason": "伪造的请假"},
    "/m/{meeting_id:int}/leave": {"action": "record", "deputy": "5", "reason": "伪造的请假"},
    "/bodies/{body_id:int}/deputies/{deputy_id:int}/attendance": {
        "meeting": "1",
        "status": "leave",
        "note": "x",
    },
    "/d/{meeting_id:int}/review": {"action": "approve", "sub": "1"},
    "/d/{meeting_id:int}/rate": {"question_id": "1", "choice": "satisfied", "ballot_key": "csrf-1"},
    "/d/{meeting_id:int}/vote": {"vote_id": "1", "choice": "yes", "ballot_key": "csrf-2"},
    "/d/{meeting_id:int}/floor": {"kind": "speech", "subject": "x"},
    "/h/{meeting_id:int}/{code}": {},  # a bound phone checks in: its cookie, so its token
    "/followup/{item_id:int}/post": {"kind": "progress", "organ": "1", "text": "伪造的进展"},
    "/bodies/{body_id:int}/followup/report": {
        "title": "伪造的报告",
        "overview": "伪造",
        "dated": "2026-12-01",
    },
    "/followup/{item_id:int}/public": {"public": "1"},
    "/followup/{item_id:int}/approval": {"post": "1", "action": "approve"},
    "/m/{meeting_id:int}/questions/{question_id:int}/commitments": {"text": "伪造的承诺"},
    "/m/{meeting_id:int}/questions/{question_id:int}/commitments/{commitment_id:int}/delete": {},
    "/d/{meeting_id:int}/followup/{item_id:int}": {"action": "object", "reason": "伪造的不同意办结"},
}
PHONE_ROUTES = ("/d/", "/h/")
# Uploads are read before the token (it is a field of the same multipart form).
ROSTER_CSV = "卡号,姓名,代表小组\n9001,伪造代表,城东代表小组\n".encode()
FILES = {
    "/bodies/{body_id:int}/roster/preview": ROSTER_CSV,
    "/bodies/{body_id:int}/officials/preview": "姓名,职务\n伪造,局长\n".encode(),
    "/bodies/{body_id:int}/organs/preview": "单位名称\n伪造的单位\n".encode(),
}


def post_routes(client: TestClient) -> list[str]:
    return [
        r.path
        for r in client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, Route) and "POST" in (r.methods or set())
    ]


def fill(path: str, hall_code: str, **more: str) -> str:
    values = {"meeting_id": "1", "body_id": "1", "user_id": "1", "official_id": "1", "deputy_id": "3"}
    values["term_id"] = "1"
    values["suspension_id"] = "1"
    values["item_id"] = "1"
    values["organ_id"] = "1"
    values["question_id"] = "1"
    values["commitment_id"] = "1"
    values.update(code=hall_code, **more)
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda g: values[g.group(1)], path)


def everything(db: Db) -> str:
    """A digest of every row of every table."""

    async def fn(conn: AsyncConnection) -> str:
        digest = hashlib.sha256()
        for table in m.metadata.sorted_tables:
            for row in await conn.execute(select(table).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
        return digest.hexdigest()

    return str(db._run(fn))


def test_every_post_route_is_listed(client: TestClient) -> None:
    routes, listed = set(post_routes(client)), set(FORMS) | set(NO_SESSION) | set(PRE_SESSION)
    assert routes == listed, f"new: {sorted(routes - listed)}; gone: {sorted(listed - routes)}"


@pytest.mark.parametrize("token", ["none", "another session's"])
def test_no_change_without_the_sessions_csrf_token(
    client: TestClient, hall: Hall, db: Db, keys: Keys, settings: Settings, token: str
) -> None:
    hall.act_ok("open_checkin")  # so the hall code is current and a check-in would count
    hall_code = keys.hall_code(1, int(time.time() // 30))
    deputy = 3
    hall.deputy_page(deputy)  # the phone is the card's phone
    before = everything(db)
    other_staff = keys.staff_cookie(1, "chair", CHAIR_ROLES)
    other_phone = keys.deputy_cookie(4, 1)
    answers: dict[str, int] = {}
    for path in FORMS:
        url = fill(path, hall_code)
        headers: dict[str, Any]
        if path.startswith(PHONE_ROUTES):
            cookie = f"wz_deputy={hall.deputy_cookie(deputy)}"
            foreign = keys.csrf(keys.read_deputy(other_phone).sid)  # type: ignore[union-attr]
        else:
            cookie = f"wz_user={hall.staff_cookie}"
            foreign = keys.csrf(keys.read_staff(other_staff).sid)  # type: ignore[union-attr]
        headers = {"cookie": cookie}
        data = dict(FORMS[path])
        if token != "none":
            headers["x-csrf-token"] = foreign
            data["csrf"] = foreign
        client.cookies.clear()
        upload = {"file": ("名册.csv", FILES[path], "text/csv")} if path in FILES else None
        reply = client.post(url, data=data, headers=headers, files=upload)
        answers[path] = reply.status_code
    # The pre-session forms, with the right proof otherwise: the card's codes in the hall,
    # the invitation link of a card another phone holds.
    _, card_no, short_code = db.deputies()[4]
    link_token = keys.invitation(deputy, 1)
    for path, form in PRE_SESSION.items():
        url = fill(path, hall_code, token=link_token)
        data = {k: fill(v, hall_code, card_no=card_no, short_code=short_code) for k, v in form.items()}
        if token != "none":
            data["pre"] = "b" * 32  # another phone's token
        client.cookies.clear()
        reply = client.post(url, data=data, headers={"cookie": f"wz_pre={'a' * 32}"})
        answers[path] = reply.status_code
    client.cookies.clear()
    wrong = {p: s for p, s in answers.items() if s != 403}
    assert not wrong, f"answered without the session's CSRF token: {wrong}"
    assert everything(db) == before, "a request without the token changed the database"
    uploads = settings.data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir()), "an upload was kept"


def test_the_same_requests_with_the_token_get_through(client: TestClient, hall: Hall, db: Db) -> None:
    """The forms above are real ones: with the session's token, a change goes through."""
    before = everything(db)
    assert hall.act("open_checkin").status_code == 200
    rating = {"question_id": "1", "choice": "satisfied", "ballot_key": "csrf-ok"}
    hall.act_ok("check_in", deputy_id=3)
    assert everything(db) != before
    assert (
        client.post("/d/1/rate", data=rating, headers=hall.deputy_headers(3)).status_code == 409
    )  # no rating open
