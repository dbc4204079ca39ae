"""Where a login may send the browser afterwards: a path of this site, never another site."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

_MAX_TARGET = 2000


def local_target(raw: str | None) -> str:
    """Where to go after logging in: a path of this site with its query (``/m/1/cards?group=*``),
    or "/" for anything a browser could read as another site (an open redirect).

    Browsers read ``//host`` and ``/\\host`` as another host and drop tabs and newlines
    before reading; a proxy or an old client may decode once or twice more: so no backslash
    and no control or blank character as sent, no ``//`` or ``/\\`` at the start even once
    decoded, and no scheme or host at all.
    """
    if not raw or len(raw) > _MAX_TARGET or not raw.startswith("/"):
        return "/"
    if "\\" in raw or any(ch <= " " or ch == "\x7f" for ch in raw):
        return "/"
    for text in (unquote(raw), unquote(unquote(raw))):
        bare = "".join(ch for ch in text if ch > " " and ch != "\x7f")
        if bare.startswith(("//", "/\\")):
            return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return "/"
    return raw
