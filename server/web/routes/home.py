"""The home page (the meetings, or the first-run guide) and the health check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from server.office import meetings_admin
from server.storage.db import ping
from server.web.http import page, services, staff


async def index(request: Request) -> Response:
    svc = services(request)
    async with svc.engine.connect() as conn:
        rows = await meetings_admin.titles(conn)
        await conn.commit()
    user = staff(request)
    if user is not None and not rows:
        # An office on its first run: the guide says what comes next.
        return RedirectResponse("/start", status_code=303)
    return page("index", meetings=rows, user=user)


async def healthz(request: Request) -> Response:
    svc = services(request)
    db_ok = await ping(svc.engine)
    bus_ok = await svc.bus.healthy()
    body = {
        "status": "ok" if db_ok and bus_ok else "degraded",
        "database": {"ok": db_ok, "dialect": svc.engine.dialect.name},
        "bus": {"ok": bus_ok, "kind": svc.bus.name},
        "meetings_loaded": len(svc.meetings.rooms),
        "sockets": sum(r.count() for r in svc.meetings.rooms.values()),
    }
    return JSONResponse(body, status_code=200 if db_ok and bus_ok else 503)
