"""Garbage-collector policy for a server holding thousands of long-lived sockets.

Measured (BENCHMARKS.md): with 3,000 sockets open, CPython's full collections walked
every socket's objects and stopped the event loop for up to ~0.4 s, a third of the
server's busy time in a burst. Those objects live as long as the socket, so scanning
them again and again finds nothing. We move them to the permanent generation with
``gc.freeze()`` every time a few hundred sockets have opened (counted as they open, so
the phones that reconnect after the hall's Wi-Fi dropped are frozen too).

Sockets that close are freed by reference counting; only their cycles need the
collector, and a frozen cycle is never collected. So once many sockets have gone (a
quarter of those frozen, counted as they close, so a storm in which every phone drops
and reconnects counts too), a full collection is DUE, and it runs when the hall is
quiet: no socket opened or closed for ``QUIET_S``, at most once a minute. Run at the
moment they went, it held the loop for about a second in the bench's reconnect storm
(3,000 phones dropping at once), exactly when every phone was asking to catch up.
"""

from __future__ import annotations

import gc
import time

GROWTH = 200  # sockets opened since the last freeze before freezing again
SHRINK = 0.25  # share of frozen sockets gone before a full collection is due
QUIET_S = 10.0  # no socket opened or closed this long: the collection may run
MIN_INTERVAL_S = 60.0


class GcPolicy:
    def __init__(self) -> None:
        self.frozen_at = 0  # sockets when we last froze
        self.count = 0  # sockets now
        self.opened = 0  # sockets opened since the last freeze
        self.gone = 0  # sockets closed since the last collection
        self.last_change = 0.0
        self.last_unfreeze = 0.0
        self.freezes = 0
        self.collections = 0
        self.active = False

    def startup(self) -> None:
        """Everything imported and built at start lives for the whole process."""
        gc.collect()
        gc.freeze()
        self.freezes += 1
        self.active = True

    def stop(self) -> None:
        """At shutdown thousands of sockets close at once: no point collecting then."""
        self.active = False

    @property
    def due(self) -> bool:
        return self.frozen_at > 0 and self.gone >= self.frozen_at * SHRINK

    def sockets_changed(self, count: int) -> None:
        if not self.active:
            return
        self.gone += max(0, self.count - count)
        self.opened += max(0, count - self.count)
        self.count = count
        self.last_change = time.monotonic()
        if self.opened >= GROWTH:
            gc.freeze()
            self.opened = 0
            self.frozen_at = count
            self.freezes += 1

    def tick(self) -> None:
        """Called often (the hall ticker): collect if due and the hall is quiet."""
        now = time.monotonic()
        if not (self.active and self.due):
            return
        if now - self.last_change < QUIET_S or now - self.last_unfreeze < MIN_INTERVAL_S:
            return
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.frozen_at = self.count
        self.gone = 0
        self.last_unfreeze = now
        self.collections += 1
