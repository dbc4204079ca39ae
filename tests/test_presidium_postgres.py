"""The presidium, the reviewers' grants and rehearsals on PostgreSQL: the same tests as on
SQLite (tests/test_presidium.py, tests/test_rehearsals.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_presidium import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_a_county_presidium_is_one_per_session,
    test_a_town_presidium_is_one_per_term_set_whole_and_audited,
    test_refusals_change_nothing,
    test_the_body_page_link,
)
from tests.test_rehearsals import (  # noqa: F401
    test_a_real_meeting_is_never_reset,
    test_a_session_in_the_rehearsal_then_a_reset_leaves_nothing,
    test_the_clone_is_marked_and_has_the_same_agenda,
)
from tests.test_reviewers import test_a_reviewer_approves_from_the_phone_and_is_named  # noqa: F401

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
