"""The meetings a body holds and the rules the law gives each body (DOMAIN.md).

A meeting is created from a *kind* (:data:`KINDS`, one row per meeting DOMAIN.md "The
meetings the system runs" describes) held by a *body*. The body's kind decides the quorum
and the pass rule (地方组织法 §14, §25, §51: :data:`BODY_RULES`, now in
:mod:`server.office.body_rules`, enforced by :mod:`live.rules`); the meeting kind brings
the default agenda and the timer defaults. Everything the kind fills in is a default: the
edit page changes any of it.

Defaults we chose (all editable per meeting):

- rating rule: measured against all members (应到), 满意 at 1/2, 满意+基本满意 at 1/2 —
  the published district rule in DOMAIN.md; a 述职评议 is evaluated by those present, so
  its default base is 实到 (DOMAIN.md, "The meetings the system runs");
- no minimum of ballots (a grade whenever anyone rated with the quorum present);
- timers in seconds, per role: asking 180, answering 300, follow-up question 60,
  follow-up reply 120, rating 60; a 专题询问 gives officials 600 s to answer and 180 s
  for a follow-up reply (a topic, several departments); a 述职评议 gives the reporting
  group 600 s (its report runs on the "answering" timer) and 120 s to introduce it;
- warning 30 s before the end; a secret rating's split is shown only once it closes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from live.setup import DEFAULT_TIMER_SECONDS, BodyKind, Denominator, RatingRule, Settings, TimerRole
from server.office import body_rules

# The body's rules live in server/office/body_rules.py; re-exported for older callers.
BODY_RULES = body_rules.BODY_RULES
BodyRules = body_rules.BodyRules

# -- meeting kinds ------------------------------------------------------------------------

BOTH = frozenset(BodyKind)
CONGRESS = frozenset({BodyKind.CONGRESS})
STANDING = frozenset({BodyKind.STANDING_COMMITTEE})


@dataclass(frozen=True)
class MeetingKind:
    key: str
    label: str
    bodies: frozenset[BodyKind]  # which bodies hold this kind of meeting
    agenda: tuple[tuple[str, str], ...]  # (agenda kind, title), in order
    timers: Mapping[TimerRole, int] = field(default_factory=dict)  # overrides of the defaults
    rating_rule: RatingRule = field(default_factory=RatingRule)
    warn_seconds: int = 30

    def settings(self, body_kind: BodyKind) -> Settings:
        return Settings(
            body_kind=body_kind,
            rating_rule=self.rating_rule,
            timer_seconds=MappingProxyType({**DEFAULT_TIMER_SECONDS, **self.timers}),
            warn_seconds=self.warn_seconds,
        )


KINDS: Mapping[str, MeetingKind] = MappingProxyType(
    {
        k.key: k
        for k in (
            MeetingKind(
                "mid_year",
                "年中人代会",
                CONGRESS,
                (
                    ("report", "听取人民政府上半年工作报告"),
                    ("report", "听取关于民生实事项目进展情况的报告"),
                    ("report", "审阅法院、检察院书面工作报告"),
                    ("inquiry", "人大代表问政"),
                    ("vote", "表决有关决议"),
                ),
            ),
            MeetingKind(
                "inquiry",
                "人大代表问政会",
                CONGRESS,
                (
                    ("inquiry", "代表提问、应询答复与满意度测评"),
                    ("discussion", "会议总结讲话"),
                ),
            ),
            MeetingKind(
                "special_inquiry",
                "专题询问",
                STANDING,
                (
                    ("report", "听取专项工作报告"),
                    ("inquiry", "专题询问"),
                    ("rating", "满意度测评"),
                    ("discussion", "会议总结讲话"),
                ),
                timers={TimerRole.ANSWERING: 600, TimerRole.FOLLOWUP_REPLY: 180},
            ),
            MeetingKind(
                "duty_report",
                "代表述职评议",
                CONGRESS,
                (
                    ("report", "代表小组述职"),
                    ("report", "代表个人述职"),
                    ("rating", "述职评议测评"),
                    ("discussion", "点评讲话"),
                ),
                timers={TimerRole.ASKING: 120, TimerRole.ANSWERING: 600},
                rating_rule=RatingRule(Denominator.PRESENT),  # "those present evaluate them"
            ),
            MeetingKind(
                "forum",
                "座谈会",
                BOTH,
                (
                    ("discussion", "座谈交流"),
                    ("inquiry", "提问与答复"),
                ),
            ),
        )
    }
)
