"""Choosing the headset microphone and the softphone's output from the panel (saved per machine).

The same choice ``assist devices --agent/--customer`` saves: device names in the
user's config file (``assist.config``), which the next call's listener reads.
Lists the inputs PortAudio sees (``assist.audio.devices.list_inputs``); when it
sees none, says why and how to fix it instead of showing empty lists. While the
dialog is open, a meter under each choice shows the chosen device's live level
(``assist.audio.level_probe``: the device is read on a worker thread, each block's
peak comes back through a queued signal, a new choice replaces the probe, and
closing the dialog releases the devices), so the agent sees the right headset
move before the call. During a call the panel's meters show both channels.
Threads: the dialog on the GUI thread; probes call ``_level``/``_problem`` (which
only emit signals) from their workers.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from assist.config import ConfigError, load_config, save_config

log = logging.getLogger(__name__)
DEFAULT = "（系统默认）"
NONE = "（不用：只有一路声音）"


class DeviceDialog(QDialog):
    level_changed = Signal(str, int, float)  # channel, probe number, peak 0..1 (worker -> GUI)
    probe_failed = Signal(str, int, str)  # channel, probe number, what to tell the user (worker -> GUI)

    def __init__(self, parent=None, list_inputs=None, probe_levels: bool = True):
        super().__init__(parent)
        self.setWindowTitle("选择耳机和软电话输出")
        self.setMinimumWidth(420)  # device names are long: the lists should not cut them
        if list_inputs is None:
            from assist.audio.devices import list_inputs
        self._probe_levels = probe_levels
        self._probes: dict = {}  # channel -> LevelProbe now reading
        self._probe_number = {"agent": 0, "customer": 0}
        self.meters: dict[str, QProgressBar] = {}
        self.meter_notes: dict[str, QLabel] = {}
        self.level_changed.connect(self._show_level)
        self.probe_failed.connect(self._show_problem)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.agent_box = QComboBox()
        self.customer_box = QComboBox()
        try:
            names = [d.name for d in list_inputs()]
        except Exception as e:  # no PortAudio, no sound server: say so, keep the dialog usable
            names = []
            # our own errors are Chinese; PortAudio's own text is English and goes to the log only
            detail = getattr(e, "message", None) or "音频系统没有响应"
            log.warning("no input devices: %s", e)
            self.problem.setText(f"找不到音频输入设备：{detail}\n"
                                 "怎么办：插好耳机，确认系统声音设置里能看到它，再打开这里。")
            self.problem.show()
        try:
            cfg = load_config()
        except ConfigError as e:
            cfg = None
            self.problem.setText(str(e))
            self.problem.show()
        self.agent_box.addItem(DEFAULT, None)
        self.customer_box.addItem(NONE, None)
        for n in names:
            self.agent_box.addItem(n, n)
            self.customer_box.addItem(n, n)
        if cfg is not None:
            for box, value in ((self.agent_box, cfg.agent_device), (self.customer_box, cfg.customer_device)):
                if value:
                    if box.findData(value) < 0:
                        box.addItem(f"{value}（现在没有连接）", value)
                    box.setCurrentIndex(box.findData(value))
        form = QFormLayout()
        form.addRow("坐席麦克风（耳机）", self.agent_box)
        form.addRow("", self._meter_row("agent"))
        form.addRow("客户声音（软电话输出）", self.customer_box)
        form.addRow("", self._meter_row("customer"))
        self.agent_box.currentIndexChanged.connect(lambda _i: self._probe("agent"))
        self.customer_box.currentIndexChanged.connect(lambda _i: self._probe("customer"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.problem)
        lay.addLayout(form)
        lay.addWidget(QLabel("对着耳机说几句话，上面的音量条应当跳动。选择下一通电话起生效；"
                             "通话中面板上的音量条显示两路声音。", objectName="muted", wordWrap=True))
        lay.addWidget(buttons)

    # -- live levels ------------------------------------------------------------------------------

    def _meter_row(self, channel: str) -> QWidget:
        row = QWidget()
        lay = QVBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        bar = QProgressBar()
        bar.setRange(0, 100)
        bar.setTextVisible(False)
        bar.setMaximumHeight(10)
        bar.setToolTip("所选设备现在的音量")
        note = QLabel(objectName="muted")
        note.setWordWrap(True)
        note.hide()
        lay.addWidget(bar)
        lay.addWidget(note)
        self.meters[channel] = bar
        self.meter_notes[channel] = note
        return row

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        for channel in ("agent", "customer"):
            if channel not in self._probes:
                self._probe(channel)

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.stop_probes()
        super().hideEvent(event)

    def done(self, result: int) -> None:
        self.stop_probes()  # closed by 保存, 取消 or Esc: let go of the devices
        super().done(result)

    def stop_probes(self) -> None:
        for probe in self._probes.values():
            probe.stop()
        self._probes.clear()
        for channel in self._probe_number:
            self._probe_number[channel] += 1  # levels still in flight from the old probes are ignored

    def _probe(self, channel: str) -> None:
        """Read the device now chosen for ``channel`` (replacing the previous probe)."""
        old = self._probes.pop(channel, None)
        if old is not None:
            old.stop()
        self._probe_number[channel] += 1
        bar, note = self.meters[channel], self.meter_notes[channel]
        bar.setValue(0)
        note.hide()
        box = self.agent_box if channel == "agent" else self.customer_box
        using = channel == "agent" or box.currentData() is not None  # the customer side may be unused
        bar.setEnabled(using)
        if not (using and self._probe_levels and self.isVisible()):
            return
        from assist.audio.level_probe import LevelProbe

        number = self._probe_number[channel]
        probe = LevelProbe(box.currentData(),
                           on_level=lambda peak: self.level_changed.emit(channel, number, peak),
                           on_problem=lambda message: self.probe_failed.emit(channel, number, message))
        self._probes[channel] = probe
        probe.start()

    def _show_level(self, channel: str, number: int, peak: float) -> None:
        if number == self._probe_number[channel]:
            self.meters[channel].setValue(int(round(peak * 100)))

    def _show_problem(self, channel: str, number: int, message: str) -> None:
        if number == self._probe_number[channel]:
            self.meters[channel].setValue(0)
            self.meter_notes[channel].setText(message)
            self.meter_notes[channel].show()

    def probe(self, channel: str):
        """The probe reading ``channel`` now, or None (tests)."""
        return self._probes.get(channel)

    def save(self) -> None:
        try:
            cfg = load_config()
        except ConfigError:
            from assist.config import UserConfig

            cfg = UserConfig()
        save_config(cfg.with_changes(agent_device=self.agent_box.currentData(),
                                     customer_device=self.customer_box.currentData()))
        self.accept()
