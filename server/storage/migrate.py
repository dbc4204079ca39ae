"""Schema migrations with Alembic, configured in code (no alembic.ini to lose).

``schema`` reads where a database stands against this code (no tables, current, older,
newer, or somebody else's tables) without changing it, so the commands can decide: `wenzheng
serve` creates a new database and refuses any other that is not current; `wenzheng db
upgrade` backs up and then calls ``upgrade``. An upgrade runs in one transaction on both
databases (see migrations/env.py): it completes or leaves the database as it was.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from server.storage.db import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def known_revisions() -> list[str]:
    """The Alembic revisions of this code, oldest first."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [s.revision for s in script.walk_revisions()][::-1]


def _outside_a_loop(what: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"call {what}() outside an event loop (it runs its own)")


def upgrade(database_url: str) -> None:
    """Bring the schema to the newest revision. Safe to call from a running loop's thread."""
    _outside_a_loop("upgrade")
    command.upgrade(alembic_config(database_url), "head")


class Standing(Enum):
    EMPTY = "empty"  # no tables at all: a new installation
    CURRENT = "current"
    OLDER = "older"  # a revision this code upgrades from
    NEWER = "newer"  # a revision this code does not know: newer code wrote it
    FOREIGN = "foreign"  # tables, but no revision: not a Wenzheng database


@dataclass(frozen=True)
class Schema:
    revision: str | None  # the database's, None when it has none
    head: str  # this code's newest
    standing: Standing


def read_revision(conn: Connection) -> tuple[str | None, bool]:
    """(revision, other tables exist) of the database behind ``conn``."""
    names = set(inspect(conn).get_table_names())
    revision = None
    if VERSION_TABLE in names:
        row = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
        revision = str(row[0]) if row else None
    return revision, bool(names - {VERSION_TABLE})


def schema(database_url: str) -> Schema:
    """Where the database stands against this code; reads only (a SQLite file that does not
    exist yet is created empty, as connecting does)."""
    _outside_a_loop("schema")

    async def read() -> tuple[str | None, bool]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                found = await conn.run_sync(read_revision)
                await conn.rollback()
            return found
        finally:
            await engine.dispose()

    return judge(*asyncio.run(read()))


def judge(revision: str | None, other_tables: bool) -> Schema:
    """Where a database with ``revision`` (and other tables or none) stands against this code.
    Reads the migration scripts from disk: call it off a serving loop."""
    revisions = known_revisions()
    head = revisions[-1]
    if revision is None:
        standing = Standing.FOREIGN if other_tables else Standing.EMPTY
    elif revision == head:
        standing = Standing.CURRENT
    elif revision in revisions:
        standing = Standing.OLDER
    else:
        standing = Standing.NEWER
    return Schema(revision, head, standing)
