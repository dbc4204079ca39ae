"""From the hall into follow-up, in the office, on PostgreSQL: the same tests as on SQLite
(tests/test_hall_followup.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_hall_followup import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_an_item_by_hand_takes_an_optional_written_answer,
    test_commitments_typed_per_question_are_checked_audited_and_removable,
    test_the_decision_copies_each_chosen_questions_commitments_into_its_item,
    test_the_hall_record_and_the_graded_rating_line_of_each_item,
    test_written_answers_become_the_first_post_of_their_items,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
