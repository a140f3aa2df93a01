"""Property-based fuzzing (Hypothesis) of the three ways hostile text gets in: analyze input,
KB rule files, notes — plus the helpers that guard the way out (masking, printable).
Examples are few per property (the corpus holds the known-bad cases); no deadlines: a
slow example is a performance question for bench/, not a correctness failure here."""
import json
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assist.cli.analyze import read_transcript
from assist.cli.common import UsageError
from assist.engine import AssistEngine
from assist.events import Utterance
from assist.knowledge import collect_issues, default_kb_dir, load_kb
from assist.printable import printable
from assist.store.masking import mask_text

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KB = load_kb()
ENGINE = AssistEngine(KB)

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=300) | st.sampled_from(
    ["再不还就让你坐牢", "我是公安局的", "13812345678", "一三八一二三四五六七八", "\x1b[2J", ""])


@SETTINGS
@given(st.binary(max_size=2000))
def test_analyze_input_is_read_or_refused_clearly(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("t") / "t.jsonl"
    p.write_bytes(data)
    try:
        read_transcript(str(p))
    except UsageError as e:
        assert str(p) in str(e)


@SETTINGS
@given(st.lists(st.fixed_dictionaries({"speaker": st.sampled_from(["agent", "customer", "unknown"]), "text": texts}),
                max_size=8))
def test_no_utterance_is_lost(tmp_path_factory, rows):
    p = tmp_path_factory.mktemp("t") / "t.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    got = read_transcript(str(p))
    assert [u.text for u in got] == [r["text"] for r in rows]
    for u in got:
        r = ENGINE.process(u)
        for w in r.warnings:
            assert 0 <= w.span[0] <= w.span[1] <= len(u.text)


@SETTINGS
@given(st.text(max_size=400))
def test_any_rule_file_is_checked_without_crashing(tmp_path_factory, body):
    root = tmp_path_factory.mktemp("kb") / "kb"
    shutil.copytree(default_kb_dir(), root, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    (root / "rules" / "fuzz.yaml").write_text(body, encoding="utf-8", errors="surrogatepass") if "\ud800" not in body else None
    kb, issues = collect_issues(root)
    assert kb is not None or issues


@SETTINGS
@given(st.text(max_size=300))
def test_masking_keeps_length_and_is_idempotent(text):
    once = mask_text(text)
    assert len(once) == len(text)
    assert mask_text(once) == once


@SETTINGS
@given(st.text(max_size=300))
def test_printable_leaves_no_control_characters(text):
    out = printable(text)
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
