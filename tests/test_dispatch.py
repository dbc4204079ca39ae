"""The first-segment index picks the route the full scan of the table would pick."""

from __future__ import annotations

import re

from starlette.routing import BaseRoute, Match, Route, Router, WebSocketRoute
from starlette.types import Scope

from server.web.dispatch import SegmentIndex, first_segment, literal_head
from server.web.route_table import routes

FILL = {"int": "7", "str": "abc", "path": "a/b.txt"}


def sample_paths(route: BaseRoute) -> list[str]:
    """Paths that reach ``route``, and near misses of them (a slash more or less)."""
    if not isinstance(route, Route | WebSocketRoute):
        return ["/static/app.css", "/static/"]
    path = re.sub(r"\{\w+(?::(\w+))?\}", lambda m: FILL.get(m.group(1) or "str", "abc"), route.path)
    return [path, path.rstrip("/") + "/", path + "x", path + "/extra"]


def full_scan(table: list[BaseRoute], scope: Scope) -> tuple[BaseRoute | None, Match]:
    partial = None
    for route in table:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route, Match.FULL
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial, Match.PARTIAL if partial else Match.NONE


def test_first_segment() -> None:
    assert first_segment("/d/1/rate") == "d"
    assert first_segment("/") == ""
    assert first_segment("") is None


def test_a_parameter_first_is_no_literal() -> None:
    assert literal_head(Route("/{x}/y", lambda r: None)) is None
    assert literal_head(Route("/d/{m:int}", lambda r: None)) == "d"


def test_every_path_of_the_table_finds_the_same_route() -> None:
    table = routes()
    index = SegmentIndex(Router(routes=table))
    paths = {p for route in table for p in sample_paths(route)} | {"/", "/nope", "/d", "//d/1"}
    checked = 0
    for path in sorted(paths):
        for kind, methods in (("http", ("GET", "POST", "HEAD", "DELETE")), ("websocket", ("GET",))):
            for method in methods:
                scope: Scope = {"type": kind, "path": path, "root_path": "", "method": method}
                expected = full_scan(table, scope)
                found = full_scan(index.candidates(scope), scope)
                assert found == expected, (kind, method, path)
                checked += expected[1] is not Match.NONE
    assert checked > len(table)  # the samples do reach the routes


def test_the_index_leaves_no_route_out_of_its_own_segment() -> None:
    table = routes()
    index = SegmentIndex(Router(routes=table))
    for route in table:
        head = literal_head(route)
        lists = [index.anywhere] if head is None else [index.by_head[head]]
        assert all(route in found for found in lists)
