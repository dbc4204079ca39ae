"""Password hashing in turn: Argon2 off the event loop, at most two at a time.

Argon2 takes 64 MiB a hash (argon2-cffi's default memory cost). Run unbounded in the
thread pool (6 at once on 2 cores), 12 failed logins sent at once by one anonymous client
took the server from 89 MB to 475 MB. At most ``ARGON2_AT_ONCE`` hash at a time, per
event loop; the rest wait their turn, holding nothing but a request.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import weakref
from collections.abc import Callable
from typing import TypeVar

from server.base.keys import ARGON2, hash_password, verify_password

ARGON2_AT_ONCE = 2
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
T = TypeVar("T")


async def in_turn(fn: Callable[..., T], *args: str) -> T:
    """Run a hashing function in a thread once one of the slots is free."""
    loop = asyncio.get_running_loop()
    slots = _slots.setdefault(loop, asyncio.Semaphore(ARGON2_AT_ONCE))
    async with slots:
        return await asyncio.to_thread(fn, *args)


async def hashed(password: str) -> str:
    return await in_turn(hash_password, password)


async def verified(password: str, stored: str) -> bool:
    return await in_turn(verify_password, password, stored)


async def verified_against_nothing(password: str) -> None:
    """What a login of an unknown name costs: the same time as a wrong password."""
    await in_turn(_verify_dummy, password)


def needs_rehash(stored: str) -> bool:
    if stored.startswith("scrypt$"):
        return True
    try:
        return ARGON2.check_needs_rehash(stored)
    except Exception:  # not an Argon2 hash at all
        return True


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def _verify_dummy(password: str) -> bool:
    return verify_password(password, _dummy_hash())  # the first call hashes: off the loop
