"""The record's sitting held on the tests' demo meeting (server/record/sitting.py through
server/record/hold.py), and what each deputy cast in it, for the record's cross-cutting
tests (tests/test_record_secrecy.py, tests/browser/test_record_browser.py).

A *variant* rewrites the sitting's ballots before it is held, keeping every count: the
secrecy test holds the sitting twice, the secret choices handed to other deputies and the
secret participation swapped between two deputies, and then every page and export must
read the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from live.commands import CastRating, CastVote
from live.state import Choice, VoteChoice
from server.base.keys import Keys
from server.record.hold import Step
from server.record.sitting import hold_sitting as held_through_the_room
from server.record.sitting import roster
from server.storage.db import create_engine

SECRET_VOTES = (1, 2)  # the sitting's secret vote and its revote (vote ids)
NAMED_VOTE = 3
START_MS = 1_780_000_000_000  # 2026-05-28, a fixed moment: two holds give the same log


@dataclass(frozen=True)
class Cast:
    """One ballot of the sitting: a rating (poll = the question id, negative for an agenda
    item) or a vote (poll = ``vote:<id>``)."""

    deputy_id: int
    poll: str
    choice: str
    ballot_key: str

    @property
    def secret(self) -> bool:
        return self.poll != f"vote:{NAMED_VOTE}"


@dataclass(frozen=True)
class Held:
    meeting_id: int
    members: list[int]  # by card number, as the sitting orders them
    casts: list[Cast]

    @property
    def leaves(self) -> int:
        """The member who leaves part-way, after the first question, for good (sitting.py)."""
        return self.members[:-4][9]

    def voted(self, poll: str) -> set[int]:
        return {c.deputy_id for c in self.casts if c.poll == poll}


Variant = Callable[[list[Step]], list[Step]]


def casts_of(steps: list[Step]) -> list[Cast]:
    out: list[Cast] = []
    for s in steps:
        c = s.command
        if isinstance(c, CastRating):
            out.append(Cast(c.deputy_id, str(c.question_id), c.choice.value, c.ballot_key))
        elif isinstance(c, CastVote):
            out.append(Cast(c.deputy_id, f"vote:{c.vote_id}", c.choice.value, c.ballot_key))
    return out


def poll_of(step: Step) -> str | None:
    c = step.command
    if isinstance(c, CastRating):
        return str(c.question_id)
    if isinstance(c, CastVote):
        return f"vote:{c.vote_id}"
    return None


def _secret(step: Step) -> bool:
    poll = poll_of(step)
    return poll is not None and poll != f"vote:{NAMED_VOTE}"


def _with_choice(step: Step, choice: Any) -> Step:
    return dataclasses.replace(step, command=dataclasses.replace(cast(Any, step.command), choice=choice))


def reversed_choices(steps: list[Step], secret: bool = True) -> list[Step]:
    """Every secret poll's choices (or the named vote's) handed out in reverse order: the
    same counts, most deputies with another choice."""
    by_poll: dict[str, list[int]] = {}
    for i, s in enumerate(steps):
        poll = poll_of(s)
        if poll is not None and _secret(s) == secret:
            by_poll.setdefault(poll, []).append(i)
    out = list(steps)
    for indexes in by_poll.values():
        choices = [cast(Any, steps[i].command).choice for i in indexes]
        for i, choice in zip(indexes, reversed(choices), strict=True):
            out[i] = _with_choice(steps[i], choice)
    return out


def reversed_secret_choices(steps: list[Step]) -> list[Step]:
    return reversed_choices(steps, secret=True)


def reversed_named_choices(steps: list[Step]) -> list[Step]:
    """The control: the named vote's choices moved, which the record must show."""
    return reversed_choices(steps, secret=False)


def only_one_casts(keep: int, drop: int) -> Variant:
    """In every secret poll ``keep`` casts a fixed choice (基本满意, 弃权) and ``drop`` does
    not press at all (its moment goes to the next step, so the clock runs the same). Two
    holds with ``keep`` and ``drop`` swapped have the same counts."""

    def variant(steps: list[Step]) -> list[Step]:
        out: list[Step] = []
        carried = 0
        for s in steps:
            s = dataclasses.replace(s, after_ms=s.after_ms + carried)
            carried = 0
            if _secret(s) and cast(Any, s.command).deputy_id == drop:
                carried = s.after_ms
                continue
            if _secret(s) and cast(Any, s.command).deputy_id == keep:
                s = _with_choice(s, Choice.BASIC if isinstance(s.command, CastRating) else VoteChoice.ABSTAIN)
            out.append(s)
        return out

    return variant


def hold_sitting(url: str, secret_key: str, meeting_id: int, *variants: Variant) -> Held:
    """Hold the sitting (rewritten by ``variants`` in order) on the meeting; what was cast."""

    async def go() -> Held:
        engine = create_engine(url)
        try:
            held: list[Step] = []

            def rewrite(steps: list[Step]) -> list[Step]:
                for v in variants:
                    steps = v(steps)
                held[:] = steps
                return steps

            setup = await held_through_the_room(
                engine, Keys(secret_key).box, meeting_id, START_MS, rewrite=rewrite
            )
            return Held(meeting_id, roster(setup), casts_of(held))
        finally:
            await engine.dispose()

    return asyncio.run(go())
