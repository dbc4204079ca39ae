"""A refused command: the rules said no, and nothing changed.

The code names the reason; the Chinese text the user reads lives in the message
catalogue (:mod:`screens.messages`), so the core stays free of presentation.
"""

from __future__ import annotations


class Refused(Exception):
    """A command that the rules do not allow in the current state."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __repr__(self) -> str:
        return f"Refused({self.code!r}, {self.params!r})"
