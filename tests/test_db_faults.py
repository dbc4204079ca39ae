"""The database is busy or its disk is full: "未记录，请重试", and nothing half-written.

The faults are real, not mocks. On SQLite: another connection holds the write lock past
the server's busy timeout (``SQLITE_BUSY``), and the database reaches its size limit
(``SQLITE_FULL``, the error a full disk gives; ``PRAGMA max_page_count`` is set on the
server's own connections, so its writes fail exactly as on a full disk). On PostgreSQL:
another session holds the meeting's advisory lock and a deputy's row past the server's
``lock_timeout`` (SQLSTATE 55P03), and the test's database lives in a tablespace on a
tmpfs of a few megabytes that a file fills to the last byte (SQLSTATE 53100, "could not
extend file": the disk really is full). The phone and the console say "未记录，请重试";
the event log, the receipts and the tallies agree and hold only what was acknowledged;
the same ballot sent again afterwards counts once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import secrets
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from anyio.from_thread import start_blocking_portal
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError

from server.base.settings import Settings
from server.storage import models as m
from server.storage import sqlite_log
from server.storage.db import POSTGRES_LOCK_TIMEOUT_MS, SQLITE_BUSY_MS
from server.web.http import Services
from tests.conftest import CHOICES, PG_ADMIN_DSN, Db, Hall, TestClient, figures

NOT_RECORDED = "未记录，请重试"


@pytest.fixture
def database_url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    """SQLite in the data folder; a PostgreSQL test names the fixture that makes its
    database, with ``parametrize("database_url", [fixture name], indirect=True)``."""
    source = getattr(request, "param", None)
    if source is None:
        return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"
    return str(request.getfixturevalue(source))


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
def full_disk(client: TestClient, db: Db, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
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
    # The meeting writer's own connection (server/storage/sqlite_log.py) is capped too.
    writer_pragmas = sqlite_log.sqlite_pragmas

    def writer_connects(dbapi_conn: Any) -> None:
        writer_pragmas(dbapi_conn)
        cap(dbapi_conn, None)

    monkeypatch.setattr(sqlite_log, "sqlite_pragmas", writer_connects)

    def reconnect() -> None:
        """Every connection opens anew, and so takes the cap (or is rid of it)."""
        client.portal.call(engine.dispose)  # type: ignore[union-attr]
        for room in services.meetings.rooms.values():
            if room.runtime.sqlite_log is not None:
                client.portal.call(room.runtime.sqlite_log.disconnect)  # type: ignore[union-attr]

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
        reconnect()

    def free() -> None:
        limit.clear()
        reconnect()
        with sqlite3.connect(db_path(db), isolation_level=None) as conn:
            conn.execute("DROP TABLE filler")

    yield fill, free
    event.remove(engine.sync_engine, "connect", cap)


# A long user agent makes each event row big: the free room in the last pages of the log
# runs out after a few ballots at most.
BIG_AGENT = {"user-agent": "Mozilla/5.0 (Linux; Android 9) " + "X" * 180}


def ballots_until_refused(hall: Hall, deputies: list[int]) -> tuple[dict[int, str], tuple[int, str, str]]:
    """One ballot after another until the database refuses one: (acknowledged, refused)."""
    acknowledged: dict[int, str] = {}
    for i, d in enumerate(deputies):
        choice, key = CHOICES[i % 3], f"full-{d}"
        headers = {**hall.deputy_headers(d), **BIG_AGENT}
        data = {"question_id": "1", "choice": choice, "ballot_key": key}
        reply = hall.http.post(f"/d/{hall.meeting_id}/rate", data=data, headers=headers)
        if reply.status_code == 200:
            acknowledged[d] = key
            continue
        assert reply.status_code == 503 and NOT_RECORDED in reply.text, reply.text
        return acknowledged, (d, choice, key)
    raise AssertionError(f"{len(acknowledged)} ballots fitted into a full database")


def the_console_is_refused_too(hall: Hall) -> None:
    banner = {"cmd": "banner", "text": "磁盘已满" * 15}  # the longest banner: bigger than a ballot
    console = hall.http.post(
        f"/m/{hall.meeting_id}/act", data=banner, headers={**hall.chair_headers(), **BIG_AGENT}
    )
    assert console.status_code == 503 and NOT_RECORDED in console.text


def the_refused_ballot_counts_once(hall: Hall, refused: tuple[int, str, str]) -> None:
    d, choice, key = refused
    retried = hall.rate(d, 1, choice, key)
    assert retried.status_code == 200 and 'id="d-receipt"' in retried.text
    assert hall.rate(d, 1, choice, key).status_code == 200  # the reply lost: sent once more


def test_a_full_disk_says_not_recorded_and_writes_nothing(hall: Hall, db: Db, full_disk: Any) -> None:
    fill, free = full_disk
    deputies = [d for d, _, _ in db.deputies()]
    hall.open_rating(deputies)
    for d in deputies:  # every phone known: the refusal comes from the ballot's own commit
        hall.deputy_page(d)
    fill()
    acknowledged, refused = ballots_until_refused(hall, deputies)
    counts = consistent(db, 1)
    assert db.receipts(1) == acknowledged, "exactly the acknowledged ballots are stored"
    assert counts["receipts"] == len(acknowledged)
    the_console_is_refused_too(hall)
    assert consistent(db, 1) == counts

    free()
    the_refused_ballot_counts_once(hall, refused)
    after = consistent(db, 1)
    assert after["receipts"] == len(acknowledged) + 1
    assert db.receipts(1) == {**acknowledged, refused[0]: refused[2]}
    figures(
        "db-full",
        acknowledged_before_full=len(acknowledged),
        refused_status=503,
        receipts_after_refusal=counts["receipts"],
        receipts_after_retry=after["receipts"],
    )


# -- PostgreSQL --------------------------------------------------------------------------

ON_POSTGRES = pytest.mark.parametrize("database_url", ["pg_database"], indirect=True)
ON_A_SMALL_DISK = pytest.mark.parametrize("database_url", ["pg_database_on_a_small_disk"], indirect=True)


class OtherSession:
    """Another PostgreSQL session, on a thread of its own, inside one open transaction."""

    def __init__(self, url: str) -> None:
        self._stack = contextlib.ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())
        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._conn: asyncpg.Connection = self._portal.call(asyncpg.connect, dsn)
        self.execute("BEGIN")

    def execute(self, sql: str, *args: Any) -> None:
        self._portal.call(self._conn.execute, sql, *args)

    def close(self) -> None:
        try:
            self.execute("ROLLBACK")
            self._portal.call(self._conn.close)
        finally:
            self._stack.close()


def errors_seen(records: list[logging.LogRecord]) -> Counter[str]:
    """The database errors the server logged on its way to each 503, by SQLSTATE: what
    really came through asyncpg and SQLAlchemy."""
    seen: Counter[str] = Counter()
    for record in records:
        found = [record.exc_info[1]] if record.exc_info else []
        found += [a for a in record.args or () if isinstance(a, BaseException)]  # type: ignore[union-attr]
        for exc in found:
            while exc is not None and not isinstance(exc, DBAPIError):
                exc = exc.__cause__ or exc.__context__
            if exc is not None:
                state = getattr(exc.orig, "sqlstate", None)
                seen[f"{type(exc).__name__} {state} {type(exc.orig.__cause__).__name__}"] += 1
    return seen


def deputy_row(db: Db, deputy_id: int) -> tuple[Any, ...]:
    async def fn(conn):  # type: ignore[no-untyped-def]
        d, g = m.deputies, m.groups
        stmt = select(d.c.name, g.c.name, d.c.phone, d.c.notes).join(g, d.c.group_id == g.c.id)
        return tuple((await conn.execute(stmt.where(d.c.id == deputy_id))).one())

    return tuple(db._run(fn))


def body_of(db: Db) -> int:
    async def fn(conn):  # type: ignore[no-untyped-def]
        stmt = select(m.meetings.c.body_id).where(m.meetings.c.id == db.meeting_id)
        return int((await conn.execute(stmt)).scalar_one())

    return int(db._run(fn))


def rows_of(db: Db, table: Any) -> list[tuple[Any, ...]]:
    async def fn(conn):  # type: ignore[no-untyped-def]
        return [tuple(r) for r in await conn.execute(select(table))]

    return sorted(db._run(fn), key=repr)


@pytest.mark.postgres
@ON_POSTGRES
def test_a_busy_postgres_says_not_recorded_and_writes_nothing(
    hall: Hall, db: Db, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    deputies = [d for d, _, _ in db.deputies()][:6]
    hall.open_rating(deputies)
    assert hall.rate(deputies[0], 1, "satisfied", "busy-0").status_code == 200
    hall.deputy_page(deputies[1])  # this phone is known; deputies[2]'s first request comes later
    before = consistent(db, 1)
    name, group, phone, notes = deputy_row(db, deputies[2])
    edit = {"name": name + "（改）", "group": group, "phone": phone or "", "notes": notes or ""}
    edit_path = f"/bodies/{body_of(db)}/deputies/{deputies[2]}"
    tables = {t.name: rows_of(db, t) for t in (m.deputies, m.phone_bindings, m.audit, m.events)}
    caplog.clear()

    pool = ThreadPoolExecutor(4)
    other = OtherSession(settings.database_url)
    try:
        other.execute("SELECT pg_advisory_xact_lock($1)", hall.meeting_id)  # the meeting's writer lock
        other.execute("SELECT 1 FROM deputies WHERE id = $1 FOR UPDATE", deputies[2])  # a row lock
        started = time.monotonic()
        # The rating of a known phone and the chair's command wait for the writer lock; a
        # new phone's binding and the office's edit of the deputy wait for the row.
        sent = [
            pool.submit(hall.rate, deputies[1], 1, "basic", "busy-1"),
            pool.submit(hall.rate, deputies[2], 1, "dissatisfied", "busy-2"),
            pool.submit(hall.act, "banner", text="忙碌测试"),
            pool.submit(hall.http.post, edit_path, data=edit, headers=hall.chair_headers()),
        ]
        replies = [f.result(timeout=60) for f in sent]  # without a lock timeout: for ever
        waited = time.monotonic() - started
    finally:
        other.close()
        pool.shutdown()
    for reply in replies:
        assert reply.status_code == 503 and NOT_RECORDED in reply.text, (reply.status_code, reply.text)
    assert 'id="d-me"' in replies[0].text and 'name="ballot_key"' in replies[0].text, "the phone can retry"
    assert waited >= POSTGRES_LOCK_TIMEOUT_MS / 1000 * 0.9, (
        f"gave up after {waited:.1f} s, before the timeout"
    )
    seen = errors_seen(caplog.records)
    assert seen and all(" 55P03 LockNotAvailableError" in kind for kind in seen), seen
    assert consistent(db, 1) == before, "a refused write left something behind"
    assert db.receipts(1) == {deputies[0]: "busy-0"}
    for t in (m.deputies, m.phone_bindings, m.audit, m.events):
        assert rows_of(db, t) == tables[t.name], f"{t.name} changed"

    for d, choice, key in ((deputies[1], "basic", "busy-1"), (deputies[2], "dissatisfied", "busy-2")):
        again = hall.rate(d, 1, choice, key)
        assert again.status_code == 200 and 'id="d-receipt"' in again.text
        assert hall.rate(d, 1, choice, key).status_code == 200  # its reply lost: once more
    hall.act_ok("banner", text="忙碌测试")
    assert hall.http.post(edit_path, data=edit, headers=hall.chair_headers()).status_code == 303
    assert deputy_row(db, deputies[2])[0] == name + "（改）"
    after = consistent(db, 1)
    assert after["receipts"] == before["receipts"] + 2
    assert db.ballots(1) == {"satisfied": 1, "basic": 1, "dissatisfied": 1}
    figures(
        "db-busy-postgres",
        waited_s=round(waited, 2),
        lock_timeout_ms=POSTGRES_LOCK_TIMEOUT_MS,
        refused=[r.status_code for r in replies],
        errors_logged=dict(seen),
        receipts_before=before["receipts"],
        receipts_after_retry=after["receipts"],
    )


SMALL_DISK_MB = 24  # the new database with the demo takes about 2 MB of it (its files are sparse)


@dataclass
class SmallDisk:
    """A tmpfs of its own, with a folder for a PostgreSQL tablespace and room for a filler."""

    mount: Path
    tablespace: Path

    @property
    def filler(self) -> Path:
        return self.mount / "filler"

    def fill(self) -> int:
        """Write a file until the disk has no byte left; returns the bytes written."""
        written, chunk = 0, 1 << 20
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while chunk:
                try:
                    written += os.write(fd, bytes(chunk))
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    chunk //= 2
        finally:
            os.close(fd)
        return written

    def free(self) -> None:
        self.filler.unlink()


def _postgres_owner() -> tuple[int, int]:
    """The uid and gid PostgreSQL runs as (the owner of its data directory)."""

    async def go() -> str:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            return str(await conn.fetchval("SHOW data_directory"))
        finally:
            await conn.close()

    st = Path(asyncio.run(go())).stat()
    return st.st_uid, st.st_gid


def _pg_admin(sql: str) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(go())


@pytest.fixture
def small_disk() -> Iterator[SmallDisk]:
    if os.geteuid() != 0:
        pytest.fail("a full PostgreSQL disk is a tmpfs mounted for the test: run as root", pytrace=False)
    uid, gid = _postgres_owner()
    mount = Path(tempfile.mkdtemp(prefix="wz-pgfull-"))
    os.chmod(mount, 0o755)
    options = f"size={SMALL_DISK_MB}m,mode=0755"
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], check=True)
    try:
        tablespace = mount / "tablespace"
        tablespace.mkdir(mode=0o700)
        os.chown(tablespace, uid, gid)
        yield SmallDisk(mount, tablespace)
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=False)  # detach it whatever holds it
        mount.rmdir()


@pytest.fixture
def pg_database_on_a_small_disk(small_disk: SmallDisk) -> Iterator[str]:
    """A database of this test's own, all of its files in a tablespace on ``small_disk``."""
    suffix = secrets.token_hex(6)
    name, space = f"wz_test_{suffix}", f"wz_small_disk_{suffix}"
    _pg_admin(f"CREATE TABLESPACE {space} LOCATION '{small_disk.tablespace}'")
    try:
        _pg_admin(f'CREATE DATABASE "{name}" TABLESPACE {space}')
        try:
            yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        finally:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        _pg_admin(f"DROP TABLESPACE IF EXISTS {space}")


@pytest.mark.postgres
@ON_A_SMALL_DISK
def test_a_full_postgres_disk_says_not_recorded_and_writes_nothing(
    hall: Hall, db: Db, small_disk: SmallDisk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    deputies = [d for d, _, _ in db.deputies()]
    hall.open_rating(deputies)
    # Each table grows a page at a time, and one with no page yet needs one at its first
    # row: bind every phone and cast a ballot first, so that it is the event log (the
    # biggest rows) that runs out of room, for ballots and the console alike.
    for d in deputies:
        hall.deputy_page(d)
    assert hall.rate(deputies[0], 1, "satisfied", f"full-{deputies[0]}").status_code == 200
    _pg_admin("CHECKPOINT")  # every page written so far is on the disk before it fills
    caplog.clear()
    filled = small_disk.fill()
    try:
        acknowledged, refused = ballots_until_refused(hall, deputies[1:])
        acknowledged[deputies[0]] = f"full-{deputies[0]}"
        counts = consistent(db, 1)
        assert db.receipts(1) == acknowledged, "exactly the acknowledged ballots are stored"
        assert counts["receipts"] == len(acknowledged)
        the_console_is_refused_too(hall)
        assert consistent(db, 1) == counts
    finally:
        small_disk.free()
    seen = errors_seen(caplog.records)
    assert seen and all(" 53100 DiskFullError" in kind for kind in seen), seen

    the_refused_ballot_counts_once(hall, refused)
    after = consistent(db, 1)
    assert after["receipts"] == len(acknowledged) + 1
    assert db.receipts(1) == {**acknowledged, refused[0]: refused[2]}
    figures(
        "db-full-postgres",
        disk_mb=SMALL_DISK_MB,
        filler_bytes=filled,
        acknowledged_before_full=len(acknowledged),
        refused_status=503,
        errors_logged=dict(seen),
        receipts_after_refusal=counts["receipts"],
        receipts_after_retry=after["receipts"],
    )
