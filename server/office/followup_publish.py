"""What of follow-up (督办) the public may see: staff decide, item by item and post by post.

The body's public page (server/office/followup_public.py) speaks in the congress's name,
so nothing reaches it by default:

- an item is on it only while staff have marked it public (``followup_items.public``);
- a post's text is on it only after staff approved that post (``public_approved``, with
  ``approved_by`` and ``approved_at_ms``); withdrawing the approval takes it off again.
  A post that changes the status (a reply, 办结, 重新办理) shows the change itself — the
  day and the new status — without approval, because the item's status is on the page
  anyway and its history must agree with it; its text waits for approval like any other.

Every function runs inside the caller's transaction, checks everything before it writes,
raises :class:`Invalid` with a Chinese message (nothing written) and leaves an entry in
the audit trail. Asking for what already holds (public twice, approving an approved post)
writes nothing and returns False, so a double click leaves one entry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office.meeting_forms import Invalid
from server.storage import audit
from server.storage import models as m

TEXT = {
    "no_item": "找不到这个督办事项。",
    "no_post": "这条办理记录不属于这个督办事项。",
}


async def _item(conn: AsyncConnection, item_id: int) -> Any:
    fi = m.followup_items
    row = (await conn.execute(select(fi.c.id, fi.c.body_id, fi.c.public).where(fi.c.id == item_id))).first()
    if row is None:
        raise Invalid({"item": TEXT["no_item"]})
    return row


async def _post(conn: AsyncConnection, item_id: int, post_id: int) -> Any:
    p = m.followup_posts
    row = (
        await conn.execute(
            select(p.c.id, p.c.kind, p.c.public_approved, p.c.approved_by).where(
                p.c.id == post_id, p.c.item_id == item_id
            )
        )
    ).first()
    if row is None:
        raise Invalid({"post": TEXT["no_post"]})
    return row


async def set_public(
    conn: AsyncConnection, item_id: int, public: bool, *, actor: str, device: str
) -> tuple[int, bool]:
    """Put the item on the body's public page or take it off. Returns (body id, changed)."""
    item = await _item(conn, item_id)
    if bool(item.public) == public:
        return int(item.body_id), False
    fi = m.followup_items
    await conn.execute(update(fi).where(fi.c.id == item_id).values(public=public))
    await audit.record(
        conn,
        "followup_public",
        actor=actor,
        device=device,
        body_id=int(item.body_id),
        item=item_id,
        public=public,
        summary=f"督办事项 {item_id}：{'向社会公开' if public else '不再公开'}",
    )
    return int(item.body_id), True


async def approve_post(
    conn: AsyncConnection, item_id: int, post_id: int, *, actor: str, device: str, now_ms: int
) -> tuple[int, bool]:
    """Approve one post of the item for the public page. Returns (body id, changed)."""
    item = await _item(conn, item_id)
    post = await _post(conn, item_id, post_id)
    if post.public_approved:
        return int(item.body_id), False
    p = m.followup_posts
    # Guarded by the flag read above: two staff approving at once leave one approver.
    done = await conn.execute(
        update(p)
        .where(p.c.id == post_id, p.c.public_approved.is_(False))
        .values(public_approved=True, approved_by=audit.who(actor), approved_at_ms=now_ms)
    )
    if done.rowcount != 1:
        return int(item.body_id), False
    await audit.record(
        conn,
        "followup_post_approved",
        actor=actor,
        device=device,
        body_id=int(item.body_id),
        item=item_id,
        post=post_id,
        kind=str(post.kind),
        summary=f"督办事项 {item_id}：批准第 {post_id} 条办理记录公开",
    )
    return int(item.body_id), True


async def withdraw_post(
    conn: AsyncConnection, item_id: int, post_id: int, *, actor: str, device: str
) -> tuple[int, bool]:
    """Withdraw a post's approval: its text leaves the public page. Returns (body id, changed)."""
    item = await _item(conn, item_id)
    post = await _post(conn, item_id, post_id)
    if not post.public_approved:
        return int(item.body_id), False
    p = m.followup_posts
    done = await conn.execute(
        update(p)
        .where(p.c.id == post_id, p.c.public_approved.is_(True))
        .values(public_approved=False, approved_by="", approved_at_ms=None)
    )
    if done.rowcount != 1:
        return int(item.body_id), False
    await audit.record(
        conn,
        "followup_post_withdrawn",
        actor=actor,
        device=device,
        body_id=int(item.body_id),
        item=item_id,
        post=post_id,
        approved_by=str(post.approved_by),  # whose approval is withdrawn: the entry keeps it
        summary=f"督办事项 {item_id}：撤回第 {post_id} 条办理记录的公开",
    )
    return int(item.body_id), True
