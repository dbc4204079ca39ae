"""Is this installation ready for a meeting? `wenzheng check` and the console ask here.

Eight lines, each passing (通过), warning (注意) or failing (未通过), and a line that does
not pass says what to do: the database reachable and at the newest schema revision, the
secret key present and no placeholder, the demo account without its public password, the
public address set and answering from this machine, Redis when more than one worker is
configured, the clock (one SNTP request; the system's synchronised flag), free disk space
in the data folder, and the last backup's age (server/storage/backup_record.py).

The offline profile (a hall without internet) turns what cannot hold there into
warnings: no time server answering, no backup yet. Nothing here waits long: every probe
has a timeout, and blocking ones (sockets, a subprocess, Argon2) run in daemon threads
the caller never waits for past it, so a name server that never answers delays neither
the command's exit nor a console page. The lines are in readiness_store.py (what
this machine keeps) and readiness_net.py (what it reaches); readiness_core.py has the parts.
"""

from __future__ import annotations

import asyncio
import os

from sqlalchemy.ext.asyncio import AsyncEngine

from server.base.settings import Settings, locate
from server.office import readiness_net as net
from server.office import readiness_store as store
from server.office.readiness_core import Installation, Level, Limits, Line

__all__ = ["Installation", "Level", "Limits", "Line", "check", "failed", "from_env", "from_settings"]

DEFAULT_NTP = "ntp.aliyun.com"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "")


def _workers(env: dict[str, str]) -> int | None:
    raw = env.get("WENZHENG_WORKERS", "").strip() or "1"
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def _lan(env: dict[str, str], workers: int | None) -> bool:
    host = env.get("WENZHENG_HOST", "127.0.0.1").strip()
    return (host not in LOOPBACK_HOSTS and not host.startswith("127.")) or (workers or 1) > 1


def from_env(env: dict[str, str] | None = None) -> Installation:
    env = dict(os.environ if env is None else env)
    places = locate(env)
    key, source = env.get("WENZHENG_SECRET_KEY") or None, "WENZHENG_SECRET_KEY"
    unreadable = ""
    if key is None and places.secret_key_path.is_file():
        source = str(places.secret_key_path)
        try:
            key = places.secret_key_path.read_text().strip()
        except OSError as exc:  # run as another user than the service's
            unreadable = exc.strerror or type(exc).__name__
    workers = _workers(env)
    return Installation(
        secret_unreadable=unreadable,
        database_url=places.database_url,
        data_dir=places.data_dir,
        secret_key=key,
        secret_source=source,
        public_url=(env.get("WENZHENG_PUBLIC_URL") or "").strip().rstrip("/") or None,
        lan=_lan(env, workers),
        workers=workers,
        redis_url=env.get("WENZHENG_REDIS_URL") or None,
        ntp_server=env.get("WENZHENG_NTP_SERVER", "").strip() or DEFAULT_NTP,
    )


def from_settings(settings: Settings, env: dict[str, str] | None = None) -> Installation:
    """The running server's installation: its own settings, the rest from its environment."""
    env = dict(os.environ if env is None else env)
    workers = _workers(env)
    from_file = str(settings.data_dir / "secret_key")
    source = "WENZHENG_SECRET_KEY" if env.get("WENZHENG_SECRET_KEY") else from_file
    return Installation(
        database_url=settings.database_url,
        data_dir=settings.data_dir,
        secret_key=settings.secret_key,
        secret_source=source,
        public_url=settings.public_url,
        lan=_lan(env, workers),
        workers=workers,
        redis_url=settings.redis_url,
        ntp_server=env.get("WENZHENG_NTP_SERVER", "").strip() or DEFAULT_NTP,
    )


# -- all of them -------------------------------------------------------------------------


async def check(
    inst: Installation, *, offline: bool, limits: Limits | None = None, engine: AsyncEngine | None = None
) -> list[Line]:
    """Every line, in a fixed order; ``engine`` is the server's own (else one is opened)."""
    limits = limits or Limits()
    own = engine is None
    if own:
        engine = store.open_engine(inst)
    try:
        return list(
            await asyncio.gather(
                store.database(inst, engine, limits),
                asyncio.sleep(0, store.secret(inst)),
                store.demo_account(engine, limits),
                net.public_address(inst, limits),
                net.redis(inst, limits),
                net.clock_line(inst, offline, limits),
                asyncio.sleep(0, store.disk(inst, limits)),
                asyncio.sleep(0, store.backup(inst, offline, limits)),
            )
        )
    finally:
        if own and engine is not None:
            await engine.dispose()


def failed(lines: list[Line]) -> bool:
    return any(line.level is Level.FAIL for line in lines)
