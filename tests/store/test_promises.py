"""Promise-to-pay extraction and relative dates, on varied phrasings, with a fixed call date."""
from __future__ import annotations

from datetime import date

import pytest

from assist.zh.dates import find_due_date
from assist.zh.numerals import parse_number
from assist.store.promises import extract_promises, find_owed

CALL = date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize("text, value", [
    ("一万", 10000), ("一万二", 12000), ("两千五", 2500), ("1.5万", 15000), ("两万块", 20000),
    ("三千块钱", 3000), ("3000元", 3000), ("五千", 5000), ("3千", 3000), ("一千二百五十", 1250),
    ("十五", 15), ("俩", 2), ("二十万", 200000),
])
def test_numerals(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["一半", "还款", "", "万万"])
def test_not_numerals(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("text, due", [
    ("两天内", date(2026, 11, 25)),
    ("三天之内", date(2026, 11, 26)),
    ("下周五前", date(2026, 12, 4)),
    ("下星期一", date(2026, 11, 30)),
    ("周五", date(2026, 11, 27)),
    ("月底", date(2026, 11, 30)),
    ("下个月底", date(2026, 12, 31)),
    ("明天", date(2026, 11, 24)),
    ("后天", date(2026, 11, 25)),
    ("大后天", date(2026, 11, 26)),
    ("15号之前", date(2026, 12, 15)),  # the 15th has passed this month
    ("28号", date(2026, 11, 28)),
    ("二十八号", date(2026, 11, 28)),
    ("下个月10号前", date(2026, 12, 10)),
    ("12月5号", date(2026, 12, 5)),
    ("1月5日", date(2027, 1, 5)),
    ("一周内", date(2026, 11, 30)),
    ("三个月内", date(2027, 2, 23)),
    ("年底", date(2026, 12, 31)),
    ("两 天 内", date(2026, 11, 25)),  # recognizer spacing
])
def test_due_dates(text, due):
    found = find_due_date(text, CALL)
    assert found is not None and found.date == due, found


def test_month_end_in_february_and_a_sunday_call():
    assert find_due_date("月底", date(2027, 2, 10)).date == date(2027, 2, 28)
    assert find_due_date("下周五", date(2026, 11, 29)).date == date(2026, 12, 4)  # Sunday -> next week's Friday


def _one(text, speaker="customer", extra=()):
    utts = [*extra, {"id": 99, "speaker": speaker, "text": text, "start_s": 30.0}]
    return extract_promises(utts, CALL)


@pytest.mark.parametrize("text, amount, due", [
    ("两天内先还一万", 10000, date(2026, 11, 25)),
    ("下周五前还3000元", 3000, date(2026, 12, 4)),
    ("明天还五千", 5000, date(2026, 11, 24)),
    ("15号之前还两千五", 2500, date(2026, 12, 15)),
    ("三千块钱下个月10号前", 3000, date(2026, 12, 10)),
    ("我下周五先还一万二", 12000, date(2026, 12, 4)),
    ("1.5万 月底 前 还 上", 15000, date(2026, 11, 30)),
    ("那 我 两 天 内 先 还 一万 吧", 10000, date(2026, 11, 25)),
    ("两万块 我 下个月 还清", 20000, date(2026, 12, 31)),
    ("我先转2000过去", 2000, None),
])
def test_promises(text, amount, due):
    (p,) = _one(text)
    assert p.amount == amount and p.due == due
    assert p.utterance_id == 99 and p.text == text and p.speaker == "customer"


def test_half_of_the_debt_mentioned_earlier():
    owed = {"id": 1, "speaker": "agent", "text": "您 一共 欠款 两万 元", "start_s": 1.0}
    (p,) = _one("月底还一半", extra=[owed])
    assert p.fraction == 0.5 and p.owed == 20000 and p.amount == 10000 and p.due == date(2026, 11, 30)


def test_half_without_a_known_debt_stays_a_fraction():
    (p,) = _one("月底还一半")
    assert p.fraction == 0.5 and p.amount is None and p.amount_text == "一半"


@pytest.mark.parametrize("text", [
    "我还不了一万", "我 还有 一万 的 房贷", "我欠了两万", "能不能 分 两 个 月 还", "等一下", "喂 你好",
    "我手机13812345678 月底 还", "今天是周五", "你们一个月利息多少",
])
def test_not_promises(text):
    assert all(p.amount is None or p.amount >= 100 for p in _one(text))
    assert [p for p in _one(text) if p.amount is not None] == []


def test_agent_restating_is_not_the_customers_promise():
    assert _one("那您两天内先还一万对吧", speaker="agent") == []


def test_bare_amount_answer_takes_the_date_said_next():
    utts = [
        {"id": 1, "speaker": "agent", "text": "您这次能还多少", "start_s": 1.0},
        {"id": 2, "speaker": "customer", "text": "一万二", "start_s": 3.0},
        {"id": 3, "speaker": "agent", "text": "什么时候", "start_s": 5.0},
        {"id": 4, "speaker": "customer", "text": "下周五吧", "start_s": 6.0},
    ]
    (p,) = extract_promises(utts, CALL)
    assert (p.amount, p.due, p.utterance_id) == (12000, date(2026, 12, 4), 2)


def test_owed_amount():
    assert find_owed([{"text": "您的账单一共三万五千元"}, {"text": "我先还一万"}]) == 35000
