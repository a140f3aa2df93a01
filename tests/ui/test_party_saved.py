"""The agent's F7 choice of who is on the line is stored with the session and used by review's 合规复查.

End to end on the real parts: an engine on a fixture KB, a ``Call``, the session recorder writing
to a real SQLite store, the stored bundle, the post-call check and the review window.
"""
from pathlib import Path

import pytest

from assist.call import Call
from assist.engine import AssistEngine
from assist.engine.post_call import post_call_check
from assist.events import Utterance
from assist.knowledge import load_kb
from assist.store import SessionRecorder, open_store
from assist.ui.post_call_view import post_call_html

KB = load_kb(Path(__file__).parents[1] / "engine" / "data" / "party_kb")


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "sessions.db")
    yield s
    s.close()


def _play(call, lines):
    for i, (speaker, text) in enumerate(lines):
        if speaker == "F7":
            call.set_party(*text)
            continue
        call.hear(Utterance(speaker, text, start=float(i * 3), end=float(i * 3 + 2), segment=f"s{i}"))


def _record(store, lines, t0=1795435200.0):
    recorder = SessionRecorder(store)
    call = Call(AssistEngine(KB), subscribers=(recorder,))
    call.start(session_id="party01", devices={"agent": "mic", "customer": "phone"}, started_at=t0)
    _play(call, lines)
    call.end()
    assert recorder.wait_saved()
    recorder.close()
    return store.bundle("party01")


# the customer's "嗯 你说" after the identity question reads as the debtor; the agent knows the voice
# (a colleague picked up his phone) and says so with F7 before mentioning anything
LINES = [
    ("agent", "您好 我是某某金融的客服 请问是王五先生吗"),
    ("customer", "嗯 你说"),
    ("F7", ("third_party", "colleague")),
    ("agent", "他这笔钱已经逾期了"),
    ("customer", "我是他同事 他手机放我这儿了"),
    ("agent", "好的 麻烦请他回个电话"),
]


def test_the_setting_is_stored_where_it_was_made_and_the_check_starts_from_it(store):
    bundle = _record(store, LINES)
    assert [(s["before_line"], s["kind"], s["relation"]) for s in bundle["party_settings"]] == \
        [(2, "third_party", "colleague")]
    utts = [Utterance(u["speaker"], u["text"], start=u["start_s"]) for u in bundle["utterances"]]
    stored = post_call_check(KB, utts, agent_party=[(s["before_line"], s["kind"], s["relation"])
                                                    for s in bundle["party_settings"]])
    tp = [f for f in stored.findings if f.check == "third_party"]
    assert tp and tp[0].severity == "critical" and tp[0].evidence[0].text == "他这笔钱已经逾期了"
    # what review showed before the setting was stored: the transcript alone reads "嗯 你说" as the debtor
    inferred = post_call_check(KB, utts)
    assert not [f for f in inferred.findings if f.check == "third_party" and f.evidence[0].index == 2]


def test_review_shows_the_agents_setting_and_its_finding(qtbot, store):
    from assist.ui.review import ReviewWindow

    _record(store, LINES)
    html = post_call_html(KB, store.bundle("party01"))
    assert "坐席的设定" in html and "第 3 句起设为“第三人（同事）”" in html
    win = ReviewWindow(store, kb=KB)
    qtbot.addWidget(win)
    win.refresh()
    assert win.open_session("party01")
    text = win.compliance_view.toPlainText()
    assert "第三人（同事）" in text and "他这笔钱已经逾期了" in text and "严重" in text


def test_a_setting_at_the_very_end_and_a_later_kind_are_handled(store):
    bundle = _record(store, [
        ("agent", "您好 我是某某金融的客服 请问是王五先生吗"),
        ("customer", "你是谁啊"),
        ("F7", ("debtor", "")),  # the agent recognised him by other means after the call's last line
    ])
    assert bundle["party_settings"][-1]["before_line"] == 2
    utts = [Utterance(u["speaker"], u["text"]) for u in bundle["utterances"]]
    r = post_call_check(KB, utts, agent_party=[(2, "debtor", ""), (2, "someone_new", "")])
    assert r.party.kind == "debtor" and r.party.source == "agent"


def test_deleting_a_session_removes_its_settings(store):
    _record(store, LINES)
    store.delete("party01")
    assert store._query("SELECT count(*) AS n FROM party_settings")[0]["n"] == 0
