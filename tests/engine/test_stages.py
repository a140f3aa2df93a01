"""Script-stage tracking follows what the agent says; it is not a counter.

Runs on the engine tests' own KB (tests/engine/fixture_kb: frozen copies of two shipped
playbooks), so editing kb/ never breaks it; the paraphrased call measures the shipped KB.
"""
from pathlib import Path

from assist.engine import AssistEngine
from assist.events import Utterance
from assist.knowledge import load_kb

KB = load_kb(Path(__file__).parent / "fixture_kb")
PB = "changjiang_extension"


def say(engine, text, speaker="agent"):
    return engine.process(Utterance(speaker, text))


def test_follows_the_script_in_order():
    e = AssistEngine(KB, playbook_id=PB)
    assert say(e, "您好 请问是张强先生吗 我是长江分期的客服专员李明").stage.index == 1
    assert say(e, "您有一笔分期贷款这周到期 账户余额不够").stage.index == 2
    r = say(e, "最近还款是不是有点压力 有没有考虑申请展期")
    assert r.stage.index == 3 and r.stages_done == (1, 2, 3)


def test_skipped_stages_and_revisits():
    e = AssistEngine(KB, playbook_id=PB)
    say(e, "您好 请问是张强先生吗 我是长江分期的客服专员李明")
    r = say(e, "展期不会留下负面记录 按新方案按时还就行")  # jumps to 5
    assert r.stage.index == 5 and r.stages_done == (1, 5)
    r = say(e, "我们可以给您办六个月以内的展期 或者重新分摊")  # back to 4
    assert r.stage.index == 4


def test_customer_speech_and_chatter_keep_the_stage():
    e = AssistEngine(KB, playbook_id=PB)
    say(e, "您好 请问是张强先生吗 我是长江分期的客服专员李明")
    assert say(e, "方便 你说", speaker="customer").stage.index == 1
    assert say(e, "嗯 好的").stage.index == 1


def test_said_lines_are_not_suggested_again():
    e = AssistEngine(KB, playbook_id=PB)
    r = say(e, "您好 请问是张强先生吗 我是长江分期客户服务专员李明")
    texts = [s.text for s in r.suggestions]
    assert not any(t.startswith("您好，请问是张强先生吗") for t in texts)
    assert r.suggestions[0].stage_index == 1 and r.suggestions[0].kind == "current_stage"
    r = say(e, "不会耽误您太久 现在方便沟通分期还款的事吗")
    assert r.suggestions[0].stage_index == 2 and r.suggestions[0].kind == "next_stage"


def test_before_anything_is_said_the_opening_is_suggested():
    r = say(AssistEngine(KB, playbook_id=PB), "喂", speaker="customer")
    assert r.stage is None and r.suggestions[0].kind == "opening"


def test_last_stage_suggests_the_closing():
    e = AssistEngine(KB, playbook_id=PB)
    pb = KB.playbook(PB)
    for line in pb.stages[-1].lines:
        r = say(e, line.text)
    assert r.stage.index == len(pb.stages)
    assert r.suggestions and r.suggestions[0].kind == "closing"


def test_partials_do_not_move_the_stage():
    e = AssistEngine(KB, playbook_id=PB)
    r = e.process(Utterance("agent", "您好 请问是张强先生吗 我是长江分期", final=False))
    assert r.stage is None


def test_picks_the_playbook_that_fits_the_call():
    e = AssistEngine(KB)
    card = KB.playbook("credit_card_overdue")
    r = say(e, card.stages[0].lines[0].text)
    r = say(e, card.stages[1].lines[0].text)
    assert r.playbook_id == "credit_card_overdue" and r.stage.playbook_id == "credit_card_overdue"
    e = AssistEngine(KB)
    r = say(e, "您好 请问是张强先生吗 我是长江分期的客服专员李明")
    assert r.playbook_id == PB


def test_stage_timeline_records_changes():
    e = AssistEngine(KB, playbook_id=PB)
    e.process(Utterance("agent", "您好 请问是张强先生吗 我是长江分期的客服专员李明", start=1.0))
    e.process(Utterance("agent", "您有一笔分期贷款这周到期 账户余额不够", start=9.5))
    assert e.stage_timeline == [(1.0, 1), (9.5, 2)]


def test_paraphrased_call_stage_accuracy():
    """A call written in other words than the script (tests/engine/data/call_paraphrased.jsonl)."""
    import json
    from pathlib import Path

    rows = [json.loads(l) for l in (Path(__file__).parent / "data" / "call_paraphrased.jsonl")
            .read_text(encoding="utf-8").splitlines() if l.strip()]
    e = AssistEngine(load_kb(), playbook_id=PB)  # the shipped KB
    labelled = ok = fit = 0
    for r in rows:
        res = e.process(Utterance(r["speaker"], r["text"]))
        if "expect_stage" in r:
            labelled += 1
            ok += res.stage is not None and res.stage.index == r["expect_stage"]
            fit += bool(res.suggestions) and res.suggestions[0].stage_index in (r["expect_stage"], r["expect_stage"] + 1)
    print(f"stage accuracy {ok}/{labelled}, next line fit {fit}/{labelled}")
    assert ok / labelled >= 0.9 and fit / labelled >= 0.85
