"""An organ's posts in the office on PostgreSQL: the same tests as on SQLite
(tests/test_followup_posts.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_followup_posts import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_bad_posts_are_refused_in_chinese_and_change_nothing,
    test_progress_from_any_organ_and_a_reply_from_the_lead_only,
    test_staff_on_behalf_are_named_and_files_reach_their_organs_only,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
