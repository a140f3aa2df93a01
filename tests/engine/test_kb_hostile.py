"""``kb check`` that means it: a KB that would silently run without rules, with settings the
engine cannot use, or that would exhaust the machine is refused with a Chinese message naming
the file; ``analyze`` then refuses to run instead of running without rules."""
import os
import shutil
import subprocess
import sys

import pytest

from assist.knowledge.loader import MAX_FILE_BYTES


def rule_file(root, params: str, kind: str, extra: str = "") -> None:
    (root / "rules" / "extra.yaml").write_text(
        "rules:\n  - id: extra_rule\n    severity: warning\n    title: t\n    message: m\n    source: s\n"
        f"    kind: {kind}\n    params:\n{params}{extra}", encoding="utf-8")


@pytest.mark.parametrize("folder", ["rules", "faqs", "playbooks"])
def test_missing_folder_is_an_error_not_a_silent_zero(issues_of, kb_copy, folder):
    shutil.rmtree(kb_copy / folder)
    msgs = issues_of(kb_copy)
    assert any(f"缺少 {folder}/ 文件夹" in m for m in msgs), msgs


def test_empty_rules_folder_and_rules_file_without_rules_are_errors(issues_of, kb_copy):
    for p in (kb_copy / "rules").iterdir():
        p.unlink()
    assert any("rules/ 文件夹里没有 .yaml 文件" in m and "合规检查" in m for m in issues_of(kb_copy))
    (kb_copy / "rules" / "empty.yaml").write_text("rules: []\n", encoding="utf-8")
    assert any("一条合规规则也没有" in m for m in issues_of(kb_copy))


def test_symlink_loop_in_faqs_is_reported(issues_of, kb_copy):
    os.symlink(kb_copy / "faqs" / "loop.yaml", kb_copy / "faqs" / "loop.yaml")
    msgs = issues_of(kb_copy)
    assert any("loop.yaml" in m and "循环" in m for m in msgs), msgs


def test_folder_that_is_a_symlink_loop_is_reported(issues_of, kb_copy):
    shutil.rmtree(kb_copy / "faqs")
    os.symlink(kb_copy / "faqs", kb_copy / "faqs")
    assert any("faqs/ 是一个无法打开的链接" in m for m in issues_of(kb_copy))


def test_oversized_file_is_refused_before_it_is_parsed(issues_of, kb_copy):
    big = kb_copy / "faqs" / "big.yaml"
    with open(big, "w", encoding="utf-8") as f:
        f.write("faqs:\n")
        f.write("# " + "x" * (MAX_FILE_BYTES + 10) + "\n")
    msgs = issues_of(kb_copy)
    assert any("big.yaml:1" in m and "文件太大" in m for m in msgs), msgs


def test_deeply_nested_yaml_is_an_error_not_a_crash(issues_of, kb_copy):
    (kb_copy / "faqs" / "deep.yaml").write_text("faqs: " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    msgs = issues_of(kb_copy)
    assert any("deep.yaml" in m for m in msgs), msgs


@pytest.mark.parametrize("value,words", [
    ('"8am"', "不是时间"), ("8:00", "未加引号"), ('"25:00"', "不是时间"), ("[1]", "不是时间"),
])
def test_call_hours_need_quoted_24_hour_times(issues_of, kb_copy, value, words):
    rule_file(kb_copy, f"      start: {value}\n      end: \"21:00\"\n", "call_hours")
    msgs = issues_of(kb_copy)
    assert any("extra.yaml:2" in m and "params.start" in m and words in m for m in msgs), msgs


def test_call_hours_start_before_end(issues_of, kb_copy):
    rule_file(kb_copy, '      start: "22:00"\n      end: "08:00"\n', "call_hours")
    assert any("必须早于" in m for m in issues_of(kb_copy))


@pytest.mark.parametrize("value", ['"two"', "0", "-1", "true", "2.5", "99999999999999999999"])
def test_counts_must_be_whole_numbers(issues_of, kb_copy, value):
    rule_file(kb_copy, f"      within: {value}\n", "self_identification")
    assert any("params.within" in m and "整数" in m for m in issues_of(kb_copy))


@pytest.mark.parametrize("value,words", [("'(unclosed'", "正则表达式写法有误"), ("'a|'", "空文本"), ("''", "必须是一条规则写法")])
def test_regex_settings_are_checked_like_patterns(issues_of, kb_copy, value, words):
    rule_file(kb_copy, f"      details: {value}\n", "identity_before_details")
    msgs = issues_of(kb_copy)
    assert any("params.details" in m and words in m for m in msgs), msgs


def test_unknown_setting_and_non_boolean_negatable(issues_of, kb_copy):
    rule_file(kb_copy, "      strat: \"08:00\"\n", "call_hours")
    assert any("没有设置项 'strat'" in m for m in issues_of(kb_copy))
    (kb_copy / "rules" / "extra.yaml").write_text(
        "rules:\n  - id: extra_rule\n    severity: warning\n    title: t\n    message: m\n    source: s\n"
        "    match:\n      any: ['坐牢']\n      negatable: 'no'\n", encoding="utf-8")
    assert any("negatable" in m for m in issues_of(kb_copy))


def test_analyze_refuses_a_kb_without_rules_and_says_so(kb_copy, tmp_path):
    shutil.rmtree(kb_copy / "rules")
    t = tmp_path / "t.jsonl"
    t.write_text('{"speaker": "agent", "text": "再不还就让你坐牢"}\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "assist", "analyze", str(t), "--kb", str(kb_copy)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stdout == ""
    assert "缺少 rules/ 文件夹" in p.stderr and "合规检查" in p.stderr and "Traceback" not in p.stderr
