"""Accounts in the browser: change one's own password; the admin's list of users.

Both read the account from the database on every request rather than trusting the roles
in the cookie: a reset password or a removed admin role takes effect here at once.
Every POST carries the CSRF token of the session (a hidden ``csrf`` field).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from screens import messages as msg
from server.base import parse
from server.base.keys import SESSION_MAX_AGE, StaffSession
from server.base.redirects import local_target
from server.office import accounts
from server.office.accounts import Account, AccountError
from server.web.http import (
    MAX_FORM_FIELD,
    STAFF_COOKIE,
    csrf_ok,
    device,
    form_of,
    message_page,
    page,
    services,
    set_cookie,
    staff,
)

PASSWORD_PAGE = "/account/password"
USERS_PAGE = "/admin/users"
UNREADABLE_NAME = "显示名称含有无法识别的字符（如控制字符），请删去后重试。"


def _safe_next(target: str) -> str:
    return local_target(target)


def _to_login(path: str) -> Response:
    return RedirectResponse(f"/login?next={quote(path)}", status_code=303)


def _no_store(response: HTMLResponse) -> HTMLResponse:
    response.headers["cache-control"] = "no-store"
    return response


# -- change password ------------------------------------------------------------------


def _password_page(
    request: Request, session: StaffSession, *, error: str = "", next_: str = "/", status: int = 200
) -> Response:
    return page(
        "account_password",
        status=status,
        user=session,
        forced=accounts.MUST_CHANGE in session.roles,
        csrf=services(request).keys.csrf(session.sid),
        error=error,
        next=next_,
        min_length=accounts.MIN_PASSWORD,
    )


async def password_form(request: Request) -> Response:
    session = staff(request)
    if session is None:
        return _to_login(PASSWORD_PAGE)
    return _password_page(request, session, next_=_safe_next(request.query_params.get("next", "/")))


async def change_password(request: Request) -> Response:
    session = staff(request)
    if session is None:
        return _to_login(PASSWORD_PAGE)
    form = await form_of(request)
    if form is None or not csrf_ok(request, session.sid, form):
        return message_page(msg.edge("csrf"), 403)
    svc = services(request)
    next_ = _safe_next(form.get("next", "/"))
    key = f"password:{session.user_id}"
    if svc.throttle.blocked(key):
        return _password_page(request, session, error=accounts.MESSAGES["throttled"], next_=next_, status=429)
    try:
        account = await accounts.change_password(
            svc.engine,
            session.user_id,
            form.get("old_password", ""),
            form.get("new_password", ""),
            form.get("new_password_again", ""),
        )
    except AccountError as refusal:
        if refusal.code == "wrong_old":
            svc.throttle.failed(key)
        return _password_page(request, session, error=refusal.message, next_=next_, status=400)
    svc.throttle.succeeded(key)
    # Every session of the account has ended with the old password; this browser gets a
    # new one, with the account's real roles (the must-change one carried none).
    async with svc.engine.begin() as conn:
        sid = await accounts.open_session(conn, account.id, device(request))
    text, title = accounts.MESSAGES["password_changed"], accounts.MESSAGES["password_changed_title"]
    response = message_page(text, 200, title=title, back=next_, back_label="继续")
    cookie = svc.keys.staff_cookie(account.id, account.username, account.roles, sid)
    set_cookie(response, STAFF_COOKIE, cookie, SESSION_MAX_AGE)
    return response


# -- the admin's list of users ----------------------------------------------------------


async def _admin(request: Request) -> tuple[StaffSession, Account] | Response:
    """The session and the admin's account; otherwise the answer to send instead."""
    session = staff(request)
    if session is None:
        return _to_login(USERS_PAGE)
    if accounts.MUST_CHANGE in session.roles:
        return RedirectResponse(f"{PASSWORD_PAGE}?next={quote(USERS_PAGE)}", status_code=303)
    engine = services(request).engine
    async with engine.connect() as conn:
        account = await accounts.find(conn, user_id=session.user_id)
        await conn.commit()
    if account is None or "admin" not in account.roles:
        return message_page(accounts.MESSAGES["admin_required"], 403)
    if account.must_change:
        return RedirectResponse(f"{PASSWORD_PAGE}?next={quote(USERS_PAGE)}", status_code=303)
    return session, account


async def _users_page(
    request: Request, session: StaffSession, status: int = 200, **context: Any
) -> HTMLResponse:
    async with services(request).engine.connect() as conn:
        users = await accounts.all_accounts(conn)
        await conn.commit()
    context.setdefault("error", "")
    context.setdefault("notice", "")
    context.setdefault("shown", None)
    context.setdefault("form", {})
    return _no_store(
        page(
            "account_users",
            status=status,
            user=session,
            users=users,
            roles=accounts.ROLE_NAMES,
            csrf=services(request).keys.csrf(session.sid),
            **context,
        )
    )


async def _admin_form(request: Request) -> tuple[StaffSession, dict[str, str]] | Response:
    admin = await _admin(request)
    if isinstance(admin, Response):
        return admin
    session, _ = admin
    form = await form_of(request)
    if form is None or not csrf_ok(request, session.sid, form):
        return message_page(msg.edge("csrf"), 403)
    return session, form


def _checked_roles(form: dict[str, str]) -> frozenset[str]:
    return frozenset(r for r in accounts.ROLES if form.get(f"role_{r}"))


async def users(request: Request) -> Response:
    admin = await _admin(request)
    if isinstance(admin, Response):
        return admin
    return await _users_page(request, admin[0])


async def add_user(request: Request) -> Response:
    got = await _admin_form(request)
    if isinstance(got, Response):
        return got
    session, form = got
    if parse.text(form.get("display_name"), MAX_FORM_FIELD) is None:  # PostgreSQL refuses NUL
        return await _users_page(request, session, 400, error=UNREADABLE_NAME, form=form)
    password = accounts.one_time_password()
    try:
        async with services(request).engine.begin() as conn:
            await accounts.add_user(
                conn,
                form.get("username", ""),
                _checked_roles(form),
                password,
                must_change=True,
                display_name=form.get("display_name", ""),
            )
    except AccountError as refusal:
        return await _users_page(request, session, 400, error=refusal.message, form=form)
    shown = {"username": form.get("username", "").strip(), "password": password, "new": True}
    return await _users_page(request, session, shown=shown)


async def reset_password(request: Request) -> Response:
    got = await _admin_form(request)
    if isinstance(got, Response):
        return got
    session, _ = got
    try:
        async with services(request).engine.begin() as conn:
            account, password = await accounts.reset_password(conn, int(request.path_params["user_id"]))
    except AccountError as refusal:
        return await _users_page(request, session, 404, error=refusal.message)
    shown = {"username": account.username, "password": password, "new": False}
    return await _users_page(request, session, shown=shown)


async def set_roles(request: Request) -> Response:
    got = await _admin_form(request)
    if isinstance(got, Response):
        return got
    session, form = got
    try:
        async with services(request).engine.begin() as conn:
            account = await accounts.set_roles(
                conn, int(request.path_params["user_id"]), _checked_roles(form)
            )
    except AccountError as refusal:
        status = 404 if refusal.code == "no_user" else 400
        return await _users_page(request, session, status, error=refusal.message)
    return await _users_page(
        request, session, notice=accounts.MESSAGES["roles_saved"].format(username=account.username)
    )
