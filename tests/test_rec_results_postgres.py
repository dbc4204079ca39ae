"""The results on PostgreSQL: the same tests as on SQLite (tests/test_rec_results.py and
tests/test_rec_results_pages.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.test_rec_results import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_every_sheet_reads_back_with_the_figures_of_the_sitting,
)
from tests.test_rec_results_pages import (  # noqa: F401
    test_a_rehearsal_has_no_public_results,
    test_staff_see_the_sheets_and_download_them,
    test_the_public_results_appear_once_closed_with_counts_only,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
