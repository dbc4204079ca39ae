"""A fuzz of the whole edge: every HTTP route and every socket message, and never a 500.

The routes come from the app's own table (``client.app.routes``, Mounts included), so a
route added tomorrow is fuzzed without a change here. What a route reads is read from
its handler's source and the functions of server/ it calls (:func:`reads`): its form
fields, its checkbox families (``pick_<id>``), its query parameters and the actions it
knows. The values are what attackers send, not what the parser expects (the section
"what attackers send"): Unicode digits and number characters, signs and spaces, numbers
of 20, 4,301 and 10,000 digits, the edges of 32- and 64-bit integers, negative zero,
NaN, impossible and extreme dates, control characters, invalid UTF-8, very long values,
names and path segments.

test_fuzz_every_route first sweeps every field of every route with one value of each
kind (:func:`sweep`), sent by whom the route serves, so each reaches the parser; then
Hypothesis draws the method, the path parameters, the query, the body (the route's own
forms most of the time, any field of the app's, random names, raw and invalid UTF-8
bytes, JSON, multipart, wrong content types) and who is asking (nobody, the chair with
or without its CSRF token, a deputy's phone, a paired screen, tampered cookies). Each
test keeps one app and one database for all its examples, so the meeting's state builds
up the way a real session's does; the deep test sends the chair's real commands (their
fields read from server/base/parse.py) and the phones' ballots, mostly valid, so it reaches
the runtime. Socket frames go to one socket of every audience.

Afterwards the event log is replayed and compared with memory, and every tally with its
receipts. Each test counts what it sent, prints its figures and checks its own minimum
(MIN_HTTP, MIN_DEEP, MIN_FRAMES, MIN_CONNECTS), so a test run alone checks it too.

Time: a request costs a few ms, most of it the app's own (aiosqlite answers on a thread
of its own), and drawing it about 1.5 ms more. So strategies are built once, at import or
at a test's start (a strategy built per example costs more than its request), requests
take one thread hop (:class:`Wire`), and a route that answers slowly is drawn less often.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_from_bytes

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from live import state as live_state
from live.state import MeetingState, VoteMethod
from server.base.keys import SESSION_MAX_AGE, Keys, session_key
from server.base.parse import ACTIONS, parse_action
from server.base.settings import Settings
from server.storage import models as m
from server.web.http import MAX_FORM_BYTES, MAX_FORM_FIELD, Services
from tests.conftest import Db, Hall, TestClient, meaningful
from tests.test_http import HAN, _malformed
from tests.test_ws import MALFORMED

if TYPE_CHECKING:  # conftest imports the test client, silencing its deprecation warning
    from starlette.testclient import WebSocketTestSession

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_HTTP = 3200  # the whole route table, everybody (after the sweep of every field)
EXAMPLES_DEEP = 4300  # the chair's commands, the phones' ballots, the pages they change
EXAMPLES_WS = 1500  # socket frames
EXAMPLES_CONNECT = 200  # socket handshakes
# What each test must have sent, counted by itself: run alone, a test still checks it.
MIN_HTTP = 4200  # the sweep, the hand-written cases and the drawn examples
MIN_DEEP = EXAMPLES_DEEP * 9 // 10
MIN_FRAMES = EXAMPLES_WS * 9 // 10
MIN_CONNECTS = EXAMPLES_CONNECT * 9 // 10
MIN_HITS = 15  # every route gets at least this many requests
MAX_QUERY = 8000  # what a proxy in front lets through; httpx refuses URLs over 64 KiB
SOCKETS_AT_ONCE = ("console", "projector", "podium", "deputy", "public")

FUZZ = settings(
    max_examples=EXAMPLES_HTTP,
    deadline=None,
    database=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)


@functools.cache
def pick(*items: Hashable) -> st.SearchStrategy[Any]:
    """One of ``items`` (a repeat weighs more); one strategy object per tuple.

    An index into the tuple rather than the items themselves, whose repr lists every one:
    a pool holding 64 KiB strings made a repr of megabytes in each failure report. (From
    a range, not ``st.integers``, which favours the first and the last.)
    """
    return st.sampled_from(range(len(items))).map(items.__getitem__)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, by weight (``st.one_of`` counts a repeated strategy once)."""
    strategies = [s for _, s in choices]
    return pick(*(i for i, (weight, _) in enumerate(choices) for _ in range(weight))).flatmap(
        strategies.__getitem__
    )


# -- the count -------------------------------------------------------------------------


@dataclass
class Tally:
    """What one test sent and what came back: each test counts its own and checks it."""

    statuses: Counter[int] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    connects: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def histogram(self) -> str:
        return ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))


def say(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """A test's figures, printed even without -s (RELIABILITY.md quotes them)."""
    with capsys.disabled():
        print(f"\n{line}")


# -- the route table, from the app ----------------------------------------------------

PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


@dataclass(frozen=True)
class Endpoint:
    """One leaf of the route table: a path template and what it answers."""

    declared: str  # the path as the route was declared (a Mount's own prefix)
    template: str  # the full template; a Mount of an app gets a {path:path} tail
    methods: frozenset[str]
    websocket: bool = False
    handler: Any = None  # the route's endpoint function

    @property
    def params(self) -> list[tuple[str, str]]:
        return [(name, kind or "str") for name, kind in PARAM.findall(self.template)]


def endpoints(routes: list[BaseRoute], prefix: str = "") -> list[Endpoint]:
    found: list[Endpoint] = []
    for route in routes:
        if isinstance(route, Mount):
            inner = route.routes
            if inner:
                found += endpoints(list(inner), prefix + route.path)
            else:  # an app (StaticFiles): everything under the prefix is its
                full = prefix + route.path + "/{path:path}"
                found.append(Endpoint(route.path, full, frozenset({"GET", "HEAD"})))
        elif isinstance(route, WebSocketRoute):
            found.append(Endpoint(route.path, prefix + route.path, frozenset(), True, route.endpoint))
        elif isinstance(route, Route):
            methods = frozenset(route.methods or {"GET", "HEAD"})
            found.append(Endpoint(route.path, prefix + route.path, methods, handler=route.endpoint))
        else:  # pragma: no cover - a kind of route this file does not know yet
            raise AssertionError(f"unknown route type {type(route).__name__}: teach test_fuzz.py")
    return found


def declared_in_source() -> list[str]:
    """Every path in the route table (server/web/route_table.py), read from the source text."""
    source = (ROOT / "server" / "web" / "route_table.py").read_text(encoding="utf-8")
    return re.findall(r'\b(?:Route|WebSocketRoute|Mount)\(\s*"([^"]+)"', source)


def fill(template: str, values: dict[str, str]) -> str:
    return PARAM.sub(lambda found: values[found.group(1)], template)


# -- what the parser and the forms know -----------------------------------------------


def found(pattern: str, source: str) -> set[str]:
    """Every group any match of ``pattern`` captured."""
    hits = re.findall(pattern, source)
    return {g for hit in hits for g in (hit if isinstance(hit, tuple) else (hit,)) if g}


def _names_known() -> tuple[list[str], list[str], list[str]]:
    """(field names, dynamic name prefixes, literal values) from templates/ and server/."""
    templates = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "screens" / "templates").rglob("*.html")
    )
    server = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "server").rglob("*.py"))
    names = set(re.findall(r'name="([a-z_]+)"', templates))
    names |= set(re.findall(r'_(?:req|int|enum|flag|count|text)\(\w+, "(\w+)"', server))
    names |= set(re.findall(r'\b(?:form|f)\.(?:get|pop)\("(\w+)"', server))
    names |= set(re.findall(r'\bform\["(\w+)"\]', server))
    prefixes = set(re.findall(r'name="([a-z]+_)\{\{', templates)) | found(PREFIXES_READ, server)
    values = set(re.findall(r'value="([a-z_]+)"', templates))
    values |= set(re.findall(r'action (?:==|in) \(?"([a-z_]+)"', server))
    for enum in (
        live_state.Choice,
        live_state.Focus,
        live_state.FloorKind,
        live_state.ProjectorMode,
        live_state.VoteChoice,
        live_state.Threshold,
        live_state.VoteBase,
        live_state.VoteMethod,
        live_state.Phase,
    ):
        values |= {e.value for e in enum}
    values |= set(ACTIONS)
    return sorted(names - {"viewport"}), sorted(prefixes), sorted(values)


# How the server reads a form's field, a checkbox family (pick_<id>) or a query parameter.
FIELDS_READ = (
    r'\b(?:form|f|fields)\.(?:get|pop)\("(\w+)"',
    r'\bform\["(\w+)"\]',
    r'\b_(?:req|int|enum|flag|count|text)\(\w+, "(\w+)"',
    r'\bnum\("(\w+)"\)',
)
PREFIXES_READ = r'(?:_picked|suffixed_ids)\(\w+, "(\w+_)"|\bform\.get\(f"(\w+_)\{'
QUERY_READ = r'query_params\.get\("(\w+)"'
FIELD_NAMES, NAME_PREFIXES, WORDS = _names_known()
PARSE_SOURCE = (ROOT / "server" / "base" / "parse.py").read_text(encoding="utf-8")
QUERY_NAMES = ["next", "q", "group", "reissued", "saved", "screen", "checked_in", "page", "kind", "type"]

# -- what attackers send -----------------------------------------------------------------
# Not what the parser expects: Unicode digits and other number characters, signs and
# spaces, numbers of 20, 4,301 and 10,000 digits, the edges of 32- and 64-bit integers
# and of our own bounds, negative zero, NaN, impossible and extreme dates, control
# characters, invalid UTF-8 (in bodies, queries and paths), very long values and names.

UNICODE_NUMBERS = (
    *("²", "¹²", "٣", "۷", "१२", "①", "⑳", "０", "１２", "９９９", "Ⅻ", "½", "𝟗", "〇", "߃"),
    *("٣/٤", "５０％", "0.٥", "1²", "²1", "٣,٤"),
)
SIGNS_AND_SPACES = (
    *("+1", "-0", "+0", "-00", "--5", "+-1", " 1 ", "- 1", "1 2", "\u22121", "1\u00a0", "\u30001"),
    *("\t1\n", "1_000", "0x10", "0b1", "1e3", "1.5", "1,000", ".5", "1/2/3", "50 %", "%50"),
)
EDGES = (0, 10**9 - 1, 10**9, 10**9 + 1, 2**31 - 1, 2**31, 2**31 + 1, -(2**31), -(2**31) - 1, 2**32)
INTEGER_EDGES = tuple(str(n) for n in (*EDGES, 2**63 - 1, 2**63, 2**63 + 1, -(2**63), -(2**63) - 1, 2**64))
HUGE_NUMBERS = (
    "9" * 20,
    "-" + "9" * 20,
    "9" * 4300,
    "9" * 4301,
    "-" + "9" * 4301,
    "9" * 10_000,
    "0" * 4000 + "1",
)
NOT_NUMBERS = ("NaN", "nan", "-NaN", "Infinity", "-Infinity", "inf", "1e999", "-1e-999", "-0.0", "0.0", "1/0")
DATES = (
    *("0001-01-01 00:00", "9999-12-31 23:59", "0000-01-01 00:00", "10000-01-01 00:00", "-2026-06-01 18:00"),
    *("2026-02-30 10:00", "2026-02-29 10:00", "2028-02-29 10:00", "2026-13-01 00:00", "2026-00-10 00:00"),
    *("2026-06-01 24:00", "2026-06-01 23:60", "2026-06-01 25:61", "1999-12-31 23:59", "2100-01-01 00:00"),
    *("2000-01-01 00:00", "2099-12-31 23:59", "2026-06-01T18:00", "2026-06-01 18:00:00", "2026/06/01 18:00"),
    *("2026-06-01", "18:00", "２０２６-０６-０１ １８:００", "2026-06-01  18:00", "2026-06-01\x0018:00"),
    *("2026-6-1 8:0", "2026-06-01 18:00Z", "2026-06-01 18:00+08:00", "2026-W23-1", "1e9", "٢٠٢٦-٠٦-٠١ ١٨:٠٠"),
)
CONTROLS = (
    *("\x00", "a\x00b", "\x00" * 10, "\x1b[31m红\x1b[0m", "\x7f", "\x85", "\x9b", "\u2028", "\ufeff"),
    *("\r\n", "\x08", "\u202e\u200b", "\t", "a\rb", "\x0c", "标题\x00"),
)
INVALID_UTF8 = (
    b"\xff",
    b"\xfe\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"1\x80",
    b"\xc0\xaf",
)
HOSTILE = (
    *UNICODE_NUMBERS,
    *SIGNS_AND_SPACES,
    *INTEGER_EDGES,
    *HUGE_NUMBERS,
    *NOT_NUMBERS,
    *DATES,
    *CONTROLS,
)

NUMBERS = (
    "0",
    "00",
    "1",
    "2",
    "3",
    "7",
    "-1",
    *UNICODE_NUMBERS,
    *SIGNS_AND_SPACES,
    *INTEGER_EDGES,
    *HUGE_NUMBERS,
)
NASTY = (
    *("", " ", "中文", "王" * 61, "null", "true", "[]", "{}", *CONTROLS, *NOT_NUMBERS, *DATES),
    *("<script>alert(1)</script>", "'; DROP TABLE users; --", "%ff", "%00", "..", "../../etc/passwd"),
    *("🙂" * 10, "2030-01-01 10:00", "1,2,3", "1,,x,-4", ",".join(["7"] * 300), ",".join(["²"] * 3)),
    *(",".join([str(2**63)] * 2), "1，2", "，"),
)
SIZES = (MAX_FORM_FIELD - 1, MAX_FORM_FIELD, MAX_FORM_FIELD + 1, 20_000, MAX_FORM_BYTES + 10)

HUGE = tuple(chunk * n for chunk in ("x", "中", "9", "\x00", "%", "a=b&") for n in SIZES)
POOL = (*NASTY, *NUMBERS, *WORDS, *WORDS, *HUGE)  # the words twice: valid input goes deeper
# What follows a checkbox's prefix (pick_7, co_12): an id, or what an attacker puts there.
SUFFIXES = (
    *("1", "2", "0", "-1", "x", "", "9" * 30, "²", "٣", "①", "１", " 1", "+1", "1.0", "\x00"),
    *(str(2**31), str(2**63), "9" * 4301, "9" * 10_000),
)
DYNAMIC_NAMES = tuple(p + n for p in NAME_PREFIXES or ["x_"] for n in SUFFIXES)

text = st.text(max_size=12)  # every character is a choice of its own: short, or it costs
words = pick(*WORDS)
number = st.one_of(pick(*NUMBERS), st.integers(-(2**70), 2**70).map(str))
hostile = pick(*HOSTILE)
value = weighted((5, pick(*POOL)), (2, hostile), (1, st.integers(-(2**70), 2**70).map(str)), (1, text))
field_name = weighted((6, pick(*FIELD_NAMES)), (1, pick(*DYNAMIC_NAMES)), (1, text))
form = st.lists(st.tuples(field_name, value), max_size=5).map(dict)
json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | pick(*POOL),
    lambda inner: st.lists(inner, max_size=3) | st.lists(st.tuples(field_name, inner), max_size=3).map(dict),
    max_leaves=6,
)
RAW_FORMS = (
    *(b"%zz%%&&==", b"cmd=%ZZ&&=", b"a=\xff\xfe&b=\x00", b"=&=&=", b"&" * 500, b"f=1&" * 80),
    b"x=" + b"a" * (MAX_FORM_BYTES + 1),
    b"--boundary\r\nContent-Disposition: form-data\r\n\r\nx\r\n--boundary--",
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n\r\nPK\x03\x04',
)


def encoded(pairs: list[tuple[str, str | bytes]]) -> bytes:
    """A URL-encoded body by hand: a bytes value is percent-encoded as it is, invalid UTF-8
    included, which httpx's own form encoding (str values, UTF-8) cannot send."""
    return "&".join(
        f"{quote(k, safe='')}={quote_from_bytes(v) if isinstance(v, bytes) else quote(v, safe='')}"
        for k, v in pairs
    ).encode()


raw_value = weighted((3, value), (1, pick(*INVALID_UTF8)), (1, pick(*(b"1" + b for b in INVALID_UTF8))))
raw_bytes = st.one_of(
    st.binary(max_size=200),
    pick(*RAW_FORMS),
    st.builds(lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode(), form),
    st.lists(st.tuples(field_name, raw_value), max_size=4).map(encoded),
)
CONTENT_TYPES = (  # bytes: httpx sends a str header as ASCII only
    *(b"application/x-www-form-urlencoded", b"application/x-www-form-urlencoded; charset=latin-1"),
    *(b"multipart/form-data", b"multipart/form-data; boundary=boundary", b"multipart/form-data; boundary="),
    *(b"multipart/mixed; boundary=b", b"application/json", b"text/plain", b"application/xml"),
    *(b"application/octet-stream", "；".encode(), b""),
)
FILE_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv", "image/png")
upload = st.tuples(text, st.binary(max_size=300), pick(*FILE_TYPES))
body_kind = pick("none", "form", "form", "form", "encoded", "raw", "json", "files", "typed")
upload_name = pick("file", "file", "cmd", "username", *FIELD_NAMES)
URLENCODED = {"content-type": CONTENT_TYPES[0]}


@st.composite
def body(draw: st.DrawFn, forms: st.SearchStrategy[dict[str, str]] = form) -> dict[str, Any]:
    """Keyword arguments for one request's body (and its content type); ``forms`` are the
    forms of the route, drawn from the fields it reads."""
    kind = draw(body_kind)
    if kind == "none":
        return {}
    if kind == "form":
        return {"data": draw(forms)}
    if kind == "encoded":  # the route's form, some values in invalid UTF-8
        fields = draw(forms)
        pairs = [(k, draw(raw_value) if draw(st.booleans()) else v) for k, v in fields.items()]
        return {"content": encoded(pairs), "headers": URLENCODED}
    if kind == "raw":
        return {"content": draw(raw_bytes), "headers": URLENCODED}
    if kind == "json":
        return {"json": draw(json_value)}
    if kind == "files":
        return {
            "data": draw(forms),
            "files": {draw(upload_name): draw(upload), draw(text) or "f": draw(upload)},
        }
    return {"content": draw(raw_bytes), "headers": {"content-type": draw(pick(*CONTENT_TYPES))}}


# -- who is asking ----------------------------------------------------------------------

WHO = (
    *("none", "chair", "chair", "chair", "chair-form-token", "chair-no-token", "chair-bad-token"),
    *("deputy", "deputy", "deputy-form-token", "deputy-no-token", "projector", "podium"),
    *("screen-other-meeting", "pair", "tampered", "stale-deputy", "unknown-user", "everything", "garbage"),
)
BAD_TOKENS = ("", "0" * 32, "中".encode(), "é".encode("latin-1"), "x" * 3000, b"\x00")
garbage_cookie = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=120)


@dataclass
class Who:
    """One kind of caller: its headers, and the CSRF token it puts in the form (if any)."""

    label: str
    headers: dict[str, Any]
    form_token: str | None = None


class People:
    """Everybody's cookies, valid and not, made once per test; ``who`` draws one of them."""

    def __init__(self, hall: Hall, keys: Keys, deputies: list[int]) -> None:
        self.hall = hall
        self.keys = keys
        self.deputies = deputies[:12]
        self.chair = hall.chair_headers()
        chair = keys.read_staff(hall.staff_cookie)
        assert chair is not None
        self.chair_session = chair
        self.projector = hall.screen_headers("projector")
        self.podium = hall.screen_headers("podium")
        ghost = keys.staff_cookie(999, "ghost", frozenset({"chair", "staff", "admin"}))  # since deleted
        session = keys.read_staff(ghost)
        assert session is not None
        self.ghost = {"cookie": f"wz_user={ghost}", "x-csrf-token": keys.csrf(session.sid)}
        # Signed by the server, so only ids it once issued: a card re-issued, a deputy gone.
        self.stale = [f"wz_deputy={keys.deputy_cookie(d, v)}" for d, v in ((1, 2), (1, 0), (10**6, 1))]
        self.other_meeting = f"wz_screen={keys.screen_cookie(999, 'projector')}"
        self.valid = [
            self.chair["cookie"],
            self.deputy(1)[0],
            self.projector["cookie"],
            self.podium["cookie"],
        ]
        self.who = self._strategy()

    @property
    def services(self) -> Services:
        s: Services = self.hall.http.app.state.services  # type: ignore[attr-defined]
        return s

    def keep_chair(self) -> None:
        """The fuzz posts /logout with the chair's token now and then, which ends the
        chair's session. The chair then logs in again under the same session id (a real
        login draws a new one, but every strategy holds this cookie), so the fuzz keeps
        calling every route as the chair too."""
        s, session = m.staff_sessions, self.chair_session

        async def reopen() -> None:
            async with self.services.engine.begin() as conn:
                key = session_key(session.sid)
                if (await conn.execute(select(s.c.id).where(s.c.id == key))).first() is None:
                    now = time.time_ns() // 1_000_000
                    row = {"id": key, "user_id": session.user_id, "created_ms": now, "device": "pytest"}
                    await conn.execute(insert(s).values(**row, expires_ms=now + SESSION_MAX_AGE * 1000))

        portal = self.hall.http.portal  # type: ignore[attr-defined]
        portal.call(reopen)

    def deputy(self, deputy_id: int) -> tuple[str, str]:
        """The phone's cookie header and CSRF token (the Hall's phone: one per deputy)."""
        headers = self.hall.deputy_headers(deputy_id)
        return headers["cookie"], headers["x-csrf-token"]

    def _strategy(self) -> st.SearchStrategy[Who]:
        kinds = pick(*WHO)
        deputies = pick(*self.deputies)
        bad_tokens = pick(*BAD_TOKENS)
        weak_tokens = pick(None, "wrong", "中")
        valid = pick(*self.valid)
        stale = pick(*self.stale)
        tamper = pick("flip", "cut", "grow", "swap-name")
        tail = pick(".", "x", ".AAAA", "=")
        names = pick("wz_user", "wz_deputy", "wz_screen", "wz_pair")
        pairs = pick("garbage", secrets.token_hex(16), "")

        @st.composite
        def draw_who(draw: st.DrawFn) -> Who:
            kind = draw(kinds)
            if kind == "none":
                return Who(kind, {})
            if kind.startswith("chair"):
                cookie = {"cookie": self.chair["cookie"]}
                if kind == "chair":
                    return Who(kind, dict(self.chair))
                if kind == "chair-form-token":
                    return Who(kind, cookie, self.chair["x-csrf-token"])
                if kind == "chair-bad-token":
                    return Who(kind, {**cookie, "x-csrf-token": draw(bad_tokens)})
                return Who(kind, cookie, draw(weak_tokens))
            if kind.startswith("deputy"):
                phone, token = self.deputy(draw(deputies))
                if kind == "deputy":
                    return Who(kind, {"cookie": phone, "x-csrf-token": token})
                return Who(kind, {"cookie": phone}, token if kind == "deputy-form-token" else None)
            if kind in ("projector", "podium"):
                return Who(kind, dict(self.projector if kind == "projector" else self.podium))
            if kind == "screen-other-meeting":
                return Who(kind, {"cookie": self.other_meeting})
            if kind == "pair":
                return Who(kind, {"cookie": f"wz_pair={draw(pairs)}"})
            if kind == "tampered":
                name, _, signed = draw(valid).partition("=")
                at = draw(st.integers(0, len(signed) - 1))
                how = draw(tamper)
                if how == "flip":
                    signed = signed[:at] + ("A" if signed[at] != "A" else "B") + signed[at + 1 :]
                elif how == "cut":
                    signed = signed[:at]
                elif how == "grow":
                    signed += draw(tail)
                else:
                    name = draw(names)
                return Who(kind, {"cookie": f"{name}={signed}"})
            if kind == "stale-deputy":
                return Who(kind, {"cookie": draw(stale)})
            if kind == "unknown-user":
                return Who(kind, dict(self.ghost))
            if kind == "everything":
                return Who(kind, {**self.chair, "cookie": "; ".join(self.valid)})
            return Who(kind, {"cookie": draw(garbage_cookie).encode("latin-1")})

        return draw_who()


# -- sending ---------------------------------------------------------------------------


def short(v: Any) -> Any:
    """A request's part, cut for a failure message."""
    if isinstance(v, str):
        return v if len(v) <= 120 else v[:120] + "..."
    if isinstance(v, bytes):
        return v if len(v) <= 120 else v[:120] + b"..."
    if isinstance(v, dict):
        return {short(k): short(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [short(x) for x in v]
    return v


Auth = dict[str, Any]  # the headers that say who is asking


class Wire:
    """Requests to the app that ``client`` runs, on the test client's own event loop.

    The same app, middleware, lifespan and services as the ``client`` fixture: httpx's
    ASGI transport, called through the test client's portal. One hop to the loop's thread
    per request where the test client's own transport makes about seven, which saves some
    2 ms of each request here, and this module has a time budget.
    """

    def __init__(self, client: TestClient) -> None:
        assert client.portal is not None, "the test client is not running"
        self.portal = client.portal
        transport = httpx.ASGITransport(client.app, raise_app_exceptions=False)  # a 500 is an answer
        self.http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.tally = Tally()  # one Wire per test

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self.http.cookies.clear()  # every request says who it is itself; no cookie carries over
        return self.portal.call(functools.partial(self.http.request, method, url, **kwargs))


@pytest.fixture(name="settings")
def one_address_settings(settings: Settings) -> Settings:
    """In process every handshake comes from one address ("testclient"), a dozen a second
    for half a minute: past the per-address rate (tests/test_limits.py tests it)."""
    return dataclasses.replace(settings, ws_connect_burst=10**6, ws_connect_rate=1e6)


@pytest.fixture
def wire(client: TestClient) -> Iterator[Wire]:
    w = Wire(client)
    yield w
    w.portal.call(w.http.aclose)


def send(wire: Wire, endpoint: str, method: str, url: str, auth: Auth, **kwargs: Any) -> httpx.Response:
    """One request: counted, and never a 5xx; a 4xx page says what went wrong in Chinese."""
    headers = {**auth, **kwargs.pop("headers", {})}
    response = wire.request(method, url, headers=headers, **kwargs)
    status = response.status_code
    wire.tally.statuses[status] += 1
    wire.tally.hits[endpoint] += 1
    if status >= 500:
        raise AssertionError(f"{said(method, url, headers, kwargs, status)}: {response.text[:300]}")
    if 400 <= status < 500 and method != "HEAD" and "text/html" in response.headers.get("content-type", ""):
        assert HAN.search(response.text), f"{said(method, url, headers, kwargs, status)}: no Chinese"
    return response


def said(method: str, url: str, headers: dict[str, Any], kwargs: dict[str, Any], status: int) -> str:
    return f"{method} {short(url)} {short(headers)} {short(kwargs)} -> {status}"


# -- the database's ids, and the consistency check --------------------------------------


def known_ids(db: Db) -> dict[str, list[int]]:
    """Ids that exist, by path parameter or form field name (meeting_id, body_id, ...)."""

    async def read(conn: AsyncConnection) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for name, table in (
            ("meeting_id", m.meetings),
            ("body_id", m.bodies),
            ("deputy_id", m.deputies),
            ("official_id", m.officials),
            ("user_id", m.users),
            ("question_id", m.questions),
            ("item_id", m.agenda_items),
        ):
            rows = await conn.execute(select(table.c.id).order_by(table.c.id))
            out[name] = [int(r) for (r,) in rows]
        return out

    ids: dict[str, list[int]] = db._run(read)
    # The chair's own account is left alone: a reset of its password or roles would end
    # the session every other example uses. Another user id, real or not, stands in.
    ids["user_id"] = [i for i in ids["user_id"] if i != 1] or [2]
    return ids


def ballot_rows(db: Db) -> dict[str, dict[int, int]]:
    """Receipts counted, tallies summed and sealed ballots counted, per rating and vote."""

    async def read(conn: AsyncConnection) -> dict[str, dict[int, int]]:
        out: dict[str, dict[int, int]] = {}
        sealed = m.sealed_ballots
        for kind in ("rating", "vote"):
            rows = await conn.execute(
                select(sealed.c.round_id, func.count())
                .where(sealed.c.meeting_id == db.meeting_id, sealed.c.kind == kind)
                .group_by(sealed.c.round_id)
            )
            out[f"{kind}_sealed"] = {int(k): int(n) for k, n in rows}
        for name, table, key, how in (
            ("rating_receipts", m.rating_receipts, "question_id", func.count()),
            ("rating_tallies", m.rating_tallies, "question_id", func.sum(m.rating_tallies.c.n)),
            ("vote_receipts", m.vote_receipts, "vote_id", func.count()),
            ("vote_tallies", m.vote_tallies, "vote_id", func.sum(m.vote_tallies.c.n)),
        ):
            rows = await conn.execute(
                select(table.c[key], how).where(table.c.meeting_id == db.meeting_id).group_by(table.c[key])
            )
            out[name] = {int(k): int(n) for k, n in rows}
        return out

    rows: dict[str, dict[int, int]] = db._run(read)
    return rows


def assert_consistent(hall: Hall, db: Db) -> MeetingState:
    """The log replays to what memory holds, and every tally equals its receipts."""
    fresh = db.state()
    services: Services = hall.http.app.state.services  # type: ignore[attr-defined]
    room = services.meetings.rooms.get(db.meeting_id)
    if room is not None:
        assert meaningful(fresh) == meaningful(room.runtime.state)
    rows = ballot_rows(db)
    assert set(rows["rating_receipts"]) <= set(fresh.ratings)
    for qid, rating in fresh.ratings.items():
        cast = rows["rating_receipts"].get(qid, 0)
        # Open: sealed ballots and no totals; closed: totals and no sealed ballot left.
        sealed, totals = rows["rating_sealed"].get(qid, 0), rows["rating_tallies"].get(qid, 0)
        assert cast == len(rating.voters), qid
        paper = rating.result.paper if rating.result is not None else None
        if paper is not None:
            # Closed by a paper count (issue 16): the totals are the paper's, plus the
            # phones' ballots kept; a phone ballot set aside leaves its receipt only.
            assert paper.kept + paper.discarded == cast, qid
            assert (sealed, totals) == (0, sum(n for _, n in rating.result.counts)), qid
            continue
        assert (sealed, totals) == ((cast, 0) if rating.open else (0, cast)), qid
        if room is not None:
            assert sum(room.runtime.state.ratings[qid].counts.values()) == cast, qid
    assert set(rows["vote_receipts"]) <= set(fresh.votes)
    for vid, vote in fresh.votes.items():
        cast = rows["vote_receipts"].get(vid, 0)
        sealed, totals = rows["vote_sealed"].get(vid, 0), rows["vote_tallies"].get(vid, 0)
        if vote.method is not VoteMethod.PHONES:
            assert vote.result is not None and (cast, sealed) == (0, 0), vid
            assert totals == vote.result.cast, vid  # a count by hand: its totals, closed at once
            continue
        assert cast == len(vote.voters), vid
        if vote.open:
            assert (sealed, totals) == ((cast, 0) if vote.secret else (0, 0)), vid
        else:
            assert (sealed, totals) == (0, cast), vid
        if not vote.secret:
            assert len(vote.named) == cast, vid
    return fresh


# -- the route table -------------------------------------------------------------------


def test_the_route_table_is_enumerated(client: TestClient) -> None:
    found = endpoints(list(client.app.routes))  # type: ignore[attr-defined]
    declared = declared_in_source()
    assert len(declared) >= 50
    assert len(found) >= len(declared)
    missing = Counter(declared) - Counter(e.declared for e in found)
    assert not missing, f"routes in server/web/route_table.py the enumeration missed: {sorted(missing)}"
    assert any(e.websocket for e in found) and any(e.template.startswith("/static/") for e in found)
    for e in found:
        assert e.websocket or e.methods, e


# -- what each route reads --------------------------------------------------------------


@dataclass(frozen=True)
class Reads:
    """What a route's handler reads: form fields, checkbox families (``pick_<id>``), query
    parameters, and the words it compares them with (actions, commands, choices)."""

    fields: tuple[str, ...]  # read by the code
    prefixes: tuple[str, ...]
    query: tuple[str, ...]
    words: tuple[str, ...]
    shown: tuple[str, ...] = ()  # the fields of the pages it renders (what they send back)


def _code(source: str) -> str:
    return re.sub(r'"[^"\n]*"', '""', source)  # a name in a string ("/login") calls nothing


def reads(handler: Any, depth: int = 4) -> Reads:
    """Read from the handler's source and from the functions of server/ it uses, to
    ``depth`` calls deep, and from the page templates they render; a command form
    (server/base/parse.py's ACTIONS) adds every command's fields."""
    seen: set[Any] = set()
    todo: list[tuple[Any, int]] = [(handler, 0)]
    sources: list[str] = []
    while todo:
        fn, level = todo.pop()
        if fn in seen:
            continue
        seen.add(fn)
        source = inspect.getsource(fn)
        sources.append(source)
        scope = vars(inspect.getmodule(fn))
        for owner, name in re.findall(r"\b(?:(\w+)\.)?(\w+)\b", _code(source)) if level < depth else []:
            used = scope.get(owner or name)
            if owner:
                used = getattr(used, name, None) if inspect.ismodule(used) else None
            if inspect.isfunction(used) and used.__module__.startswith("server.") and used not in seen:
                todo.append((used, level + 1))
    source = "\n".join(sources)
    if parse_action in seen:
        source += "\n".join(inspect.getsource(factory) for factory in ACTIONS.values())
    pages = [
        ROOT / "screens" / "templates" / "pages" / f"{name}.html"
        for name in re.findall(r'\bpage\(\s*"(\w+)"', source)
    ]
    html = "\n".join(page.read_text(encoding="utf-8") for page in pages if page.exists())
    fields = set().union(*(found(pattern, source) for pattern in FIELDS_READ))
    for names in found(r'\bfor \w+ in \(((?:\s*"\w+",?)+)\)', source):  # for k in ("body", "kind")
        fields |= set(re.findall(r'"(\w+)"', names))
    for keys in found(r"\bvalues = \{([^}]*)\}", source) if "for k in values" in source else ():
        fields |= set(re.findall(r'"(\w+)":', keys))  # values = {"name": …}; form.get(k) for k in values
    shown = set(re.findall(r'name="([a-z_]+)"', html)) - {"viewport", "csrf"} - fields
    prefixes = found(PREFIXES_READ, source)
    words = set(re.findall(r'"([a-z_]+)"', source + html)) & set(WORDS)
    parts = (fields, prefixes, found(QUERY_READ, source), words, shown)
    return Reads(*(tuple(sorted(x)) for x in parts))


def route_form(r: Reads) -> st.SearchStrategy[dict[str, str]]:
    """Forms for one route: its own fields most of the time (an action or command it
    knows, often), any field of the app's, a checkbox family's odd ids, random names."""
    own = pick(*r.fields, *r.shown) if r.fields or r.shown else field_name
    boxes = pick(*(p + n for p in r.prefixes for n in SUFFIXES)) if r.prefixes else pick(*DYNAMIC_NAMES)
    name = weighted((6, own), (2, pick(*FIELD_NAMES)), (1, boxes), (1, text))
    verbs = {k: mostly(pick(*r.words) if r.words else words) for k in ("action", "cmd") if k in r.fields}
    pairs = st.lists(st.tuples(name, value), max_size=5).map(dict)
    return st.builds(lambda v, f: {**v, **f}, st.fixed_dictionaries({}, optional=verbs), pairs)


def route_query(r: Reads) -> st.SearchStrategy[str]:
    names = pick(*r.query, *r.query, *QUERY_NAMES, *FIELD_NAMES)
    pairs = st.lists(st.tuples(names, value), max_size=3)
    return st.one_of(
        st.just(""),
        pairs.map(lambda q: "&".join(f"{quote(k)}={quote(v[:MAX_QUERY])}" for k, v in q)[:MAX_QUERY]),
        st.tuples(names, pick(*INVALID_UTF8)).map(lambda q: f"{q[0]}={quote_from_bytes(q[1])}"),
        pick("%zz&&==", "q=%ff%fe", "next=//evil.example", "q=%00", "a=1&a=2&a=3"),
    )


# -- every route, everybody ---------------------------------------------------------------

ODD_METHODS = ("PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "MKCOL")
ODD_IDS = ("abc", "一", "%00", "%2e%2e", "%201", "1;2", "%ff%fe", "1%00", "9" * 10_000)
ODD_STATIC = ("", "../server/base/keys.py", "%2e%2e/%2e%2e/etc/passwd", "vendor", "vendor/", "%00", "a%00b")
ODD_STATIC2 = (
    "app.css/x",
    "x" * 3000,
    "%E4%B8%AD.css",
    "%ff%fe",
    "app.css%00.js",
    "app.css?x=%00",
    "x" * 10_000,
)
ODD_CODES = (
    *("1.中", ".", "-1.abc", "f" * 40 + ".abc", "zz.abcdef", "1." + "x" * 3000, "%00.%ff", "f" * 5000 + ".x"),
    *(
        "9" * 10_000 + ".x",
        "²." + "a" * 10,
        "٣.abcdefghij",
        "+1.abcdefghij",
        " 1.abcdefghij",
        "0x1.abcdefghij",
    ),
    *("1_0.abcdefghij", "-0.abcdefghij", "F" * 12 + ".abcdefghij", "%ff%fe.abcdefghij", "1.\x00"),
)
quoted = text.map(lambda t: quote(t, safe=""))


def path_values(
    name: str, kind: str, ids: dict[str, list[int]], keys: Keys, static: list[str]
) -> st.SearchStrategy[str]:
    if kind == "int":
        good = pick(*map(str, ids.get(name) or [1]))
        return weighted((6, good), (1, number.map(lambda n: quote(n, safe=""))), (1, pick(*ODD_IDS)))
    if kind == "path":
        files = pick(*static)
        return weighted((4, files), (1, pick(*ODD_STATIC)), (1, pick(*ODD_STATIC2)), (1, text.map(quote)))
    if name == "token":
        tokens = pick(*[keys.invitation(d, v) for d in ids["deputy_id"][:5] for v in (1, 2)])
        odd = pick(*(quote(v, safe="") for v in (*NASTY[:12], *HOSTILE)))
        return weighted((3, tokens), (1, odd), (1, quoted))
    if name == "code":
        window = int(time.time() // 30)
        codes = pick(keys.hall_code(1, window), keys.hall_code(1, window - 5), keys.hall_code(2, window))
        return weighted((3, codes), (1, pick(*(quote(c, safe=".%") for c in ODD_CODES))), (1, quoted))
    if name == "audience":
        return st.one_of(pick(*SOCKETS_AT_ONCE, "admin", ""), quoted)
    return st.one_of(words, quoted, number.map(lambda n: quote(n, safe="")))


def static_files(client: TestClient) -> list[str]:
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount) and getattr(route.app, "directory", None):
            folder = Path(route.app.directory)  # type: ignore[attr-defined]
            return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    return []


SLOW_S = 0.05  # a route whose plain call takes longer is drawn a quarter as often


def plain_values(e: Endpoint, ids: dict[str, list[int]], static: list[str], code: str) -> dict[str, str]:
    """Valid path parameters for the endpoint: the first real id, a file, the hall code."""
    values = {name: str((ids.get(name) or [1])[0]) if kind == "int" else "x" for name, kind in e.params}
    if "path" in values:
        values["path"] = static[0]
    if "code" in values:
        values["code"] = code
    return values


def plain_call(wire: Wire, e: Endpoint, ids: dict[str, list[int]], static: list[str], chair: Auth) -> float:
    """Seconds a plain call as the chair takes (valid ids, an empty form with the token),
    the second time: the first includes a template's compilation or a meeting's load."""
    values = plain_values(e, ids, static, "x")
    method = "GET" if "GET" in e.methods else sorted(e.methods)[0]
    body = {} if method == "GET" else {"data": {}}
    took = []
    for _ in range(2):
        started = time.perf_counter()
        send(wire, e.template, method, fill(e.template, values), chair, **body)
        took.append(time.perf_counter() - started)
    return took[-1]


# One value of each kind an attacker sends, for every field every route reads: the sweep.
KINDS_OF_HOSTILE: tuple[tuple[str | bytes, ...], ...] = (
    UNICODE_NUMBERS,
    SIGNS_AND_SPACES,
    INTEGER_EDGES,
    HUGE_NUMBERS,
    NOT_NUMBERS,
    DATES,
    CONTROLS,
    INVALID_UTF8,
)


def sweep(
    wire: Wire, routes: list[Endpoint], people: People, ids: dict[str, list[int]], static: list[str]
) -> int:
    """Every field each route reads (form, checkbox family, query), once with a value of
    each kind in KINDS_OF_HOSTILE, sent by whom the route serves (the chair, or a phone on
    the phones' routes) with valid ids, so the value reaches the parser; an action or a
    command the route knows goes with it, a different one each time. Returns the number
    of (route, field) pairs swept."""
    phone, phone_token = people.deputy(people.deputies[0])
    code = people.keys.hall_code(people.hall.meeting_id, int(time.time() // 30))
    turn = 0
    pairs = 0
    for e in routes:
        if e.handler is None:
            continue
        r = reads(e.handler)
        who = (
            {"cookie": phone, "x-csrf-token": phone_token}
            if e.template[:3] in ("/d/", "/h/")
            else people.chair
        )
        url = fill(e.template, plain_values(e, ids, static, code))
        for method in sorted(e.methods - {"HEAD"}):
            get = method == "GET"
            # A field: each kind of value. A checkbox family: each odd id in its name.
            tries = [(name, kind) for name in (r.query if get else r.fields) for kind in KINDS_OF_HOSTILE]
            tries += [(p + n, ("1",)) for p in ([] if get else r.prefixes) for n in SUFFIXES]
            pairs += len(r.query if get else r.fields) + len(r.prefixes if not get else ())
            for name, kind in tries:
                turn += 1
                fields: list[tuple[str, str | bytes]] = [(name, kind[turn % len(kind)])]
                for verb in ("action", "cmd"):
                    if verb in r.fields and verb != name and r.words:
                        fields.append((verb, r.words[turn % len(r.words)]))
                if get:
                    send(wire, e.template, method, f"{url}?{encoded(fields).decode()[:MAX_QUERY]}", who)
                else:
                    send(wire, e.template, method, url, who, content=encoded(fields), headers=URLENCODED)
    return pairs


@dataclass(frozen=True)
class Plan:
    """What to draw for one endpoint: its method, each path parameter, its forms and queries."""

    endpoint: Endpoint
    method: st.SearchStrategy[str]
    params: tuple[tuple[str, st.SearchStrategy[str]], ...]
    body: st.SearchStrategy[dict[str, Any]]
    query: st.SearchStrategy[str]


def test_fuzz_every_route(
    client: TestClient, wire: Wire, hall: Hall, db: Db, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = [e for e in endpoints(list(client.app.routes)) if not e.websocket]  # type: ignore[attr-defined]
    ids = known_ids(db)
    people = People(hall, keys, ids["deputy_id"])
    static = static_files(client)
    assert static, "the static folder has no files?"
    # Each route as the chair would call it; one that takes long (a generated document)
    # is drawn a quarter as often, or it takes a fair share of the run.
    slow: set[str] = set()
    for e in routes:
        if plain_call(wire, e, ids, static, people.chair) > SLOW_S:
            slow.add(e.template)
        people.keep_chair()
    plans = []
    for e in routes:
        r = reads(e.handler) if e.handler else Reads((), (), (), ())
        plans.append(
            Plan(
                e,
                pick(*sorted(e.methods - {"HEAD"}) * 32, *ODD_METHODS),  # an odd method one time in 5 or so
                tuple((name, path_values(name, kind, ids, keys, static)) for name, kind in e.params),
                body(route_form(r)),
                route_query(r),
            )
        )
    drawn = pick(*(p for p in plans for _ in range(1 if p.endpoint.template in slow else 4)))
    # The cases test_http.py sends by hand come first, each once; then the sweep.
    for method, path, kwargs in _malformed(hall, keys):
        send(wire, path, method, path, kwargs.pop("headers", {}), **kwargs)
    swept = sweep(wire, routes, people, ids, static)

    def one(plan: Plan, data: st.DataObject) -> None:
        method = data.draw(plan.method, "method")
        url = fill(plan.endpoint.template, {name: data.draw(s, name) for name, s in plan.params})
        q = data.draw(plan.query, "query")
        caller = data.draw(people.who, "who")
        kwargs = data.draw(plan.body, "body") if method not in ("GET", "HEAD") else {}
        if caller.form_token is not None and "data" in kwargs:
            kwargs["data"] = {**kwargs["data"], "csrf": caller.form_token}
        send(wire, plan.endpoint.template, method, f"{url}?{q}" if q else url, caller.headers, **kwargs)
        if plan.endpoint.template == "/logout":
            people.keep_chair()

    @FUZZ
    @given(st.data())
    def example(data: st.DataObject) -> None:
        one(data.draw(drawn, "route"), data)

    def top_up(plan: Plan, missing: int) -> None:
        @settings(FUZZ, max_examples=missing)
        @given(st.data())
        def more(data: st.DataObject) -> None:
            one(plan, data)

        more()

    example()
    tally = wire.tally
    # The coverage guarantee is scheduled, not hoped for: the draws above are weighted by
    # a timing (a slow route a quarter as often), so a route they reached fewer than
    # MIN_HITS times gets the rest now, drawn from its own plan. Whatever the machine's
    # speed, every route, slow or not, ends with at least MIN_HITS requests.
    drawn_requests = tally.requests
    short = {p.endpoint.template: tally.hits[p.endpoint.template] for p in plans}
    short = {t: n for t, n in short.items() if n < MIN_HITS}
    for plan in plans:
        for _ in range(3):  # one round suffices; more only if Hypothesis stopped early
            missing = MIN_HITS - tally.hits[plan.endpoint.template]
            if missing <= 0:
                break
            top_up(plan, missing)
    say(
        capsys,
        f"test_fuzz_every_route: {tally.requests} HTTP requests to {len(routes)} routes "
        f"({swept} fields swept with {len(KINDS_OF_HOSTILE)} kinds of hostile value each), "
        f"no 5xx ({tally.histogram()}); {tally.requests - drawn_requests} scheduled to bring every route "
        f"to {MIN_HITS} (short after the draws: {short})",
    )
    assert tally.requests >= MIN_HTTP, tally.requests
    hardly = {e.template: tally.hits[e.template] for e in routes if tally.hits[e.template] < MIN_HITS}
    assert not hardly, f"routes the fuzz hardly reached: {hardly}"
    assert_consistent(hall, db)


# -- the chair's commands and the phones, deep -----------------------------------------

CURRENT = "<current>"  # stands for the open rating's question or the open vote, filled in late
CHOICES = ("<choice:0>", "<choice:1>", "<choice:2>")  # the nth choice of whichever ballot it is
BALLOT_CHOICES = {
    "rate": [c.value for c in live_state.Choice],
    "vote": [c.value for c in live_state.VoteChoice],
}
ENUM_FIELDS = {
    name: tuple(e.value for e in getattr(live_state, kind))
    for name, kind in re.findall(r'_enum\(f, "(\w+)", (\w+)\)', PARSE_SOURCE)
}
OPTIONAL = set(re.findall(r'_int\(f, "(\w+)", required=False\)', PARSE_SOURCE))
OPTIONAL |= set(re.findall(r'_text\(f, "(\w+)"\)', PARSE_SOURCE))  # a text left out is ""
# What the console's forms send besides the parser's fields (routes_staff.act reads them).
CONSOLE_EXTRAS = {"followup_ask": "speaker_card", "floor_add": "deputy_card", "record_vote": "revote_current"}
ABSENT = "<absent>"  # a field left out of the form


def fields_read_by(factory: Any) -> tuple[list[str], list[str]]:
    """(required, optional): the form fields a command's parser reads, from its source."""
    found = re.findall(r'\(f, "(\w+)"|f\.get\("(\w+)"|"(\w+)" in f', inspect.getsource(factory))
    required = {a for a, _, _ in found if a}
    optional = {b or c for _, b, c in found if b or c} | (required & OPTIONAL)
    return sorted(required - optional), sorted(optional)


COMMAND_FIELDS = {cmd: fields_read_by(factory) for cmd, factory in ACTIONS.items()}
# Closing the meeting refuses every later command (live/hall.py, tests/live/test_hall.py):
# the deep fuzz never closes the meeting it is driving forward.
ENDS_THE_MEETING = frozenset({"close_meeting"})


def good_values(ids: dict[str, list[int]], cards: list[str]) -> dict[str, st.SearchStrategy[str]]:
    """A sensible value per field of the chair's and the phones' forms."""
    deputies = pick(*map(str, ids["deputy_id"][:20]))
    small = pick(*map(str, range(13)))
    current = weighted((3, pick(CURRENT)), (1, small))
    card = pick(*cards[:20])
    good: dict[str, st.SearchStrategy[str]] = {
        "deputy_id": deputies,
        "speaker_id": deputies,
        "question_id": pick(*map(str, ids["question_id"])),
        "item_id": pick(*map(str, ids["item_id"])),
        "vote_id": current,
        "revote_of": current,
        "seconds": pick("30", "-30", "60", "-5", "3600", "-3600", "3601", "0", "1"),
        "place": pick("0", "1", "2", "3", "9"),
        "secret": pick("0", "1"),
        "live": pick("0", "1"),
        "revote_current": pick("1", "1", "0"),
        "speaker_card": card,
        "deputy_card": card,
        "text": pick("请各位代表就座", "", "王" * 60, "王" * 61),
        "subject": pick("关于教育", "", "题" * 40, "题" * 41),
        "title": pick("关于预算调整的决议", "表决事项", "关于人事任免", "", "事" * 201),
        "ballot_key": st.integers(0, 2**64).map(lambda n: f"{n:x}"),
        "action": pick("withdraw", "submit", "revise", "", "up"),
        "official": pick(*map(str, ids["official_id"][:5])),
        "co": pick("2,3", "", "4"),
        "sub": pick("1", "2", "3"),
        "card_no": card,
    }
    good.update({name: pick(*choices) for name, choices in ENUM_FIELDS.items()})
    good.update({name: small for name in ("for", "against", "abstain")})
    # A rating counted on paper (issue 16): counts, the tellers, the electronic ballots.
    good.update({name: small for name in ("satisfied", "basic", "dissatisfied")})
    good.update(
        scrutineers=pick("王五", "", "王" * 61),
        counters=pick("赵六", " "),
        keep_electronic=pick("keep", "discard", ""),
        without_quorum=pick("0", "1"),
    )
    return good


def mostly(good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return weighted((6, good), (1, value))


def present(fields: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in fields.items() if v != ABSENT}


def command_forms(good: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    """The command form of every real command, its fields mostly right; or anything at all."""
    real = []
    for cmd, (required, optional) in sorted(COMMAND_FIELDS.items()):
        extra = [CONSOLE_EXTRAS[cmd]] if cmd in CONSOLE_EXTRAS else []
        fields = {name: mostly(good.get(name, words)) for name in required}
        fields |= {name: weighted((3, mostly(good.get(name, words))), (1, pick(ABSENT))) for name in optional}
        fields |= {name: weighted((1, good[name]), (3, pick(ABSENT))) for name in extra}
        real.append(st.fixed_dictionaries({"cmd": st.just(cmd), **fields}).map(present))
    anything = st.builds(lambda cmd, rest: {**rest, "cmd": cmd}, st.one_of(words, value), form)
    return weighted((12, st.one_of(*real)), (1, anything))


def phone_forms(good: dict[str, st.SearchStrategy[str]]) -> dict[str, st.SearchStrategy[dict[str, str]]]:
    # One form for both ballots: whether it goes to /rate or /vote is decided when it is
    # sent, by what is open then, and a draw must not depend on the meeting's state.
    good = {**good, "choice": pick(*CHOICES)}

    def fields(required: tuple[str, ...], optional: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
        return st.fixed_dictionaries(
            {name: mostly(good[name]) for name in required},
            optional={name: mostly(good[name]) for name in optional},
        )

    return {
        "ballot": fields(("question_id", "vote_id", "ballot_key", "choice"), ()),
        "floor": fields((), ("action", "kind", "subject")),
        "questions": fields((), ("action", "title", "text", "official", "co", "sub")),
        "hall": fields((), ("card_no",)),
    }


KINDS = pick(*["act"] * 6, *["phone"] * 3, "page")
PHONE_ROUTES = pick("rate", "rate", "rate", "vote", "vote", "vote", "floor", "questions", "hall")
PAGES = ("console", "projector", "podium", "live", "deputy", "roster", "cards", "review", "questions", "edit")


def test_fuzz_the_chair_and_the_phones(
    wire: Wire, hall: Hall, db: Db, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = known_ids(db)
    cards = [card for _, card, _ in db.deputies()]
    deputies = ids["deputy_id"][:20]
    people = People(hall, keys, deputies)
    mid = hall.meeting_id
    services = people.services
    # A session under way: most of the first deputies present, the first question rated.
    hall.act_ok("open_checkin")
    # 15 of the 20 phones, and every deputy without a phone (43 of 48): the quorum (32)
    # holds unless the fuzz clears or sends out most of the 15, and votes open only with
    # it (issue 16): the fuzz must reach them.
    for d in deputies[:15] + ids["deputy_id"][20:]:
        hall.act_ok("check_in", deputy_id=d)
    for cmd, fields in (
        ("call_question", {"question_id": 1}),
        ("to_answering", {}),
        ("open_rating", {"without_quorum": "1"}),
    ):
        hall.act_ok(cmd, **fields)

    def state() -> MeetingState:
        return services.meetings.rooms[mid].runtime.state

    good = good_values(ids, cards)
    commands = command_forms(good)
    phone = phone_forms(good)
    phones = pick(*deputies)
    meetings = pick(*[str(mid)] * 20, "999", "0", "1000000000")
    chair = hall.chair_headers()
    pages = pick(*PAGES)

    def current(fields: dict[str, str]) -> dict[str, str]:
        s = state()
        rating, vote = s.current_rating(), s.current_vote()
        now = {"question_id": rating.question_id if rating else 1, "vote_id": s.vote_id or 1}
        now["revote_of"] = vote.vote_id if vote else 1
        return {k: str(now.get(k, v)) if v == CURRENT else v for k, v in fields.items()}

    @settings(FUZZ, max_examples=EXAMPLES_DEEP)
    @given(st.data())
    def example(data: st.DataObject) -> None:
        kind = data.draw(KINDS, "kind")
        if kind == "act":
            fields = data.draw(commands, "form")
            headers = dict(chair)
            if data.draw(st.integers(0, 9), "token in form") == 0:
                fields["csrf"] = headers.pop("x-csrf-token")
            where = data.draw(meetings, "meeting")
            if fields.get("cmd") in ENDS_THE_MEETING:
                fields["cmd"] = "timer_pause"  # closed, the meeting would refuse all the rest
            send(wire, "/m/{meeting_id:int}/act", "POST", f"/m/{where}/act", headers, data=current(fields))
            return
        if kind == "phone":
            cookie, token = people.deputy(data.draw(phones, "deputy"))
            route = data.draw(PHONE_ROUTES, "route")
            fields = current(data.draw(phone["ballot" if route in ("rate", "vote") else route], "fields"))
            if route in ("rate", "vote"):  # a ballot goes to what is open, most of the time
                s = state()
                route = "rate" if s.rating_open() else "vote" if s.vote_open() else route
                if fields.get("choice") in CHOICES:
                    fields["choice"] = BALLOT_CHOICES[route][CHOICES.index(fields["choice"])]
            headers = {"cookie": cookie, "x-csrf-token": token}
            if route == "questions":
                url, template = f"/d/{mid}/questions", "/d/{meeting_id:int}/questions"
            elif route == "hall":
                url = f"/h/{mid}/{keys.hall_code(mid, int(time.time() // 30))}"
                template = "/h/{meeting_id:int}/{code}"
            else:
                url, template = f"/d/{mid}/{route}", f"/d/{{meeting_id:int}}/{route}"
            send(wire, template, "POST", url, headers, data=fields)
            return
        page = data.draw(pages, "page")
        phone_cookie = people.deputy(data.draw(phones, "deputy"))[0]
        url, headers = {
            "console": (f"/m/{mid}/console", chair),
            "projector": (f"/m/{mid}/projector", people.projector),
            "podium": (f"/m/{mid}/podium", people.podium),
            "live": (f"/m/{mid}/live", {}),
            "deputy": (f"/d/{mid}", {"cookie": phone_cookie}),
            "roster": (f"/m/{mid}/roster?q={quote(data.draw(value, 'q')[:100])}", chair),
            "cards": (f"/m/{mid}/cards", chair),
            "review": (f"/m/{mid}/review", chair),
            "questions": (f"/d/{mid}/questions", {"cookie": phone_cookie}),
            "edit": (f"/meetings/{mid}/edit", chair),
        }[page]
        response = send(wire, page, "GET", url, headers)
        assert response.status_code in (200, 303), (page, response.status_code, response.text[:300])

    example()
    fresh = assert_consistent(hall, db)
    rated = sum(len(r.voters) for r in fresh.ratings.values())
    voted = sum(len(v.voters) for v in fresh.votes.values())
    reached = (
        f"{fresh.seq} events, {len(fresh.ratings)} ratings ({rated} ballots), "
        f"{len(fresh.votes)} votes ({voted} phone ballots)"
    )
    tally = wire.tally
    say(
        capsys,
        f"test_fuzz_the_chair_and_the_phones: {tally.requests} HTTP requests, no 5xx "
        f"({tally.histogram()}); the meeting: {reached}",
    )
    assert tally.requests >= MIN_DEEP, tally.requests
    # The fuzz got somewhere: the meeting moved on, and ratings and votes took ballots.
    assert fresh.seq > 300 and rated and voted, reached


# -- socket messages -------------------------------------------------------------------


def _strict(raw: str) -> Any:
    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(raw, parse_constant=no_constant)


def recv(ws: WebSocketTestSession, timeout: float = 5) -> Message:
    """The next message from the server, or a failure after ``timeout`` seconds.

    The test session's own receive waits forever, which would hang the run on a socket
    whose handler died; this reads the same stream, with a deadline.
    """

    async def get() -> Message:
        with anyio.fail_after(timeout):
            message: Message = await ws._send_rx.receive()
            return message

    try:
        return ws.portal.call(get)
    except TimeoutError:
        raise AssertionError(f"no answer from the socket in {timeout} s") from None


def reply_to(ws: WebSocketTestSession, sent: str | bytes, seq: int | None) -> dict[str, Any]:
    """Read to the JSON answer of the frame just sent; HTML fragments may come first."""
    for _ in range(50):
        message = recv(ws)
        assert message["type"] == "websocket.send", f"socket closed on {short(sent)!r}: {message}"
        got = message.get("text")
        assert isinstance(got, str), message
        if got.startswith("<"):
            continue  # a snapshot or a broadcast: a normal message
        reply = _strict(got)
        assert isinstance(reply, dict) and reply.get("type") in ("error", "time", "hello"), got
        if reply["type"] == "error":
            assert HAN.search(reply["message"]), reply
        elif reply["type"] == "time":
            assert isinstance(reply["ts"], int) and not isinstance(reply["ts"], bool), reply
            assert reply["t0"] is None or isinstance(reply["t0"], int | float), reply
        elif seq is not None:
            assert reply["seq"] == seq, (reply, seq)
        return reply
    raise AssertionError("no JSON answer among 50 messages")


SEQ = "<seq>"  # the room's seq when the frame is sent
probe = st.fixed_dictionaries(
    {"type": pick("hello", "time", "time", "hello", "error", "", "HELLO")},
    optional={
        "seq": st.one_of(json_value, pick(SEQ, SEQ, 0, -1, 10**30, True, 1.5, 2**31, 2**63, -(2**63) - 1)),
        "t0": st.one_of(json_value, st.floats(), pick(0, -1, 1.5, 10**400, 2**53 + 1, "NaN")),
    },
)
FRAMES_FIXED = (
    *MALFORMED,
    *("NaN", "Infinity", '{"type":"time","t0":NaN}', '{"type":"time","t0":-Infinity}'),
    *('{"type":"time","t0":1e999}', '{"type":"hello","seq":1e999}', "[" * 200 + "]" * 200),
    *('{"type":"hello","seq":1e2}', '{"type":"time","t0":1E400}', '{"type":"time","t0":-0.0}'),
    *('{"type":"hello","seq":' + "9" * 4301 + "}", '{"type":"hello","seq":-0}', '{"type":"hello","seq":"²"}'),
)
frames = weighted(
    (8, probe),
    (2, json_value.map(lambda v: json.dumps(v, ensure_ascii=False))),
    (1, st.text(max_size=30)),
    (2, pick(*FRAMES_FIXED)),
    (1, st.builds(lambda c, n: c * n, pick("x", "中", "{", " "), pick(511, 512, 513, 70_000))),
    (1, st.binary(max_size=100)),
)


def frame_text(frame: Any, seq: int) -> str | bytes:
    if isinstance(frame, str | bytes):
        return frame
    with_seq = {k: seq if v == SEQ else v for k, v in frame.items()}
    return json.dumps(with_seq, ensure_ascii=False)  # may hold NaN or Infinity: that is the point


@contextlib.contextmanager
def sockets(client: TestClient, hall: Hall) -> Iterator[dict[str, WebSocketTestSession]]:
    with contextlib.ExitStack() as stack:
        out = {}
        for audience in SOCKETS_AT_ONCE:
            cookie = hall.cookie_for(audience, 1)
            headers = {"cookie": cookie} if cookie else {}
            ws = client.websocket_connect(f"/ws/1/{audience}", headers=headers)
            out[audience] = stack.enter_context(ws)
        yield out


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_fuzz_socket_messages(
    client: TestClient,
    wire: Wire,
    hall: Hall,
    db: Db,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.ERROR)
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    hall.act_ok("open_checkin")  # the projector's hall QR rotates meanwhile
    chair = hall.chair_headers()
    happenings = pick("timer_adjust", "banner", "show", "check_in")
    audiences = pick(*SOCKETS_AT_ONCE)

    def seq() -> int:
        return services.meetings.rooms[hall.meeting_id].runtime.state.seq

    with sockets(client, hall) as open_:
        for ws in open_.values():
            ws.send_text(json.dumps({"type": "hello", "seq": 0}))
            assert reply_to(ws, "hello", seq())["type"] == "hello"

        @settings(FUZZ, max_examples=EXAMPLES_WS)
        @given(st.data())
        def example(data: st.DataObject) -> None:
            if data.draw(st.integers(0, 19), "now and then, something happens") == 0:
                fields = {"seconds": "30", "text": data.draw(text)[:60], "focus": "checkin", "deputy_id": "2"}
                fields["cmd"] = data.draw(happenings)
                send(wire, "/m/{meeting_id:int}/act", "POST", f"/m/{hall.meeting_id}/act", chair, data=fields)
            ws = open_[data.draw(audiences, "socket")]
            frame = frame_text(data.draw(frames, "frame"), seq())
            if isinstance(frame, bytes):
                ws.send_bytes(frame)
            else:
                ws.send_text(frame)
            wire.tally.frames += 1
            reply_to(ws, frame, seq())

        example()
        # Every socket still answers a fresh hello, with the room's seq.
        for ws in open_.values():
            ws.send_text(json.dumps({"type": "hello", "seq": seq()}))
            assert reply_to(ws, "hello", seq())["type"] == "hello"
    room = services.meetings.rooms[hall.meeting_id]
    deadline = time.monotonic() + 5
    while room.count() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert room.count() == 0, "closed sockets left in the room"
    assert not errors_logged(caplog)
    assert_consistent(hall, db)
    sent = wire.tally.frames
    say(capsys, f"test_fuzz_socket_messages: {sent} socket frames, no internal-error close")
    assert sent >= MIN_FRAMES, sent


def test_fuzz_socket_connects(
    client: TestClient,
    hall: Hall,
    keys: Keys,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Who may open a socket: accepted, or closed 1008; never 1011, never a crash."""
    caplog.set_level(logging.ERROR)
    ids = {"meeting_id": [1], "deputy_id": list(range(1, 13))}
    people = People(hall, keys, ids["deputy_id"])
    tally = Tally()
    meeting = path_values("meeting_id", "int", ids, keys, [])
    audience = weighted((3, pick(*SOCKETS_AT_ONCE)), (1, path_values("audience", "str", ids, keys, [])))

    @settings(FUZZ, max_examples=EXAMPLES_CONNECT)
    @given(st.data())
    def example(data: st.DataObject) -> None:
        path = f"/ws/{data.draw(meeting, 'meeting')}/{data.draw(audience, 'audience')}"
        caller = data.draw(people.who, "who")
        tally.connects += 1
        try:
            with client.websocket_connect(path, headers=caller.headers) as ws:
                ws.send_text('{"type":"time","t0":1}')
                assert reply_to(ws, "time", None)["type"] == "time"
        except WebSocketDisconnect as closed:
            assert closed.code in (1000, 1008), (path, caller.label, closed.code)  # 1000: no such route

    example()
    assert not errors_logged(caplog)
    say(capsys, f"test_fuzz_socket_connects: {tally.connects} socket handshakes, none closed 1011")
    assert tally.connects >= MIN_CONNECTS, tally.connects
