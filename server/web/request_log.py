"""One log line per HTTP request and per live socket, with nothing secret in it.

Why not uvicorn's access log: it prints the full path and query, and here paths and
queries carry secrets — the invitation token in ``/i/{meeting}/{token}``, the hall code in
``/h/{meeting}/{code}``, the screen pairing cookie in ``?screen=``. ``wenzheng serve``
turns uvicorn's access log off and this middleware logs instead, to the logger
``wenzheng.access`` (server/cli/serve.py sends it to standard output):

    http id=5f0c2a9e41d7b3c8 client=10.0.0.7 method=POST path=/h/3/… status=303 ms=4.1
    ws-open id=… client=10.0.0.7 path=/ws/3/deputy
    ws-close id=… client=10.0.0.7 path=/ws/3/deputy code=1000 ms=61234.0

``status=0``: no answer was sent (the client went away first). A socket's ``code`` is the
close code either side sent, ``http-403`` when it was refused before it opened, ``-`` when
neither is known.

What is kept: the route's shape. What is dropped: every path segment after
``/i/<meeting>/``, ``/h/<meeting>/`` and ``/o/`` (an organ's link), and every query
value (``?screen=…``); the method, status, duration and the client's address (after
the trusted-proxy rewrite of server/web/proxy.py, which runs before this). Bodies,
cookies and headers are never read.

The request id is generated here for every request, never taken from the request: an id
a client may choose is one more field it controls in our logs, and the proxy can log ours
from the answer's ``X-Request-Id`` (nginx: ``$upstream_http_x_request_id``) to join its
own line to this one.

Cheap on the hot path: the line is a ``%``-format with its arguments, formatted by the
handler only when written; the redaction is a few string operations; no awaits are added.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import time
from collections.abc import Awaitable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access = logging.getLogger("wenzheng.access")

HTTP_LINE = "http id=%s client=%s method=%s path=%s status=%d ms=%.1f"
WS_OPEN = "ws-open id=%s client=%s path=%s"
WS_CLOSE = "ws-close id=%s client=%s path=%s code=%s ms=%.1f"
# The JSON form names each argument of a line.
FIELDS: dict[str, tuple[str, ...]] = {
    HTTP_LINE: ("id", "client", "method", "path", "status", "ms"),
    WS_OPEN: ("id", "client", "path"),
    WS_CLOSE: ("id", "client", "path", "code", "ms"),
}
EVENTS = {HTTP_LINE: "http", WS_OPEN: "ws-open", WS_CLOSE: "ws-close"}

# Routes whose segments after the meeting id are secrets (server/web/route_table.py).
SECRET_AFTER_MEETING = frozenset({"i", "h"})
SECRET_FIRST = frozenset({"o"})  # /o/<token>, a responsible organ's link (server/web/routes/organs.py)
HIDDEN = "…"
MAX_PATH = 200
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_PRINTABLE = frozenset(range(0x21, 0x7F))


def _printable(raw: bytes) -> str:
    """The raw (still percent-encoded) path as one token: no space or control character
    can split a line or forge a second one."""
    if all(b in _PRINTABLE for b in raw):
        return raw.decode("ascii")
    return "".join(chr(b) if b in _PRINTABLE else f"%{b:02X}" for b in raw)


def redact_path(scope: Scope) -> str:
    """The request's path and query as they may be logged: ``/i/3/…``, ``/m/3/projector?screen=…``."""
    raw = scope.get("raw_path") or scope.get("path", "").encode()
    path = _printable(raw[:MAX_PATH])
    # The route is judged on the decoded path, as the router matches it: ``/%69/3/<token>``
    # reaches the invitation route too, and must not log its token. And on the path as
    # nginx normalizes it for its own log (it passes the raw one on): ``//o/<token>`` or
    # ``/./o/<token>`` open nothing here (404), but the token in them is a valid link.
    decoded = str(scope.get("path", ""))
    route = posixpath.normpath("/" + decoded.lstrip("/")) + ("/" if decoded.endswith("/") else "")
    parts = route.replace("//", "/").split("/", 4)
    # ["", "i", "3", "<token>", ...]: keep the route letter and the meeting id only.
    if len(parts) > 3 and parts[1] in SECRET_AFTER_MEETING:
        path = f"/{parts[1]}/{_printable(parts[2].encode()[:20])}/{HIDDEN}"
    elif len(parts) > 2 and parts[1] in SECRET_FIRST:  # an organ's link: the token is the credential
        path = f"/{parts[1]}/{HIDDEN}"
    query: bytes = scope.get("query_string", b"")
    if query:
        names = []
        for item in query.decode("latin-1")[:MAX_PATH].split("&"):
            name = item.split("=", 1)[0]
            # A name that is not a plain word could itself be a secret (``?<token>``).
            names.append(f"{name}={HIDDEN}" if name and set(name) <= _NAME_CHARS else HIDDEN)
        path += "?" + "&".join(names)
    return path


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"


def new_id() -> str:
    return os.urandom(8).hex()


class RequestLog:
    """ASGI middleware: logs each request once it is answered, each socket at open and close.

    Sits inside ForwardedHeaders (the real client) and CaptureRawSend (which must see the
    server's own ``send`` of a socket, server/room/fastsend.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    # A plain function returning the next app's coroutine: no frame of its own held for
    # the hours a phone's socket lives (server/web/lean_protocols.py, issue 20).
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        kind = scope["type"]
        if kind == "http":
            return self._http(scope, receive, send)
        if kind == "websocket":
            return self._socket(scope, receive, send)
        return self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_id()
        header = (b"x-request-id", request_id.encode())
        started = time.perf_counter()
        status = 0  # stays 0 when no answer was sent (the client went away first)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if status == 0:
                status = 500  # Starlette's outermost middleware answers it, outside us
            raise
        finally:
            if access.isEnabledFor(logging.INFO):
                ms = (time.perf_counter() - started) * 1000
                client, path = _client(scope), redact_path(scope)
                access.info(HTTP_LINE, request_id, client, scope["method"], path, status, ms)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_id()
        started = time.perf_counter()
        code: int | str = "-"

        async def send_logged(message: Message) -> None:
            nonlocal code
            kind = message["type"]
            if kind == "websocket.accept":
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                if access.isEnabledFor(logging.INFO):
                    access.info(WS_OPEN, request_id, _client(scope), redact_path(scope))
            elif kind == "websocket.close" and code == "-":
                code = int(message.get("code", 1000))
            elif kind == "websocket.http.response.start" and code == "-":
                code = f"http-{message['status']}"  # refused before the upgrade
            await send(message)

        async def receive_logged() -> Message:
            nonlocal code
            message = await receive()
            if message["type"] == "websocket.disconnect" and code == "-":
                code = int(message.get("code", 1005))
            return message

        try:
            await self.app(scope, receive_logged, send_logged)
        finally:
            if access.isEnabledFor(logging.INFO):
                ms = (time.perf_counter() - started) * 1000
                access.info(WS_CLOSE, request_id, _client(scope), redact_path(scope), code, ms)


class DropSocketLines(logging.Filter):
    """Drops uvicorn's own socket lines (``"WebSocket /path?query" [accepted]``): they
    print the raw query, and RequestLog says the same without it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and '"WebSocket %s"' in record.msg)


def _lean_records() -> None:
    """No process id, thread or caller lookup per record: no line shows them, and on the
    hot path they were a third of a line's cost. Called when a formatter is built, which
    uvicorn does in every worker process (the flags are per process)."""
    logging.logProcesses = False
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # the documented switch for the caller lookup


_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def _utc(record: logging.LogRecord) -> str:
    """ISO 8601 in UTC with milliseconds; the seconds part is formatted once per second
    (one tuple read and replaced whole: threads that log at once never mix two seconds)."""
    global _second
    whole = int(record.created)
    cached = _second
    if cached[0] != whole:
        cached = _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{cached[1]}.{int((record.created - whole) * 1000):03d}Z"


class TextFormatter(logging.Formatter):
    """``2026-12-07T09:40:01.123Z INFO wenzheng.access http id=… …``: one line per record."""

    def __init__(self) -> None:
        super().__init__()
        _lean_records()

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc(record)} {record.levelname} {record.name} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``WENZHENG_LOG_FORMAT=json``); an access line's fields
    are keys of their own, so a log store needs no parsing of ``message``."""

    def __init__(self) -> None:
        super().__init__()
        _lean_records()

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"time": _utc(record), "level": record.levelname, "logger": record.name}
        names = FIELDS.get(record.msg) if isinstance(record.msg, str) else None
        if names is not None and isinstance(record.args, tuple) and len(record.args) == len(names):
            out["event"] = EVENTS[record.msg]
            out.update(zip(names, record.args, strict=True))
            if isinstance(out.get("ms"), float):
                out["ms"] = round(out["ms"], 1)
        else:
            out["message"] = record.getMessage()
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


LOG_FORMATS = ("text", "json")


def log_config(log_format: str, level: str) -> dict[str, Any]:
    """The ``logging.config`` dictionary ``wenzheng serve`` gives uvicorn (each worker
    applies it): the access lines on standard output, everything else (uvicorn's,
    the app's, asyncio's stall reports) on standard error as before, both in the chosen
    form; uvicorn's own socket lines dropped. Under systemd both go to the journal."""
    formatter = "json" if log_format == "json" else "text"
    level = level.upper()
    # As uvicorn's access log did: on at info and below, off with ``--log-level warning``.
    access_level = "INFO" if level in ("TRACE", "DEBUG", "INFO") else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"()": f"{__name__}.TextFormatter"},
            "json": {"()": f"{__name__}.JsonFormatter"},
        },
        "filters": {"no_socket_paths": {"()": f"{__name__}.DropSocketLines"}},
        "handlers": {
            "access": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "stream": "ext://sys.stdout",
            },
            "default": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["no_socket_paths"],
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "wenzheng.access": {"handlers": ["access"], "level": access_level, "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "server": {"handlers": ["default"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
