"""The safe pattern engine: same answers as ``re`` on sane patterns, no hang on hostile ones,
and a rule that runs out of time is switched off for the call with one Chinese warning."""
import re
from dataclasses import replace

import pytest

from assist.knowledge import patterns
from assist.engine.compliance import ComplianceChecker
from assist.knowledge.patterns import PatternError, compile_pattern, strip_lookarounds, vet
from assist.events import Utterance
from assist.knowledge import load_kb
from assist.knowledge.model import Rule, RuleMatch

KB = load_kb()


def test_catastrophic_backtracking_pattern_runs_on_re2_and_answers():
    p = compile_pattern(r"(a+)+$")
    assert p.engine == "re2"
    assert p.search("a" * 5000 + "!") is None  # re would backtrack for ages here
    m = p.search("xx" + "a" * 5000)
    assert (m.start(), m.end()) == (2, 5002)


def test_look_around_pattern_runs_on_regex_with_same_matches_as_re():
    src = r"[^无]罪(名|行)?(?![过恶侦])|犯罪(?!侦)"
    p = compile_pattern(src)
    assert p.engine == "regex"
    for text in ("他有罪", "无罪", "罪过", "这是犯罪侦查", "犯罪行为", "有罪名吗", "罪恶", ""):
        want = [(m.start(), m.end()) for m in re.finditer(src, text)]
        got = [(m.start(), m.end()) for m in p.finditer(text)]
        assert got == want, text


def test_strip_lookarounds_keeps_the_rest_of_the_pattern():
    assert strip_lookarounds(r"等着(?!我|瞧)") == "等着"
    assert strip_lookarounds(r"(?<![0-9])a[(?!]b(?=(c|d))") == r"a[(?!]b"
    assert strip_lookarounds(r"\(?!x") == r"\(?!x"


def test_long_text_is_searched_in_windows_without_losing_or_repeating_matches():
    src = r"罪(?!过)"  # look-around: windowed
    text = ("好" * (patterns.WINDOW - 1) + "罪") * 5
    got = [m.start() for m in compile_pattern(src).finditer(text)]
    assert got == [m.start() for m in re.finditer(src, text)]


def test_matches_per_utterance_are_capped():
    assert len(compile_pattern("a").finditer("a" * 10_000)) == patterns.MAX_MATCHES


def test_broken_pattern_is_refused_in_chinese():
    with pytest.raises(PatternError) as e:
        compile_pattern("(unclosed")
    assert "正则表达式" in str(e.value)
    assert vet("(unclosed")
    assert "空文本" in vet("a*")
    assert vet("a*", allow_empty=True) is None
    assert vet("坐牢|判刑") is None


def test_backtracking_look_around_pattern_is_refused_by_kb_check():
    # a back-reference keeps it off re2 entirely; on 10,000 a's it backtracks past its budget
    assert "超时" in vet(r"(a|aa)+\1(?!b)$")


def test_a_good_look_around_pattern_passes_while_other_threads_hog_the_cpu():
    """kb check runs beside the panel's start-up: a busy GUI thread must not get a good rule refused."""
    import threading

    stop = threading.Event()

    def hog() -> None:
        while not stop.is_set():
            sum(range(10_000))  # pure Python: holds the GIL in 5 ms slices

    hogs = [threading.Thread(target=hog, daemon=True) for _ in range(3)]
    for t in hogs:
        t.start()
    try:
        # look-arounds put it on the budgeted engine; vet's cache is bypassed with fresh sources
        for n in range(3):
            assert vet(f"[^无]罪(名|行)?(?![过恶侦{n}])|判(了|你)?(几|[一二三]+)年|刑事") is None
    finally:
        stop.set()
        for t in hogs:
            t.join()


def _rule(pattern: str) -> Rule:
    return Rule(id="slow_rule", severity="critical", title="慢规则", message="m", source="s",
                match=RuleMatch(any=(pattern,)))


def test_rule_out_of_time_is_switched_off_for_the_call_with_one_warning():
    kb = replace(KB, rules=(_rule(r"(a|aa)+\1(?!b)$"),) + KB.rules)
    checker = ComplianceChecker(kb)
    first = checker.check(Utterance("agent", "a" * 5000 + "b"))  # compact text keeps the b
    off = [w for w in first if w.rule_id == "slow_rule"]
    assert len(off) == 1 and off[0].severity == "info" and "暂停" in off[0].message
    # the rest of the engine keeps working, and the rule stays quiet for the rest of the call
    second = checker.check(Utterance("agent", "再不还就让你坐牢 " + "a" * 5000))
    assert "slow_rule" not in {w.rule_id for w in second}
    assert "false_criminal_threat" in {w.rule_id for w in second}
    checker.reset()
    assert "slow_rule" not in checker.switched_off


def test_very_long_utterance_still_finds_a_violation_at_its_end():
    text = "您好" * 300_000 + "再不还就让你坐牢"
    got = {w.rule_id for w in ComplianceChecker(KB).check(Utterance("agent", text))}
    assert "false_criminal_threat" in got
