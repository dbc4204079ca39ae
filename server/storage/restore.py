"""`wenzheng restore BACKUP [--force]`: put a backup in the SQLite database's place.

The backup is copied (SQLite's online-backup API, as `wenzheng backup` copies) to a
temporary file beside the database and checked there before anything else is touched: it
must open as SQLite, pass ``integrity_check``, have the tables of a Wenzheng database and
an Alembic revision this code knows (an older one is then upgraded with `wenzheng db upgrade`;
a newer one came from newer code and is refused).

An existing database is replaced only with ``--force``, and never while a process has it
open. Wenzheng's connections keep the database in WAL mode, and SQLite leaves WAL mode only
when no other connection has the database open: switching it to rollback mode with no
wait fails exactly while a server's pool (or a running backup) holds a connection, even
an idle one. A server that has not opened any connection yet cannot be seen this way;
it holds nothing of the old database either.

Then the old database's ``-wal``, ``-shm`` and ``-journal`` are deleted (SQLite replays a
WAL or a hot journal into whatever file has the database's name, so a stale one would
corrupt the restored file) and the checked copy is renamed into place: nothing unchecked
ever carries the final name. A data folder that did not exist is created for the restore
and removed again if the restore fails.

PostgreSQL: nothing is restored; the command prints the ``pg_restore`` command line for
the configured database (never its password) and exits with 2.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from server.storage.backup import (
    BESIDE,
    BackupError,
    copy_into,
    fsync,
    integrity_problems,
    meetings_and_events,
    remove_with_beside,
    temporary_beside,
)
from server.storage.migrate import known_revisions

UNTOUCHED = "未恢复，原数据库未改动。"


@dataclass(frozen=True)
class Restored:
    path: Path
    size: int
    meetings: int
    events: int
    revision: str
    head: str
    removed: tuple[str, ...]  # the old database's -wal/-shm/-journal that were deleted


def check_backup(copy: sqlite3.Connection, backup: Path) -> tuple[int, int, str]:
    """The backup (in its copy) is whole, is Wenzheng's and has a revision we know;
    returns (meetings, events, revision)."""
    problems = integrity_problems(copy)
    if problems:
        raise BackupError(f"备份文件未通过完整性检查（integrity_check）：{problems}。{UNTOUCHED}")
    try:
        meetings, events = meetings_and_events(copy)
        row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError as exc:
        raise BackupError(f"{backup} 不是问政数据库（{exc}）。{UNTOUCHED}") from exc
    revisions = known_revisions()
    revision = str(row[0]) if row else ""
    if revision not in revisions:
        raise BackupError(
            f"{backup} 的数据库结构版本“{revision or '无'}”本程序不认识（本程序最新为 {revisions[-1]}），"
            f"可能来自更新版本的问政。{UNTOUCHED}"
        )
    return meetings, events, revision


def refuse_if_in_use(target: Path) -> None:
    """Raise BackupError while any other connection has ``target`` open (see the module's
    docstring). When the switch succeeds, SQLite has checkpointed the old WAL into the old
    database and deleted it, so the old database stays whole if the restore stops here."""
    if not target.exists():
        return  # connecting would create it
    try:
        conn = sqlite3.connect(target, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("BEGIN EXCLUSIVE")  # and no connection in rollback mode mid-transaction
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise BackupError(
                f"数据库正在被使用（服务还在运行？）：{target}。请先停止服务再恢复；"
                f"--force 也不会覆盖正在使用的数据库。{UNTOUCHED}"
            ) from exc
    except sqlite3.DatabaseError:
        pass  # no database at all, or a damaged one: nothing can be using it as one
    finally:
        conn.close()


def _remove_beside(target: Path) -> tuple[str, ...]:
    removed = []
    for suffix in BESIDE:
        path = Path(f"{target}{suffix}")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path.name)
    return tuple(removed)


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist, innermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    return missing


def _same_owner_and_mode(old: Path, new: Path) -> None:
    """The restored file keeps the old database's mode and owner, so a server running as
    another user than the one restoring can still open it (a new one stays 0600)."""
    try:
        st = old.stat()
    except FileNotFoundError:
        return
    os.chmod(new, st.st_mode & 0o777)
    if os.geteuid() == 0:
        os.chown(new, st.st_uid, st.st_gid)


def _exists_refusal(target: Path) -> BackupError:
    return BackupError(f"数据库已存在：{target}（要用备份覆盖它，请先停止服务，再加 --force）")


def restore_sqlite(backup: Path, target: Path, force: bool = False) -> Restored:
    """Put the checked ``backup`` in the place of the SQLite database ``target``."""
    backup = Path(os.path.abspath(backup))
    if not backup.is_file():
        raise BackupError(f"备份文件不存在：{backup}")
    if backup.resolve() == target:
        raise BackupError(f"备份文件就是数据库本身：{backup}")
    if target.is_dir():
        raise BackupError(f"数据库的位置是一个目录：{target}")
    if target.exists() and not force:
        raise _exists_refusal(target)
    created = _missing_folders(target.parent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"无法创建数据目录 {target.parent}：{exc.strerror}") from exc
    tmp: Path | None = None
    done = False
    try:
        tmp = temporary_beside(target)
        try:
            copy = copy_into(backup, tmp)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{backup} 无法作为 SQLite 数据库打开（{exc}）。{UNTOUCHED}") from exc
        try:
            meetings, events, revision = check_backup(copy, backup)
        finally:
            copy.close()
        fsync(tmp)
        if target.exists() and not force:  # it may have appeared while we copied
            raise _exists_refusal(target)
        refuse_if_in_use(target)
        _same_owner_and_mode(target, tmp)
        removed = _remove_beside(target)  # so that none of them is replayed into the copy
        os.replace(tmp, target)
        fsync(target.parent)
        done = True
    except sqlite3.Error as exc:
        raise BackupError(f"恢复失败（SQLite）：{exc}。{UNTOUCHED}") from exc
    except OSError as exc:
        raise BackupError(f"恢复失败：{exc.strerror or exc}（{exc.filename or target}）。") from exc
    finally:
        if tmp is not None:
            remove_with_beside(tmp)  # after the rename there is nothing left to remove
        if not done:  # a data folder made for this restore goes again
            for folder in created:
                with contextlib.suppress(OSError):
                    folder.rmdir()
    head = known_revisions()[-1]
    return Restored(target, target.stat().st_size, meetings, events, revision, head, removed)
