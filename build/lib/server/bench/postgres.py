"""``--postgres``: a fresh PostgreSQL database for one run, dropped at the end.

The bench connects to the server's maintenance database (the one named in the address,
else ``postgres``), creates ``wz_bench_<random>``, migrates it like any new installation,
and drops it with ``WITH (FORCE)`` once the server has stopped. ``--database-url`` is the
other way: a database that exists already, used as it is and never dropped.
"""

from __future__ import annotations

import asyncio
import secrets

from sqlalchemy.engine import make_url

from server.bench.common import BenchError


def _admin_dsn(server_url: str) -> str:
    url = make_url(server_url)
    return url.set(drivername="postgresql", database=url.database or "postgres").render_as_string(
        hide_password=False
    )


async def _admin(server_url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncio.wait_for(asyncpg.connect(_admin_dsn(server_url)), 10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(server_url: str) -> str:
    """A new, empty database on that server; its SQLAlchemy address (asyncpg driver)."""
    name = f"wz_bench_{secrets.token_hex(6)}"
    try:
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        raise BenchError(f"--postgres: could not create a database on {server_url}: {exc!r}") from exc
    url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


def drop_database(server_url: str, database_url: str) -> None:
    """Drop the database :func:`create_database` made (closing whatever still uses it)."""
    name = make_url(database_url).database
    if not name or not name.startswith("wz_bench_"):
        raise BenchError(f"refusing to drop {name!r}: not a bench database")
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
