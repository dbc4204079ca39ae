"""Mapping a moved meeting's body and people to the office's (`wenzheng meeting import`).

The body by name (or the one named with ``--body``), groups by name, deputies by card
number and name within the body, officials by name and title, terms by number, sessions
by term and number. Only what the meeting needs must map: the deputies it names
anywhere (its log, receipts, records, leave, questions) and every member on its day
(应到 counts them), the officials it names, its term and session. What does not map is
named in the refusal, or, with ``add_missing``, created as the file has it (a deputy with
a fresh short code and the mandates and suspensions the file holds).

A meeting reads the same only if its members on its day are the same: after mapping,
the office's members on that day (who, in which group, suspended or not) must be the
file's, or the import is refused with the differences named.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office.imports import new_short_code
from server.office.move_format import MoveRefused
from server.office.move_ids import DEPUTY, EVENT_ID_FIELDS, IdMap
from server.storage import members
from server.storage import models as m
from server.storage.table_rows import decode

_DEPUTY_ACTOR = re.compile(r"^deputy:(\d+)$")


def _covers(row: dict[str, Any], day: dt.date) -> bool:
    return str(row["starts_on"]) <= day.isoformat() and (
        row["ends_on"] is None or str(row["ends_on"]) > day.isoformat()
    )


def named_deputies(payload: dict[str, Any]) -> set[int]:
    """Every deputy id the meeting's rows name."""
    t = payload["tables"]
    found: set[int] = set()

    def actor(text: Any) -> None:
        hit = _DEPUTY_ACTOR.match(str(text or ""))
        if hit:
            found.add(int(hit.group(1)))

    for e in t["events"]:
        actor(e["actor"])
        fields = EVENT_ID_FIELDS.get(e["type"], {})
        data = _json(e["data"])
        for name, kind in fields.items():
            if kind == DEPUTY and isinstance(data.get(name), int):
                found.add(data[name])
    for name in ("attendance_records", "rating_receipts", "vote_receipts", "meeting_reviewers"):
        found.update(r["deputy_id"] for r in t[name])
    for r in t["leave_requests"]:
        found.add(r["deputy_id"])
        actor(r["asked_by"])
        actor(r["decided_by"])
    found.update(q["asker_id"] for q in t["questions"] if q["asker_id"] is not None)
    # Who reports on an item (migration 0016); a file from before it has no such column.
    found.update(
        a["reporter_deputy_id"] for a in t["agenda_items"] if a.get("reporter_deputy_id") is not None
    )
    for s in t["question_submissions"]:
        found.add(s["deputy_id"])
        found.update(int(p) for p in str(s["co_proposers"] or "").split(",") if p.strip().isdigit())
    return found


def _json(raw: str) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise MoveRefused("文件中的事件数据已损坏。") from exc
    if not isinstance(value, dict):
        raise MoveRefused("文件中的事件数据已损坏。")
    return value


def meeting_day(payload: dict[str, Any]) -> dt.date | None:
    held = payload["meeting"].get("held_on")
    return dt.date.fromisoformat(held) if held else None


def file_members(payload: dict[str, Any], day: dt.date) -> dict[int, bool]:
    """Deputy id -> suspended, for the file's members on ``day``."""
    on = {r["deputy_id"] for r in payload["mandates"] if _covers(r, day)}
    suspended = {r["deputy_id"] for r in payload["suspensions"] if _covers(r, day)}
    return {d: d in suspended for d in on}


async def _one(conn: AsyncConnection, stmt: Any) -> int | None:
    found = (await conn.execute(stmt)).scalar()
    return int(found) if found is not None else None


async def map_people(
    conn: AsyncConnection, payload: dict[str, Any], ids: IdMap, body_name: str | None, add_missing: bool
) -> list[str]:
    """Fill ``ids`` for body, groups, deputies, officials, terms, sessions; lines said."""
    said: list[str] = []
    missing: list[str] = []
    body = payload["body"]
    name = body_name or body["name"]
    body_id = await _one(conn, select(m.bodies.c.id).where(m.bodies.c.name == name))
    if body_id is None:
        if not add_missing or body_name:
            raise MoveRefused(
                f"本机没有机构“{name}”。请先建立该机构，或用 --body 指定，或加 --add-missing 自动新建。"
            )
        row = decode(m.bodies, body) | {"name": name}
        row.pop("id")
        body_id = int(
            (await conn.execute(insert(m.bodies).values(row).returning(m.bodies.c.id))).scalar_one()
        )
        said.append(f"新建机构“{name}”")
    ids.set("body", body["id"], body_id)

    groups = {g["id"]: g for g in payload["groups"]}
    deputies = {d["id"]: d for d in payload["deputies"]}
    day = meeting_day(payload)
    on_day = file_members(payload, day) if day else {}
    needed = named_deputies(payload) | set(on_day)
    unknown = needed - set(deputies)
    if unknown:
        raise MoveRefused(f"文件不完整：引用了名册中没有的代表（编号 {sorted(unknown)[:5]}）。")

    async def group(old: int) -> int | None:
        if old in ids.ids.get("group", {}):
            return ids.ids["group"][old]
        g = groups.get(old)
        if g is None:
            raise MoveRefused(f"文件不完整：引用了不存在的代表小组（编号 {old}）。")
        gc = m.groups.c
        new = await _one(conn, select(gc.id).where(gc.body_id == body_id, gc.name == g["name"]))
        if new is None and add_missing:
            values = {"body_id": body_id, "name": g["name"], "position": g["position"]}
            new = int((await conn.execute(insert(m.groups).values(values).returning(gc.id))).scalar_one())
            said.append(f"新建代表小组“{g['name']}”")
        if new is None:
            missing.append(f"代表小组“{g['name']}”")
            return None
        ids.set("group", old, new)
        return new

    created: set[int] = set()
    for old in sorted(needed):
        d = deputies[old]
        dc = m.deputies.c
        found = (
            await conn.execute(
                select(dc.id, dc.name).where(dc.body_id == body_id, dc.card_no == d["card_no"])
            )
        ).first()
        if found is not None and found.name != d["name"]:
            missing.append(f"代表{d['name']}（卡号 {d['card_no']}，本机此卡号是{found.name}）")
            continue
        new = int(found.id) if found is not None else None
        if new is None and add_missing:
            group_id = await group(d["group_id"])
            if group_id is None:
                continue
            values = {
                "body_id": body_id,
                "group_id": group_id,
                "name": d["name"],
                "card_no": d["card_no"],
                "short_code": new_short_code(),
            }
            new = int((await conn.execute(insert(m.deputies).values(values).returning(dc.id))).scalar_one())
            created.add(old)
        if new is None:
            missing.append(f"代表{d['name']}（卡号 {d['card_no']}）")
            continue
        ids.set(DEPUTY, old, new)
    for q in payload["tables"]["questions"]:
        if q["group_id"] is not None:
            await group(q["group_id"])
    for s in payload["tables"]["question_submissions"]:
        await group(s["group_id"])
    for a in payload["tables"]["agenda_items"]:
        if a.get("reporter_group_id") is not None:  # a group reports on the item (述职评议)
            await group(a["reporter_group_id"])
    await _officials(conn, payload, ids, body_id, add_missing, said, missing)
    await _term_and_session(conn, payload, ids, body_id, add_missing, said, missing)
    missing = list(dict.fromkeys(missing))  # a group named by several rows, once
    if missing:
        raise MoveRefused(
            "以下内容在本机找不到对应，未导入任何内容（可先在本机补齐，或加 --add-missing 按文件新建）："
            + "、".join(missing[:20])
            + (f" 等 {len(missing)} 项" if len(missing) > 20 else "")
        )
    for table, key in ((m.mandates, "mandates"), (m.suspensions, "suspensions")):
        for r in payload[key]:
            if r["deputy_id"] in created:
                row = decode(table, r)
                row.pop("id")
                await conn.execute(insert(table).values(row | {"deputy_id": ids.of(DEPUTY, r["deputy_id"])}))
    if created:
        said.append(f"新建代表 {len(created)} 名（按文件中的代表资格；邀请卡需在本机重新打印）")
    if day is not None:
        await _same_members(conn, payload, ids, body_id, day, on_day, groups)
    return said


async def _officials(
    conn: AsyncConnection,
    payload: dict[str, Any],
    ids: IdMap,
    body_id: int,
    add_missing: bool,
    said: list[str],
    missing: list[str],
) -> None:
    t = payload["tables"]
    wanted = {a["official_id"] for a in t["attendees"]} | {
        r["official_id"] for r in t["question_respondents"]
    }
    wanted |= {s["wanted_official_id"] for s in t["question_submissions"]}
    officials = {o["id"]: o for o in payload["officials"]}
    oc = m.officials.c
    for old in sorted(w for w in wanted if w is not None):
        o = officials.get(old)
        if o is None:
            raise MoveRefused(f"文件不完整：引用了不存在的应询人（编号 {old}）。")
        stmt = select(oc.id).where(oc.body_id == body_id, oc.name == o["name"], oc.title == o["title"])
        new = await _one(conn, stmt.order_by(oc.id))
        if new is None and add_missing:
            values = {
                "body_id": body_id,
                "name": o["name"],
                "title": o["title"],
                "organisation": o["organisation"],
            }
            new = int((await conn.execute(insert(m.officials).values(values).returning(oc.id))).scalar_one())
            said.append(f"新建应询人“{o['name']}（{o['title']}）”")
        if new is None:
            missing.append(f"应询人{o['name']}（{o['title']}）")
            continue
        ids.set("official", old, new)


async def _term_and_session(
    conn: AsyncConnection,
    payload: dict[str, Any],
    ids: IdMap,
    body_id: int,
    add_missing: bool,
    said: list[str],
    missing: list[str],
) -> None:
    meeting = payload["meeting"]
    terms = {t["id"]: t for t in payload["terms"]}
    sessions = {s["id"]: s for s in payload["sessions"]}
    if meeting["term_id"] is None:
        return
    term = terms.get(meeting["term_id"])
    if term is None:
        raise MoveRefused("文件不完整：会议所属届次不在文件中。")
    tc = m.terms.c
    term_id = await _one(conn, select(tc.id).where(tc.body_id == body_id, tc.number == term["number"]))
    if term_id is None and add_missing:
        row = decode(m.terms, term) | {"body_id": body_id}
        row.pop("id")
        term_id = int((await conn.execute(insert(m.terms).values(row).returning(tc.id))).scalar_one())
        said.append(f"新建第{term['number']}届")
    if term_id is None:
        missing.append(f"第{term['number']}届")
        return
    ids.set("term", term["id"], term_id)
    if meeting["session_id"] is None:
        return
    session = sessions.get(meeting["session_id"])
    if session is None:
        raise MoveRefused("文件不完整：会议所属会次不在文件中。")
    sc = m.sessions.c
    session_id = await _one(conn, select(sc.id).where(sc.term_id == term_id, sc.number == session["number"]))
    if session_id is None and add_missing:
        values = {"term_id": term_id, "number": session["number"]}
        session_id = int(
            (await conn.execute(insert(m.sessions).values(values).returning(sc.id))).scalar_one()
        )
        said.append(f"新建第{term['number']}届第{session['number']}次会议会次")
    if session_id is None:
        missing.append(f"第{term['number']}届第{session['number']}次会议会次")
        return
    ids.set("session", session["id"], session_id)


async def _same_members(
    conn: AsyncConnection,
    payload: dict[str, Any],
    ids: IdMap,
    body_id: int,
    day: dt.date,
    on_day: dict[int, bool],
    groups: dict[int, dict[str, Any]],
) -> None:
    deputies = {d["id"]: d for d in payload["deputies"]}

    def label(name: str, card: str) -> str:
        return f"{name}（卡号 {card}）"

    theirs = {
        ids.of(DEPUTY, old): (groups[deputies[old]["group_id"]]["name"], suspended)
        for old, suspended in on_day.items()
    }
    office = await members.on_day(conn, body_id, day)
    dc, gc = m.deputies.c, m.groups.c
    rows = await conn.execute(
        select(dc.id, dc.name, dc.card_no, gc.name.label("group_name"))
        .join(m.groups, gc.id == dc.group_id)
        .where(dc.body_id == body_id)
    )
    ours: dict[int, tuple[str, bool]] = {}
    names: dict[int, str] = {}
    for r in rows:
        names[r.id] = label(r.name, r.card_no)
        if r.id in office.members:
            ours[r.id] = (r.group_name, r.id in office.suspended)
    differ = sorted(d for d in set(theirs) | set(ours) if theirs.get(d) != ours.get(d))
    if differ:
        shown = "、".join(names[d] for d in differ[:20])
        raise MoveRefused(
            f"会议当日（{day.isoformat()}）的代表构成与本机不一致，导入后应到人数、小组或暂停情况会不同："
            f"{shown}{' 等' if len(differ) > 20 else ''}。请先在本机核对这些代表的资格、小组和暂停记录。"
        )
