"""The chair, the note and who reports, moved into an office on PostgreSQL: the same tests
as into SQLite (tests/test_reporters_move.py)."""

from __future__ import annotations

import pytest

from tests.test_reporters_move import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_a_file_from_before_the_reporters_imports_with_nobody_named,
    test_the_chair_the_note_and_the_reporters_travel,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def office_url(pg_database: str) -> str:
    return pg_database
