"""Who is on the line: reading answers, the call's party state, and rules that depend on it.

Uses the fixture KB in data/party_kb (two party rules and one relation rule), not the shipped KB.
"""
from pathlib import Path

import numpy as np
import pytest

from assist.engine import AssistEngine
from assist.engine.party import PartyTracker, read_answer
from assist.events import PartyState, Utterance
from assist.knowledge import load_kb
from assist.knowledge.loader import collect_issues

FIXTURE = Path(__file__).parent / "data" / "party_kb"
KB = load_kb(FIXTURE)


def run(lines, customer_channel=False):
    engine = AssistEngine(KB, customer_channel=customer_channel)
    return engine, [engine.process(Utterance(s, t)) for s, t in lines]


@pytest.mark.parametrize("text,kind,relation", [
    ("我就是", "debtor", ""),
    ("对 是我 什么事", "debtor", ""),
    ("嗯 我 就 是", "debtor", ""),
    ("我不是他", "third_party", "other"),
    ("我 是 他 老 婆", "third_party", "family"),
    ("我是它老婆 他不在家", "third_party", "family"),  # 它 for 他: the recognizer cannot tell
    ("他是我儿子 你找他干嘛", "third_party", "family"),
    ("我是他同事 他去开会了", "third_party", "colleague"),
    ("这里是前进公司前台", "third_party", "colleague"),
    ("我是他朋友", "third_party", "friend"),
    ("他不在", "third_party", "other"),
    ("打错了吧", "third_party", "wrong_number"),
    ("大错了 没这个人", "third_party", "wrong_number"),
    ("这个号码我刚办的", "third_party", "wrong_number"),
    ("你找谁", "refused", ""),
    ("你先说什么事", "refused", ""),
])
def test_answers_are_read_whatever_the_recognizer_did(text, kind, relation):
    r = read_answer(text, after_question=True)
    assert r is not None and (r.kind, r.relation) == (kind, relation), r


def test_bare_yes_or_no_counts_only_right_after_the_identity_question():
    assert read_answer("对", after_question=True).kind == "debtor"
    assert read_answer("不是", after_question=True).kind == "third_party"
    assert read_answer("对", after_question=False) is None
    assert read_answer("不是", after_question=False) is None
    # an objection is not an identity answer
    assert read_answer("我不是不想还 是真没钱", after_question=True) is None or \
        read_answer("我不是不想还 是真没钱", after_question=True).kind != "third_party"


def test_customer_who_changes_story_ends_where_they_ended():
    engine, results = run([
        ("agent", "您好 请问是王五先生本人吗"),
        ("customer", "我不是他"),
        ("agent", "那请问您是他什么人"),
        ("customer", "唉 好吧 是我"),
    ])
    assert results[1].party.kind == "third_party" and results[1].party_changed
    assert results[3].party.kind == "debtor" and results[3].party_changed
    assert [p.kind for p in engine.party.history] == ["third_party", "debtor"]
    assert results[3].party.evidence == "唉 好吧 是我" and results[3].party.at_index == 3


def test_evasion_never_undoes_a_confirmed_debtor():
    engine, results = run([
        ("agent", "请问是王五先生吗"), ("customer", "是我"), ("agent", "您这期账单快到期了"),
        ("customer", "你是谁啊 什么事"),
    ])
    assert results[-1].party.kind == "debtor"


def test_wife_saying_she_will_have_him_pay_stays_a_third_party():
    engine, results = run([
        ("agent", "请问是王五先生吗"), ("customer", "我是他老婆"), ("customer", "我会让他还的"),
    ])
    assert results[-1].party == PartyState("third_party", "family", "inferred", "我是他老婆", 1)


def test_third_party_mention_is_critical_with_a_callback_message():
    _, results = run([
        ("agent", "您好 请问是王五先生吗"), ("customer", "我是他妈妈 他出去了"),
        ("agent", "他欠我们的钱已经逾期了"), ("agent", "麻烦您请他回个电话"),
    ], customer_channel=True)
    w = [x for x in results[2].warnings if x.rule_id == "tp_mention"]
    assert w and w[0].severity == "critical"
    assert not [x for x in results[3].warnings if x.severity != "info"]
    # the relation rule applies to a family member only
    assert results[1].party.relation == "family"


def test_details_before_verification_warn_only_when_answers_can_be_heard():
    lines = [("agent", "请问是王五先生吗"), ("agent", "您的账单已经逾期了")]
    _, agent_only = run(lines, customer_channel=False)
    assert [(w.rule_id, w.severity) for w in agent_only[1].warnings] == [("unverified_detail", "info")]
    _, both = run(lines, customer_channel=True)
    assert [(w.rule_id, w.severity) for w in both[1].warnings] == [("unverified_detail", "warning")]


def test_no_identity_exchange_at_all_stays_unknown_and_warns_on_details():
    engine, results = run([("customer", "喂"), ("agent", "你的账单逾期好几天了 什么时候处理")])
    assert results[-1].party.kind == "unknown" and results[-1].party.source == "none"
    assert [(w.rule_id, w.severity) for w in results[-1].warnings] == [("unverified_detail", "warning")]


def test_verified_debtor_hears_details_without_warning():
    _, results = run([("agent", "请问是王五先生吗"), ("customer", "嗯 对"), ("agent", "您的账单逾期了三天")],
                     customer_channel=True)
    assert results[1].party.kind == "debtor"
    assert not results[2].warnings


def test_agent_setting_stands_over_inference_until_changed():
    engine = AssistEngine(KB, customer_channel=True)
    engine.process(Utterance("agent", "请问是王五先生吗"))
    state = engine.set_party("third_party", "colleague")
    assert state.source == "agent" and state.label == "第三人（同事）"
    r = engine.process(Utterance("customer", "我就是"))
    assert r.party.kind == "third_party" and not r.party_changed
    assert engine.set_party("debtor").kind == "debtor"
    with pytest.raises(ValueError):
        engine.set_party("boss")


def test_mixed_channel_reads_answers_not_the_agents_own_lines_and_caps_severity():
    _, results = run([
        ("unknown", "您好 我是某某金融的客服 请问是王五先生本人吗"),
        ("unknown", "我是他同事"),
        ("unknown", "他欠了钱一直没还"),
    ])
    assert results[0].party.kind == "unknown"
    assert results[1].party.relation == "colleague"
    # on one mixed channel this may be the colleague's own words: a warning, not critical
    assert [(w.rule_id, w.severity) for w in results[2].warnings] == [("tp_mention", "warning")]


def test_a_new_call_starts_unknown():
    engine, _ = run([("agent", "请问是王五先生吗"), ("customer", "是我")])
    engine.reset()
    r = engine.process(Utterance("agent", "您好"))
    assert r.party.kind == "unknown" and engine.party.history == []


def test_partials_do_not_move_the_party():
    tracker = PartyTracker()
    assert not tracker.observe(Utterance("customer", "我是他老婆", final=False))
    assert tracker.state.kind == "unknown"


class _FakeEncoder:
    """Vectors by a keyword table: enough to show the semantic step is consulted after the lexical one."""

    model_id, dim = "fake", 3

    def encode(self, texts):
        rows = []
        for t in texts:
            if "老婆" in t or "内人" in t:
                rows.append([1.0, 0.0, 0.0])
            elif "打错" in t or "不认识" in t or "这号我刚换" in t:
                rows.append([0.0, 1.0, 0.0])
            else:
                rows.append([0.0, 0.0, 1.0])
        return np.asarray(rows, dtype=np.float32)


def test_semantic_reading_covers_what_no_pattern_lists():
    tracker = PartyTracker(_FakeEncoder())
    tracker.observe(Utterance("agent", "请问是王五先生吗"))
    assert tracker.observe(Utterance("customer", "这号我刚换"))
    assert (tracker.state.kind, tracker.state.relation) == ("third_party", "wrong_number")


def test_kb_check_names_a_bad_party_in_chinese(tmp_path):
    import shutil

    root = tmp_path / "kb"
    shutil.copytree(FIXTURE, root)
    p = root / "rules" / "context.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("parties: [family]", "parties: [famly]"), encoding="utf-8")
    _, issues = collect_issues(root)
    msgs = [str(i) for i in issues]
    assert any("rules/context.yaml:" in m and "famly" in m and "family" in m for m in msgs), msgs


def test_a_live_call_with_a_customer_device_hears_answers_and_the_agents_key_is_published():
    from assist.call import Call
    from assist.events import PartyChanged

    events = []
    call = Call(AssistEngine(KB), subscribers=(events.append,))
    call.start(devices={"agent": "耳机", "customer": "软电话"})
    r = call.hear(Utterance("agent", "您的账单已经逾期了"))
    assert [(w.rule_id, w.severity) for w in r.warnings] == [("unverified_detail", "warning")]
    call.set_party("third_party", "friend")
    changed = [e for e in events if isinstance(e, PartyChanged)]
    assert changed and changed[0].party.label == "第三人（朋友）" and changed[0].party.source == "agent"
    call.end()
    call.start(devices={"agent": "耳机"})  # the agent's microphone alone: answers cannot be heard
    r = call.hear(Utterance("agent", "您的账单已经逾期了"))
    assert [(w.rule_id, w.severity) for w in r.warnings] == [("unverified_detail", "info")]


def test_kb_semantics_attach_once_and_a_broken_encoder_falls_back_to_wording():
    from types import SimpleNamespace

    fake = _FakeEncoder()
    sem = SimpleNamespace(kb_encoder=fake, encode_query=lambda t: fake.encode([t])[0])
    tracker = PartyTracker()
    tracker.attach_semantics(sem)
    tracker.observe(Utterance("agent", "请问是王五先生吗"))
    assert tracker.observe(Utterance("customer", "内人"))  # no pattern lists it; the encoder reads it
    assert tracker.state.relation == "family"

    def broken(_t):
        raise RuntimeError("model gone")

    tracker2 = PartyTracker()
    tracker2.attach_semantics(SimpleNamespace(kb_encoder=fake, encode_query=broken))
    tracker2.observe(Utterance("agent", "请问是王五先生吗"))
    assert not tracker2.observe(Utterance("customer", "内人"))
    assert tracker2.observe(Utterance("customer", "我是他老婆"))  # wording still works


@pytest.mark.parametrize("heard,kind,relation", [
    ("她 在 洗 澡 我是 大老 公有 事吗", "third_party", "family"),  # 她老公 heard as 大老公 (ta/da)
    ("一 牛强 粗柴 我 实 他 同事", "third_party", "colleague"),  # 是 heard as 实 (shi/shi, another tone)
    ("我 四 他 朋 有", "third_party", "friend"),  # 是 heard as 四 (sh/s), 友 as 有
    ("你 大 错了 吧", "third_party", "wrong_number"),
    ("我 不 认 试 他", "third_party", "wrong_number"),
])
def test_answers_read_through_recognition_errors_by_fuzzy_pinyin(heard, kind, relation):
    r = read_answer(heard, after_question=False)
    assert r is not None and (r.kind, r.relation) == (kind, relation) and r.how in ("pinyin", "lexical")


def test_a_misheard_shi_wo_answers_the_question_but_is_no_statement_later():
    r = read_answer("撒 思我", after_question=True)  # 是我 -> 思我, one garbled syllable before it
    assert r is not None and (r.kind, r.strength, r.how) == ("debtor", "answer", "pinyin")
    assert read_answer("那事我管不着", after_question=False) is None  # 事我 is not 是我 out of the answer
    assert read_answer("思我们 公司", after_question=True) is None


@pytest.mark.parametrize("heard,kind,relation", [
    ("不是 我是她大学同学 她把电话给我了", "third_party", "friend"),  # a word between 她 and the relation
    ("我是他们公司的同事", "third_party", "colleague"),
    ("喂喂 信号不好 对对 是 奔 人", "debtor", ""),  # 是本人 heard as 是奔人
    ("你随 啊 你 照她杆 嘛", "refused", ""),  # 你谁啊 你找她干嘛, misheard
])
def test_more_answers_through_words_between_and_misheard(heard, kind, relation):
    r = read_answer(heard, after_question=True)
    assert r is not None and (r.kind, r.relation) == (kind, relation)


@pytest.mark.parametrize("heard,kind,relation", [
    ("是嘞 俺是他娘 他出去打工了", "third_party", "family"),  # dialect: 俺 for 我, 娘 for mother
    ("俺是他爹", "third_party", "family"),
    ("我是他屋里的", "third_party", "family"),
    ("我是他哥们 他在开车", "third_party", "friend"),  # the longest word: 哥们 is a friend, not 他哥
    ("我是他朋友的哥哥", "third_party", "friend"),
    ("我们一个科室的 她今天请假了", "third_party", "colleague"),
    ("这是他办公室的座机", "third_party", "colleague"),
    ("他在洗澡呢 你哪位", "third_party", "other"),
    ("没得这个人", "third_party", "wrong_number"),
    ("对头 是我", "debtor", ""),
])
def test_dialect_and_everyday_answers(heard, kind, relation):
    r = read_answer(heard, after_question=True)
    assert r is not None and (r.kind, r.relation) == (kind, relation), r


def test_an_oath_names_nobodys_mother():
    r = read_answer("我他妈的哪有钱还", after_question=False)
    assert r is None or r.kind != "third_party"


@pytest.mark.parametrize("heard,kind,relation,after", [
    ("斯 的 我 是", "debtor", "", True),  # 是的 我是: a bare yes, misheard
    ("哎 呀 就是腥 吧 是 窝 你们又 有啥 事", "debtor", "", False),  # 行吧 是我 你们又有啥事
    ("泥 髓你 找她 刚", "refused", "", True),  # 你谁 你找她干: 你 folds to li (n/l)
    ("不 我 是 她 大学 就同学", "third_party", "friend", True),  # a stray word between
    ("大戏 照 蜗 她 老 公有 事 吗", "third_party", "family", True),  # 是 dropped: 我她老公
])
def test_more_answers_through_recognition_errors(heard, kind, relation, after):
    r = read_answer(heard, after_question=after)
    assert r is not None and (r.kind, r.relation) == (kind, relation), r


def test_who_is_it_to_a_bare_hello_is_no_refusal_but_after_the_question_it_is():
    engine, results = run([("agent", "喂"), ("customer", "喂 谁啊")], customer_channel=True)
    assert results[-1].party.kind == "unknown"
    engine, results = run([("agent", "喂 请问是王五先生吗"), ("customer", "喂 谁啊")], customer_channel=True)
    assert results[-1].party.kind == "refused"
    # naming the person asked for is evasion whether or not the question was heard
    engine, results = run([("agent", "喂"), ("customer", "你找他干嘛")], customer_channel=True)
    assert results[-1].party.kind == "refused"


def test_identity_question_heard_through_errors_makes_a_bare_yes_an_answer():
    tracker = PartyTracker()
    tracker.observe(Utterance("agent", "您好我 是赖分期 客服 请问 是航 梅律 笨任 吗"))  # 请问是韩梅女士本人吗
    assert tracker.awaiting_answer
    tracker.observe(Utterance("customer", "斯 的"))
    assert tracker.state.kind == "debtor"
    other = PartyTracker()
    other.observe(Utterance("agent", "您好 士 范 丽女士 吗"))  # 是 lost, 女士吗 kept
    assert other.awaiting_answer


def test_the_name_the_agent_asked_for_stands_for_him_or_names_the_debtor():
    from assist.engine.party import asked_name

    assert asked_name("您好 我是长江分期的客服 请问是廖文斌先生吗") == "廖文斌"
    assert asked_name("喂 请问是吕斌家吗") == "吕斌"
    assert asked_name("请问您方便说话吗") == ""
    name = "廖文斌"
    for heard, kind, relation in (
        ("唉 算了 我 秋 是 廖文 斌 你说吧", "debtor", ""),  # 我就是廖文斌, 就 misheard as 秋
        ("对 是廖文斌 什么事", "debtor", ""),
        ("我是廖文斌他爸", "third_party", "family"),
        ("我是廖文斌的同事", "third_party", "colleague"),
        ("廖文斌不在", "third_party", "other"),
        ("我不是廖文斌", "third_party", "other"),
        ("你找廖文斌干嘛", "refused", ""),
    ):
        r = read_answer(heard, after_question=False, name=name)
        assert r is not None and (r.kind, r.relation) == (kind, relation), (heard, r)
    assert read_answer("你找的是廖文斌吧", after_question=False, name=name) is None
    # a misheard name: same sounds, one syllable of three may differ (the surname may not)
    assert read_answer("我就是廖文彬", after_question=False, name=name).kind == "debtor"


def test_a_story_changed_by_name_ends_with_the_debtor():
    engine, results = run([
        ("agent", "您好 请问是廖文斌先生吗"), ("customer", "他不在"),
        ("agent", "请问您是他什么人呢"), ("customer", "算了 是廖文斌 你说吧"),
    ], customer_channel=True)
    assert [r.party.kind for r in results if r.utterance.speaker == "customer"] == ["third_party", "debtor"]


def test_a_meaning_only_hit_on_the_bare_identity_question_is_dropped(monkeypatch):
    """A misheard name (你好 是周敏马) can sit near some trigger example; the line only asks who is there."""
    import dataclasses

    from assist.events import ComplianceWarning

    engine = AssistEngine(KB, customer_channel=True)
    by_meaning = ComplianceWarning("visit", "warning", "上门施压", "改说", "来源", (0, 2), "你好", found_by="example")
    by_words = dataclasses.replace(by_meaning, rule_id="threat", found_by="pattern")
    monkeypatch.setattr(engine.compliance, "check", lambda *a, **k: (by_meaning, by_words))
    assert [w.rule_id for w in engine.process(Utterance("agent", "你好 是 周 敏 马")).warnings] == ["threat"]
    assert engine.party.asked_now
    # any other line keeps both
    assert [w.rule_id for w in engine.process(Utterance("agent", "您这期账单还没还")).warnings] == ["visit", "threat"]
    # a question that goes on to say more is more than the question
    long_line = "请问是周敏女士吗 我们这边马上就要派人到您单位去了解情况"
    assert [w.rule_id for w in engine.process(Utterance("agent", long_line)).warnings] == ["visit", "threat"]


@pytest.mark.parametrize("heard,kind,relation,after,name", [
    ("喂握 式 韩志 刚 你 说", "debtor", "", False, "韩志刚"),  # 我是韩志刚, 我是 misheard
    ("对 卧 什么事", "debtor", "", True, ""),  # 对 我 什么事
    ("推我 是", "debtor", "", True, ""),  # 对我是, d/t
    ("不是 我 思她 蜜场 手际放 我 这儿了", "third_party", "other", True, ""),  # 不是 … as the answer
    ("不 丝 这是 蹋办公失 作机 我们 雨个 科私", "third_party", "colleague", True, ""),  # 办公室座机
    ("我们一个科室的", "third_party", "colleague", True, ""),
])
def test_answers_heard_through_errors_on_fresh_calls(heard, kind, relation, after, name):
    r = read_answer(heard, after_question=after, name=name)
    assert r is not None and (r.kind, r.relation) == (kind, relation), r


def test_misheard_no_and_names_do_not_overreach():
    assert read_answer("不是不想还 是真没钱", after_question=True) is None
    assert read_answer("他是韩志刚", after_question=False, name="韩志刚") is None or \
        read_answer("他是韩志刚", after_question=False, name="韩志刚").kind != "debtor"
    from assist.engine.party import asked_name
    assert asked_name("喂 你好 请问 是韩志刚") == "韩志刚"  # 吗 lost to the recognizer
