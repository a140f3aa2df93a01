"""Post-call summary from the store: with events built directly, and with the real engine and KB."""
from __future__ import annotations

from datetime import date

import pytest

from assist.events import AudioGap
from assist.knowledge import load_kb
from assist.store import SessionRecorder


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def _record_call(store, ev):
    rec = SessionRecorder(store)
    rec(ev.started("sum01"))
    threat = "你再不还我们就起诉你"
    rec(ev.final("您好 我是长江分期的客服", speaker="agent", start=0.0, end=3.0,
                 stage=ev.stage(1, "身份确认"), stages_done=(1,),
                 suggestions=[ev.suggestion("请问是张强先生吗"), ev.suggestion("您好")]))
    rec(ev.final("您一共欠款两万元", speaker="agent", start=3.0, end=6.0, stage=ev.stage(2, "说明来意"),
                 stages_done=(1, 2), suggestions=[ev.suggestion("您好")]))
    rec(ev.final("我最近手头紧 能不能延期还款", start=6.0, end=10.0, faq=[ev.faq(), ev.faq("f-x", "别的", False)],
                 stage=ev.stage(2, "说明来意"), stages_done=(1, 2)))
    rec(ev.final(threat, speaker="agent", start=10.0, end=12.5, warnings=[ev.warning(threat, "起诉你")],
                 stages_done=(1, 2)))
    rec(ev.final("好的 催收", speaker="agent", start=12.5, end=13.0,
                 warnings=[ev.warning("好的 催收", "催收", rule="r_info", severity="info")]))
    rec(AudioGap(channel="customer", start=13.0, end=14.0, reason="overflow"))
    rec(ev.final("那我月底先还一半", start=14.0, end=16.5, faq=[ev.faq("f-fee", "提前还款有手续费吗")]))
    rec(ev.final("下周五前还3000元", start=17.0, end=19.0))
    rec(ev.final("好的 再见", speaker="agent", start=19.0, end=20.0, stage=ev.stage(8, "收尾"),
                 stages_done=(1, 2, 8)))
    rec(ev.ended("sum01", t=ev.T0 + 95))
    assert rec.close() == 0
    return rec


def test_summary_from_recorded_events(store, ev, kb):
    _record_call(store, ev)
    store.mark_faq_used("sum01", "f-extend")
    assert store.mark_suggestion_used("sum01", "请问是张强先生吗") == 1
    store.set_notes("sum01", "客户同意月底还一半")
    s = store.summary("sum01", kb=kb)
    assert s["duration_s"] == 95.0
    assert s["talk_time_s"] == {"agent": 10.0, "customer": 8.5, "unknown": 0.0}  # 3+3+2.5+0.5+1, 4+2.5+2
    assert [x["index"] for x in s["stages"]["covered"]] == [1, 2, 8]
    pb = kb.playbooks["changjiang_extension"]
    assert [x["index"] for x in s["stages"]["missed"]] == [st.index for st in pb.stages if st.index not in (1, 2, 8)]
    assert s["stages"]["covered"][0]["title"] == pb.stage(1).title  # titles come from the playbook
    assert [t["index"] for t in s["stages"]["timeline"]] == [1, 2, 8]  # changes only, not every utterance
    assert s["warnings"]["by_severity"] == {"info": 1, "warning": 0, "critical": 1}
    assert s["warnings"]["unacknowledged"] == 2
    assert [f["faq_id"] for f in s["faqs"]["shown"]] == ["f-extend", "f-fee"]  # not-shown hits left out
    assert s["faqs"]["used"] == ["f-extend"]
    assert s["concerns"] == ["能不能延期还款", "提前还款有手续费吗"]
    assert s["suggestions"] == {"shown": 2, "used": 1}  # "您好" shown twice, stored once
    assert s["audio_gaps"] == 1 and s["notes"] == "客户同意月底还一半"
    half, three = s["promises"]
    assert (half["amount"], half["fraction"], half["owed"], half["due"]) == (10000, 0.5, 20000, "2026-11-30")
    assert half["text"] == "那我月底先还一半"
    assert (three["amount"], three["due"]) == (3000, "2026-12-04")
    store.acknowledge_warning(store.warnings("sum01")[0]["id"])
    assert store.summary("sum01", kb=kb)["warnings"]["unacknowledged"] == 1


def test_summary_without_the_playbook_says_missed_is_unknown(store, ev):
    _record_call(store, ev)
    s = store.summary("sum01", kb=type("NoKB", (), {"playbooks": {}})())
    assert s["stages"]["missed"] is None
    assert [x["title"] for x in s["stages"]["covered"]] == ["身份确认", "说明来意", "收尾"]


def test_real_engine_through_call_is_recorded_and_summarised(store, ev, kb):
    from assist.call import Call
    from assist.engine import AssistEngine
    from assist.events import Utterance

    rec = SessionRecorder(store)
    call = Call(AssistEngine(kb, playbook_id="changjiang_extension"), subscribers=(rec,), clock=lambda: ev.T0)
    started = call.start(session_id="eng01", started_at=ev.T0)
    script = [
        ("agent", "您好 我 是 长江 分期 的 客服 请问 是 张强 先生 吗", 0, 3),
        ("customer", "是 我 什么 事", 3, 5),
        ("agent", "您 的 账单 已经 逾期 了 一共 欠款 两万 元", 5, 9),
        ("agent", "你 再 不 还 我们 就 起诉 你 让 警察 来 抓 你", 12, 15),
        ("customer", "那 我 两 天 内 先 还 一万 吧", 15, 18),
    ]
    for speaker, text, a, b in script:
        call.hear(Utterance(speaker, text[:4], a, a + 0.5, final=False))  # a partial first, as vosk does
        call.hear(Utterance(speaker, text, a, b))
    call.end()
    assert rec.close() == 0
    sess = store.get_session(started.session_id)
    assert sess["status"] == "ended" and sess["kb_version"] == kb.version
    assert len(store.utterances("eng01")) == len(script)
    assert any(w["severity"] == "critical" for w in store.warnings("eng01"))
    s = store.summary("eng01", kb=kb)
    assert 1 in [x["index"] for x in s["stages"]["covered"]]
    assert s["stages"]["missed"]  # a five-line call cannot cover the whole script
    (p,) = s["promises"]
    assert p["amount"] == 10000 and p["due"] == (date(2026, 11, 25)).isoformat()
