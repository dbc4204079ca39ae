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


def test_collects_after_a_large_drop_only_when_quiet_and_not_twice_a_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(gcpolicy.time, "monotonic", lambda: clock[0])
    policy = GcPolicy()
    policy.active = True
    policy.sockets_changed(1000)
    assert policy.freezes == 1
    policy.sockets_changed(800)  # a fifth gone: not yet due
    clock[0] += gcpolicy.QUIET_S + 1
    policy.tick()
    assert policy.collections == 0 and not policy.due
    policy.sockets_changed(700)  # 30% gone: due, but sockets are still changing
    assert policy.due
    policy.tick()
    assert policy.collections == 0
    clock[0] += gcpolicy.QUIET_S + 1  # quiet now
    policy.tick()
    assert policy.collections == 1 and policy.frozen_at == 700 and not policy.due
    policy.sockets_changed(100)
    clock[0] += gcpolicy.QUIET_S + 1
    policy.tick()
    assert policy.collections == 1  # within the minute: wait
    clock[0] += 61
    policy.tick()
    assert policy.collections == 2


def test_a_storm_of_reconnects_makes_a_collection_due_though_the_count_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every phone drops and reconnects: the count ends where it began, but the closed
    sockets' cycles are frozen garbage; collected once the hall is quiet, not during it."""
    clock = [1000.0]
    monkeypatch.setattr(gcpolicy.time, "monotonic", lambda: clock[0])
    policy = GcPolicy()
    policy.active = True
    policy.sockets_changed(1000)
    for n in range(999, -1, -1):  # the Wi-Fi drops
        policy.sockets_changed(n)
    for n in range(1, 1001):  # and every phone comes back within two seconds
        clock[0] += 0.002
        policy.sockets_changed(n)
        policy.tick()
    assert policy.due and policy.collections == 0  # never in the storm
    assert policy.freezes == 1 + 1000 // gcpolicy.GROWTH  # the sockets that came back are frozen
    clock[0] += gcpolicy.QUIET_S + 1
    policy.tick()
    assert policy.collections == 1 and not policy.due


def test_does_nothing_before_startup_or_after_stop() -> None:
    policy = GcPolicy()
    policy.sockets_changed(5000)
    assert policy.freezes == 0
    policy.startup()
    policy.stop()
    policy.sockets_changed(10_000)
    assert policy.freezes == 1  # only the one at startup
