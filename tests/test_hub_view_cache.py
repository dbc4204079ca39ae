"""The room's View and its deputy fragments are kept for one seq, and only for it.

A burst of ratings renders the receipt from one View per group commit; what it sends must
still be exactly what a View built afresh renders, and a change of the state (a commit, a
reload, a failed commit) must never leave a stale receipt behind.
"""

from __future__ import annotations

from typing import Any

from live.commands import CastRating
from live.state import Choice
from screens import render
from screens.audiences import checked_in_clock, deputy_variant
from screens.view import View
from server.room.hub import Room, detached
from tests.conftest import Rig, deputy
from tests.test_actions import check_in_all, to_rating


def extras(frag_id: str, view: View) -> dict[str, Any]:
    return {"ballot_key": "k"} if frag_id == "d-me" else {}


def fresh_receipt(rig: Rig, deputy_id: int, *, oob: bool, notice: str = "") -> str:
    """``d-me`` as a page load renders it: a new View, no cache."""
    view = View(rig.state)
    variant, question_id, floor, speaking = deputy_variant(rig.state, deputy_id)
    return render.fragment(
        "d-me",
        view,
        oob=oob,
        variant=variant,
        question_id=question_id,
        floor=floor,
        speaking=speaking,
        notice=notice,
        checked_at=checked_in_clock(rig.state, deputy_id),
        ballot_key="k",
    )


async def test_one_view_per_seq_and_a_new_one_after_a_commit(rig: Rig) -> None:
    room = Room(rig.runtime, extras)
    ids = sorted(rig.state.setup.deputies)[:6]
    await check_in_all(rig, ids)
    q1 = rig.state.setup.questions[0].id
    await to_rating(rig, q1)

    first = room.view()
    assert room.view() is first  # the same seq: the same View
    await rig.runtime.submit(CastRating(ids[0], q1, Choice.SATISFIED, "a"), deputy(ids[0]))
    after = room.view()
    assert after is not first and after.seq == rig.state.seq
    assert after.tally is not None and first.tally is not None
    assert after.tally.cast == first.tally.cast + 1  # the tally moved with the seq


async def test_cached_receipts_equal_fresh_renders_for_every_deputy(rig: Rig) -> None:
    room = Room(rig.runtime, extras)
    ids = sorted(rig.state.setup.deputies)[:6]
    await check_in_all(rig, ids)
    q1 = rig.state.setup.questions[0].id
    await to_rating(rig, q1)
    for i, d in enumerate(ids[:3]):
        await rig.runtime.submit(CastRating(d, q1, Choice.BASIC, f"k{i}"), deputy(d))

    view = room.view()
    for d in ids:  # three who rated, three who have not: two variants, each rendered once
        for oob in (False, True):
            for notice in ("", "未记录"):
                assert room.personal(view, d, oob=oob, notice=notice) == fresh_receipt(
                    rig, d, oob=oob, notice=notice
                )
    rated = room.personal(view, ids[0], oob=False)
    assert "已记录" in rated and rated == room.personal(view, ids[1], oob=False)
    assert "已记录" not in room.personal(view, ids[5], oob=False)


async def test_a_reload_or_a_failed_commit_drops_the_cached_view(rig: Rig) -> None:
    room = Room(rig.runtime, extras)
    d = sorted(rig.state.setup.deputies)[0]
    first = room.view()
    before = room.personal(first, d, oob=False)
    await rig.runtime.reload()  # a new state object at the same seq
    assert room.view() is not first
    second = room.view()
    rig.runtime.generation += 1  # what a failed commit does (server.room.runtime)
    assert room.view() is not second
    assert room.personal(room.view(), d, oob=False) == before == fresh_receipt(rig, d, oob=False)


async def test_a_view_that_is_not_the_rooms_own_is_rendered_as_it_is(rig: Rig) -> None:
    room = Room(rig.runtime, extras)
    d = sorted(rig.state.setup.deputies)[0]
    own = room.personal(room.view(), d, oob=False)
    other = View(rig.state)
    assert room.personal(other, d, oob=False, notice="x") == fresh_receipt(rig, d, oob=False, notice="x")
    assert room.personal(room.view(), d, oob=False) == own


async def test_outside_hall_is_counted_when_read_and_as_of_the_view(rig: Rig) -> None:
    state = detached(rig.state)
    a, b, c, d, e = sorted(state.setup.deputies)[:5]
    state.checkin_networks.update({a: "10.0.0.0/24", b: "10.0.0.0/24", c: "10.0.0.0/24", d: "1.2.3.0/24"})
    view = View(state)
    state.checkin_networks[e] = "5.6.7.0/24"  # a later check-in: not this View's business
    assert [x.id for x in view.outside_hall] == [d]
    assert [x.id for x in View(state).outside_hall] == [d, e]
