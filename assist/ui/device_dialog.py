"""Choosing the headset microphone and the softphone's output from the panel (saved per machine).

The same choice ``assist devices --agent/--customer`` saves: device names in the
user's config file (``assist.config``), which the next call's listener reads.
Lists the inputs PortAudio sees (``assist.audio.devices.list_inputs``); when it
sees none, says why and how to fix it instead of showing empty lists. The live
level of each channel shows in the panel's meters during a call. GUI thread.
"""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout

from assist.config import ConfigError, load_config, save_config

DEFAULT = "（系统默认）"
NONE = "（不用：只有一路声音）"


class DeviceDialog(QDialog):
    def __init__(self, parent=None, list_inputs=None):
        super().__init__(parent)
        self.setWindowTitle("选择耳机和软电话输出")
        if list_inputs is None:
            from assist.audio.devices import list_inputs
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.agent_box = QComboBox()
        self.customer_box = QComboBox()
        try:
            names = [d.name for d in list_inputs()]
        except Exception as e:  # no PortAudio, no sound server: say so, keep the dialog usable
            names = []
            self.problem.setText(f"找不到音频输入设备：{getattr(e, 'message', e)}\n"
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
        form.addRow("客户声音（软电话输出）", self.customer_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.problem)
        lay.addLayout(form)
        lay.addWidget(QLabel("下一通电话起生效；通话中面板上的音量条显示两路声音。", objectName="muted"))
        lay.addWidget(buttons)

    def save(self) -> None:
        try:
            cfg = load_config()
        except ConfigError:
            from assist.config import UserConfig

            cfg = UserConfig()
        save_config(cfg.with_changes(agent_device=self.agent_box.currentData(),
                                     customer_device=self.customer_box.currentData()))
        self.accept()
