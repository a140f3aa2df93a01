"""The command-line contract QA teams script against: analyze, kb list/search."""
import json
import subprocess
import sys

import pytest

ASSIST = [sys.executable, "-m", "assist"]


def run(*args, input=None):
    return subprocess.run([*ASSIST, *args], capture_output=True, text=True, input=input)


@pytest.fixture
def transcript(tmp_path):
    p = tmp_path / "call.jsonl"
    rows = [
        {"speaker": "agent", "text": "您好 请问是张强先生吗 我是长江分期客户服务专员李明", "start": 0.0, "end": 3.1},
        {"speaker": "customer", "text": "展期 会 不会 影响 征信", "start": 3.5, "end": 5.0},
        {"speaker": "agent", "text": "钱转到我自己的支付宝就行"},
        {"speaker": "unknown", "text": "嗯"},
    ]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return p


def test_analyze_prints_one_record_per_line_in_the_documented_shape(transcript):
    p = run("analyze", str(transcript), "--playbook", "changjiang_extension")
    assert p.returncode == 0, p.stderr
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    assert [r["index"] for r in recs] == [0, 1, 2, 3]
    for r in recs:
        assert set(r) == {"index", "speaker", "text", "faq", "stage", "suggestions", "warnings", "party"}
    assert recs[0]["stage"] == {"playbook": "changjiang_extension", "index": 1, "id": "identify",
                                "title": "身份确认与简短问候"}
    faq = recs[1]["faq"][0]
    assert set(faq) == {"id", "question", "answer", "score", "shown"}
    assert faq["id"] == "cj.credit_impact" and faq["shown"] is True
    assert len(recs[1]["faq"]) <= 5
    sugg = recs[0]["suggestions"][0]
    assert set(sugg) == {"text", "stage_index", "kind"}
    w = recs[2]["warnings"][0]
    assert set(w) == {"rule", "severity", "message", "span", "source", "evidence", "found_by"}
    assert w["found_by"] == "pattern" and w["evidence"] == recs[2]["text"][w["span"][0]:w["span"][1]]
    assert w["rule"] == "personal_account" and w["severity"] == "critical"
    s, e = w["span"]
    assert "支付宝" in recs[2]["text"][s:e]


@pytest.mark.parametrize("line,needle", [
    ('{"speaker": "agent", "text": ', "不是有效的 JSON"),
    ('{"speaker": "boss", "text": "hi"}', '说话人 "speaker" 只能是'),
    ('{"speaker": "agent"}', '缺少文字 "text"'),
    ('{"speaker": "agent", "text": "x", "start": "soon"}', '"start" 必须是秒数'),
    ('[1, 2]', "必须是一个 JSON 对象"),
])
def test_malformed_line_is_an_error_naming_the_line_and_nothing_is_printed(tmp_path, line, needle):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"speaker": "agent", "text": "您好"}\n' + line + "\n", encoding="utf-8")
    r = run("analyze", str(p))
    assert r.returncode == 2
    assert r.stdout == ""
    assert f"{p}:2:" in r.stderr and needle in r.stderr
    assert "Traceback" not in r.stderr


def test_analyze_missing_file_and_unknown_playbook(tmp_path, transcript):
    r = run("analyze", str(tmp_path / "nope.jsonl"))
    assert r.returncode == 2 and "找不到这个文件" in r.stderr
    r = run("analyze", str(transcript), "--playbook", "nope")
    assert r.returncode == 2 and "没有编号为 'nope' 的话术" in r.stderr


def test_analyze_reads_stdin():
    r = run("analyze", "-", input='{"speaker": "customer", "text": "手续费 要 多少 钱"}\n')
    assert r.returncode == 0 and json.loads(r.stdout)["faq"][0]["id"] == "cj.fees"


def test_kb_list_json_shape():
    r = run("kb", "list", "--json")
    data = json.loads(r.stdout)
    assert data["faqs"] >= 40 and data["rules"] >= 10
    cj = next(b for b in data["playbooks"] if b["id"] == "changjiang_extension")
    assert [s["index"] for s in cj["stages"]] == list(range(1, 9))
    assert set(cj["stages"][0]) == {"index", "title"}


@pytest.mark.parametrize("query", ["展期", "zhanqi", "zq"])
def test_kb_search_by_characters_pinyin_and_initials(query):
    r = run("kb", "search", query, "--json")
    hits = json.loads(r.stdout)
    assert hits and any("展期" in h["title"] + h["text"] for h in hits[:3]), hits[:3]


def test_started_at_enables_the_calling_hours_rule(transcript):
    r = run("analyze", str(transcript), "--started-at", "2026-11-23T22:30")
    first = json.loads(r.stdout.splitlines()[0])
    assert any(w["rule"] == "call_hours" for w in first["warnings"])
    r = run("analyze", str(transcript), "--started-at", "tonight")
    assert r.returncode == 2 and "--started-at" in r.stderr
