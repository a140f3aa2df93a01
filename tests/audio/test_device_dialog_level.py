"""The device picker's live level meter on a real input: a PulseAudio null sink read through PortAudio."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.audio]


def _dialog(qtbot):
    from assist.ui.device_dialog import DeviceDialog

    dlg = DeviceDialog()
    qtbot.addWidget(dlg)
    return dlg


def test_meter_follows_speech_on_the_chosen_device_and_lets_go_on_close(qtbot, pulse, player, speech):
    dlg = _dialog(qtbot)
    dlg.agent_box.setCurrentIndex(dlg.agent_box.findData("pulse"))  # records the test sink's monitor
    dlg.show()
    probe = dlg.probe("agent")
    assert probe is not None and probe.device == "pulse"
    assert probe.opened.wait(10), "the probe never got a block from the device"
    qtbot.wait(300)
    quiet = dlg.meters["agent"].value()
    peaks: list[int] = []
    dlg.level_changed.connect(lambda ch, _n, peak: ch == "agent" and peaks.append(int(peak * 100)))
    player(pulse, speech["one"])
    qtbot.waitUntil(lambda: max(peaks, default=0) >= 10, timeout=15000)
    assert quiet < 5  # a silent sink reads as silence
    assert dlg.meters["agent"].maximum() == 100
    assert dlg.probe("customer") is None  # the customer side is unused by default: no device opened
    assert not dlg.meters["customer"].isEnabled()
    dlg.reject()  # closing the dialog releases the device
    assert probe.join(5) and dlg.probe("agent") is None


def test_changing_device_replaces_the_probe(qtbot, pulse):
    dlg = _dialog(qtbot)
    dlg.agent_box.setCurrentIndex(dlg.agent_box.findData("pulse"))
    dlg.show()
    first = dlg.probe("agent")
    assert first.opened.wait(10)
    dlg.agent_box.setCurrentIndex(0)  # the system default input
    second = dlg.probe("agent")
    assert second is not first and second.device is None
    assert first.join(5)  # the old device is let go
    dlg.accept()
    assert second.join(5)


def test_a_saved_device_that_is_gone_says_so_in_chinese(qtbot, pulse, monkeypatch, tmp_path):
    from assist.config import UserConfig, save_config

    save_config(UserConfig().with_changes(agent_device="不存在的耳机"))
    dlg = _dialog(qtbot)
    assert "现在没有连接" in dlg.agent_box.currentText()
    dlg.show()
    qtbot.waitUntil(lambda: dlg.meter_notes["agent"].isVisible(), timeout=10000)
    assert "找不到这个设备" in dlg.meter_notes["agent"].text()
    assert dlg.meters["agent"].value() == 0
    dlg.reject()
