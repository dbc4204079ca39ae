"""What the public sees of follow-up, on PostgreSQL: the same tests as on SQLite
(tests/test_followup_public.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_followup_public import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_items_by_hand_are_grouped_after_the_meetings_and_redo_is_the_second_step,
    test_publishing_and_approval_are_audited_checked_and_written_once,
    test_the_commands_demo_is_public_with_approved_posts,
    test_the_public_history_runs_by_the_day_of_the_work,
    test_the_public_read_shows_published_items_status_changes_and_approved_text_only,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
