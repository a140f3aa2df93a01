"""Start without a speech model: a banner with the fix and a demo offer, not a crash."""
from PySide6.QtCore import Qt


def test_model_missing_banner_offers_demo(qtbot, panel, tmp_path, monkeypatch):
    from assist.ui.app import CallController

    monkeypatch.setenv("ASSIST_MODEL", str(tmp_path / "no-such-model"))
    ctl = CallController(panel, open_store=False)
    ctl.start("")
    qtbot.waitUntil(lambda: panel.notice.isVisible(), timeout=10000)
    assert panel.notice.kind == "model"
    assert "assist" in panel.notice.fix.text()  # the command that installs a model
    assert not ctl.in_call and not panel.live
    assert panel.notice.action_button.isVisible()

    qtbot.mouseClick(panel.notice.action_button, Qt.MouseButton.LeftButton)  # play the demo instead
    qtbot.waitUntil(lambda: panel.live, timeout=5000)
    assert not panel.notice.isVisible()
    ctl.stop()
    qtbot.waitUntil(lambda: not ctl.in_call, timeout=10000)


def test_device_and_store_problems_show_and_clear(qtbot, panel):
    from assist.events import DeviceProblem, StoreProblem

    panel.on_device_problem(DeviceProblem("agent", "headset unplugged", fix="plug it back in"))
    assert panel.notice.isVisible() and "plug it back in" in panel.notice.fix.text()
    panel.on_device_problem(DeviceProblem("agent", "ok again", recovered=True))
    assert not panel.notice.isVisible()
    panel.on_store_problem(StoreProblem("disk full", pending=3))
    assert panel.notice.isVisible() and "disk full" in panel.notice.message.text()
    panel.on_store_problem(StoreProblem("saved", recovered=True))
    assert not panel.notice.isVisible()


def test_theme_font_and_on_top_controls(qtbot, panel):
    before = panel.font_pt
    panel.larger_button.trigger()
    assert panel.font_pt == before + 1
    panel.theme_button.trigger()
    assert panel.theme.name == "dark"
    panel.top_button.setChecked(False)
    assert not panel.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    panel.top_button.setChecked(True)
    assert panel.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    panel.dock_right()
    area = panel.screen().availableGeometry()
    assert panel.geometry().right() == area.right()


def test_f8_starts_and_stops_a_chosen_playbook(qtbot, demo, panel):
    demo.demo_fast = False
    demo.demo_speed = 1.0
    panel.activateWindow()
    panel.select_playbook("changjiang_extension")
    with qtbot.waitSignal(panel.start_requested, timeout=2000) as sig:
        qtbot.keyClick(panel, Qt.Key.Key_F8)
    assert sig.args == ["changjiang_extension"]
    qtbot.waitUntil(lambda: panel.live, timeout=5000)
    # a chosen playbook shows its stages from the first moment
    assert panel.stepper.playbook is not None and panel.stepper.playbook.id == "changjiang_extension"
    assert not panel.playbook_box.isEnabled()
    qtbot.keyClick(panel, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: not panel.live, timeout=5000)
    assert "中断" in panel.status.text()
