"""`wenzheng backup OUT_PATH`: a consistent copy of a live SQLite database.

SQLite: the online-backup API (``sqlite3.Connection.backup``) copies the database page by
page inside one read transaction, so the copy is the snapshot of one moment even while a
server keeps committing in WAL mode (a WAL reader never blocks the writer). It is copied
in a single step on purpose: a copy in several steps starts over whenever another process
writes between two steps, and under a steady stream of ballots it might never finish.

The copy is written to a temporary file beside OUT_PATH, checked with
``PRAGMA integrity_check``, flushed to disk, and only then renamed to OUT_PATH, so a
half-written or damaged backup never carries the final name. The copy is left in
rollback-journal mode: one self-contained file (a server opening it switches it to WAL).

PostgreSQL: nothing is copied; the command prints the ``pg_dump`` and ``pg_restore``
command lines for the configured database (never its password) and exits with 2.

The data folder and the secret key are found with ``settings.locate``, which creates
neither: a backup that fails leaves nothing behind. (``server/storage/restore.py`` puts a backup
back; it shares the copy and the checks here.)
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

EXIT_OK, EXIT_ERROR, EXIT_POSTGRES = 0, 1, 2
BUSY_SECONDS = 30.0  # waiting for a lock: only a WAL recovery or a schema change holds one
BESIDE = ("-wal", "-shm", "-journal")  # files SQLite keeps beside a database and replays into it


class BackupError(Exception):
    """A refusal or failure, with the message (Chinese) for the person running the command."""


@dataclass(frozen=True)
class Summary:
    path: Path
    size: int
    meetings: int
    events: int


def sqlite_file(url: URL) -> Path:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise BackupError(f"数据库地址没有指向一个 SQLite 文件（{url.render_as_string()}）。")
    return Path(database).resolve()


def remove_with_beside(tmp: Path) -> None:
    for suffix in ("", *BESIDE):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{tmp}{suffix}").unlink()


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def integrity_problems(conn: sqlite3.Connection) -> str:
    """What ``integrity_check`` found, shortened; empty when the database is whole."""
    problems = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    return "" if problems == ["ok"] else "；".join(problems[:5])


def meetings_and_events(conn: sqlite3.Connection) -> tuple[int, int]:
    """(meetings, events); raises sqlite3.OperationalError when the tables are not there."""
    meetings = int(conn.execute("SELECT count(*) FROM meetings").fetchone()[0])
    events = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    return meetings, events


def copy_into(source: Path, tmp: Path) -> sqlite3.Connection:
    """Copy ``source`` into ``tmp`` in one snapshot; the copy is left in rollback-journal
    mode (one self-contained file). Returns the open connection to the copy."""
    src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=BUSY_SECONDS)
    try:
        dst = sqlite3.connect(tmp, timeout=BUSY_SECONDS)
        try:
            src.backup(dst)  # pages=-1: every page in one step, one snapshot
            dst.execute("PRAGMA journal_mode=DELETE")
        except BaseException:
            dst.close()
            raise
    finally:
        src.close()
    return dst


def _copy(source: Path, tmp: Path) -> tuple[int, int]:
    """Copy ``source`` into ``tmp`` and check the copy; returns (meetings, events) in it."""
    dst = copy_into(source, tmp)
    try:
        problems = integrity_problems(dst)
        if problems:
            raise BackupError(f"备份副本未通过完整性检查（integrity_check）：{problems}。未保存备份。")
        try:
            return meetings_and_events(dst)
        except sqlite3.OperationalError as exc:
            raise BackupError(
                f"{source} 不是问政数据库（{exc}）；请先运行 wenzheng db upgrade。未保存备份。"
            ) from exc
    finally:
        dst.close()


def backup_sqlite(source: Path, out: Path, force: bool = False) -> Summary:
    """Copy the SQLite database ``source`` to ``out``; raise BackupError with a message."""
    out = Path(os.path.abspath(out))
    if not source.is_file():
        raise BackupError(f"数据库文件不存在：{source}")
    if not out.parent.is_dir():
        raise BackupError(f"目标目录不存在：{out.parent}")
    if out.is_dir():
        raise BackupError(f"目标是一个目录，请给出文件名：{out}")
    if out.resolve() == source:
        raise BackupError(f"不能把数据库备份到它自己：{out}")
    if out.exists() and not force:
        raise BackupError(f"目标文件已存在：{out}（要覆盖请加 --force）")
    tmp = temporary_beside(out)
    try:
        meetings, events = _copy(source, tmp)
        fsync(tmp)
        if out.exists() and not force:  # it may have appeared while we copied
            raise BackupError(f"目标文件已存在：{out}（要覆盖请加 --force）")
        os.replace(tmp, out)
        fsync(out.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"备份失败（SQLite）：{exc}。未保存备份。") from exc
    except OSError as exc:
        raise BackupError(f"备份失败：{exc.strerror or exc}（{exc.filename or out}）。未保存备份。") from exc
    finally:
        remove_with_beside(tmp)  # after the rename there is nothing left to remove
    return Summary(out, out.stat().st_size, meetings, events)


def temporary_beside(beside: Path) -> Path:
    try:
        fd, name = tempfile.mkstemp(prefix=f".{beside.name}.", suffix=".tmp", dir=beside.parent)
    except OSError as exc:
        raise BackupError(f"无法在 {beside.parent} 中写入：{exc.strerror}") from exc
    os.close(fd)
    return Path(name)


# -- the commands -----------------------------------------------------------------------


def postgres_commands(url: URL, out: Path) -> tuple[str, str]:
    """The pg_dump and pg_restore command lines for ``url``, without its password."""
    where: list[str] = []
    if url.host:
        where += ["-h", url.host]
    if url.port:
        where += ["-p", str(url.port)]
    if url.username:
        where += ["-U", url.username]
    where += ["-d", url.database or "postgres"]
    dump = ["pg_dump", "-Fc", *where, "-f", str(out)]
    restore = ["pg_restore", "--clean", "--if-exists", "--no-owner", *where, str(out)]
    return shlex.join(dump), shlex.join(restore)


def size_text(n: int) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB（{n} 字节）"
    return f"{n / (1024 * 1024):.1f} MB（{n} 字节）"
