"""The first-run guide (``/start``): from the one-time password to a running meeting."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.office import accounts, first_run
from server.web.http import page, require_staff, services, staff


async def start(request: Request) -> Response:
    # The password step is the first one: a one-time password is sent to change it
    # (require_staff), and comes back here afterwards.
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    async with services(request).engine.connect() as conn:
        account = await accounts.find(conn, user_id=session.user_id)
        done = await first_run.progress(
            conn, password_changed=account is not None and not account.must_change
        )
        await conn.commit()
    return page("start", progress=done, user=staff(request))
