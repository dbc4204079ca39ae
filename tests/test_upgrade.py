"""Upgrading an installation: `wenzheng db upgrade` backs up, then migrates; nothing is lost.

The main test builds a database with the oldest migration (0001) and puts a real meeting
of that era in it: tests/data/meeting_0001.json holds every row that the code of commit
b78640e (the last one with schema 0001) wrote when it loaded its demo meeting and ran it
through its own runtime: check-in by hall code and by staff, leave, a correction, the
announcement, a question with follow-ups and timers, a closed rating of 30 ballots and an
open one of 7, and the state that code folded from its log. `wenzheng db upgrade` (the real
command) takes it to the newest revision; then every row of 0001 is still there with the
same content, the ballots are the ratings' tallies, and the log replays, under today's
code, to the attendance, questions and results the old code showed. On SQLite the backup
is the old database; on PostgreSQL the command prints pg_dump and needs --yes.

The rest: `wenzheng serve` refuses a database older or newer than the code and leaves it
untouched, creates a new one (and its admin), and upgrades with --demo; `wenzheng db
upgrade` refuses a newer database, refuses PostgreSQL without --yes, and a migration that
fails part-way leaves SQLite at its old revision (one transaction), naming the backup.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import MetaData, inspect, text

from live.commands import CastRating, CloseRating
from live.state import Choice, MeetingState, RatingResult
from server.base.keys import Keys
from server.base.settings import load
from server.room.runtime import MeetingRuntime, load_state
from server.storage.db import create_engine
from server.storage.migrate import alembic_config, known_revisions
from tests.conftest import CHAIR, WENZHENG, deputy, free_port, state_from_db

FIXTURE = Path(__file__).resolve().parent / "data" / "meeting_0001.json"
HEAD = known_revisions()[-1]
# 0001's tables in an order its foreign keys accept.
ORDER = (
    "bodies",
    "users",
    "groups",
    "meetings",
    "officials",
    "agenda_items",
    "deputies",
    "events",
    "rating_ballots",
    "screen_pairings",
    "questions",
    "rating_receipts",
    "question_respondents",
)
# What of 0001 is meant to be gone at the head, and where its content went (checked below).
GONE = {
    ("rating_ballots", "*"),  # 0007: the ballots became counts in rating_tallies
}
# What of 0001 is meant to change, and how (checked below).
CHANGED = {
    ("deputies", "short_code"),  # 0010: 4-digit codes fell to guessing, drawn again with 8 digits
}


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"


def url_for(kind: str, data_dir: Path, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("pg_database")) if kind == "postgres" else sqlite_url(data_dir)


def environment(data_dir: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
    env.update({"WENZHENG_DATA_DIR": str(data_dir), "WENZHENG_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"})
    return env


def wenzheng(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WENZHENG), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def at_revision(url: str, revision: str) -> None:
    command.upgrade(alembic_config(url), revision)


async def _fill(url: str, tables: dict[str, list[dict[str, Any]]]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            meta = MetaData()
            await conn.run_sync(meta.reflect)
            for name in ORDER:
                if tables[name]:
                    await conn.execute(meta.tables[name].insert(), tables[name])
            if conn.dialect.name == "postgresql":  # as a real database would have them
                for name in ORDER:
                    if tables[name] and "id" in tables[name][0] and isinstance(tables[name][0]["id"], int):
                        await conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) FROM {name}"
                            )
                        )
    finally:
        await engine.dispose()


async def _dump(url: str) -> tuple[str | None, dict[str, list[dict[str, Any]]]]:
    """(revision, every table's rows) of a database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            tables = {}
            for name in names:
                rows = (await conn.execute(text(f"SELECT * FROM {name}"))).mappings().all()
                tables[name] = [dict(r) for r in rows]
            await conn.rollback()
    finally:
        await engine.dispose()
    version = tables.pop("alembic_version", [])
    return (str(version[0]["version_num"]) if version else None), tables


def dump(url: str) -> tuple[str | None, dict[str, list[dict[str, Any]]]]:
    return asyncio.run(_dump(url))


def key(table: str, row: dict[str, Any]) -> Any:
    return (row["question_id"], row["official_id"]) if table == "question_respondents" else row["id"]


def as_old_code_showed(state: MeetingState) -> dict[str, Any]:
    """The parts of a state the code of schema 0001 had, in the fixture's JSON form."""
    return {
        "seq": state.seq,
        "checkin_open": state.checkin_open,
        "attendance": {str(k): v.value for k, v in sorted(state.attendance.items())},
        "present": state.present_count,
        "leave": state.leave_count,
        "announcement": (
            {f: getattr(state.announcement, f) for f in ("absent", "expected", "leave", "present", "quorum")}
            if state.announcement
            else None
        ),
        "agenda_item_id": state.agenda_item_id,
        "question_id": state.question_id,
        "phase": state.phase.value if state.phase else None,
        "speaker_id": state.speaker_id,
        "focus": state.focus.value if state.focus else None,
        "ratings": {
            str(q): {
                "open": r.open,
                "voters": {str(k): v for k, v in sorted(r.voters.items())},
                "counts": None if r.open else {c.value: n for c, n in r.counts.items()},
                "result": (
                    {
                        "base": r.result.base,
                        "counts": [[c.value, n] for c, n in r.result.counts],
                        "grade": r.result.grade.value if r.result.grade else None,
                        "question_id": r.result.question_id,
                    }
                    if r.result
                    else None
                ),
            }
            for q, r in sorted(state.ratings.items())
        },
    }


async def close_the_open_rating(url: str, data_dir: Path, meeting_id: int) -> RatingResult:
    """One more ballot (sealed, as today's code keeps them), then the close, through the
    runtime as a server would; returns the closed round's result."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            state = await load_state(conn, meeting_id)
            await conn.rollback()

        async def listener(*_: Any) -> None:
            pass

        box = Keys(load({"WENZHENG_DATA_DIR": str(data_dir), "WENZHENG_DATABASE_URL": url}).secret_key).box
        runtime = MeetingRuntime(engine, state, listener, box)
        runtime.start()
        try:
            late = 20  # present, and had not rated question 2
            await runtime.submit(
                CastRating(late, 2, Choice.SATISFIED, "after-upgrade"), deputy(late), "phone"
            )
            await runtime.submit(CloseRating(), CHAIR, "console")
        finally:
            await runtime.stop()
        result = (await state_from_db(url, meeting_id)).ratings[2].result
        assert result == runtime.state.ratings[2].result
        assert result is not None
        return result
    finally:
        await engine.dispose()


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite+aiosqlite:///"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_meeting_made_by_the_oldest_schema_survives_db_upgrade(
    kind: str, data_dir: Path, request: pytest.FixtureRequest
) -> None:
    made = json.loads(FIXTURE.read_text(encoding="utf-8"))
    old_tables: dict[str, list[dict[str, Any]]] = made["tables"]
    url = url_for(kind, data_dir, request)
    at_revision(url, "0001")
    asyncio.run(_fill(url, old_tables))
    assert dump(url) == ("0001", old_tables)
    env = environment(data_dir, url)

    done = wenzheng(env, "db", "upgrade", *(["--yes"] if kind == "postgres" else []))
    assert done.returncode == 0, done.stderr
    assert f"升级前结构版本：0001（本程序最新为 {HEAD}）" in done.stdout
    assert f"升级后结构版本：{HEAD}" in done.stdout
    if kind == "sqlite":
        found = re.search(r"已备份：(\S+\.db)（会议 1 个，事件 117 条，完整性检查通过）", done.stdout)
        assert found, done.stdout
        backup = Path(found.group(1))
        assert backup.parent == data_dir / "backups"
        assert re.fullmatch(rf"wenzheng-0001-before-{HEAD}-\d{{8}}-\d{{6}}\.db", backup.name)
        assert dump(f"sqlite+aiosqlite:///{backup}") == ("0001", old_tables), "the backup is the old database"
    else:
        assert "pg_dump -Fc" in done.stdout and "已备份" not in done.stdout
        assert not (data_dir / "backups").exists()

    revision, new_tables = dump(url)
    assert revision == HEAD
    gone, changed = set(), set()
    for table, rows in old_tables.items():
        if table not in new_tables:
            gone.add((table, "*"))
            continue
        now = {key(table, r): r for r in new_tables[table]}
        for row in rows:
            assert key(table, row) in now, f"{table} row {key(table, row)} lost"
            for column, value in row.items():
                if column not in now[key(table, row)]:
                    gone.add((table, column))
                elif now[key(table, row)][column] != value:
                    changed.add((table, column))
    assert (gone, changed) == (GONE, CHANGED)
    codes = [d["short_code"] for d in new_tables["deputies"]]
    assert all(re.fullmatch(r"\d{8}", c) for c in codes) and len(set(codes)) == len(codes)
    # The ballots' content: per question and choice, the same counts in the tallies.
    ballots: dict[tuple[int, str], int] = {}
    for b in old_tables["rating_ballots"]:
        ballots[(b["question_id"], b["choice"])] = ballots.get((b["question_id"], b["choice"]), 0) + 1
    tallies = {(t["question_id"], t["choice"]): t["n"] for t in new_tables["rating_tallies"] if t["n"]}
    assert tallies == ballots and sum(ballots.values()) == 37

    state = asyncio.run(state_from_db(url, made["meeting_id"]))
    old_state = made["state"]
    assert old_state["present"] == 39 and old_state["ratings"]["1"]["result"]["base"] == 48
    open_round = old_state["ratings"]["2"]
    assert open_round["open"] and len(open_round["voters"]) == 7
    assert open_round["counts"] == {"satisfied": 3, "basic": 2, "dissatisfied": 2}
    # Today's state holds no split of an open round (its new ballots are sealed on disk):
    # the seven ballots cast before the upgrade must show in its result when it closes.
    assert as_old_code_showed(state) == {
        **old_state,
        "ratings": {**old_state["ratings"], "2": {**open_round, "counts": None}},
    }
    result = asyncio.run(close_the_open_rating(url, data_dir, made["meeting_id"]))
    assert result.question_id == 2 and result.base == 48
    assert dict(result.counts) == {Choice.SATISFIED: 4, Choice.BASIC: 2, Choice.DISSATISFIED: 2}


@pytest.mark.postgres
def test_db_upgrade_on_postgres_without_yes_prints_pg_dump_and_changes_nothing(
    data_dir: Path, pg_database: str
) -> None:
    at_revision(pg_database, "0005")
    before = dump(pg_database)
    refused = wenzheng(environment(data_dir, pg_database), "db", "upgrade")
    assert refused.returncode == 2
    assert "pg_dump -Fc" in refused.stdout and "-d wz_test_" in refused.stdout
    assert (
        refused.stderr.startswith("错误：PostgreSQL 数据库须先按上面的命令备份") and "--yes" in refused.stderr
    )
    assert "Traceback" not in refused.stderr
    assert dump(pg_database) == before


def test_serve_refuses_an_older_database_and_leaves_it_untouched(data_dir: Path) -> None:
    url = sqlite_url(data_dir)
    at_revision(url, "0005")
    kept, listing = sha256(sqlite_path(url)), sorted(p.name for p in data_dir.iterdir())
    refused = wenzheng(environment(data_dir, url), "serve", "--port", str(free_port()), timeout=60)
    assert refused.returncode == 1
    assert refused.stderr == (
        f"错误：数据库的结构版本是 0005，本程序需要 {HEAD}。"
        "请先停止服务，运行 wenzheng db upgrade（它会先备份数据库）。\n"
    )
    # Nothing beside it either (no -wal, no backup); the secret key is made by every command.
    assert sha256(sqlite_path(url)) == kept
    assert sorted(p.name for p in data_dir.iterdir() if p.name != "secret_key") == listing
    # and so do the other commands that write: none upgrades behind the operator's back
    add = wenzheng(environment(data_dir, url), "user", "add", "clerk", "--role", "staff")
    assert add.returncode == 1 and "wenzheng db upgrade" in add.stderr
    assert sha256(sqlite_path(url)) == kept


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_database_newer_than_the_code_is_refused_by_serve_and_db_upgrade(
    kind: str, data_dir: Path, request: pytest.FixtureRequest
) -> None:
    url = url_for(kind, data_dir, request)
    at_revision(url, "head")

    async def stamp() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
        finally:
            await engine.dispose()

    asyncio.run(stamp())
    before = dump(url)
    message = (
        f"错误：数据库的结构版本 f00dfeed 本程序不认识（本程序最新为 {HEAD}）：它由更新版本的问政写入。"
        "请安装那个版本，或用 wenzheng restore 恢复升级前的备份。\n"
    )
    env = environment(data_dir, url)
    served = wenzheng(env, "serve", "--port", str(free_port()), timeout=60)
    assert (served.returncode, served.stderr) == (1, message)
    for args in (["db", "upgrade"], ["db", "upgrade", "--yes"], ["serve", "--demo", "--port", "1"]):
        refused = wenzheng(env, *args, timeout=60)
        assert (refused.returncode, refused.stderr) == (1, message), args
    assert dump(url) == before
    assert not (data_dir / "backups").exists()


def test_a_failing_upgrade_leaves_sqlite_as_it_was_and_names_the_backup(data_dir: Path) -> None:
    """0006 and 0007 succeed, 0008 fails (its table is already there): one transaction, so
    the database is still at 0005, not at 0007 as Alembic's commit per migration left it."""
    url = sqlite_url(data_dir)
    at_revision(url, "0005")
    conn = sqlite3.connect(sqlite_path(url))
    conn.execute("CREATE TABLE phone_bindings (note TEXT)")
    conn.commit()
    conn.close()
    before = dump(url)
    failed = wenzheng(environment(data_dir, url), "db", "upgrade")
    assert failed.returncode == 1
    assert dump(url) == before
    backups = list((data_dir / "backups").iterdir())
    assert len(backups) == 1 and dump(f"sqlite+aiosqlite:///{backups[0]}") == before
    assert failed.stderr.startswith("错误：数据库升级失败：") and failed.stderr.count("\n") == 1
    assert "已回滚：数据库仍是结构版本 0005，未改动" in failed.stderr
    assert f"wenzheng restore {backups[0]} --force" in failed.stderr


def serve_until_healthy(env: dict[str, str], *args: str, log: Path) -> str:
    """Start `wenzheng serve ARGS`, wait for /healthz, stop it; returns what it printed."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(WENZHENG), "serve", "--port", str(port), "--log-level", "warning", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(600):
                if proc.poll() is not None:
                    pytest.fail(f"serve exited with {proc.returncode}:\n{log.read_text()}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.1)  # a pause that ends early if the server exits
            else:
                pytest.fail(f"serve not healthy in 60 s:\n{log.read_text()}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return log.read_text(encoding="utf-8")


def test_serve_creates_a_new_database_with_its_admin(data_dir: Path, tmp_path: Path) -> None:
    url = sqlite_url(data_dir)
    printed = serve_until_healthy(environment(data_dir, url), log=tmp_path / "serve.log")
    assert "首次安装：管理员账号 admin，一次性密码" in printed
    revision, tables = dump(url)
    assert revision == HEAD and [u["username"] for u in tables["users"]] == ["admin"]


def test_serve_demo_upgrades_an_older_database_as_before(data_dir: Path, tmp_path: Path) -> None:
    url = sqlite_url(data_dir)
    at_revision(url, "0005")
    printed = serve_until_healthy(environment(data_dir, url), "--demo", log=tmp_path / "serve.log")
    assert "演示会议已载入" in printed
    revision, tables = dump(url)
    # The demo meeting, and the past 问政会 its follow-up loop comes from (followup_demo_loop).
    assert revision == HEAD and len(tables["meetings"]) == 2
    # The past 问政会 is held (server/office/held_demo.py): its record and results are printed.
    past = next(mt["id"] for mt in tables["meetings"] if "第二次会议" in mt["title"])
    for path in (f"/m/{past}/record", f"/m/{past}/results", f"/m/{past}/live/results"):
        assert path in printed, printed
