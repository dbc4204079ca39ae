"""The demo meeting: a town congress's mid-year session with an inquiry session.

A fictional town (清溪镇) whose congress is in its 17th term (from 2022-01-06, sessions 1
and 2 behind it), with 48 deputies in 6 groups, 5 officials and 6 approved questions, in
the shape DOMAIN.md describes: each group proposed questions, the presidium kept six, and
each group sends one deputy to ask. The meeting is the term's third session, held today at
14:30. Everything loads through the functions an office uses from an empty database.
Loading is idempotent.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.base.keys import hash_password
from server.office import final_list, meetings_admin, questions_admin, schedule, terms
from server.office.bodies import Who, create_body
from server.office.exports import roster_csv
from server.office.imports import import_officials
from server.office.roster_import import import_roster
from server.storage import models as m

BODY = "清溪镇人民代表大会"
MEETING = "清溪镇第十七届人民代表大会第三次会议（年中人代会）"
TERM, TERM_FROM, PAST_SESSIONS = 17, dt.date(2022, 1, 6), (1, 2)
STARTS_AT, PLACE = "14:30", "镇人大会议室"
WHO = Who("demo", "wenzheng demo")
GROUPS = ["城东代表小组", "城西代表小组", "南塘代表小组", "北港代表小组", "新桥代表小组", "农场代表小组"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = [
    "建国",
    "秀英",
    "志强",
    "丽华",
    "海峰",
    "春梅",
    "国平",
    "晓燕",
    "卫东",
    "桂兰",
    "德明",
    "玉珍",
    "文斌",
    "美玲",
    "振华",
    "红霞",
    "伟民",
    "淑芬",
    "立新",
    "慧敏",
    "永康",
    "雪琴",
    "金海",
    "爱华",
]
OFFICIALS = [
    ("沈立群", "镇长", "清溪镇人民政府"),
    ("顾文涛", "副镇长", "清溪镇人民政府"),
    ("陆佳慧", "副镇长", "清溪镇人民政府"),
    ("钱建明", "农业农村办公室主任", "清溪镇人民政府"),
    ("方志远", "建设管理办公室主任", "清溪镇人民政府"),
]
AGENDA = [
    ("report", "听取镇人民政府上半年工作报告"),
    ("report", "听取关于政府民生实事项目进展情况的报告"),
    ("inquiry", "人大代表问政会"),
]
QUESTIONS = [
    ("农民建房审批慢、手续多的问题何时解决？", 0, [1, 4]),
    ("南塘农贸市场改造工程为何一再延期？", 2, [2]),
    ("农业废弃物集中收集处理能否覆盖所有行政村？", 5, [3]),
    ("城西老旧小区加装电梯和雨污分流进展如何？", 1, [2, 4]),
    ("北港村道路面破损严重，养护责任如何落实？", 3, [4]),
    ("居家养老服务中心建成后如何保证正常运营？", 4, [0]),
]
DEMO_PASSWORD = "wenzheng-demo"


@dataclass(frozen=True)
class DemoInfo:
    meeting_id: int
    chair_user: str
    chair_password: str


def deputy_name(i: int) -> str:
    return SURNAMES[(i * 7) % len(SURNAMES)] + GIVEN[(i * 5 + i // 6) % len(GIVEN)]


async def load_demo(conn: AsyncConnection) -> DemoInfo:
    existing = (await conn.execute(select(m.meetings.c.id).where(m.meetings.c.title == MEETING))).scalar()
    if existing is not None:
        return DemoInfo(existing, "chair", DEMO_PASSWORD)
    now = int(time.time() * 1000)
    # The same path as an office's first run: the body, its term and sessions, the roster,
    # the officials, the meeting (server/office/bodies.py, terms.py, roster_import.py).
    found = (await conn.execute(select(m.bodies.c.id).where(m.bodies.c.name == BODY))).scalar()
    body_id = int(found) if found is not None else await create_body(conn, BODY, "congress", "town", WHO)
    term = await terms.term_by_number(conn, body_id, TERM)
    term_id = term.id if term is not None else await terms.add_term(conn, body_id, TERM, TERM_FROM, None, WHO)
    for number in PAST_SESSIONS:
        if number not in {s.number for s in await terms.sessions_of(conn, term_id)}:
            await terms.add_session(conn, term_id, number, WHO)
    # The roster goes through the same import as an office's spreadsheet, which draws
    # each card's short code (the demo's are as unguessable as an office's).
    roster = [
        {"name": deputy_name(i), "group": GROUPS[i % len(GROUPS)], "card_no": f"{1001 + i}"}
        for i in range(48)
    ]
    plan = await import_roster(conn, body_id, roster_csv(roster), "demo.csv", create_groups=True)
    if plan.errors:
        raise RuntimeError("the demo roster does not import: " + "; ".join(e.text() for e in plan.errors))
    by_card = {
        str(card): int(did)
        for card, did in await conn.execute(
            select(m.deputies.c.card_no, m.deputies.c.id).where(m.deputies.c.body_id == body_id)
        )
    }
    deputy_ids: list[list[int]] = [[] for _ in GROUPS]
    for i in range(48):
        deputy_ids[i % len(GROUPS)].append(by_card[f"{1001 + i}"])
    officials_csv = "姓名,职务,单位\n" + "".join(f"{n},{t},{o}\n" for n, t, o in OFFICIALS)
    official_plan = await import_officials(conn, body_id, officials_csv.encode("utf-8"), "应询人.csv")
    if official_plan.errors:
        raise RuntimeError("the demo officials do not import")
    by_name = {
        str(name): int(oid)
        for oid, name in await conn.execute(
            select(m.officials.c.id, m.officials.c.name).where(m.officials.c.body_id == body_id)
        )
    }
    official_ids = [by_name[name] for name, _, _ in OFFICIALS]
    meeting_id = await meetings_admin.create(
        conn,
        body_id,
        "mid_year",
        now,
        held_on=today(),
        starts_at=STARTS_AT,
        place=PLACE,
        session=schedule.NEW,
        who=WHO,
    )
    title = (await conn.execute(select(m.meetings.c.title).where(m.meetings.c.id == meeting_id))).scalar_one()
    assert title == MEETING, title  # built from the body, term and session, as an office's would be
    # The demo's own agenda, in place of the kind's default one (as staff would edit it).
    await conn.execute(delete(m.agenda_items).where(m.agenda_items.c.meeting_id == meeting_id))
    for pos, (kind, item_title) in enumerate(AGENDA, start=1):
        await conn.execute(
            insert(m.agenda_items).values(meeting_id=meeting_id, position=pos, kind=kind, title=item_title)
        )
    # The questions go the way real ones do: each group's deputy submits one, the
    # presidium approves it into the final list and assigns who answers.
    for title, group, respondents in QUESTIONS:
        asker = deputy_ids[group][0]
        wanted = {"title": title, "text": "", "official": str(official_ids[respondents[0]])}
        submission = await questions_admin.submit(conn, meeting_id, asker, wanted, now, entered_by="demo")
        qid = await final_list.approve(conn, meeting_id, submission, "demo", now)
        await final_list.assign(conn, meeting_id, qid, asker, [official_ids[o] for o in respondents])
    exists = (await conn.execute(select(m.users.c.id).where(m.users.c.username == "chair"))).scalar()
    if exists is None:
        await conn.execute(
            insert(m.users).values(
                username="chair",
                display_name="演示主持人",
                password_hash=hash_password(DEMO_PASSWORD),
                roles="chair,staff,admin",
                created_ms=now,
            )
        )
    return DemoInfo(meeting_id, "chair", DEMO_PASSWORD)
