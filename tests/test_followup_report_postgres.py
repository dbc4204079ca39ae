"""The progress report in the office on PostgreSQL: the same tests as on SQLite
(tests/test_followup_report.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_followup_report import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_a_moved_copy_whose_meetings_are_elsewhere_rebuilds_without_items,
    test_a_report_is_refused_in_chinese_and_writes_nothing,
    test_an_earlier_report_is_rebuilt_as_of_its_making,
    test_progress_prints_by_the_day_of_its_work_and_a_second_download_reads_the_columns,
    test_the_docx_has_the_overview_counts_one_section_per_item_and_the_table,
    test_the_report_counts_the_items_and_saves_them,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
