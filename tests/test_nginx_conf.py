"""The shipped nginx config agrees with the code it stands in front of.

The real-nginx test (tests/browser/test_nginx_tls.py) proves the config works; this one
catches drift that test cannot see in its few seconds: the socket timeouts against the
pages' heartbeat, the body limits against server/web/limits.py, the socket and upload
paths against the route table, and the forwarded address that must not be appendable.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import Route, WebSocketRoute

from server.web import limits
from server.web.route_table import routes

ROOT = Path(__file__).resolve().parent.parent
CONF = (ROOT / "deploy" / "nginx" / "wenzheng.conf").read_text()
LIVE_JS = (ROOT / "server" / "web" / "static" / "live.js").read_text()
UNITS = {"k": 1024, "m": 1024 * 1024}


def directives(text: str) -> str:
    """The config without its comments."""
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def location(prefix: str) -> str:
    """The body of the location block that starts with ``location <prefix>``."""
    found = re.search(rf"location {re.escape(prefix)}\s*\{{(.*?)\n    \}}", directives(CONF), re.S)
    assert found, f"no location {prefix} in the shipped config"
    return found.group(1)


def size(text: str) -> int:
    found = re.search(r"client_max_body_size (\d+)([km]);", text)
    assert found, text
    return int(found.group(1)) * UNITS[found.group(2)]


def test_socket_timeouts_outlast_the_heartbeat() -> None:
    beat = re.search(r"var HEARTBEAT_MS = (\d+);", LIVE_JS)
    assert beat
    longest_quiet_s = int(beat.group(1)) * 1.2 / 1000  # the pages jitter it by up to 20 %
    block = location("/ws/")
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        found = re.search(rf"{name} (\d+)s;", block)
        assert found, f"{name} is not set for the live sockets"
        assert int(found.group(1)) >= 3 * longest_quiet_s, (name, found.group(1), longest_quiet_s)


def test_the_socket_location_is_the_route_tables() -> None:
    paths = [r.path for r in routes() if isinstance(r, WebSocketRoute)]
    assert paths and all(p.startswith("/ws/") for p in paths), paths


ATTACH_PATHS = ("/o/abc.DEF_-/items/3", "/followup/12/post", "/followup/12", "/o/abc", "/o/a/files/3")


def test_body_limits_match_the_servers() -> None:
    server_block = directives(CONF).split("location ", 1)[0]
    assert size(server_block) == limits.BODY_MAX_BYTES
    found = re.findall(r"location ~ (\^\S+\$) \{", directives(CONF))
    assert len(found) == 2, "a location for the imports and one for a post's attachments"
    upload, attach = found
    for path in ("/bodies/3/roster/preview", "/bodies/12/officials/preview", "/bodies/3/roster/confirm"):
        assert bool(re.search(upload, path)) == bool(limits.UPLOAD_PATH.search(path)), path
        assert not re.search(attach, path), path
    assert size(location(f"~ {upload}")) == limits.UPLOAD_MAX_BYTES
    for path in ATTACH_PATHS:
        assert bool(re.search(attach, path)) == bool(limits.ATTACH_PATH.search(path)), path
    assert size(location(f"~ {attach}")) == limits.ATTACH_MAX_BYTES


def test_the_attachment_paths_are_the_route_tables() -> None:
    """The big-body location names the two routes that take a post's attachments."""
    posts = {r.path for r in routes() if isinstance(r, Route) and "POST" in (r.methods or set())}
    assert {"/o/{token}/items/{item_id:int}", "/followup/{item_id:int}/post"} <= posts


def test_the_forwarded_address_is_the_connections_own() -> None:
    text = directives(CONF)
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    assert "proxy_add_x_forwarded_for" not in text  # appends to what the phone sent
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
