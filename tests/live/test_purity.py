"""The core does no I/O: no clock, no files, no sockets, no database, no awaiting.

Each module in live/ is parsed (never imported for this check) and searched for
imports of I/O-capable modules, calls of built-ins that reach outside the process, and
``async def`` / ``await``. A checker self-test makes sure the checker can fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIVE = Path(__file__).resolve().parents[2] / "live"
MODULES = sorted(LIVE.glob("*.py"))

FORBIDDEN_MODULES = frozenset(
    {
        "asyncio",
        "socket",
        "sqlalchemy",
        "starlette",
        "redis",
        "os",
        "time",
        "datetime",
        "pathlib",
        "subprocess",
        "threading",
        "random",
        "uuid",
        "io",
        "shutil",
        "tempfile",
        "sys",
        "logging",
        "importlib",
        "multiprocessing",
        "secrets",
        "http",
        "urllib",
        "json",
        "sqlite3",
        "aiosqlite",
        "asyncpg",
        "uvicorn",
        "websockets",
        "server",
        "screens",
    }
)
FORBIDDEN_CALLS = frozenset({"open", "input", "print", "exec", "eval", "compile", "__import__", "breakpoint"})


def problems(source: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom):
            top = (node.module or "").split(".")[0]
            if node.level == 0 and top in FORBIDDEN_MODULES:
                found.append(f"from {node.module} import")
        elif isinstance(node, ast.AsyncFunctionDef | ast.AsyncFor | ast.AsyncWith):
            found.append("async")
        elif isinstance(node, ast.Await):
            found.append("await")
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            if name in FORBIDDEN_CALLS:
                found.append(f"call {name}()")
    return found


def test_the_check_sees_every_module() -> None:
    """Guard against a vacuous pass: the parametrised checks below must run on live/."""
    names = {m.stem for m in MODULES}
    expected = {"attendance", "commands", "core", "events", "questions", "ratings", "rules", "setup", "state"}
    assert expected | {"__init__", "refusals", "timers"} <= names


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_does_no_io(module: Path) -> None:
    assert problems(module.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_imports_only_the_standard_pure_modules_and_live(module: Path) -> None:
    allowed = {"__future__", "dataclasses", "enum", "fractions", "types", "typing", "live"}
    allowed_exactly = {"collections.abc"}  # the abstract types only (Callable, Mapping)
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module or "")
    assert {n for n in names if n.split(".")[0] not in allowed} <= allowed_exactly


@pytest.mark.parametrize(
    "source",
    [
        "import os",
        "import os.path",
        "from time import monotonic",
        "import datetime as dt",
        "from sqlalchemy.ext.asyncio import AsyncSession",
        "import asyncio",
        "import uuid",
        "import random",
        "from starlette.requests import Request",
        "import redis.asyncio",
        "from pathlib import Path",
        "import subprocess",
        "import threading",
        "import socket",
        "def f():\n    return open('x').read()",
        "async def f():\n    pass",
        "async def f(x):\n    await x",
    ],
)
def test_checker_catches_io(source: str) -> None:
    assert problems(source) != []


def test_checker_accepts_pure_code() -> None:
    src = (
        "from __future__ import annotations\nfrom dataclasses import dataclass\ndef f(x):\n    return x + 1\n"
    )
    assert problems(src) == []
