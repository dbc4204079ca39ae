"""What a screen that reconnects is sent: what changed since the seq it saw, rendered once.

Theory of operation: the room notes each committed batch (its seqs, the topics and the
deputies it touched, :func:`screens.topics.topics_of`) in a bounded ring. A hello with
seq ``s`` that the ring covers, from ``s + 1`` up to the current seq, gets exactly the
fragments a live update would have brought it: those the batches' topics make stale
(:func:`screens.audiences.stale`, the fan-out's own rule), and the deputy's own ``d-me``
when a batch touched that deputy or every deputy. Anything else (a seq older than the
ring, a seq above the current one after a rehearsal's log was rewritten, a setup reload
in between that changed fragments without a seq) gets every fragment of the screen, as
before. Every fragment replaces a whole element, so what the phone shows after either
answer is what a fresh page load shows.

When the hall's Wi-Fi comes back, thousands of phones say hello with the same seq within
seconds. Their shared fragments are the same strings, so each distinct message is
rendered once per seq and second (a running timer's digits are drawn by the page from
its deadline) and the same string goes to every phone that needs it; a deputy's own
``d-me`` is the room's, kept per variant for the seq as every receipt's is
(:meth:`server.room.hub.Room.personal`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

HISTORY = 512  # batches kept; a phone further behind gets every fragment
RENDERED_LIMIT = 256  # distinct messages kept for one seq


@dataclass(frozen=True)
class Batch:
    first_seq: int
    last_seq: int
    topics: frozenset[str]
    deputies: frozenset[int]


@dataclass(frozen=True)
class Missed:
    """What changed after a seq: the topics, and the deputies whose own fragment changed."""

    topics: frozenset[str]
    deputies: frozenset[int]


class Resync:
    def __init__(self, history: int = HISTORY) -> None:
        self._batches: deque[Batch] = deque(maxlen=history)
        self._rendered: dict[Hashable, str] = {}
        self._rendered_at: tuple[int, int] = (-1, -1)
        self.renders = 0  # messages rendered (the tests count them)

    def note(self, first_seq: int, last_seq: int, topics: set[str], deputies: set[int]) -> None:
        """A committed batch, in seq order (a gap makes the ring start again)."""
        if self._batches and self._batches[-1].last_seq + 1 != first_seq:
            self._batches.clear()
        self._batches.append(Batch(first_seq, last_seq, frozenset(topics), frozenset(deputies)))
        self._rendered.clear()

    def forget(self) -> None:
        """Fragments changed without a seq (a setup reload): nothing can be replayed."""
        self._batches.clear()
        self._rendered.clear()

    def since(self, seq: int, current: int) -> Missed | None:
        """What changed after ``seq`` up to ``current``; None when the ring cannot say."""
        batches = self._batches
        if not batches or seq >= current or batches[-1].last_seq != current or batches[0].first_seq > seq + 1:
            return None
        topics: set[str] = set()
        deputies: set[int] = set()
        for batch in reversed(batches):
            if batch.last_seq <= seq:
                break
            topics |= batch.topics
            deputies |= batch.deputies
        return Missed(frozenset(topics), frozenset(deputies))

    def rendered(self, key: Hashable, seq: int, second: int, render: Callable[[], str]) -> str:
        """The message ``key`` at ``seq``, rendered at most once per seq and second."""
        if self._rendered_at != (seq, second) or len(self._rendered) >= RENDERED_LIMIT:
            self._rendered.clear()
            self._rendered_at = (seq, second)
        found = self._rendered.get(key)
        if found is None:
            self.renders += 1
            found = self._rendered[key] = render()
        return found
