"""Agent workflow in the panel: case ids, quiet mode, alert throttling, copy marks used, shortcuts help."""
import time

from assist.events import AssistResult, ComplianceWarning, Utterance
from assist.ui.alert_throttle import AlertThrottle
from assist.zh.identifiers import mask_case_id, normalise_case_id


def test_pasted_case_id_is_normalised_and_masked():
    assert normalise_case_id(" ６２２２ ０２１２-３４５６ ７８９０\n") == "6222021234567890"
    assert normalise_case_id("jd-2026 0001") == "JD20260001"
    assert mask_case_id("6222021234567890") == "6222********7890"
    assert mask_case_id("1234") == "**34"
    assert mask_case_id("") == ""


def test_case_field_shows_the_id_masked(qtbot):
    from assist.ui.case_id_edit import CaseIdEdit

    edit = CaseIdEdit()
    qtbot.addWidget(edit)
    seen = []
    edit.case_changed.connect(seen.append)
    edit.setText("６２２２ ０２１２ ３４５６ ７８９０")
    edit.editingFinished.emit()
    assert edit.case_id == "6222021234567890" and seen == ["6222021234567890"]
    assert edit.text() == "6222********7890"


def test_throttle_counts_repeats():
    t = AlertThrottle(30)
    assert t.allow("r", 0.0)
    assert not t.allow("r", 10.0)
    assert t.allow("other", 11.0)
    assert t.allow("r", 31.0)
    assert t.count("r") == 3


def _result(seg, start, rule="threat", severity="warning"):
    w = ComplianceWarning(rule, severity, "威胁客户", "请如实说明", "《催收培训手册》", (0, 2), "否则")
    return AssistResult(utterance=Utterance("agent", "否则后果自负", start, start + 1, final=True, segment=seg),
                        warnings=(w,))


def test_quiet_mode_and_throttling_in_the_panel(qtbot, panel):
    panel.set_quiet(True)
    panel.on_result(_result("a1", 1.0))
    assert panel.warning_banner.current is None  # quiet: a non-critical warning does not pop up
    panel.set_quiet(False)
    panel.on_result(_result("a2", 2.0))
    assert len(panel.warning_banner.pending) == 1
    panel.on_result(_result("a3", 5.0))  # the same rule again within 30 s: counted, not queued
    assert len(panel.warning_banner.pending) == 1
    assert "第 2 次" in panel.warning_banner.more.text()  # the one quiet mode held back is not counted
    panel.acknowledge_warning()
    assert panel.warning_banner.current is None


def test_copy_marks_the_answer_used_in_the_store(qtbot, demo, panel):
    marks = []
    demo.demo_mark.connect(lambda i, m: marks.append(m))
    assert demo.start("")
    qtbot.waitUntil(lambda: bool(marks), timeout=15000)
    qtbot.waitUntil(lambda: panel.cards.faq_card.key is not None, timeout=5000)
    faq_id = panel.cards.faq_card.key
    panel.copy_answer()
    panel.copy_next_line()
    demo.player.resume()
    qtbot.waitUntil(lambda: not demo.in_call, timeout=15000)
    assert demo.recorder.wait_saved()  # queued for the recorder's writer thread, like utterances
    hits = demo.store.faq_hits(panel.session_id)
    assert any(h["faq_id"] == faq_id and h["used"] for h in hits)
    assert any(s["used"] for s in demo.store.suggestions(panel.session_id))


def test_help_overlay_lists_every_shortcut(qtbot, panel):
    from assist.ui.help_overlay import SHORTCUTS

    panel.show_help()
    assert panel.help_overlay.isVisible()
    assert len(panel.help_overlay.rows) == len(SHORTCUTS)


def test_new_note_stamps_the_call_time(qtbot, panel):
    panel.new_note()
    panel.notes.insertPlainText("客户说月底前还")
    assert "客户说月底前还" in panel.notes.toPlainText() and panel.notes.hasFocus() or panel.notes.isVisible()


def test_review_filters_and_weekly_rollup(qtbot, demo, panel, tmp_path):
    from assist.ui.review import ReviewWindow

    marks = []
    demo.demo_mark.connect(lambda i, m: marks.append(m))
    panel.set_agent_id(" Ａ１０２３ ")
    panel.case_edit.setText("６２２２ ０２１２ ３４５６ ７８９０")
    panel.case_edit.editingFinished.emit()
    assert demo.start("")
    qtbot.waitUntil(lambda: bool(marks), timeout=15000)
    demo.player.resume()
    qtbot.waitUntil(lambda: not demo.in_call, timeout=15000)
    row = demo.store.list_sessions()[0]
    assert row["agent_id"] == "A1023" and row["case_id"] == "6222021234567890"
    win = ReviewWindow(demo.store, kb=demo.kb)
    qtbot.addWidget(win)
    win.refresh()
    assert len(win.sessions) == 1
    win.warning_only.setChecked(True)
    win.promise_only.setChecked(True)
    assert len(win.sessions) == 1  # the demo call has both
    win.text_filter.setText("个人账户")
    win.apply_filter()
    assert len(win.sessions) == 1
    win.text_filter.setText("从来没说过的一句话")
    win.apply_filter()
    assert win.sessions == [] and "0 / 1" in win.filter_count.text()
    win.text_filter.clear()
    win.case_filter.setText("３４５６ ７８９０")  # typed with full-width digits and a space
    win.apply_filter()
    assert len(win.sessions) == 1 and win.table.item(0, 3).text() == "6222********7890"
    win.agent_filter.setText("B9")
    win.apply_filter()
    assert win.sessions == []
    win.agent_filter.setText("a10")
    win.apply_filter()
    assert len(win.sessions) == 1
    win.pages.setCurrentIndex(1)
    rows = win.rollup.rows
    assert len(rows) == 1 and rows[0].calls == 1 and rows[0].warnings >= 1 and rows[0].promises >= 1
    assert rows[0].agent == "A1023"
    assert rows[0].by_rule and win.rollup.table.rowCount() == 1
    out = win.rollup.export_to(tmp_path / "汇总.csv").read_text(encoding="utf-8")
    assert out.startswith("\ufeff周,") and rows[0].week in out


def test_end_of_call_summary_card(qtbot, demo, panel):
    marks = []
    demo.demo_mark.connect(lambda i, m: marks.append(m))
    assert demo.start("")
    qtbot.waitUntil(lambda: bool(marks), timeout=15000)
    panel.copy_answer()
    demo.player.resume()
    qtbot.waitUntil(lambda: not demo.in_call, timeout=15000)
    qtbot.waitUntil(lambda: panel.summary_card.isVisible(), timeout=5000)
    text = panel.summary_card.body.text()
    assert "还款承诺：" in text and "10,000 元" in text
    assert "合规警告" in text and "未确认" in text and "要求转账到个人账户" in text
    assert "采用的答案：" in text and "采用的答案：无" not in text
    panel.summary_card.done_button.click()
    assert not panel.summary_card.isVisible()


def test_device_dialog_saves_the_choice_per_machine(qtbot):
    from assist.audio.devices import InputDevice
    from assist.config import load_config
    from assist.ui.device_dialog import DeviceDialog

    fake = [InputDevice(0, "耳机麦克风", "pulse", 1, 48000, True), InputDevice(1, "软电话回环", "pulse", 2, 48000)]
    dlg = DeviceDialog(list_inputs=lambda: fake)
    qtbot.addWidget(dlg)
    dlg.agent_box.setCurrentIndex(dlg.agent_box.findData("耳机麦克风"))
    dlg.customer_box.setCurrentIndex(dlg.customer_box.findData("软电话回环"))
    dlg.save()
    cfg = load_config()
    assert (cfg.agent_device, cfg.customer_device) == ("耳机麦克风", "软电话回环")
    again = DeviceDialog(list_inputs=lambda: [])  # headset unplugged since: still shown, marked
    qtbot.addWidget(again)
    assert "没有连接" in again.agent_box.currentText()


def test_device_dialog_without_audio_says_why(qtbot):
    from assist.ui.device_dialog import DeviceDialog

    def broken():
        raise OSError("PortAudio library not found")

    dlg = DeviceDialog(list_inputs=broken)
    qtbot.addWidget(dlg)
    assert "找不到音频输入设备" in dlg.problem.text() and not dlg.problem.isHidden()


def test_ctrl_p_pauses_a_live_listener_and_the_transcript_says_where(qtbot, panel):
    from assist.events import ListeningPaused, ListeningResumed
    from assist.ui.app import CallController

    ctl = CallController(panel, open_store=False, demo=True)
    qtbot.waitUntil(lambda: ctl.kb_watcher.settled, timeout=15000)  # its status line comes first

    class Listening:  # the live Listener's pause interface (the real one: tests/audio/test_pause_listening.py)
        paused = False

        def pause(self):
            self.paused = True
            ctl.bridge(ListeningPaused(at=65.0))  # what the listener publishes, from its thread

        def resume(self):
            self.paused = False
            ctl.bridge(ListeningResumed(paused_at=65.0, at=80.0))

    ctl.listener = Listening()
    panel.live, panel.call_started_at = True, time.time() - 70
    ctl.toggle_pause()
    qtbot.waitUntil(lambda: "已暂停收音" in panel.transcript.toPlainText(), timeout=3000)
    assert "01:05 已暂停收音" in panel.transcript.toPlainText() and "已暂停收音" in panel.status.text()
    ctl.toggle_pause()
    qtbot.waitUntil(lambda: "继续收音" in panel.transcript.toPlainText(), timeout=3000)
    assert "暂停了 15 秒" in panel.transcript.toPlainText() and "已暂停" not in panel.status.text()
    ctl.listener = None
