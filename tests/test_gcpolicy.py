"""The collector policy freezes as sockets grow and collects only after many have gone."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from server.room import gcpolicy
from server.room.gcpolicy import GcPolicy


@pytest.fixture(autouse=True)
def _thaw() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_freezes_once_per_growth_step() -> None:
    policy = GcPolicy()
    policy.active = True
    for n in range(1, 1001):
        policy.sockets_changed(n)
    assert policy.freezes == 1000 // gcpolicy.GROWTH
    assert gc.get_freeze_count() > 0


def test_collects_after_a_large_drop_but_not_twice_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(gcpolicy.time, "monotonic", lambda: clock[0])
    policy = GcPolicy()
    policy.active = True
    policy.sockets_changed(1000)
    assert policy.freezes == 1
    policy.sockets_changed(800)  # a fifth gone: not yet
    assert policy.collections == 0
    policy.sockets_changed(700)  # 30% gone: collect
    assert policy.collections == 1 and policy.frozen_at == 700
    policy.sockets_changed(100)
    assert policy.collections == 1  # within the minute: wait
    clock[0] += 61
    policy.sockets_changed(99)
    assert policy.collections == 2


def test_does_nothing_before_startup_or_after_stop() -> None:
    policy = GcPolicy()
    policy.sockets_changed(5000)
    assert policy.freezes == 0
    policy.startup()
    policy.stop()
    policy.sockets_changed(10_000)
    assert policy.freezes == 1  # only the one at startup
