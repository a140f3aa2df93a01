"""One runaway utterance (a pasted transcript, a stuck recognizer, a hostile file) through the engine.

Each stage bounds its work on a long line (bench/bench_hostile.py measures the time):
compacting and pinyin go through C in one pass and are shared (``compact``'s cache, one
UTF-8 encoding for every rule pattern), FAQ matching reads the end of the line, party
tracking its two ends, compliance all of it. What is checked here is that the bounds lose
nothing they must not: the long-text paths give exactly what the plain ones give, a
violation anywhere in a long agent line is caught with its span, the whole line stays in
the result, and masking covers all of it.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assist.engine import AssistEngine
from assist.engine.assistant import PARTY_CHARS
from assist.events import Utterance
from assist.knowledge import load_kb
from assist.knowledge.patterns import LONG_TEXT, compile_pattern
from assist.store.masking import mask_text
from assist.zh import text as zh
from assist.zh.text import _KEEP, _SYLLABLE_TOKEN, char_pinyin, fold_syllable

RULES = load_kb(Path(__file__).parent / "fixture_rules_kb")
FAQ_KB = load_kb(Path(__file__).parent / "fixture_kb")

# characters that exercise every branch: CJK (also outside the BMP block), Hangul, Latin in both
# cases, digits, full-width forms (NFKC folds them), ones that expand (㈱ -> (株), ﬁ -> fi) or
# lower-case to two (İ), combining marks, punctuation, spaces, controls, emoji, a lone surrogate
ALPHABET = list("我们这里是公安局的你涉嫌诈骗坐牢等着瞧还款展期") + list("가힣한") + list("abcXYZ019") + \
    list("ＡＢｃ１２，。！？　") + ["㈱", "ﬁ", "İ", "é", "e\u0301", "\u3400", "\u9fff", " ", "\t", "\n",
                                   "\x00", "\x1b", "😀", "\ud800", "-", "_"]
long_texts = st.lists(st.sampled_from(ALPHABET), min_size=600, max_size=3000).map("".join)


def reference_compact(text: str) -> tuple[str, list[int]]:
    """What compact means, one character at a time (the short path's careful branch)."""
    chars, offsets = [], []
    for i, ch in enumerate(text):
        n = zh.unicodedata.normalize("NFKC", ch).lower()
        if len(n) == 1 and _KEEP.match(n):
            chars.append(n)
            offsets.append(i)
    return "".join(chars), offsets


def reference_syllables(text: str, fold: bool) -> list[str]:
    keys = []
    for tok in _SYLLABLE_TOKEN.findall(text):
        if "\u3400" <= tok[0] <= "\u9fff":
            keys.append(fold_syllable(char_pinyin(tok)) if fold else char_pinyin(tok))
        else:
            keys.append(tok)
    return keys


@settings(max_examples=60, deadline=None)
@given(long_texts)
def test_long_compact_is_the_character_by_character_one(text):
    c = zh.compact(text)
    want_text, want_offsets = reference_compact(text)
    assert c.text == want_text
    assert [int(o) for o in c.offsets] == want_offsets
    if want_offsets:
        assert c.span_in_original(0, len(want_text)) == (want_offsets[0], want_offsets[-1] + 1)


@settings(max_examples=60, deadline=None)
@given(long_texts, st.booleans())
def test_long_syllables_are_the_plain_ones(text, fold):
    for t in (text, zh.compact(text).text * 2):  # raw (callers may pass it) and compact text
        if len(t) > zh._TRANSLATE_FROM:
            assert zh._syllables_long(t, fold) == reference_syllables(t, fold)
        assert zh.syllables(t, fold) == reference_syllables(t, fold)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(list("我们这里是公安局的你涉嫌诈骗坐牢等着瞧还款展期\u3400\u9fff가힣한")),
                min_size=1, max_size=80).map(lambda xs: "".join(xs) * (2100 // len(xs) + 1)), st.booleans())
def test_long_syllables_of_only_cjk_and_hangul_are_the_plain_ones(text, fold):
    assert zh.syllables(text, fold) == reference_syllables(text, fold)


@pytest.mark.parametrize("pattern", ["坐牢|判刑", "(我|我们)(是|就是)?(.{0,6})(公安|法院)", "[0-9]+(块|元)", "^我们", "牢$",
                                     "zuo lao", "(?<!不)坐牢(?!吗)"])
def test_long_text_matches_are_those_of_re(pattern):
    # multi-byte text so byte and character offsets differ; hits at the start, across, and at the end
    unit = "我们这里是公安局的你涉嫌诈骗坐牢等着瞧 zuo lao 3000元"
    text = (unit * (3 * LONG_TEXT // len(unit) + 1)) + "不坐牢"
    assert len(text) > LONG_TEXT
    p = compile_pattern(pattern)
    got = [(m.start(), m.end(), m.group()) for m in p.finditer(text)]
    want = [(m.start(), m.end(), m.group()) for m in re.finditer(pattern, text)][:len(got) or None]
    assert got and got == want
    first = p.search(text)
    assert first is not None and (first.start(), first.end()) == want[0][:2]


def test_a_look_around_pattern_finds_a_match_far_into_a_long_line():
    filler = "您好这里是客服中心" * 20_000
    text = filler + "你再不还就坐牢" + filler
    found = compile_pattern("(?<!不)坐牢(?!吗)").finditer(text)
    assert [(m.start(), m.group()) for m in found] == [(len(filler) + 5, "坐牢")]
    other = filler + "再坐牢" + filler
    assert compile_pattern("(?<!再)坐牢").search(other) is None  # the look-behind is honoured far in
    assert compile_pattern("(?<!再)坐牢").search(other + "不坐牢").start() == len(other) + 1


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_violation_anywhere_in_a_long_agent_line_is_caught_with_its_span(where):
    filler = "您好 这边是长江分期的客服，跟您核对一下这个月的账单。" * 8_000  # ~200,000 characters
    said = "再不还就让你坐牢"
    text = {"start": said + filler, "middle": filler + said + filler, "end": filler + said}[where]
    result = AssistEngine(RULES).process(Utterance("agent", text, 0.0, 1.0, final=True))
    assert result.utterance.text == text  # nothing said is dropped
    threat = [w for w in result.warnings if w.rule_id == "fx_criminal_threat"]
    assert threat, where
    s, e = threat[0].span
    assert text[s:e] == "坐牢" and threat[0].said == "坐牢"


def test_a_homophone_violation_deep_in_a_long_line_is_caught_by_pinyin():
    filler = "您好这边是客服跟您核对一下账单" * 10_000
    text = filler + "再不还就让你做牢" + filler  # 做牢: the recognizer's homophone of 坐牢
    result = AssistEngine(RULES).process(Utterance("agent", text, 0.0, 1.0, final=True))
    assert "fx_criminal_threat" in {w.rule_id for w in result.warnings}


def test_party_reads_the_start_of_a_long_customer_reply():
    text = "我是他老婆，" + "他这几个月一直在外地打工" * 20_000
    engine = AssistEngine(FAQ_KB)
    result = engine.process(Utterance("customer", text, 0.0, 1.0, final=True))
    assert (result.party.kind, result.party.relation) == ("third_party", "family")
    assert result.utterance.text == text
    assert len(result.party.evidence) <= 2 * PARTY_CHARS  # the evidence is the part read, not the whole line


def test_faq_reads_the_end_of_a_long_line():
    question = FAQ_KB.faqs[0].question
    engine = AssistEngine(FAQ_KB)
    result = engine.process(Utterance("customer", "嗯嗯好的" * 50_000 + question, 0.0, 1.0, final=True))
    assert result.faq and result.faq[0].faq_id == FAQ_KB.faqs[0].id and result.faq[0].shown


def test_masking_covers_all_of_a_long_line():
    filler = "号码是这个你记一下" * 40_000
    text = "13812345678" + filler + "１３８ １２３４ ５６７８" + filler + "tel 138.1234.5678"
    masked = mask_text(text)
    assert len(masked) == len(text)
    assert masked.count("5678") == 2 and masked.count("５６７８") == 1  # the last four digits kept
    assert "1381234" not in masked and "１３８ １２３４" not in masked and "138.1234" not in masked
    assert masked[11:11 + len(filler)] == filler
