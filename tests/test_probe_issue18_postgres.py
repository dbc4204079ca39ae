"""The probe of issue 18's follow-up over HTTP on PostgreSQL: the tests of
tests/test_probe_issue18.py again (the download's audit entry, the turns of posts with
files, the cleaned names), on the database an office runs."""

from __future__ import annotations

import pytest

from tests.test_probe_issue18 import (  # noqa: F401  (collected here again, on PostgreSQL)
    test_a_file_name_cannot_hide_its_type_behind_invisible_characters,
    test_every_download_of_an_attachment_says_who_took_it,
    test_posts_at_once_from_one_link_hold_their_files_in_memory_a_few_at_a_time,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database
