"""The post-call check over whole calls, with the fixture KB in data/party_kb."""
from datetime import datetime
from pathlib import Path

from assist.engine.post_call import post_call_check
from assist.events import Utterance
from assist.knowledge import load_kb

KB = load_kb(Path(__file__).parent / "data" / "party_kb")


def call(*lines):
    return [Utterance(s, t, start=float(i * 3), end=float(i * 3 + 2)) for i, (s, t) in enumerate(lines)]


def checks(report):
    return [(f.check, f.severity, [e.index for e in f.evidence]) for f in report.findings]


def test_hindsight_a_line_said_before_the_answer_to_who_turned_out_a_third_party():
    r = post_call_check(KB, call(
        ("agent", "您好 我是某某金融的客服 找一下王五先生"),
        ("agent", "他欠的钱这周要还了"),  # said before anyone answered
        ("customer", "我是他老婆 他不在"),
        ("agent", "好的 麻烦请他回个电话"),
    ))
    assert r.party.kind == "third_party" and r.party.relation == "family"
    tp = [f for f in r.findings if f.check == "third_party"]
    assert tp and tp[0].severity == "critical"
    assert [e.index for e in tp[0].evidence] == [1, 2]  # the line and the answer that shows who it was
    assert tp[0].evidence[0].start == 3.0 and tp[0].evidence[0].text == "他欠的钱这周要还了"


def test_debtor_call_with_the_disclosures_made_is_clean():
    r = post_call_check(KB, call(
        ("agent", "您好 我是某某金融的客服专员小王 请问是王五先生本人吗"),
        ("customer", "对 是我"),
        ("agent", "是这样 提醒您这期账单还有两天到期"),
        ("customer", "好的 我知道了"),
    ))
    assert r.party.kind == "debtor"
    assert all(d["made"] or not d["needed"] for d in r.disclosures.values()), r.disclosures
    assert not [f for f in r.findings if f.severity != "info"], checks(r)


def test_missing_identity_purpose_and_extension_terms_are_findings_with_evidence():
    r = post_call_check(KB, call(
        ("agent", "喂 王五吗"),
        ("customer", "嗯 是我"),
        ("agent", "可以给您办展期"),
        ("customer", "行"),
    ))
    names = {f.rule_id for f in r.findings if f.check == "disclosure"}
    assert {"disclosure.identity", "disclosure.purpose", "disclosure.extension_fee",
            "disclosure.extension_schedule"} <= names
    fee = next(f for f in r.findings if f.rule_id == "disclosure.extension_fee")
    assert fee.evidence[0].text == "可以给您办展期"


def test_no_purpose_is_required_towards_a_third_party():
    r = post_call_check(KB, call(("agent", "请问是王五先生吗"), ("customer", "打错了")))
    assert not r.disclosures["purpose"]["needed"] and not r.disclosures["identity"]["needed"]


def test_waiver_the_agent_cannot_grant_unless_approval_follows():
    r = post_call_check(KB, call(
        ("agent", "请问是王五先生吗"), ("customer", "是我"),
        ("agent", "罚息我给你免了"),
        ("agent", "利息可以减免"), ("agent", "不过要提交申请 以审批为准"),
    ))
    waivers = [f for f in r.findings if f.check == "waiver"]
    assert [f.evidence[0].index for f in waivers] == [2]


def test_recorded_promise_must_be_what_the_customer_said():
    lines = [("agent", "请问是王五先生吗"), ("customer", "是我"),
             ("customer", "我下个月还两千")]
    ok = post_call_check(KB, call(*lines, ("agent", "好的 我记录一下 下个月十号前还两千")),
                         started_at=datetime(2026, 11, 20, 10))
    assert not [f for f in ok.findings if f.check == "promise"]
    bad = post_call_check(KB, call(*lines, ("agent", "好的 我记录一下 这周五前还五千")),
                          started_at=datetime(2026, 11, 20, 10))
    p = [f for f in bad.findings if f.check == "promise"]
    assert p and [e.index for e in p[0].evidence] == [3, 2]


def test_changing_story_and_agent_setting_are_followed():
    r = post_call_check(KB, call(
        ("agent", "请问是王五先生吗"), ("customer", "我不是他"), ("customer", "好吧 是我"),
        ("agent", "您的账单逾期了"),
    ))
    assert [p.kind for _, p in r.party_history] == ["third_party", "debtor"]
    assert not [f for f in r.findings if f.check in ("third_party", "before_verified")]
    # the agent said in the panel it was a third party before the last line
    r = post_call_check(KB, call(
        ("agent", "请问是王五先生吗"), ("customer", "嗯"), ("agent", "他欠的钱逾期了"),
    ), agent_party=[(2, "third_party", "family")])
    assert r.party.source == "agent"
    assert [f.check for f in r.findings if f.severity == "critical"] == ["third_party"]


def test_no_identity_exchange_and_empty_call():
    r = post_call_check(KB, call(("customer", "喂"), ("agent", "你的账单逾期了")))
    assert r.party.kind == "unknown"
    assert [f.check for f in r.findings if f.severity == "warning"][0] == "before_verified"
    empty = post_call_check(KB, [])
    assert empty.findings == () and empty.n_utterances == 0
    assert empty.as_dict()["party"]["label"] == "身份未确认"


def _analyze(tmp_path, rows, *args):
    import json
    import os
    import subprocess
    import sys

    path = tmp_path / "call.jsonl"
    path.write_text("\n".join(json.dumps({"speaker": s, "text": t}, ensure_ascii=False) for s, t in rows) + "\n",
                    encoding="utf-8")
    env = {**os.environ, "ASSIST_ENCODER": "none", "ASSIST_DATA_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "assist", "analyze", str(path), "--kb",
                           str(Path(__file__).parent / "data" / "party_kb"), *args],
                          capture_output=True, text=True, env=env)


# "嗯 你说" after the identity question reads as the debtor; the agent knows the voice is a colleague's
COLLEAGUE_CALL = [
    ("agent", "您好 我是某某金融的客服 请问是王五先生吗"),
    ("customer", "嗯 你说"),
    ("agent", "好的"),
    ("agent", "他这笔钱已经逾期了"),
]


def test_analyze_post_call_takes_the_agents_party_setting(tmp_path):
    import json

    plain = _analyze(tmp_path, COLLEAGUE_CALL, "--post-call")
    assert plain.returncode == 0, plain.stderr
    report = json.loads(plain.stdout)
    assert report["party"]["kind"] == "debtor"
    assert not [f for f in report["findings"] if f["check"] == "third_party"]
    # F7 pressed before the 4th line (as the store keeps it): from then on a colleague is on the line
    given = _analyze(tmp_path, COLLEAGUE_CALL, "--post-call", "--party", "4:同事")
    assert given.returncode == 0, given.stderr
    report = json.loads(given.stdout)
    assert (report["party"]["kind"], report["party"]["relation"], report["party"]["source"]) == \
        ("third_party", "colleague", "agent")
    tp = [f for f in report["findings"] if f["check"] == "third_party"]
    assert [(f["severity"], f["evidence"][0]["index"]) for f in tp] == [("critical", 3)]
    # the same setting by its stored ids, and set only after the last line: who was on the line, no finding
    late = json.loads(_analyze(tmp_path, COLLEAGUE_CALL, "--post-call", "--party", "5:third_party/colleague").stdout)
    assert late["party"]["relation"] == "colleague"
    assert not [f for f in late["findings"] if f["check"] == "third_party"]


def test_analyze_lines_take_the_agents_party_setting_too(tmp_path):
    import json

    p = _analyze(tmp_path, COLLEAGUE_CALL, "--party", "4:同事")
    recs = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["party"]["kind"] for r in recs] == ["unknown", "debtor", "debtor", "third_party"]
    assert recs[3]["party"]["source"] == "agent"
    assert any(w["severity"] == "critical" for w in recs[3]["warnings"])


def test_analyze_party_setting_errors_are_named_in_chinese(tmp_path):
    for bad, words in (("abc", "第几句:身份"), ("9:同事", "1 到 5"), ("2:老板", "不认识身份“老板”")):
        p = _analyze(tmp_path, COLLEAGUE_CALL, "--post-call", "--party", bad)
        assert p.returncode == 2 and not p.stdout and words in p.stderr, (bad, p.stderr)
