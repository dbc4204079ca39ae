"""A meeting whose agenda takes a progress report, moved into an office on PostgreSQL:
the same tests as into SQLite (tests/test_agenda_report_move.py)."""

from __future__ import annotations

import pytest

from tests.test_agenda_report_move import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_an_item_naming_a_report_the_file_lacks_is_refused,
    test_the_copy_keeps_its_date_and_names_only_the_meetings_here,
    test_the_report_travels_and_a_copy_is_saved_where_it_is_missing,
    test_the_same_report_already_here_is_linked_not_copied,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def office_url(pg_database: str) -> str:
    return pg_database
