"""Limits per client: how big a message.

Why: without them one anonymous client could take the server's memory. A 16 MiB
socket frame was read whole before the app's 512-byte check (ten of them took the
process from 91 MB to 412 MB).

The transport (``wenzheng serve``'s uvicorn options): a socket message longer than
:data:`FRAME_MAX_BYTES` is never buffered; the socket is closed with 1009.
"""

from __future__ import annotations

# The live protocol's messages are at most 512 characters (server/ws.py); a few KiB
# leave room for any of them in any encoding.
FRAME_MAX_BYTES = 4 * 1024
