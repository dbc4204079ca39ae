"""Follow-up (督办) in the office on PostgreSQL: the same tests as on SQLite
(tests/test_followup.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_followup import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_a_decision_makes_items_of_the_chosen_questions_and_closes_the_others,
    test_an_item_by_hand_has_no_decision_and_is_checked,
    test_bad_decisions_are_refused_in_chinese_and_change_nothing,
    test_organs_one_lead_any_assisting_and_only_known_ones,
    test_status_changes_follow_the_rules_with_history_and_audit,
    test_the_board_counts_orders_and_filters,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
