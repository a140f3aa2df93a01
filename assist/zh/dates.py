"""Relative dates in Chinese speech, resolved against the call's date: 两天内, 下周五前, 月底, 15号之前.

``find_due_date(text, call_date)`` returns the first date expression in the
text and the day it means; deadlines ("…之前", "…内") resolve to the last day
allowed. Pure; any thread.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from assist.zh.numerals import CN_DIGIT_CHARS, parse_number

NUM = rf"(?:\d{{1,2}}|[{CN_DIGIT_CHARS}]{{1,3}})"
WEEKDAY = r"([一二三四五六日天1-7])"
WEEK = r"(?:周|星期|礼拜)"
_WEEKDAY_INDEX = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}


@dataclass(frozen=True)
class DueDate:
    date: date
    text: str  # the words it came from, e.g. 下周五前


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(d: date, months: int, day: int | None = None) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    last = calendar.monthrange(y, m)[1]
    return date(y, m, min(day if day is not None else d.day, last))


def _n(text: str) -> int | None:
    v = parse_number(text)
    return int(v) if v is not None and v == int(v) and v > 0 else None


def _weekday(ch: str) -> int:
    return _WEEKDAY_INDEX.get(ch) or int(ch)


def _this_week(call: date, wd: int) -> date:
    d = call - timedelta(days=call.weekday()) + timedelta(days=wd - 1)
    return d if d >= call else d + timedelta(days=7)  # "周五" said on Saturday: the coming one


def _next_week(call: date, wd: int) -> date:
    return call - timedelta(days=call.weekday()) + timedelta(days=7 + wd - 1)


def _day_of_month(call: date, day: int) -> date | None:
    if not 1 <= day <= 31:
        return None
    d = _add_months(call, 0, day)
    return d if d >= call else _add_months(call, 1, day)


def _month_day(call: date, month: int, day: int) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    y = call.year
    d = date(y, month, min(day, calendar.monthrange(y, month)[1]))
    return d if d >= call else date(y + 1, month, min(day, calendar.monthrange(y + 1, month)[1]))


# (pattern, resolver(match, call_date) -> date | None), most specific first
_RULES = (
    (rf"({NUM})月({NUM})[号日]", lambda m, c: _month_day(c, _n(m[1]) or 0, _n(m[2]) or 0)),
    (r"下个?月(?:底|末)", lambda m, c: _add_months(_month_end(c.year, c.month), 1, 31)),
    (r"下个?月初", lambda m, c: _add_months(c, 1, 5)),
    (rf"下个?月({NUM})[号日]", lambda m, c: _add_months(c, 1, _n(m[1])) if _n(m[1]) else None),
    (r"(?:这个?月|本月|月)(?:底|末)", lambda m, c: _month_end(c.year, c.month)),
    (r"(?:这个?月|本月)?(?:中旬|月中)", lambda m, c: _day_of_month(c, 15)),
    (rf"下个?{WEEK}{WEEKDAY}", lambda m, c: _next_week(c, _weekday(m[1]))),
    (rf"(?:这个?|本)?{WEEK}{WEEKDAY}", lambda m, c: _this_week(c, _weekday(m[1]))),
    (r"下个?(?:周末|星期|礼拜|周)", lambda m, c: _next_week(c, 7)),
    (r"(?:这个?|本)?周末", lambda m, c: _this_week(c, 7)),
    (rf"(?<![\d{CN_DIGIT_CHARS}])({NUM})[号日](?!子)", lambda m, c: _day_of_month(c, _n(m[1]) or 0)),
    (rf"({NUM})个?(?:天|日)(?:之内|以内|内|后|之后|以后)?", lambda m, c: c + timedelta(days=_n(m[1]) or 0)
     if _n(m[1]) else None),
    (rf"({NUM})?个?(?:周|星期|礼拜)(?:之内|以内|内)", lambda m, c: c + timedelta(days=7 * (_n(m[1] or "一") or 1))),
    (rf"({NUM})个月(?:之内|以内|内|后|之后|以后)", lambda m, c: _add_months(c, _n(m[1]) or 0) if _n(m[1]) else None),
    (r"大后天", lambda m, c: c + timedelta(days=3)),
    (r"后天", lambda m, c: c + timedelta(days=2)),
    (r"明天|明日|明儿", lambda m, c: c + timedelta(days=1)),
    (r"今天|今日|今儿|马上|立刻", lambda m, c: c),
    (r"下个?月", lambda m, c: _add_months(_month_end(c.year, c.month), 1, 31)),
    (r"年底|年末|年前", lambda m, c: date(c.year, 12, 31)),
)
_COMPILED = tuple((re.compile(p), f) for p, f in _RULES)
_DEADLINE_TAIL = re.compile(r"^(?:之前|以前|前|之内|以内|内)")


def find_due_date(text: str, call_date: date) -> DueDate | None:
    """The most specific date expression in ``text`` (spaces ignored), resolved against ``call_date``."""
    s = re.sub(r"\s+", "", text or "")
    for pattern, resolve in _COMPILED:
        for m in pattern.finditer(s):
            d = resolve(m, call_date)
            if d is not None:
                tail = _DEADLINE_TAIL.match(s[m.end():])
                return DueDate(d, m.group(0) + (tail.group(0) if tail else ""))
    return None
