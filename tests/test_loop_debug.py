"""PYTHONASYNCIODEBUG really puts a served app's loop in debug mode (issue 16, polish).

tests/browser/test_office_loop.py asserts that no callback held the loop 100 ms, from the
server's own "Executing … took" log. Under uvicorn on Python 3.11 that log was never
written: uvicorn runs the app with ``asyncio.Runner(debug=False)``, which undoes the
variable, so a cards page drawing 48 QR codes on the loop for 0.4 s logged nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from server.web import loop_debug


def test_a_served_app_logs_a_callback_that_holds_the_loop(spawn: Callable[..., Any]) -> None:
    server = spawn(PYTHONASYNCIODEBUG="1")
    with server.client() as http:
        assert http.get("/healthz").status_code == 200
    assert loop_debug.ANNOUNCE.format(ms=100) in server.log_tail(100_000)


def test_debug_mode_after_a_runner_turned_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONASYNCIODEBUG", "1")

    async def app() -> tuple[bool, bool]:
        before = asyncio.get_running_loop().get_debug()
        loop_debug.from_env()
        return before, asyncio.get_running_loop().get_debug()

    with asyncio.Runner(debug=False) as runner:  # what uvicorn does on Python 3.11
        assert runner.run(app()) == (False, True)


def test_nothing_changes_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONASYNCIODEBUG", raising=False)

    async def app() -> bool:
        return loop_debug.from_env() or asyncio.get_running_loop().get_debug()

    assert asyncio.run(app()) is False
