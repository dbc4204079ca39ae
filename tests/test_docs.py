"""Docs are tested: the protocol doc is current and every refusal has Chinese text."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from screens import messages

ROOT = Path(__file__).resolve().parent.parent


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "gen_protocol_doc", ROOT / "scripts" / "gen_protocol_doc.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_protocol_doc_is_current() -> None:
    gen = _generator()
    assert (ROOT / "docs" / "protocol.md").read_text() == gen.render(), (
        "run: .venv/bin/python scripts/gen_protocol_doc.py"
    )


def test_every_command_and_event_has_a_docstring() -> None:
    from live import commands, events

    for cls in [*commands.ALLOWED_ROLES, *events.EVENT_TYPES.values()]:
        doc = cls.__doc__ or ""
        assert doc and not doc.startswith(cls.__name__ + "("), f"{cls.__name__} lacks a docstring"


def _refusal_codes() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "live").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Refused"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                codes.add(str(node.args[0].value))
    return codes


def test_every_refusal_code_has_a_chinese_message() -> None:
    codes = _refusal_codes()
    assert len(codes) > 15
    missing = codes - set(messages.REFUSALS)
    assert not missing, f"no message for {sorted(missing)}"
    for code in codes:
        text = messages.REFUSALS[code]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), code


def test_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


def test_reliability_names_only_tests_that_exist() -> None:
    """RELIABILITY.md quotes tests by path and name: each must be there to prove it."""
    import re

    text = (ROOT / "RELIABILITY.md").read_text(encoding="utf-8")
    named = set(re.findall(r"(tests/[\w/]+\.py)::(\w+)", text))
    assert len(named) >= 20, named
    for path, name in sorted(named):
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{path}::{name} is not a test there"
