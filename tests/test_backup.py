"""`wenzheng backup`: a consistent copy of a live SQLite database, and a restore from it.

The main test backs up the demo meeting while a real server is taking ratings, then
opens the copy: it must pass SQLite's integrity check, its event log must replay, and
its receipts, tallies and RatingCast events must agree, ballot for ballot (a copy taken
between a receipt and its tally would not). A server started on the copy shows the tally
the copy holds.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server import models as m
from server.auth import Keys
from server.backup import BackupError, backup_sqlite
from server.settings import Settings
from tests.conftest import (
    WENZHENG,
    Db,
    Hall,
    figures,
    plain_engine,
    server_env,
    state_from_db,
    tally_of,
)

CHOICES = ("satisfied", "basic", "dissatisfied")


def run_backup(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_wenzheng(server_env(settings, **env), "backup", *args)


def run_wenzheng(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WENZHENG), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def event_log(url: str, meeting_id: int) -> list[tuple[int, str, str]]:
    async def go() -> list[tuple[int, str, str]]:
        engine = plain_engine(url)
        try:
            async with engine.connect() as conn:
                e = m.events
                rows = await conn.execute(
                    select(e.c.seq, e.c.type, e.c.data).where(e.c.meeting_id == meeting_id).order_by(e.c.seq)
                )
                return [(int(s), str(t), str(d)) for s, t, d in rows]
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.mark.slow
def test_backup_of_a_live_meeting_restores_whole(
    settings: Settings, meeting_id: int, spawn: Any, tmp_path: Path
) -> None:
    keys = Keys(settings.secret_key)
    live = Db(settings.database_url, meeting_id)
    server = spawn()
    http = server.client()
    hall = Hall(http, keys, meeting_id)
    deputies = [d for d, _, _ in live.deputies()]
    hall.open_rating(deputies)

    # A phone after another rates, for as long as the backup runs: live writes.
    ballots = {d: (CHOICES[i % 3], f"key{d}x{i}") for i, d in enumerate(deputies)}
    receipted: dict[int, str] = {}
    lock = threading.Lock()
    backup_done = threading.Event()
    failures: list[str] = []

    def rate_all() -> None:
        with server.client() as own:
            phones = Hall(own, keys, meeting_id, hall.staff_cookie)
            for n, d in enumerate(deputies):
                if len(deputies) - n <= 4:
                    backup_done.wait(120)  # keep a few for after: the writes outlast the copy
                choice, key = ballots[d]
                try:
                    response = phones.rate(d, 1, choice, key)
                except httpx.HTTPError as exc:
                    failures.append(f"deputy {d}: {exc!r}")
                    continue
                if response.status_code == 200 and 'id="d-receipt"' in response.text:
                    with lock:
                        receipted[d] = key
                else:
                    failures.append(f"deputy {d}: {response.status_code}")
                if not backup_done.is_set():
                    time.sleep(0.04)

    writer = threading.Thread(target=rate_all)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while len(receipted) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        with lock:
            before = dict(receipted)
        copy = tmp_path / "backups" / "copy.db"
        copy.parent.mkdir()
        done = run_backup(settings, str(copy))
        with lock:
            during = len(receipted) - len(before)
    finally:
        backup_done.set()
        writer.join(120)
    assert not failures, failures
    assert done.returncode == 0, done.stderr
    assert len(before) >= 5
    assert during > 0, "no ballot was receipted while the backup ran: the test did not test a live copy"
    assert "备份完成" in done.stdout and str(copy) in done.stdout
    assert "会议  1 个" in done.stdout
    assert [p.name for p in copy.parent.iterdir()] == ["copy.db"], "the temporary file is left behind"
    assert set(receipted) == set(deputies)
    live_log = event_log(settings.database_url, meeting_id)
    server.stop()  # restore the way an operator does: stop the server first

    # -- the restore ------------------------------------------------------------------------
    assert integrity(copy) == ["ok"]
    copy_url = f"sqlite+aiosqlite:///{copy}"
    restored = Db(copy_url, meeting_id)
    log = event_log(copy_url, meeting_id)
    assert f"事件  {len(log)} 条" in done.stdout
    assert log == live_log[: len(log)], "the copy's event log is not a prefix of the live one"
    state = asyncio.run(state_from_db(copy_url, meeting_id))
    assert state.seq == log[-1][0]
    receipts = restored.receipts(1)
    counts = restored.counts()
    cast_events = sum(1 for _, kind, _ in log if kind == "RatingCast")
    assert counts["receipts"] == counts["ballots"] == cast_events == len(receipts)
    assert len(state.ratings[1].voters) == len(receipts)
    assert sum(state.ratings[1].counts.values()) == len(receipts)
    for d, key in before.items():
        assert receipts.get(d) == key, f"deputy {d} was receipted before the backup began, not in the copy"
    assert all(receipted[d] == key for d, key in receipts.items()), "the copy holds a ballot never cast"
    assert len(receipts) < len(deputies), "the copy holds ballots cast after the backup finished"
    tally = restored.ballots(1)
    for choice in CHOICES:
        assert tally[choice] == sum(1 for d in receipts if ballots[d][0] == choice)

    # A server on the copy serves the meeting with the copy's tally, and carries on.
    again = spawn(WENZHENG_DATABASE_URL=copy_url)
    with again.client() as http2:
        hall2 = Hall(http2, keys, meeting_id, hall.staff_cookie)
        assert tally_of(hall2.console()) == {**tally, "cast": len(receipts)}
        late = next(d for d in deputies if d not in receipts)
        assert hall2.rate(late, 1, *ballots[late]).status_code == 200
        assert restored.counts()["receipts"] == len(receipts) + 1
    http.close()
    figures(
        "backup-live",
        receipted_before_backup=len(before),
        receipted_while_copying=during,
        receipts_in_copy=len(receipts),
        events_in_copy=len(log),
        events_in_live_log=len(live_log),
    )


def test_refuses_to_overwrite_without_force(settings: Settings, meeting_id: int, tmp_path: Path) -> None:
    target = tmp_path / "old.db"
    target.write_bytes(b"an older backup")
    refused = run_backup(settings, str(target))
    assert refused.returncode == 1
    assert "已存在" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert target.read_bytes() == b"an older backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "old.db"]

    forced = run_backup(settings, str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert integrity(target) == ["ok"]
    assert Db(f"sqlite+aiosqlite:///{target}", meeting_id).counts()["events"] == 0


def test_postgres_prints_pg_dump_and_exits_2(settings: Settings, tmp_path: Path) -> None:
    url = "postgresql+asyncpg://wz_owner:s3cret-pw@db.example.org:6543/wenzheng_prod"
    out = tmp_path / "wenzheng.dump"
    result = run_backup(settings, str(out), WENZHENG_DATABASE_URL=url)
    assert result.returncode == 2, result.stderr
    where = "-h db.example.org -p 6543 -U wz_owner -d wenzheng_prod"
    assert f"pg_dump -Fc {where} -f {out}" in result.stdout
    assert f"pg_restore --clean --if-exists --no-owner {where} {out}" in result.stdout
    assert "PostgreSQL" in result.stdout and "PGPASSWORD" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr
    assert not out.exists()


def test_missing_directory_is_a_chinese_error(settings: Settings, meeting_id: int, tmp_path: Path) -> None:
    result = run_backup(settings, str(tmp_path / "no" / "such" / "copy.db"))
    assert result.returncode == 1
    assert "目标目录不存在" in result.stderr
    assert "Traceback" not in result.stderr and not result.stdout


def test_refuses_to_back_up_onto_the_database(settings: Settings, meeting_id: int) -> None:
    database = settings.data_dir / "wenzheng.db"
    with pytest.raises(BackupError, match="备份到它自己"):
        backup_sqlite(database, database, force=True)
    assert integrity(database) == ["ok"]


def damaged_database(source: Path) -> Path:
    """A SQLite file whose index disagrees with its table: integrity_check fails."""
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE meetings (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE INDEX meetings_name ON meetings (name)")
    conn.executemany("INSERT INTO meetings (name) VALUES (?)", [(f"m{i:03}",) for i in range(50)])
    conn.commit()
    root = int(conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'meetings_name'").fetchone()[0])
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.close()
    data = bytearray(source.read_bytes())
    at = data.index(b"m010", (root - 1) * page_size, root * page_size)
    data[at : at + 4] = b"zzzz"  # one index entry no longer matches its row
    source.write_bytes(bytes(data))
    assert integrity(source) != ["ok"]
    return source


def test_a_damaged_copy_is_not_kept(tmp_path: Path) -> None:
    """A source whose index disagrees with its table: the check fails, nothing is saved."""
    source = damaged_database(tmp_path / "damaged.db")
    out = tmp_path / "out" / "copy.db"
    out.parent.mkdir()
    with pytest.raises(BackupError, match="完整性检查"):
        backup_sqlite(source, out)
    assert list(out.parent.iterdir()) == []


def test_a_failing_backup_leaves_nothing_behind(tmp_path: Path) -> None:
    """No database here: the backup fails, and neither a data folder nor a secret key is
    made (settings.load would make both; backup reads with settings.locate)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
    empty = tmp_path / "empty"
    empty.mkdir()
    in_cwd = run_wenzheng(env, "backup", "copy.db", cwd=empty)  # the default: ./data
    elsewhere = run_wenzheng(
        {**env, "WENZHENG_DATA_DIR": str(empty / "srv" / "data")}, "backup", "x.db", cwd=empty
    )
    for done in (in_cwd, elsewhere):
        assert done.returncode == 1
        assert done.stderr.startswith("错误：数据库文件不存在") and done.stderr.count("\n") == 1, done.stderr
    assert list(empty.iterdir()) == [], "a failing backup left something behind"
