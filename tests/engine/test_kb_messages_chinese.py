"""Every message a team lead gets for a broken knowledge base is Chinese and says what to do.

A set of broken copies of the fixture KB, one fault each (syntax, encoding, shape, fields, values,
patterns, settings, files and folders), goes through the loader. Each must give its own message,
naming the file and line, with what to do (请…); and no message, nor the ``KBError`` that the panel's
banner, ``analyze`` and ``kb check`` show, may carry a Latin word outside quoted field names and
values, file names and commands (the scan in tests/conftest.py).
"""
import os
import shutil
from pathlib import Path

import pytest

from assist.cli import main
from assist.knowledge import KBError, collect_issues, load_kb
from assist.knowledge import loader

FIXTURE_KB = Path(__file__).parent / "fixture_kb"
RULE = ("rules:\n  - id: r1\n    severity: warning\n    title: 标题\n    message: 提示\n    source: 来源\n")


def _write(rel: str, text: str | bytes):
    def apply(kb: Path) -> None:
        (kb / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            (kb / rel).write_bytes(text)
        else:
            (kb / rel).write_text(text, encoding="utf-8")
    return apply


def _rule(extra: str):
    return _write("rules/extra.yaml", RULE + extra)


def _symlink_loop(kb: Path) -> None:
    os.symlink(kb / "faqs" / "loop.yaml", kb / "faqs" / "loop.yaml")


def _folder_loop(kb: Path) -> None:
    shutil.rmtree(kb / "faqs")
    os.symlink(kb / "faqs", kb / "faqs")


def _no_rules(kb: Path) -> None:
    shutil.rmtree(kb / "rules")


def _dir_named_yaml(kb: Path) -> None:
    (kb / "faqs" / "folder.yaml").mkdir()


# (case, how to break the KB, words the message must carry)
CASES = [
    ("unclosed bracket", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: [没闭合\n    answer: 答\n"), "方括号"),
    ("colon in text", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: 问题: 还有\n    answer: 答\n"), "冒号"),
    ("tab indent", _write("faqs/x.yaml", "faqs:\n\t- id: a\n"), "YAML 格式有误"),
    ("unclosed quote", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: \"没闭合\n"), "YAML 格式有误"),
    ("undefined alias", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: *nothing\n    answer: 答\n"), "“*”"),
    ("python tag", _write("faqs/x.yaml", "faqs: !!python/object:os.system {}\n"), "标签"),
    ("control character", _write("faqs/x.yaml", "faqs:\n  - id: a\x01b\n"), "控制字符"),
    ("gbk file", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: 问\n    answer: 答\n".encode("gb18030")), "UTF-8"),
    ("bad date", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: 2026-13-45\n    answer: 答\n"), "引号"),
    ("empty file", _write("faqs/x.yaml", "# 只有注释\n"), "空的"),
    ("deep nesting", _write("faqs/x.yaml", "faqs: " + "[" * 20_000 + "]" * 20_000 + "\n"), "嵌套层数太深"),
    ("faqs not a list", _write("faqs/x.yaml", "faqs: 不是列表\n"), "'faqs:' 列表"),
    ("faq not a mapping", _write("faqs/x.yaml", "faqs:\n  - 只是一句话\n"), "每条问答"),
    ("missing answer", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: 问\n"), "缺少必填字段 'answer'"),
    ("answer is a list", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: 问\n    answer: [一, 二]\n"), "一个列表"),
    ("empty question", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: ' '\n    answer: 答\n"), "空的"),
    ("paraphrases a mapping", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: 问\n    answer: 答\n    paraphrases: {a: b}\n"), "文字列表"),
    ("misspelt field", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: 问\n    answer: 答\n    anwser: 答\n"), "是不是要写 'answer'"),
    ("unknown field", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: 问\n    answer: 答\n    zzz: 1\n"), "可用的字段"),
    ("upper-case id", _write("faqs/x.yaml", "faqs:\n  - id: Bad_ID\n    question: 问\n    answer: 答\n"), "小写"),
    ("duplicate faq id", _write("faqs/x.yaml", "faqs:\n  - id: cj.credit_impact\n    question: 问\n    answer: 答\n"), "重复"),
    ("unknown playbook", _write("faqs/x.yaml", "faqs:\n  - id: a\n    question: 问\n    answer: 答\n    playbooks: [nope]\n"), "不存在的话术"),
    ("playbook a list", _write("playbooks/x.yaml", "- 一\n- 二\n"), "话术文件"),
    ("playbook without stages", _write("playbooks/x.yaml", "id: x\ntitle: 标题\nsource: 来源\n"), "'stages'"),
    ("stage not a mapping", _write("playbooks/x.yaml", "id: x\ntitle: 标\nsource: 源\nstages:\n  - 一句话\n"), "第 1 个阶段"),
    ("duplicate stage", _write("playbooks/x.yaml", "id: x\ntitle: 标\nsource: 源\nstages:\n"
                               "  - {id: s, title: 一, lines: [好]}\n  - {id: s, title: 二, lines: [好]}\n"), "两个阶段"),
    ("stage without lines", _write("playbooks/x.yaml", "id: x\ntitle: 标\nsource: 源\nstages:\n  - {id: s, title: 一}\n"), "'lines'"),
    ("duplicate playbook", _write("playbooks/x.yaml", (FIXTURE_KB / "playbooks" / "credit_card_overdue.yaml").read_text(encoding="utf-8")), "重复"),
    ("bad severity", _rule("    severity: loud\n    match: {any: ['坐牢']}\n"), "'severity'"),
    ("bad kind", _rule("    kind: magic\n    match: {any: ['坐牢']}\n"), "'kind'"),
    ("bad speaker", _rule("    speakers: [robot]\n    match: {any: ['坐牢']}\n"), "'speakers'"),
    ("bad party", _rule("    parties: [famly]\n    match: {any: ['坐牢']}\n"), "是不是要写"),
    ("match a list", _rule("    match: ['坐牢']\n"), "'match'"),
    ("match misspelt", _rule("    match: {any: ['坐牢'], unles: ['不']}\n"), "'unless'"),
    ("no pattern", _rule("    match: {all: ['坐牢']}\n"), "'match.any'"),
    ("examples a list", _rule("    match: {any: ['坐牢']}\n    examples: [a]\n"), "'examples'"),
    ("params a list", _rule("    kind: call_hours\n    params: [a]\n"), "'params'"),
    ("unknown setting", _rule("    kind: call_hours\n    params: {strat: '08:00'}\n"), "'strat'"),
    ("unquoted time", _rule("    kind: call_hours\n    params: {start: 8:00}\n"), "不是时间"),
    ("start after end", _rule("    kind: call_hours\n    params: {start: '22:00', end: '08:00'}\n"), "必须早于"),
    ("bad count", _rule("    kind: self_identification\n    params: {within: two}\n"), "整数"),
    ("unclosed group", _rule("    match: {any: ['(坐牢']}\n"), "缺少右括号"),
    ("double repeat", _rule("    match: {any: ['坐牢**']}\n"), "重复符号"),
    ("bad range", _rule("    match: {any: ['[z-a]']}\n"), "范围无效"),
    ("bad escape", _rule("    match: {any: ['\\q']}\n"), "反斜杠"),
    ("huge repeat", _rule("    match: {any: ['a{99999999}']}\n"), "重复次数"),
    ("unknown group", _rule("    match: {any: ['(?<=x)(?P=nope)']}\n"), "不存在的分组"),
    ("matches empty", _rule("    match: {any: ['坐牢|']}\n"), "空文本"),
    ("negatable not boolean", _rule("    match: {any: ['坐牢'], negatable: 'no'}\n"), "'match.negatable'"),
    ("duplicate rule id", _write("rules/x.yaml", "rules:\n  - id: fixture_threat\n    severity: info\n    title: 一\n"
                                 "    message: 二\n    source: 三\n    match: {any: ['坐牢']}\n"), "重复"),
    ("rules file without rules", _write("rules/conduct.yaml", "rules: []\n"), "一条合规规则也没有"),
    ("no rules folder", _no_rules, "缺少 rules/ 文件夹"),
    ("symlink loop", _symlink_loop, "循环"),
    ("folder loop", _folder_loop, "无法打开的链接"),
    ("folder named yaml", _dir_named_yaml, "不是普通文件"),
    ("lexicon shape", _write("lexicon.yaml", "synonyms: 一\n"), "'synonyms:'"),
    ("lexicon group of one", _write("lexicon.yaml", "synonyms:\n  - [孤单]\n"), "同义词"),
    ("compliant lines shape", _write("compliant_lines.yaml", "lines: {a: b}\n"), "'lines:'"),
    ("out of scope shape", _write("out_of_scope.yaml", "examples: 一\n"), "'examples:'"),
    ("out of scope empty line", _write("out_of_scope.yaml", "examples: ['', 好的]\n"), "无关语句示例"),
    ("default playbook", _write("settings.yaml", "default_playbook: nope\n"), "'default_playbook'"),
]


@pytest.fixture
def broken_kb(tmp_path):
    dst = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, dst)
    return dst


@pytest.mark.parametrize("case,breaks,words", CASES, ids=[c[0] for c in CASES])
def test_each_fault_has_its_own_chinese_message(broken_kb, latin_words, case, breaks, words):
    breaks(broken_kb)
    issues = collect_issues(broken_kb)[1]
    assert issues, f"{case}: the loader accepted the broken KB"
    mine = [str(i) for i in issues if words in i.message]
    assert mine, [str(i) for i in issues]
    assert all("kb/" in m and ":" in m for m in mine)  # names the file (and line)
    for i in issues:
        assert "请" in i.message, f"says nothing about what to do: {i}"
        assert not latin_words(str(i)), f"{latin_words(str(i))} in {i}"
    with pytest.raises(KBError) as e:
        load_kb(broken_kb, use_cache=False)
    assert e.value.message.startswith(f"知识库有 {len(issues)} 个问题：") and "assist kb check" in e.value.fix
    assert not latin_words(e.value.for_user())


def test_oversized_file(broken_kb, latin_words, monkeypatch):
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 1024)
    (broken_kb / "faqs" / "big.yaml").write_text("faqs:\n# " + "长" * 1000 + "\n", encoding="utf-8")
    msgs = [str(i) for i in collect_issues(broken_kb)[1]]
    assert any("big.yaml:1" in m and "文件太大" in m and "拆成" in m for m in msgs), msgs
    assert not [w for m in msgs for w in latin_words(m)], msgs


def test_missing_kb_folder(tmp_path, latin_words):
    issues = collect_issues(tmp_path / "nowhere")[1]
    assert len(issues) == 1 and "找不到知识库文件夹" in issues[0].message and not latin_words(str(issues[0]))


def test_kb_check_and_analyze_print_only_chinese(broken_kb, latin_words, capsys, tmp_path):
    for _, breaks, _ in CASES[:3] + CASES[28:31]:
        breaks(broken_kb)
    assert main(["kb", "check", "--kb", str(broken_kb)]) == 1
    out = capsys.readouterr().out
    assert "共 " in out and not latin_words(out), latin_words(out)
    t = tmp_path / "t.jsonl"
    t.write_text('{"speaker": "agent", "text": "你好"}\n', encoding="utf-8")
    assert main(["analyze", str(t), "--kb", str(broken_kb)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "知识库有" in captured.err and "处理办法" in captured.err
    assert not latin_words(captured.err), latin_words(captured.err)
