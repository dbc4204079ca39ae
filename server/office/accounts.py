"""Staff accounts: who may log in, with which roles, and their passwords.

Theory of operation:

- Roles are admin, staff and chair; a person may hold several (``users.roles``, comma
  separated). The console opens to any of them; /admin/users only to an admin.
- Passwords are hashed with Argon2 (server/base/keys.py). A hash from before (scrypt) is
  re-hashed to Argon2 at the next successful login, while the password is at hand.
- A password that someone other than its owner has seen is one-time: the first admin's
  (printed at install), a new user's and a reset one (shown once to the admin). The
  account is marked ``must_change_password``; its login session then carries only the
  role MUST_CHANGE, which opens nothing but the change-password page.
- The first admin is created when the users table is empty, by ``wenzheng db upgrade``
  or ``wenzheng serve``: no installation ever has a default password (the demo's
  ``chair`` account is loaded before the check, and is the documented exception).
- A login opens a session: a row in ``staff_sessions`` that the login cookie names.
  Every staff request reads it together with the user's row (:func:`find_session`);
  logout deletes it, and a password change or reset deletes all of the user's rows in
  the same transaction as the new hash. Rows past their expiry are deleted at logins.
- Hashing costs tens of milliseconds of CPU; the web routes run it in a thread.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from screens import messages
from server.base.days import epoch_ms
from server.base.keys import (
    SESSION_MAX_AGE,
    new_session_id,
    session_key,
)
from server.office import hashing
from server.storage import models as m

ROLES = ("admin", "staff", "chair")
ROLE_NAMES = {"admin": "管理员", "staff": "工作人员", "chair": "主持人"}
MUST_CHANGE = "must-change"  # the only role of a session whose password must be changed
FIRST_ADMIN = "admin"
MIN_PASSWORD = 10
MAX_PASSWORD = 200
USERNAME = re.compile(r"[\w.\-]{2,32}")
# No 0/O, 1/l/I: a one-time password is read off a screen or a sheet of paper.
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

# The Chinese texts live in the message catalogue with every other sentence users read.
MESSAGES = {
    code: text.format(min=MIN_PASSWORD, max=MAX_PASSWORD) if code in ("too_short", "too_long") else text
    for code, text in messages.ACCOUNTS.items()
}


class AccountError(Exception):
    """A refused change; ``code`` is a key of MESSAGES. Nothing was written."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return MESSAGES[self.code]


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    must_change: bool
    password_hash: str
    sessions_from_ms: int = 0

    @property
    def role_names(self) -> list[str]:
        return [ROLE_NAMES[r] for r in ROLES if r in self.roles]


def parse_roles(text: str) -> frozenset[str]:
    return frozenset(r for r in text.split(",") if r in ROLES)


def roles_text(roles: frozenset[str] | set[str]) -> str:
    return ",".join(sorted(set(roles) & set(ROLES)))


def session_roles(account: Account) -> frozenset[str]:
    """The roles a login cookie carries: none but MUST_CHANGE until the password is changed."""
    return frozenset({MUST_CHANGE}) if account.must_change else account.roles


def one_time_password() -> str:
    """Like ``k7mp-4xqa-9rtw``: 12 random letters and digits (about 59 bits)."""
    chars = [secrets.choice(ONE_TIME_ALPHABET) for _ in range(12)]
    return "-".join("".join(chars[i : i + 4]) for i in range(0, 12, 4))


def _account(row: Row[tuple[object, ...]]) -> Account:
    return Account(
        id=int(row.id),
        username=str(row.username),
        display_name=str(row.display_name or ""),
        roles=parse_roles(str(row.roles)),
        must_change=bool(row.must_change_password),
        password_hash=str(row.password_hash),
        sessions_from_ms=int(row.sessions_from_ms or 0),
    )


async def find(
    conn: AsyncConnection, *, user_id: int | None = None, username: str | None = None
) -> Account | None:
    query = select(m.users)
    query = query.where(m.users.c.id == user_id) if user_id is not None else query
    query = query.where(m.users.c.username == username) if username is not None else query
    row = (await conn.execute(query)).first()
    return None if row is None else _account(row)


async def all_accounts(conn: AsyncConnection) -> list[Account]:
    rows = (await conn.execute(select(m.users).order_by(m.users.c.username))).all()
    return [_account(r) for r in rows]


# -- sessions ----------------------------------------------------------------------------


async def open_session(conn: AsyncConnection, user_id: int, device: str) -> str:
    """A new login session of the user; returns its id (for the cookie only, never stored).

    Expired sessions of everyone are deleted on the way: rows are only made here, so the
    table never holds more than the logins of the last SESSION_MAX_AGE.
    """
    now = epoch_ms()
    s = m.staff_sessions
    await conn.execute(delete(s).where(s.c.expires_ms <= now))
    sid = new_session_id()
    await conn.execute(
        insert(s).values(
            id=session_key(sid),
            user_id=user_id,
            created_ms=now,
            expires_ms=now + SESSION_MAX_AGE * 1000,
            device=device[:200],
        )
    )
    return sid


async def find_session(conn: AsyncConnection, user_id: int, sid: str) -> Account | None:
    """The account of a live session: one read by primary key, joined with the user's row."""
    s = m.staff_sessions
    row = (
        await conn.execute(
            select(m.users)
            .select_from(s.join(m.users, m.users.c.id == s.c.user_id))
            .where(s.c.id == session_key(sid), s.c.user_id == user_id, s.c.expires_ms > epoch_ms())
        )
    ).first()
    return None if row is None else _account(row)


async def end_session(conn: AsyncConnection, sid: str) -> None:
    """Logout: the session's cookie opens nothing any more, in any process."""
    await conn.execute(delete(m.staff_sessions).where(m.staff_sessions.c.id == session_key(sid)))


async def end_sessions(conn: AsyncConnection, user_id: int) -> None:
    """Every session of the user ends (a new password; one someone else has seen)."""
    await conn.execute(delete(m.staff_sessions).where(m.staff_sessions.c.user_id == user_id))


# -- logging in and changing one's own password --------------------------------------


async def check_login(engine: AsyncEngine, username: str, password: str) -> Account | None:
    """The account if the password is right; an old-style hash is upgraded on the way."""
    async with engine.connect() as conn:
        account = await find(conn, username=username)
        await conn.commit()
    if account is None:
        await hashing.verified_against_nothing(password)  # the same time either way
        return None
    if not await hashing.verified(password, account.password_hash):
        return None
    if hashing.needs_rehash(account.password_hash):
        fresh = await hashing.hashed(password)
        async with engine.begin() as conn:
            await conn.execute(
                update(m.users)
                .where(m.users.c.id == account.id, m.users.c.password_hash == account.password_hash)
                .values(password_hash=fresh)
            )
    return account


def check_new_password(new: str, again: str) -> None:
    if new != again:
        raise AccountError("mismatch")
    if len(new) < MIN_PASSWORD:
        raise AccountError("too_short")
    if len(new) > MAX_PASSWORD:
        raise AccountError("too_long")


async def change_password(engine: AsyncEngine, user_id: int, old: str, new: str, again: str) -> Account:
    """Check the old password and the new one twice; then store it. Returns the account.

    Every session of the account ends, this browser's too: the caller opens a new one.
    """
    async with engine.connect() as conn:
        account = await find(conn, user_id=user_id)
        await conn.commit()
    if account is None:
        raise AccountError("no_user")
    if not await hashing.verified(old, account.password_hash):
        raise AccountError("wrong_old")
    check_new_password(new, again)
    if new == old:
        raise AccountError("same_as_old")
    fresh = await hashing.hashed(new)
    async with engine.begin() as conn:
        await conn.execute(
            update(m.users)
            .where(m.users.c.id == user_id)
            .values(password_hash=fresh, must_change_password=False, sessions_from_ms=epoch_ms())
        )
        await end_sessions(conn, user_id)
    return Account(account.id, account.username, account.display_name, account.roles, False, fresh)


# -- managing accounts (the admin page and the command line) --------------------------


def check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME.fullmatch(username):
        raise AccountError("bad_username")
    return username


async def add_user(
    conn: AsyncConnection,
    username: str,
    roles: frozenset[str],
    password: str,
    *,
    must_change: bool,
    display_name: str = "",
) -> int:
    """A new account; AccountError when the name is taken or invalid, or no role is given."""
    username = check_username(username)
    if not roles & set(ROLES):
        raise AccountError("no_role")
    if await find(conn, username=username) is not None:
        raise AccountError("username_taken")
    password_hash = await hashing.hashed(password)
    result = await conn.execute(
        insert(m.users).values(
            username=username,
            display_name=display_name.strip()[:64] or username,
            password_hash=password_hash,
            roles=roles_text(roles),
            created_ms=int(time.time() * 1000),
            must_change_password=must_change,
        )
    )
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


async def save_user(
    conn: AsyncConnection, username: str, roles: frozenset[str], password: str, *, must_change: bool
) -> None:
    """Add the account, or replace the password and roles of an existing one (the CLI)."""
    existing = await find(conn, username=username.strip())
    if existing is None:
        await add_user(conn, username, roles, password, must_change=must_change)
        return
    if not roles & set(ROLES):
        raise AccountError("no_role")
    password_hash = await hashing.hashed(password)
    await conn.execute(
        update(m.users)
        .where(m.users.c.id == existing.id)
        .values(
            password_hash=password_hash,
            roles=roles_text(roles),
            must_change_password=must_change,
            sessions_from_ms=epoch_ms(),
        )
    )
    await end_sessions(conn, existing.id)


async def reset_password(conn: AsyncConnection, user_id: int) -> tuple[Account, str]:
    """Give the account a new one-time password; returns it (to be shown once). Every
    session of the account ends."""
    account = await find(conn, user_id=user_id)
    if account is None:
        raise AccountError("no_user")
    password = one_time_password()
    password_hash = await hashing.hashed(password)
    await conn.execute(
        update(m.users)
        .where(m.users.c.id == user_id)
        .values(password_hash=password_hash, must_change_password=True, sessions_from_ms=epoch_ms())
    )
    await end_sessions(conn, user_id)
    return account, password


async def set_roles(conn: AsyncConnection, user_id: int, roles: frozenset[str]) -> Account:
    """Replace the roles (an empty set leaves an account that opens nothing).

    The last admin keeps the admin role, or nobody could manage accounts any more.
    """
    account = await find(conn, user_id=user_id)
    if account is None:
        raise AccountError("no_user")
    if "admin" in account.roles and "admin" not in roles:
        admins = [a for a in await all_accounts(conn) if "admin" in a.roles and a.id != user_id]
        if not admins:
            raise AccountError("last_admin")
    await conn.execute(update(m.users).where(m.users.c.id == user_id).values(roles=roles_text(roles)))
    return account


async def ensure_first_admin(conn: AsyncConnection) -> str | None:
    """Create ``admin`` with a one-time password if there is no user at all; return it.

    Two processes racing here both see an empty table; the unique user name lets only one
    commit (the other's transaction fails with IntegrityError, see first_admin()).
    """
    if (await conn.execute(select(func.count()).select_from(m.users))).scalar_one():
        return None
    password = one_time_password()
    await add_user(conn, FIRST_ADMIN, frozenset(ROLES), password, must_change=True, display_name="管理员")
    return password


async def first_admin(engine: AsyncEngine) -> str | None:
    """ensure_first_admin() in a transaction of its own; None when there already are users."""
    try:
        async with engine.begin() as conn:
            return await ensure_first_admin(conn)
    except IntegrityError:  # another process created it at the same moment
        return None
