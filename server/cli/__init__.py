"""The `wenzheng` command: serve, migrate, load the demo, manage users, benchmark, back up and restore."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys

from sqlalchemy import select

from server.base.keys import Keys
from server.base.settings import Settings, load
from server.cli import roster as cli_roster
from server.storage import backup, restore
from server.storage import models as m
from server.storage.db import create_engine
from server.storage.migrate import upgrade

ROLES = ("admin", "staff", "chair")


async def _demo(settings: Settings) -> int:
    from server.office.demo import load_demo

    engine = create_engine(settings.database_url)
    async with engine.begin() as conn:
        info = await load_demo(conn)
    await engine.dispose()
    return info.meeting_id


async def _screen_links(settings: Settings, meeting_id: int, base: str) -> list[str]:
    keys = Keys(settings.secret_key)
    engine = create_engine(settings.database_url)
    async with engine.connect() as conn:
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

    from server.web.limits import FRAME_MAX_BYTES

    shown_host = args.host
    if args.host in ("0.0.0.0", "::"):
        # Phones need an address they can reach; the host name's address is a fair guess.
        shown_host = socket.gethostbyname(socket.gethostname())
    os.environ.setdefault("WENZHENG_PUBLIC_URL", f"http://{shown_host}:{args.port}")
    settings = load()
    if args.workers > 1 and not settings.redis_url:
        print("错误：多个工作进程需要设置 WENZHENG_REDIS_URL（Redis 总线）。", file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    if args.demo:
        meeting_id = asyncio.run(_demo(settings))
        base = settings.public_url
        print("\n问政系统已启动，演示会议已载入：\n")
        for line in asyncio.run(_screen_links(settings, meeting_id, base)):
            print(line)
        print(flush=True)
    _first_admin(settings)  # after the demo: a demo install has its user and no admin password
    uvicorn.run(
        "server.web.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # server/room/fastsend.py writes frames straight to this protocol's transports.
        ws="websockets-sansio",
        ws_per_message_deflate=False,  # broadcast sockets: compress once per client is too costly
        # A longer message is refused (1009) before it is buffered: uvicorn's 16 MiB default
        # let ten sockets add 320 MB. The protocol reads one message at a time (it pauses
        # reading until the app takes it), so no queue of them builds up either.
        ws_max_size=FRAME_MAX_BYTES,
        # Phones on hall Wi-Fi reuse one connection for check-in and rating; uvicorn's
        # 5 s default made every one of 3,000 check-ins open a new TCP connection.
        timeout_keep_alive=75,
        log_level=args.log_level,
        proxy_headers=False,
    )
    return 0


def _first_admin(settings: Settings) -> None:
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


def cmd_db(args: argparse.Namespace) -> int:
    settings = load()
    upgrade(settings.database_url)
    print("数据库已升级到最新版本。")
    _first_admin(settings)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = load()
    upgrade(settings.database_url)
    meeting_id = asyncio.run(_demo(settings))
    print(f"演示会议已就绪（会议编号 {meeting_id}）。")
    return 0


async def _user_add(settings: Settings, name: str, roles: list[str], password: str, one_time: bool) -> None:
    from server.office.accounts import save_user

    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            await save_user(conn, name, frozenset(roles), password, must_change=one_time)
    finally:
        await engine.dispose()


def cmd_user_add(args: argparse.Namespace) -> int:
    from server.office.accounts import MIN_PASSWORD, AccountError, one_time_password

    if args.password is not None and len(args.password) < MIN_PASSWORD:
        print(f"错误：密码至少需要 {MIN_PASSWORD} 个字符。", file=sys.stderr)
        return 2
    settings = load()
    upgrade(settings.database_url)
    password = args.password or one_time_password()
    try:
        asyncio.run(_user_add(settings, args.name, args.role, password, one_time=not args.password))
    except AccountError as refusal:
        print(f"错误：{refusal.message}", file=sys.stderr)
        return 2
    if not args.password:
        print(f"用户 {args.name} 的一次性密码：{password}（只显示这一次，首次登录后须修改）")
    else:
        print(f"用户 {args.name} 已保存。")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from server.bench import main as bench_main

    code: int = bench_main(args)
    return code


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wenzheng", description="问政会议管理系统")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="启动服务")
    serve.add_argument("--host", default=os.environ.get("WENZHENG_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("WENZHENG_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="载入演示会议并打印各屏幕地址")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)
    db = sub.add_parser("db", help="数据库")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_up = db_sub.add_parser("upgrade", help="升级数据库结构")
    db_up.set_defaults(func=cmd_db)
    demo = sub.add_parser("demo", help="载入演示会议")
    demo.set_defaults(func=cmd_demo)
    user = sub.add_parser("user", help="用户")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="添加或更新用户")
    add.add_argument("name")
    add.add_argument("--role", action="append", choices=ROLES, required=True)
    add.add_argument("--password", help="不填则生成一次性密码并打印一次")
    add.set_defaults(func=cmd_user_add)
    bench = sub.add_parser(
        "bench",
        help="负载测试",
        description="负载测试：模拟代表手机（HTTP + websocket），测量回执延迟、推送延迟、内存，并核对数据库。"
        "默认即第 3 号议题的标准场景：3000 名代表、一个服务进程、SQLite、签到 10 秒内、评议 5 秒内。",
    )
    bench.add_argument("--deputies", type=int, default=3000, help="模拟代表（手机）数，默认 3000")
    bench.add_argument("--workers", type=int, default=1, help="服务工作进程数（大于 1 时需要 --redis-url）")
    bench.add_argument("--url", default=None, help="测试已运行的服务（默认自行启动）")
    where = bench.add_mutually_exclusive_group()
    where.add_argument("--database-url", default=None, help="使用已有的数据库（不删除）；默认临时 SQLite")
    where.add_argument(
        "--postgres",
        nargs="?",
        const="postgresql+asyncpg://postgres@127.0.0.1:5432",
        default=None,
        metavar="SERVER_URL",
        help="在该 PostgreSQL 上新建随机命名的数据库，测试结束后删除（默认 postgres@127.0.0.1:5432）",
    )
    bench.add_argument("--redis-url", default=None, help="Redis 总线（频道前缀随机）")
    bench.add_argument(
        "--checkin-window", type=float, default=None, metavar="S", help="签到在 S 秒内发出，默认 10"
    )
    bench.add_argument(
        "--rating-window", type=float, default=None, metavar="S", help="评议在 S 秒内发出，默认 5"
    )
    bench.add_argument("--json", dest="json_out", default=None, help="结果写入 JSON 文件")
    bench.add_argument("--processes", type=int, default=2, help="负载进程数，默认 2")
    bench.set_defaults(func=cmd_bench)
    cli_roster.add_parsers(sub)
    backup.add_parser(sub)
    restore.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
