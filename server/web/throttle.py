"""Failures counted per key in a sliding window: logins and typed card codes.

In memory, per process: with N worker processes a key gets up to N times a limit, which
keeps each promise (RELIABILITY.md says how far). The per-card delays of typed codes are
in the database instead (server/storage/guards.py), so they hold across processes.
"""

from __future__ import annotations

import time
from collections import deque

# Logins: per address and user name, and per address whatever the name (a guesser trying
# many names from one machine; generous, because an office's staff share one NAT address).
LOGIN_WINDOW_S = 300
LOGIN_MAX_FAILURES = 5
LOGIN_MAX_FAILURES_PER_ADDRESS = 20
# Typed card codes per address: plenty for a hall's typos behind one NAT address, far too
# few to guess an 8-digit code with (server/storage/guards.py).
ADDRESS_FAILURES = 60
ADDRESS_WINDOW_S = 600
MAX_KEYS = 20_000


class Throttle:
    """At most ``limit`` failures per key in the last ``window_s`` seconds."""

    def __init__(self, window_s: float, limit: int) -> None:
        self.window_s = window_s
        self.limit = limit
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.get(key, deque())
        while q and q[0] < now - self.window_s:
            q.popleft()
        if not q:
            self._failures.pop(key, None)  # forget keys with no recent failure
        return q

    def blocked(self, key: str, limit: int | None = None, now: float | None = None) -> bool:
        at = time.monotonic() if now is None else now
        return len(self._recent(key, at)) >= (self.limit if limit is None else limit)

    def retry_after(self, key: str, now: float | None = None) -> int:
        """Seconds until the oldest failure of ``key`` leaves the window."""
        at = time.monotonic() if now is None else now
        q = self._recent(key, at)
        return max(1, int(q[0] + self.window_s - at + 1)) if q else 0

    def failed(self, key: str, now: float | None = None) -> None:
        at = time.monotonic() if now is None else now
        if len(self._failures) >= MAX_KEYS:  # a flood of keys: forget the stale ones
            for stale in [k for k, q in self._failures.items() if q[-1] < at - self.window_s]:
                del self._failures[stale]
        q = self._recent(key, at)
        q.append(at)
        self._failures[key] = q

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


def login_throttle() -> Throttle:
    return Throttle(LOGIN_WINDOW_S, LOGIN_MAX_FAILURES)


# New screen pairing requests per address in ten minutes: a hall's few screens, each
# asking again every ten minutes, stay far below; a script filling a meeting's six-digit
# code space (and the table) from one address does not (server/office/pairing.py).
PAIR_REQUESTS = 30
PAIR_WINDOW_S = 600


def pair_throttle() -> Throttle:
    return Throttle(PAIR_WINDOW_S, PAIR_REQUESTS)


def bind_throttle() -> Throttle:
    return Throttle(ADDRESS_WINDOW_S, ADDRESS_FAILURES)
