"""Who is on the line in the panel: shown from the engine, set by the agent's key, counted by case."""
from datetime import datetime

from PySide6.QtCore import Qt

from assist.events import AssistResult, ContactLimit, PartyState, Utterance


def test_party_from_the_engine_is_shown_in_chinese(panel):
    panel.on_result(AssistResult(Utterance("customer", "我是他老婆"),
                                 party=PartyState("third_party", "family", "inferred", "我是他老婆", 1)))
    text = panel.party_bar.state_button.text()
    assert text == "第三人（家属）"
    assert "不得提及欠款" in panel.party_bar.state_button.toolTip()


def test_f7_steps_the_agents_setting_and_emits_it(qtbot, panel):
    seen = []
    panel.party_bar.party_chosen.connect(lambda k, r: seen.append((k, r)))
    qtbot.keyClick(panel, Qt.Key.Key_F7)
    qtbot.keyClick(panel, Qt.Key.Key_F7)
    assert seen == [("debtor", ""), ("third_party", "other")]
    assert "坐席设定" in panel.party_bar.state_button.text()


def test_contact_limit_reached_is_shown_and_cleared_with_the_next_call(panel):
    panel.party_bar.show_contacts(ContactLimit("CJ-1", 3, 4, 3, True, "案件 CJ-1 今天已接通 3 次（上限 3 次）"))
    assert panel.party_bar.contacts.isVisible() and "上限 3 次" in panel.party_bar.contacts.text()
    panel.party_bar.clear_call()
    assert not panel.party_bar.contacts.isVisible()


def test_controller_passes_the_key_to_the_call_and_counts_the_case(qtbot, panel):
    from assist.ui.app import CallController

    ctl = CallController(panel, demo=True, demo_fast=True)
    try:
        qtbot.waitUntil(lambda: ctl.store_settled, timeout=15000)  # the store and ledger open on a worker
        assert ctl.ledger is not None
        assert ctl.ledger.path.name == "demo-ledger.db"  # the sample call never counts against a real case
        for h in (7, 8, 9):  # not 10:00, when the demo call is placed
            ctl.ledger.record_call("CJ-1", datetime.now().replace(hour=h, minute=0).timestamp(), connected=True)
        # typed as the agent pastes it: the panel's field and the ledger must key it the same way
        panel.case_edit.setText(" cj 1 ")
        panel.case_edit.editingFinished.emit()  # the agent presses Enter or leaves the field
        assert ctl.start(panel.selected_playbook())
        qtbot.waitUntil(lambda: panel.party_bar.contacts.isVisible(), timeout=5000)
        assert "已接通 3 次（上限 3 次" in panel.party_bar.contacts.text()
        assert "CJ-1" not in panel.party_bar.contacts.text()  # masked as the case field shows it
        ctl.set_party("third_party", "colleague")
        qtbot.waitUntil(lambda: "同事" in panel.party_bar.state_button.text(), timeout=5000)
        assert ctl.call is None or ctl.call.engine.party.state.relation == "colleague"
        ctl.stop()
        qtbot.waitUntil(lambda: ctl.call is None, timeout=20000)
        qtbot.waitUntil(lambda: ctl.ledger.status("CJ-1").attempts == 4, timeout=10000)  # counted at CallEnded
    finally:
        ctl.shutdown()
        if ctl.store is not None:
            ctl.store.close()
