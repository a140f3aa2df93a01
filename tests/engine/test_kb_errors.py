"""A broken knowledge base gives clear errors with file and line; check reports them all."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assist.knowledge import KBError, collect_issues, default_kb_dir, load_kb


@pytest.fixture
def kb_copy(tmp_path):
    dst = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), dst)
    return dst


def issues_of(root):
    return [str(i) for i in collect_issues(root)[1]]


def test_bundled_kb_is_clean_and_complete():
    kb = load_kb()
    assert {"changjiang_extension", "credit_card_overdue", "first_contact", "second_contact",
            "third_party_contact"} <= set(kb.playbooks)
    assert len(kb.playbook("changjiang_extension").stages) == 8
    assert len(kb.playbook("credit_card_overdue").stages) == 5
    assert sum(f.id.startswith("cj.") for f in kb.faqs) == 7
    assert all(len(f.paraphrases) >= 3 for f in kb.faqs)


def test_seed_000_questions_and_answers_are_verbatim():
    kb = load_kb()
    # The Q&A section of 《长江分期展期协商话术》, copied into the repository (tests read nothing outside it).
    text = (Path(__file__).parent / "data" / "source_000_qa.txt").read_text(encoding="utf-8")
    for f in kb.faqs:
        if f.id.startswith("cj."):
            assert f"Q: {f.question}" in text and f"A: {f.answer}" in text, f.id


def test_yaml_syntax_error_names_file_and_line(kb_copy):
    p = kb_copy / "faqs" / "changjiang_extension.yaml"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[10] = "    question: [unclosed"
    p.write_text("\n".join(lines), encoding="utf-8")
    msgs = issues_of(kb_copy)
    assert any("faqs/changjiang_extension.yaml:" in m and "YAML syntax error" in m for m in msgs), msgs


def test_missing_field_duplicate_id_unknown_playbook_bad_pattern_all_reported(kb_copy):
    (kb_copy / "faqs" / "broken.yaml").write_text(
        "faqs:\n"
        "  - id: cj.fees\n"                       # duplicate id
        "    question: 重复的\n"
        "    answer: 重复\n"
        "  - id: x.no_answer\n"                   # missing answer
        "    question: 没有答案\n"
        "  - id: x.bad_playbook\n"
        "    question: 不存在的剧本\n"
        "    answer: 答\n"
        "    playbooks: [no_such_playbook]\n", encoding="utf-8")
    (kb_copy / "rules" / "broken.yaml").write_text(
        "rules:\n"
        "  - id: bad_regex\n"
        "    severity: loud\n"
        "    title: t\n"
        "    message: m\n"
        "    source: s\n"
        "    match:\n"
        "      any: ['(unclosed']\n", encoding="utf-8")
    msgs = issues_of(kb_copy)
    joined = "\n".join(msgs)
    assert any("duplicate FAQ id 'cj.fees'" in m and "faqs/broken.yaml:2" in m for m in msgs), msgs
    assert "faqs/broken.yaml:5: missing field 'answer'" in joined
    assert "faqs/broken.yaml:7: FAQ 'x.bad_playbook' names unknown playbook 'no_such_playbook'" in joined
    assert "rules/broken.yaml:2: severity 'loud'" in joined
    assert "'any' 里的规则写法 '(unclosed' 不能用：正则表达式写法有误" in joined
    with pytest.raises(KBError) as e:
        load_kb(kb_copy)
    assert len(e.value.issues) == len(msgs) >= 5


def test_kb_check_command_reports_all_and_exits_1(kb_copy):
    (kb_copy / "playbooks" / "dup.yaml").write_text(
        (kb_copy / "playbooks" / "changjiang_extension.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "assist", "kb", "check", "--kb", str(kb_copy)],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "duplicate playbook id 'changjiang_extension'" in p.stdout
    assert "Traceback" not in p.stderr


def test_analyze_with_broken_kb_is_a_clear_error(kb_copy, tmp_path):
    (kb_copy / "rules" / "collection_conduct.yaml").write_text("rules: [", encoding="utf-8")
    t = tmp_path / "t.jsonl"
    t.write_text('{"speaker": "agent", "text": "你好"}\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "assist", "analyze", str(t), "--kb", str(kb_copy)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == ""
    assert "rules/collection_conduct.yaml:1" in p.stderr and "Traceback" not in p.stderr


def test_misspelt_field_is_reported_with_a_suggestion(kb_copy):
    p = kb_copy / "faqs" / "changjiang_extension.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("    paraphrases:", "    paraphrase:", 1), encoding="utf-8")
    msgs = issues_of(kb_copy)
    assert any("unknown field 'paraphrase' in an FAQ (did you mean 'paraphrases'?)" in m for m in msgs), msgs


def test_pattern_that_matches_everything_is_refused(kb_copy):
    (kb_copy / "rules" / "greedy.yaml").write_text(
        "rules:\n  - id: greedy\n    severity: warning\n    title: t\n    message: m\n    source: s\n"
        "    match:\n      any: ['坐牢|']\n", encoding="utf-8")
    msgs = issues_of(kb_copy)
    assert any("rules/greedy.yaml:" in m and "能匹配空文本" in m for m in msgs), msgs
