"""The draft minutes on PostgreSQL: the same tests as on SQLite (tests/test_rec_minutes.py),
each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_rec_minutes import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_the_minutes_say_what_the_log_decided_and_ask_for_the_assignment,
    test_with_a_decision_the_minutes_list_the_questions_assigned,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
