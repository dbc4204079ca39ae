"""The organs tests of test_organs.py, once more on PostgreSQL: the per-body unique name,
the all-or-nothing import and the link's reach behave the same on both databases."""

from __future__ import annotations

import pytest

from tests import test_organs
from tests.test_bodies import office  # noqa: F401  (the fixture, for the tests collected here)


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database


test_bad_rows_on_postgres = test_organs.test_import_names_every_bad_row_and_writes_nothing
test_updates_on_postgres = test_organs.test_import_inserts_then_updates_contacts_and_never_deletes
test_reach_on_postgres = (
    test_organs.test_a_link_reaches_its_own_items_only_and_revoked_or_forged_opens_nothing
)
