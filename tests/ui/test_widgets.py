

def test_banner_quotes_the_grown_utterance(qtbot):
    from assist.events import ComplianceWarning
    from assist.ui.warning_banner import PendingWarning, WarningBanner

    banner = WarningBanner()
    qtbot.addWidget(banner)

    def item(said, text):
        w = ComplianceWarning("personal_account", "critical", "要求转账到个人账户", "请走官方渠道", "《来分期协商还款指南》（对方急切要求转账就该挂断）；《催收培训手册》 § 标准解答", (0, len(said)), said)
        return PendingWarning(warning=w, segment="agent-3", text=text)

    assert banner.add(item("转到我", "先把钱转到我"))
    assert not banner.add(item("转到我个人账户", "先把钱转到我个人账户上"))
    assert len(banner.pending) == 1
    assert "转到我个人账户" in banner.said.text()
    assert banner.source.text() == "依据：《来分期协商还款指南》《催收培训手册》"


def test_banner_shows_the_most_urgent_newest_warning_and_counts_the_rest(qtbot):
    from assist.events import ComplianceWarning
    from assist.ui.warning_banner import PendingWarning, WarningBanner

    banner = WarningBanner()
    qtbot.addWidget(banner)

    def item(rule, severity, title, seg):
        w = ComplianceWarning(rule, severity, title, "请这样说", "《催收培训手册》", (0, 2), "说了")
        return PendingWarning(warning=w, segment=seg, text="说了什么")

    banner.add(item("hours", "warning", "在不适当的时间催收", "s0"))
    banner.add(item("account", "critical", "要求转账到个人账户", "s1"))
    banner.add(item("tone", "warning", "语气不当", "s2"))
    assert banner.current.warning.rule_id == "account"  # critical first, whatever came before
    assert banner.more.text() == "还有 2 条待确认：语气不当、在不适当的时间催收"  # newest first
    banner.set_compact(True)
    assert banner.more.text() == "还有 2 条待确认" and "在不适当的时间催收" in banner.more.toolTip()
    seen = []
    banner.acknowledged.connect(lambda it: seen.append(it.warning.rule_id))
    banner.acknowledge()
    assert banner.current.warning.rule_id == "tone"  # of equal severity, the newest
    banner.acknowledge()
    banner.acknowledge()
    assert seen == ["account", "tone", "hours"] and banner.current is None and banner.isHidden()
