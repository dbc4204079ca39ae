"""The office's audit trail: preparation work that is not in a meeting's event log.

A meeting's event log records everything that happens in the meeting (who, from which
device, when). Work on a body's roster, its officials, a meeting's rules and the cards
happens before, or beside, the meeting, and an event in the log would mean the meeting
has begun; so it is recorded here, in the same transaction as the change itself. Short
codes and passwords are credentials and are never written here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import second_of_ms
from server.storage import models as m

ACTIONS = {
    "card_reissued": "补发邀请卡",
    "roster_imported": "导入代表名册",
    "officials_imported": "导入应询人",
    "deputy_edited": "修改代表信息",
    "official_edited": "修改应询人",
    # responsible organs (承办单位) and their links (server/office/organs.py)
    "organs_imported": "导入承办单位",
    "organ_added": "添加承办单位",
    "organ_edited": "修改承办单位",
    "organ_link_revoked": "停用承办单位链接",
    "meeting_edited": "修改会议设置",
    "phone_bound": "绑定手机",
    "phone_moved": "改用另一部手机",
    "phone_released": "解除手机绑定",
    "phones_released": "批量解除手机绑定",
    "bind_failed": "验证码错误",
    "bind_refused": "拒绝绑定（锁定或等待中）",
    "card_locked": "锁定代表证",
    "card_unlocked": "解锁代表证",
    "cards_printed": "打印邀请卡",
    # bodies and their terms (server/office/bodies.py, terms.py)
    "body_created": "新建机构",
    "body_edited": "修改机构",
    "term_added": "新增届次",
    "term_edited": "修改届次",
    "session_added": "新增会次",
    "meeting_created": "新建会议",
    "rehearsal_created": "新建彩排",
    "rehearsal_reset": "重置彩排",
    "presidium_set": "设置主席团",
    "reviewer_granted": "授权审核问题",
    "reviewer_revoked": "取消审核授权",
    # a write on a meeting's question review board, by staff or a presidium member
    # (server/office/reviewers.py): who, in ``by``
    "question_reviewed": "审核问题",
    # members over time (server/office/mandates.py)
    "member_added": "补选代表",
    "mandate_started": "代表资格开始",
    "mandate_ended": "代表资格终止",
    "suspension_started": "暂停执行代表职务",
    "suspension_ended": "恢复执行代表职务",
    # leave and attendance (server/office/leave.py, attendance pages)
    "leave_asked": "请假申请",
    "leave_decided": "审批请假",
    "leave_recorded": "登记请假",
    "attendee_added": "添加列席旁听人员",
    "attendee_removed": "删除列席旁听人员",
    "attendance_corrected": "更正出勤记录",
    # a meeting moved in from another installation (server/office/move_import.py)
    "meeting_imported": "导入会议（从其他安装迁入）",
    # follow-up after the meeting (server/office/followup.py)
    "followup_decided": "记录交办决定",
    "followup_created": "新建督办事项",
    "followup_organs_set": "设置承办单位",
    "followup_committed": "添加承诺事项",
    "followup_status": "更改督办事项状态",
    # an organ's progress and replies, or staff's on its behalf (server/office/followup_posts.py)
    "followup_posted": "报送督办进展或答复",
    # the progress report to the next session (server/office/followup_report.py)
    "followup_report_made": "生成推进落实情况报告",
    # what of follow-up the public sees (server/office/followup_publish.py)
    "followup_public": "设置督办事项是否公开",
    "followup_post_approved": "批准办理记录公开",
    "followup_post_withdrawn": "撤回办理记录的公开",
    # 承诺事项 typed in the hall or before the 交办 decision (server/office/question_commitments.py)
    "question_committed": "记录问题的承诺事项",
    "question_commitment_removed": "删除问题的承诺事项",
    # the next session's agenda item that takes a progress report (server/office/agenda_reports.py)
    "agenda_report_added": "议程听取督办进展报告",
    # the deputies judge the handling on the phone (server/office/followup_deputy.py)
    "followup_judged": "代表评价督办答复",
    "followup_objected": "代表不同意办结",
    "followup_objection_withdrawn": "代表撤回不同意办结",
    # who took a copy of an attachment (server/office/followup_posts.py record_download)
    "followup_file_downloaded": "下载督办附件",
}


@dataclass(frozen=True)
class Entry:
    at_ms: int
    actor: str
    device: str
    action: str
    detail: dict[str, Any]

    @property
    def action_name(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def who(self) -> str:
        """The actor as the roster page shows it: a user name, or where a command ran."""
        role, _, name = self.actor.partition(":")
        if role == "cli":
            return f"命令行（{name}）"
        return str(self.detail.get("by") or name or role)

    @property
    def when(self) -> str:
        return second_of_ms(self.at_ms)


def who(actor: str) -> str:
    """The name in an actor (``staff:<username>`` → the username; an actor without a role
    stays whole), cut to the 64 characters the tables' ``recorded_by`` columns hold."""
    return (actor.partition(":")[2] or actor)[:64]


async def record(
    conn: AsyncConnection,
    action: str,
    *,
    actor: str,
    device: str,
    body_id: int | None = None,
    meeting_id: int | None = None,
    **detail: Any,
) -> None:
    assert action in ACTIONS, action
    await conn.execute(
        insert(m.audit).values(
            at_ms=time.time_ns() // 1_000_000,
            actor=actor[:96],
            device=device[:200],
            action=action,
            body_id=body_id,
            meeting_id=meeting_id,
            detail=json.dumps(detail, ensure_ascii=False),
        )
    )


# What phones do for themselves (one a deputy, at every first binding): in a meeting's
# audit trail, but not in the office's list of its own work on the roster page.
PHONE_ACTIONS = ("phone_bound", "phone_moved")
# Reads kept for who-saw-what (attachments downloaded): in the trail, not in that list.
QUIET_ACTIONS = (*PHONE_ACTIONS, "followup_file_downloaded")


async def entries(conn: AsyncConnection, body_id: int, limit: int = 50) -> list[Entry]:
    """The newest entries of the office's work on a body or any of its meetings."""
    meeting_ids = select(m.meetings.c.id).where(m.meetings.c.body_id == body_id)
    rows = await conn.execute(
        select(m.audit)
        .where(or_(m.audit.c.body_id == body_id, m.audit.c.meeting_id.in_(meeting_ids)))
        .where(m.audit.c.action.not_in(QUIET_ACTIONS))
        .order_by(m.audit.c.id.desc())
        .limit(limit)
    )
    return [Entry(r.at_ms, r.actor, r.device, r.action, json.loads(r.detail or "{}")) for r in rows]
