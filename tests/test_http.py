"""The HTTP edge: bad input gets a 4xx with a Chinese message and changes nothing.

The app runs in process (Starlette's TestClient, lifespan included) over the demo
meeting in a fresh SQLite data folder. Server errors come back as answers, so a 500
is seen as a status, never as an exception in the test.
"""

from __future__ import annotations

import dataclasses
import gc
import re
import time
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import TimerRole
from server.base.keys import Keys
from server.base.redirects import local_target
from server.base.settings import Settings
from server.storage import models as m
from server.web.http import MAX_FORM_FIELD
from server.web.throttle import LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_ADDRESS
from tests.conftest import Db, Hall, TestClient, pre_form
from tests.test_csrf import everything

HAN = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str, *needles: str) -> None:
    assert HAN.search(text), f"no Chinese message in {text[:300]!r}"
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text[:300]!r}"


def hall_code(keys: Keys, meeting_id: int, offset: int = 0) -> str:
    return keys.hall_code(meeting_id, int(time.time() // 30) + offset)


# -- health and headers ------------------------------------------------------------------


def test_healthz_is_json(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "dialect": "sqlite"}
    assert body["bus"] == {"ok": True, "kind": "memory"}
    assert isinstance(body["meetings_loaded"], int) and isinstance(body["sockets"], int)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/login"),
        ("GET", "/healthz"),
        ("GET", "/no/such/page"),
        ("GET", "/static/app.css"),
        ("GET", "/d/1"),
        ("POST", "/m/1/act"),
    ],
)
def test_security_headers(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code < 500
    csp = response.headers["content-security-policy"]
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["script-src"] == "script-src 'self'"
    assert directives["default-src"] == "default-src 'self'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script(hall: Hall) -> None:
    """CSP forbids inline script, so the pages must not need any."""
    for html in (hall.console(), hall.projector(), hall.deputy_page(1)):
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
            assert "src=" in attrs and not body.strip()
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"


# -- the chair's actions -----------------------------------------------------------------

# Field names reach the user in Chinese (the page's label), never as the form's key.
BAD_ACTIONS: list[tuple[str, dict[str, str], int, tuple[str, ...]]] = [
    ("unknown command", {"cmd": "drop_tables"}, 400, ("无法识别的操作",)),
    ("no command", {}, 400, ("无法识别的操作",)),
    ("missing field", {"cmd": "check_in"}, 400, ("“代表”填写有误",)),
    ("garbage field", {"cmd": "check_in", "deputy_id": "abc"}, 400, ("“代表”填写有误",)),
    ("float field", {"cmd": "check_in", "deputy_id": "1.5"}, 400, ("“代表”填写有误",)),
    ("too long a number", {"cmd": "check_in", "deputy_id": "12345678901"}, 400, ("“代表”填写有误",)),
    ("bad enum", {"cmd": "show", "focus": "desktop"}, 400, ("“投影屏显示”填写有误",)),
    ("bad seconds", {"cmd": "timer_adjust", "seconds": "1e3"}, 400, ("“调整时间”填写有误",)),
    ("superscript seconds", {"cmd": "timer_adjust", "seconds": "²"}, 400, ("“调整时间”填写有误",)),
    ("control character", {"cmd": "banner", "text": "\x1b[31m请就座"}, 400, ("“字幕”填写有误",)),
    ("NUL in a title", {"cmd": "open_vote", "title": "决议\x00"}, 400, ("“表决事项”填写有误",)),
    ("oversize field", {"cmd": "check_in", "deputy_id": "1" * (MAX_FORM_FIELD + 1)}, 400, ("请求内容有误",)),
    ("too many fields", {"cmd": "open_checkin", **{f"f{i}": "x" for i in range(60)}}, 400, ("请求内容有误",)),
    ("unknown deputy", {"cmd": "check_in", "deputy_id": "-5"}, 409, ("找不到这位代表",)),
    ("refused move", {"cmd": "close_checkin"}, 409, ("签到尚未开始",)),
    ("no question", {"cmd": "open_rating"}, 409, ("当前没有进行中的问题",)),
    ("big adjustment", {"cmd": "timer_adjust", "seconds": "100000"}, 409, ("当前没有计时",)),
]


@pytest.mark.parametrize(
    ("data", "status", "needles"), [c[1:] for c in BAD_ACTIONS], ids=[c[0] for c in BAD_ACTIONS]
)
def test_bad_actions_change_nothing(
    hall: Hall, db: Db, data: dict[str, str], status: int, needles: tuple[str, ...]
) -> None:
    before = db.counts()
    response = hall.http.post("/m/1/act", data=data, headers=hall.chair_headers())
    assert response.status_code == status, response.text
    chinese(response.text, *needles)
    assert db.counts() == before


def test_actions_need_login_and_csrf(hall: Hall, db: Db, keys: Keys) -> None:
    before = db.counts()
    headers = hall.chair_headers()
    cookie_only = {"cookie": headers["cookie"]}
    cases: list[tuple[dict[str, str], dict[str, str], int, str]] = [
        ({}, {"cmd": "open_checkin"}, 401, "请先登录"),
        ({"cookie": "wz_user=forged.cookie.value"}, {"cmd": "open_checkin"}, 401, "请先登录"),
        (cookie_only, {"cmd": "open_checkin"}, 403, "页面已过期"),
        ({**cookie_only, "x-csrf-token": "0" * 32}, {"cmd": "open_checkin"}, 403, "页面已过期"),
        (cookie_only, {"cmd": "open_checkin", "csrf": "wrong"}, 403, "页面已过期"),
        # A token for another session (another login of the same user) is no good either.
        (
            {**cookie_only, "x-csrf-token": keys.csrf("someone-else")},
            {"cmd": "open_checkin"},
            403,
            "页面已过期",
        ),
        # A deputy's cookie is not a staff session.
        (hall.deputy_headers(1), {"cmd": "open_checkin"}, 401, "请先登录"),
    ]
    for extra, data, status, needle in cases:
        response = hall.http.post("/m/1/act", data=data, headers=extra)
        assert response.status_code == status, (extra, data, response.text)
        chinese(response.text, needle)
    assert db.counts() == before
    # The same request with the token in the form field instead of the header works.
    session = keys.read_staff(hall.staff_cookie)
    assert session is not None
    ok = hall.http.post(
        "/m/1/act", data={"cmd": "open_checkin", "csrf": keys.csrf(session.sid)}, headers=cookie_only
    )
    assert ok.status_code == 200, ok.text
    assert db.counts()["events"] == before["events"] + 2


def test_pairing_needs_csrf_and_a_real_code(hall: Hall) -> None:
    headers = hall.chair_headers()
    response = hall.http.post("/m/1/pair", data={"code": "123456"}, headers={"cookie": headers["cookie"]})
    assert response.status_code == 403
    chinese(response.text, "页面已过期")
    response = hall.http.post("/m/1/pair", data={"code": "000000x"}, headers=headers)
    assert response.status_code == 400
    chinese(response.text, "配对码不正确")
    # A real pairing: the projector asks, staff approve, the projector gets its cookie.
    projector = hall.http.get("/m/1/projector")
    assert projector.status_code == 200
    code = re.search(r"\b(\d{6})\b", projector.text)
    assert code, projector.text
    pair_cookie = projector.cookies.get("wz_pair")
    hall.http.cookies.clear()
    assert hall.http.post("/m/1/pair", data={"code": code.group(1)}, headers=headers).status_code == 200
    again = hall.http.get("/m/1/projector", headers={"cookie": f"wz_pair={pair_cookie}"})
    assert again.status_code == 303 and "wz_screen=" in again.headers["set-cookie"]


def test_the_podium_is_paired_the_same_way_and_only_for_itself(hall: Hall, keys: Keys) -> None:
    hall.http.cookies.clear()
    asked = hall.http.get("/m/1/podium")
    assert asked.status_code == 200
    chinese(asked.text, "发言计时屏尚未配对")
    code = re.search(r'id="pair-code">(\d{6})<', asked.text)
    assert code, asked.text
    pair_cookie = asked.cookies.get("wz_pair")
    # The podium's pending code does not turn the projector page into a paired projector.
    hall.http.cookies.clear()
    other = hall.http.get("/m/1/projector", headers={"cookie": f"wz_pair={pair_cookie}"})
    assert other.status_code == 200 and "wz_screen=" not in other.headers.get("set-cookie", "")
    hall.http.cookies.clear()
    approved = hall.http.post("/m/1/pair", data={"code": code.group(1)}, headers=hall.chair_headers())
    assert approved.status_code == 200
    chinese(approved.text, "已配对发言计时屏")
    paired = hall.http.get("/m/1/podium", headers={"cookie": f"wz_pair={pair_cookie}"})
    assert paired.status_code == 303
    screen = re.search(r"wz_screen=([^;]+)", paired.headers["set-cookie"])
    assert screen
    binding = keys.read_screen(screen.group(1))
    assert binding is not None and (binding.meeting_id, binding.kind) == (1, "podium")
    hall.http.cookies.clear()
    page = hall.http.get("/m/1/podium", headers={"cookie": f"wz_screen={screen.group(1)}"})
    assert page.status_code == 200 and 'id="po-speaker"' in page.text and 'id="timer"' in page.text
    # A podium cookie is no projector cookie (the projector shows the hall QR).
    hall.http.cookies.clear()
    refused = hall.http.get("/m/1/projector", headers={"cookie": f"wz_screen={screen.group(1)}"})
    assert refused.status_code == 200 and 'id="pair-code"' in refused.text


# -- deputies: binding, rating, the hall code --------------------------------------------


def _open_rating(hall: Hall, deputies: list[int]) -> int:
    hall.act_ok("open_checkin")
    for d in deputies:
        hall.act_ok("check_in", deputy_id=d)
    hall.act_ok("call_question", question_id=1)
    hall.act_ok("to_answering")
    hall.act_ok("open_rating", without_quorum="1")  # 3 of 48: past the quorum warning (issue 16)
    return 1


def test_rating_edges(hall: Hall, db: Db, keys: Keys) -> None:
    question = _open_rating(hall, [1, 2, 3])
    before = db.counts()
    good = {"question_id": str(question), "choice": "satisfied", "ballot_key": "abc123"}
    headers = hall.deputy_headers(1)
    cases: list[tuple[dict[str, str], dict[str, str], int, str]] = [
        ({}, good, 401, "尚未绑定"),
        ({"cookie": "wz_deputy=forged"}, good, 401, "尚未绑定"),
        # A card re-issued (version 2) revokes phones bound with version 1 and vice versa.
        ({"cookie": f"wz_deputy={keys.deputy_cookie(1, 2)}"}, good, 401, "尚未绑定"),
        ({"cookie": f"wz_deputy={keys.deputy_cookie(10**6, 1)}"}, good, 401, "尚未绑定"),
        ({"cookie": headers["cookie"]}, good, 403, "页面已过期"),
        ({**headers, "x-csrf-token": "nope"}, good, 403, "页面已过期"),
        (headers, {**good, "choice": "very_satisfied"}, 400, "“选项”填写有误"),
        (headers, {**good, "choice": ""}, 400, "“选项”填写有误"),
        (headers, {k: v for k, v in good.items() if k != "choice"}, 400, "“选项”填写有误"),
        (headers, {**good, "question_id": "one"}, 400, "“问题”填写有误"),
        (headers, {k: v for k, v in good.items() if k != "question_id"}, 400, "“问题”填写有误"),
        (headers, {**good, "ballot_key": ""}, 400, "“提交内容”填写有误"),
        (headers, {**good, "ballot_key": "k" * 65}, 400, "“提交内容”填写有误"),
        (headers, {**good, "ballot_key": "a b<script>"}, 400, "“提交内容”填写有误"),
        (headers, {**good, "ballot_key": "x" * (MAX_FORM_FIELD + 1)}, 400, "请求内容有误"),
        (headers, {**good, "question_id": "2"}, 409, "测评尚未开始或已经结束"),
        (hall.deputy_headers(4), good, 409, "请先签到"),
    ]
    for extra, data, status, needle in cases:
        response = hall.http.post("/d/1/rate", data=data, headers=extra)
        assert response.status_code == status, (extra, data, response.status_code, response.text)
        chinese(response.text, needle)
    assert db.counts() == before

    ok = hall.http.post("/d/1/rate", data=good, headers=headers)
    assert ok.status_code == 200 and 'id="d-receipt"' in ok.text
    retry = hall.http.post("/d/1/rate", data=good, headers=headers)  # a lost reply, sent again
    assert retry.status_code == 200 and 'id="d-receipt"' in retry.text
    other = hall.http.post("/d/1/rate", data={**good, "ballot_key": "other"}, headers=headers)
    assert other.status_code == 409
    chinese(other.text, "只能评价一次")
    after = db.counts()
    assert after["ballots"] == after["receipts"] == before["ballots"] + 1
    assert db.ballots(question) == {"satisfied": 1, "basic": 0, "dissatisfied": 0}


def test_hall_code(hall: Hall, db: Db, keys: Keys) -> None:
    code = hall_code(keys, 1)
    tampered = code[:-1] + ("a" if code[-1] != "a" else "b")
    expired = hall_code(keys, 1, -3)
    future = hall_code(keys, 1, +2)
    other_meeting = hall_code(keys, 2)
    deputy = hall.deputy_headers(5)
    before = db.counts()
    for bad, status, needle in (
        (tampered, 400, "二维码无效"),
        ("garbage", 400, "二维码无效"),
        ("zz.abcdef", 400, "二维码无效"),
        (other_meeting, 400, "二维码无效"),
        (expired, 410, "二维码已过期"),
        (future, 410, "二维码已过期"),
    ):
        for method in ("GET", "POST"):
            response = hall.http.request(method, f"/h/1/{bad}", headers=deputy)
            assert response.status_code == status, (bad, method, response.text)
            chinese(response.text, needle)
    assert db.counts() == before

    # A valid code, check-in not open yet: the page shows, the check-in is refused.
    assert hall.http.get(f"/h/1/{code}", headers=deputy).status_code == 200
    response = hall.http.post(f"/h/1/{code}", headers=deputy)
    assert response.status_code == 409
    chinese(response.text, "签到尚未开始")
    no_csrf = hall.http.post(f"/h/1/{code}", headers={"cookie": deputy["cookie"]})
    assert no_csrf.status_code == 403
    chinese(no_csrf.text, "页面已过期")
    assert db.counts() == before

    hall.act_ok("open_checkin")
    opened = db.counts()
    response = hall.http.post(f"/h/1/{code}", headers=deputy)
    # A bound phone is answered with its page, which takes the receipt's address.
    assert response.status_code == 200, response.text[:300]
    assert 'data-replace-url="/d/1?checked_in=1"' in response.text
    assert 'id="d-me"' in response.text and "已签到" in response.text
    assert db.state().attendance.get(5) is not None
    assert db.counts()["events"] == opened["events"] + 1

    # Unbound phone: bind with the card on the spot (wrong code first).
    _, card_no, short_code = db.deputies()[6]
    page = hall.http.get(f"/h/1/{code}")
    assert page.status_code == 200 and 'name="card_no"' in page.text
    wrong = pre_form(hall.http, f"/h/1/{code}", f"/h/1/{code}", {"card_no": card_no, "short_code": "0000x"})
    assert wrong.status_code == 400
    chinese(wrong.text, "卡号或验证码不正确")
    assert db.counts()["events"] == opened["events"] + 1
    right = pre_form(
        hall.http, f"/h/1/{code}", f"/h/1/{code}", {"card_no": card_no, "short_code": short_code}
    )
    assert right.status_code == 303 and "wz_deputy=" in right.headers["set-cookie"]
    assert db.counts()["events"] == opened["events"] + 2


def test_bind_and_invitation(hall: Hall, db: Db, keys: Keys) -> None:
    hall.act_ok("open_checkin")
    code = keys.hall_code(1, int(time.time() // 30))
    deputy_id, card_no, short_code = db.deputies()[2]
    form = {"card_no": card_no, "hall": code}
    bad = pre_form(hall.http, f"/h/1/{code}", "/d/1/bind", {**form, "short_code": "9999x"})
    assert bad.status_code == 400
    chinese(bad.text, "卡号或验证码不正确")
    good = pre_form(hall.http, f"/h/1/{code}", "/d/1/bind", {**form, "short_code": short_code})
    assert good.status_code == 303 and "wz_deputy=" in good.headers["set-cookie"]
    assert db.state().is_present(deputy_id), "typed in the hall: bound and checked in"
    events = db.counts()["events"]
    hall.http.cookies.clear()
    invalid = hall.http.get("/i/1/not-a-token")
    assert invalid.status_code == 404
    chinese(invalid.text, "邀请链接无效")
    revoked = hall.http.get(f"/i/1/{keys.invitation(deputy_id, 2)}")
    assert revoked.status_code == 404
    # The card is bound to the phone that typed its codes: the link on another asks
    # before it moves anything (tests/test_phones.py has the whole policy).
    elsewhere = hall.http.get(f"/i/1/{keys.invitation(deputy_id, 1)}")
    assert elsewhere.status_code == 409 and "wz_deputy=" not in elsewhere.headers.get("set-cookie", "")
    chinese(elsewhere.text, "正在另一部手机上使用")
    free_id = db.deputies()[3][0]
    ok = hall.http.get(f"/i/1/{keys.invitation(free_id, 1)}")
    assert ok.status_code == 303 and "wz_deputy=" in ok.headers["set-cookie"]
    hall.http.cookies.clear()
    assert db.counts()["events"] == events, "binding by the link is no event of the meeting"


# -- login -------------------------------------------------------------------------------


def test_login_failures_are_rate_limited(client: TestClient) -> None:
    for attempt in range(LOGIN_MAX_FAILURES):
        response = client.post("/login", data={"username": "chair", "password": f"wrong-{attempt}"})
        assert response.status_code == 401, attempt
        chinese(response.text, "用户名或密码错误")
        assert "wz_user" not in response.headers.get("set-cookie", "")
    # The sixth attempt is refused, even with the right password.
    response = client.post("/login", data={"username": "chair", "password": "wenzheng-demo"})
    assert response.status_code == 429
    chinese(response.text, "登录尝试过于频繁")
    assert "wz_user" not in response.headers.get("set-cookie", "")


def test_many_names_from_one_address_are_throttled(spawn: Any, meeting_id: int) -> None:
    """A guesser trying a new name each time: the address is refused after
    LOGIN_MAX_FAILURES_PER_ADDRESS failures, whatever the names; another address is not.
    A real server, so the addresses are the sockets' own (127.0.0.1 and 127.0.0.2)."""
    server = spawn()

    def from_address(address: str) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=server.base_url, transport=transport, timeout=15, trust_env=False)

    with from_address("127.0.0.1") as guesser, from_address("127.0.0.2") as office:
        answers = [
            guesser.post("/login", data={"username": f"guess{i}", "password": "wrong-password"})
            for i in range(100)
        ]
        statuses = [a.status_code for a in answers]
        assert statuses == [401] * LOGIN_MAX_FAILURES_PER_ADDRESS + [429] * (
            100 - LOGIN_MAX_FAILURES_PER_ADDRESS
        )
        chinese(answers[-1].text, "此网络地址登录失败的次数过多，请 5 分钟后再试")
        assert 0 < int(answers[-1].headers["retry-after"]) <= 300
        assert "wz_user" not in answers[-1].headers.get("set-cookie", "")
        # While it lasts, the right password from that address is refused too.
        right = {"username": "chair", "password": "wenzheng-demo"}
        assert guesser.post("/login", data=right).status_code == 429
        # Another address is not held up by the guesser's failures.
        assert (
            office.post("/login", data={"username": "guess0", "password": "wrong-password"}).status_code
            == 401
        )
        assert office.post("/login", data=right).status_code == 303


def _cookies_set(response: Any) -> dict[str, str]:
    """Each Set-Cookie header of the response, by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


@pytest.mark.parametrize("how", ["public address https", "request over https", "plain http"])
def test_cookies_are_secure_on_https(settings: Settings, meeting_id: int, keys: Keys, how: str) -> None:
    """Every cookie the app sets (staff login and logout, a screen's pairing, a phone's
    binding) says Secure when the public address is https or the request came over https."""
    from server.web.app import create_app

    public = "https://wz.example.org" if how == "public address https" else "http://127.0.0.1:8000"
    base = "https://testserver" if how == "request over https" else "http://testserver"
    app = create_app(dataclasses.replace(settings, public_url=public))
    seen: dict[str, str] = {}
    with TestClient(app, base_url=base, raise_server_exceptions=False, follow_redirects=False) as c:
        login = c.post("/login", data={"username": "chair", "password": "wenzheng-demo"})
        assert login.status_code == 303
        seen |= {f"login {k}": v for k, v in _cookies_set(login).items()}
        staff = seen["login wz_user"].split(";")[0]
        session = keys.read_staff(staff.split("=", 1)[1])
        assert session is not None
        c.cookies.clear()
        logout = c.post("/logout", data={"csrf": keys.csrf(session.sid)}, headers={"cookie": staff})
        assert logout.status_code == 303
        seen |= {f"logout {k}": v for k, v in _cookies_set(logout).items()}
        c.cookies.clear()
        seen |= {f"screen {k}": v for k, v in _cookies_set(c.get("/m/1/projector")).items()}
        c.cookies.clear()
        bound = c.get(f"/i/1/{keys.invitation(3, 1)}")
        seen |= {f"phone {k}": v for k, v in _cookies_set(bound).items()}
    assert set(seen) >= {"login wz_user", "logout wz_user", "screen wz_pair", "phone wz_deputy"}, seen
    for name, header in seen.items():
        attributes = [a.strip().lower() for a in header.split(";")[1:]]
        assert "httponly" in attributes and "samesite=lax" in attributes, (name, header)
        assert ("secure" in attributes) == (how != "plain http"), (how, name, header)


def test_login_works_and_redirects_only_locally(client: TestClient, keys: Keys) -> None:
    for target, expected in (
        ("/m/1/console", "/m/1/console"),
        ("//evil.example/x", "/"),
        ("https://e.x", "/"),
    ):
        response = client.post(
            "/login", data={"username": "chair", "password": "wenzheng-demo", "next": target}
        )
        assert response.status_code == 303
        assert response.headers["location"] == expected
        set_cookie = response.headers["set-cookie"]
        assert "wz_user=" in set_cookie and "HttpOnly" in set_cookie and "samesite=lax" in set_cookie.lower()
        session = keys.read_staff(response.cookies["wz_user"])
        assert session is not None and "chair" in session.roles
        client.cookies.clear()


OPEN_REDIRECTS = (
    "//evil.com",
    "//evil.com/m/1/console",
    "/\\evil.com",
    "/\\/evil.com",
    "\\\\evil.com",
    "https://evil.com",
    "http:evil.com",
    "javascript:alert(1)",
    "/%2Fevil.com",
    "/%2f%2fevil.com",
    "%2F%2Fevil.com",
    "/%5Cevil.com",
    "/%255Cevil.com",
    "/\tevil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "/ /evil.com",
    "/%09/evil.com",
    "/%0a/%2fevil.com",
    "evil.com",
    "",
)


def test_login_comes_back_to_the_page_with_its_query(client: TestClient) -> None:
    """Issue 16: /m/1/cards?group=* came back as /m/1/cards after logging in."""
    asked = client.get("/m/1/cards?group=*&page=2")
    assert asked.status_code == 303
    location = asked.headers["location"]
    assert location.startswith("/login?next=")
    form = client.get(location)
    assert form.status_code == 200
    assert 'name="next" value="/m/1/cards?group=*&amp;page=2"' in form.text
    back = client.post(
        "/login", data={"username": "chair", "password": "wenzheng-demo", "next": "/m/1/cards?group=*&page=2"}
    )
    assert back.status_code == 303 and back.headers["location"] == "/m/1/cards?group=*&page=2"
    assert client.get(back.headers["location"]).status_code == 200


def test_a_local_target_keeps_its_path_and_query() -> None:
    for kept in ("/", "/m/1/cards?group=*", "/m/1/cards?group=%E5%9F%8E%E4%B8%9C&page=2", "/start?x=//y"):
        assert local_target(kept) == kept


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_login_never_sends_to_another_site(client: TestClient, target: str) -> None:
    form = client.get("/login", params={"next": target})
    assert form.status_code == 200
    assert 'name="next" value="/"' in form.text, target
    response = client.post("/login", data={"username": "chair", "password": "wenzheng-demo", "next": target})
    assert response.status_code == 303 and response.headers["location"] == "/", target


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_the_password_page_never_sends_to_another_site(client: TestClient, target: str) -> None:
    client.post("/login", data={"username": "chair", "password": "wenzheng-demo", "next": "/"})
    form = client.get("/account/password", params={"next": target})
    assert form.status_code == 200
    assert 'name="next" value="/"' in form.text, target


# -- never a 500 -------------------------------------------------------------------------


def _malformed(hall: Hall, keys: Keys) -> list[tuple[str, str, dict[str, Any]]]:
    chair = hall.chair_headers()
    deputy = hall.deputy_headers(1)
    code = hall_code(keys, 1)
    form = {"content-type": "application/x-www-form-urlencoded"}
    rate = {"question_id": "1", "choice": "satisfied", "ballot_key": "k1"}
    return [
        ("GET", "/", {}),
        ("GET", "/login?next=//evil.example", {}),
        ("GET", "/no/such/page", {}),
        ("GET", "/static/../server/base/keys.py", {}),
        ("GET", "/static/%2e%2e/%2e%2e/etc/passwd", {}),
        ("GET", "/m/1/console", {}),
        ("GET", "/m/1/console", {"headers": {"cookie": "wz_user=garbage"}}),
        ("GET", "/m/999/console", {"headers": chair}),
        ("GET", "/m/1/roster?q=" + "王" * 500, {"headers": chair}),
        ("GET", "/m/1/roster?q=%00%ff", {"headers": chair}),
        ("GET", "/m/1/roster", {}),
        ("GET", "/m/1/act", {"headers": chair}),
        ("GET", "/m/999/projector", {}),
        ("GET", "/m/1/projector?screen=garbage", {}),
        ("GET", f"/m/1/projector?screen={keys.screen_cookie(2, 'projector')}", {}),
        ("GET", "/m/1/projector", {"headers": {"cookie": "wz_pair=garbage; wz_screen=garbage"}}),
        ("GET", "/i/1/garbage", {}),
        ("GET", "/i/999/" + keys.invitation(1, 1), {}),
        ("GET", "/i/1/" + "x" * 3000, {}),
        ("GET", "/d/1", {"headers": {"cookie": "wz_deputy=garbage"}}),
        ("GET", "/d/999", {"headers": deputy}),
        ("GET", "/h/1/garbage", {}),
        ("GET", "/h/1/.", {}),
        ("GET", "/h/1/-1.abc", {}),
        ("GET", "/h/1/ffffffffffffffffffffffffffffffff.abc", {}),
        ("GET", f"/h/999/{code}", {}),
        ("GET", "/ws/1/console", {}),
        ("POST", "/login", {}),
        ("POST", "/login", {"json": {"username": "chair", "password": "x"}}),
        ("POST", "/login", {"content": b"%zz%%&&==", "headers": form}),
        ("POST", "/login", {"content": b"username=\xff\xfe&password=\x00", "headers": form}),
        ("POST", "/login", {"files": {"username": ("a.txt", b"chair")}}),
        ("POST", "/login", {"data": {"username": "u" * 5000, "password": "p" * 5000}}),
        ("POST", "/logout", {}),
        ("POST", "/m/1/act", {"data": {"cmd": "open_checkin"}}),
        ("POST", "/m/1/act", {"headers": chair}),
        ("POST", "/m/1/act", {"headers": chair, "json": {"cmd": "open_checkin"}}),
        ("POST", "/m/1/act", {"headers": chair, "files": {"cmd": ("x", b"open_checkin")}}),
        ("POST", "/m/1/act", {"headers": {**chair, **form}, "content": b"cmd=%ZZ&&="}),
        ("POST", "/m/1/act", {"headers": {**chair, **form}, "content": b"cmd=\xff\xfe"}),
        ("POST", "/m/1/act", {"headers": {**chair, "content-type": "multipart/form-data"}, "content": b"--"}),
        ("POST", "/m/1/act", {"headers": chair, "data": {"cmd": "check_in", "deputy_id": "-"}}),
        ("POST", "/m/1/act", {"headers": chair, "data": {"cmd": "check_in", "deputy_id": "9" * 10}}),
        ("POST", "/m/1/act", {"headers": chair, "data": {"cmd": "followup_ask", "speaker_id": "x"}}),
        ("POST", "/m/1/act", {"headers": chair, "data": {"cmd": "start_agenda", "item_id": "-1"}}),
        ("POST", "/m/1/act", {"headers": chair, "data": {"cmd": "call_question", "question_id": "0"}}),
        ("POST", "/m/1/act", {"headers": chair, "data": {"cmd": "show", "focus": "\x00"}}),
        ("POST", "/m/999/act", {"headers": chair, "data": {"cmd": "open_checkin"}}),
        ("POST", "/m/1/pair", {"headers": chair}),
        ("POST", "/m/1/pair", {"headers": chair, "data": {"code": "x" * 1000}}),
        ("POST", "/m/1/pair", {"data": {"code": "123456"}}),
        ("POST", "/d/1/bind", {}),
        ("POST", "/d/1/bind", {"data": {"card_no": "1001"}}),
        ("POST", "/d/1/bind", {"data": {"card_no": "x" * 1999, "short_code": "y" * 1999}}),
        ("POST", "/d/999/bind", {"data": {"card_no": "1001", "short_code": "0000"}}),
        ("POST", "/d/1/rate", {"data": rate}),
        ("POST", "/d/1/rate", {"headers": deputy}),
        ("POST", "/d/1/rate", {"headers": deputy, "json": rate}),
        ("POST", "/d/1/rate", {"headers": deputy, "data": {**rate, "question_id": "99999"}}),
        ("POST", "/d/1/rate", {"headers": deputy, "data": {**rate, "ballot_key": "中文"}}),
        ("POST", "/d/999/rate", {"headers": deputy, "data": rate}),
        ("POST", f"/h/1/{code}", {}),
        ("POST", f"/h/1/{code}", {"data": {"card_no": "nope", "short_code": "nope"}}),
        ("POST", f"/h/1/{code}", {"headers": deputy, "data": {"card_no": "1001"}}),
        ("POST", "/h/1/garbage", {"headers": deputy}),
    ]


def test_never_a_500(hall: Hall, db: Db, keys: Keys) -> None:
    requests = _malformed(hall, keys)
    assert len(requests) >= 50
    before = db.counts()
    failures = []
    for method, path, kwargs in requests:
        hall.http.cookies.clear()
        response = hall.http.request(method, path, **kwargs)
        if response.status_code >= 500:
            failures.append((method, path, kwargs, response.status_code))
        elif response.status_code >= 400 and response.headers.get("content-type", "").startswith("text/html"):
            assert HAN.search(response.text), (method, path, response.status_code, response.text[:200])
    assert not failures, failures
    assert db.counts() == before
    assert hall.http.get("/healthz").json()["status"] == "ok"


# -- known bugs: each of these answers 500 today -----------------------------------------

HUGE = "99999999999999999999"
BUGS = [
    pytest.param(
        "POST",
        "/m/1/act",
        {"cmd": "check_in", "deputy_id": "--5"},
        "chair",
        id="parse-int-double-minus",
    ),
    pytest.param(
        "POST",
        "/m/1/act",
        {"cmd": "timer_adjust", "seconds": "²"},
        "chair",
        id="parse-int-superscript-digit",
    ),
    pytest.param(
        "POST",
        "/d/1/rate",
        {"question_id": "--1", "choice": "satisfied", "ballot_key": "k"},
        "deputy",
        id="rate-question-id-double-minus",
    ),
    pytest.param(
        "POST", "/m/1/act", {"cmd": "open_checkin", "csrf": "中"}, "chair-no-token", id="csrf-non-ascii-form"
    ),
    pytest.param(
        "POST",
        "/d/1/rate",
        {"question_id": "1", "choice": "satisfied", "ballot_key": "k", "csrf": "中"},
        "deputy-no-token",
        id="rate-csrf-non-ascii-form",
    ),
    pytest.param(
        "POST", "/m/1/act", {"cmd": "open_checkin"}, "chair-latin1-token", id="csrf-non-ascii-header"
    ),
    pytest.param(
        "POST", "/d/1/bind", {"card_no": "1001", "short_code": "中"}, "", id="bind-short-code-non-ascii"
    ),
    pytest.param("GET", "/h/1/1.中", None, "", id="hall-code-non-ascii-get"),
    pytest.param("POST", "/h/1/1.中", {}, "deputy", id="hall-code-non-ascii-post"),
    pytest.param("GET", f"/d/{HUGE}", None, "", id="huge-meeting-id-deputy-page"),
    pytest.param("GET", f"/m/{HUGE}/projector", None, "", id="huge-meeting-id-projector"),
    pytest.param("GET", f"/m/{HUGE}/console", None, "chair", id="huge-meeting-id-console"),
    # Found by tests/test_fuzz.py: an id past SQLite's integer reached a query (OverflowError).
    pytest.param("GET", f"/bodies/{HUGE}/roster", None, "chair", id="huge-body-id-roster"),
    pytest.param("GET", f"/m/{HUGE}/cards.docx", None, "chair", id="huge-meeting-id-cards-docx"),
    pytest.param("GET", f"/m/{HUGE}/audit.csv", None, "chair", id="huge-meeting-id-audit-csv"),
]


@pytest.mark.parametrize(("method", "path", "data", "who"), BUGS)
def test_inputs_that_once_crashed_are_refused_cleanly(
    hall: Hall, db: Db, method: str, path: str, data: dict[str, str] | None, who: str
) -> None:
    headers: dict[str, Any] = {}
    if who.startswith("chair"):
        headers = hall.chair_headers()
    elif who.startswith("deputy"):
        headers = hall.deputy_headers(1)
    if who.endswith("no-token"):
        headers = {"cookie": headers["cookie"]}
    if who == "chair-latin1-token":
        headers = {"cookie": headers["cookie"], "x-csrf-token": "é".encode("latin-1")}
    before = db.counts()
    response = hall.http.request(method, path, data=data, headers=headers)
    assert response.status_code < 500, f"{method} {path} -> {response.status_code}"
    assert 400 <= response.status_code < 500
    assert HAN.search(response.text)
    assert db.counts() == before


# -- crafted input (issue 13, finding 4): each of these answered 500 -------------------------

SUPER = "²"  # str.isdigit() says yes, int() says no
PAST_SQLITE = str(2**63)  # SQLite's INTEGER overflows
PAST_LIMIT = "9" * 4301  # past Python's int-conversion limit (4,300 digits)
PAST_INT32 = str(2**31)  # PostgreSQL's integer overflows
TIMERS = {f"timer_{role.value}": "120" for role in TimerRole}
SETTINGS = {"action": "settings", "title": "问政会", **TIMERS, "warn_seconds": "30"}
SETTINGS |= {"floor_requests_per_item": "2", "denominator": "members"}
SETTINGS |= {"satisfied_share": "1/2", "basic_share": "1/2"}
# id, method, path, form, who, status, a text the answer has
Crafted = tuple[str, str, str, dict[str, str] | None, str, int, str]


def phone(name: str, needle: str, **form: str) -> Crafted:
    return (name, "POST", "/d/1/questions", form, "deputy", 400, needle)


def board(name: str, needle: str, **form: str) -> Crafted:
    return (name, "POST", "/m/1/review", form, "chair", 400, needle)


def staff_post(name: str, path: str, needle: str, form: dict[str, str]) -> Crafted:
    return (name, "POST", path, form, "chair", 400, needle)


NEW_MEETING = {"body": "1", "kind": "inquiry", "title": "会议"}
NOT_YOURS, NO_SUCH, UNREADABLE = "只能撤回", "找不到这条问题", "无法识别的字符"
NO_BODY = "请选择举行会议的机构"
CRAFTED: list[Crafted] = [
    # the deputy's phone: question submission
    phone("phone-sub-superscript", NOT_YOURS, action="withdraw", sub=SUPER),
    phone("phone-sub-past-sqlite", NOT_YOURS, action="withdraw", sub=PAST_SQLITE),
    phone("phone-revise-past-sqlite", NOT_YOURS, action="revise", sub=PAST_SQLITE, title="标题"),
    phone("phone-co-superscript", "联名代表", title="标题", co=SUPER),
    phone("phone-official-superscript", "应询人员", title="标题", official=SUPER),
    phone("phone-co-box-superscript", "问题标题", **{"co_" + SUPER: "1"}),
    phone("phone-co-box-past-limit", "联名代表", title="标题", **{"co_" + PAST_LIMIT: "1"}),
    # the staff's review board
    board("review-sub-superscript", NO_SUCH, action="edit", sub=SUPER, title="标题"),
    board("review-sub-past-sqlite", NO_SUCH, action="edit", sub=PAST_SQLITE, title="标题"),
    board("review-approve-past-sqlite", NO_SUCH, action="approve", sub=PAST_SQLITE),
    board("review-keep-superscript", NO_SUCH, action="merge", keep=SUPER, pick_1="1", pick_2="1"),
    board("review-pick-superscript", "至少选择两条", action="merge", pick_1="1", **{"pick_" + SUPER: "1"}),
    board("review-pick-past-sqlite", NO_SUCH, action="merge", **{"pick_" + PAST_SQLITE: "1"}, pick_1="1"),
    board("review-pick-past-limit", NO_SUCH, action="merge", **{"pick_" + PAST_LIMIT: "1"}, pick_1="1"),
    board("review-order-superscript", "不在最终清单", action="order", order=f"1,{SUPER}"),
    board(
        "review-asker-past-sqlite", NO_SUCH, action="assign", question="1", asker=PAST_SQLITE, official_1="1"
    ),
    board(
        "review-official-box-superscript",
        "应询人员",
        action="assign",
        question="1",
        asker="1",
        **{"official_" + SUPER: "1"},
    ),
    board("review-deadline-year-1", "截止时间格式", action="deadline", deadline="0001-01-01 00:00"),
    board(
        "review-enter-co-superscript", "联名代表", action="enter", card_no="<card>", title="标题", co=SUPER
    ),
    # preparing a meeting
    staff_post("new-meeting-body-superscript", "/meetings/new", NO_BODY, {**NEW_MEETING, "body": SUPER}),
    staff_post(
        "new-meeting-body-past-sqlite", "/meetings/new", NO_BODY, {**NEW_MEETING, "body": PAST_SQLITE}
    ),
    staff_post(
        "edit-timer-superscript", "/meetings/1/edit", "提问时间须为", {**SETTINGS, "timer_asking": SUPER}
    ),
    staff_post(
        "edit-warn-superscript", "/meetings/1/edit", "提前提醒须为", {**SETTINGS, "warn_seconds": SUPER}
    ),
    staff_post(
        "edit-floor-cap-superscript",
        "/meetings/1/edit",
        "申请发言次数",
        {**SETTINGS, "floor_requests_per_item": SUPER},
    ),
    staff_post(
        "edit-half-a-form", "/meetings/1/edit", "提问时间须为", {"action": "settings", "timer_asking": "1"}
    ),
    staff_post(
        "edit-agenda-item-superscript",
        "/meetings/1/edit",
        "找不到这个议程项",
        {"action": "agenda_up", "item_id": SUPER},
    ),
    # the cards page (a notice, not a refusal) and the hall QR code
    ("cards-reissued-superscript", "GET", f"/m/1/cards?reissued={SUPER}", None, "chair", 200, "邀请卡"),
    ("cards-released-past-limit", "GET", f"/m/1/cards?released={PAST_LIMIT}", None, "chair", 200, "邀请卡"),
    ("hall-code-5000-hex-digits", "GET", "/h/1/" + "f" * 5000 + ".x", None, "", 400, "二维码无效"),
    ("hall-code-5000-hex-digits-post", "POST", "/h/1/" + "f" * 5000 + ".x", {}, "deputy", 400, "二维码无效"),
]
# The same, where only PostgreSQL fails: NUL in a text column, an id past its integer.
CRAFTED_POSTGRES: list[Crafted] = [
    phone("phone-title-nul", UNREADABLE, title="标\x00题"),
    phone("phone-text-nul", UNREADABLE, title="标题", text="\x00"),
    phone("phone-sub-past-int32", NOT_YOURS, action="withdraw", sub=PAST_INT32),
    board("review-sub-past-int32", NO_SUCH, action="edit", sub=PAST_INT32, title="标题"),
    board("review-reason-nul", UNREADABLE, action="reject", sub="<sub>", reason="\x00"),
    staff_post("new-meeting-title-nul", "/meetings/new", UNREADABLE, {**NEW_MEETING, "title": "会\x00议"}),
    staff_post("new-meeting-body-past-int32", "/meetings/new", NO_BODY, {**NEW_MEETING, "body": PAST_INT32}),
    staff_post(
        "agenda-title-nul",
        "/meetings/1/edit",
        UNREADABLE,
        {"action": "agenda_add", "item_kind": "report", "item_title": "\x00"},
    ),
    staff_post("deputy-name-nul", "/bodies/1/deputies/1", UNREADABLE, {"name": "王\x00", "group": "<group>"}),
    staff_post(
        "official-name-nul",
        "/bodies/1/officials/1",
        UNREADABLE,
        {"name": "李\x00", "title": "局长", "organisation": "局"},
    ),
    staff_post(
        "user-display-name-nul",
        "/admin/users",
        UNREADABLE,
        {"username": "clerk", "display_name": "\x00", "role_staff": "1"},
    ),
    (
        "login-username-nul",
        "POST",
        "/login",
        {"username": "chair\x00", "password": "x"},
        "",
        400,
        "请求内容有误",
    ),
    staff_post("pair-code-nul", "/m/1/pair", "配对码不正确", {"code": "\x00"}),
]


@pytest.fixture
def database_url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    """SQLite, as in tests/conftest.py; PostgreSQL where a test is parametrized so."""
    if getattr(request, "param", "sqlite") == "postgres":
        return str(request.getfixturevalue("pg_database"))
    return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"


def _send_crafted(hall: Hall, db: Db, cases: list[Crafted]) -> None:
    """Each case as its person sends it: the status, the Chinese message, not a row changed."""
    chair, deputy = hall.chair_headers(), hall.deputy_headers(1)
    assert hall.http.get("/d/1/questions", headers=deputy).status_code == 200  # the phone's binding
    _, card_no, _ = db.deputies()[0]
    group = hall.http.get("/bodies/1/deputies/1", headers=chair)
    assert group.status_code == 200, group.text
    posted = hall.http.post("/d/1/questions", data={"title": "一条待审的问题"}, headers=deputy)
    assert posted.status_code == 303, posted.text
    sub = str(max(s for s in _submissions(db)))
    failures = []
    for name, method, path, form, who, status, needle in cases:
        headers = {"chair": chair, "deputy": deputy}.get(who, {})
        data = None if form is None else {k: _fill(v, card_no, sub, group.text) for k, v in form.items()}
        before = everything(db)
        hall.http.cookies.clear()
        response = hall.http.request(method, path, data=data, headers=headers)
        if response.status_code != status or needle not in response.text or not HAN.search(response.text):
            failures.append(f"{name}: {response.status_code} (wanted {status}, {needle!r})")
        elif everything(db) != before:
            failures.append(f"{name}: {response.status_code}, but a row changed")
    assert not failures, "\n".join(failures)


def _fill(value: str, card_no: str, sub: str, deputy_page: str) -> str:
    if value == "<group>":
        found = re.search(r'<option value="([^"]+)" selected', deputy_page)
        assert found, "the deputy's group on the edit page"
        return found.group(1)
    return {"<card>": card_no, "<sub>": sub}.get(value, value)


def _submissions(db: Db) -> list[int]:
    async def read(conn: AsyncConnection) -> list[int]:
        return [int(i) for i in (await conn.execute(select(m.question_submissions.c.id))).scalars()]

    found: list[int] = db._run(read)
    return found


def test_crafted_input_is_refused_and_changes_nothing(hall: Hall, db: Db) -> None:
    """Issue 13, finding 4: every one of these answered 500 before server/base/parse.py took
    every typed value (Unicode digits, ids past the database's integer, numbers past
    Python's 4,300-digit limit, a deadline in year 1, a 5,000-digit hall code)."""
    _send_crafted(hall, db, CRAFTED)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_crafted_input_is_refused_on_postgres(hall: Hall, db: Db) -> None:
    """The same on PostgreSQL, and what only PostgreSQL refuses: NUL in a text, 2**31."""
    _send_crafted(hall, db, CRAFTED + CRAFTED_POSTGRES)


def test_an_upload_under_another_name_leaves_no_open_file(hall: Hall) -> None:
    """Found by tests/test_fuzz.py: the roster import returned early without closing the
    parsed form, so a file sent under any name but "file" stayed open until the garbage
    collector warned about it, in whichever test happened to be running then."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = hall.http.post(
            "/bodies/1/roster/preview", files={"cmd": ("a.xlsx", b"PK")}, headers=hall.chair_headers()
        )
        gc.collect()
    assert response.status_code == 400
    chinese(response.text, "请选择要导入的文件")
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_unknown_meetings_leave_nothing_behind(client: TestClient) -> None:
    for meeting in range(1000, 1300):
        assert client.get(f"/d/{meeting}").status_code == 404
    meetings = client.app.state.services.meetings  # type: ignore[attr-defined]
    assert len(meetings._loading) <= len(meetings.rooms) + 1


def test_every_field_the_parser_reads_has_a_chinese_name() -> None:
    import re as regex
    from pathlib import Path

    from screens.messages import FIELD_NAMES

    source = (Path(__file__).resolve().parents[1] / "server" / "base" / "parse.py").read_text(
        encoding="utf-8"
    )
    fields = set(regex.findall(r'_(?:req|int|enum|flag|count|text)\(\w+, "(\w+)"', source))
    fields |= set(regex.findall(r'BadInput\("bad_field", "(\w+)"\)', source))
    assert {"deputy_id", "choice", "vote_id", "for", "ballot_key"} <= fields
    assert fields <= set(FIELD_NAMES), fields - set(FIELD_NAMES)
