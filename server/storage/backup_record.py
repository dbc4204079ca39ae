"""The last good backup, recorded in the data folder for `wenzheng check`.

``wenzheng backup`` records every SQLite copy it finishes. PostgreSQL is backed up with
``pg_dump`` itself (the command only prints it), so ``wenzheng backup --record FILE``
records a dump made that way: the file must be there, not empty, and begin as a backup
does (SQLite's header, or ``PGDMP`` of pg_dump's custom format), so a typo or an empty
file from a failed dump is never taken for a backup.

The record is ``last_backup.json`` in the data folder: path, time (UTC, ISO 8601), size
and kind. It is written to a temporary file and renamed, so a reader sees the old record
or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

RECORD_NAME = "last_backup.json"
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"  # pg_dump -Fc (custom format); plain SQL dumps are not recognised


class RecordError(Exception):
    """A file that cannot be recorded, or a record that cannot be read (Chinese)."""


@dataclass(frozen=True)
class BackupRecord:
    path: str
    at: datetime  # aware, UTC
    size: int
    kind: str  # "sqlite" or "pg_dump"


def kind_of(path: Path) -> str:
    """What backup ``path`` is, from its first bytes; RecordError when it is none."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError as exc:
        raise RecordError(f"备份文件不存在：{path}") from exc
    except IsADirectoryError as exc:
        raise RecordError(f"这是一个目录，不是备份文件：{path}") from exc
    except OSError as exc:
        raise RecordError(f"无法读取备份文件：{path}（{exc.strerror}）") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "pg_dump"
    if not head:
        raise RecordError(f"备份文件是空的：{path}（备份可能没有成功）")
    raise RecordError(f"不是 SQLite 数据库，也不是 pg_dump -Fc 的备份：{path}")


def record(data_dir: Path, backup: Path, now: datetime | None = None) -> BackupRecord:
    """Record ``backup`` as the last good one; RecordError when it is not a backup."""
    backup = Path(os.path.abspath(backup))
    kind = kind_of(backup)
    if not data_dir.is_dir():
        raise RecordError(f"数据文件夹不存在：{data_dir}（请检查 WENZHENG_DATA_DIR）")
    done = BackupRecord(str(backup), now or datetime.now(UTC), backup.stat().st_size, kind)
    body = {"path": done.path, "at": done.at.isoformat(), "size": done.size, "kind": done.kind}
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{RECORD_NAME}.", suffix=".tmp", dir=data_dir)
    except OSError as exc:
        raise RecordError(f"无法在 {data_dir} 中写入备份记录（{exc.strerror}）") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f, ensure_ascii=False)
        os.replace(tmp, data_dir / RECORD_NAME)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return done


def last(data_dir: Path) -> BackupRecord | None:
    """The recorded last backup; None when there is none, RecordError when it is damaged."""
    path = data_dir / RECORD_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        at = datetime.fromisoformat(str(raw["at"]))
        if at.tzinfo is None:
            raise ValueError("a time without its zone")
        return BackupRecord(str(raw["path"]), at.astimezone(UTC), int(raw["size"]), str(raw["kind"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RecordError(f"备份记录 {path} 无法读取（{exc}）") from exc
