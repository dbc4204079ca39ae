"""Who reports on an agenda item, read back on PostgreSQL: the same tests as on SQLite
(tests/test_record_reporters.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_record_reporters import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_a_member_reports_alone_or_with_the_group_never_in_a_rehearsal,
    test_the_rated_item_is_its_reporters_result,
    test_the_reporters_as_the_office_wrote_them_and_the_hall_names_them,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
