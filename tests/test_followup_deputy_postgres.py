"""The deputies' judgments of follow-up replies on PostgreSQL: the same tests as on SQLite
(tests/test_followup_deputy.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_followup_deputy import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_a_withdrawn_objection_no_longer_blocks_closing,
    test_an_item_made_by_hand_has_no_deputies_to_judge_it,
    test_an_objection_blocks_closing_without_a_reason_and_allows_it_with_one,
    test_bad_input_is_refused_in_chinese_and_changes_nothing,
    test_dissatisfied_sends_the_item_back_for_redo_until_the_next_reply,
    test_satisfied_keeps_the_reply_and_a_judgment_can_change_while_it_is_current,
    test_the_co_proposer_sees_and_judges_a_stranger_does_neither,
    test_the_deputys_view_has_organs_commitments_posts_in_order_and_attachment_names,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
