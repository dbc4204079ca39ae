"""The audiences and their fragments (ARCHITECTURE.md, "Screens are projections").

For each audience: the fragments its page holds right now, in page order, and which
topics make which fragment stale. A fragment template is ``screens/templates/fragments/<id>.html``,
named after the element id it replaces, and the full page includes the same template.

Only the deputy's own fragment, ``d-me``, differs between sockets of one audience, and
it has few variants (not checked in, checked in, may rate, has rated), so it is rendered
once per variant, not once per deputy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from live.state import Focus, MeetingState, Presence, ProjectorMode


@dataclass(frozen=True)
class Audience:
    name: str
    topics: dict[str, tuple[str, ...]]
    personal: str | None = None  # the fragment rendered per variant

    def fragments(self, state: MeetingState) -> list[str]:
        return FRAGMENTS[self.name](state)


# Fragments of the projector that live inside ``stage``: sent on their own only when the
# stage itself is not re-sent.
STAGE_NESTED = frozenset({"hall-qr", "p-attendance", "timer", "p-tally", "p-vote"})


def _projector(state: MeetingState) -> list[str]:
    inner = {
        Focus.CHECKIN: ["hall-qr", "p-attendance"],
        Focus.QUESTION: ["timer", "p-tally"],
        Focus.VOTE: ["p-vote"],
    }.get(state.focus, [])
    return ["p-mode", "p-banner", "stage", *inner]


def _console(state: MeetingState) -> list[str]:
    return [
        "c-session",
        "timer",
        "c-attendance",
        "c-attendees",
        "c-floor",
        "c-tally",
        "c-vote",
        "c-questions",
        "c-agenda",
        "c-projector",
    ]


def _deputy(state: MeetingState) -> list[str]:
    return ["d-session", "timer", "d-me"]


def _podium(state: MeetingState) -> list[str]:
    return ["po-speaker", "timer"]


def _public(state: MeetingState) -> list[str]:
    return ["pu-session", "timer", "pu-results"]


def _script(state: MeetingState) -> list[str]:
    return ["s-script"]


FRAGMENTS = {
    "script": _script,
    "projector": _projector,
    "console": _console,
    "deputy": _deputy,
    "podium": _podium,
    "public": _public,
}

# Not an event's topic: the office changed the meeting's setup (roster, rules, final list)
# and every fragment of every screen is re-sent (``stale`` knows; no audience lists it).
SETUP = "setup"

PROJECTOR = Audience(
    "projector",
    {
        "focus": ("stage",),
        "checkin": ("stage",),
        "announcement": ("stage",),
        "agenda": ("stage",),
        "question": ("stage",),
        "phase": ("stage",),
        "rating": ("stage",),
        "attendance": ("p-attendance", "p-vote"),
        "timer": ("timer",),
        "tally": ("p-tally",),
        "vote": ("stage",),
        "vote_tally": ("p-vote",),
        "banner": ("p-banner",),
        "speech": ("stage",),
        # Leaving "frozen" or "blank" the projector catches up with everything.
        "projector_mode": ("p-mode", "p-banner", "stage"),
        "closed": ("stage",),
    },
)

CONSOLE = Audience(
    "console",
    {
        "checkin": ("c-attendance",),
        # 未按 moves with who is present; the quorum warnings before the rating and vote
        # controls (c-session, c-agenda, c-vote) come and go with it.
        "attendance": ("c-attendance", "c-vote", "c-session", "c-agenda"),
        "announcement": ("c-attendance", "c-session"),
        # A new item or question makes another rating the current one.
        # c-vote, c-questions and c-floor also move with the step (screens.operator.lifted,
        # the floor queue's grant notes), c-projector with the projector's focus.
        "agenda": ("c-session", "c-agenda", "c-tally", "c-floor"),
        "question": ("c-session", "c-questions", "c-tally", "c-vote", "c-floor"),
        "phase": ("c-session", "c-questions", "c-vote", "c-floor"),
        "rating": ("c-session", "c-tally", "c-questions", "c-agenda", "c-vote", "c-floor"),
        "tally": ("c-tally",),
        "timer": ("timer",),
        "focus": ("c-session", "c-projector"),
        "vote": ("c-vote", "c-questions", "c-floor"),
        "vote_tally": ("c-vote",),
        "banner": ("c-projector",),
        "projector_mode": ("c-projector",),
        "floor": ("c-floor",),
        "speech": ("c-floor", "c-session"),
        "attendees": ("c-attendance", "c-attendees"),  # the 列席/旁听 figures and the list
        "closed": ("c-session", "c-attendance", "c-attendees"),
    },
)

DEPUTY = Audience(
    "deputy",
    {
        "agenda": ("d-session", "d-me"),  # the floor can be asked for once an item runs
        "question": ("d-session", "d-me"),
        "phase": ("d-session", "d-me"),
        "rating": ("d-session", "d-me"),
        "checkin": ("d-me",),
        "timer": ("timer",),
        "vote": ("d-session", "d-me"),  # the ballot's subject heads the phone while it is open
        "floor": ("d-me",),  # everyone's place in the queue may move
        "speech": ("d-session", "d-me"),
        "closed": ("d-session", "d-me"),
    },
    personal="d-me",
)

# The screen facing the person speaking: who has the floor and the remaining time, huge.
PODIUM = Audience(
    "podium",
    {
        "agenda": ("po-speaker",),
        "question": ("po-speaker",),
        "phase": ("po-speaker",),
        "rating": ("po-speaker",),
        "speech": ("po-speaker",),
        "timer": ("timer",),
        "closed": ("po-speaker",),
    },
)

# The read-only page for anyone: what the hall sees, never the hall QR, no tallies
# before a result is announced, no names beyond those shown in the hall. One render per
# update however many watch.
PUBLIC = Audience(
    "public",
    {
        "agenda": ("pu-session",),
        "question": ("pu-session",),
        "phase": ("pu-session",),
        "banner": ("pu-session",),
        "speech": ("pu-session",),
        "timer": ("timer",),
        "rating": ("pu-session", "pu-results"),
        "vote": ("pu-session", "pu-results"),
        "announcement": ("pu-results",),
        "closed": ("pu-session",),
    },
)

# The chair's script (主持词) at the rostrum: every step of the session moves its next line.
SCRIPT = Audience(
    "script",
    {
        topic: ("s-script",)
        for topic in (
            "checkin",
            "attendance",
            "announcement",
            "agenda",
            "question",
            "phase",
            "rating",
            "vote",
            "closed",
        )
    },
)

AUDIENCES = {a.name: a for a in (PROJECTOR, CONSOLE, DEPUTY, PODIUM, PUBLIC, SCRIPT)}


def stale(audience: Audience, state: MeetingState, topics: set[str]) -> list[str]:
    """The fragments of ``audience`` to re-send for ``topics``, in page order."""
    present = audience.fragments(state)
    wanted: set[str] = set(present) if SETUP in topics else set()
    for topic in topics:
        wanted.update(audience.topics.get(topic, ()))
    chosen = [f for f in present if f in wanted and f != audience.personal]
    if "stage" in chosen and audience.name == "projector":
        chosen = [f for f in chosen if f not in STAGE_NESTED]
    if audience.name == "projector" and state.projector_mode is ProjectorMode.FROZEN:
        chosen = [f for f in chosen if f == "p-mode"]  # frozen: nothing else moves
    return chosen


Variant = tuple[str, int | None, tuple[int, str] | None, bool]

# Variants of ``d-me`` without the speaker queue: not in the hall, or nothing more to do.
NO_FLOOR = frozenset({"leave", "checkin", "absent", "left", "suspended", "closed"})


def deputy_variant(state: MeetingState, deputy_id: int) -> Variant:
    """Which version of ``d-me`` a deputy sees; equal keys get equal bytes.

    (ballot state, the rating or vote it is for, (place, kind) in the speaker queue,
    whether the deputy has the floor): at most a few dozen distinct keys in a hall.
    """
    variant, ballot = _ballot_variant(state, deputy_id)
    if variant in NO_FLOOR:
        return (variant, ballot, None, False)
    found = state.queue_place(deputy_id)
    floor = (found[0], found[1].kind.value) if found else None
    return (variant, ballot, floor, state.speaking_id == deputy_id)


CHINA = dt.timezone(dt.timedelta(hours=8))


def checked_in_clock(state: MeetingState, deputy_id: int) -> str:
    """When the deputy checked in, China time ("09:02"), for the phone's own 已签到 line.

    It is part of the key a phone's ``d-me`` is rendered for: deputies who checked in
    within the same minute still share one rendering. "" when not known (before it was kept).
    """
    at_ms = state.checked_in_ms.get(deputy_id) if state.is_present(deputy_id) else None
    return dt.datetime.fromtimestamp(at_ms / 1000, CHINA).strftime("%H:%M") if at_ms else ""


def _ballot_variant(state: MeetingState, deputy_id: int) -> tuple[str, int | None]:
    rating = state.current_rating()
    question = rating.question_id if rating else None
    presence = state.attendance.get(deputy_id)
    if state.closed:
        return ("closed", None)
    if state.is_suspended(deputy_id):
        return ("suspended", None)
    if presence is Presence.LEAVE:
        return ("leave", None)
    if presence is Presence.LEFT:
        return ("left", None)
    if presence is None:
        return ("checkin" if state.checkin_open else "absent", None)
    vote = state.current_vote()
    if vote is not None and vote.open:  # one ballot box at a time: never both open
        return ("voted" if deputy_id in vote.voters else "vote", vote.vote_id)
    if rating is not None and rating.open:
        return ("rated" if deputy_id in rating.voters else "rate", question)
    return ("present", None)
