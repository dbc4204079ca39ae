"""A whole sitting of a meeting, as the hall would hold it: the steps :func:`server.record.hold.hold` runs.

Used twice, so what the demo shows is what the tests check: the demo's meeting held months
ago (``make run``), and the record's tests, which run it on the demo meeting and compare
every figure of the proceedings, the results and the duty records with the log.

What happens, for a roster sorted by card number (at least 12 members, 2 questions):
- check-in by the hall code, two seconds apart; the last member is on leave (marked by
  staff), the two before are absent, the fourth from last arrives after the attendance was
  announced (迟到); one member leaves part-way and does not come back, another leaves and
  returns;
- the first report item is heard and rated (an agenda item's rating);
- all questions but the last are asked in the 问政 item, each answered, followed up by a
  member from the floor queue, rated by everyone present (a pattern that gives each
  question its own grade); the last is never reached (it goes to a written answer);
- a general speech on the item;
- a secret vote that fails, its revote that passes, both announced; a named vote;
- a banner announced on the projector, then removed; the meeting closed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from live.commands import (
    Actor,
    AdvancePhase,
    AnnounceAttendance,
    AnnounceVote,
    CallQuestion,
    CastRating,
    CastVote,
    CheckIn,
    CheckInMethod,
    CloseCheckIn,
    CloseMeeting,
    CloseRating,
    CloseVote,
    EndSpeech,
    GrantFloor,
    LeaveHall,
    MarkLeave,
    OpenCheckIn,
    OpenItemRating,
    OpenRating,
    OpenVote,
    RequestFloor,
    ReturnToHall,
    Role,
    SetBanner,
    StartAgendaItem,
)
from live.setup import Setup
from live.state import Choice, FloorKind, Phase, VoteChoice
from server.base.ballot_box import BallotBox
from server.record.hold import Step, hold
from server.room.runtime import load_state
from server.storage.db import snapshot_read

CHAIR = Actor(Role.CHAIR, user="chair")
STAFF = Actor(Role.STAFF, user="chair")
SECOND, MINUTE = 1000, 60_000

SECRET_TITLE = "关于调整本镇2026年民生实事项目的决议（草案）"
NAMED_TITLE = "关于成立镇人大代表专题调研组的决定（草案）"
BANNER = "测评结束前请代表们不要离开会场"
# A rating pattern per question: the choice of the i-th member present is PATTERNS[q][i % 5].
PATTERNS = (
    (Choice.SATISFIED, Choice.SATISFIED, Choice.SATISFIED, Choice.BASIC, Choice.DISSATISFIED),
    (Choice.SATISFIED, Choice.BASIC, Choice.BASIC, Choice.DISSATISFIED, Choice.DISSATISFIED),
    (Choice.BASIC, Choice.DISSATISFIED, Choice.DISSATISFIED, Choice.DISSATISFIED, Choice.SATISFIED),
)


def deputy(deputy_id: int) -> Actor:
    return Actor(Role.DEPUTY, deputy_id=deputy_id)


def roster(setup: Setup) -> list[int]:
    """The members expected, by card number (the suspended are not)."""
    ids = sorted(setup.deputies, key=lambda d: setup.deputies[d].card_no)
    return [d for d in ids if d not in setup.suspended]


def sitting(setup: Setup) -> list[Step]:
    members = roster(setup)
    if len(members) < 12 or len(setup.questions) < 2:
        raise ValueError("a sitting needs at least 12 members and 2 questions")
    on_leave, absent, late = members[-1], members[-3:-1], members[-4]
    punctual = [d for d in members[:-4] if d not in setup.on_leave]
    leaves, returns = punctual[9], punctual[10]
    steps: list[Step] = [Step(OpenCheckIn(), CHAIR, 0)]
    if on_leave not in setup.on_leave:
        steps.append(Step(MarkLeave(on_leave), STAFF, 5 * SECOND))
    steps += [
        Step(CheckIn(d, CheckInMethod.HALL_QR, "192.168.10.0/24"), deputy(d), 2 * SECOND) for d in punctual
    ]
    steps += [Step(CloseCheckIn(), CHAIR, MINUTE), Step(AnnounceAttendance(), CHAIR, 30 * SECOND)]
    steps.append(Step(CheckIn(late, CheckInMethod.STAFF), STAFF, 3 * MINUTE))
    present = [*punctual, late]
    assert not set(absent) & set(present)

    reports = [i for i in setup.agenda if i.kind == "report"]
    if reports:
        steps += [
            Step(StartAgendaItem(reports[0].id), CHAIR, MINUTE),
            Step(OpenItemRating(), CHAIR, 25 * MINUTE),
            *_ratings(present, -reports[0].id, 0),
            Step(CloseRating(), CHAIR, 40 * SECOND),
        ]
    inquiry = [i for i in setup.agenda if i.kind == "inquiry"]
    if inquiry:
        steps.append(Step(StartAgendaItem(inquiry[0].id), CHAIR, 2 * MINUTE))
    asked = sorted(setup.questions, key=lambda q: q.position)[:-1]
    for n, q in enumerate(asked):
        follower = punctual[(n * 7 + 3) % len(punctual)]
        if follower == q.asker_id:
            follower = punctual[(n * 7 + 4) % len(punctual)]
        steps += [
            Step(CallQuestion(q.id), CHAIR, 2 * MINUTE),
            Step(AdvancePhase(Phase.ANSWERING), CHAIR, (150 + 20 * n) * SECOND),
            Step(RequestFloor(follower, FloorKind.FOLLOWUP, "追问办理时限"), deputy(follower), 2 * MINUTE),
            Step(GrantFloor(follower), CHAIR, (160 + 30 * n) * SECOND),
            Step(AdvancePhase(Phase.FOLLOWUP_REPLY), CHAIR, (50 + 15 * n) * SECOND),
            Step(OpenRating(), CHAIR, (100 + 10 * n) * SECOND),
            *_ratings([d for d in present if d != leaves or n == 0], q.id, n),
            Step(CloseRating(), CHAIR, 45 * SECOND),
        ]
        if n == 0:  # after the first question: one leaves for good, one leaves and returns
            steps += [
                Step(LeaveHall(leaves), STAFF, MINUTE),
                Step(LeaveHall(returns), STAFF, 10 * SECOND),
                Step(ReturnToHall(returns), STAFF, 15 * MINUTE),
            ]
    speaker = punctual[1]
    steps += [
        Step(RequestFloor(speaker, FloorKind.SPEECH, "关于农贸市场管理"), deputy(speaker), MINUTE),
        Step(GrantFloor(speaker), CHAIR, 30 * SECOND),
        Step(EndSpeech(), CHAIR, 7 * MINUTE),
        Step(SetBanner(BANNER), CHAIR, 30 * SECOND),
    ]
    voters = [d for d in present if d != leaves]
    steps += _vote(SECRET_TITLE, True, None, voters, for_share=(2, 5), vote_id=1)
    steps += _vote("", True, 1, voters, for_share=(4, 5), vote_id=2)
    steps += _vote(NAMED_TITLE, False, None, voters, for_share=(3, 5), vote_id=3)
    steps += [Step(SetBanner(""), CHAIR, MINUTE), Step(CloseMeeting(), CHAIR, 2 * MINUTE)]
    return steps


async def hold_sitting(
    engine: AsyncEngine,
    box: BallotBox,
    meeting_id: int,
    start_ms: int,
    *,
    device: str = "",
    rewrite: Callable[[list[Step]], list[Step]] | None = None,
) -> Setup:
    """Hold the sitting on the meeting from ``start_ms`` (``rewrite``: the tests' variants of
    it); returns the setup it was held on."""
    async with snapshot_read(engine) as conn:
        setup = (await load_state(conn, meeting_id)).setup
    steps = sitting(setup)
    await hold(engine, box, meeting_id, rewrite(steps) if rewrite else steps, start_ms, device)
    return setup


def _ratings(present: list[int], key: int, pattern: int) -> list[Step]:
    choices = PATTERNS[pattern % len(PATTERNS)]
    return [
        Step(CastRating(d, key, choices[i % len(choices)], f"r{key}-{d}"), deputy(d), 400)
        for i, d in enumerate(present)
    ]


def vote_choice(i: int, for_share: tuple[int, int]) -> VoteChoice:
    """The i-th voter's choice: ``for_share`` of them 赞成, then alternately 反对 and 弃权."""
    part, whole = for_share
    if i % whole < part:
        return VoteChoice.FOR
    return VoteChoice.AGAINST if i % 2 else VoteChoice.ABSTAIN


def _vote(
    title: str,
    secret: bool,
    revote_of: int | None,
    voters: list[int],
    for_share: tuple[int, int],
    vote_id: int,
) -> list[Step]:
    return [
        Step(OpenVote(title, secret=secret, revote_of=revote_of), CHAIR, MINUTE),
        *(
            Step(CastVote(d, vote_id, vote_choice(i, for_share), f"v{vote_id}-{d}"), deputy(d), 300)
            for i, d in enumerate(voters)
        ),
        Step(CloseVote(), CHAIR, 30 * SECOND),
        Step(AnnounceVote(), CHAIR, 20 * SECOND),
    ]
