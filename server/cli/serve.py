"""`wenzheng serve`: check the schema (or create it), load the demo when asked, create the
first admin, run uvicorn.

With ``--demo`` it prints every screen's address and eight demo deputies' invitation
links, so a newcomer can open the console, the projector and two phones at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.base.ballot_box import BallotBox
from server.base.keys import Keys
from server.base.settings import Settings, load
from server.cli.schema import REFUSED, ready
from server.storage import models as m
from server.storage.db import create_engine, snapshot_read


async def demo_meeting(settings: Settings) -> int:
    """Load the demo: today's meeting, the past meeting held through the action path
    (server/office/held_demo.py), then the follow-up demo; returns today's meeting's id."""
    from server.office import held_demo
    from server.office.demo import load_demo
    from server.office.followup_demo import load_followup_demo, started

    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            info = await load_demo(conn)
            body_id = await _body_of(conn, info.meeting_id)
            # A body with follow-up items has its past meeting decided already: hold nothing.
            past = None if await started(conn, body_id) else await held_demo.prepare_past(conn, body_id)
        if past is not None:  # held in its own transactions, as the hall holds a meeting
            await _hold_once(engine, Keys(settings.secret_key).box, past.meeting_id)
        async with engine.begin() as conn:
            await load_followup_demo(conn)
    finally:
        await engine.dispose()
    return info.meeting_id


async def _hold_once(engine: AsyncEngine, box: BallotBox, meeting_id: int) -> None:
    """The demo's past meeting held through the hall's action path at its real moment
    (server/record/sitting.py), unless it has a log already."""
    from server.office import held_demo, meetings_admin
    from server.record.sitting import hold_sitting

    async with snapshot_read(engine) as conn:
        if await meetings_admin.has_events(conn, meeting_id):
            return
    start = held_demo.start_ms(held_demo.held_day())
    await hold_sitting(engine, box, meeting_id, start, device=held_demo.DEVICE)


async def _body_of(conn: AsyncConnection, meeting_id: int) -> int:
    found = await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
    return int(found.scalar_one())


async def _screen_links(settings: Settings, meeting_id: int, base: str) -> list[str]:
    from server.office.held_demo import find_past

    keys = Keys(settings.secret_key)
    engine = create_engine(settings.database_url)
    async with engine.connect() as conn:
        past = await find_past(conn)
        rows = (
            await conn.execute(
                select(
                    m.deputies.c.id,
                    m.deputies.c.name,
                    m.deputies.c.card_no,
                    m.deputies.c.short_code,
                    m.deputies.c.card_version,
                )
                .order_by(m.deputies.c.id)
                .limit(8)  # one phone per card: each browser test binds its own
            )
        ).all()
        await conn.commit()
    await engine.dispose()
    lines = [
        f"  主持台      {base}/m/{meeting_id}/console",
        f"  投影屏      {base}/m/{meeting_id}/projector?screen={keys.screen_cookie(meeting_id, 'projector')}",
        f"  发言计时屏  {base}/m/{meeting_id}/podium?screen={keys.screen_cookie(meeting_id, 'podium')}",
        f"  代表手机页  {base}/d/{meeting_id}",
        f"  公众直播页  {base}/m/{meeting_id}/live",
        f"  健康检查    {base}/healthz",
    ]
    if past is not None:  # the meeting already held (server/office/held_demo.py)
        lines += [
            "",
            "  已召开的演示会议（第二次会议问政会）：",
            f"  会议记录    {base}/m/{past}/record",
            f"  会议结果    {base}/m/{past}/results",
            f"  公众结果页  {base}/m/{past}/live/results",
        ]
    lines += [
        "",
        "  演示账号（仅用于演示，正式安装没有默认密码）：用户名 chair  密码 wenzheng-demo",
        "",
        "  演示代表的邀请链接（代表证二维码的内容）：",
    ]
    for r in rows:
        link = f"{base}/i/{meeting_id}/{keys.invitation(r.id, r.card_version)}"
        lines.append(f"    {r.name}  卡号 {r.card_no}  验证码 {r.short_code}  {link}")
    return lines


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.web.request_log import log_config

    workers = _workers(args.workers)
    if workers is None:
        print("错误：工作进程数（--workers 或 WENZHENG_WORKERS）必须是正整数。", file=sys.stderr)
        return 2
    shown_host = args.host
    if args.host in ("0.0.0.0", "::"):
        # Phones need an address they can reach; the host name's address is a fair guess.
        shown_host = socket.gethostbyname(socket.gethostname())
    os.environ.setdefault("WENZHENG_PUBLIC_URL", f"http://{shown_host}:{args.port}")
    # The console's readiness panel judges a loopback public address by where we listen.
    os.environ["WENZHENG_HOST"] = args.host
    try:
        settings = load()
    except ValueError as bad:
        print(f"错误：设置有误：{bad}", file=sys.stderr)
        return 2
    if workers > 1 and not settings.redis_url:
        print("错误：多个工作进程需要设置 WENZHENG_REDIS_URL（Redis 总线）。", file=sys.stderr)
        return 2
    # Once, here, before uvicorn starts any worker: an older database waits for `wenzheng db
    # upgrade` (and its backup); a new one is created; the demo upgrades as it always has.
    if not ready(settings.database_url, older_ok=args.demo):
        return REFUSED
    if args.demo:
        meeting_id = asyncio.run(demo_meeting(settings))
        base = settings.public_url
        print("\n问政系统已启动，演示会议已载入：\n")
        for line in asyncio.run(_screen_links(settings, meeting_id, base)):
            print(line)
        print(flush=True)
    ensure_admin(settings)  # after the demo: a demo install has its user and no admin password
    uvicorn.run(
        "server.web.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        log_level=args.log_level,
        log_config=log_config(settings.log_format, args.log_level),
        **stack_options(),
    )
    return 0


def stack_options() -> dict[str, Any]:
    """uvicorn's protocols and limits for our server (the bench's floor app uses the same)."""
    from server.web.limits import FRAME_MAX_BYTES

    return {
        # Our subclasses of uvicorn's httptools and websockets-sansio protocols hold less
        # per connected phone (server/web/lean_protocols.py); server/room/fastsend.py
        # writes frames straight to the websocket protocol's transports.
        "http": "server.web.lean_protocols:LeanHttpProtocol",
        "ws": "server.web.lean_protocols:LeanWebSocketProtocol",
        "ws_per_message_deflate": False,  # broadcast sockets: compress once per client is too costly
        # A longer message is refused (1009) before it is buffered: uvicorn's 16 MiB default
        # let ten sockets add 320 MB. The protocol reads one message at a time (it pauses
        # reading until the app takes it), so no queue of them builds up either.
        "ws_max_size": FRAME_MAX_BYTES,
        # Phones on hall Wi-Fi reuse one connection for check-in and rating; uvicorn's
        # 5 s default made every one of 3,000 check-ins open a new TCP connection.
        "timeout_keep_alive": 75,
        # Our RequestLog writes the access lines: uvicorn's would print secret paths.
        "access_log": False,
        "proxy_headers": False,
    }


def ensure_admin(settings: Settings) -> None:
    """On an install with no user yet: create ``admin`` and print its one-time password once."""
    from server.office.accounts import first_admin

    async def run() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            return await first_admin(engine)
        finally:
            await engine.dispose()

    password = asyncio.run(run())
    if password is not None:
        print(f"首次安装：管理员账号 admin，一次性密码 {password}，请登录后立即修改", flush=True)


def _workers(given: int | None) -> int | None:
    """``--workers``, else ``WENZHENG_WORKERS`` (how the systemd unit sets it), else 1;
    None when neither is a positive whole number."""
    if given is not None:
        return given if given >= 1 else None
    raw = os.environ.get("WENZHENG_WORKERS", "").strip() or "1"
    return int(raw) if raw.isdigit() and int(raw) >= 1 else None


def add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="启动服务")
    serve.add_argument("--host", default=os.environ.get("WENZHENG_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("WENZHENG_PORT", "8000")))
    workers_help = "工作进程数（默认取 WENZHENG_WORKERS，否则 1）"
    serve.add_argument("--workers", type=int, default=None, help=workers_help)
    serve.add_argument("--demo", action="store_true", help="载入演示会议并打印各屏幕地址")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)
