"""The final list of questions the live session calls: approving, ordering, assigning.

Approving a submission (:mod:`server.office.questions_admin`) writes a row in
``questions`` at the end of the final list, with the wanted official as respondent;
ordering rewrites ``questions.position``; assigning writes ``questions.asker_id`` and
``question_respondents``. The live session loads ``questions`` when a room opens, so the
final list is frozen once the meeting's event log is not empty (:class:`Invalid` with a
Chinese message). Every function runs inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office.meeting_forms import Invalid
from server.office.meetings_admin import has_events
from server.office.questions_admin import TEXT, deputy, history_of, meeting, officials, open_submission
from server.storage import models as m


async def _not_started(conn: AsyncConnection, meeting_id: int) -> None:
    if await has_events(conn, meeting_id):
        raise Invalid({"started": TEXT["started"]})


async def final_list(conn: AsyncConnection, meeting_id: int) -> list[Any]:
    q = m.questions
    stmt = select(q).where(q.c.meeting_id == meeting_id).order_by(q.c.position, q.c.id)
    return list((await conn.execute(stmt)).all())


async def respondents(conn: AsyncConnection, question_id: int) -> list[int]:
    r = m.question_respondents
    stmt = select(r.c.official_id).where(r.c.question_id == question_id).order_by(r.c.position)
    return [int(x) for x in (await conn.execute(stmt)).scalars()]


async def approve(conn: AsyncConnection, meeting_id: int, sub_id: int, who: str, now_ms: int) -> int:
    """Put the submission at the end of the final list; its proposer asks, its wanted official answers."""
    await _not_started(conn, meeting_id)
    row = await open_submission(conn, meeting_id, sub_id)
    q = m.questions
    last = (await conn.execute(select(func.max(q.c.position)).where(q.c.meeting_id == meeting_id))).scalar()
    result = await conn.execute(
        insert(q)
        .values(
            meeting_id=meeting_id,
            position=int(last or 0) + 1,
            title=row.title,
            text=row.text,
            asker_id=row.deputy_id,
            group_id=row.group_id,
        )
        .returning(q.c.id)
    )
    qid = int(result.scalar_one())
    if row.wanted_official_id is not None:
        await conn.execute(
            insert(m.question_respondents).values(
                question_id=qid, official_id=row.wanted_official_id, position=0
            )
        )
    history = [*history_of(row), {"what": "approved", "who": who, "ms": now_ms, "question_id": qid}]
    await conn.execute(
        update(m.question_submissions)
        .where(m.question_submissions.c.id == sub_id)
        .values(
            status="approved",
            question_id=qid,
            history=json.dumps(history, ensure_ascii=False),
            updated_ms=now_ms,
        )
    )
    return qid


async def reorder(conn: AsyncConnection, meeting_id: int, order: Sequence[int]) -> None:
    """Positions 1..n in ``order``; questions left out keep their relative order after it."""
    await _not_started(conn, meeting_id)
    current = [q.id for q in await final_list(conn, meeting_id)]
    if any(i not in current for i in order):
        raise Invalid({"order": TEXT["not_in_list"]})
    wanted = list(dict.fromkeys(order)) + [i for i in current if i not in order]
    for pos, qid in enumerate(wanted, start=1):
        await conn.execute(update(m.questions).where(m.questions.c.id == qid).values(position=pos))


async def move(conn: AsyncConnection, meeting_id: int, question_id: int, up: bool) -> None:
    current = [q.id for q in await final_list(conn, meeting_id)]
    if question_id not in current:
        await _not_started(conn, meeting_id)
        raise Invalid({"order": TEXT["not_in_list"]})
    i = current.index(question_id)
    j = i - 1 if up else i + 1
    if 0 <= j < len(current):
        current[i], current[j] = current[j], current[i]
    await reorder(conn, meeting_id, current)


async def assign(
    conn: AsyncConnection, meeting_id: int, question_id: int, asker_id: int, official_ids: Sequence[int]
) -> None:
    """The asking deputy and the answering official(s), in order."""
    await _not_started(conn, meeting_id)
    row = await meeting(conn, meeting_id)
    if row is None or question_id not in [q.id for q in await final_list(conn, meeting_id)]:
        raise Invalid({"question": TEXT["not_in_list"]})
    errors: dict[str, str] = {}
    asker = await deputy(conn, row.body_id, asker_id)
    if asker is None:
        errors["asker"] = TEXT["deputy"]
    known = {o.id for o in await officials(conn, row.body_id)}
    chosen = list(dict.fromkeys(official_ids))
    if not chosen or any(o not in known for o in chosen):
        errors["respondents"] = TEXT["respondent"]
    if errors:
        raise Invalid(errors)
    await conn.execute(
        update(m.questions)
        .where(m.questions.c.id == question_id)
        .values(asker_id=asker_id, group_id=asker.group_id)
    )
    r = m.question_respondents
    await conn.execute(delete(r).where(r.c.question_id == question_id))
    for pos, oid in enumerate(chosen):
        await conn.execute(insert(r).values(question_id=question_id, official_id=oid, position=pos))
