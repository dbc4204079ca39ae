"""The database is busy or its disk is full: "未记录，请重试", and nothing half-written.

Both faults are real SQLite conditions, not mocks: another connection holds the write
lock past the server's busy timeout (``SQLITE_BUSY``), and the database reaches its size
limit (``SQLITE_FULL``, the error a full disk gives; ``PRAGMA max_page_count`` is set on
the server's own connections, so its writes fail exactly as on a full disk). The phone
and the console say "未记录，请重试"; the event log, the receipts and the tallies agree
and hold only what was acknowledged; the same ballot sent again afterwards counts once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event

from server.db import SQLITE_BUSY_MS
from server.web import Services
from tests.conftest import CHOICES, Db, Hall, TestClient, figures

NOT_RECORDED = "未记录，请重试"


def db_path(db: Db) -> str:
    return db.url.split("///", 1)[1]


def consistent(db: Db, question_id: int) -> dict[str, int]:
    """Log, receipts and tallies agree; the counts of all three."""
    counts = db.counts()
    ballots = sum(db.ballots(question_id).values())
    assert counts["ballots"] == counts["receipts"] == ballots, counts
    state = db.state()  # the whole log replays
    rating = state.ratings[question_id]
    assert len(rating.voters) == counts["receipts"], "the log's RatingCast events match the receipts"
    return counts


def test_a_busy_database_says_not_recorded_and_writes_nothing(hall: Hall, db: Db) -> None:
    deputies = [d for d, _, _ in db.deputies()][:6]
    hall.open_rating(deputies)
    assert hall.rate(deputies[0], 1, "satisfied", "busy-0").status_code == 200
    hall.deputy_page(deputies[1])  # this phone is known; deputies[2]'s first request comes later
    before = consistent(db, 1)

    locker = sqlite3.connect(db_path(db), timeout=1, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            known = pool.submit(hall.rate, deputies[1], 1, "basic", "busy-1")
            first = pool.submit(hall.rate, deputies[2], 1, "dissatisfied", "busy-2")
            chair = pool.submit(hall.act, "banner", text="忙碌测试")
            replies = known.result(), first.result(), chair.result()
        waited = time.monotonic() - started
    finally:
        locker.rollback()
        locker.close()
    for reply in replies:
        assert reply.status_code == 503 and NOT_RECORDED in reply.text, reply.text
    assert 'id="d-me"' in replies[0].text and 'name="ballot_key"' in replies[0].text, "the phone can retry"
    assert waited >= SQLITE_BUSY_MS / 1000 * 0.9, f"gave up after {waited:.1f} s, before the busy timeout"
    assert consistent(db, 1) == before, "a refused write left something behind"
    assert db.receipts(1) == {deputies[0]: "busy-0"}

    for d, choice, key in ((deputies[1], "basic", "busy-1"), (deputies[2], "dissatisfied", "busy-2")):
        again = hall.rate(d, 1, choice, key)
        assert again.status_code == 200 and 'id="d-receipt"' in again.text
        assert hall.rate(d, 1, choice, key).status_code == 200  # its reply lost: once more
    after = consistent(db, 1)
    assert after["receipts"] == before["receipts"] + 2
    assert db.ballots(1) == {"satisfied": 1, "basic": 1, "dissatisfied": 1}
    figures(
        "db-busy",
        waited_s=round(waited, 2),
        busy_timeout_ms=SQLITE_BUSY_MS,
        refused=[r.status_code for r in replies],
        receipts_before=before["receipts"],
        receipts_after_retry=after["receipts"],
    )


@pytest.fixture
def full_disk(client: TestClient, db: Db) -> Iterator[Any]:
    """Cap the database at its present size on every connection the server opens."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    engine = services.engine
    limit: dict[str, int] = {}

    def cap(dbapi_conn: Any, _record: Any) -> None:
        if "pages" in limit:
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA max_page_count = {limit['pages']}")
            cur.close()

    event.listen(engine.sync_engine, "connect", cap)

    def fill() -> None:
        """Fill the file to the cap, so the next page the server needs is not there."""
        path = db_path(db)
        with sqlite3.connect(path, isolation_level=None) as filler:
            filler.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = filler.execute("PRAGMA page_count").fetchone()[0] + 8
            filler.execute(f"PRAGMA max_page_count = {pages}")
            filler.execute("CREATE TABLE IF NOT EXISTS filler (x BLOB)")
            with pytest.raises(sqlite3.OperationalError, match="full"):
                while True:
                    filler.execute("INSERT INTO filler VALUES (zeroblob(512))")
        limit["pages"] = pages
        client.portal.call(engine.dispose)  # type: ignore[union-attr]

    def free() -> None:
        limit.clear()
        client.portal.call(engine.dispose)  # type: ignore[union-attr]
        with sqlite3.connect(db_path(db), isolation_level=None) as conn:
            conn.execute("DROP TABLE filler")

    yield fill, free
    event.remove(engine.sync_engine, "connect", cap)


def test_a_full_disk_says_not_recorded_and_writes_nothing(hall: Hall, db: Db, full_disk: Any) -> None:
    fill, free = full_disk
    deputies = [d for d, _, _ in db.deputies()]
    hall.open_rating(deputies)
    fill()
    # A long user agent makes each event row big: the free room in the last pages of the
    # log runs out after a few ballots at most.
    agent = {"user-agent": "Mozilla/5.0 (Linux; Android 9) " + "X" * 180}
    acknowledged: dict[int, str] = {}
    failed: tuple[int, str, str] | None = None
    for i, d in enumerate(deputies):
        choice, key = CHOICES[i % 3], f"full-{d}"
        headers = {**hall.deputy_headers(d), **agent}
        data = {"question_id": "1", "choice": choice, "ballot_key": key}
        reply = hall.http.post(f"/d/{hall.meeting_id}/rate", data=data, headers=headers)
        if reply.status_code == 200:
            acknowledged[d] = key
            continue
        assert reply.status_code == 503 and NOT_RECORDED in reply.text, reply.text
        failed = (d, choice, key)
        break
    assert failed is not None, f"{len(acknowledged)} ballots fitted into a full database"
    counts = consistent(db, 1)
    assert db.receipts(1) == acknowledged, "exactly the acknowledged ballots are stored"
    assert counts["receipts"] == len(acknowledged)
    banner = {"cmd": "banner", "text": "磁盘已满" * 5}  # about as big as the ballot that failed
    console = hall.http.post(
        f"/m/{hall.meeting_id}/act", data=banner, headers={**hall.chair_headers(), **agent}
    )
    assert console.status_code == 503 and NOT_RECORDED in console.text
    assert consistent(db, 1) == counts

    free()
    d, choice, key = failed
    retried = hall.rate(d, 1, choice, key)
    assert retried.status_code == 200 and 'id="d-receipt"' in retried.text
    assert hall.rate(d, 1, choice, key).status_code == 200  # the reply lost: sent once more
    after = consistent(db, 1)
    assert after["receipts"] == len(acknowledged) + 1
    assert db.receipts(1) == {**acknowledged, d: key}
    figures(
        "db-full",
        acknowledged_before_full=len(acknowledged),
        refused_status=503,
        receipts_after_refusal=counts["receipts"],
        receipts_after_retry=after["receipts"],
    )
