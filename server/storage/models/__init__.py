"""Tables. SQLAlchemy Core: the hot path inserts rows, it does not need an ORM.

The event log (``events``) is the record of everything that happened in a meeting and
its audit trail. A secret ballot (every rating, a secret vote) leaves a receipt
(``rating_receipts``, ``vote_receipts``: who took part, one per deputy per round) and a
sealed choice (``sealed_ballots``, unreadable without the installation's key, see
server/base/ballot_box.py); when the round closes, its totals go to ``rating_tallies`` or
``vote_tallies`` and the sealed rows are deleted.

One module per family of tables (``people``, ``meeting``, ``attendance``, ``accounts``,
``followup``), all on one ``metadata`` (``base``); callers import this package as ``m`` and
name the tables through it. Whatever may import server.storage may import it.
"""

from __future__ import annotations

from server.storage.models.accounts import (
    audit,
    card_guards,
    phone_bindings,
    screen_pairings,
    staff_sessions,
    users,
)
from server.storage.models.attendance import (
    attendance_records,
    attendees,
    leave_requests,
    meeting_reviewers,
)
from server.storage.models.base import metadata
from server.storage.models.followup import (
    followup_attachments,
    followup_closed_questions,
    followup_commitments,
    followup_decisions,
    followup_item_organs,
    followup_items,
    followup_judgments,
    followup_posts,
    followup_reports,
    organs,
    question_commitments,
)
from server.storage.models.meeting import (
    agenda_items,
    events,
    meeting_imports,
    meetings,
    question_respondents,
    question_submissions,
    questions,
    rating_receipts,
    rating_tallies,
    sealed_ballots,
    vote_receipts,
    vote_tallies,
)
from server.storage.models.people import (
    bodies,
    deputies,
    groups,
    mandates,
    officials,
    presidium_members,
    sessions,
    suspensions,
    terms,
)

__all__ = [
    "agenda_items",
    "attendance_records",
    "attendees",
    "audit",
    "bodies",
    "card_guards",
    "deputies",
    "events",
    "followup_attachments",
    "followup_closed_questions",
    "followup_commitments",
    "followup_decisions",
    "followup_item_organs",
    "followup_items",
    "followup_judgments",
    "followup_posts",
    "followup_reports",
    "groups",
    "leave_requests",
    "mandates",
    "meeting_imports",
    "meeting_reviewers",
    "meetings",
    "metadata",
    "officials",
    "organs",
    "phone_bindings",
    "presidium_members",
    "question_commitments",
    "question_respondents",
    "question_submissions",
    "questions",
    "rating_receipts",
    "rating_tallies",
    "screen_pairings",
    "sealed_ballots",
    "sessions",
    "staff_sessions",
    "suspensions",
    "terms",
    "users",
    "vote_receipts",
    "vote_tallies",
]
