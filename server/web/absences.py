"""The phone's two-absence notice (代表法 §49), read once per deputy, not once per page load.

Every load of the deputy page shows the sessions the deputy missed without approval
(server/office/attendance_history.py ``deputy_absences``: a snapshot transaction of
several queries). Those come from frozen records, which change only when a meeting
closes or the office edits them, never while deputies check in; yet a hall of 3,000
phones loads the page 3,000 times in ten minutes, and a reconnecting phone again.

So the answer is kept per deputy for as long as the records generation of
:class:`server.room.meetings.Meetings` stays the same. It moves on, in every process,
when a meeting closes (its attendance freezes in that commit), on any setup reload (an
office edit of a meeting's day, session, term or body) and on an attendance correction
(``Meetings.records_changed``); the cache then starts empty. A read that overlapped a
change is returned but not kept, so a value read before a commit cannot outlive it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

LIMIT = 50_000  # deputies kept; beyond it the cache starts again (a few MB at most)


class AbsenceCache:
    """deputy id → the sessions missed, valid for one records generation."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._generation = -1
        self._values: dict[int, list[str]] = {}
        self.reads = 0  # how many times the database was read: the tests count them

    async def get(
        self, deputy_id: int, generation: Callable[[], int], read: Callable[[], Awaitable[list[str]]]
    ) -> list[str]:
        now = generation()
        if now != self._generation:
            self._values.clear()
            self._generation = now
        found = self._values.get(deputy_id)
        if found is not None:
            return found
        self.reads += 1
        value = await read()
        if generation() == now:  # nothing changed while it was read: keep it
            if len(self._values) >= self.limit:
                self._values.clear()
            self._values[deputy_id] = value
        return value
