"""Where a Chinese title may break: between its phrases, never inside a word.

Browsers break CJK text between any two characters, so a title wrapped on a projector or a
phone reads 人民代表|大会 or （年中|人代会）. The screens set ``word-break: keep-all``
(no break between characters at all) and mark with ``<wbr>`` the places a line may end:
after punctuation, before an opening bracket, before an ordinal (第…), after the words that
close a phrase of a meeting's, an agenda item's or a question's title (…届, …会议, …政府,
…的, 听取…) and before those that open one (上半年…, 工作报告, 如何…). A run too long for the
line still breaks (``overflow-wrap: anywhere``) rather than overflow.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_CLOSING = ("届", "会议", "大会", "委员会", "政府", "的", "和", "听取", "审议", "审查", "关于", "批准")
# A question's predicate opens with its interrogative: 南塘农贸市场改造工程|为何一再延期？
# A resolution's object opens with what it arranges: 关于城东片区老旧小区改造|资金安排的|决议
# (review: a phone at 360 px read 关于|城东片区老旧小区改造资金安|排的决议).
_OPENING = (
    "上半年",
    "下半年",
    "工作报告",
    "如何",
    "何时",
    "为何",
    "是否",
    "能否",
    "怎样",
    "怎么",
    "进展",
    "资金",
    "预算",
    "决算",
)
_AFTER = re.compile(r"(?<=[、，。；：？！）」』”》,;:?!)])|" + "|".join(f"(?<={w})" for w in _CLOSING))
_BEFORE = re.compile(
    r"(?=[（「『“《(])|(?<![第（(])(?=第)|" + "|".join(f"(?<!进展)(?={w})" for w in _OPENING)
)


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
