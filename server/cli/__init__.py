"""The `wenzheng` command, one module per command family: serve, data (db upgrade, demo),
users, roster (roster and officials import/export), bodies (body, term, session),
meetings (meeting add; export and import in moves), backups (backup, restore), bench,
check (the check before a meeting), organs (承办单位 import).

The top layer: it may import every other (tests/test_layers.py); nothing imports it.
"""

from __future__ import annotations

import argparse

from server.cli import backups, bench, bodies, check, data, meetings, organs, roster, serve, users


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wenzheng", description="问政会议管理系统")
    sub = p.add_subparsers(dest="command", required=True)
    serve.add_serve(sub)
    data.add_data(sub)
    users.add_users(sub)
    bench.add_bench(sub)
    roster.add_parsers(sub)
    bodies.add_parsers(sub)
    meetings.add_parsers(sub)
    backups.add_backup(sub)
    backups.add_restore(sub)
    check.add_check(sub)
    organs.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
