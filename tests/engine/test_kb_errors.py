"""A broken knowledge base gives clear errors with file and line; check reports them all."""
import subprocess
import sys
from pathlib import Path

import pytest

from assist.knowledge import KBError, load_kb


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


def test_yaml_syntax_error_names_file_and_line(issues_of, kb_copy):
    p = kb_copy / "faqs" / "changjiang_extension.yaml"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[10] = "    question: [unclosed"
    p.write_text("\n".join(lines), encoding="utf-8")
    msgs = issues_of(kb_copy)
    # where the parser stopped, where the open bracket began (line 11), what is wrong and what to do
    assert any("faqs/changjiang_extension.yaml:" in m and "从第 11 行开始" in m and "方括号“[”没有闭合" in m
               and "请补上“]”" in m for m in msgs), msgs


def test_missing_field_duplicate_id_unknown_playbook_bad_pattern_all_reported(issues_of, kb_copy):
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
    assert any("问答的 'id' 'cj.fees' 重复" in m and "faqs/broken.yaml:2" in m and "第一次出现在" in m for m in msgs), msgs
    assert "faqs/broken.yaml:5: 缺少必填字段 'answer'：请补上" in joined
    assert "faqs/broken.yaml:7: 问答 'x.bad_playbook' 的 'playbooks' 里写了不存在的话术 'no_such_playbook'" in joined
    assert "rules/broken.yaml:2: 'severity' 的值 'loud' 不可用：请改为 'info'（提示）、'warning'（警告）、'critical'（严重）之一" in joined
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
    assert "话术的 'id' 'changjiang_extension' 重复" in p.stdout and "共 " in p.stdout
    assert "Traceback" not in p.stderr


def test_analyze_with_broken_kb_is_a_clear_error(kb_copy, tmp_path):
    (kb_copy / "rules" / "collection_conduct.yaml").write_text("rules: [", encoding="utf-8")
    t = tmp_path / "t.jsonl"
    t.write_text('{"speaker": "agent", "text": "你好"}\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "assist", "analyze", str(t), "--kb", str(kb_copy)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == ""
    assert "rules/collection_conduct.yaml:1" in p.stderr and "Traceback" not in p.stderr


def test_misspelt_field_is_reported_with_a_suggestion(issues_of, kb_copy):
    p = kb_copy / "faqs" / "changjiang_extension.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("    paraphrases:", "    paraphrase:", 1), encoding="utf-8")
    msgs = issues_of(kb_copy)
    assert any("问答里有不认识的字段 'paraphrase'（是不是要写 'paraphrases'？）" in m for m in msgs), msgs


def test_pattern_that_matches_everything_is_refused(issues_of, kb_copy):
    (kb_copy / "rules" / "greedy.yaml").write_text(
        "rules:\n  - id: greedy\n    severity: warning\n    title: t\n    message: m\n    source: s\n"
        "    match:\n      any: ['坐牢|']\n", encoding="utf-8")
    msgs = issues_of(kb_copy)
    assert any("rules/greedy.yaml:" in m and "能匹配空文本" in m for m in msgs), msgs
