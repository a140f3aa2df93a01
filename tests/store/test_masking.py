"""Masking of ID-card, phone and bank-card numbers: in storage by default, always in exports."""
from __future__ import annotations

import json

import pytest

from assist.store import SessionRecorder, open_store
from assist.store.masking import mask_text, masking_enabled

from .conftest import raw_connection


@pytest.mark.parametrize("text, expected", [
    ("我的手机号13812345678", "我的手机号*******5678"),
    ("手机 138 1234 5678 打这个", "手机 *** **** 5678 打这个"),
    ("身份证11010519491231002X", "身份证**************002X"),
    ("身份证号110105194912310021。", "身份证号**************0021。"),
    ("卡号6222 0212 3456 7890 123", "卡号**** **** **** ***0 123"),
    ("卡号6222-0212-3456-7890", "卡号****-****-****-7890"),
    ("卡号6222021234567890", "卡号************7890"),
    ("座机010-12345678", "座机***-****5678"),
    ("座机0755 1234567", "座机**** ***4567"),
    ("电话 一三八 一二三四 五六七八", "电话 *** **** 五六七八"),
    ("电话幺三八一二三四五六七八", "电话*******五六七八"),
])
def test_sensitive_numbers_are_masked_keeping_last_four_and_length(text, expected):
    assert mask_text(text) == expected
    assert len(mask_text(text)) == len(text)  # warning spans stay valid


@pytest.mark.parametrize("text", [
    "两天内先还一万", "下周五前还3000元", "一万二", "1.5万", "15号之前还两千五", "订单号2026112312",
    "我欠了20000元", "今年2026年", "",
])
def test_amounts_dates_and_short_numbers_stay_readable(text):
    assert mask_text(text) == text


def test_storage_is_masked_by_default_and_exports_always(db_path, ev):
    text = "我手机13812345678 卡号6222021234567890"
    with open_store(db_path) as store:
        rec = SessionRecorder(store)
        rec(ev.started("m1"))
        rec(ev.final(text, warnings=[ev.warning(text, "13812345678", rule="r_phone", severity="info")]))
        assert rec.close() == 0
    raw = raw_connection(db_path)
    stored = raw.execute("SELECT text FROM utterances").fetchone()[0]
    said = raw.execute("SELECT said FROM warnings").fetchone()[0]
    raw.close()
    assert "13812345678" not in stored and "5678" in stored and "7890" in stored
    assert said == "*******5678"
    assert b"13812345678" not in db_path.read_bytes()
    with open_store(db_path) as store:
        for fmt in ("markdown", "json", "csv"):
            assert "13812345678" not in store.export("m1", fmt)


def test_mask_off_stores_raw_but_exports_still_masked_unless_unmask(db_path, ev, monkeypatch):
    monkeypatch.setenv("ASSIST_MASK", "0")
    assert masking_enabled() is False
    text = "身份证11010519491231002X 手机13812345678"
    with open_store(db_path) as store:
        assert store.mask is False
        rec = SessionRecorder(store)
        rec(ev.started("m2"))
        rec(ev.final(text))
        assert rec.close() == 0
        store.set_notes("m2", "客户说回电 13900001111")
        assert store.utterances("m2")[0]["text"] == text
        for fmt in ("markdown", "json", "csv"):
            out = store.export("m2", fmt)
            assert "11010519491231002X" not in out and "13812345678" not in out, fmt
            assert "13900001111" not in out
            assert "002X" in out and "5678" in out
        unmasked = json.loads(store.export("m2", "json", unmask=True))
        assert unmasked["utterances"][0]["text"] == text
        assert "13900001111" in unmasked["session"]["notes"]


def test_explicit_mask_argument_wins_over_environment(db_path, monkeypatch):
    monkeypatch.setenv("ASSIST_MASK", "0")
    with open_store(db_path, mask=True) as store:
        assert store.mask is True
