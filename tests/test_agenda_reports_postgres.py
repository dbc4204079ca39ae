"""The agenda item that takes a progress report, on PostgreSQL: the same tests as on
SQLite (tests/test_agenda_reports.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_agenda_reports import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_an_item_takes_the_bodys_report_and_the_setup_carries_its_figures,
    test_an_item_that_takes_a_report_stays_a_report,
    test_bad_choices_are_refused_in_chinese_and_write_nothing,
    test_clone_and_rehearsal_keep_the_report,
    test_the_body_reports_are_offered_newest_first,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
