"""The roster import's 名册中未出现 choices, read from the confirmation form.

For each current member the file does not list, the preview sends ``fate_<id>`` (keep, the
default, or end) and, to end, ``ends_on_<id>``, ``reason_<id>``, ``organ_<id>``,
``document_<id>`` and ``document_on_<id>``. Every typed value goes through
server/base/days.py or server/base/parse.py; a problem is a Chinese sentence naming the
member, and any problem refuses the whole import (the preview shows it again).
"""

from __future__ import annotations

from server.base import parse
from server.base.days import BadDay, parse_day, parse_optional_day
from server.office import imports, mandates
from server.office.roster_import import EndChoice

# A row per missing member of six fields: a whole body missing (the wrong file) still fits.
MAX_CHOICE_FIELDS = 10 + 6 * 1000
MAX_CHOICE_BYTES = 1024 * 1024
FATES = ("keep", "end")


def read_choices(form: dict[str, str], plan: imports.RosterPlan) -> tuple[dict[int, EndChoice], list[str]]:
    """The members to end, and the problems of the form (empty when it is usable)."""
    missing = {str(x.deputy_id): x for x in plan.missing}
    choices: dict[int, EndChoice] = {}
    problems: list[str] = []
    for key, fate in form.items():
        if not key.startswith("fate_"):
            continue
        who = missing.get(key.removeprefix("fate_"))
        if fate not in FATES:
            problems.append("请为名册中未出现的每位代表选择“保留”或“终止代表资格”。")
        elif who is None and fate == "end":
            problems.append("所选代表不在“名册中未出现”的名单中（名册可能已被修改），请重新上传预览。")
        elif who is not None and fate == "end":
            got = _one(form, who)
            if isinstance(got, str):
                problems.append(got)
            else:
                choices[who.deputy_id] = got
    return choices, problems


def _one(form: dict[str, str], who: imports.MissingMember) -> EndChoice | str:
    i = who.deputy_id
    try:
        ends_on = parse_day(form.get(f"ends_on_{i}", ""), f"{who.name}的代表资格终止日期")
        document_on = parse_optional_day(form.get(f"document_on_{i}", ""), f"{who.name}的文件日期")
    except BadDay as bad:
        return str(bad)
    texts = {}
    for field in ("reason", "organ", "document"):
        value = parse.text(form.get(f"{field}_{i}", ""), mandates.MAX_ORGAN)
        if value is None:
            return f"{who.name}：所填内容太长或含有无法识别的字符，请修改。"
        texts[field] = value
    if texts["reason"] not in mandates.END_REASONS:
        return f"{who.name}：请选择终止代表资格的原因。"
    return EndChoice(ends_on, texts["reason"], texts["organ"], texts["document"], document_on)
