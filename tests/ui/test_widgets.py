

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
