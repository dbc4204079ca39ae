"""The record of a held meeting on PostgreSQL: the same tests as on SQLite
(tests/test_record_facts.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_record_facts import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_attendance_matches_the_log_and_the_frozen_records,
    test_votes_keep_rounds_counts_and_only_named_choices,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
