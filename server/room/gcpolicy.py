"""Garbage-collector policy for a server holding thousands of long-lived sockets.

Measured (BENCHMARKS.md): with 3,000 sockets open, CPython's full collections walked
every socket's objects and stopped the event loop for up to ~0.4 s, a third of the
server's busy time in a burst. Those objects live as long as the socket, so scanning
them again and again finds nothing. We move them to the permanent generation with
``gc.freeze()`` once the number of sockets has grown, and collect them again only when
many sockets have gone (they are freed by reference counting anyway; the collector is
needed only for cycles) and at most once a minute, so a burst never pays for it.
"""

from __future__ import annotations

import gc
import time

GROWTH = 200  # new sockets since the last freeze before freezing again
SHRINK = 0.25  # share of frozen sockets gone before a full collection
MIN_INTERVAL_S = 60.0


class GcPolicy:
    def __init__(self) -> None:
        self.frozen_at = 0  # sockets when we last froze
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

    def sockets_changed(self, count: int) -> None:
        if not self.active:
            return
        if count >= self.frozen_at + GROWTH:
            gc.freeze()
            self.frozen_at = count
            self.freezes += 1
        elif count < self.frozen_at * (1 - SHRINK) and time.monotonic() - self.last_unfreeze > MIN_INTERVAL_S:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.frozen_at = count
            self.last_unfreeze = time.monotonic()
            self.collections += 1
