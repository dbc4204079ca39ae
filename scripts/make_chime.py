"""Write server/web/static/chime.wav: the podium's warning tone, made here rather than downloaded.

Two soft sine notes (E6 then A5), 0.25 s each with a short fade, 16 kHz mono 16-bit:
about 16 KB, audible over a hall's murmur without startling the speaker.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16_000
NOTES = ((1318.5, 0.25), (880.0, 0.25))
FADE_S = 0.03
OUT = Path(__file__).resolve().parent.parent / "server" / "web" / "static" / "chime.wav"


def samples() -> list[int]:
    out: list[int] = []
    for freq, length in NOTES:
        n = int(RATE * length)
        fade = int(RATE * FADE_S)
        for i in range(n):
            envelope = min(1.0, i / fade, (n - i) / fade)
            out.append(int(0.45 * 32767 * envelope * math.sin(2 * math.pi * freq * i / RATE)))
    return out


def main() -> None:
    with wave.open(str(OUT), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples()))


if __name__ == "__main__":
    main()
