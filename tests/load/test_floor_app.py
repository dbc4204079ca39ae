"""The rating floor (server/bench/floor_app.py) in its own process: a real rating is
recorded and receipted; a bad cookie or a bad CSRF token is refused and records nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from server.base.keys import Keys
from server.bench.floor_app import RECORDED, start_floor

SECRET = "floor-test-secret-0123456789abcdef"


def _rows(folder: Path) -> list[tuple[int, int, str]]:
    with sqlite3.connect(folder / "floor.sqlite3") as db:
        return db.execute("SELECT question_id, deputy_id, choice FROM floor_ratings").fetchall()


async def _post(client: httpx.AsyncClient, cookie: str, csrf: str, deputy_key: str = "k1") -> httpx.Response:
    body = urlencode({"question_id": "7", "choice": "satisfied", "ballot_key": deputy_key})
    return await client.post(
        "/d/3/rate",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"wz_deputy={cookie}",
            "X-CSRF-Token": csrf,
            "HX-Request": "true",
        },
    )


@pytest.mark.slow
def test_floor_records_a_valid_rating_and_refuses_forgeries(tmp_path: Path) -> None:
    keys = Keys(SECRET)
    cookie = keys.deputy_cookie(41, 1, "phone-sid-1")
    other = Keys("another-secret-altogether-0000000").deputy_cookie(42, 1, "phone-sid-2")

    async def run() -> None:
        floor = await start_floor(SECRET, tmp_path, 600)
        try:
            async with httpx.AsyncClient(base_url=floor.url) as client:
                refused = await _post(client, other, keys.csrf("phone-sid-2"))
                assert refused.status_code == 401  # not our signature: not a deputy at all
                forged = await _post(client, cookie, keys.csrf("another-phone"))
                assert forged.status_code == 403
                assert _rows(tmp_path) == []
                ok = await _post(client, cookie, keys.csrf("phone-sid-1"))
                assert ok.status_code == 200
                assert RECORDED in ok.text and len(ok.content) == 600
                assert _rows(tmp_path) == [(7, 41, "satisfied")]
                # Concurrent ratings share commits and every one is on disk when answered.
                many = [keys.deputy_cookie(100 + i, 1, f"sid-{i}") for i in range(20)]
                replies = await asyncio.gather(
                    *(_post(client, c, keys.csrf(f"sid-{i}"), f"k{i}") for i, c in enumerate(many))
                )
                assert [r.status_code for r in replies] == [200] * 20
                assert len(_rows(tmp_path)) == 21
        finally:
            await floor.stop()

    asyncio.run(run())
