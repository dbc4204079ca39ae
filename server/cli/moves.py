"""`wenzheng meeting export|import`: a meeting moves from the hall's laptop to the office.

``export MEETING_ID --out FILE`` writes one signed file (server/office/move_format.py) with
everything the meeting recorded (server/office/move_export.py) and prints the signing
key's fingerprint; ``import FILE`` checks the signature (``--signer`` requires that
fingerprint), maps the body and people to this installation's (server/office/move_map.py)
and writes the meeting in one transaction (server/office/move_import.py), or nothing.
A refusal is one Chinese line on stderr and exit code 1; never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from server.base.settings import load
from server.cli.bodies import who
from server.cli.schema import REFUSED, ready
from server.office.move_export import collect, summary
from server.office.move_format import MoveRefused, installation_fingerprint, pack, unpack
from server.office.move_import import Imported, import_meeting
from server.storage.db import create_engine, snapshot_read

FAILED = 1


def _refuse(text: str) -> int:
    print(f"错误：{text}", file=sys.stderr)
    return FAILED


def _database_error(exc: SQLAlchemyError) -> str:
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return f"数据库出错（{reason[:200]}），未做任何修改。"


def cmd_export(args: argparse.Namespace) -> int:
    settings = load()
    out = Path(args.out)

    async def go() -> dict[str, Any]:
        engine = create_engine(settings.database_url)
        try:
            # One snapshot of a meeting that may still be served, taking no write lock.
            async with snapshot_read(engine) as conn:
                return await collect(conn, args.meeting_id, settings.secret_key)
        finally:
            await engine.dispose()

    partial = out.with_name(out.name + ".partial")
    try:
        payload = asyncio.run(go())
        data, fingerprint = pack(payload, settings.secret_key)
        # Written beside the target and renamed: a crash never leaves half a file under its name.
        partial.write_bytes(data)
        os.replace(partial, out)
    except MoveRefused as exc:
        return _refuse(str(exc))
    except SQLAlchemyError as exc:
        return _refuse(_database_error(exc))
    except OSError as exc:
        partial.unlink(missing_ok=True)
        return _refuse(f"无法写入文件 {out}（{exc.strerror or exc}）。")
    for line in summary(payload):
        print(line)
    print(f"已导出到 {out}（{len(data)} 字节）。")
    print(f"签名指纹：{fingerprint}")
    print("请把这个指纹另行告知导入方（如抄在交接单上），导入时用 --signer 核对。")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    settings = load()
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        return _refuse(f"无法读取文件 {args.file}（{exc.strerror or exc}）。")
    try:
        opened = unpack(data, args.signer)
    except MoveRefused as exc:
        return _refuse(str(exc))
    print(f"签名校验通过，签名指纹：{opened.signer}")
    if args.signer is None:
        print("提示：请核对这个指纹与导出方显示的一致；可用 --signer 指纹 要求必须一致。")
    if not ready(settings.database_url):  # an older schema waits for `wenzheng db upgrade`
        return REFUSED

    async def go() -> Imported:
        engine = create_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                transaction = await conn.begin()
                try:
                    done = await import_meeting(
                        conn,
                        opened.payload,
                        opened.signer,
                        who("meeting import"),
                        body_name=args.body,
                        add_missing=args.add_missing,
                        own=installation_fingerprint(settings.secret_key),
                    )
                except BaseException:
                    await transaction.rollback()
                    raise
                if args.dry_run:
                    await transaction.rollback()
                else:
                    await transaction.commit()
                return done
        finally:
            await engine.dispose()

    try:
        done = asyncio.run(go())
    except MoveRefused as exc:
        return _refuse(str(exc))
    except SQLAlchemyError as exc:
        return _refuse(_database_error(exc))
    except Exception as exc:  # a file that passed the signature yet does not fit: still no traceback
        return _refuse(f"导入失败（{type(exc).__name__}: {str(exc)[:120]}），未做任何修改。")
    for line in done.lines:
        print(line)
    if args.dry_run:
        print("试导入（--dry-run）：以上检查全部通过，未写入任何内容。")
    else:
        print(f"主持台：/m/{done.meeting_id}/console  审计记录：/m/{done.meeting_id}/audit")
    return 0


def add_parsers(meeting_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = meeting_sub.add_parser("export", help="导出会议（带签名的单个文件，用于迁移到其他安装）")
    export.add_argument("meeting_id", type=int, help="会议编号")
    export.add_argument("--out", required=True, help="导出文件路径，如 会议.wzmeeting")
    export.set_defaults(func=cmd_export)
    imp = meeting_sub.add_parser("import", help="导入其他安装导出的会议（全部或全不）")
    imp.add_argument("file", help="导出文件")
    imp.add_argument("--body", default=None, help="导入到本机的哪个机构（默认按文件中的机构名称）")
    imp.add_argument("--signer", default=None, help="要求的签名指纹（导出时显示的）")
    imp.add_argument(
        "--add-missing", action="store_true", help="本机没有的机构、小组、代表、应询人、届次、会次按文件新建"
    )
    imp.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    imp.set_defaults(func=cmd_import)
