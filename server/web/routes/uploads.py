"""The roster import's upload store: the bytes of a previewed file, kept on disk under
the data folder (``uploads/<token>``) for :data:`UPLOAD_TTL_S`, bound to the staff session
and the body, so the confirmation may reach another worker process of the same server.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request

from server.base.keys import StaffSession
from server.web.http import services

UPLOAD_TTL_S = 30 * 60
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,40}")


def _uploads(request: Request) -> Path:
    folder = services(request).settings.data_dir / "uploads"
    folder.mkdir(exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    cutoff = time.time() - UPLOAD_TTL_S
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def keep(request: Request, data: bytes, meta: dict[str, Any]) -> str:
    folder = _uploads(request)
    _sweep(folder)
    token = secrets.token_urlsafe(18)
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(meta))
    return token


def take(
    request: Request, token: str, session: StaffSession, body_id: int
) -> tuple[bytes, dict[str, Any]] | None:
    if not TOKEN.fullmatch(token):
        return None
    folder = _uploads(request)
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        if time.time() - (folder / f"{token}.bin").stat().st_mtime > UPLOAD_TTL_S:
            return None
        data = (folder / f"{token}.bin").read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("sid") != session.sid or meta.get("body_id") != body_id:
        return None
    return data, meta


def forget(request: Request, token: str) -> None:
    for suffix in (".bin", ".json"):
        (_uploads(request) / f"{token}{suffix}").unlink(missing_ok=True)
