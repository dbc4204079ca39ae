"""The record of a held meeting (issue 19): what happened in the hall, in the forms an
office files and publishes.

- :mod:`server.record.facts` folds a meeting's setup and timed event log into a
  :class:`~server.record.facts.MeetingRecord` (pure: no database, no clock). Everything
  else here reads that record, so the proceedings, the results, the charts and the duty
  records agree with each other and with the log.
- :mod:`server.record.load` reads the setup, the log with each event's commit time, and
  what the office keeps beside the log (commitments typed in the hall), and folds them.

The record never holds a secret choice, nor who took part in a secret poll: the log keeps
no choice of a rating or a secret vote (live/events.py), and the fold keeps only the
count of receipts of such a round, never the deputies behind them.

The record stands between the web face and the office: it reads the office's tables (the
commitments, the follow-up decision, the reporters) and holds a sitting through the room's
runtime, so it may import server.office, server.room and everything below them; only the
web face and the commands import it.
"""
