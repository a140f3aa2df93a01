"""Every phone and ID-card form in the issue's list is masked, in utterances, notes, promise
records, summaries, every export and log messages (issue 15)."""
from __future__ import annotations

import logging

import pytest

from assist.store import SessionRecorder, open_store
from assist.store.masking import mask_log_records, mask_text

from .conftest import raw_connection

# (as typed or recognised, the digits that must not survive)
FORMS = [
    ("tel13812345678", "1381234"),
    ("TEL:13812345678", "1381234"),
    ("电话：１３８１２３４５６７８", "１３８１２３４"),
    ("138.1234.5678", "138.1234"),
    ("138-1234-5678", "138-1234"),
    ("138 1234 5678", "138 1234"),
    ("+86 138 1234 5678", "86 138 1234"),
    ("一三八一二三四五六七八", "一三八一二三四"),
    ("幺三八 幺二三四 五六七八", "幺三八 幺二三四"),
    ("138一二三四5678", "138一二三四"),
    ("身份证11010519491231002X", "11010519491231"),
    ("身份证11010519491231002x", "11010519491231"),
    ("身份证１１０１０５１９４９１２３１００２Ｘ", "１１０１０５１９４９１２３１"),
    ("身份证110105 19491231 002X", "110105 19491231"),
    ("身份证一一零一零五一九四九一二三一零零二叉", "一一零一零五一九四九一二三一"),
    ("卡号6222021234567890", "622202123456"),
    ("卡号6222 0212 3456 7890", "6222 0212 3456"),
    ("卡号6222.0212.3456.7890", "6222.0212.3456"),
    ("No.6222021234567890123", "622202123456789"),
    ("手机号13812345678abc", "1381234"),
]


@pytest.mark.parametrize("text,secret", FORMS)
def test_each_form_is_masked_keeping_length_and_last_four(text, secret):
    masked = mask_text(text)
    assert secret not in masked
    assert len(masked) == len(text)
    assert masked.count("*") >= 7


@pytest.mark.parametrize("text", ["两天内先还一万", "下周五前还3000元", "2026-11-28 10:30", "版本1.2.3", "一万二千五百"])
def test_everyday_numbers_stay_readable(text):
    assert mask_text(text) == text


def test_notes_promises_summary_and_exports_are_masked(db_path, ev):
    with open_store(db_path) as store:
        rec = SessionRecorder(store)
        rec(ev.started("n1"))
        rec(ev.final("我明天还三千 我电话138.1234.5678"))
        assert rec.close() == 0  # the recorder writes on its own thread: wait for it
        store.set_notes("n1", "客户说换号了 tel13812345678 身份证一一零一零五一九四九一二三一零零二叉")
        notes = store.get_notes("n1")
        summary = repr(store.summary("n1"))
        exports = [store.export("n1", fmt) for fmt in ("markdown", "json", "csv")]
    raw = raw_connection(db_path)
    dumped = "\n".join(repr(row) for table in ("sessions", "utterances", "warnings")
                       for row in raw.execute(f"SELECT * FROM {table}").fetchall())
    raw.close()
    for where in [notes, summary, dumped, *exports]:
        for secret in ("1381234", "138.1234", "一一零一零五一九四九"):
            assert secret not in where


def test_log_messages_are_masked(caplog):
    mask_log_records()
    with caplog.at_level(logging.WARNING):
        logging.getLogger("assist.test").warning("write failed for %s", "客户电话13812345678")
    assert "13812345678" not in caplog.text and "5678" in caplog.text
