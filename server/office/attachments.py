"""Files attached to a follow-up post (an organ's scanned reply, a photo of the work): pure.

Theory of operation. A file is judged by its first bytes, never by its name or the type
the browser claimed (both are the sender's word): ``%PDF-`` is a PDF; the PNG and JPEG
signatures are images; a ZIP archive is a DOCX only when it holds ``word/document.xml``
(an .xlsx, an .apk or any other ZIP is refused). Anything else — an .exe renamed .pdf, a
text file — is refused. A file whose name says one type and whose bytes another (a PNG
named .docx) is accepted as what its bytes are, and its name gets that type's extension,
so the file a reader downloads opens in the right program.

At most :data:`MAX_FILES` files of :data:`MAX_BYTES` each per post; an empty file is
refused. The name is kept for the reader, cleaned: no folders, no control or reserved
characters, at most :data:`MAX_NAME` characters with its extension kept.

:func:`check_files` opens ZIP directories and hashes up to 50 MB: CPU work, run in the
workshop (server/office/workshop.py) by the web face; it raises :class:`BadFile` with a
Chinese message, and nothing is written anywhere by it.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
MAX_NAME = 200

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PNG = "image/png"
JPEG = "image/jpeg"
EXTENSIONS = {PDF: (".pdf",), DOCX: (".docx",), PNG: (".png",), JPEG: (".jpg", ".jpeg")}
KIND_NAMES = {PDF: "PDF", DOCX: "Word 文档", PNG: "PNG 图片", JPEG: "JPEG 图片"}

_REFUSED_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")
# Invisible characters that change how a name reads: the right-to-left override makes
# "报告\u202egpj.pdf" show as "报告fdp.jpg", zero-width ones hide what a name says.
_HIDDEN_CATEGORIES = frozenset({"Cf", "Cc", "Cs"})  # not Co: old GB18030 rare characters

TEXT = {
    "count": f"每次最多上传 {MAX_FILES} 个附件。",
    "size": f"附件“{{name}}”超过 {MAX_BYTES // (1024 * 1024)} MB，请压缩或分开上传。",
    "empty": "附件“{name}”是空文件。",
    "type": "附件“{name}”不是 PDF、Word（.docx）、PNG 或 JPEG 文件，不能上传。",
}


class BadFile(ValueError):
    """A file refused; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class Checked:
    """A file that passed every check, ready to be stored."""

    filename: str
    mime: str
    size: int
    sha256: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The file's type from its bytes, or None when it is none of the four we take."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04") and _is_docx(data):
        return DOCX
    return None


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _visible(name: str) -> str:
    """The last part of any path, without control, reserved or invisible characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _HIDDEN_CATEGORIES)
    return _SPACES.sub(" ", _REFUSED_CHARS.sub("", name)).strip()


def clean_name(raw: str, mime: str) -> str:
    """The name to keep: the last part of any path, no control, reserved or invisible
    characters (a bidirectional override cannot make a PDF read as a JPEG), the extension
    of the file's real type, at most MAX_NAME characters."""
    name = _visible(raw)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    right = EXTENSIONS[mime]
    if f".{ext.lower()}" not in right:
        # No extension, or another type's (a PNG named .docx): the bytes decide. What
        # follows a dot is an extension only when it looks like one ("v1.2 总结" has none).
        if not (ext.isascii() and ext.isalnum() and len(ext) <= 5):
            stem = name
        ext = right[0][1:]
    stem = stem.strip(" .") or "附件"
    return f"{stem[: MAX_NAME - len(ext) - 1]}.{ext}"


def check_size(name: str, size: int) -> None:
    """The check the web face makes while it reads (before the workshop)."""
    if size > MAX_BYTES:
        raise BadFile(TEXT["size"].format(name=_shown(name)))
    if size == 0:
        raise BadFile(TEXT["empty"].format(name=_shown(name)))


def check_files(files: Sequence[tuple[str, bytes]]) -> list[Checked]:
    """Every file checked (count, size, type by its bytes) and hashed; :class:`BadFile`
    names the first refused one. Run in the workshop."""
    if len(files) > MAX_FILES:
        raise BadFile(TEXT["count"])
    out = []
    for name, data in files:
        check_size(name, len(data))
        mime = sniff(data)
        if mime is None:
            raise BadFile(TEXT["type"].format(name=_shown(name)))
        out.append(Checked(clean_name(name, mime), mime, len(data), hashlib.sha256(data).hexdigest(), data))
    return out


def _shown(name: str) -> str:
    """A name as a message quotes it: cleaned and short."""
    return _visible(name)[:60] or "未命名"


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"
