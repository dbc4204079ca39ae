"""Who reports on an agenda item and who chairs, prepared in the office, on PostgreSQL: the
same tests as on SQLite (tests/test_agenda_reporters.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_agenda_reporters import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_a_clone_and_a_rehearsal_carry_the_chair_and_who_reports,
    test_bad_choices_are_refused_in_chinese_and_write_nothing,
    test_each_choice_is_written_whole_and_audited,
    test_the_chair_is_trimmed_bounded_and_audited,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
