"""Acting on partial results: stable cards, complete warnings, withdrawals, caps.

The real engine on a small fixture KB, through a real ``Call``; the only fake is
the stabiliser's clock (so the per-second caps are exercised without sleeping).
"""
from __future__ import annotations

import pytest

from assist.call import Call
from assist.engine import AssistEngine
from assist.engine.partials import CARD_GAP_SECONDS, MAX_EVALS_PER_SECOND, PartialStabiliser
from assist.events import AssistResult, CardWithdrawn, Utterance
from assist.knowledge import load_kb

FAQS = """\
faqs:
  - id: fee
    question: 展期要交多少手续费
    answer: 展期不收手续费。
  - id: credit
    question: 展期会不会影响我的征信
    answer: 按时还款不影响征信。
  - id: early
    question: 提前还清有没有罚金
    answer: 提前还清不收罚金。
"""
RULES = """\
rules:
  - id: personal_account
    severity: critical
    title: 要求转入个人账户
    message: 只能通过官方渠道还款。
    source: 测试
    match:
      any: ['个人账户']
  - id: unless_official
    severity: warning
    title: 要求转账
    message: 只能通过官方渠道还款。
    source: 测试
    match:
      any: ['转账给我']
"""
PLAYBOOK = """\
id: test
title: 测试话术
source: 测试
stages:
  - id: s1
    title: 开场
    lines:
      - 您好，我是长江分期的客服。
"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    root = tmp_path_factory.mktemp("kb")
    for sub, name, text in (("faqs", "f.yaml", FAQS), ("rules", "r.yaml", RULES), ("playbooks", "p.yaml", PLAYBOOK)):
        (root / sub).mkdir()
        (root / sub / name).write_text(text, encoding="utf-8")
    return load_kb(root)


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def call(kb):
    events: list = []
    c = Call(AssistEngine(kb), subscribers=(events.append,))
    c.partials = PartialStabiliser(clock=FakeClock())
    c.start()
    c.events = events
    return c


def say(call, speaker, words, segment, final_text=None, step=0.3):
    """Grow a sentence word by word as partials (advancing the fake clock), then its final."""
    clock = call.partials._clock
    for n in range(1, len(words) + 1):
        clock.t += step
        call.hear(Utterance(speaker, " ".join(words[:n]), 0.0, n * step, final=False, segment=segment))
    clock.t += step
    text = " ".join(words) if final_text is None else final_text
    call.hear(Utterance(speaker, text, 0.0, len(words) * step + 0.3, final=True, segment=segment))


def results(call, final=None):
    return [e for e in call.events if isinstance(e, AssistResult) and (final is None or e.utterance.final == final)]


def shown_faq(result):
    return [h.faq_id for h in result.faq if h.shown]


def test_card_appears_from_a_stable_partial_before_the_final(call):
    say(call, "customer", ["展期", "要", "交", "多少", "手续费"], "customer-1")
    partials = results(call, final=False)
    firsts = [i for i, r in enumerate(partials) if shown_faq(r)]
    assert firsts, [r.utterance.text for r in partials]
    # one matching partial alone is not enough: the card waits for a second that agrees
    first_match = next(i for i, r in enumerate(partials)
                       if any(h.faq_id == "fee" for h in r.faq) and AssistEngine(call.engine.kb).process(
                           r.utterance).faq[0].shown)
    assert firsts[0] >= first_match + 1
    assert all(shown_faq(r) in ([], ["fee"]) for r in partials)
    assert shown_faq(results(call, final=True)[0]) == ["fee"]
    assert not [e for e in call.events if isinstance(e, CardWithdrawn)]
    assert call.partials.stats.faq_from_partial == 1


def test_final_that_disagrees_withdraws_the_partial_card(call):
    say(call, "customer", ["展期", "要", "交", "多少", "手续费"], "customer-1", final_text="好的 谢谢")
    withdrawn = [e for e in call.events if isinstance(e, CardWithdrawn)]
    assert len(withdrawn) == 1
    w = withdrawn[0]
    assert (w.kind, w.key, w.replaced_by, w.segment) == ("faq", "fee", "", "customer-1")
    # it follows the final's result, so a view that already repainted from the final has nothing to do
    assert call.events.index(w) == call.events.index(results(call, final=True)[0]) + 1
    assert call.partials.stats.withdrawn == 1


def test_one_card_per_sentence_from_partials(call):
    # the sentence starts as one question and turns into another: partials never swap cards
    say(call, "customer", ["展期", "要", "交", "多少", "手续费", "提前", "还清", "有没有", "罚金", "呢"], "customer-1")
    partial_cards = {tuple(shown_faq(r)) for r in results(call, final=False)}
    assert len(partial_cards - {()}) <= 1


def test_warning_fires_from_a_partial_once_the_span_is_complete(call):
    say(call, "agent", ["你", "把", "钱", "转到", "我的", "个人账户", "上", "就行"], "agent-1")
    partials = results(call, final=False)
    with_warning = [r for r in partials if r.warnings]
    assert with_warning, "no warning before the final"
    first = with_warning[0].utterance.text
    # the partial that first shows the span held it back (it might still grow); the next one raised it
    assert first.split()[-1] != "个人账户" or first == "你 把 钱 转到 我的 个人账户"
    assert results(call, final=True)[0].warnings[0].rule_id == "personal_account"
    assert call.partials.stats.warnings_from_partial == 1


def test_warning_span_at_the_end_of_a_partial_waits(call):
    clock = call.partials._clock
    clock.t += 1
    call.hear(Utterance("agent", "转到 我的 个人账户", 0, 1, final=False, segment="agent-1"))
    assert results(call)[-1].warnings == ()  # might still be revised: not yet
    clock.t += 1
    call.hear(Utterance("agent", "转到 我的 个人账户", 0, 1.2, final=True, segment="agent-1"))
    assert results(call)[-1].warnings  # the final always reports


def test_warning_the_final_does_not_confirm_is_withdrawn(call):
    say(call, "agent", ["转到", "我的", "个人账户", "上"], "agent-1", final_text="转到 我的 账户 上")
    withdrawn = [e for e in call.events if isinstance(e, CardWithdrawn)]
    assert [(w.kind, w.key) for w in withdrawn] == [("warning", "personal_account")]


def test_unchanged_partials_are_not_evaluated(call):
    clock = call.partials._clock
    for _ in range(5):
        clock.t += 0.5
        call.hear(Utterance("customer", "展期 要 交", 0, 1, final=False, segment="customer-1"))
    assert len(results(call)) == 1
    assert call.partials.stats.skipped_unchanged == 4


def test_partials_are_capped_per_speaker_but_finals_never(call):
    # a flood of changing partials within one second: at most the cap are evaluated
    for i in range(50):
        call.hear(Utterance("customer", "展期" + "啊" * i, 0, 1, final=False, segment="customer-1"))
        call.hear(Utterance("agent", "您好" + "嗯" * i, 0, 1, final=False, segment="agent-1"))
    by_speaker = {s: len([r for r in results(call) if r.utterance.speaker == s]) for s in ("customer", "agent")}
    assert by_speaker == {"customer": MAX_EVALS_PER_SECOND, "agent": MAX_EVALS_PER_SECOND}
    call.hear(Utterance("customer", "展期 要 交 多少 手续费", 0, 2, final=True, segment="customer-1"))
    assert results(call, final=True)[0].utterance.text == "展期 要 交 多少 手续费"


def test_no_card_storm_from_junk_partials(call):
    """Line noise: every partial a different 'question'. At most one partial card a second."""
    clock = call.partials._clock
    questions = ["展期 要 交 多少 手续费", "展期 会 不会 影响 我的 征信", "提前 还清 有没有 罚金"]
    for i in range(60):  # 60 partials over 6 s, each sentence two agreeing partials then a jump
        clock.t += 0.1
        q = questions[(i // 2) % 3]
        call.hear(Utterance("customer", q + " " + "嗯" * (i % 2), 0, i * 0.1, final=False, segment=f"customer-{i // 6}"))
    shown = [r for r in results(call, final=False) if shown_faq(r)]
    firsts = {}
    for r in shown:
        firsts.setdefault(r.utterance.segment, r)
    assert len(firsts) <= 6 / CARD_GAP_SECONDS + 1


def test_reset_forgets_the_previous_call(call):
    say(call, "customer", ["展期", "要", "交", "多少", "手续费"], "customer-1", final_text="好的")
    assert call.partials.stats.withdrawn == 1
    call.start()
    assert call.partials.stats.withdrawn == 0 and call.partials.stats.evaluated == 0


def test_held_partial_counts_once_as_agreement(call):
    """The recognizer re-sends unchanged words when the speaker pauses: the card need not wait for the final."""
    clock = call.partials._clock
    clock.t += 1
    call.hear(Utterance("customer", "展期 要 交 多少 手续费", 0, 1.0, final=False, segment="customer-1"))
    assert not shown_faq(results(call)[-1])  # one evaluation is not enough
    clock.t += 0.1
    call.hear(Utterance("customer", "展期 要 交 多少 手续费", 0, 1.05, final=False, segment="customer-1"))
    assert len(results(call)) == 1  # the same words a moment later: not news
    clock.t += 0.2
    call.hear(Utterance("customer", "展期 要 交 多少 手续费", 0, 1.3, final=False, segment="customer-1"))
    assert shown_faq(results(call)[-1]) == ["fee"]  # held in a pause: the second agreeing evaluation
    clock.t += 0.5
    call.hear(Utterance("customer", "展期 要 交 多少 手续费", 0, 1.9, final=False, segment="customer-1"))
    assert len(results(call)) == 2  # held counts once per text
