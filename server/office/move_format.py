"""The file a meeting moves in (`wenzheng meeting export` / `import`): one signed document.

The file is gzip'd JSON, an envelope::

    {"format": "wenzheng-meeting", "version": 1, "public_key": <hex>, "signature": <hex>,
     "payload": <the payload as one JSON string>}

The signature is Ed25519 over the UTF-8 bytes of the payload string, so what is checked
is exactly what is read: any byte changed in the payload, the key or the signature, and
gzip's own checksum catches a change in the compressed bytes. The key pair is derived
from the installation's secret key (HKDF-SHA256 with a purpose label of its own), so the
laptop signs without keeping a second secret and the office, which never learns that key,
verifies against the public key in the file. A public key in the file proves only that
whoever made the file held the matching secret key: the office compares the fingerprint
the laptop printed at export (``--signer``) to know it is that laptop's.

The payload says its own ``format_version`` and the ``schema_revision`` of the database it
came from; a reader refuses versions it does not know rather than guess.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FORMAT = "wenzheng-meeting"
VERSION = 1
MAX_BYTES = 512 * 1024 * 1024  # unpacked: far above any meeting, below what would exhaust memory


class MoveRefused(ValueError):
    """The file or the move is refused; the message is for the user, in Chinese."""


def signing_key(secret_key: str) -> Ed25519PrivateKey:
    """The installation's export signing key, derived from its secret key: the same
    secret key always gives the same key pair, and nothing else in the system uses it."""
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"wenzheng meeting export v1").derive(
        secret_key.encode()
    )
    return Ed25519PrivateKey.from_private_bytes(seed)


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint_of(public_raw: bytes) -> str:
    """What a person compares: the first 16 bytes of the key's SHA-256, in groups of four."""
    digest = hashlib.sha256(public_raw).hexdigest()[:32]
    return "-".join(digest[i : i + 4] for i in range(0, 32, 4))


def installation_fingerprint(secret_key: str) -> str:
    return fingerprint_of(_raw(signing_key(secret_key).public_key()))


def normal_fingerprint(text: str) -> str:
    """A fingerprint as typed (any case, with or without dashes or spaces) in our form."""
    digits = "".join(c for c in text.lower() if c in "0123456789abcdef")
    if len(digits) != 32 or len(digits) != len(text.replace("-", "").replace(" ", "")):
        raise MoveRefused(f"签名指纹“{text}”格式不对：应为 32 位十六进制数字，如导出时显示的那样。")
    return "-".join(digits[i : i + 4] for i in range(0, 32, 4))


def pack(payload: dict[str, Any], secret_key: str) -> tuple[bytes, str]:
    """The file's bytes and the signer's fingerprint."""
    key = signing_key(secret_key)
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    envelope = {
        "format": FORMAT,
        "version": VERSION,
        "public_key": _raw(key.public_key()).hex(),
        "signature": key.sign(text.encode()).hex(),
        "payload": text,
    }
    raw = json.dumps(envelope, ensure_ascii=False).encode()
    return gzip.compress(raw, mtime=0), fingerprint_of(_raw(key.public_key()))


@dataclass(frozen=True)
class Opened:
    payload: dict[str, Any]
    signer: str  # the fingerprint of the key that signed it


def unpack(data: bytes, signer: str | None = None) -> Opened:
    """The payload, its signature checked; refused with a Chinese message otherwise."""
    # Decompressed with a ceiling, so a small file that inflates without end is refused
    # before it fills the memory.
    inflater = zlib.decompressobj(wbits=31)
    try:
        raw = inflater.decompress(data, MAX_BYTES + 1)
    except zlib.error as exc:
        raise MoveRefused("文件不是会议导出文件，或已损坏（无法解压）。") from exc
    if len(raw) > MAX_BYTES:
        raise MoveRefused("文件过大，不是会议导出文件。")
    if not inflater.eof or inflater.unused_data:
        raise MoveRefused("文件已损坏：内容不完整（可能只复制了一部分）。")
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MoveRefused("文件已损坏：内容不是完整的会议导出文件。") from exc
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise MoveRefused("文件不是问政会议导出文件。")
    if envelope.get("version") != VERSION:
        raise MoveRefused(
            f"导出文件格式版本 {envelope.get('version')!r} 无法识别（本程序只读版本 {VERSION}）；"
            "请用与导出方相同版本的程序导入。"
        )
    try:
        public_raw = bytes.fromhex(str(envelope["public_key"]))
        signature = bytes.fromhex(str(envelope["signature"]))
        text = str(envelope["payload"])
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, text.encode())
    except (KeyError, ValueError, InvalidSignature) as exc:
        raise MoveRefused("签名校验失败：文件在导出后被改动过，或已损坏。未导入任何内容。") from exc
    found = fingerprint_of(public_raw)
    if signer is not None and found != normal_fingerprint(signer):
        raise MoveRefused(
            f"签名者不符：文件由指纹 {found} 的密钥签名，而要求的是 {normal_fingerprint(signer)}。"
            "未导入任何内容。"
        )
    payload = json.loads(text)
    version = payload.get("format_version") if isinstance(payload, dict) else None
    if version != VERSION:
        raise MoveRefused(f"导出内容版本 {version!r} 无法识别（本程序只读版本 {VERSION}）。")
    return Opened(payload, found)
