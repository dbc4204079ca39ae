"""The meeting's state and rules, with no I/O.

Theory of operation: a meeting is a value (:class:`live.state.MeetingState`).
Every change is asked for as a command (:mod:`live.commands`); :func:`live.core.decide`
checks it against the rules and answers with the events it causes, or raises
:class:`live.refusals.Refused` and changes nothing. :func:`live.core.apply` folds one
event into the state. The server persists events before it applies them, so replaying
the event log from the start rebuilds any meeting exactly.

Nothing in this package awaits, opens a file or a socket, or reads the clock: the
caller passes ``now_ms`` in. A test enforces that (tests/live/test_purity.py).
"""
