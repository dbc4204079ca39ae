"""Route lookup by the path's first segment, in front of Starlette's router.

Starlette's router tries every route in order until one matches: a rating POST
(``/d/{m}/rate``) and a hall check-in (``/h/{m}/{code}``) sit past the hundredth route of
the table, and the scan cost about 60 µs of the event loop per request, a tenth of what
the whole rating should cost.

Theory of operation: a route whose path starts with a literal segment (``/d/…``) can only
match a path with that first segment. For each literal first segment we keep, in the
table's order, the routes that start with it plus every route that does not start with a
literal (a parameter, a mount, anything we do not recognise). Routes left out of a list
cannot match its paths, so the first full match, and the first partial one (405), in the
short list are the ones the full scan would find. When the short list has neither, the
router's own full scan answers (redirects, 404), so nothing about those answers changes.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send


def first_segment(path: str) -> str | None:
    """``"d"`` for ``/d/1/rate``; None for a path that does not start with a slash."""
    if not path.startswith("/"):
        return None
    return path[1:].split("/", 1)[0]


def literal_head(route: BaseRoute) -> str | None:
    """The route's literal first segment, or None when it may match any first segment."""
    if not isinstance(route, Route | WebSocketRoute):
        return None  # mounts, hosts: matched by prefix, so they stay in every list
    head = first_segment(route.path)
    return None if head is None or "{" in head else head


class SegmentIndex:
    """The router's dispatch with the candidate routes of each first segment."""

    def __init__(self, router: Router) -> None:
        self.router = router
        heads = [literal_head(route) for route in router.routes]
        self.anywhere = [route for route, head in zip(router.routes, heads, strict=True) if head is None]
        self.by_head = {
            head: [route for route, h in zip(router.routes, heads, strict=True) if h in (head, None)]
            for head in {h for h in heads if h is not None}
        }

    def candidates(self, scope: Scope) -> list[BaseRoute]:
        path = scope["path"]
        root = scope.get("root_path", "")
        if root:
            return self.router.routes  # rare (behind a path prefix): the full table, as before
        head = first_segment(path)
        return self.by_head.get(head, self.anywhere) if head is not None else self.router.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.router.app(scope, receive, send)
            return
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self.candidates(scope):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self.router)
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial = (route, child_scope)
        if partial is not None:
            scope.setdefault("router", self.router)
            scope["route"] = partial[0]
            scope.update(partial[1])
            await partial[0].handle(scope, receive, send)
            return
        await self.router.app(scope, receive, send)  # redirects and 404 exactly as Starlette does them


def index_routes(router: Router) -> None:
    """Put the index in front of ``router`` (its ``middleware_stack`` is what it calls)."""
    if router.middleware_stack == router.app:  # no router-level middleware to keep
        router.middleware_stack = SegmentIndex(router)
