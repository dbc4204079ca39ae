"""The demo's meeting already held (issue 19): the term's second session, a 人大代表问政会
of some months ago, held through the hall's own action path, so `make run` shows its
proceedings, results, charts and the deputies' duty records at once.

Its setup is the one staff would prepare: four questions (the two the presidium later made
follow-up items, server/office/followup_demo_loop.py, one more asked and rated, and one
the sitting never reaches), a chair (主持人), a paragraph for the proceedings, and a
"代表小组述职" report item whose reporter is a deputies' group (the sitting rates the first
report item). The command (server/cli/serve.py ``demo_meeting``) then runs
server/record/sitting.py through server/record/hold.py at the meeting's real moment
(:func:`start_ms`: its day at its starting time, China time) — before the presidium's 交办
decision is recorded, so the items' rating lines (server/office/followup_hall.py) read the
results the hall announced. (The office imports neither the record nor the room: the
hold is the command's.)

`wenzheng serve --demo` and `wenzheng demo` (server/cli/serve.py ``demo_meeting``) load the
demo meeting, prepare and hold this one, then the follow-up demo; each step is idempotent:
a held meeting is not held again, a body with follow-up items gets none. The tests' demo
(tests/conftest.py) loads none of it; the follow-up tests call
server/office/followup_demo.py alone, which prepares this meeting without holding it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base import days
from server.office import agenda_reporters, final_list, meetings_admin, questions_admin, terms
from server.office.bodies import Who
from server.office.demo import BODY, GROUPS, OFFICIALS, PLACE, TERM
from server.storage import models as m

ACTOR, DEVICE = "demo", "wenzheng demo"
DAY_MS = 24 * 3600 * 1000
SESSION, KIND, KIND_LABEL = 2, "inquiry", "人大代表问政会"
PAST_TITLE = terms.meeting_title(BODY, TERM, SESSION, KIND_LABEL)
HELD_DAYS_AGO = 110  # the second session's day, before today
STARTS_AT = "09:00"
PREPARED_BEFORE = 14  # the meeting and its questions entered, days before it
CHAIR = "镇人大主席 蒋国华"
# The paragraph before the proceedings' body: who convened and who attended without a vote.
NOTE = (
    "本次会议由镇人民代表大会主席团召集。镇人民政府镇长沈立群，副镇长顾文涛、陆佳慧，"
    "镇农业农村办公室、建设管理办公室负责人到会应询；镇人大代表联络站工作人员列席会议。"
)
REPORTING_GROUP = GROUPS[0]  # 城东代表小组 reports on its duties
REPORT_ITEM = f"{REPORTING_GROUP}述职"


@dataclass(frozen=True)
class PastQuestion:
    title: str
    card_no: str  # the asking deputy
    official: int  # index into demo.OFFICIALS
    not_item: str = ""  # why the presidium did not make it a follow-up item ("": it did)


# In the order the hall takes them, each with the grade the sitting's rating pattern gives
# it. The two that become follow-up items are asked by cards 1007 and 1008, who judge the
# replies (followup_demo_loop.ASKED, in this order); the last is never reached (the sitting
# never reaches its last question). None is asked by cards 1001 to 1006, the askers of
# today's demo meeting, nor by the sitting's followers (cards 1004, 1011, 1018).
QUESTIONS = (
    PastQuestion(
        "镇卫生院夜间急诊力量不足，如何保障群众看病？",
        "1015",
        2,
        not_item="会上已作明确答复，夜间急诊医生已于会后增配到位，不再列为督办事项。",
    ),  # 满意
    PastQuestion("镇区主干道路灯损坏多、修复慢，如何建立长效维修机制？", "1007", 4),  # 基本满意
    PastQuestion("农村生活垃圾分类收运车辆不足的问题如何解决？", "1008", 3),  # 不满意
    PastQuestion(
        "集镇农贸市场周边占道经营如何长效治理？",
        "1016",
        1,
        not_item="会上未轮到，已转镇人民政府书面答复，并入下一年度集镇环境整治计划。",
    ),
)


@dataclass(frozen=True)
class Past:
    meeting_id: int
    question_ids: tuple[int, ...]  # in QUESTIONS's order


def held_day() -> dt.date:
    return days.today() - dt.timedelta(days=HELD_DAYS_AGO)


def start_ms(day: dt.date) -> int:
    """The meeting's starting moment: its day at its starting time, China time."""
    hour, minute = (int(x) for x in STARTS_AT.split(":"))
    return int(dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=days.CHINA).timestamp() * 1000)


async def find_past(conn: AsyncConnection) -> int | None:
    """The past meeting's id, if loaded."""
    found = (await conn.execute(select(m.meetings.c.id).where(m.meetings.c.title == PAST_TITLE))).scalar()
    return None if found is None else int(found)


async def prepare_past(conn: AsyncConnection, body_id: int) -> Past:
    """The past meeting as staff prepared it, made once; its questions' ids."""
    meeting_id = await find_past(conn)
    if meeting_id is None:
        meeting_id = await _create(conn, body_id)
    q = m.questions
    ids = (
        await conn.execute(select(q.c.id).where(q.c.meeting_id == meeting_id).order_by(q.c.position))
    ).scalars()
    return Past(meeting_id, tuple(int(i) for i in ids))


async def _create(conn: AsyncConnection, body_id: int) -> int:
    day = held_day()
    at = start_ms(day) - PREPARED_BEFORE * DAY_MS
    meeting_id = await meetings_admin.create(
        conn, body_id, KIND, at, held_on=day, starts_at=STARTS_AT, place=PLACE, session=str(SESSION),
        who=Who(ACTOR, DEVICE),
    )  # fmt: skip
    # The group's 述职 first, as staff add an item on the meeting's page and move it up.
    await meetings_admin.edit_agenda(
        conn, meeting_id, "agenda_add", {"item_kind": "report", "item_title": REPORT_ITEM}
    )
    item_id = int(
        (
            await conn.execute(
                select(func.max(m.agenda_items.c.id)).where(m.agenda_items.c.meeting_id == meeting_id)
            )
        ).scalar_one()
    )
    for _ in range(len(await meetings_admin.agenda(conn, meeting_id)) - 1):
        await meetings_admin.edit_agenda(conn, meeting_id, "agenda_up", {"item_id": str(item_id)})
    group_id = (
        await conn.execute(
            select(m.groups.c.id).where(m.groups.c.body_id == body_id, m.groups.c.name == REPORTING_GROUP)
        )
    ).scalar_one()
    await _staff_entries(conn, meeting_id, item_id, int(group_id))
    d, o = m.deputies, m.officials
    cards = {
        str(c): int(i)
        for c, i in await conn.execute(select(d.c.card_no, d.c.id).where(d.c.body_id == body_id))
    }
    officials = {
        str(n): int(i) for i, n in await conn.execute(select(o.c.id, o.c.name).where(o.c.body_id == body_id))
    }
    # Each asker submits a question, the presidium approves it and assigns who answers.
    for n, pq in enumerate(QUESTIONS):
        asker, official = cards[pq.card_no], officials[OFFICIALS[pq.official][0]]
        wanted = {"title": pq.title, "text": "", "official": str(official)}
        sub = await questions_admin.submit(conn, meeting_id, asker, wanted, at + n, entered_by=ACTOR)
        qid = await final_list.approve(conn, meeting_id, sub, ACTOR, at + n)
        await final_list.assign(conn, meeting_id, qid, asker, [official])
    return meeting_id


async def _staff_entries(conn: AsyncConnection, meeting_id: int, item_id: int, group_id: int) -> None:
    """Who reports on the 述职 item and the chair, as staff enter them on the meeting's edit
    page, and the paragraph of the proceedings (its form, server/record/proceedings_store.py,
    is the record's, which the office does not import: the column is written here)."""
    who = Who(ACTOR, DEVICE)
    meeting = await meetings_admin.meeting_row(conn, meeting_id)
    form = {"item_id": str(item_id), "reporter": f"group:{group_id}"}
    await agenda_reporters.save(conn, meeting_id, meeting, form, who)
    await meetings_admin.save_chair(conn, meeting_id, meeting, CHAIR, who)
    mt = m.meetings
    await conn.execute(update(mt).where(mt.c.id == meeting_id).values(record_note=NOTE))
