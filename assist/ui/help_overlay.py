"""The keyboard shortcuts, and the overlay that lists them (F1 or the panel's menu).

Agents keep their hands on the keyboard and their eyes on the softphone: every
panel action has a key. ``SHORTCUTS`` is the one table the panel binds and the
overlay shows, so the two cannot disagree. The shortcuts work while any assist
window has the focus (Qt application shortcuts); the system-wide hotkeys
(``global_hotkeys``) are listed here too once the panel knows whether it got them.
GUI thread only.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout

SHORTCUTS = {
    "call": "F8",
    "copy_answer": "Ctrl+1",
    "copy_line": "Ctrl+2",
    "acknowledge": "Ctrl+Return",
    "pause": "Ctrl+P",
    "note": "Ctrl+N",
    "quiet": "Ctrl+Q",
    "kb": "Ctrl+K",
    "help": "F1",
}
DESCRIPTIONS = {
    "call": "开始 / 结束通话（也可 Ctrl+Space）",
    "copy_answer": "复制答案（记为已采用）",
    "copy_line": "复制下一句话术（记为已采用）",
    "acknowledge": "确认合规提醒",
    "pause": "暂停 / 继续收音",
    "note": "新建一条备注（带通话时间）",
    "quiet": "安静模式：只弹出严重违规",
    "kb": "打开知识库",
    "help": "显示本页",
}
KEY_NAMES = {"Return": "Enter"}


def key_text(keys: str) -> str:
    return "+".join(KEY_NAMES.get(k, k) for k in keys.split("+"))


class HelpOverlay(QFrame):
    """A panel-sized sheet listing the shortcuts; any key or the button closes it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("helpOverlay")
        self.setAutoFillBackground(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        title = QLabel("快捷键", objectName="warningTitle")
        grid = QGridLayout()
        grid.setVerticalSpacing(6)
        self.rows: list[tuple[str, str]] = []
        for row, (name, keys) in enumerate(SHORTCUTS.items()):
            k, d = QLabel(f"<b>{key_text(keys)}</b>"), QLabel(DESCRIPTIONS[name])
            d.setWordWrap(True)
            grid.addWidget(k, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(d, row, 1)
            self.rows.append((key_text(keys), DESCRIPTIONS[name]))
        grid.setColumnStretch(1, 1)
        note = QLabel("以上快捷键在坐席助手的任一窗口处于前台时有效。", objectName="muted")
        note.setWordWrap(True)
        self.global_title = QLabel("全局快捷键", objectName="warningTitle")
        self.global_grid = QGridLayout()
        self.global_grid.setVerticalSpacing(6)
        self.global_grid.setColumnStretch(1, 1)
        self.global_note = QLabel(objectName="muted")
        self.global_note.setWordWrap(True)
        self.global_title.hide()
        self.global_note.hide()
        close = QPushButton("关闭（Esc）")
        close.clicked.connect(self.hide)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 16, 16, 16)
        lay.addWidget(title)
        lay.addLayout(grid)
        lay.addWidget(note)
        lay.addWidget(self.global_title)
        lay.addLayout(self.global_grid)
        lay.addWidget(self.global_note)
        lay.addStretch(1)
        lay.addWidget(close)

    def set_global_hotkeys(self, grabbed: dict[str, str], problem: str) -> None:
        """List the system-wide hotkeys the panel holds (name -> keys), and why others are missing."""
        from assist.ui.global_hotkeys import GLOBAL_DESCRIPTIONS

        for row, (name, keys) in enumerate(grabbed.items()):
            k, d = QLabel(f"<b>{key_text(keys)}</b>"), QLabel(GLOBAL_DESCRIPTIONS.get(name, name))
            d.setWordWrap(True)
            self.global_grid.addWidget(k, row, 0, Qt.AlignmentFlag.AlignTop)
            self.global_grid.addWidget(d, row, 1)
            self.rows.append((key_text(keys), GLOBAL_DESCRIPTIONS.get(name, name)))
        self.global_note.setText(problem)
        self.global_title.setVisible(bool(grabbed or problem))
        self.global_note.setVisible(bool(problem))

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.hide()
        event.accept()
