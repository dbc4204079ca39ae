"""Eager start of coroutines: finished in place, or handed on to a task in order."""

from __future__ import annotations

import asyncio

import pytest

from server.room import eager


async def test_a_coroutine_that_never_waits_finishes_in_place() -> None:
    done: list[int] = []

    async def quick() -> None:
        done.append(1)

    assert eager.start(quick()) is None
    assert done == [1]  # before any await of ours


async def test_a_coroutine_that_waits_is_finished_by_a_task() -> None:
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    steps: list[str] = []

    async def slow() -> str:
        steps.append("before")
        value = await gate
        steps.append(f"after {value}")
        await asyncio.sleep(0)
        return "result"

    task = eager.start(slow())
    assert task is not None and steps == ["before"]
    gate.set_result("x")
    assert await task == "result"
    assert steps == ["before", "after x"]


async def test_errors_before_the_first_wait_reach_the_caller() -> None:
    async def broken() -> None:
        raise ConnectionResetError("gone")

    with pytest.raises(ConnectionResetError):
        eager.start(broken())


async def test_errors_after_the_first_wait_reach_the_task() -> None:
    async def later() -> None:
        await asyncio.sleep(0)
        raise ConnectionResetError("gone")

    task = eager.start(later())
    assert task is not None
    with pytest.raises(ConnectionResetError):
        await task


async def test_cancelling_the_task_cancels_the_coroutine() -> None:
    cleaned: list[bool] = []

    async def waits_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    task = eager.start(waits_forever())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]
