"""The live channel (server/web/ws.py) against a real `wenzheng serve` process.

Screens connect with the cookies a paired projector, a logged-in chair and a bound
deputy phone carry, say hello with the seq of their page, and receive HTML fragments.
The property that matters: whatever a screen receives (live, or as a snapshot after a
reconnect) equals what a fresh page load shows, fragment by fragment.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import InvalidStatus

from server.base.keys import Keys
from tests.conftest import (
    Db,
    Hall,
    Server,
    TestClient,
    fragments,
    page_seq,
    staff_login,
    tally_of,
    ws_collect,
    ws_connect,
    ws_drain,
    ws_hello,
)

pytestmark = pytest.mark.slow

PAGE_FRAGMENTS = {
    "projector": ["p-mode", "p-banner", "stage"],
    "console": [
        "c-session",
        "timer",
        "c-attendance",
        "c-attendees",
        "c-floor",
        "c-tally",
        "c-vote",
        "c-questions",
        "c-agenda",
        "c-projector",
    ],
    "deputy": ["d-session", "timer", "d-me"],
    "podium": ["po-speaker", "timer"],
    "public": ["pu-session", "timer", "pu-results"],
}
DEPUTY = 1


@pytest.fixture
def live(spawn: Any, keys: Keys, meeting_id: int) -> Iterator[tuple[Server, Hall]]:
    server = spawn()
    with server.client() as http:
        yield server, Hall(http, keys, meeting_id)


def page_of(hall: Hall, audience: str) -> str:
    if audience == "projector":
        return hall.projector()
    if audience == "console":
        return hall.console()
    if audience == "podium":
        return hall.podium()
    if audience == "public":
        response = hall.http.get(f"/m/{hall.meeting_id}/live")
        assert response.status_code == 200
        return response.text
    return hall.deputy_page(DEPUTY)


def url(server: Server, audience: str) -> str:
    return f"{server.ws_url}/ws/1/{audience}"


def merged(messages: list[str]) -> dict[str, Any]:
    """Fragments by id across messages; a later message replaces an earlier one."""
    out: dict[str, Any] = {}
    for message in messages:
        out.update(fragments(message))
    return out


def top_level(messages: list[str]) -> set[str]:
    """The ids of the elements a message swaps in (those carrying hx-swap-oob)."""
    return {i for message in messages for i in re.findall(r'id="([\w-]+)"[^>]*hx-swap-oob="true"', message)}


def assert_like_page(received: dict[str, Any], page: str, ids: set[str]) -> None:
    on_page = fragments(page)
    for frag_id in ids:
        assert frag_id in on_page, f"{frag_id} not on the page"
        assert received[frag_id] == on_page[frag_id], f"fragment {frag_id} differs from a fresh page load"


# -- hello, live updates -----------------------------------------------------------------


def test_hello_then_live_fragments_equal_the_page(live: tuple[Server, Hall]) -> None:
    server, hall = live
    audiences = ["projector", "console", "deputy", "console", "podium", "public"]
    with contextlib.ExitStack() as stack:
        sockets = [
            stack.enter_context(ws_connect(url(server, a), hall.cookie_for(a, DEPUTY))) for a in audiences
        ]
        for ws, audience in zip(sockets, audiences, strict=True):
            seq = page_seq(page_of(hall, audience))
            html, reply = ws_hello(ws, seq)
            assert html == [] and reply == {"type": "hello", "seq": seq}, (
                "a page that is current needs nothing"
            )

        steps: list[tuple[str, dict[str, Any], dict[str, set[str]]]] = [
            (
                "start_agenda",
                {"item_id": 3},
                {
                    "projector": {"stage"},
                    "console": {"c-session", "c-agenda"},
                    "deputy": {"d-session"},
                    "podium": {"po-speaker"},
                    "public": {"pu-session"},
                },
            ),
            (
                "call_question",
                {"question_id": 1},
                {
                    "projector": {"stage"},
                    "console": {"c-session", "timer", "c-questions"},
                    "deputy": {"d-session", "timer", "d-me"},
                    "podium": {"po-speaker", "timer"},
                    "public": {"pu-session", "timer"},
                },
            ),
            (
                "timer_pause",
                {},
                {
                    "projector": {"timer"},
                    "console": {"timer"},
                    "deputy": {"timer"},
                    "podium": {"timer"},
                    "public": {"timer"},
                },
            ),
        ]
        for cmd, fields, expected in steps:
            hall.act_ok(cmd, **fields)
            got = [
                ws_collect(ws, lambda ms, want=expected[a]: want <= top_level(ms), timeout=2)
                for ws, a in zip(sockets, audiences, strict=True)
            ]
            seq = page_seq(hall.console())
            for messages, audience in zip(got, audiences, strict=True):
                sent = top_level(messages)
                assert expected[audience] <= sent, (cmd, audience, messages)
                assert all(f'data-seq="{seq}"' in m for m in messages)
                # Every fragment sent replaces an element the page has, with what a reload shows.
                assert_like_page(merged(messages), page_of(hall, audience), sent)
            # One render per audience: both consoles got the very same bytes.
            assert got[1] == got[3]


# -- reconnect ---------------------------------------------------------------------------


@pytest.mark.parametrize("audience", ["projector", "console", "deputy", "podium", "public"])
def test_reconnect_with_an_old_seq_converges(live: tuple[Server, Hall], audience: str) -> None:
    server, hall = live
    cookie = hall.cookie_for(audience, DEPUTY)
    before = page_of(hall, audience)
    old = page_seq(before)
    with ws_connect(url(server, audience), cookie) as ws:
        assert ws_hello(ws, old)[0] == []
    # The screen is gone while the session goes on.
    hall.act_ok("open_checkin")
    for d in (DEPUTY, 2, 3, 4):
        hall.act_ok("check_in", deputy_id=d)
    hall.act_ok("mark_leave", deputy_id=5)
    hall.act_ok("close_checkin")
    hall.act_ok("announce_attendance")
    hall.act_ok("start_agenda", item_id=3)
    hall.act_ok("call_question", question_id=1)
    hall.act_ok("to_answering")
    hall.act_ok("open_rating", without_quorum="1")  # 4 of 48: past the quorum warning
    for d, choice in ((2, "satisfied"), (3, "basic")):
        assert hall.rate(d, 1, choice).status_code == 200
    hall.act_ok("timer_adjust", seconds=-5)
    time.sleep(0.4)  # let the coalesced flushes of the above go out to nobody

    with ws_connect(url(server, audience), cookie) as ws:
        html, reply = ws_hello(ws, old)
        page = page_of(hall, audience)
        assert reply["seq"] == page_seq(page) > old
        assert len(html) == 1, "one snapshot message"
        received = fragments(html[0])
        sent = top_level(html)
        if audience == "projector":  # always the whole screen (frozen mode, the hall QR)
            assert sent == set(PAGE_FRAGMENTS[audience])
        else:  # only what changed since its seq (server/room/resync.py)
            assert sent and sent <= set(PAGE_FRAGMENTS[audience])
        assert_like_page(received, page, sent)
        # What was not re-sent is what a fresh load shows (the seq each carries aside).
        unseq = re.compile(r'data-seq="\d+"')
        kept = fragments(unseq.sub("", before))
        assert_like_page(kept, unseq.sub("", page), set(PAGE_FRAGMENTS[audience]) - sent)
        # A second hello at the seq it now has: nothing more to send.
        assert ws_hello(ws, reply["seq"])[0] == []


def test_hello_with_a_bad_seq_gets_a_snapshot(live: tuple[Server, Hall]) -> None:
    server, hall = live
    hall.act_ok("open_checkin")
    with ws_connect(url(server, "console"), hall.cookie_for("console")) as ws:
        for seq in ("abc", None, -1, 10**9):
            html, reply = ws_hello(ws, seq)  # type: ignore[arg-type]
            assert reply == {"type": "hello", "seq": 2}
            assert top_level(html) == set(PAGE_FRAGMENTS["console"])
            assert_like_page(fragments(html[0]), hall.console(), set(PAGE_FRAGMENTS["console"]))


# -- time, junk --------------------------------------------------------------------------


def test_time_probe(live: tuple[Server, Hall]) -> None:
    server, hall = live
    with ws_connect(url(server, "projector"), hall.cookie_for("projector")) as ws:
        for t0, echoed in (
            (1234567.5, 1234567.5),
            (42, 42),
            ("x", None),
            (None, None),
            # Echoed as bare NaN once, which no browser's JSON.parse reads (tests/test_fuzz.py).
            (float("nan"), None),
            (float("inf"), None),
        ):
            before = time.time() * 1000
            ws.send(json.dumps({"type": "time", "t0": t0}))
            reply = json.loads(ws.recv(timeout=2))
            after = time.time() * 1000
            assert reply["type"] == "time" and reply["t0"] == echoed
            assert before - 1000 <= reply["ts"] <= after + 1000
        ws.send(json.dumps({"type": "time"}))
        assert json.loads(ws.recv(timeout=2))["t0"] is None


MALFORMED = [
    "not json",
    "",
    "[]",
    "null",
    "42",
    '"hello"',
    "{}",
    '{"type": "nope"}',
    '{"type": 5}',
    '{"type": ["hello"]}',
    '{"type": {"a": 1}}',
    '{"seq": 3}',
    '{"type": "hello", "seq": 1' + " " * 10,
    json.dumps({"type": "time", "t0": "x" * 600}),
    "x" * 4000,  # over the app's 512, under the transport's limit (longer: tests/test_limits.py)
]


def test_malformed_messages_get_a_json_error(live: tuple[Server, Hall]) -> None:
    server, hall = live
    with ws_connect(url(server, "console"), hall.cookie_for("console")) as ws:
        for raw in MALFORMED:
            ws.send(raw)
            reply = json.loads(ws.recv(timeout=2))
            assert reply["type"] == "error", raw
            assert re.search(r"[\u4e00-\u9fff]", reply["message"])
        # Still alive and well.
        ws.send(json.dumps({"type": "time", "t0": 1}))
        assert json.loads(ws.recv(timeout=2))["type"] == "time"
        assert ws_hello(ws, 0)[1]["type"] == "hello"
    health = hall.http.get("/healthz").json()
    assert health["status"] == "ok"


def test_a_binary_frame_gets_a_json_error(live: tuple[Server, Hall]) -> None:
    server, hall = live
    with ws_connect(url(server, "console"), hall.cookie_for("console")) as ws:
        ws.send(b"\x00\x01binary")
        reply = json.loads(ws.recv(timeout=2))
        assert reply["type"] == "error"


# -- who may listen ----------------------------------------------------------------------


def _rejections(keys: Keys, staff_cookie: str) -> list[tuple[str, str | None]]:
    """Sockets refused; ``staff_cookie`` is a live session's, which opens the console only."""
    staff = f"wz_user={staff_cookie}"
    return [
        ("/ws/1/projector", None),
        ("/ws/1/console", None),
        ("/ws/1/deputy", None),
        ("/ws/1/projector", "wz_screen=forged"),
        ("/ws/1/console", "wz_user=forged"),
        ("/ws/1/deputy", "wz_deputy=forged"),
        ("/ws/1/projector", "wz_screen=" + keys.screen_cookie(2, "projector")),
        ("/ws/1/projector", "wz_screen=" + keys.screen_cookie(1, "podium")),
        ("/ws/1/projector", staff),
        ("/ws/1/podium", None),
        ("/ws/1/podium", "wz_screen=" + keys.screen_cookie(1, "projector")),
        ("/ws/1/podium", "wz_screen=" + keys.screen_cookie(2, "podium")),
        ("/ws/1/podium", staff),
        ("/ws/1/console", "wz_deputy=" + keys.deputy_cookie(1, 1)),
        ("/ws/1/console", "wz_user=" + keys.staff_cookie(9, "guest", frozenset({"viewer"}))),
        ("/ws/1/deputy", "wz_deputy=" + keys.deputy_cookie(1, 2)),  # revoked card version
        ("/ws/1/deputy", "wz_deputy=" + keys.deputy_cookie(10**6, 1)),
        ("/ws/1/admin", staff),
        ("/ws/999/console", staff),
    ]


def test_unauthenticated_sockets_are_closed_1008(client: TestClient, keys: Keys) -> None:
    for path, cookie in _rejections(keys, staff_login(client)):
        headers = {"cookie": cookie} if cookie else {}
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(path, headers=headers):
            pass
        assert closed.value.code == 1008, (path, cookie)


def test_unauthenticated_sockets_are_refused_by_the_real_server(
    live: tuple[Server, Hall], keys: Keys
) -> None:
    server, hall = live
    for path, cookie in _rejections(keys, hall.staff_cookie):
        # uvicorn turns a close before accept (1008) into a 403 answer to the handshake.
        with pytest.raises(InvalidStatus) as refused, ws_connect(server.ws_url + path, cookie):
            pass
        assert refused.value.response.status_code == 403, (path, cookie)


# -- where a socket may be opened from ----------------------------------------------------

AUDIENCES = ("console", "projector", "podium", "deputy", "public")
# The test client's requests go to Host "testserver"; the public address is the default.
FOREIGN_ORIGINS = (
    "https://evil.example",
    "http://testserver.evil.example",
    "http://testserver:8443",
    "https://127.0.0.1:8001",
    "null",
    "testserver",
)
OWN_ORIGINS = (
    None,
    "http://testserver",
    "https://testserver",
    "HTTP://TestServer:80",
    "http://127.0.0.1:8000",
)


def test_a_socket_from_another_origin_is_refused_before_accept(client: TestClient, hall: Hall) -> None:
    """Another site's page cannot open a socket with our cookies (cross-site websocket
    hijacking), for any audience; our own pages, the public address and clients that are
    not browsers (no Origin) can."""
    # Each phone's handshakes are rate-limited (server/web/limits.py): a phone of its own for
    # every try, so the limit is not what is tested here.
    phones = iter(range(DEPUTY, DEPUTY + len(FOREIGN_ORIGINS) + len(OWN_ORIGINS)))
    for audience in AUDIENCES:
        for origin in FOREIGN_ORIGINS:
            cookie = hall.cookie_for(audience, next(phones) if audience == "deputy" else DEPUTY)
            headers = {"origin": origin, **({"cookie": cookie} if cookie else {})}
            with (
                pytest.raises(WebSocketDisconnect) as closed,
                client.websocket_connect(f"/ws/1/{audience}", headers=headers),
            ):
                pass
            assert closed.value.code == 1008, (audience, origin)
        for own in OWN_ORIGINS:
            cookie = hall.cookie_for(audience, next(phones) if audience == "deputy" else DEPUTY)
            headers = {**({"origin": own} if own else {}), **({"cookie": cookie} if cookie else {})}
            with client.websocket_connect(f"/ws/1/{audience}", headers=headers) as ws:
                ws.send_text(json.dumps({"type": "time", "t0": 1}))
                assert json.loads(ws.receive_text())["type"] == "time", (audience, own)


def test_the_real_server_refuses_a_foreign_origin_at_the_handshake(live: tuple[Server, Hall]) -> None:
    server, hall = live
    for audience in AUDIENCES:
        cookie = hall.cookie_for(audience, DEPUTY) or None
        with (
            pytest.raises(InvalidStatus) as refused,
            ws_connect(f"{server.ws_url}/ws/1/{audience}", cookie, origin="https://evil.example"),
        ):
            pass
        assert refused.value.response.status_code == 403, audience
        with ws_connect(f"{server.ws_url}/ws/1/{audience}", cookie, origin=server.base_url) as ws:
            _, reply = ws_hello(ws, -1)
            assert reply["type"] == "hello", audience


def test_a_huge_meeting_id_is_refused_not_a_500(live: tuple[Server, Hall], keys: Keys) -> None:
    server, hall = live
    staff = f"wz_user={hall.staff_cookie}"
    with (
        pytest.raises(InvalidStatus) as refused,
        ws_connect(f"{server.ws_url}/ws/99999999999999999999/console", staff),
    ):
        pass
    assert refused.value.response.status_code == 403


# -- coalescing --------------------------------------------------------------------------


def test_tallies_are_coalesced(live: tuple[Server, Hall], db: Db) -> None:
    server, hall = live
    deputies = [d for d, _, _ in db.deputies()]
    hall.act_ok("open_checkin")
    with ThreadPoolExecutor(8) as pool:
        assert all(
            r.status_code == 200 for r in pool.map(lambda d: hall.act("check_in", deputy_id=d), deputies)
        )
    hall.act_ok("call_question", question_id=1)
    hall.act_ok("to_answering")
    hall.act_ok("open_rating")
    choices = ("satisfied", "basic", "dissatisfied")

    with ws_connect(url(server, "console"), hall.cookie_for("console")) as console:
        ws_hello(console, page_seq(hall.console()))
        ws_drain(console, 0.3)
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda d: hall.rate(d, 1, choices[d % 3]), deputies))
        assert [r.status_code for r in replies] == [200] * len(deputies)
        elapsed = time.monotonic() - started

        def done(messages: list[str]) -> bool:
            return any(f'id="c-cast">{len(deputies)}<' in m for m in messages)

        messages = ws_collect(console, done, timeout=5)
        assert done(messages), "the console never showed the final tally"
        messages += ws_drain(console, 0.5)
    tallies = [m for m in messages if 'id="c-tally"' in m]
    # At most one tally message per coalescing period (0.25 s), plus one.
    assert 1 <= len(tallies) <= elapsed / 0.25 + 2, (len(tallies), elapsed)
    assert len(tallies) < len(deputies) // 3
    shown = tally_of(tallies[-1])
    assert shown == {"cast": len(deputies)}  # how many, never how, while it is open
    assert tally_of(hall.console()) == shown
    assert sum(db.ballots(1).values()) == len(deputies)
