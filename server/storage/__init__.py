"""What is kept: the tables, migrations, the event log, and small record-keepers.

``db`` (engines, the meeting's write lock, snapshot reads), ``models`` (tables),
``store`` (a meeting's setup and log) with ``agenda`` (its agenda as the setup carries
it), ``migrate`` and ``migrations``, ``backup`` and ``restore``, ``table_rows`` (any
table's rows as JSON values and back), and the records both the room and the office use:
``audit``, ``phones`` (which phone holds a card), ``guards`` (wrong codes per card),
``cards``. The room, the office, the web face and the commands may import it; it imports
``base`` and ``live`` (and ``screens.messages``, for the one wording of an agenda item's
reporter that the setup carries).
"""
