"""The database copy after the record's sitting, on PostgreSQL: the same search as on
SQLite (tests/test_record_secrecy.py), with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_record_secrecy import (  # noqa: F401  (collected here again, on PostgreSQL)
    held_a,
    test_the_database_copy_ties_no_deputy_to_a_secret_choice,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
