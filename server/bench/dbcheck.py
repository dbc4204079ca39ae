"""The database read back: nothing lost, nothing counted twice, and the group commits.

*Lost*: a receipt the phone got that has no row (check-in event, rating receipt, rating
event), or fewer ballots than receipts. *Duplicated*: a second row for one deputy and
question, or more ballots than receipts.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.bench.common import quantile
from server.bench.phones import Outcome
from server.storage import models as m


async def last_seq(engine: AsyncEngine, meeting_id: int) -> int:
    """The highest seq in the meeting's log: what the chair's last action committed."""
    async with engine.connect() as conn:
        seq = (
            await conn.execute(select(func.max(m.events.c.seq)).where(m.events.c.meeting_id == meeting_id))
        ).scalar_one()
        await conn.commit()
    return int(seq)


async def commit_batches(engine: AsyncEngine, meeting_id: int, kind: str) -> dict[str, Any]:
    """The writer's group commits, read back from the log: one batch shares one ``created_ms``."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(m.events.c.created_ms, func.count())
                .where(m.events.c.meeting_id == meeting_id, m.events.c.type == kind)
                .group_by(m.events.c.created_ms)
                .order_by(m.events.c.created_ms)
            )
        ).all()
        await conn.commit()
    sizes = [int(n) for _, n in rows]
    gaps = [float(b - a) for (a, _), (b, _) in itertools.pairwise(rows)]
    return {
        "batches": len(rows),
        "batch_mean": round(sum(sizes) / len(sizes), 1) if sizes else None,
        "batch_max": max(sizes, default=None),
        "gap_p50_ms": quantile(gaps, 0.5),
        "gap_max_ms": max(gaps, default=None),
    }


async def _deputies_in_events(engine: AsyncEngine, meeting_id: int, kind: str) -> Counter[int]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(m.events.c.data).where(m.events.c.meeting_id == meeting_id, m.events.c.type == kind)
            )
        ).scalars()
        found = Counter(int(json.loads(data)["deputy_id"]) for data in rows)
        await conn.commit()
    return found


async def check_database(
    engine: AsyncEngine,
    meeting_id: int,
    question_id: int,
    checkins: list[Outcome],
    ratings: list[Outcome],
) -> dict[str, Any]:
    """Lost: a receipt with no row. Duplicated: more than one row per deputy."""
    checked = await _deputies_in_events(engine, meeting_id, "DeputyCheckedIn")
    cast = await _deputies_in_events(engine, meeting_id, "RatingCast")
    async with engine.connect() as conn:
        receipts = Counter(
            (
                await conn.execute(
                    select(m.rating_receipts.c.deputy_id).where(
                        m.rating_receipts.c.meeting_id == meeting_id,
                        m.rating_receipts.c.question_id == question_id,
                    )
                )
            ).scalars()
        )
        ballots = (
            await conn.execute(
                select(func.coalesce(func.sum(m.rating_tallies.c.n), 0)).where(
                    m.rating_tallies.c.meeting_id == meeting_id, m.rating_tallies.c.question_id == question_id
                )
            )
        ).scalar_one()
        await conn.commit()
    got_checkin = {o[0] for o in checkins if o[3]}
    got_rating = {o[0] for o in ratings if o[3]}
    receipt_rows = sum(receipts.values())
    lost = {
        "checkin": len(got_checkin - set(checked)),
        "rating_receipt": len(got_rating - set(receipts)),
        "rating_event": len(got_rating - set(cast)),
        "ballot": max(0, receipt_rows - ballots),
    }
    duplicated = {
        "checkin": sum(c - 1 for c in checked.values() if c > 1),
        "rating_receipt": sum(c - 1 for c in receipts.values() if c > 1),
        "rating_event": sum(c - 1 for c in cast.values() if c > 1),
        "ballot": max(0, ballots - receipt_rows),
    }
    return {
        "lost": sum(lost.values()),
        "duplicated": sum(duplicated.values()),
        "lost_by_kind": lost,
        "duplicated_by_kind": duplicated,
        "db_checkins": sum(checked.values()),
        "db_rating_receipts": receipt_rows,
        "db_rating_ballots": int(ballots),
    }
