"""Titles break between phrases only: where screens/phrases.py lets a line end."""

from __future__ import annotations

from screens.phrases import phrase_breaks
from screens.render import env


def pieces(text: str) -> list[str]:
    return str(phrase_breaks(text)).split("<wbr>")


def test_a_meeting_title_breaks_between_its_phrases() -> None:
    assert pieces("清溪镇第十七届人民代表大会第三次会议（年中人代会）") == [
        "清溪镇",
        "第十七届",
        "人民代表大会",
        "第三次会议",
        "（年中人代会）",
    ]


def test_a_question_breaks_after_punctuation_and_the_particle() -> None:
    assert pieces("农民建房审批慢、手续多的问题何时解决？") == [
        "农民建房审批慢、",
        "手续多的",
        "问题",
        "何时解决？",
    ]
    assert pieces("城西老旧小区加装电梯和雨污分流进展如何？") == [
        "城西老旧小区加装电梯和",
        "雨污分流",
        "进展如何？",
    ]


def test_an_agenda_item_breaks_after_its_verb() -> None:
    assert pieces("听取镇人民政府上半年工作报告") == ["听取", "镇人民政府", "上半年", "工作报告"]


def test_a_phrase_with_nothing_to_break_stays_whole() -> None:
    assert pieces("清溪镇人民代表大会") == ["清溪镇人民代表大会"]
    assert pieces("") == [""]


def test_the_text_is_escaped_and_only_wbr_is_markup() -> None:
    assert str(phrase_breaks("<b>第一</b>")) == "&lt;b&gt;<wbr>第一&lt;/b&gt;"


def test_templates_use_it_as_a_filter() -> None:
    rendered = env.from_string("{{ t | phrases }}").render(t="人民代表大会第三次会议")
    assert rendered == "人民代表大会<wbr>第三次会议"


def test_a_resolution_breaks_before_what_it_arranges() -> None:
    """A phone at 360 px read 关于|城东片区老旧小区改造资金安|排的决议 (review walk)."""
    pieces = str(phrase_breaks("关于城东片区老旧小区改造资金安排的决议")).split("<wbr>")
    assert "".join(pieces) == "关于城东片区老旧小区改造资金安排的决议"
    assert all(len(p) <= 12 for p in pieces), pieces  # each fits a 360 px phone's line
    assert "".join(pieces[:2]) == "关于城东片区老旧小区改造"
