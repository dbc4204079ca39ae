"""Duty records on PostgreSQL: the office functions' tests of tests/test_duty.py again (the
reads join the attendance records, submissions, judgments and agenda items in SQL)."""

from __future__ import annotations

import pytest

from tests.test_duty import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_a_rehearsal_counts_for_nothing,
    test_duty_records_agree_with_the_record_of_the_sitting,
    test_judgments_and_reports_belong_to_the_deputy,
    test_the_worker_reads_the_same_facts_and_kept_ones_are_used,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
