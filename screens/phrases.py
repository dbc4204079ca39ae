"""Where a Chinese title may break: between its phrases, never inside a word.

Browsers break CJK text between any two characters, so a title wrapped on a projector or a
phone reads 人民代表|大会 or （年中|人代会）. The screens set ``word-break: keep-all``
(no break between characters at all) and mark with ``<wbr>`` the places a line may end:
after punctuation, before an opening bracket, before an ordinal (第…), after the set words
that close a phrase of a meeting's or a question's title (…届, …会议, …大会, …的). A run
too long for the line still breaks (``overflow-wrap: anywhere``) rather than overflow.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# A break after these (closing punctuation, phrase-closing words) ...
_AFTER = re.compile(
    r"(?<=[、，。；：？！）」』”》,;:?!)])|(?<=届)|(?<=会议)(?![）」』”》，。、])|(?<=大会)(?!第)|(?<=委员会)|(?<=的)"
)
# ... and before these (opening brackets, an ordinal, a new run of Latin letters or digits).
_BEFORE = re.compile(r"(?=[（「『“《(])|(?<![第（(])(?=第)")


def phrase_breaks(text: str) -> Markup:
    """The text, escaped, with ``<wbr>`` where a line may end."""
    cuts = sorted({m.start() for m in _AFTER.finditer(text)} | {m.start() for m in _BEFORE.finditer(text)})
    pieces, last = [], 0
    for cut in cuts:
        if 0 < cut < len(text) and cut > last:
            pieces.append(escape(text[last:cut]))
            last = cut
    pieces.append(escape(text[last:]))
    return Markup("<wbr>").join(pieces)
