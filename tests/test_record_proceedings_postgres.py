"""The proceedings on PostgreSQL: the sitting held, the DOCX and the print view read back,
the note saved or refused, the same tests as on SQLite (tests/test_record_proceedings.py,
test_record_proceedings_routes.py), each with a database of its own."""

from __future__ import annotations

import pytest

from tests.rec_proc_fixtures import held_fixture  # noqa: F401  (the fixture ``held``)
from tests.test_record_proceedings import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_no_secret_choice_and_no_one_who_took_part_in_a_secret_poll,
    test_the_docx_reads_back_with_the_figures_of_the_log,
)
from tests.test_record_proceedings_routes import (  # noqa: F401
    test_the_note_is_saved_audited_or_refused_in_chinese,
    test_the_print_view_carries_what_the_docx_does,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
