"""Alembic environment: runs migrations over the app's own async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from server.storage.db import create_engine
from server.storage.models import metadata

config = context.config


def _run(connection: Connection) -> None:
    # One transaction around every step, begun before Alembic looks: Alembic commits after
    # each migration on a database it thinks has no transactional DDL (SQLite), so a failure
    # in the third of five steps left the database half-upgraded. SQLite does roll DDL back,
    # so an upgrade now either completes or leaves the database as it was, as on PostgreSQL.
    with connection.begin():
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


async def _main() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `wenzheng db upgrade`")
asyncio.run(_main())
