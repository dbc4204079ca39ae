"""The first run: where an office stands on the way from an empty database to a meeting.

An install starts empty (no demo). The guide at ``/start`` reads these steps from the
records themselves, never from a flag of its own, so it stays true whichever page or
command did the work: a body, its term covering today, its members, its officials, a
meeting, its final list of questions when its agenda has a 问政 item (nothing to do
otherwise), its cards printed (the audit trail says so), the console opened.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.storage import members
from server.storage import models as m


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    done: bool
    href: str  # where the step is done ("" when an earlier step must come first)
    hint: str


@dataclass(frozen=True)
class Progress:
    body_name: str  # "" before the first body
    steps: tuple[Step, ...]

    @property
    def next(self) -> Step | None:
        return next((s for s in self.steps if not s.done), None)


async def _latest(conn: AsyncConnection, table: Table, **where: int) -> int | None:
    query = select(func.max(table.c.id))
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    found = (await conn.execute(query)).scalar()
    return int(found) if found is not None else None


async def _questions_ready(conn: AsyncConnection, meeting_id: int) -> bool:
    """The final list has a question, or the agenda has no 问政 item that would call one."""
    a, q = m.agenda_items, m.questions
    inquiry = select(exists().where(a.c.meeting_id == meeting_id, a.c.kind == "inquiry"))
    if not (await conn.execute(inquiry)).scalar():
        return True
    return bool((await conn.execute(select(exists().where(q.c.meeting_id == meeting_id)))).scalar())


async def progress(conn: AsyncConnection, *, password_changed: bool) -> Progress:
    """The steps for the body set up last (an office's first body, usually)."""
    body_id = await _latest(conn, m.bodies)
    body_name = ""
    has_term = has_members = has_officials = printed = begun = False
    questions_ready = False
    meeting_id = None
    if body_id is not None:
        body_name = str(
            (await conn.execute(select(m.bodies.c.name).where(m.bodies.c.id == body_id))).scalar()
        )
        t = m.terms
        now = today()
        has_term = bool(
            (
                await conn.execute(
                    select(
                        exists().where(
                            t.c.body_id == body_id,
                            t.c.starts_on <= now,
                            (t.c.ends_on.is_(None)) | (t.c.ends_on > now),
                        )
                    )
                )
            ).scalar()
        )
        has_members = bool((await members.on_day(conn, body_id, now)).members)
        has_officials = await _latest(conn, m.officials, body_id=body_id) is not None
        meeting_id = (
            await conn.execute(
                select(func.max(m.meetings.c.id)).where(
                    m.meetings.c.body_id == body_id, m.meetings.c.rehearsal.is_(False)
                )
            )
        ).scalar()
        if meeting_id is not None:
            printed = bool(
                (
                    await conn.execute(
                        select(
                            exists().where(
                                m.audit.c.meeting_id == meeting_id, m.audit.c.action == "cards_printed"
                            )
                        )
                    )
                ).scalar()
            )
            begun = await _latest(conn, m.events, meeting_id=int(meeting_id)) is not None
            questions_ready = await _questions_ready(conn, int(meeting_id))
    body = f"/bodies/{body_id}" if body_id is not None else ""
    meeting = f"/m/{meeting_id}" if meeting_id is not None else ""
    steps = (
        Step(
            "password",
            "修改一次性密码",
            password_changed,
            "/account/password",
            "用自己设定的密码替换安装时打印的一次性密码。",
        ),
        Step(
            "body",
            "新建机构",
            body_id is not None,
            "/bodies/new",
            "人民代表大会或人大常委会；机构的类别决定法定人数和表决规则。",
        ),
        Step(
            "term",
            "设置届次",
            has_term,
            body,
            "如“第十七届”，写明起始日期；人代会还要设置会次（第三次会议）。",
        ),
        Step(
            "roster",
            "导入代表名册",
            has_members,
            f"{body}/roster" if body else "",
            "Excel 或 CSV：姓名、代表小组、卡号；应到人数按会议当天在任的代表计算。",
        ),
        Step(
            "officials",
            "导入应询人",
            has_officials,
            f"{body}/roster" if body else "",
            "回答询问的政府部门负责人：姓名、职务、单位。",
        ),
        Step(
            "meeting",
            "新建会议",
            meeting_id is not None,
            f"/meetings/new?body={body_id}" if body_id is not None else "",
            "选择会议类型，填写日期、时间和地点；会议名称按届次和会次生成，可修改。",
        ),
        Step(
            "questions",
            "确定问题清单",
            questions_ready,
            f"{meeting}/review" if meeting else "",
            "议程中有问政时：征集、审核代表的问题，排定提问顺序，指定提问代表和应询人。",
        ),
        Step(
            "cards",
            "打印邀请卡",
            printed,
            f"{meeting}/cards" if meeting else "",
            "每位代表一张，卡上的二维码让手机绑定代表证。",
        ),
        Step(
            "console",
            "打开主持台",
            begun,
            f"{meeting}/console" if meeting else "",
            "开始签到，宣布到会人数，进入议程。",
        ),
    )
    return Progress(body_name, steps)
