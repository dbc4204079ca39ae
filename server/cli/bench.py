"""`wenzheng bench`: the load benchmark (server/bench/), its options here."""

from __future__ import annotations

import argparse


def cmd_bench(args: argparse.Namespace) -> int:
    from server.bench import main as bench_main

    code: int = bench_main(args)
    return code


def add_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = sub.add_parser(
        "bench",
        help="负载测试",
        description="负载测试：单个负载进程以原始 HTTP 与 websocket 连接模拟代表手机，测量完整签到与评议的"
        "延迟、每次操作的服务端与负载端 CPU、底线比值、每部手机的内存与流量、断线重连风暴与事件循环停顿，"
        "并核对数据库。默认场景：3000 名代表、一个服务进程、SQLite、签到 10 秒内、评议 5 秒内。",
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
    bench.add_argument(
        "--split-checkin",
        action="store_true",
        help="诊断：把完整签到拆成四步（会场页、签到提交、回执页、重连），"
        "分别测量每步的服务端 CPU；不判定指标",
    )
    # Gone with issue 20 (one load process of raw connections); still parsed for a clear error.
    bench.add_argument("--processes", type=int, default=None, help=argparse.SUPPRESS)
    bench.set_defaults(func=cmd_bench)
