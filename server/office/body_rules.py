"""The rules each kind of body meets by, as the law says them, and a body's own overrides.

A body is a people's congress (人民代表大会) or its standing committee (人大常委会), at one
level of government. Its kind gives the quorum and the pass rule (DOMAIN.md, "The bodies
that meet"); :mod:`live.rules` computes them. The office may set the quorum rule of one
body otherwise (``bodies.rules``, JSON ``{"quorum": "two_thirds" | "more_than_half"}``);
:func:`server.storage.store.load_setup` puts it into ``Settings.quorum`` when a meeting is
loaded, so the projector's 符合法定人数 follows the body's own rule.

A town (乡镇) has no standing committee: its congress's presidium works between sessions
(地方组织法 §18).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from live.setup import BodyKind, Quorum


@dataclass(frozen=True)
class BodyRules:
    label: str
    quorum: str  # as the law says it; live.rules.has_quorum computes it
    passing: str  # a resolution passes with … (not of those present)
    quorum_law: str = ""  # the article it rests on
    passing_law: str = ""
    attends: str = ""  # who the members are (应到)
    default_quorum: Quorum = Quorum.TWO_THIRDS


BODY_RULES: Mapping[BodyKind, BodyRules] = MappingProxyType(
    {
        BodyKind.CONGRESS: BodyRules(
            "人民代表大会",
            "全体代表三分之二以上出席",
            "全体代表过半数通过",
            "地方组织法第十四条（人代会须有三分之二以上代表出席始得举行）",
            "地方组织法第二十五条（以全体代表的过半数通过）",
            "本级人民代表大会全体代表（列席人员、旁听人员不计入应到）",
            Quorum.TWO_THIRDS,
        ),
        BodyKind.STANDING_COMMITTEE: BodyRules(
            "人大常委会",
            "全体组成人员过半数出席",
            "全体组成人员过半数通过",
            "地方组织法第五十一条（常委会会议须有过半数组成人员出席始得举行）",
            "地方组织法第五十一条（以全体组成人员的过半数通过）",
            "常委会全体组成人员（应询人、列席人员不计入应到）",
            Quorum.MORE_THAN_HALF,
        ),
    }
)

# Keys of the command line and the forms (--kind standing-committee) to the stored kind.
KIND_KEYS: Mapping[str, BodyKind] = MappingProxyType(
    {"congress": BodyKind.CONGRESS, "standing-committee": BodyKind.STANDING_COMMITTEE}
)
KIND_KEYS_ALL: Mapping[str, BodyKind] = MappingProxyType(
    {**KIND_KEYS, "standing_committee": BodyKind.STANDING_COMMITTEE}
)

LEVELS: Mapping[str, str] = MappingProxyType(
    {"town": "乡镇", "county": "县级", "city": "设区的市级", "province": "省级"}
)

QUORUMS: Mapping[Quorum, str] = MappingProxyType(
    {Quorum.TWO_THIRDS: "三分之二以上出席", Quorum.MORE_THAN_HALF: "过半数出席"}
)
MEMBERS_OF: Mapping[BodyKind, str] = MappingProxyType(
    {BodyKind.CONGRESS: "全体代表", BodyKind.STANDING_COMMITTEE: "全体组成人员"}
)
QUORUM_SHORT: Mapping[Quorum, str] = MappingProxyType(
    {Quorum.TWO_THIRDS: "三分之二以上", Quorum.MORE_THAN_HALF: "过半数"}
)


def read_rules(raw: str) -> dict[str, str]:
    """``bodies.rules`` as a dict; a damaged value reads as no override."""
    try:
        found = json.loads(raw or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def quorum_override(raw: str) -> Quorum | None:
    wanted = read_rules(raw).get("quorum", "")
    return Quorum(wanted) if wanted in set(Quorum) else None


@dataclass(frozen=True)
class Effective:
    """What the body page shows: the rules in force and whether the quorum is the law's."""

    rules: BodyRules
    quorum: Quorum
    quorum_text: str
    overridden: bool


def effective(kind: str, raw_rules: str) -> Effective:
    body_kind = BodyKind(kind)
    rules = BODY_RULES[body_kind]
    override = quorum_override(raw_rules)
    quorum = override or rules.default_quorum
    text = MEMBERS_OF[body_kind] + QUORUMS[quorum]
    return Effective(rules, quorum, text, override is not None and override != rules.default_quorum)
