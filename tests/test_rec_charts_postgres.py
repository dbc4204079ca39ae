"""The record's charts on PostgreSQL: the same tests as on SQLite (tests/test_rec_charts.py),
each with a database of its own (the standing of a meeting and the attendance grid are SQL)."""

from __future__ import annotations

import pytest

from tests.test_rec_charts import (  # noqa: F401  (collected here again, on PostgreSQL)
    held_client,
    record,
    test_routes_after_the_close,
    test_routes_before_the_close,
    test_the_charts_of_a_sitting_show_its_labels_and_counts,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
