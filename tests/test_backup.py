"""`wenzheng backup` and `wenzheng restore`: a consistent copy of a live SQLite database,
and putting one back.

The main test backs up the demo meeting while a real server is taking ratings, then
opens the copy: it must pass SQLite's integrity check, its event log must replay, and
its receipts, tallies and RatingCast events must agree, ballot for ballot (a copy taken
between a receipt and its tally would not). A server started on the copy shows the tally
the copy holds. `wenzheng restore` puts a backup into a fresh data folder, and a server
started there shows what the first server showed; it refuses to overwrite a database
without --force, refuses even with --force while a server has the database open, refuses
a damaged or foreign file without touching the database, and never lets a stale -wal
beside the database be replayed into the restored file.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.base.keys import Keys
from server.base.settings import Settings
from server.storage import models as m
from server.storage.backup import BackupError, backup_sqlite
from server.storage.restore import known_revisions
from tests.conftest import (
    WENZHENG,
    Db,
    Hall,
    figures,
    fragments,
    meaningful,
    plain_engine,
    server_env,
    state_from_db,
    tally_of,
)

CHOICES = ("satisfied", "basic", "dissatisfied")


def run_backup(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_wenzheng(server_env(settings, **env), "backup", *args)


def run_restore(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_wenzheng(server_env(settings, **env), "restore", *args)


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
    assert sum(restored.ballots(1).values()) == len(receipts)  # one sealed ballot per receipt
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
        assert tally_of(hall2.console()) == {"cast": len(receipts)}  # how many, never how, while open
        late = next(d for d in deputies if d not in receipts)
        assert hall2.rate(late, 1, *ballots[late]).status_code == 200
        assert restored.counts()["receipts"] == len(receipts) + 1
        # Closing opens the copy's sealed ballots: the copy's tally and the late one.
        hall2.act_ok("close_rating")
        tally[ballots[late][0]] += 1
        assert tally_of(hall2.console()) == {**tally, "cast": len(receipts) + 1}
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


def test_restore_on_postgres_prints_pg_restore_and_exits_2(settings: Settings, tmp_path: Path) -> None:
    url = "postgresql+asyncpg://wz_owner:s3cret-pw@db.example.org:6543/wenzheng_prod"
    dump = tmp_path / "wenzheng.dump"
    dump.write_bytes(b"PGDMP")
    result = run_restore(settings, str(dump), "--force", WENZHENG_DATABASE_URL=url)
    assert result.returncode == 2, result.stderr
    where = "-h db.example.org -p 6543 -U wz_owner -d wenzheng_prod"
    assert f"pg_restore --clean --if-exists --no-owner {where} {dump}" in result.stdout
    assert "停止服务" in result.stdout and "PGPASSWORD" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr


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
    restore = run_wenzheng(env, "restore", "no-such-backup.db", cwd=empty)
    assert restore.returncode == 1 and restore.stderr.startswith("错误：备份文件不存在")
    assert list(empty.iterdir()) == []


# -- restore ------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def title(database: Path, meeting_id: int = 1) -> str:
    conn = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        return str(conn.execute("SELECT title FROM meetings WHERE id = ?", (meeting_id,)).fetchone()[0])
    finally:
        conn.close()


def retitle(database: Path, text: str, meeting_id: int = 1) -> None:
    conn = sqlite3.connect(database)
    try:
        conn.execute("UPDATE meetings SET title = ? WHERE id = ?", (text, meeting_id))
        conn.commit()
    finally:
        conn.close()


def folder(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def take_backup(settings: Settings, out: Path) -> Path:
    done = run_backup(settings, str(out))
    assert done.returncode == 0, done.stderr
    return out


def screens(hall: Hall, deputies: list[int]) -> dict[str, dict[str, Any]]:
    """Every fragment of every audience's page, and of some deputies' phones."""
    public = hall.http.get(f"/m/{hall.meeting_id}/live")
    assert public.status_code == 200
    shown = {
        "console": fragments(hall.console()),
        "projector": fragments(hall.projector()),
        "podium": fragments(hall.podium()),
        "public": fragments(public.text),
    }
    for d in deputies:
        shown[f"deputy {d}"] = fragments(hall.deputy_page(d))
    return shown


@pytest.mark.slow
def test_restore_into_a_fresh_data_folder_shows_the_same_meeting(
    settings: Settings, meeting_id: int, spawn: Any, tmp_path: Path
) -> None:
    keys = Keys(settings.secret_key)
    first = spawn()
    http = first.client()
    hall = Hall(http, keys, meeting_id)
    deputies = [d for d, _, _ in Db(settings.database_url, meeting_id).deputies()][:12]
    hall.open_rating(deputies)
    for i, d in enumerate(deputies[:7]):
        assert hall.rate(d, 1, CHOICES[i % 3], f"restore-{d}").status_code == 200
    hall.act_ok("banner", text="恢复测试")
    seen = [deputies[0], deputies[8]]  # one who rated, one who has not
    before = screens(hall, seen)
    backup = take_backup(settings, tmp_path / "backup.db")  # from the live server

    fresh = tmp_path / "fresh" / "data"  # does not exist yet
    env = {"WENZHENG_DATA_DIR": str(fresh), "WENZHENG_DATABASE_URL": ""}
    done = run_restore(settings, str(backup), **env)
    assert done.returncode == 0, done.stderr
    restored = fresh / "wenzheng.db"
    assert f"恢复完成：{restored}" in done.stdout and "会议  1 个" in done.stdout
    events = Db(settings.database_url, meeting_id).counts()["events"]
    head = known_revisions()[-1]
    assert f"事件  {events} 条" in done.stdout and f"结构版本  {head}（最新）" in done.stdout
    assert "secret_key" in done.stdout, "the operator is told the key is not there"
    assert folder(fresh) == ["wenzheng.db"], "only the database: no temporary file, no key"
    shutil.copy(settings.data_dir / "secret_key", fresh / "secret_key")  # as the notice says

    second = spawn(**env)
    with second.client() as http2:
        hall2 = Hall(http2, keys, meeting_id, hall.staff_cookie)
        after = screens(hall2, seen)
        for screen, shown in before.items():
            assert after[screen] == shown, f"the {screen} differs on the restored server"
        restored_url = f"sqlite+aiosqlite:///{restored}"
        original = asyncio.run(state_from_db(settings.database_url, meeting_id))
        assert meaningful(asyncio.run(state_from_db(restored_url, meeting_id))) == meaningful(original)
        assert hall2.rate(deputies[9], 1, "basic", "after-restore").status_code == 200
        assert Db(restored_url, meeting_id).counts()["receipts"] == 8
    assert Db(settings.database_url, meeting_id).counts()["receipts"] == 7, "the original is its own"
    http.close()
    figures(
        "restore-fresh-folder",
        events_restored=events,
        fragments_compared=sum(len(f) for f in before.values()),
        screens_compared=sorted(before),
    )


def test_restore_refuses_an_existing_database_without_force(
    settings: Settings, meeting_id: int, tmp_path: Path
) -> None:
    backup = take_backup(settings, tmp_path / "backup.db")
    database = settings.data_dir / "wenzheng.db"
    retitle(database, "备份之后改过的标题")
    kept, listing = sha256(database), folder(settings.data_dir)

    refused = run_restore(settings, str(backup))
    assert refused.returncode == 1
    assert refused.stderr == f"错误：数据库已存在：{database}（要用备份覆盖它，请先停止服务，再加 --force）\n"
    assert not refused.stdout
    assert sha256(database) == kept and folder(settings.data_dir) == listing

    forced = run_restore(settings, str(backup), "--force")
    assert forced.returncode == 0, forced.stderr
    assert title(database) == title(backup) != "备份之后改过的标题"
    assert integrity(database) == ["ok"] and folder(settings.data_dir) == listing


@pytest.mark.slow
def test_restore_is_refused_while_a_server_uses_the_database(
    settings: Settings, meeting_id: int, spawn: Any, tmp_path: Path
) -> None:
    backup = take_backup(settings, tmp_path / "backup.db")
    database = settings.data_dir / "wenzheng.db"
    retitle(database, "服务正在使用的标题")
    server = spawn()  # it answered /healthz: its pool holds a connection, idle now
    keys = Keys(settings.secret_key)
    with server.client() as http:
        hall = Hall(http, keys, meeting_id)
        console = hall.console()
        listing = folder(settings.data_dir)
        refused = run_restore(settings, str(backup), "--force")
        assert refused.returncode == 1
        assert refused.stderr.startswith(f"错误：数据库正在被使用（服务还在运行？）：{database}")
        assert "--force 也不会覆盖" in refused.stderr and refused.stderr.count("\n") == 1
        assert "Traceback" not in refused.stderr and not refused.stdout
        assert folder(settings.data_dir) == listing, "no temporary file left, the -wal and -shm kept"
        assert hall.console() == console, "the server carries on as before"
        hall.act_ok("open_checkin")  # and still writes
    assert title(database) == "服务正在使用的标题" and integrity(database) == ["ok"]
    server.stop()
    forced = run_restore(settings, str(backup), "--force")  # the server stopped: now it may
    assert forced.returncode == 0, forced.stderr
    assert title(database) == title(backup)
    assert Db(settings.database_url, meeting_id).counts()["events"] == 0


def not_wenzheng(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('不是问政的数据库')")
    conn.commit()
    conn.close()
    return path


def from_the_future(settings: Settings, path: Path) -> Path:
    take_backup(settings, path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    return path


BAD_BACKUPS: dict[str, tuple[Callable[[Settings, Path], Path], str]] = {
    "text": (lambda _, p: (p.write_text("这不是数据库\n" * 200), p)[1], "无法作为 SQLite 数据库打开"),
    "zeros": (lambda _, p: (p.write_bytes(bytes(8192)), p)[1], "无法作为 SQLite 数据库打开"),
    "damaged": (lambda _, p: damaged_database(p), "未通过完整性检查"),
    "empty": (lambda _, p: (p.write_bytes(b""), p)[1], "不是问政数据库"),
    "foreign": (lambda _, p: not_wenzheng(p), "不是问政数据库"),
    "newer": (from_the_future, "结构版本“9999”本程序不认识"),
}


@pytest.mark.parametrize("kind", sorted(BAD_BACKUPS))
def test_a_corrupt_or_foreign_backup_is_refused_and_the_database_untouched(
    settings: Settings, meeting_id: int, tmp_path: Path, kind: str
) -> None:
    make, message = BAD_BACKUPS[kind]
    bad = make(settings, tmp_path / f"{kind}.db")
    bad_bytes = sha256(bad)
    database = settings.data_dir / "wenzheng.db"
    kept, listing = sha256(database), folder(settings.data_dir)
    refused = run_restore(settings, str(bad), "--force")
    assert refused.returncode == 1
    assert refused.stderr.startswith("错误：") and refused.stderr.count("\n") == 1, refused.stderr
    assert message in refused.stderr and "未恢复，原数据库未改动" in refused.stderr
    assert sha256(database) == kept and folder(settings.data_dir) == listing
    assert sha256(bad) == bad_bytes, "the backup itself is only read"

    fresh = tmp_path / "fresh" / "data"
    into_nothing = run_restore(settings, str(bad), WENZHENG_DATA_DIR=str(fresh), WENZHENG_DATABASE_URL="")
    assert into_nothing.returncode == 1 and message in into_nothing.stderr
    assert not (tmp_path / "fresh").exists(), "the data folder made for the restore is gone again"


def stale_wal(backup: Path, work: Path, text: str) -> bytes:
    """The -wal of a copy of ``backup`` after retitling its meeting, taken while its
    connection is still open (as a crash would leave it): frames that fit the backup."""
    copy = work / "stale.db"
    shutil.copy(backup, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    try:
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("UPDATE meetings SET title = ?", (text,))
        wal = Path(f"{copy}-wal").read_bytes()
    finally:
        conn.close()
    assert len(wal) > 32
    return wal


def test_a_stale_wal_beside_the_database_does_not_leak_into_the_restore(
    settings: Settings, meeting_id: int, tmp_path: Path
) -> None:
    backup = take_backup(settings, tmp_path / "backup.db")
    original = title(backup)
    work = tmp_path / "work"
    work.mkdir()
    wal = stale_wal(backup, work, "陈旧的 WAL 写进来了")

    # The control: beside a plain copy of the backup, SQLite replays this WAL.
    control = work / "control.db"
    shutil.copy(backup, control)
    Path(f"{control}-wal").write_bytes(wal)
    assert title(control) == "陈旧的 WAL 写进来了", "the stale WAL would not leak: the test tests nothing"

    # 1. The database is gone, its -wal and -shm are not (a no --force restore).
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    target = fresh / "wenzheng.db"
    Path(f"{target}-wal").write_bytes(wal)
    Path(f"{target}-shm").write_bytes(bytes(32768))
    done = run_restore(settings, str(backup), WENZHENG_DATA_DIR=str(fresh), WENZHENG_DATABASE_URL="")
    assert done.returncode == 0, done.stderr
    assert title(target) == original, "the stale WAL was replayed into the restored database"
    assert integrity(target) == ["ok"]
    assert "已删除旧数据库留下的 wenzheng.db-wal、wenzheng.db-shm" in done.stdout
    assert folder(fresh) == ["wenzheng.db"]

    # 2. Over an existing database with a stale -wal beside it (--force).
    database = settings.data_dir / "wenzheng.db"
    Path(f"{database}-wal").write_bytes(wal)
    forced = run_restore(settings, str(backup), "--force")
    assert forced.returncode == 0, forced.stderr
    assert not Path(f"{database}-wal").exists() or Path(f"{database}-wal").stat().st_size == 0
    assert title(database) == original and integrity(database) == ["ok"]
    assert Db(settings.database_url, meeting_id).counts()["events"] == 0
