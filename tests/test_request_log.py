"""The access log of a real `wenzheng serve`: every request on one line with its id, and
no secret in any line (server/web/request_log.py).

The server runs as the systemd unit runs it (default log level, its output read from
the pipe), and a hall goes through it: a staff login with a password, a phone bound by
its invitation link, another by the card number and short code typed under the hall
code, both checked in, a secret rating, a secret vote, a projector paired by its link,
a live socket. Then nothing any of them must keep to themselves is in the output, while
each request's id is there with its method and status; in the JSON form every line is a
JSON object.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.base.keys import Keys
from server.base.settings import Settings
from server.web.request_log import RequestLog, redact_path
from tests.conftest import WENZHENG, Db, Hall, free_port, pre_form, server_env, ws_connect, ws_hello

pytestmark = pytest.mark.slow
PROXY_CLIENT = "203.0.113.9"  # documentation range: only ever a header value here


def _serve(settings: Settings, tmp_path: Path, log_format: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = server_env(
        settings,
        WENZHENG_LOG_FORMAT=log_format,
        WENZHENG_PORT=str(port),
        WENZHENG_TRUSTED_PROXIES="127.0.0.1",
    )
    with (tmp_path / "stdout").open("wb") as out, (tmp_path / "stderr").open("wb") as err:
        proc = subprocess.Popen(
            [str(WENZHENG), "serve"],  # the unit's command line: no --log-level, so info
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "stderr").read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1, trust_env=False).is_success:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("the server did not start")


def _add_user(settings: Settings, name: str, password: str) -> None:
    done = subprocess.run(
        [str(WENZHENG), "user", "add", name, "--role", "chair", "--password", password],
        env=server_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_every_request_logged_with_its_id_and_no_secret(
    settings: Settings, keys: Keys, meeting_id: int, db: Db, tmp_path: Path, log_format: str
) -> None:
    password = f"pw-{secrets.token_hex(8)}"
    _add_user(settings, "clerk", password)
    (a_id, _, a_short), (b_id, b_card, b_short) = db.deputies()[0], db.deputies()[1]
    invitation = keys.invitation(a_id, 1)
    screen = keys.screen_cookie(meeting_id, "projector")
    hall_code = keys.hall_code(meeting_id, int(time.time() // 30))
    secret_values: dict[str, str] = {
        "password": password,
        "invitation token": invitation,
        "short code of the link's card": a_short,
        "short code typed": b_short,
        "screen token": screen,
        "hall code": hall_code,
    }
    answered: list[tuple[str, str, int]] = []  # (request id, method, status)

    def seen(response: httpx.Response) -> httpx.Response:
        answered.append((response.headers["x-request-id"], response.request.method, response.status_code))
        return response

    proc, port = _serve(settings, tmp_path, log_format)
    base = f"http://127.0.0.1:{port}"

    def client() -> httpx.Client:
        return httpx.Client(base_url=base, timeout=15, trust_env=False, event_hooks={"response": [seen]})

    try:
        with client() as http:
            login = http.post("/login", data={"username": "clerk", "password": password, "next": "/"})
            assert login.status_code == 303, login.text
            staff_cookie = login.cookies["wz_user"]
            http.cookies.clear()
            secret_values["staff session cookie"] = staff_cookie
            chair = Hall(http, keys, meeting_id, login=staff_cookie)
            chair.act_ok("open_checkin")

            # A phone bound by its card's QR code (the invitation link) ...
            with client() as a:
                assert a.get(f"/i/{meeting_id}/{invitation}").status_code == 303
                a_cookie = a.cookies["wz_deputy"]
                # ... checks in under the hall code, through the proxy that forwards its address.
                a_binding = keys.read_deputy(a_cookie)
                assert a_binding is not None
                a_csrf = keys.csrf(a_binding.sid)
                checked = a.post(
                    f"/h/{meeting_id}/{hall_code}",
                    data={"csrf": a_csrf},
                    headers={"x-forwarded-for": PROXY_CLIENT, "x-csrf-token": a_csrf},
                )
                assert checked.status_code in (200, 303), checked.text[:300]
                # Another phone types its card number and short code under the hall code.
                with client() as b:
                    page = f"/h/{meeting_id}/{hall_code}"
                    typed = pre_form(b, page, page, {"card_no": b_card, "short_code": b_short})
                    assert typed.status_code == 303, typed.text[:300]
                    b_cookie = b.cookies["wz_deputy"]
                secret_values["phone cookie (link)"] = a_cookie
                secret_values["phone cookie (typed)"] = b_cookie

                # The quorum, a secret rating, a secret vote.
                chair.check_in_quorum(a_id, b_id)
                chair.act_ok("close_checkin")
                chair.act_ok("call_question", question_id=1)
                chair.act_ok("to_answering")
                chair.act_ok("open_rating")
                headers = {"x-csrf-token": a_csrf}
                rated = a.post(
                    f"/d/{meeting_id}/rate",
                    data={"question_id": "1", "choice": "dissatisfied", "ballot_key": "rk-a"},
                    headers=headers,
                )
                assert rated.status_code == 200 and "已记录" in rated.text, rated.text[:300]
                chair.act_ok("close_rating")
                chair.act_ok("open_vote", title="决议", secret="1")
                voted = a.post(
                    f"/d/{meeting_id}/vote",
                    data={"vote_id": "1", "choice": "abstain", "ballot_key": "vk-a"},
                    headers=headers,
                )
                assert voted.status_code == 200, voted.text[:300]

                # A live socket of that phone: one line at open, one at close.
                socket_url = f"ws://127.0.0.1:{port}/ws/{meeting_id}/deputy"
                with ws_connect(socket_url, f"wz_deputy={a_cookie}") as ws:
                    ws_hello(ws, 0)

            # The projector paired by its link (the cookie rides in the query once).
            paired = http.get(f"/m/{meeting_id}/projector?screen={screen}")
            assert paired.status_code == 303
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)

    out = (tmp_path / "stdout").read_text()
    err = (tmp_path / "stderr").read_text()
    everything = out + err
    for what, value in secret_values.items():
        assert value not in everything, f"the log holds the {what}"
    for choice in ("satisfied", "dissatisfied", "abstain"):  # the secret choices made above
        assert choice not in everything, f"the log holds the choice {choice!r}"

    lines = out.splitlines()
    assert answered
    if log_format == "json":
        records = [json.loads(line) for line in lines]
        assert all(json.loads(line) for line in err.splitlines())  # the other messages too
        http_records = {r["id"]: r for r in records if r.get("event") == "http"}
        for request_id, method, status in answered:
            record = http_records[request_id]
            assert (record["method"], record["status"]) == (method, status)
            assert isinstance(record["ms"], float) and record["path"].startswith("/")
        assert {r["path"] for r in records if r.get("event") == "ws-open"} == {f"/ws/{meeting_id}/deputy"}
        closes = [r for r in records if r.get("event") == "ws-close"]
        assert len(closes) == 1 and isinstance(closes[0]["code"], int)
        forwarded = [r for r in http_records.values() if r["client"] == PROXY_CLIENT]
        assert [r["path"] for r in forwarded] == [f"/h/{meeting_id}/…"]
    else:
        for request_id, method, status in answered:
            [line] = [x for x in lines if f" id={request_id} " in x]
            assert re.search(
                rf"wenzheng\.access http id={request_id} client=\S+ method={method} path=/\S* "
                rf"status={status} ms=\d+\.\d$",
                line,
            ), line
        assert sum(" ws-open " in x and f"path=/ws/{meeting_id}/deputy" in x for x in lines) == 1
        assert sum(re.search(r" ws-close .* code=\d+ ms=", x) is not None for x in lines) == 1
        assert f"client={PROXY_CLIENT} method=POST path=/h/{meeting_id}/… status=" in out
        assert f"path=/i/{meeting_id}/… status=303" in out
        assert f"path=/m/{meeting_id}/projector?screen=… status=303" in out


def test_the_redaction_keeps_the_route_and_drops_the_secrets() -> None:
    def path(raw: bytes, query: bytes = b"") -> str:
        decoded = urllib.parse.unquote(raw.decode())  # as uvicorn puts it in the scope
        return redact_path({"type": "http", "path": decoded, "raw_path": raw, "query_string": query})

    assert path(b"/i/3/AbC.tok-en") == "/i/3/…"
    assert path(b"/i/3/tok/more/parts") == "/i/3/…"
    assert path(b"/h/12/123456") == "/h/12/…"
    assert path(b"/h/12/") == "/h/12/…"
    # Percent-encoded, the router still sees the invitation, hall or organ route.
    assert path(b"/%69/3/AbC.tok-en") == "/i/3/…"
    assert path(b"/%68/12/123456") == "/h/12/…"
    assert path(b"/%6F/s3cr3t") == "/o/…"
    # Slashes doubled and dot segments (a link pasted badly; nginx normalizes them away in
    # its own log, passes them on as sent): the server answers 404, the token is still one.
    assert path(b"//o/s3cr3t/items/1") == "/o/…"
    assert path(b"/./o/s3cr3t") == "/o/…"
    assert path(b"/x/../o/s3cr3t") == "/o/…"
    assert path(b"///i/3/s3cr3t") == "/i/3/…"
    assert path(b"/d/3/rate") == "/d/3/rate"
    assert path(b"/m/3/projector", b"screen=s3cr3t") == "/m/3/projector?screen=…"
    assert path(b"/m/3/cards", b"group=%E4%B8%80&page=2") == "/m/3/cards?group=…&page=…"
    assert path(b"/login", b"s3cr3t.token") == "/login?…"  # a bare value: not a name
    assert path(b"/x", b"a=1&weird%20name=2") == "/x?a=…&…"
    # A path cannot start a second line or hide behind spaces.
    assert path(b"/a b\nc\x00") == "/a%20b%0Ac%00"
    assert len(path(b"/" + b"x" * 5000)) <= 200


async def test_failed_500_unanswered_0(caplog: pytest.LogCaptureFixture) -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None  # the client went away before an answer

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    scope = {"type": "http", "method": "GET", "path": "/h/1/999999", "raw_path": b"/h/1/999999"}
    caplog.set_level(logging.INFO, logger="wenzheng.access")
    with pytest.raises(RuntimeError):
        await RequestLog(failing)(dict(scope), receive, send)
    await RequestLog(silent)(dict(scope), receive, send)
    lines = [r.getMessage() for r in caplog.records if r.name == "wenzheng.access"]
    assert len(lines) == 2
    assert "client=- method=GET path=/h/1/… status=500 " in lines[0]
    assert " status=0 " in lines[1] and "999999" not in " ".join(lines)


def test_a_bad_log_format_stops_the_start(settings: Settings) -> None:
    done = subprocess.run(
        [str(WENZHENG), "serve", "--port", str(free_port())],
        env=server_env(settings, WENZHENG_LOG_FORMAT="xml"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "WENZHENG_LOG_FORMAT 只能是 text 或 json" in done.stderr
