"""Settings from the environment, read once at start.

WENZHENG_DATABASE_URL  default: SQLite in ./data/wenzheng.db (WAL)
WENZHENG_REDIS_URL     unset: in-process bus (one worker); set: Redis pub/sub
WENZHENG_SECRET_KEY    unset: generated once and kept in the data folder
WENZHENG_PUBLIC_URL    the address phones use (printed in the hall QR code)
WENZHENG_DATA_DIR      default: ./data
WENZHENG_REDIS_PREFIX  key and channel prefix, so test runs never share channels
WENZHENG_TRUSTED_PROXIES  addresses or ranges of the reverse proxies whose
                       X-Forwarded-For / X-Forwarded-Proto are believed (default: none)
WENZHENG_LOG_FORMAT    text (default) or json: one JSON object per line (server/web/request_log.py)

Read by ``wenzheng serve`` itself (server/cli/serve.py), not here: WENZHENG_HOST,
WENZHENG_PORT, WENZHENG_WORKERS (the defaults of --host, --port, --workers).

``load()`` makes the data folder and the secret key when they are missing: a server needs
both. ``locate()`` reads the same settings and writes nothing, for commands that must
leave no trace when they fail (``wenzheng backup``, ``wenzheng restore``).

Live sockets per client (server/web/limits.py; docs/design.md says why these numbers):
WENZHENG_WS_PER_ADDRESS     100  open sockets per address without a phone, staff or screen cookie
WENZHENG_WS_CONNECT_BURST   100  handshakes such an address may make at once
WENZHENG_WS_CONNECT_RATE     10  and then per second
WENZHENG_WS_PER_PHONE         4  sockets per deputy's phone; a newer one closes the oldest
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    redis_prefix: str
    secret_key: str
    public_url: str
    data_dir: Path
    hall_code_seconds: int = 30
    trusted_proxies: str = ""  # server/web/proxy.py
    ws_per_address: int = 100
    ws_connect_burst: int = 100
    ws_connect_rate: float = 10.0
    ws_per_phone: int = 4
    log_format: str = "text"  # or "json"


@dataclass(frozen=True)
class Places:
    """Where the database and the secret key are, found without touching the disk."""

    database_url: str
    data_dir: Path
    secret_key_path: Path
    secret_key_set: bool  # WENZHENG_SECRET_KEY, or a key file in the data folder


def locate(env: dict[str, str] | None = None) -> Places:
    """The database and the data folder as ``load`` would find them; creates nothing."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("WENZHENG_DATA_DIR", "data")).resolve()
    database_url = env.get("WENZHENG_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"
    key_path = data_dir / "secret_key"
    key_set = bool(env.get("WENZHENG_SECRET_KEY")) or key_path.is_file()
    return Places(database_url, data_dir, key_path, key_set)


def _secret(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    # Write then rename so two workers starting together agree on one key.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(key)
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()


def _number(env: dict[str, str], name: str, default: float, whole: bool) -> float:
    """A positive setting; a bad value stops the start with its name rather than run unlimited."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = 0
    if not 0 < value < float("inf"):
        kind = "whole number" if whole else "number"
        raise ValueError(f"{name} must be a positive {kind}, not {raw!r}")
    return value


def load(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    places = locate(env)
    data_dir = places.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        database_url=places.database_url,
        redis_url=env.get("WENZHENG_REDIS_URL") or None,
        redis_prefix=env.get("WENZHENG_REDIS_PREFIX", "wenzheng"),
        secret_key=env.get("WENZHENG_SECRET_KEY") or _secret(data_dir),
        public_url=env.get("WENZHENG_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        data_dir=data_dir,
        trusted_proxies=env.get("WENZHENG_TRUSTED_PROXIES", ""),
        ws_per_address=int(_number(env, "WENZHENG_WS_PER_ADDRESS", Settings.ws_per_address, True)),
        ws_connect_burst=int(_number(env, "WENZHENG_WS_CONNECT_BURST", Settings.ws_connect_burst, True)),
        ws_connect_rate=_number(env, "WENZHENG_WS_CONNECT_RATE", Settings.ws_connect_rate, False),
        ws_per_phone=int(_number(env, "WENZHENG_WS_PER_PHONE", Settings.ws_per_phone, True)),
        log_format=_log_format(env),
    )


def _log_format(env: dict[str, str]) -> str:
    value = env.get("WENZHENG_LOG_FORMAT", "").strip().lower() or "text"
    if value not in ("text", "json"):
        raise ValueError(f"WENZHENG_LOG_FORMAT 只能是 text 或 json，而不是 {value!r}")
    return value
