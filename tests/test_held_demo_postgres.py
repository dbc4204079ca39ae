"""The command's demo with its held meeting on PostgreSQL: the same test as on SQLite
(tests/test_held_demo.py), with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_held_demo import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_the_commands_demo_holds_its_past_meeting_once,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
