"""Offers checked against the playbook's terms (``terms:`` in its YAML), on a fixture KB.

The terms are written into a copy of data/party_kb by each test, so what is checked is read
from the KB: the longest extension, the most instalments, whether waivers exist at all, and
what is waived as a matter of course.
"""
import shutil
from pathlib import Path

import pytest

from assist.engine.post_call import post_call_check
from assist.events import Utterance
from assist.knowledge import load_kb
from assist.knowledge.loader import KBError

BASE = Path(__file__).parent / "data" / "party_kb"


def kb_with(tmp_path, terms: str, second: str = ""):
    kb = tmp_path / "kb"
    shutil.copytree(BASE, kb)
    book = kb / "playbooks" / "reminder.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace("stages:", terms + "\nstages:", 1), encoding="utf-8")
    if second:
        (kb / "playbooks" / "second.yaml").write_text(second, encoding="utf-8")
    return load_kb(kb)


def offers(kb, *agent_lines, playbook="reminder"):
    lines = [Utterance("agent", "您好 我是某某金融的客服专员小王 请问是王五先生本人吗"), Utterance("customer", "是我")]
    lines += [Utterance("agent", t) for t in agent_lines]
    r = post_call_check(kb, lines, playbook_id=playbook)
    return [(f.evidence[0].text, f.title) for f in r.findings if f.check == "offer" or f.check == "waiver"]


def test_an_extension_longer_than_the_terms_allow(tmp_path):
    kb = kb_with(tmp_path, "terms:\n  extension_months_max: 3")
    got = offers(kb, "我们可以给您延期半年", "最多可以办三个月以内的展期", "给您延后九十天", "延期到5月20号再还",
                 "延期一年是办不了的")
    assert [t for t, _ in got] == ["我们可以给您延期半年"]
    assert "3 个月" in post_call_check(kb, [Utterance("agent", "可以宽限您五个月")], playbook_id="reminder").findings[-1].message
    # another playbook's terms are not this call's: a longer limit there, the same offer passes
    kb = kb_with(tmp_path / "b", "terms:\n  extension_months_max: 12")
    assert offers(kb, "我们可以给您延期半年") == []


def test_more_instalments_than_the_terms_allow(tmp_path):
    kb = kb_with(tmp_path, "terms:\n  installments_max: 12")
    assert [t for t, _ in offers(kb, "可以给您分二十四期", "分成十二期也可以")] == ["可以给您分二十四期"]


def test_waivers_by_the_terms(tmp_path):
    kb = kb_with(tmp_path, "terms:\n  waiver: approval\n  waivable: [未产生的利息]")
    got = offers(kb, "提前还清的话 未产生的利息就不收了", "利息可以减免 我帮您提交申请", "罚息我给你免了")
    assert [t for t, _ in got] == ["罚息我给你免了"]
    kb = kb_with(tmp_path / "none", "terms:\n  waiver: none")
    got = offers(kb, "利息可以减免 我帮您提交申请")
    assert got == [("利息可以减免 我帮您提交申请", "提供了话术中没有的减免")]


def test_without_a_known_playbook_the_most_generous_terms_judge(tmp_path):
    second = ("id: second\ntitle: 第二套\nsource: 测试用\nterms:\n  extension_months_max: 6\n"
              "stages:\n  - id: a\n    title: 一\n    lines: [您好。]\n")
    kb = kb_with(tmp_path, "terms:\n  extension_months_max: 3", second)
    assert offers(kb, "给您延期五个月", playbook=None) == []  # within the other playbook's 6
    assert [t for t, _ in offers(kb, "给您延期八个月", playbook=None)] == ["给您延期八个月"]
    assert [t for t, _ in offers(kb, "给您延期五个月", playbook="reminder")] == ["给您延期五个月"]


def test_a_playbook_without_terms_checks_no_offer(tmp_path):
    kb = load_kb(BASE)
    assert offers(kb, "我们可以给您延期三年") == []


@pytest.mark.parametrize("terms,word", [("terms:\n  extension_months_max: 0", "extension_months_max"),
                                        ("terms:\n  waiver: maybe", "waiver"),
                                        ("terms:\n  extention_months_max: 3", "extention_months_max")])
def test_bad_terms_are_named(tmp_path, terms, word):
    with pytest.raises(KBError) as e:
        kb_with(tmp_path, terms)
    assert word in str(e.value)
