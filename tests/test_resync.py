"""A phone's hello after missing updates (server/room/resync.py): it is sent only what
changed since its seq, and afterwards shows what a fresh page load shows; phones that
reconnect at the same seq share one rendering of each message."""

from __future__ import annotations

import json
import re
from typing import Any

from server.room.hub import Room
from server.web.http import Services
from tests.conftest import Hall, TestClient

SEQ_RE = re.compile(r'<body[^>]*\bdata-seq="(\d+)"')
PHONE = ("d-session", "timer", "d-me")


def _element(html: str, frag_id: str) -> str | None:
    """The whole element with this id (its nested tags of the same name counted)."""
    start = re.search(rf'<(\w+)\b[^>]*\bid="{frag_id}"', html)
    if start is None:
        return None
    depth = 0
    for tag in re.finditer(rf"<(/?){start.group(1)}\b[^>]*>", html[start.start() :]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return html[start.start() : start.start() + tag.end()]
    raise AssertionError(f"{frag_id} is not closed")


def _norm(element: str | None) -> str:
    assert element is not None
    element = element.replace(' hx-swap-oob="true"', "")
    element = re.sub(r'data-seq="\d+"', "data-seq", element)  # a fragment not re-sent keeps its seq
    return " ".join(element.split())


def _hello(client: TestClient, hall: Hall, deputy_id: int, seq: int) -> list[str]:
    cookie = hall.deputy_headers(deputy_id)["cookie"]
    with client.websocket_connect(f"/ws/{hall.meeting_id}/deputy", headers={"cookie": cookie}) as ws:
        ws.send_text(json.dumps({"type": "hello", "seq": seq}))
        got: list[str] = []
        while True:
            message = ws.receive_text()
            if message.startswith("{"):
                if json.loads(message).get("type") == "hello":
                    return got
                continue
            got.append(message)


def _shown_after(page: str, messages: list[str]) -> dict[str, str]:
    """What the phone shows: each fragment as the last message that carried it, else the page's."""
    shown = {f: _norm(_element(page, f)) for f in PHONE}
    for message in messages:
        for f in PHONE:
            if (found := _element(message, f)) is not None:
                shown[f] = _norm(found)
    return shown


def _fresh(hall: Hall, deputy_id: int) -> dict[str, str]:
    page = hall.deputy_page(deputy_id)
    return {f: _norm(_element(page, f)) for f in PHONE}


def _room(hall: Hall) -> Room:
    services: Services = hall.http.app.state.services  # type: ignore[attr-defined]
    return services.meetings.rooms[hall.meeting_id]


def _seq(page: str) -> int:
    found = SEQ_RE.search(page)
    assert found is not None
    return int(found.group(1))


def test_a_phone_behind_gets_only_what_changed_and_shows_a_fresh_load(client: TestClient, hall: Hall) -> None:
    pages = {d: hall.deputy_page(d) for d in (6, 7)}
    hall.act_ok("open_checkin")
    hall.act_ok("check_in", deputy_id=6)
    hall.act_ok("check_in", deputy_id=9)
    for deputy_id, page in pages.items():
        messages = _hello(client, hall, deputy_id, _seq(page))
        assert 'id="timer"' not in "".join(messages)  # nothing touched the timer: not re-sent
        assert _shown_after(page, messages) == _fresh(hall, deputy_id)
    # Deputy 7 now sees check-in open; then a check-in of someone else changes only the
    # shared figures, not 7's own fragment.
    page = hall.deputy_page(7)
    hall.act_ok("check_in", deputy_id=10)
    messages = _hello(client, hall, 7, _seq(page))
    assert 'id="d-me"' not in "".join(messages)
    assert _shown_after(page, messages) == _fresh(hall, 7)


def test_a_setup_reload_or_an_unknown_seq_sends_every_fragment(client: TestClient, hall: Hall) -> None:
    page = hall.deputy_page(6)
    hall.act_ok("open_checkin")
    services: Services = hall.http.app.state.services  # type: ignore[attr-defined]

    async def reload() -> None:
        await services.meetings.setup_changed(meeting_id=hall.meeting_id)

    hall.http.portal.call(reload)  # type: ignore[attr-defined]
    for seq in (_seq(page), 10**6, -1):  # behind a reload; above the log (rewritten); none
        messages = _hello(client, hall, 6, seq)
        assert all(f'id="{f}"' in "".join(messages) for f in PHONE)
        assert _shown_after(page, messages) == _fresh(hall, 6)


def test_phones_reconnecting_at_one_seq_share_each_rendering(client: TestClient, hall: Hall) -> None:
    deputies = list(range(11, 31))
    page = hall.deputy_page(deputies[0])
    hall.act_ok("open_checkin")
    hall.act_ok("check_in", deputy_id=5)
    room = _room(hall)
    before = room.resync.renders
    replies: dict[int, Any] = {d: _hello(client, hall, d, _seq(page)) for d in deputies}
    assert len({json.dumps(r) for r in replies.values()}) == 1  # the same message to each
    assert room.resync.renders - before <= 2 * 2  # shared + d-me, at most once more if a second turned
