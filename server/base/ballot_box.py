"""The sealed ballot box: a secret choice is stored so that the database cannot read it.

Theory of operation (docs/design.md, "Secret ballots"). A secret ballot must be on disk
before the phone hears 已记录 (the reply is the receipt), yet nothing the database keeps
may tie the choice to the deputy. Everything written in the receipt's transaction is
tied to it (PostgreSQL stamps each row with its writing transaction, ``xmin``; SQLite's
WAL keeps each commit's pages), and so is anything written just before or after it. So
the choice is written beside the receipt, but sealed: AES-GCM under a key derived from
the installation's secret key, which is never in the database, with a fresh random nonce,
so two ballots with the same choice look unrelated and every sealed ballot has the same
length. The round's totals are computed by opening the box when the chair closes the
ballot, written once as totals, and the sealed rows are deleted in the same transaction.

Whoever holds a copy of the database (system columns, dead tuples and the WAL included)
sees receipts, sealed bytes and, after the close, totals: the same whatever each deputy
chose. Whoever holds the secret key as well could open the rows still in the box.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections import Counter
from collections.abc import Iterable
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from live.state import Choice, VoteChoice

NONCE_BYTES = 12
RATING = "rating"
VOTE = "vote"
# One byte per choice, the same length for every choice of a kind.
_ALPHABETS: dict[str, tuple[StrEnum, ...]] = {RATING: tuple(Choice), VOTE: tuple(VoteChoice)}


class Unreadable(Exception):
    """A sealed ballot that this key cannot open (another installation's key, or damage)."""


class BallotBox:
    """Seals and opens the choices of secret ballots with the installation's key."""

    def __init__(self, secret_key: str) -> None:
        key = hmac.new(secret_key.encode(), b"wenzheng ballot box v1", hashlib.sha256).digest()
        self._aead = AESGCM(key)

    @staticmethod
    def _label(meeting_id: int, kind: str, round_id: int) -> bytes:
        # Bound into the tag: a sealed ballot moved to another round or meeting won't open.
        return f"{meeting_id}:{kind}:{round_id}".encode()

    def seal(self, meeting_id: int, kind: str, round_id: int, choice: StrEnum) -> bytes:
        plain = bytes([_ALPHABETS[kind].index(choice)])
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, self._label(meeting_id, kind, round_id))

    def open(self, meeting_id: int, kind: str, round_id: int, sealed: bytes) -> StrEnum:
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            plain = self._aead.decrypt(nonce, body, self._label(meeting_id, kind, round_id))
        except InvalidTag as exc:
            raise Unreadable(f"sealed ballot of {kind} {round_id} in meeting {meeting_id}") from exc
        alphabet = _ALPHABETS[kind]
        if len(plain) != 1 or plain[0] >= len(alphabet):
            raise Unreadable(f"sealed ballot of {kind} {round_id} in meeting {meeting_id}")
        return alphabet[plain[0]]

    def count(self, meeting_id: int, kind: str, round_id: int, sealed: Iterable[bytes]) -> Counter[str]:
        """The totals per choice value of a round's sealed ballots."""
        return Counter(self.open(meeting_id, kind, round_id, s).value for s in sealed)
