"""Shared fixtures and helpers for the integration tests (tests/test_*.py).

Every test gets its own data folder (``WENZHENG_DATA_DIR``) with the demo meeting loaded
through the real path: ``server.storage.migrate.upgrade`` then ``server.office.demo.load_demo``. The
database is SQLite in that folder unless a test module overrides the ``database_url``
fixture (test_postgres.py does, with a database of its own per test).

Three ways to reach the server, from the cheapest:

- the runtime itself (:class:`server.room.runtime.MeetingRuntime`), in test_actions.py;
- the ASGI app in process through Starlette's ``TestClient`` (``client`` fixture);
- real ``wenzheng serve`` processes (``spawn`` fixture), driven over HTTP with httpx and
  over websockets with the ``websockets`` sync client. Every process started is killed
  by the fixture's finalizer.

PostgreSQL and Redis are required, not optional: when they are unreachable the tests
that need them fail with a message saying so (``make test`` starts both).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from starlette.exceptions import StarletteDeprecationWarning

from live.commands import Actor, Command, Role
from live.events import Event, RatingCast, from_record, to_record
from live.refusals import Refused
from live.state import MeetingState
from server.base.ballot_box import BallotBox
from server.base.days import today
from server.base.keys import Keys
from server.base.settings import Settings, load
from server.office.demo import load_demo
from server.room.runtime import MeetingRuntime, load_state
from server.storage import models as m
from server.storage import store
from server.storage.db import create_engine
from server.storage.migrate import upgrade

# Starlette warns at import time that its test client runs on httpx rather than
# httpx2; pytest turns warnings into errors, so the import is the one place it is
# silenced, and only for that message.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx.*", category=StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
WENZHENG = ROOT / ".venv" / "bin" / "wenzheng"
PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_DSN = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
CHAIR_ROLES = frozenset({"chair", "staff", "admin"})
CHOICES = ("satisfied", "basic", "dissatisfied")


# -- the data folder, settings and the demo ---------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder; no WENZHENG_* setting leaks in from the environment."""
    for name in list(os.environ):
        if name.startswith("WENZHENG_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("WENZHENG_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def database_url(data_dir: Path) -> str:
    """SQLite in the data folder; test_postgres.py overrides this fixture."""
    return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"


@pytest.fixture
def settings(data_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WENZHENG_DATABASE_URL", database_url)
    return load()


async def _load_demo(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            info = await load_demo(conn)
    finally:
        await engine.dispose()
    return int(info.meeting_id)


def _fresh_install(url: str) -> int:
    upgrade(url)
    return asyncio.run(_load_demo(url))


# One demo database per China day and process, copied for every SQLite test that wants the
# demo: migrating and loading it for each of a thousand tests cost minutes of the suite. The
# copy is byte for byte what the real path made (the template is made by that path), and a
# new China day makes a new one, since the demo's meeting is held "today".
_TEMPLATES: dict[str, tuple[Path, int]] = {}
_TEMPLATE_ROOT = Path(os.environ.get("TMPDIR", "/tmp")) / f"wz-demo-template-{os.getpid()}"


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


def install_demo(url: str) -> int:
    """Migrate and load the demo the way `wenzheng demo` does; returns the meeting id.

    On SQLite into a database that does not exist yet, a copy of this day's template; on
    the local PostgreSQL into an empty database, a clone of this day's template database."""
    if _pg_name(url) is not None:
        return _pg_install_demo(url)
    target = _sqlite_path(url)
    if target is None or target.exists():
        return _fresh_install(url)
    day = today().isoformat()
    if day not in _TEMPLATES:
        folder = _TEMPLATE_ROOT / day
        folder.mkdir(parents=True, exist_ok=True)
        made = folder / "demo.db"
        for stale in folder.glob("demo.db*"):
            stale.unlink()
        meeting_id = _fresh_install(f"sqlite+aiosqlite:///{made}")
        _TEMPLATES[day] = (made, meeting_id)
    made, meeting_id = _TEMPLATES[day]
    # The engine is disposed after loading, so the WAL is checkpointed into the file; copy
    # any side file that is left all the same.
    for side in ("", "-wal", "-shm"):
        source = Path(f"{made}{side}")
        if source.exists():
            shutil.copyfile(source, f"{target}{side}")
    return meeting_id


# The same on PostgreSQL: a template database per China day and process, made by the real
# path once, then cloned by PostgreSQL itself (CREATE DATABASE ... TEMPLATE copies every
# table, row and sequence) into a test's empty database. Migrating and loading cost a
# PostgreSQL test about two seconds; the clone a tenth of that.
_PG_URL_PREFIX = f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/"
_PG_TEMPLATES: dict[str, tuple[str, int]] = {}


def _pg_name(url: str) -> str | None:
    """The database's name when ``url`` is one on the local test PostgreSQL."""
    if not url.startswith(_PG_URL_PREFIX):
        return None
    name = url[len(_PG_URL_PREFIX) :]
    return name if re.fullmatch(r"[a-z0-9_]+", name) else None


async def _pg_plain_and_empty(name: str) -> bool:
    """Whether the database has no table and is a plain one (the default tablespace, owned
    by postgres): a clone of the template is then the same database the real path makes."""
    import asyncpg

    conn = await asyncio.wait_for(asyncpg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"), 5)
    try:
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        plain = await conn.fetchval(
            "SELECT t.spcname = 'pg_default' AND pg_get_userbyid(d.datdba) = 'postgres'"
            " FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace"
            " WHERE d.datname = current_database()"
        )
        return int(tables) == 0 and bool(plain)
    finally:
        await conn.close()


def _pg_install_demo(url: str) -> int:
    name = _pg_name(url)
    assert name is not None
    if not asyncio.run(_pg_plain_and_empty(name)):
        # Tables already, or a database of its own kind (a test's tablespace on a small
        # disk): upgrade and load into it, as the real path does.
        return _fresh_install(url)
    day = today().isoformat()
    if day not in _PG_TEMPLATES:
        template = f"wz_tpl_{os.getpid()}_{day.replace('-', '')}"
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        asyncio.run(_pg_admin(f'CREATE DATABASE "{template}"'))
        _PG_TEMPLATES[day] = (template, _fresh_install(_PG_URL_PREFIX + template))
    template, meeting_id = _PG_TEMPLATES[day]
    try:
        # Without FORCE: if anything is connected to the empty database, it is not ours to
        # drop; then the real path fills it instead.
        asyncio.run(_pg_admin(f'DROP DATABASE "{name}"'))
    except Exception:
        return _fresh_install(url)
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return meeting_id


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop this process's PostgreSQL templates (the SQLite ones live in the tmp folder)."""
    for template, _ in _PG_TEMPLATES.values():
        with contextlib.suppress(Exception):
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    _PG_TEMPLATES.clear()


T = TypeVar("T")


def write_db(settings: Settings, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run ``fn`` in one transaction of the settings' database, from a synchronous test."""

    async def go() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with engine.begin() as conn:
                return await fn(conn)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.fixture
def meeting_id(settings: Settings) -> int:
    return install_demo(settings.database_url)


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return Keys(settings.secret_key)


@pytest.fixture
def client(settings: Settings, meeting_id: int) -> Iterator[TestClient]:
    """The app in process, lifespan included; server errors come back as 500 answers."""
    from server.web.app import create_app

    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


# -- PostgreSQL and Redis: required ------------------------------------------------------


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncio.wait_for(asyncpg.connect(PG_ADMIN_DSN), 5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A database of this test's own on the local PostgreSQL; dropped afterwards."""
    name = f"wz_test_{secrets.token_hex(6)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL at {PG_HOST}:{PG_PORT} (user postgres, trust auth) is unreachable or refused "
            f"CREATE DATABASE: {exc!r}. `make test` starts it (scripts/ensure-test-deps.sh).",
            pytrace=False,
        )
    try:
        yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A channel prefix of this test's own on the local Redis (which must be up)."""
    import redis

    prefix = f"wz_test_{secrets.token_hex(6)}"
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except Exception as exc:
        client.close()
        pytest.fail(
            f"Redis at {REDIS_URL} is unreachable: {exc!r}. "
            "`make test` starts it (scripts/ensure-test-deps.sh).",
            pytrace=False,
        )
    try:
        yield prefix
    finally:
        with contextlib.suppress(Exception):
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)
        client.close()


# -- figures for RELIABILITY.md ----------------------------------------------------------

RELIABILITY_FIGURES = ROOT / "test-artifacts" / "reliability"


def figures(name: str, **values: Any) -> None:
    """What a fault test measured (ballots sent, receipts, rows found), written to
    test-artifacts/reliability/<name>.json and printed: RELIABILITY.md quotes them."""
    RELIABILITY_FIGURES.mkdir(parents=True, exist_ok=True)
    (RELIABILITY_FIGURES / f"{name}.json").write_text(json.dumps(values, ensure_ascii=False, indent=1))
    print(f"{name}: {values}")


def eventually(check: Callable[[], Any], timeout: float = 5, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something true or the time is up; its last value.

    For what a server shows after its tally batching (at most every 250 ms) or after news
    crosses processes: waiting on the state, not on a fixed sleep.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


async def until(check: Callable[[], Any], timeout: float = 5, every: float = 0.02) -> Any:
    """``eventually`` inside a running event loop: the server's tasks run while it waits."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(every)


# -- reading the database ----------------------------------------------------------------


def plain_engine(url: str) -> AsyncEngine:
    """An engine for checks: no pool, no write lock on reads (unlike server.storage.db's)."""
    return create_async_engine(url, poolclass=NullPool)


async def table_counts(conn: AsyncConnection, meeting_id: int) -> dict[str, int]:
    out = {}
    for name, table in (("events", m.events), ("receipts", m.rating_receipts)):
        stmt = select(func.count()).select_from(table).where(table.c.meeting_id == meeting_id)
        out[name] = int((await conn.execute(stmt)).scalar_one())
    # Rating ballots on disk: sealed while their rating is open, totals once it closed.
    t = m.rating_tallies
    stmt = select(func.coalesce(func.sum(t.c.n), 0)).where(t.c.meeting_id == meeting_id)
    totals = int((await conn.execute(stmt)).scalar_one())
    s = m.sealed_ballots
    stmt = select(func.count()).select_from(s).where(s.c.meeting_id == meeting_id, s.c.kind == "rating")
    out["ballots"] = totals + int((await conn.execute(stmt)).scalar_one())
    return out


async def ballot_counts(
    conn: AsyncConnection, meeting_id: int, question_id: int, box: BallotBox
) -> dict[str, int]:
    """A rating's counts on disk, its sealed ballots opened with the installation's key
    (what only the server can do)."""
    found = {c: 0 for c in CHOICES}
    found.update(await store.open_box(conn, box, meeting_id, "rating", question_id))
    return found


async def receipt_deputies(conn: AsyncConnection, meeting_id: int, question_id: int) -> dict[int, str]:
    rows = await conn.execute(
        select(m.rating_receipts.c.deputy_id, m.rating_receipts.c.ballot_key).where(
            m.rating_receipts.c.meeting_id == meeting_id, m.rating_receipts.c.question_id == question_id
        )
    )
    return {int(d): str(k) for d, k in rows}


async def state_from_db(url_or_engine: str | AsyncEngine, meeting_id: int) -> MeetingState:
    """A fresh fold of the meeting's event log (and ballot table)."""
    engine = plain_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        async with engine.connect() as conn:
            state = await load_state(conn, meeting_id)
            await conn.rollback()
        return state
    finally:
        if isinstance(url_or_engine, str):
            await engine.dispose()


class Db:
    """Synchronous reads for tests that drive a server (never inside a running loop).

    ``secret_key`` opens sealed ballots; by default the data folder's (the server's own).
    """

    def __init__(self, url: str, meeting_id: int, secret_key: str | None = None) -> None:
        self.url = url
        self.meeting_id = meeting_id
        self._secret_key = secret_key

    @property
    def secret_key(self) -> str:
        if self._secret_key is None:
            self._secret_key = load().secret_key
        return self._secret_key

    def _run(self, fn: Callable[[AsyncConnection], Any]) -> Any:
        async def go() -> Any:
            engine = plain_engine(self.url)
            try:
                async with engine.connect() as conn:
                    result = await fn(conn)
                    await conn.rollback()
                    return result
            finally:
                await engine.dispose()

        return asyncio.run(go())

    def counts(self) -> dict[str, int]:
        return dict(self._run(lambda c: table_counts(c, self.meeting_id)))

    def ballots(self, question_id: int) -> dict[str, int]:
        return dict(
            self._run(lambda c: ballot_counts(c, self.meeting_id, question_id, Keys(self.secret_key).box))
        )

    def receipts(self, question_id: int) -> dict[int, str]:
        return dict(self._run(lambda c: receipt_deputies(c, self.meeting_id, question_id)))

    def state(self) -> MeetingState:
        return asyncio.run(state_from_db(self.url, self.meeting_id))

    def deputies(self) -> list[tuple[int, str, str]]:
        """(id, card_no, short_code) of the demo body, by id."""

        async def fn(conn: AsyncConnection) -> list[tuple[int, str, str]]:
            rows = await conn.execute(
                select(m.deputies.c.id, m.deputies.c.card_no, m.deputies.c.short_code).order_by(
                    m.deputies.c.id
                )
            )
            return [(int(a), str(b), str(c)) for a, b, c in rows]

        return list(self._run(fn))


@pytest.fixture
def db(settings: Settings, meeting_id: int) -> Db:
    return Db(settings.database_url, meeting_id, settings.secret_key)


def meaningful(state: MeetingState) -> dict[str, Any]:
    """The parts of a state that must survive a reload from the database.

    Not the split of an open secret round: it is sealed on disk (server/base/ballot_box.py),
    so a reload knows who voted and not how, until the close opens the box.
    """
    return {
        "seq": state.seq,
        "checkin_open": state.checkin_open,
        "attendance": {k: v.value for k, v in sorted(state.attendance.items())},
        "present": state.present_count,
        "leave": state.leave_count,
        "announcement": state.announcement,
        "agenda_item_id": state.agenda_item_id,
        "question_id": state.question_id,
        "phase": state.phase,
        "speaker_id": state.speaker_id,
        "timer": dataclasses.asdict(state.timer),
        "focus": state.focus,
        "ratings": {
            qid: {
                "open": r.open,
                "voters": dict(sorted(r.voters.items())),
                "counts": None if r.open else {c.value: n for c, n in r.counts.items()},
                "result": r.result,
            }
            for qid, r in sorted(state.ratings.items())
        },
        "vote_id": state.vote_id,
        "votes": {
            vid: {
                "round": (
                    v.title,
                    v.round_no,
                    v.first_id,
                    v.item_id,
                    v.secret,
                    v.method,
                    v.threshold,
                    v.base,
                ),
                "open": v.open,
                "announced": v.announced,
                "voters": dict(sorted(v.voters.items())),
                "named": dict(sorted(v.named.items())),
                "counts": None if v.open and v.secret else {c.value: n for c, n in v.counts.items()},
                "result": v.result,
            }
            for vid, v in sorted(state.votes.items())
        },
    }


# -- the runtime, checked against the database (verify_action) ---------------------------

CHAIR = Actor(Role.CHAIR, user="chair")
STAFF = Actor(Role.STAFF, user="staff")


def deputy(deputy_id: int) -> Actor:
    return Actor(Role.DEPUTY, deputy_id=deputy_id)


@dataclasses.dataclass
class Rig:
    """A runtime over the demo meeting, and a separate engine to check the database."""

    runtime: MeetingRuntime
    check: AsyncEngine
    meeting_id: int
    published: list[tuple[int, list[Event], bool]] = dataclasses.field(default_factory=list)

    @property
    def state(self) -> MeetingState:
        return self.runtime.state

    async def counts(self) -> dict[str, int]:
        async with self.check.connect() as conn:
            out = await table_counts(conn, self.meeting_id)
            await conn.rollback()
        return out

    async def stored_since(self, seq: int) -> list[tuple[int, Event]]:
        async with self.check.connect() as conn:
            out = await store.load_events(conn, self.meeting_id, seq)
            await conn.rollback()
        return out

    async def fresh(self) -> MeetingState:
        return await state_from_db(self.check, self.meeting_id)

    async def verify(self, command: Command, actor: Actor = CHAIR) -> list[Event]:
        """Submit; then the log holds exactly the events returned, and a reload equals memory."""
        before = await self.counts()
        seq_before = self.state.seq
        events = await self.runtime.submit(command, actor, "pytest")
        after = await self.counts()
        assert after["events"] == before["events"] + len(events)
        assert self.state.seq == seq_before + len(events)
        stored = await self.stored_since(seq_before)
        assert [s for s, _ in stored] == list(range(seq_before + 1, seq_before + 1 + len(events)))
        # What is stored is what was returned, minus the secret choice of a ballot.
        assert [e for _, e in stored] == [from_record(*to_record(e)) for e in events]
        cast = sum(isinstance(e, RatingCast) for e in events)
        assert after["receipts"] == before["receipts"] + cast
        assert after["ballots"] == before["ballots"] + cast
        assert meaningful(await self.fresh()) == meaningful(self.state)
        return events

    async def refuse(self, command: Command, actor: Actor, code: str) -> None:
        """A refusal: the code is the one expected, and nothing changed anywhere."""
        before, in_memory = await self.counts(), meaningful(self.state)
        with pytest.raises(Refused) as refusal:
            await self.runtime.submit(command, actor, "pytest")
        assert refusal.value.code == code
        assert await self.counts() == before
        assert meaningful(self.state) == in_memory
        assert meaningful(await self.fresh()) == in_memory

    async def unchanged(self, command: Command, actor: Actor = CHAIR) -> None:
        """An accepted no-op (a retry): no events, no rows."""
        before = await self.counts()
        assert await self.verify(command, actor) == []
        assert await self.counts() == before


@pytest.fixture
async def rig(settings: Settings, meeting_id: int) -> AsyncIterator[Rig]:
    engine = create_engine(settings.database_url)
    check = plain_engine(settings.database_url)
    async with engine.connect() as conn:
        state = await load_state(conn, meeting_id)
        await conn.rollback()
    published: list[tuple[int, list[Event], bool]] = []

    async def listener(_: MeetingState, first_seq: int, events: list[Event], local: bool) -> None:
        published.append((first_seq, list(events), local))

    runtime = MeetingRuntime(engine, state, listener, Keys(settings.secret_key).box)
    runtime.start()
    try:
        yield Rig(runtime, check, meeting_id, published)
    finally:
        await runtime.stop()
        await engine.dispose()
        await check.dispose()


# -- HTML fragments ----------------------------------------------------------------------

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
Token = tuple[Any, ...]


class _Fragments(HTMLParser):
    """Every element with an id, as a token list (no hx-swap-oob, whitespace collapsed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, list[Token]] = {}
        self.attrs: dict[str, dict[str, str]] = {}
        self._open: list[tuple[str, int, list[Token]]] = []
        self._depth = 0

    def _emit(self, token: Token) -> None:
        for _, _, tokens in self._open:
            tokens.append(token)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = {k: v or "" for k, v in attrs if k != "hx-swap-oob"}
        token = ("<", tag, tuple(sorted(kept.items())))
        el_id = kept.get("id")
        if el_id and el_id not in self.attrs:
            self.attrs[el_id] = kept
        if tag in VOID:
            self._emit(token)
            if el_id:
                self.found.setdefault(el_id, [token])
            return
        if el_id:
            self._open.append((el_id, self._depth, []))
        self._emit(token)
        self._depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = {k: v or "" for k, v in attrs if k != "hx-swap-oob"}
        self._emit(("<>", tag, tuple(sorted(kept.items()))))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        self._depth -= 1
        self._emit(("</", tag))
        if self._open and self._open[-1][1] == self._depth:
            el_id, _, tokens = self._open.pop()
            self.found.setdefault(el_id, tokens)

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text:
            self._emit(("text", text))


def fragments(html: str) -> dict[str, list[Token]]:
    parser = _Fragments()
    parser.feed(html)
    parser.close()
    return parser.found


def element_attrs(html: str, el_id: str) -> dict[str, str]:
    parser = _Fragments()
    parser.feed(html)
    parser.close()
    return parser.attrs.get(el_id, {})


def page_seq(html: str) -> int:
    found = re.search(r"<body[^>]*\sdata-seq=\"(-?\d+)\"", html)
    assert found, "the page has no data-seq on its body"
    return int(found.group(1))


def tally_of(html: str) -> dict[str, int]:
    """The counts shown in a console's c-tally fragment (plus "cast"); only "cast" while
    the rating is open (its split is never shown before the close)."""
    section = re.search(r'<section id="c-tally".*?</section>', html, re.S)
    assert section, "no c-tally fragment"
    counts = {c: int(n) for c, n in re.findall(r'data-choice="(\w+)">(\d+)<', section.group(0))}
    cast = re.search(r'id="c-cast">(\d+)<', section.group(0))
    if cast:
        counts["cast"] = int(cast.group(1))
    return counts


# -- talking to the app over HTTP --------------------------------------------------------


DEMO_CHAIR = ("chair", "wenzheng-demo")
DEMO_DEPUTIES = 48  # the demo meeting's roster (server/office/demo.py)
DEMO_QUORUM = 32  # two thirds of 48


def staff_login(http: httpx.Client, username: str = DEMO_CHAIR[0], password: str = DEMO_CHAIR[1]) -> str:
    """Log in through the login page (a session on the server); returns the cookie.

    The client's own cookie jar is left as it was: callers send the cookie themselves.
    """
    before = http.cookies.get("wz_user")
    reply = http.post("/login", data={"username": username, "password": password, "next": "/"})
    assert reply.status_code == 303, (reply.status_code, reply.text[:500])
    cookie = reply.cookies.get("wz_user")
    assert cookie, "the login set no staff cookie"
    http.cookies.delete("wz_user")
    if before is not None:
        http.cookies.set("wz_user", before)
    return str(cookie)


@dataclasses.dataclass
class Hall:
    """The people in the hall, as HTTP clients of one server (or the TestClient)."""

    http: httpx.Client
    keys: Keys
    meeting_id: int
    login: str = ""  # a staff cookie to use; none: the chair logs in at the first need

    def __post_init__(self) -> None:
        self._deputies: dict[int, str] = {}

    @property
    def staff_cookie(self) -> str:
        """The chair's session cookie, logging in through /login the first time (a Hall
        used only for phones never logs in)."""
        if not self.login:
            self.login = staff_login(self.http)
        return self.login

    # who
    def chair_headers(self) -> dict[str, str]:
        # One read of the cookie: threads that log in at once must not pair one login's
        # cookie with another's CSRF token.
        cookie = self.staff_cookie
        session = self.keys.read_staff(cookie)
        assert session is not None
        return {"cookie": f"wz_user={cookie}", "x-csrf-token": self.keys.csrf(session.sid)}

    def deputy_cookie(self, deputy_id: int) -> str:
        """One phone per deputy (server.storage.phones): every Hall of a test uses the same sid,
        so a Hall made after a restart is the same phone, adopted at its first request."""
        if deputy_id not in self._deputies:
            self._deputies[deputy_id] = self.keys.deputy_cookie(deputy_id, 1, f"hall{deputy_id}")
        return self._deputies[deputy_id]

    def deputy_headers(self, deputy_id: int) -> dict[str, str]:
        cookie = self.deputy_cookie(deputy_id)
        binding = self.keys.read_deputy(cookie)
        assert binding is not None
        return {"cookie": f"wz_deputy={cookie}", "x-csrf-token": self.keys.csrf(binding.sid)}

    def screen_headers(self, kind: str = "projector") -> dict[str, str]:
        return {"cookie": f"wz_screen={self.keys.screen_cookie(self.meeting_id, kind)}"}

    # what they do
    def act(self, cmd: str, **fields: Any) -> httpx.Response:
        data = {"cmd": cmd, **{k: str(v) for k, v in fields.items()}}
        return self.http.post(f"/m/{self.meeting_id}/act", data=data, headers=self.chair_headers())

    def act_ok(self, cmd: str, **fields: Any) -> httpx.Response:
        response = self.act(cmd, **fields)
        assert response.status_code == 200, (cmd, fields, response.status_code, response.text)
        return response

    def check_in_quorum(self, *present: int) -> list[int]:
        """Check in ``present`` and, by hand, others from the end of the demo roster until
        the quorum is there (32 of 48: 三分之二以上): no vote opens without it (issue 16).
        Returns everyone checked in; the fillers never vote unless a test says so."""
        fillers = [d for d in range(DEMO_DEPUTIES, 0, -1) if d not in present]
        everyone = [*present, *fillers[: max(0, DEMO_QUORUM - len(present))]]
        self.act("open_checkin")  # open already: fine
        for d in everyone:
            self.act_ok("check_in", deputy_id=d)
        return everyone

    def open_rating(self, deputies: list[int] | tuple[int, ...], question_id: int = 1) -> None:
        """The session up to an open rating: check-in of ``deputies``, the question asked
        and answered, the rating opened."""
        self.act_ok("open_checkin")
        for d in deputies:
            self.act_ok("check_in", deputy_id=d)
        self.act_ok("close_checkin")
        self.act_ok("call_question", question_id=question_id)
        self.act_ok("to_answering")
        # Fewer than the quorum: opened past the console's warning (its result then has
        # counts and no grade, issue 16); the tests of grades check in the quorum.
        self.act_ok("open_rating", without_quorum="1" if len(deputies) < DEMO_QUORUM else "0")

    def rate(self, deputy_id: int, question_id: int, choice: str, key: str | None = None) -> httpx.Response:
        data = {"question_id": str(question_id), "choice": choice, "ballot_key": key or secrets.token_hex(12)}
        return self.http.post(f"/d/{self.meeting_id}/rate", data=data, headers=self.deputy_headers(deputy_id))

    # what they see
    def console(self) -> str:
        response = self.http.get(f"/m/{self.meeting_id}/console", headers=self.chair_headers())
        assert response.status_code == 200, response.text
        return response.text

    def projector(self) -> str:
        response = self.http.get(f"/m/{self.meeting_id}/projector", headers=self.screen_headers())
        assert response.status_code == 200, response.text
        return response.text

    def podium(self) -> str:
        response = self.http.get(f"/m/{self.meeting_id}/podium", headers=self.screen_headers("podium"))
        assert response.status_code == 200, response.text
        return response.text

    def deputy_page(self, deputy_id: int) -> str:
        response = self.http.get(f"/d/{self.meeting_id}", headers=self.deputy_headers(deputy_id))
        assert response.status_code == 200, response.text
        return response.text

    def cookie_for(self, audience: str, deputy_id: int | None = None) -> str:
        if audience == "console":
            return f"wz_user={self.staff_cookie}"
        if audience in ("projector", "podium"):
            return self.screen_headers(audience)["cookie"]
        if audience == "public":
            return ""
        assert deputy_id is not None
        return f"wz_deputy={self.deputy_cookie(deputy_id)}"


PRE_TOKEN = re.compile(r'name="pre" value="([0-9a-f]+)"')


def pre_form(http: httpx.Client, page: str, path: str, data: dict[str, str], **kwargs: Any) -> httpx.Response:
    """Post a form a phone fills in before it has a session (typing a card's codes,
    moving a card here) the way the browser does: open ``page`` first, which sets the
    pre-session cookie in ``http``'s jar, and send the token it shows."""
    shown = http.get(page, **kwargs)
    found = PRE_TOKEN.search(shown.text)
    assert found, f"{page} shows no form token: {shown.status_code} {shown.text[:300]}"
    return http.post(path, data={**data, "pre": found.group(1)}, **kwargs)


@pytest.fixture
def hall(client: TestClient, keys: Keys, meeting_id: int) -> Hall:
    return Hall(client, keys, meeting_id)


# -- real server processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One `wenzheng serve` process; its output goes to a log file for failures."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.env = env
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def start(self, timeout: float = 30) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(WENZHENG), "serve", "--port", str(self.port), "--log-level", "warning"],
                env=self.env,
                cwd=str(self.log_path.parent),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.log_tail()}", pytrace=False)
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"server on port {self.port} not ready in {timeout}s:\n{self.log_tail()}", pytrace=False)

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, nothing."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=15, trust_env=False, follow_redirects=False)


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
    env.update(
        {
            "WENZHENG_DATA_DIR": str(settings.data_dir),
            "WENZHENG_DATABASE_URL": settings.database_url,
            "PYTHONUNBUFFERED": "1",
            # The console's readiness panel asks a time server: never one outside in a test.
            "WENZHENG_NTP_SERVER": "127.0.0.1:9",
        }
    )
    env.update(extra)
    return env


@pytest.fixture
def spawn(tmp_path: Path, settings: Settings) -> Iterator[Callable[..., Server]]:
    """Start `wenzheng serve` processes: spawn(port=None, **env); all stopped at the end."""
    started: list[Server] = []

    def _spawn(port: int | None = None, **env: str) -> Server:
        server = Server(
            server_env(settings, **env), port or free_port(), tmp_path / f"server-{len(started)}.log"
        )
        started.append(server)
        server.start()
        return server

    yield _spawn
    for server in started:
        server.stop()


# -- websockets --------------------------------------------------------------------------


def ws_connect(url: str, cookie: str | None, origin: str | None = None) -> Any:
    """A websocket client; use it as a context manager (websockets requires it).

    Like any client that is not a browser it sends no ``Origin`` unless one is given."""
    from websockets.sync.client import connect

    return connect(
        url,
        origin=origin,  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie} if cookie else None,
        open_timeout=5,
        close_timeout=2,
        compression=None,
        proxy=None,
        max_size=None,
    )


def ws_hello(ws: Any, seq: int, timeout: float = 5) -> tuple[list[str], dict[str, Any]]:
    """Send hello; return the HTML messages received before the hello reply, and the reply."""
    ws.send(json.dumps({"type": "hello", "seq": seq}))
    html: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "no hello reply in time"
        message = ws.recv(timeout=left)
        assert isinstance(message, str)
        if message.startswith("{"):
            reply = json.loads(message)
            if reply.get("type") == "hello":
                return html, reply
            continue
        html.append(message)


def ws_collect(ws: Any, until: Callable[[list[str]], bool], timeout: float) -> list[str]:
    """HTML messages until ``until(messages)`` holds (or the timeout: then as collected)."""
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while not until(got):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            message = ws.recv(timeout=left)
        except TimeoutError:
            break
        if isinstance(message, str) and not message.startswith("{"):
            got.append(message)
    return got


def ws_drain(ws: Any, quiet: float = 0.4) -> list[str]:
    """Everything that arrives until the socket is quiet for ``quiet`` seconds."""
    got: list[str] = []
    while True:
        try:
            message = ws.recv(timeout=quiet)
        except TimeoutError:
            return got
        if isinstance(message, str):
            got.append(message)


@pytest.fixture
def utc_machine() -> Iterator[None]:
    """The process's local zone is UTC, as on most servers, for the test's length: what a
    user reads must still be China time."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    assert time.localtime(0).tm_hour == 0, "TZ=UTC did not take"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
