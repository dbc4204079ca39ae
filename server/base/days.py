"""Days and times as the office writes them: China time, "2026-07-15", "14:30", 第十七届.

A body's records are kept by calendar day (a mandate ends on a day, a meeting is held on a
day), read in China time whatever the server's clock zone. Every time a user reads (pages,
exports) is formatted here, in the fixed UTC+8 zone: never ``time.localtime`` (the
machine's TZ, often UTC on a server) and never a tz database (a server may have none).
Parsing refuses in Chinese (:class:`BadDay`); the pages show the message and change nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import time

CHINA = dt.timezone(dt.timedelta(hours=8))
DIGITS = "零一二三四五六七八九"
FIRST_YEAR, LAST_YEAR = 1980, 2099


class BadDay(ValueError):
    """A typed day or time that is not one; the message is for the user, in Chinese."""


def epoch_ms() -> int:
    """This moment in milliseconds since the epoch: what every ``*_ms`` column stores."""
    return time.time_ns() // 1_000_000


def today() -> dt.date:
    return dt.datetime.now(CHINA).date()


def day_of_ms(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).date()


def clock_of_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).strftime("%H:%M")


def moment_of_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d %H:%M")


def second_of_ms(ms: int) -> str:
    """To the second, for the audit trail: "2026-07-15 14:38:13"."""
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d %H:%M:%S")


def short_moment_of_ms(ms: int) -> str:
    """Month, day and time, where the year goes without saying: "07-15 14:38"."""
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).strftime("%m-%d %H:%M")


_DAY = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def parse_day(raw: str, what: str = "日期") -> dt.date:
    """ "2026-07-15" (ASCII digits, 1980–2099) or :class:`BadDay` naming ``what``."""
    text = raw.strip()
    if not text:
        raise BadDay(f"请填写{what}。")
    found = _DAY.fullmatch(text)
    if found is None:
        raise BadDay(f"{what}的格式应为 2026-07-15。")
    year, month, day = (int(g) for g in found.groups())
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadDay(f"{what}的年份应在 {FIRST_YEAR} 至 {LAST_YEAR} 之间。")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise BadDay(f"{what}不是日历上的日子：{text}。") from None


def parse_optional_day(raw: str, what: str = "日期") -> dt.date | None:
    return parse_day(raw, what) if raw.strip() else None


def parse_clock(raw: str, what: str = "开始时间") -> str:
    """ "14:30" as "14:30"; "" stays "" (a time not yet fixed)."""
    text = raw.strip()
    if not text:
        return ""
    found = _CLOCK.fullmatch(text)
    if found is None or int(found.group(1)) > 23 or int(found.group(2)) > 59:
        raise BadDay(f"{what}的格式应为 14:30。")
    return f"{int(found.group(1)):02d}:{found.group(2)}"


def covers(starts_on: dt.date, ends_on: dt.date | None, day: dt.date) -> bool:
    """Whether [starts_on, ends_on) holds ``day``: a record ends at the start of its end day."""
    return starts_on <= day and (ends_on is None or day < ends_on)


def overlaps(a_start: dt.date, a_end: dt.date | None, b_start: dt.date, b_end: dt.date | None) -> bool:
    return (b_end is None or a_start < b_end) and (a_end is None or b_start < a_end)


def numeral(n: int) -> str:
    """1 … 99 in Chinese numerals: 十七, 二十一, 三."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return DIGITS[ones]
    return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")


def term_name(number: int) -> str:
    return f"第{numeral(number)}届"


def session_name(number: int) -> str:
    return f"第{numeral(number)}次会议"


def chinese_day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
