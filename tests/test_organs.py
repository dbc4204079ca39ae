"""Responsible organs (承办单位): the import, staff's own edits, and each organ's link.

Office functions on a fresh database (no demo): an import with bad rows names every one
and writes nothing; a good one inserts, a second updates contacts, keeps a stored value
for an empty cell and never deletes an organ. The link: an organ's link opens that organ
only, and only the items it leads or assists with; a revoked link says so; a forged one
(tampered, or another signer's token with the same numbers) opens nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.office import organs
from server.office.sheets import ImportRefused
from server.storage import models as m
from server.web.request_log import redact_path
from tests.test_bodies import Office, office  # noqa: F401  (the fixture)

ACTOR = "staff:test"
BAD_CSV = (
    "序号,单位名称,联系人,联系电话\n"
    "1,县住房和城乡建设局,王明,0573-12345678\n"
    "2,,李华,13800000000\n"  # no name
    "3,县交通运输局,赵强,12345\n"  # not a phone
    "4,县住房和城乡建设局,钱七,\n"  # the name again
    "5,=HYPERLINK(1),孙八,\n"  # a formula
).encode("gb18030")
GOOD_CSV = "单位名称,联系人,联系电话\n县住房和城乡建设局,王明,0573-12345678\n县交通运输局,赵强,13900000001\n"


def new_body(db: Office, name: str = "某县人大常委会") -> int:
    async def fn(conn: AsyncConnection) -> int:
        result = await conn.execute(
            insert(m.bodies)
            .values(name=name, kind="standing-committee", level="county")
            .returning(m.bodies.c.id)
        )
        return int(result.scalar_one())

    return int(db.run(fn))


def listed(db: Office, body_id: int) -> list[tuple[str, str, str]]:
    async def fn(conn: AsyncConnection) -> list[organs.Organ]:
        return await organs.organs_of(conn, body_id)

    return [(o.name, o.contact, o.phone) for o in db.run(fn)]


def do_import(db: Office, body_id: int, data: bytes, name: str = "单位.csv", **kw: Any) -> organs.OrgansPlan:
    async def fn(conn: AsyncConnection) -> organs.OrgansPlan:
        return await organs.import_organs(conn, body_id, data, name, actor=ACTOR, **kw)

    plan: organs.OrgansPlan = db.run(fn)
    return plan


def test_import_names_every_bad_row_and_writes_nothing(office: Office) -> None:  # noqa: F811
    body_id = new_body(office)
    before = office.digest()
    plan = do_import(office, body_id, BAD_CSV)
    texts = [e.text() for e in plan.errors]
    assert texts == [
        "第 3 行「单位名称」：单位名称不能为空",
        "第 4 行「联系电话」：“12345”不是有效的电话号码（手机号 11 位，座机如 0573-12345678）",
        "第 5 行「单位名称」：“县住房和城乡建设局”与第 2 行重复",
        "第 6 行「单位名称」：不接受公式（以 =、+、-、@ 开头的内容），请填写文字",
    ], texts
    assert plan.ignored == ("序号",) and not plan.written
    assert office.digest() == before  # all or nothing: the good first row is not written either
    with pytest.raises(ImportRefused, match="第一行缺少列：单位名称"):
        do_import(office, body_id, "联系人,联系电话\n王明,13800000000\n".encode())
    assert office.digest() == before


def test_import_inserts_then_updates_contacts_and_never_deletes(office: Office) -> None:  # noqa: F811
    body_id = new_body(office)
    other = new_body(office, "另一个县人大常委会")
    dry = do_import(office, body_id, GOOD_CSV.encode(), dry_run=True)
    assert dry.summary() == "新增 2 个单位，更新 0 个单位" and listed(office, body_id) == []
    assert do_import(office, body_id, GOOD_CSV.encode()).written
    assert listed(office, body_id) == [
        ("县住房和城乡建设局", "王明", "0573-12345678"),
        ("县交通运输局", "赵强", "13900000001"),
    ]
    # Again, from XLSX-like text: a new contact, an empty phone cell, one organ not listed.
    again = "单位名称,联系人,联系电话\n县交通运输局,周敏,\n县卫生健康局,吴刚,13900000002\n"
    plan = do_import(office, body_id, again.encode("utf-8-sig"))
    assert plan.summary() == "新增 1 个单位，更新 1 个单位"
    assert listed(office, body_id) == [
        ("县住房和城乡建设局", "王明", "0573-12345678"),  # not in the file: kept
        ("县交通运输局", "周敏", "13900000001"),  # the empty cell kept the phone
        ("县卫生健康局", "吴刚", "13900000002"),
    ]
    assert listed(office, other) == []  # names are per body
    assert [a for a in office.audit() if a[0] == "organs_imported"] == [("organs_imported", ACTOR)] * 2


def test_add_and_edit_refuse_bad_input_and_change_nothing(office: Office) -> None:  # noqa: F811
    body_id = new_body(office)

    async def add(conn: AsyncConnection, name: str, phone: str = "") -> int:
        return await organs.add_organ(conn, body_id, name, "联系人", phone, actor=ACTOR)

    first = office.run(lambda conn: add(conn, "县教育局"))
    office.run(lambda conn: add(conn, "县民政局"))
    before = office.digest()
    for name, phone, text in (
        ("  ", "", "单位名称：单位名称不能为空"),
        ("县教育局", "", "已有名为“县教育局”的承办单位"),
        ("县财政局", "110", "联系电话：“110”不是有效的电话号码"),
        ("县" * 129, "", "单位名称：太长（最多 128 个字）"),
    ):
        with pytest.raises(organs.Refused, match=text):
            office.run(lambda conn, n=name, p=phone: add(conn, n, p))  # type: ignore[misc]
    assert office.digest() == before

    async def edit(conn: AsyncConnection, name: str) -> None:
        found = await organs.organ(conn, first)
        assert found is not None
        await organs.edit_organ(conn, found, name, "新联系人", "13700000000", actor=ACTOR)

    with pytest.raises(organs.Refused, match="已有名为“县民政局”"):
        office.run(lambda conn: edit(conn, "县民政局"))
    assert office.digest() == before
    office.run(lambda conn: edit(conn, "县教育体育局"))
    assert listed(office, body_id)[0] == ("县教育体育局", "新联系人", "13700000000")


async def add_item(conn: AsyncConnection, body_id: int, title: str, lead: int, *assisting: int) -> int:
    day = dt.date(2026, 3, 1)
    result = await conn.execute(
        insert(m.followup_items)
        .values(
            body_id=body_id,
            title=title,
            priority=False,
            assigned_on=day,
            reply_due=dt.date(2026, 6, 1),
            status="handling",
            created_at_ms=time.time_ns() // 1_000_000,
        )
        .returning(m.followup_items.c.id)
    )
    item_id = int(result.scalar_one())
    rows = [{"item_id": item_id, "organ_id": lead, "lead": True}]
    rows += [{"item_id": item_id, "organ_id": o, "lead": False} for o in assisting]
    await conn.execute(insert(m.followup_item_organs), rows)
    return item_id


def test_a_link_reaches_its_own_items_only_and_revoked_or_forged_opens_nothing(
    office: Office,  # noqa: F811
) -> None:
    keys = Keys("a-secret-for-the-test")
    body_id = new_body(office)

    async def setup(conn: AsyncConnection) -> tuple[int, int, int]:
        a = await organs.add_organ(conn, body_id, "甲局", "", "", actor=ACTOR)
        b = await organs.add_organ(conn, body_id, "乙局", "", "", actor=ACTOR)
        c = await organs.add_organ(conn, body_id, "丙局", "", "", actor=ACTOR)
        await add_item(conn, body_id, "甲牵头的事项", a)
        await add_item(conn, body_id, "乙牵头的事项", b)
        await add_item(conn, body_id, "乙牵头甲协办的事项", b, a)
        return a, b, c

    a, b, c = office.run(setup)

    async def opened(conn: AsyncConnection, token: str) -> tuple[str, list[tuple[str, bool]]] | str:
        found = await organs.organ_of_link(conn, keys, token)
        if isinstance(found, str):
            return found
        return found.name, [(i.title, i.lead) for i in await organs.items_of(conn, found.id)]

    def open_link(token: str) -> Any:
        return office.run(lambda conn: opened(conn, token))

    link_a, link_b, link_c = (keys.organ_link(x, 1) for x in (a, b, c))
    assert open_link(link_a) == ("甲局", [("甲牵头的事项", True), ("乙牵头甲协办的事项", False)])
    assert open_link(link_b) == ("乙局", [("乙牵头的事项", True), ("乙牵头甲协办的事项", True)])
    assert open_link(link_c) == ("丙局", [])

    async def revoke(conn: AsyncConnection) -> int:
        found = await organs.organ(conn, a)
        assert found is not None
        return await organs.revoke_link(conn, found, actor=ACTOR)

    assert office.run(revoke) == 2
    assert open_link(link_a) == "revoked"
    assert open_link(keys.organ_link(a, 2))[0] == "甲局"
    assert open_link(link_b)[0] == "乙局"  # the other organs' links stand
    assert ("organ_link_revoked", ACTOR) in office.audit()

    forged = [
        link_b[:-2] + ("AA" if not link_b.endswith("AA") else "BB"),  # a signature changed
        keys.invitation(a, 2),  # a deputy's invitation for the same numbers: another salt
        Keys("another-secret").organ_link(a, 2),  # signed by another installation
        "not-a-token",
    ]
    for token in forged:
        assert open_link(token) == "forged", token


def test_a_link_url_uses_the_public_address() -> None:
    keys = Keys("k")
    found = organs.Organ(7, 1, "甲局", "", "", 3)
    url = organs.link_url("https://rd.example.gov.cn", keys, found)
    assert url.startswith("https://rd.example.gov.cn/o/")
    assert keys.read_organ_link(url.rsplit("/", 1)[1]) == (7, 3)


def test_items_of_reads_the_organ_table_join(office: Office) -> None:  # noqa: F811
    """An item row with no organ attached belongs to no organ's page."""
    body_id = new_body(office)

    async def fn(conn: AsyncConnection) -> list[organs.OrganItem]:
        a = await organs.add_organ(conn, body_id, "甲局", "", "", actor=ACTOR)
        await conn.execute(
            insert(m.followup_items).values(
                body_id=body_id,
                title="无承办单位",
                priority=True,
                assigned_on=dt.date(2026, 1, 1),
                reply_due=dt.date(2026, 4, 1),
                status="handling",
                created_at_ms=0,
            )
        )
        assert (await conn.execute(select(m.followup_items.c.id))).all()
        return await organs.items_of(conn, a)

    assert office.run(fn) == []


def test_reminders_on_the_organs_page_at_the_boundary_days() -> None:
    """Overdue from the day after the deadline, for an item still waiting for a reply;
    due soon from today to 7 days ahead; a replied or closed item is neither."""
    due = dt.date(2026, 6, 1)

    def item(i: int, status: str, reply_due: dt.date = due) -> organs.OrganItem:
        return organs.OrganItem(i, f"事项{i}", status, reply_due, False, True)

    items = [item(1, "handling"), item(2, "redo"), item(3, "replied"), item(4, "closed")]
    on_the_day = organs.reminders(items, due)
    assert on_the_day.overdue == frozenset() and on_the_day.soon == {1, 2}
    day_after = organs.reminders(items, due + dt.timedelta(days=1))
    assert day_after.overdue == {1, 2} and day_after.soon == frozenset()
    assert day_after.text() == "7 天内到期 0 项，已逾期 2 项"
    week_before = organs.reminders(items, due - dt.timedelta(days=7))
    eight_days_before = organs.reminders(items, due - dt.timedelta(days=8))
    assert week_before.soon == {1, 2} and eight_days_before.soon == frozenset()


def test_an_organs_link_is_not_written_to_the_request_log() -> None:
    """The link is the organ's credential: the access log keeps /o/ and drops the token."""
    token = Keys("k").organ_link(5, 1)
    raw = f"/o/{token}".encode()
    logged = redact_path({"type": "http", "path": raw.decode(), "raw_path": raw, "query_string": b""})
    assert logged == "/o/…" and token not in logged
    assert redact_path({"type": "http", "path": "/o/", "raw_path": b"/o/", "query_string": b""}) == "/o/…"
