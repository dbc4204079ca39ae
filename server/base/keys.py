"""Who is asking: staff sessions, bound deputy phones, paired screens, hall codes.

- Passwords are hashed with Argon2id (argon2-cffi's defaults). Hashes written before
  (``scrypt$…``, the standard library's scrypt) still verify; server/office/accounts.py re-hashes
  them to Argon2 at the next successful login.
- Cookies are signed (itsdangerous); a deputy cookie names the deputy and the card
  version, so re-issuing a card revokes the phones bound with the old one. A staff
  cookie names a server-side session (table ``staff_sessions``, server/web/sessions.py):
  the signature says the server issued it, the row says it has not been revoked.
- CSRF: every cookie-authenticated POST carries a token derived from the cookie
  (header ``X-CSRF-Token``, set once on the page body for htmx, or a form field).
- The hall code proves presence in the hall: it is an HMAC of the meeting and a
  30-second window, shown only on the paired projector, and accepted for the current
  and the previous window only. Opening a valid one gives the phone a grant cookie
  (:meth:`Keys.hall_grant`) good for the meeting's ``checkin_grace_minutes``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from server.base.ballot_box import BallotBox
from server.base.parse import hex_window

ARGON2 = PasswordHasher()
SESSION_MAX_AGE = 12 * 3600


def same(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time comparison that also takes non-ASCII text (compare_digest does not)."""
    a_bytes = a.encode() if isinstance(a, str) else a
    b_bytes = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)


def hash_password(password: str) -> str:
    return ARGON2.hash(password)


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return ARGON2.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        candidate = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:  # a malformed hash (binascii.Error is a ValueError)
        return False
    return same(candidate, expected)


@dataclass(frozen=True)
class StaffSession:
    user_id: int
    username: str
    roles: frozenset[str]
    sid: str  # the random session id; its row in staff_sessions is keyed by session_key(sid)
    issued_ms: int = 0  # when the cookie was signed: a later password change voids it


@dataclass(frozen=True)
class DeputyBinding:
    deputy_id: int
    card_version: int
    sid: str


@dataclass(frozen=True)
class ScreenBinding:
    meeting_id: int
    kind: str
    sid: str


CACHE_SIZE = 20_000


def new_session_id() -> str:
    return secrets.token_hex(16)


def session_key(sid: str) -> str:
    """The key of a staff session's row: a digest, so a copy of the database (a backup)
    names no cookie that would open a session, even to someone who also has the secret key."""
    return hashlib.sha256(f"staff-session:{sid}".encode()).hexdigest()


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value


class Keys:
    """Everything signed or derived from the installation's secret key."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._session = URLSafeTimedSerializer(secret, salt="staff-session")
        self._deputy = URLSafeSerializer(secret, salt="deputy-cookie")
        self._invite = URLSafeSerializer(secret, salt="invitation")
        self._screen = URLSafeSerializer(secret, salt="screen")
        # A salt of its own: an organ's link can never be read as a deputy's invitation.
        self._organ = URLSafeSerializer(secret, salt="organ-link")
        self.box = BallotBox(secret)  # seals secret choices (server/base/ballot_box.py)
        # Every request of a phone carries the same cookie; verifying its signature once
        # is enough (a dict bounded by CACHE_SIZE, cleared when full).
        self._deputies: dict[str, DeputyBinding | None] = {}
        self._csrf: dict[str, str] = {}

    def _mac(self, purpose: str, message: str, length: int = 16) -> str:
        raw = hmac.new(self._secret, f"{purpose}:{message}".encode(), hashlib.sha256).digest()
        return base64.b32encode(raw).decode().rstrip("=").lower()[:length]

    # staff
    def staff_cookie(self, user_id: int, username: str, roles: frozenset[str], sid: str | None = None) -> str:
        """The login cookie of session ``sid`` (server.office.accounts.open_session made its row).

        Without ``sid`` the cookie names a session that was never opened: it is well
        signed and opens nothing (tests use it to show exactly that).
        """
        return self._session.dumps(
            {
                "u": user_id,
                "n": username,
                "r": sorted(roles),
                "s": sid or new_session_id(),
                "i": time.time_ns() // 1_000_000,
            }
        )

    def read_staff(self, cookie: str | None) -> StaffSession | None:
        if not cookie:
            return None
        try:
            d: dict[str, Any] = self._session.loads(cookie, max_age=SESSION_MAX_AGE)
            return StaffSession(int(d["u"]), str(d["n"]), frozenset(d["r"]), str(d["s"]), int(d.get("i", 0)))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    # deputies
    def invitation(self, deputy_id: int, card_version: int) -> str:
        return str(self._invite.dumps([deputy_id, card_version]))

    def read_invitation(self, token: str) -> tuple[int, int] | None:
        try:
            deputy_id, version = self._invite.loads(token)
            return int(deputy_id), int(version)
        except (BadSignature, TypeError, ValueError):
            return None

    def deputy_cookie(self, deputy_id: int, card_version: int, sid: str | None = None) -> str:
        """A phone's cookie; ``sid`` names the phone (server.storage.phones), new unless given."""
        return str(self._deputy.dumps([deputy_id, card_version, sid or secrets.token_hex(8)]))

    def read_deputy(self, cookie: str | None) -> DeputyBinding | None:
        if not cookie:
            return None
        if cookie in self._deputies:
            return self._deputies[cookie]
        try:
            deputy_id, version, sid = self._deputy.loads(cookie)
            binding: DeputyBinding | None = DeputyBinding(int(deputy_id), int(version), str(sid))
        except (BadSignature, TypeError, ValueError):
            binding = None
        _remember(self._deputies, cookie, binding)
        return binding

    # responsible organs (承办单位): a link per organ, revoked by bumping its link_version
    def organ_link(self, organ_id: int, link_version: int) -> str:
        return str(self._organ.dumps([organ_id, link_version]))

    def read_organ_link(self, token: str) -> tuple[int, int] | None:
        """(organ id, link version), or None when the token is not one we signed."""
        try:
            organ_id, version = self._organ.loads(token)
            return int(organ_id), int(version)
        except (BadSignature, TypeError, ValueError):
            return None

    def organ_form(self, organ_id: int, link_version: int) -> str:
        """The token of the forms behind an organ's link (it has no session to derive
        one from): bound to the organ and the link's version, so revoking the link voids
        every form opened with it (docs/design.md, "The organ's forms")."""
        return self._mac("organ-form", f"{organ_id}:{link_version}", 32)

    # screens
    def screen_cookie(self, meeting_id: int, kind: str) -> str:
        return str(self._screen.dumps([meeting_id, kind, secrets.token_hex(8)]))

    def read_screen(self, cookie: str | None) -> ScreenBinding | None:
        if not cookie:
            return None
        try:
            meeting_id, kind, sid = self._screen.loads(cookie)
            return ScreenBinding(int(meeting_id), str(kind), str(sid))
        except (BadSignature, TypeError, ValueError):
            return None

    # csrf
    def csrf(self, sid: str) -> str:
        token = self._csrf.get(sid)
        if token is None:
            token = self._mac("csrf", sid, 32)
            _remember(self._csrf, sid, token)
        return token

    def check_csrf(self, sid: str, token: str | None) -> bool:
        return bool(token) and same(self.csrf(sid), token or "")

    # the hall code
    def hall_code(self, meeting_id: int, window: int) -> str:
        return f"{window:x}.{self._mac('hall', f'{meeting_id}:{window}', 10)}"

    def check_hall_code(self, meeting_id: int, code: str, now_s: float, window_s: int) -> str:
        """'ok', 'expired' or 'invalid'."""
        window_hex, dot, _ = code.partition(".")
        # int(…, 16) took any length, and 5,000 hex digits then overflowed the decimal text
        # of the MAC's message (Python's 4,300-digit limit): a 500 for anyone.
        window = hex_window(window_hex) if dot else None
        if window is None:
            return "invalid"
        if not same(self.hall_code(meeting_id, window), code):
            return "invalid"
        current = int(now_s // window_s)
        return "ok" if current - 1 <= window <= current else "expired"

    def hall_grant(self, meeting_id: int, now_s: float) -> str:
        """The cookie a phone gets when it opens a valid hall code: for the meeting's grace
        window it may finish binding and check-in whatever the projector shows by then (an
        elderly deputy typing a card number and 8 digits takes longer than the code's
        minute). A cookie, not a form field: it stays with the browser that scanned, and a
        refused form never renews it (only a valid hall code does)."""
        at = int(now_s)
        nonce = secrets.token_hex(4)
        return f"{meeting_id}.{at:x}.{nonce}.{self._mac('grant', f'{meeting_id}:{at}:{nonce}', 16)}"

    def hall_grant_age(self, meeting_id: int, grant: str | None, now_s: float) -> float | None:
        """How old this meeting's grant is in seconds, None when it is none or forged."""
        parts = (grant or "").split(".")
        if len(parts) != 4 or parts[0] != str(meeting_id) or len(parts[2]) != 8:
            return None
        at = hex_window(parts[1])
        if at is None or not same(self._mac("grant", f"{meeting_id}:{at}:{parts[2]}", 16), parts[3]):
            return None
        age = now_s - at
        return age if age >= -5 else None  # a grant from the future is forged or a bad clock

    def ballot_key(self, meeting_id: int, question_id: int) -> str:
        """The default key of a rating form; the page script replaces it per form."""
        return self._mac("ballot", f"{meeting_id}:{question_id}", 16)
