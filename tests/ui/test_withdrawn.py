"""The panel takes back a partial's card or warning when the final does not confirm it."""
from assist.events import AssistResult, CardWithdrawn, ComplianceWarning, FaqHit, Utterance

WARN = ComplianceWarning("personal_account", "critical", "要求转入个人账户", "只能通过官方渠道还款。", "测试",
                         (6, 10), "个人账户")


def _partial_card(panel, seg="c1"):
    panel.on_result(AssistResult(utterance=Utterance("customer", "展期 会不会", final=False, segment=seg),
                                 faq=(FaqHit("x", "征信会受影响吗？", "不会。", 0.9, True),)))


def test_withdrawn_card_is_cleared_unless_the_final_replaced_it(qtbot, panel):
    _partial_card(panel)
    assert panel.cards.faq_card.key == "x"
    panel.on_result(AssistResult(utterance=Utterance("customer", "好的", segment="c1")))
    panel.on_withdrawn(CardWithdrawn("c1", "customer", "faq", "x"))
    assert panel.cards.faq_card.key is None
    # the final showed another answer: it already replaced the card, the withdrawal changes nothing
    _partial_card(panel, "c2")
    panel.on_result(AssistResult(utterance=Utterance("customer", "手续费", segment="c2"),
                                 faq=(FaqHit("y", "手续费多少？", "不收。", 0.9, True),)))
    panel.on_withdrawn(CardWithdrawn("c2", "customer", "faq", "x", replaced_by="y"))
    assert panel.cards.faq_card.key == "y" and panel.cards.faq_card.body.text() == "不收。"


def test_withdrawn_warning_leaves_the_banner_and_stops_the_flash(qtbot, panel):
    panel.on_result(AssistResult(utterance=Utterance("agent", "转到 我的 个人账户 上", final=False, segment="a1"),
                                 warnings=(WARN,)))
    assert panel.warning_banner.current is not None
    panel.on_withdrawn(CardWithdrawn("a1", "agent", "warning", "personal_account"))
    assert panel.warning_banner.current is None and panel.warning_banner.isHidden()
    assert panel.frame.property("flash") != "true"
    # the same rule said again later in that segment is a new warning, not a ghost of the old one
    panel.on_result(AssistResult(utterance=Utterance("agent", "转到 我的 个人账户 上", segment="a1"), warnings=(WARN,)))
    assert panel.warning_banner.current is not None
