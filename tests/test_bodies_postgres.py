"""The bodies, terms and meetings tests of test_bodies.py, once more on PostgreSQL.

Dates, the unique constraints and the audit trail behave the same on both databases
(ARCHITECTURE.md: "the same tests pass on both").
"""

from __future__ import annotations

import pytest

from tests import test_bodies, test_bodies_cli
from tests.test_bodies import office  # noqa: F401  (the fixture, for the tests collected here)


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database


test_create_body_on_postgres = test_bodies.test_create_body_and_its_refusals
test_edit_body_on_postgres = (
    test_bodies.test_edit_body_quorum_reaches_the_meeting_and_kind_is_fixed_by_a_meeting
)
test_terms_on_postgres = test_bodies.test_terms_refuse_bad_dates_overlaps_and_a_meeting_left_outside
test_sessions_on_postgres = test_bodies.test_sessions_are_numbered_within_their_term
test_meetings_on_postgres = test_bodies.test_create_meeting_in_term_and_session
test_schedule_on_postgres = test_bodies.test_schedule_edit_moves_the_meeting_within_a_term
test_demo_on_postgres = test_bodies_cli.test_demo_loads_through_the_same_functions_and_again_changes_nothing
